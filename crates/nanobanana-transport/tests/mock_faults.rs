//! The client under every fault of the fake server (`nanobanana-mock`), one server per test on
//! 127.0.0.1:0: retries and the waits the service asks for (WIRE.md "Errors", measured on a
//! paused tokio clock), resets, truncated and failing streams (WIRE.md "Streaming"), timeouts,
//! retries turned off, pre-flight refusals (SPEC.md §2, §4), and a snapshot of what each failure
//! reads like. The server's journal shows exactly the attempts made.

mod mock_support;

use std::time::Duration;

use futures_util::StreamExt;
use nanobanana_mock::{Endpoint, FAULT_HEADER, Fault, Mock, MockGemini};
use nanobanana_transport::rules::{Date, Options, Rule, validate_request_with};
use nanobanana_transport::wire::{
    Base64Bytes, Content, GenerateContentRequest, GenerateContentResponse, InlinedRequest, Part,
};
use nanobanana_transport::{
    ClientConfig, Error, ErrorKind, RequestOptions, RetryPolicy, encode_jsonl,
};
use serde_json::json;

use mock_support::*;

fn request() -> GenerateContentRequest {
    image_request("A nano banana dish", Some("16:9"), Some("1K"))
}

/// Mounts a fault on the first `times` requests to `endpoint` (`None`: all of them).
async fn fault_on(server: &MockGemini, endpoint: Endpoint, fault: Fault, times: Option<u64>) {
    let mut mock = Mock::any().endpoint(endpoint).fault(fault);
    if let Some(times) = times {
        mock = mock.up_to_n_times(times).expect(times);
    }
    mock.mount(server).await;
}

fn generate_line(status: u16) -> String {
    format!("POST {} -> {status}", generate_path(PRO))
}

fn stream_line(status: u16) -> String {
    format!("POST {} -> {status}", stream_path(PRO))
}

/// Collects a stream whole: the chunks before the first error, and that error.
async fn drain(
    stream: impl futures_util::Stream<Item = Result<GenerateContentResponse, Error>> + Unpin,
) -> (Vec<GenerateContentResponse>, Option<Error>) {
    let items: Vec<_> = stream.collect().await;
    let mut chunks = Vec::new();
    let mut error = None;
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Ok(chunk) => {
                assert!(error.is_none(), "item {i} came after an error");
                chunks.push(chunk);
            }
            Err(e) => {
                assert!(error.is_none(), "a second error: {e}");
                error = Some(e);
            }
        }
    }
    (chunks, error)
}

// ---------------------------------------------------------------------------------------------
// Waits, on a paused clock.

/// Runs `future` and returns its output and how much tokio time it took. On a paused clock
/// the time only moves when every task waits on a timer, so it is the sum of the waits.
async fn timed<T>(future: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = tokio::time::Instant::now();
    let output = future.await;
    (output, started.elapsed())
}

#[track_caller]
fn assert_waited(waited: Duration, expected: Duration) {
    assert!(
        waited >= expected && waited < expected + Duration::from_millis(100),
        "waited {waited:?}, expected {expected:?}"
    );
}

/// WIRE.md "Errors": a 429 carries `RetryInfo.retryDelay` (34 s, as the service sends it); the
/// client waits exactly that long (no jitter, within the policy's 60 s cap), then succeeds.
#[tokio::test(start_paused = true)]
async fn a_429_waits_the_retry_info_delay() {
    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::GenerateContent,
        Fault::status(429),
        Some(1),
    )
    .await;
    let client = paused_clock_client(&server, RetryPolicy::default());
    let wall = std::time::Instant::now();
    let (result, waited) = timed(client.generate_content(PRO, &request())).await;
    result.unwrap();
    assert_waited(waited, Duration::from_secs(34));
    assert!(wall.elapsed() < Duration::from_secs(10), "no real waiting");
    assert_eq!(journal(&server), [generate_line(429), generate_line(200)]);
}

