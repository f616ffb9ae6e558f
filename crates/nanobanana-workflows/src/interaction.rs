//! A conversation kept on the server: the Interactions API's `previous_interaction_id`
//! (`docs/service/INTERACTIONS.md`), beside the client-side [`Chat`](crate::Chat).
//!
//! Each turn sends only the new message; the service holds the history, thought signatures
//! included. The answer comes back as the same [`Generation`] a `generateContent` turn gives
//! (outcome, images, text, usage, predicted size, `save`), built from the interaction's steps:
//! `thought` summaries become thought parts, the thought step's signature goes on the first
//! answer part (where `generateContent` puts it), `model_output` contents become the parts.
//! The [`Interaction`] itself stays available ([`InteractionConversation::last_interaction`]).

use nanobanana_transport::wire::{
    Blob, Candidate, Content, CreateInteractionRequest, FileData, FinishReason,
    GenerateContentRequest, GenerateContentResponse, ImageDelivery, ImageResponseFormat,
    Interaction, InteractionContent, InteractionStatus, Modality, ModalityTokenCount, Part, Step,
    UsageMetadata,
};
use nanobanana_transport::{Client, RequestOptions};
use serde_json::{Value, json};

use crate::error::Error;
use crate::generation::Generation;
use crate::message::Message;
use crate::options::ImageOptions;

/// A conversation whose history the service keeps (the Interactions API's
/// `previous_interaction_id`, beside the client-side [`Chat`](crate::Chat)). Each turn sends only
/// the new message; the answer comes back as the same [`Generation`] a `generateContent` turn
/// gives (thought signatures kept on the first answer part, images delivered by `uri` fetched).
/// Only the id of the last interaction is held here, so a conversation can be picked up later
/// from that id alone ([`InteractionConversation::resume`]).
#[derive(Clone, Debug)]
pub struct InteractionConversation {
    client: Client,
    model: String,
    options: ImageOptions,
    delivery: Option<ImageDelivery>,
    request_options: RequestOptions,
    last: Option<Interaction>,
    last_id: Option<String>,
    turns: usize,
}

impl InteractionConversation {
    /// A new conversation with `model`.
    pub fn new(client: Client, model: impl Into<String>) -> Self {
        Self {
            client,
            model: model.into(),
            options: ImageOptions::new(),
            delivery: None,
            request_options: RequestOptions::new(),
            last: None,
            last_id: None,
            turns: 0,
        }
    }

    /// Goes on from a stored interaction (its id, as [`last_interaction_id`](Self::last_interaction_id)
    /// gave it): the next turn continues that conversation.
    pub fn resume(
        client: Client,
        model: impl Into<String>,
        interaction_id: impl Into<String>,
    ) -> Self {
        let mut conversation = Self::new(client, model);
        conversation.last_id = Some(interaction_id.into());
        conversation
    }

    /// The settings every turn uses: aspect ratio and image size go into the image
    /// `response_format`; the other settings of [`ImageOptions`] have no Interactions field
    /// here and are not sent.
    pub fn with_options(mut self, options: ImageOptions) -> Self {
        self.options = options;
        self
    }

    /// Asks for images delivered inline (the default) or as a download `uri`.
    pub fn with_delivery(mut self, delivery: ImageDelivery) -> Self {
        self.delivery = Some(delivery);
        self
    }

    /// Per-call transport options for every turn (timeout, retries, skipping validation).
    pub fn with_request_options(mut self, options: RequestOptions) -> Self {
        self.request_options = options;
        self
    }

    /// The model.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The settings every turn uses ([`with_options`](Self::with_options)).
    pub fn options(&self) -> &ImageOptions {
        &self.options
    }

    /// Turns sent by this value (a resumed conversation counts from 0).
    pub fn turns(&self) -> usize {
        self.turns
    }

    /// The id the next turn continues from: all a caller needs to keep to go on later.
    pub fn last_interaction_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// The last interaction as the service answered it (steps, thought signatures, usage).
    pub fn last_interaction(&self) -> Option<&Interaction> {
        self.last.as_ref()
    }

    /// The create request of the next turn: the message as a content list, the image
    /// response format, and `previous_interaction_id` after the first turn
    /// ([`interaction_request`] with this conversation's settings).
    pub fn request_for(
        &self,
        message: impl Into<Message>,
    ) -> Result<CreateInteractionRequest, Error> {
        interaction_request(
            &self.model,
            &self.options,
            self.delivery.as_ref(),
            self.last_id.as_deref(),
            message,
        )
    }

