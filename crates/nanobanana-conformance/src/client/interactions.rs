//! The client calls of the Interactions API vectors (docs/service/INTERACTIONS.md): create (or
//! its stream), get (or the resumed stream), delete and cancel through
//! [`nanobanana_transport::Client::interactions`], and what each returns as the answer it stands
//! for.

use std::collections::BTreeMap;

use futures_util::StreamExt as _;
use serde_json::{Value, json};

use nanobanana_transport::wire::CreateInteractionRequest;
use nanobanana_transport::{Client, Error, ErrorKind, InteractionEvents};
use nanobanana_wire::Route;

use super::{NotMade, answer_of, decode_body, empty_answer, error_answer, no_call, to_json};
use crate::exchange::Outgoing;
use crate::observe::{Answer, Payload};

/// Makes the client call of an Interactions API request.
pub(super) async fn call(
    client: &Client,
    route: Route<'_>,
    request: &Outgoing,
) -> Result<Answer, NotMade> {
    let interactions = client.interactions();
    let query = |name: &str| {
        request
            .query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    Ok(match route {
        Route::InteractionCreate => {
            let typed: CreateInteractionRequest = decode_body(request)?;
            if typed.stream == Some(true) {
                events_answer(interactions.stream(&typed)).await
            } else {
                refused_or(interactions.create(&typed).await)
            }
        }
        Route::InteractionGet { interaction } if query("stream") == Some("true") => {
            events_answer(interactions.resume(interaction, query("last_event_id"))).await
        }
        Route::InteractionGet { interaction } => answer_of(interactions.get(interaction).await),
        Route::InteractionDelete { interaction } => {
            empty_answer(interactions.delete(interaction).await)
        }
        Route::InteractionCancel { interaction } => {
            answer_of(interactions.cancel(interaction).await)
        }
        _ => return Err(no_call(request)),
    })
}

/// A create's answer; a request the client refused before sending stands for the API's error
/// answer to it ([`nanobanana_rules::interaction_error`]: 404 `model_not_found`, 400
/// `parameter_unknown` or `invalid_request`, with the service's text).
fn refused_or<T: serde::Serialize>(result: Result<T, Error>) -> Answer {
    match &result {
        Err(error) => match error.kind() {
            ErrorKind::Validation { report, .. } => {
                match nanobanana_rules::interaction_error(report) {
                    Some(refusal) => Answer {
                        status: refusal.status,
                        headers: BTreeMap::new(),
                        payload: Payload::Json(
                            json!({"error": {"code": refusal.code, "message": refusal.message}}),
                        ),
                    },
                    None => error_answer(error),
                }
            }
            _ => error_answer(error),
        },
        Ok(_) => answer_of(result),
    }
}

/// The events a stream yielded, as a named-event stream: an API error after some events is the
/// stream's `error` event; a stream cut before `interaction.completed` (the runner's client does
/// not retry, so does not resume it) ends where it was cut, and the case's next request resumes
/// it with [`Interactions::resume`](nanobanana_transport::Interactions::resume); an error before
/// any event is the error answer.
async fn events_answer(mut stream: InteractionEvents) -> Answer {
    let mut events: Vec<Value> = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => events.push(to_json(&event)),
            Err(e) if events.is_empty() => return refused_or::<()>(Err(e)),
            Err(e) => {
                if let ErrorKind::Api(api) = e.kind() {
                    events.push(json!({
                        "event_type": "error",
                        "error": {"code": api.status().unwrap_or("api_error"), "message": api.message()},
                    }));
                }
                break;
            }
        }
    }
    Answer {
        status: 200,
        headers: [("content-type".to_owned(), "text/event-stream".to_owned())].into(),
        payload: Payload::Events(events),
    }
}
