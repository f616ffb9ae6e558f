//! Payloads and decode paths for the nanobanana benchmarks.
//!
//! Gemini image responses are one JSON document of 10 to 40 MB, almost all of it one base64
//! string (`candidates[0].content.parts[i].inlineData.data`). This crate generates such responses
//! on the fly (nothing large is committed) and holds the decode paths the benchmarks compare:
//!
//! - [`decode_wire`]: the project path, [`nanobanana_wire::decode_response`] into
//!   [`nanobanana_wire::GenerateContentResponse`]: one pass over each image's base64 text,
//!   decoded chunk by chunk into exactly sized buffers written once;
//! - [`decode_naive`]: what a hand-written client does, `serde_json::Value` (every string copied
//!   into a `String`), then `base64`'s `STANDARD` engine on each data string.
//!
//! The Criterion bench (`benches/decode.rs`), the agreement test below, and the peak-memory probe
//! (`src/bin/peak_memory.rs`, run by `cargo xtask bench-report`) share everything here.
//!
//! Payloads are deterministic: image bytes come from a 64-bit LCG ([`Lcg`]), so the base64 text has
//! no long repeated runs that a decoder or the branch predictor could profit from.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use nanobanana_wire::GenerateContentResponse;

/// Decoded size of a 1K PNG as the service returns it (about 1.5 MB).
pub const IMAGE_1K: usize = 1_500_000;
/// Decoded size of a 2K PNG (about 6 MB).
pub const IMAGE_2K: usize = 6_000_000;
/// Decoded size of a 4K PNG (about 21 MB, about 28 MB of base64).
pub const IMAGE_4K: usize = 21_000_000;
/// Decoded size of the signature on the final image part (2,048 characters of base64).
pub const SIGNATURE_LEN: usize = 1_536;

/// The model every generated response names.
pub const MODEL_VERSION: &str = "gemini-3-pro-image-preview";

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
///
/// Good enough for incompressible-looking bytes and fully reproducible; only the high 32 bits of
/// the state are used, since the low bits of an LCG have short periods.
#[derive(Clone, Debug)]
pub struct Lcg(u64);

impl Lcg {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        // One scrambling step so that seeds 0, 1, 2... do not start with similar outputs.
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next 32 pseudo-random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// Fills `buf` with pseudo-random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(4);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.next_u32().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next_u32().to_le_bytes();
        rest.copy_from_slice(&last[..rest.len()]);
    }
}

/// `len` bytes that start with the PNG signature and continue with pseudo-random bytes.
pub fn pseudo_png(len: usize, seed: u64) -> Vec<u8> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let mut bytes = vec![0u8; len];
    let head = SIGNATURE.len().min(len);
    bytes[..head].copy_from_slice(&SIGNATURE[..head]);
    Lcg::new(seed).fill(&mut bytes[head..]);
    bytes
}

/// How the base64 strings of a generated response are spelled.
///
/// The service writes standard base64 with bare `/`; the other spellings are legal JSON or
/// accepted by the service, and the agreement test uses them to cover the slow paths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// Write every `/` of a base64 string as the JSON escape `\/`.
    pub escape_slashes: bool,
    /// Write thought signatures in the URL-safe alphabet (as python-genai sends them back).
    pub url_safe_signatures: bool,
}

/// One part of a response, decoded: what both decode paths must agree on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodedPart {
    /// `thought`, `false` when absent.
    pub thought: bool,
    /// `text`, when present.
    pub text: Option<String>,
    /// `inlineData` as MIME type (empty when absent) and decoded bytes.
    pub image: Option<(String, Vec<u8>)>,
    /// `thoughtSignature`, decoded.
    pub signature: Option<Vec<u8>>,
}

/// Total number of decoded image bytes in `parts`.
pub fn image_bytes(parts: &[DecodedPart]) -> usize {
    parts
        .iter()
        .filter_map(|part| part.image.as_ref())
        .map(|(_, bytes)| bytes.len())
        .sum()
}

/// A generated response body and what it must decode to.
#[derive(Clone, Debug)]
pub struct Payload {
    /// The bytes as they arrive: a JSON document, or one SSE event holding it.
    pub body: Vec<u8>,
    /// Whether [`body`](Self::body) is an SSE event (`data: <json>\n\n`).
    pub sse: bool,
    /// The parts of `candidates[0]`, as generated.
    pub expected: Vec<DecodedPart>,
}

