//! Recording: replay a case's requests against a live service and write what it answered as a
//! `recorded` case in the corpus format, with its images as blobs and its volatile values
//! redacted.
//!
//! What is redacted, and how:
//!
//! - **The API key** never reaches the file: requests are written without `x-goog-api-key` and
//!   without a `key` query parameter (the case keeps `auth` to say how the key travelled), and any
//!   occurrence of the key's text anywhere in the recording is replaced by `REDACTED`.
//! - **Volatile ids** are replaced by stable placeholders derived from the case id and their
//!   order of appearance, consistently in every request and answer of the case: `responseId`
//!   (23 URL-safe characters), file names `files/…` (12 characters), batch names `batches/…`
//!   (40 characters) and resumable `upload_id`s. Re-recording a case therefore changes only what
//!   the service really answered differently.
//! - **Timestamps** (`createTime`, `updateTime`, `expirationTime`, `startTime`, `endTime`) become
//!   `2026-01-01T00:MM:SSZ`, keeping their order.
//! - **The server's origin** in URLs it answered with (`uri`, `x-goog-upload-url`) becomes the
//!   public `https://generativelanguage.googleapis.com`, as in every other case.
//! - **Response headers** are kept only where a client relies on them: `content-type` (its media
//!   type, without parameters such as `charset`) and `x-goog-upload-*` (no dates, server names or
//!   trace ids).
//!
//! Kept as answered: **thought signatures** (they are opaque, not secret, and a recorded chat only
//! replays if the later turns send back exactly the signatures the earlier answers hold), texts,
//! usage, `modelVersion`, file hashes, and the images (as content-addressed blobs).
//!
//! The `expect` block keeps the source case's validator verdict (`valid`, `violations`,
//! `warnings`) and derives everything else from the recorded answers
//! ([`derive_expect`](crate::derive_expect)).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use nanobanana_wire::corpus::{extract_image_blobs, recorded_query};

use crate::exchange::Outgoing;
use crate::http::{PUBLIC_BASE_URL, Sender, Target};
use crate::observe::{Answer, Payload, derive_expect};
use crate::server::exchange_case;
use crate::suite::{Auth, Suite, SuiteError};

/// Where a recording went and what to know about it.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The case file written.
    pub case_path: PathBuf,
    /// Blob files written (content-addressed; existing ones are left as they are).
    pub blobs: Vec<PathBuf>,
    /// Interactions recorded.
    pub interactions: usize,
    /// Where the answers differ from what the source case expects (the recording is written
    /// all the same: the service may have changed).
    pub findings: Vec<String>,
}

