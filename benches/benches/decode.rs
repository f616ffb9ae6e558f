//! Response decoding: the wire types against naive `serde_json::Value` + base64 and a memcpy.
//!
//! One Criterion group per payload ([`Scenario::ALL`]), with throughput in bytes of the body as it
//! arrives, and three functions in each:
//!
//! - `wire`: `nanobanana_wire::decode_response` into the typed `GenerateContentResponse` (after
//!   stripping the SSE framing, without a copy, for `sse_4k`), then the image lengths are touched;
//! - `images_into`: `nanobanana_wire::decode_images_into` with one reused buffer;
//! - `naive`: `serde_json::Value`, then `base64` `STANDARD` decode of each data string;
//! - `memcpy`: the body copied into a preallocated, already faulted-in buffer of the same size.
//!
//! Settings are brief (10 flat samples, 1 s warm-up, 3 s measurement) so that the whole run stays
//! under two minutes on two cores; Criterion's command-line flags override them.
//! `cargo xtask bench-report` runs this bench and tabulates the results.

#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use nanobanana_benches::{
    Scenario, decode_naive, decode_wire, image_bytes, sse_data, wire_image_bytes,
};

fn decode(c: &mut Criterion) {
    for scenario in Scenario::ALL {
        let payload = scenario.payload();
        let body = payload.body.as_slice();
        let sse = payload.sse;
        let expected_images = image_bytes(&payload.expected);

        let mut group = c.benchmark_group(scenario.group());
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .throughput(Throughput::Bytes(body.len() as u64));

        group.bench_function("wire", |b| {
            b.iter(|| {
                let response = decode_wire(json_of(black_box(body), sse)).expect("wire decode");
                let images = wire_image_bytes(&response);
                debug_assert_eq!(images, expected_images);
                black_box(images);
                response
            });
        });

        // The caller's-buffer path: one buffer reused across iterations (warmed once outside the
        // measurement), as a program decoding response after response would.
        let mut buffer = Vec::new();
        nanobanana_wire::decode_images_into(json_of(body, sse), &mut buffer)
            .expect("images decode");
        group.bench_function("images_into", |b| {
            b.iter(|| {
                let spans =
                    nanobanana_wire::decode_images_into(json_of(black_box(body), sse), &mut buffer)
                        .expect("images decode");
                debug_assert_eq!(
                    spans.iter().map(|s| s.range.len()).sum::<usize>(),
                    buffer.len()
                );
                black_box(buffer.as_slice());
                spans
            });
        });

        group.bench_function("naive", |b| {
            b.iter(|| {
                let parts = decode_naive(json_of(black_box(body), sse)).expect("naive decode");
                let images = image_bytes(&parts);
                debug_assert_eq!(images, expected_images);
                black_box(images);
                parts
            });
        });

        // Cloning faults in every page of the destination once, outside the measurement.
        let mut destination = body.to_vec();
        group.bench_function("memcpy", |b| {
            b.iter(|| {
                destination.copy_from_slice(black_box(body));
                black_box(destination.as_slice());
            });
        });

        group.finish();
    }
}

/// The JSON document inside a body: the body itself, or the SSE event's data (borrowed, no copy).
fn json_of(body: &[u8], sse: bool) -> &[u8] {
    if sse {
        sse_data(body).expect("well-formed SSE event")
    } else {
        body
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = decode
}
criterion_main!(benches);
