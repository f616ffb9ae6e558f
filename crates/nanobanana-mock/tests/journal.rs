//! What the journal tells a test about the requests it received: the endpoint and model of
//! each (from the route table), the typed generate request, filters by endpoint and model, and
//! a visible mark on bodies the journal did not keep.

mod common;

use common::*;
use nanobanana_mock::{Endpoint, MockGemini};
use nanobanana_wire::Modality;

async fn server() -> MockGemini {
    MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await
}

#[tokio::test]
async fn each_entry_names_its_endpoint_model_and_status() {
    let server = server().await;
    let body = image_request("A nano banana dish", &["TEXT", "IMAGE"], None, None);
    assert_eq!(generate(&server, PRO, &body).await.status, 200);
    assert_eq!(get(&server, "/v1/models").await.status, 200);
    assert_eq!(get(&server, "/v1beta/nothing").await.status, 404);
    let journal = server.received_requests();
    let seen: Vec<_> = journal
        .iter()
        .map(|r| (r.endpoint(), r.model(), r.status()))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(Endpoint::GenerateContent), Some(PRO), 200),
            (Some(Endpoint::ModelList), None, 200),
            (None, None, 404),
        ]
    );
    assert_eq!(journal[0].json(), Some(body));
}

#[tokio::test]
async fn generate_calls_decode_to_the_typed_request_and_others_do_not() {
    let server = server().await;
    let body = image_request("A red kite", &["IMAGE"], Some("16:9"), None);
    assert_eq!(generate(&server, FLASH31, &body).await.status, 200);
    assert_eq!(stream(&server, FLASH31, &body).await.status, 200);
    assert_eq!(
        get(&server, &format!("/v1beta/models/{FLASH31}"))
            .await
            .status,
        200
    );
    let journal = server.received_requests();
    for entry in &journal[..2] {
        let request = entry.generate_request().expect("a generate request");
        let config = request.generation_config.expect("a generation config");
        assert_eq!(config.response_modalities, [Modality::Image]);
        let ratio = config.image_config.and_then(|c| c.aspect_ratio);
        assert_eq!(ratio.as_ref().map(|r| r.as_str()), Some("16:9"));
        assert_eq!(
            request.contents[0].parts[0].text.as_deref(),
            Some("A red kite")
        );
    }
    assert_eq!(journal[2].endpoint(), Some(Endpoint::ModelGet));
    assert!(
        journal[2].generate_request().is_none(),
        "models.get has none"
    );
}

#[tokio::test]
async fn the_journal_filters_by_endpoint_and_by_model() {
    let server = server().await;
    let body = prompt("A banana");
    for model in [PRO, FLASH31, PRO] {
        assert_eq!(generate(&server, model, &body).await.status, 200);
    }
    assert_eq!(stream(&server, PRO, &body).await.status, 200);
    assert_eq!(get(&server, "/v1beta/files").await.status, 200);

    let generated = server.received_for(Endpoint::GenerateContent);
    assert_eq!(generated.len(), 3);
    assert!(
        generated
            .iter()
            .all(|r| r.endpoint() == Some(Endpoint::GenerateContent))
    );
    assert_eq!(
        server.received_for(Endpoint::StreamGenerateContent).len(),
        1
    );
    assert_eq!(server.received_for(Endpoint::FileList).len(), 1);
    assert!(server.received_for(Endpoint::BatchList).is_empty());

    let pro = server.received_for_model(PRO);
    let endpoints: Vec<_> = pro.iter().map(|r| r.endpoint()).collect();
    assert_eq!(
        endpoints,
        [
            Some(Endpoint::GenerateContent),
            Some(Endpoint::GenerateContent),
            Some(Endpoint::StreamGenerateContent),
        ]
    );
    assert_eq!(server.received_for_model(FLASH31).len(), 1);
    assert!(server.received_for_model(FLASH25).is_empty());
}

#[tokio::test]
async fn a_body_over_the_journal_body_limit_is_marked_not_silently_empty() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .journal_body_limit(64)
        .start()
        .await;
    let small = prompt("x");
    let large = prompt(&"a long prompt ".repeat(20));
    assert_eq!(generate(&server, PRO, &small).await.status, 200);
    assert_eq!(generate(&server, PRO, &large).await.status, 200);
    assert_eq!(get(&server, "/v1beta/models").await.status, 200);
    let journal = server.received_requests();

    assert!(!journal[0].body_truncated());
    assert!(journal[0].generate_request().is_some());

    let cut = &journal[1];
    assert!(cut.body_truncated() && !cut.body_dropped());
    assert!(cut.body().is_none() && cut.json().is_none() && cut.generate_request().is_none());
    assert!(cut.body_len() > 64);
    let line = cut.to_string();
    assert!(line.contains("body not kept: journal body limit"), "{line}");

    // No body at all is not a truncated one.
    assert!(!journal[2].body_truncated());
    assert!(!journal[2].to_string().contains("not kept"));
}

#[tokio::test]
async fn a_body_dropped_for_the_journal_byte_limit_is_marked_too() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .journal_byte_limit(4 << 10)
        .start()
        .await;
    let body = prompt(&"word ".repeat(500));
    for _ in 0..4 {
        assert_eq!(generate(&server, PRO, &body).await.status, 200);
    }
    let journal = server.received_requests();
    assert!(journal[0].body_truncated() && journal[0].body_dropped());
    assert!(journal[0].generate_request().is_none());
    assert!(journal[0].to_string().contains("body dropped"));
    let last = journal.last().expect("entries");
    assert!(!last.body_truncated());
    assert!(last.generate_request().is_some());
}
