//! Faults, each through a mounted [`Mock`] and through the `x-nanobanana-fault` header: error
//! statuses, "fail then succeed", delays, connection resets, broken streams, unusual outcomes;
//! plus mock expectations.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use common::*;
use nanobanana_mock::{
    Endpoint, FAULT_HEADER, Fault, IMAGE_FORMAT_HEADER, MODE_HEADER, Mock, MockGemini, OutcomeKind,
};
use serde_json::{Value, json};

/// How a fault reaches the server.
#[derive(Clone, Copy, Debug)]
enum Via {
    Mock,
    Header,
}

const BOTH: [Via; 2] = [Via::Mock, Via::Header];

/// A server with `fault` mounted for the generate endpoints (via a mock) or nothing mounted (via
/// the header); the headers to send with each request.
async fn setup(via: Via, fault: Fault, header: &str) -> (MockGemini, Vec<(&'static str, String)>) {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    match via {
        Via::Mock => {
            // generateContent and streamGenerateContent, not the other endpoints.
            Mock::any()
                .path_contains("enerateContent")
                .fault(fault)
                .mount(&server)
                .await;
            (server, Vec::new())
        }
        Via::Header => (server, vec![(FAULT_HEADER, header.to_owned())]),
    }
}

async fn post(server: &MockGemini, path: &str, body: &Value, headers: &[(&str, String)]) -> Answer {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_json_with(server, path, body, &headers).await
}

fn request() -> Value {
    image_request(
        "A nano banana dish in a fancy restaurant with a Gemini theme",
        &["TEXT", "IMAGE"],
        None,
        None,
    )
}

const QUOTA: &str = "You exceeded your current quota, please check your plan and billing details.";

fn check_quota_error(answer: &Answer, retry_delay: &str) {
    answer.assert_error(429, "RESOURCE_EXHAUSTED", QUOTA);
    let details = answer.json()["error"]["details"].clone();
    let of_type = |t: &str| {
        details
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["@type"] == json!(format!("type.googleapis.com/google.rpc.{t}")))
            .cloned()
            .unwrap_or_else(|| panic!("no {t} in {details}"))
    };
    assert_eq!(of_type("RetryInfo")["retryDelay"], json!(retry_delay));
    let violation = &of_type("QuotaFailure")["violations"][0];
    assert_eq!(
        violation["quotaDimensions"]["model"],
        "gemini-3.1-flash-image"
    );
    assert!(violation["quotaId"].is_string() && violation["quotaMetric"].is_string());
    assert!(of_type("Help")["links"][0]["url"].is_string());
}

#[tokio::test]
async fn status_429_carries_retry_info_quota_failure_and_retry_after() {
    for via in BOTH {
        let fault = Fault::status(429)
            .with_retry_delay(Duration::from_secs(2))
            .with_retry_after(2);
        let (server, headers) =
            setup(via, fault, "status=429; retry-delay=2s; retry-after=2").await;
        let answer = post(&server, &generate_path(FLASH31), &request(), &headers).await;
        check_quota_error(&answer, "2s");
        assert_eq!(answer.header("retry-after"), Some("2"), "{via:?}");
    }
    // The defaults: the service's 34s, no Retry-After.
    let (server, headers) = setup(Via::Header, Fault::none(), "status=429").await;
    let answer = post(&server, &generate_path(FLASH31), &request(), &headers).await;
    check_quota_error(&answer, "34s");
    assert_eq!(answer.header("retry-after"), None);
}

#[tokio::test]
async fn status_500_and_503_carry_the_service_texts() {
    let cases = [
        (
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        ),
        (
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
        ),
    ];
    for via in BOTH {
        for (code, status, message) in cases {
            let (server, headers) =
                setup(via, Fault::status(code), &format!("status={code}")).await;
            for path in [generate_path(PRO), stream_path(PRO)] {
                post(&server, &path, &request(), &headers)
                    .await
                    .assert_error(code, status, message);
            }
        }
    }
}

