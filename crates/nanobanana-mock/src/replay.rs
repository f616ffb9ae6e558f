//! Replay: serve the fixture corpus. A request matches a recorded interaction when the method,
//! the path (any API version), the recorded query parameters and the JSON body are equal after
//! normalisation: keys in camelCase whatever the spelling, base64 `data` and `thoughtSignature`
//! compared as bytes (standard or URL-safe alphabet, padded or not), `responseModalities` and
//! `thinkingLevel` values in any case, an empty `generationConfig` as none, the case's `ignore`
//! pointers left out. Interactions with the same request are served in order: each answers
//! once, and the last one keeps answering after that. Recorded authentication failures (no key,
//! a wrong key) are not replayed: the key check in front of replay gives those answers.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use serde_json::{Map, Value};

use nanobanana_wire::Base64Bytes;
use nanobanana_wire::names::camel_case;

use crate::json::Json;
use nanobanana_wire::corpus::{Corpus, LineEnding, RecordedResponse};
use nanobanana_wire::routes::{PathParts, Prefix, split_path};

use crate::reply::{JSON, Reply, ReplyBody};

/// One recorded interaction, ready to match and serve.
struct Entry {
    case: String,
    index: usize,
    name: Option<String>,
    method: String,
    route: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    body_text: Option<String>,
    ignore: Vec<String>,
    reply: Reply,
}

/// The corpus, indexed by method and version-less path.
pub(crate) struct ReplayIndex {
    entries: Vec<Entry>,
    by_route: HashMap<(String, String), Vec<usize>>,
    served: Vec<AtomicU64>,
    recorded_signatures: HashSet<Vec<u8>>,
}

/// The outcome of a look-up.
pub(crate) enum Lookup {
    /// The recorded answer.
    Found(Reply),
    /// No recording matches; the report names the closest one and the differences.
    Missed(String),
}

impl ReplayIndex {
    pub(crate) fn new(corpus: &Corpus, base_uri: &str) -> Self {
        let mut entries = Vec::new();
        let mut by_route: HashMap<(String, String), Vec<usize>> = HashMap::new();
        let mut signatures = HashSet::new();
        for case in corpus.cases() {
            for (index, interaction) in case.interactions.iter().enumerate() {
                if is_auth_failure(&interaction.response) {
                    continue;
                }
                let request = &interaction.request;
                let route = route_key(&request.path);
                let ignore = interaction.ignore.clone();
                let body = request.body.as_ref().map(|b| {
                    let mut normal = normalize(b);
                    remove_pointers(&mut normal, &ignore);
                    normal
                });
                for value in [&interaction.response.body]
                    .into_iter()
                    .flatten()
                    .chain(interaction.response.events.iter().flatten())
                {
                    collect_signatures(value, &mut signatures);
                }
                let entry = Entry {
                    case: case.id.clone(),
                    index,
                    name: interaction.name.clone(),
                    method: request.method.to_ascii_uppercase(),
                    route: route.clone(),
                    query: request
                        .query
                        .iter()
                        .filter(|(k, _)| k.as_str() != "key")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    body,
                    body_text: request.body_text.clone(),
                    ignore,
                    reply: recorded_reply(&interaction.response, base_uri),
                };
                by_route
                    .entry((entry.method.clone(), route))
                    .or_default()
                    .push(entries.len());
                entries.push(entry);
            }
        }
        let served = entries.iter().map(|_| AtomicU64::new(0)).collect();
        Self {
            entries,
            by_route,
            served,
            recorded_signatures: signatures,
        }
    }

    /// Every thought signature the recorded answers carry, decoded.
    pub(crate) fn recorded_signatures(&self) -> HashSet<Vec<u8>> {
        self.recorded_signatures.clone()
    }

    pub(crate) fn reset(&self) {
        for served in &self.served {
            served.store(0, Ordering::SeqCst);
        }
    }