/// WIRE.md "Errors": `Retry-After` is honoured when there is no `RetryInfo`, and every wait the
/// service asks for is capped by the policy's `max_delay`.
#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_capped_by_the_policy() {
    let cases = [
        // (fault, policy's max delay, expected wait)
        (Fault::status(503).with_retry_after(5), 60, 5),
        (Fault::status(503).with_retry_after(120), 10, 10),
        (Fault::status(429), 10, 10),
        // RetryInfo wins over Retry-After.
        (
            Fault::status(429)
                .with_retry_delay(Duration::from_secs(3))
                .with_retry_after(7),
            60,
            3,
        ),
    ];
    for (fault, cap, expected) in cases {
        let server = simulator().await;
        fault_on(&server, Endpoint::GenerateContent, fault.clone(), Some(1)).await;
        let policy = RetryPolicy::default().with_max_delay(Duration::from_secs(cap));
        let client = paused_clock_client(&server, policy);
        let (result, waited) = timed(client.generate_content(PRO, &request())).await;
        result.unwrap();
        assert_waited(waited, Duration::from_secs(expected));
        assert_eq!(journal(&server).len(), 2, "{fault:?}");
    }
}

/// Without a wait from the service, the policy's exponential backoff applies: 1 s, then 2 s
/// (no jitter here), on 500s.
#[tokio::test(start_paused = true)]
async fn backoff_without_a_server_delay_follows_the_policy() {
    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::GenerateContent,
        Fault::status(500),
        Some(2),
    )
    .await;
    let policy = RetryPolicy::default().with_jitter(0.0);
    let client = paused_clock_client(&server, policy);
    let (result, waited) = timed(client.generate_content(PRO, &request())).await;
    result.unwrap();
    assert_waited(waited, Duration::from_secs(3));
    assert_eq!(
        journal(&server),
        [generate_line(500), generate_line(500), generate_line(200)]
    );
}

// ---------------------------------------------------------------------------------------------
// Retries, on a real clock with waits of at most 20 ms.

/// The retryable statuses (408, 429, 500, 502, 503, 504) are tried again, the others are not.
#[tokio::test]
async fn retryable_statuses_are_retried_and_others_are_not() {
    for status in [408, 429, 500, 502, 503, 504] {
        let server = simulator().await;
        fault_on(
            &server,
            Endpoint::GenerateContent,
            Fault::status(status),
            Some(1),
        )
        .await;
        client(&server)
            .generate_content(PRO, &request())
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(
            journal(&server),
            [generate_line(status), generate_line(200)],
            "{status}"
        );
    }
    for status in [400, 403, 404, 409] {
        let server = simulator().await;
        fault_on(
            &server,
            Endpoint::GenerateContent,
            Fault::status(status),
            None,
        )
        .await;
        let error = client(&server)
            .generate_content(PRO, &request())
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert!(!error.is_retryable());
        assert_eq!(journal(&server), [generate_line(status)], "{status}");
    }
}

/// 503 twice, then success: the default three attempts are enough (`times=2`).
#[tokio::test]
async fn a_503_then_success() {
    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::GenerateContent,
        Fault::status(503),
        Some(2),
    )
    .await;
    let response = client(&server)
        .generate_content(PRO, &request())
        .await
        .unwrap();
    assert_eq!(final_images(&response).len(), 1);
    assert_eq!(
        journal(&server),
        [generate_line(503), generate_line(503), generate_line(200)]
    );
}

/// The fault header any language can send (`x-nanobanana-fault`, README "Test against a fake
/// Gemini server"), through the client's per-request headers: `times=2` fails the first two
/// requests carrying it with 503, the retry after them succeeds; streams carry it too.
#[tokio::test]
async fn the_fault_header_sent_per_request_fails_twice_then_succeeds() {
    let server = simulator().await;
    let options = RequestOptions::new().with_header(FAULT_HEADER, "status=503; times=2");
    let response = client(&server)
        .generate_content_with(PRO, &request(), &options)
        .await
        .unwrap();
    assert_eq!(final_images(&response).len(), 1);
    assert_eq!(
        journal(&server),
        [generate_line(503), generate_line(503), generate_line(200)]
    );
    assert_eq!(
        server.received_requests()[0].header(FAULT_HEADER),
        Some("status=503; times=2")
    );

    let options = RequestOptions::new()
        .with_header(FAULT_HEADER, "status=500")
        .with_retry_policy(RetryPolicy::none());
    let mut stream = client(&server).stream_generate_content_with(PRO, &request(), &options);
    let error = stream.next().await.unwrap().unwrap_err();
    assert_eq!(error.status(), Some(500), "{error}");
}

