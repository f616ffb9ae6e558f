//! Redaction canary (issue 5, "Configuration"): one unique key, used on every error path against
//! the fake server (`nanobanana-mock`), never shows in an error's `Display` or `Debug`, in the
//! `Debug` of the client and its configuration, or in anything `tracing` records, even when the
//! server echoes it back in messages, details, raw bodies or undecodable answers.
//!
//! Every test here records `tracing` output into one process-wide subscriber (set before any
//! client runs), so the log checked at the end of each test holds every test's spans and events.

mod mock_support;

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt;
use mock_support::recorder::Recorder;
use nanobanana_mock::{Endpoint, Fault, Mock, MockGemini};
use nanobanana_transport::{
    ClientConfig, Error, ErrorDetail, ErrorKind, RequestOptions, RetryPolicy,
};
use serde_json::{Value, json};

use mock_support::*;

fn recorder() -> &'static Recorder {
    static RECORDER: OnceLock<Recorder> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let recorder = Recorder::default();
        tracing::subscriber::set_global_default(recorder.clone())
            .expect("no other global subscriber");
        recorder
    })
}

/// The log holds the client's spans and retry events, and not the key.
#[track_caller]
fn assert_log_clean() {
    let log = recorder().text();
    assert!(
        log.contains("gemini.request"),
        "nothing was recorded:\n{log}"
    );
    assert!(!log.contains(CANARY), "the key is in the log:\n{log}");
    assert!(!log.contains(&CANARY[8..]), "part of the key is in the log");
}

/// Asserts the key shows nowhere in `error` and that a text the server echoed it in was
/// scrubbed (the `***` in its place).
#[track_caller]
fn assert_scrubbed(error: &Error) {
    assert_no_canary(error);
    assert!(all_texts(error).contains("***"), "{error:#?}");
}

fn echo(code: u16, status: &str) -> Value {
    json!({"error": {
        "code": code,
        "message": format!("The key {CANARY} cannot do this."),
        "status": status,
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com", "metadata": {"key": CANARY, CANARY: "as a name"}},
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
             "violations": [{"quotaId": format!("per-key-{CANARY}")}]},
            {"@type": "type.googleapis.com/google.rpc.Help",
             "links": [{"description": "Your key", "url": format!("https://example.invalid/?key={CANARY}")}]},
            {"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": format!("key={CANARY}")},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}
        ]
    }})
}

/// The server checks keys: the canary is accepted where it is the key (so it is what the client
/// sends), and another key is the service's `400 API_KEY_INVALID`; a missing key is its 403.
#[tokio::test]
async fn authentication_failures() {
    recorder();
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .api_key(CANARY)
        .start()
        .await;
    client(&server)
        .generate_content(PRO, &prompt("A banana"))
        .await
        .expect("the canary is the key this server wants");
    assert_eq!(
        server.received_requests()[0].header("x-goog-api-key"),
        Some("***"),
        "the key went in its header"
    );
    assert!(
        server.received_requests()[0].query().is_empty(),
        "never in the URL"
    );

    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .api_key("another-key-0123456789")
        .start()
        .await;
    let error = client(&server)
        .generate_content(PRO, &prompt("A banana"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.api_error().unwrap().reason(), Some("API_KEY_INVALID"));
    assert_no_canary(&error);

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
    let error = keyless
        .models()
        .list(None)
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(error.status(), Some(403));
    assert_no_canary(&error);
    assert_log_clean();
}

/// Error answers that echo the key (message, every kind of detail, a raw body) are scrubbed,
/// in the errors and in the retry warnings of the log.
#[tokio::test]
async fn echoed_keys_are_scrubbed_from_error_answers() {
    recorder();
    for (code, status) in [(429, "RESOURCE_EXHAUSTED"), (403, "PERMISSION_DENIED")] {
        let server = simulator().await;
        Mock::any()
            .endpoint(Endpoint::GenerateContent)
            .respond_json(code, echo(code, status))
            .mount(&server)
            .await;
        let error = client(&server)
            .generate_content(PRO, &prompt("A banana"))
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(code));
        assert_scrubbed(&error);
        let api = error.api_error().unwrap();
        assert_eq!(api.message(), "The key *** cannot do this.");
        assert!(!api.raw_body().contains(CANARY));
        for detail in api.details() {
            let text = format!("{detail:?}");
            assert!(!text.contains(CANARY), "{text}");
            if let ErrorDetail::ErrorInfo { metadata, .. } = detail {
                assert_eq!(metadata["key"], "***");
                assert_eq!(metadata["***"], "as a name");
            }
        }
        let expected = if code == 429 { 3 } else { 1 };
        assert_eq!(journal(&server).len(), expected, "{code}");
    }

    // A body that is not an error object is kept raw, and scrubbed.
    let server = simulator().await;
    Mock::any()
        .endpoint(Endpoint::GenerateContent)
        .respond_json(502, json!(format!("<html>bad gateway for {CANARY}</html>")))
        .mount(&server)
        .await;
    let error = client(&server)
        .generate_content(PRO, &prompt("A banana"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(502));
    assert_scrubbed(&error);
    assert!(log_has_retry_warnings());
    assert_log_clean();
}

fn log_has_retry_warnings() -> bool {
    recorder()
        .text()
        .contains("gemini request failed; retrying")
}

/// Undecodable and unexpected answers: the excerpt of a body that holds the key, a stream
/// answered with JSON, an upload start without its session URL.
#[tokio::test]
async fn decode_and_protocol_errors() {
    recorder();
    let server = simulator().await;
    Mock::any()
        .endpoint(Endpoint::GenerateContent)
        .respond_json(200, json!({"candidates": CANARY}))
        .mount(&server)
        .await;
    let error = client(&server)
        .generate_content(PRO, &prompt("A banana"))
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Decode), "{error:?}");
    assert_scrubbed(&error);

    let server = simulator().await;
    Mock::any()
        .endpoint(Endpoint::StreamGenerateContent)
        .respond_json(200, json!([{"candidates": [], "echo": CANARY}]))
        .mount(&server)
        .await;
    let first = client(&server)
        .stream_generate_content(PRO, &prompt("A banana"))
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(first.kind(), ErrorKind::Protocol), "{first:?}");
    assert_no_canary(&first);

    let server = simulator().await;
    Mock::any()
        .endpoint(Endpoint::FileUpload)
        .respond_json(200, json!({"file": {"displayName": CANARY}}))
        .mount(&server)
        .await;
    let error = client(&server)
        .files()
        .upload(b"banana".to_vec(), "text/plain", Some("named"))
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Protocol), "{error:?}");
    assert_no_canary(&error);
    assert_log_clean();
}

