//! Wire types of the Gemini image-generation API ("Nano Banana": `gemini-3.1-flash-image-preview`,
//! `gemini-3-pro-image-preview`, `gemini-2.5-flash-image`).
//!
//! The structs and enums are **generated** by `cargo xtask codegen` from the JSON bodies of the
//! fixture corpus (`fixtures/cases/`) plus a small overlay (`overlay.json`: type names, enums,
//! bytes fields, docs). This crate does no HTTP and no async; the client and the fake server
//! build on it.
//!
//! # Quickstart
//!
//! ```
//! use nanobanana_wire::{
//!     Content, GenerateContentRequest, GenerateContentResponse, GenerationConfig, ImageConfig,
//!     Modality, Part,
//! };
//!
//! // A request: camelCase on the wire, builders on the Rust side.
//! let request = GenerateContentRequest::new()
//!     .with_contents([Content::new()
//!         .with_role("user")
//!         .with_parts([Part::new().with_text("A nano banana dish in a fancy restaurant")])])
//!     .with_generation_config(
//!         GenerationConfig::new()
//!             .with_response_modalities([Modality::Image])
//!             .with_image_config(ImageConfig::new().with_aspect_ratio("16:9").with_image_size("2K")),
//!     );
//! let json = serde_json::to_value(&request)?;
//! assert_eq!(json["generationConfig"]["imageConfig"]["imageSize"], "2K");
//!
//! // A response: each image's base64 text is read once, straight from the input buffer.
//! let body = br#"{"candidates": [{"content": {"role": "model", "parts": [
//!     {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}, "thoughtSignature": "c2ln"}
//!   ]}, "finishReason": "STOP", "index": 0}], "someFutureField": "kept"}"#;
//! let response: GenerateContentResponse = nanobanana_wire::decode_response(body)?;
//! assert_eq!(response, serde_json::from_slice(body)?);
//! let part = &response.candidates[0].content.as_ref().unwrap().parts[0];
//! assert_eq!(&part.inline_data.as_ref().unwrap().data.as_ref().unwrap().as_slice()[1..4], b"PNG");
//! // Fields this crate does not know are kept and written back.
//! assert_eq!(response.unknown_fields["someFutureField"], "kept");
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # The Interactions API
//!
//! The Interactions API's bodies (`docs/service/INTERACTIONS.md`; vectors in
//! `fixtures/interactions/`) are generated the same way: [`CreateInteractionRequest`],
//! [`Interaction`] and the stream's [`InteractionEvent`], snake_case on the wire. Steps,
//! contents, deltas and events are open tagged unions ([`Step`], [`InteractionContent`],
//! [`Delta`], [`InteractionEvent`]): one variant per known tag, and `Unknown` keeping any other
//! object as sent. [`decode_interaction`] and [`decode_interaction_event`] read each image's
//! base64 text once, as [`decode_response`] does.
//!
//! # Guarantees
//!
//! - **Lossless**: every body of the corpus decodes and re-encodes to the same JSON value (up to
//!   camelCase field names, canonical enum spelling and standard base64). Unknown fields land in
//!   each struct's `unknown_fields` and are written back; unknown enum values decode into the
//!   enum's `Unknown` variant.
//! - **Faithful**: camelCase out; snake_case accepted in (`inline_data`, `mime_type`), as the
//!   service accepts it. Bytes fields ([`Base64Bytes`]) accept the standard and the URL-safe base64
//!   alphabets and write standard padded base64.
//! - **Fast**: [`decode_response`] reads each image's base64 text once (decoded in cache-sized
//!   chunks while scanned, written once into an exactly sized buffer), at about memory-copy
//!   speed; [`decode_images_into`] does the same into a buffer the caller reuses. Plain
//!   `serde_json::from_slice` gives the same value: bytes fields are read with
//!   `deserialize_bytes`, so the base64 text is borrowed from the input, without a UTF-8 pass or
//!   an intermediate `String`.
//! - **Pleasant**: structs are `#[non_exhaustive]` with `new()` and `with_*` builders; enums are
//!   `#[non_exhaustive]`.
//!
//! # Modules
//!
//! - The generated types are re-exported at the crate root.
//! - [`corpus`] reads the fixture corpus (case files and blobs).
//! - [`routes`] is the route table: [`Endpoint`], [`Route`] and [`routes::route`], generated from
//!   the overlay.
//! - [`media`] recognises image bytes without decoding them: the type, the header's pixel size,
//!   whether a PNG or JPEG is whole.
//! - [`decode_images_into`] decodes only the images of a response into a buffer you reuse.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bytes;
mod convenience;
pub mod corpus;
#[doc(hidden)]
pub mod enums;
mod fast;
mod generated;
mod images;
mod incremental;
pub mod inspect;
mod int64;
pub mod media;
pub mod names;
pub mod routes;
mod skim;
mod unions;

pub use crate::bytes::{Base64Bytes, Base64Error};
pub use crate::fast::{decode_interaction, decode_interaction_event, decode_response};
pub use crate::generated::*;
pub use crate::images::{ImageSpan, ImagesError, decode_images_into};
pub use crate::incremental::ResponseDecoder;
pub use crate::inspect::{Inspect, UnknownReport};
pub use crate::int64::Int64;

/// Fields a struct does not know, by wire name, in the order the map keeps them.
pub type UnknownFields = serde_json::Map<String, serde_json::Value>;
