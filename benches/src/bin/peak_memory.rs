//! Peak memory of one wire decode of the 4K single-image response.
//!
//! Counts every allocation through a wrapper around the system allocator, builds the payload,
//! keeps only the JSON body, resets the peak, decodes once with the wire types and prints one JSON
//! line: `input_bytes` (the body), `image_bytes` (decoded images), `decoded_bytes` (images and
//! signatures), `live_before` (bytes live when the peak was reset, the body included) and
//! `peak_live` (the most bytes live at once during the decode). `cargo xtask bench-report` runs it
//! in release mode and reports `peak_live - input_bytes - image_bytes` as the decoder's overhead.

// A `GlobalAlloc` implementation is `unsafe` by definition (the trait and its methods are unsafe);
// the workspace forbids unsafe code, so it is allowed here, in this one probe binary, and nowhere
// else (this crate denies it, see Cargo.toml; its library and bench forbid it). The impl only
// forwards to `System` and counts.
#![allow(unsafe_code)]
#![allow(clippy::print_stdout)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use nanobanana_benches::{Scenario, decode_wire, wire_image_bytes};

/// The system allocator, counting live bytes and their high-water mark.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(by: usize) {
    CURRENT.fetch_sub(by, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees carry over; the counters have no effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc_zeroed`'s contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // Counted as the new block arriving before the old one leaves: the worst case.
            grew(new_size);
            shrank(layout.size());
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

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
