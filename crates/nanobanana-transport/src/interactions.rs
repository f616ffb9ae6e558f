//! The Interactions API (`docs/service/INTERACTIONS.md`): create, get, delete, cancel, a
//! background run polled to its end, and the named-event stream, resumed after a dropped
//! connection from the last `event_id`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::Stream;
use nanobanana_wire::{
    CreateInteractionRequest, Empty, Endpoint, Interaction, InteractionEvent, InteractionStatus,
    ResponseDecoder, decode_interaction,
};
use reqwest::{Method, Response, Url};
use std::collections::VecDeque;
use tracing::Instrument;

use crate::client::{Client, RequestOptions, encode};
use crate::error::{ApiError, Error, ErrorKind};
use crate::http::{Call, Transport};
use crate::retry::{Retrier, RetryPolicy};
use crate::sse::{SsePiece, SseSplitter};
use crate::urls::resource_id;

/// The Interactions API of a [`Client`]: `client.interactions()`.
///
/// Interaction ids are accepted as `interactions/ID` or `ID`. Requests are validated before
/// sending (`nanobanana_rules::validate_interaction_with`) unless the options skip validation.
#[derive(Clone, Copy, Debug)]
pub struct Interactions<'c> {
    client: &'c Client,
}

/// The events of an interaction stream ([`Interactions::stream`], [`Interactions::resume`]).
pub type InteractionEvents =
    std::pin::Pin<Box<dyn Stream<Item = Result<InteractionEvent, Error>> + Send>>;

/// How [`Interactions::wait`] polls a background interaction.
#[derive(Clone, Copy, Debug)]
pub struct WaitOptions {
    /// The first pause between two gets; it doubles up to `max_interval`.
    pub interval: Duration,
    /// The longest pause between two gets.
    pub max_interval: Duration,
    /// How long to wait in all before giving up (an error of kind
    /// [`Timeout`](ErrorKind::Timeout) naming the last status).
    pub timeout: Duration,
}

impl Default for WaitOptions {
    /// 1 s, doubling up to 10 s, for at most 10 minutes.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(600),
        }
    }
}

/// Whether an interaction has finished: `completed`, `failed`, `cancelled`, `incomplete` or
/// `budget_exceeded`. `requires_action` and `requires_continuation` wait for the caller, so
/// they end a wait too.
pub fn is_settled(status: Option<&InteractionStatus>) -> bool {
    !matches!(
        status,
        None | Some(InteractionStatus::InProgress | InteractionStatus::Queued)
    )
}

