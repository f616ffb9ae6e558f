//! What a client can observe in an Interactions API answer (docs/service/INTERACTIONS.md): an
//! interaction (`steps`), a named-event stream (`event_type` on every event) or the API's error
//! (`{"error": {"code": "<string>", "message"}}`, the string code read as the error's status).
//! The API has no per-part signatures (the signature is the `thought` step's), so the
//! signature-placement rules of SPEC.md §4 do not apply here.

use serde_json::{Value, json};

use nanobanana_rules::OutcomeKind;

use super::{Answer, Observation, Payload, image_of};
use crate::suite::{Conclusion, ErrorFacts};

/// Whether an answer is the Interactions API's: an interaction, a named-event stream, or an
/// error with a string code.
pub(super) fn is_interactions(answer: &Answer) -> bool {
    match &answer.payload {
        Payload::Json(body) => {
            body.get("steps").is_some()
                || (body.get("id").is_some_and(Value::is_string) && body.get("status").is_some())
                || body.pointer("/error/code").is_some_and(Value::is_string)
        }
        Payload::Events(events) => events
            .first()
            .is_some_and(|e| e.get("event_type").is_some()),
        _ => false,
    }
}

/// The observation of an Interactions API answer.
pub(super) fn observe(answer: &Answer) -> Observation {
    let mut problems = Vec::new();
    let error = error_of(&answer.payload);
    let contents = output_contents(&answer.payload);
    let images: Vec<_> = contents
        .iter()
        .filter(|c| c.get("type").and_then(Value::as_str) == Some("image"))
        .filter_map(|c| {
            let data = c.get("data")?;
            let part = json!({"inlineData": {"mimeType": c.get("mime_type"), "data": data}});
            image_of(&part, &mut problems)
        })
        .collect();
    let answered = !contents.is_empty();
    let outcome = if error.is_some() {
        Conclusion::Error
    } else if !images.is_empty() || has_uri_image(&contents) {
        Conclusion::IMAGES
    } else if answered {
        Conclusion::Answer(OutcomeKind::TextOnly)
    } else {
        Conclusion::Resource
    };
    let resource_fields = match (&answer.payload, outcome) {
        (Payload::Json(Value::Object(map)), Conclusion::Resource) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    Observation {
        status: answer.status,
        outcome,
        finish_reason: None,
        error,
        images,
        signature_violations: Vec::new(),
        answered,
        thoughts: false,
        grounding: None,
        batch_state: None,
        resource_fields,
        problems,
    }
}

fn has_uri_image(contents: &[Value]) -> bool {
    contents
        .iter()
        .any(|c| c.get("type").and_then(Value::as_str) == Some("image") && c.get("uri").is_some())
}

/// The error of a body or the last `error` event: the string code as the status.
fn error_of(payload: &Payload) -> Option<ErrorFacts> {
    let error = match payload {
        Payload::Json(body) => body.get("error"),
        Payload::Events(events) => events
            .last()
            .filter(|e| e.get("event_type").and_then(Value::as_str) == Some("error"))
            .and_then(|e| e.get("error")),
        _ => None,
    }?;
    let text = |name: &str| error.get(name).and_then(Value::as_str).map(str::to_owned);
    Some(ErrorFacts {
        code: error.get("code").and_then(Value::as_i64),
        status: text("code").or_else(|| text("status")),
        message: text("message"),
    })
}

/// The contents of the answer's `model_output` steps: the steps of an interaction, or the
/// `step.delta`s of a stream (text and image deltas are contents).
fn output_contents(payload: &Payload) -> Vec<Value> {
    match payload {
        Payload::Json(body) => body
            .get("steps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|s| s.get("type").and_then(Value::as_str) == Some("model_output"))
            .filter_map(|s| s.get("content").and_then(Value::as_array))
            .flatten()
            .cloned()
            .collect(),
        Payload::Events(events) => events
            .iter()
            .filter(|e| e.get("event_type").and_then(Value::as_str) == Some("step.delta"))
            .filter_map(|e| e.get("delta"))
            .filter(|d| {
                matches!(
                    d.get("type").and_then(Value::as_str),
                    Some("text" | "image")
                )
            })
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}
