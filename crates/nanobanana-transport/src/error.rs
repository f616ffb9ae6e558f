//! The one error type of the client, its kinds, and the decoded error answers of the service.
//!
//! Every failure of every call is an [`Error`]: refused before sending ([`ErrorKind::Validation`]),
//! answered with an error by the service ([`ErrorKind::Api`], carrying an [`ApiError`]), or lost
//! on the way (timeouts, connection failures, truncated streams, undecodable answers). The
//! predicates ([`Error::is_retryable`], [`Error::is_rate_limited`], [`Error::is_timeout`],
//! [`Error::status`], [`Error::retry_delay`]) answer the usual questions without matching.
//!
//! No error ever holds the API key: it travels only in a header, and every text an error keeps
//! (messages, bodies, excerpts, texts of the HTTP stack) is scrubbed of it when the error is made.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use nanobanana_rules::Report;
use nanobanana_wire::{
    ErrorResponse, HelpLink, InteractionError, InteractionErrorResponse, QuotaViolation, Status,
};

use crate::retry::{RetryPolicy, parse_proto_duration};

/// The most of a non-JSON error body (an HTML page of a proxy, say) that an error keeps.
const RAW_BODY_LIMIT: usize = 64 * 1024;

/// Anything that went wrong with a call. Opaque: look at it through [`Error::kind`] and the
/// predicates.
///
/// `Display` reads as one sentence, e.g.
/// `Gemini API error 429 RESOURCE_EXHAUSTED: You exceeded your current quota, ... (retry after 34s)`
/// or `request refused before sending: [image-size-casing] Unsupported image size "1k": ...`.
/// When the client retried before giving up, it ends with `(gave up after 3 attempts)`.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    /// What was being done, e.g. `POST /v1beta/models/gemini-3-pro-image:generateContent`
    /// (a path, never a query).
    context: Option<String>,
    /// Detail for the kinds that carry no data of their own (scrubbed of the key).
    message: String,
    /// A connection attempt that ran out of time (kind [`ErrorKind::Connect`]).
    timed_out: bool,
    /// How many attempts the retry loop made before giving up with this error (0: the error did
    /// not end a retry loop).
    attempts: u32,
}

