//! The endpoints, one module per family, behind one entrance: [`handle`] routes a request with
//! the workspace's route table ([`nanobanana_wire::routes::route`]), checks the key and the
//! control headers, applies mounted mocks and faults, replays what a recording answers, and
//! hands the rest to the family's handler through an exhaustive `match` on [`Route`].
//!
//! A new endpoint is an entry in `crates/nanobanana-wire/overlay.json` (then `cargo xtask
//! codegen`) and a handler here; the compiler names the `match`es that must learn it
//! ([`dispatch`], [`hybrid_replays`], the conformance runner's `call`).

mod batches;
mod controls;
mod files;
mod generate;
mod interactions;
mod models;
mod uploads;

use std::sync::Arc;

use serde_json::{Value, json};

use nanobanana_wire::routes::{Matched, route};
use nanobanana_wire::{Base64Bytes, Endpoint, Route};

use crate::fault::{Fault, apply};
use crate::image::ImageFormat;
use crate::json::Json;
use crate::mock::Action;
use crate::replay::Lookup as ReplayLookup;
use crate::reply::{self, Reply};
use crate::server::{MODE_HEADER, Mode, Request, Shared, lock};
use crate::store;

pub(crate) use self::generate::generate_value;

/// What every endpoint handler gets: the request and how to answer it.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) request: &'a Request,
    /// The API version of the path (`v1beta`, `v1`).
    pub(crate) version: &'a str,
    pub(crate) mode: Mode,
    /// The fault in force for this request (server, mock and header faults merged).
    pub(crate) fault: &'a Fault,
    /// The image format asked for (server setting or header), if any.
    pub(crate) format: Option<ImageFormat>,
}

/// Answers one request: the answer, the fault to apply while sending it, and the route (`None`
/// for a path that is no endpoint).
pub(crate) async fn handle<'r>(
    shared: &Arc<Shared>,
    request: &'r Request,
) -> (Reply, Fault, Option<Matched<'r>>) {
    let matched = route(&request.method, &request.path);
    let (reply, fault) = answer_any(shared, request, matched);
    // `None`: a request to forward to the upstream (record on miss, [`crate::record`]).
    let reply = match reply {
        Some(reply) => reply,
        None => crate::record::forward(shared, request).await,
    };
    (shaped(reply, matched), fault, matched)
}

/// The Interactions API has its own error shape (INTERACTIONS.md §6): the checks shared by
/// every endpoint (key, control headers, status faults, replay misses) answer in it there.
/// A mock's fixed JSON answer is the user's and stays as written, and so does an upstream's.
fn shaped(reply: Reply, matched: Option<Matched<'_>>) -> Reply {
    match matched.map(|m| m.endpoint()) {
        Some(endpoint) if is_interactions(endpoint) && !reply.fixed => {
            reply::into_interactions_error(reply)
        }
        _ => reply,
    }
}

/// Whether an endpoint is one of the Interactions API's.
fn is_interactions(endpoint: Endpoint) -> bool {
    matches!(
        endpoint,
        Endpoint::InteractionCreate
            | Endpoint::InteractionGet
            | Endpoint::InteractionDelete
            | Endpoint::InteractionCancel
    )
}

