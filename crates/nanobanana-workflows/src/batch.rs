//! Batches (SPEC.md §2 "Batch", WIRE.md "Batch wire shapes"): many generation requests at
//! higher rate limits, answered within 24 hours. Submit inline, or as a JSONL file through the
//! Files API when large; poll with backoff and a progress callback; cancel; collect the results
//! in submission order, each with its own success or error.
//!
//! A batch outlives the process that submitted it (it runs for up to 24 hours and expires after
//! 48): [`BatchJob::attach`] picks one up by name in another process, waits for it and collects
//! its results (without the requests at hand, their predictions are unknown), and
//! [`BatchJob::list`] lists the batches of the key as [`BatchSummary`] values.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::time::Duration;

use futures_util::StreamExt as _;
use nanobanana_rules::Report;
use nanobanana_rules::resolution::{self, Prediction};
use nanobanana_transport::{Client, encode_jsonl};
use nanobanana_wire::{
    BatchGenerateContentRequest, BatchState, GenerateContentBatch, GenerateContentRequest,
    GenerateContentResponse, InlinedRequest, InlinedRequests, InputConfig, Operation, Status,
    WebhookConfig,
};
use tokio::time::Instant;

use crate::cost::{BatchCostPreview, CostPreview};
use crate::error::Error;
use crate::generation::Generation;
use crate::message::Message;
use crate::options::ImageOptions;

/// Inline batches up to this many bytes of requests; larger ones go as a JSONL file (the
/// service takes inline batches of up to 20 MB).
pub const DEFAULT_INLINE_LIMIT: usize = 16 * 1024 * 1024;

/// How the requests travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Input {
    /// Inline up to this many bytes, else a file.
    Auto(usize),
    Inline,
    File,
}

/// A batch being assembled: `client.batch(model)`, then [`add_request`](Self::add_request) requests and
/// [`submit`](Self::submit).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use nanobanana_mock::MockGemini;
/// use nanobanana_transport::{Client, ClientConfig};
/// use nanobanana_workflows::{ClientExt, ImageOptions, Polling};
/// use std::time::Duration;
///
/// let server = MockGemini::start().await;
/// let client = Client::new(ClientConfig::new("test-key").with_base_url(server.uri()))?;
///
/// let job = client
///     .batch("gemini-2.5-flash-image")
///     .display_name("fruit")
///     .add_message("A banana", &ImageOptions::new())
///     .add_message("A mango", &ImageOptions::new().with_aspect_ratio("16:9"))
///     .submit()
///     .await?;
/// let results = job
///     .wait(&Polling::new().with_initial_delay(Duration::from_millis(10)), |progress| {
///         eprintln!("{progress}");
///     })
///     .await?;
/// assert_eq!(results.items().len(), 2);
/// assert!(results.items().iter().all(|item| item.result().is_ok()));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a batch does nothing until it is submitted"]
pub struct BatchBuilder {
    client: Client,
    model: String,
    display_name: String,
    requests: Vec<Result<GenerateContentRequest, String>>,
    input: Input,
    webhook: Option<WebhookConfig>,
}

impl BatchBuilder {
    /// An empty batch for `model`.
    pub fn new(client: Client, model: impl Into<String>) -> Self {
        Self {
            client,
            model: model.into(),
            display_name: "nanobanana batch".to_owned(),
            requests: Vec::new(),
            input: Input::Auto(DEFAULT_INLINE_LIMIT),
            webhook: None,
        }
    }

    /// Asks the service to POST the batch's completion event (`batch.succeeded`,
    /// `batch.failed`, `batch.expired`) to these URIs, with `metadata` echoed in each event
    /// (`webhookConfig`, SERVICE-2026.md §7), instead of relying on polling alone. The URIs are
    /// checked when the batch is submitted: each must be an absolute `https://` URL (or `http://`
    /// for a loopback test receiver).
    pub fn webhook(
        mut self,
        uris: impl IntoIterator<Item = impl Into<String>>,
        metadata: Option<serde_json::Value>,
    ) -> Self {
        let mut config = WebhookConfig::new();
        config.uris = uris.into_iter().map(Into::into).collect();
        config.user_metadata = metadata;
        self.webhook = Some(config);
        self
    }

