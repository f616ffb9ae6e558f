//! libFuzzer entry for [`nanobanana_fuzz::decode_response`]; the body and its invariants live in the
//! library, so the stable bounded driver (`src/bin/bounded.rs`) runs exactly the same checks.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nanobanana_fuzz::decode_response(data));
