//! How received requests compare with recordings: the normalized form (camelCase keys, base64
//! by its bytes, enums in any case), equality without building it, and the differences a miss
//! report lists.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use nanobanana_wire::Base64Bytes;
use nanobanana_wire::names::camel_case;

use super::query_matches;
use crate::json::Json;

/// How a request differs from a recording, one line per difference.
pub(super) fn differences(
    e: &super::Entry,
    route: &str,
    query: &[(String, String)],
    body: Option<&Value>,
    raw_body: &[u8],
) -> Vec<String> {
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
        (Some(_), None) => {
            differences.push("body: recorded JSON, received none or not JSON".to_owned());
        }
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
    differences
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
pub(super) fn base64_equals(recorded: &Value, received: &Json<'_>) -> bool {
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
pub(super) fn canonical_base64_len(text: &str) -> usize {
    let symbols = text.trim_end_matches('=').len();
    (symbols * 3 / 4).div_ceil(3) * 4
}

/// `normalize`'s rule for enums the service reads in any case.
pub(super) fn upper_case_equals(recorded: &Value, received: &Json<'_>) -> bool {
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

pub(super) fn upper_case_strings(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.to_ascii_uppercase()),
        Value::Array(items) => Value::Array(items.iter().map(upper_case_strings).collect()),
        other => other.clone(),
    }
}

pub(super) fn remove_pointers(value: &mut Value, pointers: &[String]) {
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

pub(super) fn abbreviate(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let head: String = text.chars().take(40).collect();
        format!("{head}... ({} chars)", text.len())
    } else {
        text
    }
}

/// Appends the differences between two JSON values as `pointer: recorded X, received Y` lines.
pub(super) fn diff(recorded: &Value, received: &Value, at: &mut String, out: &mut Vec<String>) {
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
