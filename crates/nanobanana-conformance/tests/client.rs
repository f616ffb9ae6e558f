//! Client conformance: this project's client (`nanobanana_transport::Client`) driven through
//! every case against a fake server replaying that case, and held to the recorded answers
//! exactly (status, error code/status/message, images and their sizes, signature verdict of
//! SPEC.md §4, grounding facts, batch states).

mod common;

use std::collections::BTreeSet;

use common::suite;
use nanobanana_conformance::{ClientRun, Verdict, check_client};

/// What the client cannot make at all, with the reason the runner gives.
const SKIPPED: &[(&str, &str)] = &[
    (
        "files/python-sdk-resumable-upload-v1",
        "python-genai's resumable upload",
    ),
    (
        "validation/signature-corrupted",
        "cannot be made with the typed API",
    ),
];

#[tokio::test]
async fn the_rust_client_passes_every_client_case_against_served_vectors() {
    let report = check_client(suite(), &ClientRun::new()).await.unwrap();
    let failed: BTreeSet<&str> = report
        .results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail(_)))
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(failed, BTreeSet::new(), "{report}");
    for (id, reason) in SKIPPED {
        match &report.result(id).unwrap().verdict {
            Verdict::Skip(why) => assert!(why.contains(reason), "{id}: {why}"),
            other => panic!("{id}: {other:?}"),
        }
    }
    let client_cases = suite()
        .cases()
        .iter()
        .filter(|c| c.targets().client)
        .count();
    assert_eq!(report.passed(), client_cases - SKIPPED.len(), "{report}");
    assert!(report.passed() >= 70);
}

/// The client's view of the cases that matter most to a caller, one by one: a refused request
/// (before sending, with the service's message), an injected 503 and 429 (retries off), an
/// error in the middle of a stream, a blocked prompt, a finished batch's images.
#[tokio::test]
async fn errors_outcomes_and_batches_reach_the_caller_as_recorded() {
    for id in [
        "validation/image-size-lowercase-1k",
        "errors/model-overloaded",
        "errors/quota-exhausted",
        "errors/invalid-argument-array-wrapped",
        "errors/invalid-api-key",
        "errors/missing-api-key",
        "stream/error-mid-stream",
        "outcomes/blocked-prompt",
        "signatures/response-breaks-all-four-rules",
        "batch/get-succeeded-inlined-responses",
        "grounding/image-search-butterfly-docs",
        "chat/streamed-turn-replayed-as-chunks",
    ] {
        let report = check_client(suite(), &ClientRun::new().with_cases(id))
            .await
            .unwrap();
        assert_eq!(
            report.summary(),
            "1 passed, 0 failed, 0 skipped",
            "{report}"
        );
    }
}
