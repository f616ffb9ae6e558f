//! The rules of an Interactions API create request (`POST /{v}/interactions`,
//! `docs/service/INTERACTIONS.md`): the same catalogue and checks as generateContent, at the
//! Interactions API's field names (snake_case pointers, as sent), and the API's error answers.

use nanobanana_wire::CreateInteractionRequest;
use serde_json::{Map, Value};

use crate::catalogue::{self, Lookup, Model};
use crate::report::{Report, Rule, Severity, Violation};
use crate::request::{Options, UnknownFields, check_aspect_ratio_at, check_image_size_at};

/// The fields of a model interaction's create request that google-genai 3.6.1 and
/// @google/genai 3.3.0 send (py `createmodelinteraction.py`).
const REQUEST_FIELDS: &[&str] = &[
    "model",
    "input",
    "response_format",
    "generation_config",
    "previous_interaction_id",
    "store",
    "background",
    "stream",
    "system_instruction",
    "tools",
    "service_tier",
    "webhook_config",
    "continuation_token",
    "safety_settings",
    "labels",
    "environment",
    "cached_content",
    "response_modalities",
    "response_mime_type",
];

/// The members of an image response format (py `imageresponseformat.py`).
const IMAGE_FORMAT_FIELDS: &[&str] = &[
    "type",
    "aspect_ratio",
    "image_size",
    "mime_type",
    "delivery",
];

/// The members of `generation_config` (py `generationconfig.py`).
const GENERATION_CONFIG_FIELDS: &[&str] = &[
    "image_config",
    "max_output_tokens",
    "seed",
    "speech_config",
    "stop_sequences",
    "temperature",
    "thinking_level",
    "thinking_summaries",
    "tool_choice",
    "top_p",
    "transcription_config",
    "video_config",
];

/// The members of the deprecated `generation_config.image_config`.
const IMAGE_CONFIG_FIELDS: &[&str] = &["aspect_ratio", "image_size"];

/// The only output MIME type of the image response format.
pub const IMAGE_FORMAT_MIME_TYPES: &[&str] = &["image/jpeg"];

/// The deliveries of the image response format.
pub const IMAGE_DELIVERIES: &[&str] = &["inline", "uri"];

/// Validates a typed create request (its `model` names the model).
///
/// ```
/// use nanobanana_rules::{validate_interaction, Rule};
/// use nanobanana_wire::{CreateInteractionRequest, ImageResponseFormat};
///
/// let request = CreateInteractionRequest::new()
///     .with_model("gemini-nano-banana-2.1")
///     .with_input("A nano banana dish")
///     .with_response_format(ImageResponseFormat::new().with_image_size("512"));
/// let report = validate_interaction(&request);
/// let error = report.first_error().unwrap();
/// assert_eq!(error.rule(), Rule::ImageSizeSupported);
/// assert_eq!(error.path(), "/response_format/image_size");
/// ```
pub fn validate_interaction(request: &CreateInteractionRequest) -> Report {
    validate_interaction_with(request, &Options::default())
}

/// [`validate_interaction`] with explicit [`Options`] (the service's date, unknown fields).
pub fn validate_interaction_with(request: &CreateInteractionRequest, options: &Options) -> Report {
    match serde_json::to_value(request) {
        Ok(body) => validate_interaction_json_with(&body, options),
        // Only a map with non-string keys fails to serialize; the typed request has none.
        Err(_) => Report::new(request.model.as_deref().unwrap_or(""), Vec::new()),
    }
}

/// Validates the JSON body of a create request. Never panics, whatever the JSON.
///
/// Checked in this order (the first error is what the service answers): the model
/// (`model-catalogue` warning, `model-lifecycle`), field names (`unknown-request-field`), then
/// each image `response_format` (`image-size-*`, `aspect-ratio-supported`,
/// `response-format-image`) and the deprecated `generation_config.image_config`.
///
/// ```
/// use nanobanana_rules::{interaction_error, validate_interaction_json};
///
/// let body = serde_json::json!({
///     "model": "gemini-nano-banana-2.1",
///     "input": "A nano banana dish",
///     "response_format": {"type": "image", "mime_type": "image/png"}
/// });
/// let report = validate_interaction_json(&body);
/// let answer = interaction_error(&report).unwrap();
/// assert_eq!((answer.status, answer.code), (400, "invalid_request"));
/// assert_eq!(answer.message, "Unsupported response_format.mime_type \"image/png\". Allowed: image/jpeg.");
/// ```
pub fn validate_interaction_json(body: &Value) -> Report {
    validate_interaction_json_with(body, &Options::default())
}