/// Per-request headers are checked before anything is sent: not valid HTTP, or a header the
/// client owns (the key, the user agent, content headers), is a configuration error; values
/// never print.
#[tokio::test]
async fn per_request_headers_are_checked_and_their_values_never_print() {
    let server = simulator().await;
    for (name, value, expected) in [
        ("x-goog-api-key", "another-key", "is set by the client"),
        ("Content-Type", "text/plain", "is set by the client"),
        ("User-Agent", "my-agent/1.0", "is set by the client"),
        ("bad name", "value-123", "is not a valid header name"),
        ("x-fine", "line\nbreak", "is not a valid header value"),
    ] {
        let options = RequestOptions::new().with_header(name, value);
        let error = client(&server)
            .generate_content_with(PRO, &request(), &options)
            .await
            .unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Config), "{error:?}");
        assert!(error.to_string().contains(expected), "{error}");
        assert!(!error.to_string().contains(value), "{error}");
    }
    assert!(server.received_requests().is_empty());
    let debug = format!(
        "{:?}",
        RequestOptions::new().with_header("authorization", "Bearer canary-secret-value")
    );
    assert!(debug.contains("authorization"), "{debug}");
    assert!(!debug.contains("canary-secret-value"), "{debug}");
}

/// A 503 on every attempt: the client gives up after the policy's attempts with the service's
/// error, and says how many attempts it made.
#[tokio::test]
async fn a_503_on_every_attempt_gives_up_after_the_last() {
    let server = simulator().await;
    fault_on(&server, Endpoint::GenerateContent, Fault::status(503), None).await;
    let client =
        client_with(config(&server).with_retry_policy(quick_retries().with_max_attempts(4)));
    let error = client.generate_content(PRO, &request()).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    let api = error.api_error().unwrap();
    assert_eq!(api.status(), Some("UNAVAILABLE"));
    assert_eq!(
        api.message(),
        "The model is overloaded. Please try again later."
    );
    assert!(error.is_retryable());
    assert!(error.to_string().ends_with("(gave up after 4 attempts)"));
    assert_eq!(journal(&server), lines(&generate_line(503), 4));
    assert_no_canary(&error);
}

/// Retries turned off, for the client or for one call: exactly one attempt.
#[tokio::test]
async fn retries_turned_off_make_one_attempt() {
    let server = simulator().await;
    fault_on(&server, Endpoint::GenerateContent, Fault::status(503), None).await;
    let off = client_with(config(&server).with_retry_policy(RetryPolicy::none()));
    let error = off.generate_content(PRO, &request()).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(
        error.to_string(),
        "Gemini API error 503 UNAVAILABLE: The model is overloaded. Please try again later."
    );
    assert_eq!(journal(&server).len(), 1);

    let options = RequestOptions::new().with_retry_policy(RetryPolicy::none());
    let error = client(&server)
        .generate_content_with(PRO, &request(), &options)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(journal(&server).len(), 2);

    fault_on(
        &server,
        Endpoint::StreamGenerateContent,
        Fault::status(503),
        None,
    )
    .await;
    let (chunks, error) = drain(off.stream_generate_content(PRO, &request())).await;
    assert!(chunks.is_empty());
    assert_eq!(error.unwrap().status(), Some(503));
    assert_eq!(journal(&server).len(), 3);
}

/// A connection closed before any byte of an answer is retried (nothing was answered); on
/// every attempt it ends as a typed transport error.
#[tokio::test]
async fn a_reset_before_the_first_byte_is_retried() {
    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::GenerateContent,
        Fault::reset_after(0),
        Some(1),
    )
    .await;
    client(&server)
        .generate_content(PRO, &request())
        .await
        .unwrap();
    assert_eq!(journal(&server), [generate_line(0), generate_line(200)]);

    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::GenerateContent,
        Fault::reset_after(0),
        None,
    )
    .await;
    let error = client(&server)
        .generate_content(PRO, &request())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::Transport {
                after_response: false
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(journal(&server), lines(&generate_line(0), 3));
}

