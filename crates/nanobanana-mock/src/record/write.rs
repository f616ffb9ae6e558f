//! One forwarded exchange written as a case of the corpus format (`fixtures/README.md`,
//! `fixtures/schema/case.schema.json`): credentials left out and scrubbed, images as blobs,
//! event streams as `events`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use nanobanana_rules::Date;
use nanobanana_wire::corpus::{Case, extract_image_blobs, recorded_query};
use nanobanana_wire::routes::route;

use super::RecordMode;
use crate::outbound::Answer;
use crate::server::Request;

/// The service's origin, as recorded cases write URLs of the service.
pub(super) const PUBLIC_ORIGIN: &str = "https://generativelanguage.googleapis.com";

/// Request headers that carry credentials: never forwarded into a file.
const SECRET_HEADERS: &[&str] = &[
    "x-goog-api-key",
    "authorization",
    "proxy-authorization",
    "cookie",
];

/// Request headers a recording keeps: what the client sent about itself and its upload.
fn kept_request_header(name: &str) -> bool {
    matches!(name, "content-type" | "user-agent" | "x-goog-api-client") || is_upload_header(name)
}

fn is_upload_header(name: &str) -> bool {
    name.starts_with("x-goog-upload-")
}

/// The query string of decoded pairs, percent-encoded again (`?a=b&c=d`, or empty).
pub(super) fn query_string(query: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in query.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        encode_into(&mut out, name);
        out.push('=');
        encode_into(&mut out, value);
    }
    out
}

fn encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// The headers sent upstream: the client's, without the hop-by-hop ones, the fake server's own
/// controls, and `accept-encoding` (the answer is read, so it must come uncompressed).
pub(super) fn forwarded_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !matches!(
                name,
                "host"
                    | "connection"
                    | "keep-alive"
                    | "content-length"
                    | "transfer-encoding"
                    | "te"
                    | "trailer"
                    | "upgrade"
                    | "proxy-connection"
                    | "accept-encoding"
            ) && !name.starts_with("x-nanobanana-")
        })
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

/// A forwarded request and the upstream's answer, ready to be written.
pub(super) struct Exchange<'a> {
    request: &'a Request,
    answer: &'a Answer,
    upstream: &'a str,
    /// The credentials the request carried, to be scrubbed wherever they appear.
    secrets: Vec<String>,
}

