//! The model catalogue: every image model id the project knows, with its lifecycle dates,
//! capabilities, resolution table, prices and the basis of each fact.
//!
//! The catalogue is data, not code: `fixtures/models.json` (a byte-identical copy is compiled in
//! from `data/models.json` by `cargo xtask codegen`) is parsed once, on first use. When the
//! service changes (a new model, a shutdown, a new size), the fix is an edit to that file.
//!
//! A model's [`State`] is computed at a [`Date`] ("as of"), so a scheduled shutdown takes effect
//! by itself when its date passes and a test can pin the date. [`lookup`] accepts `models/<id>`
//! aliases. An id that is not in the catalogue is not rejected by validation: it yields
//! [`Lookup::Unknown`], whose [`warning`](Lookup::warning) carries the `model-catalogue` rule
//! (the service adds models before any client learns them); the fake server answers it with the
//! service's 404.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use nanobanana_wire::{AspectRatio, ImageSize, ThinkingLevel};
use serde::Deserialize;

use crate::date::Date;
use crate::report::{Rule, Violation};

/// The catalogue as compiled in (a byte-identical copy of `fixtures/models.json`).
pub const CATALOGUE_JSON: &str = include_str!("../data/models.json");

/// One image model of the catalogue.
#[derive(Debug, PartialEq)]
pub struct Model {
    id: &'static str,
    name: &'static str,
    version: &'static str,
    default: bool,
    lifecycle: Lifecycle,
    aspect_ratios: &'static [AspectRatio],
    image_sizes: &'static [ImageSize],
    default_image_size: Option<ImageSize>,
    thinking: Thinking,
    search: Search,
    reference_images: ReferenceImages,
    token_limits: TokenLimits,
    inputs: &'static [&'static str],
    output_mime_type: &'static str,
    thought_signatures: Signatures,
    resolution_table: &'static str,
    pricing: Option<Pricing>,
    basis: BTreeMap<&'static str, Basis>,
    sources: &'static [&'static str],
    notes: Option<&'static str>,
}

/// A model's lifecycle: its stage and the dates that change its [`State`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    stage: Stage,
    released: Date,
    deprecated: Option<Date>,
    restricted: Option<Date>,
    shutdown: Option<Date>,
    replacement: Option<&'static str>,
    note: Option<&'static str>,
}

impl Lifecycle {
    /// Preview or stable.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The day the id became available.
    pub fn released(&self) -> Date {
        self.released
    }

    /// The day the id was deprecated (still served), if it was.
    pub fn deprecated(&self) -> Option<Date> {
        self.deprecated
    }

    /// The day since which only projects that used the model may call it, if any.
    pub fn restricted(&self) -> Option<Date> {
        self.restricted
    }

    /// The day the id stopped being served, if it is scheduled or done.
    pub fn shutdown(&self) -> Option<Date> {
        self.shutdown
    }

    /// The id to move to, if the service names one.
    pub fn replacement(&self) -> Option<&'static str> {
        self.replacement
    }

    /// What the sources leave open (conflicting dates and the like).
    pub fn note(&self) -> Option<&'static str> {
        self.note
    }
}

/// A model's release stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// A preview id (`-preview`), replaced by a stable id later.
    Preview,
    /// A stable (GA) id.
    Stable,
}

/// What the service does with a model id at a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not yet released at that date: the service answers 404.
    Unreleased {
        /// The release date.
        released: Date,
    },
    /// Served, nothing to say.
    Live,
    /// Served, but deprecated: move to the replacement.
    Deprecated {
        /// Deprecated since.
        since: Date,
        /// The id to move to, if named.
        replacement: Option<&'static str>,
    },
    /// Served only to projects that used it before: new projects get an error.
    Restricted {
        /// Restricted since.
        since: Date,
        /// The id to move to, if named.
        replacement: Option<&'static str>,
    },
    /// No longer served: the service answers 404 `NOT_FOUND`.
    ShutDown {
        /// Shut down on.
        since: Date,
        /// The id to move to, if named.
        replacement: Option<&'static str>,
    },
}

impl State {
    /// Whether the service answers requests for the id at that date (deprecated and restricted
    /// ids are still served).
    pub fn is_served(self) -> bool {
        matches!(
            self,
            State::Live | State::Deprecated { .. } | State::Restricted { .. }
        )
    }

