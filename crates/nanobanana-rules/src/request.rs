//! Request validation (SPEC.md §1, §2, §4): every broken rule of a `generateContent` request for
//! a model, all at once, with the service's 400 message for each.
//!
//! Both entry points build the same borrowed view of the request and run the same checks:
//! [`validate_request`] on a typed [`GenerateContentRequest`], [`validate_request_json`] on a raw
//! JSON body (camelCase or snake_case keys). Only the JSON one can see a thought signature that is
//! not base64, because such a body does not decode into the typed request at all.
//!
//! The decisions behind the checks are in the crate docs, under "Validation".

mod fields;
mod view;

use std::fmt::Write as _;

use nanobanana_wire::{
    AspectRatio, GenerateContentRequest, ImageSize, Modality, Part, ThinkingLevel,
};
use serde_json::Value;

use self::view::{PartKind, PartView, RequestView, RoleView, SignatureView, has_type};

use crate::catalogue::{
    self, Availability, Lookup, Model, ReferenceImages, Signatures, Thinking, join,
};
use crate::date::Date;
use crate::report::{Report, Rule, Severity, Violation};

/// How a request is checked: the date of the service to check against, what to do about a
/// missing thought signature and about field names the rules do not know.
///
/// [`Options::default`] is the service as it is today ([`Date::today`]), signatures judged by
/// that date, unknown fields refused (what the service does). A client that sends what it does
/// not know uses [`UnknownFields::Warn`]; a fake server pinned to a date uses [`Options::at`].
///
/// ```
/// use nanobanana_rules::{validate_request_json_with, Date, Options, Severity, UnknownFields};
///
/// let body = serde_json::json!({
///     "contents": [{"parts": [{"text": "A banana"}]}],
///     "futureField": true
/// });
/// let at: Date = "2026-12-03".parse().unwrap();
/// let server = validate_request_json_with("gemini-nano-banana-2.1", &body, &Options::at(at));
/// assert_eq!(server.first_error().unwrap().rule().id(), "unknown-request-field");
///
/// let client = Options::at(at).with_unknown_fields(UnknownFields::Warn);
/// let report = validate_request_json_with("gemini-nano-banana-2.1", &body, &client);
/// assert!(report.is_valid());
/// assert_eq!(report.violations()[0].severity(), Severity::Warning);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    as_of: Date,
    signatures: SignaturePolicy,
    unknown_fields: UnknownFields,
}

/// What a missing thought signature on a model turn sent back costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignaturePolicy {
    /// As the service did at the [`Options`]' date: refused (400) before the catalogue's
    /// `unsigned-image-turn-accepted` date, accepted with a warning since.
    #[default]
    ByDate,
    /// The early-2026 behaviour: a missing signature on a Gemini 3 model turn is refused (400).
    Strict,
    /// Today's behaviour: a missing signature is accepted; validation warns.
    Lenient,
}

impl SignaturePolicy {
    /// The policy's name as the fake server's `--signatures` flag spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SignaturePolicy::ByDate => "by-date",
            SignaturePolicy::Strict => "strict",
            SignaturePolicy::Lenient => "lenient",
        }
    }

    /// Whether a missing signature is refused at a date.
    pub fn is_strict_at(self, date: Date) -> bool {
        match self {
            SignaturePolicy::Strict => true,
            SignaturePolicy::Lenient => false,
            SignaturePolicy::ByDate => {
                catalogue::behaviour(catalogue::UNSIGNED_IMAGE_TURN_ACCEPTED)
                    .is_none_or(|behaviour| date < behaviour.since())
            }
        }
    }
}

impl std::str::FromStr for SignaturePolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<SignaturePolicy, String> {
        match text {
            "by-date" => Ok(SignaturePolicy::ByDate),
            "strict" => Ok(SignaturePolicy::Strict),
            "lenient" => Ok(SignaturePolicy::Lenient),
            other => Err(format!(
                "unknown signature policy \"{other}\": expected by-date, strict or lenient"
            )),
        }
    }
}