/// What kind of failure an [`Error`] is.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request breaks a documented rule: it was refused locally, before any byte was sent,
    /// with the rule ids and messages the service answers with (see `nanobanana_rules`).
    Validation {
        /// Everything wrong with the request; [`Report::first_error`] is what the service would
        /// have answered.
        report: Report,
        /// For a batch of inline requests, which request (0-based).
        request_index: Option<usize>,
    },
    /// The service answered with an error (a non-2xx status, or an `{"error": ...}` event in
    /// the middle of a stream).
    Api(ApiError),
    /// The request took longer than its timeout.
    Timeout,
    /// No connection could be made (DNS, refused, TLS handshake, connect timeout). Nothing
    /// reached the service.
    Connect,
    /// The connection broke.
    Transport {
        /// Whether part of the answer had arrived. Before any byte of an answer, a retry is
        /// safe to try; after, the service has seen and may have carried out the request.
        after_response: bool,
    },
    /// A successful answer whose body is not the expected JSON.
    Decode,
    /// A stream ended in the middle of an event: the answer was cut off.
    Truncated,
    /// An answer that breaks the protocol in another way (e.g. an upload answer without its
    /// `X-Goog-Upload-URL` header, or a page token that repeats).
    Protocol,
    /// The configuration or an argument is unusable (no API key, a bad base URL or model id).
    Config,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                context: None,
                message: message.into(),
                timed_out: false,
                attempts: 0,
            }),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol, message)
    }

    pub(crate) fn validation(report: Report, request_index: Option<usize>) -> Self {
        Self::new(
            ErrorKind::Validation {
                report,
                request_index,
            },
            String::new(),
        )
    }

    pub(crate) fn api(api: ApiError) -> Self {
        Self::new(ErrorKind::Api(api), String::new())
    }

    pub(crate) fn timeout(after: Duration) -> Self {
        Self::new(
            ErrorKind::Timeout,
            format!("no answer within {}", DisplayDuration(after)),
        )
    }

    pub(crate) fn connect(message: impl Into<String>, timed_out: bool) -> Self {
        let mut error = Self::new(ErrorKind::Connect, message);
        error.inner.timed_out = timed_out;
        error
    }

    pub(crate) fn transport(message: impl Into<String>, after_response: bool) -> Self {
        Self::new(ErrorKind::Transport { after_response }, message)
    }

    /// Records that the retry loop gave up with this error after `attempts` attempts (shown
    /// when there was more than one).
    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        self
    }

    pub(crate) fn with_context(mut self, context: impl Into<String>) -> Self {
        self.inner.context = Some(context.into());
        self
    }

    /// Replaces every occurrence of `secret` in the texts this error holds. Keys shorter than
    /// [`MIN_SCRUB_LEN`] are left alone: scrubbing `x` would mangle every message, and such a
    /// key is a placeholder for a fake server anyway.
    pub(crate) fn scrubbed(mut self, secret: &str) -> Self {
        if secret.len() < MIN_SCRUB_LEN {
            return self;
        }
        let inner = &mut *self.inner;
        scrub_string(&mut inner.message, secret);
        if let Some(context) = &mut inner.context {
            scrub_string(context, secret);
        }
        if let ErrorKind::Api(api) = &mut inner.kind {
            api.scrub(secret);
        }
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The service's error answer, if this is one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match &self.inner.kind {
            ErrorKind::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The validation report, if the request was refused before sending.
    pub fn validation_report(&self) -> Option<&Report> {
        match &self.inner.kind {
            ErrorKind::Validation { report, .. } => Some(report),
            _ => None,
        }
    }

    /// The HTTP status of the service's error answer (for an error event in the middle of a
    /// stream, the `code` it carries), if the service answered.
    pub fn status(&self) -> Option<u16> {
        self.api_error().map(ApiError::http_status)
    }

    /// Whether the [default retry policy](RetryPolicy::default) would try again: a status of
    /// 408, 429, 500, 502, 503 or 504, or a connection that failed before any byte of an
    /// answer. Timeouts, refusals, undecodable answers and broken streams are not retryable.
    pub fn is_retryable(&self) -> bool {
        RetryPolicy::default().should_retry(self)
    }

    /// Whether the service refused for rate or quota reasons (429 or `RESOURCE_EXHAUSTED`).
    pub fn is_rate_limited(&self) -> bool {
        self.api_error().is_some_and(|api| {
            api.http_status() == 429 || api.status() == Some("RESOURCE_EXHAUSTED")
        })
    }

    /// Whether the call ran out of time (the request timeout, or the connect timeout).
    pub fn is_timeout(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Timeout => true,
            ErrorKind::Connect => self.inner.timed_out,
            _ => false,
        }
    }

    /// How long the service asked to wait before trying again: `RetryInfo.retryDelay` if the
    /// answer has one, else its `Retry-After` header.
    pub fn retry_delay(&self) -> Option<Duration> {
        self.api_error().and_then(ApiError::retry_delay)
    }

    /// Whether a connection failure happened before any byte of an answer arrived.
    pub(crate) fn is_before_response(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Connect => true,
            ErrorKind::Transport { after_response } => !after_response,
            _ => false,
        }
    }
}

/// Keys shorter than this are not scrubbed from texts (see [`Error`]'s redaction).
pub(crate) const MIN_SCRUB_LEN: usize = 8;

pub(crate) fn scrub_string(text: &mut String, secret: &str) {
    if secret.len() >= MIN_SCRUB_LEN && text.contains(secret) {
        *text = text.replace(secret, "***");
    }
}

