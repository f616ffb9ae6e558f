//! The Batch API: create (`models/{model}:batchGenerateContent`), get (which runs the batch once
//! its polls are used up), list, cancel and delete. A batch's life is [`BatchState`]:
//! pending, running while polled, then succeeded or cancelled.

use bytes::Bytes;
use serde_json::{Value, json};

use super::files::file_not_found;
use super::{Ctx, generate_value, invalid_json, page};
use crate::fault::{FAULT_HEADER, Fault, apply};
use crate::image::ImageFormat;
use crate::replay;
use crate::reply::{self, Reply};
use crate::server::{Shared, lock};
use crate::store::{self, Batch, BatchInput, BatchState};

/// `POST models/{model}:batchGenerateContent`: a batch of inline requests or of a JSONL file's
/// lines, pending until polled.
pub(super) fn create(ctx: &Ctx<'_>, model: &str) -> Reply {
    let (shared, request) = (ctx.shared, ctx.request);
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(v) => replay::normalize(&v),
        Err(e) => return invalid_json(&e),
    };
    let Some(batch) = body.get("batch") else {
        return reply::invalid_argument(
            "Invalid JSON payload received. Expected {\"batch\": {\"inputConfig\": ...}}.",
        );
    };
    let display_name = batch
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let input = match batch_input(shared, batch.get("inputConfig")) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let webhook = match batch
        .get("webhookConfig")
        .map(|config| crate::webhooks::WebhookConfig::from_json(config, "batch.webhookConfig"))
    {
        Some(Err(message)) => return reply::invalid_argument(&message),
        Some(Ok(config)) => Some(config),
        None => None,
    };
    let mut store = lock(&shared.store);
    if let Err(e) = store.room_for_batch() {
        return reply::error(429, &e, Vec::new());
    }
    let id = store.new_id(&format!("{}/batch", shared.uri));
    let now = store::rfc3339(std::time::SystemTime::now());
    let request_count = match &input {
        BatchInput::Inline(items) | BatchInput::File(items) => items.len(),
    };
    let batch = Batch {
        name: format!("batches/{id}"),
        model: model.to_owned(),
        display_name,
        state: BatchState::Pending,
        polls_left: shared.config.batch_polls,
        create_time: now.clone(),
        update_time: now,
        input,
        output: None,
        request_count,
        failed_count: 0,
        webhook,
    };
    let reply = Reply::json(200, &operation(&batch));
    store.batches.insert(id, batch);
    reply
}

/// What a batch processes: `inputConfig.requests.requests`, or the lines of the stored file
/// `inputConfig.fileName`.
fn batch_input(shared: &Shared, config: Option<&Value>) -> Result<BatchInput, Reply> {
    if let Some(requests) = config.and_then(|c| c.pointer("/requests/requests")) {
        return match requests.as_array() {
            Some(items) if !items.is_empty() => Ok(BatchInput::Inline(items.clone())),
            _ => Err(reply::invalid_argument(
                "batch.inputConfig.requests.requests must hold at least one request.",
            )),
        };
    }
    let Some(name) = config.and_then(|c| c.get("fileName")) else {
        return Err(reply::invalid_argument(
            "batch.inputConfig needs requests.requests (inline) or fileName (a JSONL file).",
        ));
    };
    let name = name.as_str().unwrap_or_default();
    let store = lock(&shared.store);
    let Some(file) = store.file_by_uri(name) else {
        return Err(file_not_found(store::file_id_of_uri(name).unwrap_or(name)));
    };
    let lines: Vec<Value> = String::from_utf8_lossy(&file.bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or(Value::String(l.to_owned())))
        .collect();
    if lines.is_empty() {
        return Err(reply::invalid_argument(&format!(
            "The input file {name} holds no requests."
        )));
    }
    Ok(BatchInput::File(lines))
}

/// The batch as the service's long-running `Operation`. Built as JSON rather than from the
/// wire's `Operation`: its metadata is a proto `Any` whose `@type` the service sends first,
/// which the typed `GenerateContentBatch` would keep only as an unknown field after the known
/// ones, and its `output` is the responses as run (JSON already).
fn operation(batch: &Batch) -> Value {
    let mut metadata = json!({
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
        "model": format!("models/{}", batch.model),
        "name": batch.name,
        "createTime": batch.create_time,
        "updateTime": batch.update_time,
        "state": batch.state.wire(),
        "batchStats": batch_stats(batch),
    });
    if let Some(name) = &batch.display_name {
        metadata["displayName"] = json!(name);
    }
    let done = batch.state.is_done();
    if done {
        metadata["endTime"] = json!(batch.update_time);
    }
    if let Some(output) = &batch.output {
        metadata["output"] = output.clone();
    }
    let mut op = json!({"name": batch.name, "metadata": metadata});
    if done {
        op["done"] = json!(true);
    }
    op
}

