//! A fake Gemini image-generation server ("Nano Banana") for tests: point your client (this
//! project's, the official Python, JS or Go SDK, or anything that speaks the REST API) at it
//! instead of the real service, with no key and no network.
//!
//! - **Replay** serves the fixture corpus: a request is matched to a recorded interaction
//!   semantically (JSON equal ignoring key order and camelCase/snake_case, base64 compared as
//!   bytes in either alphabet, `responseModalities` and `thinkingLevel` in any case, an empty
//!   `generationConfig` as none, per-case ignored pointers), in order within a case. A request that
//!   matches nothing gets a Google-style error naming the closest recording and the differences,
//!   and fails the test when the server is dropped.
//! - **A date**: the server plays the service as it is (or was) on one day
//!   ([`MockGeminiBuilder::as_of`], `--as-of`; default today), from the model catalogue
//!   (`fixtures/models.json`): models are served, listed by `models.list` and refused with the
//!   service's 404 `NOT_FOUND` by their lifecycle at that date (an id the catalogue does not
//!   know gets the 404 too), the 3.x models answer JPEG (PNG before the catalogue's
//!   `jpeg-output` date), and unsigned model turns are refused before the
//!   `unsigned-image-turn-accepted` date and accepted since ([`MockGeminiBuilder::signatures`]
//!   overrides). `2026-03-01` is the early-2026 service the fixture corpus of 0.2.0 records.
//! - **Simulate** answers any valid request by the documented rules: real JPEG (or PNG) images of
//!   exactly the table's size for (model, aspect ratio, image size), deterministic content (the
//!   same request gives the same bytes), thought text and thought images with
//!   `includeThoughts`, signatures placed per SPEC.md §4, grounding metadata with Google Search,
//!   usage with the table's token counts, streaming in the service's SSE framing.
//! - **Hybrid** (the default) replays what matches and simulates the rest.
//! - **Validate** (always): what the real service rejects is rejected with its status, error
//!   shape and message, using the same rules as the client ([`nanobanana_rules`]), plus
//!   signature circulation: signatures are authenticated, so a model turn sent back with an
//!   altered or foreign signature (or, by the date, a missing one) gets the real
//!   `400 INVALID_ARGUMENT` texts; the documented dummy signatures are accepted.
//! - **Faults**: error statuses (429 with `RetryInfo` and `QuotaFailure`, 500, 503), delays,
//!   connection resets, truncated streams, error events mid-stream and unusual outcomes
//!   (`NO_IMAGE`, `IMAGE_SAFETY`, a blocked prompt), per server, per [`Mock`], or per request
//!   with the [`FAULT_HEADER`] from any language (see [`fault`] for the syntax). A batch item
//!   can carry its own fault in the same syntax (its `status`, `retry-delay` and `outcome`
//!   directives), under `x-nanobanana-fault` in its `metadata` (inline batches) or beside its
//!   `request` (JSONL lines), so a batch can mix successes, outcomes and errors; `batchStats`
//!   counts them.
//! - **Record on miss** ([`MockGeminiBuilder::upstream`], [`MockGeminiBuilder::record_into`],
//!   [`RecordMode`]; `--upstream URL --record-into DIR --record-mode none|new|all`): what no
//!   recording matches is forwarded to an upstream, answered, written into `DIR` as a case of
//!   the corpus format (images as blobs, streams as events, API keys and other credentials left
//!   out and scrubbed) and replayed from then on, in this run and after a restart.
//! - **Webhooks** ([`webhooks`]): a batch created with `webhookConfig {uris, user_metadata}`
//!   (an interaction with `webhook_config`) POSTs its completion event (`batch.succeeded`,
//!   `batch.cancelled`, `interaction.completed`, ...) to each loopback URI,
//!   signed the Standard Webhooks way with the server's secret
//!   ([`MockGeminiBuilder::webhook_secret`], `--webhook-secret`), retried with backoff; every
//!   attempt is in [`MockGemini::webhook_deliveries`].
//! - **Chaos and quotas**: seeded random faults and delay distributions per endpoint
//!   ([`chaos`], `--chaos`; the same seed and request order give the same run) and per-model
//!   rate limits (requests per minute and per day, input tokens per minute; [`quota`],
//!   `--quota`) answered with the service's `429 RESOURCE_EXHAUSTED`, `QuotaFailure` and
//!   `RetryInfo`, with windows on a clock a test can move ([`quota::ManualClock`]).
//!
//! # Quickstart
//!
//! ```
//! use nanobanana_mock::{Endpoint, Fault, Mock, MockGemini};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let server = MockGemini::start().await; // 127.0.0.1, a free port, hybrid mode
//! let base_url = server.uri();            // give this to your client as its base URL
//!
//! // The first generateContent call is rate limited, later ones succeed.
//! Mock::any()
//!     .endpoint(Endpoint::GenerateContent)
//!     .fault(Fault::status(429))
//!     .up_to_n_times(1)
//!     .mount(&server)
//!     .await;
//! # let _ = base_url;
//! // ... run the code under test against `base_url` ...
//! for request in server.received_requests() {
//!     println!("{request}"); // POST /v1beta/models/...:generateContent (1234 bytes) -> 429
//! }
//! // Filtered by endpoint (or by model), with the typed request of generate calls.
//! for call in server.received_for(Endpoint::GenerateContent) {
//!     let _typed = call.generate_request(); // Option<GenerateContentRequest>
//! }
//! # }
//! ```
//!
//! Replay the repository's corpus (or your own recordings in the same format):
//!
//! ```no_run
//! # async fn run() {
//! use nanobanana_mock::{MockGemini, Mode};
//!
//! let server = MockGemini::builder()
//!     .mode(Mode::Replay)
//!     .fixtures("fixtures")
//!     .api_key("test-key")
//!     .start()
//!     .await;
//! # }
//! ```
//!
//! # Endpoints
//!
//! Under `/v1beta` and `/v1` alike: `models/{model}:generateContent`,
//! `:streamGenerateContent` (`alt=sse`, or a JSON array without it), `:batchGenerateContent`,
//! `batches` (get, list, `:cancel`, delete), `/upload/{version}/files` (raw, multipart and the
//! resumable protocol the official SDKs use), `files` (get, list, delete),
//! `/download/{version}/files/{id}:download`, and `models` (list, get). The API key comes from
//! `x-goog-api-key` or `?key=`. Hybrid mode never replays batch creation, uploads or the list
//! endpoints, which must reflect what this server stored.
//!
//! The Interactions API (`docs/service/INTERACTIONS.md`), under any `/{version}/`:
//! `interactions` (create: validated by the same rules and catalogue at the server's date,
//! answered by the same simulation as a signed `thought` step and a `model_output` step, JPEG or
//! PNG by the model's catalogue format; `stream: true` answers the named events
//! `interaction.created` ... `interaction.completed`, each with an `event_id` and its type both
//! in the `event:` line and in `event_type`), `interactions/{id}` (get: the full timeline, or
//! with `stream=true&last_event_id=` the event stream after that event; delete),
//! `interactions/{id}/cancel`. Interactions are stored per server (at most
//! [`MockGeminiBuilder::max_interactions`], the oldest evicted) unless `store: false`, so a later
//! get or `previous_interaction_id` of an unstored, deleted or evicted one is the service's 404
//! `not_found`; `background: true` answers `in_progress` and completes after
//! [`MockGeminiBuilder::interaction_polls`] gets; cancel moves a running one to `cancelled`;
//! `delivery: uri` stores the image as a file of this server and answers its download URI.
//! Errors there, the key check's and faults' included, have the API's shape
//! (`{"error": {"code": "not_found", "message": ...}}`); an `error-after` fault ends a stream
//! with a named `error` event. Hybrid mode does not replay the Interactions API (its ids must be
//! this server's); replay mode serves the vectors of `fixtures/interactions/` as recorded.
//!
//! Routing is the workspace's one route
//! table ([`nanobanana_wire::routes`]); [`Endpoint`] is its endpoint enum, the one
//! [`ReceivedRequest::endpoint`] and [`Mock::endpoint`] use.
//!
//! # Per-request headers (usable from any language)
//!
//! | header | effect |
//! |---|---|
//! | `x-nanobanana-fault` | inject a fault ([`fault`] has the syntax) |
//! | `x-nanobanana-mode` | `simulate`, `replay` or `hybrid` for this request |
//! | `x-nanobanana-image-format` | `png` or `jpeg` images for this request |
//!
//! # The admin API (usable from any language)
//!
//! Under `/__admin/`, a prefix no Gemini path uses: the journal as JSON with decoded bodies
//! (filtered by endpoint, model, status), mounts from JSON (the [`Mock`] conditions plus JSON
//! pointer values; a fault, an outcome, a status or a JSON body; `times`; expectations),
//! verification, reset, and the settings a running server can change (mode, date, signature
//! policy). `ADMIN.md` beside this crate documents every call with curl examples;
//! [`MockGeminiBuilder::admin_token`] (`--admin-token`) requires a bearer token on it.
//!
//! # Record on miss
//!
//! ```no_run
//! # async fn run() {
//! use nanobanana_mock::{MockGemini, RecordMode};
//!
//! // Forward what no recording in `recordings/` matches to another server (http:// only; for
//! // the real service, a local TLS-terminating proxy), record it there, replay it next time.
//! let server = MockGemini::builder()
//!     .upstream("http://127.0.0.1:8080")
//!     .record_into("recordings")
//!     .record_mode(RecordMode::New)
//!     .start()
//!     .await;
//! # }
//! ```
//!
//! See [`RecordMode`] for the modes and what a recording holds.
//!
//! # Invariants
//!
//! Depends on the wire types and the rules only, never on the client (transport, workflows), so
//! one bug cannot hide on both sides of the wire: the requests it sends itself (forwarding,
//! webhooks) go through hyper's own client (`outbound`). Nothing a client sends panics a handler
//! or stops the server; state (files, batches, interactions, the journal, the answer cache) is
//! bounded and per server, and so are connections (a cap, and a timeout for reading request
//! headers). hyper types stay out of the public API.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admin;
pub mod chaos;
mod conditions;
mod config;
mod control;
mod endpoints;
pub mod fault;
pub mod image;
mod journal;
mod json;
mod mock;
mod outbound;
pub mod quota;
mod record;
mod replay;
mod reply;
mod request;
mod response;
mod server;
mod signature;
mod simulate;
mod store;
pub mod webhooks;

pub use crate::config::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_JOURNAL_BYTE_LIMIT, DEFAULT_MAX_CONNECTIONS,
    IMAGE_FORMAT_HEADER, MODE_HEADER, MockError, MockGeminiBuilder, Mode,
};
pub use crate::fault::{FAULT_HEADER, Fault, FaultParseError, UploadCut};
pub use crate::journal::ReceivedRequest;
pub use crate::mock::{Mock, MockGuard, Times};
pub use crate::record::RecordMode;
pub use crate::server::{MockGemini, shutdown_signal};
pub use crate::webhooks::WebhookDelivery;
/// The kinds of answer a fault can ask for (the rules crate's, as the client classifies them).
pub use nanobanana_rules::OutcomeKind;
pub use nanobanana_wire::Endpoint;
pub use nanobanana_wire::corpus::LineEnding;
