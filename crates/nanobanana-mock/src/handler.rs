//! Routing and the endpoints: auth, faults, mounted mocks, then replay or simulation.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use nanobanana_rules::catalogue::{self, Lookup};
use nanobanana_rules::{Options, validate_request_json_with};
use nanobanana_wire::corpus::LineEnding;
use nanobanana_wire::routes::split_version;
use nanobanana_wire::{Base64Bytes, GenerateContentRequest};

use crate::fault::{FAULT_HEADER, Fault, Outcome};
use crate::image::{self, ImageFormat};
use crate::journal::Endpoint;
use crate::json::Json;
use crate::mock::{Action, Condition};
use crate::replay::{self, Lookup as ReplayLookup};
use crate::reply::{self, Reply};
use crate::server::{IMAGE_FORMAT_HEADER, MODE_HEADER, Mode, Request, Shared, lock};
use crate::signature::Signed;
use crate::simulate::{self, CachedAnswer};
use crate::store::{self, Batch, BatchInput, FinishedUpload, PendingUpload, UploadCutState};

/// Where a request was routed.
#[derive(Clone, Debug)]
pub(crate) struct RouteInfo {
    pub(crate) endpoint: Endpoint,
    pub(crate) model: Option<String>,
    /// The batch or file id of `batches/{id}` / `files/{id}` routes.
    pub(crate) id: Option<String>,
    /// The API version of the path (`v1beta`, `v1`).
    pub(crate) version: String,
}

impl Default for RouteInfo {
    fn default() -> Self {
        Self {
            endpoint: Endpoint::Unknown,
            model: None,
            id: None,
            version: "v1beta".to_owned(),
        }
    }
}

/// Routes a path.
pub(crate) fn classify(method: &str, path: &str) -> RouteInfo {
    let mut info = RouteInfo::default();
    if let Some(rest) = path.strip_prefix("/download/")
        && let Some((version, rest)) = rest.split_once('/')
        && let Some(id) = rest
            .strip_prefix("files/")
            .and_then(|r| r.strip_suffix(":download"))
        && method == "GET"
    {
        info.version = version.to_owned();
        info.endpoint = Endpoint::FileDownload;
        info.id = Some(id.to_owned());
        return info;
    }
    let Some((upload, rest)) = split_version(path) else {
        return info;
    };
    if let Some(version) = path
        .trim_start_matches("/upload")
        .trim_start_matches('/')
        .split('/')
        .next()
    {
        info.version = version.to_owned();
    }
    let rest = rest.trim_end_matches('/');
    if upload {
        if rest == "files" && method == "POST" {
            info.endpoint = Endpoint::FileUpload;
        }
        return info;
    }
    let name = |prefix: &str| {
        rest.strip_prefix(prefix)
            .filter(|n| !n.is_empty() && !n.contains('/'))
            .map(str::to_owned)
    };
    info.endpoint = match (method, rest) {
        ("GET", "models") => Endpoint::ModelList,
        ("GET", "batches") => Endpoint::BatchList,
        ("GET", "files") => Endpoint::FileList,
        _ => Endpoint::Unknown,
    };
    if info.endpoint != Endpoint::Unknown {
        return info;
    }
    if let Some(target) = rest.strip_prefix("models/") {
        let (model, verb) = match target.split_once(':') {
            Some((m, v)) => (m, Some(v)),
            None => (target, None),
        };
        if model.is_empty() || model.contains('/') {
            return info;
        }
        info.model = Some(model.to_owned());
        info.endpoint = match (method, verb) {
            ("POST", Some("generateContent")) => Endpoint::GenerateContent,
            ("POST", Some("streamGenerateContent")) => Endpoint::StreamGenerateContent,
            ("POST", Some("batchGenerateContent")) => Endpoint::BatchCreate,
            ("GET", None) => Endpoint::ModelGet,
            _ => Endpoint::Unknown,
        };
        return info;
    }
    if let Some(target) = name("batches/") {
        let (id, verb) = match target.split_once(':') {
            Some((id, verb)) => (id.to_owned(), Some(verb.to_owned())),
            None => (target, None),
        };
        info.id = Some(id);
        info.endpoint = match (method, verb.as_deref()) {
            ("GET", None) => Endpoint::BatchGet,
            ("DELETE", None) => Endpoint::BatchDelete,
            ("POST", Some("cancel")) => Endpoint::BatchCancel,
            _ => Endpoint::Unknown,
        };
        return info;
    }
    if let Some(id) = name("files/") {
        info.id = Some(id);
        info.endpoint = match method {
            "GET" => Endpoint::FileGet,
            "DELETE" => Endpoint::FileDelete,
            _ => Endpoint::Unknown,
        };
    }
    info
}

// The headers every request is checked for, parsed once.
static FAULT_HEADER_NAME: http::HeaderName = http::HeaderName::from_static(FAULT_HEADER);
static MODE_HEADER_NAME: http::HeaderName = http::HeaderName::from_static(MODE_HEADER);
static IMAGE_FORMAT_HEADER_NAME: http::HeaderName =
    http::HeaderName::from_static(IMAGE_FORMAT_HEADER);
static API_KEY_HEADER_NAME: http::HeaderName = http::HeaderName::from_static("x-goog-api-key");

/// Answers one request: the answer, the fault to apply while sending it, and the route.
pub(crate) async fn handle(shared: &Arc<Shared>, request: &Request) -> (Reply, Fault, RouteInfo) {
    let info = classify(&request.method, &request.path);
    let (reply, fault) = answer(shared, request, &info).await;
    (reply, fault, info)
}

