//! The server's settings: [`MockGeminiBuilder`], [`Mode`], the control header names and
//! [`MockError`]. Starting a server from them is in [`server`](crate::server).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use nanobanana_rules::{Date, SignaturePolicy};
use nanobanana_wire::corpus::{Corpus, LineEnding};

use crate::chaos::Chaos;
use crate::fault::Fault;
use crate::image::ImageFormat;
use crate::journal::ReceivedRequest;
use crate::quota::{Clock, ManualClock, Quotas};

/// How the server answers `generateContent` and the other endpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Synthesise every answer by the documented rules.
    Simulate,
    /// Serve only the fixture corpus; a request no recording matches fails loudly.
    Replay,
    /// Replay what matches a recording, simulate the rest (the default).
    #[default]
    Hybrid,
}

impl Mode {
    /// `simulate`, `replay` or `hybrid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Simulate => "simulate",
            Mode::Replay => "replay",
            Mode::Hybrid => "hybrid",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = MockError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "simulate" => Ok(Mode::Simulate),
            "replay" => Ok(Mode::Replay),
            "hybrid" => Ok(Mode::Hybrid),
            _ => Err(MockError(format!(
                "unknown mode \"{s}\": allowed are simulate, replay, hybrid"
            ))),
        }
    }
}

/// The header that overrides the server's mode for one request.
pub const MODE_HEADER: &str = "x-nanobanana-mode";
/// The header that picks the image format of simulated answers for one request (`png`, `jpeg`).
pub const IMAGE_FORMAT_HEADER: &str = "x-nanobanana-image-format";

/// Why the server could not start, or a setting was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockError(pub(crate) String);

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MockError {}

/// A callback that sees every request after it was answered (the binary logs with it).
type RequestHook = Arc<dyn Fn(&ReceivedRequest) + Send + Sync>;

/// Settings of a server; see [`MockGemini::builder`](crate::MockGemini::builder).
#[must_use = "call .start() to run the server"]
pub struct MockGeminiBuilder {
    pub(crate) addr: SocketAddr,
    pub(crate) mode: Mode,
    pub(crate) fixtures: Option<PathBuf>,
    pub(crate) corpus: Option<Corpus>,
    pub(crate) api_key: Option<String>,
    pub(crate) line_ending: LineEnding,
    pub(crate) body_limit: usize,
    pub(crate) journal_capacity: usize,
    pub(crate) journal_body_limit: usize,
    pub(crate) journal_byte_limit: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) image_format: Option<ImageFormat>,
    pub(crate) as_of: Date,
    pub(crate) signatures: SignaturePolicy,
    pub(crate) fault: Fault,
    pub(crate) fail_on_unmatched: bool,
    pub(crate) batch_polls: u32,
    pub(crate) max_files: usize,
    pub(crate) max_stored_bytes: usize,
    pub(crate) max_batches: usize,
    pub(crate) interaction_polls: u32,
    pub(crate) max_interactions: usize,
    pub(crate) signature_secret: String,
    pub(crate) on_request: Option<RequestHook>,
    pub(crate) admin_token: Option<String>,
    pub(crate) record: crate::record::RecordSettings,
    pub(crate) webhooks: crate::webhooks::WebhookSettings,
    pub(crate) chaos: Option<Chaos>,
    pub(crate) quotas: Option<Quotas>,
    pub(crate) clock: Clock,
}

impl fmt::Debug for MockGeminiBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockGeminiBuilder")
            .field("addr", &self.addr)
            .field("mode", &self.mode)
            .field("fixtures", &self.fixtures)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("line_ending", &self.line_ending)
            .field("body_limit", &self.body_limit)
            .field("journal_byte_limit", &self.journal_byte_limit)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("fault", &self.fault)
            .field("as_of", &self.as_of)
            .field("signatures", &self.signatures)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "***"))
            .field("chaos", &self.chaos)
            .field("quotas", &self.quotas)
            .finish_non_exhaustive()
    }
}

