//! The one place that talks HTTP: building requests, one attempt, retries, timeouts, turning
//! reqwest's failures and error answers into [`Error`]s, decoding bodies, tracing.
//!
//! Every error made here goes through [`Transport::finish`], which adds what was being done and
//! scrubs the key from every text.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use nanobanana_wire::Endpoint;
use nanobanana_wire::ResponseDecoder;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT};
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;

use crate::config::ClientConfig;
use crate::error::{ApiError, Error, ErrorKind, decode_excerpt};
use crate::retry::{Retrier, RetryPolicy, parse_retry_after};
use crate::urls::{Endpoints, describe};

/// The header that carries the key.
const API_KEY_HEADER: &str = "x-goog-api-key";

/// Headers the client sets itself, which a caller's per-request headers may not replace (reqwest
/// would send both values).
const RESERVED_HEADERS: [&str; 7] = [
    API_KEY_HEADER,
    "user-agent",
    "content-type",
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
];

/// The client's shared state.
pub(crate) struct Transport {
    http: reqwest::Client,
    key_header: Option<HeaderValue>,
    user_agent: HeaderValue,
    pub(crate) endpoints: Endpoints,
    pub(crate) config: ClientConfig,
}

/// Whether a request carries the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    /// The `x-goog-api-key` header.
    ApiKey,
    /// No key: upload chunks, which the upload URL authorises (as the official SDKs send them).
    None,
}

/// One request, ready to be sent as often as the retry policy says.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    method: Method,
    url: String,
    /// For messages and logs: method and path, never the query.
    what: String,
    /// The endpoint of the route table; its name (e.g. `generateContent`, `batches.get`) is
    /// the span's `rpc`.
    endpoint: Endpoint,
    /// The model id, or empty.
    model: String,
    body: Option<(Bytes, HeaderValue)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    auth: Auth,
}

impl Call {
    pub(crate) fn new(method: Method, url: impl Into<String>, endpoint: Endpoint) -> Self {
        let url = url.into();
        Self {
            what: describe(&method, &url),
            method,
            url,
            endpoint,
            model: String::new(),
            body: None,
            headers: Vec::new(),
            auth: Auth::ApiKey,
        }
    }

    pub(crate) fn with_model(mut self, model: &str) -> Self {
        self.model = model.to_owned();
        self
    }

    pub(crate) fn with_json(self, body: Bytes) -> Self {
        self.with_body(body, HeaderValue::from_static("application/json"))
    }

    pub(crate) fn with_body(mut self, body: Bytes, content_type: HeaderValue) -> Self {
        self.body = Some((body, content_type));
        self
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: HeaderValue) -> Self {
        self.headers.push((HeaderName::from_static(name), value));
        self
    }

    /// Adds the caller's own headers ([`RequestOptions::with_header`]), checked.
    ///
    /// [`RequestOptions::with_header`]: crate::RequestOptions::with_header
    pub(crate) fn with_extra_headers(
        mut self,
        headers: &[(String, String)],
    ) -> Result<Self, Error> {
        for (name, value) in headers {
            let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                Error::config(format!(
                    "{name:?} is not a valid header name (letters, digits and -, as in x-my-header)"
                ))
            })?;
            if RESERVED_HEADERS.contains(&parsed.as_str()) {
                return Err(Error::config(format!(
                    "the header {parsed} is set by the client and cannot be set per request (the \
                     API key and the user agent come from ClientConfig; content headers from the \
                     call)"
                )));
            }
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                Error::config(format!(
                    "the value of header {parsed} is not a valid header value (visible ASCII)"
                ))
            })?;
            // Caller headers may carry credentials of their own: keep them out of debug output.
            value.set_sensitive(true);
            self.headers.push((parsed, value));
        }
        Ok(self)
    }

    pub(crate) fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
}

/// A successful (2xx) answer: its headers and what its body was made into (the body itself,
/// read whole, unless a [`Receive`] made something else of it while it arrived).
#[derive(Debug)]
pub(crate) struct Answer<B = Bytes> {
    pub(crate) headers: HeaderMap,
    pub(crate) body: B,
}