/// [`validate_interaction_json`] with explicit [`Options`].
pub fn validate_interaction_json_with(body: &Value, options: &Options) -> Report {
    let model_id = body.get("model").and_then(Value::as_str).unwrap_or("");
    let mut out = Vec::new();
    let lookup = catalogue::lookup(model_id);
    out.extend(lookup.warning().map(|v| v.at_path("/model")));
    out.extend(
        lookup
            .lifecycle_violation(options.as_of())
            .map(|v| v.at_path("/model")),
    );
    let mut unknown = Vec::new();
    if let Some(object) = body.as_object() {
        unknown_members(object, REQUEST_FIELDS, "", &mut unknown);
        if let Some(config) = object.get("generation_config").and_then(Value::as_object) {
            unknown_members(
                config,
                GENERATION_CONFIG_FIELDS,
                "/generation_config",
                &mut unknown,
            );
            if let Some(image) = config.get("image_config").and_then(Value::as_object) {
                let at = "/generation_config/image_config";
                unknown_members(image, IMAGE_CONFIG_FIELDS, at, &mut unknown);
            }
        }
        for (at, format) in image_formats(object) {
            unknown_members(format, IMAGE_FORMAT_FIELDS, &at, &mut unknown);
        }
    }
    if options.unknown_fields() == UnknownFields::Warn {
        for violation in &mut unknown {
            violation.set_severity(Severity::Warning);
        }
    }
    out.extend(unknown);
    if let Some(object) = body.as_object() {
        for (at, format) in image_formats(object) {
            check_image_format(lookup, format, &at, &mut out);
        }
        let image_config = object
            .get("generation_config")
            .and_then(|c| c.get("image_config"))
            .and_then(Value::as_object);
        if let (Some(config), Lookup::Known(model)) = (image_config, lookup) {
            check_size_and_ratio(model, config, "/generation_config/image_config", &mut out);
        }
    }
    Report::new(model_id, out)
}

/// Every image response format of the request with its pointer: `response_format` is one
/// format or a list of them.
fn image_formats(object: &Map<String, Value>) -> Vec<(String, &Map<String, Value>)> {
    let is_image = |f: &&Map<String, Value>| f.get("type").and_then(Value::as_str) == Some("image");
    match object.get("response_format") {
        Some(Value::Object(format)) => Some(format)
            .filter(is_image)
            .map(|f| ("/response_format".to_owned(), f))
            .into_iter()
            .collect(),
        Some(Value::Array(formats)) => formats
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((format!("/response_format/{i}"), f.as_object()?)))
            .filter(|(_, f)| is_image(f))
            .collect(),
        _ => Vec::new(),
    }
}

fn unknown_members(
    object: &Map<String, Value>,
    known: &[&str],
    at: &str,
    out: &mut Vec<Violation>,
) {
    for name in object.keys().filter(|k| !known.contains(&k.as_str())) {
        out.push(Violation::error(
            Rule::UnknownRequestField,
            format!("{at}/{name}"),
            name.as_str(),
            known.join(", "),
            format!("Unknown parameter: {name}."),
        ));
    }
}

fn check_image_format(
    lookup: Lookup<'_>,
    format: &Map<String, Value>,
    at: &str,
    out: &mut Vec<Violation>,
) {
    if let Lookup::Known(model) = lookup {
        check_size_and_ratio(model, format, at, out);
    }
    let field = |name: &str| format.get(name).and_then(Value::as_str);
    if let Some(sent) = field("mime_type").filter(|m| !IMAGE_FORMAT_MIME_TYPES.contains(m)) {
        let allowed = IMAGE_FORMAT_MIME_TYPES.join(", ");
        out.push(Violation::error(
            Rule::ResponseFormatImage,
            format!("{at}/mime_type"),
            sent,
            allowed.clone(),
            format!("Unsupported response_format.mime_type \"{sent}\". Allowed: {allowed}."),
        ));
    }
    if let Some(sent) = field("delivery").filter(|d| !IMAGE_DELIVERIES.contains(d)) {
        let allowed = IMAGE_DELIVERIES.join(", ");
        out.push(Violation::error(
            Rule::ResponseFormatImage,
            format!("{at}/delivery"),
            sent,
            allowed.clone(),
            format!("Unsupported response_format.delivery \"{sent}\". Allowed: {allowed}."),
        ));
    }
}

fn check_size_and_ratio(
    model: &Model,
    object: &Map<String, Value>,
    at: &str,
    out: &mut Vec<Violation>,
) {
    if let Some(size) = object.get("image_size").and_then(Value::as_str) {
        let path = format!("{at}/image_size");
        let field = path.trim_start_matches('/').replace('/', ".");
        check_image_size_at(model, size, &path, &field, out);
    }
    if let Some(ratio) = object.get("aspect_ratio").and_then(Value::as_str) {
        check_aspect_ratio_at(model, ratio, &format!("{at}/aspect_ratio"), out);
    }
}

/// The Interactions API's error answer to a request: HTTP status, string code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InteractionError {
    /// The HTTP status (400, 404).
    pub status: u16,
    /// The error code (`invalid_request`, `parameter_unknown`, `model_not_found`).
    pub code: &'static str,
    /// The message (`docs/service/INTERACTIONS.md` §6).
    pub message: String,
}

/// What the service answers to a request with this report: its first error as an Interactions
/// API error (`None` for a valid request). A shut-down or unreleased model is 404
/// `model_not_found`, an unknown field 400 `parameter_unknown`, anything else 400
/// `invalid_request` with the violation's message.
pub fn interaction_error(report: &Report) -> Option<InteractionError> {
    let first = report.first_error()?;
    Some(match first.rule() {
        Rule::ModelLifecycle => InteractionError {
            status: 404,
            code: "model_not_found",
            message: format!(
                "Model {} is not found or is not supported for interactions.",
                report.model()
            ),
        },
        Rule::UnknownRequestField => InteractionError {
            status: 400,
            code: "parameter_unknown",
            message: first.message().to_owned(),
        },
        _ => InteractionError {
            status: 400,
            code: "invalid_request",
            message: first.message().to_owned(),
        },
    })
}