#[tokio::test]
async fn times_1_fails_once_then_succeeds() {
    // Header: counted per exact header value.
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let headers = [(FAULT_HEADER, "status=503; times=1".to_owned())];
    let path = generate_path(FLASH31);
    assert_eq!(post(&server, &path, &request(), &headers).await.status, 503);
    assert_eq!(post(&server, &path, &request(), &headers).await.status, 200);
    assert_eq!(post(&server, &path, &request(), &headers).await.status, 200);
    // Another header value has its own count.
    let other = [(FAULT_HEADER, "status=429; times=2".to_owned())];
    assert_eq!(post(&server, &path, &request(), &other).await.status, 429);
    assert_eq!(post(&server, &path, &request(), &other).await.status, 429);
    assert_eq!(post(&server, &path, &request(), &other).await.status, 200);

    // Mock: up_to_n_times(1), with its expectation met on drop.
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    Mock::any()
        .endpoint(Endpoint::GenerateContent)
        .fault(Fault::status(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(post(&server, &path, &request(), &[]).await.status, 503);
    assert_eq!(post(&server, &path, &request(), &[]).await.status, 200);
    assert_eq!(post(&server, &path, &request(), &[]).await.status, 200);
    server.verify();
}

#[tokio::test]
async fn delay_before_headers_still_completes() {
    let delay = Duration::from_millis(60);
    for via in BOTH {
        let (server, headers) = setup(via, Fault::delay(delay), "delay=60ms").await;
        let started = Instant::now();
        let answer = post(&server, &generate_path(FLASH25), &request(), &headers).await;
        assert!(
            started.elapsed() >= delay,
            "{via:?}: {:?}",
            started.elapsed()
        );
        assert_eq!(answer.status, 200);
        assert_eq!(final_images(&answer.json()).len(), 1);
    }
}

#[tokio::test]
async fn event_delay_spaces_the_events_and_the_stream_completes() {
    let delay = Duration::from_millis(15);
    for via in BOTH {
        let (server, headers) = setup(via, Fault::event_delay(delay), "event-delay=15ms").await;
        let started = Instant::now();
        let answer = post(&server, &stream_path(FLASH31), &request(), &headers).await;
        let elapsed = started.elapsed();
        let events = answer.events();
        assert!(events.len() >= 3);
        assert!(
            elapsed >= delay * (events.len() as u32 - 1),
            "{via:?}: {elapsed:?} for {} events",
            events.len()
        );
        assert_eq!(
            events.last().unwrap()["candidates"][0]["finishReason"],
            "STOP"
        );
    }
}

#[tokio::test]
async fn reset_after_0_closes_the_connection_without_an_answer() {
    for via in BOTH {
        let (server, headers) = setup(via, Fault::reset_after(0), "reset-after=0").await;
        for path in [generate_path(FLASH31), stream_path(FLASH31)] {
            let mut request = client()
                .post(url(&server, &path))
                .header("x-goog-api-key", KEY)
                .body(request().to_string());
            for (name, value) in &headers {
                request = request.header(*name, value);
            }
            let error = request.send().await.expect_err("no answer after a reset");
            assert!(!error.is_status(), "{error}");
        }
        // The journal records the resets as status 0, and the server keeps serving.
        let journal = server.received_requests();
        assert_eq!(journal.len(), 2);
        assert!(journal.iter().all(|r| r.status() == 0));
        assert_eq!(get(&server, "/v1beta/models").await.status, 200);
    }
}

/// Sends a request whose body is cut by a reset; returns the status and the body read error.
async fn read_cut_body(
    server: &MockGemini,
    path: &str,
    headers: &[(&str, String)],
) -> (u16, String) {
    let mut request = client()
        .post(url(server, path))
        .header("x-goog-api-key", KEY)
        .body(request().to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("the headers arrive");
    let status = response.status().as_u16();
    let error = response
        .bytes()
        .await
        .expect_err("the body is cut by a reset");
    (status, error.to_string())
}

#[tokio::test]
async fn reset_after_n_cuts_the_body() {
    for via in BOTH {
        let (server, headers) = setup(via, Fault::reset_after(100), "reset-after=100").await;
        for path in [generate_path(FLASH31), stream_path(FLASH31)] {
            let (status, error) = read_cut_body(&server, &path, &headers).await;
            assert_eq!(status, 200, "{via:?} {path}");
            assert!(!error.is_empty());
        }
    }
    // One byte short of the whole answer is still a cut body.
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let ok = post(&server, &generate_path(FLASH31), &request(), &[]).await;
    let headers = [(FAULT_HEADER, format!("reset-after={}", ok.body.len() - 1))];
    let (status, _) = read_cut_body(&server, &generate_path(FLASH31), &headers).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn truncate_after_ends_the_stream_inside_an_event() {
    for via in BOTH {
        let (server, headers) = setup(via, Fault::truncate_after(1), "truncate-after=1").await;
        // The first event is the one a server without faults sends.
        let whole_events = stream(
            &MockGemini::builder()
                .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
                .start()
                .await,
            FLASH31,
            &request(),
        )
        .await
        .events();
        let answer = post(&server, &stream_path(FLASH31), &request(), &headers).await;
        assert_eq!(answer.status, 200);
        assert!(
            !answer.body.ends_with(b"\n\n"),
            "{via:?}: the last chunk does not end with a blank line"
        );
        let (events, rest) = sse_split(&answer.body);
        assert_eq!(events.len(), 1, "one whole event");
        assert_eq!(events[0], whole_events[0]);
        assert!(rest.starts_with(b"data: {"), "then half of the next one");
        assert!(serde_json::from_slice::<Value>(&rest[6..]).is_err());
    }
}

#[tokio::test]
async fn error_after_sends_an_error_event_and_ends() {
    for via in BOTH {
        let (server, headers) = setup(via, Fault::error_after(1), "error-after=1").await;
        let answer = post(&server, &stream_path(FLASH31), &request(), &headers).await;
        assert_eq!(answer.status, 200, "the status is already sent");
        let events = answer.events();
        assert_eq!(events.len(), 2, "{via:?}");
        assert!(events[0]["candidates"].is_array());
        assert_eq!(
            events[1],
            json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}})
        );
    }
    // With a status: that error, here before any event.
    let (server, headers) = setup(Via::Header, Fault::none(), "error-after=0; status=500").await;
    let events = post(&server, &stream_path(FLASH31), &request(), &headers)
        .await
        .events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["error"]["code"], 500);
    assert_eq!(events[0]["error"]["status"], "INTERNAL");
    // After more events than the stream has: the whole stream, then the error.
    let (server, headers) = setup(Via::Header, Fault::none(), "error-after=1000").await;
    let events = post(&server, &stream_path(FLASH31), &request(), &headers)
        .await
        .events();
    assert_eq!(
        events[events.len() - 2]["candidates"][0]["finishReason"],
        "STOP"
    );
    assert_eq!(events.last().unwrap()["error"]["code"], 503);
}