async fn answer(shared: &Arc<Shared>, request: &Request, info: &RouteInfo) -> (Reply, Fault) {
    let none = Fault::none;
    // Resumable upload chunks carry no API key (WIRE.md): the upload id is the credential.
    let is_upload_chunk =
        info.endpoint == Endpoint::FileUpload && request.query("upload_id").is_some();
    if !is_upload_chunk && let Some(reply) = check_auth(shared, request) {
        return (reply, none());
    }
    // A control header whose value is not text is a bad header (400), never ignored.
    for name in [
        &FAULT_HEADER_NAME,
        &MODE_HEADER_NAME,
        &IMAGE_FORMAT_HEADER_NAME,
    ] {
        if let Some(reply) = not_text(request, name) {
            return (reply, none());
        }
    }
    let header_fault = match request.header(&FAULT_HEADER_NAME) {
        Some(text) => match Fault::parse(text) {
            Ok(fault) => Some((text.to_owned(), fault)),
            Err(e) => return (reply::invalid_argument(&e.to_string()), none()),
        },
        None => None,
    };
    let mut mode = shared.config.mode;
    if let Some(text) = request.header(&MODE_HEADER_NAME) {
        match text.parse::<Mode>() {
            Ok(m) => mode = m,
            Err(e) => {
                return (
                    reply::invalid_argument(&format!("Invalid {MODE_HEADER} header: {e}.")),
                    none(),
                );
            }
        }
    }
    let mut format = shared.config.image_format;
    if let Some(text) = request.header(&IMAGE_FORMAT_HEADER_NAME) {
        match text.parse::<ImageFormat>() {
            Ok(parsed) => format = Some(parsed),
            Err(e) => {
                return (
                    reply::invalid_argument(&format!(
                        "Invalid {IMAGE_FORMAT_HEADER} header \"{}\": allowed are png, jpeg.",
                        e.0
                    )),
                    none(),
                );
            }
        }
    }

    let mut fault = shared.config.fault.clone();
    match matched_mount(shared, request, info) {
        Some(Action::Fault(f)) => fault = fault.merged_with(&f),
        Some(Action::Json(status, body)) => return (Reply::json(status, &body), fault),
        Some(Action::Mode(m)) => mode = m,
        Some(Action::Pass) | None => {}
    }
    if let Some((text, header)) = header_fault {
        let apply = match header.times {
            None => true,
            Some(limit) => {
                let mut counts = lock(&shared.header_faults);
                if counts.len() > 10_000 {
                    counts.clear();
                }
                let count = counts.entry(text).or_insert(0);
                *count += 1;
                *count <= limit
            }
        };
        if apply {
            fault = fault.merged_with(&header);
        }
    }
    // A status beside an upload cut is the cut chunk's answer, not this request's.
    if let Some(code) = fault.status
        && fault.error_after.is_none()
        && !(fault.cut_upload.is_some() && info.endpoint == Endpoint::FileUpload)
    {
        let mut reply = status_fault_reply(code, &fault, info.model.as_deref());
        if let Some(seconds) = fault.retry_after {
            reply = reply.with_header("retry-after", seconds.to_string());
        }
        return (reply, fault);
    }
    let reply = dispatch(shared, request, info, mode, &fault, format).await;
    if reply.reset_connection {
        fault.reset_after = Some(0);
    }
    (reply, fault)
}

/// The 400 for a control header (`x-nanobanana-*`) whose value is not visible ASCII text.
fn not_text(request: &Request, name: &http::HeaderName) -> Option<Reply> {
    let value = request.headers.get(name)?;
    if value.to_str().is_ok() {
        return None;
    }
    let allowed = match name.as_str() {
        FAULT_HEADER => "directives such as \"status=503; times=1\"",
        MODE_HEADER => "simulate, replay, hybrid",
        _ => "png, jpeg",
    };
    Some(reply::invalid_argument(&format!(
        "Invalid {name} header: its value is not text (bytes outside visible ASCII, {} bytes). Allowed: {allowed}.",
        value.len()
    )))
}

/// The error answer of a status fault, with the fault's `RetryInfo.retryDelay` (34 s, as the
/// service, unless it says otherwise).
fn status_fault_reply(code: u16, fault: &Fault, model: Option<&str>) -> Reply {
    let delay = fault.retry_delay.map_or(34, |d| d.as_secs().max(1));
    reply::status_fault(code, model, delay)
}

fn check_auth(shared: &Shared, request: &Request) -> Option<Reply> {
    let key = request
        .header(&API_KEY_HEADER_NAME)
        .or_else(|| request.query("key"))
        .filter(|k| !k.is_empty());
    match (key, &shared.config.api_key) {
        (None, _) => Some(reply::error(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            Vec::new(),
        )),
        (Some(sent), Some(expected)) if sent != expected => Some(reply::error(
            400,
            "API key not valid. Please pass a valid API key.",
            vec![json!({
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"}
            })],
        )),
        _ => None,
    }
}