    /// Sets the batch's display name.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = name.into();
        self
    }

    /// Adds a request as it is.
    pub fn add_request(mut self, request: GenerateContentRequest) -> Self {
        self.requests.push(Ok(request));
        self
    }

    /// Adds a one-turn request: `message` with `options`. A message that fails its checks (a
    /// composition beyond the model's limits) becomes that item's refusal.
    pub fn add_message(mut self, message: impl Into<Message>, options: &ImageOptions) -> Self {
        let message: Message = message.into();
        let request = message
            .into_request(&self.model, options)
            .map_err(|error| error.to_string());
        self.requests.push(request);
        self
    }

    /// Sends the requests inline when they take at most `bytes` of JSON, else as a JSONL file
    /// (default [`DEFAULT_INLINE_LIMIT`]).
    pub fn inline_limit(mut self, bytes: usize) -> Self {
        self.input = Input::Auto(bytes);
        self
    }

    /// Always sends the requests inline.
    pub fn always_inline(mut self) -> Self {
        self.input = Input::Inline;
        self
    }

    /// Always sends the requests as an uploaded JSONL file.
    pub fn always_file(mut self) -> Self {
        self.input = Input::File;
        self
    }

    /// How many requests were added.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether no request was added.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// What each request will produce per image, and the total image tokens.
    pub fn preview(&self) -> BatchCostPreview {
        BatchCostPreview::new(
            self.requests
                .iter()
                .map(|request| {
                    request
                        .as_ref()
                        .ok()
                        .map(|request| CostPreview::of(&self.model, request))
                })
                .collect(),
        )
    }

    /// Checks every request (the rules of `nanobanana_rules::validate_request`), submits the
    /// acceptable ones, and returns the job to wait on. A refused request is not sent: its
    /// result is [`ItemError::Refused`] (the others go ahead). Fails when nothing is left to
    /// send, or the submission (upload, creation) fails.
    pub async fn submit(self) -> Result<BatchJob, Error> {
        if self.requests.is_empty() {
            return Err(Error::invalid(
                "the batch is empty: add at least one request",
            ));
        }
        let mut slots = Vec::with_capacity(self.requests.len());
        let mut sent: Vec<(String, GenerateContentRequest)> = Vec::new();
        for (index, request) in self.requests.into_iter().enumerate() {
            let request = match request {
                Ok(request) => request,
                Err(message) => {
                    slots.push(Slot::Failed(ItemError::Invalid { message }));
                    continue;
                }
            };
            let report = nanobanana_rules::validate_request_with(
                &self.model,
                &request,
                self.client.config().validation(),
            );
            if !report.is_valid() {
                slots.push(Slot::Failed(ItemError::Refused { report }));
                continue;
            }
            let key = index.to_string();
            slots.push(Slot::Sent {
                key: key.clone(),
                prediction: resolution::predict(&self.model, &request),
            });
            sent.push((key, request));
        }
        if sent.is_empty() {
            let first = slots.iter().find_map(|slot| match slot {
                Slot::Failed(error) => Some(error.to_string()),
                Slot::Sent { .. } => None,
            });
            return Err(Error::invalid(format!(
                "every request of the batch was refused; the first: {}",
                first.unwrap_or_default()
            )));
        }
        let inline = match self.input {
            Input::Inline => true,
            Input::File => false,
            Input::Auto(limit) => {
                let size: usize = sent
                    .iter()
                    .map(|(_, request)| json_len(request))
                    .fold(0, usize::saturating_add);
                size <= limit
            }
        };
        if let Some(webhook) = &self.webhook {
            check_webhook(webhook)?;
        }
        let batches = self.client.batches();
        let batch = GenerateContentBatch::new().with_display_name(self.display_name.as_str());
        let mut batch = match self.webhook.clone() {
            Some(webhook) => batch.with_webhook_config(webhook),
            None => batch,
        };
        let operation = if inline {
            let requests = sent.into_iter().map(|(key, request)| {
                InlinedRequest::new()
                    .with_request(request)
                    .with_metadata(BTreeMap::from([("key".to_owned(), key)]))
            });
            batch = batch.with_input_config(
                InputConfig::new().with_requests(InlinedRequests::new().with_requests(requests)),
            );
            let body = BatchGenerateContentRequest::new().with_batch(batch);
            batches
                .create_with(
                    &self.model,
                    &body,
                    &nanobanana_transport::RequestOptions::new(),
                )
                .await?
        } else {
            let jsonl = encode_jsonl(&self.model, sent.iter().map(|(k, r)| (k.as_str(), r)))?;
            let file = self
                .client
                .files()
                .upload(jsonl, "application/jsonl", Some(&self.display_name))
                .await?;
            let name = file.name.ok_or_else(|| Error::Batch {
                name: "(not created)".to_owned(),
                message: "the upload of the JSONL input answered without a file name".to_owned(),
            })?;
            batch = batch.with_input_config(InputConfig::new().with_file_name(name));
            let body = BatchGenerateContentRequest::new().with_batch(batch);
            batches
                .create_with(
                    &self.model,
                    &body,
                    &nanobanana_transport::RequestOptions::new(),
                )
                .await?
        };
        let name = operation.name.clone().ok_or_else(|| Error::Batch {
            name: "(unnamed)".to_owned(),
            message: "the service created a batch but gave no name".to_owned(),
        })?;
        Ok(BatchJob {
            client: self.client,
            model: self.model,
            name,
            origin: Origin::Submitted(slots),
            inline,
        })
    }
}