/// Checks the shape of an outcome (WIRE.md "Response details").
fn check_outcome(outcome: OutcomeKind, body: &Value) {
    let candidate = &body["candidates"][0];
    match outcome {
        OutcomeKind::NoImage => {
            assert_eq!(candidate["finishReason"], "NO_IMAGE");
            assert_eq!(candidate["content"], json!({}));
        }
        OutcomeKind::ImageSafety => {
            assert_eq!(candidate["finishReason"], "IMAGE_SAFETY");
            assert!(
                candidate
                    .get("content")
                    .is_none_or(|c| c.get("parts").is_none())
            );
        }
        OutcomeKind::ImageProhibitedContent => {
            assert_eq!(candidate["finishReason"], "IMAGE_PROHIBITED_CONTENT");
            assert!(
                candidate["finishMessage"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
            assert_eq!(candidate["content"], json!({"role": "model"}));
        }
        OutcomeKind::ImageRecitation => {
            assert_eq!(candidate["finishReason"], "IMAGE_RECITATION");
            assert!(candidate["content"].get("parts").is_none());
        }
        OutcomeKind::BlockedPrompt => {
            assert!(body.get("candidates").is_none(), "no candidates at all");
            assert_eq!(body["promptFeedback"]["blockReason"], "PROHIBITED_CONTENT");
            assert!(body["promptFeedback"]["blockReasonMessage"].is_string());
            assert!(body["usageMetadata"]["promptTokenCount"].is_u64());
        }
        OutcomeKind::TextOnly => {
            assert_eq!(candidate["finishReason"], "STOP");
            let parts = parts(body);
            assert!(!parts.is_empty());
            assert!(
                parts
                    .iter()
                    .all(|p| p["text"].is_string() && p.get("inlineData").is_none())
            );
            assert!(
                parts[0]["thoughtSignature"].is_string(),
                "first part signed"
            );
        }
        OutcomeKind::MissingThoughtSignature => {
            assert_eq!(candidate["finishReason"], "MISSING_THOUGHT_SIGNATURE");
            assert!(
                candidate["finishMessage"]
                    .as_str()
                    .is_some_and(|m| m.contains("thought signature"))
            );
            assert!(candidate.get("content").is_none());
        }
        OutcomeKind::Images => {
            assert_eq!(candidate["finishReason"], "STOP");
            assert!(!images(&parts(body)).is_empty());
        }
        OutcomeKind::Stopped => {
            assert_eq!(candidate["finishReason"], "OTHER");
            assert!(candidate.get("content").is_none());
        }
        OutcomeKind::Empty => {
            assert_eq!(candidate["finishReason"], "STOP");
            assert_eq!(candidate["content"], json!({"role": "model"}));
        }
        other => panic!("untested outcome {other:?}"),
    }
    if !matches!(outcome, OutcomeKind::TextOnly | OutcomeKind::Images) {
        assert!(images(&parts(body)).is_empty());
    }
    // The client's classification (the rules crate's) reads it back as the kind asked for.
    let response: nanobanana_wire::GenerateContentResponse =
        serde_json::from_value(body.clone()).expect("a response");
    assert_eq!(nanobanana_rules::Outcome::of(&response).kind(), outcome);
}

#[tokio::test]
async fn every_outcome_has_the_documented_shape() {
    for via in BOTH {
        for &outcome in OutcomeKind::ALL {
            let (server, headers) = setup(
                via,
                Fault::outcome(outcome),
                &format!("outcome={}", outcome.as_str()),
            )
            .await;
            let answer = post(&server, &generate_path(FLASH31), &request(), &headers).await;
            assert_eq!(answer.status, 200, "{via:?} {outcome}");
            check_outcome(outcome, &answer.json());
            // Streamed: the same outcome, ending the stream.
            let events = post(&server, &stream_path(FLASH31), &request(), &headers)
                .await
                .events();
            let last = events.last().unwrap();
            if outcome == OutcomeKind::TextOnly {
                assert_eq!(last["candidates"][0]["finishReason"], "STOP");
                assert!(images(&stream_parts(&events)).is_empty());
            } else if outcome == OutcomeKind::Images {
                assert_eq!(last["candidates"][0]["finishReason"], "STOP");
                assert!(!images(&stream_parts(&events)).is_empty());
            } else {
                assert_eq!(events.len(), 1, "{outcome}");
                check_outcome(outcome, last);
            }
        }
    }
}

#[tokio::test]
async fn a_bad_fault_header_is_400_naming_the_directive() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let path = generate_path(FLASH31);
    let cases = [
        (
            "status=abc",
            "Invalid x-nanobanana-fault directive \"status=abc\": status takes an HTTP status code.",
        ),
        (
            "delay=soon",
            "Invalid x-nanobanana-fault directive \"delay=soon\": delay takes a duration like 250ms or 2s.",
        ),
        (
            "outcome=weird",
            "Invalid x-nanobanana-fault directive \"outcome=weird\": outcome takes images, text-only, no-image, image-safety, image-prohibited-content, image-recitation, blocked-prompt, missing-thought-signature, stopped, empty.",
        ),
        (
            "times=0",
            "Invalid x-nanobanana-fault directive \"times=0\": times takes a positive count.",
        ),
    ];
    for (header, message) in cases {
        post(
            &server,
            &path,
            &request(),
            &[(FAULT_HEADER, header.to_owned())],
        )
        .await
        .assert_error(400, "INVALID_ARGUMENT", message);
    }
    let unknown = post(
        &server,
        &path,
        &request(),
        &[(FAULT_HEADER, "explode".to_owned())],
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.error_message().contains("unknown name \"explode\""),
        "{}",
        unknown.error_message()
    );
    // The other per-request headers are checked the same way.
    let mode = post(
        &server,
        &path,
        &request(),
        &[(MODE_HEADER, "chaos".to_owned())],
    )
    .await;
    assert_eq!(mode.status, 400);
    assert!(mode.error_message().contains("chaos"));
    let format = post(
        &server,
        &path,
        &request(),
        &[(IMAGE_FORMAT_HEADER, "gif".to_owned())],
    )
    .await;
    assert_eq!(format.status, 400);
    assert!(format.error_message().contains("\"gif\""));
    // An empty fault header changes nothing.
    let empty = post(&server, &path, &request(), &[(FAULT_HEADER, String::new())]).await;
    assert_eq!(empty.status, 200);
}

#[tokio::test]
async fn a_server_wide_fault_applies_to_every_request() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .fault(Fault::status(503))
        .start()
        .await;
    assert_eq!(generate(&server, FLASH31, &request()).await.status, 503);
    assert_eq!(get(&server, "/v1beta/models").await.status, 503);
    // A header adds to it.
    let answer = post(
        &server,
        &generate_path(FLASH31),
        &request(),
        &[(FAULT_HEADER, "status=429".to_owned())],
    )
    .await;
    assert_eq!(answer.status, 429);
}

