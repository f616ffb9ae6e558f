//! The bodies of the fuzz targets, as plain functions: the libFuzzer entries in `fuzz_targets/`
//! call them, and so does the stable bounded driver (`src/bin/bounded.rs`), so both check the
//! same invariants. Each panics (with what broke) when an invariant does not hold.
//!
//! - [`decode_response`]: arbitrary bytes never panic the response decoders; the single-pass
//!   decoder gives what `serde_json::from_slice` gives; what is accepted round-trips.
//! - [`sse_chunking`]: the SSE parser gives the same events and the same end (clean, or
//!   truncated with the same pending bytes) however the stream is cut into chunks.
//! - [`validate_request`]: validation never panics; whenever the body decodes into the typed
//!   request, the typed and the JSON entry points report the same; the fake server answers a
//!   request the rules refuse with a 400 carrying the first error's message, and never 5xx.
//! - [`mock_request`]: any request (method, target, headers, body) gets an answer from the fake
//!   server, never a panic, and never a 5xx unless a fault directive asked for one (or the mode
//!   header asked to replay the corpus, whose retry cases hold recorded 503s).

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bytes::Bytes;
use nanobanana_mock::{FAULT_HEADER, MODE_HEADER, MockGemini, Mode};
use nanobanana_transport::sse::SseParser;
use nanobanana_wire::{GenerateContentRequest, GenerateContentResponse};
use serde_json::Value;

/// Response decoders: no panic, the fast path equals serde, accepted values round-trip, and the
/// image finder agrees with the typed decode.
pub fn decode_response(data: &[u8]) {
    let plain = serde_json::from_slice::<GenerateContentResponse>(data);
    let single_pass = nanobanana_wire::decode_response(data);
    match (&plain, &single_pass) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "decode_response != serde_json::from_slice"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("decode_response and serde_json::from_slice disagree on acceptance"),
    }
    // The incremental decoder, fed the body cut at boundaries taken from the input itself (piece
    // lengths 1..=64 from the first bytes, cycled: boundaries fall inside escapes, base64 groups
    // and CRLFs), gives what decode_response gives.
    let lengths: Vec<usize> = data.iter().take(8).map(|&b| usize::from(b % 64) + 1).collect();
    let mut decoder = nanobanana_wire::ResponseDecoder::new();
    let mut at = 0;
    for &len in lengths.iter().cycle() {
        if at >= data.len() {
            break;
        }
        let end = (at + len).min(data.len());
        decoder.feed(&data[at..end]);
        at = end;
    }
    match (decoder.finish(), &single_pass) {
        (Ok(a), Ok(b)) => assert_eq!(&a, b, "ResponseDecoder != decode_response"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("ResponseDecoder and decode_response disagree on acceptance"),
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
}

/// What a parser made of a stream: the events' data, and the end (`Err(pending)` if truncated).
type Parsed = (Vec<Bytes>, Result<(), usize>);

fn parse(chunks: impl Iterator<Item = impl AsRef<[u8]>>) -> Parsed {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    for chunk in chunks {
        parser.feed(chunk.as_ref());
        while let Some(event) = parser.next_event() {
            events.push(event);
        }
    }
    let end = parser.finish().map_err(|t| t.pending());
    (events, end)
}

/// Chunk sizes derived from the data itself (1 to 64 bytes), so a failure reproduces.
fn chunk_sizes(data: &[u8]) -> impl Iterator<Item = usize> {
    let mut state = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) | 1;
    std::iter::from_fn(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Some((state % 64) as usize + 1)
    })
}

/// The SSE parser: whole, byte by byte and in pseudo-random chunks, the same events and end.
pub fn sse_chunking(data: &[u8]) {
    let whole = parse(std::iter::once(data));
    let bytewise = parse(data.chunks(1));
    assert_eq!(
        whole, bytewise,
        "byte-by-byte feeding differs from a whole read"
    );
    let mut chunks = Vec::new();
    let mut at = 0;
    for size in chunk_sizes(data) {
        if at >= data.len() {
            break;
        }
        let end = (at + size).min(data.len());
        chunks.push(&data[at..end]);
        at = end;
    }
    let chunked = parse(chunks.into_iter());
    assert_eq!(whole, chunked, "chunked feeding differs from a whole read");
}

/// The models the validator target checks against, picked by the input's first byte.
pub const MODELS: &[&str] = &[
    "gemini-3.1-flash-image-preview",
    "gemini-3-pro-image-preview",
    "gemini-2.5-flash-image",
    "models/gemini-3-pro-image-preview",
    "gemini-9-image-preview",
    "gemini-2.5-flash",
];

