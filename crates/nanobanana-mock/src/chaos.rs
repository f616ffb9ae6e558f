//! Chaos: seeded random faults and delays per endpoint, so an application meets the service's
//! bad days in its tests, the same ones on every run with the same seed. Configured with
//! [`MockGeminiBuilder::chaos`](crate::MockGeminiBuilder::chaos) or `--chaos TEXT`.
//!
//! # The `--chaos` syntax
//!
//! Sections separated by `;`: an optional `seed=N` (default 0), then one section per endpoint,
//! `ENDPOINT: setting, setting, ...`, where `ENDPOINT` is an endpoint's name (`generateContent`,
//! `streamGenerateContent`, `batches.get`, `files.upload`, ...), the part after its dot when no
//! other endpoint shares it (`upload`, `download`), or `*` for every endpoint without a section
//! of its own. Settings:
//!
//! | setting | meaning |
//! |---|---|
//! | `rate=0.1` | the share of requests (0 to 1) that get a fault |
//! | `faults=503\|429\|cut-body` | the faults drawn from, equally likely (repeat one to weight it): a status `400`..`599` (429 with the quota error and `RetryInfo`), `reset` (connection dropped before an answer), `cut-body` (connection dropped part way through the body), `truncate` (a stream ended inside an event), `error-event` (a stream broken by an error event), or an outcome (`no-image`, `image-safety`, ...). Default `503` |
//! | `delay=250ms` | every answer of the endpoint waits this long; also `uniform(100ms, 2s)` and `lognormal(300ms, 0.5)` (median, σ; at most 10 minutes) |
//!
//! ```text
//! seed=42; generateContent: rate=0.1, faults=503|429|cut-body, delay=lognormal(300ms, 0.5); *: delay=uniform(5ms, 20ms)
//! ```
//!
//! **Determinism**: the `n`-th request to an endpoint gets the `n`-th draw of that endpoint's
//! stream of the seed, so the same seed and the same request order give the same faults and
//! delays (requests to other endpoints do not shift it). [`MockGemini::reset`] starts the
//! streams over. Faults set explicitly (a mounted mock, the `x-nanobanana-fault` header, the
//! server's fault) win over the drawn ones.
//!
//! [`MockGemini::reset`]: crate::MockGemini::reset

mod sample;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nanobanana_wire::Endpoint;

pub use self::sample::Delay;
use self::sample::Draws;
use crate::fault::{Fault, outcome_by_name, outcome_names, parse_duration};
use nanobanana_rules::OutcomeKind;

/// A fault chaos can draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChaosFault {
    /// An error status (`503`; 429 is the quota error with `RetryInfo`).
    Status(u16),
    /// The connection dropped before any answer (`reset`).
    Reset,
    /// The connection dropped part way through the body, at a drawn point (`cut-body`).
    CutBody,
    /// A stream ended in the middle of an event (`truncate`; a unary answer is unaffected).
    Truncate,
    /// A stream broken by a `data: {"error": ...}` event (`error-event`).
    ErrorEvent,
    /// A model outcome instead of an image (`no-image`, ...).
    Outcome(OutcomeKind),
}

impl ChaosFault {
    fn parse(text: &str) -> Option<ChaosFault> {
        match text {
            "reset" => Some(ChaosFault::Reset),
            "cut-body" => Some(ChaosFault::CutBody),
            "truncate" => Some(ChaosFault::Truncate),
            "error-event" => Some(ChaosFault::ErrorEvent),
            _ => match text.parse::<u16>() {
                Ok(code) => (400..=599)
                    .contains(&code)
                    .then_some(ChaosFault::Status(code)),
                Err(_) => outcome_by_name(text).map(ChaosFault::Outcome),
            },
        }
    }

    /// The fault to apply; `draws` place a truncation.
    fn fault(self, draws: Draws) -> Fault {
        match self {
            ChaosFault::Status(code) => Fault::status(code),
            ChaosFault::Reset => Fault::reset_after(0),
            // Placed once the answer's length is known (see `Conditions::serve`).
            ChaosFault::CutBody => Fault::none(),
            ChaosFault::Truncate => Fault::truncate_after(draws.below(FAULT_POINT, 3)),
            ChaosFault::ErrorEvent => Fault::error_after(1 + draws.below(FAULT_POINT, 2)),
            ChaosFault::Outcome(outcome) => Fault::outcome(outcome),
        }
    }
}