    /// A short label: `live`, `deprecated`, `restricted`, `shut down`, `unreleased`.
    pub fn label(self) -> &'static str {
        match self {
            State::Unreleased { .. } => "unreleased",
            State::Live => "live",
            State::Deprecated { .. } => "deprecated",
            State::Restricted { .. } => "restricted",
            State::ShutDown { .. } => "shut down",
        }
    }

    /// The id to move to, where the state names one.
    pub fn replacement(self) -> Option<&'static str> {
        match self {
            State::Deprecated { replacement, .. }
            | State::Restricted { replacement, .. }
            | State::ShutDown { replacement, .. } => replacement,
            State::Unreleased { .. } | State::Live => None,
        }
    }
}

/// What a model does about thinking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Thinking {
    /// Thinking is always on and its level can be chosen.
    Levels {
        /// The levels the model accepts, in the catalogue's order.
        levels: &'static [ThinkingLevel],
        /// The level used when none is given.
        default: &'static ThinkingLevel,
    },
    /// Thinking is always on and cannot be disabled (`thinkingBudget: 0` is rejected); no level
    /// control is documented, so any known level passes.
    AlwaysOn,
    /// The model takes no thinking config at all.
    NotConfigurable,
}

/// Which kinds of Google Search grounding a model offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Search {
    web: bool,
    image: bool,
}

impl Search {
    /// Web search grounding (`tools: [{googleSearch: {}}]`).
    pub fn web(self) -> Availability {
        Availability::of(self.web)
    }

    /// Image search grounding (`googleSearch.searchTypes.imageSearch`).
    pub fn image(self) -> Availability {
        Availability::of(self.image)
    }
}

/// How many input (reference) images a model takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceImages {
    /// A limit the service enforces: more images are rejected.
    Limit {
        /// At most this many images in all.
        total: u32,
        /// Of which at most this many high-fidelity object images.
        objects: u32,
        /// Of which at most this many character images (for likeness).
        characters: u32,
    },
    /// Advice only: the model works best with up to this many images; more only warn.
    Advice {
        /// The advised maximum.
        best_up_to: u32,
    },
}

/// Input and output token limits, where known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenLimits {
    input: Option<u32>,
    output: Option<u32>,
}

impl TokenLimits {
    /// The input token limit.
    pub fn input(self) -> Option<u32> {
        self.input
    }

    /// The output token limit.
    pub fn output(self) -> Option<u32> {
        self.output
    }
}

/// Whether a model has a feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    /// The model has it.
    Available,
    /// The model does not have it.
    Unavailable,
}

impl Availability {
    fn of(available: bool) -> Availability {
        if available {
            Availability::Available
        } else {
            Availability::Unavailable
        }
    }
}

/// Whether a model needs its thought signatures back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signatures {
    /// The Gemini 3 models: signatures must be circulated. Whether a missing one is refused
    /// depends on the service's date and the validation's [`SignaturePolicy`](crate::SignaturePolicy).
    Required,
    /// A model turn sent back without its signatures is accepted; validation only warns.
    Optional,
}

/// Prices in US dollars per million tokens (paid tier, standard), where known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pricing {
    image_output: f64,
    text_input: Option<f64>,
    text_output: Option<f64>,
    batch_factor: f64,
}

impl Pricing {
    /// US dollars per million image output tokens.
    pub fn image_output_per_million(&self) -> f64 {
        self.image_output
    }

    /// US dollars per million text input tokens, if known.
    pub fn text_input_per_million(&self) -> Option<f64> {
        self.text_input
    }

    /// US dollars per million text output tokens, if known.
    pub fn text_output_per_million(&self) -> Option<f64> {
        self.text_output
    }

    /// The Batch (and Flex) price as a factor of the standard price (0.5: half price).
    pub fn batch_factor(&self) -> f64 {
        self.batch_factor
    }

    /// US dollars for this many image output tokens, at the batch price when `batch` is true.
    pub fn image_cost(&self, tokens: u64, batch: bool) -> f64 {
        let factor = if batch { self.batch_factor } else { 1.0 };
        tokens as f64 * self.image_output / 1_000_000.0 * factor
    }
}

