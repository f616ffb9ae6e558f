//! The journal: what the server received, decoded, bounded in size.

use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::time::Duration;

use bytes::Bytes;

use serde_json::Value;

use nanobanana_wire::routes::Matched;
use nanobanana_wire::{Endpoint, GenerateContentRequest};

use crate::fault::Fault;
use crate::reply::{Reply, ReplyBody};
use crate::server::{Request, Shared, lock};

/// One request the server received, as it arrived (the API key redacted).
#[derive(Clone, Default)]
pub struct ReceivedRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    /// The body's bytes; meaningful only when `body_kept`.
    pub(crate) body: Vec<u8>,
    pub(crate) body_kept: bool,
    /// The body was kept, then dropped to keep the journal within its byte limit.
    pub(crate) body_dropped: bool,
    pub(crate) body_len: usize,
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) model: Option<String>,
    pub(crate) status: u16,
    /// From the request's first byte read to its answer's headers (delays included).
    pub(crate) latency: Duration,
    /// The fault in force, in the header syntax, and what chaos or quotas did.
    pub(crate) fault: String,
    pub(crate) replayed: bool,
    /// The answer's body when it is JSON (one buffer) or a stream (its events), shared with the
    /// answer (never copied); for the journal page.
    pub(crate) answer: Vec<Bytes>,
}

impl ReceivedRequest {
    /// The HTTP method, e.g. `POST`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path without the query, e.g. `/v1beta/models/gemini-3-pro-image:generateContent`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Query parameters, percent-decoded (`key` redacted as `***`).
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// Headers, lower-case names (`x-goog-api-key` redacted as `***`).
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The value of a header (first occurrence, name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The endpoint the request was routed to; `None` for a path that is no endpoint.
    pub fn endpoint(&self) -> Option<Endpoint> {
        self.endpoint
    }

    /// The model of a `models/{model}:...` request.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The HTTP status the server answered with (after faults).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// How long the server took: from reading the request to sending its answer's headers,
    /// injected delays included.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// The fault applied to this request, in the `x-nanobanana-fault` syntax
    /// (`status=503; delay=120ms`), with what chaos drew or a quota refused
    /// (`chaos 503`, `quota exceeded`); `None` when it was served normally.
    pub fn fault(&self) -> Option<&str> {
        (!self.fault.is_empty()).then_some(self.fault.as_str())
    }

    /// Whether the answer was replayed from a recording of the fixture corpus (else simulated
    /// or served from the server's state).
    pub fn replayed(&self) -> bool {
        self.replayed
    }

    /// The body, when it was within the journal's body limit (see
    /// [`MockGeminiBuilder::journal_body_limit`](crate::MockGeminiBuilder::journal_body_limit)).
    pub fn body(&self) -> Option<&[u8]> {
        self.body_kept.then_some(self.body.as_slice())
    }

    /// The body's length in bytes, kept even when the body is not.
    pub fn body_len(&self) -> usize {
        self.body_len
    }

    /// Whether the body was journalled, then dropped because the bodies of the journal went over
    /// its byte limit (see
    /// [`MockGeminiBuilder::journal_byte_limit`](crate::MockGeminiBuilder::journal_byte_limit)):
    /// the oldest bodies go first, and [`body`](Self::body) is `None` for them. The request line
    /// shows `body dropped`.
    pub fn body_dropped(&self) -> bool {
        self.body_dropped
    }

    /// Whether the request had a body that the journal does not hold: one over the journal's
    /// body limit (never kept), or one dropped later for its byte limit
    /// ([`body_dropped`](Self::body_dropped)). Then [`body`](Self::body), [`json`](Self::json)
    /// and [`generate_request`](Self::generate_request) are `None` although a body was sent, and
    /// the request line says so.
    pub fn body_truncated(&self) -> bool {
        self.body_len > 0 && !self.body_kept
    }

    /// The body decoded as JSON, if it was kept and is JSON.
    pub fn json(&self) -> Option<Value> {
        self.body().and_then(|b| serde_json::from_slice(b).ok())
    }

    /// The typed request of a `generateContent` or `streamGenerateContent` call, decoded from
    /// the body; `None` for another endpoint, a body the journal did not keep (see
    /// [`body_truncated`](Self::body_truncated)) or one that does not decode.
    pub fn generate_request(&self) -> Option<GenerateContentRequest> {
        match self.endpoint? {
            Endpoint::GenerateContent | Endpoint::StreamGenerateContent => {
                serde_json::from_slice(self.body()?).ok()
            }
            _ => None,
        }
    }

    /// Sets `pairs[index]`, reusing the strings already there: the journal recycles the entry
    /// it drops, so recording a request allocates nothing once warm.
    pub(crate) fn set_pair(
        pairs: &mut Vec<(String, String)>,
        index: usize,
        name: &str,
        value: &str,
    ) {
        match pairs.get_mut(index) {
            Some((n, v)) => {
                n.clear();
                n.push_str(name);
                v.clear();
                v.push_str(value);
            }
            None => pairs.push((name.to_owned(), value.to_owned())),
        }
    }
}

impl fmt::Debug for ReceivedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("status", &self.status)
            .field("body_len", &self.body_len)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ReceivedRequest {
    /// `POST /v1beta/models/x:generateContent (1234 bytes) -> 200`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if !self.query.is_empty() {
            let query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(f, "?{}", query.join("&"))?;
        }
        let mark = if self.body_dropped {
            ", body dropped: journal byte limit"
        } else if self.body_truncated() {
            ", body not kept: journal body limit"
        } else {
            ""
        };
        write!(f, " ({} bytes{mark}) -> {}", self.body_len, self.status)
    }
}

