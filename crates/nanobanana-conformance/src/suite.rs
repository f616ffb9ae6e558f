//! The vectors: the fixture corpus read as a conformance suite (cases, their level, which
//! implementations they check, how each request is authenticated, and what must be observed).

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use nanobanana_rules::OutcomeKind;
use nanobanana_wire::corpus::{Case, Corpus};

/// A problem with the suite itself (a file that cannot be read, a case that does not parse).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuiteError(pub(crate) String);

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SuiteError {}

/// The loaded suite: every case of a fixture directory, blobs expanded.
#[derive(Clone, Debug)]
pub struct Suite {
    corpus: Corpus,
    version: String,
    cases: Vec<SuiteCase>,
}

/// One case with the conformance facts the wire crate's [`Case`] does not carry.
#[derive(Clone, Debug)]
pub struct SuiteCase {
    case: Case,
    targets: Targets,
    auth: Vec<Auth>,
    expect: Expect,
}

/// Which implementations a case can check (`targets` in the case file; both unless said).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Targets {
    /// A client pointed at a server replaying the case must reach the expected outcome.
    pub client: bool,
    /// A server sent the case's requests must answer as expected.
    pub server: bool,
}

/// How the API key travels with one request (`request.auth` in the case file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// In the `x-goog-api-key` header (the default).
    #[default]
    Header,
    /// In the `key` query parameter.
    Query,
    /// No key at all (a missing-key case, or a resumable upload chunk).
    None,
    /// A key the server does not accept.
    Invalid,
}

impl Auth {
    /// `header`, `query`, `none` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::Header => "header",
            Auth::Query => "query",
            Auth::None => "none",
            Auth::Invalid => "invalid",
        }
    }
}

/// What a caller can conclude from an answer (`expect.outcome`, in the vocabulary of
/// `fixtures/tools/expect.py`): a model answer of one of the rules' outcome kinds, an error, a
/// resource, or a model answer the case files do not name more finely. Written as the kind's
/// name (`images`, `text-only`, `no-image`, `image-safety`, `image-prohibited-content`,
/// `blocked-prompt`), `error`, `resource` or `other`.
///
/// The names are the rules crate's [`OutcomeKind`]; the observation that reaches them is this
/// crate's own (JSON level), so a classification bug cannot hide on both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Conclusion {
    /// A model answer of this kind (one of [`Conclusion::ANSWER_KINDS`]).
    Answer(OutcomeKind),
    /// An error answer (an error body, or an error event in a stream).
    Error,
    /// Not a model answer: a file, a batch operation, a model, a list.
    Resource,
    /// A model answer that is none of the named kinds (e.g. `IMAGE_RECITATION`).
    Other,
}

impl Conclusion {
    /// The outcome kinds the case files name.
    pub const ANSWER_KINDS: &'static [OutcomeKind] = &[
        OutcomeKind::Images,
        OutcomeKind::TextOnly,
        OutcomeKind::NoImage,
        OutcomeKind::ImageSafety,
        OutcomeKind::ImageProhibitedContent,
        OutcomeKind::BlockedPrompt,
    ];

    /// At least one final (non-thought) image.
    pub const IMAGES: Conclusion = Conclusion::Answer(OutcomeKind::Images);

    /// The spelling of the case files, e.g. `text-only`.
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Answer(kind) => kind.as_str(),
            Conclusion::Error => "error",
            Conclusion::Resource => "resource",
            Conclusion::Other => "other",
        }
    }

    /// The conclusion of a case file's spelling.
    pub fn from_name(name: &str) -> Option<Conclusion> {
        match name {
            "error" => Some(Conclusion::Error),
            "resource" => Some(Conclusion::Resource),
            "other" => Some(Conclusion::Other),
            _ => OutcomeKind::from_name(name)
                .filter(|kind| Conclusion::ANSWER_KINDS.contains(kind))
                .map(Conclusion::Answer),
        }
    }
}

impl fmt::Display for Conclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Conclusion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Conclusion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Conclusion::from_name(&name).ok_or_else(|| {
            let mut allowed: Vec<&str> = Conclusion::ANSWER_KINDS
                .iter()
                .map(|kind| kind.as_str())
                .collect();
            allowed.extend(["error", "resource", "other"]);
            serde::de::Error::custom(format!(
                "unknown outcome {name:?}: allowed are {}",
                allowed.join(", ")
            ))
        })
    }
}

/// `{code, status, message}` of an error answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorFacts {
    /// The `code` field (the HTTP status, or a canonical code in a batch item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// The `status` field, e.g. `INVALID_ARGUMENT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The `message` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Whether an image is a thought (interim) image or a final one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    /// A `thought: true` part.
    Thought,
    /// Any other image part.
    Final,
}

/// One decoded image of an answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageFacts {
    /// Thought or final.
    pub kind: ImageKind,
    /// Pixel width from the PNG or JPEG header.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// The format the bytes are in (`image/png`, `image/jpeg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