impl Default for MockGeminiBuilder {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            mode: Mode::Hybrid,
            fixtures: None,
            corpus: None,
            api_key: None,
            line_ending: LineEnding::Lf,
            body_limit: 64 << 20,
            journal_capacity: 1024,
            journal_body_limit: 1 << 20,
            journal_byte_limit: DEFAULT_JOURNAL_BYTE_LIMIT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            image_format: None,
            as_of: Date::today(),
            signatures: SignaturePolicy::ByDate,
            fault: Fault::none(),
            fail_on_unmatched: true,
            batch_polls: 1,
            max_files: 1000,
            max_stored_bytes: 512 << 20,
            max_batches: 1000,
            interaction_polls: 1,
            max_interactions: 1000,
            signature_secret: DEFAULT_SIGNATURE_SECRET.to_owned(),
            on_request: None,
            admin_token: None,
            record: crate::record::RecordSettings::default(),
            webhooks: crate::webhooks::WebhookSettings::default(),
            chaos: None,
            quotas: None,
            clock: Clock::System,
        }
    }
}

const DEFAULT_SIGNATURE_SECRET: &str = "nanobanana-mock default signature secret v1";

/// The default of [`MockGeminiBuilder::journal_byte_limit`]: 32 MiB of journalled bodies.
pub const DEFAULT_JOURNAL_BYTE_LIMIT: usize = 32 << 20;
/// The default of [`MockGeminiBuilder::header_read_timeout`]: 30 seconds (hyper's default).
/// Not shorter: tests on a paused tokio clock wait 10 s and more between retries, and an idle
/// connection closed at the very instant a client reuses it costs that client a retry.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of [`MockGeminiBuilder::max_connections`]: 512 open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

