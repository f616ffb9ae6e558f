//! Replay: every case of the corpus replays over the wire, interaction by interaction, with the
//! recorded status, body or events and headers; spelling variants match; a request no recording
//! matches gets a report naming the closest recording and fails verification; hybrid mode.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::*;
use nanobanana_mock::{FAULT_HEADER, MODE_HEADER, MockGemini, Mode};
use nanobanana_wire::corpus::{Case, Corpus, Interaction, LineEnding};
use serde_json::{Value, json};

const RECORDED_BASE: &str = "https://generativelanguage.googleapis.com";

async fn replayer() -> MockGemini {
    MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Replay)
        .corpus(corpus().clone())
        .api_key(KEY)
        .start()
        .await
}

fn encode_query(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The key a recorded request is sent with: none for the missing-key case and for resumable
/// upload chunks (the SDKs send none), a wrong one for the invalid-key case, else the test key.
fn key_for(case: &Case, interaction: &Interaction) -> Option<&'static str> {
    match case.id.as_str() {
        "errors/missing-api-key" => None,
        "errors/invalid-api-key" => Some("not-the-key"),
        _ if interaction.request.query.contains_key("upload_id") => None,
        _ => Some(KEY),
    }
}

/// Sends a recorded request as recorded (method, path, query, headers, body).
async fn send_recorded(
    server: &MockGemini,
    corpus: &Corpus,
    case: &Case,
    interaction: &Interaction,
) -> Answer {
    let request = &interaction.request;
    let mut target = url(server, &request.path);
    let query: Vec<String> = request
        .query
        .iter()
        .map(|(k, v)| format!("{}={}", encode_query(k), encode_query(v)))
        .collect();
    if !query.is_empty() {
        target = format!("{target}?{}", query.join("&"));
    }
    let mut builder = client().request(request.method.parse().expect("a method"), target);
    for (name, value) in &request.headers {
        if name != "content-length" && name != "host" {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    if let Some(key) = key_for(case, interaction) {
        builder = builder.header("x-goog-api-key", key);
    }
    let body: Option<Vec<u8>> = if let Some(json) = &request.body {
        Some(serde_json::to_vec(json).unwrap())
    } else if let Some(text) = &request.body_text {
        Some(text.as_bytes().to_vec())
    } else {
        request
            .body_blob
            .as_ref()
            .map(|blob| corpus.blob(blob).expect("the blob exists"))
    };
    if let Some(body) = body {
        builder = builder.body(body);
    }
    send(builder).await
}

/// Asserts that an answer is the recorded one.
fn assert_recorded(server: &MockGemini, label: &str, interaction: &Interaction, answer: &Answer) {
    let recorded = &interaction.response;
    assert_eq!(
        answer.status,
        recorded.status,
        "{label}: {}",
        answer.text_head()
    );
    for (name, value) in &recorded.headers {
        let got = answer
            .header(name)
            .unwrap_or_else(|| panic!("{label}: no {name} header"));
        if name == "content-type" {
            let media = value.split(';').next().unwrap();
            assert!(
                got.starts_with(media),
                "{label}: content-type {got} for {value}"
            );
        } else {
            assert_eq!(
                got,
                value.replace(RECORDED_BASE, &server.uri()),
                "{label}: header {name}"
            );
        }
    }
    if let Some(events) = &recorded.events {
        assert_eq!(&answer.events(), events, "{label}: events");
        let raw = answer.text();
        match recorded.line_ending.unwrap_or(LineEnding::Lf) {
            LineEnding::Crlf => {
                assert!(raw.ends_with("\r\n\r\n"), "{label}");
                assert_eq!(
                    raw.matches('\n').count(),
                    raw.matches("\r\n").count(),
                    "{label}"
                );
            }
            LineEnding::Lf => assert!(!raw.contains('\r'), "{label}"),
        }
    } else if let Some(body) = &recorded.body {
        assert_eq!(&answer.json(), body, "{label}: body");
    } else if let Some(text) = &recorded.body_text {
        assert_eq!(&answer.text(), text, "{label}: body text");
    } else {
        assert!(answer.body.is_empty(), "{label}: no body recorded");
    }
}

/// One server for the whole corpus, cases in corpus order: a few cases record the same request
/// (a batch polled twice, a first chat turn), and replay serves identical requests in recorded
/// order, so each case gets its own recording.
#[tokio::test]
async fn every_case_of_the_corpus_replays() {
    let corpus = corpus();
    let server = replayer().await;
    let mut interactions = 0;
    let mut required = 0;
    for case in corpus.cases() {
        required += usize::from(case.is_required());
        for (i, interaction) in case.interactions.iter().enumerate() {
            let answer = send_recorded(&server, corpus, case, interaction).await;
            let label = format!(
                "{} interaction {i}{}",
                case.id,
                interaction
                    .name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            );
            assert_recorded(&server, &label, interaction, &answer);
            interactions += 1;
        }
    }
    assert!(required >= 75, "{required} required cases");
    assert!(interactions >= 190, "{interactions} interactions");
    assert!(server.unmatched_requests().is_empty());
    server.verify();
}

/// Keys in snake_case, as python-genai spells nested fields.
fn snake_case(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let mut key = String::new();
                    for c in k.chars() {
                        if c.is_ascii_uppercase() {
                            key.push('_');
                            key.push(c.to_ascii_lowercase());
                        } else {
                            key.push(c);
                        }
                    }
                    let v = match (k.as_str(), v) {
                        ("data" | "thoughtSignature", Value::String(s)) => {
                            json!(b64_url_safe(&b64(s)).trim_end_matches('='))
                        }
                        _ => snake_case(v),
                    };
                    (key, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(snake_case).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn snake_case_url_safe_and_v1_variants_match_the_recording() {
    let corpus = corpus();
    let server = replayer().await;
    let case = corpus
        .case("chat/fox-logo-three-turns-pro")
        .expect("the case");
    for interaction in &case.interactions {
        let body = interaction.request.body.as_ref().unwrap();
        let variant = snake_case(body);
        let text = variant.to_string();
        assert!(text.contains("generation_config") || text.contains("inline_data"));
        assert_ne!(&variant, body);
        let path = interaction.request.path.replace("/v1beta/", "/v1/");
        let answer = post_json(&server, &path, &variant).await;
        assert_recorded(&server, &case.id, interaction, &answer);
    }
    server.verify();
}

#[tokio::test]
async fn an_unmatched_request_gets_501_naming_the_closest_recording_and_fails_verification() {
    let corpus = corpus();
    let server = replayer().await;
    let case = corpus.case("chat/fox-logo-three-turns-pro").unwrap();
    let mut body = case.interactions[0].request.body.clone().unwrap();
    let text = body["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    body["contents"][0]["parts"][0]["text"] = json!(format!("{text} (changed)"));
    let answer = generate(&server, PRO, &body).await;
    assert_eq!(answer.status, 501);
    assert_eq!(answer.json()["error"]["status"], "UNIMPLEMENTED");
    let message = answer.error_message();
    assert!(
        message.starts_with(&format!(
            "nanobanana-mock replay: No recorded interaction matches POST /v1beta/models/{PRO}:generateContent"
        )),
        "{message}"
    );
    assert!(
        message.contains("Closest recording: case chat/fox-logo-three-turns-pro interaction 0"),
        "{message}"
    );
    assert!(
        message.contains("/contents/0/parts/0/text: recorded"),
        "{message}"
    );
    assert_eq!(server.unmatched_requests().len(), 1);

    let verify = catch_unwind(AssertUnwindSafe(|| server.verify()));
    let report = panic_message(&*verify.expect_err("verify fails on an unmatched request"));
    assert!(
        report.contains("No recorded interaction matches"),
        "{report}"
    );
    assert!(
        report.contains("-> 501"),
        "the journal is in the report: {report}"
    );
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(server)));
    assert!(dropped.is_err(), "dropping the server fails too");
}

#[tokio::test]
async fn allow_unmatched_keeps_the_error_answer_without_failing() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Replay)
        .corpus(corpus().clone())
        .allow_unmatched()
        .start()
        .await;
    // A route the corpus never recorded: the closest recording is on another path.
    let answer = generate(
        &server,
        "gemini-3-pro-image-preview",
        &prompt("Nothing like it"),
    )
    .await;
    assert_eq!(answer.status, 501);
    assert!(answer.error_message().contains("Closest recording: case"));
    let odd = get(&server, "/v1beta/files/neverrecorded").await;
    assert_eq!(odd.status, 501);
    assert!(
        odd.error_message().contains("path: recorded"),
        "{}",
        odd.error_message()
    );
    assert_eq!(server.unmatched_requests().len(), 2);
    server.verify();
}

#[tokio::test]
async fn identical_requests_are_served_in_recorded_order() {
    let server = replayer().await;
    let path = "/v1beta/batches/t6n2ouke8lza39h8u39n11na6pqietnch54m95y2";
    let states: Vec<Value> = [
        get(&server, path).await,
        get(&server, path).await,
        get(&server, path).await,
    ]
    .iter()
    .map(|a| a.json()["metadata"]["state"].clone())
    .collect();
    assert_eq!(
        states,
        [
            json!("BATCH_STATE_RUNNING"),
            json!("BATCH_STATE_SUCCEEDED"),
            json!("BATCH_STATE_SUCCEEDED")
        ],
        "each recording once, then the last keeps answering"
    );
    // reset() starts over.
    server.reset();
    assert_eq!(
        get(&server, path).await.json()["metadata"]["state"],
        "BATCH_STATE_RUNNING"
    );
}

#[tokio::test]
async fn hybrid_replays_what_matches_and_simulates_the_rest() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .fixtures(Corpus::repository_dir())
        .start()
        .await;
    let case = corpus().case("generate/text-to-image-pro").unwrap();
    let interaction = &case.interactions[0];
    let body = interaction.request.body.as_ref().unwrap();
    let replayed = post_json(&server, &interaction.request.path, body).await;
    assert_recorded(&server, &case.id, interaction, &replayed);
    // x-nanobanana-mode: simulate answers the same request by the rules instead.
    let simulated = post_json_with(
        &server,
        &interaction.request.path,
        body,
        &[(MODE_HEADER, "simulate")],
    )
    .await;
    assert_eq!(simulated.status, 200);
    assert_ne!(
        &simulated.json(),
        interaction.response.body.as_ref().unwrap()
    );
    // An unrecorded request is simulated.
    let fresh = generate(&server, PRO, &prompt("Something never recorded")).await;
    assert_eq!(fresh.status, 200);
    assert_eq!(final_images(&fresh.json()).len(), 1);
    // x-nanobanana-mode: replay makes it fail loudly instead.
    let strict = post_json_with(
        &server,
        &generate_path(PRO),
        &prompt("Something never recorded"),
        &[(MODE_HEADER, "replay")],
    )
    .await;
    assert_eq!(strict.status, 501);
    assert_eq!(server.unmatched_requests().len(), 1);
    server.reset(); // forget the unmatched request, so that dropping the server does not fail
}