/// What a request field name the rules do not know costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnknownFields {
    /// Refused with the service's proto JSON 400 (what the service and the fake server do).
    #[default]
    Reject,
    /// Reported as a warning: the field is sent, and the service decides (a client's default,
    /// since the service adds fields before any client learns them).
    Warn,
}

impl Default for Options {
    fn default() -> Options {
        Options::at(Date::today())
    }
}

impl Options {
    /// The service as it was (or will be) at a date, signatures judged by that date, unknown
    /// fields refused.
    pub fn at(as_of: Date) -> Options {
        Options {
            as_of,
            signatures: SignaturePolicy::ByDate,
            unknown_fields: UnknownFields::Reject,
        }
    }

    /// What a client checks before sending: the service of today, unknown field names sent
    /// with a warning (the service adds fields before any client learns them).
    pub fn for_client() -> Options {
        Options::default().with_unknown_fields(UnknownFields::Warn)
    }

    /// The same options with another signature policy.
    pub fn with_signatures(self, signatures: SignaturePolicy) -> Options {
        Options { signatures, ..self }
    }

    /// The same options with another treatment of unknown field names.
    pub fn with_unknown_fields(self, unknown_fields: UnknownFields) -> Options {
        Options {
            unknown_fields,
            ..self
        }
    }

    /// The date of the service checked against.
    pub fn as_of(&self) -> Date {
        self.as_of
    }

    /// The signature policy.
    pub fn signatures(&self) -> SignaturePolicy {
        self.signatures
    }

    /// The treatment of unknown field names.
    pub fn unknown_fields(&self) -> UnknownFields {
        self.unknown_fields
    }

    /// Whether a missing signature on a Gemini 3 model turn is refused.
    pub fn signatures_strict(&self) -> bool {
        self.signatures.is_strict_at(self.as_of)
    }
}

/// The service's limit on inline data in one request: 100 MB since 2026-01-08
/// (SERVICE-2026.md §5).
pub const INLINE_DATA_LIMIT: u64 = 100 * 1024 * 1024;

/// Validates a typed request for a model (`models/` alias accepted).
///
/// ```
/// use nanobanana_rules::{validate_request, Rule};
/// use nanobanana_wire::{GenerateContentRequest, GenerationConfig, ImageConfig};
///
/// let request = GenerateContentRequest::new().with_generation_config(
///     GenerationConfig::new().with_image_config(ImageConfig::new().with_image_size("512")),
/// );
/// let report = validate_request("gemini-3-pro-image", &request);
/// let error = report.first_error().unwrap();
/// assert_eq!(error.rule(), Rule::ImageSizeSupported);
/// assert_eq!(error.path(), "/generationConfig/imageConfig/imageSize");
/// assert_eq!(
///     error.message(),
///     "Unsupported image size \"512\" for model gemini-3-pro-image. Allowed: 1K, 2K, 4K."
/// );
///
/// // A shut-down id is refused, naming its replacement.
/// let report = validate_request("gemini-3-pro-image-preview", &GenerateContentRequest::new());
/// assert_eq!(report.first_error().unwrap().rule(), Rule::ModelLifecycle);
/// assert!(report.first_error().unwrap().message().contains("Use gemini-3-pro-image instead."));
/// ```
pub fn validate_request(model: &str, request: &GenerateContentRequest) -> Report {
    validate_request_with(model, request, &Options::default())
}