/// Takes a 2xx answer's body in, chunk by chunk as the network delivers it.
pub(crate) trait Receive: Sized {
    /// What the body becomes.
    type Output;
    /// A receiver for a body of `content_length` bytes, if the answer said.
    fn start(content_length: Option<u64>) -> Self;
    /// The next chunk of the body.
    fn feed(&mut self, chunk: Bytes);
    /// The body has ended.
    fn finish(self) -> Self::Output;
}

/// The body read whole, as one buffer: a body that arrives in one chunk is kept as it is; one
/// that arrives in several is gathered once into a buffer sized from `Content-Length`.
#[derive(Debug, Default)]
pub(crate) struct Whole {
    first: Option<Bytes>,
    gathered: Option<BytesMut>,
    expected: usize,
}

impl Receive for Whole {
    type Output = Bytes;

    fn start(content_length: Option<u64>) -> Self {
        Self {
            expected: content_length.map_or(0, |len| usize::try_from(len).unwrap_or(0)),
            ..Self::default()
        }
    }

    fn feed(&mut self, chunk: Bytes) {
        if let Some(gathered) = &mut self.gathered {
            gathered.extend_from_slice(&chunk);
            return;
        }
        match self.first.take() {
            None => self.first = Some(chunk),
            Some(first) => {
                let mut gathered =
                    BytesMut::with_capacity(self.expected.max(first.len() + chunk.len()));
                gathered.extend_from_slice(&first);
                gathered.extend_from_slice(&chunk);
                self.gathered = Some(gathered);
            }
        }
    }

    fn finish(self) -> Bytes {
        match (self.gathered, self.first) {
            (Some(gathered), _) => gathered.freeze(),
            (None, first) => first.unwrap_or_default(),
        }
    }
}

/// A `generateContent` answer decoded while it arrives ([`ResponseDecoder`]): each image's
/// base64 text is decoded as it streams by and never held whole; the result is
/// [`nanobanana_wire::decode_response`]'s on the whole body, with what the decoder kept of the
/// body (the whole body when decoding failed, for the error's excerpt).
impl Receive for ResponseDecoder {
    type Output = (
        serde_json::Result<nanobanana_wire::GenerateContentResponse>,
        Vec<u8>,
    );

    fn start(content_length: Option<u64>) -> Self {
        match content_length.and_then(|len| usize::try_from(len).ok()) {
            Some(len) => ResponseDecoder::with_size_hint(len),
            None => ResponseDecoder::new(),
        }
    }

    fn feed(&mut self, chunk: Bytes) {
        ResponseDecoder::feed(self, &chunk);
    }

    fn finish(self) -> Self::Output {
        self.finish_with_body()
    }
}

/// Whether a reqwest failure happened before or after the answer's head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Send,
    Body,
}

impl Transport {
    pub(crate) fn new(config: ClientConfig) -> Result<Arc<Self>, Error> {
        let endpoints = Endpoints::new(&config.base_url, config.api_version)?;
        let key_header = if config.api_key.is_empty() {
            None
        } else {
            let mut value =
                HeaderValue::from_str(config.api_key.expose_secret()).map_err(|_| {
                    Error::config("the API key holds characters that cannot go in an HTTP header")
                })?;
            value.set_sensitive(true);
            Some(value)
        };
        let user_agent = HeaderValue::from_str(&config.user_agent).map_err(|_| {
            Error::config("the user agent holds characters that cannot go in an HTTP header")
        })?;
        let http = match &config.http_client {
            Some(client) => client.clone(),
            None => build_http_client(config.connect_timeout, endpoints.is_loopback())?,
        };
        Ok(Arc::new(Self {
            http,
            key_header,
            user_agent,
            endpoints,
            config,
        }))
    }

    fn secret(&self) -> &str {
        self.config.api_key.expose_secret()
    }

    /// Adds context to an error made for `call` and scrubs the key from it.
    pub(crate) fn finish(&self, error: Error, call: &Call) -> Error {
        error
            .with_context(call.what.clone())
            .scrubbed(self.secret())
    }