fn scrub_value(value: &mut serde_json::Value, secret: &str) {
    match value {
        serde_json::Value::String(text) => scrub_string(text, secret),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, secret)),
        serde_json::Value::Object(map) => {
            let keys: Vec<String> = map.keys().filter(|k| k.contains(secret)).cloned().collect();
            for key in keys {
                if let Some(v) = map.remove(&key) {
                    map.insert(key.replace(secret, "***"), v);
                }
            }
            map.values_mut().for_each(|v| scrub_value(v, secret));
        }
        _ => {}
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_failure(f)?;
        if self.inner.attempts > 1 {
            write!(f, " (gave up after {} attempts)", self.inner.attempts)?;
        }
        Ok(())
    }
}

impl Error {
    /// The one-sentence description of the failure, without the retry count.
    fn fmt_failure(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        match &inner.kind {
            ErrorKind::Validation {
                report,
                request_index,
            } => {
                f.write_str("request refused before sending: ")?;
                if let Some(index) = request_index {
                    write!(f, "inline request {index}: ")?;
                }
                match report.first_error() {
                    Some(first) => {
                        write!(f, "[{}] {}", first.rule().id(), first.message())?;
                        let more = report.errors().count() - 1;
                        if more > 0 {
                            write!(f, " (and {more} more)")?;
                        }
                        Ok(())
                    }
                    None => f.write_str("the request breaks a rule"),
                }
            }
            ErrorKind::Api(api) => fmt::Display::fmt(api, f),
            kind => {
                let what = match kind {
                    ErrorKind::Timeout => "request timed out",
                    ErrorKind::Connect if inner.timed_out => "could not connect in time",
                    ErrorKind::Connect => "could not connect",
                    ErrorKind::Transport {
                        after_response: false,
                    } => "connection failed before the answer",
                    ErrorKind::Transport {
                        after_response: true,
                    } => "connection failed while reading the answer",
                    ErrorKind::Decode => "could not decode the answer",
                    ErrorKind::Truncated => "the stream was cut off inside an event",
                    ErrorKind::Protocol => "unexpected answer",
                    _ => "invalid configuration",
                };
                f.write_str(what)?;
                if let Some(context) = &inner.context {
                    write!(f, " ({context})")?;
                }
                if !inner.message.is_empty() {
                    write!(f, ": {}", inner.message)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &inner.kind);
        if let Some(context) = &inner.context {
            d.field("context", context);
        }
        if !inner.message.is_empty() {
            d.field("message", &inner.message);
        }
        if inner.timed_out {
            d.field("timed_out", &true);
        }
        if inner.attempts > 1 {
            d.field("attempts", &inner.attempts);
        }
        d.finish()
    }
}

impl std::error::Error for Error {}

/// An error answer of the service: `{"error": {"code", "message", "status", "details"}}`, also
/// accepted wrapped in a one-element array; a body that is not such JSON is kept raw.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    http_status: u16,
    code: Option<i64>,
    status: Option<String>,
    message: Option<String>,
    details: Vec<ErrorDetail>,
    raw_body: String,
    retry_after: Option<Duration>,
    in_stream: bool,
}

impl ApiError {
    /// Decodes the body of a non-2xx answer. `retry_after` is the answer's `Retry-After`
    /// header, already parsed.
    pub(crate) fn from_body(http_status: u16, retry_after: Option<Duration>, body: &[u8]) -> Self {
        let status = decode_status(body);
        let mut error = match status {
            Some(status) => Self::from_status(http_status, status),
            None => Self::bare(http_status),
        };
        error.raw_body = raw_text(body);
        error.retry_after = retry_after;
        error
    }

    /// An `{"error": ...}` event in the middle of a stream. Its HTTP status is the event's
    /// `code` (500 when it has none: the answer had begun with 200).
    pub(crate) fn from_stream_event(status: Status, raw: &[u8]) -> Self {
        let http_status = status
            .code
            .and_then(|code| u16::try_from(code).ok())
            .filter(|code| (400..600).contains(code))
            .unwrap_or(500);
        let mut error = Self::from_status(http_status, status);
        error.raw_body = raw_text(raw);
        error.in_stream = true;
        error
    }

