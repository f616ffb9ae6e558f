//! The view of a request that the checks read: the few things the rules look at, borrowed from
//! a typed [`GenerateContentRequest`] or from a raw JSON body (camelCase or snake_case keys), so
//! that both entry points run exactly the same checks.
//!
//! Fields that the overlay guarantees (`contents`, `parts`, `inlineData`, `generationConfig`, ...)
//! are read from the typed structs. The few the wire types only have when the fixture corpus
//! exercises them (`thinkingBudget`, `searchTypes`, `fileData`) are read through JSON from the
//! small struct that holds them, so this module compiles and behaves the same whatever the corpus.

use std::borrow::Cow;

use nanobanana_wire::{
    AspectRatio, Base64Bytes, Content, GenerateContentRequest, ImageSize, Part, Role, ThinkingLevel,
};
use serde_json::Value;

/// The parts of a request the rules look at.
#[derive(Default)]
pub(super) struct RequestView<'a> {
    pub(super) contents: Vec<ContentView<'a>>,
    /// Indices of the tools that ask for Google Search (any kind).
    pub(super) search_tools: Vec<usize>,
    /// Indices of the tools that ask for image search.
    pub(super) image_search_tools: Vec<usize>,
    /// The decoded size of all inline data, estimated from the base64 length for JSON bodies.
    pub(super) inline_bytes: u64,
    /// `responseModalities` by position; `None` for an element that is not a string.
    pub(super) modalities: Vec<Option<&'a str>>,
    pub(super) image_size: Option<&'a str>,
    pub(super) aspect_ratio: Option<&'a str>,
    pub(super) thinking: Option<ThinkingView<'a>>,
}

/// `generationConfig.thinkingConfig`.
pub(super) struct ThinkingView<'a> {
    pub(super) level: Option<&'a str>,
    pub(super) budget: Option<i64>,
}

/// One content of the conversation.
pub(super) struct ContentView<'a> {
    pub(super) role: RoleView<'a>,
    pub(super) parts: Vec<PartView<'a>>,
}

/// Who a content is from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum RoleView<'a> {
    /// `user`, or no role at all (the service's default).
    User,
    Model,
    Other(&'a str),
}

/// One part of a content.
pub(super) struct PartView<'a> {
    pub(super) kind: PartKind<'a>,
    pub(super) thought: bool,
    pub(super) signature: SignatureView<'a>,
}

/// What a part holds.
pub(super) enum PartKind<'a> {
    Text,
    Media {
        field: MediaField,
        mime: Option<Cow<'a, str>>,
    },
    /// A function call or response, code, a tool call: data the image rules do not look into.
    Other,
    /// No data field at all (`{}`, `{"thought": true}`): the service refuses the request.
    Empty,
}

/// Which field holds a part's media: inline bytes or a file reference.
#[derive(Clone, Copy)]
pub(super) enum MediaField {
    Inline,
    File,
}

/// A part's `thoughtSignature`.
pub(super) enum SignatureView<'a> {
    Absent,
    Valid,
    /// Not base64, or not a string; as sent (JSON text for a non-string).
    Corrupted(Cow<'a, str>),
}

impl MediaField {
    pub(super) fn wire_name(self) -> &'static str {
        match self {
            MediaField::Inline => "inlineData",
            MediaField::File => "fileData",
        }
    }
}

impl PartView<'_> {
    pub(super) fn mime(&self) -> Option<&str> {
        match &self.kind {
            PartKind::Media { mime, .. } => mime.as_deref(),
            PartKind::Text | PartKind::Other | PartKind::Empty => None,
        }
    }

    pub(super) fn is_image(&self) -> bool {
        matches!(self.kind, PartKind::Media { .. })
            && self.mime().is_none_or(|mime| has_type(mime, "image/"))
    }

    /// `Image`, `Text` or nothing, as the service's signature messages name a part.
    pub(super) fn label(&self) -> &'static str {
        match self.kind {
            PartKind::Text => "Text part",
            PartKind::Media { .. } if self.is_image() => "Image part",
            PartKind::Media { .. } | PartKind::Other | PartKind::Empty => "Part",
        }
    }
}

