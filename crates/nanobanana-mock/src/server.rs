//! The server: configuration, the accept loop on hyper, and the glue between HTTP and the
//! handlers (body limit, journal, faults applied to the answer).

use nanobanana_rules::{Date, SignaturePolicy};
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};

use nanobanana_wire::corpus::{Corpus, LineEnding};

use crate::fault::Fault;
use crate::handler;
use crate::image::ImageFormat;
use crate::journal::{Journal, ReceivedRequest};
use crate::mock::{Mock, Mounted};
use crate::replay::ReplayIndex;
use crate::reply::{self, Reply, ReplyBody};
use crate::signature::Signer;
use crate::store::Store;

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

/// Settings of a server; see [`MockGemini::builder`].
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
    pub(crate) signature_secret: String,
    pub(crate) on_request: Option<RequestHook>,
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
            signature_secret: DEFAULT_SIGNATURE_SECRET.to_owned(),
            on_request: None,
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

    /// Loads the fixture corpus from this directory (the one holding `cases/` and `blobs/`).
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
    /// catalogue: JPEG for the 3.x models, PNG for 2.5 Flash Image).
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

    /// Binds and starts serving on the current tokio runtime.
    pub async fn try_start(mut self) -> Result<MockGemini, MockError> {
        let corpus = match (self.corpus.take(), &self.fixtures) {
            (Some(corpus), _) => Some(corpus),
            (None, Some(dir)) => Some(
                Corpus::load(dir)
                    .map_err(|e| MockError(format!("cannot load the fixture corpus: {e}")))?,
            ),
            (None, None) => None,
        };
        if self.mode == Mode::Replay && corpus.is_none() {
            return Err(MockError(
                "replay mode needs fixtures: call .fixtures(dir) or .corpus(corpus)".to_owned(),
            ));
        }
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|e| MockError(format!("cannot bind {}: {e}", self.addr)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| MockError(format!("cannot read the bound address: {e}")))?;
        let uri = format!("http://{addr}");
        let replay = corpus.as_ref().map(|c| ReplayIndex::new(c, &uri));
        let recorded = replay
            .as_ref()
            .map(ReplayIndex::recorded_signatures)
            .unwrap_or_default();
        let key: [u8; 32] = Sha256::digest(self.signature_secret.as_bytes()).into();
        let shared = Arc::new(Shared {
            uri,
            signer: Signer::new(key, recorded),
            replay,
            store: Mutex::new(Store::new(
                self.max_files,
                self.max_stored_bytes,
                self.max_batches,
            )),
            journal: Mutex::new(Journal::new(self.journal_capacity, self.journal_byte_limit)),
            unmatched: Mutex::new(Vec::new()),
            mounts: RwLock::new(Vec::new()),
            next_mount: AtomicU64::new(1),
            header_faults: Mutex::new(HashMap::new()),
            cache: Mutex::new(crate::simulate::Cache::new()),
            config: self,
        });
        let (shutdown, _) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), shutdown.clone()));
        Ok(MockGemini {
            shared,
            addr,
            shutdown,
            task,
        })
    }

    /// Binds and starts serving; panics with the reason when that fails (for tests).
    pub async fn start(self) -> MockGemini {
        match self.try_start().await {
            Ok(server) => server,
            Err(e) => panic!("nanobanana-mock could not start: {e}"),
        }
    }
}

/// What every connection shares.
pub(crate) struct Shared {
    pub(crate) config: MockGeminiBuilder,
    pub(crate) uri: String,
    pub(crate) signer: Signer,
    pub(crate) replay: Option<ReplayIndex>,
    pub(crate) store: Mutex<Store>,
    pub(crate) journal: Mutex<Journal>,
    pub(crate) unmatched: Mutex<Vec<String>>,
    pub(crate) mounts: RwLock<Vec<Arc<Mounted>>>,
    pub(crate) next_mount: AtomicU64,
    /// How often each `x-nanobanana-fault` header value with `times=` has been applied.
    pub(crate) header_faults: Mutex<HashMap<String, u64>>,
    pub(crate) cache: Mutex<crate::simulate::Cache>,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (a handler never
/// panics, but a user's hook might).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn unmount(&self, id: u64) {
        let mut mounts = self.mounts.write().unwrap_or_else(|p| p.into_inner());
        mounts.retain(|m| m.id != id);
    }

