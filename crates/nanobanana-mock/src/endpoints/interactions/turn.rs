//! From a create request to what the simulator reads: the Interactions API's `input` (a string,
//! a content, contents or steps; INTERACTIONS.md §4) as generateContent contents and as the
//! `user_input` steps of the timeline, and the whole request as the generateContent body that
//! `simulate` answers.

use serde_json::{Map, Value, json};

use nanobanana_wire::{
    Base64Bytes, CreateInteractionRequest, ImageContent, InteractionContent, Step, TextContent,
    UserInputStep,
};

use crate::signature::{Signed, Signer};

/// The step types a step-list input is recognised by (INTERACTIONS.md §3).
const STEP_TYPES: &[&str] = &[
    "user_input",
    "model_output",
    "thought",
    "function_call",
    "function_result",
];

/// The content types of an input (INTERACTIONS.md §3).
const CONTENT_TYPES: &str = "text, image, audio, video, document";

/// This turn: generateContent contents (a step list may hold earlier turns too) and the
/// `user_input` steps a get shows.
pub(super) struct Turn {
    pub(super) contents: Vec<Value>,
    pub(super) steps: Vec<Step>,
}

/// Reads `input`; a form the API does not have is a 400 message.
pub(super) fn read_input(input: Option<&Value>, signer: &Signer) -> Result<Turn, String> {
    let Some(input) = input else {
        return Err("Missing required parameter: input.".to_owned());
    };
    let is_step = |v: &Value| {
        v.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| STEP_TYPES.contains(&t))
    };
    let items: Vec<&Value> = match input {
        Value::String(text) => {
            return Ok(user_turn(
                vec![json!({"text": text})],
                vec![text_content(text)],
            ));
        }
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![input],
        _ => {
            return Err(
                "Invalid input: give a string, a content object, a list of contents or a list of steps."
                    .to_owned(),
            );
        }
    };
    if items.first().is_some_and(|first| is_step(first)) {
        return read_steps(&items, signer);
    }
    let (parts, content) = read_contents(&items)?;
    Ok(user_turn(parts, content))
}

fn user_turn(parts: Vec<Value>, content: Vec<InteractionContent>) -> Turn {
    Turn {
        contents: vec![json!({"role": "user", "parts": parts})],
        steps: vec![Step::UserInput(UserInputStep::new().with_content(content))],
    }
}

fn text_content(text: &str) -> InteractionContent {
    InteractionContent::Text(TextContent::new().with_text(text))
}

/// A step list (a conversation the client keeps, as with `store: false`): `user_input` steps
/// become user turns, `model_output` steps model turns (signed here: the API carries signatures
/// in thought steps, generateContent on parts); other steps carry nothing the simulator reads.
fn read_steps(items: &[&Value], signer: &Signer) -> Result<Turn, String> {
    let mut contents = Vec::new();
    let mut steps = Vec::new();
    for item in items {
        let content: Vec<&Value> = item
            .get("content")
            .and_then(Value::as_array)
            .map(|c| c.iter().collect())
            .unwrap_or_default();
        match item.get("type").and_then(Value::as_str) {
            Some("user_input") => {
                let (parts, typed) = read_contents(&content)?;
                contents.push(json!({"role": "user", "parts": parts}));
                steps.push(Step::UserInput(UserInputStep::new().with_content(typed)));
            }
            Some("model_output") => {
                let (parts, _) = read_contents(&content)?;
                let parts: Vec<Value> = parts.into_iter().map(|p| signed(p, signer)).collect();
                if !parts.is_empty() {
                    contents.push(json!({"role": "model", "parts": parts}));
                }
            }
            _ => {}
        }
    }
    if contents
        .last()
        .and_then(|c| c.get("role"))
        .and_then(Value::as_str)
        != Some("user")
    {
        return Err(
            "Invalid input: a list of steps must end with a user_input step (the new turn)."
                .to_owned(),
        );
    }
    Ok(Turn { contents, steps })
}