/// Replays the requests of case `id` against `target` and writes a recorded case under `out`
/// (`out/cases/<id>.json`, `out/blobs/sha256/<hex>`), the layout of `fixtures/`.
pub async fn record_case(
    suite: &Suite,
    id: &str,
    target: &Target,
    out: &Path,
) -> Result<Recording, SuiteError> {
    let case = suite
        .case(id)
        .ok_or_else(|| SuiteError(format!("no case {id:?} in the suite")))?;
    let sender = Sender::new(target.clone()).map_err(SuiteError)?;
    let exchanged = exchange_case(&sender, suite, case).await;
    if exchanged.answers.is_empty() {
        return Err(SuiteError(format!(
            "nothing to record for {id}: {}",
            exchanged.findings.join("; ")
        )));
    }
    let source_file = suite
        .corpus()
        .root()
        .join("cases")
        .join(format!("{id}.json"));
    let source: Value = fs::read(&source_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);

    let mut interactions = Vec::new();
    for (index, (request, answer)) in exchanged
        .requests
        .iter()
        .zip(&exchanged.answers)
        .enumerate()
    {
        let source = &case.case().interactions[index];
        let mut interaction = interaction_json(source.name.clone(), request, answer);
        if !source.ignore.is_empty()
            && let Some(map) = interaction.as_object_mut()
        {
            map.insert("ignore".into(), json!(source.ignore));
        }
        interactions.push(interaction);
    }
    let mut interactions = Value::Array(interactions);
    let mut redactor = Redactor::new(id, target);
    redactor.collect(&exchanged.answers);
    redactor.apply(&mut interactions);

    let mut blobs = BTreeMap::new();
    extract_image_blobs(&mut interactions, &mut |bytes| {
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = format!("sha256/{hex}");
        blobs.insert(hex, bytes);
        path
    });
    for (index, interaction) in case.case().interactions.iter().enumerate() {
        if let Some(reference) = &interaction.request.body_blob
            && index < exchanged.requests.len()
        {
            let bytes = suite
                .corpus()
                .blob(reference)
                .map_err(|e| SuiteError(e.to_string()))?;
            blobs.insert(reference.trim_start_matches("sha256/").to_owned(), bytes);
            if let Some(request) = interactions
                .get_mut(index)
                .and_then(|i| i.get_mut("request"))
                .and_then(Value::as_object_mut)
            {
                request.remove("bodyText");
                request.insert("bodyBlob".into(), Value::String(reference.clone()));
            }
        }
    }

    // The expectations, from the answers as they will be read back (blobs expanded again).
    let recorded_answers: Vec<Answer> = exchanged
        .answers
        .iter()
        .map(|a| {
            let mut a = a.clone();
            redactor.apply_answer(&mut a);
            a
        })
        .collect();
    let expect = derive_expect(&recorded_answers, case.expect());

    let mut file = Map::new();
    file.insert("$schema".into(), json!("../../schema/case.schema.json"));
    file.insert("id".into(), json!(id));
    file.insert("description".into(), json!(case.case().description));
    file.insert("provenance".into(), json!("recorded"));
    file.insert("serviceDate".into(), json!(today()));
    file.insert(
        "source".into(),
        json!(format!(
            "recorded on {} from {} by `nanobanana-conformance record`, replaying the requests of case {id}",
            today(),
            host_of(target.base_url())
        )),
    );
    file.insert("required".into(), json!(case.is_required()));
    if let Some(targets) = source.get("targets") {
        file.insert("targets".into(), targets.clone());
    }
    file.insert("rules".into(), json!(case.case().rules));
    if !case.case().tags.is_empty() {
        file.insert("tags".into(), json!(case.case().tags));
    }
    file.insert("interactions".into(), interactions);
    file.insert(
        "expect".into(),
        serde_json::to_value(&expect).map_err(|e| SuiteError(e.to_string()))?,
    );
    let mut file = Value::Object(file);
    redactor.scrub_key(&mut file);

    let case_path = out.join("cases").join(format!("{id}.json"));
    let write = |path: &Path, bytes: &[u8]| -> Result<(), SuiteError> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)
                .map_err(|e| SuiteError(format!("cannot create {}: {e}", dir.display())))?;
        }
        fs::write(path, bytes)
            .map_err(|e| SuiteError(format!("cannot write {}: {e}", path.display())))
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| SuiteError(e.to_string()))?;
    text.push('\n');
    write(&case_path, text.as_bytes())?;
    let mut written = Vec::new();
    for (hex, bytes) in &blobs {
        let path = out.join("blobs").join("sha256").join(hex);
        if !path.exists() {
            write(&path, bytes)?;
        }
        written.push(path);
    }
    Ok(Recording {
        case_path,
        blobs: written,
        interactions: exchanged.answers.len(),
        findings: exchanged.findings,
    })
}