    /// The journal, for failure reports.
    pub(crate) fn journal_report(&self) -> String {
        let journal = lock(&self.journal);
        if journal.is_empty() {
            return "The server received no requests.".to_owned();
        }
        let mut out = format!("The server received {} request(s):", journal.total());
        let kept = journal.iter().count() as u64;
        if kept < journal.total() {
            let _ = write!(
                out,
                " (the oldest {} not kept: journal capacity)",
                journal.total() - kept
            );
        }
        if journal.dropped_bodies() > 0 {
            let _ = write!(
                out,
                " ({} bodies dropped: journal byte limit)",
                journal.dropped_bodies()
            );
        }
        for (i, entry) in journal.iter().enumerate() {
            let _ = write!(out, "\n  {}. {entry}", i + 1);
        }
        out
    }
}

/// A running fake Gemini server. Dropping it stops the server and verifies the expectations of
/// mounted mocks (and, in replay mode, that every request matched a recording), panicking with a
/// readable report when one failed.
///
/// ```
/// # async fn run() {
/// use nanobanana_mock::MockGemini;
///
/// let server = MockGemini::start().await;
/// let base_url = server.uri(); // e.g. http://127.0.0.1:40123
/// # let _ = base_url;
/// # }
/// ```
pub struct MockGemini {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for MockGemini {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockGemini")
            .field("uri", &self.shared.uri)
            .field("mode", &self.shared.config.mode)
            .finish_non_exhaustive()
    }
}

impl MockGemini {
    /// Starts a server with the default settings (hybrid mode, no fixtures, so every answer is
    /// simulated) on `127.0.0.1` and a free port.
    pub async fn start() -> MockGemini {
        Self::builder().start().await
    }

    /// Settings for a server.
    pub fn builder() -> MockGeminiBuilder {
        MockGeminiBuilder::default()
    }

    /// The base URL to point a client at, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn uri(&self) -> String {
        self.shared.uri.clone()
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The requests received so far (the most recent ones, up to the journal's capacity).
    pub fn received_requests(&self) -> Vec<ReceivedRequest> {
        lock(&self.shared.journal).entries()
    }

    /// The reports of requests that matched no recording in replay mode.
    pub fn unmatched_requests(&self) -> Vec<String> {
        lock(&self.shared.unmatched).clone()
    }

    /// Forgets mounted mocks, the journal, unmatched reports, replay progress and stored files
    /// and batches.
    pub fn reset(&self) {
        self.shared
            .mounts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        lock(&self.shared.journal).clear();
        lock(&self.shared.unmatched).clear();
        lock(&self.shared.header_faults).clear();
        lock(&self.shared.store).clear();
        if let Some(replay) = &self.shared.replay {
            replay.reset();
        }
    }

    /// Checks every mounted mock's expectation and, in replay mode, that no request went
    /// unmatched; panics with a report of what was received when one failed.
    pub fn verify(&self) {
        if let Some(report) = self.failures() {
            panic!("{report}");
        }
    }

    fn failures(&self) -> Option<String> {
        let mut failures: Vec<String> = self
            .shared
            .mounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|m| m.unmet())
            .collect();
        if self.shared.config.fail_on_unmatched {
            failures.extend(lock(&self.shared.unmatched).iter().cloned());
        }
        if failures.is_empty() {
            return None;
        }
        Some(format!(
            "nanobanana-mock verification failed:\n- {}\n{}",
            failures.join("\n- "),
            self.shared.journal_report()
        ))
    }

