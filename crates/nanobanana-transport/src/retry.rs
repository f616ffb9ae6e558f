//! When and how long to wait before trying a failed request again.
//!
//! [`RetryPolicy::default`] is on and conservative: 3 attempts in all, waits of about 1 s then
//! about 2 s (each shortened by up to half at random), on 408, 429, 500, 502, 503, 504 and on
//! connections that failed before any byte of an answer. A wait the service asks for
//! (`RetryInfo.retryDelay`, else `Retry-After`) replaces the computed one, capped at
//! [`max_delay`](RetryPolicy::max_delay) (60 s). [`RetryPolicy::none`] turns retries off.
//!
//! Waits use `tokio::time::sleep`, so tests can run them on a paused clock.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, ErrorKind};

/// The statuses retried by default: 408, 429, 500, 502, 503, 504.
pub const DEFAULT_RETRYABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// How many times to try a request and how long to wait in between.
///
/// The wait before retry `n` (1 for the first retry) is
/// `min(max_delay, initial_delay * multiplier^(n-1))`, shortened at random by up to
/// `jitter` of itself (`jitter` 0: exact; 0.5, the default: between half and all of it; 1: "full
/// jitter", anywhere between zero and all of it). A wait the service asks for replaces it,
/// without jitter, capped at `max_delay`.
///
/// What is retried: a status in [`retryable_statuses`](Self::retryable_statuses), and a
/// connection that failed before any byte of an answer (nothing reached the service, or the
/// service never answered). Never retried: timeouts, refusals, undecodable answers, a connection
/// that broke while an answer was arriving, and a stream that has already delivered an event.
/// A request timeout is not a connection failure: the service has the request and may still be
/// generating (and billing) it, so a retry would start a second generation of the same
/// duration; a connect timeout, where nothing was sent, is retried.
///
/// ```
/// use std::time::Duration;
/// use nanobanana_transport::RetryPolicy;
///
/// let patient = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_max_delay(Duration::from_secs(120));
/// assert_eq!(patient.backoff(1), Duration::from_secs(1));
/// assert_eq!(patient.backoff(4), Duration::from_secs(8));
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    multiplier: f64,
    max_delay: Duration,
    jitter: f64,
    retryable_statuses: Vec<u16>,
}

impl Default for RetryPolicy {
    /// 3 attempts, 1 s initial delay, ×2, at most 60 s, jitter 0.5, statuses 408, 429, 500, 502,
    /// 503, 504.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(60),
            jitter: 0.5,
            retryable_statuses: DEFAULT_RETRYABLE_STATUSES.to_vec(),
        }
    }
}

impl RetryPolicy {
    /// No retries: every request is tried once.
    pub fn none() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Sets how many attempts a request gets in all, the first included (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the wait before the first retry.
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the factor between successive waits (at least 1).
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Sets the longest wait, computed or asked for by the service.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the share of each computed wait that is taken off at random, from 0 (exact waits)
    /// to 1 (full jitter).
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        self
    }

    /// Sets the HTTP statuses that are retried.
    pub fn with_retryable_statuses(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.retryable_statuses = statuses.into_iter().collect();
        self
    }

    /// How many attempts a request gets in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before the first retry.
    pub fn initial_delay(&self) -> Duration {
        self.initial_delay
    }

    /// The factor between successive waits.
    pub fn multiplier(&self) -> f64 {
        self.multiplier
    }

    /// The longest wait.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The share of each computed wait taken off at random.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// The HTTP statuses that are retried.
    pub fn retryable_statuses(&self) -> &[u16] {
        &self.retryable_statuses
    }

