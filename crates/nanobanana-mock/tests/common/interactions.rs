//! Helpers of the Interactions API tests: requests, the API's error shape, named-event streams.

use serde_json::{Value, json};

use nanobanana_mock::MockGemini;
use nanobanana_wire::{ImageContent, Interaction, InteractionContent, Step};

use super::{Answer, post_json};

pub const MODEL: &str = "gemini-nano-banana-2.1";
pub const CREATE: &str = "/v1/interactions";

pub fn create_body(extra: Value) -> Value {
    let mut body = json!({
        "model": MODEL,
        "input": "A nano banana dish in a fancy restaurant",
        "response_format": {"type": "image", "aspect_ratio": "16:9", "image_size": "1K", "mime_type": "image/jpeg"},
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

pub async fn create(server: &MockGemini, extra: Value) -> Answer {
    post_json(server, CREATE, &create_body(extra)).await
}

pub fn interaction(answer: &Answer) -> Interaction {
    assert_eq!(answer.status, 200, "{}", answer.text_head());
    serde_json::from_slice(&answer.body).expect("an Interaction")
}

pub fn id_of(answer: &Answer) -> String {
    interaction(answer).id.expect("an id")
}

/// `{code, message}` of an Interactions API error answer (a string code, nothing else).
pub fn api_error(answer: &Answer) -> (u16, String, String) {
    let body = answer.json();
    let error = body["error"].as_object().expect("an error object");
    assert_eq!(
        error.len(),
        2,
        "an Interactions error is {{code, message}}: {body}"
    );
    (
        answer.status,
        error["code"].as_str().expect("a string code").to_owned(),
        error["message"].as_str().expect("a message").to_owned(),
    )
}

/// The image contents of the interaction's `model_output` steps.
pub fn output_images(interaction: &Interaction) -> Vec<ImageContent> {
    interaction
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::ModelOutput(o) => Some(o.content.iter()),
            _ => None,
        })
        .flatten()
        .filter_map(|c| match c {
            InteractionContent::Image(i) => Some(i.clone()),
            _ => None,
        })
        .collect()
}

/// A named-event stream: (the `event:` line, the data JSON) of each event.
pub fn named_events(answer: &Answer) -> Vec<(String, Value)> {
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    let text = answer.text();
    assert!(text.ends_with("\n\n"), "the stream ends inside an event");
    text.split("\n\n")
        .filter(|block| !block.is_empty())
        .map(|block| {
            let mut lines = block.lines();
            let name = lines
                .next()
                .and_then(|l| l.strip_prefix("event: "))
                .expect("an event: line");
            let data = lines
                .next()
                .and_then(|l| l.strip_prefix("data: "))
                .expect("a data: line");
            (
                name.to_owned(),
                serde_json::from_str(data).expect("JSON data"),
            )
        })
        .collect()
}

pub fn event_ids(events: &[(String, Value)]) -> Vec<String> {
    events
        .iter()
        .map(|(_, e)| e["event_id"].as_str().expect("an event_id").to_owned())
        .collect()
}
