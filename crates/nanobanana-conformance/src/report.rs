//! The result of a run: a line per case and the summary `N passed, N failed, N skipped`.

use std::fmt;
use std::time::Duration;

/// How one case went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every check held.
    Pass,
    /// What went wrong, one finding per line (`interaction 1: status 500, expected 200`).
    Fail(Vec<String>),
    /// Not run, and why.
    Skip(String),
}

/// One case's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseResult {
    /// The case id.
    pub id: String,
    /// Whether the case is required.
    pub required: bool,
    /// How it went.
    pub verdict: Verdict,
    /// Interactions carried out.
    pub interactions: usize,
    /// Wall time.
    pub elapsed: Duration,
}

/// The results of a run, in case order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Per case.
    pub results: Vec<CaseResult>,
}

impl Report {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Pass))
    }

    /// Cases that failed, required or not.
    pub fn failed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Fail(_)))
    }

    /// Cases not run.
    pub fn skipped(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Skip(_)))
    }

    /// Required cases that failed: the run fails when there is one.
    pub fn required_failures(&self) -> Vec<&CaseResult> {
        self.results
            .iter()
            .filter(|r| r.required && matches!(r.verdict, Verdict::Fail(_)))
            .collect()
    }

    /// Whether no required case failed (optional cases may fail: they are reported, marked `*`).
    pub fn is_success(&self) -> bool {
        self.required_failures().is_empty()
    }

    /// The result of a case.
    pub fn result(&self, id: &str) -> Option<&CaseResult> {
        self.results.iter().find(|r| r.id == id)
    }

    /// `N passed, N failed, N skipped`.
    pub fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped()
        )
    }

    fn count(&self, f: impl Fn(&Verdict) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.verdict)).count()
    }
}

impl fmt::Display for Report {
    /// The per-case table, then the summary line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .results
            .iter()
            .map(|r| r.id.len())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(
            f,
            "{:<6} {:<width$} {:>5} {:>8}  detail",
            "result", "case", "steps", "time"
        )?;
        let mut optional_failed = false;
        for r in &self.results {
            let (word, detail) = match &r.verdict {
                Verdict::Pass => ("pass".to_owned(), String::new()),
                Verdict::Skip(why) => ("skip".to_owned(), why.clone()),
                Verdict::Fail(findings) => {
                    let mark = if r.required {
                        ""
                    } else {
                        optional_failed = true;
                        "*"
                    };
                    (
                        format!("FAIL{mark}"),
                        findings.first().cloned().unwrap_or_default(),
                    )
                }
            };
            writeln!(
                f,
                "{word:<6} {:<width$} {:>5} {:>7.2}s  {detail}",
                r.id,
                r.interactions,
                r.elapsed.as_secs_f64()
            )?;
            if let Verdict::Fail(findings) = &r.verdict {
                for finding in findings.iter().skip(1) {
                    writeln!(f, "{:<6} {:<width$} {:>5} {:>8}  {finding}", "", "", "", "")?;
                }
            }
        }
        if optional_failed {
            writeln!(f, "* an optional case: its failure does not fail the run")?;
        }
        write!(f, "{}", self.summary())
    }
}

/// A Markdown table of rule ids against runs: for each rule of `rules` (ids in catalogue
/// order), how many of the cases that exercise it each run passed, of those it ran (`8/8`), or
/// `-` when the run had none of them. `runs` are (column title, report) pairs.
pub fn compliance_table(suite: &crate::Suite, rules: &[&str], runs: &[(&str, &Report)]) -> String {
    let mut out = String::from("| rule |");
    for (title, _) in runs {
        out.push_str(&format!(" {title} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(runs.len()));
    for rule in rules {
        out.push_str(&format!("\n| `{rule}` |"));
        let cases: Vec<&str> = suite
            .cases()
            .iter()
            .filter(|c| c.case().rules.iter().any(|r| r == rule))
            .map(|c| c.id())
            .collect();
        for (_, report) in runs {
            let ran: Vec<&CaseResult> = cases
                .iter()
                .filter_map(|id| report.result(id))
                .filter(|r| !matches!(r.verdict, Verdict::Skip(_)))
                .collect();
            let passed = ran.iter().filter(|r| r.verdict == Verdict::Pass).count();
            if ran.is_empty() {
                out.push_str(" - |");
            } else {
                out.push_str(&format!(" {passed}/{} |", ran.len()));
            }
        }
    }
    out.push('\n');
    out
}