/// [`validate_request`] with explicit [`Options`] (the service's date, signature policy,
/// unknown fields).
pub fn validate_request_with(
    model: &str,
    request: &GenerateContentRequest,
    options: &Options,
) -> Report {
    let mut unknown = Vec::new();
    let report = nanobanana_wire::UnknownReport::of(request);
    let pointers = || report.fields.iter().map(String::as_str);
    if fields::all_known_opaque(pointers()) {
        // Nothing unknown, or only known fields the wire types do not name and whose inside is
        // not checked (`safetySettings`): the pointers say it all.
    } else if let Ok(json) = serde_json::to_value(request) {
        // A known message the wire types do not name is kept whole among a struct's unknown
        // fields and may hold unknown names inside: the request is walked as the JSON it sends,
        // so both entry points report the same names, pointers and messages. Only a request
        // that is refused anyway (or holds such a message) pays for the copy.
        fields::check_json(&json, &mut unknown);
    } else {
        fields::check_pointers(pointers(), &mut unknown);
    }
    check(model, &RequestView::from_typed(request), unknown, options)
}

/// Validates a raw JSON request body for a model, accepting camelCase and snake_case keys.
///
/// Never panics, whatever the JSON: parts of the body that do not have the expected shape are
/// left to the decoder and not reported here. A `thoughtSignature` that is not base64 (standard
/// or URL-safe alphabet) is reported as `signature-base64`, and the rest is validated as usual.
///
/// ```
/// use nanobanana_rules::validate_request_json;
///
/// let body = serde_json::json!({
///     "contents": [
///         {"role": "user", "parts": [{"text": "A banana"}]},
///         {"role": "model", "parts": [{"text": "Here", "thought_signature": "not base64!"}]},
///         {"role": "user", "parts": [{"text": "Bluer"}]}
///     ],
///     "generation_config": {"image_config": {"image_size": "1k"}}
/// });
/// let report = validate_request_json("gemini-nano-banana-2.1", &body);
/// let rules: Vec<_> = report.violations().iter().map(|v| v.rule().id()).collect();
/// assert_eq!(rules, ["signature-base64", "image-size-casing"]);
/// assert_eq!(report.first_error().unwrap().message(), "Corrupted thought signature.");
/// assert_eq!(report.violations()[0].path(), "/contents/1/parts/0/thoughtSignature");
/// ```
pub fn validate_request_json(model: &str, body: &Value) -> Report {
    validate_request_json_with(model, body, &Options::default())
}

/// [`validate_request_json`] with explicit [`Options`] (the service's date, signature policy,
/// unknown fields).
pub fn validate_request_json_with(model: &str, body: &Value, options: &Options) -> Report {
    let mut unknown = Vec::new();
    fields::check_json(body, &mut unknown);
    check(model, &RequestView::from_json(body), unknown, options)
}

/// Whether a request part is an input image: inline data or a file reference whose MIME type is
/// `image/*` (or not given).
pub(crate) fn is_image_part(part: &Part) -> bool {
    PartView::from_typed(part).is_image()
}

fn check(
    model_id: &str,
    view: &RequestView<'_>,
    mut unknown_fields: Vec<Violation>,
    options: &Options,
) -> Report {
    // Sorted by path, so that a typed request and its JSON report the same first error whatever
    // order their maps keep.
    unknown_fields.sort_by(|a, b| a.path().cmp(b.path()));
    if options.unknown_fields == UnknownFields::Warn {
        for violation in &mut unknown_fields {
            violation.set_severity(Severity::Warning);
        }
    }
    let lookup = catalogue::lookup(model_id);
    let mut out = Vec::new();
    out.extend(lookup.warning());
    out.extend(lookup.lifecycle_violation(options.as_of));
    out.extend(unknown_fields);
    check_part_data(view, &mut out);
    check_signature_encoding(view, &mut out);
    check_modalities(lookup, view, &mut out);
    if let Lookup::Known(model) = lookup {
        check_image_size(model, view, &mut out);
        check_aspect_ratio(model, view, &mut out);
        check_thinking(model, view, &mut out);
        check_search(model, view, options.as_of, &mut out);
    }
    check_roles(view, &mut out);
    check_inline_size(view, &mut out);
    if let Lookup::Known(model) = lookup {
        check_input_modality(model, view, &mut out);
        check_input_image_count(model, view, &mut out);
        check_signature_circulation(model, view, options, &mut out);
    }
    Report::new(model_id, out)
}