impl fmt::Display for ChaosFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChaosFault::Status(code) => write!(f, "{code}"),
            ChaosFault::Reset => f.write_str("reset"),
            ChaosFault::CutBody => f.write_str("cut-body"),
            ChaosFault::Truncate => f.write_str("truncate"),
            ChaosFault::ErrorEvent => f.write_str("error-event"),
            ChaosFault::Outcome(outcome) => write!(f, "{outcome}"),
        }
    }
}

/// What chaos does to one endpoint: a share of faulted requests, the faults, a delay.
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosRule {
    rate: f64,
    faults: Vec<ChaosFault>,
    delay: Option<Delay>,
}

impl ChaosRule {
    /// Faults on this share of requests (clamped to 0..=1), `503` unless [`faults`](Self::faults)
    /// says otherwise.
    pub fn rate(rate: f64) -> Self {
        Self {
            rate: if rate.is_finite() {
                rate.clamp(0.0, 1.0)
            } else {
                0.0
            },
            faults: vec![ChaosFault::Status(503)],
            delay: None,
        }
    }

    /// No faults, only a delay.
    pub fn delay_only(delay: Delay) -> Self {
        Self::rate(0.0).delay(delay)
    }

    /// The faults drawn from, equally likely (an empty list keeps the current one).
    pub fn faults(mut self, faults: impl IntoIterator<Item = ChaosFault>) -> Self {
        let faults: Vec<ChaosFault> = faults.into_iter().collect();
        if !faults.is_empty() {
            self.faults = faults;
        }
        self
    }

    /// Every answer of the endpoint waits a delay drawn from `delay`.
    pub fn delay(mut self, delay: Delay) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// Seeded random faults and delays per endpoint (see the [module docs](self) for the syntax).
///
/// ```
/// use std::time::Duration;
/// use nanobanana_mock::Endpoint;
/// use nanobanana_mock::chaos::{Chaos, ChaosFault, ChaosRule, Delay};
///
/// let chaos = Chaos::seed(42).rule(
///     Endpoint::GenerateContent,
///     ChaosRule::rate(0.1)
///         .faults([ChaosFault::Status(503), ChaosFault::Status(429), ChaosFault::CutBody])
///         .delay(Delay::LogNormal { median: Duration::from_millis(300), sigma: 0.5 }),
/// );
/// let parsed = Chaos::parse(
///     "seed=42; generateContent: rate=0.1, faults=503|429|cut-body, delay=lognormal(300ms, 0.5)",
/// )
/// .unwrap();
/// assert_eq!(parsed, chaos);
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Chaos {
    seed: u64,
    /// `None`: the `*` rule.
    rules: Vec<(Option<Endpoint>, ChaosRule)>,
}

/// Why a `--chaos` (or `--quota`) text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChaosParseError(pub(crate) String);

impl fmt::Display for ChaosParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChaosParseError {}

/// Which draw of a request is which.
const FAULT_DRAW: u64 = 0;
const FAULT_KIND: u64 = 1;
const FAULT_POINT: u64 = 2;
const DELAY_DRAW: u64 = 3; // and 4

impl Chaos {
    /// Chaos with this seed and no rules yet.
    pub fn seed(seed: u64) -> Self {
        Self {
            seed,
            rules: Vec::new(),
        }
    }

    /// The rule of one endpoint (replacing an earlier one).
    pub fn rule(self, endpoint: Endpoint, rule: ChaosRule) -> Self {
        self.set(Some(endpoint), rule)
    }

    /// The rule of every endpoint without a rule of its own (`*`).
    pub fn rule_for_others(self, rule: ChaosRule) -> Self {
        self.set(None, rule)
    }

    fn set(mut self, endpoint: Option<Endpoint>, rule: ChaosRule) -> Self {
        self.rules.retain(|(e, _)| *e != endpoint);
        self.rules.push((endpoint, rule));
        self
    }

    /// Reads the `--chaos` syntax (see the [module docs](self)).
    pub fn parse(text: &str) -> Result<Chaos, ChaosParseError> {
        let mut chaos = Chaos::default();
        for section in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            if let Some(seed) = section.strip_prefix("seed=") {
                chaos.seed = seed.trim().parse().map_err(|_| {
                    ChaosParseError(format!(
                        "Invalid chaos seed \"{}\": a whole number from 0 to {}.",
                        seed.trim(),
                        u64::MAX
                    ))
                })?;
                continue;
            }
            let Some((name, settings)) = section.split_once(':') else {
                return Err(ChaosParseError(format!(
                    "Invalid chaos section \"{section}\": expected seed=N or ENDPOINT: rate=..., faults=..., delay=... (ENDPOINT an endpoint name such as generateContent, or *)."
                )));
            };
            let endpoint = parse_scope(name.trim())?;
            chaos = chaos.set(endpoint, parse_rule(section, settings)?);
        }
        Ok(chaos)
    }