#[tokio::test]
async fn a_keyed_request_never_gets_a_recorded_auth_error() {
    // The auth cases record a request that other cases record too; with a valid key the server
    // must not answer it with "no key" or "wrong key".
    let corpus = corpus();
    let request = &corpus.case("errors/missing-api-key").unwrap().interactions[0].request;
    for mode in [Mode::Hybrid, Mode::Replay] {
        let server = MockGemini::builder()
            .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
            .mode(mode)
            .corpus(corpus.clone())
            .start()
            .await;
        for _ in 0..3 {
            let answer = post_json(&server, &request.path, request.body.as_ref().unwrap()).await;
            assert_ne!(answer.status, 403, "{mode}: {}", answer.text_head());
            assert!(
                !answer.text().contains("API_KEY_INVALID"),
                "{mode}: {}",
                answer.text_head()
            );
        }
        // The key check itself still gives those answers.
        let no_key = send(
            client()
                .post(url(&server, &request.path))
                .body(request.body.as_ref().unwrap().to_string()),
        )
        .await;
        assert_eq!(no_key.status, 403);
    }
}

#[tokio::test]
async fn faults_apply_to_replayed_streams() {
    let server = replayer().await;
    let case = corpus().case("stream/text-chunks-then-image").unwrap();
    let interaction = &case.interactions[0];
    let recorded = interaction.response.events.as_ref().unwrap();
    let answer = post_json_with(
        &server,
        &format!("{}?alt=sse", interaction.request.path),
        interaction.request.body.as_ref().unwrap(),
        &[(FAULT_HEADER, "truncate-after=2")],
    )
    .await;
    let (events, rest) = sse_split(&answer.body);
    assert_eq!(events, recorded[..2]);
    assert!(!rest.is_empty() && !answer.body.ends_with(b"\n\n"));
}

