//! Media upload (`POST /upload/{version}/files`): raw, multipart, and the resumable protocol the
//! official SDKs use (start, then chunks with `upload`, `finalize` or `query` to the session's
//! URL), with the fault cuts of `cut-upload-at` / `cut-upload-after`.

use bytes::Bytes;
use serde_json::{Value, json};

use super::Ctx;
use crate::fault::{FAULT_HEADER, Fault, apply};
use crate::replay;
use crate::reply::{self, Reply};
use crate::server::{Request, Shared, lock};
use crate::store::{FinishedUpload, PendingUpload, Store, UploadCutState};

/// How an upload request sends its media (`X-Goog-Upload-Protocol`, default raw).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    Raw,
    Multipart,
    Resumable,
}

impl Protocol {
    fn parse(text: &str) -> Result<Self, Reply> {
        match text.to_ascii_lowercase().as_str() {
            "raw" => Ok(Self::Raw),
            "multipart" => Ok(Self::Multipart),
            "resumable" => Ok(Self::Resumable),
            other => Err(reply::invalid_argument(&format!(
                "Unsupported X-Goog-Upload-Protocol \"{other}\": allowed are raw, multipart, resumable."
            ))),
        }
    }
}

/// What a request to a resumable session asks for (`X-Goog-Upload-Command`, which may name
/// several steps, e.g. `upload, finalize`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    /// How many bytes the session holds.
    Query,
    /// Append the body; then finish the upload when `finalize` is asked for too.
    Upload { finalize: bool },
}

impl Command {
    /// The command, or `None` for one the protocol does not have.
    fn parse(text: &str) -> Option<Self> {
        let text = text.to_ascii_lowercase();
        if text.contains("query") {
            Some(Self::Query)
        } else if text.contains("upload") || text.contains("finalize") {
            Some(Self::Upload {
                finalize: text.contains("finalize"),
            })
        } else {
            None
        }
    }
}

/// `X-Goog-Upload-Status` of a session that takes more requests, or of one that is over.
const ACTIVE: (&str, &str) = ("x-goog-upload-status", "active");
const FINAL: (&str, &str) = ("x-goog-upload-status", "final");

fn with(reply: Reply, (name, value): (&str, &str)) -> Reply {
    reply.with_header(name, value)
}

fn with_received(reply: Reply, received: impl ToString) -> Reply {
    reply.with_header("x-goog-upload-size-received", received.to_string())
}