    /// The computed wait before retry `retry` (1 for the first), before jitter:
    /// `min(max_delay, initial_delay * multiplier^(retry-1))`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.initial_delay.as_secs_f64() * self.multiplier.powi(exponent);
        let max = self.max_delay.as_secs_f64();
        if secs.is_finite() && secs < max {
            Duration::from_secs_f64(secs)
        } else {
            self.max_delay
        }
    }

    /// Whether this policy retries `error` (attempts left aside).
    pub fn should_retry(&self, error: &Error) -> bool {
        match error.kind() {
            ErrorKind::Api(api) => self.retryable_statuses.contains(&api.http_status()),
            ErrorKind::Connect | ErrorKind::Transport { .. } => error.is_before_response(),
            _ => false,
        }
    }

    /// How long to wait before retry `retry` (1 for the first) after `error`: the service's
    /// wait capped at `max_delay`, else the jittered backoff. `random` is uniform in [0, 1).
    pub(crate) fn delay(&self, error: &Error, retry: u32, random: f64) -> Duration {
        if let Some(asked) = error.retry_delay() {
            return asked.min(self.max_delay);
        }
        self.backoff(retry).mul_f64(1.0 - self.jitter * random)
    }
}

/// Counts the attempts of one request and decides about the next.
pub(crate) struct Retrier<'p> {
    policy: &'p RetryPolicy,
    attempt: u32,
    random: XorShift,
}

impl<'p> Retrier<'p> {
    pub(crate) fn new(policy: &'p RetryPolicy) -> Self {
        Self {
            policy,
            attempt: 1,
            random: XorShift::seeded(),
        }
    }

    /// The current attempt, 1-based.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt
    }

    /// After a failed attempt: `Some(wait)` if the request is to be tried again after `wait`
    /// (the attempt counter has moved on), `None` if `error` is final.
    pub(crate) fn next_delay(&mut self, error: &Error) -> Option<Duration> {
        if self.attempt >= self.policy.max_attempts || !self.policy.should_retry(error) {
            return None;
        }
        let delay = self
            .policy
            .delay(error, self.attempt, self.random.next_unit());
        self.attempt += 1;
        Some(delay)
    }
}

/// xorshift64*: plenty for jitter, and no dependency.
pub(crate) struct XorShift(u64);

