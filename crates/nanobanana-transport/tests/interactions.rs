//! The Interactions API client against a scripted responder on 127.0.0.1 that answers with the
//! recorded answers of `fixtures/interactions/` (the fake server does not serve that API yet):
//! what is sent (paths, queries, bodies, headers), what comes back (typed interactions and
//! events, image bytes), background polling, the named-event stream and its resumption after a
//! dropped connection, errors, retries and redaction.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use nanobanana_transport::wire::corpus::{Case, Corpus};
use nanobanana_transport::wire::{
    CreateInteractionRequest, Delta, ImageResponseFormat, InteractionContent, InteractionEvent,
    InteractionStatus, Step,
};
use nanobanana_transport::{Client, ClientConfig, ErrorKind, RetryPolicy, WaitOptions};
use serde_json::Value;
use support::{CANARY, Reply, Stub, assert_no_key, json, quick_retries, sse};

fn vectors() -> Corpus {
    Corpus::load_interactions(Corpus::repository_dir()).unwrap()
}

fn vector(id: &str) -> Case {
    vectors()
        .case(&format!("interactions/{id}"))
        .unwrap()
        .clone()
}

/// A client for the service of 2026-12-03 (the vectors' date).
fn client(stub: &Stub, retry: RetryPolicy) -> Client {
    Client::new(
        ClientConfig::new(CANARY)
            .with_validation(nanobanana_rules::Options::at(
                nanobanana_rules::Date::new(2026, 12, 3).unwrap(),
            ))
            .with_base_url(&stub.base_url)
            .with_retry_policy(retry)
            .with_timeout(Duration::from_secs(10)),
    )
    .unwrap()
}

/// The recorded answer of interaction `i` of a vector, as the responder writes it.
fn recorded(case: &Case, i: usize) -> Reply {
    let response = &case.interactions[i].response;
    match &response.events {
        Some(events) => {
            let pieces: Vec<String> = events.iter().map(named_event).collect();
            sse(&pieces.iter().map(String::as_str).collect::<Vec<_>>())
        }
        None => json(
            response.status,
            &serde_json::to_string(response.body.as_ref().unwrap()).unwrap(),
        ),
    }
}

/// One named event: the `event:` line, then the `data:` line (INTERACTIONS.md §5).
fn named_event(event: &Value) -> String {
    format!(
        "event: {}\ndata: {}\n\n",
        event["event_type"].as_str().unwrap(),
        serde_json::to_string(event).unwrap()
    )
}

fn request_of(case: &Case, i: usize) -> CreateInteractionRequest {
    serde_json::from_value(case.interactions[i].request.body.clone().unwrap()).unwrap()
}

fn sent_json(seen: &support::Seen) -> Value {
    serde_json::from_slice(&seen.body).unwrap()
}

#[tokio::test]
async fn create_sends_the_snake_case_body_and_decodes_the_steps() {
    let case = vector("create-inline");
    let stub = Stub::start(vec![recorded(&case, 0)]).await;
    let interaction = client(&stub, RetryPolicy::none())
        .interactions()
        .create(&request_of(&case, 0))
        .await
        .unwrap();
    let seen = &stub.seen()[0];
    assert_eq!(seen.method, "POST");
    assert!(seen.target.ends_with("/interactions"), "{}", seen.target);
    assert_eq!(seen.header("x-goog-api-key"), Some(CANARY));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        sent_json(seen),
        case.interactions[0].request.body.clone().unwrap()
    );

    assert_eq!(interaction.status, Some(InteractionStatus::Completed));
    let [Step::Thought(thought), Step::ModelOutput(output)] = interaction.steps.as_slice() else {
        panic!("{:?}", interaction.steps)
    };
    assert!(thought.signature.is_some());
    let InteractionContent::Image(image) = &output.content[1] else {
        panic!()
    };
    let blob = vectors()
        .blob("sha256/7b320197e7b5c5d1f8ca825b06eea02712cb4b7f69993e9e6ce975d6330b7522")
        .unwrap();
    assert_eq!(image.data.as_ref().unwrap().as_slice(), blob.as_slice());
}

