//! Fuzzes the response decoder: arbitrary bytes must never panic it, and whatever it accepts
//! must re-encode to JSON that decodes to the same value (the wire types are lossless).

#![no_main]

use libfuzzer_sys::fuzz_target;
use nanobanana_wire::GenerateContentResponse;

fuzz_target!(|data: &[u8]| {
    let Ok(response) = serde_json::from_slice::<GenerateContentResponse>(data) else {
        return;
    };
    let encoded = serde_json::to_vec(&response).expect("a decoded response always encodes");
    let again: GenerateContentResponse =
        serde_json::from_slice(&encoded).expect("what the decoder wrote, it reads back");
    assert_eq!(response, again, "decode(encode(x)) != x");
});