/// The answer and the fault to apply; `None` for a request to forward to the upstream.
fn answer_any(
    shared: &Shared,
    request: &Request,
    matched: Option<Matched<'_>>,
) -> (Option<Reply>, Fault) {
    let endpoint = matched.map(|m| m.endpoint());
    let model = matched.and_then(|m| m.model());
    // Resumable upload chunks carry no API key (WIRE.md): the upload id is the credential.
    let is_upload_chunk =
        endpoint == Some(Endpoint::FileUpload) && request.query("upload_id").is_some();
    if !is_upload_chunk && let Some(reply) = controls::check_auth(shared, request) {
        if endpoint.is_some_and(is_interactions) {
            // INTERACTIONS.md §6: no key (or a wrong one) is 401 `authentication`.
            return (
                Some(reply::interactions_error(
                    401,
                    "authentication",
                    "API key not valid. Please pass a valid API key.",
                )),
                Fault::none(),
            );
        }
        return (Some(reply), Fault::none());
    }
    let controls = match controls::Controls::read(shared, request) {
        Ok(controls) => controls,
        Err(reply) => return (Some(reply), Fault::none()),
    };
    let mut mode = controls.mode;
    let mut fault = shared.config.fault.clone();
    match crate::mock::matched_action(shared, request, endpoint, model) {
        Some(Action::Fault(f)) => fault = fault.merged_with(&f),
        Some(Action::Json(status, body)) => {
            let mut reply = Reply::json(status, &body);
            reply.fixed = true;
            return (Some(reply), fault);
        }
        Some(Action::Mode(m)) => mode = m,
        Some(Action::Pass) | None => {}
    }
    if let Some((text, header)) = controls.fault
        && apply::header_fault_applies(&shared.header_faults, text, &header)
    {
        fault = fault.merged_with(&header);
    }
    let serve = |mut fault: Fault| {
        if let Some(reply) = apply::status_answer(&fault, endpoint, model) {
            return (Some(reply), fault);
        }
        if let Some(recorder) = &shared.recorder {
            return (recorder.replay(shared, request), fault);
        }
        let ctx = Ctx {
            shared,
            request,
            version: matched.map_or("v1beta", |m| m.version),
            mode,
            fault: &fault,
            format: controls.format,
        };
        let reply = dispatch(&ctx, matched.map(|m| m.route));
        if reply.reset_connection {
            fault.reset_after = Some(0);
        }
        (Some(reply), fault)
    };
    // Chaos and quotas, when configured: one check on the request path otherwise.
    match &shared.conditions {
        None => serve(fault),
        Some(conditions) => conditions.serve(request, endpoint, model, fault, serve),
    }
}

/// Replay first (by the mode), then the endpoint's handler: one arm per endpoint, no
/// catch-all, so a new endpoint of the route table does not compile until it is served.
fn dispatch(ctx: &Ctx<'_>, route: Option<Route<'_>>) -> Reply {
    if let Some(reply) = replayed(ctx, route.map(|r| r.endpoint())) {
        return reply;
    }
    let Some(route) = route else {
        return reply::not_found(&format!(
            "Method not found: {} {} is not an endpoint of the Gemini API that nanobanana-mock serves.",
            ctx.request.method, ctx.request.path
        ));
    };
    match route {
        Route::GenerateContent { model } => generate::unary(ctx, model),
        Route::StreamGenerateContent { model } => generate::stream(ctx, model),
        Route::BatchCreate { model } => batches::create(ctx, model),
        Route::BatchGet { batch } => batches::get(ctx, batch),
        Route::BatchList => batches::list(ctx),
        Route::BatchCancel { batch } => batches::cancel(ctx, batch),
        Route::BatchDelete { batch } => batches::delete(ctx, batch),
        Route::FileUpload => uploads::upload(ctx),
        Route::FileGet { file } => files::get(ctx, file),
        Route::FileList => files::list(ctx),
        Route::FileDelete { file } => files::delete(ctx, file),
        Route::FileDownload { file } => files::download(ctx, file),
        Route::ModelGet { model } => models::get(ctx, model),
        Route::ModelList => models::list(ctx),
        Route::InteractionCreate => interactions::create(ctx),
        Route::InteractionGet { interaction } => interactions::get(ctx, interaction),
        Route::InteractionDelete { interaction } => interactions::delete(ctx, interaction),
        Route::InteractionCancel { interaction } => interactions::cancel(ctx, interaction),
    }
}

