//! The Interactions API (`docs/service/INTERACTIONS.md`): create (`POST interactions`), get
//! (`GET interactions/{id}`, `?stream=true&last_event_id=` resumes the event stream), delete,
//! cancel (`POST interactions/{id}/cancel`). Create is validated by the same rules and catalogue
//! as generateContent at the server's date ([`nanobanana_rules::validate_interaction_json_with`])
//! and answered by the same simulation ([`generate_value`]), read back into the API's steps.
//! Interactions are stored per server (bounded, the oldest evicted) unless `store: false`;
//! `background: true` runs move `in_progress` → `completed` across gets ([`Run`]); with
//! `delivery: uri` the image is stored as a file and served from this server's download route.
//! Errors have the API's shape: `{"error": {"code": "<string>", "message"}}`.

mod answer;
mod events;
mod turn;

use std::time::SystemTime;

use bytes::Bytes;
use serde_json::Value;

use nanobanana_rules::catalogue::{self, Lookup};
use nanobanana_rules::{Options, interaction_error, validate_interaction_json_with};
use nanobanana_wire::{
    CreateInteractionRequest, GenerateContentResponse, Interaction, InteractionContent,
    InteractionStatus, Step,
};

use super::{Ctx, capitalize_first, generate_value};
use crate::reply::{self, Reply};
use crate::server::{Shared, lock};
use crate::store::{self, Run, StoredInteraction};

/// `POST /{v}/interactions`.
pub(super) fn create(ctx: &Ctx<'_>) -> Reply {
    match create_reply(ctx) {
        Ok(reply) | Err(reply) => reply,
    }
}

/// `GET /{v}/interactions/{id}`: the full timeline (`stream=false`, the default), or the event
/// stream after `last_event_id` (`stream=true`). A get of a background run is a poll: it moves
/// the run on; a streamed get plays it to its end.
pub(super) fn get(ctx: &Ctx<'_>, id: &str) -> Reply {
    let streamed = match ctx.request.query("stream") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return invalid(&format!(
                "Invalid value \"{other}\" for query parameter stream. Allowed: true, false."
            ));
        }
    };
    let mut store = lock(&ctx.shared.store);
    let Some(stored) = store.interactions.get_mut(id) else {
        return not_found(id);
    };
    let run = if streamed {
        stored.run.finished()
    } else {
        stored.run.polled()
    };
    if run != stored.run {
        stored.run = run;
        stored.updated = now();
        notify(ctx.shared, stored);
    }
    if !streamed {
        return interaction_reply(&full_timeline(stored));
    }
    let events = events::timeline(stored);
    drop(store);
    stream_reply(ctx, events, ctx.request.query("last_event_id"), id)
}

/// `DELETE /{v}/interactions/{id}`: `{}`; the image files of a `delivery: uri` answer go too.
pub(super) fn delete(ctx: &Ctx<'_>, id: &str) -> Reply {
    let mut store = lock(&ctx.shared.store);
    let Some(removed) = store.interactions.remove(id) else {
        return not_found(id);
    };
    for file in &removed.files {
        store.remove_file(file);
    }
    Reply::empty()
}

/// `POST /{v}/interactions/{id}/cancel`: a running interaction is `cancelled`; a finished one
/// is refused with `400 failed_precondition`.
pub(super) fn cancel(ctx: &Ctx<'_>, id: &str) -> Reply {
    let mut store = lock(&ctx.shared.store);
    let Some(stored) = store.interactions.get_mut(id) else {
        return not_found(id);
    };
    match stored.run.cancelled() {
        Ok(run) => {
            stored.run = run;
            stored.updated = now();
            notify(ctx.shared, stored);
            interaction_reply(&summary(stored))
        }
        Err(_) => reply::interactions_error(
            400,
            "failed_precondition",
            &format!(
                "Interaction {id} is already {} and cannot be cancelled.",
                status_of(stored).as_str()
            ),
        ),
    }
}

/// The status on the wire: the run's, `failed` for a completed run whose answer failed.
pub(super) fn status_of(stored: &StoredInteraction) -> InteractionStatus {
    match stored.run {
        Run::Completed if stored.output.failed => InteractionStatus::Failed,
        run => run.wire(),
    }
}