impl fmt::Display for ImageFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ImageKind::Thought => "thought",
            ImageKind::Final => "final",
        };
        write!(f, "{kind} {}x{}", self.width, self.height)?;
        if let Some(mime) = &self.mime_type {
            write!(f, " {mime}")?;
        }
        Ok(())
    }
}

/// A broken signature rule (SPEC.md §4) at a part of a model answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFinding {
    /// `response-image-signed`, `response-first-part-signed`, `response-thought-unsigned` or
    /// `response-later-text-unsigned`.
    pub rule: String,
    /// 0-based part position (in the concatenated parts, for a stream).
    pub part: usize,
    /// 0-based interaction; 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<usize>,
}

/// The verdict of the signature rules on every model answer of a case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureVerdict {
    /// No rule is broken.
    pub ok: bool,
    /// The broken rules, in any order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<SignatureFinding>,
}

/// Facts of candidate 0's `groundingMetadata`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroundingFacts {
    /// `groundingChunks` with a `web` source.
    pub web_chunks: usize,
    /// `groundingChunks` with an `image` source.
    pub image_chunks: usize,
    /// `groundingSupports`.
    pub supports: usize,
    /// Whether `searchEntryPoint.renderedContent` is there.
    pub search_entry_point: bool,
    /// `webSearchQueries`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub web_search_queries: Vec<String>,
    /// `imageSearchQueries`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_search_queries: Vec<String>,
}

/// A violation the validator reports on a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedViolation {
    /// The rule id.
    pub rule: String,
    /// RFC 6901 pointer into the request body (camelCase).
    pub path: String,
    /// The interaction whose request breaks it; 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<usize>,
}

/// A case's `expect` block. The validator's verdict (`valid`, `violations`, `warnings`) is written
/// by hand; the rest is derived from the recorded answers (`fixtures/tools/expect.py`, and
/// [`observe`](crate::observe) in Rust, which the suite's tidy test holds to the same values).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expect {
    /// Whether the requests keep every request rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
    /// The violations of an invalid request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<ExpectedViolation>,
    /// Rule ids reported at warning level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// HTTP status of the last answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What the last answer amounts to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Conclusion>,
    /// Candidate 0's finish reason in the last answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// The last answer's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorFacts>,
    /// The images of the last answer, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageFacts>,
    /// The signature verdict on every model answer of the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signatures: Option<SignatureVerdict>,
    /// Grounding facts of the last answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grounding: Option<GroundingFacts>,
    /// The state of the batch operation the last answer describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_state: Option<String>,
}

/// The part of a case file the wire crate's [`Case`] leaves out.
#[derive(Deserialize)]
struct Extra {
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    interactions: Vec<ExtraInteraction>,
}

#[derive(Deserialize)]
struct ExtraInteraction {
    request: ExtraRequest,
}

#[derive(Deserialize)]
struct ExtraRequest {
    #[serde(default)]
    auth: Option<Auth>,
}

impl Suite {
    /// The suite of this repository (`fixtures/` at the workspace root).
    pub fn repository_dir() -> PathBuf {
        Corpus::repository_dir()
    }