/// A ring of the most recent requests, bounded in entries and in the bytes of the bodies it
/// keeps: past the byte limit, the oldest kept bodies are dropped (the entries stay, marked
/// [`ReceivedRequest::body_dropped`]).
pub(crate) struct Journal {
    capacity: usize,
    byte_limit: usize,
    /// Bytes held by the kept entries' bodies (their allocations, not only their lengths).
    body_bytes: usize,
    /// Bytes of the answers the kept entries hold alive (shared with the answers).
    answer_bytes: usize,
    entries: VecDeque<ReceivedRequest>,
    total: u64,
    /// Bodies dropped for the byte limit so far.
    dropped_bodies: u64,
    /// The entry the ring dropped last, handed out again by [`Journal::spare`].
    spare: Option<ReceivedRequest>,
}

impl Journal {
    pub(crate) fn new(capacity: usize, byte_limit: usize) -> Self {
        Self {
            capacity,
            byte_limit,
            body_bytes: 0,
            answer_bytes: 0,
            entries: VecDeque::with_capacity(capacity.min(1024)),
            total: 0,
            dropped_bodies: 0,
            spare: None,
        }
    }

    /// An entry to fill for the next request: the one the ring dropped last, if any (its
    /// allocations are reused), or a new one.
    pub(crate) fn spare(&mut self) -> ReceivedRequest {
        self.spare.take().unwrap_or_default()
    }

    pub(crate) fn push(&mut self, mut entry: ReceivedRequest) {
        self.total += 1;
        if self.capacity == 0 {
            self.spare = Some(entry);
            return;
        }
        if self.entries.len() == self.capacity
            && let Some(mut old) = self.entries.pop_front()
        {
            self.body_bytes = self.body_bytes.saturating_sub(old.body.capacity());
            self.answer_bytes = self.answer_bytes.saturating_sub(answer_len(&old));
            old.answer.clear();
            // The recycled entry keeps a small body buffer at most: a big one would be held
            // outside the byte limit's count.
            if old.body.capacity() > SPARE_BODY_CAPACITY {
                old.body = Vec::new();
            }
            self.spare = Some(old);
        }
        entry.body_dropped = false;
        if !entry.body_kept {
            entry.body = Vec::new();
        }
        if entry.body.capacity() > self.byte_limit {
            drop_body(&mut entry);
            self.dropped_bodies += 1;
        }
        self.body_bytes = self.body_bytes.saturating_add(entry.body.capacity());
        self.keep_answer(&mut entry);
        // Oldest first: the bodies most likely needed are the latest ones.
        for old in self.entries.iter_mut() {
            if self.body_bytes <= self.byte_limit {
                break;
            }
            if old.body.capacity() > 0 {
                self.body_bytes = self.body_bytes.saturating_sub(old.body.capacity());
                drop_body(old);
                self.dropped_bodies += 1;
            }
        }
        self.entries.push_back(entry);
    }

    /// Counts the answer `entry` keeps within the byte limit (a budget of its own, beside the
    /// bodies'): past it, the oldest kept answers are let go first.
    fn keep_answer(&mut self, entry: &mut ReceivedRequest) {
        if answer_len(entry) > self.byte_limit {
            entry.answer = Vec::new();
        }
        self.answer_bytes = self.answer_bytes.saturating_add(answer_len(entry));
        for old in self.entries.iter_mut() {
            if self.answer_bytes <= self.byte_limit {
                break;
            }
            self.answer_bytes = self.answer_bytes.saturating_sub(answer_len(old));
            old.answer = Vec::new();
        }
    }

    pub(crate) fn entries(&self) -> Vec<ReceivedRequest> {
        self.entries.iter().cloned().collect()
    }

    /// The kept entries, oldest first, borrowed (no copy of their bodies).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &ReceivedRequest> {
        self.entries.iter()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// How many bodies were dropped for the byte limit.
    pub(crate) fn dropped_bodies(&self) -> u64 {
        self.dropped_bodies
    }

    /// Bytes the kept bodies hold.
    #[cfg(test)]
    pub(crate) fn body_bytes(&self) -> usize {
        self.body_bytes
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.body_bytes = 0;
        self.answer_bytes = 0;
        self.total = 0;
        self.dropped_bodies = 0;
    }
}

/// The body buffer a recycled entry may keep (small bodies are refilled without allocating).
const SPARE_BODY_CAPACITY: usize = 64 << 10;