impl<'a> Exchange<'a> {
    pub(super) fn new(request: &'a Request, answer: &'a Answer, upstream: &'a str) -> Self {
        let mut secrets: Vec<String> = SECRET_HEADERS
            .iter()
            .flat_map(|name| request.headers.get_all(*name))
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| {
                // `Bearer <token>`: the token alone too, wherever it is echoed.
                let token = v.split_once(' ').map(|(_, t)| t.trim().to_owned());
                [Some(v.trim().to_owned()), token]
            })
            .flatten()
            .collect();
        secrets.extend(
            request
                .query
                .iter()
                .filter(|(k, _)| k == "key")
                .map(|(_, v)| v.clone()),
        );
        // Short values would scrub unrelated text; no real credential is that short.
        secrets.retain(|s| s.len() >= 4);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self {
            request,
            answer,
            upstream,
            secrets,
        }
    }

    /// Writes the case (and its blobs) under `dir` and returns it as the corpus reads it (blobs
    /// expanded), for the replay index; `None` for a method the format cannot hold.
    pub(super) fn write(&self, dir: &Path, mode: RecordMode) -> Result<Option<Case>, String> {
        let method = self.request.method.to_ascii_uppercase();
        if !matches!(method.as_str(), "GET" | "POST" | "DELETE" | "PATCH" | "PUT") {
            return Ok(None);
        }
        let mut interaction = json!({
            "request": self.request_json(dir)?,
            "response": self.response_json(),
        });
        self.scrub(&mut interaction);
        let (slug, rule) = self.endpoint();
        let hash = self.request_hash();
        let id = free_id(dir, &format!("recorded/{slug}-{}", &hash[..12]))?;
        let today = Date::today().to_string();
        let host = super::scheme_and_host(self.upstream).map_or_else(String::new, |(_, h)| h);
        let mut case = json!({
            "id": id,
            "description": format!(
                "{method} {} answered by {host} and recorded by nanobanana-mock (record mode {mode}).",
                self.request.path
            ),
            "rules": [rule],
            "provenance": "recorded",
            "serviceDate": today,
            "source": format!("recorded on {today} from {host} by nanobanana-mock --record-into"),
            "required": false,
            "targets": ["client"],
            "tags": ["recorded", "nanobanana-mock"],
            "interactions": [interaction],
        });
        let expanded: Case = serde_json::from_value(case.clone()).map_err(|e| {
            format!(
                "the recording of {method} {} is no case: {e}",
                self.request.path
            )
        })?;
        let mut blobs = BTreeMap::new();
        extract_image_blobs(&mut case, &mut |bytes| {
            let hex = hex_sha256(&bytes);
            let path = format!("sha256/{hex}");
            blobs.insert(hex, bytes);
            path
        });
        for (hex, bytes) in &blobs {
            let path = dir.join("blobs").join("sha256").join(hex);
            if !path.exists() {
                write_file(&path, bytes)?;
            }
        }
        let mut text = serde_json::to_string_pretty(&case).map_err(|e| e.to_string())?;
        text.push('\n');
        write_file(
            &dir.join("cases").join(format!("{id}.json")),
            text.as_bytes(),
        )?;
        Ok(Some(expanded))
    }

    fn request_json(&self, dir: &Path) -> Result<Value, String> {
        let request = self.request;
        let mut out = Map::new();
        out.insert("method".into(), json!(request.method.to_ascii_uppercase()));
        out.insert("path".into(), json!(request.path));
        if let Some(query) = recorded_query(&request.query) {
            out.insert("query".into(), query);
        }
        let headers: Map<String, Value> = request
            .headers
            .iter()
            .filter(|(name, _)| kept_request_header(name.as_str()))
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), json!(value.to_str().ok()?)))
            })
            .collect();
        if !headers.is_empty() {
            out.insert("headers".into(), Value::Object(headers));
        }
        let auth = if request.query.iter().any(|(k, _)| k == "key") {
            Some("query")
        } else if SECRET_HEADERS[..2]
            .iter()
            .any(|h| request.headers.contains_key(*h))
        {
            None
        } else {
            Some("none")
        };
        if let Some(auth) = auth {
            out.insert("auth".into(), json!(auth));
        }
        if request.body.is_empty() {
            return Ok(Value::Object(out));
        }
        if let Ok(body) = serde_json::from_slice::<Value>(&request.body) {
            out.insert("body".into(), body);
        } else if let Ok(text) = std::str::from_utf8(&request.body) {
            out.insert("bodyText".into(), json!(text));
        } else {
            let hex = hex_sha256(&request.body);
            let path = dir.join("blobs").join("sha256").join(&hex);
            if !path.exists() {
                write_file(&path, &request.body)?;
            }
            out.insert("bodyBlob".into(), json!(format!("sha256/{hex}")));
        }
        Ok(Value::Object(out))
    }

    fn response_json(&self) -> Value {
        let answer = self.answer;
        let mut out = Map::new();
        out.insert("status".into(), json!(answer.status));
        let content_type = answer
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned());
        let mut headers = Map::new();
        if let Some(media) = &content_type {
            headers.insert("content-type".into(), json!(media));
        }
        for (name, value) in &answer.headers {
            if is_upload_header(name.as_str())
                && let Ok(value) = value.to_str()
            {
                headers.insert(
                    name.as_str().to_owned(),
                    json!(value.replace(self.upstream, PUBLIC_ORIGIN)),
                );
            }
        }
        if !headers.is_empty() {
            out.insert("headers".into(), Value::Object(headers));
        }
        let events = (content_type.as_deref() == Some("text/event-stream"))
            .then(|| parse_events(&answer.body))
            .flatten();
        if let Some(events) = events {
            out.insert("events".into(), Value::Array(events.events));
            if events.crlf {
                out.insert("lineEnding".into(), json!("crlf"));
            }
            if events.named {
                out.insert("sse".into(), json!("named"));
            }
        } else if let Ok(body) = serde_json::from_slice::<Value>(&answer.body) {
            out.insert("body".into(), body);
        } else if !answer.body.is_empty() {
            // Not JSON (and an empty body is no body at all).
            out.insert(
                "bodyText".into(),
                json!(String::from_utf8_lossy(&answer.body)),
            );
        }
        Value::Object(out)
    }

    /// Replaces every credential's text by `REDACTED`, wherever it is.
    fn scrub(&self, value: &mut Value) {
        if self.secrets.is_empty() {
            return;
        }
        match value {
            Value::String(text) => {
                for secret in &self.secrets {
                    if text.contains(secret.as_str()) {
                        *text = text.replace(secret.as_str(), "REDACTED");
                    }
                }
            }
            Value::Object(map) => map.values_mut().for_each(|v| self.scrub(v)),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub(v)),
            _ => {}
        }
    }

    /// The endpoint's name as a slug (`generatecontent`, `batches-get`) and the rule id of
    /// `fixtures/rules.json` the case exercises.
    fn endpoint(&self) -> (String, &'static str) {
        use nanobanana_wire::Endpoint as E;
        let Some(endpoint) = route(&self.request.method, &self.request.path).map(|m| m.endpoint())
        else {
            return ("request".to_owned(), "auth");
        };
        let rule = match endpoint {
            E::StreamGenerateContent => "streaming-sse",
            E::BatchCreate | E::BatchGet | E::BatchList | E::BatchCancel | E::BatchDelete => {
                "batch"
            }
            E::FileUpload | E::FileGet | E::FileList | E::FileDelete | E::FileDownload => "files",
            E::ModelGet | E::ModelList => "models",
            E::InteractionCreate
            | E::InteractionGet
            | E::InteractionDelete
            | E::InteractionCancel => "interactions-wire",
            E::GenerateContent => "auth",
        };
        let slug = endpoint
            .name()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        (slug, rule)
    }

    /// The SHA-256 (hex) of what identifies the request: method, path, query without the key,
    /// body.
    fn request_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.request.method.as_bytes());
        hasher.update(b" ");
        hasher.update(self.request.path.as_bytes());
        for (k, v) in self.request.query.iter().filter(|(k, _)| k != "key") {
            hasher.update(format!("&{k}={v}").as_bytes());
        }
        hasher.update(b"\n");
        hasher.update(&self.request.body);
        hex(&hasher.finalize())
    }
}