fn matched_mount(shared: &Shared, request: &Request, info: &RouteInfo) -> Option<Action> {
    let mounts = shared.mounts.read().unwrap_or_else(|p| p.into_inner());
    for mounted in mounts.iter() {
        let mock = &mounted.mock;
        let matches = mock.conditions.iter().all(|c| match c {
            Condition::Method(m) => request.method == *m,
            Condition::PathContains(p) => request.path.contains(p.as_str()),
            Condition::Endpoint(e) => info.endpoint == *e,
            Condition::Model(m) => info.model.as_deref() == Some(m.as_str()),
            Condition::Header(name, value) => request.header(name) == Some(value.as_str()),
            Condition::BodyContains(text) => contains(&request.body, text.as_bytes()),
        });
        if !matches {
            continue;
        }
        let previous = mounted.matched.fetch_add(1, Ordering::SeqCst);
        if let Some(limit) = mock.limit
            && previous >= limit
        {
            // Exhausted: this request is not counted (expect() counts the applied matches) and
            // falls through to the next mock or normal serving.
            mounted.matched.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        return Some(mock.action.clone());
    }
    None
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether hybrid mode replays this endpoint: not the ones that create or list per-server
/// state, which must reflect what this server stored.
fn hybrid_replays(endpoint: Endpoint) -> bool {
    !matches!(
        endpoint,
        Endpoint::BatchCreate | Endpoint::BatchList | Endpoint::FileUpload | Endpoint::FileList
    )
}

async fn dispatch(
    shared: &Arc<Shared>,
    request: &Request,
    info: &RouteInfo,
    mode: Mode,
    fault: &Fault,
    format: Option<ImageFormat>,
) -> Reply {
    if mode == Mode::Replay && shared.replay.is_none() {
        // Asked for by the mode header or a mock: say so rather than simulate silently.
        return reply::invalid_argument(&format!(
            "Replay mode was asked for ({MODE_HEADER} or a mock), but this server has no fixtures: start it with .fixtures(dir) or --fixtures DIR."
        ));
    }
    if let Some(index) = &shared.replay
        && (mode == Mode::Replay || (mode == Mode::Hybrid && hybrid_replays(info.endpoint)))
    {
        match index.lookup(
            &request.method,
            &request.path,
            &request.query,
            serde_json::from_slice::<Json<'_>>(&request.body)
                .ok()
                .as_ref(),
            &request.body,
        ) {
            ReplayLookup::Found(reply) => return reply,
            ReplayLookup::Missed(report) if mode == Mode::Replay => {
                let mut unmatched = lock(&shared.unmatched);
                if unmatched.len() < 1000 {
                    unmatched.push(report.clone());
                }
                return reply::error(
                    501,
                    &format!("nanobanana-mock replay: {report}"),
                    Vec::new(),
                );
            }
            ReplayLookup::Missed(_) => {}
        }
    }
    match info.endpoint {
        Endpoint::GenerateContent | Endpoint::StreamGenerateContent => {
            let model = info.model.as_deref().unwrap_or_default();
            let stream = info.endpoint == Endpoint::StreamGenerateContent;
            match generate(shared, request, model, &info.version, fault.outcome, format) {
                Ok(answer) if stream => stream_reply(request, answer, shared.config.line_ending),
                Ok(answer) => Reply::json_bytes(200, answer.body),
                Err(reply) => reply,
            }
        }
        Endpoint::ModelList => {
            let served = catalogue::available_at(shared.config.as_of);
            Reply::json(
                200,
                &json!({"models": served.map(model_resource).collect::<Vec<_>>()}),
            )
        }
        Endpoint::ModelGet => {
            let model = info.model.as_deref().unwrap_or_default();
            let served = catalogue::lookup(model)
                .model()
                .filter(|m| m.state_at(shared.config.as_of).is_served());
            match served {
                Some(m) => Reply::json(200, &model_resource(m)),
                None => reply::not_found(&catalogue::not_found_message(
                    model,
                    &info.version,
                    "getModel",
                )),
            }
        }
        Endpoint::FileUpload => upload(shared, request, fault),
        Endpoint::FileGet => {
            let id = info.id.as_deref().unwrap_or_default();
            match lock(&shared.store).files.get(id) {
                Some(file) => Reply::json(200, &file.resource),
                None => file_not_found(id),
            }
        }
        Endpoint::FileDelete => {
            let id = info.id.as_deref().unwrap_or_default();
            if lock(&shared.store).remove_file(id) {
                Reply::empty()
            } else {
                file_not_found(id)
            }
        }
        Endpoint::FileDownload => {
            let id = info.id.as_deref().unwrap_or_default();
            match lock(&shared.store).files.get(id) {
                Some(file) => Reply {
                    status: 200,
                    headers: vec![(
                        "content-type".into(),
                        file.resource["mimeType"]
                            .as_str()
                            .unwrap_or("application/octet-stream")
                            .to_owned(),
                    )],
                    body: crate::reply::ReplyBody::Full(file.bytes.clone()),
                    reset_connection: false,
                },
                None => file_not_found(id),
            }
        }
        Endpoint::FileList => {
            let store = lock(&shared.store);
            let files: Vec<&Value> = store.files.values().map(|f| &f.resource).collect();
            page(request, "files", files)
        }
        Endpoint::BatchCreate => {
            let model = info.model.as_deref().unwrap_or_default();
            batch_create(shared, request, model)
        }
        Endpoint::BatchGet => {
            let id = info.id.as_deref().unwrap_or_default();
            batch_get(shared, id, format)
        }
        Endpoint::BatchList => {
            let store = lock(&shared.store);
            let mut batches: Vec<&Batch> = store.batches.values().collect();
            batches.sort_by_key(|b| std::cmp::Reverse(b.create_time.clone()));
            let operations: Vec<Value> = batches.iter().map(|b| operation(b)).collect();
            page(request, "operations", operations.iter().collect())
        }
        Endpoint::BatchCancel => {
            let id = info.id.as_deref().unwrap_or_default();
            let mut store = lock(&shared.store);
            match store.batches.get_mut(id) {
                Some(batch) if is_pending(batch.state) => {
                    batch.state = "BATCH_STATE_CANCELLED";
                    batch.update_time = store::rfc3339(std::time::SystemTime::now());
                    Reply::empty()
                }
                Some(batch) => reply::error(
                    400,
                    &format!(
                        "Batch batches/{id} has already finished ({}) and cannot be cancelled.",
                        batch.state
                    ),
                    Vec::new(),
                ),
                None => batch_not_found(),
            }
        }
        Endpoint::BatchDelete => {
            let id = info.id.as_deref().unwrap_or_default();
            if lock(&shared.store).batches.remove(id).is_some() {
                Reply::empty()
            } else {
                batch_not_found()
            }
        }
        Endpoint::Unknown => reply::not_found(&format!(
            "Method not found: {} {} is not an endpoint of the Gemini API that nanobanana-mock serves.",
            request.method, request.path
        )),
    }
}

fn file_not_found(id: &str) -> Reply {
    reply::error(
        403,
        &format!("You do not have permission to access the File {id} or it may not exist."),
        Vec::new(),
    )
}

fn batch_not_found() -> Reply {
    reply::not_found("Requested entity was not found.")
}

fn invalid_json(error: &serde_json::Error) -> Reply {
    reply::invalid_argument(&format!(
        "Invalid JSON payload received. {} (line {}, column {}).",
        capitalize_first(&error.to_string()),
        error.line(),
        error.column()
    ))
}

fn capitalize_first(text: &str) -> String {
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

/// A model as `models.get` and `models.list` describe it, from the catalogue.
fn model_resource(model: &catalogue::Model) -> Value {
    let limits = model.token_limits();
    json!({
        "name": format!("models/{}", model.id()),
        "baseModelId": model.id(),
        "version": model.version(),
        "displayName": model.name(),
        "description": format!("{} (simulated by nanobanana-mock).", model.name()),
        "inputTokenLimit": limits.input().unwrap_or(65536),
        "outputTokenLimit": limits.output().unwrap_or(32768),
        "supportedGenerationMethods": ["generateContent", "countTokens", "batchGenerateContent"],
        "thinking": !matches!(model.thinking(), catalogue::Thinking::NotConfigurable),
    })
}

/// Validates and simulates one `generateContent` request.
fn generate(
    shared: &Shared,
    request: &Request,
    model: &str,
    version: &str,
    outcome: Option<Outcome>,
    format: Option<ImageFormat>,
) -> Result<CachedAnswer, Reply> {
    let body: Value = serde_json::from_slice(&request.body).map_err(|e| invalid_json(&e))?;
    generate_value(shared, model, version, &body, outcome, format)
}

fn generate_value(
    shared: &Shared,
    model: &str,
    version: &str,
    body: &Value,
    outcome: Option<Outcome>,
    format: Option<ImageFormat>,
) -> Result<CachedAnswer, Reply> {
    if !body.is_object() {
        return Err(reply::invalid_argument(
            "Invalid JSON payload received. Expected an object (GenerateContentRequest).",
        ));
    }
    // The service's 404 for an id it does not serve at the server's date: unknown, shut down or
    // not yet released (model-lifecycle). A known text-only model exists: asking it for images
    // is a validation error (400), not an unknown model.
    let lookup = catalogue::lookup(model);
    let served = match lookup {
        Lookup::Known(known) => known.state_at(shared.config.as_of).is_served(),
        Lookup::Unknown(_) => lookup.is_text_only(),
    };
    if !served {
        return Err(reply::not_found(&catalogue::not_found_message(
            model,
            version,
            "generateContent",
        )));
    }
    let options = Options::at(shared.config.as_of).with_signatures(shared.config.signatures);
    let report = validate_request_json_with(model, body, &options);
    if let Some(error) = report.first_error() {
        return Err(reply::invalid_argument(error.message()));
    }
    // The model's own output format (JPEG for the 3.x models) unless the server or the request
    // asked for one.
    let format = format.unwrap_or_else(|| model_format(lookup, shared.config.as_of));
    // Type-checked from the borrowed value: no copy of a body that may hold megabytes of base64.
    if let Err(e) = <GenerateContentRequest as serde::Deserialize>::deserialize(body) {
        return Err(reply::invalid_argument(&format!(
            "Invalid JSON payload received. {}.",
            capitalize_first(&e.to_string())
        )));
    }
    let normal = replay::normalize(body);
    let input_images = check_parts(shared, &normal)?;
    let seed = simulate::seed(model, &normal);
    let mut key_hasher = Sha256::new();
    key_hasher.update(seed);
    key_hasher.update(format.mime_type().as_bytes());
    key_hasher.update(outcome.map_or("", |o| o.as_str()).as_bytes());
    let key: [u8; 32] = key_hasher.finalize().into();
    if let Some(answer) = lock(&shared.cache).get(&key) {
        return Ok(answer);
    }
    let context = simulate::Context {
        signer: &shared.signer,
        format,
        input_images,
    };
    let simulated = simulate::generate(model, &normal, &seed, outcome, &context)
        .map_err(simulate::Failure::into_reply)?;
    let answer = CachedAnswer {
        body: Bytes::from(simulated.response.to_string()),
        events: simulated
            .chunks
            .iter()
            .map(|c| Bytes::from(c.to_string()))
            .collect(),
    };
    lock(&shared.cache).put(key, answer.clone());
    Ok(answer)
}

/// The format a model answers with (the catalogue's `outputMimeType`): JPEG for the 3.x image
/// models, PNG for 2.5 Flash Image and for ids the catalogue does not know.
fn model_format(lookup: Lookup<'_>, as_of: nanobanana_rules::Date) -> ImageFormat {
    match lookup.model().map(|model| model.output_mime_type_at(as_of)) {
        Some("image/jpeg") => ImageFormat::Jpeg,
        _ => ImageFormat::Png,
    }
}

/// Whether a `fileData.fileUri` names a Files API file of this server (rather than an https URL
/// or a `gs://` object, which the service fetches itself since 2026-01-08 and this server
/// accepts without fetching: no network).
fn is_files_api_uri(uri: &str) -> bool {
    let is_url =
        uri.starts_with("gs://") || uri.starts_with("http://") || uri.starts_with("https://");
    let files_path = ["/v1beta/files/", "/v1/files/", "/v1alpha/files/"]
        .iter()
        .any(|path| uri.contains(path));
    !is_url || (files_path && store::file_id_of_uri(uri).is_some())
}

/// Checks the signatures of model parts sent back (SPEC.md §4, WIRE.md texts) and resolves
/// input images; returns the input images' dimensions.
fn check_parts(shared: &Shared, body: &Value) -> Result<Vec<(u32, u32)>, Reply> {
    let mut dimensions = Vec::new();
    let contents = body.get("contents").and_then(Value::as_array);
    for content in contents.into_iter().flatten() {
        let is_model = content.get("role").and_then(Value::as_str) == Some("model");
        for part in content
            .get("parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let inline = part
                .pointer("/inlineData/data")
                .and_then(Value::as_str)
                .and_then(|d| Base64Bytes::from_base64(d).ok());
            if is_model
                && let Some(signature) = part.get("thoughtSignature").and_then(Value::as_str)
            {
                let signature = Base64Bytes::from_base64(signature)
                    .map_err(|_| reply::invalid_argument("Corrupted thought signature."))?;
                // The documented dummy signatures pass, as the plain string or base64-encoded.
                let dummy = catalogue::is_dummy_signature(signature.as_slice());
                let signed = match (&inline, part.get("text").and_then(Value::as_str)) {
                    (Some(bytes), _) => Signed::Image(bytes.as_slice()),
                    (None, Some(text)) => Signed::Text(text),
                    (None, None) => Signed::Other,
                };
                if !dummy && !shared.signer.verify(signature.as_slice(), signed) {
                    return Err(reply::invalid_argument("Corrupted thought signature."));
                }
            }
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(bytes) = &inline
                && let Some((_, w, h)) = image::sniff(bytes.as_slice())
            {
                dimensions.push((w, h));
            }
            if let Some(uri) = part
                .pointer("/fileData/fileUri")
                .and_then(Value::as_str)
                .filter(|uri| is_files_api_uri(uri))
            {
                let store = lock(&shared.store);
                match store.file_by_uri(uri) {
                    Some(file) => {
                        if let Some((_, w, h)) = image::sniff(&file.bytes) {
                            dimensions.push((w, h));
                        }
                    }
                    None => {
                        let id = store::file_id_of_uri(uri).unwrap_or(uri);
                        return Err(file_not_found(id));
                    }
                }
            }
        }
    }
    Ok(dimensions)
}

fn stream_reply(request: &Request, answer: CachedAnswer, line_ending: LineEnding) -> Reply {
    if request.query("alt") == Some("sse") {
        Reply::events(answer.events, line_ending)
    } else {
        // Without alt=sse the service streams one JSON array of the chunks.
        let mut body = Vec::with_capacity(answer.events.iter().map(Bytes::len).sum::<usize>() + 16);
        body.push(b'[');
        for (i, event) in answer.events.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(b",\r\n");
            }
            body.extend_from_slice(event);
        }
        body.push(b']');
        Reply::json_bytes(200, Bytes::from(body))
    }
}

fn upload(shared: &Shared, request: &Request, fault: &Fault) -> Reply {
    let protocol = request
        .header("x-goog-upload-protocol")
        .unwrap_or("raw")
        .to_ascii_lowercase();
    let command = request
        .header("x-goog-upload-command")
        .unwrap_or("")
        .to_ascii_lowercase();
    if let Some(upload_id) = request.query("upload_id") {
        return upload_chunk(shared, request, upload_id, &command, fault);
    }
    match protocol.as_str() {
        "resumable" if command.contains("start") => upload_start(shared, request, fault),
        "resumable" => reply::invalid_argument(
            "A resumable upload starts with X-Goog-Upload-Command: start; later commands go to the X-Goog-Upload-URL it answers with.",
        ),
        "multipart" => upload_multipart(shared, request),
        "raw" => {
            let mime = request
                .header("x-goog-upload-header-content-type")
                .or_else(|| request.header("content-type"))
                .unwrap_or("application/octet-stream");
            let name = request.header("x-goog-upload-file-name").map(str::to_owned);
            store_upload(shared, name, mime, request.body.clone())
        }
        other => reply::invalid_argument(&format!(
            "Unsupported X-Goog-Upload-Protocol \"{other}\": allowed are raw, multipart, resumable."
        )),
    }
}

fn store_upload(shared: &Shared, name: Option<String>, mime: &str, bytes: Bytes) -> Reply {
    let mut store = lock(&shared.store);
    if let Err(e) = store.check_room(bytes.len()) {
        return reply::error(429, &e, Vec::new());
    }
    let id = store.new_id(&shared.uri);
    let mime = mime.split(';').next().unwrap_or(mime).trim().to_owned();
    let resource = store.add_file(&shared.uri, id, name, &mime, bytes);
    Reply::json(200, &json!({ "file": resource }))
}

/// `{"file": {...}}` metadata of an upload, camelCase or snake_case.
fn file_metadata(body: &[u8]) -> (Option<String>, Option<String>, Option<u64>) {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return (None, None, None);
    };
    let value = replay::normalize(&value);
    let file = value.get("file").unwrap_or(&value);
    let text = |k: &str| file.get(k).and_then(Value::as_str).map(str::to_owned);
    let size = file.get("sizeBytes").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    });
    (text("displayName"), text("mimeType"), size)
}