/// The length of `value`'s JSON, counted without keeping the text (requests can carry
/// megabytes of images); `usize::MAX` if it does not serialize.
fn json_len(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(bytes.len());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// What became of one request before the batch ran.
#[derive(Clone, Debug)]
enum Slot {
    Sent { key: String, prediction: Prediction },
    Failed(ItemError),
}

/// How often to poll a batch: waits growing from `initial_delay` by `multiplier` up to
/// `max_delay`, for at most `timeout` in all (default: 5 s, ×1.5, 60 s, 25 hours).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Polling {
    initial_delay: Duration,
    multiplier: f64,
    max_delay: Duration,
    timeout: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(5),
            multiplier: 1.5,
            max_delay: Duration::from_secs(60),
            timeout: Duration::from_secs(25 * 3600),
        }
    }
}

/// The shortest first wait between polls ([`Polling::initial_delay`] raises shorter ones).
const MIN_POLL_DELAY: Duration = Duration::from_millis(10);

impl Polling {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the first wait (at least 10 ms).
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        // The waits grow from this one: zero would poll the Batch API as fast as it answers.
        self.initial_delay = delay.max(MIN_POLL_DELAY);
        self
    }

    /// Sets the growth of the waits (at least 1).
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Sets the longest wait.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets how long to wait in all before giving up (the batch keeps running).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The first wait.
    pub fn initial_delay(&self) -> Duration {
        self.initial_delay
    }

    /// The growth of the waits.
    pub fn multiplier(&self) -> f64 {
        self.multiplier
    }

    /// The longest wait.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// How long to wait in all before giving up.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The wait after poll `n` (1-based).
    pub fn delay(&self, n: u32) -> Duration {
        let factor = self
            .multiplier
            .powi(i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX));
        let delay = self.initial_delay.as_secs_f64() * factor;
        if delay.is_finite() && delay < self.max_delay.as_secs_f64() {
            Duration::from_secs_f64(delay)
        } else {
            self.max_delay
        }
    }
}

/// Where a batch stands after one poll.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchProgress {
    /// The batch's state.
    pub state: BatchState,
    /// How many polls so far (this one included).
    pub polls: u32,
    /// Time since waiting began.
    pub elapsed: Duration,
    /// Requests in the batch (`batchStats.requestCount`), if the service says.
    pub request_count: Option<u64>,
    /// Requests done well (`batchStats.successfulRequestCount`), if the service says.
    pub succeeded: Option<u64>,
    /// Requests failed (`batchStats.failedRequestCount`), if the service says.
    pub failed: Option<u64>,
    /// Requests not done yet (`batchStats.pendingRequestCount`), if the service says.
    pub pending: Option<u64>,
}

/// One count of an operation's `batchStats` (int64 counts come as strings in proto JSON).
fn stat(operation: &Operation, name: &str) -> Option<u64> {
    operation
        .metadata
        .as_ref()
        .and_then(|m| m.unknown_fields.get("batchStats"))
        .and_then(|s| s.get(name))
        .and_then(|v| match v {
            serde_json::Value::String(s) => s.parse().ok(),
            other => other.as_u64(),
        })
}

/// An operation's batch state (`BATCH_STATE_UNSPECIFIED` when it gives none).
fn state_of(operation: &Operation) -> BatchState {
    operation
        .metadata
        .as_ref()
        .and_then(|m| m.state.clone())
        .unwrap_or(BatchState::Unspecified)
}

/// Whether a state is final (succeeded, failed, cancelled or expired).
fn is_final(state: &BatchState) -> bool {
    matches!(
        state,
        BatchState::Succeeded | BatchState::Failed | BatchState::Cancelled | BatchState::Expired
    )
}