    /// Sends a turn. The conversation moves on (the next turn continues from this
    /// interaction) only when the answer is usable; the [`Generation`] is returned either way
    /// as `Ok` when the service answered, as `generateContent` turns are.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<Generation, Error> {
        let request = self.request_for(message)?;
        let interaction = self
            .client
            .interactions()
            .create_with(&request, &self.request_options)
            .await?;
        let mut request = GenerateContentRequest::new();
        self.options.apply_to(&mut request);
        let response = with_downloaded_images(&self.client, response_of(&interaction)).await?;
        let generation = Generation::new(self.model.as_str(), &request, response);
        if interaction.status == Some(InteractionStatus::Completed) {
            self.last_id.clone_from(&interaction.id);
            self.turns += 1;
        }
        self.last = Some(interaction);
        Ok(generation)
    }
}

/// The create request of one Interactions turn for `model`: the message (checked for the model,
/// as [`Message::into_request`] checks it) as a content list; the aspect ratio and image size of
/// `options` and the `delivery` as the image `response_format` (the other settings of
/// [`ImageOptions`] have no Interactions field here and are not sent); and the interaction it
/// continues, if any. What [`InteractionConversation::request_for`] sends; usable without a
/// client, e.g. to check a request before a key is at hand.
pub fn interaction_request(
    model: &str,
    options: &ImageOptions,
    delivery: Option<&ImageDelivery>,
    previous_interaction_id: Option<&str>,
    message: impl Into<Message>,
) -> Result<CreateInteractionRequest, Error> {
    let message = message.into();
    message.check(model)?;
    let input: Vec<Value> = message.parts().iter().filter_map(content_of_part).collect();
    let mut format = ImageResponseFormat::new();
    format.aspect_ratio = options.aspect_ratio().cloned();
    format.image_size = options.image_size().cloned();
    format.delivery = delivery.cloned();
    let mut request = CreateInteractionRequest::new()
        .with_model(model)
        .with_input(Value::Array(input))
        .with_response_format(format);
    request.previous_interaction_id = previous_interaction_id.map(str::to_owned);
    Ok(request)
}

/// `response` with each image delivered as a download `uri` of this service's Files API
/// (`delivery: uri`) fetched and put inline, so the [`Generation`] has the bytes to show, check and
/// save as with inline delivery. A `uri` elsewhere (not a `files/{id}` download) stays a file
/// reference: the key is only ever sent to the client's own service.
async fn with_downloaded_images(
    client: &Client,
    mut response: GenerateContentResponse,
) -> Result<GenerateContentResponse, Error> {
    let parts = response
        .candidates
        .iter_mut()
        .filter_map(|candidate| candidate.content.as_mut())
        .flat_map(|content| content.parts.iter_mut());
    for part in parts {
        let Some(file) = &part.file_data else {
            continue;
        };
        let Some(name) = file.file_uri.as_deref().and_then(files_download_name) else {
            continue;
        };
        let bytes = client.files().download(&name).await?;
        let mut blob = Blob::new().with_data(bytes);
        blob.mime_type = file.mime_type.clone();
        part.file_data = None;
        part.inline_data = Some(blob);
    }
    Ok(response)
}

/// `files/{id}` for a Files API download URI of the client's service
/// (`…/files/{id}:download?alt=media`), `None` for any other URI.
fn files_download_name(uri: &str) -> Option<String> {
    let path = uri.split(['?', '#']).next()?;
    let (_, rest) = path.rsplit_once("/files/")?;
    let id = rest.strip_suffix(":download")?;
    let plain = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plain.then(|| format!("files/{id}"))
}

/// An Interactions content for a request part (text, inline image or file reference).
fn content_of_part(part: &Part) -> Option<Value> {
    if let Some(text) = &part.text {
        return Some(json!({"type": "text", "text": text}));
    }
    if let Some(blob) = &part.inline_data {
        let data = serde_json::to_value(blob.data.as_ref()?).ok()?;
        return Some(json!({"type": "image", "mime_type": blob.mime_type, "data": data}));
    }
    let file = part.file_data.as_ref()?;
    Some(json!({"type": "image", "mime_type": file.mime_type, "uri": file.file_uri}))
}

