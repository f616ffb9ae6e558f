//! The conformance kit of Gemini's image-generation API ("Nano Banana"): the fixture corpus
//! (`fixtures/`) used as language-agnostic test vectors, and the runners that hold an
//! implementation to them.
//!
//! - **Server conformance** ([`check_server`]): every case's requests are sent to a server (the
//!   live service with a key, or a fake one) and each answer is held to what the case expects at
//!   the level a correct server must meet ([`Level::Server`]): the same status, error and
//!   message, outcome, pixel sizes, signature placement (SPEC.md §4) and grounding shape.
//! - **Client conformance** ([`serve_vectors`], [`check_client`]): the cases are served by the
//!   fake server in replay mode, so a client in any language can be pointed at it; this
//!   project's own client ([`nanobanana_transport::Client`]) is driven through every case and
//!   held to the recorded answers exactly ([`Level::Exact`]).
//! - **Recording** ([`record_case`]): a case's requests replayed against the live service and
//!   written as a `recorded` case, key and volatile ids redacted.
//!
//! The `nanobanana-conformance` binary wraps these as `server`, `serve`, `client` and `record`.
//!
//! # Quickstart
//!
//! Hold a server to the suite; here the fake server, replaying the corpus, is the server:
//!
//! ```
//! use nanobanana_conformance::{Suite, ServerRun, Target, check_server, serve_vectors, ServeOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let suite = Suite::load(Suite::repository_dir())?;
//! let server = serve_vectors(&suite, &ServeOptions::new().with_api_key("key")).await?;
//!
//! let run = ServerRun::new(Target::new(&server.uri(), "key")).with_cases("generate/");
//! let report = check_server(&suite, &run).await?;
//! println!("{report}"); // one line per case, then "7 passed, 0 failed, 1 skipped"
//! assert!(report.is_success());
//! # Ok(()) }
//! ```
//!
//! Against the live service: `ServerRun::new(Target::new(PUBLIC_BASE_URL, &key))`, or
//! `nanobanana-conformance server --base-url https://generativelanguage.googleapis.com` with
//! `GEMINI_API_KEY` set. It costs what the requests cost (the size matrices alone are 96
//! generations); `--case`/[`ServerRun::with_cases`] narrows it.
//!
//! # The vectors
//!
//! A case (`fixtures/cases/<area>/<slug>.json`, format in `fixtures/README.md` and
//! `fixtures/schema/case.schema.json`) is an ordered list of HTTP interactions plus:
//!
//! - `required` (every implementation must pass it) or not (optional: a failure is reported
//!   but does not fail a run);
//! - `targets`: `client`, `server` or both. Client-only cases hold answers no correct server
//!   produces on demand (an injected 503, a deliberately unsigned image, a blocked prompt, a
//!   batch the case did not create); the server runner skips them;
//! - `auth` per request: the key in the header (default), in the query, absent, or wrong;
//! - `expect`: the validator's verdict on the requests (hand-written) and the client-observable
//!   facts of the answers (derived from them by `fixtures/tools/expect.py`; [`derive_expect`] is
//!   the same derivation in Rust, and the tidy test keeps the two equal): status, outcome, finish
//!   reason, error code/status/message, the decoded images with their pixel sizes, the signature
//!   verdict, grounding facts, a batch's state.
//!
//! A later request of a case that refers to an earlier answer (a file name, an upload URL, a
//! model turn sent back with its signatures) is rewritten to refer to what the server under test
//! actually answered; see [`prepare`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod exchange;
mod http;
mod observe;
mod record;
mod report;
mod serve;
mod server;
mod suite;
mod verdict;

pub use crate::client::{ClientRun, check_client};
pub use crate::exchange::{Outgoing, prepare, recorded_answers};
pub use crate::http::{PLACEHOLDER_KEY, PUBLIC_BASE_URL, Target};
pub use crate::observe::{Answer, Observation, Payload, derive_expect, observe, split_events};
pub use crate::record::{Recording, record_case};
pub use crate::report::{CaseResult, Report, Verdict, compliance_table};
pub use crate::serve::{ServeOptions, serve_case, serve_vectors};
pub use crate::server::{ServerRun, check_server};
pub use crate::suite::{
    Auth, Conclusion, ErrorFacts, Expect, ExpectedViolation, GroundingFacts, ImageFacts, ImageKind,
    SignatureFinding, SignatureVerdict, Suite, SuiteCase, SuiteError, Targets,
};
pub use crate::verdict::{Expected, Level, compare};