    /// An `error` event of an Interactions API stream; its HTTP status is the one its code
    /// stands for (the answer had begun with 200).
    pub(crate) fn from_interaction_event(error: InteractionError, raw: &[u8]) -> Self {
        let http_status = interaction_http_status(error.code.as_deref().unwrap_or(""));
        let mut error = Self::from_status(http_status, interaction_status(error));
        error.raw_body = raw_text(raw);
        error.in_stream = true;
        error
    }

    fn bare(http_status: u16) -> Self {
        Self {
            http_status,
            code: None,
            status: None,
            message: None,
            details: Vec::new(),
            raw_body: String::new(),
            retry_after: None,
            in_stream: false,
        }
    }

    fn from_status(http_status: u16, status: Status) -> Self {
        Self {
            code: status.code,
            status: status.status,
            message: status.message,
            details: status
                .details
                .into_iter()
                .map(ErrorDetail::decode)
                .collect(),
            ..Self::bare(http_status)
        }
    }

    fn scrub(&mut self, secret: &str) {
        for text in [&mut self.status, &mut self.message].into_iter().flatten() {
            scrub_string(text, secret);
        }
        scrub_string(&mut self.raw_body, secret);
        for detail in &mut self.details {
            detail.scrub(secret);
        }
    }

    /// The HTTP status of the answer (for an error event in the middle of a stream, the event's
    /// `code`, since the answer itself had begun with 200).
    pub fn http_status(&self) -> u16 {
        self.http_status
    }

    /// The `code` field of the body, if it had one (normally equal to the HTTP status).
    pub fn code(&self) -> Option<i64> {
        self.code
    }

    /// The canonical status name, e.g. `INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`; for the
    /// Interactions API, its string error code (`not_found`, `invalid_request`, ...).
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// The service's message, e.g. `The model is overloaded. Please try again later.`; empty
    /// when the body had none.
    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or_default()
    }

    /// The decoded `details`, in the order the body had them.
    pub fn details(&self) -> &[ErrorDetail] {
        &self.details
    }

    /// The body as received (lossy UTF-8, at most 64 KiB): the only content of an answer that
    /// is not JSON, such as a proxy's HTML page.
    pub fn raw_body(&self) -> &str {
        &self.raw_body
    }

    /// `RetryInfo.retryDelay` if a detail carries one, else the `Retry-After` header.
    pub fn retry_delay(&self) -> Option<Duration> {
        self.details
            .iter()
            .find_map(|detail| match detail {
                ErrorDetail::RetryInfo { retry_delay } => *retry_delay,
                _ => None,
            })
            .or(self.retry_after)
    }

    /// Whether this error arrived as an event in the middle of a stream.
    pub fn is_mid_stream(&self) -> bool {
        self.in_stream
    }

