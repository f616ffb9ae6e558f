//! The `generateContent` request's field names as the service knows them (WIRE.md, "Encoding
//! rules": unknown request fields are rejected with 400), so that a client refuses, and the fake
//! server rejects, exactly the names the real service does not know.
//!
//! The table lists every field of the Gemini API's request messages, not only the ones the fixture
//! corpus exercises (and so the wire types name): `systemInstruction`, `safetySettings`,
//! `temperature` and the like are valid requests that must not be refused. It holds every field
//! google-genai 3.6.1 and @google/genai 3.3.0 put on the wire for the Gemini API
//! (SERVICE-2026.md §3, §0.6: `store`, `serviceTier`, `continuationToken`, `labels`,
//! `mediaResolution`, `audioTranscriptionConfig`, the part metadata fields, `mcpServers`). Messages the image
//! rules never look into (`toolConfig`, `functionCall`, `responseSchema`, ...) are accepted
//! whole, whatever they hold.

use std::borrow::Cow;

use nanobanana_wire::names::{camel_case, snake_case};
use serde_json::Value;

use crate::report::{Rule, Violation};

/// What a field holds, as far as the check goes.
#[derive(Clone, Copy)]
enum Kind {
    /// A scalar, or a message whose inside is not checked.
    Opaque,
    /// A message whose field names are checked (also for each element of a repeated field).
    Message(&'static [(&'static str, Kind)]),
}

use Kind::{Message, Opaque};

const BLOB: &[(&str, Kind)] = &[("mimeType", Opaque), ("data", Opaque)];
const FILE_DATA: &[(&str, Kind)] = &[("mimeType", Opaque), ("fileUri", Opaque)];
const PART: &[(&str, Kind)] = &[
    ("text", Opaque),
    ("inlineData", Message(BLOB)),
    ("fileData", Message(FILE_DATA)),
    ("functionCall", Opaque),
    ("functionResponse", Opaque),
    ("executableCode", Opaque),
    ("codeExecutionResult", Opaque),
    ("toolCall", Opaque),
    ("toolResponse", Opaque),
    ("thought", Opaque),
    ("thoughtSignature", Opaque),
    ("videoMetadata", Opaque),
    ("mediaResolution", Opaque),
    ("partMetadata", Opaque),
    ("audioMetadata", Opaque),
    ("documentMetadata", Opaque),
    ("speechMetadata", Opaque),
    ("spreadsheetMetadata", Opaque),
    ("mediaProcessing", Opaque),
    ("audioTranscription", Opaque),
];
const CONTENT: &[(&str, Kind)] = &[("role", Opaque), ("parts", Message(PART))];
const SEARCH_TYPES: &[(&str, Kind)] = &[("webSearch", Opaque), ("imageSearch", Opaque)];
const GOOGLE_SEARCH: &[(&str, Kind)] = &[
    ("searchTypes", Message(SEARCH_TYPES)),
    ("timeRangeFilter", Opaque),
];
const TOOL: &[(&str, Kind)] = &[
    ("functionDeclarations", Opaque),
    ("googleSearch", Message(GOOGLE_SEARCH)),
    ("googleSearchRetrieval", Opaque),
    ("codeExecution", Opaque),
    ("urlContext", Opaque),
    ("googleMaps", Opaque),
    ("fileSearch", Opaque),
    ("computerUse", Opaque),
    ("mcpServers", Opaque),
];
const IMAGE_CONFIG: &[(&str, Kind)] = &[("aspectRatio", Opaque), ("imageSize", Opaque)];
const THINKING_CONFIG: &[(&str, Kind)] = &[
    ("includeThoughts", Opaque),
    ("thinkingBudget", Opaque),
    ("thinkingLevel", Opaque),
];
const GENERATION_CONFIG: &[(&str, Kind)] = &[
    ("stopSequences", Opaque),
    ("responseMimeType", Opaque),
    ("responseSchema", Opaque),
    ("responseJsonSchema", Opaque),
    ("responseModalities", Opaque),
    ("candidateCount", Opaque),
    ("maxOutputTokens", Opaque),
    ("temperature", Opaque),
    ("topP", Opaque),
    ("topK", Opaque),
    ("seed", Opaque),
    ("presencePenalty", Opaque),
    ("frequencyPenalty", Opaque),
    ("responseLogprobs", Opaque),
    ("logprobs", Opaque),
    ("enableEnhancedCivicAnswers", Opaque),
    ("speechConfig", Opaque),
    ("thinkingConfig", Message(THINKING_CONFIG)),
    ("imageConfig", Message(IMAGE_CONFIG)),
    ("mediaResolution", Opaque),
    ("audioTranscriptionConfig", Opaque),
];
const REQUEST: &[(&str, Kind)] = &[
    ("model", Opaque),
    ("contents", Message(CONTENT)),
    ("systemInstruction", Message(CONTENT)),
    ("tools", Message(TOOL)),
    ("toolConfig", Opaque),
    ("safetySettings", Opaque),
    ("generationConfig", Message(GENERATION_CONFIG)),
    ("cachedContent", Opaque),
    ("serviceTier", Opaque),
    ("store", Opaque),
    ("continuationToken", Opaque),
    ("labels", Opaque),
];

