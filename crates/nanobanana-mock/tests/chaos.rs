//! Chaos and quotas over HTTP: seeded faults replayed identically for the same seed, each kind
//! of drawn fault as a client meets it, delays, explicit faults winning; per-model rate limits
//! answered with the service's quota error (decoded with the wire types, as clients read it)
//! whose windows move on a manual clock, never by sleeping.

mod common;

use std::time::{Duration, Instant, UNIX_EPOCH};

use common::*;
use nanobanana_mock::chaos::{Chaos, ChaosFault, ChaosRule, Delay};
use nanobanana_mock::quota::{ManualClock, Quota, Quotas};
use nanobanana_mock::{Endpoint, FAULT_HEADER, MockGemini};
use nanobanana_wire::ErrorResponse;

/// The early-2026 service, which serves the preview ids the tests use.
fn march() -> nanobanana_rules::Date {
    nanobanana_rules::Date::new(2026, 3, 1).expect("a date")
}

/// The status of a POST; 0 when no answer came, 1 when its body was cut.
async fn status_of(server: &MockGemini, path: &str, body: &serde_json::Value) -> u16 {
    let sent = client()
        .post(url(server, path))
        .header("x-goog-api-key", KEY)
        .json(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(_) => status,
                Err(_) => 1,
            }
        }
        Err(_) => 0,
    }
}

async fn run(chaos: &str, n: usize) -> Vec<u16> {
    let server = MockGemini::builder()
        .as_of(march())
        .chaos(Chaos::parse(chaos).expect("chaos"))
        .start()
        .await;
    let mut out = Vec::new();
    for i in 0..n {
        let body = prompt(&format!("a banana, take {}", i % 3));
        out.push(status_of(&server, &generate_path(FLASH31), &body).await);
    }
    out
}

#[tokio::test]
async fn the_same_seed_gives_the_same_statuses_and_another_seed_others() {
    let chaos = "seed=42; generateContent: rate=0.5, faults=503|429|500|reset|cut-body";
    let first = run(chaos, 40).await;
    assert_eq!(first, run(chaos, 40).await, "same seed, same run");
    for status in [200, 503, 429, 500, 0, 1] {
        assert!(first.contains(&status), "{status} never drawn in {first:?}");
    }
    let other = run(&chaos.replace("42", "43"), 40).await;
    assert_ne!(first, other);
}

#[tokio::test]
async fn drawn_faults_reach_only_their_endpoint_and_explicit_faults_win() {
    let server = MockGemini::builder()
        .as_of(march())
        .chaos(Chaos::seed(1).rule(
            Endpoint::GenerateContent,
            ChaosRule::rate(1.0).faults([ChaosFault::Status(503)]),
        ))
        .start()
        .await;
    let answer = generate(&server, FLASH31, &prompt("a banana")).await;
    answer.assert_error(
        503,
        "UNAVAILABLE",
        "The model is overloaded. Please try again later.",
    );
    assert_eq!(get(&server, "/v1beta/models").await.status, 200);
    let explicit = post_json_with(
        &server,
        &generate_path(FLASH31),
        &prompt("a banana"),
        &[(FAULT_HEADER, "status=500")],
    )
    .await;
    assert_eq!(explicit.status, 500);
    // The journal says what was done to each request.
    let journal = server.received_requests();
    assert_eq!(journal[0].fault(), Some("chaos 503; status=503"));
    assert_eq!(journal[1].fault(), None);
    assert_eq!(journal[2].fault(), Some("chaos 503; status=500"));
    assert!(journal.iter().all(|r| !r.replayed()));
}

#[tokio::test]
async fn streams_are_truncated_or_broken_and_outcomes_drawn() {
    let server = MockGemini::builder()
        .as_of(march())
        .chaos(
            Chaos::parse("seed=5; streamGenerateContent: rate=1, faults=error-event")
                .expect("chaos"),
        )
        .start()
        .await;
    let answer = stream(&server, FLASH31, &prompt("a banana")).await;
    let events = answer.events();
    assert!(
        events.last().is_some_and(|e| e["error"]["code"] == 503),
        "{events:?}"
    );
    let server = MockGemini::builder()
        .as_of(march())
        .chaos(Chaos::parse("streamGenerateContent: rate=1, faults=truncate").expect("chaos"))
        .start()
        .await;
    let answer = stream(&server, FLASH31, &prompt("a banana")).await;
    let (_, rest) = sse_split(&answer.body);
    assert!(!rest.is_empty(), "the stream ends inside an event");
    let server = MockGemini::builder()
        .as_of(march())
        .chaos(Chaos::parse("generateContent: rate=1, faults=no-image").expect("chaos"))
        .start()
        .await;
    let answer = generate(&server, FLASH31, &prompt("a banana")).await;
    assert_eq!(
        answer.json()["candidates"][0]["finishReason"],
        "NO_IMAGE",
        "{}",
        answer.text_head()
    );
}

#[tokio::test]
async fn delays_are_drawn_for_every_answer_of_the_endpoint() {
    let server = MockGemini::builder()
        .as_of(march())
        .chaos(Chaos::seed(0).rule(
            Endpoint::ModelList,
            ChaosRule::delay_only(Delay::Uniform(
                Duration::from_millis(40),
                Duration::from_millis(60),
            )),
        ))
        .start()
        .await;
    let started = Instant::now();
    assert_eq!(get(&server, "/v1beta/models").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(40));
    let journal = server.received_requests();
    assert!(journal[0].latency() >= Duration::from_millis(40));
    let fault = journal[0].fault().unwrap_or_default();
    assert!(
        fault.starts_with("chaos delay ") && fault.contains("; delay="),
        "{fault}"
    );
}