    /// Sends `call` with retries; returns the first 2xx answer, its body received by `R`, or
    /// the last error.
    pub(crate) async fn execute<R: Receive>(
        &self,
        call: &Call,
        policy: &RetryPolicy,
        timeout: Option<Duration>,
    ) -> Result<Answer<R::Output>, Error> {
        let mut retrier = Retrier::new(policy);
        loop {
            let span = self.span(call, retrier.attempt());
            let result = self
                .attempt::<R>(call, timeout, &span)
                .instrument(span.clone())
                .await;
            match result {
                Ok(answer) => return Ok(answer),
                Err(error) => self.pause_or_fail(&mut retrier, error, &span).await?,
            }
        }
    }

    /// After a failed attempt: sleeps and returns `Ok` if the request is to be tried again,
    /// returns the error otherwise.
    pub(crate) async fn pause_or_fail(
        &self,
        retrier: &mut Retrier<'_>,
        error: Error,
        span: &tracing::Span,
    ) -> Result<(), Error> {
        match retrier.next_delay(&error) {
            Some(delay) => {
                tracing::warn!(
                    parent: span,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    error = %error,
                    "gemini request failed; retrying"
                );
                tokio::time::sleep(delay).await;
                Ok(())
            }
            None => {
                tracing::debug!(parent: span, error = %error, "gemini request failed");
                Err(error.with_attempts(retrier.attempt()))
            }
        }
    }

    /// The span of one attempt: model, method, attempt; status and latency are recorded when
    /// the answer's head arrives. Never the key, the query or a body.
    pub(crate) fn span(&self, call: &Call, attempt: u32) -> tracing::Span {
        tracing::info_span!(
            "gemini.request",
            rpc = call.endpoint.name(),
            model = call.model.as_str(),
            method = %call.method,
            attempt,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        )
    }

