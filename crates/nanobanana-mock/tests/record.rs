//! Record on miss, with a second fake server as the upstream (one per test, 127.0.0.1:0): a miss
//! is forwarded, answered and recorded in the corpus format with credentials redacted; the same
//! request is replayed without reaching the upstream, in the same run and after a restart; mode
//! `none` answers a miss as replay mode does; mode `all` forwards everything.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use common::{FLASH31, client, generate_path, prompt, send, stream_path, url};
use nanobanana_mock::{Endpoint, MockGemini, Mode, RecordMode};
use nanobanana_wire::corpus::{Corpus, Provenance};

/// A key that must never reach a recording.
const CANARY: &str = "AIzaCANARY-0123456789-never-recorded";

/// A fresh, empty directory for one test, removed when the test ends.
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fresh_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "nanobanana-mock-record-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    TempDir(dir)
}

fn early_2026() -> nanobanana_rules::Date {
    nanobanana_rules::Date::new(2026, 3, 1).expect("a date")
}

/// The upstream: a fake server playing the early-2026 service (whose preview ids the tests use).
async fn upstream() -> MockGemini {
    MockGemini::builder().as_of(early_2026()).start().await
}

async fn recorder(upstream: &MockGemini, dir: &Path, mode: RecordMode) -> MockGemini {
    MockGemini::builder()
        .upstream(&upstream.uri())
        .record_into(dir)
        .record_mode(mode)
        .start()
        .await
}