/// Failures on the way: timeouts, refused connections, resets before and after the first
/// byte, truncated streams and error events.
#[tokio::test]
async fn transport_failures() {
    recorder();
    let mut errors = Vec::new();

    let server = simulator().await;
    Mock::any()
        .endpoint(Endpoint::GenerateContent)
        .fault(Fault::delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let options = RequestOptions::new().with_timeout(Duration::from_millis(200));
    let error = client(&server)
        .generate_content_with(PRO, &prompt("A banana"), &options)
        .await
        .unwrap_err();
    assert!(error.is_timeout());
    errors.push(error);

    let refused = client_with(
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
    let error = refused
        .generate_content(PRO, &prompt("A banana"))
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Connect));
    errors.push(error);

    for fault in [Fault::reset_after(0), Fault::reset_after(10)] {
        let server = simulator().await;
        Mock::any()
            .endpoint(Endpoint::GenerateContent)
            .fault(fault)
            .mount(&server)
            .await;
        let error = client(&server)
            .generate_content(PRO, &prompt("A banana"))
            .await
            .unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Transport { .. }));
        errors.push(error);
    }

    for fault in [Fault::truncate_after(1), Fault::error_after(1)] {
        let server = simulator().await;
        Mock::any()
            .endpoint(Endpoint::StreamGenerateContent)
            .fault(fault)
            .mount(&server)
            .await;
        let items: Vec<_> = client(&server)
            .stream_generate_content(PRO, &prompt("A banana"))
            .collect()
            .await;
        errors.push(items.into_iter().find_map(Result::err).unwrap());
    }

    for error in &errors {
        assert_no_canary(error);
    }
    assert!(log_has_retry_warnings());
    assert_log_clean();
}

/// The client, its configuration, per-call options and a refusal print no key, plainly or
/// pretty.
#[tokio::test]
async fn debug_strings() {
    recorder();
    let server = simulator().await;
    let client = client(&server);
    let refusal = client
        .generate_content(PRO, &image_request("A banana", None, Some("1k")))
        .await
        .unwrap_err();
    let texts = [
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{:?}", client.config()),
        format!("{:#?}", client.config()),
        format!("{:?}", client.config().api_key()),
        format!("{:?}", RequestOptions::new().skip_validation()),
        all_texts(&refusal),
    ];
    for text in &texts {
        assert!(!text.contains(CANARY), "{text}");
    }
    assert!(texts[0].contains("ApiKey(***)"), "{}", texts[0]);
    // The one way to see the key is asking for it.
    assert_eq!(client.config().api_key().expose_secret(), CANARY);
    assert!(server.received_requests().is_empty());
}
