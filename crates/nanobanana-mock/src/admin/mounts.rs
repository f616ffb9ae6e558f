//! `/__admin/mounts` and `/__admin/verify`: [`Mock`]s mounted from JSON, listed, unmounted, and
//! their expectations checked.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Map, Value, json};

use super::journal::parse_endpoint;
use super::{bad_request, json_object, refuse_unknown_keys};
use crate::fault::{Fault, outcome_by_name, outcome_names};
use crate::mock::{Mock, Mounted, describe_range};
use crate::reply::{self, Reply};
use crate::server::{Mode, Shared, lock};

const MOUNT_KEYS: &[&str] = &["name", "match", "respond", "times", "expect"];
const MATCH_KEYS: &[&str] = &[
    "endpoint",
    "model",
    "method",
    "path",
    "headers",
    "json",
    "bodyContains",
];
const RESPOND_KEYS: &[&str] = &["fault", "outcome", "status", "json", "mode"];

/// `POST /__admin/mounts`: mounts the mock a JSON object describes; answers `201` with it.
pub(super) fn mount(shared: &Arc<Shared>, body: &[u8]) -> Reply {
    let mock = match json_object(body, "the mount").and_then(|object| parse_mock(&object)) {
        Ok(mock) => mock,
        Err(reply) => return reply,
    };
    let mounted = shared.register(mock, false);
    Reply::json(201, &mounted_json(&mounted))
}

/// Reads a mount: `{"name", "match": {...}, "respond": {...}, "times", "expect"}`.
fn parse_mock(object: &Map<String, Value>) -> Result<Mock, Reply> {
    refuse_unknown_keys(object, "the mount", MOUNT_KEYS)?;
    let mut mock = Mock::any();
    if let Some(name) = object.get("name") {
        mock = mock.named(string(name, "name")?);
    }
    if let Some(conditions) = object.get("match") {
        mock = parse_match(mock, conditions)?;
    }
    if let Some(respond) = object.get("respond") {
        mock = parse_respond(mock, respond)?;
    }
    if let Some(times) = object.get("times") {
        mock = mock.up_to_n_times(count(times, "times")?);
    }
    if let Some(expect) = object.get("expect") {
        mock = parse_expect(mock, expect)?;
    }
    Ok(mock)
}

fn parse_match(mut mock: Mock, conditions: &Value) -> Result<Mock, Reply> {
    let Value::Object(conditions) = conditions else {
        return Err(bad_request("\"match\" must be a JSON object."));
    };
    refuse_unknown_keys(conditions, "\"match\"", MATCH_KEYS)?;
    for (key, value) in conditions {
        mock = match key.as_str() {
            "endpoint" => mock.endpoint(
                parse_endpoint(string(value, "match.endpoint")?)
                    .map_err(|e| bad_request(&format!("match.endpoint: {e}.")))?,
            ),
            "model" => mock.model(string(value, "match.model")?),
            "method" => mock.method(string(value, "match.method")?),
            "path" => mock.path_contains(string(value, "match.path")?),
            "bodyContains" => mock.body_contains(string(value, "match.bodyContains")?),
            "headers" => {
                for (name, value) in object(value, "match.headers")? {
                    mock = mock.header(name, string(value, &format!("match.headers.{name}"))?);
                }
                mock
            }
            // The only key left: refuse_unknown_keys checked them.
            _ => {
                for (pointer, value) in object(value, "match.json")? {
                    if !(pointer.is_empty() || pointer.starts_with('/')) {
                        return Err(bad_request(&format!(
                            "match.json: \"{pointer}\" is not a JSON pointer; write it as /contents/0/parts/0/text."
                        )));
                    }
                    mock = mock.json_pointer(pointer, value.clone());
                }
                mock
            }
        };
    }
    Ok(mock)
}

fn parse_respond(mock: Mock, respond: &Value) -> Result<Mock, Reply> {
    let Value::Object(respond) = respond else {
        return Err(bad_request("\"respond\" must be a JSON object."));
    };
    refuse_unknown_keys(respond, "\"respond\"", RESPOND_KEYS)?;
    let status = match respond.get("status") {
        Some(value) => Some(
            count(value, "respond.status")
                .ok()
                .and_then(|code| u16::try_from(code).ok())
                .filter(|code| (200..=599).contains(code))
                .ok_or_else(|| {
                    bad_request("respond.status must be an HTTP status code from 200 to 599.")
                })?,
        ),
        None => None,
    };
    if let Some(body) = respond.get("json") {
        if respond.contains_key("fault") || respond.contains_key("outcome") {
            return Err(bad_request(
                "respond.json is a fixed answer: it cannot have a fault or an outcome too.",
            ));
        }
        return Ok(mock.respond_json(status.unwrap_or(200), body.clone()));
    }
    if let Some(mode) = respond.get("mode") {
        if respond.len() > 1 {
            return Err(bad_request(
                "respond.mode serves in another mode: it cannot have a fault, an outcome or a status too.",
            ));
        }
        let mode: Mode = string(mode, "respond.mode")?
            .parse()
            .map_err(|e| bad_request(&format!("respond.mode: {e}.")))?;
        return Ok(mock.mode(mode));
    }
    let mut fault = Fault::none();
    if let Some(text) = respond.get("fault") {
        let parsed = Fault::parse(string(text, "respond.fault")?)
            .map_err(|e| bad_request(&format!("respond.fault: {e}")))?;
        if parsed.times.is_some() {
            return Err(bad_request(
                "respond.fault: times= belongs to the header; use the mount's \"times\".",
            ));
        }
        fault = parsed;
    }
    if let Some(name) = respond.get("outcome") {
        let name = string(name, "respond.outcome")?;
        let outcome = outcome_by_name(name).ok_or_else(|| {
            bad_request(&format!(
                "respond.outcome: unknown outcome \"{name}\"; allowed: {}.",
                outcome_names()
            ))
        })?;
        fault = fault.merged_with(&Fault::outcome(outcome));
    }
    if let Some(code) = status {
        if code < 400 {
            return Err(bad_request(
                "respond.status without respond.json is an error answer: give a status from 400 to 599, or a json body.",
            ));
        }
        fault = fault.merged_with(&Fault::status(code));
    }
    Ok(if fault == Fault::none() {
        mock
    } else {
        mock.fault(fault)
    })
}