/// The first field of a JSON request body that the service does not know, as the service's 400
/// answer words it, e.g. `Invalid JSON payload received. Unknown name "numberOfImages" at
/// 'generation_config.image_config': Cannot find field.`
///
/// A name is known when it is exactly a field's camelCase name or exactly its snake_case
/// spelling (`imageConfig`, `image_config`; not `image_Config` nor `ImageConfig`), as proto JSON
/// parsing accepts them. The message quotes the name as sent and spells the parent path in
/// snake_case with `[index]` for array elements, as proto JSON does; the JSON pointer escapes
/// `~` and `/` in names (RFC 6901: `~0`, `~1`).
pub(super) fn check_json(body: &Value, out: &mut Vec<Violation>) {
    let mut pointer = String::new();
    let mut proto_path = String::new();
    walk(body, REQUEST, &mut pointer, &mut proto_path, out);
}

/// The same check for the unknown fields a typed request carries, given as JSON pointers with
/// camelCase names (from `UnknownReport`, whose pointers escape names per RFC 6901 and always end
/// at the unknown field's name; every other all-digit segment is an array index).
pub(super) fn check_pointers<'a>(
    pointers: impl IntoIterator<Item = &'a str>,
    out: &mut Vec<Violation>,
) {
    for pointer in pointers {
        if let Resolved::Unknown { name, proto_path } = resolve(pointer) {
            out.push(violation(pointer, &name, &proto_path));
        }
    }
}

/// Whether every pointer names a known field whose inside is not checked (`safetySettings`,
/// `toolConfig`, ...): then the pointers tell everything, and the request's JSON need not be
/// walked.
pub(super) fn all_known_opaque<'a>(pointers: impl IntoIterator<Item = &'a str>) -> bool {
    pointers
        .into_iter()
        .all(|pointer| matches!(resolve(pointer), Resolved::Known(Opaque)))
}

/// What a pointer of `UnknownReport` leads to.
enum Resolved<'p> {
    /// A known field of this kind.
    Known(Kind),
    /// An unknown name (unescaped), with the proto path of its parent.
    Unknown {
        name: Cow<'p, str>,
        proto_path: String,
    },
}