    /// Loads every case under `root/cases/` and the Interactions API vectors under
    /// `root/interactions/` (sorted by id), and `root/VERSION`.
    pub fn load(root: impl AsRef<Path>) -> Result<Self, SuiteError> {
        let root = root.as_ref();
        let corpus = Corpus::load_all(root).map_err(|e| SuiteError(e.to_string()))?;
        let version = fs::read_to_string(root.join("VERSION"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|_| "unversioned".to_owned());
        let mut cases = Vec::with_capacity(corpus.cases().len());
        for case in corpus.cases() {
            let path = corpus.case_path(&case.id);
            let bytes =
                fs::read(&path).map_err(|e| SuiteError(format!("{}: {e}", path.display())))?;
            cases.push(SuiteCase::from_parts(case.clone(), &bytes, &path)?);
        }
        Ok(Self {
            corpus,
            version,
            cases,
        })
    }

    /// The suite's version (`fixtures/VERSION`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every case, sorted by id.
    pub fn cases(&self) -> &[SuiteCase] {
        &self.cases
    }

    /// The case with this id.
    pub fn case(&self, id: &str) -> Option<&SuiteCase> {
        self.cases.iter().find(|c| c.id() == id)
    }

    /// The cases a selector names: an exact id, or an area prefix ending in `/`
    /// (`generate/`). Fails with the known areas when nothing matches.
    pub fn select(&self, selector: &str) -> Result<Vec<&SuiteCase>, SuiteError> {
        let chosen: Vec<&SuiteCase> = self
            .cases
            .iter()
            .filter(|c| {
                c.id() == selector || (selector.ends_with('/') && c.id().starts_with(selector))
            })
            .collect();
        if chosen.is_empty() {
            let mut areas: Vec<&str> = self
                .cases
                .iter()
                .filter_map(|c| c.id().split('/').next())
                .collect();
            areas.dedup();
            return Err(SuiteError(format!(
                "no case {selector:?}: give a case id such as {:?}, or an area followed by '/' (one of {})",
                self.cases
                    .first()
                    .map(|c| c.id())
                    .unwrap_or("generate/text-to-image-pro"),
                areas
                    .iter()
                    .map(|a| format!("{a}/"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(chosen)
    }

    /// The underlying corpus (blobs, the directory).
    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }
}

impl SuiteCase {
    /// A case from the wire crate's [`Case`] and its file's bytes (for the fields it leaves out).
    pub(crate) fn from_parts(case: Case, bytes: &[u8], path: &Path) -> Result<Self, SuiteError> {
        let at = |e: &dyn fmt::Display| SuiteError(format!("{}: {e}", path.display()));
        // The schema's `minItems: 1`, which the runners rely on (the last interaction is the one
        // the `expect` block describes).
        if case.interactions.is_empty() {
            return Err(at(&"no interactions: a case holds at least one"));
        }
        let extra: Extra = serde_json::from_slice(bytes).map_err(|e| at(&e))?;
        let targets = match extra.targets {
            None => Targets {
                client: true,
                server: true,
            },
            Some(list) => {
                let mut t = Targets {
                    client: false,
                    server: false,
                };
                for item in &list {
                    match item.as_str() {
                        "client" => t.client = true,
                        "server" => t.server = true,
                        other => {
                            return Err(at(&format!(
                                "unknown target {other:?}: allowed are client, server"
                            )));
                        }
                    }
                }
                t
            }
        };
        let mut auth: Vec<Auth> = extra
            .interactions
            .iter()
            .map(|i| i.request.auth.unwrap_or_default())
            .collect();
        auth.resize(case.interactions.len(), Auth::Header);
        let expect = match &case.expect {
            Some(value) => Expect::deserialize(value).map_err(|e| at(&format!("expect: {e}")))?,
            None => Expect::default(),
        };
        Ok(Self {
            case,
            targets,
            auth,
            expect,
        })
    }

    /// `<area>/<slug>`.
    pub fn id(&self) -> &str {
        &self.case.id
    }

    /// The case as the wire crate reads it (interactions with blobs expanded).
    pub fn case(&self) -> &Case {
        &self.case
    }

    /// Whether every implementation must pass it.
    pub fn is_required(&self) -> bool {
        self.case.is_required()
    }

    /// Which implementations it can check.
    pub fn targets(&self) -> Targets {
        self.targets
    }

    /// How the key travels with interaction `index`.
    pub fn auth(&self, index: usize) -> Auth {
        self.auth.get(index).copied().unwrap_or_default()
    }

    /// The expectations.
    pub fn expect(&self) -> &Expect {
        &self.expect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(interactions: serde_json::Value) -> (Case, Vec<u8>) {
        let file = serde_json::json!({
            "id": "generate/x",
            "description": "x",
            "rules": [],
            "provenance": "synthetic",
            "interactions": interactions,
        });
        let bytes = serde_json::to_vec(&file).unwrap();
        (serde_json::from_slice(&bytes).unwrap(), bytes)
    }

    /// The schema's `interactions: minItems 1` is enforced on load: the runners take the last
    /// interaction as the one `expect` describes.
    #[test]
    fn a_case_without_interactions_is_refused_on_load() {
        let (empty, bytes) = case(serde_json::json!([]));
        let error = SuiteCase::from_parts(empty, &bytes, Path::new("generate/x.json")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "generate/x.json: no interactions: a case holds at least one"
        );
        let (one, bytes) = case(serde_json::json!([{
            "request": {"method": "GET", "path": "/v1beta/models", "auth": "query"},
            "response": {"status": 200, "body": {}}
        }]));
        let loaded = SuiteCase::from_parts(one, &bytes, Path::new("generate/x.json")).unwrap();
        assert_eq!(loaded.auth(0), Auth::Query);
        assert_eq!(loaded.expect(), &Expect::default());
    }
}

#[cfg(test)]
mod conclusion_tests {
    use super::*;

    /// Every spelling of the case files reads back as itself; other kinds and words are refused,
    /// naming what is allowed.
    #[test]
    fn conclusions_round_trip_through_their_spelling() {
        let mut all: Vec<Conclusion> = Conclusion::ANSWER_KINDS
            .iter()
            .map(|kind| Conclusion::Answer(*kind))
            .collect();
        all.extend([Conclusion::Error, Conclusion::Resource, Conclusion::Other]);
        for conclusion in all {
            let json = serde_json::to_value(conclusion).unwrap();
            assert_eq!(json, conclusion.as_str());
            assert_eq!(
                serde_json::from_value::<Conclusion>(json).unwrap(),
                conclusion
            );
        }
        assert_eq!(Conclusion::IMAGES.as_str(), "images");
        let error = serde_json::from_value::<Conclusion>("image-recitation".into()).unwrap_err();
        assert!(
            error.to_string().contains("allowed are images, text-only"),
            "{error}"
        );
    }
}
