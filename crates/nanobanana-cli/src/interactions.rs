//! `--api interactions`: `generate`, `edit`, `compose` and `chat` through the Interactions API
//! (`docs/service/INTERACTIONS.md`) instead of `generateContent`.
//!
//! The request is the workflows' [`InteractionConversation`] request (the message as a content
//! list, the aspect ratio and image size as the image `response_format`), checked against the
//! same catalogue and rules before anything is sent (`nanobanana_rules::validate_interaction`).
//! A chat keeps its history on the service: its session file holds the model and the chain of
//! interaction ids ([`ServerSession`]), nothing of the images.

use nanobanana_rules::{Options, validate_interaction_with};
use nanobanana_transport::Client;
use nanobanana_wire::CreateInteractionRequest;
use nanobanana_workflows::{
    Generation, ImageOptions, InteractionConversation, Message, Outcome, interaction_request,
};
use serde::{Deserialize, Serialize};

use crate::cli::ImageOptions as ImageArgs;
use crate::ui::{Failure, Ui, warn_report};

/// The `format` of a chat session file made with `--api interactions`.
pub(crate) const SESSION_FORMAT: &str = "nanobanana-interaction-session";

/// Refuses the flags that have no Interactions API field here, naming them and what is sent.
pub(crate) fn check_flags(args: &ImageArgs) -> Result<(), Failure> {
    let unsupported = [
        (args.search.is_some(), "--search"),
        (args.image_only, "--image-only"),
        (args.thinking.is_some(), "--thinking"),
    ];
    let given: Vec<&str> = unsupported
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, flag)| *flag)
        .collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(Failure::refused(format!(
        "{} cannot be used with --api interactions: this client sends the model, the input and \
         the image response format (--aspect-ratio, --size) there; leave {} out or use \
         --api generate-content",
        given.join(", "),
        if given.len() == 1 { "it" } else { "them" }
    )))
}

/// The request of one turn, checked against the documented rules: the whole report is shown
/// when it breaks any, and nothing is sent.
pub(crate) fn check_request(
    ui: &Ui,
    model: &str,
    options: &ImageOptions,
    message: &Message,
) -> Result<(), Failure> {
    check(
        ui,
        interaction_request(model, options, None, None, message.clone()),
    )
}

/// [`check_request`] for the next turn of a conversation (it continues the last interaction).
pub(crate) fn check_turn(
    ui: &Ui,
    conversation: &InteractionConversation,
    message: &Message,
) -> Result<(), Failure> {
    check(ui, conversation.request_for(message.clone()))
}

fn check(
    ui: &Ui,
    request: Result<CreateInteractionRequest, nanobanana_workflows::Error>,
) -> Result<(), Failure> {
    let request = request.map_err(|error| Failure::refused(error.to_string()))?;
    let report = validate_interaction_with(&request, &Options::for_client());
    if !report.is_valid() {
        return Err(Failure::rules(&report, "the request "));
    }
    warn_report(ui, &report);
    Ok(())
}

/// Sends one turn; a transport error becomes the CLI's failure for it.
pub(crate) async fn send(
    conversation: &mut InteractionConversation,
    message: Message,
) -> Result<Generation, Failure> {
    conversation
        .send(message)
        .await
        .map_err(|error| match error {
            nanobanana_workflows::Error::Transport(error) => Failure::from_client(&error),
            error => Failure::refused(error.to_string()),
        })
}

/// A chat session kept on the service: what `chat --api interactions --session FILE` saves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ServerSession {
    /// Always [`SESSION_FORMAT`].
    pub(crate) format: String,
    /// The model of the conversation.
    pub(crate) model: String,
    /// The interaction of every turn, oldest first; the last is where the next turn goes on.
    pub(crate) interaction_ids: Vec<String>,
}

impl ServerSession {
    /// Reads a session file's text, if it is one of these (`None`: another kind of file).
    pub(crate) fn parse(text: &str) -> Option<Result<Self, String>> {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        if value.get("format").and_then(|f| f.as_str()) != Some(SESSION_FORMAT) {
            return None;
        }
        Some(serde_json::from_value(value).map_err(|e| e.to_string()))
    }
}

/// A conversation whose history the service keeps, with the ids of its turns (for `/undo` and
/// the session file).
pub(crate) struct ServerChat {
    client: Client,
    conversation: InteractionConversation,
    ids: Vec<String>,
}

impl ServerChat {
    /// A new conversation, or one picked up from a session file.
    pub(crate) fn new(
        client: Client,
        model: &str,
        options: ImageOptions,
        saved: Option<ServerSession>,
    ) -> Self {
        let ids = saved.map(|s| s.interaction_ids).unwrap_or_default();
        let conversation = Self::at(&client, model, ids.last(), &options);
        Self {
            client,
            conversation,
            ids,
        }
    }

    fn at(
        client: &Client,
        model: &str,
        id: Option<&String>,
        options: &ImageOptions,
    ) -> InteractionConversation {
        let conversation = match id {
            Some(id) => InteractionConversation::resume(client.clone(), model, id.as_str()),
            None => InteractionConversation::new(client.clone(), model),
        };
        conversation.with_options(options.clone())
    }

    pub(crate) fn model(&self) -> &str {
        self.conversation.model()
    }

    pub(crate) fn turns(&self) -> usize {
        self.ids.len()
    }

    pub(crate) fn options(&self) -> &ImageOptions {
        self.conversation.options()
    }

    pub(crate) fn set_options(&mut self, options: ImageOptions) {
        self.conversation = self.conversation.clone().with_options(options);
    }

    /// The conversation going on from `id` (or from the start), with this one's model and options.
    fn continued_from(&self, id: Option<&String>) -> InteractionConversation {
        Self::at(&self.client, self.model(), id, self.options())
    }

    /// The ids of the turns, oldest first.
    pub(crate) fn ids(&self) -> &[String] {
        &self.ids
    }

    pub(crate) fn conversation(&self) -> &InteractionConversation {
        &self.conversation
    }

    /// Goes back to the interaction before the last one (the service keeps the last one, but the
    /// next turn no longer continues from it).
    pub(crate) fn undo(&mut self) -> bool {
        if self.ids.pop().is_none() {
            return false;
        }
        self.conversation = self.continued_from(self.ids.last());
        true
    }

    /// Sends a turn. A turn without images is not kept: the next one goes on from the same
    /// interaction as this one did.
    pub(crate) async fn send(&mut self, message: Message) -> Result<Generation, SendError> {
        let generation = send(&mut self.conversation, message)
            .await
            .map_err(SendError::Failure)?;
        let id = self.conversation.last_interaction_id().map(str::to_owned);
        if !generation.outcome().has_images() || id.is_none() || id.as_ref() == self.ids.last() {
            self.conversation = self.continued_from(self.ids.last());
            return Err(SendError::Unusable(generation.outcome().clone()));
        }
        self.ids.extend(id);
        Ok(generation)
    }

    /// The session file's contents.
    pub(crate) fn export_json(&self) -> String {
        let session = ServerSession {
            format: SESSION_FORMAT.to_owned(),
            model: self.model().to_owned(),
            interaction_ids: self.ids.clone(),
        };
        serde_json::to_string_pretty(&session).unwrap_or_default()
    }
}

/// Why a server-side turn was not kept.
pub(crate) enum SendError {
    /// The request failed (refused, a service error).
    Failure(Failure),
    /// The service answered without an image.
    Unusable(Outcome),
}
