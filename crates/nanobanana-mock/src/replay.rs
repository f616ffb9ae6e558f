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
use serde_json::Value;

use nanobanana_wire::Base64Bytes;

use crate::json::Json;
use nanobanana_wire::corpus::{Case, LineEnding, RecordedResponse, SseFraming};
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
    /// An index of these cases, in this order.
    pub(crate) fn from_cases<'a>(
        cases: impl IntoIterator<Item = &'a Case>,
        base_uri: &str,
    ) -> Self {
        let mut index = Self {
            entries: Vec::new(),
            by_route: HashMap::new(),
            served: Vec::new(),
            recorded_signatures: HashSet::new(),
        };
        for case in cases {
            index.push_case(case, base_uri);
        }
        index
    }

    /// Adds a case's interactions after the ones indexed (a recording made while serving).
    pub(crate) fn push_case(&mut self, case: &Case, base_uri: &str) {
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
                collect_signatures(value, &mut self.recorded_signatures);
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
            self.by_route
                .entry((entry.method.clone(), route))
                .or_default()
                .push(self.entries.len());
            self.entries.push(entry);
            self.served.push(AtomicU64::new(0));
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
                let differences = differences(e, &route, query, body, raw_body);
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
        // Named events (the Interactions API) keep their `event:` line: the item's event_type.
        let names = (response.sse == Some(SseFraming::Named)).then(|| {
            events
                .iter()
                .map(|e| {
                    e.get("event_type")
                        .and_then(Value::as_str)
                        .unwrap_or("message")
                        .to_owned()
                })
                .collect()
        });
        ReplyBody::Events {
            events: events.iter().map(|e| Bytes::from(e.to_string())).collect(),
            line_ending: response.line_ending.unwrap_or(LineEnding::Lf),
            names,
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
        fixed: false,
        note: None,
        replayed: true,
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

mod compare;
#[cfg(test)]
mod tests;

use self::compare::{differences, remove_pointers};
pub(crate) use self::compare::{equals_normalized, normalize};
