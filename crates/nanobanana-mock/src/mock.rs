//! Mounted behaviour, wiremock style: a [`Mock`] matches some requests and changes what the
//! server does with them (a fault, a fixed answer, another mode), optionally a limited number of
//! times, with an expectation on how many requests it should see, verified when the server (or
//! the scoped guard) is dropped.

use std::fmt;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use nanobanana_wire::Endpoint;

use crate::fault::Fault;
use crate::server::{Mode, Request, Shared};

/// Behaviour to mount on a [`MockGemini`](crate::MockGemini): which requests, and what to do.
///
/// ```
/// # async fn run() {
/// use nanobanana_mock::{Endpoint, Fault, Mock, MockGemini};
///
/// let server = MockGemini::start().await;
/// // The first generateContent call gets a 503; later ones are served normally.
/// Mock::any()
///     .endpoint(Endpoint::GenerateContent)
///     .fault(Fault::status(503))
///     .up_to_n_times(1)
///     .expect(1)
///     .named("one overload")
///     .mount(&server)
///     .await;
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a Mock does nothing until it is mounted"]
pub struct Mock {
    pub(crate) name: Option<String>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) action: Action,
    pub(crate) limit: Option<u64>,
    pub(crate) expected: Option<(Bound<u64>, Bound<u64>)>,
}

/// One condition a request must meet.
#[derive(Clone, Debug)]
pub(crate) enum Condition {
    Method(String),
    PathContains(String),
    Endpoint(Endpoint),
    Model(String),
    Header(String, String),
    BodyContains(String),
    /// The body is JSON with this value at this JSON pointer (RFC 6901).
    JsonPointer(String, Value),
}

/// What a mounted mock does with a matched request.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    /// Serve normally, with a fault applied.
    Fault(Fault),
    /// Answer with a fixed JSON body.
    Json(u16, Value),
    /// Serve in another mode.
    Mode(Mode),
    /// Serve normally (only count).
    Pass,
}

impl Mock {
    /// A mock matching every request (narrow it with the other methods).
    pub fn any() -> Self {
        Self {
            name: None,
            conditions: Vec::new(),
            action: Action::Pass,
            limit: None,
            expected: None,
        }
    }

    /// Only requests with this HTTP method.
    pub fn method(mut self, method: &str) -> Self {
        self.conditions
            .push(Condition::Method(method.to_ascii_uppercase()));
        self
    }

    /// Only requests whose path contains this text.
    pub fn path_contains(mut self, text: &str) -> Self {
        self.conditions
            .push(Condition::PathContains(text.to_owned()));
        self
    }

    /// Only requests to this endpoint.
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.conditions.push(Condition::Endpoint(endpoint));
        self
    }

    /// Only `models/{model}:...` requests for this model (`models/` prefix optional).
    pub fn model(mut self, model: &str) -> Self {
        let model = model.strip_prefix("models/").unwrap_or(model);
        self.conditions.push(Condition::Model(model.to_owned()));
        self
    }

    /// Only requests carrying this header with this value (name case-insensitive).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.conditions.push(Condition::Header(
            name.to_ascii_lowercase(),
            value.to_owned(),
        ));
        self
    }

    /// Only requests whose body contains this text.
    pub fn body_contains(mut self, text: &str) -> Self {
        self.conditions
            .push(Condition::BodyContains(text.to_owned()));
        self
    }

    /// Only requests whose body is JSON holding `value` at `pointer` (RFC 6901, e.g.
    /// `/generationConfig/imageConfig/aspectRatio`); values compare as JSON (`1` is not `"1"`).
    pub fn json_pointer(mut self, pointer: &str, value: Value) -> Self {
        self.conditions
            .push(Condition::JsonPointer(pointer.to_owned(), value));
        self
    }

    /// Serve matched requests with this fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.action = Action::Fault(fault);
        self
    }

    /// Answer matched requests with this status and JSON body.
    pub fn respond_json(mut self, status: u16, body: Value) -> Self {
        self.action = Action::Json(status, body);
        self
    }

    /// Serve matched requests in another mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.action = Action::Mode(mode);
        self
    }

    /// Apply to the first `n` matched requests only; later ones fall through.
    pub fn up_to_n_times(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Expect this many matched requests (a number or a range), checked when the server or the
    /// scoped guard is dropped.
    pub fn expect(mut self, expected: impl Into<Times>) -> Self {
        let Times(range) = expected.into();
        self.expected = Some(range);
        self
    }

    /// A name for reports.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Mounts this mock on a server until the server is dropped or reset.
    pub async fn mount(self, server: &crate::MockGemini) {
        server.register(self, false);
    }

    /// Mounts this mock until the returned guard is dropped; the guard checks the expectation.
    pub async fn mount_as_scoped(self, server: &crate::MockGemini) -> MockGuard {
        let mounted = server.register(self, true);
        MockGuard { mounted }
    }

    pub(crate) fn describe(&self) -> String {
        if let Some(name) = &self.name {
            return format!("mock \"{name}\"");
        }
        let conditions: Vec<String> = self
            .conditions
            .iter()
            .map(|c| match c {
                Condition::Method(m) => format!("method {m}"),
                Condition::PathContains(p) => format!("path contains {p:?}"),
                Condition::Endpoint(e) => format!("endpoint {e:?}"),
                Condition::Model(m) => format!("model {m}"),
                Condition::Header(n, v) => format!("header {n}: {v}"),
                Condition::BodyContains(t) => format!("body contains {t:?}"),
                Condition::JsonPointer(p, v) => format!("{p} = {v}"),
            })
            .collect();
        if conditions.is_empty() {
            "mock (any request)".to_owned()
        } else {
            format!("mock ({})", conditions.join(", "))
        }
    }
}

