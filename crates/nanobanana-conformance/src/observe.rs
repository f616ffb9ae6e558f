//! What a client can observe in one answer: its status, error, outcome, decoded images with
//! their pixel sizes, the signature rules' verdict, grounding facts and a batch's state.
//!
//! Works on JSON values, not on the typed wire structs, so a malformed answer from a server under
//! test is reported as a finding rather than refused wholesale. The same code reads the recorded
//! answers of the corpus, so the facts a case expects and the facts a run observes are computed
//! alike (and the suite's tidy test holds them equal to the case files' `expect` blocks, which
//! `fixtures/tools/expect.py` derives independently in Python).

mod interactions;

use nanobanana_wire::names::snake_case;
use std::collections::BTreeMap;

use serde_json::Value;

use nanobanana_rules::OutcomeKind;
use nanobanana_wire::Base64Bytes;
use nanobanana_wire::corpus::RecordedResponse;
use nanobanana_wire::media::{self, ImageFormat};

use crate::suite::{
    Conclusion, ErrorFacts, Expect, GroundingFacts, ImageFacts, ImageKind, SignatureFinding,
    SignatureVerdict,
};

/// One HTTP answer, read whole.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub payload: Payload,
}

/// The body of an answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// A JSON body.
    Json(Value),
    /// A server-sent-event stream: the JSON of each `data:` line.
    Events(Vec<Value>),
    /// A body that is not JSON.
    Text(String),
    /// No body.
    Empty,
}

impl Answer {
    /// The answer a case recorded.
    pub fn from_recorded(response: &RecordedResponse) -> Self {
        let payload = if let Some(events) = &response.events {
            Payload::Events(events.clone())
        } else if let Some(body) = &response.body {
            Payload::Json(body.clone())
        } else if let Some(text) = &response.body_text {
            Payload::Text(text.clone())
        } else {
            Payload::Empty
        };
        Self {
            status: response.status,
            headers: response.headers.clone(),
            payload,
        }
    }

    /// An answer read off the wire. Bodies of `text/event-stream` answers are split into events;
    /// other bodies are JSON when they parse. Returns the problems met while splitting a stream.
    pub fn from_http(
        status: u16,
        headers: BTreeMap<String, String>,
        body: &[u8],
    ) -> (Self, Vec<String>) {
        let is_stream = headers
            .get("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream"));
        let mut problems = Vec::new();
        let payload = if is_stream {
            let (events, found) = split_events(body);
            problems = found;
            Payload::Events(events)
        } else if body.is_empty() {
            Payload::Empty
        } else {
            match serde_json::from_slice(body) {
                Ok(value) => Payload::Json(value),
                Err(_) => Payload::Text(String::from_utf8_lossy(body).into_owned()),
            }
        };
        (
            Self {
                status,
                headers,
                payload,
            },
            problems,
        )
    }

    /// The JSON body, if it is one.
    pub fn json(&self) -> Option<&Value> {
        match &self.payload {
            Payload::Json(v) => Some(v),
            _ => None,
        }
    }

    /// A header by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Splits a server-sent-event body into the JSON of its `data:` lines, with the problems found
/// (a line that is not an event field, an event that is not JSON, a stream cut inside an event).
pub fn split_events(body: &[u8]) -> (Vec<Value>, Vec<String>) {
    let text = String::from_utf8_lossy(body);
    let mut events = Vec::new();
    let mut problems = Vec::new();
    let mut data: Option<String> = None;
    let mut finish = |data: &mut Option<String>, events: &mut Vec<Value>| {
        if let Some(text) = data.take() {
            match serde_json::from_str::<Value>(&text) {
                Ok(v) => events.push(v),
                Err(e) => problems.push(format!(
                    "stream event {} is not JSON ({e}): {}",
                    events.len(),
                    abbreviate(&text, 80)
                )),
            }
        }
    };
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let ends_cleanly = normalised.is_empty() || normalised.ends_with("\n\n");
    for line in normalised.split('\n') {
        if line.is_empty() {
            finish(&mut data, &mut events);
        } else if let Some(rest) = line.strip_prefix("data:") {
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(rest);
                }
                None => data = Some(rest.to_owned()),
            }
        }
        // `event:`, `id:`, `retry:` and comment lines are legal SSE; the service sends none.
    }
    let cut = data.is_some();
    finish(&mut data, &mut events);
    if cut || !ends_cleanly {
        problems.push("the stream ends inside an event (no blank line after the last one)".into());
    }
    (events, problems)
}

