//! What applications write with Gemini's image generation ("Nano Banana"), as first-class APIs
//! on top of the [`nanobanana_transport`] client, with the documented rules enforced so that
//! they cannot be got wrong.
//!
//! # Quickstart
//!
//! Against the project's fake server (in a real program, `ClientConfig::from_env()` reads
//! `GEMINI_API_KEY`):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nanobanana_mock::MockGemini;
//! use nanobanana_transport::{Client, ClientConfig};
//! use nanobanana_workflows::{ClientExt, InputImage, Outcome};
//!
//! let server = MockGemini::start().await;
//! let client = Client::new(ClientConfig::new("test-key").with_base_url(server.uri()))?;
//!
//! // One shot: model, ratio, size; the answer says what it is.
//! let banana = client
//!     .images()
//!     .generate("A nano banana dish in a fancy restaurant with a Gemini theme")
//!     .aspect_ratio("16:9")
//!     .image_size("2K")
//!     .send()
//!     .await?;
//! match banana.outcome() {
//!     Outcome::Images => {
//!         let image = banana.image().unwrap();
//!         println!("{} image, {}", image.mime_type().unwrap(), image.dimensions().unwrap());
//!         # let dir = std::env::temp_dir().join(format!("nb-doc-{}", std::process::id()));
//!         # std::fs::create_dir_all(&dir)?;
//!         # let path = dir.join("banana.png");
//!         # let _ = std::fs::remove_file(&path);
//!         banana.save(&path)?; // atomic; refuses to replace an existing file
//!         # std::fs::remove_dir_all(&dir)?;
//!     }
//!     Outcome::NoImage { .. } | Outcome::TextOnly => println!("no image: {}", banana.text()),
//!     other => println!("declined: {other}"),
//! }
//! assert_eq!(banana.actual_dimensions(), banana.predicted_dimensions());
//!
//! // Editing: an input image (its type recognised from the bytes) and an instruction.
//! let png = banana.image().unwrap().bytes().to_vec();
//! let edited = client
//!     .images()
//!     .edit(InputImage::from_bytes(png)?, "Make the plate blue")
//!     .image_only()
//!     .send()
//!     .await?
//!     .require_images()?; // every other outcome becomes an error
//! assert!(edited.text().is_empty());
//!
//! // Multi-turn: signatures go back exactly as received.
//! let mut chat = client.chat("gemini-3-pro-image");
//! chat.send("A watercolour of a banana").await?;
//! chat.send("Now add a little hat").await?;
//! assert_eq!(chat.turns(), 2);
//! # Ok(()) }
//! ```
//!
//! # What is here
//!
//! - [`Images`] / [`Generate`]: one-shot generation and editing (`client.images()`), with
//!   model, aspect ratio, size, modalities, thinking level, thoughts, Google Search and input
//!   images from bytes, paths or uploaded files ([`InputImage`]; the type is recognised from the
//!   content, never the extension). The result, [`Generation`], has the [`Outcome`], final and
//!   thought images, text, [`Usage`], the predicted and actual pixel size, grounding, and atomic
//!   [`save`](Generation::save).
//! - [`Chat`]: multi-turn editing with transactional turns, per-turn overrides, streaming turns,
//!   and export/import as a stable JSON format ([`ChatExport`]) validated on import.
//! - [`InteractionConversation`]: a conversation whose history the service keeps (the
//!   Interactions API's `previous_interaction_id`; only the last interaction id is held), with
//!   the same [`Generation`] results (`client.interaction_chat(model)`).
//! - [`Composition`]: up to 14 reference images tagged as objects or characters, checked
//!   against each model's limits before sending.
//! - [`Grounding`]: typed grounding metadata, supports mapped to text spans, and the
//!   [`Attribution`] the display duties require, as data and HTML.
//! - [`Outcome`]: `NO_IMAGE`, `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`, a blocked prompt, a
//!   text-only answer, ... as variants to match on.
//! - [`BatchBuilder`] / [`BatchJob`]: batches inline or through a JSONL file, polled with
//!   backoff and progress, cancellable, results in submission order; [`BatchJob::attach`]
//!   picks a batch up by name in another process, [`BatchJob::list`] lists them
//!   ([`BatchSummary`]).
//! - [`CostPreview`]: the predicted pixel size and output tokens of a request, before sending.
//!
//! Every call goes through the transport, so a request the rules reject is refused before any
//! byte is sent ([`Error::Transport`] with a validation report).
//!
//! # Features
//!
//! - `image` (off): `Image::to_dynamic_image`, decoding into `image::DynamicImage` with the
//!   `image` crate (PNG and JPEG only, its default features off).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod batch;
mod chat;
mod cost;
mod error;
mod generation;
pub mod grounding;
mod images;
mod interaction;
pub mod media;
mod message;
mod options;
pub mod save;

pub use crate::batch::{
    BatchBuilder, BatchItem, BatchJob, BatchProgress, BatchResults, BatchSummary,
    DEFAULT_INLINE_LIMIT, ItemError, Polling,
};
pub use crate::chat::{Chat, ChatExport};
pub use crate::cost::{BatchCostPreview, CostPreview};
pub use crate::error::Error;
pub use crate::generation::{Generation, Image, Usage, assemble_stream};
pub use crate::grounding::{Attribution, AttributionLink, Grounding, SourceKind};
pub use crate::images::{ClientExt, Generate, Images, default_model};
pub use crate::interaction::{
    InteractionConversation, generation_of, interaction_request, response_of,
};
pub use crate::media::{Dimensions, ImageFormat, InputImage};
pub use crate::message::{Composition, Message, Reference, ReferenceKind};
pub use crate::options::{ImageOptions, Modalities, Search};
// What an answer amounts to: the rules crate's classification (`nanobanana_rules::outcome`).
pub use nanobanana_rules::outcome::{Outcome, OutcomeKind};
