//! Peak memory of one wire decode of the 4K single-image response.
//!
//! Counts every allocation through a wrapper around the system allocator, builds the payload,
//! keeps only the JSON body, resets the peak, decodes once with the wire types and prints one JSON
//! line: `input_bytes` (the body), `image_bytes` (decoded images), `decoded_bytes` (images and
//! signatures), `live_before` (bytes live when the peak was reset, the body included) and
//! `peak_live` (the most bytes live at once during the decode). `cargo xtask bench-report` runs it
//! in release mode and reports `peak_live - input_bytes - image_bytes` as the decoder's overhead.

// The counting allocator (`src/alloc_probe.rs`) implements `GlobalAlloc`, which is `unsafe` by
// definition; the workspace forbids unsafe code, so it is allowed in the probe binaries that
// include that file, and nowhere else (this crate denies it, see Cargo.toml; its library and
// bench forbid it). The impl only forwards to `System` and counts.
#![allow(unsafe_code)]
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::sync::atomic::Ordering;

use nanobanana_benches::{Scenario, decode_wire, wire_image_bytes};

#[path = "../alloc_probe.rs"]
mod alloc_probe;

use alloc_probe::{CURRENT, PEAK};

fn main() -> ExitCode {
    let scenario = Scenario::Single4k;
    let body = scenario.payload().body;
    let input_bytes = body.len();

    let live_before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(live_before, Ordering::Relaxed);
    let response = match decode_wire(&body) {
        Ok(response) => response,
        Err(err) => {
            println!(r#"{{"error":{:?}}}"#, err.to_string());
            return ExitCode::FAILURE;
        }
    };
    let peak_live = PEAK.load(Ordering::Relaxed);

    let image_bytes = wire_image_bytes(&response);
    let decoded_bytes = image_bytes
        + nanobanana_benches::wire_parts(response)
            .iter()
            .filter_map(|part| part.signature.as_ref())
            .map(Vec::len)
            .sum::<usize>();
    let report = serde_json::json!({
        "scenario": scenario.group(),
        "input_bytes": input_bytes,
        "image_bytes": image_bytes,
        "decoded_bytes": decoded_bytes,
        "live_before": live_before,
        "peak_live": peak_live,
    });
    println!("{report}");
    ExitCode::SUCCESS
}