impl Payload {
    /// The JSON document: the body itself, or the data of the SSE event, borrowed without a copy.
    ///
    /// # Panics
    ///
    /// When an SSE body is not one `data:` event (it always is for generated payloads).
    pub fn json(&self) -> &[u8] {
        if self.sse {
            sse_data(&self.body).expect("generated SSE events are well formed")
        } else {
            &self.body
        }
    }

    /// Wraps this payload's JSON into one SSE event (`data: <json>\n\n`), as `alt=sse` streams do.
    pub fn into_sse(self) -> Self {
        Self {
            body: sse_event(&self.body),
            sse: true,
            expected: self.expected,
        }
    }
}

/// The benchmarked payloads, one Criterion group each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// One 1K image ([`IMAGE_1K`]) with its signature.
    Single1k,
    /// One 2K image ([`IMAGE_2K`]) with its signature.
    Single2k,
    /// One 4K image ([`IMAGE_4K`]) with its signature, about 28 MB of JSON.
    Single4k,
    /// Two 1K thought images, thought text, a signed 2K final image and a closing text part.
    ThreeImages,
    /// [`Single4k`](Self::Single4k) as one SSE event.
    Sse4k,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Self; 5] = [
        Self::Single1k,
        Self::Single2k,
        Self::Single4k,
        Self::ThreeImages,
        Self::Sse4k,
    ];

    /// The Criterion group name (also the directory under `target/criterion/`).
    pub fn group(self) -> &'static str {
        match self {
            Self::Single1k => "single_1k",
            Self::Single2k => "single_2k",
            Self::Single4k => "single_4k",
            Self::ThreeImages => "three_images",
            Self::Sse4k => "sse_4k",
        }
    }

    /// Generates the payload at full size.
    pub fn payload(self) -> Payload {
        self.payload_scaled(1, Style::default())
    }

    /// Generates the payload with every image divided by `divisor` (at least 1 byte), for tests.
    pub fn payload_scaled(self, divisor: usize, style: Style) -> Payload {
        let size = |len: usize| (len / divisor.max(1)).max(1);
        match self {
            Self::Single1k => single_image(size(IMAGE_1K), 1, style),
            Self::Single2k => single_image(size(IMAGE_2K), 2, style),
            Self::Single4k => single_image(size(IMAGE_4K), 4, style),
            Self::ThreeImages => three_images(size(IMAGE_1K), size(IMAGE_2K), 3, style),
            Self::Sse4k => single_image(size(IMAGE_4K), 4, style).into_sse(),
        }
    }
}

/// A single-image response: one signed PNG of `image_len` bytes, as Nano Banana Pro answers a
/// plain generation request.
pub fn single_image(image_len: usize, seed: u64, style: Style) -> Payload {
    let mut lcg = Lcg::new(seed);
    let parts = vec![image_part(image_len, false, &mut lcg)];
    response(parts, image_tokens(image_len), 0, &mut lcg, style)
}

/// A three-image response as Nano Banana Pro writes it with thinking on: thought text, two thought
/// images (`thought_len` bytes each, unsigned), the final image (`final_len` bytes, with a
/// [`SIGNATURE_LEN`]-byte signature) and a closing text part.
pub fn three_images(thought_len: usize, final_len: usize, seed: u64, style: Style) -> Payload {
    let mut lcg = Lcg::new(seed);
    let parts = vec![
        text_part(
            "**Composing the scene**\n\nI'm sketching a night-train poster: Art Deco capitals, a \
             locomotive lit from below, \"Nachtzug\" across the top.",
            true,
        ),
        image_part(thought_len, true, &mut lcg),
        text_part(
            "**Refining the lettering**\n\nThe capitals crowd the headlamp; I'm moving the title \
             up and widening the tracking before the final render.",
            true,
        ),
        image_part(thought_len, true, &mut lcg),
        image_part(final_len, false, &mut lcg),
        text_part(
            "Here is the poster: a streamlined locomotive under a starry sky, with \"Nachtzug\" \
             in gold Art Deco capitals.",
            false,
        ),
    ];
    let thoughts = 2 * image_tokens(thought_len) + 180;
    response(
        parts,
        image_tokens(final_len) + 32,
        thoughts,
        &mut lcg,
        style,
    )
}

/// Output image tokens as the published table gives them for Nano Banana Pro.
fn image_tokens(image_len: usize) -> u64 {
    if image_len > IMAGE_2K { 2000 } else { 1120 }
}

