//! The server runner (`check_server`, the `server` command) against fake servers: every server
//! case passes against the fake server replaying the corpus and against the one simulating by
//! the rules; servers that answer wrongly are caught, case by case.

mod common;

use common::{KEY, server_cases, suite};
use nanobanana_conformance::{
    Report, ServeOptions, ServerRun, Target, Verdict, check_server, serve_vectors,
};
use nanobanana_mock::{Endpoint, Fault, Mock, MockGemini, Mode};
use serde_json::json;

async fn run(uri: &str) -> Report {
    check_server(suite(), &ServerRun::new(Target::new(uri, KEY)))
        .await
        .expect("the selection names cases")
}

fn findings<'r>(report: &'r Report, id: &str) -> &'r [String] {
    match &report.result(id).expect("the case ran").verdict {
        Verdict::Fail(findings) => findings,
        other => panic!("{id} did not fail: {other:?}\n{report}"),
    }
}

/// Every case that targets servers passes against the fake server replaying the corpus; the
/// client-only ones (faults, broken answers, model judgement, state the case does not create)
/// are skipped, and the summary line says so.
#[tokio::test]
async fn every_server_case_passes_against_the_replaying_fake_server() {
    let server = serve_vectors(suite(), &ServeOptions::new().with_api_key(KEY))
        .await
        .unwrap();
    let report = run(&server.uri()).await;
    assert!(report.is_success(), "{report}");
    let skipped = suite().cases().len() - server_cases();
    assert_eq!(report.passed(), server_cases(), "{report}");
    assert_eq!(report.skipped(), skipped);
    assert!(
        server_cases() >= 55 && skipped >= 15,
        "{server_cases} / {skipped}",
        server_cases = server_cases()
    );
    assert!(
        report.to_string().ends_with(&format!(
            "{} passed, 0 failed, {skipped} skipped",
            server_cases()
        )),
        "{report}"
    );
    assert!(server.unmatched_requests().is_empty());
}

/// The same cases pass against the fake server answering by the rules alone (no recordings):
/// its own images at the table's sizes, its own signatures (sent back in later turns, SPEC.md
/// §4), its own file and batch names (used by later requests), its validation texts.
#[tokio::test]
async fn every_server_case_passes_against_the_simulating_fake_server() {
    // One server per service date the cases record, each playing the service of that date.
    let mut passed = 0;
    for date in ["2026-03-01", "2026-12-03"] {
        let server = MockGemini::builder()
            .as_of(date.parse().expect("a date"))
            .mode(Mode::Simulate)
            .api_key(KEY)
            .batch_polls(0)
            .start()
            .await;
        let run = ServerRun::new(Target::new(&server.uri(), KEY)).with_service_date(date);
        let report = check_server(suite(), &run).await.unwrap();
        assert!(report.is_success(), "{report}");
        passed += report.passed();
    }
    assert_eq!(passed, server_cases());
}

/// A server that answers every request with 500 fails every case whose answer is not an
/// authentication error (the key check comes before the fault), each with the status it got.
#[tokio::test]
async fn a_server_answering_500_fails_and_the_run_fails() {
    let server = MockGemini::builder()
        .as_of(nanobanana_transport::rules::Date::new(2026, 3, 1).expect("a date"))
        .api_key(KEY)
        .fault(Fault::status(500))
        .start()
        .await;
    let report = run(&server.uri()).await;
    assert!(!report.is_success());
    assert_eq!(
        report.passed(),
        2,
        "only the two auth cases pass:\n{report}"
    );
    assert!(report.result("errors/missing-api-key").unwrap().verdict == Verdict::Pass);
    assert_eq!(report.failed(), server_cases() - 2);
    assert_eq!(
        findings(&report, "generate/text-to-image-pro")[0],
        "status 500, expected 200: 500 INTERNAL \"An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting\""
    );
    // A multi-step case stops at the first answer of the wrong status.
    assert_eq!(
        report
            .result("chat/photosynthesis-two-turns")
            .unwrap()
            .interactions,
        1
    );
    assert!(
        report
            .to_string()
            .contains("FAIL   generate/text-to-image-pro")
    );
}