    /// The `ErrorInfo.reason`, e.g. `API_KEY_INVALID`, if a detail carries one.
    pub fn reason(&self) -> Option<&str> {
        self.details.iter().find_map(|detail| match detail {
            ErrorDetail::ErrorInfo { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for ApiError {
    /// `Gemini API error 429 RESOURCE_EXHAUSTED: You exceeded ... (retry after 34s)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gemini API error {}", self.http_status)?;
        if let Some(status) = &self.status {
            write!(f, " {status}")?;
        }
        if self.in_stream {
            f.write_str(" in the middle of the stream")?;
        }
        match &self.message {
            Some(message) => write!(f, ": {message}")?,
            None => {
                let raw = one_line(&self.raw_body, 200);
                if !raw.is_empty() {
                    write!(f, ": {raw}")?;
                }
            }
        }
        if let Some(delay) = self.retry_delay() {
            write!(f, " (retry after {})", DisplayDuration(delay))?;
        }
        Ok(())
    }
}

/// One decoded entry of an error's `details`, by its `@type`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorDetail {
    /// `google.rpc.RetryInfo`: how long to wait before trying again.
    RetryInfo {
        /// The `retryDelay` (`"34s"`), if it could be read.
        retry_delay: Option<Duration>,
    },
    /// `google.rpc.QuotaFailure`: which quotas were exceeded.
    QuotaFailure {
        /// The exceeded quotas.
        violations: Vec<QuotaViolation>,
    },
    /// `google.rpc.ErrorInfo`: a machine-readable reason.
    ErrorInfo {
        /// E.g. `API_KEY_INVALID`.
        reason: String,
        /// E.g. `googleapis.com`.
        domain: String,
        /// Extra facts, e.g. `service`.
        metadata: BTreeMap<String, String>,
    },
    /// `google.rpc.Help`: where to read more.
    Help {
        /// The links.
        links: Vec<HelpLink>,
    },
    /// Any other detail (`DebugInfo`, or a type this crate does not know), as received.
    Other(serde_json::Value),
}

impl ErrorDetail {
    fn decode(detail: nanobanana_wire::ErrorDetail) -> Self {
        let kind = detail
            .type_url
            .as_deref()
            .and_then(|url| url.rsplit('/').next())
            .unwrap_or_default();
        match kind {
            "google.rpc.RetryInfo" => ErrorDetail::RetryInfo {
                retry_delay: detail.retry_delay.as_deref().and_then(parse_proto_duration),
            },
            "google.rpc.QuotaFailure" => ErrorDetail::QuotaFailure {
                violations: detail.violations,
            },
            "google.rpc.ErrorInfo" => ErrorDetail::ErrorInfo {
                reason: detail.reason.unwrap_or_default(),
                domain: detail.domain.unwrap_or_default(),
                metadata: detail.metadata.unwrap_or_default(),
            },
            "google.rpc.Help" => ErrorDetail::Help {
                links: detail.links,
            },
            _ => ErrorDetail::Other(serde_json::to_value(&detail).unwrap_or_default()),
        }
    }

    fn scrub(&mut self, secret: &str) {
        match self {
            ErrorDetail::RetryInfo { .. } => {}
            ErrorDetail::ErrorInfo {
                reason,
                domain,
                metadata,
            } => {
                scrub_string(reason, secret);
                scrub_string(domain, secret);
                let scrubbed = std::mem::take(metadata)
                    .into_iter()
                    .map(|(mut k, mut v)| {
                        scrub_string(&mut k, secret);
                        scrub_string(&mut v, secret);
                        (k, v)
                    })
                    .collect();
                *metadata = scrubbed;
            }
            // Rare and nested: round-trip through JSON and scrub every string.
            ErrorDetail::QuotaFailure { violations } => {
                *violations = scrub_via_json(std::mem::take(violations), secret);
            }
            ErrorDetail::Help { links } => {
                *links = scrub_via_json(std::mem::take(links), secret);
            }
            ErrorDetail::Other(value) => scrub_value(value, secret),
        }
    }
}

fn scrub_via_json<T>(items: Vec<T>, secret: &str) -> Vec<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let mut value = match serde_json::to_value(&items) {
        Ok(value) => value,
        Err(_) => return items,
    };
    scrub_value(&mut value, secret);
    serde_json::from_value(value).unwrap_or(items)
}

/// Decodes `{"error": {...}}` or `[{"error": {...}}]`.
fn decode_status(body: &[u8]) -> Option<Status> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    let response = match first {
        b'{' => match serde_json::from_slice::<ErrorResponse>(body) {
            Ok(response) => response,
            // The Interactions API's `{"error": {"code": "not_found", "message"}}`: its string
            // code stands where the canonical status name would.
            Err(_) => {
                let error = serde_json::from_slice::<InteractionErrorResponse>(body)
                    .ok()?
                    .error?;
                return Some(interaction_status(error));
            }
        },
        b'[' => serde_json::from_slice::<Vec<ErrorResponse>>(body)
            .ok()?
            .into_iter()
            .next()?,
        _ => return None,
    };
    response.error
}

/// An Interactions API error as a [`Status`]: its string code as the status name.
fn interaction_status(error: InteractionError) -> Status {
    let mut status = Status::new();
    status.status = error.code;
    status.message = error.message;
    status
}

/// The HTTP status of an Interactions API error code (INTERACTIONS.md §6); 500 for a code
/// this crate does not know.
fn interaction_http_status(code: &str) -> u16 {
    match code {
        "invalid_request" | "failed_precondition" | "parameter_unknown" => 400,
        "authentication" => 401,
        "payment_required" => 402,
        "permission_denied" => 403,
        "not_found" | "model_not_found" => 404,
        "already_exists" | "aborted" => 409,
        "out_of_range" => 416,
        "rate_limit_exceeded" | "quota_exceeded" | "too_many_requests" => 429,
        "cancelled" => 499,
        "unimplemented" => 501,
        "service_unavailable" => 503,
        "deadline_exceeded" => 504,
        _ => 500,
    }
}

fn raw_text(body: &[u8]) -> String {
    let cut = &body[..body.len().min(RAW_BODY_LIMIT)];
    String::from_utf8_lossy(cut).into_owned()
}

/// The first line of `text`, at most `limit` characters, trimmed.
pub(crate) fn one_line(text: &str, limit: usize) -> String {
    let line = text.trim().lines().next().unwrap_or_default().trim();
    if line.chars().count() > limit {
        let mut cut: String = line.chars().take(limit).collect();
        cut.push_str("...");
        cut
    } else {
        line.to_owned()
    }
}

/// A short excerpt of `body` around where `error` happened, for a decode error.
pub(crate) fn decode_excerpt(body: &[u8], error: &serde_json::Error) -> String {
    if body.is_empty() {
        return "empty body".to_owned();
    }
    // serde_json counts lines and columns (1-based, columns in bytes).
    let mut offset = 0;
    for _ in 1..error.line() {
        match body[offset..].iter().position(|&b| b == b'\n') {
            Some(i) => offset += i + 1,
            None => break,
        }
    }
    let at = (offset + error.column().saturating_sub(1)).min(body.len());
    let start = at.saturating_sub(40);
    let end = (at + 40).min(body.len());
    let text: String = String::from_utf8_lossy(&body[start..end])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "{error}; near byte {at} of {}: `{}{}{}`",
        body.len(),
        if start > 0 { "..." } else { "" },
        text,
        if end < body.len() { "..." } else { "" }
    )
}