/// `expect`: a count, `{"min": a, "max": b}` (either may be left out), or `true` (at least one).
fn parse_expect(mock: Mock, expect: &Value) -> Result<Mock, Reply> {
    match expect {
        Value::Bool(true) => Ok(mock.expect(1..)),
        Value::Object(range) => {
            refuse_unknown_keys(range, "\"expect\"", &["min", "max"])?;
            let min = range
                .get("min")
                .map(|v| count(v, "expect.min"))
                .transpose()?;
            let max = range
                .get("max")
                .map(|v| count(v, "expect.max"))
                .transpose()?;
            match (min, max) {
                (Some(a), Some(b)) if a > b => Err(bad_request(&format!(
                    "expect.min ({a}) is over expect.max ({b})."
                ))),
                (Some(a), Some(b)) => Ok(mock.expect(a..=b)),
                (Some(a), None) => Ok(mock.expect(a..)),
                (None, Some(b)) => Ok(mock.expect(..=b)),
                (None, None) => Err(bad_request("expect needs min, max or both.")),
            }
        }
        _ => Ok(mock.expect(count(expect, "expect").map_err(|_| {
            bad_request("expect must be a count, {\"min\": N, \"max\": N} or true.")
        })?)),
    }
}

fn string<'a>(value: &'a Value, what: &str) -> Result<&'a str, Reply> {
    value
        .as_str()
        .ok_or_else(|| bad_request(&format!("{what} must be a string, not {value}.")))
}

fn count(value: &Value, what: &str) -> Result<u64, Reply> {
    value.as_u64().ok_or_else(|| {
        bad_request(&format!(
            "{what} must be a whole number of at least 0, not {value}."
        ))
    })
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Reply> {
    value
        .as_object()
        .ok_or_else(|| bad_request(&format!("{what} must be a JSON object, not {value}.")))
}

/// A mounted mock as the admin API shows it.
fn mounted_json(mounted: &Mounted) -> Value {
    let mock = &mounted.mock;
    json!({
        "id": mounted.id,
        "description": mock.describe(),
        "received": mounted.matched.load(Ordering::SeqCst),
        "times": mock.limit,
        "expect": mock.expected.map(|(low, high)| describe_range(low, high)),
        "unmet": mounted.unmet(),
    })
}

/// `GET /__admin/mounts`.
pub(super) fn list(shared: &Shared) -> Reply {
    let mounts: Vec<Value> = shared.mounted().iter().map(|m| mounted_json(m)).collect();
    Reply::json(200, &json!({ "mounts": mounts }))
}

/// `DELETE /__admin/mounts/{id}`: answers with the mock as it was.
pub(super) fn unmount(shared: &Shared, id: &str) -> Reply {
    let found = id
        .parse::<u64>()
        .ok()
        .and_then(|id| shared.mounted().into_iter().find(|m| m.id == id));
    match found {
        Some(mounted) => {
            shared.unmount(mounted.id);
            Reply::json(200, &mounted_json(&mounted))
        }
        None => reply::not_found(&format!(
            "nanobanana-mock admin: no mount with id \"{id}\" (GET /__admin/mounts lists them)."
        )),
    }
}

/// `DELETE /__admin/mounts`.
pub(super) fn unmount_all(shared: &Shared) -> Reply {
    let count = shared.mounted().len();
    for mounted in shared.mounted() {
        shared.unmount(mounted.id);
    }
    Reply::json(200, &json!({ "unmounted": count }))
}

/// `GET /__admin/verify`: `ok`, the unmet expectations, the requests no recording matched in
/// replay mode, and the report a Rust test would print.
pub(super) fn verify(shared: &Shared) -> Reply {
    let failures = shared.unmet_expectations();
    let unmatched = lock(&shared.unmatched).clone();
    let ok = failures.is_empty() && unmatched.is_empty();
    let report = if ok {
        String::new()
    } else {
        let all: Vec<String> = failures.iter().chain(&unmatched).cloned().collect();
        shared.failure_report(&all)
    };
    Reply::json(
        200,
        &json!({
            "ok": ok,
            "failures": failures,
            "unmatched": unmatched,
            "report": report,
        }),
    )
}
