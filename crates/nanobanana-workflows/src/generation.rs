//! The result of a generation: the answer with its [`Outcome`], final and thought images,
//! text, token usage, the predicted and actual pixel size, grounding, and saving to disk.

use std::path::Path;

use nanobanana_rules::resolution::{self, Prediction};
use nanobanana_wire::{
    Blob, Candidate, Content, FinishReason, GenerateContentRequest, GenerateContentResponse,
    Modality, Part, Role, UsageMetadata,
};

use crate::error::Error;
use crate::grounding::Grounding;
use crate::media::{Dimensions, ImageFormat, dimensions};
use crate::save;
use nanobanana_rules::Outcome;

/// What one generation produced. The [`outcome`](Self::outcome) says what kind of answer it
/// is; images, text and usage are there whatever it is (empty when the answer has none).
///
/// `send()` returns a `Generation` for every answer the service gives, including a blocked
/// prompt or `NO_IMAGE`, so that callers can match on the outcome;
/// [`require_images`](Self::require_images) turns every outcome but images into an
/// [`Error::Unusable`] for `?`.
#[derive(Clone, Debug)]
pub struct Generation {
    model: String,
    response: GenerateContentResponse,
    outcome: Outcome,
    prediction: Option<Prediction>,
}

impl Generation {
    /// Wraps an answer to `request` for `model`.
    pub fn new(
        model: impl Into<String>,
        request: &GenerateContentRequest,
        response: GenerateContentResponse,
    ) -> Self {
        let model = model.into();
        let prediction = resolution::predict(&model, request);
        let outcome = Outcome::of(&response);
        Self {
            model,
            response,
            outcome,
            prediction: Some(prediction),
        }
    }

    /// Wraps an answer whose request's prediction is already known (a batch item), or unknown
    /// (`None`: a batch collected without its requests at hand).
    pub(crate) fn with_prediction(
        model: String,
        prediction: Option<Prediction>,
        response: GenerateContentResponse,
    ) -> Self {
        let outcome = Outcome::of(&response);
        Self {
            model,
            response,
            outcome,
            prediction,
        }
    }

    /// What kind of answer this is.
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// This generation if it holds images; otherwise [`Error::Unusable`] with the outcome.
    pub fn require_images(self) -> Result<Self, Error> {
        if self.outcome.has_images() {
            Ok(self)
        } else {
            Err(Error::Unusable {
                outcome: self.outcome,
            })
        }
    }

    /// The model id the request went to.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The answer as the service sent it (for a stream: its chunks assembled).
    pub fn response(&self) -> &GenerateContentResponse {
        &self.response
    }

    /// Takes the answer out.
    pub fn into_response(self) -> GenerateContentResponse {
        self.response
    }

    fn candidate(&self) -> Option<&Candidate> {
        self.response.candidates.first()
    }

    /// The model's content (first candidate), exactly as received: what a conversation sends
    /// back.
    pub fn content(&self) -> Option<&Content> {
        self.candidate().and_then(|c| c.content.as_ref())
    }

    fn parts(&self) -> &[Part] {
        self.content()
            .map(|c| c.parts.as_slice())
            .unwrap_or_default()
    }

