//! One-shot generation and editing: `client.images().generate(prompt)...send()`.

use futures_util::StreamExt;
use nanobanana_rules::catalogue;
use nanobanana_transport::{Client, RequestOptions};
use nanobanana_wire::{
    AspectRatio, GenerateContentRequest, GenerateContentResponse, ImageSize, ThinkingLevel,
};

use crate::batch::BatchBuilder;
use crate::chat::Chat;
use crate::cost::CostPreview;
use crate::error::Error;
use crate::generation::{Generation, assemble_stream};
use crate::media::InputImage;
use crate::message::{Composition, Message};
use crate::options::{ImageOptions, Search};

/// The model the builders use unless told otherwise: the catalogue's default
/// (`fixtures/models.json`, `"default": true`; `gemini-nano-banana-2.1` since 2026-10-06).
pub fn default_model() -> &'static str {
    catalogue::default_model().id()
}

/// The workflows as methods of the transport's [`Client`]: `client.images()`,
/// `client.chat(model)`, `client.batch(model)`.
pub trait ClientExt {
    /// One-shot generation and editing.
    fn images(&self) -> Images;
    /// A multi-turn editing conversation with `model`.
    fn chat(&self, model: &str) -> Chat;
    /// A batch of generation requests for `model`.
    fn batch(&self, model: &str) -> BatchBuilder;
    /// A conversation with `model` whose history the service keeps (the Interactions API).
    fn interaction_chat(&self, model: &str) -> crate::InteractionConversation;
}

impl ClientExt for Client {
    fn images(&self) -> Images {
        Images::new(self.clone())
    }

    fn chat(&self, model: &str) -> Chat {
        Chat::new(self.clone(), model)
    }

    fn batch(&self, model: &str) -> BatchBuilder {
        BatchBuilder::new(self.clone(), model)
    }

    fn interaction_chat(&self, model: &str) -> crate::InteractionConversation {
        crate::InteractionConversation::new(self.clone(), model)
    }
}

/// Image generation and editing with one client; hands out [`Generate`] builders. Cheap to
/// clone.
#[derive(Clone, Debug)]
pub struct Images {
    client: Client,
    model: String,
}

impl Images {
    /// Generation with `client`, for [`default_model`] unless a builder says otherwise.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            model: default_model().to_owned(),
        }
    }

    /// Sets the model the builders start with.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// A generation from a prompt (or any [`Message`]: text and images).
    pub fn generate(&self, prompt: impl Into<Message>) -> Generate {
        Generate {
            client: self.client.clone(),
            model: self.model.clone(),
            message: prompt.into(),
            options: ImageOptions::new(),
            request_options: RequestOptions::new(),
        }
    }

    /// An edit: the prompt, then the image to change.
    pub fn edit(&self, image: InputImage, prompt: impl Into<String>) -> Generate {
        self.generate(Message::text(prompt).with_image(image))
    }

    /// A composition of reference images, checked against the model's limits when sent.
    pub fn compose(&self, composition: Composition) -> Generate {
        self.generate(composition)
    }

    /// Uploads an inline image with the Files API (its MIME type recognised from the bytes) and
    /// returns the reference to use instead; a file reference is returned as it is.
    pub async fn upload(&self, image: InputImage) -> Result<InputImage, Error> {
        let (format, bytes) = match image.into_inline() {
            Ok(inline) => inline,
            Err(reference) => return Ok(reference),
        };
        // The bytes move into the upload's body; no copy of the image.
        let file = self
            .client
            .files()
            .upload(bytes, format.mime_type(), None)
            .await?;
        InputImage::from_file(&file)
    }
}

/// A generation request being built; send it with [`send`](Self::send).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use nanobanana_mock::MockGemini;
/// use nanobanana_transport::{Client, ClientConfig};
/// use nanobanana_workflows::{ClientExt, Outcome};
///
/// let server = MockGemini::start().await;
/// let client = Client::new(ClientConfig::new("test-key").with_base_url(server.uri()))?;
///
/// let banana = client
///     .images()
///     .generate("A nano banana dish in a fancy restaurant")
///     .model("gemini-3-pro-image")
///     .aspect_ratio("16:9")
///     .image_size("2K")
///     .send()
///     .await?;
/// assert_eq!(banana.outcome(), &Outcome::Images);
/// assert_eq!(banana.actual_dimensions(), banana.predicted_dimensions()); // 2752x1536
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a Generate does nothing until it is sent"]
pub struct Generate {
    client: Client,
    model: String,
    message: Message,
    options: ImageOptions,
    request_options: RequestOptions,
}