/// `batchStats`, int64 counts as strings (proto JSON): all pending until the batch has run,
/// then its successes and failures. A batch cancelled before it ran has neither: its size only.
fn batch_stats(batch: &Batch) -> Value {
    let total = batch.request_count;
    if !batch.state.is_done() {
        return json!({
            "requestCount": total.to_string(),
            "pendingRequestCount": total.to_string(),
        });
    }
    if batch.output.is_none() {
        return json!({"requestCount": total.to_string()});
    }
    let failed = batch.failed_count.min(total);
    json!({
        "requestCount": total.to_string(),
        "successfulRequestCount": (total - failed).to_string(),
        "failedRequestCount": failed.to_string(),
    })
}

/// `GET batches/{batch}`: a poll. While polls are left the batch runs; the poll after the last
/// one runs its requests (outside the store's lock) and it succeeds.
pub(super) fn get(ctx: &Ctx<'_>, id: &str) -> Reply {
    let shared = ctx.shared;
    let (model, input) = {
        let mut store = lock(&shared.store);
        let Some(batch) = store.batches.get_mut(id) else {
            return batch_not_found();
        };
        if batch.state.is_done() {
            return Reply::json(200, &operation(batch));
        }
        if batch.polls_left > 0 {
            batch.polls_left -= 1;
            batch.state = batch.state.polled();
            batch.update_time = store::rfc3339(std::time::SystemTime::now());
            return Reply::json(200, &operation(batch));
        }
        (batch.model.clone(), batch.input.clone())
    };
    let (output, failed) = run(shared, &model, &input, ctx.format);
    let mut store = lock(&shared.store);
    let output = match output {
        RunOutput::Jsonl(jsonl) => {
            let file_id = store.new_id(&format!("{}/batch-output", shared.uri));
            let resource = store.add_file(
                &shared.uri,
                file_id,
                Some(format!("batch-{id}-output")),
                "application/jsonl",
                Bytes::from(jsonl),
            );
            json!({"responsesFile": resource["name"]})
        }
        RunOutput::Inline(output) => output,
    };
    let Some(batch) = store.batches.get_mut(id) else {
        return batch_not_found();
    };
    if !batch.state.is_done() {
        batch.failed_count = failed;
        batch.state = batch.state.finished();
        batch.update_time = store::rfc3339(std::time::SystemTime::now());
        batch.output = Some(output);
        crate::webhooks::batch_ended(shared, batch, &operation(batch));
    }
    Reply::json(200, &operation(batch))
}

/// A batch's results: the inline responses, or the JSONL text of the output file.
enum RunOutput {
    Inline(Value),
    Jsonl(String),
}

/// Runs every request of a batch; returns the output and how many items failed.
fn run(
    shared: &Shared,
    model: &str,
    input: &BatchInput,
    format: Option<ImageFormat>,
) -> (RunOutput, usize) {
    let mut failed = 0;
    let mut outcome = |result: Result<Value, Value>| match result {
        Ok(response) => json!({"response": response}),
        Err(error) => {
            failed += 1;
            json!({"error": error})
        }
    };
    let output = match input {
        BatchInput::Inline(items) => {
            let responses: Vec<Value> = items
                .iter()
                .map(|item| {
                    let fault = item.get("metadata").and_then(|m| m.get(FAULT_HEADER));
                    let mut out =
                        outcome(run_item(shared, model, item.get("request"), fault, format));
                    if let Some(metadata) = item.get("metadata") {
                        out["metadata"] = metadata.clone();
                    }
                    out
                })
                .collect();
            RunOutput::Inline(json!({"inlinedResponses": {"inlinedResponses": responses}}))
        }
        BatchInput::File(lines) => {
            let mut jsonl = String::new();
            for line in lines {
                let result = run_item(
                    shared,
                    model,
                    line.get("request"),
                    line.get(FAULT_HEADER),
                    format,
                );
                let mut out = outcome(result);
                if let Some(key) = line.get("key") {
                    out["key"] = key.clone();
                }
                jsonl.push_str(&out.to_string());
                jsonl.push('\n');
            }
            RunOutput::Jsonl(jsonl)
        }
    };
    (output, failed)
}

