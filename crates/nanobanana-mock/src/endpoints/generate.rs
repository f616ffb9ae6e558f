//! `generateContent` and `streamGenerateContent`: validate by the rules, resolve input images,
//! then simulate (cached by request).

use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha256};

use nanobanana_rules::catalogue::{self, Lookup};
use nanobanana_rules::{Options, validate_request_json_with};
use nanobanana_wire::corpus::LineEnding;
use nanobanana_wire::{Base64Bytes, GenerateContentRequest};

use super::files::file_not_found;
use super::{Ctx, capitalize_first, invalid_json};
use crate::image::{self, ImageFormat};
use crate::replay;
use crate::reply::{self, Reply};
use crate::server::{Request, Shared, lock};
use crate::signature::Signed;
use crate::simulate::{self, CachedAnswer};
use crate::store;
use nanobanana_rules::OutcomeKind;

/// `POST models/{model}:generateContent`.
pub(super) fn unary(ctx: &Ctx<'_>, model: &str) -> Reply {
    match generate(ctx, model) {
        Ok(answer) => Reply::json_bytes(200, answer.body),
        Err(reply) => reply,
    }
}

/// `POST models/{model}:streamGenerateContent`: SSE with `alt=sse`, a JSON array without.
pub(super) fn stream(ctx: &Ctx<'_>, model: &str) -> Reply {
    match generate(ctx, model) {
        Ok(answer) => stream_reply(ctx.request, answer, ctx.shared.config.line_ending),
        Err(reply) => reply,
    }
}

/// Validates and simulates one `generateContent` request.
fn generate(ctx: &Ctx<'_>, model: &str) -> Result<CachedAnswer, Reply> {
    let body: Value = serde_json::from_slice(&ctx.request.body).map_err(|e| invalid_json(&e))?;
    generate_value(
        ctx.shared,
        model,
        ctx.version,
        &body,
        ctx.fault.outcome,
        ctx.format,
    )
}

pub(crate) fn generate_value(
    shared: &Shared,
    model: &str,
    version: &str,
    body: &Value,
    outcome: Option<OutcomeKind>,
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
    let settings = shared.settings();
    let lookup = catalogue::lookup(model);
    let served = match lookup {
        Lookup::Known(known) => known.state_at(settings.as_of).is_served(),
        Lookup::Unknown(_) => lookup.is_text_only(),
    };
    if !served {
        return Err(reply::not_found(&catalogue::not_found_message(
            model,
            version,
            "generateContent",
        )));
    }
    let options = Options::at(settings.as_of).with_signatures(settings.signatures);
    let report = validate_request_json_with(model, body, &options);
    if let Some(error) = report.first_error() {
        return Err(reply::invalid_argument(error.message()));
    }
    // The model's own output format (JPEG for the 3.x models) unless the server or the request
    // asked for one.
    let format = format.unwrap_or_else(|| model_format(lookup, settings.as_of));
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
    let answer = simulate::generate(model, &normal, &seed, outcome, &context)
        .and_then(|simulated| simulated.encode())
        .map_err(simulate::Failure::into_reply)?;
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
