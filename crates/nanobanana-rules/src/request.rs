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
use crate::report::{Report, Rule, Violation};

/// Validates a typed request for a model (`models/` alias accepted).
///
/// ```
/// use nanobanana_rules::{validate_request, Rule};
/// use nanobanana_wire::{GenerateContentRequest, GenerationConfig, ImageConfig};
///
/// let request = GenerateContentRequest::new().with_generation_config(
///     GenerationConfig::new().with_image_config(ImageConfig::new().with_image_size("512")),
/// );
/// let report = validate_request("gemini-3-pro-image-preview", &request);
/// let error = report.first_error().unwrap();
/// assert_eq!(error.rule(), Rule::ImageSizeSupported);
/// assert_eq!(error.path(), "/generationConfig/imageConfig/imageSize");
/// assert_eq!(
///     error.message(),
///     "Unsupported image size \"512\" for model gemini-3-pro-image-preview. Allowed: 1K, 2K, 4K."
/// );
/// ```
pub fn validate_request(model: &str, request: &GenerateContentRequest) -> Report {
    let mut unknown = Vec::new();
    let report = nanobanana_wire::UnknownReport::of(request);
    fields::check_pointers(report.fields.iter().map(String::as_str), &mut unknown);
    check(model, &RequestView::from_typed(request), unknown)
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
/// let report = validate_request_json("gemini-3.1-flash-image-preview", &body);
/// let rules: Vec<_> = report.violations().iter().map(|v| v.rule().id()).collect();
/// assert_eq!(rules, ["signature-base64", "image-size-casing"]);
/// assert_eq!(report.first_error().unwrap().message(), "Corrupted thought signature.");
/// assert_eq!(report.violations()[0].path(), "/contents/1/parts/0/thoughtSignature");
/// ```
pub fn validate_request_json(model: &str, body: &Value) -> Report {
    let mut unknown = Vec::new();
    fields::check_json(body, &mut unknown);
    check(model, &RequestView::from_json(body), unknown)
}

/// Whether a request part is an input image: inline data or a file reference whose MIME type is
/// `image/*` (or not given).
pub(crate) fn is_image_part(part: &Part) -> bool {
    PartView::from_typed(part).is_image()
}

fn check(model_id: &str, view: &RequestView<'_>, mut unknown_fields: Vec<Violation>) -> Report {
    // Sorted by path, so that a typed request and its JSON report the same first error whatever
    // order their maps keep.
    unknown_fields.sort_by(|a, b| a.path().cmp(b.path()));
    let lookup = catalogue::lookup(model_id);
    let mut out = Vec::new();
    out.extend(lookup.warning());
    out.extend(unknown_fields);
    check_signature_encoding(view, &mut out);
    check_modalities(lookup, view, &mut out);
    if let Lookup::Known(model) = lookup {
        check_image_size(model, view, &mut out);
        check_aspect_ratio(model, view, &mut out);
        check_thinking(model, view, &mut out);
        check_image_search(model, view, &mut out);
    }
    check_roles(view, &mut out);
    if let Lookup::Known(model) = lookup {
        check_input_modality(view, &mut out);
        check_input_image_count(model, view, &mut out);
        check_signature_circulation(model, view, &mut out);
    }
    Report::new(model_id, out)
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
    let id = model.id();
    if model.image_sizes().is_empty() {
        out.push(Violation::error(
            Rule::ImageSizeNotConfigurable,
            IMAGE_SIZE_PATH.to_owned(),
            sent,
            "no imageSize",
            format!(
                "Image size is not supported for model {id}; remove generation_config.image_config.image_size."
            ),
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
            IMAGE_SIZE_PATH.to_owned(),
            sent,
            allowed.clone(),
            format!(
                "Unsupported image size \"{sent}\": image sizes use an upper-case K. Allowed for {id}: {allowed}."
            ),
        ));
    } else {
        out.push(Violation::error(
            Rule::ImageSizeSupported,
            IMAGE_SIZE_PATH.to_owned(),
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
    if model.supports_aspect_ratio(&AspectRatio::from_wire(sent)) {
        return;
    }
    let allowed = join(model.aspect_ratios().iter().map(AspectRatio::as_str));
    out.push(Violation::error(
        Rule::AspectRatioSupported,
        "/generationConfig/imageConfig/aspectRatio".to_owned(),
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

fn check_image_search(model: &Model, view: &RequestView<'_>, out: &mut Vec<Violation>) {
    if model.image_search() == Availability::Available {
        return;
    }
    let allowed_on = catalogue::models()
        .iter()
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

fn check_input_modality(view: &RequestView<'_>, out: &mut Vec<Violation>) {
    for (c, content) in view.contents.iter().enumerate() {
        for (p, part) in content.parts.iter().enumerate() {
            let PartKind::Media {
                field,
                mime: Some(mime),
            } = &part.kind
            else {
                continue;
            };
            if has_type(mime, "audio/") || has_type(mime, "video/") {
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

fn check_signature_circulation(model: &Model, view: &RequestView<'_>, out: &mut Vec<Violation>) {
    let violation = match model.thought_signatures() {
        Signatures::Required => Violation::error,
        Signatures::Optional => Violation::warning,
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