fn interaction_json(name: Option<String>, request: &Outgoing, answer: &Answer) -> Value {
    let mut req = Map::new();
    req.insert("method".into(), json!(request.method));
    req.insert("path".into(), json!(request.path));
    if let Some(query) = recorded_query(&request.query) {
        req.insert("query".into(), query);
    }
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "x-goog-api-key" | "authorization"))
        .map(|(k, v)| (k.to_ascii_lowercase(), json!(v)))
        .collect();
    if !headers.is_empty() {
        req.insert("headers".into(), Value::Object(headers));
    }
    if request.auth != Auth::Header {
        req.insert("auth".into(), json!(request.auth.as_str()));
    }
    if let Some(body) = &request.json {
        req.insert("body".into(), body.clone());
    } else if let Some(body) = &request.body {
        req.insert(
            "bodyText".into(),
            json!(String::from_utf8_lossy(body).into_owned()),
        );
    }
    let mut resp = Map::new();
    resp.insert("status".into(), json!(answer.status));
    let headers: Map<String, Value> = answer
        .headers
        .iter()
        .filter(|(k, _)| k.as_str() == "content-type" || k.starts_with("x-goog-upload-"))
        .map(|(k, v)| {
            // The media type only, as the corpus writes it (`application/json`, not
            // `application/json; charset=UTF-8`).
            let v = if k == "content-type" {
                v.split(';').next().unwrap_or_default().trim()
            } else {
                v.as_str()
            };
            (k.clone(), json!(v))
        })
        .collect();
    if !headers.is_empty() {
        resp.insert("headers".into(), Value::Object(headers));
    }
    match &answer.payload {
        Payload::Json(body) => {
            resp.insert("body".into(), body.clone());
        }
        Payload::Events(events) => {
            resp.insert("events".into(), json!(events));
        }
        Payload::Text(text) => {
            resp.insert("bodyText".into(), json!(text));
        }
        Payload::Empty => {}
    }
    let mut out = Map::new();
    if let Some(name) = name {
        out.insert("name".into(), json!(name));
    }
    out.insert("request".into(), Value::Object(req));
    out.insert("response".into(), Value::Object(resp));
    Value::Object(out)
}

/// Volatile values of a recording and their placeholders.
struct Redactor {
    case_id: String,
    key: String,
    origin: String,
    /// Original -> placeholder, substituted inside any string; longest original first, so an
    /// id that contains another is replaced whole.
    ids: Vec<(String, String)>,
    /// Original timestamp -> placeholder, substituted as whole values.
    times: BTreeMap<String, String>,
}

const TIME_FIELDS: &[&str] = &[
    "createTime",
    "updateTime",
    "expirationTime",
    "startTime",
    "endTime",
];

impl Redactor {
    fn new(case_id: &str, target: &Target) -> Self {
        Self {
            case_id: case_id.to_owned(),
            key: target.api_key().to_owned(),
            origin: origin_of(target.base_url()),
            ids: Vec::new(),
            times: BTreeMap::new(),
        }
    }

    fn placeholder(&self, kind: &str, ordinal: usize, len: usize, alphabet: &[u8]) -> String {
        let mut out = String::with_capacity(len);
        let mut round = 0u32;
        while out.len() < len {
            let digest = Sha256::digest(
                format!(
                    "nanobanana-record:{}:{kind}:{ordinal}:{round}",
                    self.case_id
                )
                .as_bytes(),
            );
            for byte in digest {
                if out.len() < len {
                    out.push(char::from(alphabet[usize::from(byte) % alphabet.len()]));
                }
            }
            round += 1;
        }
        out
    }