fn check_part_data(view: &RequestView<'_>, out: &mut Vec<Violation>) {
    for (c, content) in view.contents.iter().enumerate() {
        for (p, part) in content.parts.iter().enumerate() {
            if matches!(part.kind, PartKind::Empty) {
                out.push(Violation::error(
                    Rule::PartData,
                    format!("/contents/{c}/parts/{p}"),
                    "a part with no data field",
                    "one of text, inlineData, fileData, functionCall, functionResponse, executableCode, codeExecutionResult",
                    format!(
                        "* GenerateContentRequest.contents[{c}].parts[{p}].data: required oneof field 'data' must have one initialized field"
                    ),
                ));
            }
        }
    }
}

fn check_inline_size(view: &RequestView<'_>, out: &mut Vec<Violation>) {
    if view.inline_bytes > INLINE_DATA_LIMIT {
        out.push(Violation::error(
            Rule::InlineDataSize,
            "/contents".to_owned(),
            format!("{} bytes of inline data", view.inline_bytes),
            format!("at most {INLINE_DATA_LIMIT} bytes (use the Files API or a URL for more)"),
            format!("Request payload size exceeds the limit: {INLINE_DATA_LIMIT} bytes."),
        ));
    }
}

fn check_signature_encoding(view: &RequestView<'_>, out: &mut Vec<Violation>) {
    for (c, content) in view.contents.iter().enumerate() {
        for (p, part) in content.parts.iter().enumerate() {
            if let SignatureView::Corrupted(sent) = &part.signature {
                out.push(Violation::error(
                    Rule::SignatureBase64,
                    format!("/contents/{c}/parts/{p}/thoughtSignature"),
                    abbreviate(sent),
                    "base64 in the standard or URL-safe alphabet, as received",
                    "Corrupted thought signature.".to_owned(),
                ));
            }
        }
    }
}

/// The response modalities an image model produces.
const IMAGE_MODEL_MODALITIES: &[Modality] = &[Modality::Text, Modality::Image];

fn check_modalities(lookup: Lookup<'_>, view: &RequestView<'_>, out: &mut Vec<Violation>) {
    for (index, modality) in view.modalities.iter().enumerate() {
        let Some(sent) = *modality else { continue };
        let path = format!("/generationConfig/responseModalities/{index}");
        let value = Modality::from_wire(sent);
        if !value.is_known() {
            out.push(Violation::error(
                Rule::ResponseModalities,
                path,
                sent,
                "TEXT, IMAGE",
                format!(
                    "Invalid value at 'generation_config.response_modalities[{index}]' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), \"{sent}\""
                ),
            ));
        } else if lookup.is_text_only() && value == Modality::Image {
            out.push(Violation::error(
                Rule::ModelCatalogue,
                path,
                value.as_str(),
                "TEXT (this model makes no images)",
                "Model does not support the requested response modalities: image".to_owned(),
            ));
        } else if lookup.model().is_some() && !IMAGE_MODEL_MODALITIES.contains(&value) {
            // Modalities are case-insensitive: a known one is named by its canonical spelling.
            out.push(Violation::error(
                Rule::ResponseModalities,
                path,
                value.as_str(),
                "TEXT, IMAGE",
                format!(
                    "Model does not support the requested response modalities: {}",
                    value.as_str().to_ascii_lowercase()
                ),
            ));
        }
    }
}

const IMAGE_SIZE_PATH: &str = "/generationConfig/imageConfig/imageSize";

fn check_image_size(model: &Model, view: &RequestView<'_>, out: &mut Vec<Violation>) {
    let Some(sent) = view.image_size else { return };
    check_image_size_at(
        model,
        sent,
        IMAGE_SIZE_PATH,
        "generation_config.image_config.image_size",
        out,
    );
}