    /// One attempt: send, then hand the body to `R` chunk by chunk as it arrives (no copy of
    /// its own), all within `timeout`.
    async fn attempt<R: Receive>(
        &self,
        call: &Call,
        timeout: Option<Duration>,
        span: &tracing::Span,
    ) -> Result<Answer<R::Output>, Error> {
        let deadline = timeout.map(|limit| (Instant::now() + limit, limit));
        let mut response = self.head(call, deadline, span).await?;
        let headers = response.headers().clone();
        let mut receiver = R::start(response.content_length());
        self.within(deadline, call, async {
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| self.reqwest_error(e, Stage::Body, call))?
            {
                receiver.feed(chunk);
            }
            Ok(())
        })
        .await?;
        Ok(Answer {
            headers,
            body: receiver.finish(),
        })
    }

    /// Sends `call` and waits for the head of a 2xx answer within `timeout` (for streams: the
    /// body is read by the caller). An error answer is read whole and returned as an error.
    pub(crate) async fn open(
        &self,
        call: &Call,
        timeout: Option<Duration>,
        span: &tracing::Span,
    ) -> Result<Response, Error> {
        let deadline = timeout.map(|limit| (Instant::now() + limit, limit));
        self.head(call, deadline, span).await
    }

    /// Sends the request and waits for the answer's head; records status and latency on `span`.
    async fn head(
        &self,
        call: &Call,
        deadline: Option<(Instant, Duration)>,
        span: &tracing::Span,
    ) -> Result<Response, Error> {
        let started = Instant::now();
        let response = self
            .within(deadline, call, async {
                self.request(call)
                    .send()
                    .await
                    .map_err(|e| self.reqwest_error(e, Stage::Send, call))
            })
            .await?;
        let status = response.status();
        span.record("status", status.as_u16());
        span.record(
            "latency_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let body = self
            .within(deadline, call, async {
                response
                    .bytes()
                    .await
                    .map_err(|e| self.reqwest_error(e, Stage::Body, call))
            })
            .await?;
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| parse_retry_after(text, SystemTime::now()));
        let api = ApiError::from_body(status.as_u16(), retry_after, &body);
        Err(self.finish(Error::api(api), call))
    }

    /// Runs `future` until `deadline`, if there is one.
    pub(crate) async fn within<T>(
        &self,
        deadline: Option<(Instant, Duration)>,
        call: &Call,
        future: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        match deadline {
            None => future.await,
            Some((at, limit)) => match tokio::time::timeout_at(at, future).await {
                Ok(result) => result,
                Err(_) => Err(self.finish(Error::timeout(limit), call)),
            },
        }
    }

    fn request(&self, call: &Call) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(call.method.clone(), &call.url)
            .header(USER_AGENT, self.user_agent.clone());
        if let (Auth::ApiKey, Some(key)) = (call.auth, &self.key_header) {
            request = request.header(API_KEY_HEADER, key.clone());
        }
        for (name, value) in &call.headers {
            request = request.header(name.clone(), value.clone());
        }
        if let Some((body, content_type)) = &call.body {
            request = request
                .header(CONTENT_TYPE, content_type.clone())
                .body(body.clone());
        }
        request
    }

    /// Turns a reqwest failure into an [`Error`]: its text (and its sources') without the URL,
    /// scrubbed of the key.
    fn reqwest_error(&self, error: reqwest::Error, stage: Stage, call: &Call) -> Error {
        let error = error.without_url();
        let text = error_chain(&error);
        let made = if error.is_connect() {
            Error::connect(text, error.is_timeout())
        } else if error.is_timeout() {
            // Only a caller's own reqwest client has reqwest-level timeouts.
            Error::new(ErrorKind::Timeout, text)
        } else if error.is_builder() {
            Error::config(text)
        } else {
            Error::transport(text, stage == Stage::Body)
        };
        self.finish(made, call)
    }

    /// Decodes a body into `T`: `serde_json::from_slice` on the one buffer.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        body: &Bytes,
        call: &Call,
    ) -> Result<T, Error> {
        self.decode_with(body, call, |body| serde_json::from_slice(body))
    }

    /// The error of a body that did not decode into `T`, quoting the body where it failed.
    pub(crate) fn decode_error<T>(
        &self,
        body: &[u8],
        error: &serde_json::Error,
        call: &Call,
    ) -> Error {
        let error = Error::new(
            ErrorKind::Decode,
            format!(
                "expected {}: {}",
                short_type_name::<T>(),
                decode_excerpt(body, error)
            ),
        );
        self.finish(error, call)
    }

    pub(crate) fn decode_with<T>(
        &self,
        body: &Bytes,
        call: &Call,
        decode: impl FnOnce(&[u8]) -> serde_json::Result<T>,
    ) -> Result<T, Error> {
        decode(body).map_err(|e| self.decode_error::<T>(body, &e, call))
    }

    /// Reads the next chunk of a streamed answer within `timeout`.
    pub(crate) async fn chunk(
        &self,
        response: &mut Response,
        timeout: Option<Duration>,
        call: &Call,
    ) -> Result<Option<Bytes>, Error> {
        let deadline = timeout.map(|limit| (Instant::now() + limit, limit));
        self.within(deadline, call, async {
            response
                .chunk()
                .await
                .map_err(|e| self.reqwest_error(e, Stage::Body, call))
        })
        .await
    }
}

/// The HTTP/1.1 client: reqwest's rustls with the platform's certificate verifier; no
/// redirects (the key header would follow them to any host); no reqwest-level retries (every
/// attempt goes through [`Transport::execute`]'s policy and is traced). The environment's
/// proxies (`HTTPS_PROXY`, ...) apply, except to a service on this machine (a fake server):
/// a proxy cannot reach the caller's loopback.
fn build_http_client(
    connect_timeout: Option<Duration>,
    loopback: bool,
) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never());
    if loopback {
        builder = builder.no_proxy();
    }
    if let Some(timeout) = connect_timeout {
        builder = builder.connect_timeout(timeout);
    }
    builder
        .build()
        .map_err(|e| Error::config(format!("HTTP client setup: {}", error_chain(&e))))
}

/// An error's text followed by its sources', without repeats and without the HTTP stack's
/// generic wrappers (`error sending request`, `client error (Connect)`, ...), which say nothing
/// the error's kind does not: `tcp connect error: Connection refused (os error 111)`.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut texts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        let text = cause.to_string();
        if !texts.iter().any(|seen| seen.contains(&text)) {
            texts.push(text);
        }
        next = cause.source();
    }
    let specific: Vec<&str> = texts
        .iter()
        .map(String::as_str)
        .filter(|text| !is_generic_wrapper(text))
        .collect();
    if specific.is_empty() {
        texts.join(": ")
    } else {
        specific.join(": ")
    }
}