/// A model part sent back, signed the way generateContent's answers are.
fn signed(mut part: Value, signer: &Signer) -> Value {
    let signature = match (
        part.get("text").and_then(Value::as_str),
        part.pointer("/inlineData/data")
            .and_then(Value::as_str)
            .and_then(|d| Base64Bytes::from_base64(d).ok()),
    ) {
        (Some(text), _) => signer.sign(Signed::Text(text)),
        (None, Some(bytes)) => signer.sign(Signed::Image(bytes.as_slice())),
        (None, None) => return part,
    };
    part["thoughtSignature"] = json!(Base64Bytes::new(signature).to_base64());
    part
}

/// Contents as generateContent parts and as typed contents.
fn read_contents(items: &[&Value]) -> Result<(Vec<Value>, Vec<InteractionContent>), String> {
    let mut parts = Vec::new();
    let mut typed = Vec::new();
    for (position, item) in items.iter().enumerate() {
        let field = |name: &str| item.get(name).and_then(Value::as_str);
        match field("type") {
            Some("text") => {
                let text = field("text").unwrap_or_default();
                parts.push(json!({"text": text}));
                typed.push(text_content(text));
            }
            Some("image" | "audio" | "video" | "document") => {
                let mime = field("mime_type").unwrap_or("application/octet-stream");
                let part = match (field("data"), field("uri")) {
                    (Some(data), _) => json!({"inlineData": {"mimeType": mime, "data": data}}),
                    (None, Some(uri)) => json!({"fileData": {"fileUri": uri, "mimeType": mime}}),
                    (None, None) => {
                        return Err(format!(
                            "Invalid input content {}: a media content needs data or uri.",
                            position + 1
                        ));
                    }
                };
                parts.push(part);
                typed.push(
                    serde_json::from_value::<InteractionContent>((*item).clone()).unwrap_or_else(
                        |_| InteractionContent::Image(ImageContent::new().with_mime_type(mime)),
                    ),
                );
            }
            other => {
                return Err(format!(
                    "Unsupported input content type {} at position {}. Allowed: {CONTENT_TYPES}.",
                    other.map_or_else(|| "(none)".to_owned(), |t| format!("\"{t}\"")),
                    position + 1
                ));
            }
        }
    }
    if parts.is_empty() {
        return Err("Invalid input: it holds no content.".to_owned());
    }
    Ok((parts, typed))
}

/// The generateContent body the simulator answers: the conversation so far and this turn, the
/// image format's aspect ratio and size (or the deprecated `generation_config.image_config`),
/// the modalities the response formats ask for, the system instruction.
pub(super) fn generate_body(
    request: &CreateInteractionRequest,
    body: &Value,
    mut contents: Vec<Value>,
) -> Value {
    let formats: Vec<&Value> = match body.get("response_format") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(format @ Value::Object(_)) => vec![format],
        _ => Vec::new(),
    };
    let of_type = |t: &str| {
        formats
            .iter()
            .copied()
            .find(|f| f.get("type").and_then(Value::as_str) == Some(t))
    };
    let image = of_type("image").or_else(|| body.pointer("/generation_config/image_config"));
    let mut config = Map::new();
    let mut image_config = Map::new();
    for (from, to) in [("aspect_ratio", "aspectRatio"), ("image_size", "imageSize")] {
        if let Some(value) = image.and_then(|f| f.get(from)) {
            image_config.insert(to.to_owned(), value.clone());
        }
    }
    if !image_config.is_empty() {
        config.insert("imageConfig".to_owned(), Value::Object(image_config));
    }
    let modalities: Vec<String> = match body.get("response_modalities").and_then(Value::as_array) {
        Some(listed) => listed
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_uppercase)
            .collect(),
        None if of_type("text").is_some() && of_type("image").is_none() => vec!["TEXT".to_owned()],
        None => Vec::new(),
    };
    if !modalities.is_empty() {
        config.insert("responseModalities".to_owned(), json!(modalities));
    }
    let mut out = Map::new();
    out.insert(
        "contents".to_owned(),
        Value::Array(std::mem::take(&mut contents)),
    );
    if !config.is_empty() {
        out.insert("generationConfig".to_owned(), Value::Object(config));
    }
    if let Some(Value::String(text)) = request.unknown_fields.get("system_instruction") {
        out.insert(
            "systemInstruction".to_owned(),
            json!({"parts": [{"text": text}]}),
        );
    }
    Value::Object(out)
}