/// A connection that breaks after part of the answer arrived is not retried: the service has
/// carried out the request.
#[tokio::test]
async fn a_reset_after_the_first_byte_is_not_retried() {
    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::GenerateContent,
        Fault::reset_after(64),
        None,
    )
    .await;
    let error = client(&server)
        .generate_content(PRO, &request())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::Transport {
                after_response: true
            }
        ),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(journal(&server), [generate_line(200)]);
}

/// A connection refused: retried (nothing reached the service), then a typed connect error.
#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    let client = client_with(
        ClientConfig::new(CANARY)
            .with_validation(
                nanobanana_rules::Options::at(
                    nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                )
                .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
            )
            .with_base_url(format!("http://127.0.0.1:{}", closed_port()))
            .with_retry_policy(quick_retries()),
    );
    let error = client.generate_content(PRO, &request()).await.unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Connect), "{error:?}");
    assert!(error.is_retryable());
    assert!(!error.is_timeout());
    assert!(
        error.to_string().ends_with("(gave up after 3 attempts)"),
        "{error}"
    );
    assert_no_canary(&error);
}

// ---------------------------------------------------------------------------------------------
// Streams (WIRE.md "Streaming").

/// A stream cut off inside an event is an error, never a silent end; not retried.
#[tokio::test]
async fn a_truncated_stream_is_an_error_never_a_silent_end() {
    for events in [0, 1, 2] {
        let server = simulator().await;
        fault_on(
            &server,
            Endpoint::StreamGenerateContent,
            Fault::truncate_after(events),
            None,
        )
        .await;
        let (chunks, error) = drain(client(&server).stream_generate_content(PRO, &request())).await;
        assert_eq!(chunks.len(), events, "whole events before the cut");
        let error = error.expect("the cut is reported");
        assert!(matches!(error.kind(), ErrorKind::Truncated), "{error:?}");
        assert!(!error.is_retryable());
        assert_eq!(journal(&server), [stream_line(200)], "not retried");
    }
}

/// WIRE.md "Streaming": an `{"error": ...}` event after the first chunk is a typed error that
/// carries the service's code, status and message; not retried (the caller has seen a chunk).
#[tokio::test]
async fn an_error_event_mid_stream_is_a_typed_error() {
    for status in [503, 500, 429] {
        let server = simulator().await;
        fault_on(
            &server,
            Endpoint::StreamGenerateContent,
            Fault::error_after(1).with_status(status),
            None,
        )
        .await;
        let (chunks, error) = drain(client(&server).stream_generate_content(PRO, &request())).await;
        assert_eq!(chunks.len(), 1);
        let error = error.expect("the error event is reported");
        let api = error.api_error().expect("the service's error");
        assert!(api.is_mid_stream());
        assert_eq!(error.status(), Some(status));
        assert_eq!(api.code(), Some(i64::from(status)));
        assert_eq!(
            api.message(),
            "The model is overloaded. Please try again later."
        );
        assert_eq!(
            journal(&server),
            [stream_line(200)],
            "{status}: not retried"
        );
    }
}

/// Streams retry only before the first event: an error answer, a reset, or an error event
/// that comes first are retried; after the first chunk nothing is.
#[tokio::test]
async fn streams_retry_only_before_the_first_event() {
    let before_any_event = [
        (Fault::status(503), 503),
        (Fault::reset_after(0), 0),
        (Fault::error_after(0), 200),
    ];
    for (fault, first_status) in before_any_event {
        let server = simulator().await;
        fault_on(
            &server,
            Endpoint::StreamGenerateContent,
            fault.clone(),
            Some(1),
        )
        .await;
        let (chunks, error) = drain(client(&server).stream_generate_content(PRO, &request())).await;
        assert!(error.is_none(), "{fault:?}: {error:?}");
        assert!(chunks.len() >= 3);
        assert_eq!(
            journal(&server),
            [stream_line(first_status), stream_line(200)],
            "{fault:?}"
        );
    }

    // A reset just after the first event: the first chunk arrives, the break is final.
    let server = simulator().await;
    let first_event = first_event_len(&server).await;
    fault_on(
        &server,
        Endpoint::StreamGenerateContent,
        Fault::reset_after(first_event as u64 + 10),
        None,
    )
    .await;
    let (chunks, error) = drain(client(&server).stream_generate_content(PRO, &request())).await;
    assert_eq!(chunks.len(), 1);
    let error = error.unwrap();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::Transport {
                after_response: true
            }
        ),
        "{error:?}"
    );
    assert_eq!(journal(&server), [stream_line(200), stream_line(200)]);
}