impl Generate {
    /// Sets the model (default [`default_model`]).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Sets the aspect ratio, e.g. `"16:9"`.
    pub fn aspect_ratio(mut self, ratio: impl Into<AspectRatio>) -> Self {
        self.options = self.options.with_aspect_ratio(ratio);
        self
    }

    /// Sets the image size: `"512"`, `"1K"`, `"2K"`, `"4K"` (capital K).
    pub fn image_size(mut self, size: impl Into<ImageSize>) -> Self {
        self.options = self.options.with_image_size(size);
        self
    }

    /// Asks for images only.
    pub fn image_only(mut self) -> Self {
        self.options = self.options.image_only();
        self
    }

    /// Asks for text and images.
    pub fn text_and_image(mut self) -> Self {
        self.options = self.options.text_and_image();
        self
    }

    /// Sets the thinking level.
    pub fn thinking_level(mut self, level: impl Into<ThinkingLevel>) -> Self {
        self.options = self.options.with_thinking_level(level);
        self
    }

    /// Returns thoughts (thought images and summaries) too.
    pub fn include_thoughts(mut self) -> Self {
        self.options = self.options.with_thoughts();
        self
    }

    /// Grounds the answer with Google Search.
    pub fn google_search(mut self, search: Search) -> Self {
        self.options = self.options.with_search(search);
        self
    }

    /// Adds an input image (after what the message holds).
    pub fn input_image(mut self, image: InputImage) -> Self {
        self.message = self.message.with_image(image);
        self
    }

    /// Applies these settings over the ones made so far.
    pub fn options(mut self, options: &ImageOptions) -> Self {
        self.options = self.options.merged_with(options);
        self
    }

    /// Per-call transport options (timeout, retries, extra headers, skipping validation).
    pub fn request_options(mut self, options: RequestOptions) -> Self {
        self.request_options = options;
        self
    }

    /// The model.
    pub fn model_id(&self) -> &str {
        &self.model
    }

    /// The request this builder sends, after checking the message (a composition's limits).
    pub fn request(&self) -> Result<GenerateContentRequest, Error> {
        self.message
            .clone()
            .into_request(&self.model, &self.options)
    }

    /// The request, moving the message (and its input images) into it instead of copying them.
    fn take_request(&mut self) -> Result<GenerateContentRequest, Error> {
        std::mem::take(&mut self.message).into_request(&self.model, &self.options)
    }

    /// What the request will produce per image (pixel size, output tokens), without sending.
    pub fn preview(&self) -> Result<CostPreview, Error> {
        Ok(CostPreview::of(&self.model, &self.request()?))
    }

    /// Sends the request and waits for the whole answer. Every answer of the service is
    /// `Ok`, with its [`Outcome`](crate::Outcome); errors are refusals, service errors and
    /// failed calls.
    pub async fn send(mut self) -> Result<Generation, Error> {
        let request = self.take_request()?;
        let response = self
            .client
            .generate_content_with(&self.model, &request, &self.request_options)
            .await?;
        Ok(Generation::new(self.model, &request, response))
    }

    /// Sends the request as a stream, calling `on_chunk` with every partial answer as it
    /// arrives, and returns the assembled answer (the same as [`send`](Self::send)'s).
    pub async fn send_streaming(
        mut self,
        on_chunk: impl FnMut(&GenerateContentResponse),
    ) -> Result<Generation, Error> {
        let request = self.take_request()?;
        let response = stream(
            &self.client,
            &self.model,
            &request,
            &self.request_options,
            on_chunk,
        )
        .await?;
        Ok(Generation::new(self.model, &request, response))
    }
}

/// Runs a streamed generation to its end and assembles the chunks.
pub(crate) async fn stream(
    client: &Client,
    model: &str,
    request: &GenerateContentRequest,
    options: &RequestOptions,
    mut on_chunk: impl FnMut(&GenerateContentResponse),
) -> Result<GenerateContentResponse, Error> {
    let mut events = client.stream_generate_content_with(model, request, options);
    let mut chunks = Vec::new();
    while let Some(chunk) = events.next().await {
        let chunk = chunk?;
        on_chunk(&chunk);
        chunks.push(chunk);
    }
    Ok(assemble_stream(chunks))
}