/// The image size rules for a size sent at `path` (a JSON pointer); `field` names it in the
/// message that says to remove it.
pub(crate) fn check_image_size_at(
    model: &Model,
    sent: &str,
    path: &str,
    field: &str,
    out: &mut Vec<Violation>,
) {
    let id = model.id();
    if model.image_sizes().is_empty() {
        out.push(Violation::error(
            Rule::ImageSizeNotConfigurable,
            path.to_owned(),
            sent,
            "no imageSize",
            format!("Image size is not supported for model {id}; remove {field}."),
        ));
        return;
    }
    let size = ImageSize::from_wire(sent);
    if model.supports_image_size(&size) {
        return;
    }
    let allowed = join(model.image_sizes().iter().map(ImageSize::as_str));
    let upper = ImageSize::from_wire(&sent.to_ascii_uppercase());
    if model.supports_image_size(&upper) {
        out.push(Violation::error(
            Rule::ImageSizeCasing,
            path.to_owned(),
            sent,
            allowed.clone(),
            format!(
                "Unsupported image size \"{sent}\": image sizes use an upper-case K. Allowed for {id}: {allowed}."
            ),
        ));
    } else {
        out.push(Violation::error(
            Rule::ImageSizeSupported,
            path.to_owned(),
            sent,
            allowed.clone(),
            format!("Unsupported image size \"{sent}\" for model {id}. Allowed: {allowed}."),
        ));
    }
}

fn check_aspect_ratio(model: &Model, view: &RequestView<'_>, out: &mut Vec<Violation>) {
    let Some(sent) = view.aspect_ratio else {
        return;
    };
    check_aspect_ratio_at(
        model,
        sent,
        "/generationConfig/imageConfig/aspectRatio",
        out,
    );
}

/// The aspect ratio rule for a ratio sent at `path` (a JSON pointer).
pub(crate) fn check_aspect_ratio_at(
    model: &Model,
    sent: &str,
    path: &str,
    out: &mut Vec<Violation>,
) {
    if model.supports_aspect_ratio(&AspectRatio::from_wire(sent)) {
        return;
    }
    let allowed = join(model.aspect_ratios().iter().map(AspectRatio::as_str));
    out.push(Violation::error(
        Rule::AspectRatioSupported,
        path.to_owned(),
        sent,
        allowed.clone(),
        format!(
            "Unsupported aspect ratio \"{sent}\" for model {}. Allowed: {allowed}.",
            model.id()
        ),
    ));
}

fn check_thinking(model: &Model, view: &RequestView<'_>, out: &mut Vec<Violation>) {
    let Some(thinking) = &view.thinking else {
        return;
    };
    let id = model.id();
    match model.thinking() {
        Thinking::NotConfigurable => {
            out.push(Violation::error(
                Rule::ThinkingNotConfigurable,
                "/generationConfig/thinkingConfig".to_owned(),
                "thinkingConfig",
                "no thinkingConfig",
                format!(
                    "Thinking is not supported for model {id}; remove generation_config.thinking_config."
                ),
            ));
            return;
        }
        Thinking::Levels { levels, .. } => {
            if let Some(sent) = thinking.level {
                let level = ThinkingLevel::from_wire(sent);
                if level != ThinkingLevel::Unspecified && !levels.contains(&level) {
                    let allowed = join_lower(levels.iter().map(ThinkingLevel::as_str));
                    out.push(unsupported_thinking_level(id, &level, allowed));
                }
            }
        }
        Thinking::AlwaysOn => {
            if let Some(sent) = thinking.level
                && !ThinkingLevel::from_wire(sent).is_known()
            {
                let known = ThinkingLevel::WIRE_VALUES.iter().copied();
                let allowed = join_lower(known.filter(|v| !v.ends_with("UNSPECIFIED")));
                out.push(unsupported_thinking_level(
                    id,
                    &ThinkingLevel::from_wire(sent),
                    allowed,
                ));
            }
        }
    }
    // Both Gemini 3 image models think always: a zero budget would turn thinking off.
    if thinking.budget == Some(0) {
        out.push(Violation::error(
            Rule::ThinkingNotConfigurable,
            "/generationConfig/thinkingConfig/thinkingBudget".to_owned(),
            "0",
            "a thinking budget other than 0 (thinking is always on)",
            format!("Thinking cannot be disabled for model {id}."),
        ));
    }
}