/// The length of the first event of `request()`'s stream, as the server frames it (read with a
/// plain HTTP client, so it is in the journal once).
async fn first_event_len(server: &MockGemini) -> usize {
    let body = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}{}?alt=sse", server.uri(), stream_path(PRO)))
        .header("x-goog-api-key", CANARY)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&request()).unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    body.windows(2).position(|w| w == b"\n\n").unwrap() + 2
}

/// A 200 answer to a stream that is not an event stream (say, the JSON array the service sends
/// without `alt=sse`, from a proxy that dropped the query) is a protocol error naming what came.
#[tokio::test]
async fn a_json_answer_to_a_stream_is_a_protocol_error() {
    let server = simulator().await;
    Mock::any()
        .endpoint(Endpoint::StreamGenerateContent)
        .respond_json(200, json!([{"candidates": []}]))
        .mount(&server)
        .await;
    let (chunks, error) = drain(client(&server).stream_generate_content(PRO, &request())).await;
    assert!(chunks.is_empty());
    let error = error.unwrap();
    assert!(matches!(error.kind(), ErrorKind::Protocol), "{error:?}");
    assert!(
        error.to_string().ends_with(
            "expected an event stream (text/event-stream), got application/json; charset=UTF-8"
        ),
        "{error}"
    );
    assert_eq!(journal(&server), [stream_line(200)]);
}

// ---------------------------------------------------------------------------------------------
// Timeouts.