/// Subtler faults: an answer with an image of the wrong size and no signature, a validation
/// answer with another message, a stream cut off, an unsigned grounding answer.
#[tokio::test]
async fn wrong_sizes_signatures_messages_and_streams_are_found() {
    let server = MockGemini::builder()
        .as_of(nanobanana_transport::rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Simulate)
        .api_key(KEY)
        .start()
        .await;
    // A 1x1 PNG without a thoughtSignature for every gemini-3-pro-image-preview generation.
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    Mock::any()
        .endpoint(Endpoint::GenerateContent)
        .model("gemini-3-pro-image-preview")
        .respond_json(
            200,
            json!({"candidates": [{"content": {"role": "model", "parts": [
                {"inlineData": {"mimeType": "image/png", "data": png}}
            ]}, "finishReason": "STOP", "index": 0}]}),
        )
        .mount(&server)
        .await;
    Mock::any()
        .body_contains("\"1k\"")
        .respond_json(
            400,
            json!({"error": {"code": 400, "message": "Bad size.", "status": "INVALID_ARGUMENT"}}),
        )
        .mount(&server)
        .await;
    Mock::any()
        .endpoint(Endpoint::StreamGenerateContent)
        .fault(Fault::truncate_after(1))
        .mount(&server)
        .await;
    let report = run(&server.uri()).await;
    assert!(!report.is_success());
    let pro = findings(&report, "generate/text-to-image-pro");
    assert!(
        pro.contains(&"final image of 1x1, expected 2528x1696".to_owned()),
        "{pro:?}"
    );
    assert!(
        pro.iter().any(|f| f.starts_with("signature rules (SPEC.md §4) broken: response-first-part-signed at part 0, response-image-signed at part 0")),
        "{pro:?}"
    );
    let lower = findings(&report, "validation/image-size-lowercase-1k");
    assert_eq!(lower.len(), 1);
    assert!(
        lower[0].starts_with(
            "error message \"Bad size.\", expected \"Unsupported image size \\\"1k\\\""
        ),
        "{lower:?}"
    );
    let stream = findings(&report, "stream/text-chunks-then-image");
    assert!(
        stream
            .iter()
            .any(|f| f.contains("the stream ends inside an event")),
        "{stream:?}"
    );
    // Cases the mocks do not touch still pass.
    assert_eq!(
        report
            .result("generate/text-to-image-flash25")
            .unwrap()
            .verdict,
        Verdict::Pass
    );
}

/// `with_cases` takes an id or an area; `required_only` skips optional cases; a selector that
/// names nothing is an error naming the areas.
/// A fake server started without a key of its own takes any key, so the wrong-key case cannot
/// pass against it; the finding says what to do (WIRE.md: a wrong key is a 400 API_KEY_INVALID).
#[tokio::test]
async fn a_server_without_a_key_is_told_why_the_wrong_key_case_fails() {
    let server = MockGemini::builder()
        .as_of(nanobanana_transport::rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Simulate)
        .start()
        .await;
    let report = check_server(
        suite(),
        &ServerRun::new(Target::new(&server.uri(), KEY)).with_cases("errors/invalid-api-key"),
    )
    .await
    .unwrap();
    let findings = findings(&report, "errors/invalid-api-key");
    assert!(
        findings.iter().any(|f| f.contains("does it have one?")),
        "{findings:?}"
    );
}

#[tokio::test]
async fn selections() {
    let server = serve_vectors(suite(), &ServeOptions::new().with_api_key(KEY))
        .await
        .unwrap();
    let target = Target::new(&server.uri(), KEY);
    let area = check_server(
        suite(),
        &ServerRun::new(target.clone()).with_cases("generate/"),
    )
    .await
    .unwrap();
    assert_eq!(area.results.len(), 9);
    assert_eq!(area.summary(), "8 passed, 0 failed, 1 skipped", "{area}");
    let one = check_server(
        suite(),
        &ServerRun::new(target.clone())
            .with_cases("chat/docs-replay-without-signature-flash25-accepted")
            .required_only(),
    )
    .await
    .unwrap();
    assert_eq!(
        one.results[0].verdict,
        Verdict::Skip("optional (--required-only)".to_owned())
    );
    let error = check_server(suite(), &ServerRun::new(target).with_cases("nope"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("no case \"nope\": give a case id"),
        "{error}"
    );
    assert!(error.contains("generate/, grounding/"), "{error}");
}
