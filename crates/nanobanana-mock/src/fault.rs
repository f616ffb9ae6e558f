//! Faults: what the fake server does wrong on purpose, so clients can test their retries,
//! timeouts and error handling. Configured per server ([`MockGeminiBuilder::fault`]), per matched
//! request ([`Mock`]), or per request with the `x-nanobanana-fault` header from any language.
//!
//! # The `x-nanobanana-fault` header
//!
//! Directives separated by `;` (or `,`), each `name=value` or a bare name:
//!
//! | directive | effect |
//! |---|---|
//! | `status=429` | answer `429 RESOURCE_EXHAUSTED` with `QuotaFailure`, `Help` and `RetryInfo` (any status code works; 429, 500, 503, 408 and 504 carry the real service's texts) |
//! | `retry-delay=2s` | the `RetryInfo.retryDelay` of a 429 (default `34s`, as the service) |
//! | `retry-after=2` | also send a `Retry-After: 2` header |
//! | `delay=250ms` | wait before sending the headers |
//! | `event-delay=50ms` | wait between server-sent events |
//! | `reset-after=1024` | close the connection after this many body bytes (`0`: before any response byte) |
//! | `truncate-after=2` | end a stream after 2 whole events and half of the third |
//! | `error-after=1` | after 1 event, send `data: {"error": ...}` (a 503 by default, or `status=`) and end |
//! | `outcome=no-image` | answer with an outcome, by the name of its kind (`nanobanana_rules::OutcomeKind`): `no-image`, `image-safety`, `image-prohibited-content` (or `image-prohibited`), `image-recitation`, `blocked-prompt`, `text-only`, `missing-thought-signature`, `stopped` (`finishReason: OTHER`), `empty`, or `images` (the normal answer) |
//! | `cut-upload-at=60%` | cut a resumable upload at this share of its declared length (`X-Goog-Upload-Header-Content-Length`, 0% to 99%): the chunk that crosses that point is kept up to it, then the connection is dropped before any answer (with `status=503` too: that status is answered instead); a later `query` reports the bytes kept, so a client can resume. Sent on the `start` request or on any chunk of the upload; each upload is cut once |
//! | `cut-upload-after=1048576` | the same, at a byte offset |
//! | `times=1` | apply the fault to the first N requests carrying this exact header value, then serve normally (for "fail, then succeed" retries from any client) |
//!
//! Durations take `ms` or `s` suffixes (plain numbers are milliseconds). An unparsable header is
//! answered with `400` naming the directive and what is allowed, never ignored.
//!
//! [`MockGeminiBuilder::fault`]: crate::MockGeminiBuilder::fault
//! [`Mock`]: crate::Mock

use std::fmt;
use std::time::Duration;

use nanobanana_rules::OutcomeKind;

pub(crate) mod apply;

/// The header that carries a per-request fault.
pub const FAULT_HEADER: &str = "x-nanobanana-fault";

/// A fault to inject: any combination of an error status, delays, a connection reset, a broken
/// stream and an unusual model outcome. Build one with the constructors and combine with the
/// `with_*` methods; [`Fault::parse`] reads the `x-nanobanana-fault` header syntax.
///
/// ```
/// use std::time::Duration;
/// use nanobanana_mock::{Fault, OutcomeKind};
///
/// let rate_limited = Fault::status(429).with_retry_delay(Duration::from_secs(2));
/// let slow_stream = Fault::event_delay(Duration::from_millis(20)).with_truncate_after(2);
/// assert_eq!(Fault::parse("status=429; retry-delay=2s").unwrap(), rate_limited);
/// assert_eq!(Fault::parse("outcome=no-image").unwrap(), Fault::outcome(OutcomeKind::NoImage));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fault {
    /// Answer with this HTTP status and a Google-style error body.
    pub status: Option<u16>,
    /// `RetryInfo.retryDelay` of a 429.
    pub retry_delay: Option<Duration>,
    /// Send a `Retry-After` header (seconds).
    pub retry_after: Option<u64>,
    /// Wait this long before sending the headers.
    pub delay: Option<Duration>,
    /// Wait this long between server-sent events.
    pub event_delay: Option<Duration>,
    /// Close the connection after this many body bytes (0: before any response byte).
    pub reset_after: Option<u64>,
    /// End a stream after this many whole events and half of the next.
    pub truncate_after: Option<usize>,
    /// Send an error event after this many events and end the stream.
    pub error_after: Option<usize>,
    /// Answer with an outcome of this kind instead of an image.
    pub outcome: Option<OutcomeKind>,
    /// Cut a resumable upload at this point, once: the chunk that crosses it is kept up to
    /// it, then the connection is dropped (or `status` answered).
    pub cut_upload: Option<UploadCut>,
    /// With the header: apply to the first N requests carrying the same header value only.
    pub times: Option<u64>,
}