/// How a fact of the catalogue is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Published by the service's own documentation.
    Published,
    /// Not published: derived from a related model's published figure (e.g. 2.1's pixel sizes
    /// from 3.1 Flash Image's table).
    Estimated,
    /// Transcribed by third parties; no stored official copy.
    ThirdParty,
    /// Sources disagree; the catalogue takes the decision of SERVICE-2026.md §0.
    Conflicting,
}

impl Basis {
    /// The catalogue's spelling: `published`, `estimated`, `third-party`, `conflicting`.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Published => "published",
            Basis::Estimated => "estimated",
            Basis::ThirdParty => "third-party",
            Basis::Conflicting => "conflicting",
        }
    }
}

/// A source the catalogue cites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    key: &'static str,
    title: &'static str,
    date: Date,
    official: bool,
}

impl Source {
    /// The key models cite it by.
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// What it is and what it says.
    pub fn title(&self) -> &'static str {
        self.title
    }

    /// The date the source shows.
    pub fn date(&self) -> Date {
        self.date
    }

    /// Whether the source is the service's own (docs, changelog) rather than a third party's.
    pub fn is_official(&self) -> bool {
        self.official
    }
}

/// A behaviour of the service that changed at a date (e.g. unsigned image turns accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Behaviour {
    id: &'static str,
    since: Date,
    summary: &'static str,
}

impl Behaviour {
    /// The behaviour's id, e.g. `unsigned-image-turn-accepted`.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The first date the service is known to behave so.
    pub fn since(&self) -> Date {
        self.since
    }

    /// What changed.
    pub fn summary(&self) -> &'static str {
        self.summary
    }
}

/// The behaviour id under which the 3.x models answer JPEG.
const JPEG_OUTPUT: &str = "jpeg-output";

/// The behaviour id under which unsigned model image turns are accepted.
pub(crate) const UNSIGNED_IMAGE_TURN_ACCEPTED: &str = "unsigned-image-turn-accepted";

/// The two documented dummy thought signatures (SERVICE-2026.md §0.5, §4): accepted in place of
/// a signature, as the plain string or base64-encoded.
pub const DUMMY_SIGNATURES: &[&str] = &[
    "skip_thought_signature_validator",
    "context_engineering_is_the_way_to_go",
];

struct Catalogue {
    models: Vec<Model>,
    text_only: Vec<&'static str>,
    sources: Vec<Source>,
    behaviours: Vec<Behaviour>,
    updated: Date,
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| match parse(CATALOGUE_JSON) {
        Ok(catalogue) => catalogue,
        // The compiled-in file is checked by this crate's tests and by `cargo xtask codegen`;
        // a broken copy is a build defect, not an input error.
        Err(error) => panic!("data/models.json is not a valid catalogue: {error}"),
    })
}

/// Every model of the catalogue, in the file's order (live models first, then the older ids).
pub fn models() -> &'static [Model] {
    &catalogue().models
}

/// The models the service serves at a date (live, deprecated and restricted).
pub fn available_at(date: Date) -> impl Iterator<Item = &'static Model> {
    models()
        .iter()
        .filter(move |model| model.state_at(date).is_served())
}

/// The model the catalogue marks as the default (the one to recommend).
pub fn default_model() -> &'static Model {
    let models = models();
    models
        .iter()
        .find(|model| model.default)
        .unwrap_or(&models[0])
}

/// Gemini models known to make no images. The service answers a request for image output to
/// them with `400 INVALID_ARGUMENT "Model does not support the requested response modalities:
/// image"` (WIRE.md, Errors), so validation reports that under `model-catalogue` instead of the
/// permissive unknown-model warning. The list is deliberately explicit (data, not a guess from
/// the id's spelling).
pub fn text_only_models() -> &'static [&'static str] {
    &catalogue().text_only
}

/// The sources the catalogue cites.
pub fn sources() -> &'static [Source] {
    &catalogue().sources
}

/// The service behaviours that changed at a date.
pub fn behaviours() -> &'static [Behaviour] {
    &catalogue().behaviours
}

/// The behaviour with this id, if the catalogue records it.
pub fn behaviour(id: &str) -> Option<&'static Behaviour> {
    behaviours().iter().find(|behaviour| behaviour.id == id)
}