#[tokio::test]
async fn replay_mode_needs_fixtures() {
    let error = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Replay)
        .try_start()
        .await
        .expect_err("no fixtures");
    assert_eq!(
        error.to_string(),
        "replay mode needs fixtures: call .fixtures(dir) or .corpus(corpus)"
    );
    let error = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .fixtures("/nonexistent/fixtures")
        .try_start()
        .await
        .expect_err("a missing directory");
    assert!(
        error
            .to_string()
            .starts_with("cannot load the fixture corpus")
    );
}

/// Writes a corpus of the given cases to a fresh temporary directory.
fn write_corpus(name: &str, cases: &[Value]) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!(
        "nanobanana-mock-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let file = root.join("cases").join(format!("{id}.json"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, serde_json::to_vec_pretty(case).unwrap()).unwrap();
    }
    std::fs::create_dir_all(root.join("blobs")).unwrap();
    root
}

#[tokio::test]
async fn own_recordings_replay_text_bodies_and_ignored_pointers() {
    let jsonl = format!(
        "{}\n",
        json!({"key": "only", "request": prompt("One request in the whole batch")})
    );
    let root = write_corpus(
        "own",
        &[
            json!({
                "id": "own/one-line-jsonl",
                "description": "A JSONL upload with one line: the text is also valid JSON.",
                "rules": [],
                "provenance": "synthetic",
                "interactions": [{
                    "request": {
                        "method": "POST",
                        "path": "/upload/v1beta/files",
                        "headers": {"content-type": "application/jsonl", "x-goog-upload-protocol": "raw"},
                        "bodyText": jsonl
                    },
                    "response": {"status": 200, "body": {"file": {"name": "files/onelinejsonl"}}}
                }]
            }),
            json!({
                "id": "own/ignored-text",
                "description": "The prompt text is ignored when matching.",
                "rules": [],
                "provenance": "synthetic",
                "interactions": [{
                    "request": {
                        "method": "POST",
                        "path": format!("/v1beta/models/{FLASH31}:generateContent"),
                        "body": prompt("seed 1")
                    },
                    "ignore": ["/contents/0/parts/0/text"],
                    "response": {"status": 200, "body": {"candidates": [{"content": {"role": "model", "parts": [{"text": "recorded"}]}, "finishReason": "STOP", "index": 0}]}}
                }]
            }),
        ],
    );
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Replay)
        .fixtures(&root)
        .allow_unmatched()
        .start()
        .await;
    let _ = std::fs::remove_dir_all(&root);

    // A recorded text body is compared as text, even when it parses as JSON.
    let upload = post_bytes(
        &server,
        "/upload/v1beta/files",
        jsonl.clone(),
        &[
            ("content-type", "application/jsonl"),
            ("x-goog-upload-protocol", "raw"),
        ],
    )
    .await;
    assert_eq!(upload.status, 200, "{}", upload.text_head());
    assert_eq!(upload.json()["file"]["name"], "files/onelinejsonl");
    let other = post_bytes(
        &server,
        "/upload/v1beta/files",
        format!(
            "{}\n",
            json!({"key": "other", "request": prompt("Another")})
        ),
        &[("content-type", "application/jsonl")],
    )
    .await;
    assert_eq!(other.status, 501, "other text does not match");
    assert!(
        other.error_message().contains("body: recorded text of"),
        "{}",
        other.error_message()
    );

    // Ignored pointers are left out when matching; the rest must still be equal.
    let answer = generate(&server, FLASH31, &prompt("seed 2, something else")).await;
    assert_eq!(answer.status, 200, "{}", answer.text_head());
    assert_eq!(parts(&answer.json())[0]["text"], "recorded");
    let mut extra = prompt("seed 3");
    extra["generationConfig"] = json!({"responseModalities": ["IMAGE"]});
    let missed = generate(&server, FLASH31, &extra).await;
    assert_eq!(missed.status, 501);
    assert!(
        missed
            .error_message()
            .contains("/generationConfig: not recorded"),
        "{}",
        missed.error_message()
    );
    assert_eq!(server.unmatched_requests().len(), 2);
}