    /// The rule for an endpoint and its stream number.
    fn rule_for(&self, endpoint: Option<Endpoint>) -> Option<(usize, &ChaosRule)> {
        let own = endpoint.and_then(|e| self.rules.iter().position(|(r, _)| *r == Some(e)));
        let index = own.or_else(|| self.rules.iter().position(|(r, _)| r.is_none()))?;
        Some((index, &self.rules[index].1))
    }
}

/// An endpoint name, `*`, or a method no other endpoint shares (as the admin API's filters).
pub(crate) fn parse_scope(name: &str) -> Result<Option<Endpoint>, ChaosParseError> {
    if name == "*" {
        return Ok(None);
    }
    crate::admin::parse_endpoint(name)
        .map(Some)
        .map_err(|e| ChaosParseError(format!("Invalid chaos section: {e}, or *.")))
}

/// Splits on `sep` outside parentheses.
fn split_outside_parens(text: &str, sep: char) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_rule(section: &str, settings: &str) -> Result<ChaosRule, ChaosParseError> {
    let mut rule = ChaosRule::rate(0.0);
    let bad = |setting: &str, allowed: &str| {
        ChaosParseError(format!(
            "Invalid chaos setting \"{setting}\" in \"{section}\": {allowed}."
        ))
    };
    for setting in split_outside_parens(settings, ',')
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (name, value) = setting.split_once('=').unwrap_or((setting, ""));
        let value = value.trim();
        match name.trim() {
            "rate" => {
                let rate: f64 = value.parse().unwrap_or(f64::NAN);
                if !(0.0..=1.0).contains(&rate) {
                    return Err(bad(setting, "rate takes a share from 0 to 1, like 0.1"));
                }
                rule.rate = rate;
            }
            "faults" => {
                let faults: Option<Vec<ChaosFault>> = value
                    .split('|')
                    .map(|f| ChaosFault::parse(f.trim()))
                    .collect();
                rule.faults = faults.filter(|f| !f.is_empty()).ok_or_else(|| {
                    bad(setting, &format!(
                        "faults takes faults separated by |: a status 400 to 599, reset, cut-body, truncate, error-event, {}",
                        outcome_names()
                    ))
                })?;
            }
            "delay" => {
                rule.delay = Some(parse_delay(value).ok_or_else(|| {
                    bad(
                        setting,
                        "delay takes a duration (250ms), uniform(MIN, MAX) or lognormal(MEDIAN, SIGMA)",
                    )
                })?);
            }
            other => {
                return Err(ChaosParseError(format!(
                    "Unknown chaos setting \"{other}\" in \"{section}\": allowed are rate, faults, delay."
                )));
            }
        }
    }
    Ok(rule)
}

fn parse_delay(text: &str) -> Option<Delay> {
    let args = |name: &str| {
        let inner = text.strip_prefix(name)?.trim().strip_prefix('(')?;
        let (a, b) = inner.strip_suffix(')')?.split_once(',')?;
        Some((a.trim(), b.trim()))
    };
    if let Some((low, high)) = args("uniform") {
        let (low, high) = (parse_duration(low)?, parse_duration(high)?);
        return (low <= high).then_some(Delay::Uniform(low, high));
    }
    if let Some((median, sigma)) = args("lognormal") {
        let sigma: f64 = sigma.parse().ok()?;
        return (sigma.is_finite() && (0.0..=10.0).contains(&sigma)).then_some(Delay::LogNormal {
            median: parse_duration(median)?,
            sigma,
        });
    }
    parse_duration(text).map(Delay::Fixed)
}

/// Chaos at work in a server: the configuration and one draw counter per rule.
pub(crate) struct ChaosState {
    chaos: Chaos,
    counters: Vec<AtomicU64>,
}

/// What chaos drew for one request.
#[derive(Default)]
pub(crate) struct Drawn {
    /// The drawn fault (a delay included), under the explicit one.
    pub(crate) fault: Fault,
    /// The drawn fault's name, for the journal.
    pub(crate) label: Option<String>,
    /// `cut-body`: where to cut, as a share of the body.
    pub(crate) cut_at: Option<f64>,
}

impl ChaosState {
    pub(crate) fn new(chaos: Chaos) -> Self {
        let counters = chaos.rules.iter().map(|_| AtomicU64::new(0)).collect();
        Self { chaos, counters }
    }

