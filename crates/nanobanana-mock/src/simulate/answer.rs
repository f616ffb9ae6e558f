//! The simulated answer as typed wire values: the signed parts, the usage, the candidate an
//! outcome makes, and the same answer as stream chunks (WIRE.md "Streaming").

use serde_json::Value;

use nanobanana_wire::{
    Base64Bytes, Blob, BlockReason, Candidate, Content, FinishReason, GenerateContentResponse,
    GroundingMetadata, Modality, ModalityTokenCount, Part, PromptFeedback, Role, UsageMetadata,
};

use super::{Plan, Rng, SimPart, split_text};
use crate::image::ImageFormat;
use crate::signature::{Signed, Signer};
use nanobanana_rules::OutcomeKind;

/// Token counts: text about four characters a token; images as the service counts them.
pub(super) struct Tokens {
    prompt_text: u64,
    /// Tokens of the input images (all of them).
    prompt_images: u64,
    /// Tokens of one output image.
    image: u64,
    final_images: u64,
    /// Tokens of the whole answer (its text and final images).
    candidates: u64,
    thoughts: u64,
}

impl Tokens {
    pub(super) fn count(
        body: &Value,
        plan: &Plan<'_>,
        parts: &[SimPart],
        text: Option<&str>,
        rng: &mut Rng,
    ) -> Self {
        let final_images = parts
            .iter()
            .filter(|p| matches!(p, SimPart::Image(_)))
            .count() as u64;
        let text_tokens = text.map_or(0, |t| t.len().div_ceil(4)) as u64;
        let (prompt_text, prompt_images) = super::prompt_tokens(body, plan.thinks);
        Self {
            prompt_text,
            prompt_images,
            image: plan.image_tokens,
            final_images,
            candidates: plan.image_tokens * final_images + text_tokens,
            thoughts: if plan.thinks {
                120 + rng.next() % 400
            } else {
                0
            },
        }
    }

    fn prompt(&self) -> u64 {
        self.prompt_text + self.prompt_images
    }

    fn prompt_details(&self) -> Vec<ModalityTokenCount> {
        let mut details = vec![count(Modality::Text, self.prompt_text)];
        if self.prompt_images > 0 {
            details.push(count(Modality::Image, self.prompt_images));
        }
        details
    }

    /// The usage of an answer (or a chunk) that has made `candidates` tokens so far.
    fn usage(&self, candidates: u64) -> UsageMetadata {
        let mut usage = UsageMetadata::new()
            .with_prompt_token_count(int(self.prompt()))
            .with_total_token_count(int(self.prompt() + candidates + self.thoughts))
            .with_prompt_tokens_details(self.prompt_details());
        if candidates > 0 {
            usage = usage.with_candidates_token_count(int(candidates));
        }
        if self.final_images > 0 && candidates > 0 {
            usage = usage.with_candidates_tokens_details([count(
                Modality::Image,
                self.image * self.final_images,
            )]);
        }
        if self.thoughts > 0 {
            usage = usage.with_thoughts_token_count(int(self.thoughts));
        }
        usage
    }
}

fn count(modality: Modality, tokens: u64) -> ModalityTokenCount {
    ModalityTokenCount::new()
        .with_modality(modality)
        .with_token_count(int(tokens))
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Parts on the wire, signed per SPEC.md §4: every non-thought image, and the first non-thought
/// part; thought parts and later texts carry none.
pub(super) fn sign_parts(parts: &[SimPart], signer: &Signer, format: ImageFormat) -> Vec<Part> {
    let mut first_non_thought = true;
    let image = |bytes: &bytes::Bytes| {
        Blob::new()
            .with_mime_type(format.mime_type())
            .with_data(Base64Bytes::from(bytes.clone()))
    };
    parts
        .iter()
        .map(|part| match part {
            SimPart::ThoughtText(text) => Part::new().with_text(text.as_str()).with_thought(true),
            SimPart::ThoughtImage(bytes) => Part::new()
                .with_inline_data(image(bytes))
                .with_thought(true),
            SimPart::Text(text) => {
                let part = Part::new().with_text(text.as_str());
                if std::mem::take(&mut first_non_thought) {
                    part.with_thought_signature(signer.sign(Signed::Text(text)))
                } else {
                    part
                }
            }
            SimPart::Image(bytes) => {
                first_non_thought = false;
                Part::new()
                    .with_inline_data(image(bytes))
                    .with_thought_signature(signer.sign(Signed::Image(bytes)))
            }
        })
        .collect()
}

/// Everything an answer is made of.
pub(super) struct Answer<'a> {
    pub(super) model: &'a str,
    pub(super) response_id: String,
    pub(super) tokens: Tokens,
    pub(super) grounding: Option<GroundingMetadata>,
    pub(super) parts: Vec<SimPart>,
    /// `parts` as signed wire parts.
    pub(super) wire_parts: Vec<Part>,
}

