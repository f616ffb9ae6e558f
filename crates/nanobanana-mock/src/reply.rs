//! What a handler answers, before faults are applied: a status, headers and a body that is
//! either one buffer or a list of server-sent events; plus the Google-style error bodies
//! (WIRE.md "Errors") every endpoint uses.

use bytes::{Bytes, BytesMut};
use serde_json::{Value, json};

use nanobanana_wire::corpus::LineEnding;

/// `application/json; charset=UTF-8`, what the service sends on every JSON answer (errors too:
/// the official SDKs need it to read the error).
pub(crate) const JSON: &str = "application/json; charset=UTF-8";

/// An answer.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: ReplyBody,
    /// Drop the connection instead of answering (an upload cut by a fault).
    pub(crate) reset_connection: bool,
    /// A mounted mock's fixed answer: sent as written, never reshaped.
    pub(crate) fixed: bool,
    /// What the journal says was done to this answer (a chaos fault, a quota refusal).
    pub(crate) note: Option<String>,
    /// Served from a recording of the fixture corpus (else simulated or served live).
    pub(crate) replayed: bool,
}

/// The body of an answer.
#[derive(Clone, Debug)]
pub(crate) enum ReplyBody {
    /// One buffer (shared, never copied per request).
    Full(Bytes),
    /// Server-sent events: the one-line JSON of each `data:` line.
    Events {
        events: Vec<Bytes>,
        line_ending: LineEnding,
        /// The `event:` line of each event (the Interactions API's named events), or `None`
        /// for data-only events (generateContent's `alt=sse`).
        names: Option<Vec<String>>,
    },
}

impl Reply {
    /// A JSON answer.
    pub(crate) fn json(status: u16, body: &Value) -> Self {
        Self::json_bytes(status, Bytes::from(body.to_string()))
    }

    /// A JSON answer from already-serialised bytes.
    pub(crate) fn json_bytes(status: u16, body: Bytes) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), JSON.into())],
            body: ReplyBody::Full(body),
            reset_connection: false,
            fixed: false,
            note: None,
            replayed: false,
        }
    }

    /// An answer of `content_type` from bytes (an image, a page).
    pub(crate) fn bytes(status: u16, content_type: &str, body: Bytes) -> Self {
        Self {
            headers: vec![("content-type".into(), content_type.into())],
            ..Self::json_bytes(status, body)
        }
    }

    /// An empty JSON object (`{}`), what deletes answer.
    pub(crate) fn empty() -> Self {
        Self::json_bytes(200, Bytes::from_static(b"{}"))
    }

    /// A stream of server-sent events.
    pub(crate) fn events(events: Vec<Bytes>, line_ending: LineEnding) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            body: ReplyBody::Events {
                events,
                line_ending,
                names: None,
            },
            reset_connection: false,
            fixed: false,
            note: None,
            replayed: false,
        }
    }

    /// The body's length in bytes (the events' JSON, without their framing).
    pub(crate) fn body_len(&self) -> usize {
        match &self.body {
            ReplyBody::Full(data) => data.len(),
            ReplyBody::Events { events, .. } => events.iter().map(Bytes::len).sum(),
        }
    }

    /// The body of a one-buffer answer as JSON (tests).
    #[cfg(test)]
    pub(crate) fn body_json(&self) -> Value {
        match &self.body {
            ReplyBody::Full(data) => serde_json::from_slice(data).unwrap_or(Value::Null),
            ReplyBody::Events { .. } => Value::Null,
        }
    }

    /// A stream of named server-sent events (`event: <name>` before each `data:` line), as the
    /// Interactions API sends them.
    pub(crate) fn named_events(events: Vec<(String, Bytes)>, line_ending: LineEnding) -> Self {
        let (names, events) = events.into_iter().unzip();
        let mut reply = Self::events(events, line_ending);
        if let ReplyBody::Events { names: slot, .. } = &mut reply.body {
            *slot = Some(names);
        }
        reply
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// Frames one event: `data: <json>` and a blank line, with the chosen line ending.
pub(crate) fn frame_event(json: &[u8], line_ending: LineEnding) -> Bytes {
    let end: &[u8] = match line_ending {
        LineEnding::Lf => b"\n\n",
        LineEnding::Crlf => b"\r\n\r\n",
    };
    let mut out = BytesMut::with_capacity(json.len() + 6 + end.len());
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(json);
    out.extend_from_slice(end);
    out.freeze()
}

/// Frames one event without copying it: its `event:` line when it is named, `data: `, the
/// event's JSON (shared) and the blank line, as buffers sent one after the other (a recorded or
/// simulated 4K image event is 28 MB).
pub(crate) fn frame_event_parts(
    name: Option<&str>,
    json: &Bytes,
    line_ending: LineEnding,
) -> Vec<Bytes> {
    let (newline, end): (&'static str, &'static [u8]) = match line_ending {
        LineEnding::Lf => ("\n", b"\n\n"),
        LineEnding::Crlf => ("\r\n", b"\r\n\r\n"),
    };
    let mut parts = Vec::with_capacity(4);
    if let Some(name) = name {
        parts.push(Bytes::from(format!("event: {name}{newline}")));
    }
    parts.extend([
        Bytes::from_static(b"data: "),
        json.clone(),
        Bytes::from_static(end),
    ]);
    parts
}

/// The canonical status name of an HTTP status, as Google APIs spell it.
pub(crate) fn status_name(code: u16) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        412 => "FAILED_PRECONDITION",
        413 => "INVALID_ARGUMENT",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    }
}