/// What one answer shows a client.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// HTTP status.
    pub status: u16,
    /// What the answer amounts to.
    pub outcome: Conclusion,
    /// Candidate 0's finish reason (for a stream: the last event that has one).
    pub finish_reason: Option<String>,
    /// The error, if the answer is one (an error body, an array-wrapped one, an error event).
    pub error: Option<ErrorFacts>,
    /// The images of the answer's model answers, in order.
    pub images: Vec<ImageFacts>,
    /// Broken signature rules, by part (interaction not set).
    pub signature_violations: Vec<SignatureFinding>,
    /// Whether the answer holds a model answer with parts (so the signature rules apply).
    pub answered: bool,
    /// Whether a model answer holds thought parts (`thought: true`, text or image).
    pub thoughts: bool,
    /// Grounding facts of candidate 0.
    pub grounding: Option<GroundingFacts>,
    /// `metadata.state` of a batch operation.
    pub batch_state: Option<String>,
    /// Top-level fields of a JSON body that is not a model answer (a resource).
    pub resource_fields: Vec<String>,
    /// What could not be read: an image that does not decode, a stream event that is not JSON.
    pub problems: Vec<String>,
}

/// Reads what a client can observe in an answer (of generateContent and the resources, or of
/// the Interactions API).
pub fn observe(answer: &Answer) -> Observation {
    if interactions::is_interactions(answer) {
        return interactions::observe(answer);
    }
    let mut problems = Vec::new();
    if let (0, Payload::Text(text)) = (answer.status, &answer.payload) {
        problems.push(format!("no answer: {text}"));
    }
    let error = error_of(&answer.payload);
    let views = answer_views(&answer.payload);
    let answered = views.iter().any(|parts| !parts.is_empty());
    let thoughts = views.iter().flatten().any(|p| is_true(p.get("thought")));
    let mut images = Vec::new();
    let mut signature_violations = Vec::new();
    for parts in &views {
        for part in parts.iter() {
            if let Some(image) = image_of(part, &mut problems) {
                images.push(image);
            }
        }
        signature_violations.extend(signature_verdict(parts));
    }
    let finish_reason = candidate0(&answer.payload, "finishReason")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let grounding = candidate0(&answer.payload, "groundingMetadata").map(grounding_of);
    let body = match &answer.payload {
        Payload::Json(v) => Some(v),
        _ => None,
    };
    let batch_state = body
        .and_then(|b| field(b, "metadata"))
        .and_then(|m| field(m, "state"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let outcome = outcome_of(
        &answer.payload,
        error.is_some(),
        &views,
        &images,
        &finish_reason,
    );
    let resource_fields = match (outcome, body) {
        (Conclusion::Resource, Some(Value::Object(map))) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    Observation {
        status: answer.status,
        outcome,
        finish_reason,
        error,
        images,
        signature_violations,
        answered,
        thoughts,
        grounding,
        batch_state,
        resource_fields,
        problems,
    }
}

/// A field by its camelCase name, or its snake_case spelling (proto JSON accepts both).
pub(crate) fn field<'v>(value: &'v Value, camel: &str) -> Option<&'v Value> {
    let map = value.as_object()?;
    map.get(camel)
        .or_else(|| map.get(snake_case(camel).as_ref()))
}

fn is_true(value: Option<&Value>) -> bool {
    value.and_then(Value::as_bool).unwrap_or(false)
}

fn error_of(payload: &Payload) -> Option<ErrorFacts> {
    let error = match payload {
        Payload::Json(Value::Object(map)) => map.get("error"),
        Payload::Json(Value::Array(items)) if items.len() == 1 => items[0].get("error"),
        Payload::Events(events) => events.last().and_then(|e| e.get("error")),
        _ => None,
    }?;
    Some(ErrorFacts {
        code: error.get("code").and_then(Value::as_i64),
        status: error
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_owned),
        message: error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// The parts of candidate 0 of a GenerateContentResponse.
fn parts_of(response: &Value) -> Option<Vec<&Value>> {
    let candidates = field(response, "candidates")?.as_array()?;
    let first = candidates.first()?;
    Some(
        field(first, "content")
            .and_then(|c| field(c, "parts"))
            .and_then(Value::as_array)
            .map(|parts| parts.iter().collect())
            .unwrap_or_default(),
    )
}

/// The model answers of a payload: the body's, the stream's (parts concatenated), or those
/// nested in a batch operation.
pub(crate) fn answer_views(payload: &Payload) -> Vec<Vec<&Value>> {
    match payload {
        Payload::Events(events) => {
            let mut parts = Vec::new();
            let mut any = false;
            for event in events.iter().filter(|e| e.get("error").is_none()) {
                if let Some(p) = parts_of(event) {
                    any = true;
                    parts.extend(p);
                }
            }
            if any { vec![parts] } else { Vec::new() }
        }
        Payload::Json(body) => {
            if field(body, "candidates").is_some() {
                return parts_of(body).into_iter().collect();
            }
            let mut nested = Vec::new();
            collect_nested(body, true, &mut nested);
            nested.into_iter().filter_map(parts_of).collect()
        }
        _ => Vec::new(),
    }
}

fn collect_nested<'v>(value: &'v Value, root: bool, out: &mut Vec<&'v Value>) {
    match value {
        Value::Object(map) => {
            if !root && map.contains_key("candidates") {
                out.push(value);
            }
            for v in map.values() {
                collect_nested(v, false, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_nested(v, false, out)),
        _ => {}
    }
}

/// Candidate 0's `name` field: in the body, or in the last event that has it.
fn candidate0<'v>(payload: &'v Payload, name: &str) -> Option<&'v Value> {
    let holders: Vec<&Value> = match payload {
        Payload::Json(body) => vec![body],
        Payload::Events(events) => events.iter().rev().collect(),
        _ => Vec::new(),
    };
    holders.into_iter().find_map(|h| {
        field(h, "candidates")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .and_then(|c| field(c, name))
    })
}

fn image_of(part: &Value, problems: &mut Vec<String>) -> Option<ImageFacts> {
    let blob = field(part, "inlineData")?;
    let kind = if is_true(part.get("thought")) {
        ImageKind::Thought
    } else {
        ImageKind::Final
    };
    let Some(text) = field(blob, "data").and_then(Value::as_str) else {
        problems.push("an inlineData part has no data".into());
        return None;
    };
    let bytes = match Base64Bytes::from_base64(text) {
        Ok(b) => b,
        Err(e) => {
            problems.push(format!("an inlineData part's data is not base64: {e}"));
            return None;
        }
    };
    match png_or_jpeg(bytes.as_slice()) {
        Some((mime, width, height)) => Some(ImageFacts {
            kind,
            width,
            height,
            mime_type: Some(mime.to_owned()),
        }),
        None => {
            let declared = field(blob, "mimeType").and_then(Value::as_str);
            if declared.is_some_and(|m| m.starts_with("image/")) {
                problems.push(format!(
                    "an inlineData part declared {} holds {} bytes that are no PNG or JPEG",
                    declared.unwrap_or_default(),
                    bytes.len()
                ));
            }
            None
        }
    }
}

/// `(MIME type, width, height)` of a PNG or JPEG from its header (`nanobanana_wire::media`: the
/// type from the magic bytes, the size from the IHDR chunk or the first frame header); `None`
/// for anything else. Header-level, as the observation is: a whole file is not required.
pub(crate) fn png_or_jpeg(data: &[u8]) -> Option<(&'static str, u32, u32)> {
    let format = ImageFormat::detect(data)
        .filter(|format| matches!(format, ImageFormat::Png | ImageFormat::Jpeg))?;
    let size = media::dimensions(data)?;
    Some((format.mime_type(), size.width, size.height))
}

/// SPEC.md §4 on the parts of one model answer.
pub(crate) fn signature_verdict(parts: &[&Value]) -> Vec<SignatureFinding> {
    let signed = |p: &Value| field(p, "thoughtSignature").is_some();
    let first = parts.iter().position(|p| !is_true(p.get("thought")));
    let mut out = Vec::new();
    let finding = |rule: &str, part| SignatureFinding {
        rule: rule.to_owned(),
        part,
        interaction: None,
    };
    for (i, part) in parts.iter().enumerate() {
        if is_true(part.get("thought")) {
            if signed(part) {
                out.push(finding("response-thought-unsigned", i));
            }
            continue;
        }
        if field(part, "inlineData").is_some() && !signed(part) {
            out.push(finding("response-image-signed", i));
        }
        if Some(i) == first && !signed(part) {
            out.push(finding("response-first-part-signed", i));
        }
        if part.get("text").is_some() && first.is_some_and(|f| i > f) && signed(part) {
            out.push(finding("response-later-text-unsigned", i));
        }
    }
    out
}

fn grounding_of(metadata: &Value) -> GroundingFacts {
    let chunks = field(metadata, "groundingChunks")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let strings = |name: &str| -> Vec<String> {
        field(metadata, name)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    GroundingFacts {
        web_chunks: chunks.iter().filter(|c| c.get("web").is_some()).count(),
        image_chunks: chunks.iter().filter(|c| c.get("image").is_some()).count(),
        supports: field(metadata, "groundingSupports")
            .and_then(Value::as_array)
            .map_or(0, Vec::len),
        search_entry_point: field(metadata, "searchEntryPoint")
            .and_then(|e| field(e, "renderedContent"))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty()),
        web_search_queries: strings("webSearchQueries"),
        image_search_queries: strings("imageSearchQueries"),
    }
}

fn outcome_of(
    payload: &Payload,
    is_error: bool,
    views: &[Vec<&Value>],
    images: &[ImageFacts],
    finish_reason: &Option<String>,
) -> Conclusion {
    if is_error {
        return Conclusion::Error;
    }
    let body = match payload {
        Payload::Json(v) => Some(v),
        _ => None,
    };
    let candidates_empty = body
        .and_then(|b| field(b, "candidates"))
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    let blocked = body
        .and_then(|b| field(b, "promptFeedback"))
        .and_then(|f| field(f, "blockReason"))
        .is_some();
    if body.is_some() && candidates_empty && blocked {
        return Conclusion::Answer(OutcomeKind::BlockedPrompt);
    }
    let is_answer = match payload {
        Payload::Json(b) => {
            field(b, "candidates").is_some() || field(b, "promptFeedback").is_some()
        }
        Payload::Events(events) => !events.is_empty(),
        _ => false,
    };
    if !is_answer && views.is_empty() {
        return Conclusion::Resource;
    }
    match finish_reason.as_deref() {
        Some("NO_IMAGE") => return Conclusion::Answer(OutcomeKind::NoImage),
        Some("IMAGE_SAFETY") => return Conclusion::Answer(OutcomeKind::ImageSafety),
        Some("IMAGE_PROHIBITED_CONTENT") => {
            return Conclusion::Answer(OutcomeKind::ImageProhibitedContent);
        }
        _ => {}
    }
    if images.iter().any(|i| i.kind == ImageKind::Final) {
        return Conclusion::Answer(OutcomeKind::Images);
    }
    let has_text = views
        .iter()
        .flatten()
        .any(|p| p.get("text").is_some() && !is_true(p.get("thought")));
    if has_text {
        Conclusion::Answer(OutcomeKind::TextOnly)
    } else {
        Conclusion::Other
    }
}

/// The `expect` block of a case whose answers are `answers`: the validator's verdict (`valid`,
/// `violations`, `warnings`) from `hand`, everything else derived from the answers exactly as
/// `fixtures/tools/expect.py` derives it.
pub fn derive_expect(answers: &[Answer], hand: &Expect) -> Expect {
    let mut violations = Vec::new();
    let mut answered = false;
    let mut last = None;
    for (index, answer) in answers.iter().enumerate() {
        let mut observation = observe(answer);
        answered |= observation.answered;
        violations.extend(
            std::mem::take(&mut observation.signature_violations)
                .into_iter()
                .map(|f| SignatureFinding {
                    interaction: (index > 0).then_some(index),
                    ..f
                }),
        );
        last = Some(observation);
    }
    let signatures = (answered || !violations.is_empty()).then_some(SignatureVerdict {
        ok: violations.is_empty(),
        violations,
    });
    let mut expect = Expect {
        valid: hand.valid,
        violations: hand.violations.clone(),
        warnings: hand.warnings.clone(),
        signatures,
        ..Expect::default()
    };
    if let Some(last) = last {
        expect.status = Some(last.status);
        expect.outcome = Some(last.outcome);
        expect.finish_reason = last.finish_reason;
        expect.error = last.error;
        expect.images = last.images;
        expect.grounding = last.grounding;
        expect.batch_state = last.batch_state;
    }
    expect
}

/// The first `max` characters of `text`, with an ellipsis when cut.
pub(crate) fn abbreviate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let head: String = text.chars().take(max).collect();
        format!("{head}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_split_on_blank_lines_with_either_line_end() {
        let (events, problems) = split_events(b"data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\n\n");
        assert_eq!(events, [json!({"a": 1}), json!({"b": 2})]);
        assert!(problems.is_empty());
        let (events, problems) = split_events(b"data: {\"a\":1}\n\ndata: {\"b\"");
        assert_eq!(events, [json!({"a": 1})]);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn signature_rules_of_spec_section_4() {
        let parts = [
            json!({"text": "thinking", "thought": true, "thoughtSignature": "c2ln"}),
            json!({"text": "first"}),
            json!({"inlineData": {"mimeType": "image/png", "data": "AA=="}}),
            json!({"text": "later", "thoughtSignature": "c2ln"}),
        ];
        let refs: Vec<&Value> = parts.iter().collect();
        let rules: Vec<(String, usize)> = signature_verdict(&refs)
            .into_iter()
            .map(|f| (f.rule, f.part))
            .collect();
        assert_eq!(
            rules,
            [
                ("response-thought-unsigned".to_owned(), 0),
                ("response-first-part-signed".to_owned(), 1),
                ("response-image-signed".to_owned(), 2),
                ("response-later-text-unsigned".to_owned(), 3),
            ]
        );
    }

    #[test]
    fn reads_png_and_jpeg_sizes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(640u32.to_be_bytes());
        png.extend(480u32.to_be_bytes());
        assert_eq!(png_or_jpeg(&png), Some(("image/png", 640, 480)));
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0, 20, 0, 30, 1, 0, 0, 0,
        ];
        assert_eq!(png_or_jpeg(&jpeg), Some(("image/jpeg", 30, 20)));
        assert_eq!(png_or_jpeg(b"GIF89a"), None);
    }
}