/// Whether a MIME type starts with `prefix` (`image/`), ignoring letter case.
pub(super) fn has_type(mime: &str, prefix: &str) -> bool {
    mime.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

impl<'a> RequestView<'a> {
    pub(super) fn from_typed(request: &'a GenerateContentRequest) -> Self {
        let mut view = RequestView {
            contents: request
                .contents
                .iter()
                .map(ContentView::from_typed)
                .collect(),
            ..RequestView::default()
        };
        view.inline_bytes = request
            .contents
            .iter()
            .flat_map(|content| &content.parts)
            .filter_map(|part| part.inline_data.as_ref()?.data.as_ref())
            .map(|data| data.len() as u64)
            .sum();
        for (index, tool) in request.tools.iter().enumerate() {
            // `searchTypes` is read through JSON: the wire types only name the fields that the
            // fixture corpus exercises, and a `GoogleSearch` is a handful of bytes.
            let search = tool
                .google_search
                .as_ref()
                .and_then(|s| serde_json::to_value(s).ok());
            if search.is_some() {
                view.search_tools.push(index);
            }
            if search.as_ref().is_some_and(asks_for_image_search) {
                view.image_search_tools.push(index);
            }
        }
        if let Some(config) = &request.generation_config {
            view.modalities = config
                .response_modalities
                .iter()
                .map(|m| Some(m.as_str()))
                .collect();
            if let Some(image) = &config.image_config {
                view.image_size = image.image_size.as_ref().map(ImageSize::as_str);
                view.aspect_ratio = image.aspect_ratio.as_ref().map(AspectRatio::as_str);
            }
            if let Some(thinking) = &config.thinking_config {
                // `thinkingBudget` likewise, through JSON.
                let budget = serde_json::to_value(thinking).ok().and_then(|json| {
                    field(&json, "thinkingBudget", "thinking_budget").and_then(integer)
                });
                view.thinking = Some(ThinkingView {
                    level: thinking.thinking_level.as_ref().map(ThinkingLevel::as_str),
                    budget,
                });
            }
        }
        view
    }

    pub(super) fn from_json(body: &'a Value) -> Self {
        let mut view = RequestView::default();
        if let Some(contents) = field(body, "contents", "contents").and_then(Value::as_array) {
            view.contents = contents.iter().map(ContentView::from_json).collect();
            view.inline_bytes = contents
                .iter()
                .filter_map(|content| field(content, "parts", "parts")?.as_array())
                .flatten()
                .filter_map(|part| field(part, "inlineData", "inline_data"))
                .filter_map(|blob| field(blob, "data", "data")?.as_str())
                .map(|data| data.len() as u64 / 4 * 3)
                .sum();
        }
        if let Some(tools) = field(body, "tools", "tools").and_then(Value::as_array) {
            for (index, tool) in tools.iter().enumerate() {
                let search = field(tool, "googleSearch", "google_search");
                if search.is_some() {
                    view.search_tools.push(index);
                }
                if search.is_some_and(asks_for_image_search) {
                    view.image_search_tools.push(index);
                }
            }
        }
        let Some(config) = field(body, "generationConfig", "generation_config") else {
            return view;
        };
        if let Some(modalities) =
            field(config, "responseModalities", "response_modalities").and_then(Value::as_array)
        {
            view.modalities = modalities.iter().map(Value::as_str).collect();
        }
        if let Some(image) = field(config, "imageConfig", "image_config") {
            view.image_size = field(image, "imageSize", "image_size").and_then(Value::as_str);
            view.aspect_ratio = field(image, "aspectRatio", "aspect_ratio").and_then(Value::as_str);
        }
        if let Some(thinking) = field(config, "thinkingConfig", "thinking_config") {
            view.thinking = Some(ThinkingView {
                level: field(thinking, "thinkingLevel", "thinking_level").and_then(Value::as_str),
                budget: field(thinking, "thinkingBudget", "thinking_budget").and_then(integer),
            });
        }
        view
    }
}

impl<'a> ContentView<'a> {
    pub(super) fn from_typed(content: &'a Content) -> Self {
        let role = match &content.role {
            None | Some(Role::User) => RoleView::User,
            Some(Role::Model) => RoleView::Model,
            Some(other) => RoleView::Other(other.as_str()),
        };
        ContentView {
            role,
            parts: content.parts.iter().map(PartView::from_typed).collect(),
        }
    }

    pub(super) fn from_json(content: &'a Value) -> Self {
        let role = match field(content, "role", "role") {
            None => RoleView::User,
            Some(Value::String(role)) if role == "user" => RoleView::User,
            Some(Value::String(role)) if role == "model" => RoleView::Model,
            Some(Value::String(role)) => RoleView::Other(role),
            Some(_) => RoleView::Other("(not a string)"),
        };
        let parts = field(content, "parts", "parts")
            .and_then(Value::as_array)
            .map(|parts| parts.iter().map(PartView::from_json).collect())
            .unwrap_or_default();
        ContentView { role, parts }
    }
}

impl<'a> PartView<'a> {
    pub(super) fn from_typed(part: &'a Part) -> Self {
        let kind = if let Some(blob) = &part.inline_data {
            PartKind::Media {
                field: MediaField::Inline,
                mime: blob.mime_type.as_deref().map(Cow::Borrowed),
            }
        } else if part.text.is_some() {
            PartKind::Text
        } else {
            // Anything else (a `fileData` reference, a function call) is read through JSON: the
            // wire types only name the fields that the fixture corpus exercises, and without
            // inline data or text the part is small.
            match serde_json::to_value(part) {
                Ok(json) => PartKind::from_json(&json).into_owned(),
                Err(_) => PartKind::Other,
            }
        };
        let signature = match part.thought_signature {
            Some(_) => SignatureView::Valid,
            None => SignatureView::Absent,
        };
        PartView {
            kind,
            thought: part.thought == Some(true),
            signature,
        }
    }

    pub(super) fn from_json(part: &'a Value) -> Self {
        let signature = match field(part, "thoughtSignature", "thought_signature") {
            None => SignatureView::Absent,
            Some(Value::String(text)) => match Base64Bytes::from_base64(text) {
                Ok(_) => SignatureView::Valid,
                Err(_) => SignatureView::Corrupted(Cow::Borrowed(text)),
            },
            Some(other) => SignatureView::Corrupted(Cow::Owned(other.to_string())),
        };
        let thought = field(part, "thought", "thought").and_then(Value::as_bool) == Some(true);
        PartView {
            kind: PartKind::from_json(part),
            thought,
            signature,
        }
    }
}

impl<'a> PartKind<'a> {
    pub(super) fn from_json(part: &'a Value) -> Self {
        let media = |field: MediaField, blob: &'a Value| PartKind::Media {
            field,
            mime: self::field(blob, "mimeType", "mime_type")
                .and_then(Value::as_str)
                .map(Cow::Borrowed),
        };
        if let Some(blob) = field(part, "inlineData", "inline_data") {
            media(MediaField::Inline, blob)
        } else if field(part, "text", "text").is_some() {
            PartKind::Text
        } else if let Some(file) = field(part, "fileData", "file_data") {
            media(MediaField::File, file)
        } else if DATA_FIELDS
            .iter()
            .any(|(camel, snake)| field(part, camel, snake).is_some())
        {
            PartKind::Other
        } else {
            PartKind::Empty
        }
    }

    fn into_owned(self) -> PartKind<'static> {
        match self {
            PartKind::Text => PartKind::Text,
            PartKind::Media { field, mime } => PartKind::Media {
                field,
                mime: mime.map(|m| Cow::Owned(m.into_owned())),
            },
            PartKind::Other => PartKind::Other,
            PartKind::Empty => PartKind::Empty,
        }
    }
}

/// The members of a part's `data` oneof besides text, inline data and file data: a part with
/// none of them carries no data.
const DATA_FIELDS: &[(&str, &str)] = &[
    ("functionCall", "function_call"),
    ("functionResponse", "function_response"),
    ("executableCode", "executable_code"),
    ("codeExecutionResult", "code_execution_result"),
    ("toolCall", "tool_call"),
    ("toolResponse", "tool_response"),
];

/// A field of a JSON object by its camelCase or snake_case name; `null` counts as absent.
fn field<'v>(object: &'v Value, camel: &str, snake: &str) -> Option<&'v Value> {
    let map = object.as_object()?;
    map.get(camel)
        .or_else(|| map.get(snake))
        .filter(|value| !value.is_null())
}

/// A proto JSON integer: a number or a decimal string.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().map(|f| f as i64)),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Whether a `googleSearch` object asks for image search (`searchTypes.imageSearch`).
fn asks_for_image_search(search: &Value) -> bool {
    field(search, "searchTypes", "search_types")
        .and_then(|types| field(types, "imageSearch", "image_search"))
        .is_some()
}
