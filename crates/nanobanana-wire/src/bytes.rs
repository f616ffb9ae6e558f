//! Base64-on-the-wire bytes fields (`inlineData.data`, `thoughtSignature`).
//!
//! The service sends standard, padded base64; python-genai sends back URL-safe base64 (WIRE.md,
//! "Encoding rules"). [`Base64Bytes`] accepts both alphabets, with or without padding, and always
//! writes standard padded base64.
//!
//! Decoding goes through [`serde::Deserializer::deserialize_bytes`]: for a JSON string without
//! escapes, `serde_json` hands over the raw bytes borrowed from the input buffer, without a UTF-8
//! pass and without an intermediate `String`, and they are decoded straight into an exactly sized
//! buffer. Strings with JSON escapes (e.g. `\/`) arrive unescaped in `serde_json`'s scratch buffer
//! and are decoded from there.

use std::fmt;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::GeneralPurposeConfig;
use base64::engine::{DecodePaddingMode, Simd};
use bytes::Bytes;

/// Padding written on output, optional on input.
const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);

/// Standard alphabet. `Simd` picks AVX2 (x86_64) or NEON (aarch64) at run time and falls back to
/// the scalar engine elsewhere.
static STANDARD: LazyLock<Simd> = LazyLock::new(|| Simd::standard(LENIENT));

/// URL-safe alphabet, as python-genai sends bytes back.
static URL_SAFE: LazyLock<Simd> = LazyLock::new(|| Simd::url_safe(LENIENT));

/// Bytes that travel as base64 text in JSON.
///
/// Holds the decoded bytes in a reference-counted [`Bytes`] buffer, so cloning a value that
/// holds images (a chat history sent back turn after turn, a request kept for a retry) shares
/// them instead of copying megabytes. [`Debug`](fmt::Debug) prints the length and a short
/// fingerprint, never the content, so multi-megabyte images and opaque signatures stay out of
/// logs.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Base64Bytes(Bytes);

impl Base64Bytes {
    /// Wraps raw (already decoded) bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Bytes::from(bytes.into()))
    }

    /// Decodes base64 text in the standard or the URL-safe alphabet, padded or not.
    pub fn from_base64(text: impl AsRef<[u8]>) -> Result<Self, Base64Error> {
        decode(text.as_ref()).map(Self::from)
    }

    /// The bytes as a shared buffer (a reference-count increment, no copy): for handing an
    /// image to an HTTP body or another task.
    pub fn to_bytes(&self) -> Bytes {
        self.0.clone()
    }

    /// The decoded bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Number of decoded bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes the decoded bytes out (without a copy when this value is their only holder).
    pub fn into_vec(self) -> Vec<u8> {
        Vec::from(self.0)
    }

    /// The bytes as standard padded base64, as the service writes them.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// A short, stable fingerprint of the content (FNV-1a, 64 bits, in hex), for logs and
    /// snapshots. Not a cryptographic hash.
    pub fn fingerprint(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in &self.0 {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

impl fmt::Debug for Base64Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Base64Bytes({} bytes, fnv1a {})",
            self.0.len(),
            self.fingerprint()
        )
    }
}

impl AsRef<[u8]> for Base64Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Base64Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Bytes::from(bytes))
    }
}

impl From<Bytes> for Base64Bytes {
    fn from(bytes: Bytes) -> Self {
        Self(bytes)
    }
}

impl From<&[u8]> for Base64Bytes {
    fn from(bytes: &[u8]) -> Self {
        Self(Bytes::copy_from_slice(bytes))
    }
}

impl From<Base64Bytes> for Vec<u8> {
    fn from(bytes: Base64Bytes) -> Self {
        bytes.into_vec()
    }
}

impl From<Base64Bytes> for Bytes {
    fn from(bytes: Base64Bytes) -> Self {
        bytes.0
    }
}

/// Base64 text that is neither valid standard nor valid URL-safe base64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base64Error {
    detail: String,
    encoded_len: usize,
}

impl Base64Error {
    /// Length of the rejected base64 text, in bytes.
    pub fn encoded_len(&self) -> usize {
        self.encoded_len
    }
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid base64 ({} bytes of text): {}; expected the standard (+/) or URL-safe (-_) alphabet, padding optional",
            self.encoded_len, self.detail
        )
    }
}

impl std::error::Error for Base64Error {}

/// Decodes standard or URL-safe base64 into a buffer of the decoded size.
pub(crate) fn decode(text: &[u8]) -> Result<Vec<u8>, Base64Error> {
    if let Some(bytes) = decode_chunked(text) {
        return Ok(bytes);
    }
    let mut out = vec![0u8; decode_capacity(text)];
    let written = decode_to_slice(text, &mut out)?;
    out.truncate(written);
    Ok(out)
}

/// Base64 symbols decoded per step by the chunked decoders (here and in the single-pass reader):
/// a multiple of 4 (whole groups), small enough that the scanned chunk and the scratch buffer
/// stay in L1/L2 while they are decoded.
pub(crate) const CHUNK: usize = 16 * 1024;

/// Large texts of strict padded standard base64 (what the service sends), decoded chunk by chunk
/// through a scratch buffer that stays in cache, into a vector whose memory is written once: a
/// zero-filled buffer would be written twice. `None` for anything else, which then takes the
/// general path (and gets its error text from there).
fn decode_chunked(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() <= CHUNK || !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(decode_capacity(text));
    let mut scratch = [0u8; CHUNK / 4 * 3];
    let mut chunks = text.chunks(CHUNK).peekable();
    while let Some(chunk) = chunks.next() {
        // Padding may only end the text, not a chunk in the middle of it.
        if chunks.peek().is_some() && chunk.last() == Some(&b'=') {
            return None;
        }
        let n = base64_turbo::STANDARD
            .decode_slice(chunk, &mut scratch)
            .ok()?;
        out.extend_from_slice(&scratch[..n]);
    }
    Some(out)
}