#[tokio::test]
async fn get_delete_and_cancel_use_the_sdk_paths() {
    let get = vector("get");
    let delete = vector("delete");
    let cancel = vector("cancel");
    let stub = Stub::start(vec![
        recorded(&get, 0),
        recorded(&delete, 0),
        recorded(&cancel, 1),
    ])
    .await;
    let client = client(&stub, RetryPolicy::none());
    let id = get.interactions[0]
        .request
        .path
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let full = client
        .interactions()
        .get(&format!("interactions/{id}"))
        .await
        .unwrap();
    assert!(matches!(full.steps[0], Step::UserInput(_)));
    client.interactions().delete(&id).await.unwrap();
    let cancel_id = cancel.interactions[1]
        .request
        .path
        .split('/')
        .nth(3)
        .unwrap()
        .to_owned();
    let cancelled = client.interactions().cancel(&cancel_id).await.unwrap();
    assert_eq!(cancelled.status, Some(InteractionStatus::Cancelled));

    let seen = stub.seen();
    let targets: Vec<(&str, &str)> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.target.as_str()))
        .collect();
    assert_eq!(
        targets,
        [
            (
                "GET",
                format!("/v1beta/interactions/{id}?stream=false").as_str()
            ),
            ("DELETE", format!("/v1beta/interactions/{id}").as_str()),
            (
                "POST",
                format!("/v1beta/interactions/{cancel_id}/cancel").as_str()
            ),
        ]
    );
    assert!(seen[2].body.is_empty());
}

#[tokio::test]
async fn a_background_run_is_polled_until_it_completes() {
    let case = vector("background");
    let stub = Stub::start(vec![
        recorded(&case, 0),
        recorded(&case, 1),
        recorded(&case, 2),
    ])
    .await;
    let client = client(&stub, RetryPolicy::none());
    let started = client
        .interactions()
        .create(&request_of(&case, 0))
        .await
        .unwrap();
    assert_eq!(started.status, Some(InteractionStatus::InProgress));
    assert!(started.steps.is_empty());
    let options = WaitOptions {
        interval: Duration::from_millis(1),
        max_interval: Duration::from_millis(5),
        timeout: Duration::from_secs(5),
    };
    let done = client
        .interactions()
        .wait(started.id.as_deref().unwrap(), options)
        .await
        .unwrap();
    assert_eq!(done.status, Some(InteractionStatus::Completed));
    assert_eq!(done.steps.len(), 3);
    assert_eq!(stub.seen().len(), 3);
    assert_eq!(sent_json(&stub.seen()[0])["background"], true);
}

#[tokio::test]
async fn a_wait_that_outlasts_its_timeout_names_the_last_status() {
    let case = vector("background");
    let stub = Stub::start(vec![
        recorded(&case, 1),
        recorded(&case, 1),
        recorded(&case, 1),
    ])
    .await;
    let options = WaitOptions {
        interval: Duration::from_millis(5),
        max_interval: Duration::from_millis(5),
        timeout: Duration::from_millis(8),
    };
    let error = client(&stub, RetryPolicy::none())
        .interactions()
        .wait("v1_x", options)
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Timeout), "{error:?}");
    assert!(
        error.to_string().contains("last status: in_progress"),
        "{error}"
    );
}

async fn collect(
    mut events: nanobanana_transport::InteractionEvents,
) -> (Vec<InteractionEvent>, Option<nanobanana_transport::Error>) {
    let mut out = Vec::new();
    while let Some(item) = events.next().await {
        match item {
            Ok(event) => out.push(event),
            Err(error) => return (out, Some(error)),
        }
    }
    (out, None)
}