fn upload_start(shared: &Shared, request: &Request, fault: &Fault) -> Reply {
    let (name, body_mime, body_size) = file_metadata(&request.body);
    let mime = request
        .header("x-goog-upload-header-content-type")
        .map(str::to_owned)
        .or(body_mime);
    let Some(mime) = mime else {
        return reply::invalid_argument(
            "Missing the file's MIME type: send X-Goog-Upload-Header-Content-Type or file.mimeType.",
        );
    };
    let declared = request
        .header("x-goog-upload-header-content-length")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .or(body_size);
    let cut = match upload_cut(fault, declared) {
        Ok(cut) => cut,
        Err(reply) => return reply,
    };
    let mut store = lock(&shared.store);
    // Any declared length, up to u64::MAX, is compared without overflow.
    if let Err(e) = store.check_room(usize::try_from(declared.unwrap_or(0)).unwrap_or(usize::MAX)) {
        return reply::error(429, &e, Vec::new());
    }
    let id = store.new_id(&format!("{}/upload", shared.uri));
    store.uploads.insert(
        id.clone(),
        PendingUpload {
            display_name: name,
            mime_type: mime,
            declared_size: declared,
            data: bytes::BytesMut::new(),
            cut,
        },
    );
    Reply::json_bytes(200, Bytes::new())
        .with_header("x-goog-upload-status", "active")
        .with_header(
            "x-goog-upload-url",
            format!(
                "{}/upload/v1beta/files?upload_id={id}&upload_protocol=resumable",
                shared.uri
            ),
        )
        .with_header("x-goog-upload-chunk-granularity", (8u64 << 20).to_string())
}