/// Decodes standard or URL-safe base64 into `out`, which must hold at least
/// [`decode_capacity`] bytes; returns how many bytes were written.
///
/// Three engines, fastest first, so that what the service sends costs one pass:
/// 1. `base64-turbo` with the strict standard alphabet and canonical padding (AVX-512 VBMI or
///    AVX2 kernels picked at run time; about twice the speed of the next one on large images).
///    Every well-formed padded standard text takes this path.
/// 2. When that refuses the text (no padding, URL-safe symbols, non-canonical input), the
///    `base64` crate's SIMD engine with optional padding.
/// 3. Only when that fails too and the text holds a URL-safe symbol, the URL-safe alphabet.
///
/// The error always comes from the lenient engines, so its text does not depend on the CPU.
pub(crate) fn decode_to_slice(text: &[u8], out: &mut [u8]) -> Result<usize, Base64Error> {
    if text.len().is_multiple_of(4)
        && let Ok(written) = base64_turbo::STANDARD.decode_slice(text, out)
    {
        return Ok(written);
    }
    let result = match STANDARD.decode_slice(text, out) {
        Err(_) if text.iter().any(|&b| b == b'-' || b == b'_') => URL_SAFE.decode_slice(text, out),
        other => other,
    };
    result.map_err(|err| Base64Error {
        detail: err.to_string(),
        encoded_len: text.len(),
    })
}

/// Appends the standard padded base64 of `bytes` to `out`.
pub(crate) fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(STANDARD.encode(bytes).as_bytes());
}

/// The room [`decode_to_slice`] needs for `text`: three bytes per started group of four symbols,
/// padding included, so at most two bytes more than the decoded length.
pub(crate) fn decode_capacity(text: &[u8]) -> usize {
    text.len().div_ceil(4) * 3
}

impl serde::Serialize for Base64Bytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> serde::Deserialize<'de> for Base64Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(Base64Visitor)
    }
}

struct Base64Visitor;

impl Base64Visitor {
    fn decode<E: serde::de::Error>(text: &[u8]) -> Result<Base64Bytes, E> {
        if text.starts_with(crate::fast::REFERENCE_PREFIX)
            && let Some(bytes) = crate::fast::take_reference(text)
        {
            return Ok(Base64Bytes::from(bytes));
        }
        decode(text).map(Base64Bytes::from).map_err(E::custom)
    }
}

impl serde::de::Visitor<'_> for Base64Visitor {
    type Value = Base64Bytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string (standard or URL-safe alphabet)")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Base64Bytes, E> {
        Self::decode(v)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Base64Bytes, E> {
        Self::decode(v.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose;

    #[test]
    fn accepts_both_alphabets_and_optional_padding() {
        let raw: Vec<u8> = (0u8..=255).collect();
        let standard = general_purpose::STANDARD.encode(&raw);
        let url_safe = general_purpose::URL_SAFE.encode(&raw);
        let unpadded = general_purpose::STANDARD_NO_PAD.encode(&raw[..10]);
        assert_ne!(standard, url_safe);
        assert_eq!(
            Base64Bytes::from_base64(&standard).unwrap().as_slice(),
            &raw[..]
        );
        assert_eq!(
            Base64Bytes::from_base64(&url_safe).unwrap().as_slice(),
            &raw[..]
        );
        assert_eq!(
            Base64Bytes::from_base64(&unpadded).unwrap().as_slice(),
            &raw[..10]
        );
    }

    #[test]
    fn decodes_json_string_with_escaped_slash() {
        let bytes: Base64Bytes = serde_json::from_str(r#""ab\/+""#).unwrap();
        assert_eq!(bytes, Base64Bytes::from_base64("ab/+").unwrap());
    }

    #[test]
    fn serializes_standard_padded() {
        let bytes = Base64Bytes::new(vec![0xfb, 0xff]);
        assert_eq!(serde_json::to_string(&bytes).unwrap(), r#""+/8=""#);
    }

    #[test]
    fn rejects_bad_base64_with_a_readable_error() {
        let err = serde_json::from_str::<Base64Bytes>(r#""not base64!""#).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("invalid base64"), "{text}");
        assert!(text.contains("URL-safe"), "{text}");
    }

    #[test]
    fn clones_share_the_decoded_bytes() {
        let image = Base64Bytes::new(vec![7u8; 1 << 20]);
        let copy = image.clone();
        assert_eq!(image.to_bytes().as_ptr(), copy.to_bytes().as_ptr());
        assert_eq!(copy.into_vec().len(), 1 << 20);
        // The only holder takes its bytes out without a copy.
        let only = Base64Bytes::new(vec![1u8, 2, 3]);
        let address = only.as_slice().as_ptr();
        let taken = only.into_vec();
        assert_eq!(taken.as_ptr(), address);
    }

    #[test]
    fn debug_never_prints_content() {
        let bytes = Base64Bytes::new(b"secret-signature".to_vec());
        let debug = format!("{bytes:?}");
        assert!(debug.starts_with("Base64Bytes(16 bytes, fnv1a "), "{debug}");
        assert!(!debug.contains("secret"));
    }
}
