//! From the simulator's generateContent answer to the Interactions API's output steps (typed
//! wire values): a `thought` step carrying the answer's signature, a `model_output` step with
//! the text and image contents, the usage in the API's names; and the model turn a later
//! `previous_interaction_id` sends back.

use serde_json::{Value, json};

use nanobanana_wire::{
    Base64Bytes, FinishReason, GenerateContentResponse, ImageContent, InteractionContent,
    InteractionUsage, ModalityTokenCount, ModalityTokens, ModelOutputStep, Part, Step, TextContent,
    ThoughtStep, UsageMetadata,
};

use crate::signature::{Signed, Signer};
use crate::store::Output;

/// The output of one simulated answer, and the model turn it adds to the conversation.
pub(super) struct Answered {
    pub(super) output: Output,
    pub(super) model_turn: Value,
}

/// Reads the simulator's answer. An answer without an image where one was asked for by an
/// outcome (`x-nanobanana-fault: outcome=...`) is a failed interaction whose `model_output`
/// step has an `error` naming the finish or block reason.
pub(super) fn answered(response: &GenerateContentResponse, signer: &Signer) -> Answered {
    let candidate = response.candidates.first();
    let parts: Vec<&Part> = candidate
        .and_then(|c| c.content.as_ref())
        .map(|c| c.parts.iter().filter(|p| p.thought != Some(true)).collect())
        .unwrap_or_default();
    let signature = parts
        .iter()
        .find(|p| p.inline_data.is_some() && p.thought_signature.is_some())
        .or_else(|| parts.iter().find(|p| p.thought_signature.is_some()))
        .and_then(|p| p.thought_signature.clone());
    let content: Vec<InteractionContent> = parts.iter().filter_map(|p| content_of(p)).collect();
    let mut output_step = ModelOutputStep::new().with_content(content);
    let failure = failure(response);
    if let Some((code, message)) = &failure {
        output_step.unknown_fields.insert(
            "error".to_owned(),
            json!({"code": code, "message": message}),
        );
    }
    let mut steps = Vec::new();
    if let Some(signature) = signature {
        steps.push(Step::Thought(ThoughtStep::new().with_signature(signature)));
    }
    steps.push(Step::ModelOutput(output_step));
    Answered {
        output: Output {
            steps,
            usage: response.usage_metadata.as_ref().map(usage),
            failed: failure.is_some(),
        },
        model_turn: model_turn(&parts, signer),
    }
}

fn content_of(part: &Part) -> Option<InteractionContent> {
    if let Some(text) = &part.text {
        return Some(InteractionContent::Text(TextContent::new().with_text(text)));
    }
    let blob = part.inline_data.as_ref()?;
    let mut image = ImageContent::new();
    image.data = blob.data.clone();
    image.mime_type = blob.mime_type.clone();
    Some(InteractionContent::Image(image))
}

/// Why an answer made no image: the block or finish reason and its message.
fn failure(response: &GenerateContentResponse) -> Option<(String, String)> {
    if let Some(feedback) = &response.prompt_feedback
        && let Some(reason) = &feedback.block_reason
    {
        let message = feedback
            .block_reason_message
            .clone()
            .unwrap_or_else(|| format!("The prompt was blocked ({}).", reason.as_str()));
        return Some((reason.as_str().to_owned(), message));
    }
    let candidate = response.candidates.first()?;
    let reason = candidate.finish_reason.as_ref()?;
    if *reason == FinishReason::Stop {
        return None;
    }
    let message = candidate.finish_message.clone().unwrap_or_else(|| {
        format!(
            "The model made no image (finish reason {}).",
            reason.as_str()
        )
    });
    Some((reason.as_str().to_owned(), message))
}

/// The usage in the API's names; output tokens by modality are the image tokens and the text's
/// (the rest of the candidates' tokens).
fn usage(metadata: &UsageMetadata) -> InteractionUsage {
    let by_modality = |details: &[ModalityTokenCount]| -> Vec<ModalityTokens> {
        details
            .iter()
            .map(|d| {
                let mut tokens = ModalityTokens::new().with_modality(
                    d.modality
                        .as_ref()
                        .map_or("text", |m| m.as_str())
                        .to_ascii_lowercase(),
                );
                tokens.tokens = d.token_count;
                tokens
            })
            .collect()
    };
    let mut output = by_modality(&metadata.candidates_tokens_details);
    let listed: i64 = output.iter().filter_map(|t| t.tokens).sum();
    let candidates = metadata.candidates_token_count.unwrap_or(0);
    if candidates > listed {
        output.push(
            ModalityTokens::new()
                .with_modality("text")
                .with_tokens(candidates - listed),
        );
    }
    let mut usage = InteractionUsage::new();
    usage.total_input_tokens = metadata.prompt_token_count;
    usage.total_output_tokens = Some(candidates);
    usage.total_thought_tokens = metadata.thoughts_token_count;
    usage.total_tokens = metadata.total_token_count;
    usage.input_tokens_by_modality = by_modality(&metadata.prompt_tokens_details);
    usage.output_tokens_by_modality = output;
    usage
}

/// The model turn a continuation sends back: the answer's signed text part (the image is left
/// out, so a long conversation stays within the input-image limit), or its signed image when
/// it has no text, or a signed placeholder when it made nothing.
fn model_turn(parts: &[&Part], signer: &Signer) -> Value {
    let kept = parts
        .iter()
        .find(|p| p.text.is_some())
        .or_else(|| parts.iter().find(|p| p.inline_data.is_some()));
    let part = match kept {
        Some(part) => serde_json::to_value(part).unwrap_or_else(|_| json!({"text": ""})),
        None => {
            let text = "(no answer)";
            let signature = Base64Bytes::new(signer.sign(Signed::Text(text)));
            json!({"text": text, "thoughtSignature": signature.to_base64()})
        }
    };
    json!({"role": "model", "parts": [part]})
}
