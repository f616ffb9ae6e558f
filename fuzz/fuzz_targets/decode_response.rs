//! Fuzzes the response decoders: arbitrary bytes must never panic them; the single-pass
//! decoder (`decode_response`) must give exactly what `serde_json::from_slice` gives; whatever
//! is accepted must re-encode to JSON that decodes to the same value (the wire types are
//! lossless); and `decode_images_into` must find the same images as the typed decode whenever
//! both accept the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nanobanana_wire::GenerateContentResponse;

fuzz_target!(|data: &[u8]| {
    let plain = serde_json::from_slice::<GenerateContentResponse>(data);
    let single_pass = nanobanana_wire::decode_response(data);
    match (&plain, &single_pass) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "decode_response != serde_json::from_slice"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("decode_response and serde_json::from_slice disagree on acceptance"),
    }
    let mut buffer = Vec::new();
    let spans = nanobanana_wire::decode_images_into(data, &mut buffer);
    let Ok(response) = plain else {
        return;
    };
    if let Ok(spans) = spans {
        let typed: Vec<&[u8]> = response
            .candidates
            .iter()
            .filter_map(|c| c.content.as_ref())
            .flat_map(|c| &c.parts)
            .filter_map(|p| p.inline_data.as_ref()?.data.as_ref())
            .map(|d| d.as_slice())
            .collect();
        let found: Vec<&[u8]> = spans.iter().map(|s| &buffer[s.range.clone()]).collect();
        assert_eq!(typed, found, "decode_images_into found other images");
    }
    let encoded = serde_json::to_vec(&response).expect("a decoded response always encodes");
    let again: GenerateContentResponse =
        serde_json::from_slice(&encoded).expect("what the decoder wrote, it reads back");
    assert_eq!(response, again, "decode(encode(x)) != x");
});