impl<'c> Interactions<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Creates an interaction: `POST /{version}/interactions`. With `background: true` the
    /// answer comes at once, `in_progress`; [`wait`](Self::wait) polls it to its end. A request
    /// with `stream: true` belongs to [`stream`](Self::stream).
    pub async fn create(&self, request: &CreateInteractionRequest) -> Result<Interaction, Error> {
        self.create_with(request, &RequestOptions::new()).await
    }

    /// [`create`](Self::create) with per-call options.
    pub async fn create_with(
        &self,
        request: &CreateInteractionRequest,
        options: &RequestOptions,
    ) -> Result<Interaction, Error> {
        if request.stream == Some(true) {
            return Err(Error::config(
                "a request with stream: true is answered with events; use interactions().stream",
            ));
        }
        let call = self.create_call(request, options)?;
        self.interaction_of(&call, options).await
    }

    /// Gets an interaction (the full timeline): `GET /{version}/interactions/{id}?stream=false`.
    pub async fn get(&self, id: &str) -> Result<Interaction, Error> {
        let call = Call::new(
            Method::GET,
            self.url_with(id, &[("stream", "false")])?,
            Endpoint::InteractionGet,
        );
        self.interaction_of(&call, &RequestOptions::new()).await
    }

    /// Deletes an interaction: `DELETE /{version}/interactions/{id}`.
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        let id = resource_id(id, "interactions")?;
        let call = Call::new(
            Method::DELETE,
            self.client.transport.endpoints.interactions(Some(id)),
            Endpoint::InteractionDelete,
        );
        let answer = self.client.execute(&call, &RequestOptions::new()).await?;
        if !answer.body.is_empty() {
            let _: Empty = self.client.transport.decode(&answer.body, &call)?;
        }
        Ok(())
    }

    /// Cancels a running interaction: `POST /{version}/interactions/{id}/cancel`; returns it,
    /// `cancelled`.
    pub async fn cancel(&self, id: &str) -> Result<Interaction, Error> {
        let id = resource_id(id, "interactions")?;
        let call = Call::new(
            Method::POST,
            self.client.transport.endpoints.interaction_cancel(id),
            Endpoint::InteractionCancel,
        );
        self.interaction_of(&call, &RequestOptions::new()).await
    }

    /// Polls an interaction with [`get`](Self::get) until it has settled ([`is_settled`]);
    /// returns it as last seen. A `failed` interaction is returned, not an error: its `steps`
    /// and `errors` say why.
    pub async fn wait(&self, id: &str, options: WaitOptions) -> Result<Interaction, Error> {
        let started = Instant::now();
        let mut interval = options.interval;
        loop {
            let interaction = self.get(id).await?;
            if is_settled(interaction.status.as_ref()) {
                return Ok(interaction);
            }
            let elapsed = started.elapsed();
            if elapsed >= options.timeout {
                let seen = interaction
                    .status
                    .as_ref()
                    .map_or("none", InteractionStatus::as_str);
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "interaction {id} has not finished after {} ms (last status: {seen}); wait longer or cancel it",
                        options.timeout.as_millis()
                    ),
                ));
            }
            tokio::time::sleep(interval.min(options.timeout - elapsed)).await;
            interval = (interval * 2).min(options.max_interval);
        }
    }

    /// Creates an interaction and streams its events (`stream: true` is set on the request):
    /// `interaction.created`, status updates, `step.start` / `step.delta` / `step.stop`, and
    /// `interaction.completed`. An `error` event ends the stream with an [`Error`] of kind
    /// [`Api`](ErrorKind::Api).
    ///
    /// The request is retried (per the retry policy) until its first event arrives. After
    /// that, a connection that drops (or ends before `interaction.completed`) is resumed with
    /// `GET /{version}/interactions/{id}?stream=true&last_event_id=...`, from the event after
    /// the last one received, as often as the policy allows attempts, so no event is seen
    /// twice; an interaction created with `store: false` cannot be resumed.
    pub fn stream(&self, request: &CreateInteractionRequest) -> InteractionEvents {
        self.stream_with(request, &RequestOptions::new())
    }

    /// [`stream`](Self::stream) with per-call options.
    pub fn stream_with(
        &self,
        request: &CreateInteractionRequest,
        options: &RequestOptions,
    ) -> InteractionEvents {
        let mut request = request.clone();
        request.stream = Some(true);
        let call = self.create_call(&request, options);
        let resumable = request.store != Some(false);
        self.event_stream(call, None, resumable, options)
    }

    /// Streams the events of an existing interaction from the one after `last_event_id` (all
    /// of them when `None`): `GET /{version}/interactions/{id}?stream=true&last_event_id=...`.
    /// Dropped connections are resumed as in [`stream`](Self::stream).
    pub fn resume(&self, id: &str, last_event_id: Option<&str>) -> InteractionEvents {
        let options = RequestOptions::new();
        let call = resource_id(id, "interactions")
            .and_then(|id| resume_call(&self.client.transport, id, last_event_id));
        let known = resource_id(id, "interactions")
            .ok()
            .map(|id| (id.to_owned(), last_event_id.map(str::to_owned)));
        self.event_stream(call, known, true, &options)
    }

    fn event_stream(
        &self,
        call: Result<Call, Error>,
        known: Option<(String, Option<String>)>,
        resumable: bool,
        options: &RequestOptions,
    ) -> InteractionEvents {
        let transport = self.client.transport.clone();
        let policy = self.client.retry_policy(options).clone();
        let timeout = self.client.timeout(options);
        let state = match call {
            Ok(call) => {
                let (id, last_event_id) = known.unzip();
                Some(Live {
                    transport,
                    call,
                    policy,
                    timeout,
                    response: None,
                    splitter: SseSplitter::new(),
                    event: None,
                    complete: VecDeque::new(),
                    ended: false,
                    finished: false,
                    id,
                    last_event_id: last_event_id.flatten(),
                    resumable,
                    received: 0,
                    resumes: 0,
                    span: tracing::Span::none(),
                })
            }
            Err(error) => return Box::pin(futures_util::stream::iter([Err(error)])),
        };
        Box::pin(futures_util::stream::unfold(state, |state| async move {
            let mut live = state?;
            match live.next().await {
                Ok(Some(event)) => Some((Ok(event), Some(live))),
                Ok(None) => None,
                Err(error) => Some((Err(error), None)),
            }
        }))
    }

    /// The create call: validated (unless skipped), `POST /{version}/interactions`.
    fn create_call(
        &self,
        request: &CreateInteractionRequest,
        options: &RequestOptions,
    ) -> Result<Call, Error> {
        let model = request.model.as_deref().unwrap_or_default();
        if !options.validation_skipped() {
            let report = nanobanana_rules::validate_interaction_with(
                request,
                &self.client.transport.config.validation,
            );
            for warning in report.warnings() {
                tracing::debug!(model, rule = warning.rule().id(), "{}", warning.message());
            }
            if !report.is_valid() {
                return Err(Error::validation(report, None));
            }
        }
        let mut call = Call::new(
            Method::POST,
            self.client.transport.endpoints.interactions(None),
            Endpoint::InteractionCreate,
        )
        .with_model(model)
        .with_json(encode(request)?);
        if request.stream == Some(true) {
            call = call.with_header(
                "accept",
                reqwest::header::HeaderValue::from_static("text/event-stream"),
            );
        }
        Ok(call)
    }

    /// `.../interactions/{id}` with a query.
    fn url_with(&self, id: &str, query: &[(&str, &str)]) -> Result<String, Error> {
        let id = resource_id(id, "interactions")?;
        with_query(
            &self.client.transport.endpoints.interactions(Some(id)),
            query,
        )
    }

    async fn interaction_of(
        &self,
        call: &Call,
        options: &RequestOptions,
    ) -> Result<Interaction, Error> {
        let answer = self.client.execute(call, options).await?;
        self.client
            .transport
            .decode_with(&answer.body, call, decode_interaction)
    }
}