/// The date the catalogue was last brought up to date with the service.
pub fn updated() -> Date {
    catalogue().updated
}

/// Whether the decoded bytes of a `thoughtSignature` are one of the documented dummies, sent
/// either base64-encoded (they decode to the dummy's text, as google-genai sends bytes) or as the
/// plain string (which is itself URL-safe base64 text, so it decodes to other bytes; servers and
/// SDKs may re-encode it in another alphabet, which keeps those bytes).
pub fn is_dummy_signature(decoded: &[u8]) -> bool {
    // Each dummy's own text and its bytes read as base64, decoded once per process (the fake
    // server asks for every signature it is sent back).
    static FORMS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let forms = FORMS.get_or_init(|| {
        DUMMY_SIGNATURES
            .iter()
            .flat_map(|dummy| {
                let text = dummy.as_bytes().to_vec();
                let read = nanobanana_wire::Base64Bytes::from_base64(dummy)
                    .ok()
                    .map(|bytes| bytes.as_slice().to_vec());
                std::iter::once(text).chain(read)
            })
            .collect()
    });
    forms.iter().any(|form| form.as_slice() == decoded)
}

impl Model {
    /// The model id, e.g. `gemini-nano-banana-2.1`.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The product name, e.g. `Nano Banana 2.1`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The model's version as `models.get` reports it, e.g. `3.1`.
    pub fn version(&self) -> &'static str {
        self.version
    }

    /// Whether this is the catalogue's default model.
    pub fn is_default(&self) -> bool {
        self.default
    }

    /// The lifecycle dates.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// What the service does with this id at a date.
    ///
    /// ```
    /// use nanobanana_rules::{catalogue, Date};
    ///
    /// let preview = catalogue::lookup("gemini-3-pro-image-preview").model().unwrap();
    /// let early: Date = "2026-03-01".parse().unwrap();
    /// let now: Date = "2026-12-03".parse().unwrap();
    /// assert!(preview.state_at(early).is_served());
    /// assert_eq!(preview.state_at(now).label(), "shut down");
    /// assert_eq!(preview.state_at(now).replacement(), Some("gemini-3-pro-image"));
    /// ```
    pub fn state_at(&self, date: Date) -> State {
        let life = &self.lifecycle;
        let replacement = life.replacement;
        if date < life.released {
            return State::Unreleased {
                released: life.released,
            };
        }
        if let Some(since) = life.shutdown.filter(|&since| date >= since) {
            return State::ShutDown { since, replacement };
        }
        if let Some(since) = life.restricted.filter(|&since| date >= since) {
            return State::Restricted { since, replacement };
        }
        if let Some(since) = life.deprecated.filter(|&since| date >= since) {
            return State::Deprecated { since, replacement };
        }
        State::Live
    }

    /// The aspect ratios the model accepts, in the published table's order.
    pub fn aspect_ratios(&self) -> &'static [AspectRatio] {
        self.aspect_ratios
    }

    /// The image sizes the model accepts, smallest first; empty when the model takes no
    /// `imageSize` (2.5 Flash Image).
    pub fn image_sizes(&self) -> &'static [ImageSize] {
        self.image_sizes
    }

    /// The image size used when the request gives none; `None` when sizes are not configurable.
    pub fn default_image_size(&self) -> Option<&ImageSize> {
        self.default_image_size.as_ref()
    }

    /// What the model does about thinking.
    pub fn thinking(&self) -> Thinking {
        self.thinking
    }

    /// Which kinds of Search grounding the model offers.
    pub fn search(&self) -> Search {
        self.search
    }

    /// Whether the model offers web image search grounding (`searchTypes.imageSearch`).
    pub fn image_search(&self) -> Availability {
        self.search.image()
    }

    /// How many input images the model takes.
    pub fn reference_images(&self) -> ReferenceImages {
        self.reference_images
    }

    /// Input and output token limits.
    pub fn token_limits(&self) -> TokenLimits {
        self.token_limits
    }

    /// The input kinds the model takes besides text and images: `video`, `pdf`, `audio`.
    pub fn accepts_input(&self, kind: &str) -> bool {
        self.inputs.contains(&kind)
    }

    /// The MIME type of the images the model answers with (`image/jpeg` for the 3.x models).
    pub fn output_mime_type(&self) -> &'static str {
        self.output_mime_type
    }

    /// The MIME type the model answered with at a date: `image/png` before the catalogue's
    /// `jpeg-output` date (the early-2026 corpus records PNG), [`output_mime_type`] since.
    ///
    /// [`output_mime_type`]: Model::output_mime_type
    pub fn output_mime_type_at(&self, date: Date) -> &'static str {
        let jpeg_since = behaviour(JPEG_OUTPUT).map(Behaviour::since);
        if self.output_mime_type == "image/jpeg" && jpeg_since.is_some_and(|since| date < since) {
            "image/png"
        } else {
            self.output_mime_type
        }
    }

    /// Whether the model needs its thought signatures back (the Gemini 3 models); 2.5 Flash
    /// Image does not.
    pub fn thought_signatures(&self) -> Signatures {
        self.thought_signatures
    }

    /// The key of the resolution table whose rows give this model's pixel sizes and tokens.
    pub fn resolution_table(&self) -> &'static str {
        self.resolution_table
    }

    /// Prices, where known.
    pub fn pricing(&self) -> Option<&Pricing> {
        self.pricing.as_ref()
    }

    /// How a fact is known: `lifecycle`, `capabilities`, `referenceImages`, `tokenLimits`,
    /// `resolution`, `pricing`. Facts the catalogue does not qualify count as published.
    pub fn basis(&self, fact: &str) -> Basis {
        self.basis.get(fact).copied().unwrap_or(Basis::Published)
    }

    /// Whether the pixel sizes and token counts of this model are estimated (no published
    /// table: another model's rows are used).
    pub fn resolution_is_estimated(&self) -> bool {
        self.basis("resolution") == Basis::Estimated
    }

    /// The keys of the sources behind this model's facts (see [`sources`]).
    pub fn sources(&self) -> &'static [&'static str] {
        self.sources
    }

    /// What the sources leave open.
    pub fn notes(&self) -> Option<&'static str> {
        self.notes
    }

    /// Whether the model accepts this aspect ratio.
    pub fn supports_aspect_ratio(&self, ratio: &AspectRatio) -> bool {
        self.aspect_ratios.contains(ratio)
    }

    /// Whether the model accepts this image size.
    pub fn supports_image_size(&self, size: &ImageSize) -> bool {
        self.image_sizes.contains(size)
    }
}