    /// Finds the recording for a request. `body` is the parsed JSON body, if it is JSON.
    pub(crate) fn lookup(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Json<'_>>,
        raw_body: &[u8],
    ) -> Lookup {
        let key = (method.to_ascii_uppercase(), route_key(path));
        let candidates = self.by_route.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        // Built only for recordings with ignored pointers and for the miss report; the common
        // case compares the body as received, normalizing on the fly.
        let mut normal: Option<Value> = None;
        let mut matching = Vec::new();
        for &i in candidates {
            let entry = &self.entries[i];
            if !query_matches(&entry.query, query) {
                continue;
            }
            let equal = match (&entry.body, body) {
                (Some(recorded), Some(received)) => {
                    if entry.ignore.is_empty() {
                        equals_normalized(recorded, received)
                    } else {
                        let mut received = normal
                            .get_or_insert_with(|| normalize(&received.to_value()))
                            .clone();
                        remove_pointers(&mut received, &entry.ignore);
                        *recorded == received
                    }
                }
                // A recorded text body (a JSONL file) is compared as bytes, even when the
                // received body also parses as JSON (a one-line JSONL file does); a recorded
                // request without a body matches any body (uploads' binary chunks).
                (None, _) => match &entry.body_text {
                    Some(text) => text.as_bytes() == raw_body,
                    None => true,
                },
                (Some(_), None) => false,
            };
            if equal {
                matching.push(i);
            }
        }
        // A recording matches when its query parameters are among the request's, so a request
        // can also match recordings that name fewer of them (`?pageSize=2` matches a recording
        // without a page size): the recordings that name the most of them win.
        let most_specific = matching.iter().map(|&i| self.entries[i].query.len()).max();
        matching.retain(|&i| Some(self.entries[i].query.len()) == most_specific);
        let chosen = matching
            .iter()
            .copied()
            .find(|&i| self.served[i].load(Ordering::SeqCst) == 0)
            .or_else(|| matching.last().copied());
        match chosen {
            Some(i) => {
                self.served[i].fetch_add(1, Ordering::SeqCst);
                let entry = &self.entries[i];
                Lookup::Found(entry.reply.clone())
            }
            None => {
                let normal = normal.or_else(|| body.map(|b| normalize(&b.to_value())));
                Lookup::Missed(self.miss_report(method, path, query, normal.as_ref(), raw_body))
            }
        }
    }

    fn miss_report(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        raw_body: &[u8],
    ) -> String {
        let route = route_key(path);
        let method = method.to_ascii_uppercase();
        let mut out = format!("No recorded interaction matches {method} {path}");
        let best = self
            .entries
            .iter()
            .filter(|e| e.method == method)
            .map(|e| {
                let mut differences = Vec::new();
                if e.route != route {
                    differences.push(format!("path: recorded {:?}, received {route:?}", e.route));
                }
                if !query_matches(&e.query, query) {
                    differences.push(format!(
                        "query: recorded {:?}, received {:?}",
                        e.query,
                        query.iter().filter(|(k, _)| k != "key").collect::<Vec<_>>()
                    ));
                }
                match (&e.body, body) {
                    (Some(recorded), Some(received)) => {
                        let mut received = received.clone();
                        remove_pointers(&mut received, &e.ignore);
                        diff(recorded, &received, &mut String::new(), &mut differences);
                    }
                    (Some(_), None) => differences
                        .push("body: recorded JSON, received none or not JSON".to_owned()),
                    (None, _) => {
                        if let Some(text) = &e.body_text
                            && text.as_bytes() != raw_body
                        {
                            differences.push(format!(
                                "body: recorded text of {} bytes, received {} other bytes",
                                text.len(),
                                raw_body.len()
                            ));
                        }
                    }
                }
                // A different path weighs more than any number of body differences.
                let score = differences.len() + if e.route != route { 1000 } else { 0 };
                (score, e, differences)
            })
            .min_by_key(|(score, _, _)| *score);
        match best {
            Some((_, entry, differences)) => {
                let _ = write!(
                    out,
                    ". Closest recording: case {} interaction {}{}; differences:",
                    entry.case,
                    entry.index,
                    entry
                        .name
                        .as_ref()
                        .map(|n| format!(" ({n:?})"))
                        .unwrap_or_default()
                );
                for d in differences.iter().take(12) {
                    let _ = write!(out, "\n  {d}");
                }
                if differences.len() > 12 {
                    let _ = write!(out, "\n  ... and {} more", differences.len() - 12);
                }
                if differences.is_empty() {
                    let _ = write!(out, "\n  (none left: it was already served)");
                }
            }
            None => {
                let _ = write!(out, ". The corpus has no {method} recordings at all.");
            }
        }
        out
    }
}

/// Whether a recorded answer is an authentication failure: `403 PERMISSION_DENIED` for a missing
/// key, or an `ErrorInfo` with reason `API_KEY_INVALID` for a wrong one. Such recordings are not
/// replayed: the server's own key check answers those requests, with the same texts, before
/// replay is consulted, so a request that reaches replay has passed it and must not get one (the
/// corpus records the same request with and without a valid key).
fn is_auth_failure(response: &RecordedResponse) -> bool {
    let Some(error) = response.body.as_ref().and_then(|b| b.get("error")) else {
        return false;
    };
    let unregistered = response.status == 403
        && error
            .get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| m.starts_with("Method doesn't allow unregistered callers"));
    let invalid_key = error
        .get("details")
        .and_then(Value::as_array)
        .is_some_and(|details| {
            details
                .iter()
                .any(|d| d.get("reason").and_then(Value::as_str) == Some("API_KEY_INVALID"))
        });
    unregistered || invalid_key
}

