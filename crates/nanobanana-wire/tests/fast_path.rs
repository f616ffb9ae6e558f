//! The fast decode path (typed structs, `Base64Bytes` read through `deserialize_bytes` and decoded
//! with the SIMD engine) agrees with the naive path (`serde_json::Value`, then a plain base64
//! decode) on every fixture and on random payloads: random bytes, both base64 alphabets, escaped
//! slashes (`\/`) inside the JSON string, padding present or not, signatures on image parts.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use nanobanana_wire::GenerateContentResponse;
use nanobanana_wire::corpus::Corpus;
use proptest::prelude::*;
use serde_json::Value;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const NAIVE_STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const NAIVE_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Every bytes field of a response in document order, decoded the naive way.
fn naive(body: &[u8]) -> Vec<Vec<u8>> {
    let value: Value = serde_json::from_slice(body).expect("valid JSON");
    let mut out = Vec::new();
    for candidate in value["candidates"].as_array().into_iter().flatten() {
        for part in candidate["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for text in [&part["inlineData"]["data"], &part["thoughtSignature"]] {
                if let Some(text) = text.as_str() {
                    let engine = if text.contains(['-', '_']) {
                        &NAIVE_URL_SAFE
                    } else {
                        &NAIVE_STANDARD
                    };
                    out.push(engine.decode(text).expect("naive decode"));
                }
            }
        }
    }
    out
}

/// The same fields, decoded through the generated types; `decode_response` (one pass over each
/// image) and `serde_json::from_slice` must give the same value.
fn fast(body: &[u8]) -> Vec<Vec<u8>> {
    let response: GenerateContentResponse = serde_json::from_slice(body).expect("typed decode");
    let single_pass = nanobanana_wire::decode_response(body).expect("decode_response");
    assert_eq!(
        single_pass, response,
        "decode_response differs from serde_json::from_slice"
    );
    for piece in [1, 3, 4096, 16 * 1024 + 1, 1 << 20] {
        assert_eq!(
            incremental(body, piece).expect("ResponseDecoder"),
            response,
            "ResponseDecoder in {piece}-byte pieces differs from serde_json::from_slice"
        );
    }
    let mut out = Vec::new();
    for candidate in &response.candidates {
        for part in candidate.content.iter().flat_map(|c| &c.parts) {
            if let Some(data) = part.inline_data.as_ref().and_then(|b| b.data.as_ref()) {
                out.push(data.as_slice().to_vec());
            }
            if let Some(signature) = &part.thought_signature {
                out.push(signature.as_slice().to_vec());
            }
        }
    }
    out
}

/// The incremental decoder fed `body` in pieces of `piece` bytes.
fn incremental(body: &[u8], piece: usize) -> serde_json::Result<GenerateContentResponse> {
    let mut decoder = nanobanana_wire::ResponseDecoder::with_size_hint(body.len());
    for chunk in body.chunks(piece) {
        decoder.feed(chunk);
    }
    decoder.finish()
}

#[test]
fn fast_and_naive_paths_agree_on_every_fixture_response() {
    let corpus = Corpus::load(Corpus::repository_dir()).expect("corpus loads");
    let mut fields = 0;
    for case in corpus.cases() {
        for interaction in &case.interactions {
            let response = &interaction.response;
            if !(200..300).contains(&response.status) {
                continue;
            }
            let bodies = response.body.iter().chain(response.events.iter().flatten());
            for body in bodies.filter(|b| b.get("candidates").is_some()) {
                let bytes = serde_json::to_vec(body).unwrap();
                let expected = naive(&bytes);
                assert_eq!(fast(&bytes), expected, "{}", case.id);
                fields += expected.len();
            }
        }
    }
    assert!(fields > 200, "only {fields} bytes fields compared");
}

/// How a random payload writes its base64.
#[derive(Clone, Copy, Debug)]
struct Spelling {
    url_safe: bool,
    padded: bool,
    escape_slashes: bool,
}

fn spelling() -> impl Strategy<Value = Spelling> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(url_safe, padded, escape_slashes)| {
        Spelling {
            url_safe,
            padded,
            escape_slashes,
        }
    })
}

