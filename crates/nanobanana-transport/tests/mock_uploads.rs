//! Uploads against the fake server (`nanobanana-mock`), one server per test on 127.0.0.1:0:
//! a resumable upload cut mid-way (the server's `cut-upload-at` / `cut-upload-after` faults)
//! resumes from the offset the server reports and stores exactly the file's bytes; files are
//! streamed from disk; progress reports are monotonic and complete; failed chunks are retried
//! within the retry policy only; `wait_active` polls until `ACTIVE` or its timeout.

mod mock_support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nanobanana_mock::{Endpoint, FAULT_HEADER, Fault, Mock, MockGemini};
use nanobanana_transport::wire::{Base64Bytes, FileState};
use nanobanana_transport::{
    Client, ErrorKind, RequestOptions, RetryPolicy, UploadOptions, UploadProgress,
};
use serde_json::json;

use mock_support::*;

/// Deterministic bytes that do not repeat with the chunk size.
fn data(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

/// A file under the system's temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let path =
            std::env::temp_dir().join(format!("nanobanana-upload-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).expect("writing the test file");
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn chunked_client(server: &MockGemini, chunk: usize) -> Client {
    client_with(config(server).with_upload_chunk_size(chunk))
}

/// A progress callback that records every report.
fn recorder() -> (UploadOptions, Arc<Mutex<Vec<UploadProgress>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let options = UploadOptions::new().with_progress(move |p| sink.lock().unwrap().push(p));
    (options, seen)
}

/// Reports start at 0, never go down, and end at the total.
fn assert_monotonic_and_complete(reports: &[UploadProgress], total: u64) {
    assert!(reports.len() >= 2, "{reports:?}");
    assert_eq!(reports[0].sent, 0, "{reports:?}");
    assert!(reports.iter().all(|p| p.total == total), "{reports:?}");
    assert!(
        reports.windows(2).all(|w| w[0].sent <= w[1].sent),
        "not monotonic: {reports:?}"
    );
    assert_eq!(reports.last().unwrap().sent, total, "{reports:?}");
}

/// Issue 18: an upload from disk cut at 60% (the connection dropped in the middle of a chunk)
/// asks the server how much it has, resumes from there, and the stored file is the file: its
/// `sha256Hash` and its download match.
#[tokio::test]
async fn an_upload_from_disk_cut_at_60_percent_resumes_and_the_stored_file_matches() {
    let server = MockGemini::start().await;
    let chunk = 64 * 1024;
    let client = chunked_client(&server, chunk);
    let bytes = data(1_000_000);
    let file = TempFile::new("cut-60.bin", &bytes);
    let (options, reports) = recorder();
    let options = options
        .with_display_name("cut.bin")
        .with_request_options(RequestOptions::new().with_header(FAULT_HEADER, "cut-upload-at=60%"));

    let uploaded = client
        .files()
        .upload_path(&file.0, "application/octet-stream", &options)
        .await
        .unwrap();

    assert_eq!(uploaded.display_name.as_deref(), Some("cut.bin"));
    assert_eq!(
        uploaded.size_bytes.map(|n| n.get()),
        Some(bytes.len() as i64)
    );
    let expected_hash = Base64Bytes::new(sha256_hex(&bytes)).to_base64();
    assert_eq!(uploaded.sha256_hash.as_deref(), Some(&*expected_hash));
    let name = uploaded.name.unwrap();
    let downloaded = client.files().download(&name).await.unwrap();
    assert_eq!(sha256_hex(&downloaded), sha256_hex(&bytes));

    // What went over the wire: chunks, one dropped (status 0 in the journal), a query, then
    // chunks again from the offset the server reported (600 000, inside the dropped chunk).
    let chunks: Vec<(String, Option<String>, u16)> = server
        .received_requests()
        .iter()
        .filter(|r| {
            r.endpoint() == Some(Endpoint::FileUpload)
                && r.header("x-goog-upload-command") != Some("start")
        })
        .map(|r| {
            (
                r.header("x-goog-upload-command").unwrap_or("").to_owned(),
                r.header("x-goog-upload-offset").map(str::to_owned),
                r.status(),
            )
        })
        .collect();
    let cut = chunks
        .iter()
        .position(|(_, _, status)| *status == 0)
        .expect("a dropped chunk");
    assert_eq!(chunks[cut].1.as_deref(), Some("589824"), "{chunks:?}"); // 9 chunks of 64 KiB
    assert_eq!(chunks[cut + 1].0, "query", "{chunks:?}");
    assert_eq!(chunks[cut + 2].1.as_deref(), Some("600000"), "{chunks:?}");
    assert_eq!(chunks.last().unwrap().0, "upload, finalize");
    assert!(
        chunks
            .iter()
            .all(|(_, _, status)| *status == 200 || *status == 0),
        "{chunks:?}"
    );

    let reports = reports.lock().unwrap();
    assert_monotonic_and_complete(&reports, bytes.len() as u64);
    assert!(
        reports.iter().any(|p| p.sent == 600_000),
        "the resumed offset is reported: {reports:?}"
    );
}

/// The same from memory, the cut answered with a 503 instead of a dropped connection.
#[tokio::test]
async fn an_upload_from_memory_cut_with_a_503_resumes() {
    let server = MockGemini::start().await;
    let client = chunked_client(&server, 1000);
    let bytes = data(4500);
    let (options, reports) = recorder();
    let options = options.with_request_options(
        RequestOptions::new().with_header(FAULT_HEADER, "cut-upload-after=2500; status=503"),
    );
    let uploaded = client
        .files()
        .upload_with(bytes.clone(), "application/octet-stream", &options)
        .await
        .unwrap();
    let downloaded = client
        .files()
        .download(uploaded.name.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(downloaded.as_ref(), bytes.as_slice());
    let statuses: Vec<u16> = server
        .received_requests()
        .iter()
        .filter(|r| r.endpoint() == Some(Endpoint::FileUpload))
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 503).count(),
        1,
        "{statuses:?}"
    );
    assert_monotonic_and_complete(&reports.lock().unwrap(), 4500);
}

/// A chunk that keeps failing is tried as often as the retry policy allows, each time after a
/// query, then the error is returned with the attempts counted.
#[tokio::test]
async fn failing_chunks_stop_after_the_retry_policy_attempts() {
    let server = MockGemini::start().await;
    let client = client_with(
        config(&server)
            .with_upload_chunk_size(100)
            .with_retry_policy(quick_retries().with_max_attempts(3)),
    );
    Mock::any()
        .endpoint(Endpoint::FileUpload)
        .header("x-goog-upload-command", "upload")
        .fault(Fault::status(503))
        .mount(&server)
        .await;
    let error = client
        .files()
        .upload(data(250), "application/octet-stream", Some("doomed"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503), "{error}");
    let commands: Vec<String> = server
        .received_requests()
        .iter()
        .map(|r| r.header("x-goog-upload-command").unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        commands,
        ["start", "upload", "query", "upload", "query", "upload"],
        "{error}"
    );
}

/// The last chunk reaches the server, which stores the file, but the connection breaks before
/// the answer: the query answers `final` with the file, and the upload ends with it (no second
/// finalize, no duplicate file).
#[tokio::test]
async fn a_finalize_whose_answer_is_lost_ends_with_the_stored_file() {
    let server = MockGemini::start().await;
    let client = chunked_client(&server, 100);
    Mock::any()
        .endpoint(Endpoint::FileUpload)
        .header("x-goog-upload-command", "upload, finalize")
        .fault(Fault::reset_after(0))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let bytes = data(250);
    let (options, reports) = recorder();
    let uploaded = client
        .files()
        .upload_with(bytes.clone(), "application/octet-stream", &options)
        .await
        .unwrap();
    let downloaded = client
        .files()
        .download(uploaded.name.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(downloaded.as_ref(), bytes.as_slice());
    let commands: Vec<String> = server
        .received_requests()
        .iter()
        .filter(|r| r.endpoint() == Some(Endpoint::FileUpload))
        .map(|r| r.header("x-goog-upload-command").unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        commands,
        ["start", "upload", "upload", "upload, finalize", "query"]
    );
    assert_monotonic_and_complete(&reports.lock().unwrap(), 250);
}

/// A refusal that a resume cannot help (400) ends the upload at once.
#[tokio::test]
async fn a_refused_chunk_is_not_resumed() {
    let server = MockGemini::start().await;
    let client = chunked_client(&server, 100);
    Mock::any()
        .endpoint(Endpoint::FileUpload)
        .header("x-goog-upload-command", "upload")
        .fault(Fault::status(400))
        .mount(&server)
        .await;
    let error = client
        .files()
        .upload(data(250), "application/octet-stream", Some("refused"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400), "{error}");
    assert_eq!(server.received_requests().len(), 2);
}

/// Small files from disk without a display name go in one simple request, with progress.
#[tokio::test]
async fn a_small_file_from_disk_goes_in_one_request() {
    let server = MockGemini::start().await;
    let client = client(&server);
    let bytes = data(3000);
    let file = TempFile::new("small.bin", &bytes);
    let (options, reports) = recorder();
    let uploaded = client
        .files()
        .upload_path(&file.0, "image/png", &options)
        .await
        .unwrap();
    assert_eq!(uploaded.size_bytes.map(|n| n.get()), Some(3000));
    let requests = server.received_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("x-goog-upload-protocol"), Some("raw"));
    let reports: Vec<(u64, u64)> = reports
        .lock()
        .unwrap()
        .iter()
        .map(|p| (p.sent, p.total))
        .collect();
    assert_eq!(reports, [(0, 3000), (3000, 3000)]);
}

/// A path that is not there, or not a file, is refused before any request, naming the path.
#[tokio::test]
async fn unreadable_paths_are_refused_naming_them() {
    let server = MockGemini::start().await;
    let client = client(&server);
    let missing = std::env::temp_dir().join("nanobanana-upload-no-such-file.bin");
    let error = client
        .files()
        .upload_path(&missing, "image/png", &UploadOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Config), "{error:?}");
    assert!(error.to_string().contains("no-such-file.bin"), "{error}");
    let directory = client
        .files()
        .upload_path(std::env::temp_dir(), "image/png", &UploadOptions::new())
        .await
        .unwrap_err();
    assert!(
        directory.to_string().contains("not a regular file"),
        "{directory}"
    );
    assert!(server.received_requests().is_empty());
}

fn processing(name: &str) -> serde_json::Value {
    json!({"name": name, "mimeType": "video/mp4", "state": "PROCESSING"})
}

/// `wait_active` polls `files.get` through `PROCESSING` until `ACTIVE` (the fake server's files
/// are `ACTIVE` at once; a mounted answer plays the processing).
#[tokio::test]
async fn wait_active_polls_until_the_file_is_active() {
    let server = MockGemini::start().await;
    let client = client(&server);
    let uploaded = client
        .files()
        .upload(data(10), "video/mp4", None)
        .await
        .unwrap();
    let name = uploaded.name.unwrap();
    Mock::any()
        .endpoint(Endpoint::FileGet)
        .respond_json(200, processing(&name))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    let active = client
        .files()
        .wait_active(&name, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(active.state, Some(FileState::Active));
    assert_eq!(active.name.as_deref(), Some(name.as_str()));
}

/// A file still `PROCESSING` at the timeout is a timeout error naming the file and its state;
/// a `FAILED` one is an error at once.
#[tokio::test]
async fn wait_active_times_out_or_fails() {
    let server = MockGemini::start().await;
    let client = client_with(config(&server).with_retry_policy(RetryPolicy::none()));
    Mock::any()
        .endpoint(Endpoint::FileGet)
        .path_contains("slow")
        .respond_json(200, processing("files/slow"))
        .mount(&server)
        .await;
    let error = client
        .files()
        .wait_active("files/slow", Duration::from_millis(250))
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("files/slow") && text.contains("PROCESSING"),
        "{text}"
    );

    Mock::any()
        .endpoint(Endpoint::FileGet)
        .path_contains("broken")
        .respond_json(200, json!({"name": "files/broken", "state": "FAILED"}))
        .mount(&server)
        .await;
    let failed = client
        .files()
        .wait_active("files/broken", Duration::from_secs(30))
        .await
        .unwrap_err();
    assert!(failed.to_string().contains("FAILED"), "{failed}");
}