impl BatchProgress {
    /// The progress a batch operation shows (`batches.get`) at poll `polls`, `elapsed` after
    /// waiting began.
    pub fn of(operation: &Operation, polls: u32, elapsed: Duration) -> Self {
        Self {
            state: state_of(operation),
            polls,
            elapsed,
            request_count: stat(operation, "requestCount"),
            succeeded: stat(operation, "successfulRequestCount"),
            failed: stat(operation, "failedRequestCount"),
            pending: stat(operation, "pendingRequestCount"),
        }
    }

    /// Whether the batch has ended (succeeded, failed, cancelled or expired).
    pub fn is_done(&self) -> bool {
        is_final(&self.state)
    }
}

impl fmt::Display for BatchProgress {
    /// `BATCH_STATE_RUNNING after 3 polls (12.5 s): 50 requests, 20 succeeded, 1 failed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} after {} poll{} ({:.1} s)",
            self.state.as_str(),
            self.polls,
            if self.polls == 1 { "" } else { "s" },
            self.elapsed.as_secs_f64()
        )?;
        if let Some(n) = self.request_count {
            write!(f, ": {n} requests")?;
            if let Some(s) = self.succeeded {
                write!(f, ", {s} succeeded")?;
            }
            if let Some(e) = self.failed {
                write!(f, ", {e} failed")?;
            }
        }
        Ok(())
    }
}

/// What a batch's description says, as [`BatchJob::list`] and [`BatchJob::status`] give it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchSummary {
    /// The batch's name (`batches/ID`).
    pub name: String,
    /// Its display name, if it has one.
    pub display_name: Option<String>,
    /// The model (without `models/`), if the service says.
    pub model: Option<String>,
    /// Its state.
    pub state: BatchState,
    /// Requests in the batch (`batchStats.requestCount`), if the service says.
    pub request_count: Option<u64>,
    /// Requests done well, if the service says.
    pub succeeded: Option<u64>,
    /// Requests failed, if the service says.
    pub failed: Option<u64>,
    /// Requests not done yet, if the service says.
    pub pending: Option<u64>,
    /// When it was created (RFC 3339), if the service says.
    pub create_time: Option<String>,
    /// When it last changed (RFC 3339), if the service says.
    pub update_time: Option<String>,
    /// When it ended (RFC 3339), if it has and the service says.
    pub end_time: Option<String>,
}

impl BatchSummary {
    /// The summary of a batch operation (`batches.get`, an item of `batches.list`). Fails when
    /// the operation has no name.
    pub fn of(operation: &Operation) -> Result<Self, Error> {
        let metadata = operation.metadata.as_ref();
        let name = operation
            .name
            .clone()
            .or_else(|| {
                metadata
                    .and_then(|m| m.unknown_fields.get("name"))
                    .and_then(|v| v.as_str().map(str::to_owned))
            })
            .ok_or_else(|| Error::Batch {
                name: "(unnamed)".to_owned(),
                message: "the service described a batch without its name (batches/ID)".to_owned(),
            })?;
        Ok(Self {
            name,
            display_name: metadata.and_then(|m| m.display_name.clone()),
            model: metadata
                .and_then(|m| m.model.as_deref())
                .map(|model| model.strip_prefix("models/").unwrap_or(model).to_owned()),
            state: state_of(operation),
            request_count: stat(operation, "requestCount"),
            succeeded: stat(operation, "successfulRequestCount"),
            failed: stat(operation, "failedRequestCount"),
            pending: stat(operation, "pendingRequestCount"),
            create_time: metadata.and_then(|m| m.create_time.clone()),
            update_time: metadata.and_then(|m| m.update_time.clone()),
            end_time: metadata.and_then(|m| m.end_time.clone()),
        })
    }

    /// Whether the batch has ended (succeeded, failed, cancelled or expired).
    pub fn is_done(&self) -> bool {
        is_final(&self.state)
    }
}

impl fmt::Display for BatchSummary {
    /// `batches/ID BATCH_STATE_RUNNING: 5 requests, 2 succeeded, 0 failed, 3 pending`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.state.as_str())?;
        if let Some(n) = self.request_count {
            write!(f, ": {n} requests")?;
            for (count, what) in [
                (self.succeeded, "succeeded"),
                (self.failed, "failed"),
                (self.pending, "pending"),
            ] {
                if let Some(count) = count {
                    write!(f, ", {count} {what}")?;
                }
            }
        }
        Ok(())
    }
}

/// Where a job's requests are known from.
#[derive(Clone, Debug)]
enum Origin {
    /// Submitted by this process: one slot per request added.
    Submitted(Vec<Slot>),
    /// Picked up by name: the requests are not at hand (`requests`: the service's count).
    Attached { requests: Option<u64> },
}