/// Runs one item of a batch: its response, or the `error` object it ended in. An item can carry
/// a fault of its own (see [`item_fault`]): in its `metadata` (inline) or beside its `request`
/// (a JSONL line).
fn run_item(
    shared: &Shared,
    model: &str,
    request: Option<&Value>,
    fault: Option<&Value>,
    format: Option<ImageFormat>,
) -> Result<Value, Value> {
    let Some(request) = request else {
        return Err(reply::error_object(
            400,
            "A batch item has no request.",
            Vec::new(),
        ));
    };
    let fault = match fault.map(item_fault) {
        None => Fault::none(),
        Some(Ok(fault)) => fault,
        Some(Err(message)) => return Err(reply::error_object(400, &message, Vec::new())),
    };
    if let Some(code) = fault.status {
        return Err(error_of(&apply::status_reply(code, &fault, Some(model))));
    }
    match generate_value(shared, model, "v1beta", request, fault.outcome, format) {
        Ok(answer) => serde_json::from_slice(&answer.body)
            .map_err(|e| reply::error_object(500, &e.to_string(), Vec::new())),
        Err(reply) => Err(error_of(&reply)),
    }
}

/// `GET batches`: a page of the batches, newest first.
pub(super) fn list(ctx: &Ctx<'_>) -> Reply {
    let store = lock(&ctx.shared.store);
    let mut batches: Vec<&Batch> = store.batches.values().collect();
    batches.sort_by_key(|b| std::cmp::Reverse(b.create_time.clone()));
    let operations: Vec<Value> = batches.iter().map(|b| operation(b)).collect();
    page(ctx.request, "operations", operations.iter().collect())
}

/// `POST batches/{batch}:cancel`: a batch that has not finished is cancelled.
pub(super) fn cancel(ctx: &Ctx<'_>, id: &str) -> Reply {
    let mut store = lock(&ctx.shared.store);
    let Some(batch) = store.batches.get_mut(id) else {
        return batch_not_found();
    };
    match batch.state.cancelled() {
        Ok(state) => {
            batch.state = state;
            batch.update_time = store::rfc3339(std::time::SystemTime::now());
            crate::webhooks::batch_ended(ctx.shared, batch, &operation(batch));
            Reply::empty()
        }
        Err(done) => reply::error(
            400,
            &format!(
                "Batch batches/{id} has already finished ({}) and cannot be cancelled.",
                done.wire().as_str()
            ),
            Vec::new(),
        ),
    }
}

/// `DELETE batches/{batch}`.
pub(super) fn delete(ctx: &Ctx<'_>, id: &str) -> Reply {
    if lock(&ctx.shared.store).batches.remove(id).is_some() {
        Reply::empty()
    } else {
        batch_not_found()
    }
}

fn batch_not_found() -> Reply {
    reply::not_found("Requested entity was not found.")
}

/// The fault a batch item carries under `x-nanobanana-fault`, in the fault header's syntax
/// (e.g. `"outcome=no-image"`, `"status=500"`). Only what can happen to one item of a batch
/// applies (`status`, `retry-delay`, `outcome`); directives about connections, streams or
/// repeated requests are refused rather than silently ignored.
fn item_fault(value: &Value) -> Result<Fault, String> {
    let Some(text) = value.as_str() else {
        return Err(format!(
            "Invalid {FAULT_HEADER} of a batch item: it must be a string of the fault header's directives, e.g. \"status=500\" or \"outcome=no-image\"."
        ));
    };
    let fault = Fault::parse(text).map_err(|e| e.to_string())?;
    let per_item = Fault {
        status: fault.status,
        retry_delay: fault.retry_delay,
        outcome: fault.outcome,
        ..Fault::default()
    };
    if per_item != fault {
        return Err(format!(
            "Invalid {FAULT_HEADER} of a batch item \"{text}\": only status, retry-delay and outcome apply to a batch item."
        ));
    }
    Ok(fault)
}

/// The `error` object of an error reply.
fn error_of(reply: &Reply) -> Value {
    let crate::reply::ReplyBody::Full(body) = &reply.body else {
        return reply::error_object(reply.status, "error", Vec::new());
    };
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").cloned())
        .unwrap_or_else(|| reply::error_object(reply.status, "error", Vec::new()))
}