fn image_part(len: usize, thought: bool, lcg: &mut Lcg) -> DecodedPart {
    let seed = u64::from(lcg.next_u32()) << 32 | u64::from(lcg.next_u32());
    let signature = (!thought).then(|| {
        let mut bytes = vec![0u8; SIGNATURE_LEN];
        lcg.fill(&mut bytes);
        // Signatures are protobuf messages; the real ones start with a field tag.
        bytes[0] = 0x12;
        bytes
    });
    DecodedPart {
        thought,
        text: None,
        image: Some(("image/png".to_owned(), pseudo_png(len, seed))),
        signature,
    }
}

fn text_part(text: &str, thought: bool) -> DecodedPart {
    DecodedPart {
        thought,
        text: Some(text.to_owned()),
        image: None,
        signature: None,
    }
}

/// Writes the response around `parts`, compact (one line, so the same text fits an SSE event).
fn response(
    parts: Vec<DecodedPart>,
    candidate_tokens: u64,
    thoughts_tokens: u64,
    lcg: &mut Lcg,
    style: Style,
) -> Payload {
    let base64_len: usize = parts
        .iter()
        .map(|part| {
            part.image.as_ref().map_or(0, |(_, b)| b.len()) * 4 / 3
                + part.signature.as_ref().map_or(0, |b| b.len()) * 4 / 3
        })
        .sum();
    let mut json = String::with_capacity(base64_len + 4096);
    json.push_str(r#"{"candidates":[{"content":{"role":"model","parts":["#);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push('{');
        let mut first = true;
        let mut field = |json: &mut String, name: &str| {
            if !first {
                json.push(',');
            }
            first = false;
            json.push('"');
            json.push_str(name);
            json.push_str("\":");
        };
        if let Some(text) = &part.text {
            field(&mut json, "text");
            json.push_str(&serde_json::to_string(text).expect("a string serializes"));
        }
        if let Some((mime_type, bytes)) = &part.image {
            field(&mut json, "inlineData");
            json.push_str(r#"{"mimeType":"#);
            json.push_str(&serde_json::to_string(mime_type).expect("a string serializes"));
            json.push_str(r#","data":"#);
            push_base64(&mut json, &STANDARD.encode(bytes), style);
            json.push('}');
        }
        if part.thought {
            field(&mut json, "thought");
            json.push_str("true");
        }
        if let Some(signature) = &part.signature {
            field(&mut json, "thoughtSignature");
            let text = if style.url_safe_signatures {
                URL_SAFE.encode(signature)
            } else {
                STANDARD.encode(signature)
            };
            push_base64(&mut json, &text, style);
        }
        json.push('}');
    }
    let prompt_tokens = 24;
    let _ = write!(
        json,
        r#"]}},"finishReason":"STOP","index":0}}],"usageMetadata":{{"promptTokenCount":{prompt_tokens},"candidatesTokenCount":{candidate_tokens},"totalTokenCount":{total},"promptTokensDetails":[{{"modality":"TEXT","tokenCount":{prompt_tokens}}}],"candidatesTokensDetails":[{{"modality":"IMAGE","tokenCount":{candidate_tokens}}}],"thoughtsTokenCount":{thoughts_tokens}}},"modelVersion":"{MODEL_VERSION}","responseId":"{id}"}}"#,
        total = prompt_tokens + candidate_tokens + thoughts_tokens,
        id = response_id(lcg),
    );
    Payload {
        body: json.into_bytes(),
        sse: false,
        expected: parts,
    }
}

/// Appends `text` as a JSON string, escaping `/` when the style asks for it.
fn push_base64(json: &mut String, text: &str, style: Style) {
    json.push('"');
    if style.escape_slashes {
        json.push_str(&text.replace('/', "\\/"));
    } else {
        json.push_str(text);
    }
    json.push('"');
}

/// A 23-character response id in the service's alphabet.
fn response_id(lcg: &mut Lcg) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..23)
        .map(|_| char::from(ALPHABET[lcg.next_u32() as usize % ALPHABET.len()]))
        .collect()
}

/// One SSE event carrying `json`: `data: <json>\n\n`. `json` must be on one line.
pub fn sse_event(json: &[u8]) -> Vec<u8> {
    let mut event = Vec::with_capacity(json.len() + 8);
    event.extend_from_slice(b"data: ");
    event.extend_from_slice(json);
    event.extend_from_slice(b"\n\n");
    event
}

