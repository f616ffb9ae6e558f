//! Multi-turn editing (SPEC.md §2 "Multi-turn", §4): a [`Chat`] keeps the conversation and
//! sends every model part back exactly as received, thought signatures included. A turn is
//! transactional; the history can be exported and imported as JSON ([`ChatExport`]).

use std::fmt::Write as _;

use nanobanana_rules::catalogue::{self, Signatures};
use nanobanana_rules::response::signature_violations;
use nanobanana_transport::{Client, RequestOptions};
use nanobanana_wire::{Content, GenerateContentRequest, GenerateContentResponse, Role};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cost::CostPreview;
use crate::error::Error;
use crate::generation::{Generation, history_entry};
use crate::images::stream;
use crate::message::Message;
use crate::options::ImageOptions;

/// A conversation with one model: each [`send`](Self::send) sends the whole history plus the
/// new message, and keeps the answer for the next turn.
///
/// **Transactional turns**: the history changes only when a turn succeeds with a usable answer
/// (images or text, see [`Outcome::is_usable`](crate::Outcome::is_usable)). A failed call, a
/// blocked prompt, `NO_IMAGE`, a safety block or an empty answer returns an error saying why,
/// and the history is exactly as before; so is it when the future is dropped mid-call. Retrying
/// the same message is then safe.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use nanobanana_mock::MockGemini;
/// use nanobanana_transport::{Client, ClientConfig};
/// use nanobanana_workflows::{ClientExt, ImageOptions};
///
/// let server = MockGemini::start().await;
/// let client = Client::new(ClientConfig::new("test-key").with_base_url(server.uri()))?;
///
/// let mut chat = client
///     .chat("gemini-3.1-flash-image")
///     .with_options(ImageOptions::new().with_aspect_ratio("16:9"));
/// chat.send("Create a vibrant infographic about photosynthesis").await?;
/// // One turn in another ratio and size, as the guide does; the chat's defaults stay.
/// let turn = chat
///     .send_with("Translate it to Spanish", &ImageOptions::new().with_aspect_ratio("1:1").with_image_size("2K"))
///     .await?;
/// assert_eq!(turn.actual_dimensions().unwrap().to_string(), "2048x2048");
/// assert_eq!(chat.turns(), 2);
///
/// // Survives a restart: export, then import (validated) later.
/// let saved = chat.export_json();
/// let resumed = nanobanana_workflows::Chat::import(client.clone(), &saved)?;
/// assert_eq!(resumed.history(), chat.history());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Chat {
    client: Client,
    model: String,
    options: ImageOptions,
    request_options: RequestOptions,
    history: Vec<Content>,
}

impl Chat {
    /// A new conversation with `model`.
    pub fn new(client: Client, model: impl Into<String>) -> Self {
        Self {
            client,
            model: model.into(),
            options: ImageOptions::new(),
            request_options: RequestOptions::new(),
            history: Vec::new(),
        }
    }

    /// Sets the settings every turn uses (a turn can override them).
    pub fn with_options(mut self, options: ImageOptions) -> Self {
        self.options = options;
        self
    }

    /// Changes the settings of the next turns in place (e.g. an interactive `/ratio 16:9`);
    /// the history is untouched.
    pub fn set_options(&mut self, options: ImageOptions) {
        self.options = options;
    }

    /// Sets the transport options of every call (timeout, retries).
    pub fn with_request_options(mut self, options: RequestOptions) -> Self {
        self.request_options = options;
        self
    }

    /// The model.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The settings every turn uses.
    pub fn options(&self) -> &ImageOptions {
        &self.options
    }

    /// The conversation: user and model contents alternating, model contents exactly as
    /// received.
    pub fn history(&self) -> &[Content] {
        &self.history
    }

    /// How many turns (a user message and its answer) the history holds.
    pub fn turns(&self) -> usize {
        self.history.len() / 2
    }

    /// Removes the last turn; `false` if there was none.
    pub fn undo(&mut self) -> bool {
        if self.history.len() < 2 {
            return false;
        }
        self.history.truncate(self.history.len() - 2);
        true
    }

    /// Forgets the whole conversation.
    pub fn clear(&mut self) {
        self.history.clear();
    }

    /// The request the next turn would send for `message` with `overrides`.
    pub fn request_for(
        &self,
        message: impl Into<Message>,
        overrides: &ImageOptions,
    ) -> Result<GenerateContentRequest, Error> {
        let message: Message = message.into();
        message.into_turn_request(
            &self.model,
            &self.history,
            &self.options.merged_with(overrides),
        )
    }