    fn collect(&mut self, answers: &[Answer]) {
        const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut names = BTreeSet::new();
        let mut response_ids = Vec::new();
        let mut upload_ids = Vec::new();
        let mut times = BTreeSet::new();
        let mut ids = BTreeMap::new();
        for answer in answers {
            let values: Vec<&Value> = match &answer.payload {
                Payload::Json(v) => vec![v],
                Payload::Events(events) => events.iter().collect(),
                _ => Vec::new(),
            };
            for value in values {
                walk_strings(value, &mut |key, text| match key {
                    "name" if text.starts_with("files/") || text.starts_with("batches/") => {
                        names.insert(text.to_owned());
                    }
                    "responseId" if !response_ids.iter().any(|r: &String| r == text) => {
                        response_ids.push(text.to_owned());
                    }
                    k if TIME_FIELDS.contains(&k) => {
                        times.insert(text.to_owned());
                    }
                    _ => {}
                });
            }
            if let Some(url) = answer.header("x-goog-upload-url")
                && let Some((_, query)) = url.split_once('?')
            {
                for pair in query.split('&') {
                    if let Some(("upload_id", value)) = pair.split_once('=')
                        && !upload_ids.iter().any(|u: &String| u == value)
                    {
                        upload_ids.push(value.to_owned());
                    }
                }
            }
        }
        for (ordinal, name) in names.iter().enumerate() {
            let (prefix, len) = if name.starts_with("files/") {
                ("files/", 12)
            } else {
                ("batches/", 40)
            };
            let placeholder = format!("{prefix}{}", self.placeholder(prefix, ordinal, len, LOWER));
            ids.insert(name.clone(), placeholder);
        }
        for (ordinal, id) in response_ids.iter().enumerate() {
            let placeholder = self.placeholder("responseId", ordinal, 23, URL_SAFE);
            ids.insert(id.clone(), placeholder);
        }
        for (ordinal, id) in upload_ids.iter().enumerate() {
            let placeholder = self.placeholder("upload_id", ordinal, 64, URL_SAFE);
            ids.insert(id.clone(), placeholder);
        }
        self.ids = ids.into_iter().collect();
        self.ids
            .sort_by_key(|(original, _)| std::cmp::Reverse(original.len()));
        for (rank, time) in times.iter().enumerate() {
            self.times.insert(
                time.clone(),
                format!(
                    "2026-01-01T{:02}:{:02}:{:02}Z",
                    rank / 3600 % 24,
                    rank / 60 % 60,
                    rank % 60
                ),
            );
        }
    }

    fn redact_string(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if !self.origin.is_empty() && self.origin != PUBLIC_BASE_URL {
            out = out.replace(&self.origin, PUBLIC_BASE_URL);
        }
        for (original, placeholder) in &self.ids {
            if out.contains(original.as_str()) {
                out = out.replace(original.as_str(), placeholder);
            }
        }
        out
    }

    fn apply(&self, value: &mut Value) {
        self.apply_at(value, "");
    }

    fn apply_at(&self, value: &mut Value, key: &str) {
        match value {
            Value::String(s) => {
                if TIME_FIELDS.contains(&key)
                    && let Some(placeholder) = self.times.get(s.as_str())
                {
                    *s = placeholder.clone();
                } else if !matches!(key, "data" | "thoughtSignature") {
                    *s = self.redact_string(s);
                }
            }
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.apply_at(v, k);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.apply_at(v, key)),
            _ => {}
        }
    }

    fn apply_answer(&self, answer: &mut Answer) {
        match &mut answer.payload {
            Payload::Json(v) => self.apply(v),
            Payload::Events(events) => events.iter_mut().for_each(|e| self.apply(e)),
            _ => {}
        }
    }

    /// Replaces the key's text wherever it is.
    fn scrub_key(&self, value: &mut Value) {
        if self.key.is_empty() {
            return;
        }
        match value {
            Value::String(s) if s.contains(&self.key) => *s = s.replace(&self.key, "REDACTED"),
            Value::Object(map) => map.values_mut().for_each(|v| self.scrub_key(v)),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_key(v)),
            _ => {}
        }
    }
}

fn walk_strings(value: &Value, f: &mut impl FnMut(&str, &str)) {
    fn go(value: &Value, key: &str, f: &mut impl FnMut(&str, &str)) {
        match value {
            Value::String(s) => f(key, s),
            Value::Object(map) => map.iter().for_each(|(k, v)| go(v, k, f)),
            Value::Array(items) => items.iter().for_each(|v| go(v, key, f)),
            _ => {}
        }
    }
    go(value, "", f);
}

fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or_default();
            format!("{scheme}://{host}")
        }
        None => String::new(),
    }
}

fn host_of(url: &str) -> String {
    origin_of(url)
        .split_once("://")
        .map(|(_, h)| h.to_owned())
        .unwrap_or_else(|| url.to_owned())
}

/// Today's date (UTC) as `YYYY-MM-DD`.
fn today() -> String {
    nanobanana_transport::rules::Date::today().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(origin_of("http://127.0.0.1:9/prefix"), "http://127.0.0.1:9");
        assert_eq!(
            host_of(PUBLIC_BASE_URL),
            "generativelanguage.googleapis.com"
        );
    }
}