/// A fake server for the whole process, with its own runtime (answers are computed in-process,
/// without sockets, so a run makes millions of requests).
fn server() -> &'static (tokio::runtime::Runtime, MockGemini) {
    static SERVER: OnceLock<(tokio::runtime::Runtime, MockGemini)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        // Simulate by default; the corpus is loaded so that the mode header reaches replay.
        // The early-2026 service, which served the preview ids of MODELS (and the corpus's cases).
        let mut builder = MockGemini::builder()
            .as_of(early().as_of())
            .mode(Mode::Simulate)
            .allow_unmatched()
            .journal_capacity(16)
            .state_limits(64, 16 << 20, 64);
        if let Some(fixtures) = fixtures_dir() {
            builder = builder.fixtures(fixtures);
        }
        let server = runtime.block_on(builder.start());
        (runtime, server)
    })
}

/// The validation options of the early-2026 service the fake server plays here.
fn early() -> nanobanana_rules::Options {
    nanobanana_rules::Options::at(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
}

/// `fixtures/` of the repository, if it is there.
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    dir.join("cases").is_dir().then_some(dir)
}

/// The validator: input is one byte choosing the model, then the JSON body.
pub fn validate_request(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let model = MODELS[usize::from(selector) % MODELS.len()];
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let report = nanobanana_rules::validate_request_json_with(model, &json, &early());
    let _ = report.to_string();
    let client = match serde_json::from_value::<GenerateContentRequest>(json.clone()) {
        Ok(typed) => {
            let typed_report = nanobanana_rules::validate_request_with(model, &typed, &early());
            assert_eq!(
                typed_report, report,
                "typed and JSON validation disagree for {model}"
            );
            typed_report
        }
        Err(_) => report,
    };
    if !json.is_object() {
        return;
    }
    let (runtime, server) = server();
    let (status, answer) = runtime.block_on(server.answer_in_process(
        "POST",
        &format!(
            "/v1beta/models/{}:generateContent",
            model.trim_start_matches("models/")
        ),
        &[("x-goog-api-key", b"fuzz")],
        Bytes::copy_from_slice(body),
    ));
    assert!(
        status < 500,
        "the fake server answered {status} to a {model} request without a fault directive: {}",
        String::from_utf8_lossy(&answer)
    );
    let lookup = nanobanana_rules::catalogue::lookup(model);
    if lookup.model().is_none() && !lookup.is_text_only() {
        // An id the catalogue does not know: the client sends it with a warning; the fake
        // server answers the service's 404, whatever the body.
        assert_eq!(status, 404, "an unknown model was served");
        return;
    }
    if let Some(error) = client.first_error() {
        let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        assert_eq!(
            status, 400,
            "the client refuses, the server answered {answer}"
        );
        assert_eq!(
            answer["error"]["message"].as_str(),
            Some(error.message()),
            "the client and the fake server give different first errors"
        );
    }
}