fn event_ids(events: &[InteractionEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["event_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_stream_yields_the_named_events_in_order() {
    let case = vector("stream");
    let stub = Stub::start(vec![recorded(&case, 0)]).await;
    let mut request = request_of(&case, 0);
    request.stream = None; // the client sets it
    let (events, error) = collect(
        client(&stub, RetryPolicy::none())
            .interactions()
            .stream(&request),
    )
    .await;
    assert!(error.is_none(), "{error:?}");
    let recorded = case.interactions[0].response.events.as_ref().unwrap();
    assert_eq!(events.len(), recorded.len());
    let tags: Vec<&str> = events.iter().map(|e| e.tag().unwrap()).collect();
    assert_eq!(tags[0], "interaction.created");
    assert_eq!(*tags.last().unwrap(), "interaction.completed");
    let image = events.iter().find_map(|e| match e {
        InteractionEvent::StepDelta(d) => match &d.delta {
            Some(Delta::Image(image)) => image.data.clone(),
            _ => None,
        },
        _ => None,
    });
    assert!(image.unwrap().as_slice().starts_with(&[0xff, 0xd8]));
    let seen = &stub.seen()[0];
    assert_eq!(seen.header("accept"), Some("text/event-stream"));
    assert_eq!(sent_json(seen)["stream"], true);
}

#[tokio::test]
async fn a_dropped_stream_resumes_after_the_last_event_id() {
    let case = vector("stream-resume");
    let stub = Stub::start(vec![recorded(&case, 0), recorded(&case, 1)]).await;
    let (events, error) = collect(
        client(&stub, quick_retries())
            .interactions()
            .stream(&request_of(&case, 0)),
    )
    .await;
    assert!(error.is_none(), "{error:?}");
    let ids = event_ids(&events);
    let expected: Vec<String> = (1..=11).map(|n| format!("evt_{n:04}")).collect();
    assert_eq!(ids, expected, "every event once, in order");
    let resume = &stub.seen()[1];
    assert_eq!(resume.method, "GET");
    assert_eq!(
        resume.target,
        case.interactions[1]
            .request
            .path
            .replacen("/v1/", "/v1beta/", 1)
            + "?stream=true&last_event_id=evt_0007"
    );
}

#[tokio::test]
async fn a_stream_cut_inside_an_event_resumes_from_the_last_whole_one() {
    let case = vector("stream-resume");
    let events = case.interactions[0].response.events.as_ref().unwrap();
    let mut pieces: Vec<String> = events.iter().map(named_event).collect();
    // The seventh event arrives half: it is not handed out, and the resume asks from the sixth.
    let seventh = pieces.pop().unwrap();
    pieces.push(seventh[..seventh.len() / 2].to_owned());
    let rest: Vec<Value> = events[6..]
        .iter()
        .chain(case.interactions[1].response.events.as_ref().unwrap())
        .cloned()
        .collect();
    let rest: Vec<String> = rest.iter().map(named_event).collect();
    let stub = Stub::start(vec![
        sse(&pieces.iter().map(String::as_str).collect::<Vec<_>>()),
        sse(&rest.iter().map(String::as_str).collect::<Vec<_>>()),
    ])
    .await;
    let (events, error) = collect(
        client(&stub, quick_retries())
            .interactions()
            .stream(&request_of(&case, 0)),
    )
    .await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(event_ids(&events).len(), 11);
    assert!(stub.seen()[1].target.ends_with("last_event_id=evt_0006"));
}

#[tokio::test]
async fn an_unstored_stream_is_not_resumed_and_resumes_are_bounded() {
    let case = vector("stream-resume");
    let stub = Stub::start(vec![recorded(&case, 0)]).await;
    let mut request = request_of(&case, 0);
    request.store = Some(false);
    let (events, error) = collect(
        client(&stub, quick_retries())
            .interactions()
            .stream(&request),
    )
    .await;
    assert_eq!(events.len(), 7);
    let error = error.unwrap();
    assert!(matches!(error.kind(), ErrorKind::Truncated), "{error:?}");
    assert_eq!(stub.seen().len(), 1);

    // With one attempt allowed, a drop is not resumed either.
    let stub = Stub::start(vec![recorded(&case, 0)]).await;
    let (_, error) = collect(
        client(&stub, RetryPolicy::none())
            .interactions()
            .stream(&request_of(&case, 0)),
    )
    .await;
    assert!(matches!(error.unwrap().kind(), ErrorKind::Truncated));
}

#[tokio::test]
async fn an_error_event_ends_the_stream_with_the_api_error() {
    let case = vector("stream-error");
    let stub = Stub::start(vec![recorded(&case, 0)]).await;
    let (events, error) = collect(
        client(&stub, quick_retries())
            .interactions()
            .stream(&request_of(&case, 0)),
    )
    .await;
    assert_eq!(events.len(), 6);
    let error = error.unwrap();
    let api = error.api_error().expect("an API error");
    assert_eq!(api.http_status(), 500);
    assert_eq!(api.status(), Some("api_error"));
    assert_eq!(api.message(), "Internal error encountered.");
    assert_eq!(stub.seen().len(), 1, "an error event is not resumed");
}

#[tokio::test]
async fn error_answers_are_typed_retried_and_free_of_the_key() {
    let case = vector("get-unknown-id");
    let stub = Stub::start(vec![recorded(&case, 0)]).await;
    let error = client(&stub, quick_retries())
        .interactions()
        .get("v1_doesNotExist0000000000000")
        .await
        .unwrap_err();
    let api = error.api_error().unwrap();
    assert_eq!((api.http_status(), api.status()), (404, Some("not_found")));
    assert_eq!(
        api.message(),
        "Interaction v1_doesNotExist0000000000000 was not found."
    );
    assert_no_key(&error);
    assert_eq!(stub.seen().len(), 1, "a 404 is not retried");

    let ok = vector("create-inline");
    let stub = Stub::start(vec![
        json(
            503,
            r#"{"error": {"code": "service_unavailable", "message": "Try again."}}"#,
        ),
        recorded(&ok, 0),
    ])
    .await;
    let interaction = client(&stub, quick_retries())
        .interactions()
        .create(&request_of(&ok, 0))
        .await
        .unwrap();
    assert_eq!(interaction.status, Some(InteractionStatus::Completed));
    assert_eq!(stub.seen().len(), 2);
}

#[tokio::test]
async fn a_request_the_rules_refuse_is_not_sent() {
    let stub = Stub::start(vec![]).await;
    let request = CreateInteractionRequest::new()
        .with_model("gemini-nano-banana-2.1")
        .with_input("A nano banana dish")
        .with_response_format(ImageResponseFormat::new().with_image_size("512"));
    let error = client(&stub, RetryPolicy::none())
        .interactions()
        .create(&request)
        .await
        .unwrap_err();
    let ErrorKind::Validation { report, .. } = error.kind() else {
        panic!("{error:?}")
    };
    let first = report.first_error().unwrap();
    assert_eq!(first.path(), "/response_format/image_size");
    assert_eq!(
        nanobanana_rules::interaction_error(report).unwrap().code,
        "invalid_request"
    );
    let (_, error) = collect(
        client(&stub, RetryPolicy::none())
            .interactions()
            .stream(&request),
    )
    .await;
    assert!(matches!(
        error.unwrap().kind(),
        ErrorKind::Validation { .. }
    ));
    assert!(stub.seen().is_empty());
}

#[tokio::test]
async fn an_image_delta_in_small_pieces_is_decoded_as_it_arrives() {
    let case = vector("stream");
    let events = case.interactions[0].response.events.as_ref().unwrap();
    let text: String = events.iter().map(named_event).collect();
    let pieces: Vec<&str> = text
        .as_bytes()
        .chunks(997)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let stub = Stub::start(vec![sse(&pieces)]).await;
    let (received, error) = collect(
        client(&stub, RetryPolicy::none())
            .interactions()
            .stream(&request_of(&case, 0)),
    )
    .await;
    assert!(error.is_none(), "{error:?}");
    let decoded: Vec<InteractionEvent> = events
        .iter()
        .map(|e| serde_json::from_value(e.clone()).unwrap())
        .collect();
    assert_eq!(received, decoded);
}