/// `POST /upload/{version}/files`, by protocol; requests to a session carry its `upload_id`.
pub(super) fn upload(ctx: &Ctx<'_>) -> Reply {
    let (shared, request, fault) = (ctx.shared, ctx.request, ctx.fault);
    let command = request.header("x-goog-upload-command").unwrap_or("");
    if let Some(upload_id) = request.query("upload_id") {
        return upload_chunk(ctx, upload_id, command);
    }
    let protocol = match Protocol::parse(request.header("x-goog-upload-protocol").unwrap_or("raw"))
    {
        Ok(protocol) => protocol,
        Err(reply) => return reply,
    };
    match protocol {
        Protocol::Resumable if command.to_ascii_lowercase().contains("start") => {
            upload_start(shared, request, fault)
        }
        Protocol::Resumable => reply::invalid_argument(
            "A resumable upload starts with X-Goog-Upload-Command: start; later commands go to the X-Goog-Upload-URL it answers with.",
        ),
        Protocol::Multipart => upload_multipart(shared, request),
        Protocol::Raw => {
            let mime = request
                .header("x-goog-upload-header-content-type")
                .or_else(|| request.header("content-type"))
                .unwrap_or("application/octet-stream");
            let name = request.header("x-goog-upload-file-name").map(str::to_owned);
            store_upload(shared, name, mime, request.body.clone())
        }
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
    with(Reply::json_bytes(200, Bytes::new()), ACTIVE)
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

/// A request to a resumable session: a query, or a chunk (perhaps the last).
fn upload_chunk(ctx: &Ctx<'_>, upload_id: &str, command: &str) -> Reply {
    let (request, fault) = (ctx.request, ctx.fault);
    let command_text = command;
    let command = Command::parse(command_text);
    let mut store = lock(&ctx.shared.store);
    let Some(pending) = store.uploads.get_mut(upload_id) else {
        return session_gone(&store, upload_id, command);
    };
    let received = pending.data.len() as u64;
    let finalize = match command {
        Some(Command::Query) => {
            return with_received(with(Reply::json_bytes(200, Bytes::new()), ACTIVE), received);
        }
        Some(Command::Upload { finalize }) => finalize,
        None => {
            return with(
                reply::invalid_argument(&format!(
                    "Unsupported X-Goog-Upload-Command \"{}\": allowed are upload, finalize, query (or \"upload, finalize\").",
                    command_text.to_ascii_lowercase()
                )),
                ACTIVE,
            );
        }
    };
    if let Err(reply) = arm_cut(pending, fault).and_then(|()| check_offset(request, received)) {
        return reply;
    }
    let after = received.saturating_add(request.body.len() as u64);
    if let Err(reply) = check_growth(&mut store, upload_id, request.body.len(), after) {
        return reply;
    }
    let Some(pending) = store.uploads.get_mut(upload_id) else {
        return session_gone(&store, upload_id, None);
    };
    if let Some(reply) = cut(pending, request, fault, received, after) {
        return reply;
    }
    pending.data.extend_from_slice(&request.body);
    let total = pending.data.len() as u64;
    if !finalize {
        return with_received(with(Reply::json_bytes(200, Bytes::new()), ACTIVE), total);
    }
    finalize_upload(ctx.shared, &mut store, upload_id, total)
}

/// The answer for a session this server does not hold: a finished one answers a query with
/// its file; anything else is a 404.
fn session_gone(store: &Store, upload_id: &str, command: Option<Command>) -> Reply {
    if command == Some(Command::Query)
        && let Some(finished) = store.finished_upload(upload_id)
    {
        let body = match store.files.get(&finished.file_id) {
            Some(file) => json!({ "file": file.resource }),
            None => json!({}),
        };
        return with_received(with(Reply::json(200, &body), FINAL), finished.size);
    }
    with(
        reply::not_found(&format!(
            "Upload session \"{upload_id}\" not found: it finished, was never started, or this server restarted."
        )),
        FINAL,
    )
}

/// A fault on a chunk (rather than on the start) arms the session's cut, once.
fn arm_cut(pending: &mut PendingUpload, fault: &Fault) -> Result<(), Reply> {
    if pending.cut == UploadCutState::None {
        pending.cut = upload_cut(fault, pending.declared_size).map_err(|r| with(r, ACTIVE))?;
    }
    Ok(())
}

/// A chunk must start where the session's bytes end.
fn check_offset(request: &Request, received: u64) -> Result<(), Reply> {
    match request.header("x-goog-upload-offset") {
        Some(offset) if offset.trim().parse::<u64>().ok() != Some(received) => Err(with_received(
            with(
                reply::invalid_argument(&format!(
                    "Invalid X-Goog-Upload-Offset \"{offset}\": the server has received {received} bytes of this upload, so the next chunk starts at {received}."
                )),
                ACTIVE,
            ),
            received,
        )),
        _ => Ok(()),
    }
}

/// A chunk may not take the session past its declared length nor the store past its quota
/// (checked per chunk: an upload never grows past it in memory); either cancels the session.
fn check_growth(store: &mut Store, upload_id: &str, chunk: usize, after: u64) -> Result<(), Reply> {
    let declared = store.uploads.get(upload_id).and_then(|p| p.declared_size);
    let refusal = match declared {
        Some(declared) if after > declared => reply::invalid_argument(&format!(
            "Upload of {after} bytes so far exceeds the {declared} bytes its start declared; the upload is cancelled."
        )),
        _ => match store.check_chunk(chunk) {
            Ok(()) => return Ok(()),
            Err(e) => reply::error(429, &e, Vec::new()),
        },
    };
    store.uploads.remove(upload_id);
    Err(with(refusal, FINAL))
}

/// A fault cut: keep the chunk up to the cut point, then fail this request once (with the
/// fault's status, or by dropping the connection).
fn cut(
    pending: &mut PendingUpload,
    request: &Request,
    fault: &Fault,
    received: u64,
    after: u64,
) -> Option<Reply> {
    let UploadCutState::Armed { at, status } = pending.cut else {
        return None;
    };
    if after <= at {
        return None;
    }
    let keep = usize::try_from(at.saturating_sub(received))
        .unwrap_or(usize::MAX)
        .min(request.body.len());
    pending.data.extend_from_slice(&request.body[..keep]);
    pending.cut = UploadCutState::Done;
    let kept = pending.data.len();
    Some(match status {
        Some(code) => with_received(with(apply::status_reply(code, fault, None), ACTIVE), kept),
        None => Reply {
            reset_connection: true,
            fixed: false,
            ..Reply::json_bytes(502, Bytes::new())
        },
    })
}

/// The last chunk is in: the session becomes a file (when its length is the declared one).
fn finalize_upload(shared: &Shared, store: &mut Store, upload_id: &str, total: u64) -> Reply {
    let declared = store.uploads.get(upload_id).and_then(|p| p.declared_size);
    let pending = store.uploads.remove(upload_id);
    if let Some(declared) = declared
        && declared != total
    {
        return with(
            reply::invalid_argument(&format!(
                "Upload finalized with {total} bytes, but its start declared {declared} bytes."
            )),
            FINAL,
        );
    }
    let Some(pending) = pending else {
        return session_gone(store, upload_id, None);
    };
    if let Err(e) = store.check_room(pending.data.len()) {
        return with(reply::error(429, &e, Vec::new()), FINAL);
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
    with(Reply::json(200, &json!({ "file": resource })), FINAL)
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