/// A submitted batch: poll it, wait for it, cancel it. Made by
/// [`BatchBuilder::submit`], or by [`attach`](Self::attach) for a batch submitted elsewhere.
#[derive(Clone, Debug)]
pub struct BatchJob {
    client: Client,
    model: String,
    name: String,
    origin: Origin,
    inline: bool,
}

impl BatchJob {
    /// Picks up a batch by name (`batches/ID` or `ID`), e.g. one submitted by another process,
    /// to poll, wait for, cancel and collect. Fails when the name is malformed or the service
    /// does not know the batch.
    ///
    /// Without the original requests at hand, the collected results carry no prediction
    /// ([`Generation::prediction`] is `None`), and each item's [`index`](BatchItem::index)
    /// comes from its key when every key is a number (as [`BatchBuilder::submit`] sends them),
    /// else from its position in the service's output.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use nanobanana_mock::MockGemini;
    /// use nanobanana_transport::{Client, ClientConfig};
    /// use nanobanana_workflows::{BatchJob, ClientExt, ImageOptions, Polling};
    /// use std::time::Duration;
    ///
    /// let server = MockGemini::start().await;
    /// let client = Client::new(ClientConfig::new("test-key").with_base_url(server.uri()))?;
    /// let submitted = client
    ///     .batch("gemini-2.5-flash-image")
    ///     .add_message("A banana", &ImageOptions::new())
    ///     .submit()
    ///     .await?;
    /// let name = submitted.name().to_owned();
    /// drop(submitted); // e.g. the process ended
    ///
    /// let job = BatchJob::attach(client, &name).await?;
    /// let results = job
    ///     .wait(&Polling::new().with_initial_delay(Duration::from_millis(10)), |_| {})
    ///     .await?;
    /// let item = &results.items()[0];
    /// assert_eq!(item.key(), Some("0"));
    /// assert!(item.result().unwrap().prediction().is_none());
    /// # Ok(()) }
    /// ```
    pub async fn attach(client: Client, name: &str) -> Result<Self, Error> {
        let operation = client.batches().get(name).await?;
        let summary = BatchSummary::of(&operation)?;
        let inline = operation
            .metadata
            .as_ref()
            .and_then(|m| m.input_config.as_ref())
            .is_some_and(|input| input.requests.is_some());
        Ok(Self {
            client,
            model: summary.model.unwrap_or_default(),
            name: summary.name,
            origin: Origin::Attached {
                requests: summary.request_count,
            },
            inline,
        })
    }

    /// Lists the batches of the key, newest first as the service orders them, at most `limit`
    /// of them (`None`: all).
    pub async fn list(client: &Client, limit: Option<usize>) -> Result<Vec<BatchSummary>, Error> {
        let page_size = limit.map(|limit| u32::try_from(limit.clamp(1, 1000)).unwrap_or(1000));
        let batches = client.batches();
        let mut stream = batches.list(page_size);
        let mut out = Vec::new();
        while limit.is_none_or(|limit| out.len() < limit) {
            match stream.next().await {
                Some(operation) => out.push(BatchSummary::of(&operation?)?),
                None => break,
            }
        }
        Ok(out)
    }

    /// Polls once and describes the batch.
    pub async fn status(&self) -> Result<BatchSummary, Error> {
        let operation = self.client.batches().get(&self.name).await?;
        BatchSummary::of(&operation)
    }

    /// Whether this job was [attached](Self::attach) (its requests are not at hand).
    pub fn is_attached(&self) -> bool {
        matches!(self.origin, Origin::Attached { .. })
    }

    /// The batch's name (`batches/ID`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model (for an attached job, as the service names it; empty if it does not).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// How many requests were added (sent or refused); for an attached job, the service's
    /// count when it attached (0 if it gave none).
    pub fn len(&self) -> usize {
        match &self.origin {
            Origin::Submitted(slots) => slots.len(),
            Origin::Attached { requests } => {
                requests.and_then(|n| usize::try_from(n).ok()).unwrap_or(0)
            }
        }
    }

    /// Whether the batch holds no request (never true for a submitted batch).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many requests were refused before sending (0 for an attached job).
    pub fn refused(&self) -> usize {
        match &self.origin {
            Origin::Submitted(slots) => slots
                .iter()
                .filter(|s| matches!(s, Slot::Failed(_)))
                .count(),
            Origin::Attached { .. } => 0,
        }
    }