/// The `error` object of a Google-style error body.
pub(crate) fn error_object(code: u16, message: &str, details: Vec<Value>) -> Value {
    let mut error = json!({
        "code": code,
        "message": message,
        "status": status_name(code),
    });
    if !details.is_empty() {
        error["details"] = Value::Array(details);
    }
    error
}

/// A Google-style error answer: `{"error": {"code", "message", "status", "details"?}}`.
pub(crate) fn error(code: u16, message: &str, details: Vec<Value>) -> Reply {
    Reply::json(
        code,
        &json!({ "error": error_object(code, message, details) }),
    )
}

/// `400 INVALID_ARGUMENT` with a message.
pub(crate) fn invalid_argument(message: &str) -> Reply {
    error(400, message, Vec::new())
}

/// `404 NOT_FOUND` with a message.
pub(crate) fn not_found(message: &str) -> Reply {
    error(404, message, Vec::new())
}

/// The first sentence of the service's quota error (WIRE.md "Errors").
pub(crate) const QUOTA_MESSAGE: &str =
    "You exceeded your current quota, please check your plan and billing details.";

/// The `google.rpc.Help` detail of the quota error.
pub(crate) fn quota_help() -> Value {
    json!({
        "@type": "type.googleapis.com/google.rpc.Help",
        "links": [{
            "description": "Learn more about Gemini API quotas",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits"
        }]
    })
}

/// The quota error of WIRE.md: `429 RESOURCE_EXHAUSTED` with `QuotaFailure`, `Help` and
/// `RetryInfo` details.
pub(crate) fn quota_exhausted(model: Option<&str>, retry_delay_secs: u64) -> Reply {
    let model = model
        .unwrap_or("gemini-3.1-flash-image")
        .trim_end_matches("-preview");
    error(
        429,
        QUOTA_MESSAGE,
        vec![
            json!({
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": model},
                    "quotaValue": "10"
                }]
            }),
            quota_help(),
            json!({
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": format!("{retry_delay_secs}s")
            }),
        ],
    )
}

/// The error a status fault answers with: the real texts where WIRE.md has them.
pub(crate) fn status_fault(code: u16, model: Option<&str>, retry_delay_secs: u64) -> Reply {
    match code {
        429 => quota_exhausted(model, retry_delay_secs),
        503 => error(
            503,
            "The model is overloaded. Please try again later.",
            Vec::new(),
        ),
        500 => error(
            500,
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            Vec::new(),
        ),
        408 => error(408, "Request timed out.", Vec::new()),
        504 => error(
            504,
            "The service is currently unavailable or the request timed out.",
            Vec::new(),
        ),
        _ => error(code, "nanobanana-mock: injected status fault.", Vec::new()),
    }
}

/// The Interactions API's string error code of an HTTP status (INTERACTIONS.md §6).
pub(crate) fn interactions_code(status: u16) -> &'static str {
    match status {
        401 => "authentication",
        402 => "payment_required",
        403 => "permission_denied",
        404 => "not_found",
        409 => "aborted",
        416 => "out_of_range",
        429 => "rate_limit_exceeded",
        499 => "cancelled",
        501 => "unimplemented",
        503 => "service_unavailable",
        408 | 504 => "deadline_exceeded",
        // 400 and the other client errors.
        400..=499 => "invalid_request",
        _ => "api_error",
    }
}

/// An Interactions API error answer: `{"error": {"code": "<string code>", "message"}}`, no
/// `status` or `details` (INTERACTIONS.md §6).
pub(crate) fn interactions_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

/// A Google-style error answer (`generateContent`'s shape, which the shared checks in front of
/// every endpoint give) in the Interactions API's shape: the same status, message and headers,
/// the code as the API's string. Other answers are returned unchanged.
pub(crate) fn into_interactions_error(reply: Reply) -> Reply {
    let ReplyBody::Full(body) = &reply.body else {
        return reply;
    };
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return reply;
    };
    let Some(message) = value
        .get("error")
        .filter(|e| e.get("code").is_some_and(Value::is_number))
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
    else {
        return reply;
    };
    let mut converted = interactions_error(reply.status, interactions_code(reply.status), message);
    converted.headers = reply.headers;
    converted.reset_connection = reply.reset_connection;
    converted
}