/// The result of looking a model id up in the catalogue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lookup<'a> {
    /// One of the catalogue's image models.
    Known(&'static Model),
    /// An id the catalogue does not know (normalised: without `models/`). Validation is
    /// permissive for it: only the rules that hold for every model are checked.
    Unknown(&'a str),
}

impl<'a> Lookup<'a> {
    /// The model, if the catalogue knows it.
    pub fn model(&self) -> Option<&'static Model> {
        match self {
            Lookup::Known(model) => Some(model),
            Lookup::Unknown(_) => None,
        }
    }

    /// The normalised id (without a `models/` prefix).
    pub fn id(&self) -> &'a str {
        match self {
            Lookup::Known(model) => model.id,
            Lookup::Unknown(id) => id,
        }
    }

    /// Whether the id is a Gemini model known to produce no images (see [`text_only_models`]).
    pub fn is_text_only(&self) -> bool {
        matches!(self, Lookup::Unknown(id) if text_only_models().contains(id))
    }

    /// The `model-catalogue` warning for an unknown id; `None` for a known image model and for a
    /// known text-only model (which is not unknown: asking it for images is an error instead).
    pub fn warning(&self) -> Option<Violation> {
        match self {
            Lookup::Known(_) => None,
            Lookup::Unknown(_) if self.is_text_only() => None,
            Lookup::Unknown(id) => Some(Violation::warning(
                Rule::ModelCatalogue,
                String::new(),
                *id,
                known_ids(),
                format!(
                    "Unknown model \"{id}\": not one of the image models ({}); only the rules that hold for every model were checked.",
                    known_ids()
                ),
            )),
        }
    }

    /// The `model-lifecycle` violation of this id at a date: an error for an id that is shut
    /// down or not yet released (the service answers 404), a warning for a deprecated or
    /// restricted id (still served); `None` for a live or unknown id.
    pub fn lifecycle_violation(&self, date: Date) -> Option<Violation> {
        let Lookup::Known(model) = self else {
            return None;
        };
        let id = model.id;
        let instead = |replacement: Option<&str>| {
            replacement.map_or_else(String::new, |r| format!(" Use {r} instead."))
        };
        let allowed = || join(available_at(date).map(Model::id));
        let (error, sent, message) = match model.state_at(date) {
            State::Live => return None,
            State::Unreleased { released } => (
                true,
                format!("{id} (released {released})"),
                format!("Model {id} is not available on {date}: it was released on {released}."),
            ),
            State::ShutDown { since, replacement } => (
                true,
                format!("{id} (shut down {since})"),
                format!(
                    "Model {id} was shut down on {since} and is no longer served.{}",
                    instead(replacement)
                ),
            ),
            State::Deprecated { since, replacement } => (
                false,
                format!("{id} (deprecated {since})"),
                format!(
                    "Model {id} is deprecated since {since} and may stop being served at any time.{}",
                    instead(replacement)
                ),
            ),
            State::Restricted { since, replacement } => (
                false,
                format!("{id} (restricted {since})"),
                format!(
                    "Model {id} is served only to projects that used it before {since}.{}",
                    instead(replacement)
                ),
            ),
        };
        let make = if error {
            Violation::error
        } else {
            Violation::warning
        };
        Some(make(
            Rule::ModelLifecycle,
            String::new(),
            sent,
            allowed(),
            message,
        ))
    }
}

