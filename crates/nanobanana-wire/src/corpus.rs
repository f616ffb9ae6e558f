//! The fixture corpus (`fixtures/`): language-agnostic case files of recorded or written
//! interactions, with image bytes stored once under `fixtures/blobs/sha256/`.
//!
//! This module reads the format described by `fixtures/schema/case.schema.json`. Bodies stay
//! [`serde_json::Value`]s, because cases deliberately hold requests the service rejects; decode
//! them into the typed wire structs with [`BodyType`](crate::BodyType) or `serde_json`.
//! Blob references (`{"$blob": "sha256/<hex>"}`) are expanded into standard base64 strings when a
//! corpus is loaded, so bodies look exactly as they do on the wire.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Base64Bytes;

/// Where a case came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provenance {
    /// Transcribed from the official guide's examples.
    Docs,
    /// Written here to the documented wire format.
    Synthetic,
    /// Captured from the live service.
    Recorded,
}

/// One scenario: an ordered list of interactions and what they exercise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    /// `<area>/<slug>`, equal to the file's path under `fixtures/cases/` without `.json`.
    pub id: String,
    /// What the case shows.
    pub description: String,
    /// Rule ids of `fixtures/rules.json` the case exercises.
    pub rules: Vec<String>,
    /// Where the case came from.
    pub provenance: Provenance,
    /// The date of the service the case records (`YYYY-MM-DD`): model lifecycle and
    /// date-dependent behaviour are evaluated at this date. Every case of the corpus has one
    /// (the schema requires it); a case written without one reads as empty, which readers take
    /// as today's service.
    #[serde(default)]
    pub service_date: String,
    /// Free-text source (guide section, WIRE.md heading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Conformance level: required unless `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The exchanges, in order.
    pub interactions: Vec<Interaction>,
    /// Expected outcomes beyond the recorded answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Value>,
}

impl Case {
    /// Whether every implementation must pass this case.
    pub fn is_required(&self) -> bool {
        self.required.unwrap_or(true)
    }
}

/// One request and the answer to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interaction {
    /// Optional label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the client sends.
    pub request: RecordedRequest,
    /// What the server answers.
    pub response: RecordedResponse,
    /// JSON pointers into the request body that a replaying server ignores when matching.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
}

/// A request as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Query parameters (never the API key).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    /// Headers, lower-case names (never the API key).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Non-JSON text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// Binary body, as a blob path (`sha256/<hex>`); see [`Corpus::blob`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_blob: Option<String>,
}

/// SSE line ending of a recorded stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    /// `\n` (what the service sends).
    #[default]
    Lf,
    /// `\r\n`.
    Crlf,
}

/// A response as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, lower-case names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Non-JSON text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// Server-sent events: the JSON of each `data:` line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<Value>>,
    /// SSE line ending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_ending: Option<LineEnding>,
    /// How the events are framed: data-only lines (generateContent, the default) or named
    /// events (the Interactions API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<SseFraming>,
}

/// The framing of a recorded event stream (`fixtures/README.md`, Streams).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SseFraming {
    /// `data: <json>` and a blank line per event (generateContent's `alt=sse`).
    Data,
    /// `event: <event_type>`, `data: <json>` and a blank line per event (the Interactions API).
    Named,
}

/// A loaded corpus: every case, blobs expanded, plus the blob store.
#[derive(Clone, Debug)]
pub struct Corpus {
    root: PathBuf,
    cases: Vec<Case>,
}

/// Why a corpus could not be loaded.
#[derive(Debug)]
pub struct CorpusError {
    path: PathBuf,
    detail: String,
}

impl CorpusError {
    fn new(path: &Path, detail: impl fmt::Display) -> Self {
        Self {
            path: path.to_path_buf(),
            detail: detail.to_string(),
        }
    }

    /// The file the problem is in.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.detail)
    }
}

impl std::error::Error for CorpusError {}