/// The first `<prefix>-<nnn>` with no case file yet under `dir/cases/`.
fn free_id(dir: &Path, prefix: &str) -> Result<String, String> {
    for n in 1..10_000u32 {
        let id = format!("{prefix}-{n:03}");
        if !dir.join("cases").join(format!("{id}.json")).exists() {
            return Ok(id);
        }
    }
    Err(format!(
        "{} already holds 9999 recordings of one request",
        dir.join("cases").display()
    ))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The events of a server-sent-event stream.
struct Events {
    events: Vec<Value>,
    crlf: bool,
    named: bool,
}

/// The JSON of each event's `data:` lines; `None` when the text is not such a stream (a data
/// that is not JSON), so it is recorded as text instead.
fn parse_events(body: &[u8]) -> Option<Events> {
    let text = std::str::from_utf8(body).ok()?;
    let crlf = text.contains("\r\n");
    let mut events = Vec::new();
    let mut named = false;
    for block in text.replace("\r\n", "\n").split("\n\n") {
        let mut data = String::new();
        for line in block.lines() {
            if let Some(rest) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            } else if line.starts_with("event:") {
                named = true;
            }
        }
        if !data.is_empty() {
            events.push(serde_json::from_str(&data).ok()?);
        }
    }
    Some(Events {
        events,
        crlf,
        named,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_encoded_again() {
        let query = vec![
            ("alt".to_owned(), "sse".to_owned()),
            ("pageToken".to_owned(), "a b/=".to_owned()),
        ];
        assert_eq!(query_string(&query), "?alt=sse&pageToken=a%20b%2F%3D");
        assert_eq!(query_string(&[]), "");
    }

    #[test]
    fn events_keep_their_line_ending_and_framing() {
        let events = parse_events(b"data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\r\n\r\n").unwrap();
        assert_eq!(events.events, vec![json!({"a": 1}), json!({"b": 2})]);
        assert!(events.crlf && !events.named);
        let named = parse_events(b"event: x\ndata: {\"event_type\":\"x\"}\n\n").unwrap();
        assert!(named.named && !named.crlf);
        assert!(parse_events(b"data: not json\n\n").is_none());
    }
}
