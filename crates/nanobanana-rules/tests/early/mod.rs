//! Validation as the early-2026 service did it, for the tests that describe that service (the
//! fixture corpus of 0.2.0 records it: the preview ids were served and missing signatures on
//! Gemini 3 model turns were refused).

use nanobanana_rules::{Date, Options, Report, validate_request_json_with, validate_request_with};
use nanobanana_wire::GenerateContentRequest;
use serde_json::Value;

/// The options of the service of 2026-03-01.
pub(crate) fn early() -> Options {
    Options::at(Date::new(2026, 3, 1).expect("a real date"))
}

/// `validate_request` at the early-2026 service.
pub(crate) fn validate_request(model: &str, request: &GenerateContentRequest) -> Report {
    validate_request_with(model, request, &early())
}

/// `validate_request_json` at the early-2026 service.
pub(crate) fn validate_request_json(model: &str, body: &Value) -> Report {
    validate_request_json_with(model, body, &early())
}