fn resolve(pointer: &str) -> Resolved<'_> {
    let mut kind = Message(REQUEST);
    let mut proto_path = String::new();
    let mut segments = pointer.split('/').skip(1).peekable();
    while let Some(raw) = segments.next() {
        let Message(fields) = kind else { break };
        let last = segments.peek().is_none();
        if !last && is_index(raw) && !proto_path.is_empty() {
            proto_path.push_str(&format!("[{raw}]"));
            continue;
        }
        let name = unescape(raw);
        match lookup(fields, &name) {
            Some(next) => {
                if !proto_path.is_empty() {
                    proto_path.push('.');
                }
                proto_path.push_str(&snake_case(&name));
                kind = next;
            }
            None => return Resolved::Unknown { name, proto_path },
        }
    }
    Resolved::Known(kind)
}

fn walk(
    value: &Value,
    fields: &'static [(&'static str, Kind)],
    pointer: &mut String,
    proto_path: &mut String,
    out: &mut Vec<Violation>,
) {
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let (pointer_len, path_len) = (pointer.len(), proto_path.len());
                pointer.push_str(&format!("/{index}"));
                proto_path.push_str(&format!("[{index}]"));
                walk(item, fields, pointer, proto_path, out);
                pointer.truncate(pointer_len);
                proto_path.truncate(path_len);
            }
        }
        Value::Object(map) => {
            for (name, child) in map {
                let (pointer_len, path_len) = (pointer.len(), proto_path.len());
                let Some(kind) = lookup(fields, name) else {
                    pointer.push('/');
                    push_escaped(pointer, name);
                    out.push(violation(pointer, name, proto_path));
                    pointer.truncate(pointer_len);
                    continue;
                };
                pointer.push('/');
                pointer.push_str(&camel_case(name));
                if !proto_path.is_empty() {
                    proto_path.push('.');
                }
                proto_path.push_str(&snake_case(name));
                if let Message(inner) = kind {
                    walk(child, inner, pointer, proto_path, out);
                }
                pointer.truncate(pointer_len);
                proto_path.truncate(path_len);
            }
        }
        // Scalars where a message belongs are the decoder's business, not this check's.
        _ => {}
    }
}

/// The known field `name` spells: exactly its camelCase name, or exactly its snake_case spelling.
fn lookup(fields: &'static [(&'static str, Kind)], name: &str) -> Option<Kind> {
    fields
        .iter()
        .find(|(known, _)| *known == name || is_snake_spelling(known, name))
        .map(|(_, kind)| *kind)
}

/// Whether `name` is exactly the snake_case spelling of the camelCase `known` (`image_config`
/// for `imageConfig`), compared without allocating.
fn is_snake_spelling(known: &str, name: &str) -> bool {
    let mut expected = known.bytes().flat_map(|b| {
        if b.is_ascii_uppercase() {
            [Some(b'_'), Some(b.to_ascii_lowercase())]
        } else {
            [Some(b), None]
        }
        .into_iter()
        .flatten()
    });
    let mut sent = name.bytes();
    loop {
        match (expected.next(), sent.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// Whether a pointer segment is an array index (all ASCII digits).
fn is_index(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit())
}

/// Appends a name to a JSON pointer, escaped per RFC 6901 (`~` as `~0`, `/` as `~1`).
fn push_escaped(pointer: &mut String, name: &str) {
    for c in name.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// A JSON pointer segment unescaped (RFC 6901: `~1` is `/`, then `~0` is `~`).
fn unescape(segment: &str) -> Cow<'_, str> {
    if !segment.contains('~') {
        return Cow::Borrowed(segment);
    }
    Cow::Owned(segment.replace("~1", "/").replace("~0", "~"))
}

fn violation(pointer: &str, name: &str, proto_path: &str) -> Violation {
    let message = if proto_path.is_empty() {
        format!("Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.")
    } else {
        format!(
            "Invalid JSON payload received. Unknown name \"{name}\" at '{proto_path}': Cannot find field."
        )
    };
    Violation::error(
        Rule::UnknownRequestField,
        pointer.to_owned(),
        name,
        "the fields of the Gemini API's GenerateContentRequest, each by its exact camelCase name or its snake_case spelling",
        message,
    )
}