fn create_reply(ctx: &Ctx<'_>) -> Result<Reply, Reply> {
    let shared = ctx.shared;
    let body: Value = serde_json::from_slice(&ctx.request.body).map_err(|e| {
        invalid(&format!(
            "Invalid JSON payload received. {} (line {}, column {}).",
            capitalize_first(&e.to_string()),
            e.line(),
            e.column()
        ))
    })?;
    if !body.is_object() {
        return Err(invalid(
            "Invalid JSON payload received. Expected an object (CreateInteraction).",
        ));
    }
    let Some(model) = body.get("model").and_then(Value::as_str) else {
        return Err(invalid("Missing required parameter: model."));
    };
    let options = Options::at(shared.config.as_of).with_signatures(shared.config.signatures);
    if let Some(error) = interaction_error(&validate_interaction_json_with(&body, &options)) {
        return Err(reply::interactions_error(
            error.status,
            error.code,
            &error.message,
        ));
    }
    if !matches!(catalogue::lookup(model), Lookup::Known(known) if known.state_at(shared.config.as_of).is_served())
    {
        return Err(reply::interactions_error(
            404,
            "model_not_found",
            &format!("Model {model} is not found or is not supported for interactions."),
        ));
    }
    let request =
        <CreateInteractionRequest as serde::Deserialize>::deserialize(&body).map_err(|e| {
            invalid(&format!(
                "Invalid JSON payload received. {}.",
                capitalize_first(&e.to_string())
            ))
        })?;
    let (keep, background) = (
        request.store != Some(false),
        request.background == Some(true),
    );
    if background && !keep {
        return Err(invalid(
            "background: true needs store: true (a background interaction is read with get).",
        ));
    }
    let mut stored = run_create(ctx, model, &request, &body)?;
    if background {
        stored.run = Run::Running {
            polls_left: shared.config.interaction_polls,
        };
    } else {
        notify(shared, &stored);
    }
    let reply = if request.stream == Some(true) {
        let events = events::timeline(&stored);
        stream_reply(ctx, events, None, &stored.id)
    } else if background {
        interaction_reply(&summary(&stored))
    } else {
        interaction_reply(&output_answer(&stored))
    };
    // With `store: false` nothing is kept but the images of a `delivery: uri` answer: their URIs
    // must download (they stay files of this server, within its file quota).
    if keep {
        let mut store = lock(&shared.store);
        for evicted in store.interactions.insert(stored) {
            for file in &evicted.files {
                store.remove_file(file);
            }
        }
    }
    Ok(reply)
}

/// Resolves the conversation, simulates the answer and builds the interaction to store.
fn run_create(
    ctx: &Ctx<'_>,
    model: &str,
    request: &CreateInteractionRequest,
    body: &Value,
) -> Result<StoredInteraction, Reply> {
    let shared = ctx.shared;
    let turn = turn::read_input(body.get("input"), &shared.signer).map_err(|m| invalid(&m))?;
    let mut contents = match &request.previous_interaction_id {
        Some(previous) => {
            let store = lock(&shared.store);
            if store.interactions.get(previous).is_none() {
                return Err(not_found(previous));
            }
            store.interactions.history(previous)
        }
        None => Vec::new(),
    };
    contents.extend(turn.contents.iter().cloned());
    let generate = turn::generate_body(request, body, contents);
    let answer = generate_value(
        shared,
        model,
        ctx.version,
        &generate,
        ctx.fault.outcome,
        ctx.format,
    )
    .map_err(reply::into_interactions_error)?;
    let response: GenerateContentResponse = serde_json::from_slice(&answer.body)
        .map_err(|e| reply::interactions_error(500, "api_error", &e.to_string()))?;
    let answered = answer::answered(&response, &shared.signer);
    let created = now();
    let id = lock(&shared.store).interactions.new_id(&shared.uri);
    let mut stored = StoredInteraction {
        id,
        model: model.to_owned(),
        created: created.clone(),
        updated: created,
        previous: request.previous_interaction_id.clone(),
        input: turn.steps,
        turn: turn
            .contents
            .into_iter()
            .chain([answered.model_turn])
            .collect(),
        output: answered.output,
        run: Run::Completed,
        files: Vec::new(),
        webhook: webhook_of(body)?,
    };
    if delivers_by_uri(body) {
        deliver_by_uri(shared, ctx.version, &mut stored)?;
    }
    Ok(stored)
}

/// Whether an image response format asks for `delivery: uri`.
fn delivers_by_uri(body: &Value) -> bool {
    let is_uri = |format: &Value| {
        format.get("type").and_then(Value::as_str) == Some("image")
            && format.get("delivery").and_then(Value::as_str) == Some("uri")
    };
    match body.get("response_format") {
        Some(Value::Array(formats)) => formats.iter().any(is_uri),
        Some(format) => is_uri(format),
        None => false,
    }
}