/// The cut a fault asks for, as the state of a new upload session, or the 400 when a
/// percentage has no declared length to apply to.
fn upload_cut(fault: &Fault, declared: Option<u64>) -> Result<UploadCutState, Reply> {
    let Some(cut) = fault.cut_upload else {
        return Ok(UploadCutState::None);
    };
    match cut.offset(declared) {
        Some(at) => Ok(UploadCutState::Armed {
            at,
            status: fault.status,
        }),
        None => Err(reply::invalid_argument(&format!(
            "Invalid {FAULT_HEADER} directive cut-upload-at: a percentage needs the upload's declared length (X-Goog-Upload-Header-Content-Length on its start); use cut-upload-after=BYTES otherwise."
        ))),
    }
}

fn upload_chunk(
    shared: &Shared,
    request: &Request,
    upload_id: &str,
    command: &str,
    fault: &Fault,
) -> Reply {
    let mut store = lock(&shared.store);
    let Some(pending) = store.uploads.get_mut(upload_id) else {
        if command.contains("query")
            && let Some(finished) = store.finished_upload(upload_id)
        {
            let body = match store.files.get(&finished.file_id) {
                Some(file) => json!({ "file": file.resource }),
                None => json!({}),
            };
            return Reply::json(200, &body)
                .with_header("x-goog-upload-status", "final")
                .with_header("x-goog-upload-size-received", finished.size.to_string());
        }
        return reply::not_found(&format!(
            "Upload session \"{upload_id}\" not found: it finished, was never started, or this server restarted."
        ))
        .with_header("x-goog-upload-status", "final");
    };
    let received = pending.data.len() as u64;
    if command.contains("query") {
        return Reply::json_bytes(200, Bytes::new())
            .with_header("x-goog-upload-status", "active")
            .with_header("x-goog-upload-size-received", received.to_string());
    }
    if !command.contains("upload") && !command.contains("finalize") {
        return reply::invalid_argument(&format!(
            "Unsupported X-Goog-Upload-Command \"{command}\": allowed are upload, finalize, query (or \"upload, finalize\")."
        ))
        .with_header("x-goog-upload-status", "active");
    }
    if pending.cut == UploadCutState::None {
        match upload_cut(fault, pending.declared_size) {
            Ok(cut) => pending.cut = cut,
            Err(reply) => return reply.with_header("x-goog-upload-status", "active"),
        }
    }
    if let Some(offset) = request.header("x-goog-upload-offset")
        && offset.trim().parse::<u64>().ok() != Some(received)
    {
        return reply::invalid_argument(&format!(
            "Invalid X-Goog-Upload-Offset \"{offset}\": the server has received {received} bytes of this upload, so the next chunk starts at {received}."
        ))
        .with_header("x-goog-upload-status", "active")
        .with_header("x-goog-upload-size-received", received.to_string());
    }
    let after = received.saturating_add(request.body.len() as u64);
    if let Some(declared) = pending.declared_size
        && after > declared
    {
        let reply = reply::invalid_argument(&format!(
            "Upload of {after} bytes so far exceeds the {declared} bytes its start declared; the upload is cancelled."
        ));
        store.uploads.remove(upload_id);
        return reply.with_header("x-goog-upload-status", "final");
    }
    // The storage quota holds for every chunk, not only at finalize: an upload never grows past
    // it in memory.
    if let Err(e) = store.check_chunk(request.body.len()) {
        store.uploads.remove(upload_id);
        return reply::error(429, &e, Vec::new()).with_header("x-goog-upload-status", "final");
    }
    let Some(pending) = store.uploads.get_mut(upload_id) else {
        return batch_not_found();
    };
    // A fault cut: keep the chunk up to the cut point, then fail this request once.
    if let UploadCutState::Armed { at, status } = pending.cut
        && after > at
    {
        let keep = usize::try_from(at.saturating_sub(received))
            .unwrap_or(usize::MAX)
            .min(request.body.len());
        pending.data.extend_from_slice(&request.body[..keep]);
        pending.cut = UploadCutState::Done;
        let kept = pending.data.len().to_string();
        return match status {
            Some(code) => status_fault_reply(code, fault, None)
                .with_header("x-goog-upload-status", "active")
                .with_header("x-goog-upload-size-received", kept),
            None => Reply {
                reset_connection: true,
                ..Reply::json_bytes(502, Bytes::new())
            },
        };
    }
    pending.data.extend_from_slice(&request.body);
    let total = pending.data.len() as u64;
    if !command.contains("finalize") {
        return Reply::json_bytes(200, Bytes::new())
            .with_header("x-goog-upload-status", "active")
            .with_header("x-goog-upload-size-received", total.to_string());
    }
    if let Some(declared) = pending.declared_size
        && declared != total
    {
        let reply = reply::invalid_argument(&format!(
            "Upload finalized with {total} bytes, but its start declared {declared} bytes."
        ));
        store.uploads.remove(upload_id);
        return reply.with_header("x-goog-upload-status", "final");
    }
    let Some(pending) = store.uploads.remove(upload_id) else {
        return batch_not_found();
    };
    if let Err(e) = store.check_room(pending.data.len()) {
        return reply::error(429, &e, Vec::new()).with_header("x-goog-upload-status", "final");
    }
    let id = store.new_id(&shared.uri);
    let mime = pending.mime_type.split(';').next().unwrap_or("").trim();
    let resource = store.add_file(
        &shared.uri,
        id.clone(),
        pending.display_name,
        mime,
        pending.data.freeze(),
    );
    store.finish_upload(
        upload_id.to_owned(),
        FinishedUpload {
            size: total,
            file_id: id,
        },
    );
    Reply::json(200, &json!({ "file": resource })).with_header("x-goog-upload-status", "final")
}

