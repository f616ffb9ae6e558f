//! The Interactions API of the fake server (docs/service/INTERACTIONS.md), over real TCP: create
//! (inline and `delivery: uri`), get (timeline and resumed stream), delete, cancel, continuation,
//! `store: false`, the bounded store, background runs, named-event streams, errors in the API's
//! shape, faults and mounted mocks. The recorded vectors: `interactions_vectors.rs`.

mod common;

use common::interactions::*;
use common::*;
use nanobanana_mock::image::{ImageFormat, sniff};
use nanobanana_mock::{Endpoint, FAULT_HEADER, Fault, IMAGE_FORMAT_HEADER, Mock, MockGemini};
use nanobanana_wire::{Base64Bytes, InteractionEvent, InteractionStatus, Step};
use serde_json::{Value, json};

#[tokio::test]
async fn create_answers_a_signed_thought_and_the_tables_jpeg() {
    let server = MockGemini::start().await;
    let answer = create(&server, json!({})).await;
    let created = interaction(&answer);
    assert_eq!(created.status, Some(InteractionStatus::Completed));
    assert_eq!(created.model.as_deref(), Some(MODEL));
    assert!(
        created
            .id
            .as_deref()
            .is_some_and(|id| id.starts_with("v1_") && id.len() == 27)
    );
    let kinds: Vec<_> = created
        .steps
        .iter()
        .map(|s| s.tag().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        ["thought", "model_output"],
        "create answers the output steps only"
    );
    let Step::Thought(thought) = &created.steps[0] else {
        panic!("a thought step first")
    };
    assert!(
        thought
            .signature
            .as_ref()
            .is_some_and(|s| !s.as_slice().is_empty())
    );
    let images = output_images(&created);
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].mime_type.as_deref(), Some("image/jpeg"));
    let bytes = images[0].data.as_ref().expect("inline data");
    assert_eq!(
        sniff(bytes.as_slice()),
        Some((ImageFormat::Jpeg, 1376, 768))
    );
    let usage = created.usage.expect("usage");
    assert!(usage.total_tokens > usage.total_output_tokens);
    assert_eq!(
        usage.output_tokens_by_modality[0].modality.as_deref(),
        Some("image")
    );
    // The same request gives the same image; the image-format header asks for PNG.
    let again = interaction(&create(&server, json!({})).await);
    assert_eq!(output_images(&again)[0].data, images[0].data);
    let png = post_json_with(
        &server,
        CREATE,
        &create_body(json!({})),
        &[(IMAGE_FORMAT_HEADER, "png")],
    )
    .await;
    let png = output_images(&interaction(&png));
    assert_eq!(
        sniff(png[0].data.as_ref().expect("data").as_slice()).map(|s| s.0),
        Some(ImageFormat::Png)
    );
}

#[tokio::test]
async fn delivery_uri_serves_the_image_from_the_servers_download_route() {
    let server = MockGemini::start().await;
    let answer = create(
        &server,
        json!({"response_format": {"type": "image", "delivery": "uri"}}),
    )
    .await;
    let created = interaction(&answer);
    let image = &output_images(&created)[0];
    assert!(image.data.is_none(), "delivery uri sends no data");
    let uri = image.uri.clone().expect("a uri");
    let path = uri
        .strip_prefix(&server.uri())
        .expect("a uri of this server");
    assert!(path.starts_with("/download/v1/files/"), "{path}");
    let download = get(&server, path).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.header("content-type"), Some("image/jpeg"));
    assert_eq!(sniff(&download.body), Some((ImageFormat::Jpeg, 1024, 1024)));
    // Deleting the interaction deletes its image.
    let id = created.id.expect("an id");
    assert_eq!(delete(&server, &format!("{CREATE}/{id}")).await.status, 200);
    assert_eq!(get(&server, path).await.status, 403);
    // With store: false the interaction is not kept, but its image still downloads.
    let unstored = create(
        &server,
        json!({"store": false, "response_format": {"type": "image", "delivery": "uri"}}),
    )
    .await;
    let uri = output_images(&interaction(&unstored))[0]
        .uri
        .clone()
        .expect("a uri");
    let path = uri
        .strip_prefix(&server.uri())
        .expect("a uri of this server");
    assert_eq!(get(&server, path).await.status, 200);
}

