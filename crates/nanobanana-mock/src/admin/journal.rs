//! `GET /__admin/journal`: the requests received, filtered, as JSON with decoded bodies.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::bad_request;
use nanobanana_wire::Endpoint;

use crate::journal::ReceivedRequest;
use crate::reply::Reply;
use crate::server::{Request, Shared, lock};

/// The endpoint of a name: its stable name (`generateContent`, `files.upload`, as the journal
/// shows it) or, when no other endpoint shares it, the part after the dot (`upload`,
/// `download`). The error names the allowed ones.
pub(crate) fn parse_endpoint(text: &str) -> Result<Endpoint, String> {
    if let Some(endpoint) = Endpoint::from_name(text) {
        return Ok(endpoint);
    }
    let mut by_method = Endpoint::ALL
        .iter()
        .filter(|e| e.name().rsplit('.').next() == Some(text));
    match (by_method.next(), by_method.next()) {
        (Some(endpoint), None) => Ok(*endpoint),
        (first, second) => {
            let names: Vec<&str> = Endpoint::ALL.iter().map(|e| e.name()).collect();
            let ambiguous = if first.is_some() && second.is_some() {
                " (ambiguous: give the full name)"
            } else {
                ""
            };
            Err(format!(
                "unknown endpoint \"{text}\"{ambiguous}; allowed: {}",
                names.join(", ")
            ))
        }
    }
}

/// What the journal is filtered by.
#[derive(Default)]
struct Filter {
    endpoint: Option<Endpoint>,
    model: Option<String>,
    status: Option<u16>,
    method: Option<String>,
}

impl Filter {
    fn parse(query: &[(String, String)]) -> Result<Filter, Reply> {
        let mut filter = Filter::default();
        for (name, value) in query {
            match name.as_str() {
                "endpoint" => {
                    filter.endpoint =
                        Some(parse_endpoint(value).map_err(|e| bad_request(&format!("{e}.")))?);
                }
                "model" => {
                    let model = value.strip_prefix("models/").unwrap_or(value);
                    filter.model = Some(model.to_owned());
                }
                "status" => {
                    filter.status = Some(value.parse().map_err(|_| {
                        bad_request(&format!(
                            "status \"{value}\" is not an HTTP status code (such as 200 or 429)."
                        ))
                    })?);
                }
                "method" => filter.method = Some(value.to_ascii_uppercase()),
                other => {
                    return Err(bad_request(&format!(
                        "unknown journal filter \"{other}\"; allowed: endpoint, model, status, method."
                    )));
                }
            }
        }
        Ok(filter)
    }

    fn accepts(&self, entry: &ReceivedRequest) -> bool {
        self.endpoint.is_none_or(|e| entry.endpoint() == Some(e))
            && self
                .model
                .as_deref()
                .is_none_or(|m| entry.model() == Some(m))
            && self.status.is_none_or(|s| entry.status() == s)
            && self.method.as_deref().is_none_or(|m| entry.method() == m)
    }
}

/// `GET /__admin/journal`.
pub(super) fn list(shared: &Shared, request: &Request) -> Reply {
    let filter = match Filter::parse(&request.query) {
        Ok(filter) => filter,
        Err(reply) => return reply,
    };
    let journal = lock(&shared.journal);
    let requests: Vec<Value> = journal
        .iter()
        .enumerate()
        .filter(|(_, entry)| filter.accepts(entry))
        .map(|(index, entry)| entry_json(index, entry))
        .collect();
    Reply::json(
        200,
        &json!({
            "requests": requests,
            "received": journal.total(),
            "kept": journal.iter().count(),
            "droppedBodies": journal.dropped_bodies(),
        }),
    )
}

/// One journal entry: the request line, redacted query and headers, route, status, and the
/// body decoded (JSON as JSON, other text as text, anything else as base64).
fn entry_json(index: usize, entry: &ReceivedRequest) -> Value {
    let pairs = |pairs: &[(String, String)]| {
        let mut map = Map::new();
        for (name, value) in pairs {
            match map.get_mut(name) {
                Some(Value::String(joined)) => {
                    joined.push_str(", ");
                    joined.push_str(value);
                }
                _ => {
                    map.insert(name.clone(), Value::String(value.clone()));
                }
            }
        }
        Value::Object(map)
    };
    let mut out = json!({
        "index": index,
        "method": entry.method(),
        "path": entry.path(),
        "query": pairs(entry.query()),
        "headers": pairs(entry.headers()),
        "endpoint": entry.endpoint().map(Endpoint::name),
        "model": entry.model(),
        "status": entry.status(),
        "bodyLength": entry.body_len(),
        "bodyDropped": entry.body_dropped(),
        "bodyTruncated": entry.body_truncated(),
        "latencyMs": entry.latency().as_secs_f64() * 1000.0,
        "fault": entry.fault(),
        "replayed": entry.replayed(),
    });
    if let Some(body) = entry.body().filter(|b| !b.is_empty()) {
        let (key, value) = match serde_json::from_slice::<Value>(body) {
            Ok(json) => ("body", json),
            Err(_) => match std::str::from_utf8(body) {
                Ok(text) => ("bodyText", Value::String(text.to_owned())),
                Err(_) => (
                    "bodyBase64",
                    Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
                ),
            },
        };
        out[key] = value;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_named_in_full_or_by_an_unambiguous_method() {
        for endpoint in Endpoint::ALL {
            assert_eq!(parse_endpoint(endpoint.name()), Ok(*endpoint));
        }
        assert_eq!(
            parse_endpoint("streamGenerateContent"),
            Ok(Endpoint::StreamGenerateContent)
        );
        let ambiguous = parse_endpoint("get").unwrap_err();
        assert!(ambiguous.contains("ambiguous"), "{ambiguous}");
        let unknown = parse_endpoint("generate").unwrap_err();
        assert!(
            unknown.contains("\"generate\"") && unknown.contains("files.upload"),
            "{unknown}"
        );
    }
}