/// The fake server: input is `METHOD TARGET` on the first line, `name: value` header lines, a
/// blank line, then the body (an HTTP/1.1 request head without the version).
pub fn mock_request(data: &[u8]) {
    let (head, body) = match find(data, b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let (method, target) = first.split_once(' ').unwrap_or(("GET", &first));
    let method = if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        "GET"
    } else {
        method
    };
    let target = if target.starts_with('/') {
        target.to_owned()
    } else {
        format!("/{target}")
    };
    let mut headers: Vec<(String, &[u8])> = Vec::new();
    for line in lines {
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = String::from_utf8_lossy(&line[..colon])
                .trim()
                .to_ascii_lowercase();
            let value = line[colon + 1..].trim_ascii();
            headers.push((name, value));
        }
    }
    if !headers.iter().any(|(n, _)| n == "x-goog-api-key") {
        headers.push(("x-goog-api-key".to_owned(), b"fuzz"));
    }
    // A fault directive may ask for a 5xx, and so may a recording replayed on request (the
    // corpus holds recorded 503s of retry cases).
    let directed = headers
        .iter()
        .any(|(n, v)| n == FAULT_HEADER || (n == MODE_HEADER && *v != b"simulate"))
        || find(body, FAULT_HEADER.as_bytes()).is_some();
    let headers: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let (runtime, server) = server();
    let (status, answer) = runtime.block_on(server.answer_in_process(
        method,
        &target,
        &headers,
        Bytes::copy_from_slice(body),
    ));
    assert!(
        directed || status < 500,
        "{method} {target}: {status} without a fault directive: {}",
        String::from_utf8_lossy(&answer)
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Seeds for a target from the fixture corpus (request bodies, SSE streams and whole requests
/// of every case), plus a few hand-written ones for the findings of issue 20.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let corpus = fixtures_dir().and_then(|dir| nanobanana_wire::corpus::Corpus::load(dir).ok());
    let cases = corpus.as_ref().map(|c| c.cases()).unwrap_or_default();
    for case in cases {
        for interaction in &case.interactions {
            let request = &interaction.request;
            let response = &interaction.response;
            match target {
                "decode_response" => {
                    if let Some(body) = &response.body {
                        out.push(body.to_string().into_bytes());
                    }
                    for event in response.events.iter().flatten() {
                        out.push(event.to_string().into_bytes());
                    }
                }
                "sse_chunking" => {
                    if let Some(events) = &response.events {
                        let crlf =
                            response.line_ending == Some(nanobanana_wire::corpus::LineEnding::Crlf);
                        let end = if crlf { "\r\n" } else { "\n" };
                        let mut stream = String::new();
                        for event in events {
                            stream.push_str(&format!("data: {event}{end}{end}"));
                        }
                        out.push(stream.into_bytes());
                    }
                }
                "validate_request" => {
                    if let Some(body) = &request.body
                        && request.path.contains(":generateContent")
                    {
                        let mut seed = vec![(out.len() % MODELS.len()) as u8];
                        seed.extend_from_slice(body.to_string().as_bytes());
                        out.push(seed);
                    }
                }
                "mock_request" => {
                    let mut target = request.path.clone();
                    let query: Vec<String> = request
                        .query
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    if !query.is_empty() {
                        target = format!("{target}?{}", query.join("&"));
                    }
                    let mut seed = format!("{} {target}\n", request.method);
                    for (name, value) in &request.headers {
                        seed.push_str(&format!("{name}: {value}\n"));
                    }
                    seed.push('\n');
                    let mut seed = seed.into_bytes();
                    if let Some(body) = &request.body {
                        seed.extend_from_slice(body.to_string().as_bytes());
                    } else if let Some(text) = &request.body_text {
                        seed.extend_from_slice(text.as_bytes());
                    }
                    out.push(seed);
                }
                _ => {}
            }
        }
    }
    let extra: &[&[u8]] = match target {
        "sse_chunking" => &[
            b"\xEF\xBB\xBFdata: {\"a\":1}\r\n\r\ndata:{\"b\"\rdata: 2}\r\r",
            b"event: x\nid: 1\n: comment\ndata: a\ndata: b\n\n",
            b"data: {\"cut\":",
        ],
        "validate_request" => &[
            b"\x00{\"/\":{}}",
            b"\x00{\"generationConfig\":{\"0\":1}}",
            b"\x00{\"generationConfig\":{\"image_Config\":{\"imageSize\":\"1k\"}}}",
            b"\x04{\"generationConfig\":{\"imageConfig\":{\"imageSize\":\"1k\",\"aspectRatio\":\"4:1\"}}}",
            b"\x05{\"generationConfig\":{\"imageConfig\":{\"imageSize\":\"8K\"}}}",
            b"\x01{\"contents\":[{\"parts\":[{\"text\":\"x\",\"a~b/c\":1}]}]}",
        ],
        "mock_request" => &[
            b"GET /v1beta/files?pageToken=b2Zmc2V0OjE4NDQ2NzQ0MDczNzA5NTUxNjE1\n\n",
            b"POST /upload/v1beta/files\nx-goog-upload-protocol: resumable\nx-goog-upload-command: start\nx-goog-upload-header-content-type: image/png\nx-goog-upload-header-content-length: 18446744073709551615\n\n",
            b"POST /v1beta/models/gemini-9-image:generateContent\n\n{\"generationConfig\":{\"imageConfig\":{\"imageSize\":\"1k\"}}}",
            b"POST /v1beta/models/gemini-3-pro-image-preview:streamGenerateContent?alt=sse\nx-nanobanana-mode: simulate\n\n{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}],\"generationConfig\":{\"responseModalities\":[\"TEXT\"]}}",
            b"GET /v1beta/models\n\n",
            b"POST /v1beta/models/gemini-2.5-flash-image:batchGenerateContent\n\n{\"batch\":{\"inputConfig\":{\"requests\":{\"requests\":[{\"request\":{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}}]}}}}",
        ],
        "decode_response" => &[b"{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}}]}}]}"],
        _ => &[],
    };
    out.extend(extra.iter().map(|s| s.to_vec()));
    out.sort();
    out.dedup();
    out
}

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target by name, for the bounded driver.
pub const TARGETS: &[(&str, Target)] = &[
    ("decode_response", decode_response),
    ("sse_chunking", sse_chunking),
    ("validate_request", validate_request),
    ("mock_request", mock_request),
];