    /// Answers one request in-process, without a socket: what the server would answer over
    /// HTTP (body limit, handlers, journal; faults only decide the status, no delay or reset is
    /// played). For fuzzing and property tests, which need millions of requests; not a stable
    /// API. `target` is the path with its query; an SSE answer comes back as its events'
    /// JSON joined by newlines.
    #[doc(hidden)]
    pub async fn answer_in_process(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &[u8])],
        body: Bytes,
    ) -> (u16, Bytes) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_bytes(value),
            ) {
                map.append(name, value);
            }
        }
        let limit = self.shared.config.body_limit;
        let request = Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: parse_query(query),
            headers: map,
            body,
        };
        let (reply, fault, info) = if request.body.len() > limit {
            (
                reply::error(413, "Request payload size exceeds the limit.", Vec::new()),
                Fault::none(),
                handler::RouteInfo::default(),
            )
        } else {
            handler::handle(&self.shared, &request).await
        };
        let status = if fault.reset_after == Some(0) {
            0
        } else {
            reply.status
        };
        record(&self.shared, &request, &info, status);
        let body = match reply.body {
            ReplyBody::Full(data) => data,
            ReplyBody::Events { events, .. } => {
                let mut joined = BytesMut::new();
                for event in events {
                    joined.extend_from_slice(&event);
                    joined.extend_from_slice(b"\n");
                }
                joined.freeze()
            }
        };
        (status, body)
    }

    pub(crate) fn register(&self, mock: Mock, scoped: bool) -> Arc<Mounted> {
        let mounted = Arc::new(Mounted {
            id: self.shared.next_mount.fetch_add(1, Ordering::SeqCst),
            mock,
            matched: AtomicU64::new(0),
            scoped,
            server: Arc::downgrade(&self.shared),
        });
        self.shared
            .mounts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::clone(&mounted));
        mounted
    }
}

impl Drop for MockGemini {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
        if std::thread::panicking() {
            return;
        }
        let unscoped_failures = {
            let mounts = self.shared.mounts.read().unwrap_or_else(|p| p.into_inner());
            mounts.iter().any(|m| !m.scoped && m.unmet().is_some())
        };
        let unmatched =
            self.shared.config.fail_on_unmatched && !lock(&self.shared.unmatched).is_empty();
        if (unscoped_failures || unmatched)
            && let Some(report) = self.failures()
        {
            panic!("{report}");
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, shutdown: watch::Sender<bool>) {
    let mut stop = shutdown.subscribe();
    // One permit per open connection: at the cap, the loop stops accepting (clients wait in the
    // backlog) until a connection closes, instead of taking descriptors without bound.
    let slots = Arc::new(Semaphore::new(shared.config.max_connections));
    let mut http = http1::Builder::new();
    http.keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(shared.config.header_read_timeout);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let (stream, _) = match accepted {
            Ok(conn) => conn,
            Err(_) => {
                // Out of file descriptors or similar: back off briefly, keep serving.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let mut stop = shutdown.subscribe();
        let http = http.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { serve(shared, request).await }
            });
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stop.changed() => {}
            }
        });
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM: how a program serving the fake server in the
/// foreground (the `nanobanana-mock` command and the tools built on it) knows when to stop.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// A request as the handlers see it: everything read, the body whole.
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

impl Request {
    /// A header's value, if it is text. `name` is a `&str`, or a `&HeaderName` made once for a
    /// name known in advance (no parsing of the name per request).
    pub(crate) fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The error that makes hyper drop a connection (a reset fault).
#[derive(Debug)]
struct ResetConnection;

impl fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("nanobanana-mock: connection reset (injected fault)")
    }
}

impl std::error::Error for ResetConnection {}

async fn serve(
    shared: Arc<Shared>,
    request: http::Request<Incoming>,
) -> Result<http::Response<OutBody>, ResetConnection> {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let query = parse_query(parts.uri.query().unwrap_or(""));
    let limit = shared.config.body_limit;
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = match declared {
        Some(len) if len > limit as u64 => Err(BodyError::TooLarge(Some(len))),
        _ => read_limited(body, limit).await,
    };
    let request = Request {
        method,
        path,
        query,
        headers: parts.headers,
        body: body.as_ref().cloned().unwrap_or_default(),
    };
    let (reply, fault, info) = match body {
        Ok(_) => handler::handle(&shared, &request).await,
        Err(BodyError::TooLarge(len)) => (
            reply::error(
                413,
                &format!(
                    "Request payload size exceeds the limit: {limit} bytes (received {}).",
                    len.map_or_else(|| "more".to_owned(), |len| len.to_string())
                ),
                Vec::new(),
            ),
            Fault::none(),
            handler::RouteInfo::default(),
        ),
        // The client went away mid-body: nobody reads the answer, but a cut body must not be
        // handled (a cut upload would be stored as a file).
        Err(BodyError::Incomplete) => (
            reply::invalid_argument("The request body ended before it was complete."),
            Fault::none(),
            handler::RouteInfo::default(),
        ),
    };
    if let Some(delay) = fault.delay {
        tokio::time::sleep(delay).await;
    }
    let status = if fault.reset_after == Some(0) {
        0
    } else {
        reply.status
    };
    record(&shared, &request, &info, status);
    if fault.reset_after == Some(0) {
        return Err(ResetConnection);
    }
    Ok(into_response(reply, &fault, shared.config.line_ending))
}

