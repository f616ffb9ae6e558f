//! The Interactions API vectors (`fixtures/interactions/`): every body decodes into the
//! generated types, re-encodes to the same JSON (snake_case names kept), names every field it
//! has, and types every step, content, delta and event it holds. Unknown step, content and
//! event types are kept losslessly.

use nanobanana_wire::corpus::{Case, Corpus};
use nanobanana_wire::routes::route;
use nanobanana_wire::{
    BodyType, Delta, Interaction, InteractionContent, InteractionEvent, Step, UnknownReport,
};
use serde_json::{Value, json};

fn vectors() -> Corpus {
    Corpus::load_interactions(Corpus::repository_dir()).expect("the interactions vectors load")
}

/// Every JSON body of a vector with its type: requests and answers by the route table, error
/// answers as `InteractionErrorResponse`, stream events as `InteractionEvent`.
fn bodies(case: &Case) -> Vec<(String, BodyType, &Value)> {
    let mut out = Vec::new();
    for (i, interaction) in case.interactions.iter().enumerate() {
        let request = &interaction.request;
        let route = route(&request.method, &request.path)
            .unwrap_or_else(|| panic!("{}: no route for {}", case.id, request.path))
            .endpoint();
        if let Some(body) = &request.body {
            out.push((
                format!("{}#{i}/request", case.id),
                route.request().expect("takes a body"),
                body,
            ));
        }
        let response = &interaction.response;
        if let Some(body) = &response.body {
            let ty = if response.status >= 400 {
                BodyType::InteractionErrorResponse
            } else {
                route.response().expect("answers a body")
            };
            out.push((format!("{}#{i}/response", case.id), ty, body));
        }
        for (j, event) in response.events.iter().flatten().enumerate() {
            out.push((
                format!("{}#{i}/event/{j}", case.id),
                BodyType::InteractionEvent,
                event,
            ));
        }
    }
    out
}

