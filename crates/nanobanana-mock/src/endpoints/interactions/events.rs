//! The named-event stream of an interaction (INTERACTIONS.md §5): `interaction.created`,
//! `interaction.status_update`, per output step `step.start` / `step.delta`s / `step.stop`,
//! then `interaction.completed`; every event with an `event_id` (`evt_0001`, ...) and its type
//! both in the `event:` line and in `event_type`. The same timeline answers a streamed create
//! and a streamed get, so `last_event_id` resumes either.

use bytes::Bytes;

use nanobanana_wire::{
    Delta, ImageDelta, Interaction, InteractionCompletedEvent, InteractionContent,
    InteractionCreatedEvent, InteractionEvent, InteractionStatus, InteractionStatusUpdate,
    ModelOutputStep, Step, StepDelta, StepStart, StepStop, TextDelta, ThoughtSignatureDelta,
    ThoughtStep,
};

use super::status_of;
use crate::simulate::split_text;
use crate::store::StoredInteraction;

/// Every event of the interaction's stream, in order, typed.
pub(super) fn timeline(stored: &StoredInteraction) -> Vec<InteractionEvent> {
    let mut events: Vec<InteractionEvent> = Vec::new();
    let snapshot = |status: InteractionStatus| {
        Interaction::new()
            .with_id(stored.id.as_str())
            .with_status(status)
            .with_model(stored.model.as_str())
            .with_created(stored.created.as_str())
            .with_object("interaction")
    };
    events.push(
        InteractionCreatedEvent::new()
            .with_interaction(snapshot(InteractionStatus::InProgress))
            .into(),
    );
    events.push(
        InteractionStatusUpdate::new()
            .with_interaction_id(stored.id.as_str())
            .with_status(InteractionStatus::InProgress)
            .into(),
    );
    let status = status_of(stored);
    if status != InteractionStatus::Cancelled {
        for (index, step) in stored.output.steps.iter().enumerate() {
            step_events(index as i64, step, &mut events);
        }
    }
    let mut last = snapshot(status).with_updated(stored.updated.as_str());
    last.usage = stored.output.usage.clone();
    events.push(
        InteractionCompletedEvent::new()
            .with_interaction(last)
            .into(),
    );
    for (number, event) in events.iter_mut().enumerate() {
        set_event_id(event, &format!("evt_{:04}", number + 1));
    }
    events
}

/// `step.start`, the deltas and `step.stop` of one output step.
fn step_events(index: i64, step: &Step, events: &mut Vec<InteractionEvent>) {
    let (bare, deltas): (Step, Vec<Delta>) = match step {
        Step::Thought(thought) => (
            Step::Thought(ThoughtStep::new()),
            thought
                .signature
                .iter()
                .map(|s| {
                    Delta::ThoughtSignature(ThoughtSignatureDelta::new().with_signature(s.clone()))
                })
                .collect(),
        ),
        Step::ModelOutput(output) => {
            let mut bare = ModelOutputStep::new();
            bare.unknown_fields = output.unknown_fields.clone();
            (
                Step::ModelOutput(bare),
                output.content.iter().flat_map(deltas_of).collect(),
            )
        }
        other => (other.clone(), Vec::new()),
    };
    events.push(StepStart::new().with_index(index).with_step(bare).into());
    for delta in deltas {
        events.push(StepDelta::new().with_index(index).with_delta(delta).into());
    }
    events.push(StepStop::new().with_index(index).into());
}

/// Text in small deltas, an image whole in one (with its `uri` under `delivery: uri`).
fn deltas_of(content: &InteractionContent) -> Vec<Delta> {
    match content {
        InteractionContent::Text(text) => split_text(text.text.as_deref().unwrap_or_default())
            .into_iter()
            .map(|piece| Delta::Text(TextDelta::new().with_text(piece)))
            .collect(),
        InteractionContent::Image(image) => {
            let mut delta = ImageDelta::new();
            delta.data = image.data.clone();
            delta.mime_type = image.mime_type.clone();
            if let Some(uri) = &image.uri {
                delta
                    .unknown_fields
                    .insert("uri".to_owned(), uri.as_str().into());
            }
            vec![Delta::Image(delta)]
        }
        _ => Vec::new(),
    }
}

fn set_event_id(event: &mut InteractionEvent, id: &str) {
    let slot = match event {
        InteractionEvent::Created(e) => &mut e.event_id,
        InteractionEvent::StatusUpdate(e) => &mut e.event_id,
        InteractionEvent::StepStart(e) => &mut e.event_id,
        InteractionEvent::StepDelta(e) => &mut e.event_id,
        InteractionEvent::StepStop(e) => &mut e.event_id,
        InteractionEvent::Completed(e) => &mut e.event_id,
        InteractionEvent::Error(e) => &mut e.event_id,
        _ => return,
    };
    *slot = Some(id.to_owned());
}

fn event_id(event: &InteractionEvent) -> Option<&str> {
    match event {
        InteractionEvent::Created(e) => e.event_id.as_deref(),
        InteractionEvent::StatusUpdate(e) => e.event_id.as_deref(),
        InteractionEvent::StepStart(e) => e.event_id.as_deref(),
        InteractionEvent::StepDelta(e) => e.event_id.as_deref(),
        InteractionEvent::StepStop(e) => e.event_id.as_deref(),
        InteractionEvent::Completed(e) => e.event_id.as_deref(),
        InteractionEvent::Error(e) => e.event_id.as_deref(),
        _ => None,
    }
}

/// The events after `last_event_id` (all of them without one), or the 400 message for an id
/// the stream does not have.
pub(super) fn after(
    events: Vec<InteractionEvent>,
    last_event_id: Option<&str>,
    interaction: &str,
) -> Result<Vec<InteractionEvent>, String> {
    let Some(last) = last_event_id.filter(|l| !l.is_empty()) else {
        return Ok(events);
    };
    match events.iter().position(|e| event_id(e) == Some(last)) {
        Some(at) => Ok(events.into_iter().skip(at + 1).collect()),
        None => Err(format!(
            "Invalid last_event_id \"{last}\": the stream of interaction {interaction} has events {} to {}.",
            events.first().and_then(event_id).unwrap_or("-"),
            events.last().and_then(event_id).unwrap_or("-"),
        )),
    }
}

/// The events as (event name, one-line JSON) pairs for the named framing.
pub(super) fn encode(events: &[InteractionEvent]) -> Result<Vec<(String, Bytes)>, String> {
    events
        .iter()
        .map(|event| {
            let name = event.tag().unwrap_or("message").to_owned();
            serde_json::to_vec(event)
                .map(|json| (name, Bytes::from(json)))
                .map_err(|e| e.to_string())
        })
        .collect()
}