fn record(shared: &Shared, request: &Request, info: &handler::RouteInfo, status: u16) {
    fn redact<'a>(name: &str, value: &'a str) -> &'a str {
        if name.eq_ignore_ascii_case("x-goog-api-key") || name.eq_ignore_ascii_case("key") {
            "***"
        } else {
            value
        }
    }
    // Filled outside the lock, in an entry the journal dropped earlier: no allocation once warm.
    let mut entry = lock(&shared.journal).spare();
    entry.method.clear();
    entry.method.push_str(&request.method);
    entry.path.clear();
    entry.path.push_str(&request.path);
    for (i, (name, value)) in request.query.iter().enumerate() {
        ReceivedRequest::set_pair(&mut entry.query, i, name, redact(name, value));
    }
    entry.query.truncate(request.query.len());
    let mut count = 0;
    for (name, value) in &request.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        ReceivedRequest::set_pair(
            &mut entry.headers,
            count,
            name.as_str(),
            redact(name.as_str(), &value),
        );
        count += 1;
    }
    entry.headers.truncate(count);
    // A copy, not a view of the request's `Bytes`: a view would keep hyper's whole read buffer
    // alive, and hyper would allocate a fresh one for every request on the connection.
    entry.body.clear();
    entry.body_kept = request.body.len() <= shared.config.journal_body_limit;
    if entry.body_kept {
        entry.body.extend_from_slice(&request.body);
    }
    entry.body_len = request.body.len();
    entry.endpoint = info.endpoint;
    match (&mut entry.model, &info.model) {
        (Some(kept), Some(model)) => {
            kept.clear();
            kept.push_str(model);
        }
        (kept, model) => *kept = model.clone(),
    }
    entry.status = status;
    if let Some(hook) = &shared.config.on_request {
        hook(&entry);
    }
    lock(&shared.journal).push(entry);
}

/// Why a request body was not read whole.
enum BodyError {
    /// Over the limit: the declared length, or `None` when it was not declared.
    TooLarge(Option<u64>),
    /// The body ended early (the client went away, or its chunked framing broke).
    Incomplete,
}

/// Reads a body whole, stopping as soon as it exceeds `limit` bytes.
async fn read_limited(mut body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    let mut buffer = BytesMut::new();
    let mut first: Option<Bytes> = None;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(BodyError::Incomplete);
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let total = first.as_ref().map_or(0, Bytes::len) + buffer.len() + data.len();
        if total > limit {
            return Err(BodyError::TooLarge(None));
        }
        match &first {
            // Most bodies arrive in one frame: keep it without copying.
            None if buffer.is_empty() => first = Some(data),
            _ => {
                if let Some(head) = first.take() {
                    buffer.extend_from_slice(&head);
                }
                buffer.extend_from_slice(&data);
            }
        }
    }
    Ok(match first {
        Some(head) if buffer.is_empty() => head,
        _ => buffer.freeze(),
    })
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The body hyper sends: one buffer, or chunks from a task that applies stream faults.
pub(crate) struct OutBody {
    inner: OutInner,
}

enum OutInner {
    Full(Option<Bytes>),
    Channel(mpsc::Receiver<Result<Bytes, io::Error>>),
}