fn with_query(url: &str, query: &[(&str, &str)]) -> Result<String, Error> {
    let mut url =
        Url::parse(url).map_err(|e| Error::config(format!("bad interaction URL {url}: {e}")))?;
    url.query_pairs_mut().extend_pairs(query);
    Ok(url.into())
}

fn resume_call(
    transport: &Transport,
    id: &str,
    last_event_id: Option<&str>,
) -> Result<Call, Error> {
    let mut query = vec![("stream", "true")];
    if let Some(last) = last_event_id {
        query.push(("last_event_id", last));
    }
    let url = with_query(&transport.endpoints.interactions(Some(id)), &query)?;
    Ok(
        Call::new(Method::GET, url, Endpoint::InteractionGet).with_header(
            "accept",
            reqwest::header::HeaderValue::from_static("text/event-stream"),
        ),
    )
}

/// A stream of named events in progress.
struct Live {
    transport: Arc<Transport>,
    /// The call to (re)open: the create, or the get that resumes.
    call: Call,
    policy: RetryPolicy,
    timeout: Option<Duration>,
    response: Option<Response>,
    /// The event stream, its data handed over in pieces as they arrive.
    splitter: SseSplitter,
    /// The event being received: its images are decoded while they arrive.
    event: Option<ResponseDecoder>,
    /// Events received whole, not yet handed out.
    complete: VecDeque<ResponseDecoder>,
    /// The answer's body has ended.
    ended: bool,
    /// `interaction.completed` (or an `error` event) was received: the stream is over.
    finished: bool,
    /// The interaction's id, from `interaction.created` (or given to resume).
    id: Option<String>,
    last_event_id: Option<String>,
    /// Whether a dropped connection may be resumed (not with `store: false`).
    resumable: bool,
    /// Events handed out so far.
    received: u64,
    /// Resumptions made (bounded by the retry policy's attempts).
    resumes: u32,
    span: tracing::Span,
}