#[tokio::test]
async fn get_answers_the_timeline_and_streams_resume_after_an_event_id() {
    let server = MockGemini::start().await;
    let id = id_of(&create(&server, json!({})).await);
    let timeline = interaction(&get(&server, &format!("{CREATE}/{id}?stream=false")).await);
    let kinds: Vec<_> = timeline
        .steps
        .iter()
        .map(|s| s.tag().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["user_input", "thought", "model_output"]);
    let whole = named_events(&get(&server, &format!("{CREATE}/{id}?stream=true")).await);
    let ids = event_ids(&whole);
    let resumed = get(
        &server,
        &format!("{CREATE}/{id}?stream=true&last_event_id={}", ids[5]),
    )
    .await;
    let resumed = named_events(&resumed);
    assert_eq!(event_ids(&resumed), ids[6..]);
    assert_eq!(resumed, whole[6..]);
    let unknown = get(
        &server,
        &format!("{CREATE}/{id}?stream=true&last_event_id=evt_9999"),
    )
    .await;
    let (status, code, message) = api_error(&unknown);
    assert_eq!((status, code.as_str()), (400, "invalid_request"));
    assert!(
        message.starts_with("Invalid last_event_id \"evt_9999\""),
        "{message}"
    );
    let bad = get(&server, &format!("{CREATE}/{id}?stream=yes")).await;
    assert_eq!(api_error(&bad).0, 400);
}

#[tokio::test]
async fn a_streamed_create_sends_the_named_events_in_order() {
    let server = MockGemini::start().await;
    let answer = create(&server, json!({"stream": true})).await;
    assert_eq!(answer.status, 200);
    let events = named_events(&answer);
    for (name, event) in &events {
        assert_eq!(
            event["event_type"],
            name.as_str(),
            "the event: line and event_type agree"
        );
        serde_json::from_value::<InteractionEvent>(event.clone()).expect("a typed event");
    }
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names[..6],
        [
            "interaction.created",
            "interaction.status_update",
            "step.start",
            "step.delta",
            "step.stop",
            "step.start"
        ]
    );
    assert_eq!(names.last(), Some(&"interaction.completed"));
    assert_eq!(events[3].1["delta"]["type"], "thought_signature");
    let ids = event_ids(&events);
    assert_eq!(ids[0], "evt_0001");
    assert_eq!(
        ids.iter().collect::<std::collections::HashSet<_>>().len(),
        ids.len()
    );
    let images: Vec<&Value> = events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e["delta"]["type"] == "image")
        .collect();
    assert_eq!(images.len(), 1, "the image comes whole in one delta");
    let data = Base64Bytes::from_base64(images[0]["delta"]["data"].as_str().expect("data"))
        .expect("base64");
    assert_eq!(sniff(data.as_slice()), Some((ImageFormat::Jpeg, 1376, 768)));
    let completed = &events.last().expect("events").1["interaction"];
    assert_eq!(completed["status"], "completed");
    assert!(completed["usage"]["total_tokens"].as_i64() > Some(0));
    // A streamed interaction is stored: its id resumes.
    let id = events[0].1["interaction"]["id"].as_str().expect("an id");
    let tail = named_events(
        &get(
            &server,
            &format!("{CREATE}/{id}?stream=true&last_event_id=evt_0002"),
        )
        .await,
    );
    assert_eq!(tail, events[2..]);
}

#[tokio::test]
async fn previous_interaction_id_continues_and_unknown_or_unstored_ids_are_not_found() {
    let server = MockGemini::start().await;
    let first = id_of(&create(&server, json!({})).await);
    let second = interaction(
        &create(
            &server,
            json!({"input": "Make the plate blue", "previous_interaction_id": first}),
        )
        .await,
    );
    assert_eq!(
        second.previous_interaction_id.as_deref(),
        Some(first.as_str())
    );
    assert_eq!(output_images(&second).len(), 1);
    // The history changes the answer: the same turn alone draws another image.
    let alone = interaction(&create(&server, json!({"input": "Make the plate blue"})).await);
    assert_ne!(
        output_images(&alone)[0].data,
        output_images(&second)[0].data
    );
    let unknown = create(
        &server,
        json!({"previous_interaction_id": "v1_doesNotExist0000000000000"}),
    )
    .await;
    assert_eq!(
        api_error(&unknown),
        (
            404,
            "not_found".into(),
            "Interaction v1_doesNotExist0000000000000 was not found.".into()
        )
    );
    let unstored = id_of(&create(&server, json!({"store": false})).await);
    let refused = create(&server, json!({"previous_interaction_id": unstored})).await;
    assert_eq!(
        api_error(&refused),
        (
            404,
            "not_found".into(),
            format!("Interaction {unstored} was not found.")
        )
    );
    assert_eq!(
        api_error(&get(&server, &format!("{CREATE}/{unstored}")).await).0,
        404
    );
    // A conversation the client keeps as steps (the store: false way) is answered too.
    let steps = json!({"input": [
        {"type": "user_input", "content": [{"type": "text", "text": "A nano banana dish"}]},
        {"type": "model_output", "content": [{"type": "text", "text": "Here it is."}]},
        {"type": "user_input", "content": [{"type": "text", "text": "Make the plate blue"}]}
    ], "store": false});
    assert_eq!(
        output_images(&interaction(&create(&server, steps).await)).len(),
        1
    );
}