    /// Whether the requests went inline (else as a JSONL file). For an attached job, whether
    /// the service's description shows inline requests (false when it does not show them).
    pub fn is_inline(&self) -> bool {
        self.inline
    }

    /// Polls once.
    pub async fn progress(&self) -> Result<BatchProgress, Error> {
        let operation = self.client.batches().get(&self.name).await?;
        Ok(BatchProgress::of(&operation, 1, Duration::ZERO))
    }

    /// Asks the service to cancel the batch.
    pub async fn cancel(&self) -> Result<(), Error> {
        self.client.batches().cancel(&self.name).await?;
        Ok(())
    }

    /// Polls until the batch ends, calling `on_progress` after every poll, and collects the
    /// results. Fails if the batch ends without results (failed, cancelled or expired), or
    /// `polling`'s timeout passes first (the batch keeps running; wait again later).
    pub async fn wait(
        &self,
        polling: &Polling,
        on_progress: impl FnMut(&BatchProgress),
    ) -> Result<BatchResults, Error> {
        let (operation, progress) = self.poll_until_done(polling, on_progress).await?;
        self.collect(operation, progress.state).await
    }

    /// Polls until the batch ends, calling `on_progress` after every poll, and describes it,
    /// without collecting the results (see [`wait`](Self::wait)). Fails if `polling`'s timeout
    /// passes first (the batch keeps running; wait again later).
    pub async fn wait_until_done(
        &self,
        polling: &Polling,
        on_progress: impl FnMut(&BatchProgress),
    ) -> Result<BatchSummary, Error> {
        let (operation, _) = self.poll_until_done(polling, on_progress).await?;
        BatchSummary::of(&operation)
    }

    async fn poll_until_done(
        &self,
        polling: &Polling,
        mut on_progress: impl FnMut(&BatchProgress),
    ) -> Result<(Operation, BatchProgress), Error> {
        // Tokio's clock, as the sleeps are: a paused test clock then times out as it should.
        let started = Instant::now();
        let mut polls = 0u32;
        loop {
            let operation = self.client.batches().get(&self.name).await?;
            polls = polls.saturating_add(1);
            let progress = BatchProgress::of(&operation, polls, started.elapsed());
            on_progress(&progress);
            if progress.is_done() || operation.done == Some(true) {
                return Ok((operation, progress));
            }
            let delay = polling.delay(polls);
            if started.elapsed() + delay > polling.timeout {
                return Err(Error::Batch {
                    name: self.name.clone(),
                    message: format!(
                        "still {} after {:.1} s and {polls} polls; it keeps running: wait again later",
                        progress.state.as_str(),
                        started.elapsed().as_secs_f64()
                    ),
                });
            }
            tokio::time::sleep(delay).await;
        }
    }

