//! The rules of Gemini's image generation ("Nano Banana"), as pure functions shared by the client
//! and the fake server, so that the client refuses exactly what the server rejects.
//!
//! - [`catalogue`]: every image model id with its lifecycle dates (a model's state is computed
//!   at a [`Date`]), aspect ratios, image sizes, thinking, search, reference-image limits, output
//!   format and prices: data compiled in from `fixtures/models.json`, so a change of the service
//!   is an edit to that file (SERVICE-2026.md §0).
//! - [`resolution`]: the published table of pixel sizes and token counts, a prediction for a
//!   request, and the reverse look-up; the one published erratum is kept and flagged.
//! - [`validate_request`] / [`validate_request_json`]: every broken rule of a request at once,
//!   each with its stable rule id (`fixtures/rules.json`), a JSON pointer, what was sent, what is
//!   allowed, and the exact message of the service's 400 answer.
//! - [`outcome`]: what an answer amounts to ([`Outcome`]: images, text only, or one of the ways
//!   the service declines, WIRE.md "Response details"), and its name alone ([`OutcomeKind`]).
//! - [`validate_interaction`] / [`validate_interaction_json`]: the same checks on an
//!   Interactions API create request (`response_format`, snake_case pointers), and
//!   [`interaction_error`], the answer the Interactions API gives (`docs/service/INTERACTIONS.md`).
//! - [`response`]: the thought-signature rules of an answer (SPEC.md §4), checked without
//!   allocating, and the split into thought images, final images and text (SPEC.md §3).
//!
//! # Quickstart
//!
//! ```
//! use nanobanana_rules::{resolution, validate_request_json, Rule, Severity};
//!
//! // A request as a client would send it, with two mistakes.
//! let body = serde_json::json!({
//!     "contents": [{"role": "user", "parts": [{"text": "A nano banana dish, plated"}]}],
//!     "generationConfig": {
//!         "responseModalities": ["TEXT", "IMAGE"],
//!         "imageConfig": {"aspectRatio": "8:1", "imageSize": "2k"}
//!     }
//! });
//! let report = validate_request_json("gemini-3-pro-image", &body);
//! assert!(!report.is_valid());
//! let rules: Vec<Rule> = report.violations().iter().map(|v| v.rule()).collect();
//! assert_eq!(rules, [Rule::ImageSizeCasing, Rule::AspectRatioSupported]);
//!
//! // The first error is what the service (and the fake server) answers with.
//! let error = report.first_error().unwrap();
//! assert_eq!(error.severity(), Severity::Error);
//! assert_eq!(
//!     error.message(),
//!     "Unsupported image size \"2k\": image sizes use an upper-case K. \
//!      Allowed for gemini-3-pro-image: 1K, 2K, 4K."
//! );
//! println!("{report}");
//!
//! // What a valid request would produce.
//! let entry = resolution::table()
//!     .get("gemini-3-pro-image", &"21:9".into(), Some(&"2K".into()))
//!     .unwrap();
//! assert_eq!((entry.width(), entry.height(), entry.tokens()), (3168, 1344, 1120));
//! ```
//!
//! # Validation
//!
//! Both entry points build the same borrowed view of the request and run the same checks;
//! only [`validate_request_json`] can see a thought signature that is not base64, because such a
//! body does not decode into the typed request at all. The rules' open questions are settled so:
//!
//! - **Checking order**, which decides the message a server answers with (the first error):
//!   the model (`model-catalogue`, a warning), field names (`unknown-request-field`, the
//!   service's proto JSON decoding), decoding (`signature-base64`), the configuration
//!   (`responseModalities`, `imageSize`, `aspectRatio`, `thinkingConfig`, then `tools`), then the
//!   conversation (`role-alternation`, `input-modality`, `input-image-count`,
//!   `signature-circulation`), each in document order.
//! - **Models**: an id the catalogue does not know is allowed with a `model-catalogue` warning
//!   (the service adds models). The exception is the short, explicit list of Gemini models known
//!   to make no images ([`catalogue::text_only_models`]): asking one of them for `IMAGE` output is
//!   an error with the service's own text.
//! - **Lifecycle** (`model-lifecycle`): checks run at a date ([`Options::at`]; by default today).
//!   A shut-down or unreleased id is an error naming the replacement, a deprecated or restricted
//!   one a warning. The fixture cases carry the date of the service they record.
//! - **Unknown fields**: refused, as the service does ([`UnknownFields::Reject`]); a client that
//!   sends what it does not know downgrades them to warnings ([`UnknownFields::Warn`]).
//! - **Input images** are counted in the *last user turn*: the user contents after the last model
//!   content. Earlier turns are history the caller cannot shorten without losing the
//!   conversation, and the documented limits are about the references of one instruction.
//! - **Roles**: a content without a role counts as a user content (the service's default). A run
//!   of consecutive `model` contents is one turn (SDKs replay a streamed turn that way); two user
//!   contents in a row, a first content that is not a user's, or any other role break the
//!   alternation.
//! - **Signatures**: a missing one was an error on the Gemini 3 models until the service began
//!   accepting unsigned image turns (the catalogue's `unsigned-image-turn-accepted` date); since
//!   then, and always on 2.5 Flash Image, it is a warning. [`SignaturePolicy::Strict`] keeps the
//!   early-2026 behaviour. The path is the part's.
//! - **Thinking**: `thinkingBudget: 0` is rejected on both Gemini 3 models, which think always
//!   (SPEC.md §1). On 3 Pro, whose levels the guide does not list, any known level passes.
//! - **Unknown models** are permissive: besides the `model-catalogue` warning, only the rules that
//!   hold for every model are checked (signature base64, response modality values, role
//!   alternation).
//!
//! # Invariants
//!
//! Pure: no I/O, no network, no global state except the catalogue and the table parsed once from
//! compiled-in data; the clock is read only by [`Date::today`] (and so by [`Options::default`]).
//! Validation never panics, whatever JSON it is given, and never rejects an unknown model (it
//! warns). Messages are produced here and nowhere else.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod catalogue;
mod date;
mod interactions;
pub mod outcome;
mod report;
mod request;
pub mod resolution;
pub mod response;

pub use crate::date::{Date, DateError};
pub use crate::interactions::{
    IMAGE_DELIVERIES, IMAGE_FORMAT_MIME_TYPES, InteractionError, interaction_error,
    validate_interaction, validate_interaction_json, validate_interaction_json_with,
    validate_interaction_with,
};
pub use crate::outcome::{Outcome, OutcomeKind};
pub use crate::report::{Report, Rule, Severity, Violation};
pub use crate::request::{
    INLINE_DATA_LIMIT, Options, SignaturePolicy, UnknownFields, validate_request,
    validate_request_json, validate_request_json_with, validate_request_with,
};