    /// The finish reason of the first candidate.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.candidate().and_then(|c| c.finish_reason.as_ref())
    }

    /// The final (non-thought) images, in order.
    pub fn final_images(&self) -> Vec<Image<'_>> {
        self.images(false)
    }

    /// The thought images (`includeThoughts`), in order. The last one is the final render
    /// itself (SPEC.md §3); the others are interim drafts.
    pub fn thought_images(&self) -> Vec<Image<'_>> {
        self.images(true)
    }

    fn images(&self, thought: bool) -> Vec<Image<'_>> {
        self.image_iter(thought).collect()
    }

    fn image_iter(&self, thought: bool) -> impl Iterator<Item = Image<'_>> {
        self.parts()
            .iter()
            .enumerate()
            .filter(move |(_, part)| part.is_thought() == thought)
            .filter_map(|(index, part)| {
                part.inline_data.as_ref().map(|blob| Image {
                    part_index: index,
                    part,
                    blob,
                })
            })
    }

    /// The first final image.
    pub fn image(&self) -> Option<Image<'_>> {
        self.image_iter(false).next()
    }

    /// The non-thought text, concatenated (empty when there is none).
    pub fn text(&self) -> String {
        self.texts(false)
    }

    /// The thought summaries (`includeThoughts`), concatenated.
    pub fn thought_text(&self) -> String {
        self.texts(true)
    }

    fn texts(&self, thought: bool) -> String {
        self.parts()
            .iter()
            .filter(|part| part.is_thought() == thought && part.inline_data.is_none())
            .filter_map(|part| part.text.as_deref())
            .collect()
    }

    /// Token usage.
    pub fn usage(&self) -> Usage {
        Usage::from_metadata(self.response.usage_metadata.as_ref())
    }

    /// What the resolution table predicted for the request (SPEC.md §1); `None` when the
    /// request is not known (a batch item collected by [`BatchJob::attach`](crate::BatchJob::attach)
    /// in another process than the one that submitted it).
    pub fn prediction(&self) -> Option<&Prediction> {
        self.prediction.as_ref()
    }

    /// The predicted pixel size, when the request and the table know it.
    pub fn predicted_dimensions(&self) -> Option<Dimensions> {
        self.prediction.as_ref().and_then(crate::media::predicted)
    }

    /// The pixel size of the first final image, read from its header.
    pub fn actual_dimensions(&self) -> Option<Dimensions> {
        self.image().and_then(|image| image.dimensions())
    }

    /// Whether the first final image has the predicted size; `None` when either is unknown.
    /// The one known erratum of the table (3.1 Flash, 21:9 at 512) counts as a match at either
    /// its published or its consistent size.
    pub fn matches_prediction(&self) -> Option<bool> {
        let actual = self.actual_dimensions()?;
        let entry = self.prediction.as_ref()?.entry()?;
        let published = (entry.width(), entry.height()) == (actual.width, actual.height);
        let consistent = entry.erratum().is_some_and(|e| {
            (e.consistent_width(), e.consistent_height()) == (actual.width, actual.height)
        });
        Some(published || consistent)
    }

    /// The grounding metadata (Google Search), if the answer has it.
    pub fn grounding(&self) -> Option<Grounding<'_>> {
        let metadata = self.candidate()?.grounding_metadata.as_ref()?;
        Some(Grounding::new(metadata, self.parts()))
    }

    /// Saves the first final image to `path`, atomically, refusing to replace an existing file
    /// ([`Error::AlreadyExists`]). Without an image: [`Error::Unusable`] with the outcome.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.first_image_or_outcome()?.save(path)
    }

    /// Saves the first final image to `path`, atomically replacing a file that exists.
    pub fn save_replacing(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.first_image_or_outcome()?.save_replacing(path)
    }

    fn first_image_or_outcome(&self) -> Result<Image<'_>, Error> {
        self.image().ok_or_else(|| Error::Unusable {
            outcome: self.outcome.clone(),
        })
    }
}

/// An image of an answer, borrowed from it.
#[derive(Clone, Copy, Debug)]
pub struct Image<'a> {
    part_index: usize,
    part: &'a Part,
    blob: &'a Blob,
}

impl<'a> Image<'a> {
    /// The image bytes (empty if the part carried none).
    pub fn bytes(&self) -> &'a [u8] {
        self.blob
            .data
            .as_ref()
            .map(|data| data.as_slice())
            .unwrap_or_default()
    }

    /// The MIME type the service gave, e.g. `image/png`.
    pub fn mime_type(&self) -> Option<&'a str> {
        self.blob.mime_type.as_deref()
    }

    /// The type recognised from the bytes.
    pub fn format(&self) -> Option<ImageFormat> {
        ImageFormat::detect(self.bytes())
    }

    /// The pixel size read from the header (PNG, JPEG, GIF, WebP).
    pub fn dimensions(&self) -> Option<Dimensions> {
        dimensions(self.bytes())
    }

    /// Whether this is a thought image.
    pub fn is_thought(&self) -> bool {
        self.part.is_thought()
    }

    /// The 0-based position of its part in the model's content.
    pub fn part_index(&self) -> usize {
        self.part_index
    }

    /// The part as received (with its thought signature, if any).
    pub fn part(&self) -> &'a Part {
        self.part
    }

    /// Writes the image to `path` atomically (a temporary file in the same directory, then a
    /// link or rename into place), refusing to replace an existing file
    /// ([`Error::AlreadyExists`]). Blocking.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        save::write_new(path.as_ref(), self.bytes())
    }

    /// Writes the image to `path` atomically, replacing a file that exists. Blocking.
    pub fn save_replacing(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        save::write_replacing(path.as_ref(), self.bytes())
    }

    /// Decodes the image (PNG or JPEG) with the `image` crate.
    #[cfg(feature = "image")]
    pub fn to_dynamic_image(&self) -> Result<image::DynamicImage, Error> {
        let format = match self.format() {
            Some(ImageFormat::Png) => image::ImageFormat::Png,
            Some(ImageFormat::Jpeg) => image::ImageFormat::Jpeg,
            other => {
                return Err(Error::invalid(format!(
                    "cannot decode a {} image: the image feature decodes PNG and JPEG",
                    other.map_or_else(|| "unrecognised".to_owned(), |f| f.to_string())
                )));
            }
        };
        image::load_from_memory_with_format(self.bytes(), format)
            .map_err(|e| Error::invalid(format!("the image does not decode: {e}")))
    }
}