    async fn collect(
        &self,
        operation: Operation,
        state: BatchState,
    ) -> Result<BatchResults, Error> {
        let output = operation.metadata.and_then(|m| m.output);
        let (inlined, file) = match output {
            Some(output) => (output.inlined_responses, output.responses_file),
            None => (None, None),
        };
        let mut by_key: HashMap<String, Result<GenerateContentResponse, ItemError>> =
            HashMap::new();
        let mut by_position: Vec<Result<GenerateContentResponse, ItemError>> = Vec::new();
        // The keys in the service's order (None: a result without one).
        let mut ordered: Vec<Option<String>> = Vec::new();
        let mut keep = |key: Option<String>, result| {
            ordered.push(key.clone());
            match key {
                Some(key) => {
                    by_key.insert(key, result);
                }
                None => by_position.push(result),
            }
        };
        if let Some(inlined) = inlined {
            for item in inlined.inlined_responses {
                let key = item.metadata.and_then(|mut m| m.remove("key"));
                keep(key, item_result(item.response, item.error));
            }
        } else if let Some(file) = file {
            let bytes = self.client.files().download(&file).await?;
            for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let (key, result) = decode_line(line, number + 1);
                keep(key, result);
            }
        } else {
            return Err(Error::Batch {
                name: self.name.clone(),
                message: format!("ended {} without results", state.as_str()),
            });
        }
        let slots = match &self.origin {
            Origin::Submitted(slots) => slots,
            Origin::Attached { .. } => {
                let items = self.attached_items(ordered, by_key, by_position);
                return Ok(BatchResults { state, items });
            }
        };
        let mut positional = by_position.into_iter();
        let items = slots
            .iter()
            .enumerate()
            .map(|(index, slot)| {
                let (key, result) = match slot {
                    Slot::Failed(error) => (None, Err(error.clone())),
                    Slot::Sent { key, prediction } => (
                        Some(key.clone()),
                        by_key
                            .remove(key)
                            .or_else(|| positional.next())
                            .unwrap_or(Err(ItemError::Missing))
                            .map(|response| {
                                Generation::with_prediction(
                                    self.model.clone(),
                                    Some(prediction.clone()),
                                    response,
                                )
                            }),
                    ),
                };
                BatchItem { index, key, result }
            })
            .collect();
        Ok(BatchResults { state, items })
    }

    /// The items of an attached job, without the requests: in key order with the key as index
    /// when every key is a distinct number (nanobanana's own keys), else in the service's order.
    fn attached_items(
        &self,
        ordered: Vec<Option<String>>,
        mut by_key: HashMap<String, Result<GenerateContentResponse, ItemError>>,
        by_position: Vec<Result<GenerateContentResponse, ItemError>>,
    ) -> Vec<BatchItem> {
        let wrap = |result: Result<GenerateContentResponse, ItemError>| {
            result.map(|response| Generation::with_prediction(self.model.clone(), None, response))
        };
        let numbers: Option<Vec<usize>> = ordered
            .iter()
            .map(|key| key.as_deref().and_then(|k| k.parse::<usize>().ok()))
            .collect();
        if let Some(mut numbers) = numbers {
            numbers.sort_unstable();
            numbers.dedup();
            if numbers.len() == ordered.len() {
                return numbers
                    .into_iter()
                    .map(|index| {
                        let key = index.to_string();
                        let result = by_key.remove(&key).unwrap_or(Err(ItemError::Missing));
                        BatchItem {
                            index,
                            key: Some(key),
                            result: wrap(result),
                        }
                    })
                    .collect();
            }
        }
        let mut positional = by_position.into_iter();
        ordered
            .into_iter()
            .enumerate()
            .map(|(index, key)| {
                let result = match &key {
                    // A repeated key keeps its last result; later copies are missing.
                    Some(key) => by_key.remove(key).unwrap_or(Err(ItemError::Missing)),
                    None => positional.next().unwrap_or(Err(ItemError::Missing)),
                };
                BatchItem {
                    index,
                    key,
                    result: wrap(result),
                }
            })
            .collect()
    }
}

/// An item's result from its `response` and `error` (the response wins if both are there).
fn item_result(
    response: Option<GenerateContentResponse>,
    error: Option<Status>,
) -> Result<GenerateContentResponse, ItemError> {
    match (response, error) {
        (Some(response), _) => Ok(response),
        (None, Some(status)) => Err(ItemError::service(status)),
        (None, None) => Err(ItemError::Missing),
    }
}

/// One line of a JSONL result file: its key and result.
fn decode_line(
    line: &[u8],
    number: usize,
) -> (Option<String>, Result<GenerateContentResponse, ItemError>) {
    #[derive(serde::Deserialize)]
    struct Line {
        key: Option<String>,
        response: Option<GenerateContentResponse>,
        error: Option<Status>,
    }
    match serde_json::from_slice::<Line>(line) {
        Ok(line) => (line.key, item_result(line.response, line.error)),
        Err(e) => (
            None,
            Err(ItemError::Invalid {
                message: format!("line {number} of the result file does not decode: {e}"),
            }),
        ),
    }
}

/// Why one request of a batch has no answer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ItemError {
    /// Refused before sending: it breaks a documented rule (never sent).
    #[error("refused before sending: {}", describe_report(.report))]
    Refused {
        /// Everything wrong with it.
        report: Report,
    },
    /// The service answered this request with an error.
    #[error("{}", describe_status(*.code, .status.as_deref(), .message))]
    Service {
        /// The error's code (an HTTP status), if given.
        code: Option<i64>,
        /// The error's status, e.g. `INVALID_ARGUMENT`.
        status: Option<String>,
        /// The error's message.
        message: String,
    },
    /// The request could not be built, or its result could not be read.
    #[error("{message}")]
    Invalid {
        /// What went wrong.
        message: String,
    },
    /// The batch's output holds nothing for this request.
    #[error("the batch's output holds no result for this request")]
    Missing,
}

impl ItemError {
    fn service(status: Status) -> Self {
        ItemError::Service {
            code: status.code,
            status: status.status,
            message: status.message.unwrap_or_default(),
        }
    }
}

fn describe_report(report: &Report) -> String {
    match report.first_error() {
        Some(error) => format!("[{}] {}", error.rule().id(), error.message()),
        None => "the request breaks a rule".to_owned(),
    }
}