/// Exact equality, except that base64 texts of the same bytes are equal.
fn same(original: &Value, encoded: &Value, at: &str) -> Result<(), String> {
    match (original, encoded) {
        (Value::Object(a), Value::Object(b)) => {
            if a.len() != b.len() {
                return Err(format!("{at}: {:?} became {:?}", a.keys(), b.keys()));
            }
            a.iter().try_for_each(|(key, value)| {
                let other = b.get(key).ok_or_else(|| format!("{at}/{key}: dropped"))?;
                same(value, other, &format!("{at}/{key}"))
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .try_for_each(|(i, (x, y))| same(x, y, &format!("{at}/{i}"))),
        (Value::String(a), Value::String(b))
            if a == b
                || nanobanana_wire::Base64Bytes::from_base64(a).ok()
                    == Some(
                        nanobanana_wire::Base64Bytes::from_base64(b).map_err(|e| e.to_string())?,
                    ) =>
        {
            Ok(())
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{at}: {a} became {b}")),
    }
}

#[test]
fn every_vector_body_round_trips_with_its_snake_case_names() {
    let corpus = vectors();
    assert!(corpus.cases().len() >= 15, "{}", corpus.cases().len());
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in corpus.cases() {
        for (at, ty, value) in bodies(case) {
            let bytes = serde_json::to_vec(value).unwrap();
            match ty.reencode(&bytes) {
                Ok(encoded) => {
                    if let Err(diff) = same(value, &encoded, &at) {
                        failures.push(diff);
                    }
                }
                Err(e) => failures.push(format!("{at} as {}: {e}", ty.name())),
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 40, "{checked}");
}

/// The types name every member of the vectors: nothing lands in `unknown_fields` or `Unknown`,
/// except what a case sends on purpose (an unknown parameter, an unknown delivery, a lower-case
/// size).
#[test]
fn the_types_name_everything_the_vectors_hold() {
    let deliberate = [
        "interactions/unknown-field",
        "interactions/delivery-unsupported",
        "interactions/image-size-lower-case",
    ];
    for case in vectors().cases() {
        for (at, ty, value) in bodies(case) {
            let report = ty
                .unknown_report(&serde_json::to_vec(value).unwrap())
                .unwrap();
            if deliberate.contains(&case.id.as_str()) && at.ends_with("/request") {
                assert!(
                    !report.is_empty(),
                    "{at}: the deliberate mistake was not reported"
                );
            } else {
                assert_eq!(report, UnknownReport::default(), "{at}");
            }
        }
    }
}

#[test]
fn steps_contents_and_events_decode_into_their_variants() {
    let corpus = vectors();
    let answer = &corpus
        .case("interactions/create-inline")
        .unwrap()
        .interactions[0]
        .response;
    let interaction: Interaction = serde_json::from_value(answer.body.clone().unwrap()).unwrap();
    let [Step::Thought(thought), Step::ModelOutput(output)] = interaction.steps.as_slice() else {
        panic!("{:?}", interaction.steps)
    };
    assert!(thought.signature.as_ref().is_some_and(|s| !s.is_empty()));
    let InteractionContent::Image(image) = &output.content[1] else {
        panic!("{:?}", output.content)
    };
    assert_eq!(image.mime_type.as_deref(), Some("image/jpeg"));
    assert!(
        image
            .data
            .as_ref()
            .unwrap()
            .as_slice()
            .starts_with(&[0xff, 0xd8])
    );

    let uri = &corpus.case("interactions/create-uri").unwrap().interactions[0].response;
    let interaction: Interaction = serde_json::from_value(uri.body.clone().unwrap()).unwrap();
    let Step::ModelOutput(output) = &interaction.steps[1] else {
        panic!()
    };
    let InteractionContent::Image(image) = &output.content[1] else {
        panic!()
    };
    assert!(image.data.is_none() && image.uri.as_deref().unwrap().starts_with("https://"));

    let stream = &corpus.case("interactions/stream").unwrap().interactions[0].response;
    let events: Vec<InteractionEvent> = stream
        .events
        .iter()
        .flatten()
        .map(|e| serde_json::from_value(e.clone()).unwrap())
        .collect();
    let tags: Vec<&str> = events.iter().map(|e| e.tag().unwrap()).collect();
    assert_eq!(tags.first(), Some(&"interaction.created"));
    assert_eq!(tags.last(), Some(&"interaction.completed"));
    let images = events
        .iter()
        .filter(|e| matches!(e, InteractionEvent::StepDelta(d) if matches!(d.delta, Some(Delta::Image(_)))))
        .count();
    assert_eq!(images, 1);
    assert_eq!(stream.sse, Some(nanobanana_wire::corpus::SseFraming::Named));
}

#[test]
fn unknown_steps_contents_deltas_and_events_are_kept_losslessly() {
    let body = json!({
        "id": "v1_x",
        "status": "some_future_status",
        "steps": [
            {"type": "google_search_call", "arguments": {"queries": ["bananas"]}},
            {"type": "model_output", "content": [
                {"type": "audio", "data": "AAAA", "mime_type": "audio/wav"},
                {"type": "text", "text": "hi", "annotations": [{"type": "url_citation"}]}
            ]},
            {"no_type": true}
        ]
    });
    let interaction: Interaction = serde_json::from_value(body.clone()).unwrap();
    assert!(
        matches!(&interaction.steps[0], Step::Unknown(v) if v["arguments"]["queries"][0] == "bananas")
    );
    assert_eq!(interaction.steps[0].tag(), Some("google_search_call"));
    assert_eq!(interaction.steps[2].tag(), None);
    let Step::ModelOutput(output) = &interaction.steps[1] else {
        panic!()
    };
    assert!(!output.content[0].is_known());
    assert_eq!(serde_json::to_value(&interaction).unwrap(), body);
    let report = UnknownReport::of(&interaction);
    assert!(!report.is_empty());

    for event in [
        json!({"event_type": "interaction.heartbeat", "event_id": "evt_9"}),
        json!({"event_type": "step.delta", "index": 2, "delta": {"type": "arguments_delta", "partial_arguments": "{"}}),
    ] {
        let decoded: InteractionEvent = serde_json::from_value(event.clone()).unwrap();
        assert_eq!(serde_json::to_value(&decoded).unwrap(), event);
    }
}

#[test]
fn a_known_tag_with_a_malformed_body_is_an_error_not_unknown() {
    let err = serde_json::from_value::<Step>(json!({"type": "thought", "signature": "***"}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("base64"), "{err}");
    let err = serde_json::from_value::<Step>(json!("thought"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected a Step object"), "{err}");
}

/// The single-pass decoders give what serde gives, for every answer and event of the vectors
/// and for bodies that send them down the general path (escapes, URL-safe text, audio data in
/// an unknown content, an image in a thought summary).
#[test]
fn the_single_pass_decoders_equal_serde() {
    let mut images = 0;
    for case in vectors().cases() {
        for (at, ty, value) in bodies(case) {
            let bytes = serde_json::to_vec(value).unwrap();
            match ty {
                BodyType::Interaction => {
                    let fast = nanobanana_wire::decode_interaction(&bytes).unwrap();
                    assert_eq!(fast, serde_json::from_slice(&bytes).unwrap(), "{at}");
                    images += usize::from(bytes.windows(8).any(|w| w == b"\"data\":\""));
                }
                BodyType::InteractionEvent => {
                    let fast = nanobanana_wire::decode_interaction_event(&bytes).unwrap();
                    assert_eq!(fast, serde_json::from_slice(&bytes).unwrap(), "{at}");
                }
                _ => {}
            }
        }
    }
    assert!(images >= 4, "{images}");
    for body in [
        json!({"id": "a", "status": "completed", "steps": [{"type": "model_output", "content": [
            {"type": "image", "mime_type": "image/png", "data": "iVBORw0KGgo="},
            {"type": "image", "data": "iVBORw0KGgo"},
            {"type": "image", "data": "_-8="},
            {"type": "audio", "data": "AAAA"}]}]}),
        json!({"id": "a", "status": "completed", "steps": [{"type": "thought", "signature": "c2ln",
            "summary": [{"type": "image", "data": "iVBORw0KGgo="}]}]}),
    ] {
        let text = serde_json::to_vec(&body).unwrap();
        let escaped = String::from_utf8(text.clone())
            .unwrap()
            .replace("iVBOR", "iVB\\u004fR");
        for bytes in [text, escaped.into_bytes()] {
            assert_eq!(
                nanobanana_wire::decode_interaction(&bytes).unwrap(),
                serde_json::from_slice::<Interaction>(&bytes).unwrap()
            );
        }
    }
    let bad = br#"{"id": "a", "status": "completed", "steps": [{"type": "model_output", "content": [{"type": "image", "data": "***"}]}]}"#;
    assert_eq!(
        nanobanana_wire::decode_interaction(bad)
            .unwrap_err()
            .to_string(),
        serde_json::from_slice::<Interaction>(bad)
            .unwrap_err()
            .to_string()
    );
    let event = br#"{"event_type": "step.delta", "event_id": "evt_1", "index": 1, "delta": {"type": "image", "mime_type": "image/jpeg", "data": "/9j/4AAQ"}}"#;
    let InteractionEvent::StepDelta(delta) =
        nanobanana_wire::decode_interaction_event(event).unwrap()
    else {
        panic!()
    };
    let Some(Delta::Image(image)) = delta.delta else {
        panic!()
    };
    assert_eq!(&image.data.unwrap().as_slice()[..3], &[0xff, 0xd8, 0xff]);
}

/// Every answer and event of the vectors, as bytes, with whether it is an event.
fn answer_bodies() -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    for case in vectors().cases() {
        for (_, ty, value) in bodies(case) {
            match ty {
                BodyType::Interaction => out.push((serde_json::to_vec(value).unwrap(), false)),
                BodyType::InteractionEvent => out.push((serde_json::to_vec(value).unwrap(), true)),
                _ => {}
            }
        }
    }
    out
}

/// Feeds `body` to an incremental decoder in pieces of the given lengths (cycled) and checks
/// the result against the single-pass decoders on the whole body, errors included.
fn incremental_agrees(body: &[u8], event: bool, lengths: &[usize]) -> Result<(), String> {
    let mut decoder = nanobanana_wire::ResponseDecoder::for_interactions();
    let mut at = 0;
    for length in lengths.iter().cycle() {
        if at >= body.len() {
            break;
        }
        let end = (at + length.max(&1)).min(body.len());
        decoder.feed(&body[at..end]);
        at = end;
    }
    let same = if event {
        let got = decoder
            .finish_interaction_event()
            .map_err(|e| e.to_string());
        got == nanobanana_wire::decode_interaction_event(body).map_err(|e| e.to_string())
    } else {
        let got = decoder.finish_interaction().map_err(|e| e.to_string());
        got == nanobanana_wire::decode_interaction(body).map_err(|e| e.to_string())
    };
    if same {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
    }
}

proptest::proptest! {
    /// Whatever the piece boundaries, the incremental decoder gives what the single pass gives
    /// on the whole body, for every answer and event of the vectors and for damaged copies.
    #[test]
    fn the_incremental_decoder_agrees_at_any_split(
        lengths in proptest::collection::vec(1usize..9000, 1..8),
        cut in 0usize..1000,
        byte in proptest::prelude::any::<u8>(),
    ) {
        for (body, event) in answer_bodies() {
            proptest::prop_assert!(incremental_agrees(&body, event, &lengths).is_ok(), "{body:?}");
            let mut damaged = body.clone();
            let at = cut % damaged.len();
            damaged[at] = byte;
            proptest::prop_assert!(incremental_agrees(&damaged, event, &lengths).is_ok());
            proptest::prop_assert!(incremental_agrees(&body[..at], event, &lengths).is_ok());
        }
    }
}

/// An image delta arriving in small pieces is decoded on the way: the decoder keeps a
/// skeleton with a reference in place of the base64 text, not the text.
#[test]
fn an_image_delta_is_decoded_while_it_arrives() {
    let (body, _) = answer_bodies()
        .into_iter()
        .filter(|(_, event)| *event)
        .max_by_key(|(body, _)| body.len())
        .unwrap();
    assert!(body.len() > 40_000, "{}", body.len());
    let mut decoder = nanobanana_wire::ResponseDecoder::for_interactions();
    for piece in body.chunks(1000) {
        decoder.feed(piece);
    }
    let (event, kept) = decoder.finish_interaction_event_with_body();
    assert!(kept.len() < 300, "kept {} bytes", kept.len());
    assert!(kept.windows(4).any(|w| w == b"#nb:"));
    assert_eq!(
        event.unwrap(),
        nanobanana_wire::decode_interaction_event(&body).unwrap()
    );
}
