//! Quotas: per-model rate limits (requests per minute, requests per day, input tokens per
//! minute) answered as the service answers them, `429 RESOURCE_EXHAUSTED` with a
//! `google.rpc.QuotaFailure` naming the exceeded quotas (`quotaMetric`, `quotaId`,
//! `quotaDimensions`, `quotaValue`) and a `google.rpc.RetryInfo` whose `retryDelay` is when the
//! window lets the request through, so an application can test its throttling. Configured with
//! [`MockGeminiBuilder::quotas`](crate::MockGeminiBuilder::quotas) or `--quota TEXT`.
//!
//! # The `--quota` syntax
//!
//! Sections separated by `;`, each `MODEL: limit, limit, ...` with `MODEL` a model id (as in
//! the path, without `models/`) or `*` for every model without a section of its own (each
//! model counted apart), and limits `rpm=N` (requests in the last 60 seconds), `rpd=N`
//! (requests in the current day, which starts at midnight Pacific Standard Time, UTC−8, all
//! year), `tpm=N` (input tokens in the last 60 seconds, counted as the simulated
//! `promptTokenCount`: text about four characters a token, 258 or 1120 per input image):
//!
//! ```text
//! gemini-3.1-flash-image-preview: rpm=5, rpd=100, tpm=100000; *: rpm=10
//! ```
//!
//! Counted: `generateContent` and `streamGenerateContent` requests that get past the explicit
//! faults; a refused request does not count. Windows are read from the server's clock, which a
//! test can drive with a [`ManualClock`] instead of sleeping. [`MockGemini::reset`] empties
//! the windows.
//!
//! [`MockGemini::reset`]: crate::MockGemini::reset

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::chaos::ChaosParseError;
use crate::reply::{self, Reply};
use crate::server::lock;

/// A clock a test sets and advances by hand, so quota windows pass without sleeping:
/// give it to [`MockGeminiBuilder::clock`](crate::MockGeminiBuilder::clock) and keep a clone.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use nanobanana_mock::quota::ManualClock;
///
/// let clock = ManualClock::at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
/// let same = clock.clone();
/// clock.advance(Duration::from_secs(61));
/// assert_eq!(same.now(), UNIX_EPOCH + Duration::from_secs(1_800_000_061));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    /// Milliseconds since the Unix epoch.
    millis: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock showing `time` until it is moved.
    pub fn at(time: SystemTime) -> Self {
        let clock = Self {
            millis: Arc::new(AtomicU64::new(0)),
        };
        clock.set(time);
        clock
    }

    /// Shows `time` from now on (before the epoch: the epoch).
    pub fn set(&self, time: SystemTime) {
        let millis = time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.millis.store(millis, Ordering::SeqCst);
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| {
                Some(m.saturating_add(by))
            });
    }

    /// The time it shows.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

/// The server's clock: the system's, or a [`ManualClock`].
#[derive(Clone, Debug, Default)]
pub(crate) enum Clock {
    #[default]
    System,
    Manual(ManualClock),
}

impl Clock {
    /// Milliseconds since the Unix epoch.
    pub(crate) fn now_millis(&self) -> u64 {
        let now = match self {
            Clock::System => SystemTime::now(),
            Clock::Manual(clock) => clock.now(),
        };
        now.duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// The limits of one model; unset limits do not apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quota {
    rpm: Option<u64>,
    rpd: Option<u64>,
    tpm: Option<u64>,
}

impl Quota {
    /// No limit yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests per minute (the last 60 seconds).
    pub fn rpm(mut self, requests: u64) -> Self {
        self.rpm = Some(requests);
        self
    }

    /// Requests per day (since midnight Pacific Standard Time).
    pub fn rpd(mut self, requests: u64) -> Self {
        self.rpd = Some(requests);
        self
    }

