//! What the user sees: the failure type with its exit codes, text or JSON output, warnings, and
//! whether a spinner may draw.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use nanobanana_rules::{Report, Violation};
use nanobanana_transport::ErrorKind;
use serde_json::{Value, json};

use crate::cli::Global;
use crate::spinner::Spinner;

/// How output is shown: text or JSON, and whether anything animates on stderr.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ui {
    json: bool,
    animate: bool,
}

impl Ui {
    pub(crate) fn new(global: &Global) -> Self {
        Self {
            json: global.json,
            animate: !global.quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Whether `--json` was given.
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// A spinner with `message`, drawn only when stderr is a terminal and `--quiet` is off.
    pub(crate) fn spinner(&self, message: impl Into<String>) -> Spinner {
        Spinner::start(self.animate, message)
    }

    /// Prints text output (not in `--json` mode, where the document says it all).
    pub(crate) fn say(&self, text: &str) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    /// Prints the JSON document of a command (in `--json` mode only).
    pub(crate) fn document(&self, value: &Value) {
        if self.json {
            let mut out = std::io::stdout().lock();
            let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".to_owned());
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    /// Prints a warning on stderr (in both modes: JSON goes to stdout).
    pub(crate) fn warn(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "warning: {text}");
    }

    /// Shows a failure: its text on stderr, and in `--json` mode its document on stdout.
    pub(crate) fn fail(&self, failure: &Failure) -> ExitCode {
        {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{}", failure.text());
        }
        if self.json {
            self.document(&json!({"ok": false, "error": failure.to_json()}));
        }
        failure.exit_code()
    }
}

/// What kind of failure ended a command, which decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// Refused before any request: bad arguments, unreadable input, a file that exists, no key.
    /// Exit code 2.
    Refused,
    /// The service answered with an error, or could not be reached. Exit code 1.
    Service,
    /// The request went through but the command could not do its job (no image came back, a
    /// result could not be written). Exit code 1.
    Failed,
}

/// A failure of a command: a one-line message, lines of detail, and data for `--json`.
#[derive(Debug)]
pub(crate) struct Failure {
    kind: FailureKind,
    message: String,
    details: Vec<String>,
    data: Value,
}

impl Failure {
    /// Refused before any request (exit code 2).
    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Refused, message)
    }

    /// The request went through but the job could not be done (exit code 1).
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Failed, message)
    }

    fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: Vec::new(),
            data: Value::Null,
        }
    }

    /// Adds a line of detail.
    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.details.push(detail.into());
        self
    }

    /// Adds data to the `--json` error object.
    pub(crate) fn with_data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }

    /// A refusal for a request that breaks documented rules: one line per error, with the flag
    /// it comes from, the rule's message (which names the allowed values) and the rule id.
    pub(crate) fn rules(report: &Report, context: &str) -> Self {
        let errors: Vec<&Violation> = report.errors().collect();
        let mut failure = Self::refused(format!(
            "{context}breaks {} {} for {}; nothing was sent",
            errors.len(),
            if errors.len() == 1 { "rule" } else { "rules" },
            report.model()
        ));
        for violation in &errors {
            failure = failure.with_detail(violation_line(violation));
        }
        failure.data =
            json!({"violations": errors.iter().map(|v| violation_json(v)).collect::<Vec<_>>()});
        failure
    }

    /// The failure for an error of the client.
    pub(crate) fn from_client(error: &nanobanana_transport::Error) -> Self {
        match error.kind() {
            ErrorKind::Validation {
                report,
                request_index,
            } => {
                let context = match request_index {
                    Some(index) => format!("request {} of the batch ", index + 1),
                    None => "the request ".to_owned(),
                };
                Self::rules(report, &context)
            }
            ErrorKind::Config => Self::refused(error.to_string()),
            ErrorKind::Api(api) => {
                let mut failure = Self::new(FailureKind::Service, error.to_string());
                if let Some(reason) = api.reason() {
                    failure = failure.with_detail(format!("reason: {reason}"));
                }
                if api.reason() == Some("API_KEY_INVALID") {
                    failure = failure.with_detail(
                        "check GEMINI_API_KEY (or GOOGLE_API_KEY), or try --mock".to_owned(),
                    );
                }
                failure.data = json!({
                    "httpStatus": api.http_status(),
                    "status": api.status(),
                    "message": api.message(),
                    "reason": api.reason(),
                    "retryDelaySeconds": api.retry_delay().map(|d| d.as_secs_f64()),
                });
                failure
            }
            _ => Self::new(FailureKind::Service, error.to_string()),
        }
    }

    /// The exit code: 2 for a refusal, 1 otherwise.
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self.kind {
            FailureKind::Refused => ExitCode::from(2),
            FailureKind::Service | FailureKind::Failed => ExitCode::from(1),
        }
    }

    /// `error: MESSAGE` and the details, indented.
    pub(crate) fn text(&self) -> String {
        let mut text = format!("error: {}", self.message);
        for detail in &self.details {
            let _ = write!(text, "\n  {detail}");
        }
        text
    }

    pub(crate) fn to_json(&self) -> Value {
        let kind = match self.kind {
            FailureKind::Refused => "refused",
            FailureKind::Service => "service",
            FailureKind::Failed => "failed",
        };
        let mut value = json!({"kind": kind, "message": self.message, "details": self.details});
        if let (Value::Object(map), Value::Object(data)) = (&mut value, &self.data) {
            map.extend(data.clone());
        }
        value
    }
}

impl From<nanobanana_transport::Error> for Failure {
    fn from(error: nanobanana_transport::Error) -> Self {
        Self::from_client(&error)
    }
}

/// The flag a request path comes from, for messages (`/generationConfig/imageConfig/imageSize`
/// → `--size`).
fn flag_for(violation: &Violation) -> &'static str {
    let path = violation.path();
    if path.is_empty() {
        "--model"
    } else if path.contains("imageSize") {
        "--size"
    } else if path.contains("aspectRatio") {
        "--aspect-ratio"
    } else if path.contains("thinkingConfig") {
        "--thinking"
    } else if path.contains("responseModalities") {
        "--image-only"
    } else if path.starts_with("/tools") {
        "--search"
    } else if path.starts_with("/contents") {
        "input"
    } else {
        "request"
    }
}

/// Rows of cells as left-aligned columns two spaces apart, one line per row (no trailing
/// spaces, no final newline).
pub(crate) fn columns(rows: &[Vec<String>]) -> String {
    let count = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..count)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect();
    lines.join("\n")
}

/// `--size: Unsupported image size "1k": ... (rule image-size-casing)`.
pub(crate) fn violation_line(violation: &Violation) -> String {
    format!("{}: {}", flag_for(violation), violation_text(violation))
}

/// `Unsupported image size "1k": ... (rule image-size-casing)`: the rule's message and id.
pub(crate) fn violation_text(violation: &Violation) -> String {
    format!("{} (rule {})", violation.message(), violation.rule().id())
}

pub(crate) fn violation_json(violation: &Violation) -> Value {
    json!({
        "rule": violation.rule().id(),
        "severity": violation.severity().as_str(),
        "path": violation.path(),
        "sent": violation.sent(),
        "allowed": violation.allowed(),
        "message": violation.message(),
    })
}

/// Prints the warnings of a report (an unknown model, advice exceeded).
pub(crate) fn warn_report(ui: &Ui, report: &Report) {
    for warning in report.warnings() {
        ui.warn(&violation_line(warning));
    }
}