/// An expected number of requests: a count (`1`) or a range (`1..`, `2..=3`).
#[derive(Clone, Copy, Debug)]
pub struct Times((Bound<u64>, Bound<u64>));

impl From<u64> for Times {
    fn from(n: u64) -> Self {
        Times((Bound::Included(n), Bound::Included(n)))
    }
}

macro_rules! times_from_range {
    ($($range:ty),*) => {$(
        impl From<$range> for Times {
            fn from(range: $range) -> Self {
                Times((range.start_bound().cloned(), range.end_bound().cloned()))
            }
        }
    )*};
}
times_from_range!(
    std::ops::Range<u64>,
    std::ops::RangeInclusive<u64>,
    std::ops::RangeFrom<u64>,
    std::ops::RangeTo<u64>,
    std::ops::RangeToInclusive<u64>
);

/// A mock as mounted: its definition and how many requests it matched.
#[derive(Debug)]
pub(crate) struct Mounted {
    pub(crate) id: u64,
    pub(crate) mock: Mock,
    pub(crate) matched: AtomicU64,
    pub(crate) scoped: bool,
    pub(crate) server: std::sync::Weak<crate::server::Shared>,
}

impl Mounted {
    /// The expectation's failure, if it failed.
    pub(crate) fn unmet(&self) -> Option<String> {
        let (low, high) = self.mock.expected?;
        let n = self.matched.load(Ordering::SeqCst);
        if (low, high).contains(&n) {
            return None;
        }
        Some(format!(
            "{} expected {} matching request(s), received {n}",
            self.mock.describe(),
            describe_range(low, high)
        ))
    }
}

/// `exactly 1`, `at least 2`, `1 to 3`...
pub(crate) fn describe_range(low: Bound<u64>, high: Bound<u64>) -> String {
    match (low, high) {
        (Bound::Included(a), Bound::Included(b)) if a == b => format!("exactly {a}"),
        (Bound::Included(a), Bound::Unbounded) => format!("at least {a}"),
        (Bound::Unbounded, Bound::Included(b)) => format!("at most {b}"),
        (Bound::Unbounded, Bound::Excluded(b)) => format!("fewer than {b}"),
        (Bound::Included(a), Bound::Included(b)) => format!("{a} to {b}"),
        (Bound::Included(a), Bound::Excluded(b)) => format!("{a} to {}", b.saturating_sub(1)),
        _ => "any number of".to_owned(),
    }
}

/// Keeps a scoped mock mounted; dropping it unmounts the mock and verifies its expectation
/// (panicking with a readable report when it failed, unless the thread is already panicking).
#[must_use = "the mock is unmounted when the guard is dropped"]
pub struct MockGuard {
    mounted: Arc<Mounted>,
}

impl MockGuard {
    /// How many requests the mock has matched so far.
    pub fn received(&self) -> u64 {
        self.mounted.matched.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for MockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockGuard")
            .field("mock", &self.mounted.mock.describe())
            .field("received", &self.received())
            .finish()
    }
}

impl Drop for MockGuard {
    fn drop(&mut self) {
        let report = self.mounted.server.upgrade().map(|shared| {
            shared.unmount(self.mounted.id);
            shared.journal_report()
        });
        if let Some(failure) = self.mounted.unmet()
            && !std::thread::panicking()
        {
            panic!(
                "nanobanana-mock: {failure}.\n{}",
                report.unwrap_or_default()
            );
        }
    }
}

/// The action of the first mounted mock whose conditions `request` meets (and whose limit is
/// not used up), counting the match; `None` when no mock matches.
pub(crate) fn matched_action(
    shared: &Shared,
    request: &Request,
    endpoint: Option<Endpoint>,
    model: Option<&str>,
) -> Option<Action> {
    let mounts = shared.mounts.read().unwrap_or_else(|p| p.into_inner());
    for mounted in mounts.iter() {
        let mock = &mounted.mock;
        let matches = mock.conditions.iter().all(|c| match c {
            Condition::Method(m) => request.method == *m,
            Condition::PathContains(p) => request.path.contains(p.as_str()),
            Condition::Endpoint(e) => endpoint == Some(*e),
            Condition::Model(m) => model == Some(m.as_str()),
            Condition::Header(name, value) => request.header(name) == Some(value.as_str()),
            Condition::BodyContains(text) => contains(&request.body, text.as_bytes()),
            Condition::JsonPointer(pointer, value) => {
                serde_json::from_slice::<Value>(&request.body)
                    .is_ok_and(|body| body.pointer(pointer) == Some(value))
            }
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
