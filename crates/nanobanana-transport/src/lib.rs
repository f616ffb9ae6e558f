//! The HTTP client of Gemini's image-generation API ("Nano Banana"): content generation, whole
//! or streamed, the Batch, Files and Models APIs, with pre-flight validation, retries and one
//! error type.
//!
//! Built on `reqwest` (HTTP/1.1) with `rustls` and its `ring` provider, and `tokio`. The types
//! on the wire are [`nanobanana_wire`]'s (re-exported as [`wire`]); the rules a request is
//! checked against before sending are [`nanobanana_rules`]' (re-exported as [`rules`]).
//!
//! # Quickstart
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use nanobanana_transport::{Client, ClientConfig};
//! use nanobanana_transport::wire::{
//!     Content, GenerateContentRequest, GenerationConfig, ImageConfig, Modality, Part,
//! };
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // GEMINI_API_KEY (or GOOGLE_API_KEY), and GOOGLE_GEMINI_BASE_URL if set.
//! let client = Client::new(ClientConfig::from_env()?)?;
//!
//! let request = GenerateContentRequest::new()
//!     .with_contents([Content::user([Part::from_text("A nano banana dish, plated")])])
//!     .with_generation_config(
//!         GenerationConfig::new()
//!             .with_response_modalities([Modality::Image])
//!             .with_image_config(ImageConfig::new().with_aspect_ratio("16:9").with_image_size("2K")),
//!     );
//!
//! // One answer.
//! let response = client.generate_content("gemini-3-pro-image", &request).await?;
//! for part in response.candidates.iter().flat_map(|c| c.content.iter()).flat_map(|c| &c.parts) {
//!     if let Some(image) = part.inline_data.as_ref().and_then(|blob| blob.data.as_ref()) {
//!         std::fs::write("banana.png", image.as_slice())?;
//!     }
//! }
//!
//! // The same, streamed: text chunks first, the image whole in one event.
//! let mut stream = client.stream_generate_content("gemini-3-pro-image", &request);
//! while let Some(chunk) = stream.next().await {
//!     let chunk = chunk?;
//!     # let _ = chunk;
//! }
//! # Ok(()) }
//! ```
//!
//! Against a fake server (here `nanobanana-mock`, in-process), point the client at it and tune
//! retries:
//!
//! ```
//! use std::time::Duration;
//! use nanobanana_mock::MockGemini;
//! use nanobanana_transport::{Client, ClientConfig, RetryPolicy};
//! use nanobanana_transport::wire::{Content, GenerateContentRequest, Part};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), nanobanana_transport::Error> {
//! let server = MockGemini::start().await; // 127.0.0.1, a free port
//! let client = Client::new(
//!     ClientConfig::new("test-key")
//!         .with_base_url(server.uri())
//!         .with_retry_policy(RetryPolicy::default().with_initial_delay(Duration::from_millis(10))),
//! )?;
//! let request = GenerateContentRequest::new()
//!     .with_contents([Content::user([Part::from_text("A nano banana dish, plated")])]);
//! let response = client.generate_content("gemini-3.1-flash-image", &request).await?;
//! assert_eq!(response.candidates.len(), 1);
//! # Ok(()) }
//! ```
//!
//! # What the client does for you
//!
//! - **Pre-flight validation**: a request the service would reject (say `imageSize: "1k"`) is
//!   refused locally, with the service's rule ids and messages, before any byte is sent
//!   ([`ErrorKind::Validation`]). [`RequestOptions::skip_validation`] turns it off for a call.
//! - **Retries** on by default, conservatively (3 attempts; 408, 429, 500, 502, 503, 504 and
//!   connections that failed before any answer), honouring `RetryInfo.retryDelay` and
//!   `Retry-After` up to a cap; streams retry only before their first event. See
//!   [`RetryPolicy`]; [`RetryPolicy::none`] turns them off.
//! - **One error type**, [`Error`], with predicates and the service's decoded `details`.
//! - **Streams** parsed incrementally ([`sse::SseSplitter`]: each event's data is handed over in
//!   pieces as it arrives); a cut-off stream or an error event is an error, never a silent end.
//! - **Decoding while receiving**: answers and stream events are fed chunk by chunk, as the
//!   network delivers them, to [`nanobanana_wire::ResponseDecoder`], which decodes each image's
//!   base64 text during the transfer into a buffer sized from `Content-Length` and keeps only the
//!   small JSON skeleton; the result is [`nanobanana_wire::decode_response`]'s on the whole body.
//!   A 4K answer is ready about when its last byte arrives, in the memory of the image (see
//!   `benches/`).
//! - **Uploads that resume**: [`Files::upload_path`] streams a file from disk one chunk at a
//!   time (memory stays flat for a 2 GB video), [`UploadOptions`] adds a progress callback
//!   ([`UploadProgress`]); after a failed chunk the client asks the service how much it received
//!   (`X-Goog-Upload-Command: query`) and goes on from there, within the retry policy's
//!   attempts. [`Files::wait_active`] waits for a file to leave `PROCESSING`.
//! - **The Interactions API** ([`Client::interactions`], `docs/service/INTERACTIONS.md`):
//!   create, get, delete, cancel, [`Interactions::wait`] for a background run, and the
//!   named-event [`Interactions::stream`], which resumes after a dropped connection with
//!   `GET interactions/{id}?stream=true&last_event_id=...` from the event after the last one
//!   received. Same validation (`nanobanana_rules::validate_interaction_with`), retries and
//!   errors (the API's `{"error": {"code": "not_found", ...}}` reads as
//!   [`ApiError::status`] `not_found`). Stream events are fed chunk by chunk to
//!   [`nanobanana_wire::ResponseDecoder::for_interactions`], so an image delta is decoded while
//!   it arrives; whole answers (create, get, cancel) are decoded in one pass
//!   ([`nanobanana_wire::decode_interaction`]) once received.
//! - **Secrets**: the key is an [`ApiKey`] that never prints; it travels only in the
//!   `x-goog-api-key` header (marked sensitive), and is scrubbed from every error text.
//! - **Tracing**: every attempt is a `gemini.request` span with `rpc`, `model`, `method`,
//!   `attempt`, `status` and `latency_ms` (to the answer's head); never the key, a query or a
//!   body.
//!
//! # Tests and paused clocks
//!
//! Retry waits use `tokio::time::sleep`, so a test on a paused clock (`start_paused`) skips them.
//! Timeouts are timers too, and a paused clock jumps to the next timer whenever the runtime waits
//! on a real socket: use [`ClientConfig::without_timeout`] (and keep connect timeouts off or
//! long) in such tests.
//!
//! # Features
//!
//! - `reqwest-client` (off): `ClientConfig::with_reqwest_client`, to bring your own
//!   `reqwest::Client` (proxies, certificates, connection pools). It is the one place `reqwest`
//!   would show in this crate's API, so it is opt-in: without it, no reqwest type is public and
//!   a reqwest upgrade is an internal change.
//!
//! TLS is reqwest's rustls with the platform's certificate store. HTTP/2 is not compiled in (the
//! service speaks HTTP/1.1, and answers are single large bodies or SSE).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod batches;
mod client;
mod config;
mod error;
mod files;
mod http;
mod interactions;
mod models;
mod paging;
mod retry;
pub mod sse;
mod stream;
mod urls;

pub use crate::batches::{Batches, encode_jsonl};
pub use crate::client::{Client, RequestOptions};
pub use crate::config::{
    ApiKey, ApiVersion, ClientConfig, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
    DEFAULT_UPLOAD_CHUNK_SIZE,
};
pub use crate::error::{ApiError, Error, ErrorDetail, ErrorKind};
pub use crate::files::{Files, UploadOptions, UploadProgress};
pub use crate::interactions::{InteractionEvents, Interactions, WaitOptions, is_settled};
pub use crate::models::Models;
pub use crate::retry::{DEFAULT_RETRYABLE_STATUSES, RetryPolicy};

/// The wire types (`nanobanana-wire`).
pub use nanobanana_wire as wire;

/// The rules requests are validated against (`nanobanana-rules`).
pub use nanobanana_rules as rules;

/// The `Stream` trait the streaming calls return (from `futures-util`).
pub use futures_util::Stream;