/// Prints `34s`, `1.5s`, `250ms`.
pub(crate) struct DisplayDuration(pub(crate) Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.as_secs() == 0 && d.subsec_nanos() > 0 {
            write!(f, "{}ms", d.as_millis())
        } else if d.subsec_millis() == 0 {
            write!(f, "{}s", d.as_secs())
        } else {
            let text = format!("{:.3}", d.as_secs_f64());
            write!(f, "{}s", text.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTA: &str = r#"{"error": {"code": 429,
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
          {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
            {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
             "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
             "quotaDimensions": {"model": "gemini-3-pro-image", "location": "global"},
             "quotaValue": "2"}]},
          {"@type": "type.googleapis.com/google.rpc.Help", "links": [
            {"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
          {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34s"}
        ]}}"#;

    #[test]
    fn decodes_an_object_body_with_every_detail_type() {
        let api = ApiError::from_body(429, None, QUOTA.as_bytes());
        assert_eq!(api.http_status(), 429);
        assert_eq!(api.code(), Some(429));
        assert_eq!(api.status(), Some("RESOURCE_EXHAUSTED"));
        assert!(api.message().starts_with("You exceeded your current quota"));
        assert_eq!(api.retry_delay(), Some(Duration::from_secs(34)));
        let ErrorDetail::QuotaFailure { violations } = &api.details()[0] else {
            panic!("{:?}", api.details())
        };
        assert_eq!(violations[0].quota_value.as_deref(), Some("2"));
        let ErrorDetail::Help { links } = &api.details()[1] else {
            panic!("{:?}", api.details())
        };
        assert_eq!(
            links[0].url.as_deref(),
            Some("https://ai.google.dev/gemini-api/docs/rate-limits")
        );
        assert_eq!(
            api.details()[2],
            ErrorDetail::RetryInfo {
                retry_delay: Some(Duration::from_secs(34))
            }
        );

        let error = Error::api(api);
        assert!(error.is_rate_limited());
        assert!(error.is_retryable());
        assert!(!error.is_timeout());
        assert_eq!(error.status(), Some(429));
        assert_eq!(error.retry_delay(), Some(Duration::from_secs(34)));
        assert_eq!(
            error.to_string(),
            "Gemini API error 429 RESOURCE_EXHAUSTED: You exceeded your current quota, please \
             check your plan and billing details. (retry after 34s)"
        );
    }

    #[test]
    fn decodes_error_info_and_unknown_details() {
        let body = br#"{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT", "details": [
              {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
               "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
              {"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": "stack"}
            ]}}"#;
        let api = ApiError::from_body(400, None, body);
        assert_eq!(api.reason(), Some("API_KEY_INVALID"));
        let ErrorDetail::ErrorInfo {
            domain, metadata, ..
        } = &api.details()[0]
        else {
            panic!()
        };
        assert_eq!(domain, "googleapis.com");
        assert_eq!(metadata["service"], "generativelanguage.googleapis.com");
        let ErrorDetail::Other(other) = &api.details()[1] else {
            panic!()
        };
        assert_eq!(other["detail"], "stack");
        assert_eq!(other["@type"], "type.googleapis.com/google.rpc.DebugInfo");
        let error = Error::api(api);
        assert!(!error.is_retryable());
        assert!(!error.is_rate_limited());
        assert_eq!(error.retry_delay(), None);
        assert_eq!(
            error.to_string(),
            "Gemini API error 400 INVALID_ARGUMENT: API key not valid. Please pass a valid API key."
        );
    }

    #[test]
    fn accepts_the_one_element_array_variant() {
        let body = br#"[{"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}}]"#;
        let api = ApiError::from_body(400, None, body);
        assert_eq!(api.status(), Some("INVALID_ARGUMENT"));
        assert_eq!(api.message(), "Request contains an invalid argument.");
        assert_eq!(api.raw_body(), std::str::from_utf8(body).unwrap());
    }

    #[test]
    fn keeps_a_non_json_body_raw() {
        let body = b"<html><body>502 Bad Gateway</body></html>\n<p>more</p>";
        let api = ApiError::from_body(502, Some(Duration::from_secs(5)), body);
        assert_eq!(api.status(), None);
        assert_eq!(api.message(), "");
        assert_eq!(api.raw_body(), std::str::from_utf8(body).unwrap());
        assert_eq!(api.retry_delay(), Some(Duration::from_secs(5)));
        let error = Error::api(api);
        assert!(error.is_retryable());
        assert_eq!(
            error.to_string(),
            "Gemini API error 502: <html><body>502 Bad Gateway</body></html> (retry after 5s)"
        );
        // JSON that is not an error object is kept raw too.
        let api = ApiError::from_body(500, None, br#"{"unexpected": true}"#);
        assert_eq!(api.message(), "");
        assert_eq!(api.raw_body(), r#"{"unexpected": true}"#);
        // A huge body is cut.
        let big = vec![b'x'; RAW_BODY_LIMIT * 2];
        assert_eq!(
            ApiError::from_body(500, None, &big).raw_body().len(),
            RAW_BODY_LIMIT
        );
    }

    #[test]
    fn retry_info_wins_over_retry_after() {
        let api = ApiError::from_body(503, Some(Duration::from_secs(9)), QUOTA.as_bytes());
        assert_eq!(api.retry_delay(), Some(Duration::from_secs(34)));
    }

    #[test]
    fn stream_error_events_take_their_code() {
        let status: Status = serde_json::from_str(
            r#"{"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}"#,
        )
        .unwrap();
        let error = Error::api(ApiError::from_stream_event(status, b"{}"));
        assert_eq!(error.status(), Some(503));
        assert!(error.api_error().unwrap().is_mid_stream());
        assert_eq!(
            error.to_string(),
            "Gemini API error 503 UNAVAILABLE in the middle of the stream: The model is overloaded. Please try again later."
        );
        let error = Error::api(ApiError::from_stream_event(Status::new(), b"{}"));
        assert_eq!(error.status(), Some(500));
    }

    #[test]
    fn displays_the_other_kinds() {
        let cases = [
            (
                Error::timeout(Duration::from_secs(30))
                    .with_context("POST /v1beta/models/m:generateContent"),
                "request timed out (POST /v1beta/models/m:generateContent): no answer within 30s",
            ),
            (
                Error::connect("tcp connect error: Connection refused", false),
                "could not connect: tcp connect error: Connection refused",
            ),
            (
                Error::transport("connection reset", true),
                "connection failed while reading the answer: connection reset",
            ),
            (
                Error::new(ErrorKind::Truncated, "37 bytes of an unfinished event"),
                "the stream was cut off inside an event: 37 bytes of an unfinished event",
            ),
            (
                Error::config("no API key"),
                "invalid configuration: no API key",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
        let retried = Error::transport("connection reset", false).with_attempts(3);
        assert_eq!(
            retried.to_string(),
            "connection failed before the answer: connection reset (gave up after 3 attempts)"
        );
        assert!(format!("{retried:?}").contains("attempts: 3"));
        let once = Error::transport("connection reset", false).with_attempts(1);
        assert_eq!(
            once.to_string(),
            "connection failed before the answer: connection reset"
        );
        let connect_timeout = Error::connect("timed out", true);
        assert!(connect_timeout.is_timeout() && connect_timeout.is_retryable());
        assert!(Error::timeout(Duration::from_secs(1)).is_timeout());
        assert!(!Error::timeout(Duration::from_secs(1)).is_retryable());
        assert!(Error::transport("reset", false).is_retryable());
        assert!(!Error::transport("reset", true).is_retryable());
    }

    #[test]
    fn scrubs_the_key_from_every_text() {
        let key = "AIzaCanary-0123456789abcdef";
        let body = format!(
            r#"{{"error": {{"code": 400, "message": "bad key {key}", "status": "INVALID_ARGUMENT",
                "details": [{{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "{key}",
                  "domain": "d", "metadata": {{"{key}": "{key}"}}}},
                  {{"@type": "type.googleapis.com/google.rpc.Help", "links": [{{"url": "https://x/?key={key}"}}]}},
                  {{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{{"quotaId": "{key}"}}]}},
                  {{"@type": "x.Debug", "nested": [{{"{key}": "{key}"}}]}}]}}}}"#
        );
        let error = Error::api(ApiError::from_body(400, None, body.as_bytes()))
            .with_context(format!("POST /x?key={key}"))
            .scrubbed(key);
        for text in [
            format!("{error}"),
            format!("{error:?}"),
            format!("{error:#?}"),
        ] {
            assert!(!text.contains(key), "{text}");
            assert!(text.contains("***"), "{text}");
        }
        let error = Error::connect(
            format!("error sending request for url (https://h/?key={key})"),
            false,
        )
        .scrubbed(key);
        assert!(!format!("{error} {error:?}").contains(key));
    }

    #[test]
    fn decode_excerpts_point_at_the_error() {
        let body = br#"{"candidates": [{"content": {"parts": [{"text": 12}]}}], "padding": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#;
        let err =
            serde_json::from_slice::<nanobanana_wire::GenerateContentResponse>(body).unwrap_err();
        let excerpt = decode_excerpt(body, &err);
        assert!(excerpt.contains(r#""text": 12"#), "{excerpt}");
        assert!(excerpt.ends_with("...`"), "{excerpt}");
        let err = serde_json::from_slice::<serde_json::Value>(b"").unwrap_err();
        assert_eq!(decode_excerpt(b"", &err), "empty body");
    }

    #[test]
    fn durations_print_short() {
        assert_eq!(DisplayDuration(Duration::from_secs(34)).to_string(), "34s");
        assert_eq!(
            DisplayDuration(Duration::from_millis(1500)).to_string(),
            "1.5s"
        );
        assert_eq!(
            DisplayDuration(Duration::from_millis(250)).to_string(),
            "250ms"
        );
        assert_eq!(DisplayDuration(Duration::ZERO).to_string(), "0s");
    }
}