/// Where [`Fault::cut_upload`] cuts a resumable upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UploadCut {
    /// At this percentage (0 to 99) of the length the upload's `start` declared
    /// (`cut-upload-at=60%`).
    Percent(u8),
    /// After this many bytes of the file (`cut-upload-after=BYTES`).
    Bytes(u64),
}

impl UploadCut {
    /// The byte offset of the cut in an upload of `declared` bytes (`None` when a percentage
    /// has no declared length to apply to).
    pub fn offset(self, declared: Option<u64>) -> Option<u64> {
        match self {
            UploadCut::Bytes(bytes) => Some(bytes),
            UploadCut::Percent(percent) => {
                declared.map(|len| (u128::from(len) * u128::from(percent) / 100) as u64)
            }
        }
    }
}

/// Why a fault description could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultParseError(String);

impl fmt::Display for FaultParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultParseError {}

const DIRECTIVES: &str = "status, retry-delay, retry-after, delay, event-delay, reset-after, truncate-after, error-after, outcome, cut-upload-at, cut-upload-after, times";

impl Fault {
    /// No fault.
    pub fn none() -> Self {
        Self::default()
    }

    /// Answer with an HTTP error status (429 comes with `RetryInfo` and `QuotaFailure`).
    pub fn status(code: u16) -> Self {
        Self::default().with_status(code)
    }

    /// Wait before sending the headers.
    pub fn delay(delay: Duration) -> Self {
        Self::default().with_delay(delay)
    }

    /// Wait between server-sent events.
    pub fn event_delay(delay: Duration) -> Self {
        Self::default().with_event_delay(delay)
    }

    /// Close the connection after `bytes` body bytes (0: before any response byte).
    pub fn reset_after(bytes: u64) -> Self {
        Self::default().with_reset_after(bytes)
    }

    /// End a stream after `events` whole events and half of the next.
    pub fn truncate_after(events: usize) -> Self {
        Self::default().with_truncate_after(events)
    }

    /// Send an error event after `events` events.
    pub fn error_after(events: usize) -> Self {
        Self::default().with_error_after(events)
    }

    /// Answer with an outcome instead of an image.
    pub fn outcome(outcome: OutcomeKind) -> Self {
        Self::default().with_outcome(outcome)
    }

    /// Cut a resumable upload once at `cut` (see [`UploadCut`]).
    pub fn cut_upload(cut: UploadCut) -> Self {
        Self::default().with_cut_upload(cut)
    }

    /// Sets where a resumable upload is cut.
    pub fn with_cut_upload(mut self, cut: UploadCut) -> Self {
        self.cut_upload = Some(cut);
        self
    }

    /// Sets the error status.
    pub fn with_status(mut self, code: u16) -> Self {
        self.status = Some(code);
        self
    }