    /// What the next turn would produce per image, without sending.
    pub fn preview(
        &self,
        message: impl Into<Message>,
        overrides: &ImageOptions,
    ) -> Result<CostPreview, Error> {
        Ok(CostPreview::of(
            &self.model,
            &self.request_for(message, overrides)?,
        ))
    }

    /// Sends a turn with the chat's settings.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<Generation, Error> {
        self.send_with(message, &ImageOptions::new()).await
    }

    /// Sends a turn with `overrides` over the chat's settings (for this turn only).
    pub async fn send_with(
        &mut self,
        message: impl Into<Message>,
        overrides: &ImageOptions,
    ) -> Result<Generation, Error> {
        let request = self.request_for(message, overrides)?;
        let response = self
            .client
            .generate_content_with(&self.model, &request, &self.request_options)
            .await?;
        self.commit(request, response)
    }

    /// Sends a turn as a stream, calling `on_chunk` with each partial answer; the turn is kept
    /// (assembled from the chunks, the same history a whole answer gives) only once the stream
    /// has ended well.
    pub async fn send_streaming(
        &mut self,
        message: impl Into<Message>,
        overrides: &ImageOptions,
        on_chunk: impl FnMut(&GenerateContentResponse),
    ) -> Result<Generation, Error> {
        let request = self.request_for(message, overrides)?;
        let response = stream(
            &self.client,
            &self.model,
            &request,
            &self.request_options,
            on_chunk,
        )
        .await?;
        self.commit(request, response)
    }

    /// Keeps a usable answer: the user content as it was sent (the last of `request`), then the
    /// model content as received.
    fn commit(
        &mut self,
        mut request: GenerateContentRequest,
        response: GenerateContentResponse,
    ) -> Result<Generation, Error> {
        let generation = Generation::new(self.model.clone(), &request, response);
        if !generation.outcome().is_usable() {
            return Err(Error::Unusable {
                outcome: generation.outcome().clone(),
            });
        }
        let (Some(answer), Some(message)) = (history_entry(&generation), request.contents.pop())
        else {
            return Err(Error::Unusable {
                outcome: crate::Outcome::Empty,
            });
        };
        self.history.push(message);
        self.history.push(answer);
        Ok(generation)
    }

    /// The conversation as a [`ChatExport`].
    pub fn export(&self) -> ChatExport {
        ChatExport {
            format: ChatExport::FORMAT.to_owned(),
            version: ChatExport::VERSION,
            model: self.model.clone(),
            options: self.options.clone(),
            digest: digest(&self.model, &self.history),
            history: self.history.clone(),
        }
    }

    /// The conversation as pretty-printed JSON (see [`ChatExport`] for the format).
    pub fn export_json(&self) -> String {
        // Serializing plain data into a String cannot fail.
        serde_json::to_string_pretty(&self.export()).unwrap_or_default()
    }

    /// Resumes a conversation from [`export_json`](Self::export_json)'s output, validated as
    /// [`from_export`](Self::from_export) says.
    pub fn import(client: Client, json: &str) -> Result<Chat, Error> {
        let export: ChatExport = serde_json::from_str(json).map_err(|e| Error::Import {
            reason: format!("not a chat export: {e}"),
        })?;
        Chat::from_export(client, export)
    }

    /// Resumes a conversation from an export, after checking it: the format and version, the
    /// digest (the history is byte for byte what was exported), user and model turns
    /// alternating from a user turn to a model turn, and on models that need them back (the
    /// Gemini 3 models) the thought-signature rules of every model turn (SPEC.md §4) and the
    /// request rules of the whole history (`nanobanana_rules::validate_request`).
    pub fn from_export(client: Client, export: ChatExport) -> Result<Chat, Error> {
        export.validate()?;
        Ok(Chat {
            client,
            model: export.model,
            options: export.options,
            request_options: RequestOptions::new(),
            history: export.history,
        })
    }
}

