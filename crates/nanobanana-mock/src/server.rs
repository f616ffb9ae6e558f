//! The running server: binding, the accept loop on hyper (a cap on connections, a header read
//! timeout), one request from hyper to the handlers and back, and the [`MockGemini`] handle.
//! Settings are in [`config`](crate::config); the endpoints in [`endpoints`](crate::endpoints).

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use nanobanana_wire::Endpoint;
use nanobanana_wire::corpus::{Corpus, LineEnding};

use crate::admin;
use crate::conditions::Conditions;
pub(crate) use crate::config::{IMAGE_FORMAT_HEADER, MODE_HEADER, Mode};
use crate::config::{MockError, MockGeminiBuilder};
use crate::control::{LiveSettings, Settings};
use crate::endpoints;
use crate::fault::Fault;
use crate::journal::{self, Answered, Journal, ReceivedRequest};
use crate::mock::{Mock, Mounted};
use crate::replay::ReplayIndex;
use crate::reply::{self, ReplyBody};
pub(crate) use crate::request::Request;
use crate::request::{BodyError, parse_query, read_limited};
use crate::response::{OutBody, into_response};
use crate::signature::Signer;
use crate::store::Store;

impl MockGeminiBuilder {
    /// Binds and starts serving on the current tokio runtime.
    pub async fn try_start(mut self) -> Result<MockGemini, MockError> {
        let recordings = crate::record::prepare(&mut self)?;
        let corpus = match (self.corpus.take(), &self.fixtures) {
            (Some(corpus), _) => Some(corpus),
            (None, Some(dir)) => Some(
                Corpus::load_all(dir)
                    .map_err(|e| MockError(format!("cannot load the fixture corpus: {e}")))?,
            ),
            (None, None) => None,
        };
        if self.mode == Mode::Replay && corpus.is_none() && recordings.is_none() {
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
        let replay = (corpus.is_some() || recordings.is_some()).then(|| {
            let cases = [&corpus, &recordings].into_iter().flatten();
            ReplayIndex::from_cases(cases.flat_map(|c| c.cases()), &uri)
        });
        let recorded = replay
            .as_ref()
            .map(ReplayIndex::recorded_signatures)
            .unwrap_or_default();
        let key: [u8; 32] = Sha256::digest(self.signature_secret.as_bytes()).into();
        let settings = LiveSettings::new(Settings {
            mode: self.mode,
            as_of: self.as_of,
            signatures: self.signatures,
        });
        let recorder = crate::record::Recorder::new(&self, &uri);
        let webhooks = crate::webhooks::Webhooks::new(&self, &uri);
        let shared = Arc::new(Shared {
            uri,
            settings,
            signer: Signer::new(key, recorded),
            replay,
            store: Mutex::new(Store::new(
                self.max_files,
                self.max_stored_bytes,
                self.max_batches,
                self.max_interactions,
            )),
            journal: Mutex::new(Journal::new(self.journal_capacity, self.journal_byte_limit)),
            unmatched: Mutex::new(Vec::new()),
            mounts: RwLock::new(Vec::new()),
            next_mount: AtomicU64::new(1),
            header_faults: Mutex::new(HashMap::new()),
            cache: Mutex::new(crate::simulate::Cache::new()),
            recorder,
            webhooks,
            conditions: Conditions::new(self.chaos.take(), self.quotas.take(), self.clock.clone()),
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
    /// What the admin API can change while the server runs (mode, date, signature policy).
    pub(crate) settings: LiveSettings,
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
    /// Record on miss (modes `new` and `all`).
    pub(crate) recorder: Option<crate::record::Recorder>,
    pub(crate) webhooks: crate::webhooks::Webhooks,
    /// Chaos and quotas; `None` when neither is configured.
    pub(crate) conditions: Option<Conditions>,
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
            .field("mode", &self.shared.settings().mode)
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

    /// The requests received so far for one endpoint, oldest first, e.g.
    /// `server.received_for(Endpoint::GenerateContent)`.
    pub fn received_for(&self, endpoint: Endpoint) -> Vec<ReceivedRequest> {
        self.received_where(|r| r.endpoint() == Some(endpoint))
    }

    /// The requests received so far for one model (`models/{model}...` paths: generate,
    /// stream, batch creation, `models.get`), oldest first.
    pub fn received_for_model(&self, model: &str) -> Vec<ReceivedRequest> {
        self.received_where(|r| r.model() == Some(model))
    }

    /// The journal's entries that `keep` accepts, copied (only those) out of the lock.
    fn received_where(&self, keep: impl Fn(&ReceivedRequest) -> bool) -> Vec<ReceivedRequest> {
        lock(&self.shared.journal)
            .iter()
            .filter(|r| keep(r))
            .cloned()
            .collect()
    }

    /// The reports of requests that matched no recording in replay mode.
    pub fn unmatched_requests(&self) -> Vec<String> {
        lock(&self.shared.unmatched).clone()
    }

    /// The secret webhooks are signed with (`whsec_...`; see [`webhooks`](crate::webhooks)).
    pub fn webhook_secret(&self) -> String {
        self.shared.webhooks.secret().to_owned()
    }

    /// Every webhook delivery attempt so far, oldest first (the last 1000), including URIs
    /// refused without an attempt.
    pub fn webhook_deliveries(&self) -> Vec<crate::webhooks::WebhookDelivery> {
        self.shared.webhooks.deliveries()
    }

    /// Forgets mounted mocks, the journal, unmatched reports, replay progress, stored files,
    /// batches and webhook deliveries, and restores the settings the server started with (the
    /// admin API can change them).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Checks every mounted mock's expectation and, in replay mode, that no request went
    /// unmatched; panics with a report of what was received when one failed.
    pub fn verify(&self) {
        if let Some(report) = self.failures() {
            panic!("{report}");
        }
    }

    fn failures(&self) -> Option<String> {
        self.shared.failures()
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
                None,
            )
        } else {
            endpoints::handle(&self.shared, &request).await
        };
        let status = if fault.reset_after == Some(0) {
            0
        } else {
            reply.status
        };
        let answered = Answered {
            status,
            reply: &reply,
            fault: &fault,
            latency: Duration::ZERO,
        };
        journal::record(&self.shared, &request, info, &answered);
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
        self.shared.register(mock, scoped)
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
    let started = Instant::now();
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
    if admin::is_admin(&request.path) {
        let reply = admin::answer(&shared, &request, body.is_ok());
        return Ok(into_response(reply, &Fault::none(), LineEnding::Lf));
    }
    let (reply, fault, info) = match body {
        Ok(_) => endpoints::handle(&shared, &request).await,
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
            None,
        ),
        // The client went away mid-body: nobody reads the answer, but a cut body must not be
        // handled (a cut upload would be stored as a file).
        Err(BodyError::Incomplete) => (
            reply::invalid_argument("The request body ended before it was complete."),
            Fault::none(),
            None,
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
    let answered = Answered {
        status,
        reply: &reply,
        fault: &fault,
        latency: started.elapsed(),
    };
    journal::record(&shared, &request, info, &answered);
    if fault.reset_after == Some(0) {
        return Err(ResetConnection);
    }
    Ok(into_response(reply, &fault, shared.config.line_ending))
}