fn upload_multipart(shared: &Shared, request: &Request) -> Reply {
    let content_type = request.header("content-type").unwrap_or("");
    let Some(boundary) = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"').to_owned())
    else {
        return reply::invalid_argument(
            "A multipart upload needs Content-Type: multipart/related; boundary=...",
        );
    };
    let delimiter = format!("--{boundary}");
    let body = &request.body;
    let mut sections = Vec::new();
    let mut rest: &[u8] = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let end = find(rest, delimiter.as_bytes()).unwrap_or(rest.len());
        sections.push(&rest[..end]);
        rest = &rest[end..];
    }
    let parse = |section: &[u8]| -> Option<(String, Vec<u8>)> {
        let split = find(section, b"\r\n\r\n")?;
        let headers = String::from_utf8_lossy(&section[..split]).to_ascii_lowercase();
        let mut content = &section[split + 4..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        let mime = headers
            .lines()
            .find_map(|l| l.trim().strip_prefix("content-type:"))
            .map(|m| m.trim().to_owned())
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        Some((mime, content.to_vec()))
    };
    let (Some(meta), Some(media)) = (
        sections.first().and_then(|s| parse(s)),
        sections.get(1).and_then(|s| parse(s)),
    ) else {
        return reply::invalid_argument(
            "A multipart upload has two parts: the JSON metadata ({\"file\": {...}}) and the media.",
        );
    };
    let (name, body_mime, _) = file_metadata(&meta.1);
    let mime = body_mime.unwrap_or(media.0);
    store_upload(shared, name, &mime, Bytes::from(media.1))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_pending(state: &str) -> bool {
    matches!(state, "BATCH_STATE_PENDING" | "BATCH_STATE_RUNNING")
}

fn batch_create(shared: &Shared, request: &Request, model: &str) -> Reply {
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
    let input = match batch.get("inputConfig") {
        Some(config) if config.pointer("/requests/requests").is_some() => {
            match config
                .pointer("/requests/requests")
                .and_then(Value::as_array)
            {
                Some(items) if !items.is_empty() => BatchInput::Inline(items.clone()),
                _ => {
                    return reply::invalid_argument(
                        "batch.inputConfig.requests.requests must hold at least one request.",
                    );
                }
            }
        }
        Some(config) if config.get("fileName").is_some() => {
            let name = config["fileName"].as_str().unwrap_or_default();
            let store = lock(&shared.store);
            let Some(file) = store.file_by_uri(name) else {
                return file_not_found(store::file_id_of_uri(name).unwrap_or(name));
            };
            let lines: Vec<Value> = String::from_utf8_lossy(&file.bytes)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap_or(Value::String(l.to_owned())))
                .collect();
            if lines.is_empty() {
                return reply::invalid_argument(&format!(
                    "The input file {name} holds no requests."
                ));
            }
            BatchInput::File(lines)
        }
        _ => {
            return reply::invalid_argument(
                "batch.inputConfig needs requests.requests (inline) or fileName (a JSONL file).",
            );
        }
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
        state: "BATCH_STATE_PENDING",
        polls_left: shared.config.batch_polls,
        create_time: now.clone(),
        update_time: now,
        input,
        output: None,
        request_count,
        failed_count: 0,
    };
    let reply = Reply::json(200, &operation(&batch));
    store.batches.insert(id, batch);
    reply
}