/// `models/x:generateContent` or `upload:files` for any API version; other paths as they are.
fn route_key(path: &str) -> String {
    match split_path(path) {
        Some(PathParts {
            prefix: Prefix::Upload,
            rest,
            ..
        }) => format!("upload:{rest}"),
        Some(PathParts {
            prefix: Prefix::Api,
            rest,
            ..
        }) => rest.to_owned(),
        Some(_) | None => path.to_owned(),
    }
}

/// Whether a request's query fits a recording's: every recorded parameter is there with its
/// value (parameters the recording does not name are ignored), and the page token is the same,
/// because it selects the page (a request with a token is not the first page's request).
fn query_matches(recorded: &[(String, String)], received: &[(String, String)]) -> bool {
    let page_token = |query: &[(String, String)]| {
        query
            .iter()
            .find(|(k, v)| k == "pageToken" && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    recorded
        .iter()
        .all(|(k, v)| received.iter().any(|(rk, rv)| rk == k && rv == v))
        && page_token(recorded) == page_token(received)
}

fn recorded_reply(response: &RecordedResponse, base_uri: &str) -> Reply {
    let mut headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|(k, v)| {
            let value = if k == "content-type" && v.starts_with("application/json") {
                JSON.to_owned()
            } else {
                // Recorded upload URLs point at the real service: point them here.
                v.replace("https://generativelanguage.googleapis.com", base_uri)
            };
            (k.clone(), value)
        })
        .collect();
    let body = if let Some(events) = &response.events {
        if !headers.iter().any(|(k, _)| k == "content-type") {
            headers.push(("content-type".into(), "text/event-stream".into()));
        }
        ReplyBody::Events {
            events: events.iter().map(|e| Bytes::from(e.to_string())).collect(),
            line_ending: response.line_ending.unwrap_or(LineEnding::Lf),
        }
    } else if let Some(body) = &response.body {
        if !headers.iter().any(|(k, _)| k == "content-type") {
            headers.push(("content-type".into(), JSON.into()));
        }
        ReplyBody::Full(Bytes::from(body.to_string()))
    } else if let Some(text) = &response.body_text {
        ReplyBody::Full(Bytes::from(text.clone()))
    } else {
        ReplyBody::Full(Bytes::new())
    };
    Reply {
        status: response.status,
        headers,
        body,
        reset_connection: false,
    }
}

fn collect_signatures(value: &Value, out: &mut HashSet<Vec<u8>>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "thoughtSignature"
                    && let Value::String(s) = v
                    && let Ok(bytes) = Base64Bytes::from_base64(s)
                {
                    out.insert(bytes.into_vec());
                } else {
                    collect_signatures(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_signatures(v, out)),
        _ => {}
    }
}

/// The canonical form of a request body for matching.
pub(crate) fn normalize(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, v) in map {
                let key = camel_case(key).into_owned();
                let v = if (key == "data" || key == "thoughtSignature")
                    && let Value::String(s) = v
                    && let Ok(bytes) = Base64Bytes::from_base64(s)
                {
                    Value::String(bytes.to_base64())
                } else if key == "responseModalities" || key == "thinkingLevel" {
                    // Enum values the service reads in any case ("Image", "IMAGE"; "High").
                    upper_case_strings(v)
                } else if key == "generationConfig" && v.as_object().is_some_and(Map::is_empty) {
                    // An empty generation config is no config (the JS SDK sends `{}`).
                    continue;
                } else {
                    normalize(v)
                };
                out.insert(key, v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

/// Whether `normalize(received) == *recorded`, for a `recorded` value that is already
/// normalized, without building the normalized copy (the replay's hot path). One difference:
/// an object naming a member twice (or in both spellings) matches nothing here, where
/// `normalize` would keep the later one; proto JSON refuses such bodies anyway.
pub(crate) fn equals_normalized(recorded: &Value, received: &Json<'_>) -> bool {
    match (recorded, received) {
        (Value::Object(recorded), Json::Object(received)) => {
            let mut matched = 0;
            for (key, v) in received {
                let key = camel_case(key);
                let key = key.as_ref();
                if key == "generationConfig" && matches!(v, Json::Object(m) if m.is_empty()) {
                    continue;
                }
                let Some(r) = recorded.get(key) else {
                    return false;
                };
                let equal = if key == "data" || key == "thoughtSignature" {
                    base64_equals(r, v)
                } else if key == "responseModalities" || key == "thinkingLevel" {
                    upper_case_equals(r, v)
                } else {
                    equals_normalized(r, v)
                };
                if !equal {
                    return false;
                }
                matched += 1;
            }
            matched == recorded.len()
        }
        (Value::Array(recorded), Json::Array(received)) => {
            recorded.len() == received.len()
                && recorded
                    .iter()
                    .zip(received)
                    .all(|(r, v)| equals_normalized(r, v))
        }
        (Value::String(r), Json::Str(v)) => r == v,
        (Value::Number(r), Json::Number(v)) => r == v,
        (Value::Bool(r), Json::Bool(v)) => r == v,
        (Value::Null, Json::Null) => true,
        _ => false,
    }
}

/// `normalize`'s rule for bytes fields: base64 in either alphabet compares by its bytes.
fn base64_equals(recorded: &Value, received: &Json<'_>) -> bool {
    match (recorded, received) {
        (Value::String(recorded), Json::Str(text)) => {
            *recorded == *text
                // Decoded and re-encoded only when the lengths allow a match: a request can be
                // compared with many recordings, and its images can be megabytes.
                || (recorded.len() == canonical_base64_len(text)
                    && Base64Bytes::from_base64(text.as_bytes())
                        .is_ok_and(|bytes| *recorded == bytes.to_base64()))
        }
        (recorded, received) => equals_normalized(recorded, received),
    }
}

/// The length of the standard padded base64 of what `text` decodes to, if it decodes.
fn canonical_base64_len(text: &str) -> usize {
    let symbols = text.trim_end_matches('=').len();
    (symbols * 3 / 4).div_ceil(3) * 4
}

/// `normalize`'s rule for enums the service reads in any case.
fn upper_case_equals(recorded: &Value, received: &Json<'_>) -> bool {
    match (recorded, received) {
        (Value::String(r), Json::Str(v)) => {
            r.len() == v.len()
                && r.bytes()
                    .zip(v.bytes())
                    .all(|(a, b)| a == b.to_ascii_uppercase())
        }
        (Value::Array(r), Json::Array(v)) => {
            r.len() == v.len() && r.iter().zip(v).all(|(a, b)| upper_case_equals(a, b))
        }
        (r, v) => equals_normalized(r, v),
    }
}

fn upper_case_strings(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.to_ascii_uppercase()),
        Value::Array(items) => Value::Array(items.iter().map(upper_case_strings).collect()),
        other => other.clone(),
    }
}

fn remove_pointers(value: &mut Value, pointers: &[String]) {
    for pointer in pointers {
        let Some((parent, last)) = pointer.rsplit_once('/') else {
            continue;
        };
        let last = last.replace("~1", "/").replace("~0", "~");
        let target = if parent.is_empty() {
            Some(&mut *value)
        } else {
            value.pointer_mut(parent)
        };
        match target {
            Some(Value::Object(map)) => {
                map.remove(&last);
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = last.parse::<usize>()
                    && i < items.len()
                {
                    items[i] = Value::Null;
                }
            }
            _ => {}
        }
    }
}

fn abbreviate(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let head: String = text.chars().take(40).collect();
        format!("{head}... ({} chars)", text.len())
    } else {
        text
    }
}