impl Answer<'_> {
    /// The whole response and its stream chunks, for the outcome asked for (if any).
    pub(super) fn build(self, outcome: Option<OutcomeKind>) -> super::Simulated {
        let served = matches!(outcome, None | Some(OutcomeKind::TextOnly));
        let response = match outcome {
            Some(OutcomeKind::BlockedPrompt) => self.blocked(),
            _ => {
                let candidates = if served { self.tokens.candidates } else { 0 };
                self.response(self.candidate(outcome), candidates)
            }
        };
        let chunks = if served {
            self.chunks()
        } else {
            vec![response.clone()]
        };
        super::Simulated { response, chunks }
    }

    /// A response of one candidate, with the usage of `candidates` tokens.
    fn response(&self, candidate: Candidate, candidates: u64) -> GenerateContentResponse {
        GenerateContentResponse::new()
            .with_candidates([candidate])
            .with_usage_metadata(self.tokens.usage(candidates))
            .with_model_version(self.model)
            .with_response_id(self.response_id.as_str())
    }

    /// The candidate of an outcome (all but a blocked prompt, which has none).
    fn candidate(&self, outcome: Option<OutcomeKind>) -> Candidate {
        let model_turn = || Content::new().with_role(Role::Model);
        let candidate = Candidate::new().with_index(0);
        let candidate = match outcome {
            None | Some(OutcomeKind::TextOnly) | Some(OutcomeKind::BlockedPrompt) => candidate
                .with_content(model_turn().with_parts(self.wire_parts.iter().cloned()))
                .with_finish_reason(FinishReason::Stop),
            Some(OutcomeKind::NoImage) => candidate
                .with_content(Content::new())
                .with_finish_reason(FinishReason::NoImage),
            Some(OutcomeKind::ImageSafety) => candidate.with_finish_reason(FinishReason::ImageSafety),
            Some(OutcomeKind::ImageProhibitedContent) => candidate
                .with_content(model_turn())
                .with_finish_reason(FinishReason::ImageProhibitedContent)
                .with_finish_message("Unable to show the generated image. The image was filtered out because it may contain prohibited content. You can try rephrasing the prompt."),
            Some(OutcomeKind::ImageRecitation) => candidate
                .with_content(model_turn())
                .with_finish_reason(FinishReason::ImageRecitation),
            Some(OutcomeKind::MissingThoughtSignature) => candidate
                .with_finish_reason(FinishReason::MissingThoughtSignature)
                .with_finish_message("Request has at least one thought signature missing."),
            Some(OutcomeKind::Empty) => candidate
                .with_content(model_turn())
                .with_finish_reason(FinishReason::Stop),
            // `stopped` (and any kind the rules add later): another finish reason, no content.
            Some(_) => candidate.with_finish_reason(FinishReason::Other),
        };
        match &self.grounding {
            Some(grounding) => candidate.with_grounding_metadata(grounding.clone()),
            None => candidate,
        }
    }

    /// A prompt blocked before any candidate: prompt feedback and the prompt's usage only.
    fn blocked(&self) -> GenerateContentResponse {
        GenerateContentResponse::new()
            .with_prompt_feedback(
                PromptFeedback::new()
                    .with_block_reason(BlockReason::ProhibitedContent)
                    .with_block_reason_message("The prompt was blocked because it may request content that violates the usage policies."),
            )
            .with_usage_metadata(
                UsageMetadata::new()
                    .with_prompt_token_count(int(self.tokens.prompt()))
                    .with_total_token_count(int(self.tokens.prompt()))
                    .with_prompt_tokens_details(self.tokens.prompt_details()),
            )
            .with_model_version(self.model)
            .with_response_id(self.response_id.as_str())
    }

    /// Stream chunks: text in small chunks, each image whole in one event, role, modelVersion,
    /// responseId and cumulative usage on every chunk, and a last chunk with no parts carrying
    /// the finish reason (and the grounding metadata).
    fn chunks(&self) -> Vec<GenerateContentResponse> {
        let mut chunks = Vec::new();
        let mut emitted = 0u64;
        for (part, wire) in self.parts.iter().zip(&self.wire_parts) {
            let pieces: Vec<Part> = match part {
                SimPart::Text(text) => {
                    emitted += text.len().div_ceil(4) as u64;
                    split_text(text)
                        .into_iter()
                        .enumerate()
                        .map(|(i, piece)| {
                            let mut piece = Part::new().with_text(piece);
                            if i == 0 {
                                piece.thought_signature = wire.thought_signature.clone();
                            }
                            piece
                        })
                        .collect()
                }
                SimPart::Image(_) => {
                    emitted += self.tokens.image;
                    vec![wire.clone()]
                }
                SimPart::ThoughtText(_) | SimPart::ThoughtImage(_) => vec![wire.clone()],
            };
            for piece in pieces {
                let candidate = Candidate::new()
                    .with_content(Content::new().with_role(Role::Model).with_parts([piece]))
                    .with_index(0);
                chunks.push(self.response(candidate, emitted.min(self.tokens.candidates)));
            }
        }
        let mut last = Candidate::new()
            .with_content(Content::new().with_role(Role::Model))
            .with_finish_reason(FinishReason::Stop)
            .with_index(0);
        if let Some(grounding) = &self.grounding {
            last = last.with_grounding_metadata(grounding.clone());
        }
        chunks.push(self.response(last, self.tokens.candidates));
        chunks
    }
}