/// The data of one SSE event, borrowed from `event`: strips the `data:` field name (and the one
/// optional space after it) and the blank line that ends the event (`\n\n` or `\r\n\r\n`).
///
/// Returns `None` when `event` does not start with `data:` or does not end with a blank line.
/// This is the zero-copy framing the streaming path applies to an event whose boundaries the
/// stream reader has already found: it looks only at the ends of the buffer, never scans the
/// (multi-megabyte) data.
pub fn sse_data(event: &[u8]) -> Option<&[u8]> {
    let rest = event.strip_prefix(b"data:")?;
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    rest.strip_suffix(b"\r\n\r\n")
        .or_else(|| rest.strip_suffix(b"\n\n"))
}

/// The project path: decodes `json` into the wire types (bytes fields decoded from base64) with
/// [`nanobanana_wire::decode_response`], which equals `serde_json::from_slice` but reads each
/// image's text once.
pub fn decode_wire(json: &[u8]) -> serde_json::Result<GenerateContentResponse> {
    nanobanana_wire::decode_response(json)
}

/// Total number of decoded image bytes in a wire response (all candidates).
pub fn wire_image_bytes(response: &GenerateContentResponse) -> usize {
    response
        .candidates
        .iter()
        .filter_map(|candidate| candidate.content.as_ref())
        .flat_map(|content| &content.parts)
        .filter_map(|part| part.inline_data.as_ref()?.data.as_ref())
        .map(|data| data.len())
        .sum()
}

/// The parts of `candidates[0]` of a wire response, moved out (no copy of the bytes).
pub fn wire_parts(response: GenerateContentResponse) -> Vec<DecodedPart> {
    let Some(content) = response
        .candidates
        .into_iter()
        .next()
        .and_then(|candidate| candidate.content)
    else {
        return Vec::new();
    };
    content
        .parts
        .into_iter()
        .map(|part| DecodedPart {
            thought: part.thought.unwrap_or(false),
            text: part.text,
            image: part.inline_data.map(|blob| {
                (
                    blob.mime_type.unwrap_or_default(),
                    blob.data.map(|data| data.into_vec()).unwrap_or_default(),
                )
            }),
            signature: part.thought_signature.map(|data| data.into_vec()),
        })
        .collect()
}