    /// Input tokens per minute (the last 60 seconds).
    pub fn tpm(mut self, tokens: u64) -> Self {
        self.tpm = Some(tokens);
        self
    }
}

/// Per-model rate limits (see the [module docs](self) for the syntax).
///
/// ```
/// use nanobanana_mock::quota::{Quota, Quotas};
///
/// let quotas = Quotas::new().model("gemini-3.1-flash-image-preview", Quota::new().rpm(5).rpd(100));
/// assert_eq!(
///     Quotas::parse("gemini-3.1-flash-image-preview: rpm=5, rpd=100").unwrap(),
///     quotas
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quotas {
    /// `None`: the `*` entry.
    models: Vec<(Option<String>, Quota)>,
}

impl Quotas {
    /// No limits yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The limits of one model (replacing earlier ones).
    pub fn model(self, model: &str, quota: Quota) -> Self {
        let model = model.strip_prefix("models/").unwrap_or(model);
        self.set(Some(model.to_owned()), quota)
    }

    /// The limits of every model without its own, each model counted apart (`*`).
    pub fn other_models(self, quota: Quota) -> Self {
        self.set(None, quota)
    }

    fn set(mut self, model: Option<String>, quota: Quota) -> Self {
        self.models.retain(|(m, _)| *m != model);
        self.models.push((model, quota));
        self
    }

    /// Reads the `--quota` syntax.
    pub fn parse(text: &str) -> Result<Quotas, ChaosParseError> {
        let mut quotas = Quotas::new();
        for section in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((model, limits)) = section.rsplit_once(':') else {
                return Err(ChaosParseError(format!(
                    "Invalid quota section \"{section}\": expected MODEL: rpm=N, rpd=N, tpm=N (MODEL a model id or *)."
                )));
            };
            let mut quota = Quota::new();
            for limit in limits.split(',').map(str::trim).filter(|l| !l.is_empty()) {
                let (name, value) = limit.split_once('=').unwrap_or((limit, ""));
                let value: u64 = value.trim().parse().map_err(|_| {
                    ChaosParseError(format!(
                        "Invalid quota limit \"{limit}\" in \"{section}\": a whole number, like rpm=5."
                    ))
                })?;
                match name.trim() {
                    "rpm" => quota.rpm = Some(value),
                    "rpd" => quota.rpd = Some(value),
                    "tpm" => quota.tpm = Some(value),
                    other => {
                        return Err(ChaosParseError(format!(
                            "Unknown quota limit \"{other}\" in \"{section}\": allowed are rpm, rpd, tpm."
                        )));
                    }
                }
            }
            quotas = match model.trim() {
                "*" => quotas.other_models(quota),
                model => quotas.model(model, quota),
            };
        }
        Ok(quotas)
    }

    fn quota_of(&self, model: &str) -> Option<Quota> {
        let own = self
            .models
            .iter()
            .find(|(m, _)| m.as_deref() == Some(model));
        own.or_else(|| self.models.iter().find(|(m, _)| m.is_none()))
            .map(|(_, q)| *q)
    }
}

const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;
/// Pacific Standard Time, UTC−8: the day of `rpd` starts at its midnight.
const PACIFIC_OFFSET_MS: u64 = 8 * 3_600_000;
/// At most this many models are counted at once (a client can send any id).
const MAX_MODELS: usize = 1024;

/// One model's windows: requests and tokens per second of the last minute, requests today.
#[derive(Default)]
struct Windows {
    /// (second since the epoch, requests, tokens), oldest first, at most 60.
    seconds: VecDeque<(u64, u64, u64)>,
    day: u64,
    today: u64,
}

impl Windows {
    fn expire(&mut self, now: u64) {
        while self
            .seconds
            .front()
            .is_some_and(|(second, _, _)| second * 1000 + MINUTE_MS <= now)
        {
            self.seconds.pop_front();
        }
        let day = (now.saturating_sub(PACIFIC_OFFSET_MS)) / DAY_MS;
        if day != self.day {
            self.day = day;
            self.today = 0;
        }
    }

