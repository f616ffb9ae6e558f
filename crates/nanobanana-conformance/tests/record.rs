//! Recording, offline: the fake server (simulating, with a required key) stands in for the live
//! service. A recording keeps no key, replaces volatile ids by stable placeholders, points URLs
//! at the public origin, stores images as blobs, derives its expectations, and replays: the
//! recorded cases pass the server and client runners against a server replaying them.

mod common;

use std::fs;
use std::path::Path;

use common::{scratch, suite};
use nanobanana_conformance::{
    ClientRun, ServeOptions, ServerRun, Suite, Target, check_client, check_server, record_case,
    serve_vectors,
};
use nanobanana_mock::{MockGemini, Mode};
use serde_json::Value;

const SECRET: &str = "AIzaRecorderCanary0123456789";

const CASES: &[&str] = &[
    "generate/text-to-image-pro",
    "chat/photosynthesis-two-turns",
    "files/resumable-upload-then-generate",
    "batch/create-inline-requests",
    "stream/text-chunks-then-image",
    "validation/image-size-lowercase-1k",
    "wire/auth-key-in-query",
];

fn all_text(dir: &Path, out: &mut String) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_text(&path, out);
        } else {
            out.push_str(&String::from_utf8_lossy(&fs::read(&path).unwrap()));
        }
    }
}

/// The stand-in plays the early-2026 service (its `as_of`), so its recordings are dated so (a
/// recording is dated the day it was made, which for the live service is the service's date).
fn date_recordings(dir: &Path, date: &str) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            date_recordings(&path, date);
        } else if path.extension().is_some_and(|e| e == "json") {
            let mut case: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
            if case.get("serviceDate").is_some() {
                case["serviceDate"] = Value::from(date);
                fs::write(&path, serde_json::to_vec_pretty(&case).unwrap()).unwrap();
            }
        }
    }
}

async fn record_all(live: &MockGemini, out: &Path) {
    let target = Target::new(&live.uri(), SECRET);
    for id in CASES {
        let recording = record_case(suite(), id, &target, out).await.unwrap();
        assert!(
            recording.findings.is_empty(),
            "{id}: {:?}",
            recording.findings
        );
        assert_eq!(
            recording.interactions,
            suite().case(id).unwrap().case().interactions.len()
        );
    }
}

fn case(dir: &Path, id: &str) -> Value {
    let path = dir.join("cases").join(format!("{id}.json"));
    serde_json::from_slice(&fs::read(&path).unwrap()).unwrap()
}

#[tokio::test]
async fn recordings_redact_keys_and_volatile_ids_and_replay() {
    let live = MockGemini::builder()
        .as_of(nanobanana_transport::rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Simulate)
        .api_key(SECRET)
        .start()
        .await;
    let (first, second) = (scratch("record-1"), scratch("record-2"));
    record_all(&live, &first).await;
    record_all(&live, &second).await;
    date_recordings(&first, "2026-03-01");
    date_recordings(&second, "2026-03-01");

    // No key anywhere; the stand-in's origin only in `source` (where it was recorded from), the
    // public origin in the URLs it answered with.
    let mut text = String::new();
    all_text(&first, &mut text);
    assert!(!text.contains(SECRET) && !text.contains("AIza"));
    for id in CASES {
        let mut recorded = case(&first, id);
        let source = recorded["source"].take();
        assert!(
            source
                .as_str()
                .unwrap()
                .contains(&format!("from {}", live.address()))
        );
        assert!(
            !recorded.to_string().contains("127.0.0.1"),
            "{id}: the stand-in's origin leaked"
        );
    }
    let upload = case(&first, "files/resumable-upload-then-generate");
    let url = upload["interactions"][0]["response"]["headers"]["x-goog-upload-url"]
        .as_str()
        .unwrap();
    assert!(
        url.starts_with("https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id="),
        "{url}"
    );

    // Volatile ids are placeholders, the same in both recordings and in every place they occur.
    let file_name = upload["interactions"][1]["response"]["body"]["file"]["name"]
        .as_str()
        .unwrap();
    assert_eq!(file_name.len(), "files/".len() + 12);
    assert_eq!(
        upload["interactions"][2]["request"]["path"],
        format!("/v1beta/{file_name}")
    );
    assert_eq!(
        case(&second, "files/resumable-upload-then-generate")["interactions"][1]["response"]["body"]
            ["file"]["name"],
        file_name
    );
    let query = &upload["interactions"][1]["request"]["query"];
    assert!(url.contains(query["upload_id"].as_str().unwrap()));
    assert_eq!(upload["interactions"][1]["request"]["auth"], "none");
    let batch = case(&first, "batch/create-inline-requests");
    assert_eq!(
        batch["interactions"][0]["response"]["body"]["metadata"]["createTime"],
        "2026-01-01T00:00:00Z"
    );
    let generate = case(&first, "generate/text-to-image-pro");
    let response_id = generate["interactions"][0]["response"]["body"]["responseId"]
        .as_str()
        .unwrap();
    assert_eq!(response_id.len(), 23);
    assert_eq!(
        case(&second, "generate/text-to-image-pro")["interactions"][0]["response"]["body"]["responseId"],
        response_id
    );
    assert_eq!(generate["provenance"], "recorded");
    assert!(
        generate["interactions"][0]["response"]["body"]["candidates"][0]["content"]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["inlineData"]["data"]["$blob"].is_string()),
        "images become blobs"
    );
    assert_eq!(
        case(&first, "wire/auth-key-in-query")["interactions"][0]["request"]["auth"],
        "query"
    );
    let refused = case(&first, "validation/image-size-lowercase-1k");
    assert_eq!(
        refused["expect"]["valid"], false,
        "the validator's verdict is kept"
    );
    assert_eq!(refused["expect"]["status"], 400);

    // The recordings are a suite of their own, and replay.
    let recorded = Suite::load(&first).unwrap();
    assert_eq!(recorded.cases().len(), CASES.len());
    let server = serve_vectors(&recorded, &ServeOptions::new().with_api_key("k"))
        .await
        .unwrap();
    let report = check_server(&recorded, &ServerRun::new(Target::new(&server.uri(), "k")))
        .await
        .unwrap();
    assert_eq!(
        report.summary(),
        format!("{} passed, 0 failed, 0 skipped", CASES.len()),
        "{report}"
    );
    let report = check_client(&recorded, &ClientRun::new()).await.unwrap();
    assert_eq!(
        report.summary(),
        format!("{} passed, 0 failed, 0 skipped", CASES.len()),
        "{report}"
    );
    let _ = fs::remove_dir_all(&first);
    let _ = fs::remove_dir_all(&second);
}

#[tokio::test]
async fn an_unknown_case_is_refused() {
    let error = record_case(
        suite(),
        "generate/nope",
        &Target::new("http://127.0.0.1:9", SECRET),
        &scratch("record-none"),
    )
    .await
    .unwrap_err();
    assert_eq!(error.to_string(), "no case \"generate/nope\" in the suite");
}