impl Body for OutBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut self.inner {
            OutInner::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            OutInner::Channel(rx) => rx
                .poll_recv(cx)
                .map(|item| item.map(|result| result.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(&self.inner, OutInner::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            OutInner::Full(Some(data)) => SizeHint::with_exact(data.len() as u64),
            OutInner::Full(None) => SizeHint::with_exact(0),
            OutInner::Channel(_) => SizeHint::default(),
        }
    }
}

fn into_response(reply: Reply, fault: &Fault, line_ending: LineEnding) -> http::Response<OutBody> {
    let mut builder = http::Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match reply.body {
        ReplyBody::Full(data) => match fault.reset_after {
            None => OutBody {
                inner: OutInner::Full(Some(data)),
            },
            Some(after) => {
                builder = builder.header("content-length", data.len().to_string());
                let (tx, rx) = mpsc::channel(2);
                tokio::spawn(async move {
                    let cut = (after as usize).min(data.len());
                    if cut > 0 {
                        let _ = tx.send(Ok(data.slice(..cut))).await;
                    }
                    let _ = tx.send(Err(reset_error())).await;
                });
                OutBody {
                    inner: OutInner::Channel(rx),
                }
            }
        },
        ReplyBody::Events {
            events,
            line_ending: recorded,
        } => {
            // A recorded CRLF stream stays CRLF; otherwise the server's setting applies.
            let line_ending = if recorded == LineEnding::Crlf {
                LineEnding::Crlf
            } else {
                line_ending
            };
            let (tx, rx) = mpsc::channel(2);
            tokio::spawn(stream_events(tx, events, line_ending, fault.clone()));
            OutBody {
                inner: OutInner::Channel(rx),
            }
        }
    };
    builder.body(body).unwrap_or_else(|_| {
        // Only a header a recording or mock made invalid can get here: answer plainly.
        let mut response = http::Response::new(OutBody {
            inner: OutInner::Full(Some(Bytes::from_static(
                b"{\"error\":{\"code\":500,\"message\":\"nanobanana-mock: invalid response header\",\"status\":\"INTERNAL\"}}",
            ))),
        });
        *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        response
    })
}

fn reset_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "nanobanana-mock: connection reset (injected fault)",
    )
}

async fn stream_events(
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    events: Vec<Bytes>,
    line_ending: LineEnding,
    fault: Fault,
) {
    let mut budget = fault.reset_after.map(|n| n as usize);
    // Sends `data`, honouring the reset budget; false once the stream is over.
    let send = |data: Bytes, budget: &mut Option<usize>| {
        let tx = tx.clone();
        let (data, reset) = match budget {
            Some(left) if data.len() >= *left => {
                let cut = data.slice(..*left);
                *left = 0;
                (cut, true)
            }
            Some(left) => {
                *left -= data.len();
                (data, false)
            }
            None => (data, false),
        };
        async move {
            if !data.is_empty() && tx.send(Ok(data)).await.is_err() {
                return false;
            }
            if reset {
                let _ = tx.send(Err(reset_error())).await;
                return false;
            }
            true
        }
    };
    let last = events.len().saturating_sub(1);
    for (index, event) in events.iter().enumerate() {
        if index > 0
            && let Some(delay) = fault.event_delay
        {
            tokio::time::sleep(delay).await;
        }
        if fault.error_after == Some(index) {
            let code = fault.status.unwrap_or(503);
            let error = serde_json::json!({
                "error": reply::error_object(code, "The model is overloaded. Please try again later.", Vec::new())
            });
            let _ = send(
                reply::frame_event(error.to_string().as_bytes(), line_ending),
                &mut budget,
            )
            .await;
            return;
        }
        // Sent as three shared buffers: the event itself is never copied per request.
        let framed = reply::frame_event_parts(event, line_ending);
        if fault.truncate_after.map(|n| n.min(last)) == Some(index) {
            let mut half = framed.iter().map(Bytes::len).sum::<usize>() / 2;
            for part in framed {
                let take = part.len().min(half);
                half -= take;
                if take > 0 && !send(part.slice(..take), &mut budget).await {
                    return;
                }
            }
            return;
        }
        for part in framed {
            if !send(part, &mut budget).await {
                return;
            }
        }
    }
    if let Some(after) = fault.error_after
        && after >= events.len()
    {
        let code = fault.status.unwrap_or(503);
        let error = serde_json::json!({
            "error": reply::error_object(code, "The model is overloaded. Please try again later.", Vec::new())
        });
        let _ = send(
            reply::frame_event(error.to_string().as_bytes(), line_ending),
            &mut budget,
        )
        .await;
    }
}