/// A chat saved for later: a stable JSON format.
///
/// ```json
/// {
///   "format": "nanobanana.chat",
///   "version": 1,
///   "model": "gemini-3.1-flash-image",
///   "options": {"aspectRatio": "16:9"},
///   "digest": "sha256:…",
///   "history": [
///     {"role": "user", "parts": [{"text": "…"}]},
///     {"role": "model", "parts": [{"inlineData": {"mimeType": "image/png", "data": "…"}, "thoughtSignature": "…"}]}
///   ]
/// }
/// ```
///
/// - `format` is always `nanobanana.chat`; `version` is 1. A later version of this crate reads
///   every earlier version; a reader refuses a version it does not know rather than guess.
/// - `model`: the model id the conversation is with (signatures only work with it).
/// - `options`: the chat's settings ([`ImageOptions`]' JSON; `{}` when none).
/// - `history`: the contents exactly as the API carries them (proto JSON, camelCase, bytes as
///   standard base64), alternating `user` and `model`, model contents as the service sent them.
/// - `digest`: `sha256:` and the lowercase hex SHA-256 of the compact JSON of
///   `[model, history]` as this crate writes it. It detects a history changed after export (a
///   signature edited by hand, an image swapped); it is an integrity check, not a signature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatExport {
    /// `nanobanana.chat`.
    pub format: String,
    /// The format version (1).
    pub version: u32,
    /// The model id.
    pub model: String,
    /// The chat's settings.
    #[serde(default)]
    pub options: ImageOptions,
    /// `sha256:<hex>` of `[model, history]`.
    pub digest: String,
    /// The conversation.
    pub history: Vec<Content>,
}

impl ChatExport {
    /// The `format` value.
    pub const FORMAT: &'static str = "nanobanana.chat";
    /// The version this crate writes (and the newest it reads).
    pub const VERSION: u32 = 1;

    /// Recomputes the digest after a deliberate edit (say, trimming old turns). Import still
    /// checks the conversation rules, so an edit that breaks them is refused all the same.
    pub fn reseal(&mut self) {
        self.digest = digest(&self.model, &self.history);
    }

    /// Checks the export (see [`Chat::from_export`]).
    pub fn validate(&self) -> Result<(), Error> {
        let reject = |reason: String| Err(Error::Import { reason });
        if self.format != Self::FORMAT {
            return reject(format!(
                "format is {:?}, expected {:?}",
                self.format,
                Self::FORMAT
            ));
        }
        if self.version != Self::VERSION {
            return reject(format!(
                "format version {} is not one this crate reads (it reads version {})",
                self.version,
                Self::VERSION
            ));
        }
        if self.digest != digest(&self.model, &self.history) {
            return reject(
                "the digest does not match: the model or history was changed after export"
                    .to_owned(),
            );
        }
        check_roles(&self.history).map_err(|reason| Error::Import { reason })?;
        let needs_signatures = catalogue::lookup(&self.model)
            .model()
            .is_some_and(|m| m.thought_signatures() == Signatures::Required);
        if needs_signatures {
            check_signatures(&self.history).map_err(|reason| Error::Import { reason })?;
        }
        if !self.history.is_empty() {
            // The next turn must be acceptable: the history plus a user turn, as it would go.
            let mut request = GenerateContentRequest::new().with_contents(
                self.history
                    .iter()
                    .cloned()
                    .chain([Content::user([nanobanana_wire::Part::from_text("next")])]),
            );
            self.options.apply_to(&mut request);
            let report = nanobanana_rules::validate_request_with(
                &self.model,
                &request,
                &nanobanana_rules::Options::for_client(),
            );
            if let Some(error) = report.first_error() {
                return reject(format!("[{}] {}", error.rule().id(), error.message()));
            }
        }
        Ok(())
    }
}

/// `sha256:<hex>` of the compact JSON of `[model, history]`.
fn digest(model: &str, history: &[Content]) -> String {
    let bytes = serde_json::to_vec(&(model, history)).unwrap_or_default();
    let hash = Sha256::digest(&bytes);
    let mut out = String::from("sha256:");
    for byte in hash {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn check_roles(history: &[Content]) -> Result<(), String> {
    for (index, content) in history.iter().enumerate() {
        let expected = if index % 2 == 0 {
            Role::User
        } else {
            Role::Model
        };
        let role = content.role.clone().unwrap_or(Role::User);
        if role != expected {
            return Err(format!(
                "content {} has role {:?}, expected {:?}: turns alternate user and model, starting with user",
                index + 1,
                role.as_str(),
                expected.as_str()
            ));
        }
    }
    if history.len() % 2 == 1 {
        return Err(format!(
            "the history ends with a user content (content {}) without its answer",
            history.len()
        ));
    }
    Ok(())
}

fn check_signatures(history: &[Content]) -> Result<(), String> {
    for (index, content) in history.iter().enumerate().skip(1).step_by(2) {
        if let Some(violation) = signature_violations(&content.parts).next() {
            return Err(format!(
                "content {} (model), part {}: {} ({})",
                index + 1,
                violation.part() + 1,
                violation.message(),
                violation.rule().id()
            ));
        }
    }
    Ok(())
}
