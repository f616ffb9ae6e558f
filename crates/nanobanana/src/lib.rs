//! Gemini's native image generation ("Nano Banana": `gemini-3.1-flash-image`,
//! `gemini-3-pro-image`, `gemini-2.5-flash-image`) for Rust. This is the crate to add:
//! it re-exports the client, the workflows, the rules and the wire types.
//!
//! ```toml
//! [dependencies]
//! nanobanana = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//!
//! [dev-dependencies]
//! nanobanana-mock = "0.1" # the fake server, for your tests (or the `mock` feature)
//! ```
//!
//! # Quickstart
//!
//! This runs as it is against the in-process fake server; with a key, replace the first two
//! lines by `let client = Client::new(ClientConfig::from_env()?)?;` (it reads
//! `GEMINI_API_KEY`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nanobanana::prelude::*;
//!
//! let server = nanobanana_mock::MockGemini::start().await;
//! let client = Client::new(ClientConfig::new("test-key").with_base_url(server.uri()))?;
//!
//! // See what it will cost before sending.
//! let request = client
//!     .images()
//!     .generate("A nano banana dish in a fancy restaurant with a Gemini theme")
//!     .model("gemini-3-pro-image")
//!     .aspect_ratio("16:9")
//!     .image_size("2K");
//! println!("{}", request.preview()?); // ...: 16:9 @ 2K: 2752x1536, 1120 tokens per image
//!
//! // Send it; match on what came back.
//! let banana = request.send().await?;
//! match banana.outcome() {
//!     Outcome::Images => println!("{}", banana.actual_dimensions().unwrap()),
//!     Outcome::BlockedPrompt { reason, .. } => println!("blocked: {reason:?}"),
//!     other => println!("no image: {other}"),
//! }
//!
//! // Keep editing in a chat: thought signatures go back exactly as received.
//! let mut chat = client.chat("gemini-3.1-flash-image");
//! chat.send("Create a picture of a nano banana on a plate").await?;
//! let hat = chat
//!     .send_with("Give it a tiny hat, square please", &ImageOptions::new().with_aspect_ratio("1:1"))
//!     .await?;
//! assert!(hat.outcome().has_images());
//!
//! // Resume it after a restart.
//! let saved = chat.export_json();
//! let chat = Chat::import(client.clone(), &saved)?;
//! assert_eq!(chat.turns(), 2);
//! # Ok(()) }
//! ```
//!
//! The examples (`cargo run -p nanobanana --example generate`, and `edit`, `chat`, `interaction_chat`, `compose`,
//! `grounding`, `outcomes`, `batch`, `cost_preview`) each start the fake server in-process, or
//! use the real service when `GEMINI_API_KEY` is set.
//!
//! # Layers
//!
//! | module | crate | what |
//! |---|---|---|
//! | the root, [`workflows`] | `nanobanana-workflows` | images, chat, composition, grounding, outcomes, batches, cost previews |
//! | [`transport`] ([`Client`], [`ClientConfig`], ...) | `nanobanana-transport` | the HTTP client: retries, streaming, Batch/Files/Models APIs, one error type |
//! | [`rules`] | `nanobanana-rules` | the model catalogue, resolution tables, request validation, signature rules |
//! | [`wire`] | `nanobanana-wire` | the wire types, generated from the fixture corpus |
//! | `mock` (feature) | `nanobanana-mock` | the fake Gemini server |
//!
//! The root re-exports every item of the workflows crate; [`prelude`] has what most programs
//! use.
//!
//! # Features
//!
//! - `mock` (off): re-exports the fake server as `nanobanana::mock` (`MockGemini`, `Mock`,
//!   `Fault`, ...), for your tests. Off by default so that a program that calls the service
//!   does not compile a server; adding `nanobanana-mock` as a dev-dependency does the same.
//! - `image` (off): `Image::to_dynamic_image`, decoding PNG and JPEG with the `image` crate.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The wire types (`nanobanana-wire`).
pub use nanobanana_wire as wire;

/// The documented rules (`nanobanana-rules`).
pub use nanobanana_rules as rules;

/// The HTTP client (`nanobanana-transport`).
pub use nanobanana_transport as transport;

/// The workflows (`nanobanana-workflows`), also re-exported at the root.
pub use nanobanana_workflows as workflows;

/// The fake Gemini server (`nanobanana-mock`), for tests.
#[cfg(feature = "mock")]
pub use nanobanana_mock as mock;

pub use nanobanana_transport::{
    ApiKey, ApiVersion, Client, ClientConfig, RequestOptions, RetryPolicy,
};
pub use nanobanana_workflows::*;

/// What most programs use: `use nanobanana::prelude::*;`.
pub mod prelude {
    pub use nanobanana_transport::{Client, ClientConfig, RequestOptions, RetryPolicy};
    pub use nanobanana_workflows::{
        Chat, ClientExt, Composition, Error, Generation, ImageOptions, InputImage,
        InteractionConversation, Message, Outcome, Polling, Reference, Search,
    };
}