#[tokio::test]
async fn mocks_match_only_their_requests() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let _pro = Mock::any()
        .model(&format!("models/{PRO}"))
        .fault(Fault::status(500))
        .mount_as_scoped(&server)
        .await;
    let _header = Mock::any()
        .header("X-Tenant", "blue")
        .fault(Fault::status(429))
        .mount_as_scoped(&server)
        .await;
    let _body = Mock::any()
        .method("post")
        .body_contains("teapot")
        .respond_json(
            418,
            json!({"error": {"code": 418, "message": "short and stout"}}),
        )
        .mount_as_scoped(&server)
        .await;
    let _path = Mock::any()
        .path_contains("/files")
        .endpoint(Endpoint::FileList)
        .respond_json(200, json!({"files": [{"name": "files/fake"}]}))
        .mount_as_scoped(&server)
        .await;

    assert_eq!(generate(&server, PRO, &request()).await.status, 500);
    assert_eq!(generate(&server, FLASH31, &request()).await.status, 200);
    let blue = post(
        &server,
        &generate_path(FLASH31),
        &request(),
        &[("x-tenant", "blue".to_owned())],
    )
    .await;
    assert_eq!(blue.status, 429);
    let teapot = generate(&server, FLASH31, &prompt("a teapot")).await;
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.json()["error"]["message"], "short and stout");
    assert_eq!(
        get(&server, "/v1beta/files").await.json(),
        json!({"files": [{"name": "files/fake"}]})
    );
    assert_eq!(get(&server, "/v1beta/files/x").await.status, 403);
}