/// `delivery: uri`: each output image is stored as a file of this server, and its content gets
/// the download URI (`/download/{v}/files/{id}:download?alt=media`) instead of `data`.
fn deliver_by_uri(
    shared: &Shared,
    version: &str,
    stored: &mut StoredInteraction,
) -> Result<(), Reply> {
    let mut store = lock(&shared.store);
    for step in &mut stored.output.steps {
        let Step::ModelOutput(output) = step else {
            continue;
        };
        for content in &mut output.content {
            let InteractionContent::Image(image) = content else {
                continue;
            };
            let Some(data) = image.data.take() else {
                continue;
            };
            let bytes = Bytes::from(data.into_vec());
            store
                .check_room(bytes.len())
                .map_err(|e| reply::interactions_error(429, "quota_exceeded", &e))?;
            let file_id = store.new_id(&format!("{}/interaction-image", shared.uri));
            let mime = image
                .mime_type
                .clone()
                .unwrap_or_else(|| "image/jpeg".to_owned());
            store.add_file(
                &shared.uri,
                file_id.clone(),
                Some(format!("{}-image", stored.id)),
                &mime,
                bytes,
            );
            image.uri = Some(format!(
                "{}/download/{version}/files/{file_id}:download?alt=media",
                shared.uri
            ));
            stored.files.push(file_id);
        }
    }
    Ok(())
}

/// What create answers: the output steps only (INTERACTIONS.md §3).
fn output_answer(stored: &StoredInteraction) -> Interaction {
    let mut interaction = summary(stored).with_steps(stored.output.steps.iter().cloned());
    interaction.usage = stored.output.usage.clone();
    interaction
}

/// What get answers: the full timeline, `user_input` steps first, the output once completed.
fn full_timeline(stored: &StoredInteraction) -> Interaction {
    let mut interaction = summary(stored);
    let mut steps = stored.input.clone();
    if matches!(stored.run, Run::Completed) {
        steps.extend(stored.output.steps.iter().cloned());
        interaction.usage = stored.output.usage.clone();
    }
    interaction.steps = steps;
    interaction
}

/// The interaction without its steps (a background run's answer, a cancel's).
fn summary(stored: &StoredInteraction) -> Interaction {
    let mut interaction = Interaction::new()
        .with_id(stored.id.as_str())
        .with_status(status_of(stored))
        .with_model(stored.model.as_str())
        .with_created(stored.created.as_str())
        .with_updated(stored.updated.as_str());
    interaction.previous_interaction_id = stored.previous.clone();
    interaction
}

fn interaction_reply(interaction: &Interaction) -> Reply {
    match serde_json::to_vec(interaction) {
        Ok(json) => Reply::json_bytes(200, Bytes::from(json)),
        Err(e) => reply::interactions_error(500, "api_error", &e.to_string()),
    }
}

fn stream_reply(
    ctx: &Ctx<'_>,
    timeline: Vec<nanobanana_wire::InteractionEvent>,
    last_event_id: Option<&str>,
    id: &str,
) -> Reply {
    let events = match events::after(timeline, last_event_id, id) {
        Ok(events) => events,
        Err(message) => return invalid(&message),
    };
    match events::encode(&events) {
        Ok(named) => Reply::named_events(named, ctx.shared.config.line_ending),
        Err(e) => reply::interactions_error(500, "api_error", &e),
    }
}

/// `webhook_config`, read (a bad one is the API's 400).
fn webhook_of(body: &Value) -> Result<Option<crate::webhooks::WebhookConfig>, Reply> {
    body.get("webhook_config")
        .map(|config| crate::webhooks::WebhookConfig::from_json(config, "webhook_config"))
        .transpose()
        .map_err(|m| invalid(&m))
}

/// Sends the interaction's end event (`interaction.completed`, `interaction.failed`,
/// `interaction.cancelled`) to its `webhook_config` URIs, if it has them and has ended.
fn notify(shared: &Shared, stored: &StoredInteraction) {
    let Some(config) = &stored.webhook else {
        return;
    };
    let status = status_of(stored);
    let kind = match status {
        InteractionStatus::Completed => "interaction.completed",
        InteractionStatus::Failed => "interaction.failed",
        InteractionStatus::Cancelled => "interaction.cancelled",
        _ => return,
    };
    let mut data = serde_json::Map::new();
    data.insert("id".into(), Value::from(stored.id.as_str()));
    data.insert("status".into(), Value::from(status.as_str()));
    data.insert("model".into(), Value::from(stored.model.as_str()));
    data.insert("created".into(), Value::from(stored.created.as_str()));
    data.insert("updated".into(), Value::from(stored.updated.as_str()));
    let event = crate::webhooks::event(kind, data, config, "user_metadata");
    crate::webhooks::deliver(shared, &config.uris, event);
}

fn now() -> String {
    store::rfc3339(SystemTime::now())
}

fn invalid(message: &str) -> Reply {
    reply::interactions_error(400, "invalid_request", message)
}

/// The API's 404 for an interaction this server does not hold (never stored, `store: false`,
/// deleted, or evicted).
fn not_found(id: &str) -> Reply {
    reply::interactions_error(
        404,
        "not_found",
        &format!("Interaction {id} was not found."),
    )
}