#[tokio::test]
async fn the_store_is_bounded_and_forgets_the_oldest() {
    let server = MockGemini::builder().max_interactions(2).start().await;
    let ids = [
        id_of(&create(&server, json!({"input": "one"})).await),
        id_of(&create(&server, json!({"input": "two"})).await),
        id_of(&create(&server, json!({"input": "three"})).await),
    ];
    assert_eq!(
        api_error(&get(&server, &format!("{CREATE}/{}", ids[0])).await).1,
        "not_found"
    );
    for id in &ids[1..] {
        assert_eq!(get(&server, &format!("{CREATE}/{id}")).await.status, 200);
    }
}

#[tokio::test]
async fn background_runs_complete_across_gets_and_cancel_while_running() {
    let server = MockGemini::builder().interaction_polls(2).start().await;
    let started = interaction(&create(&server, json!({"background": true})).await);
    assert_eq!(started.status, Some(InteractionStatus::InProgress));
    assert!(started.steps.is_empty());
    let id = started.id.expect("an id");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses
            .push(interaction(&get(&server, &format!("{CREATE}/{id}?stream=false")).await).status);
    }
    use InteractionStatus::{Completed, InProgress};
    assert_eq!(
        statuses,
        [
            Some(InProgress),
            Some(InProgress),
            Some(Completed),
            Some(Completed)
        ]
    );
    let done = interaction(&get(&server, &format!("{CREATE}/{id}")).await);
    assert_eq!(output_images(&done).len(), 1);
    let refused = send(
        client()
            .post(url(&server, &format!("{CREATE}/{id}/cancel")))
            .header("x-goog-api-key", KEY),
    )
    .await;
    assert_eq!(
        api_error(&refused),
        (
            400,
            "failed_precondition".into(),
            format!("Interaction {id} is already completed and cannot be cancelled.")
        )
    );
    let running = id_of(&create(&server, json!({"background": true})).await);
    let cancel = |id: String| {
        send(
            client()
                .post(url(&server, &format!("{CREATE}/{id}/cancel")))
                .header("x-goog-api-key", KEY),
        )
    };
    let cancelled = interaction(&cancel(running.clone()).await);
    assert_eq!(cancelled.status, Some(InteractionStatus::Cancelled));
    assert_eq!(
        interaction(&get(&server, &format!("{CREATE}/{running}")).await).status,
        Some(InteractionStatus::Cancelled)
    );
    assert_eq!(api_error(&cancel(running).await).1, "failed_precondition");
    assert_eq!(api_error(&cancel("v1_nope".into()).await).0, 404);
    let unstored = create(&server, json!({"background": true, "store": false})).await;
    assert_eq!(api_error(&unstored).0, 400);
}

#[tokio::test]
async fn delete_forgets_and_unknown_ids_are_not_found() {
    let server = MockGemini::start().await;
    let id = id_of(&create(&server, json!({})).await);
    let deleted = delete(&server, &format!("{CREATE}/{id}")).await;
    assert_eq!((deleted.status, deleted.text()), (200, "{}".to_owned()));
    let gone = get(&server, &format!("{CREATE}/{id}?stream=false")).await;
    assert_eq!(
        api_error(&gone),
        (
            404,
            "not_found".into(),
            format!("Interaction {id} was not found.")
        )
    );
    assert_eq!(
        api_error(&delete(&server, &format!("{CREATE}/{id}")).await).0,
        404
    );
}