/// The [`Generation`] an interaction amounts to, for `model` with `options` (the prediction
/// comes from the ratio and size asked for).
pub fn generation_of(model: &str, options: &ImageOptions, interaction: &Interaction) -> Generation {
    let mut request = GenerateContentRequest::new();
    options.apply_to(&mut request);
    Generation::new(model, &request, response_of(interaction))
}

/// The `generateContent`-shaped answer of an interaction's output steps.
pub fn response_of(interaction: &Interaction) -> GenerateContentResponse {
    let mut parts = Vec::new();
    let mut signature = None;
    for step in &interaction.steps {
        match step {
            Step::Thought(thought) => {
                signature = thought.signature.clone().or(signature);
                if let Some(summary) = thought
                    .unknown_fields
                    .get("summary")
                    .and_then(Value::as_array)
                {
                    for item in summary {
                        if let Ok(content) =
                            serde_json::from_value::<InteractionContent>(item.clone())
                        {
                            parts.extend(part_of(&content).map(|p| p.with_thought(true)));
                        }
                    }
                }
            }
            Step::ModelOutput(output) => {
                for content in &output.content {
                    if let Some(mut part) = part_of(content) {
                        if let Some(sig) = signature.take() {
                            part.thought_signature = Some(sig);
                        }
                        parts.push(part);
                    }
                }
            }
            _ => {}
        }
    }
    let finish = match interaction.status {
        Some(InteractionStatus::Completed) => "STOP",
        Some(InteractionStatus::Incomplete | InteractionStatus::BudgetExceeded) => "MAX_TOKENS",
        _ => "OTHER",
    };
    let mut content = Content::new().with_role("model");
    content.parts = parts;
    let mut response = GenerateContentResponse::new().with_candidates([Candidate::new()
        .with_content(content)
        .with_finish_reason(FinishReason::from_wire(finish))
        .with_index(0)]);
    if let Some(usage) = &interaction.usage {
        let mut metadata = UsageMetadata::new();
        metadata.prompt_token_count = usage.total_input_tokens;
        metadata.candidates_token_count = usage.total_output_tokens;
        metadata.thoughts_token_count = usage.total_thought_tokens;
        metadata.total_token_count = usage.total_tokens;
        metadata.candidates_tokens_details = usage
            .output_tokens_by_modality
            .iter()
            .map(|m| {
                let mut count = ModalityTokenCount::new();
                count.modality = m
                    .modality
                    .as_deref()
                    .map(|name| Modality::from_wire(&name.to_ascii_uppercase()));
                count.token_count = m.tokens;
                count
            })
            .collect();
        response.usage_metadata = Some(metadata);
    }
    response.model_version = interaction.model.clone();
    response.response_id = interaction.id.clone();
    response
}

/// A part for a content: text, an inline image, or an image by URI (as a file reference).
fn part_of(content: &InteractionContent) -> Option<Part> {
    match content {
        InteractionContent::Text(text) => Some(Part::new().with_text(text.text.clone()?)),
        InteractionContent::Image(image) => match (&image.data, &image.uri) {
            (Some(data), _) => {
                let mut blob = Blob::new().with_data(data.clone());
                blob.mime_type = image.mime_type.clone();
                Some(Part::new().with_inline_data(blob))
            }
            (None, Some(uri)) => {
                let mut file = FileData::new().with_file_uri(uri.as_str());
                file.mime_type = image.mime_type.clone();
                Some(Part::new().with_file_data(file))
            }
            (None, None) => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::files_download_name;

    #[test]
    fn only_files_api_downloads_are_fetched() {
        assert_eq!(
            files_download_name(
                "http://127.0.0.1:9/download/v1beta/files/abc-1_x:download?alt=media"
            )
            .as_deref(),
            Some("files/abc-1_x")
        );
        assert_eq!(
            files_download_name(
                "https://generativelanguage.googleapis.com/v1beta/files/f1:download?alt=media"
            )
            .as_deref(),
            Some("files/f1")
        );
        for other in [
            "https://example.com/image.jpg",
            "https://example.com/files/a/b:download",
            "https://example.com/files/:download",
            "gs://bucket/files/x",
            "files/x",
        ] {
            assert_eq!(files_download_name(other), None, "{other}");
        }
    }
}