/// A delay before the answer's head beyond the request timeout is a timeout; timeouts are not
/// retried (the service has the request and may still be working on it), so exactly one
/// request reached the server.
#[tokio::test]
async fn a_delay_beyond_the_timeout_is_a_timeout_and_not_retried() {
    let server = simulator().await;
    let guard = Mock::any()
        .endpoint(Endpoint::GenerateContent)
        .fault(Fault::delay(Duration::from_secs(30)))
        .mount_as_scoped(&server)
        .await;
    let client = client_with(config(&server).with_timeout(Duration::from_millis(300)));
    let started = std::time::Instant::now();
    let error = client.generate_content(PRO, &request()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(error.is_timeout(), "{error:?}");
    assert!(matches!(error.kind(), ErrorKind::Timeout));
    assert!(!error.is_retryable());
    assert_eq!(
        error.to_string(),
        format!(
            "request timed out (POST {}): no answer within 300ms",
            generate_path(PRO)
        )
    );
    assert_eq!(guard.received(), 1, "one attempt");
    assert_no_canary(&error);
}

/// A stream's timeout bounds the wait for its head, then each wait for the next chunk: a
/// stream that stalls after its first chunk fails with a timeout, not retried.
#[tokio::test]
async fn a_stalled_stream_times_out() {
    let server = simulator().await;
    let guard = Mock::any()
        .endpoint(Endpoint::StreamGenerateContent)
        .fault(Fault::delay(Duration::from_secs(30)))
        .mount_as_scoped(&server)
        .await;
    let client = client_with(config(&server).with_timeout(Duration::from_millis(300)));
    let (chunks, error) = drain(client.stream_generate_content(PRO, &request())).await;
    assert!(chunks.is_empty());
    assert!(error.unwrap().is_timeout());
    assert_eq!(guard.received(), 1);
    drop(guard);

    let guard = Mock::any()
        .endpoint(Endpoint::StreamGenerateContent)
        .fault(Fault::event_delay(Duration::from_secs(30)))
        .mount_as_scoped(&server)
        .await;
    let (chunks, error) = drain(client.stream_generate_content(PRO, &request())).await;
    assert_eq!(chunks.len(), 1, "the first chunk is not delayed");
    let error = error.unwrap();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(guard.received(), 1);
}

// ---------------------------------------------------------------------------------------------
// Pre-flight refusals (SPEC.md §2, §4).

fn lowercase_size() -> GenerateContentRequest {
    image_request("A banana", Some("16:9"), Some("1k"))
}

fn unsupported_ratio() -> GenerateContentRequest {
    image_request("A banana", Some("8:1"), Some("2K"))
}

/// A second turn that sends the first model turn back without its signatures.
fn unsigned_history() -> GenerateContentRequest {
    let png = nanobanana_mock::image::render(
        nanobanana_mock::image::ImageFormat::Png,
        nanobanana_mock::image::Style::Final,
        64,
        64,
        b"unsigned",
    )
    .unwrap();
    image_request("x", None, None).with_contents([
        Content::user([Part::from_text("A fox logo")]),
        Content::model([
            Part::from_text("Here is your logo."),
            Part::from_bytes("image/png", png),
        ]),
        Content::user([Part::from_text("Make it blue")]),
    ])
}

/// Requests the service would reject are refused locally with the rules' ids and messages, and
/// nothing reaches the server; with `skip_validation` they are sent, and the server answers
/// with the same message.
#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    let cases = [
        (lowercase_size(), Rule::ImageSizeCasing),
        (unsupported_ratio(), Rule::AspectRatioSupported),
        (unsigned_history(), Rule::SignatureCirculation),
    ];
    for (request, rule) in cases {
        let server = simulator().await;
        let client = client(&server);
        // The early-2026 service these tests' servers and clients are pinned to.
        let early = Options::at(Date::new(2026, 3, 1).expect("a date"));
        let report = validate_request_with(PRO, &request, &early);
        let expected = report.first_error().unwrap();
        assert_eq!(expected.rule(), rule);

        let error = client.generate_content(PRO, &request).await.unwrap_err();
        let refused = error.validation_report().expect("a refusal");
        assert_eq!(refused.first_error().unwrap().rule(), rule);
        let more = match report.errors().count() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        assert_eq!(
            error.to_string(),
            format!(
                "request refused before sending: [{}] {}{more}",
                rule.id(),
                expected.message()
            )
        );
        assert!(!error.is_retryable());
        assert_eq!(error.status(), None);
        let (chunks, stream_error) = drain(client.stream_generate_content(PRO, &request)).await;
        assert!(chunks.is_empty());
        assert!(stream_error.unwrap().validation_report().is_some());
        let batch = client
            .batches()
            .create_inline(
                PRO,
                "refused",
                [InlinedRequest::new().with_request(request.clone())],
            )
            .await
            .unwrap_err();
        assert!(batch.to_string().contains("inline request 0"), "{batch}");
        assert!(encode_jsonl(PRO, [("a", &request)]).is_err());
        assert!(
            server.received_requests().is_empty(),
            "{rule:?}: nothing was sent: {:?}",
            journal(&server)
        );

        let options = RequestOptions::new().skip_validation();
        let error = client
            .generate_content_with(PRO, &request, &options)
            .await
            .unwrap_err();
        let api = error.api_error().expect("the server's answer");
        assert_eq!(api.http_status(), 400);
        assert_eq!(api.status(), Some("INVALID_ARGUMENT"));
        assert_eq!(api.message(), expected.message(), "{rule:?}");
        assert_eq!(journal(&server), [generate_line(400)]);
    }
}

// ---------------------------------------------------------------------------------------------
// What a user reads.