/// The service's 404 text for a model id it does not serve (unknown, shut down or not yet
/// released), for an API version (`v1beta`) and a method (`generateContent`):
/// `models/{id} is not found for API version {version}, or is not supported for {method}. Call
/// ListModels to see the list of available models and their supported methods.`
pub fn not_found_message(model_id: &str, version: &str, method: &str) -> String {
    format!(
        "models/{} is not found for API version {version}, or is not supported for {method}. Call ListModels to see the list of available models and their supported methods.",
        normalise(model_id)
    )
}

/// Looks a model id up, accepting the `models/<id>` alias.
///
/// ```
/// use nanobanana_rules::catalogue::{lookup, Lookup};
///
/// let model = lookup("models/gemini-3-pro-image").model().unwrap();
/// assert_eq!(model.name(), "Nano Banana Pro");
/// assert!(matches!(lookup("gemini-9-image"), Lookup::Unknown("gemini-9-image")));
/// ```
pub fn lookup(model_id: &str) -> Lookup<'_> {
    let id = normalise(model_id);
    match models().iter().find(|model| model.id == id) {
        Some(model) => Lookup::Known(model),
        None => Lookup::Unknown(id),
    }
}

/// Strips the `models/` prefix of a resource name.
fn normalise(model_id: &str) -> &str {
    model_id.strip_prefix("models/").unwrap_or(model_id)
}

fn known_ids() -> String {
    join(models().iter().map(|model| model.id))
}

/// Joins wire spellings with `, `, as the messages list allowed values.
pub(crate) fn join<'s>(items: impl IntoIterator<Item = &'s str>) -> String {
    let mut out = String::new();
    for item in items {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(item);
    }
    out
}