/// Levels are case-insensitive on the wire; a known one is named in lower case, as the guide
/// writes them (the typed request no longer knows how it was spelt), an unknown one as sent.
fn unsupported_thinking_level(id: &str, level: &ThinkingLevel, allowed: String) -> Violation {
    let sent = match level {
        ThinkingLevel::Unknown(sent) => sent.clone(),
        known => known.as_str().to_ascii_lowercase(),
    };
    Violation::error(
        Rule::ThinkingLevelSupported,
        "/generationConfig/thinkingConfig/thinkingLevel".to_owned(),
        sent.clone(),
        allowed.clone(),
        format!("Unsupported thinking level \"{sent}\" for model {id}. Allowed: {allowed}."),
    )
}

fn check_search(model: &Model, view: &RequestView<'_>, as_of: Date, out: &mut Vec<Violation>) {
    if model.search().web() == Availability::Unavailable {
        let allowed_on = join(
            catalogue::available_at(as_of)
                .filter(|m| m.search().web() == Availability::Available)
                .map(Model::id),
        );
        for index in &view.search_tools {
            out.push(Violation::error(
                Rule::SearchSupported,
                format!("/tools/{index}/googleSearch"),
                "googleSearch",
                format!("only on {allowed_on}"),
                format!(
                    "Search grounding is not supported for model {}. Allowed only on {allowed_on}.",
                    model.id()
                ),
            ));
        }
        return;
    }
    if model.image_search() == Availability::Available {
        return;
    }
    let allowed_on = catalogue::available_at(as_of)
        .filter(|m| m.image_search() == Availability::Available)
        .map(Model::id);
    let allowed_on = join(allowed_on);
    for index in &view.image_search_tools {
        out.push(Violation::error(
            Rule::ImageSearchSupported,
            format!("/tools/{index}/googleSearch/searchTypes/imageSearch"),
            "imageSearch",
            format!("only on {allowed_on}"),
            format!(
                "Image search is not supported for model {}. Allowed only on {allowed_on}.",
                model.id()
            ),
        ));
    }
}

fn check_roles(view: &RequestView<'_>, out: &mut Vec<Violation>) {
    let mut previous: Option<RoleView<'_>> = None;
    for (index, content) in view.contents.iter().enumerate() {
        let broken = matches!(
            (previous, content.role),
            (_, RoleView::Other(_))
                | (None, RoleView::Model)
                | (Some(RoleView::User), RoleView::User)
        );
        if broken {
            let sent = match (previous, content.role) {
                (_, RoleView::Other(role)) => format!("role \"{role}\""),
                (None, _) => "a first content from the model".to_owned(),
                _ => "two user contents in a row".to_owned(),
            };
            out.push(Violation::error(
                Rule::RoleAlternation,
                format!("/contents/{index}/role"),
                sent,
                "user and model turns alternating, starting with user",
                "Please ensure that multiturn requests alternate between user and model."
                    .to_owned(),
            ));
        }
        previous = match content.role {
            // After a role that is neither, the next content is judged afresh.
            RoleView::Other(_) => Some(RoleView::Model),
            role => Some(role),
        };
    }
}

fn check_input_modality(model: &Model, view: &RequestView<'_>, out: &mut Vec<Violation>) {
    for (c, content) in view.contents.iter().enumerate() {
        for (p, part) in content.parts.iter().enumerate() {
            let PartKind::Media {
                field,
                mime: Some(mime),
            } = &part.kind
            else {
                continue;
            };
            let refused = (has_type(mime, "audio/") && !model.accepts_input("audio"))
                || (has_type(mime, "video/") && !model.accepts_input("video"));
            if refused {
                out.push(Violation::error(
                    Rule::InputModality,
                    format!("/contents/{c}/parts/{p}/{}/mimeType", field.wire_name()),
                    mime.as_ref(),
                    "text and image/* parts",
                    format!(
                        "Unsupported input MIME type \"{mime}\" in content position {}, part position {}. Allowed: text and image/* parts.",
                        c + 1,
                        p + 1
                    ),
                ));
            }
        }
    }
}