/// The `Display` of the error of each failure, as a user sees it. Nothing volatile is in these
/// texts (paths, not URLs; the durations are the configured ones); the key never is.
#[tokio::test]
async fn the_errors_a_user_sees_read_well() {
    let mut out = String::new();
    let mut show = |label: &str, error: Error| {
        assert_no_canary(&error);
        out.push_str(&format!("{label}:\n    {error}\n"));
    };

    let server = simulator().await;
    fault_on(&server, Endpoint::GenerateContent, Fault::status(429), None).await;
    let none = client_with(config(&server).with_retry_policy(RetryPolicy::none()));
    show(
        "429 rate limited (retries off)",
        none.generate_content(PRO, &request()).await.unwrap_err(),
    );

    show(
        "429 rate limited (after retries, the wait capped at 20ms)",
        client(&server)
            .generate_content(PRO, &request())
            .await
            .unwrap_err(),
    );

    let server = simulator().await;
    fault_on(&server, Endpoint::GenerateContent, Fault::status(503), None).await;
    show(
        "503 after exhausted retries",
        client(&server)
            .generate_content(PRO, &request())
            .await
            .unwrap_err(),
    );

    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::GenerateContent,
        Fault::delay(Duration::from_secs(30)),
        None,
    )
    .await;
    show(
        "timeout",
        client_with(config(&server).with_timeout(Duration::from_millis(250)))
            .generate_content(PRO, &request())
            .await
            .unwrap_err(),
    );

    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::GenerateContent,
        Fault::reset_after(0),
        None,
    )
    .await;
    show(
        "reset before the answer (after retries)",
        client(&server)
            .generate_content(PRO, &request())
            .await
            .unwrap_err(),
    );

    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::GenerateContent,
        Fault::reset_after(64),
        None,
    )
    .await;
    show(
        "reset in the middle of the answer",
        client(&server)
            .generate_content(PRO, &request())
            .await
            .unwrap_err(),
    );

    show(
        "connection refused (after retries)",
        client_with(
            ClientConfig::new(CANARY)
                .with_validation(
                    nanobanana_rules::Options::at(
                        nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                    )
                    .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
                )
                .with_base_url(format!("http://127.0.0.1:{}", closed_port()))
                .with_retry_policy(quick_retries()),
        )
        .generate_content(PRO, &request())
        .await
        .unwrap_err(),
    );

    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::StreamGenerateContent,
        Fault::truncate_after(1),
        None,
    )
    .await;
    let (_, error) = drain(client(&server).stream_generate_content(PRO, &request())).await;
    show("truncated stream", error.unwrap());

    let server = simulator().await;
    fault_on(
        &server,
        Endpoint::StreamGenerateContent,
        Fault::error_after(1),
        None,
    )
    .await;
    let (_, error) = drain(client(&server).stream_generate_content(PRO, &request())).await;
    show("error event in the middle of a stream", error.unwrap());

    let server = simulator().await;
    Mock::any()
        .endpoint(Endpoint::StreamGenerateContent)
        .respond_json(200, json!([{"candidates": []}]))
        .mount(&server)
        .await;
    let (_, error) = drain(client(&server).stream_generate_content(PRO, &request())).await;
    show("JSON instead of an event stream", error.unwrap());

    let server = simulator().await;
    show(
        "pre-flight refusal: image size",
        client(&server)
            .generate_content(PRO, &lowercase_size())
            .await
            .unwrap_err(),
    );
    show(
        "pre-flight refusal: aspect ratio",
        client(&server)
            .generate_content(PRO, &unsupported_ratio())
            .await
            .unwrap_err(),
    );
    show(
        "pre-flight refusal: unsigned model turn",
        client(&server)
            .generate_content(PRO, &unsigned_history())
            .await
            .unwrap_err(),
    );

    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .api_key("the-right-key-0123456789")
        .start()
        .await;
    show(
        "invalid API key",
        client(&server)
            .generate_content(PRO, &request())
            .await
            .unwrap_err(),
    );
    let keyless = client_with(
        ClientConfig::new("")
            .with_validation(
                nanobanana_rules::Options::at(
                    nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                )
                .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
            )
            .with_base_url(server.uri())
            .with_retry_policy(RetryPolicy::none()),
    );
    show("no API key", keyless.models().get(PRO).await.unwrap_err());

    let server = simulator().await;
    let mut tampered = unsigned_history();
    tampered.contents[1].parts[0].thought_signature = Some(Base64Bytes::new(b"forged".to_vec()));
    tampered.contents[1].parts[1].thought_signature = Some(Base64Bytes::new(b"forged".to_vec()));
    show(
        "forged thought signature",
        client(&server)
            .generate_content(PRO, &tampered)
            .await
            .unwrap_err(),
    );
    show(
        "unknown model",
        client(&server)
            .models()
            .get("gemini-0-banana-image")
            .await
            .unwrap_err(),
    );

    insta::assert_snapshot!("errors_a_user_sees", out);
}