fn describe_status(code: Option<i64>, status: Option<&str>, message: &str) -> String {
    let mut out = String::from("the service answered");
    if let Some(code) = code {
        let _ = write!(out, " {code}");
    }
    if let Some(status) = status {
        let _ = write!(out, " {status}");
    }
    if !message.is_empty() {
        let _ = write!(out, ": {message}");
    }
    out
}

/// The result of one request, at its submission position.
#[derive(Clone, Debug)]
pub struct BatchItem {
    index: usize,
    key: Option<String>,
    result: Result<Generation, ItemError>,
}

impl BatchItem {
    /// The 0-based position in which the request was added (for an
    /// [attached](BatchJob::attach) job, see there).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The key the request was sent under (`metadata.key` inline, `key` in a JSONL file;
    /// [`BatchBuilder::submit`] uses the position, `"0"`, `"1"`, ...). `None` for a request
    /// refused before sending, or a result the service gave without a key.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Its answer (with its outcome), or why there is none.
    pub fn result(&self) -> Result<&Generation, &ItemError> {
        self.result.as_ref()
    }

    /// Takes the result out.
    pub fn into_result(self) -> Result<Generation, ItemError> {
        self.result
    }
}

/// The results of a batch, in submission order.
#[derive(Clone, Debug)]
pub struct BatchResults {
    state: BatchState,
    items: Vec<BatchItem>,
}

impl BatchResults {
    /// The state the batch ended in.
    pub fn state(&self) -> &BatchState {
        &self.state
    }

    /// One item per request added, in order.
    pub fn items(&self) -> &[BatchItem] {
        &self.items
    }

    /// Takes the items out.
    pub fn into_items(self) -> Vec<BatchItem> {
        self.items
    }

    /// How many requests have an answer.
    pub fn succeeded(&self) -> usize {
        self.items.iter().filter(|i| i.result.is_ok()).count()
    }

    /// How many requests have none.
    pub fn failed(&self) -> usize {
        self.items.len() - self.succeeded()
    }
}

/// A webhook configuration the service can use: at least one URI, each an absolute https URL (or
/// http on a loopback host, for a test receiver).
fn check_webhook(webhook: &WebhookConfig) -> Result<(), Error> {
    if webhook.uris.is_empty() {
        return Err(Error::InvalidInput {
            message: "webhook: no URI given; give at least one https:// URL".to_owned(),
        });
    }
    for uri in &webhook.uris {
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|prefix| uri.starts_with(prefix));
        let https = uri
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        if !(https || loopback) {
            return Err(Error::InvalidInput {
                message: format!(
                    "webhook URI {uri:?} is not usable: give an absolute https:// URL (http:// only for a loopback receiver)"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_backs_off_up_to_the_cap() {
        let polling = Polling::new()
            .with_initial_delay(Duration::from_secs(2))
            .with_multiplier(2.0)
            .with_max_delay(Duration::from_secs(10));
        let delays: Vec<u64> = (1..=5).map(|n| polling.delay(n).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 10, 10]);
        assert_eq!(
            Polling::new().with_multiplier(f64::NAN).delay(9),
            Duration::from_secs(5)
        );
        // The getters read what the setters wrote (after their clamping).
        let read = (
            polling.initial_delay(),
            polling.multiplier(),
            polling.max_delay(),
        );
        assert_eq!(read, (Duration::from_secs(2), 2.0, Duration::from_secs(10)));
        let clamped = Polling::new()
            .with_initial_delay(Duration::ZERO)
            .with_multiplier(0.5)
            .with_timeout(Duration::from_secs(7));
        assert_eq!(clamped.initial_delay(), MIN_POLL_DELAY);
        assert_eq!(clamped.multiplier(), 1.0);
        assert_eq!(clamped.timeout(), Duration::from_secs(7));
    }

    #[test]
    fn result_lines_decode_with_their_keys() {
        let (key, result) = decode_line(
            br#"{"key":"3","error":{"code":400,"status":"INVALID_ARGUMENT","message":"Corrupted thought signature."}}"#,
            1,
        );
        assert_eq!(key.as_deref(), Some("3"));
        assert_eq!(
            result.unwrap_err().to_string(),
            "the service answered 400 INVALID_ARGUMENT: Corrupted thought signature."
        );
        let (key, result) = decode_line(b"not json", 7);
        assert_eq!(key, None);
        assert!(
            result
                .unwrap_err()
                .to_string()
                .starts_with("line 7 of the result file does not decode")
        );
    }
}