    /// Starts every stream over.
    pub(crate) fn reset(&self) {
        for counter in &self.counters {
            counter.store(0, Ordering::SeqCst);
        }
    }

    /// The next draw of the endpoint's rule.
    pub(crate) fn draw(&self, endpoint: Option<Endpoint>) -> Drawn {
        let Some((index, rule)) = self.chaos.rule_for(endpoint) else {
            return Drawn::default();
        };
        let n = self.counters[index].fetch_add(1, Ordering::Relaxed);
        let draws = Draws::new(self.chaos.seed, index as u64, n);
        let mut drawn = Drawn::default();
        if draws.unit(FAULT_DRAW) < rule.rate && !rule.faults.is_empty() {
            let kind = rule.faults[draws.below(FAULT_KIND, rule.faults.len())];
            drawn.fault = kind.fault(draws);
            if kind == ChaosFault::CutBody {
                drawn.cut_at = Some(0.1 + 0.8 * draws.unit(FAULT_POINT));
            }
            drawn.label = Some(format!("chaos {kind}"));
        }
        if let Some(delay) = rule.delay {
            let delay = delay.sample(draws, DELAY_DRAW);
            if !delay.is_zero() {
                drawn.fault = drawn.fault.with_delay(delay);
            }
        }
        drawn
    }
}

/// A duration as the journal shows it (`120ms`).
pub(crate) fn millis(duration: Duration) -> String {
    format!("{}ms", duration.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_syntax_reads_seed_rules_and_delays() {
        let chaos = Chaos::parse(
            "seed=7; streamGenerateContent: rate=1, faults=truncate|error-event|no-image; *: delay=uniform(5ms, 20ms)",
        )
        .unwrap();
        assert_eq!(chaos.seed, 7);
        let (_, rule) = chaos
            .rule_for(Some(Endpoint::StreamGenerateContent))
            .unwrap();
        assert_eq!(rule.rate, 1.0);
        assert_eq!(
            rule.faults,
            [
                ChaosFault::Truncate,
                ChaosFault::ErrorEvent,
                ChaosFault::Outcome(OutcomeKind::NoImage)
            ]
        );
        let (_, other) = chaos.rule_for(Some(Endpoint::ModelList)).unwrap();
        assert_eq!(
            other.delay,
            Some(Delay::Uniform(
                Duration::from_millis(5),
                Duration::from_millis(20)
            ))
        );
        assert_eq!(
            parse_delay("lognormal(1s, 0.25)"),
            Some(Delay::LogNormal {
                median: Duration::from_secs(1),
                sigma: 0.25
            })
        );
        assert_eq!(
            parse_delay("40ms"),
            Some(Delay::Fixed(Duration::from_millis(40)))
        );
    }

    #[test]
    fn bad_chaos_texts_say_what_is_allowed() {
        let err = |text: &str| Chaos::parse(text).unwrap_err().to_string();
        assert!(err("seed=x").contains("whole number"), "{}", err("seed=x"));
        assert!(err("generate: rate=0.1").contains("unknown endpoint \"generate\""));
        assert!(Chaos::parse("upload: rate=0.1").is_ok());
        assert!(err("get: rate=0.1").contains("unknown endpoint \"get\" (ambiguous"));
        assert!(err("generateContent: rate=2").contains("from 0 to 1"));
        assert!(err("generateContent: faults=200").contains("a status 400 to 599"));
        assert!(err("generateContent: delay=uniform(2s, 1s)").contains("uniform(MIN, MAX)"));
        assert!(err("generateContent: speed=3").contains("allowed are rate, faults, delay"));
        assert!(err("generateContent").contains("expected seed=N or ENDPOINT"));
    }

    #[test]
    fn the_same_seed_draws_the_same_faults() {
        let chaos = || {
            ChaosState::new(
                Chaos::parse("seed=42; generateContent: rate=0.5, faults=503|429|cut-body")
                    .unwrap(),
            )
        };
        let labels = |state: &ChaosState| -> Vec<Option<String>> {
            (0..64)
                .map(|_| state.draw(Some(Endpoint::GenerateContent)).label)
                .collect()
        };
        let (a, b) = (chaos(), chaos());
        let first = labels(&a);
        assert_eq!(first, labels(&b));
        let faulted = first.iter().flatten().count();
        assert!((16..48).contains(&faulted), "{faulted} of 64");
        // Other endpoints have no rule: no draw, and the stream is not shifted.
        assert!(a.draw(Some(Endpoint::ModelList)).label.is_none());
        a.reset();
        assert_eq!(labels(&a), first);
    }
}