#[tokio::test]
async fn query_values_select_the_recording() {
    let corpus = corpus();
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Replay)
        .corpus(corpus.clone())
        .allow_unmatched()
        .start()
        .await;
    let case = corpus.case("batch/list-two-pages").unwrap();
    // The second page first: its page token selects it, whatever the order.
    for interaction in case.interactions.iter().rev() {
        let answer = send_recorded(&server, corpus, case, interaction).await;
        assert_recorded(&server, &case.id, interaction, &answer);
    }
    // A page token that was never recorded matches nothing, and the report says why.
    let answer = get(&server, "/v1beta/batches?pageSize=2&pageToken=unrecorded").await;
    assert_eq!(answer.status, 501);
    assert!(
        answer.error_message().contains("query: recorded"),
        "{}",
        answer.error_message()
    );
}

#[tokio::test]
async fn replay_asked_for_on_a_server_without_fixtures_is_refused() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let answer = post_json_with(
        &server,
        &generate_path(FLASH31),
        &prompt("Replay this"),
        &[(MODE_HEADER, "replay")],
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.text_head());
    assert!(
        answer.error_message().contains("no fixtures"),
        "{}",
        answer.error_message()
    );
    // Simulate and hybrid still work.
    for mode in ["simulate", "hybrid"] {
        let answer = post_json_with(
            &server,
            &generate_path(FLASH31),
            &prompt("Replay this"),
            &[(MODE_HEADER, mode)],
        )
        .await;
        assert_eq!(answer.status, 200);
    }
}