fn check_input_image_count(model: &Model, view: &RequestView<'_>, out: &mut Vec<Violation>) {
    // The last user turn: the contents after the last model content.
    let start = view
        .contents
        .iter()
        .rposition(|content| content.role != RoleView::User)
        .map_or(0, |index| index + 1);
    let images: Vec<(usize, usize)> = view.contents[start..]
        .iter()
        .enumerate()
        .flat_map(|(c, content)| {
            content
                .parts
                .iter()
                .enumerate()
                .filter(|(_, part)| part.is_image())
                .map(move |(p, _)| (start + c, p))
        })
        .collect();
    let id = model.id();
    let count = images.len();
    match model.reference_images() {
        ReferenceImages::Limit { total, .. } => {
            if let Some(&(c, p)) = images.get(total as usize) {
                out.push(Violation::error(
                    Rule::InputImageCount,
                    format!("/contents/{c}/parts/{p}"),
                    format!("{count} images"),
                    format!("at most {total} images"),
                    format!(
                        "Too many input images for model {id}: {count} sent, at most {total} allowed."
                    ),
                ));
            }
        }
        ReferenceImages::Advice { best_up_to } => {
            if let Some(&(c, p)) = images.get(best_up_to as usize) {
                out.push(Violation::warning(
                    Rule::InputImageCount,
                    format!("/contents/{c}/parts/{p}"),
                    format!("{count} images"),
                    format!("at most {best_up_to} images (advice)"),
                    format!(
                        "Too many input images for model {id}: {count} sent, works best with at most {best_up_to}."
                    ),
                ));
            }
        }
    }
}

fn check_signature_circulation(
    model: &Model,
    view: &RequestView<'_>,
    options: &Options,
    out: &mut Vec<Violation>,
) {
    let violation = match model.thought_signatures() {
        Signatures::Required if options.signatures_strict() => Violation::error,
        Signatures::Required | Signatures::Optional => Violation::warning,
    };
    let mut in_model_turn = false;
    let mut seen_non_thought = false;
    for (c, content) in view.contents.iter().enumerate() {
        if content.role != RoleView::Model {
            in_model_turn = false;
            continue;
        }
        if !in_model_turn {
            // A new model turn: a run of model contents counts as one.
            in_model_turn = true;
            seen_non_thought = false;
        }
        for (p, part) in content.parts.iter().enumerate() {
            if part.thought {
                continue;
            }
            let first = !seen_non_thought;
            seen_non_thought = true;
            if !matches!(part.signature, SignatureView::Absent) || !(first || part.is_image()) {
                continue;
            }
            let label = part.label();
            out.push(violation(
                Rule::SignatureCirculation,
                format!("/contents/{c}/parts/{p}"),
                "no thoughtSignature",
                "the thoughtSignature received with this part",
                format!(
                    "{label} is missing a thought_signature in content position {}, part position {}.",
                    c + 1,
                    p + 1
                ),
            ));
        }
    }
}

/// Joins wire spellings in lower case (`minimal, high`).
fn join_lower<'s>(items: impl IntoIterator<Item = &'s str>) -> String {
    join(items).to_ascii_lowercase()
}

/// At most 40 characters of what was sent, for reports.
fn abbreviate(text: &str) -> String {
    let mut out = String::new();
    for (count, ch) in text.chars().enumerate() {
        if count == 40 {
            let _ = write!(out, "... ({} characters)", text.chars().count());
            break;
        }
        out.push(ch);
    }
    out
}