fn operation(batch: &Batch) -> Value {
    let mut metadata = json!({
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
        "model": format!("models/{}", batch.model),
        "name": batch.name,
        "createTime": batch.create_time,
        "updateTime": batch.update_time,
        "state": batch.state,
        "batchStats": batch_stats(batch),
    });
    if let Some(name) = &batch.display_name {
        metadata["displayName"] = json!(name);
    }
    let done = !is_pending(batch.state);
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
    if is_pending(batch.state) {
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

fn batch_get(shared: &Shared, id: &str, format: Option<ImageFormat>) -> Reply {
    let (model, input) = {
        let mut store = lock(&shared.store);
        let Some(batch) = store.batches.get_mut(id) else {
            return batch_not_found();
        };
        if !is_pending(batch.state) {
            return Reply::json(200, &operation(batch));
        }
        if batch.polls_left > 0 {
            batch.polls_left -= 1;
            batch.state = "BATCH_STATE_RUNNING";
            batch.update_time = store::rfc3339(std::time::SystemTime::now());
            return Reply::json(200, &operation(batch));
        }
        let input = match &batch.input {
            BatchInput::Inline(items) => BatchInput::Inline(items.clone()),
            BatchInput::File(lines) => BatchInput::File(lines.clone()),
        };
        (batch.model.clone(), input)
    };
    // Run the requests outside the lock. An item can carry a fault of its own (see
    // `item_fault`): in its `metadata` (inline) or beside its `request` (a JSONL line).
    let run = |request: Option<&Value>, fault: Option<&Value>| -> Result<Value, Value> {
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
            Some(Err(message)) => {
                return Err(reply::error_object(400, &message, Vec::new()));
            }
        };
        if let Some(code) = fault.status {
            return Err(error_of(&status_fault_reply(code, &fault, Some(&model))));
        }
        match generate_value(shared, &model, "v1beta", request, fault.outcome, format) {
            Ok(answer) => serde_json::from_slice(&answer.body)
                .map_err(|e| reply::error_object(500, &e.to_string(), Vec::new())),
            Err(reply) => Err(error_of(&reply)),
        }
    };
    let mut output_file = None;
    let mut failed = 0;
    let output = match &input {
        BatchInput::Inline(items) => {
            let responses: Vec<Value> = items
                .iter()
                .map(|item| {
                    let fault = item.get("metadata").and_then(|m| m.get(FAULT_HEADER));
                    let mut out = match run(item.get("request"), fault) {
                        Ok(response) => json!({"response": response}),
                        Err(error) => {
                            failed += 1;
                            json!({"error": error})
                        }
                    };
                    if let Some(metadata) = item.get("metadata") {
                        out["metadata"] = metadata.clone();
                    }
                    out
                })
                .collect();
            json!({"inlinedResponses": {"inlinedResponses": responses}})
        }
        BatchInput::File(lines) => {
            let mut jsonl = String::new();
            for line in lines {
                let mut out = match run(line.get("request"), line.get(FAULT_HEADER)) {
                    Ok(response) => json!({"response": response}),
                    Err(error) => {
                        failed += 1;
                        json!({"error": error})
                    }
                };
                if let Some(key) = line.get("key") {
                    out["key"] = key.clone();
                }
                jsonl.push_str(&out.to_string());
                jsonl.push('\n');
            }
            output_file = Some(jsonl);
            Value::Null
        }
    };
    let mut store = lock(&shared.store);
    let output = match output_file {
        Some(jsonl) => {
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
        None => output,
    };
    let Some(batch) = store.batches.get_mut(id) else {
        return batch_not_found();
    };
    if is_pending(batch.state) {
        batch.failed_count = failed;
        batch.state = "BATCH_STATE_SUCCEEDED";
        batch.update_time = store::rfc3339(std::time::SystemTime::now());
        batch.output = Some(output);
    }
    Reply::json(200, &operation(batch))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route_under_every_version() {
        for version in ["v1beta", "v1"] {
            let info = classify(
                "POST",
                &format!("/{version}/models/gemini-3-pro-image:generateContent"),
            );
            assert_eq!(info.endpoint, Endpoint::GenerateContent);
            assert_eq!(info.model.as_deref(), Some("gemini-3-pro-image"));
            assert_eq!(info.version, version);
            assert_eq!(
                classify("POST", &format!("/upload/{version}/files")).endpoint,
                Endpoint::FileUpload
            );
        }
        assert_eq!(
            classify("GET", "/v1beta/batches/abc").endpoint,
            Endpoint::BatchGet
        );
        assert_eq!(
            classify("POST", "/v1beta/batches/abc:cancel").endpoint,
            Endpoint::BatchCancel
        );
        assert_eq!(
            classify("DELETE", "/v1beta/files/abc").endpoint,
            Endpoint::FileDelete
        );
        assert_eq!(
            classify("GET", "/download/v1beta/files/abc:download").endpoint,
            Endpoint::FileDownload
        );
        assert_eq!(
            classify("GET", "/v1beta/models").endpoint,
            Endpoint::ModelList
        );
        assert_eq!(classify("GET", "/nothing").endpoint, Endpoint::Unknown);
        assert_eq!(
            classify("PUT", "/v1beta/models/x:generateContent").endpoint,
            Endpoint::Unknown
        );
        assert_eq!(
            classify("GET", "/v1beta/models/a/b").endpoint,
            Endpoint::Unknown
        );
    }
}