/// The bytes of the answer an entry keeps alive.
fn answer_len(entry: &ReceivedRequest) -> usize {
    entry.answer.iter().map(Bytes::len).sum()
}

fn drop_body(entry: &mut ReceivedRequest) {
    entry.body = Vec::new();
    entry.body_kept = false;
    entry.body_dropped = true;
}

/// How a request was answered, for the journal.
pub(crate) struct Answered<'a> {
    /// The status sent (0: the connection was dropped).
    pub(crate) status: u16,
    pub(crate) reply: &'a Reply,
    pub(crate) fault: &'a Fault,
    pub(crate) latency: Duration,
}

/// Journals a request with its route and the status it was answered with (0: the connection
/// was dropped), after the `on_request` hook saw it.
pub(crate) fn record(
    shared: &Shared,
    request: &Request,
    matched: Option<Matched<'_>>,
    answered: &Answered<'_>,
) {
    fn redact<'a>(name: &str, value: &'a str) -> &'a str {
        if name.eq_ignore_ascii_case("x-goog-api-key") || name.eq_ignore_ascii_case("key") {
            "***"
        } else {
            value
        }
    }
    // Filled outside the lock, in an entry the journal dropped earlier: no allocation once warm.
    let mut entry = lock(&shared.journal).spare();
    entry.method.clear();
    entry.method.push_str(&request.method);
    entry.path.clear();
    entry.path.push_str(&request.path);
    for (i, (name, value)) in request.query.iter().enumerate() {
        ReceivedRequest::set_pair(&mut entry.query, i, name, redact(name, value));
    }
    entry.query.truncate(request.query.len());
    let mut count = 0;
    for (name, value) in &request.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        ReceivedRequest::set_pair(
            &mut entry.headers,
            count,
            name.as_str(),
            redact(name.as_str(), &value),
        );
        count += 1;
    }
    entry.headers.truncate(count);
    // A copy, not a view of the request's `Bytes`: a view would keep hyper's whole read buffer
    // alive, and hyper would allocate a fresh one for every request on the connection.
    entry.body.clear();
    entry.body_kept = request.body.len() <= shared.config.journal_body_limit;
    if entry.body_kept {
        entry.body.extend_from_slice(&request.body);
    }
    entry.body_len = request.body.len();
    entry.endpoint = matched.map(|m| m.endpoint());
    match (&mut entry.model, matched.and_then(|m| m.model())) {
        (Some(kept), Some(model)) => {
            kept.clear();
            kept.push_str(model);
        }
        (kept, model) => *kept = model.map(str::to_owned),
    }
    entry.status = answered.status;
    fill_answer(&mut entry, answered);
    if let Some(hook) = &shared.config.on_request {
        hook(&entry);
    }
    lock(&shared.journal).push(entry);
}

/// Fills in what the journal page shows of the answer: latency, fault, replayed, and a JSON
/// or event-stream body (shared, not copied).
fn fill_answer(entry: &mut ReceivedRequest, answered: &Answered<'_>) {
    entry.latency = answered.latency;
    entry.replayed = answered.reply.replayed;
    entry.fault.clear();
    if let Some(note) = &answered.reply.note {
        entry.fault.push_str(note);
    }
    if !answered.fault.is_none() {
        let sep = if entry.fault.is_empty() { "" } else { "; " };
        let _ = write!(entry.fault, "{sep}{}", answered.fault);
    }
    entry.answer.clear();
    let json = answered.reply.headers.iter().any(|(name, value)| {
        name == "content-type"
            && (value.starts_with("application/json") || value == "text/event-stream")
    });
    if json {
        match &answered.reply.body {
            ReplyBody::Full(data) => entry.answer.push(data.clone()),
            ReplyBody::Events { events, .. } => entry.answer.extend(events.iter().cloned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: usize) -> ReceivedRequest {
        ReceivedRequest {
            body: vec![b'x'; body],
            body_kept: true,
            body_len: body,
            ..ReceivedRequest::default()
        }
    }

    #[test]
    fn journal_bodies_stay_within_the_byte_limit_oldest_dropped_first() {
        let mut journal = Journal::new(1024, 10_000);
        for _ in 0..50 {
            journal.push(entry(1_000));
            assert!(journal.body_bytes() <= 10_000, "{}", journal.body_bytes());
        }
        let entries = journal.entries();
        assert_eq!(entries.len(), 50);
        assert!(entries[0].body_dropped() && entries[0].body().is_none());
        assert!(entries[0].to_string().contains("body dropped"));
        assert!(!entries[49].body_dropped() && entries[49].body().is_some());
        assert_eq!(journal.dropped_bodies(), 40);
    }

    #[test]
    fn journal_drops_a_body_over_the_whole_byte_limit_at_once() {
        let mut journal = Journal::new(8, 100);
        journal.push(entry(10));
        journal.push(entry(1_000));
        let entries = journal.entries();
        assert!(entries[0].body().is_some());
        assert!(entries[1].body_dropped());
        assert_eq!(entries[1].body_len(), 1_000);
    }
}