/// POSTs JSON with the canary key in `x-goog-api-key` and an `Authorization` header.
async fn post(server: &MockGemini, path: &str, body: &Value) -> common::Answer {
    send(
        client()
            .post(url(server, path))
            .header("x-goog-api-key", CANARY)
            .header("authorization", format!("Bearer {CANARY}-oauth"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap()),
    )
    .await
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn case_files(dir: &Path) -> Vec<PathBuf> {
    files(&dir.join("cases"))
}

/// No byte sequence of the canary (nor of its `Bearer` token) anywhere in the recording.
fn assert_no_canary(dir: &Path) {
    for file in files(dir) {
        let bytes = std::fs::read(&file).unwrap();
        let found = bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes());
        assert!(!found, "{} holds the API key", file.display());
    }
}

#[tokio::test]
async fn a_miss_is_forwarded_recorded_and_then_replayed() {
    let upstream = upstream().await;
    let dir = fresh_dir("miss");
    let server = recorder(&upstream, &dir, RecordMode::New).await;
    let body = prompt("A banana on a blue plate");
    let first = post(&server, &generate_path(FLASH31), &body).await;
    assert_eq!(first.status, 200, "{}", first.text_head());
    assert_eq!(upstream.received_for(Endpoint::GenerateContent).len(), 1);

    let second = post(&server, &generate_path(FLASH31), &body).await;
    assert_eq!(second.status, 200, "{}", second.text_head());
    assert_eq!(
        second.json(),
        first.json(),
        "the replay is the recorded answer"
    );
    assert_eq!(
        upstream.received_requests().len(),
        1,
        "the second request must not reach the upstream"
    );
    // Both requests are in the recording server's journal.
    assert_eq!(server.received_for(Endpoint::GenerateContent).len(), 2);

    let cases = case_files(&dir);
    assert_eq!(cases.len(), 1, "{cases:?}");
    let name = cases[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("generatecontent-") && name.ends_with("-001.json"),
        "{name}"
    );
    let text = std::fs::read_to_string(&cases[0]).unwrap();
    assert!(text.ends_with("}\n"), "a trailing newline");
    let written: Value = serde_json::from_str(&text).unwrap();
    let interaction = &written["interactions"][0];
    assert_eq!(interaction["request"]["method"], "POST");
    assert_eq!(interaction["request"]["path"], generate_path(FLASH31));
    assert!(interaction["request"].get("auth").is_none(), "header auth");
    assert_eq!(interaction["response"]["status"], 200);
    assert_eq!(
        interaction["response"]["headers"]["content-type"],
        "application/json"
    );
    // The image went into a blob.
    let parts = &interaction["response"]["body"]["candidates"][0]["content"]["parts"];
    let blob = parts
        .as_array()
        .unwrap()
        .iter()
        .find_map(|p| p["inlineData"]["data"]["$blob"].as_str())
        .expect("the image is a blob reference");
    assert!(dir.join("blobs").join(blob).is_file());
    assert_no_canary(&dir);

    // The directory loads as a corpus, blobs expanded to what the client received.
    let corpus = Corpus::load(&dir).unwrap();
    let case = &corpus.cases()[0];
    assert_eq!(case.provenance, Provenance::Recorded);
    assert_eq!(
        case.interactions[0].response.body.as_ref(),
        Some(&first.json())
    );
}

#[tokio::test]
async fn a_restart_with_the_directory_replays_without_the_upstream() {
    let dir = fresh_dir("restart");
    let body = prompt("A banana wearing a hat");
    let first = {
        let upstream = upstream().await;
        let server = recorder(&upstream, &dir, RecordMode::New).await;
        post(&server, &generate_path(FLASH31), &body).await
    };
    assert_eq!(first.status, 200);

    let fresh_upstream = upstream().await;
    let server = recorder(&fresh_upstream, &dir, RecordMode::New).await;
    let again = post(&server, &generate_path(FLASH31), &body).await;
    assert_eq!(again.status, 200, "{}", again.text_head());
    assert_eq!(again.json(), first.json());
    assert!(fresh_upstream.received_requests().is_empty());
    assert_eq!(case_files(&dir).len(), 1, "nothing new was recorded");

    // The directory is a fixture corpus like any other.
    let replay = MockGemini::builder()
        .mode(Mode::Replay)
        .fixtures(&dir)
        .start()
        .await;
    let replayed = post(&replay, &generate_path(FLASH31), &body).await;
    assert_eq!(replayed.json(), first.json());
}

#[tokio::test]
async fn record_mode_none_answers_a_miss_as_replay_mode_does() {
    let dir = fresh_dir("none");
    let body = prompt("A banana in the rain");
    {
        let upstream = upstream().await;
        let server = recorder(&upstream, &dir, RecordMode::New).await;
        assert_eq!(
            post(&server, &generate_path(FLASH31), &body).await.status,
            200
        );
    }
    let server = MockGemini::builder()
        .record_into(&dir)
        .record_mode(RecordMode::None)
        .allow_unmatched()
        .start()
        .await;
    let known = post(&server, &generate_path(FLASH31), &body).await;
    assert_eq!(known.status, 200, "{}", known.text_head());
    let miss = post(&server, &generate_path(FLASH31), &prompt("Something new")).await;
    assert_eq!(miss.status, 501, "{}", miss.text_head());
    assert!(
        miss.error_message()
            .starts_with("nanobanana-mock replay: No recorded interaction matches POST"),
        "{}",
        miss.error_message()
    );
    assert_eq!(server.unmatched_requests().len(), 1);
    assert_eq!(case_files(&dir).len(), 1, "mode none records nothing");
}

#[tokio::test]
async fn a_key_in_the_query_is_left_out_and_the_case_says_so() {
    let upstream = upstream().await;
    let dir = fresh_dir("query-key");
    let server = recorder(&upstream, &dir, RecordMode::New).await;
    let answer = send(
        client()
            .get(url(
                &server,
                &format!("/v1beta/models?key={CANARY}&pageSize=5"),
            ))
            .header("user-agent", "record-test/1"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text_head());
    assert!(answer.json()["models"].is_array());
    let cases = case_files(&dir);
    assert_eq!(cases.len(), 1);
    let written: Value = serde_json::from_slice(&std::fs::read(&cases[0]).unwrap()).unwrap();
    let request = &written["interactions"][0]["request"];
    assert_eq!(request["auth"], "query");
    assert_eq!(request["query"], json!({"pageSize": "5"}));
    assert_eq!(request["headers"]["user-agent"], "record-test/1");
    assert_eq!(written["rules"], json!(["models"]));
    assert_no_canary(&dir);
    // Replayed with another key: the key is no part of the match.
    let again = send(client().get(url(&server, "/v1beta/models?key=other-key&pageSize=5"))).await;
    assert_eq!(again.json(), answer.json());
    assert_eq!(upstream.received_requests().len(), 1);
}

#[tokio::test]
async fn a_stream_is_recorded_as_events_and_replayed() {
    let upstream = upstream().await;
    let dir = fresh_dir("stream");
    let server = recorder(&upstream, &dir, RecordMode::New).await;
    let body = prompt("A banana, streamed");
    let first = post(&server, &stream_path(FLASH31), &body).await;
    assert_eq!(first.status, 200, "{}", first.text_head());
    assert_eq!(first.header("content-type"), Some("text/event-stream"));
    let events = first.events();
    assert!(events.len() >= 2, "{events:?}");

    let written: Value =
        serde_json::from_slice(&std::fs::read(&case_files(&dir)[0]).unwrap()).unwrap();
    let response = &written["interactions"][0]["response"];
    assert_eq!(
        response["events"].as_array().map(Vec::len),
        Some(events.len())
    );
    assert_eq!(response["headers"]["content-type"], "text/event-stream");
    assert_eq!(
        written["interactions"][0]["request"]["query"],
        json!({"alt": "sse"})
    );
    assert_eq!(written["rules"], json!(["streaming-sse"]));

    let again = post(&server, &stream_path(FLASH31), &body).await;
    assert_eq!(again.events(), events);
    assert_eq!(upstream.received_requests().len(), 1);
    assert_no_canary(&dir);
}

#[tokio::test]
async fn record_mode_all_forwards_and_records_every_request() {
    let upstream = upstream().await;
    let dir = fresh_dir("all");
    let server = recorder(&upstream, &dir, RecordMode::All).await;
    let body = prompt("A banana, twice");
    for _ in 0..2 {
        let answer = post(&server, &generate_path(FLASH31), &body).await;
        assert_eq!(answer.status, 200);
    }
    assert_eq!(upstream.received_requests().len(), 2);
    let names: Vec<String> = case_files(&dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].ends_with("-001.json") && names[1].ends_with("-002.json"));
    assert_eq!(Corpus::load(&dir).unwrap().cases().len(), 2);
}

#[tokio::test]
async fn upstream_errors_are_recorded_and_an_unreachable_upstream_is_a_502() {
    let upstream = MockGemini::builder()
        .as_of(early_2026())
        .api_key("the-right-key")
        .start()
        .await;
    let dir = fresh_dir("errors");
    let server = recorder(&upstream, &dir, RecordMode::New).await;
    // The upstream refuses the key: its 400 comes back and is recorded (and scrubbed).
    let refused = post(&server, &generate_path(FLASH31), &prompt("A banana")).await;
    assert_eq!(refused.status, 400, "{}", refused.text_head());
    assert_eq!(case_files(&dir).len(), 1);
    assert_no_canary(&dir);

    let address = upstream.address();
    drop(upstream);
    let gone_dir = fresh_dir("gone");
    let gone = MockGemini::builder()
        .upstream(&format!("http://{address}"))
        .record_into(&gone_dir)
        .start()
        .await;
    let answer = post(&gone, &generate_path(FLASH31), &prompt("Nobody there")).await;
    assert_eq!(answer.status, 502, "{}", answer.text_head());
    assert!(
        answer
            .error_message()
            .starts_with("nanobanana-mock could not forward to the upstream: POST http://"),
        "{}",
        answer.error_message()
    );
    assert!(case_files(&gone_dir).is_empty());
}

#[tokio::test]
async fn settings_that_cannot_record_are_refused_at_start() {
    let dir = fresh_dir("settings");
    let cases: [(_, &str); 3] = [
        (
            MockGemini::builder().upstream("http://127.0.0.1:9"),
            "an upstream was given without a directory to record into",
        ),
        (
            MockGemini::builder().record_into(&dir),
            "record mode new forwards requests, but no upstream was given",
        ),
        (
            MockGemini::builder()
                .record_into(&dir)
                .upstream("https://generativelanguage.googleapis.com"),
            "upstream https://generativelanguage.googleapis.com: https is not supported",
        ),
    ];
    for (builder, expected) in cases {
        let error = builder.try_start().await.unwrap_err().to_string();
        assert!(error.starts_with(expected), "{error}");
    }
    assert_eq!(
        "ALL".parse::<RecordMode>().unwrap(),
        RecordMode::All,
        "modes parse in any case"
    );
    assert_eq!(
        "sometimes".parse::<RecordMode>().unwrap_err().to_string(),
        "unknown record mode \"sometimes\": allowed are none, new, all"
    );
}

/// A resumable upload through the recorder: the upload URL points at the recorder, the chunk
/// (binary, no key) is recorded as a blob, and both steps replay after a restart.
async fn upload(server: &MockGemini, bytes: &[u8]) -> (common::Answer, common::Answer) {
    let start = send(
        client()
            .post(url(server, "/upload/v1beta/files"))
            .header("x-goog-api-key", CANARY)
            .header("x-goog-upload-protocol", "resumable")
            .header("x-goog-upload-command", "start")
            .header(
                "x-goog-upload-header-content-length",
                bytes.len().to_string(),
            )
            .header("x-goog-upload-header-content-type", "image/png")
            .header("content-type", "application/json")
            .body(r#"{"file": {"display_name": "recorded.png"}}"#),
    )
    .await;
    assert_eq!(start.status, 200, "{}", start.text_head());
    let upload_url = start.header("x-goog-upload-url").expect("an upload URL");
    assert!(upload_url.starts_with(&server.uri()), "{upload_url}");
    let last = send(
        client()
            .post(upload_url)
            .header("x-goog-upload-command", "upload, finalize")
            .header("x-goog-upload-offset", "0")
            .body(bytes.to_vec()),
    )
    .await;
    (start, last)
}

#[tokio::test]
async fn a_resumable_upload_is_recorded_and_replayed() {
    use nanobanana_mock::image::{ImageFormat, Style, render};
    let dir = fresh_dir("upload");
    let bytes = render(ImageFormat::Png, Style::Final, 40, 30, b"recorded upload").unwrap();
    let (start, last) = {
        let upstream = upstream().await;
        let server = recorder(&upstream, &dir, RecordMode::New).await;
        let answers = upload(&server, &bytes).await;
        assert_eq!(upstream.received_for(Endpoint::FileUpload).len(), 2);
        answers
    };
    assert_eq!(last.status, 200, "{}", last.text_head());
    assert_eq!(last.header("x-goog-upload-status"), Some("final"));
    assert_eq!(last.json()["file"]["displayName"], "recorded.png");
    let cases = case_files(&dir);
    assert_eq!(cases.len(), 2, "{cases:?}");
    let chunk = cases
        .iter()
        .map(|p| serde_json::from_slice::<Value>(&std::fs::read(p).unwrap()).unwrap())
        .find(|c| c["interactions"][0]["request"].get("bodyBlob").is_some())
        .expect("the chunk's bytes as a blob");
    assert_eq!(chunk["interactions"][0]["request"]["auth"], "none");
    let blob = chunk["interactions"][0]["request"]["bodyBlob"]
        .as_str()
        .unwrap();
    assert_eq!(std::fs::read(dir.join("blobs").join(blob)).unwrap(), bytes);
    assert_no_canary(&dir);

    let fresh_upstream = upstream().await;
    let server = recorder(&fresh_upstream, &dir, RecordMode::New).await;
    let (start_again, last_again) = upload(&server, &bytes).await;
    assert_eq!(
        start_again.header("x-goog-upload-status"),
        start.header("x-goog-upload-status")
    );
    assert_eq!(last_again.json(), last.json());
    assert!(fresh_upstream.received_requests().is_empty());
}