impl Corpus {
    /// The corpus that ships in this repository (`fixtures/` at the workspace root), for tests.
    pub fn repository_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
    }

    /// Loads every case under `root/cases/`, sorted by id, expanding blob references.
    pub fn load(root: impl AsRef<Path>) -> Result<Self, CorpusError> {
        Self::load_from(root.as_ref(), "cases", "")
    }

    /// Loads the Interactions API vectors under `root/interactions/` (ids `interactions/<slug>`),
    /// the same way ([`Corpus::load_all`] reads them with the cases).
    pub fn load_interactions(root: impl AsRef<Path>) -> Result<Self, CorpusError> {
        Self::load_from(root.as_ref(), "interactions", "interactions/")
    }

    /// Loads the cases under `root/cases/` and the Interactions API vectors under
    /// `root/interactions/` (when that directory exists) as one corpus, sorted by id: what a
    /// replaying server serves and the conformance suite runs.
    pub fn load_all(root: impl AsRef<Path>) -> Result<Self, CorpusError> {
        let root = root.as_ref();
        let mut corpus = Self::load(root)?;
        if root.join("interactions").is_dir() {
            corpus.cases.extend(Self::load_interactions(root)?.cases);
            corpus.cases.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Ok(corpus)
    }

    /// The file a case of this corpus was loaded from: `cases/<id>.json`, or
    /// `interactions/<slug>.json` for an Interactions API vector (id `interactions/<slug>`).
    pub fn case_path(&self, id: &str) -> PathBuf {
        match id.strip_prefix("interactions/") {
            Some(slug) => self.root.join("interactions").join(format!("{slug}.json")),
            None => self.root.join("cases").join(format!("{id}.json")),
        }
    }

    fn load_from(root: &Path, dir: &str, id_prefix: &str) -> Result<Self, CorpusError> {
        let root = root.to_path_buf();
        let mut files = Vec::new();
        collect_json(&root.join(dir), &mut files)?;
        files.sort();
        let mut cases = Vec::with_capacity(files.len());
        for file in &files {
            let bytes = fs::read(file).map_err(|e| CorpusError::new(file, e))?;
            let mut case: Case =
                serde_json::from_slice(&bytes).map_err(|e| CorpusError::new(file, e))?;
            let expected_id = file
                .strip_prefix(root.join(dir))
                .ok()
                .and_then(|p| p.to_str())
                .map(|p| {
                    format!(
                        "{id_prefix}{}",
                        p.trim_end_matches(".json").replace('\\', "/")
                    )
                });
            if expected_id.as_deref() != Some(case.id.as_str()) {
                return Err(CorpusError::new(
                    file,
                    format!(
                        "case id {:?} does not match the file's path {:?}",
                        case.id, expected_id
                    ),
                ));
            }
            let expand = |value: &mut Value| {
                expand_blobs(value, &root).map_err(|e| CorpusError::new(file, e))
            };
            for interaction in &mut case.interactions {
                if let Some(body) = &mut interaction.request.body {
                    expand(body)?;
                }
                if let Some(body) = &mut interaction.response.body {
                    expand(body)?;
                }
                for event in interaction.response.events.iter_mut().flatten() {
                    expand(event)?;
                }
            }
            cases.push(case);
        }
        cases.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Self { root, cases })
    }

    /// Every case, sorted by id.
    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// The case with this id.
    pub fn case(&self, id: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.id == id)
    }

    /// The bytes of a blob, by its path (`sha256/<hex>`).
    pub fn blob(&self, path: &str) -> Result<Vec<u8>, CorpusError> {
        read_blob(&self.root, path)
            .map_err(|e| CorpusError::new(&self.root.join("blobs").join(path), e))
    }

    /// The corpus directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CorpusError> {
    for entry in fs::read_dir(dir).map_err(|e| CorpusError::new(dir, e))? {
        let path = entry.map_err(|e| CorpusError::new(dir, e))?.path();
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_blob(root: &Path, path: &str) -> Result<Vec<u8>, String> {
    let valid = path.strip_prefix("sha256/").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if !valid {
        return Err(format!(
            "blob path {path:?} is not of the form sha256/<64 lower-case hex digits>"
        ));
    }
    fs::read(root.join("blobs").join(path)).map_err(|e| format!("blob {path}: {e}"))
}

/// The `query` of a recorded request (a JSON object of strings): every parameter but the API
/// key (`key`), which no case may hold; `None` when nothing is left.
pub fn recorded_query(query: &[(String, String)]) -> Option<Value> {
    let map: serde_json::Map<String, Value> = query
        .iter()
        .filter(|(k, _)| k != "key")
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    (!map.is_empty()).then_some(Value::Object(map))
}

/// The inverse of [`expand_blobs`]: replaces every base64 image below `value` (an
/// `inlineData`/`inline_data` whose `data` decodes to a PNG or JPEG with a readable size) with a
/// `{"$blob": "<path>"}` reference, where `store` keeps the bytes and returns their blob path
/// (`sha256/<hex>`, the SHA-256 of the bytes). What recorders write.
pub fn extract_image_blobs(value: &mut Value, store: &mut dyn FnMut(Vec<u8>) -> String) {
    match value {
        Value::Object(map) => {
            for key in ["inlineData", "inline_data"] {
                if let Some(Value::Object(blob)) = map.get_mut(key)
                    && let Some(Value::String(text)) = blob.get("data")
                    && let Ok(bytes) = Base64Bytes::from_base64(text)
                    && is_png_or_jpeg(bytes.as_slice())
                {
                    let path = store(bytes.into_vec());
                    blob.insert("data".into(), serde_json::json!({ "$blob": path }));
                }
            }
            map.values_mut().for_each(|v| extract_image_blobs(v, store));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| extract_image_blobs(v, store)),
        _ => {}
    }
}

fn is_png_or_jpeg(bytes: &[u8]) -> bool {
    use crate::media::{ImageFormat, dimensions};
    matches!(
        ImageFormat::detect(bytes),
        Some(ImageFormat::Png | ImageFormat::Jpeg)
    ) && dimensions(bytes).is_some()
}

/// Replaces every `{"$blob": "sha256/<hex>"}` below `value` with the blob's standard base64.
pub fn expand_blobs(value: &mut Value, root: &Path) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(path)) = map.get("$blob")
            {
                let bytes = read_blob(root, path)?;
                *value = Value::String(Base64Bytes::new(bytes).to_base64());
                return Ok(());
            }
            for v in map.values_mut() {
                expand_blobs(v, root)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|v| expand_blobs(v, root)),
        _ => Ok(()),
    }
}