impl Live {
    /// The next event; `Ok(None)` after `interaction.completed`.
    async fn next(&mut self) -> Result<Option<InteractionEvent>, Error> {
        loop {
            if self.finished {
                return Ok(None);
            }
            if let Some(decoder) = self.complete.pop_front() {
                if decoder.is_blank() {
                    continue;
                }
                let event = self.decode(decoder)?;
                self.received += 1;
                return Ok(Some(event));
            }
            if self.response.is_none() {
                self.open().await?;
                continue;
            }
            if self.ended {
                let cut = self.splitter.finish().is_err() || self.event.is_some();
                let why = if cut {
                    "the stream was cut off inside an event"
                } else {
                    "the stream ended before interaction.completed"
                };
                let error = Error::new(ErrorKind::Truncated, why);
                self.resume_or_fail(self.transport.finish(error, &self.call))?;
                continue;
            }
            let response = self.response.as_mut().expect("opened above");
            let span = self.span.clone();
            let chunk = self
                .transport
                .chunk(response, self.timeout, &self.call)
                .instrument(span)
                .await;
            match chunk {
                Ok(Some(chunk)) => {
                    let (event, complete) = (&mut self.event, &mut self.complete);
                    self.splitter.feed(&chunk, |piece| match piece {
                        SsePiece::Data(data) => event
                            .get_or_insert_with(ResponseDecoder::for_interactions)
                            .feed(&data),
                        SsePiece::End => complete.push_back(
                            event
                                .take()
                                .unwrap_or_else(ResponseDecoder::for_interactions),
                        ),
                    });
                }
                Ok(None) => self.ended = true,
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::Transport { .. } | ErrorKind::Timeout
                    ) =>
                {
                    self.resume_or_fail(error)?;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Opens (or reopens) the call, with retries until an answer's head arrives.
    async fn open(&mut self) -> Result<(), Error> {
        let mut retrier = Retrier::new(&self.policy);
        loop {
            let span = self.transport.span(&self.call, retrier.attempt());
            let opened = self
                .transport
                .open(&self.call, self.timeout, &span)
                .instrument(span.clone())
                .await;
            let result = opened.and_then(|response| {
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
                match content_type
                    .filter(|ct| !ct.to_ascii_lowercase().starts_with("text/event-stream"))
                {
                    Some(other) => Err(self.transport.finish(
                        Error::protocol(format!(
                            "expected an event stream (text/event-stream), got {other}"
                        )),
                        &self.call,
                    )),
                    None => Ok(response),
                }
            });
            match result {
                Ok(response) => {
                    self.response = Some(response);
                    // A new answer: what a cut one left half-received is dropped (the
                    // service sends it again after `last_event_id`).
                    self.splitter = SseSplitter::new();
                    self.event = None;
                    self.ended = false;
                    self.span = span;
                    return Ok(());
                }
                Err(error) => {
                    self.transport
                        .pause_or_fail(&mut retrier, error, &span)
                        .await?
                }
            }
        }
    }

    /// After a dropped connection: switches to the get that resumes after the last event, or
    /// returns the error when that is not possible (no id yet, not stored, no attempts left).
    fn resume_or_fail(&mut self, error: Error) -> Result<(), Error> {
        let Some(id) = self.id.clone().filter(|_| self.resumable) else {
            return Err(error);
        };
        if self.resumes + 1 >= self.policy.max_attempts() {
            return Err(error);
        }
        self.resumes += 1;
        tracing::warn!(
            parent: &self.span,
            interaction = %id,
            last_event_id = self.last_event_id.as_deref().unwrap_or(""),
            error = %error,
            "interaction stream dropped; resuming"
        );
        self.call = resume_call(&self.transport, &id, self.last_event_id.as_deref())?;
        self.response = None;
        Ok(())
    }

    /// Decodes one event and notes its id; an `error` event becomes the error.
    fn decode(&mut self, decoder: ResponseDecoder) -> Result<InteractionEvent, Error> {
        // `data` is the event as received when it failed to decode (or held no image), the
        // event with each image text replaced by a short reference otherwise.
        let (decoded, data) = decoder.finish_interaction_event_with_body();
        let data = &data[..];
        let event = decoded.map_err(|e| {
            self.transport
                .decode_error::<InteractionEvent>(data, &e, &self.call)
        })?;
        let event_id = match &event {
            InteractionEvent::Created(e) => {
                if let Some(id) = e.interaction.as_ref().and_then(|i| i.id.clone()) {
                    self.id = Some(id);
                }
                e.event_id.clone()
            }
            InteractionEvent::StatusUpdate(e) => {
                if self.id.is_none() {
                    self.id.clone_from(&e.interaction_id);
                }
                e.event_id.clone()
            }
            InteractionEvent::StepStart(e) => e.event_id.clone(),
            InteractionEvent::StepDelta(e) => e.event_id.clone(),
            InteractionEvent::StepStop(e) => e.event_id.clone(),
            InteractionEvent::Completed(e) => {
                self.finished = true;
                e.event_id.clone()
            }
            InteractionEvent::Error(e) => {
                self.finished = true;
                let error = e.error.clone().unwrap_or_default();
                return Err(self.transport.finish(
                    Error::api(ApiError::from_interaction_event(error, data)),
                    &self.call,
                ));
            }
            InteractionEvent::Unknown(value) => value
                .get("event_id")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            _ => None,
        };
        if event_id.is_some() {
            self.last_event_id = event_id;
        }
        Ok(event)
    }
}
