//! Record on miss: the server as a recording proxy in front of an upstream (the real service
//! behind a local proxy, or another fake), as vcrpy and WireMock record. [`RecordMode`] says
//! what is forwarded, what a recording holds and what is redacted; [`write`](mod@write) writes one
//! exchange as a case of the corpus format.

mod write;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;

use nanobanana_wire::corpus::Corpus;

use crate::config::{MockError, MockGeminiBuilder, Mode};
use crate::json::Json;
use crate::outbound::{Outbound, scheme_and_host};
use crate::replay::{Lookup, ReplayIndex};
use crate::reply::{self, Reply};
use crate::server::{Request, Shared};

/// What a recording server does with a request (`--record-mode`).
///
/// - `None`: replay only; the server runs in [`Mode::Replay`] over its fixtures and the
///   directory's recordings, and a request no recording matches gets replay mode's `501`
///   naming the closest recording.
/// - `New`: a request that matches a recording (the fixtures, the directory's, or one made
///   earlier in this run) is replayed; any other is forwarded to the upstream, its answer
///   returned to the client, written into the directory and replayed from then on.
/// - `All`: every request is forwarded and recorded.
///
/// Each forwarded exchange becomes one case file `DIR/cases/recorded/<endpoint>-<hash>-<nnn>.json`
/// in the corpus format (`fixtures/README.md`, `fixtures/schema/case.schema.json`:
/// `provenance: recorded`, `targets: [client]`; images under `DIR/blobs/sha256/`, event
/// streams as `events`), so the directory loads back as fixtures. The headers
/// `x-goog-api-key`, `authorization`, `proxy-authorization` and `cookie` and the `key` query
/// parameter are left out (the case's `auth` says how the key travelled) and their values are
/// replaced by `REDACTED` wherever else they appear. While forwarding (`New`, `All`), the mode
/// and the `x-nanobanana-mode` header are not consulted; the key check, mounted mocks and
/// faults still come first. An unreachable upstream is a `502` (`504` after
/// [`MockGeminiBuilder::upstream_timeout`]), a recording that cannot be written a `500`;
/// neither is recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RecordMode {
    /// Replay only: nothing is forwarded.
    None,
    /// Forward and record what matches no recording; replay the rest (the default).
    #[default]
    New,
    /// Forward and record every request.
    All,
}

impl RecordMode {
    /// `none`, `new` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordMode::None => "none",
            RecordMode::New => "new",
            RecordMode::All => "all",
        }
    }
}

impl fmt::Display for RecordMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordMode {
    type Err = MockError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(RecordMode::None),
            "new" => Ok(RecordMode::New),
            "all" => Ok(RecordMode::All),
            _ => Err(MockError(format!(
                "unknown record mode \"{s}\": allowed are none, new, all"
            ))),
        }
    }
}

/// The recording settings of a builder.
#[derive(Clone, Debug, Default)]
pub(crate) struct RecordSettings {
    upstream: Option<String>,
    dir: Option<PathBuf>,
    mode: RecordMode,
    timeout: Option<Duration>,
}

/// How long a forwarded request may take by default (a 4K image takes a while).
const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(300);
/// The largest upstream answer forwarded (a 4K image stream is about 30 MB).
const UPSTREAM_BODY_LIMIT: usize = 256 << 20;

impl MockGeminiBuilder {
    /// The server to forward requests to when recording (`--upstream`): an `http://` URL, e.g.
    /// another fake's [`MockGemini::uri`] or a local TLS-terminating proxy in front of the real
    /// service (the fake server's own client speaks no TLS; an `https://` upstream is refused
    /// at start).
    ///
    /// [`MockGemini::uri`]: crate::MockGemini::uri
    pub fn upstream(mut self, url: &str) -> Self {
        self.record.upstream = Some(url.trim_end_matches('/').to_owned());
        self
    }

