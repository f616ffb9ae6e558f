//! Thought signatures the fake server issues and checks (SPEC.md §4, WIRE.md "Errors").
//!
//! An image signature is `NBS1` + `i` + HMAC-SHA256(server key, `i` + SHA-256 of the image
//! bytes): it binds the signature to the image it was issued on and to the server that issued it.
//! A text signature is `NBS1` + `t` + a 16-byte nonce + HMAC-SHA256(server key, `t` + nonce): it
//! proves the server issued it, but not on which text, because a streamed answer's first text
//! chunk carries the signature and clients send streamed text back split or merged as they like.
//! A model turn sent back with an image altered, or with a signature from another server (another
//! secret), fails verification and is answered with the real service's
//! `Corrupted thought signature.`. Signatures recorded in the fixture corpus are accepted as they
//! are (they come from the real service, which nobody here can verify).

use std::collections::HashSet;

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"NBS1";

/// What a signature was issued on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signed<'a> {
    /// An image part: its decoded bytes.
    Image(&'a [u8]),
    /// A text part: its text.
    Text(&'a str),
    /// Any other part (a signature on a part kind the server does not issue on).
    Other,
}

/// Issues and verifies signatures with one server's key.
pub(crate) struct Signer {
    key: [u8; 32],
    /// Signatures found in the loaded fixture corpus, decoded.
    recorded: HashSet<Vec<u8>>,
}

impl Signer {
    pub(crate) fn new(key: [u8; 32], recorded: HashSet<Vec<u8>>) -> Self {
        Self { key, recorded }
    }

    /// The signature for a part with this content.
    pub(crate) fn sign(&self, content: Signed<'_>) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 1 + 16 + 32);
        out.extend_from_slice(MAGIC);
        match content {
            Signed::Image(bytes) => {
                let digest: [u8; 32] = Sha256::digest(bytes).into();
                out.push(b'i');
                out.extend_from_slice(&hmac_sha256(&self.key, &[b"i", &digest]));
            }
            Signed::Text(text) => {
                let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
                let nonce = &digest[..16];
                out.push(b't');
                out.extend_from_slice(nonce);
                out.extend_from_slice(&hmac_sha256(&self.key, &[b"t", nonce]));
            }
            Signed::Other => {
                out.push(b'o');
                out.extend_from_slice(&hmac_sha256(&self.key, &[b"o"]));
            }
        }
        out
    }

    /// Whether `signature` (decoded bytes) is valid on a part with this content: issued by this
    /// server (on exactly this image, for an image part), or recorded in the corpus.
    pub(crate) fn verify(&self, signature: &[u8], content: Signed<'_>) -> bool {
        if self.recorded.contains(signature) {
            return true;
        }
        let Some(rest) = signature.strip_prefix(MAGIC) else {
            return false;
        };
        match (rest.split_first(), content) {
            (Some((b'i', mac)), Signed::Image(bytes)) => {
                let digest: [u8; 32] = Sha256::digest(bytes).into();
                constant_time_eq(mac, &hmac_sha256(&self.key, &[b"i", &digest]))
            }
            (Some((b't', payload)), Signed::Text(_) | Signed::Other) if payload.len() == 48 => {
                let (nonce, mac) = payload.split_at(16);
                constant_time_eq(mac, &hmac_sha256(&self.key, &[b"t", nonce]))
            }
            (Some((b'o', mac)), Signed::Other) => {
                constant_time_eq(mac, &hmac_sha256(&self.key, &[b"o"]))
            }
            _ => false,
        }
    }
}

/// HMAC-SHA256 (RFC 2104, the `hmac` crate) over the concatenation of `parts`, for a key of
/// any length: the signatures here and the webhooks' (`webhooks`).
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{KeyInit as _, Mac as _};
    // HMAC takes keys of any length: the error case cannot happen.
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2_shape() {
        // RFC 4231 test case 2 uses the key "Jefe" (shorter than a block, zero-padded like ours).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        // With a 32-byte zero-padded key the HMAC equals the one for "Jefe": padding to the block
        // size is what HMAC does to short keys anyway.
        let mac = hmac_sha256(&key, &[b"what do ya want ", b"for nothing?"]);
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_signature_binds_content_kind_and_server() {
        let signer = Signer::new([7; 32], HashSet::new());
        let other = Signer::new([8; 32], HashSet::new());
        let sig = signer.sign(Signed::Image(b"png bytes"));
        assert!(signer.verify(&sig, Signed::Image(b"png bytes")));
        assert!(!signer.verify(&sig, Signed::Image(b"png bytez")));
        assert!(!signer.verify(&sig, Signed::Text("png bytes")));
        assert!(!other.verify(&sig, Signed::Image(b"png bytes")));
        assert!(!signer.verify(&sig[..36], Signed::Image(b"png bytes")));
        assert!(!signer.verify(b"", Signed::Image(b"png bytes")));
    }

    #[test]
    fn a_text_signature_binds_the_server_not_the_text() {
        let signer = Signer::new([7; 32], HashSet::new());
        let other = Signer::new([8; 32], HashSet::new());
        let sig = signer.sign(Signed::Text("Here is"));
        assert!(signer.verify(&sig, Signed::Text("Here is")));
        assert!(signer.verify(&sig, Signed::Text("Here is a banana, merged from chunks")));
        assert!(!signer.verify(&sig, Signed::Image(b"Here is")));
        assert!(!other.verify(&sig, Signed::Text("Here is")));
        let mut altered = sig.clone();
        altered[10] ^= 1;
        assert!(!signer.verify(&altered, Signed::Text("Here is")));
    }

    #[test]
    fn recorded_signatures_are_accepted_on_any_content() {
        let recorded = HashSet::from([b"recorded".to_vec()]);
        let signer = Signer::new([1; 32], recorded);
        assert!(signer.verify(b"recorded", Signed::Text("anything")));
    }
}
