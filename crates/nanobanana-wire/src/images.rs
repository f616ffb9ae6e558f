//! Decoding only the images of a response, into a buffer the caller owns and reuses.
//!
//! [`GenerateContentResponse`](crate::GenerateContentResponse) decodes every image into its own
//! freshly allocated `Vec`. A program that decodes response after response (a batch, a load test,
//! a gallery) can instead keep one buffer: [`decode_images_into`] parses a borrowed view of the
//! body, in which every `inlineData.data` stays a slice of the body (no copy, no UTF-8 pass),
//! then decodes each image straight into the caller's buffer. The buffer's existing bytes are
//! overwritten in place (it is only grown, and zero-filled, when too short), so warm pages are
//! reused and nothing is cleared.

use std::fmt;
use std::ops::Range;

#[cfg(test)]
use crate::bytes::{decode_capacity, decode_to_slice};

/// Where one decoded image sits in the caller's buffer, and which part it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSpan {
    /// Index of the candidate.
    pub candidate: usize,
    /// Index of the part within the candidate's content.
    pub part: usize,
    /// Whether the part is a thought (an interim image).
    pub thought: bool,
    /// The part's MIME type, if given.
    pub mime_type: Option<String>,
    /// The image's bytes: `&buffer[span.range.clone()]`.
    pub range: Range<usize>,
}

/// Why the images of a body could not be decoded.
#[derive(Debug)]
pub struct ImagesError(String);

impl fmt::Display for ImagesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImagesError {}

impl ImagesError {
    pub(crate) fn new(message: String) -> Self {
        Self(message)
    }
}

/// Decodes every `inlineData` image of a `GenerateContentResponse` body (or of one SSE event's
/// JSON) into `out`, overwriting it: afterwards `out` holds exactly the images, one after the
/// other, and it grew at most once. Returns where each image landed, in document order. Fields
/// other than images are skipped, not validated.
///
/// ```
/// let body = br#"{"candidates": [{"content": {"role": "model", "parts": [
///     {"text": "Here it is"},
///     {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}, "thoughtSignature": "c2ln"}
/// ]}}]}"#;
/// let mut buffer = Vec::new();
/// let spans = nanobanana_wire::decode_images_into(body, &mut buffer)?;
/// assert_eq!(spans.len(), 1);
/// assert_eq!(&buffer[spans[0].range.clone()][1..4], b"PNG");
/// assert_eq!(spans[0].part, 1);
/// # Ok::<(), nanobanana_wire::ImagesError>(())
/// ```
pub fn decode_images_into(body: &[u8], out: &mut Vec<u8>) -> Result<Vec<ImageSpan>, ImagesError> {
    crate::skim::decode_images(body, out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde::Deserialize;
    use std::borrow::Cow;

    /// The previous implementation, kept as the reference the single-pass reader is checked
    /// against: a borrowed serde view of the body, then one decode per image.
    pub(crate) fn reference(body: &[u8], out: &mut Vec<u8>) -> Result<Vec<ImageSpan>, ImagesError> {
        let view: ResponseView<'_> = serde_json::from_slice(body)
            .map_err(|e| ImagesError(format!("not a GenerateContentResponse: {e}")))?;
        let mut spans = Vec::new();
        out.clear();
        for (c, candidate) in view.candidates.unwrap_or_default().iter().enumerate() {
            let parts = candidate
                .content
                .as_ref()
                .and_then(|content| content.parts.as_deref())
                .unwrap_or_default();
            for (p, part) in parts.iter().enumerate() {
                let Some(blob) = part.inline_data.as_ref() else {
                    continue;
                };
                let Some(data) = blob.data.as_ref() else {
                    continue;
                };
                let start = out.len();
                out.resize(start + decode_capacity(&data.0), 0);
                let written = decode_to_slice(&data.0, &mut out[start..]).map_err(|e| {
                    ImagesError(format!(
                        "candidates/{c}/content/parts/{p}/inlineData/data: {e}"
                    ))
                })?;
                out.truncate(start + written);
                spans.push(ImageSpan {
                    candidate: c,
                    part: p,
                    thought: part.thought == Some(true),
                    mime_type: blob.mime_type.as_deref().map(str::to_owned),
                    range: start..start + written,
                });
            }
        }
        Ok(spans)
    }

    #[derive(Deserialize)]
    struct ResponseView<'a> {
        #[serde(default, borrow)]
        candidates: Option<Vec<CandidateView<'a>>>,
    }

    #[derive(Deserialize)]
    struct CandidateView<'a> {
        #[serde(default, borrow)]
        content: Option<ContentView<'a>>,
    }

    #[derive(Deserialize)]
    struct ContentView<'a> {
        #[serde(default, borrow)]
        parts: Option<Vec<PartView<'a>>>,
    }

    #[derive(Deserialize)]
    struct PartView<'a> {
        #[serde(default, borrow, rename = "inlineData", alias = "inline_data")]
        inline_data: Option<BlobView<'a>>,
        #[serde(default)]
        thought: Option<bool>,
    }

    #[derive(Deserialize)]
    struct BlobView<'a> {
        #[serde(default, borrow, rename = "mimeType", alias = "mime_type")]
        mime_type: Option<Cow<'a, str>>,
        #[serde(default, borrow)]
        data: Option<RawText<'a>>,
    }

    /// Base64 text as it stands in the body: borrowed when the JSON string has no escapes, owned
    /// (unescaped) otherwise.
    struct RawText<'a>(Cow<'a, [u8]>);

    impl<'de: 'a, 'a> Deserialize<'de> for RawText<'a> {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = RawText<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a base64 string")
                }
                fn visit_borrowed_bytes<E: serde::de::Error>(
                    self,
                    v: &'de [u8],
                ) -> Result<Self::Value, E> {
                    Ok(RawText(Cow::Borrowed(v)))
                }
                fn visit_borrowed_str<E: serde::de::Error>(
                    self,
                    v: &'de str,
                ) -> Result<Self::Value, E> {
                    Ok(RawText(Cow::Borrowed(v.as_bytes())))
                }
                fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                    Ok(RawText(Cow::Owned(v.to_vec())))
                }
                fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(RawText(Cow::Owned(v.as_bytes().to_vec())))
                }
            }
            deserializer.deserialize_bytes(Visitor)
        }
    }

    #[test]
    fn reuses_the_buffer_and_names_bad_parts() {
        let body = br#"{"candidates":[{"content":{"parts":[
            {"inlineData":{"mimeType":"image/png","data":"AAEC"},"thought":true},
            {"inlineData":{"data":"AwQF"}}]}}]}"#;
        let mut buffer = Vec::with_capacity(64);
        let spans = decode_images_into(body, &mut buffer).unwrap();
        assert_eq!(buffer, [0, 1, 2, 3, 4, 5]);
        assert_eq!(
            buffer.capacity(),
            64,
            "no reallocation when the capacity suffices"
        );
        assert!(spans[0].thought && !spans[1].thought);
        assert_eq!(spans[1].range, 3..6);
        assert_eq!(spans[0].mime_type.as_deref(), Some("image/png"));

        let bad = br#"{"candidates":[{"content":{"parts":[{"text":"x"},{"inlineData":{"data":"@@@@"}}]}}]}"#;
        let err = decode_images_into(bad, &mut buffer)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("candidates/0/content/parts/1/inlineData/data: invalid base64"),
            "{err}"
        );
    }
}