impl MockGeminiBuilder {
    /// The address to bind (default `127.0.0.1:0`: loopback, a free port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The mode (default [`Mode::Hybrid`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Loads the fixture corpus from this directory (the one holding `cases/` and `blobs/`, and
    /// the Interactions API vectors under `interactions/` when it has them).
    pub fn fixtures(mut self, dir: impl AsRef<Path>) -> Self {
        self.fixtures = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Uses an already loaded corpus.
    pub fn corpus(mut self, corpus: Corpus) -> Self {
        self.corpus = Some(corpus);
        self
    }

    /// Requires this API key (`x-goog-api-key` or `?key=`); a wrong one is answered like the real
    /// service (`400 API_KEY_INVALID`). Without it any key is accepted, but a missing key still
    /// gets the real `403 PERMISSION_DENIED`.
    pub fn api_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.to_owned());
        self
    }

    /// SSE line endings: `\n` (default, what the service sends) or `\r\n`.
    pub fn line_ending(mut self, line_ending: LineEnding) -> Self {
        self.line_ending = line_ending;
        self
    }

    /// Request bodies over this many bytes are refused with 413 before being read whole
    /// (default 64 MiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How many requests the journal keeps, most recent last (default 1024).
    pub fn journal_capacity(mut self, entries: usize) -> Self {
        self.journal_capacity = entries;
        self
    }

    /// Bodies over this many bytes are journalled by length only (default 1 MiB).
    pub fn journal_body_limit(mut self, bytes: usize) -> Self {
        self.journal_body_limit = bytes;
        self
    }

    /// The bodies the journal keeps hold at most this many bytes in all (default 32 MiB): past
    /// it, the oldest bodies are dropped and their entries marked
    /// ([`ReceivedRequest::body_dropped`]; the request line says `body dropped`).
    pub fn journal_byte_limit(mut self, bytes: usize) -> Self {
        self.journal_byte_limit = bytes;
        self
    }

    /// How long a connection may take to send a request's headers, and how long it may stay idle
    /// before its next request (default 30 s); then it is closed. A slow client cannot hold a
    /// connection open by trickling bytes. A zero duration is taken as one millisecond.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// At most this many connections are served at once (default 512, at least 1); further
    /// clients wait in the listen backlog until one closes, so the server never runs out of
    /// file descriptors for the connections it already has.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }
    /// The format of simulated images, whatever the model (default: the model's own, from the
    /// catalogue: JPEG for the 3.x models, PNG for 2.5 Flash Image). PNG or JPEG
    /// ([`image::OUTPUT_FORMATS`](crate::image::OUTPUT_FORMATS)); with another, image requests
    /// are answered with an error saying so.
    pub fn image_format(mut self, format: ImageFormat) -> Self {
        self.image_format = Some(format);
        self
    }

    /// The date of the service to be (default: today, when the builder is made). Models are
    /// served, listed and refused by their lifecycle at this date (`fixtures/models.json`): a
    /// shut-down id gets the service's 404; `2026-03-01` serves the early-2026 preview ids the
    /// fixture corpus records. Signatures are judged by this date unless
    /// [`signatures`](Self::signatures) says otherwise.
    pub fn as_of(mut self, date: Date) -> Self {
        self.as_of = date;
        self
    }

    /// What a model turn sent back without its thought signature gets: by the service's date
    /// (the default), always 400 (`Strict`, the early-2026 behaviour) or always accepted.
    pub fn signatures(mut self, policy: SignaturePolicy) -> Self {
        self.signatures = policy;
        self
    }

    /// A fault applied to every request (mounted mocks and the fault header add to it).
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }

    /// Seeded random faults and delays per endpoint (see [`chaos`](crate::chaos) for the
    /// `--chaos` syntax): the same seed and request order give the same faults on every run.
    /// Explicit faults (this builder's, mounted mocks', the fault header's) win over drawn ones.
    pub fn chaos(mut self, chaos: Chaos) -> Self {
        self.chaos = Some(chaos);
        self
    }

    /// Per-model rate limits (requests per minute and per day, input tokens per minute; see
    /// [`quota`](crate::quota)): past one, `generateContent` and `streamGenerateContent` get the
    /// service's `429 RESOURCE_EXHAUSTED` with `QuotaFailure` and `RetryInfo`.
    pub fn quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = Some(quotas);
        self
    }

    /// Reads quota windows from this clock instead of the system's, so a test moves time on
    /// ([`ManualClock::advance`]) instead of sleeping.
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Clock::Manual(clock);
        self
    }

    /// In replay mode, do not fail the test when a request matched no recording (the client
    /// still gets the error answer).
    pub fn allow_unmatched(mut self) -> Self {
        self.fail_on_unmatched = false;
        self
    }

    /// How many `GET batches/{id}` a simulated batch answers as running before it succeeds
    /// (default 1; 0 finishes at once).
    pub fn batch_polls(mut self, polls: u32) -> Self {
        self.batch_polls = polls;
        self
    }

    /// How many gets a `background: true` interaction answers as `in_progress` before it is
    /// `completed` (default 1; 0 completes on the first get).
    pub fn interaction_polls(mut self, polls: u32) -> Self {
        self.interaction_polls = polls;
        self
    }

    /// How many interactions the server keeps (default 1000); storing one more evicts the
    /// oldest, which later gets and `previous_interaction_id`s then do not find.
    pub fn max_interactions(mut self, max: usize) -> Self {
        self.max_interactions = max.max(1);
        self
    }

    /// Bounds on the per-server state: files kept, bytes of stored files, batches kept.
    pub fn state_limits(
        mut self,
        max_files: usize,
        max_stored_bytes: usize,
        max_batches: usize,
    ) -> Self {
        self.max_files = max_files;
        self.max_stored_bytes = max_stored_bytes;
        self.max_batches = max_batches;
        self
    }

    /// The secret thought signatures are authenticated with. Servers with the same secret accept
    /// each other's signatures (so a chat survives a restart); a server with another secret
    /// rejects them as `Corrupted thought signature.`.
    pub fn signature_secret(mut self, secret: &str) -> Self {
        self.signature_secret = secret.to_owned();
        self
    }

    /// Requires this token on the admin API (`/__admin/...`, see `ADMIN.md`): a request without
    /// `Authorization: Bearer TOKEN` gets `401`. The Gemini routes are not affected.
    pub fn admin_token(mut self, token: &str) -> Self {
        self.admin_token = Some(token.to_owned());
        self
    }

    /// Calls `hook` with every request once it has been answered (the binary logs with it).
    pub fn on_request(mut self, hook: impl Fn(&ReceivedRequest) + Send + Sync + 'static) -> Self {
        self.on_request = Some(Arc::new(hook));
        self
    }

    /// Logs one line per request to stderr (`POST /v1beta/models/...:generateContent (123 bytes)
    /// -> 200`), as the `nanobanana-mock` command does. Replaces an [`on_request`] hook.
    ///
    /// [`on_request`]: MockGeminiBuilder::on_request
    pub fn log_requests_to_stderr(self) -> Self {
        self.on_request(|request| {
            use std::io::Write as _;
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "{request}");
        })
    }
}