    /// How long until the minute window holds at most `limit - need` of what `amount` counts.
    fn wait(&self, now: u64, limit: u64, need: u64, amount: fn(&(u64, u64, u64)) -> u64) -> u64 {
        let mut held: u64 = self.seconds.iter().map(amount).sum();
        for bucket in &self.seconds {
            if held.saturating_add(need) <= limit {
                break;
            }
            held -= amount(bucket);
            if held.saturating_add(need) <= limit {
                return (bucket.0 * 1000 + MINUTE_MS).saturating_sub(now);
            }
        }
        MINUTE_MS
    }
}

/// One exceeded quota.
struct Violation {
    metric: &'static str,
    id: &'static str,
    value: u64,
    wait_ms: u64,
}

/// Quotas at work in a server: the limits and each model's windows.
pub(crate) struct QuotaState {
    quotas: Quotas,
    windows: Mutex<HashMap<String, Windows>>,
}

impl QuotaState {
    pub(crate) fn new(quotas: Quotas) -> Self {
        Self {
            quotas,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn reset(&self) {
        lock(&self.windows).clear();
    }

    /// Whether `model` has a tokens-per-minute limit (then the request's tokens are counted).
    pub(crate) fn counts_tokens(&self, model: &str) -> bool {
        self.quotas.quota_of(model).is_some_and(|q| q.tpm.is_some())
    }

    /// Counts a request of `tokens` input tokens at `now` (ms since the epoch), or refuses it
    /// with the service's 429.
    pub(crate) fn admit(&self, model: &str, tokens: u64, now: u64) -> Result<(), Reply> {
        let Some(quota) = self.quotas.quota_of(model) else {
            return Ok(());
        };
        let mut all = lock(&self.windows);
        if all.len() >= MAX_MODELS && !all.contains_key(model) {
            all.clear();
        }
        let windows = all.entry(model.to_owned()).or_default();
        windows.expire(now);
        let violations = violations(windows, quota, tokens, now);
        if !violations.is_empty() {
            return Err(refusal(model, &violations));
        }
        windows.today += 1;
        let second = now / 1000;
        match windows.seconds.back_mut() {
            Some(bucket) if bucket.0 == second => {
                bucket.1 += 1;
                bucket.2 = bucket.2.saturating_add(tokens);
            }
            _ => windows.seconds.push_back((second, 1, tokens)),
        }
        Ok(())
    }
}

fn violations(windows: &Windows, quota: Quota, tokens: u64, now: u64) -> Vec<Violation> {
    let mut out = Vec::new();
    if let Some(limit) = quota.rpd
        && windows.today >= limit
    {
        let next_day = (windows.day + 1) * DAY_MS + PACIFIC_OFFSET_MS;
        out.push(Violation {
            metric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            id: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            value: limit,
            wait_ms: next_day.saturating_sub(now),
        });
    }
    if let Some(limit) = quota.rpm {
        let held: u64 = windows.seconds.iter().map(|b| b.1).sum();
        if held >= limit {
            out.push(Violation {
                metric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                id: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                value: limit,
                wait_ms: windows.wait(now, limit, 1, |b| b.1),
            });
        }
    }
    if let Some(limit) = quota.tpm {
        let held: u64 = windows.seconds.iter().map(|b| b.2).sum();
        if held.saturating_add(tokens) > limit {
            out.push(Violation {
                metric: "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count",
                id: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
                value: limit,
                wait_ms: windows.wait(now, limit, tokens, |b| b.2),
            });
        }
    }
    out
}

/// The service's quota error: the message with one line per exceeded quota, `QuotaFailure`,
/// `Help` and `RetryInfo` (the longest wait, in whole seconds, at least 1).
fn refusal(model: &str, violations: &[Violation]) -> Reply {
    let wait_ms = violations.iter().map(|v| v.wait_ms).max().unwrap_or(0);
    let retry_secs = wait_ms.div_ceil(1000).max(1);
    let mut message = format!(
        "{} For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
        reply::QUOTA_MESSAGE
    );
    for v in violations {
        let _ = write!(
            message,
            "\n* Quota exceeded for metric: {}, limit: {}, model: {model}",
            v.metric, v.value
        );
    }
    let _ = write!(
        message,
        "\nPlease retry in {:.3}s.",
        wait_ms as f64 / 1000.0
    );
    let list: Vec<Value> = violations
        .iter()
        .map(|v| {
            json!({
                "quotaMetric": v.metric,
                "quotaId": v.id,
                "quotaDimensions": {"location": "global", "model": model},
                "quotaValue": v.value.to_string(),
            })
        })
        .collect();
    reply::error(
        429,
        &message,
        vec![
            json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": list}),
            reply::quota_help(),
            json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{retry_secs}s")}),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000_000; // 2027-01-15T08:00:00Z, 00:00 PST

    #[test]
    fn the_syntax_reads_models_and_limits() {
        let quotas = Quotas::parse("m1: rpm=5, rpd=100, tpm=100000; *: rpm=10").unwrap();
        assert_eq!(
            quotas.quota_of("m1"),
            Some(Quota::new().rpm(5).rpd(100).tpm(100_000))
        );
        assert_eq!(quotas.quota_of("other"), Some(Quota::new().rpm(10)));
        assert!(
            Quotas::parse("m1: rps=5")
                .unwrap_err()
                .0
                .contains("allowed are rpm, rpd, tpm")
        );
        assert!(
            Quotas::parse("m1: rpm=x")
                .unwrap_err()
                .0
                .contains("whole number")
        );
        assert!(
            Quotas::parse("m1")
                .unwrap_err()
                .0
                .contains("expected MODEL")
        );
    }

    #[test]
    fn requests_per_minute_slide_and_say_when_to_retry() {
        let state = QuotaState::new(Quotas::new().model("m", Quota::new().rpm(2)));
        assert!(state.admit("m", 1, T0).is_ok());
        assert!(state.admit("m", 1, T0 + 10_000).is_ok());
        let refused = state.admit("m", 1, T0 + 20_000).unwrap_err();
        assert_eq!(refused.status, 429);
        let body = refused.body_json();
        // The oldest request leaves the window at T0 + 60 s: 40 s from now.
        assert_eq!(body["error"]["details"][2]["retryDelay"], "40s");
        assert!(state.admit("m", 1, T0 + 60_000).is_ok());
        assert!(state.admit("m", 1, T0 + 65_000).is_err());
        assert!(state.admit("m", 1, T0 + 70_000).is_ok());
        assert!(state.admit("other", 1, T0).is_ok());
    }

    #[test]
    fn requests_per_day_reset_at_pacific_midnight() {
        let state = QuotaState::new(Quotas::new().other_models(Quota::new().rpd(1)));
        assert!(state.admit("m", 1, T0 + 1000).is_ok());
        let refused = state.admit("m", 1, T0 + DAY_MS - 3_600_000).unwrap_err();
        assert_eq!(
            refused.body_json()["error"]["details"][2]["retryDelay"],
            "3600s"
        );
        assert!(state.admit("m", 1, T0 + DAY_MS).is_ok());
    }

    #[test]
    fn tokens_per_minute_count_input_tokens() {
        let state = QuotaState::new(Quotas::new().model("m", Quota::new().tpm(1000)));
        assert!(state.admit("m", 600, T0).is_ok());
        assert!(state.admit("m", 300, T0 + 1000).is_ok());
        let refused = state.admit("m", 200, T0 + 2000).unwrap_err().body_json();
        let violation = &refused["error"]["details"][0]["violations"][0];
        assert_eq!(
            violation["quotaId"],
            "GenerateContentInputTokensPerModelPerMinute-FreeTier"
        );
        assert_eq!(violation["quotaValue"], "1000");
        assert_eq!(refused["error"]["details"][2]["retryDelay"], "58s");
        assert!(state.admit("m", 100, T0 + 2000).is_ok());
    }
}