    /// Sets the `RetryInfo.retryDelay` of a 429.
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = Some(delay);
        self
    }

    /// Also sends `Retry-After: <seconds>`.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Sets the delay before the headers.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Sets the delay between events.
    pub fn with_event_delay(mut self, delay: Duration) -> Self {
        self.event_delay = Some(delay);
        self
    }

    /// Sets the connection reset point.
    pub fn with_reset_after(mut self, bytes: u64) -> Self {
        self.reset_after = Some(bytes);
        self
    }

    /// Sets the stream truncation point.
    pub fn with_truncate_after(mut self, events: usize) -> Self {
        self.truncate_after = Some(events);
        self
    }

    /// Sets the mid-stream error point.
    pub fn with_error_after(mut self, events: usize) -> Self {
        self.error_after = Some(events);
        self
    }

    /// Sets the outcome.
    pub fn with_outcome(mut self, outcome: OutcomeKind) -> Self {
        self.outcome = Some(outcome);
        self
    }

    /// Whether this fault changes nothing.
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }

    /// This fault with the settings of `other` added (where `other` sets them).
    pub fn merged_with(mut self, other: &Fault) -> Self {
        macro_rules! take {
            ($($field:ident),*) => { $( if other.$field.is_some() { self.$field = other.$field; } )* };
        }
        take!(
            status,
            retry_delay,
            retry_after,
            delay,
            event_delay,
            reset_after,
            truncate_after,
            error_after,
            outcome,
            cut_upload,
            times
        );
        self
    }

    /// Reads the `x-nanobanana-fault` header syntax (see the module docs).
    pub fn parse(text: &str) -> Result<Fault, FaultParseError> {
        let mut fault = Fault::default();
        for directive in text
            .split([';', ','])
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            let (name, value) = match directive.split_once('=') {
                Some((n, v)) => (n.trim().to_ascii_lowercase(), v.trim()),
                None => (directive.to_ascii_lowercase(), ""),
            };
            fault.directive(directive, &name, value)?;
        }
        Ok(fault)
    }

    /// Applies one directive of the header syntax.
    fn directive(
        &mut self,
        directive: &str,
        name: &str,
        value: &str,
    ) -> Result<(), FaultParseError> {
        let fault = self;
        let bad = |allowed: &str| {
            FaultParseError(format!(
                "Invalid {FAULT_HEADER} directive \"{directive}\": {name} takes {allowed}."
            ))
        };
        match name {
            "status" => {
                let code: u16 = value.parse().map_err(|_| bad("an HTTP status code"))?;
                if !(400..=599).contains(&code) {
                    return Err(bad("an HTTP error status code (400 to 599)"));
                }
                fault.status = Some(code);
            }
            "retry-delay" => {
                fault.retry_delay =
                    Some(parse_duration(value).ok_or_else(|| bad("a duration like 2s"))?);
            }
            "retry-after" => {
                fault.retry_after = Some(value.parse().map_err(|_| bad("whole seconds"))?);
            }
            "delay" => {
                fault.delay =
                    Some(parse_duration(value).ok_or_else(|| bad("a duration like 250ms or 2s"))?);
            }
            "event-delay" => {
                fault.event_delay =
                    Some(parse_duration(value).ok_or_else(|| bad("a duration like 50ms or 1s"))?);
            }
            "reset-after" => {
                fault.reset_after = Some(value.parse().map_err(|_| bad("a number of body bytes"))?);
            }
            "truncate-after" => {
                fault.truncate_after = Some(value.parse().map_err(|_| bad("a number of events"))?);
            }
            "error-after" => {
                fault.error_after = Some(value.parse().map_err(|_| bad("a number of events"))?);
            }
            "outcome" => {
                fault.outcome = Some(outcome_by_name(value).ok_or_else(|| bad(&outcome_names()))?);
            }
            "cut-upload-at" => {
                let percent = value
                    .strip_suffix('%')
                    .and_then(|p| p.trim().parse::<u8>().ok())
                    .filter(|p| *p < 100)
                    .ok_or_else(|| bad("a percentage from 0% to 99%, like 60%"))?;
                fault.cut_upload = Some(UploadCut::Percent(percent));
            }
            "cut-upload-after" => {
                let bytes = value
                    .parse()
                    .map_err(|_| bad("a number of bytes of the file"))?;
                fault.cut_upload = Some(UploadCut::Bytes(bytes));
            }
            "times" => {
                let n: u64 = value.parse().map_err(|_| bad("a positive count"))?;
                if n == 0 {
                    return Err(bad("a positive count"));
                }
                fault.times = Some(n);
            }
            _ => {
                return Err(FaultParseError(format!(
                    "Invalid {FAULT_HEADER} directive \"{directive}\": unknown name \"{name}\". Allowed: {DIRECTIVES}."
                )));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Fault {
    /// The fault in the header syntax, e.g. `status=429; retry-delay=2000ms` (empty: none).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: &Duration| format!("{}ms", d.as_millis());
        let cut = |c: &UploadCut| match c {
            UploadCut::Percent(p) => format!("cut-upload-at={p}%"),
            UploadCut::Bytes(b) => format!("cut-upload-after={b}"),
        };
        let directives = [
            self.status.map(|v| format!("status={v}")),
            self.retry_delay
                .as_ref()
                .map(|d| format!("retry-delay={}", ms(d))),
            self.retry_after.map(|v| format!("retry-after={v}")),
            self.delay.as_ref().map(|d| format!("delay={}", ms(d))),
            self.event_delay
                .as_ref()
                .map(|d| format!("event-delay={}", ms(d))),
            self.reset_after.map(|v| format!("reset-after={v}")),
            self.truncate_after.map(|v| format!("truncate-after={v}")),
            self.error_after.map(|v| format!("error-after={v}")),
            self.outcome.map(|o| format!("outcome={o}")),
            self.cut_upload.as_ref().map(cut),
            self.times.map(|v| format!("times={v}")),
        ];
        let texts: Vec<String> = directives.into_iter().flatten().collect();
        f.write_str(&texts.join("; "))
    }
}

/// A duration of the header syntax: `250ms`, `1.5s`, or plain milliseconds.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Some(ms) = text.strip_suffix("ms") {
        return ms.trim().parse().ok().map(Duration::from_millis);
    }
    if let Some(s) = text.strip_suffix('s') {
        let secs: f64 = s.trim().parse().ok()?;
        return (0.0..86_400.0)
            .contains(&secs)
            .then(|| Duration::from_secs_f64(secs));
    }
    text.parse().ok().map(Duration::from_millis)
}

