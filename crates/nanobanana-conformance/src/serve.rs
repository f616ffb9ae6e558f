//! Serving the vectors for client conformance: the fake server in replay mode over the suite's
//! corpus, so a client in any language can be pointed at it and make the cases' calls.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use nanobanana_mock::{MockGemini, Mode};
use nanobanana_wire::corpus::Corpus;

use crate::suite::{Suite, SuiteCase, SuiteError};

/// Settings of [`serve_vectors`].
#[derive(Clone, Debug)]
pub struct ServeOptions {
    addr: SocketAddr,
    api_key: Option<String>,
    log: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_key: None,
            log: false,
        }
    }
}

impl ServeOptions {
    /// Loopback, a free port, any key accepted, no logging.
    pub fn new() -> Self {
        Self::default()
    }

    /// The address to bind.
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Requires this key (the `errors/invalid-api-key` case needs one to be wrong about).
    pub fn with_api_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.to_owned());
        self
    }

    /// Logs every request to stderr (method, path, status), for a person watching a client.
    pub fn with_request_log(mut self) -> Self {
        self.log = true;
        self
    }
}

/// Starts a fake server that replays the suite's cases. A request that matches no recording gets
/// a `501` whose message names the closest recording and the differences, which is what a
/// client author needs to see; the server never panics on it.
pub async fn serve_vectors(
    suite: &Suite,
    options: &ServeOptions,
) -> Result<MockGemini, SuiteError> {
    start(suite.corpus().clone(), options).await
}

/// Starts a fake server that replays one case only. Several cases record the same request with
/// different answers (a first chat turn, a batch polled while running and when done), and a
/// server of the whole suite answers identical requests in corpus order; a server of one case
/// answers them as that case recorded them, whatever ran before.
pub async fn serve_case(
    suite: &Suite,
    case: &SuiteCase,
    options: &ServeOptions,
) -> Result<MockGemini, SuiteError> {
    start(case_corpus(suite, case)?, options).await
}

async fn start(corpus: Corpus, options: &ServeOptions) -> Result<MockGemini, SuiteError> {
    let mut builder = MockGemini::builder()
        .mode(Mode::Replay)
        .corpus(corpus)
        .addr(options.addr)
        .allow_unmatched();
    if let Some(key) = &options.api_key {
        builder = builder.api_key(key);
    }
    if options.log {
        builder = builder.log_requests_to_stderr();
    }
    builder
        .try_start()
        .await
        .map_err(|e| SuiteError(format!("cannot serve the vectors: {e}")))
}

/// A corpus of one case: its file and the blobs it references, copied to a scratch directory
/// that is removed once loaded.
fn case_corpus(suite: &Suite, case: &SuiteCase) -> Result<Corpus, SuiteError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let root = suite.corpus().root();
    let file = suite.corpus().case_path(case.id());
    let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
    let text = fs::read(&file).map_err(|e| SuiteError(format!("{}: {e}", file.display())))?;
    let value: Value = serde_json::from_slice(&text)
        .map_err(|e| SuiteError(format!("{}: {e}", file.display())))?;
    let mut blobs = Vec::new();
    collect_blob_refs(&value, &mut blobs);
    let scratch = std::env::temp_dir().join(format!(
        "nanobanana-conformance-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        copy(&file, &scratch.join(&relative))?;
        // Corpus::load_all needs `cases/`, present even for an Interactions API vector.
        fs::create_dir_all(scratch.join("cases"))
            .map_err(|e| SuiteError(format!("{}: {e}", scratch.display())))?;
        for blob in &blobs {
            copy(
                &root.join("blobs").join(blob),
                &scratch.join("blobs").join(blob),
            )?;
        }
        Corpus::load_all(&scratch).map_err(|e| SuiteError(e.to_string()))
    })();
    let _ = fs::remove_dir_all(&scratch);
    result
}

fn copy(from: &Path, to: &PathBuf) -> Result<(), SuiteError> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).map_err(|e| SuiteError(format!("{}: {e}", dir.display())))?;
    }
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| SuiteError(format!("copying {}: {e}", from.display())))
}

fn collect_blob_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$blob" | "bodyBlob", Value::String(path)) => out.push(path.clone()),
                    _ => collect_blob_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_blob_refs(v, out)),
        _ => {}
    }
}