/// Token counts of an answer (`usageMetadata`); `None` where the service gave no figure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// Tokens of the request (`promptTokenCount`), images included.
    pub prompt_tokens: Option<u64>,
    /// Tokens of the answer (`candidatesTokenCount`).
    pub output_tokens: Option<u64>,
    /// Of the answer, the image tokens (`candidatesTokensDetails` with modality `IMAGE`).
    pub image_output_tokens: Option<u64>,
    /// Thinking tokens (`thoughtsTokenCount`), billed whether or not thoughts are returned.
    pub thoughts_tokens: Option<u64>,
    /// Everything (`totalTokenCount`).
    pub total_tokens: Option<u64>,
}

impl Usage {
    /// Reads the usage metadata of an answer.
    pub fn from_metadata(metadata: Option<&UsageMetadata>) -> Usage {
        let Some(m) = metadata else {
            return Usage::default();
        };
        let count = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok());
        let image_output_tokens = m
            .candidates_tokens_details
            .iter()
            .filter(|d| d.modality == Some(Modality::Image))
            .filter_map(|d| count(d.token_count))
            .reduce(u64::saturating_add);
        Usage {
            prompt_tokens: count(m.prompt_token_count),
            output_tokens: count(m.candidates_token_count),
            image_output_tokens,
            thoughts_tokens: count(m.thoughts_token_count),
            total_tokens: count(m.total_token_count),
        }
    }
}

/// Assembles the chunks of a stream into one answer, so that a streamed turn keeps the same
/// history as a whole one: candidates merge by position; consecutive text parts of the same
/// kind (thought or not) merge into one part whose signature is the one the chunks carried
/// (text is never reordered, signatures never altered); images and other parts stay whole; the
/// last finish reason, finish message, grounding metadata, usage, model version and response
/// id win.
pub fn assemble_stream(chunks: Vec<GenerateContentResponse>) -> GenerateContentResponse {
    let mut out = GenerateContentResponse::new();
    for chunk in chunks {
        for (index, candidate) in chunk.candidates.into_iter().enumerate() {
            if out.candidates.len() <= index {
                out.candidates.push(Candidate::new());
            }
            merge_candidate(&mut out.candidates[index], candidate);
        }
        if chunk.usage_metadata.is_some() {
            out.usage_metadata = chunk.usage_metadata;
        }
        if chunk.model_version.is_some() {
            out.model_version = chunk.model_version;
        }
        if chunk.response_id.is_some() {
            out.response_id = chunk.response_id;
        }
        if chunk.prompt_feedback.is_some() {
            out.prompt_feedback = chunk.prompt_feedback;
        }
        if chunk.turn_token.is_some() {
            out.turn_token = chunk.turn_token;
        }
        out.unknown_fields.extend(chunk.unknown_fields);
    }
    out
}

fn merge_candidate(into: &mut Candidate, from: Candidate) {
    if let Some(content) = from.content {
        let target = into.content.get_or_insert_with(Content::new);
        if target.role.is_none() {
            target.role = content.role;
        }
        for part in content.parts {
            push_part(&mut target.parts, part);
        }
        target.unknown_fields.extend(content.unknown_fields);
    }
    if from.finish_reason.is_some() {
        into.finish_reason = from.finish_reason;
    }
    if from.finish_message.is_some() {
        into.finish_message = from.finish_message;
    }
    if from.grounding_metadata.is_some() {
        into.grounding_metadata = from.grounding_metadata;
    }
    if from.index.is_some() {
        into.index = from.index;
    }
    into.unknown_fields.extend(from.unknown_fields);
}