#[tokio::test]
async fn faults_mocks_and_the_key_apply_in_the_apis_error_shape() {
    let server = MockGemini::builder().api_key(KEY).start().await;
    let overloaded = post_json_with(
        &server,
        CREATE,
        &create_body(json!({})),
        &[(FAULT_HEADER, "status=503")],
    )
    .await;
    assert_eq!(api_error(&overloaded).1, "service_unavailable");
    let limited = post_json_with(
        &server,
        CREATE,
        &create_body(json!({})),
        &[(FAULT_HEADER, "status=429; retry-after=2")],
    )
    .await;
    assert_eq!(api_error(&limited).1, "rate_limit_exceeded");
    assert_eq!(limited.header("retry-after"), Some("2"));
    // error-after: a named `error` event after the first events, then the end.
    let broken = post_json_with(
        &server,
        CREATE,
        &create_body(json!({"stream": true})),
        &[(FAULT_HEADER, "error-after=3")],
    )
    .await;
    let events = named_events(&broken);
    assert_eq!(events.len(), 4);
    let (name, error) = &events[3];
    assert_eq!(
        (name.as_str(), &error["event_type"], &error["event_id"]),
        ("error", &json!("error"), &json!("evt_0004"))
    );
    assert_eq!(error["error"]["code"], "service_unavailable");
    // An outcome: a failed interaction whose model_output step says why.
    let no_image = post_json_with(
        &server,
        CREATE,
        &create_body(json!({})),
        &[(FAULT_HEADER, "outcome=image-safety")],
    )
    .await;
    let failed = interaction(&no_image);
    assert_eq!(failed.status, Some(InteractionStatus::Failed));
    assert!(output_images(&failed).is_empty());
    assert_eq!(
        no_image.json()["steps"]
            .as_array()
            .and_then(|s| s.last())
            .map(|s| s["error"]["code"].clone()),
        Some(json!("IMAGE_SAFETY"))
    );
    // A mounted mock on one endpoint of the API.
    let id = id_of(&create(&server, json!({})).await);
    Mock::any()
        .endpoint(Endpoint::InteractionGet)
        .fault(Fault::status(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    assert_eq!(
        api_error(&get(&server, &format!("{CREATE}/{id}")).await).1,
        "api_error"
    );
    assert_eq!(get(&server, &format!("{CREATE}/{id}")).await.status, 200);
    // No key, or another key: 401 authentication.
    let anonymous = send(client().get(url(&server, &format!("{CREATE}/{id}")))).await;
    assert_eq!(
        api_error(&anonymous),
        (
            401,
            "authentication".into(),
            "API key not valid. Please pass a valid API key.".into()
        )
    );
    let wrong = send(
        client()
            .delete(url(&server, &format!("{CREATE}/{id}")))
            .header("x-goog-api-key", "other"),
    )
    .await;
    assert_eq!(api_error(&wrong).0, 401);
}

#[tokio::test]
async fn bad_requests_name_what_was_wrong() {
    let server = MockGemini::start().await;
    let cases = [
        (
            json!({"input": null, "model": MODEL}),
            "Missing required parameter: input.",
        ),
        (
            json!({"input": 5, "model": MODEL}),
            "Invalid input: give a string, a content object, a list of contents or a list of steps.",
        ),
        (
            json!({"input": [{"type": "spreadsheet"}], "model": MODEL}),
            "Unsupported input content type \"spreadsheet\" at position 1. Allowed: text, image, audio, video, document.",
        ),
        (json!({"input": "x"}), "Missing required parameter: model."),
    ];
    for (body, message) in cases {
        let body = body
            .as_object()
            .map(|b| {
                b.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<serde_json::Map<_, _>>()
            })
            .expect("an object");
        let answer = post_json(&server, CREATE, &Value::Object(body)).await;
        assert_eq!(
            api_error(&answer),
            (400, "invalid_request".into(), message.to_owned())
        );
    }
    let not_json = post_bytes(&server, CREATE, "{", &[]).await;
    assert!(
        api_error(&not_json)
            .2
            .starts_with("Invalid JSON payload received.")
    );
    let unknown_model = create(&server, json!({"model": "gemini-9-ultra-image"})).await;
    assert_eq!(
        api_error(&unknown_model),
        (
            404,
            "model_not_found".into(),
            "Model gemini-9-ultra-image is not found or is not supported for interactions.".into()
        )
    );
}