/// The naive path: `serde_json::Value`, then `base64`'s `STANDARD` engine on every data string
/// (signatures fall back to the URL-safe alphabet, as a careful hand-written client would do).
/// Returns the parts of `candidates[0]`.
pub fn decode_naive(json: &[u8]) -> Result<Vec<DecodedPart>, String> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let Some(parts) = value["candidates"][0]["content"]["parts"].as_array() else {
        return Ok(Vec::new());
    };
    parts
        .iter()
        .map(|part| {
            let image = match part.get("inlineData") {
                None => None,
                Some(blob) => {
                    let mime_type = blob["mimeType"].as_str().unwrap_or_default().to_owned();
                    let data = match blob["data"].as_str() {
                        Some(text) => STANDARD.decode(text).map_err(|e| e.to_string())?,
                        None => Vec::new(),
                    };
                    Some((mime_type, data))
                }
            };
            let signature = match part["thoughtSignature"].as_str() {
                None => None,
                Some(text) => Some(
                    STANDARD
                        .decode(text)
                        .or_else(|_| URL_SAFE.decode(text))
                        .map_err(|e| e.to_string())?,
                ),
            };
            Ok(DecodedPart {
                thought: part["thought"].as_bool().unwrap_or(false),
                text: part["text"].as_str().map(str::to_owned),
                image,
                signature,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Image sizes are divided by this in tests: 1K becomes 1,500 bytes, 4K 21,000.
    const SMALL: usize = 1_000;

    fn check(payload: &Payload, what: &str) {
        let json = payload.json();
        let wire = wire_parts(decode_wire(json).unwrap_or_else(|e| panic!("{what}: wire: {e}")));
        let naive = decode_naive(json).unwrap_or_else(|e| panic!("{what}: naive: {e}"));
        assert!(wire == naive, "{what}: wire and naive paths disagree");
        assert!(
            wire == payload.expected,
            "{what}: decoded parts differ from the generated ones"
        );
    }

    #[test]
    fn wire_and_naive_agree_on_every_scenario() {
        for scenario in Scenario::ALL {
            for seed in 0..6u64 {
                let style = Style {
                    escape_slashes: seed % 2 == 1,
                    url_safe_signatures: seed % 3 == 2,
                };
                // Vary the divisor so image lengths cover every base64 padding case.
                let payload = scenario.payload_scaled(SMALL + seed as usize, style);
                assert!(!payload.expected.is_empty());
                check(&payload, &format!("{scenario:?} seed {seed} {style:?}"));
            }
        }
    }

    #[test]
    fn single_and_three_image_generators_agree_over_seeds() {
        for seed in 0..8u64 {
            let style = Style {
                escape_slashes: seed % 2 == 0,
                url_safe_signatures: seed % 4 < 2,
            };
            let len = 997 + seed as usize * 131;
            check(
                &single_image(len, seed, style),
                &format!("single seed {seed}"),
            );
            check(
                &three_images(len / 3 + 1, len, seed, style),
                &format!("three seed {seed}"),
            );
            check(
                &single_image(len, seed, style).into_sse(),
                &format!("sse seed {seed}"),
            );
        }
    }

    #[test]
    fn styles_produce_the_spellings_they_claim() {
        let plain = single_image(3_000, 7, Style::default());
        let escaped = single_image(
            3_000,
            7,
            Style {
                escape_slashes: true,
                url_safe_signatures: true,
            },
        );
        let plain_text = String::from_utf8(plain.body.clone()).unwrap();
        let escaped_text = String::from_utf8(escaped.body.clone()).unwrap();
        assert!(!plain_text.contains("\\/"));
        assert!(plain_text.contains('/'), "3 KB of base64 holds a '/'");
        assert!(escaped_text.contains("\\/"));
        let signature = &escaped.expected[0].signature.as_ref().unwrap();
        assert!(escaped_text.contains(&URL_SAFE.encode(signature).replace('/', "\\/")));
        assert_eq!(plain.expected, escaped.expected);
    }

    #[test]
    fn response_shape_is_realistic() {
        let payload = Scenario::ThreeImages.payload_scaled(SMALL, Style::default());
        let value: serde_json::Value = serde_json::from_slice(&payload.body).unwrap();
        let candidate = &value["candidates"][0];
        assert_eq!(candidate["content"]["role"], "model");
        assert_eq!(candidate["finishReason"], "STOP");
        assert_eq!(value["modelVersion"], MODEL_VERSION);
        assert_eq!(value["responseId"].as_str().unwrap().len(), 23);
        assert!(value["usageMetadata"]["totalTokenCount"].as_u64().unwrap() > 2000);
        let parts = &payload.expected;
        let thought_images = parts.iter().filter(|p| p.thought && p.image.is_some());
        assert_eq!(thought_images.count(), 2);
        let signed: Vec<_> = parts.iter().filter(|p| p.signature.is_some()).collect();
        assert_eq!(signed.len(), 1);
        assert!(!signed[0].thought && signed[0].image.is_some());
        assert_eq!(
            STANDARD.encode(signed[0].signature.as_ref().unwrap()).len(),
            2048
        );
        assert!(parts.iter().any(|p| !p.thought && p.text.is_some()));
    }

    #[test]
    fn full_size_payloads_have_the_documented_sizes() {
        // Only the cheap ones at full size; 4K is the same generator with a larger length.
        let one_k = Scenario::Single1k.payload();
        assert_eq!(image_bytes(&one_k.expected), IMAGE_1K);
        assert!(one_k.body.len() > IMAGE_1K * 4 / 3);
        assert!(one_k.body.len() < IMAGE_1K * 4 / 3 + 4096);
    }

    #[test]
    fn sse_framing_borrows_the_json() {
        let payload = single_image(100, 1, Style::default()).into_sse();
        let json = payload.json();
        assert_eq!(json.as_ptr(), payload.body[6..].as_ptr());
        assert_eq!(sse_data(b"data:{}\r\n\r\n"), Some(&b"{}"[..]));
        assert_eq!(sse_data(b"event: x\ndata: {}\n\n"), None);
        assert_eq!(sse_data(b"data: {}\n"), None);
    }

    #[test]
    fn lcg_is_deterministic_and_not_repetitive() {
        let a = pseudo_png(4096, 9);
        assert_eq!(a, pseudo_png(4096, 9));
        assert_ne!(a, pseudo_png(4096, 10));
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        let text = STANDARD.encode(&a);
        let longest_run = text
            .as_bytes()
            .chunk_by(|x, y| x == y)
            .map(<[u8]>::len)
            .max()
            .unwrap();
        assert!(longest_run < 6, "longest run {longest_run}");
    }
}