/// Texts of reqwest's and hyper-util's wrapper errors, whose causes say what happened.
fn is_generic_wrapper(text: &str) -> bool {
    matches!(
        text,
        "error sending request"
            | "error decoding response body"
            | "error reading a body from connection"
            | "request or response body error"
    ) || (text.starts_with("client error (") && text.ends_with(')'))
}

/// `nanobanana_wire::GenerateContentResponse` → `GenerateContentResponse`.
fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_client_with_ring_and_no_redirects() {
        let transport = Transport::new(ClientConfig::new("k")).unwrap();
        assert!(transport.key_header.as_ref().unwrap().is_sensitive());
        let request = transport
            .request(
                &Call::new(
                    Method::POST,
                    transport.endpoints.generate_content("m"),
                    Endpoint::GenerateContent,
                )
                .with_json(Bytes::from_static(b"{}")),
            )
            .build()
            .unwrap();
        assert_eq!(request.headers()[API_KEY_HEADER], "k");
        assert_eq!(request.headers()[CONTENT_TYPE], "application/json");
        assert!(
            request.headers()[USER_AGENT]
                .to_str()
                .unwrap()
                .starts_with("nanobanana-transport/")
        );
        assert_eq!(
            request.url().as_str(),
            "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent",
            "the key never goes in the URL"
        );
    }

    #[test]
    fn upload_chunks_carry_no_key_and_an_empty_key_sends_no_header() {
        let transport = Transport::new(ClientConfig::new("secret-key-123")).unwrap();
        let call = Call::new(
            Method::POST,
            "http://h/upload?upload_id=1",
            Endpoint::FileUpload,
        )
        .with_auth(Auth::None);
        let request = transport.request(&call).build().unwrap();
        assert!(request.headers().get(API_KEY_HEADER).is_none());
        let transport = Transport::new(ClientConfig::new("")).unwrap();
        let call = Call::new(Method::GET, "http://h/v1beta/models", Endpoint::ModelList);
        let request = transport.request(&call).build().unwrap();
        assert!(request.headers().get(API_KEY_HEADER).is_none());
    }

    #[test]
    fn refuses_keys_and_agents_that_cannot_be_headers() {
        let canary = "bad\nkey-CANARY-123456";
        let error = Transport::new(ClientConfig::new(canary)).err().unwrap();
        assert!(!format!("{error} {error:?}").contains("CANARY"));
        let error = Transport::new(ClientConfig::new("k").with_user_agent("a\u{7}"))
            .err()
            .unwrap();
        assert!(error.to_string().contains("user agent"));
    }

    #[test]
    fn error_chains_drop_generic_wrappers() {
        #[derive(Debug)]
        struct Frame(&'static str, Option<Box<Frame>>);
        impl std::fmt::Display for Frame {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for Frame {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|f| f as _)
            }
        }
        let chain = |texts: &[&'static str]| {
            texts
                .iter()
                .rev()
                .fold(None, |inner, text| Some(Box::new(Frame(text, inner))))
                .unwrap()
        };
        let refused = chain(&[
            "error sending request",
            "client error (Connect)",
            "tcp connect error",
            "Connection refused (os error 111)",
        ]);
        assert_eq!(
            error_chain(&*refused),
            "tcp connect error: Connection refused (os error 111)"
        );
        let repeated = chain(&["dns error: no such host", "no such host"]);
        assert_eq!(error_chain(&*repeated), "dns error: no such host");
        let only_wrappers = chain(&["error sending request", "client error (SendRequest)"]);
        assert_eq!(
            error_chain(&*only_wrappers),
            "error sending request: client error (SendRequest)"
        );
    }

    #[test]
    fn type_names_are_short() {
        assert_eq!(
            short_type_name::<nanobanana_wire::GenerateContentResponse>(),
            "GenerateContentResponse"
        );
    }
}