#[tokio::test]
async fn a_failed_expectation_is_reported_by_verify_and_the_scoped_guard() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let guard = Mock::any()
        .endpoint(Endpoint::GenerateContent)
        .expect(2)
        .named("two generations")
        .mount_as_scoped(&server)
        .await;
    assert_eq!(generate(&server, FLASH25, &request()).await.status, 200);
    assert_eq!(get(&server, "/v1beta/models").await.status, 200);
    assert_eq!(guard.received(), 1, "the models request does not match");

    let verify = catch_unwind(AssertUnwindSafe(|| server.verify()));
    let message = panic_message(&*verify.expect_err("verify fails"));
    assert!(
        message.contains(
            "mock \"two generations\" expected exactly 2 matching request(s), received 1"
        ),
        "{message}"
    );
    assert!(
        message.contains("The server received 2 request(s)"),
        "{message}"
    );

    let dropped = catch_unwind(AssertUnwindSafe(move || drop(guard)));
    let message = panic_message(&*dropped.expect_err("the guard's drop fails"));
    assert!(message.contains("expected exactly 2"), "{message}");
    // Unmounted by the drop: nothing left to fail.
    server.verify();
}

#[tokio::test]
async fn met_expectations_pass_and_ranges_work() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    Mock::any()
        .endpoint(Endpoint::ModelList)
        .expect(1..)
        .mount(&server)
        .await;
    let guard = Mock::any()
        .endpoint(Endpoint::ModelGet)
        .expect(..=1)
        .mount_as_scoped(&server)
        .await;
    get(&server, "/v1beta/models").await;
    get(&server, "/v1beta/models").await;
    get(&server, &format!("/v1beta/models/{PRO}")).await;
    assert_eq!(guard.received(), 1);
    server.verify();
    drop(guard);
    drop(server);
}

#[tokio::test]
async fn an_unmet_mounted_expectation_fails_when_the_server_is_dropped() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    Mock::any()
        .endpoint(Endpoint::BatchCreate)
        .expect(1)
        .mount(&server)
        .await;
    generate(&server, FLASH25, &request()).await;
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(server)));
    let message = panic_message(&*dropped.expect_err("drop verifies"));
    assert!(
        message.contains("endpoint BatchCreate") && message.contains("received 0"),
        "{message}"
    );
}