/// Appends the differences between two JSON values as `pointer: recorded X, received Y` lines.
fn diff(recorded: &Value, received: &Value, at: &mut String, out: &mut Vec<String>) {
    match (recorded, received) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let len = at.len();
                at.push('/');
                at.push_str(k);
                match b.get(k) {
                    Some(vb) => diff(va, vb, at, out),
                    None => out.push(format!(
                        "{at}: recorded {}, received nothing",
                        abbreviate(va)
                    )),
                }
                at.truncate(len);
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(format!(
                        "{at}/{k}: not recorded, received {}",
                        abbreviate(vb)
                    ));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                let len = at.len();
                let _ = write!(at, "/{i}");
                diff(va, vb, at, out);
                at.truncate(len);
            }
            if a.len() != b.len() {
                out.push(format!(
                    "{at}: recorded {} elements, received {}",
                    a.len(),
                    b.len()
                ));
            }
        }
        (a, b) if a != b => out.push(format!(
            "{}: recorded {}, received {}",
            if at.is_empty() { "/" } else { at },
            abbreviate(a),
            abbreviate(b)
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nanobanana_wire::names::snake_case;
    use serde_json::json;

    #[test]
    fn normalisation_ignores_key_spelling_and_base64_alphabet() {
        let camel = json!({"inlineData": {"mimeType": "image/png", "data": "+/+/"}, "thoughtSignature": "ab+/"});
        let snake = json!({"inline_data": {"mime_type": "image/png", "data": "-_-_"}, "thought_signature": "ab-_"});
        assert_eq!(normalize(&camel), normalize(&snake));
        // Enum spellings the service accepts in any case, and an empty config, match.
        assert_eq!(
            normalize(
                &json!({"generationConfig": {"responseModalities": ["Image", "text"],
                "thinkingConfig": {"thinkingLevel": "High"}}})
            ),
            normalize(
                &json!({"generation_config": {"response_modalities": ["IMAGE", "TEXT"],
                "thinking_config": {"thinking_level": "HIGH"}}})
            )
        );
        assert_eq!(
            normalize(&json!({"contents": [], "generationConfig": {}})),
            normalize(&json!({"contents": []}))
        );
        assert_ne!(
            normalize(&json!({"text": "+/"})),
            normalize(&json!({"text": "-_"}))
        );
    }

    #[test]
    fn diff_names_every_difference() {
        let mut out = Vec::new();
        diff(
            &json!({"a": 1, "b": [1, 2], "c": "x"}),
            &json!({"a": 2, "b": [1], "d": true, "c": "x"}),
            &mut String::new(),
            &mut out,
        );
        assert_eq!(
            out,
            [
                "/a: recorded 1, received 2",
                "/b: recorded 2 elements, received 1",
                "/d: not recorded, received true"
            ]
        );
    }

    #[test]
    fn ignored_pointers_are_removed() {
        let mut v = json!({"a": {"b": 1, "c": 2}});
        remove_pointers(&mut v, &["/a/b".to_owned(), "/zz/q".to_owned()]);
        assert_eq!(v, json!({"a": {"c": 2}}));
    }

    /// The length check in front of the base64 comparison never turns away a text that
    /// normalizes to the recording (WIRE.md "Encoding rules": either alphabet, padding optional).
    #[test]
    fn canonical_base64_lengths() {
        for n in 0..40u8 {
            let bytes = Base64Bytes::new((0..n).map(|i| i.wrapping_mul(97)).collect::<Vec<u8>>());
            let standard = bytes.to_base64();
            let url_safe = standard.replace('+', "-").replace('/', "_");
            for text in [
                standard.clone(),
                url_safe.clone(),
                url_safe.replace('=', ""),
            ] {
                assert_eq!(canonical_base64_len(&text), standard.len(), "{text}");
            }
        }
    }

    /// Every way a client may spell a recorded body: snake_case keys, URL-safe base64 without
    /// padding, lower-case enums, an empty generation config.
    fn respell(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let v = match (k.as_str(), v) {
                        ("data" | "thoughtSignature", Value::String(text)) => {
                            Value::String(text.replace('+', "-").replace('/', "_").replace('=', ""))
                        }
                        ("responseModalities" | "thinkingLevel", v) => lower(v),
                        (_, v) => respell(v),
                    };
                    out.insert(snake_case(k).into_owned(), v);
                }
                if map.contains_key("contents") && !map.contains_key("generationConfig") {
                    out.insert("generation_config".to_owned(), json!({}));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(respell).collect()),
            other => other.clone(),
        }
    }

    fn lower(value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(s.to_ascii_lowercase()),
            Value::Array(items) => Value::Array(items.iter().map(lower).collect()),
            other => other.clone(),
        }
    }

    /// The replay's on-the-fly comparison answers exactly what comparing normalized copies
    /// answers, for every pair of recorded request bodies as sent and as respelled.
    #[test]
    fn on_the_fly_comparison_equals_comparing_normalized_copies() {
        let corpus = Corpus::load(Corpus::repository_dir()).unwrap();
        let bodies: Vec<Value> = corpus
            .cases()
            .iter()
            .flat_map(|case| &case.interactions)
            .filter_map(|interaction| interaction.request.body.clone())
            .collect();
        assert!(bodies.len() > 50, "{}", bodies.len());
        let received: Vec<Value> = bodies
            .iter()
            .flat_map(|b| [b.clone(), respell(b)])
            .collect();
        let mut equal_pairs = 0;
        for recorded in &bodies {
            let recorded = normalize(recorded);
            for body in &received {
                let expected = recorded == normalize(body);
                let bytes = serde_json::to_vec(body).unwrap();
                let parsed: Json<'_> = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(parsed.to_value(), *body);
                assert_eq!(
                    equals_normalized(&recorded, &parsed),
                    expected,
                    "{recorded} vs {body}"
                );
                equal_pairs += usize::from(expected);
            }
        }
        assert!(equal_pairs >= 2 * bodies.len(), "{equal_pairs}");
    }
}