/// The recorded answer, when the mode replays this request; `None` to serve it live.
fn replayed(ctx: &Ctx<'_>, endpoint: Option<Endpoint>) -> Option<Reply> {
    let (shared, request, mode) = (ctx.shared, ctx.request, ctx.mode);
    if mode == Mode::Replay && shared.replay.is_none() {
        // Asked for by the mode header or a mock: say so rather than simulate silently.
        return Some(reply::invalid_argument(&format!(
            "Replay mode was asked for ({MODE_HEADER} or a mock), but this server has no fixtures: start it with .fixtures(dir) or --fixtures DIR."
        )));
    }
    let index = shared.replay.as_ref()?;
    let replays =
        mode == Mode::Replay || (mode == Mode::Hybrid && endpoint.is_none_or(hybrid_replays));
    if !replays {
        return None;
    }
    let body = serde_json::from_slice::<Json<'_>>(&request.body).ok();
    let lookup = index.lookup(
        &request.method,
        &request.path,
        &request.query,
        body.as_ref(),
        &request.body,
    );
    match lookup {
        ReplayLookup::Found(reply) => Some(reply),
        ReplayLookup::Missed(report) if mode == Mode::Replay => {
            let mut unmatched = lock(&shared.unmatched);
            if unmatched.len() < 1000 {
                unmatched.push(report.clone());
            }
            Some(reply::error(
                501,
                &format!("nanobanana-mock replay: {report}"),
                Vec::new(),
            ))
        }
        ReplayLookup::Missed(_) => None,
    }
}

/// Whether hybrid mode replays this endpoint: not the ones that create or list per-server
/// state, which must reflect what this server stored.
fn hybrid_replays(endpoint: Endpoint) -> bool {
    match endpoint {
        Endpoint::BatchCreate
        | Endpoint::BatchList
        | Endpoint::FileUpload
        | Endpoint::FileList
        | Endpoint::InteractionCreate
        | Endpoint::InteractionGet
        | Endpoint::InteractionDelete
        | Endpoint::InteractionCancel => false,
        Endpoint::GenerateContent
        | Endpoint::StreamGenerateContent
        | Endpoint::BatchGet
        | Endpoint::BatchCancel
        | Endpoint::BatchDelete
        | Endpoint::FileGet
        | Endpoint::FileDelete
        | Endpoint::FileDownload
        | Endpoint::ModelGet
        | Endpoint::ModelList => true,
    }
}

/// The 400 for a body that is not JSON, with serde's reason and position.
pub(crate) fn invalid_json(error: &serde_json::Error) -> Reply {
    reply::invalid_argument(&format!(
        "Invalid JSON payload received. {} (line {}, column {}).",
        capitalize_first(&error.to_string()),
        error.line(),
        error.column()
    ))
}

pub(crate) fn capitalize_first(text: &str) -> String {
    // serde_json's message ends with " at line L column C"; the position is given separately.
    let text = text.split(" at line ").next().unwrap_or(text);
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A page of a list: `pageSize` (default 50, at most 1000) and an opaque `pageToken`.
fn page(request: &Request, field: &str, items: Vec<&Value>) -> Reply {
    let size = request
        .query("pageSize")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(50)
        .min(1000);
    let start = match request.query("pageToken") {
        None | Some("") => 0,
        Some(token) => match Base64Bytes::from_base64(token)
            .ok()
            .and_then(|b| String::from_utf8(b.into_vec()).ok())
            .and_then(|s| {
                s.strip_prefix("offset:")
                    .and_then(|n| n.parse::<usize>().ok())
            }) {
            Some(n) => n,
            None => {
                return reply::invalid_argument(&format!(
                    "Invalid page token \"{token}\": pass the nextPageToken of the previous page."
                ));
            }
        },
    };
    // A token is the client's text: an offset past the end (even usize::MAX) is an empty page.
    let end = start.saturating_add(size).min(items.len());
    let mut body = json!({ field: items.get(start..end).unwrap_or(&[]) });
    if end < items.len() {
        body["nextPageToken"] = json!(store::base64_standard(format!("offset:{end}").as_bytes()));
    }
    Reply::json(200, &body)
}