fn quota_error(answer: &Answer) -> nanobanana_wire::Status {
    assert_eq!(answer.status, 429, "{}", answer.text_head());
    let decoded: ErrorResponse = serde_json::from_slice(&answer.body).expect("the error decodes");
    decoded.error.expect("an error object")
}

fn clock() -> ManualClock {
    // 2027-01-15T08:00:00Z: midnight Pacific Standard Time.
    ManualClock::at(UNIX_EPOCH + Duration::from_secs(1_800_000_000))
}

#[tokio::test]
async fn requests_per_minute_answer_the_quota_error_until_the_window_moves() {
    let clock = clock();
    let server = MockGemini::builder()
        .as_of(march())
        .quotas(Quotas::parse(&format!("{FLASH31}: rpm=2, rpd=100")).expect("quotas"))
        .clock(clock.clone())
        .start()
        .await;
    assert_eq!(generate(&server, FLASH31, &prompt("one")).await.status, 200);
    clock.advance(Duration::from_secs(15));
    assert_eq!(generate(&server, FLASH31, &prompt("two")).await.status, 200);
    clock.advance(Duration::from_secs(5));
    let refused = generate(&server, FLASH31, &prompt("three")).await;
    let journalled = server.received_requests();
    assert_eq!(journalled[2].status(), 429);
    assert_eq!(journalled[2].fault(), Some("quota exceeded"));
    let error = quota_error(&refused);
    assert_eq!(error.status.as_deref(), Some("RESOURCE_EXHAUSTED"));
    let message = error.message.clone().unwrap_or_default();
    assert!(
        message.starts_with(
            "You exceeded your current quota, please check your plan and billing details."
        ) && message.contains("limit: 2, model: gemini-3.1-flash-image-preview"),
        "{message}"
    );
    let types: Vec<&str> = error
        .details
        .iter()
        .filter_map(|d| d.type_url.as_deref())
        .collect();
    assert_eq!(
        types,
        [
            "type.googleapis.com/google.rpc.QuotaFailure",
            "type.googleapis.com/google.rpc.Help",
            "type.googleapis.com/google.rpc.RetryInfo"
        ]
    );
    let violation = &error.details[0].violations[0];
    assert_eq!(
        violation.quota_id.as_deref(),
        Some("GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
    );
    assert_eq!(
        violation.quota_metric.as_deref(),
        Some("generativelanguage.googleapis.com/generate_content_free_tier_requests")
    );
    assert_eq!(violation.quota_value.as_deref(), Some("2"));
    let dims = violation.quota_dimensions.clone().unwrap_or_default();
    assert_eq!(dims.get("model").map(String::as_str), Some(FLASH31));
    // The first request leaves the window 60 s after it was made: 40 s from now.
    assert_eq!(error.details[2].retry_delay.as_deref(), Some("40s"));
    // The refusal did not count: 40 s on, one slot is free again.
    clock.advance(Duration::from_secs(40));
    assert_eq!(
        generate(&server, FLASH31, &prompt("four")).await.status,
        200
    );
    assert_eq!(
        generate(&server, FLASH31, &prompt("five")).await.status,
        429
    );
    // Other models are not limited; reset empties the windows.
    assert_eq!(generate(&server, PRO, &prompt("six")).await.status, 200);
    server.reset();
    assert_eq!(
        generate(&server, FLASH31, &prompt("seven")).await.status,
        200
    );
}

#[tokio::test]
async fn requests_per_day_and_tokens_per_minute_are_limited_per_model() {
    let clock = clock();
    let server = MockGemini::builder()
        .as_of(march())
        .quotas(
            Quotas::new()
                .model(FLASH31, Quota::new().rpd(2))
                .other_models(Quota::new().tpm(300)),
        )
        .clock(clock.clone())
        .start()
        .await;
    for _ in 0..2 {
        assert_eq!(generate(&server, FLASH31, &prompt("a")).await.status, 200);
    }
    clock.advance(Duration::from_secs(23 * 3600));
    let refused = generate(&server, FLASH31, &prompt("a")).await;
    let error = quota_error(&refused);
    assert_eq!(
        error.details[0].violations[0].quota_id.as_deref(),
        Some("GenerateRequestsPerDayPerProjectPerModel-FreeTier")
    );
    assert_eq!(error.details[2].retry_delay.as_deref(), Some("3600s"));
    clock.advance(Duration::from_secs(3600));
    assert_eq!(generate(&server, FLASH31, &prompt("a")).await.status, 200);

    // 800 characters: 200 input tokens; the second such request in a minute is over 300.
    let long = "banana ".repeat(114) + "ba";
    assert_eq!(generate(&server, PRO, &prompt(&long)).await.status, 200);
    let refused = generate(&server, PRO, &prompt(&long)).await;
    let error = quota_error(&refused);
    assert_eq!(
        error.details[0].violations[0].quota_id.as_deref(),
        Some("GenerateContentInputTokensPerModelPerMinute-FreeTier")
    );
    assert_eq!(generate(&server, PRO, &prompt("short")).await.status, 200);
    clock.advance(Duration::from_secs(60));
    assert_eq!(generate(&server, PRO, &prompt(&long)).await.status, 200);
}

#[tokio::test]
async fn a_request_with_an_explicit_fault_does_not_count() {
    let server = MockGemini::builder()
        .as_of(march())
        .quotas(Quotas::new().model(FLASH31, Quota::new().rpm(1)))
        .clock(clock())
        .start()
        .await;
    let faulted = post_json_with(
        &server,
        &generate_path(FLASH31),
        &prompt("a"),
        &[(FAULT_HEADER, "status=503")],
    )
    .await;
    assert_eq!(faulted.status, 503);
    assert_eq!(generate(&server, FLASH31, &prompt("a")).await.status, 200);
    assert_eq!(generate(&server, FLASH31, &prompt("a")).await.status, 429);
}