// --- Parsing the data file ----------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileJson {
    #[serde(rename = "$schema")]
    _schema: Option<String>,
    #[serde(rename = "about")]
    _about: String,
    updated: Date,
    sources: BTreeMap<String, SourceJson>,
    text_only_models: Vec<String>,
    models: Vec<ModelJson>,
    behaviours: Vec<BehaviourJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceJson {
    title: String,
    date: Date,
    kind: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ModelJson {
    id: String,
    name: String,
    version: String,
    #[serde(default)]
    default: bool,
    lifecycle: LifecycleJson,
    aspect_ratios: Vec<String>,
    image_sizes: Vec<String>,
    default_image_size: Option<String>,
    thinking: ThinkingJson,
    search: SearchJson,
    reference_images: ReferencesJson,
    token_limits: LimitsJson,
    inputs: Vec<String>,
    output_mime_type: String,
    thought_signatures: String,
    resolution_table: String,
    pricing: Option<PricingJson>,
    #[serde(default)]
    basis: BTreeMap<String, String>,
    sources: Vec<String>,
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LifecycleJson {
    stage: String,
    released: Date,
    deprecated: Option<Date>,
    restricted: Option<Date>,
    shutdown: Option<Date>,
    replacement: Option<String>,
    sources: Vec<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThinkingJson {
    mode: String,
    #[serde(default)]
    levels: Vec<String>,
    default: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchJson {
    web: bool,
    image: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReferencesJson {
    kind: String,
    total: Option<u32>,
    objects: Option<u32>,
    characters: Option<u32>,
    best_up_to: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsJson {
    input: Option<u32>,
    output: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PricingJson {
    image_output_per_million_tokens: f64,
    text_input_per_million_tokens: Option<f64>,
    text_output_per_million_tokens: Option<f64>,
    batch_factor: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BehaviourJson {
    id: String,
    since: Date,
    summary: String,
    sources: Vec<String>,
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn leak_all<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}

/// Parses and checks a catalogue file. Public to the crate's tests through [`check_catalogue`].
fn parse(text: &str) -> Result<Catalogue, String> {
    let file: FileJson = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let source_keys: Vec<&String> = file.sources.keys().collect();
    let cite = |keys: &[String], whose: &str| -> Result<(), String> {
        match keys.iter().find(|key| !source_keys.contains(key)) {
            Some(key) => Err(format!("{whose} cites an unknown source \"{key}\"")),
            None => Ok(()),
        }
    };
    let mut models = Vec::new();
    for model in file.models {
        let id = model.id.clone();
        cite(&model.sources, &id)?;
        cite(&model.lifecycle.sources, &id)?;
        models.push(parse_model(model).map_err(|e| format!("model {id}: {e}"))?);
    }
    for (index, model) in models.iter().enumerate() {
        if models[..index].iter().any(|other| other.id == model.id) {
            return Err(format!("model {} is listed twice", model.id));
        }
        if let Some(replacement) = model.lifecycle.replacement
            && !models.iter().any(|other| other.id == replacement)
        {
            return Err(format!(
                "model {}: replacement {replacement} is not in the catalogue",
                model.id
            ));
        }
    }
    if models.iter().filter(|model| model.default).count() != 1 {
        return Err("exactly one model must be marked \"default\": true".to_owned());
    }
    let mut behaviours = Vec::new();
    for behaviour in file.behaviours {
        cite(&behaviour.sources, &behaviour.id)?;
        behaviours.push(Behaviour {
            id: leak(behaviour.id),
            since: behaviour.since,
            summary: leak(behaviour.summary),
        });
    }
    let sources = file
        .sources
        .into_iter()
        .map(|(key, source)| {
            let official = match source.kind.as_str() {
                "official" => Ok(true),
                "third-party" => Ok(false),
                other => Err(format!(
                    "source {key}: kind \"{other}\" is not official or third-party"
                )),
            }?;
            Ok(Source {
                key: leak(key),
                title: leak(source.title),
                date: source.date,
                official,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Catalogue {
        models,
        text_only: file.text_only_models.into_iter().map(leak).collect(),
        sources,
        behaviours,
        updated: file.updated,
    })
}

fn parse_model(model: ModelJson) -> Result<Model, String> {
    let known = |wire: &str, known: bool, what: &str| {
        if known {
            Ok(())
        } else {
            Err(format!(
                "{what} \"{wire}\" is not a value the wire types know"
            ))
        }
    };
    let mut ratios = Vec::new();
    for wire in &model.aspect_ratios {
        let ratio = AspectRatio::from_wire(wire);
        known(wire, ratio.is_known(), "aspect ratio")?;
        ratios.push(ratio);
    }
    let mut sizes = Vec::new();
    for wire in &model.image_sizes {
        let size = ImageSize::from_wire(wire);
        known(wire, size.is_known(), "image size")?;
        sizes.push(size);
    }
    let default_image_size = match &model.default_image_size {
        Some(wire) => {
            let size = ImageSize::from_wire(wire);
            if !sizes.contains(&size) {
                return Err(format!("default image size {wire} is not one of its sizes"));
            }
            Some(size)
        }
        None if sizes.is_empty() => None,
        None => return Err("a model with image sizes needs a defaultImageSize".to_owned()),
    };
    let thinking = match model.thinking.mode.as_str() {
        "levels" => {
            let mut levels = Vec::new();
            for wire in &model.thinking.levels {
                let level = ThinkingLevel::from_wire(wire);
                known(wire, level.is_known(), "thinking level")?;
                levels.push(level);
            }
            let default = model
                .thinking
                .default
                .as_deref()
                .map(ThinkingLevel::from_wire)
                .filter(|level| levels.contains(level))
                .ok_or("thinking levels need a default that is one of them")?;
            Thinking::Levels {
                levels: leak_all(levels),
                default: Box::leak(Box::new(default)),
            }
        }
        "always-on" => Thinking::AlwaysOn,
        "none" => Thinking::NotConfigurable,
        other => {
            return Err(format!(
                "thinking mode \"{other}\" is not levels, always-on or none"
            ));
        }
    };
    let refs = &model.reference_images;
    let reference_images = match (refs.kind.as_str(), refs.total, refs.best_up_to) {
        ("limit", Some(total), None) => ReferenceImages::Limit {
            total,
            objects: refs.objects.unwrap_or(total),
            characters: refs.characters.unwrap_or(0),
        },
        ("advice", None, Some(best_up_to)) => ReferenceImages::Advice { best_up_to },
        _ => {
            return Err(
                "referenceImages is {kind: limit, total, objects, characters} or {kind: advice, bestUpTo}"
                    .to_owned(),
            );
        }
    };
    let thought_signatures = match model.thought_signatures.as_str() {
        "required" => Signatures::Required,
        "optional" => Signatures::Optional,
        other => {
            return Err(format!(
                "thoughtSignatures \"{other}\" is not required or optional"
            ));
        }
    };
    let stage = match model.lifecycle.stage.as_str() {
        "preview" => Stage::Preview,
        "stable" => Stage::Stable,
        other => return Err(format!("stage \"{other}\" is not preview or stable")),
    };
    let life = &model.lifecycle;
    let ordered = [life.deprecated, life.restricted, life.shutdown]
        .into_iter()
        .flatten()
        .all(|date| date >= life.released);
    if !ordered {
        return Err("a lifecycle date falls before the release date".to_owned());
    }
    if life.shutdown.is_some() && life.replacement.is_none() {
        return Err("a shut-down model names its replacement".to_owned());
    }
    let mut basis = BTreeMap::new();
    for (fact, value) in model.basis {
        let value = match value.as_str() {
            "published" => Basis::Published,
            "estimated" => Basis::Estimated,
            "third-party" => Basis::ThirdParty,
            "conflicting" => Basis::Conflicting,
            other => return Err(format!("basis of {fact}: \"{other}\" is not a basis")),
        };
        basis.insert(leak(fact), value);
    }
    Ok(Model {
        id: leak(model.id),
        name: leak(model.name),
        version: leak(model.version),
        default: model.default,
        lifecycle: Lifecycle {
            stage,
            released: life.released,
            deprecated: life.deprecated,
            restricted: life.restricted,
            shutdown: life.shutdown,
            replacement: model.lifecycle.replacement.map(leak),
            note: model.lifecycle.note.map(leak),
        },
        aspect_ratios: leak_all(ratios),
        image_sizes: leak_all(sizes),
        default_image_size,
        thinking,
        search: Search {
            web: model.search.web,
            image: model.search.image,
        },
        reference_images,
        token_limits: TokenLimits {
            input: model.token_limits.input,
            output: model.token_limits.output,
        },
        inputs: leak_all(model.inputs.into_iter().map(leak).collect()),
        output_mime_type: leak(model.output_mime_type),
        thought_signatures,
        resolution_table: leak(model.resolution_table),
        pricing: model.pricing.map(|p| Pricing {
            image_output: p.image_output_per_million_tokens,
            text_input: p.text_input_per_million_tokens,
            text_output: p.text_output_per_million_tokens,
            batch_factor: p.batch_factor,
        }),
        basis,
        sources: leak_all(model.sources.into_iter().map(leak).collect()),
        notes: model.notes.map(leak),
    })
}

/// Checks a catalogue text as the compiled-in one is checked: the shape, known wire values,
/// cited sources, replacements in the catalogue, one default model, dates in order. For tools
/// that edit `fixtures/models.json`.
pub fn check_catalogue(text: &str) -> Result<(), String> {
    parse(text).map(|_| ())
}
