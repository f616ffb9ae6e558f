//! The fastest way from a response body to a typed [`GenerateContentResponse`].
//!
//! `serde_json::from_slice` works, and decodes each image straight from the borrowed body, but
//! reads every image twice: once to find the end of its JSON string, once to decode it.
//! [`decode_response`] reads each image once: a single pass over the body decodes the images
//! (see [`decode_images_into`](crate::decode_images_into)) and notes where their texts stand;
//! serde then parses the rest of the body with each image text replaced by a short reference
//! to its decoded bytes. The result is the same value `serde_json::from_slice` gives.

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::skim::{SeparateImage, decode_images_separately, decode_interaction_images_separately};
use crate::{GenerateContentResponse, Interaction, InteractionEvent};

/// Marks an image reference in the skeleton body; `#` and `:` are not base64, so no real
/// base64 text starts like this.
pub(crate) const REFERENCE_PREFIX: &[u8] = b"#nb:";

/// Tells references of different calls apart.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// The decoded images of the call in progress on this thread, taken by
/// [`take_reference`] as serde meets their references.
struct Pending {
    call: u64,
    images: Vec<Option<Bytes>>,
}

thread_local! {
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Decodes a `generateContent` response body (or one SSE event's JSON) into the typed response,
/// reading each image's base64 text once.
///
/// Equivalent to `serde_json::from_slice::<GenerateContentResponse>(body)`, errors included
/// (any body the single pass does not take, it hands to `serde_json` unchanged), and about
/// 1.5x faster on image responses.
///
/// ```
/// let body = br#"{"candidates": [{"content": {"role": "model", "parts": [
///     {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
/// ]}}]}"#;
/// let response = nanobanana_wire::decode_response(body)?;
/// assert_eq!(response, serde_json::from_slice(body)?);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn decode_response(body: &[u8]) -> serde_json::Result<GenerateContentResponse> {
    decode_single_pass(body, decode_images_separately)
}

/// Decodes an Interactions API answer (create, get, cancel) into the typed [`Interaction`],
/// reading each image's base64 text once (the `data` of image contents in `steps`).
///
/// Equivalent to `serde_json::from_slice::<Interaction>(body)`, errors included.
///
/// ```
/// let body = br#"{"id": "v1_a", "status": "completed", "steps": [{"type": "model_output",
///     "content": [{"type": "image", "mime_type": "image/jpeg", "data": "/9j/4AAQ"}]}]}"#;
/// let interaction = nanobanana_wire::decode_interaction(body)?;
/// assert_eq!(interaction, serde_json::from_slice(body)?);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn decode_interaction(body: &[u8]) -> serde_json::Result<Interaction> {
    decode_single_pass(body, decode_interaction_images_separately)
}

/// Decodes one event of an Interactions API stream (the JSON of its `data:` line) into the
/// typed [`InteractionEvent`], reading an image delta's base64 text once.
///
/// Equivalent to `serde_json::from_slice::<InteractionEvent>(body)`, errors included.
pub fn decode_interaction_event(body: &[u8]) -> serde_json::Result<InteractionEvent> {
    decode_single_pass(body, decode_interaction_images_separately)
}

/// The single pass shared by the decoders above: `images` decodes the body's images and
/// notes where their texts stand; serde parses the rest with references in their place.
fn decode_single_pass<T: serde::de::DeserializeOwned>(
    body: &[u8],
    images: fn(&[u8]) -> Result<Vec<SeparateImage>, crate::ImagesError>,
) -> serde_json::Result<T> {
    // A body with no `"data"` member at all (a text event of a stream, an error) has no image
    // to take out: one serde pass, not two.
    if memchr::memmem::find(body, b"\"data\"").is_none() {
        return serde_json::from_slice(body);
    }
    let images = match images(body) {
        Ok(images) if !images.is_empty() => images,
        _ => return serde_json::from_slice(body),
    };
    let call = next_call();
    let skeleton = skeleton(body, &images, call);
    let images = images
        .into_iter()
        .map(|image| Bytes::from(image.bytes))
        .collect();
    match parse_skeleton(&skeleton, call, images) {
        Some(response) => Ok(response),
        // A reference that serde did not hand to an image field, or a body the skeleton made
        // invalid: the plain path decides, and its error names positions in the real body.
        None => serde_json::from_slice(body),
    }
}

/// A fresh call number, which tells the references of different calls apart.
pub(crate) fn next_call() -> u64 {
    CALLS.fetch_add(1, Ordering::Relaxed)
}

/// Writes the reference to image `index` of `call` (`#nb:<call>:<index>`) at the end of `out`.
pub(crate) fn write_reference(out: &mut Vec<u8>, call: u64, index: usize) {
    out.extend_from_slice(REFERENCE_PREFIX);
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{call:x}:{index}");
}

/// Parses a skeleton whose image texts are references of `call` to `images` (in order).
/// `None` when serde refuses the skeleton or does not take every image through an image field:
/// the caller then decides on the real body.
pub(crate) fn parse_skeleton<T: serde::de::DeserializeOwned>(
    skeleton: &[u8],
    call: u64,
    images: Vec<Bytes>,
) -> Option<T> {
    let count = images.len();
    let previous = PENDING.with(|pending| {
        pending.borrow_mut().replace(Pending {
            call,
            images: images.into_iter().map(Some).collect(),
        })
    });
    let parsed = serde_json::from_slice::<T>(skeleton);
    let left = PENDING.with(|pending| std::mem::replace(&mut *pending.borrow_mut(), previous));
    let all_taken = left
        .is_some_and(|left| left.images.len() == count && left.images.iter().all(Option::is_none));
    match parsed {
        Ok(response) if all_taken => Some(response),
        _ => None,
    }
}

/// The body with each image's text replaced by `#nb:<call>:<index>`.
fn skeleton(body: &[u8], images: &[SeparateImage], call: u64) -> Vec<u8> {
    let texts: usize = images.iter().map(|image| image.text.len()).sum();
    let mut skeleton = Vec::with_capacity(body.len() - texts + images.len() * 48);
    let mut at = 0;
    for (index, image) in images.iter().enumerate() {
        skeleton.extend_from_slice(&body[at..image.text.start]);
        write_reference(&mut skeleton, call, index);
        at = image.text.end;
    }
    skeleton.extend_from_slice(&body[at..]);
    skeleton
}

/// The decoded image a reference names, if `text` is a reference of the call in progress on
/// this thread and its image was not taken yet.
pub(crate) fn take_reference(text: &[u8]) -> Option<Bytes> {
    let rest = text.strip_prefix(REFERENCE_PREFIX)?;
    let rest = std::str::from_utf8(rest).ok()?;
    let (call, index) = rest.split_once(':')?;
    let call = u64::from_str_radix(call, 16).ok()?;
    let index: usize = index.parse().ok()?;
    PENDING.with(|pending| {
        let mut pending = pending.borrow_mut();
        let pending = pending.as_mut().filter(|p| p.call == call)?;
        pending.images.get_mut(index)?.take()
    })
}