/// Whether a part is plain text (nothing but text, the thought flag and a signature).
fn is_plain_text(part: &Part) -> bool {
    part.text.is_some()
        && part.inline_data.is_none()
        && part.file_data.is_none()
        && part.unknown_fields.is_empty()
}

fn push_part(parts: &mut Vec<Part>, part: Part) {
    if let Some(last) = parts.last_mut()
        && is_plain_text(last)
        && is_plain_text(&part)
        && last.is_thought() == part.is_thought()
        && (last.thought_signature.is_none() || part.thought_signature.is_none())
    {
        if let Some(text) = &part.text {
            last.text.get_or_insert_with(String::new).push_str(text);
        }
        if part.thought_signature.is_some() {
            last.thought_signature = part.thought_signature;
        }
        return;
    }
    parts.push(part);
}

/// The model content of an answer as a history entry: the first candidate's content with the
/// role `model` (kept if the service gave one).
pub(crate) fn history_entry(generation: &Generation) -> Option<Content> {
    let mut content = generation.content()?.clone();
    if content.role.is_none() {
        content.role = Some(Role::Model);
    }
    Some(content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(value: serde_json::Value) -> GenerateContentResponse {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn streamed_chunks_assemble_into_the_whole_answer() {
        let whole = response(json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "Planning", "thought": true},
                {"inlineData": {"mimeType": "image/png", "data": "AQI="}, "thought": true},
                {"text": "Here is a banana.", "thoughtSignature": "c2ln"},
                {"inlineData": {"mimeType": "image/png", "data": "AQI="}, "thoughtSignature": "aW1n"}
            ]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"totalTokenCount": 10},
            "modelVersion": "m",
            "responseId": "r"
        }));
        let chunk = |parts: serde_json::Value, tokens: u32| {
            response(json!({
                "candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
                "usageMetadata": {"totalTokenCount": tokens},
                "modelVersion": "m",
                "responseId": "r"
            }))
        };
        let chunks = vec![
            chunk(json!([{"text": "Plan", "thought": true}]), 1),
            chunk(json!([{"text": "ning", "thought": true}]), 2),
            chunk(
                json!([{"inlineData": {"mimeType": "image/png", "data": "AQI="}, "thought": true}]),
                3,
            ),
            chunk(json!([{"text": "Here is ", "thoughtSignature": "c2ln"}]), 4),
            chunk(json!([{"text": "a banana."}]), 5),
            chunk(
                json!([{"inlineData": {"mimeType": "image/png", "data": "AQI="}, "thoughtSignature": "aW1n"}]),
                6,
            ),
            response(json!({
                "candidates": [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"totalTokenCount": 10},
                "modelVersion": "m",
                "responseId": "r"
            })),
        ];
        assert_eq!(assemble_stream(chunks), whole);
    }

    #[test]
    fn a_signature_on_a_trailing_empty_chunk_joins_the_text() {
        let chunks = vec![
            response(
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "A"}]}}]}),
            ),
            response(
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "", "thoughtSignature": "c2ln"}]}}]}),
            ),
            response(
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "B", "thoughtSignature": "b3RoZXI="}]}}]}),
            ),
        ];
        let merged = assemble_stream(chunks);
        let parts = &merged.candidates[0].content.as_ref().unwrap().parts;
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[0].text.as_deref(), Some("A"));
        assert_eq!(
            parts[0].thought_signature.as_ref().unwrap().as_slice(),
            b"sig"
        );
        assert_eq!(
            parts[1].thought_signature.as_ref().unwrap().as_slice(),
            b"other"
        );
    }

    #[test]
    fn usage_reads_image_tokens() {
        let usage = Usage::from_metadata(Some(
            &serde_json::from_value(json!({
                "promptTokenCount": 7, "candidatesTokenCount": 1300, "thoughtsTokenCount": 100,
                "totalTokenCount": 1407,
                "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}, {"modality": "TEXT", "tokenCount": 10}]
            }))
            .unwrap(),
        ));
        assert_eq!(usage.image_output_tokens, Some(1290));
        assert_eq!(usage.total_tokens, Some(1407));
        assert_eq!(Usage::from_metadata(None), Usage::default());
    }
}