/// `bytes` as base64 text inside a JSON string (quotes included).
fn json_base64(bytes: &[u8], spelling: Spelling) -> String {
    let text = match (spelling.url_safe, spelling.padded) {
        (false, true) => general_purpose::STANDARD.encode(bytes),
        (false, false) => general_purpose::STANDARD_NO_PAD.encode(bytes),
        (true, true) => general_purpose::URL_SAFE.encode(bytes),
        (true, false) => general_purpose::URL_SAFE_NO_PAD.encode(bytes),
    };
    let text = if spelling.escape_slashes {
        text.replace('/', "\\/")
    } else {
        text
    };
    format!("\"{text}\"")
}

/// Image bytes: small ones, and ones whose base64 spans several of the decoders' 16 KiB chunks.
fn image_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..3000),
        prop::collection::vec(any::<u8>(), 12_000..40_000),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fast_and_naive_paths_agree_on_random_payloads(
        images in prop::collection::vec((image_bytes(), spelling(), any::<bool>()), 1..4),
        signature in prop::collection::vec(any::<u8>(), 1..300),
        signature_spelling in spelling(),
    ) {
        let mut parts = Vec::new();
        let last = images.len() - 1;
        for (i, (bytes, spelling, thought)) in images.iter().enumerate() {
            let data = json_base64(bytes, *spelling);
            if i == last {
                let sig = json_base64(&signature, signature_spelling);
                parts.push(format!(r#"{{"inlineData":{{"mimeType":"image/png","data":{data}}},"thoughtSignature":{sig}}}"#));
            } else {
                parts.push(format!(r#"{{"inlineData":{{"mimeType":"image/png","data":{data}}},"thought":{thought}}}"#));
            }
        }
        let body = format!(
            r#"{{"candidates":[{{"content":{{"role":"model","parts":[{}]}},"finishReason":"STOP","index":0}}]}}"#,
            parts.join(",")
        );
        let decoded = fast(body.as_bytes());
        prop_assert_eq!(&decoded, &naive(body.as_bytes()));
        let mut expected: Vec<Vec<u8>> = images.iter().map(|(bytes, _, _)| bytes.clone()).collect();

        // The caller's-buffer path yields the same images, reusing a dirty buffer.
        let mut buffer = vec![0xAA; 17];
        let spans = nanobanana_wire::decode_images_into(body.as_bytes(), &mut buffer).unwrap();
        let via_buffer: Vec<Vec<u8>> = spans.iter().map(|s| buffer[s.range.clone()].to_vec()).collect();
        prop_assert_eq!(&via_buffer, &expected);
        prop_assert_eq!(buffer.len(), expected.iter().map(Vec::len).sum::<usize>());

        expected.push(signature.clone());
        prop_assert_eq!(decoded, expected);
    }

    /// Bad base64 is an error naming the problem, never a panic and never silent loss.
    #[test]
    fn corrupted_base64_is_refused(bytes in prop_oneof![prop::collection::vec(any::<u8>(), 1..200), prop::collection::vec(any::<u8>(), 12_000..30_000)], at in any::<prop::sample::Index>(), bad in "[!#$%&*.:;<>?@^`|~]") {
        let mut text = general_purpose::STANDARD.encode(&bytes);
        let i = at.index(text.len());
        text.replace_range(i..=i, &bad);
        let body = format!(r#"{{"candidates":[{{"content":{{"parts":[{{"inlineData":{{"data":"{text}"}}}}]}}}}]}}"#);
        let err = serde_json::from_str::<GenerateContentResponse>(&body).unwrap_err();
        prop_assert!(err.to_string().contains("invalid base64"), "{}", err);
        let single_pass = nanobanana_wire::decode_response(body.as_bytes()).unwrap_err();
        prop_assert_eq!(single_pass.to_string(), err.to_string());
        for piece in [1, 7, 16 * 1024] {
            let pieces = incremental(body.as_bytes(), piece).unwrap_err();
            prop_assert_eq!(pieces.to_string(), err.to_string());
        }
        let into = nanobanana_wire::decode_images_into(body.as_bytes(), &mut Vec::new()).unwrap_err();
        prop_assert!(
            into.to_string().starts_with("candidates/0/content/parts/0/inlineData/data: invalid base64"),
            "{}", into
        );
    }
}