/// The outcome kind `name` stands for in a fault or a mounted answer: a name of
/// [`OutcomeKind`], or `image-prohibited`, the spelling of the fake server's own enum before it
/// used the rules' kinds.
pub(crate) fn outcome_by_name(name: &str) -> Option<OutcomeKind> {
    match name {
        "image-prohibited" => Some(OutcomeKind::ImageProhibitedContent),
        name => OutcomeKind::from_name(name),
    }
}

/// Every outcome name, comma-separated, for error texts.
pub(crate) fn outcome_names() -> String {
    let names: Vec<&str> = OutcomeKind::ALL.iter().map(|o| o.as_str()).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_syntax_reads_every_directive() {
        let fault = Fault::parse(
            "status=503; retry-delay=1.5s, retry-after=3; delay=20ms; event-delay=5; reset-after=0; truncate-after=2; error-after=1; outcome=blocked-prompt; times=2",
        )
        .unwrap();
        assert_eq!(fault.status, Some(503));
        assert_eq!(fault.retry_delay, Some(Duration::from_millis(1500)));
        assert_eq!(fault.retry_after, Some(3));
        assert_eq!(fault.delay, Some(Duration::from_millis(20)));
        assert_eq!(fault.event_delay, Some(Duration::from_millis(5)));
        assert_eq!(fault.reset_after, Some(0));
        assert_eq!(fault.truncate_after, Some(2));
        assert_eq!(fault.error_after, Some(1));
        assert_eq!(fault.outcome, Some(OutcomeKind::BlockedPrompt));
        for (name, kind) in [
            ("image-prohibited", OutcomeKind::ImageProhibitedContent),
            (
                "image-prohibited-content",
                OutcomeKind::ImageProhibitedContent,
            ),
            (
                "missing-thought-signature",
                OutcomeKind::MissingThoughtSignature,
            ),
        ] {
            let fault = Fault::parse(&format!("outcome={name}")).unwrap();
            assert_eq!(fault.outcome, Some(kind), "{name}");
        }
        assert_eq!(fault.times, Some(2));
        // Written back in the same syntax, it reads as the same fault.
        assert_eq!(Fault::parse(&fault.to_string()).unwrap(), fault);
        assert_eq!(Fault::none().to_string(), "");
    }

    #[test]
    fn upload_cuts_read_percentages_and_bytes() {
        let at = Fault::parse("cut-upload-at=60%; status=503").unwrap();
        assert_eq!(at.cut_upload, Some(UploadCut::Percent(60)));
        assert_eq!(at.status, Some(503));
        assert_eq!(
            Fault::parse("cut-upload-after=1024").unwrap(),
            Fault::cut_upload(UploadCut::Bytes(1024))
        );
        assert_eq!(UploadCut::Percent(60).offset(Some(1000)), Some(600));
        assert_eq!(UploadCut::Percent(60).offset(None), None);
        assert!(UploadCut::Percent(99).offset(Some(u64::MAX)) < Some(u64::MAX));
        assert_eq!(UploadCut::Bytes(7).offset(None), Some(7));
    }

    #[test]
    fn bad_directives_name_what_is_allowed() {
        assert_eq!(
            Fault::parse("status=abc").unwrap_err().to_string(),
            "Invalid x-nanobanana-fault directive \"status=abc\": status takes an HTTP status code."
        );
        assert_eq!(
            Fault::parse("outcome=weird").unwrap_err().to_string(),
            "Invalid x-nanobanana-fault directive \"outcome=weird\": outcome takes images, text-only, no-image, image-safety, image-prohibited-content, image-recitation, blocked-prompt, missing-thought-signature, stopped, empty."
        );
        assert!(
            Fault::parse("explode")
                .unwrap_err()
                .to_string()
                .contains("unknown name \"explode\"")
        );
        assert!(Fault::parse("times=0").is_err());
        assert_eq!(
            Fault::parse("cut-upload-at=100%").unwrap_err().to_string(),
            "Invalid x-nanobanana-fault directive \"cut-upload-at=100%\": cut-upload-at takes a percentage from 0% to 99%, like 60%."
        );
        assert!(Fault::parse("cut-upload-at=60").is_err());
        assert!(Fault::parse("cut-upload-after=-1").is_err());
        assert!(Fault::parse("status=200").is_err());
        assert_eq!(Fault::parse("").unwrap(), Fault::none());
    }
}