    /// The directory recordings are written into and replayed from (`--record-into`), in the
    /// layout of `fixtures/` (`cases/`, `blobs/`); created when missing.
    pub fn record_into(mut self, dir: impl AsRef<Path>) -> Self {
        self.record.dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// What is forwarded and recorded (`--record-mode`; default [`RecordMode::New`]).
    pub fn record_mode(mut self, mode: RecordMode) -> Self {
        self.record.mode = mode;
        self
    }

    /// How long a forwarded request may take before the client gets a `504` (default 300 s).
    pub fn upstream_timeout(mut self, timeout: Duration) -> Self {
        self.record.timeout = Some(timeout);
        self
    }
}

/// Checks the recording settings before the server starts: in mode `none` the server replays
/// only; `new` and `all` need an `http://` upstream and a directory. Returns the directory's
/// recordings, to be replayed beside the fixtures.
pub(crate) fn prepare(builder: &mut MockGeminiBuilder) -> Result<Option<Corpus>, MockError> {
    let settings = &builder.record;
    let Some(dir) = &settings.dir else {
        if settings.upstream.is_some() {
            return Err(MockError(
                "an upstream was given without a directory to record into: add .record_into(dir) / --record-into DIR".to_owned(),
            ));
        }
        return Ok(None);
    };
    if settings.mode == RecordMode::None {
        builder.mode = Mode::Replay;
    } else {
        let Some(upstream) = &settings.upstream else {
            return Err(MockError(format!(
                "record mode {} forwards requests, but no upstream was given: add .upstream(url) / --upstream URL (or use record mode none to replay only)",
                settings.mode
            )));
        };
        match scheme_and_host(upstream) {
            Some(("http", _)) => {}
            Some((scheme, _)) => {
                return Err(MockError(format!(
                    "upstream {upstream}: {scheme} is not supported by nanobanana-mock's client; use an http:// URL (e.g. a local TLS-terminating proxy)"
                )));
            }
            None => {
                return Err(MockError(format!(
                    "upstream {upstream:?} is not a URL like http://127.0.0.1:8080"
                )));
            }
        }
    }
    std::fs::create_dir_all(dir.join("cases")).map_err(|e| {
        MockError(format!(
            "cannot create {}: {e}",
            dir.join("cases").display()
        ))
    })?;
    let corpus = Corpus::load(dir).map_err(|e| {
        MockError(format!(
            "cannot load the recordings in {}: {e}",
            dir.display()
        ))
    })?;
    Ok(Some(corpus))
}

/// The recording side of a running server.
pub(crate) struct Recorder {
    mode: RecordMode,
    upstream: String,
    dir: PathBuf,
    base_uri: String,
    outbound: Outbound,
    /// What this run recorded, replayed in mode `new`.
    index: RwLock<ReplayIndex>,
    /// Held while a case file is named and written, so two recordings never take one name.
    writing: Mutex<()>,
}

impl Recorder {
    /// The recorder of a server with these settings, if it forwards (modes `new` and `all`,
    /// checked by [`prepare`]).
    pub(crate) fn new(builder: &MockGeminiBuilder, base_uri: &str) -> Option<Self> {
        let settings = &builder.record;
        let (Some(dir), Some(upstream)) = (&settings.dir, &settings.upstream) else {
            return None;
        };
        if settings.mode == RecordMode::None {
            return None;
        }
        let timeout = settings.timeout.unwrap_or(DEFAULT_UPSTREAM_TIMEOUT);
        Some(Self {
            mode: settings.mode,
            upstream: upstream.clone(),
            dir: dir.clone(),
            base_uri: base_uri.to_owned(),
            outbound: Outbound::new(timeout, UPSTREAM_BODY_LIMIT),
            index: RwLock::new(ReplayIndex::from_cases([], base_uri)),
            writing: Mutex::new(()),
        })
    }

    /// The recorded answer to replay, or `None` to forward the request.
    pub(crate) fn replay(&self, shared: &Shared, request: &Request) -> Option<Reply> {
        if self.mode == RecordMode::All {
            return None;
        }
        let body = serde_json::from_slice::<Json<'_>>(&request.body).ok();
        let look = |index: &ReplayIndex| match index.lookup(
            &request.method,
            &request.path,
            &request.query,
            body.as_ref(),
            &request.body,
        ) {
            Lookup::Found(reply) => Some(reply),
            Lookup::Missed(_) => None,
        };
        if let Some(reply) = shared.replay.as_ref().and_then(look) {
            return Some(reply);
        }
        look(&self.index.read().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Forwards a request to the upstream, records the exchange and answers with what the upstream
/// answered. An upstream that cannot be reached is a `502` (a `504` past the time limit), a
/// recording that cannot be written a `500`; neither is recorded.
pub(crate) async fn forward(shared: &Shared, request: &Request) -> Reply {
    let Some(recorder) = &shared.recorder else {
        return reply::error(
            500,
            "nanobanana-mock: no upstream to forward to.",
            Vec::new(),
        );
    };
    let url = format!(
        "{}{}{}",
        recorder.upstream,
        request.path,
        write::query_string(&request.query)
    );
    let headers = write::forwarded_headers(&request.headers);
    let answer = match recorder
        .outbound
        .send(&request.method, &url, &headers, request.body.clone())
        .await
    {
        Ok(answer) => answer,
        Err(e) => {
            let code = if e.contains("no complete answer within") {
                504
            } else {
                502
            };
            return reply::error(
                code,
                &format!("nanobanana-mock could not forward to the upstream: {e}"),
                Vec::new(),
            );
        }
    };
    let exchange = write::Exchange::new(request, &answer, &recorder.upstream);
    let case = {
        let _writing = recorder.writing.lock().unwrap_or_else(|p| p.into_inner());
        exchange.write(&recorder.dir, recorder.mode)
    };
    match case {
        Ok(Some(case)) => recorder
            .index
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push_case(&case, &recorder.base_uri),
        Ok(None) => {}
        Err(e) => {
            return reply::error(
                500,
                &format!("nanobanana-mock could not record the answer: {e}"),
                Vec::new(),
            );
        }
    }
    client_reply(&answer, &recorder.upstream, &recorder.base_uri)
}

/// The upstream's answer as the client gets it: status, body as received, the headers a client
/// relies on, with upload URLs pointed at this server.
fn client_reply(answer: &crate::outbound::Answer, upstream: &str, base_uri: &str) -> Reply {
    let headers = answer
        .headers
        .iter()
        .filter(|(name, _)| name.as_str() == "content-type" || name.as_str().starts_with("x-goog-"))
        .filter_map(|(name, value)| {
            let value = value
                .to_str()
                .ok()?
                .replace(upstream, base_uri)
                .replace(write::PUBLIC_ORIGIN, base_uri);
            Some((name.as_str().to_owned(), value))
        })
        .collect();
    Reply {
        status: answer.status,
        headers,
        body: crate::reply::ReplyBody::Full(Bytes::clone(&answer.body)),
        reset_connection: false,
        // The upstream's answer, as it answered.
        fixed: true,
        note: None,
        replayed: false,
    }
}