impl XorShift {
    /// Seeded from the process's random hasher keys and the time.
    pub(crate) fn seeded() -> Self {
        let mut hasher = RandomState::new().build_hasher();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        hasher.write_u128(nanos);
        Self(hasher.finish() | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub(crate) fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Reads a proto JSON duration: `34s`, `1.5s`, `0.250s`.
pub(crate) fn parse_proto_duration(text: &str) -> Option<Duration> {
    let number = text.trim().strip_suffix('s')?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    Some(Duration::new(secs, nanos))
}

/// Reads a `Retry-After` header: delay seconds, or an HTTP date (IMF-fixdate) relative to `now`.
pub(crate) fn parse_retry_after(text: &str, now: SystemTime) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(text)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let (_, rest) = text.split_once(", ")?;
    let mut fields = rest.split(' ');
    let day: u32 = fields.next()?.parse().ok()?;
    let month = match fields.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = fields.next()?.parse().ok()?;
    let mut clock = fields.next()?.split(':');
    let hour: u64 = clock.next()?.parse().ok()?;
    let minute: u64 = clock.next()?.parse().ok()?;
    let second: u64 = clock.next()?.parse().ok()?;
    if fields.next()? != "GMT"
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn api(status: u16, body: &str) -> Error {
        Error::api(ApiError::from_body(status, None, body.as_bytes()))
    }

    #[test]
    fn default_is_conservative() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts(), 3);
        assert_eq!(policy.initial_delay(), Duration::from_secs(1));
        assert_eq!(policy.max_delay(), Duration::from_secs(60));
        assert_eq!(policy.retryable_statuses(), [408, 429, 500, 502, 503, 504]);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default()
            .with_initial_delay(Duration::from_millis(500))
            .with_multiplier(3.0)
            .with_max_delay(Duration::from_secs(10));
        let waits: Vec<_> = (1..=5).map(|n| policy.backoff(n)).collect();
        assert_eq!(
            waits,
            [
                Duration::from_millis(500),
                Duration::from_millis(1500),
                Duration::from_millis(4500),
                Duration::from_secs(10),
                Duration::from_secs(10),
            ]
        );
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(10));
        assert_eq!(
            RetryPolicy::default()
                .with_multiplier(f64::NAN)
                .multiplier(),
            1.0
        );
    }

    #[test]
    fn jitter_shortens_within_bounds() {
        let error = api(503, "");
        let exact = RetryPolicy::default().with_jitter(0.0);
        assert_eq!(exact.delay(&error, 2, 0.99), Duration::from_secs(2));
        let half = RetryPolicy::default();
        assert_eq!(half.delay(&error, 2, 0.0), Duration::from_secs(2));
        assert_eq!(half.delay(&error, 2, 0.5), Duration::from_millis(1500));
        let full = RetryPolicy::default().with_jitter(7.0);
        assert_eq!(full.jitter(), 1.0);
        assert_eq!(full.delay(&error, 1, 0.75), Duration::from_millis(250));
        let mut random = XorShift::seeded();
        for _ in 0..1000 {
            let u = random.next_unit();
            assert!((0.0..1.0).contains(&u));
            let d = half.delay(&error, 3, u);
            assert!(
                d > Duration::from_secs(2) && d <= Duration::from_secs(4),
                "{d:?}"
            );
        }
    }

    #[test]
    fn server_delays_win_and_are_capped() {
        let retry_info = r#"{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34s"}]}}"#;
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(&api(429, retry_info), 1, 0.9),
            Duration::from_secs(34)
        );
        let capped = policy.clone().with_max_delay(Duration::from_secs(30));
        assert_eq!(
            capped.delay(&api(429, retry_info), 1, 0.9),
            Duration::from_secs(30)
        );
        let after = Error::api(ApiError::from_body(
            503,
            Some(Duration::from_secs(7)),
            b"overloaded",
        ));
        assert_eq!(policy.delay(&after, 1, 0.9), Duration::from_secs(7));
    }

    #[test]
    fn only_retryable_failures_are_retried() {
        let policy = RetryPolicy::default();
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(policy.should_retry(&api(status, "")), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 501] {
            assert!(!policy.should_retry(&api(status, "")), "{status}");
        }
        assert!(policy.should_retry(&Error::connect("refused", false)));
        assert!(policy.should_retry(&Error::transport("reset", false)));
        assert!(!policy.should_retry(&Error::transport("reset", true)));
        assert!(!policy.should_retry(&Error::timeout(Duration::from_secs(1))));
        assert!(!policy.should_retry(&Error::config("x")));
        let custom = policy.with_retryable_statuses([400]);
        assert!(custom.should_retry(&api(400, "")));
        assert!(!custom.should_retry(&api(503, "")));
    }

    #[test]
    fn the_retrier_counts_attempts() {
        let policy = RetryPolicy::default().with_jitter(0.0);
        let mut retrier = Retrier::new(&policy);
        let error = api(503, "");
        assert_eq!(retrier.attempt(), 1);
        assert_eq!(retrier.next_delay(&error), Some(Duration::from_secs(1)));
        assert_eq!(retrier.attempt(), 2);
        assert_eq!(retrier.next_delay(&error), Some(Duration::from_secs(2)));
        assert_eq!(retrier.next_delay(&error), None, "three attempts in all");
        let none = RetryPolicy::none();
        assert_eq!(Retrier::new(&none).next_delay(&error), None);
        assert_eq!(Retrier::new(&policy).next_delay(&api(400, "")), None);
    }

    #[test]
    fn reads_proto_durations() {
        let cases = [
            ("34s", Some(Duration::from_secs(34))),
            ("1.5s", Some(Duration::from_millis(1500))),
            ("0.250s", Some(Duration::from_millis(250))),
            (".5s", Some(Duration::from_millis(500))),
            ("3s ", Some(Duration::from_secs(3))),
            ("34", None),
            ("s", None),
            ("-1s", None),
            ("1.2345678901s", None),
            ("1.x5s", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_proto_duration(text), expected, "{text}");
        }
    }

    #[test]
    fn reads_retry_after() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", UNIX_EPOCH),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Tue, 29 Feb 2028 00:00:10 GMT", UNIX_EPOCH),
            Some(Duration::from_secs(1_835_395_210))
        );
        for bad in ["soon", "-5", "Sun, 06 Foo 1994 08:49:37 GMT", "06 Nov 1994"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }
}
