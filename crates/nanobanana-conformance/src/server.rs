//! Server conformance: send every case's requests to a server and hold its answers to the
//! case's expectations ([`Level::Server`]).

use std::time::Instant;

use crate::exchange::{Outgoing, bind_ids_in, prepare};
use crate::http::{Sender, Target};
use crate::observe::{Answer, observe};
use crate::report::{CaseResult, Report, Verdict};
use crate::suite::{Auth, Suite, SuiteCase, SuiteError};
use crate::verdict::{Expected, Level, compare};

/// What to run against a server.
#[derive(Clone, Debug)]
pub struct ServerRun {
    target: Target,
    selector: Option<String>,
    required_only: bool,
    service_date: Option<String>,
}

impl ServerRun {
    /// Every case that targets servers, against `target`.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            selector: None,
            required_only: false,
            service_date: None,
        }
    }

    /// Only the cases that record the service of this date (`serviceDate`, `YYYY-MM-DD`): for a
    /// server that plays the service as it was on one date (`nanobanana-mock --as-of`). The
    /// other cases are skipped, saying why.
    pub fn with_service_date(mut self, date: impl Into<String>) -> Self {
        self.service_date = Some(date.into());
        self
    }

    /// Only the case with this id, or the cases of an area (`generate/`).
    pub fn with_cases(mut self, selector: impl Into<String>) -> Self {
        self.selector = Some(selector.into());
        self
    }

    /// Skips optional cases.
    pub fn required_only(mut self) -> Self {
        self.required_only = true;
        self
    }
}

/// The exchanges of one case: what was sent, what came back, what did not conform.
#[derive(Clone, Debug, Default)]
pub(crate) struct Exchanged {
    /// The requests sent, in order.
    pub(crate) requests: Vec<Outgoing>,
    /// The answers, in order.
    pub(crate) answers: Vec<Answer>,
    /// Findings, each prefixed with its interaction.
    pub(crate) findings: Vec<String>,
}

/// Runs the suite's server cases against a server. Fails only when the selection names no case;
/// a server that cannot be reached fails every case.
pub async fn check_server(suite: &Suite, run: &ServerRun) -> Result<Report, SuiteError> {
    let sender = Sender::new(run.target.clone()).map_err(SuiteError)?;
    let cases: Vec<&SuiteCase> = match &run.selector {
        Some(selector) => suite.select(selector)?,
        None => suite.cases().iter().collect(),
    };
    let mut report = Report::default();
    for case in cases {
        let started = Instant::now();
        let skip = if !case.targets().server {
            Some("client only: no server produces this answer on demand".to_owned())
        } else if run.required_only && !case.is_required() {
            Some("optional (--required-only)".to_owned())
        } else {
            run.service_date
                .as_deref()
                .filter(|date| *date != case.case().service_date)
                .map(|date| {
                    format!(
                        "records the service of {}, the server plays {date}",
                        case.case().service_date
                    )
                })
        };
        let (verdict, interactions) = match skip {
            Some(why) => (Verdict::Skip(why), 0),
            None => {
                let exchanged = exchange_case(&sender, suite, case).await;
                let verdict = if exchanged.findings.is_empty() {
                    Verdict::Pass
                } else {
                    Verdict::Fail(exchanged.findings)
                };
                (verdict, exchanged.answers.len())
            }
        };
        report.results.push(CaseResult {
            id: case.id().to_owned(),
            required: case.is_required(),
            verdict,
            interactions,
            elapsed: started.elapsed(),
        });
    }
    Ok(report)
}

/// Carries out a case's interactions in order, each request prepared from the answers before it,
/// checking every answer. Stops after an answer of another status than expected (what follows
/// depends on it) or a request that could not be sent.
pub(crate) async fn exchange_case(sender: &Sender, suite: &Suite, case: &SuiteCase) -> Exchanged {
    let mut out = Exchanged::default();
    let interactions = &case.case().interactions;
    let last = interactions.len().saturating_sub(1);
    for (index, interaction) in interactions.iter().enumerate() {
        let label = |finding: &str| {
            if interactions.len() == 1 {
                finding.to_owned()
            } else {
                format!("interaction {index}: {finding}")
            }
        };
        let request = match prepare(
            case.case(),
            case.auth(index),
            index,
            &out.answers,
            suite.corpus(),
        ) {
            Ok(r) => r,
            Err(e) => {
                out.findings
                    .push(label(&format!("cannot prepare the request: {e}")));
                return out;
            }
        };
        let (answer, wire_problems) = match sender.send(&request).await {
            Ok(a) => a,
            Err(e) => {
                out.findings.push(label(&e));
                out.requests.push(request);
                return out;
            }
        };
        let mut observation = observe(&answer);
        observation.problems.extend(wire_problems);
        let recorded = observe(&Answer::from_recorded(&interaction.response));
        let mut expected = if index == last {
            Expected::from_expect(case.expect(), index, &recorded)
        } else {
            Expected::from_observation(&recorded)
        };
        // A message that names an earlier answer's id names the id this server gave.
        if let Some(message) = expected.error.as_mut().and_then(|e| e.message.as_mut()) {
            *message = bind_ids_in(case.case(), index, &out.answers, message);
        }
        let mut findings = compare(&expected, &observation, Level::Server);
        let status_differs = observation.status != expected.status;
        if status_differs && matches!(case.auth(index), Auth::Invalid) {
            // The usual cause: a server started without a key of its own takes any key.
            findings.push(
                "the server did not refuse a key that is not its own: does it have one? (start \
                 nanobanana-mock with --api-key K and run this with --api-key K)"
                    .to_owned(),
            );
        }
        out.findings
            .extend(findings.iter().map(|f| label(&sender.target().scrub(f))));
        out.requests.push(request);
        out.answers.push(answer);
        if status_differs {
            break;
        }
    }
    out
}
