//! The [`Client`], its per-call [`RequestOptions`], and content generation (whole and streamed).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use nanobanana_wire::Endpoint;
use nanobanana_wire::{GenerateContentRequest, GenerateContentResponse};
use reqwest::Method;

use crate::batches::Batches;
use crate::config::ClientConfig;
use crate::error::Error;
use crate::files::Files;
use crate::http::{Call, Transport};
use crate::models::Models;
use crate::retry::RetryPolicy;
use crate::stream::generate_stream;
use crate::urls::model_id;

/// The Gemini API client. Cheap to clone (the clones share one connection pool); `Send` and
/// `Sync`.
///
/// ```no_run
/// # async fn run() -> Result<(), nanobanana_transport::Error> {
/// use nanobanana_transport::{Client, ClientConfig};
/// use nanobanana_transport::wire::{Content, GenerateContentRequest, Part};
///
/// let client = Client::new(ClientConfig::from_env()?)?;
/// let request = GenerateContentRequest::new()
///     .with_contents([Content::user([Part::from_text("A nano banana dish, plated")])]);
/// let response = client.generate_content("gemini-3.1-flash-image", &request).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) transport: Arc<Transport>,
}

impl Client {
    /// A client for `config`. Fails on an unusable base URL, key or user agent, or when the
    /// TLS setup fails; sends nothing.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        Ok(Self {
            transport: Transport::new(config)?,
        })
    }

    /// The configuration the client was made from.
    pub fn config(&self) -> &ClientConfig {
        &self.transport.config
    }

    /// Generates content: `POST /{version}/models/{model}:generateContent`.
    ///
    /// `model` is an id (`gemini-3-pro-image`) or a resource name
    /// (`models/gemini-3-pro-image`). The request is validated first (see
    /// [`RequestOptions::skip_validation`]); failures are retried by the configured policy.
    pub async fn generate_content(
        &self,
        model: &str,
        request: &GenerateContentRequest,
    ) -> Result<GenerateContentResponse, Error> {
        self.generate_content_with(model, request, &RequestOptions::new())
            .await
    }

    /// [`generate_content`](Self::generate_content) with per-call options.
    pub async fn generate_content_with(
        &self,
        model: &str,
        request: &GenerateContentRequest,
        options: &RequestOptions,
    ) -> Result<GenerateContentResponse, Error> {
        let model = model_id(model)?;
        self.preflight(model, request, options)?;
        let call = Call::new(
            Method::POST,
            self.transport.endpoints.generate_content(model),
            Endpoint::GenerateContent,
        )
        .with_model(model)
        .with_json(encode(request)?);
        // Decoded while it arrives: the images' base64 text is never held whole.
        let answer = self
            .execute_as::<nanobanana_wire::ResponseDecoder>(&call, options)
            .await?;
        let (result, body) = answer.body;
        result.map_err(|e| {
            self.transport
                .decode_error::<GenerateContentResponse>(&body, &e, &call)
        })
    }

    /// Generates content as a stream of partial answers:
    /// `POST /{version}/models/{model}:streamGenerateContent?alt=sse`.
    ///
    /// Events are parsed and decoded as they arrive (LF, CRLF or CR line ends; an event of tens
    /// of MB, such as a 4K image, has its image decoded during the transfer and is never held
    /// whole). The stream ends after the last event; it fails, and
    /// then ends, on an `{"error": ...}` event ([`ErrorKind::Api`](crate::ErrorKind::Api),
    /// [`ApiError::is_mid_stream`](crate::ApiError::is_mid_stream)), on an answer cut off inside
    /// an event ([`ErrorKind::Truncated`](crate::ErrorKind::Truncated)), on a 2xx answer that is
    /// not an event stream or holds no event ([`ErrorKind::Protocol`](crate::ErrorKind::Protocol)),
    /// and on a refused request (the only item). Retries happen only before the first event: an error answer,
    /// a failed connection, or an error event that comes first.
    ///
    /// The stream owns what it needs (`'static`), so it can be moved to another task, and it
    /// is `Unpin`, so `StreamExt::next` works on it as it is.
    pub fn stream_generate_content(
        &self,
        model: &str,
        request: &GenerateContentRequest,
    ) -> impl Stream<Item = Result<GenerateContentResponse, Error>> + Send + Unpin + use<> {
        self.stream_generate_content_with(model, request, &RequestOptions::new())
    }

    /// [`stream_generate_content`](Self::stream_generate_content) with per-call options.
    pub fn stream_generate_content_with(
        &self,
        model: &str,
        request: &GenerateContentRequest,
        options: &RequestOptions,
    ) -> impl Stream<Item = Result<GenerateContentResponse, Error>> + Send + Unpin + use<> {
        let prepared = model_id(model).and_then(|model| {
            self.preflight(model, request, options)?;
            let call = Call::new(
                Method::POST,
                self.transport.endpoints.stream_generate_content(model),
                Endpoint::StreamGenerateContent,
            )
            .with_model(model)
            .with_json(encode(request)?)
            .with_extra_headers(&options.headers)?;
            Ok(call)
        });
        generate_stream(
            self.transport.clone(),
            prepared,
            self.retry_policy(options).clone(),
            self.timeout(options),
        )
    }

    /// The Batch API: create, get, list, cancel, delete.
    pub fn batches(&self) -> Batches<'_> {
        Batches::new(self)
    }

    /// The Files API: upload, get, download, list, delete.
    pub fn files(&self) -> Files<'_> {
        Files::new(self)
    }

    /// The Models API: list, get.
    pub fn models(&self) -> Models<'_> {
        Models::new(self)
    }

    /// The Interactions API: create, get, delete, cancel, wait, stream and resume
    /// (`docs/service/INTERACTIONS.md`).
    pub fn interactions(&self) -> crate::Interactions<'_> {
        crate::Interactions::new(self)
    }

    pub(crate) async fn execute(
        &self,
        call: &Call,
        options: &RequestOptions,
    ) -> Result<crate::http::Answer, Error> {
        self.execute_as::<crate::http::Whole>(call, options).await
    }

    /// [`execute`](Self::execute), the body received by `R` as it arrives.
    pub(crate) async fn execute_as<R: crate::http::Receive>(
        &self,
        call: &Call,
        options: &RequestOptions,
    ) -> Result<crate::http::Answer<R::Output>, Error> {
        let with_headers;
        let call = if options.headers.is_empty() {
            call
        } else {
            with_headers = call.clone().with_extra_headers(&options.headers)?;
            &with_headers
        };
        self.transport
            .execute::<R>(call, self.retry_policy(options), self.timeout(options))
            .await
    }

    pub(crate) fn retry_policy<'a>(&'a self, options: &'a RequestOptions) -> &'a RetryPolicy {
        options
            .retry
            .as_ref()
            .unwrap_or(&self.transport.config.retry)
    }

    pub(crate) fn timeout(&self, options: &RequestOptions) -> Option<Duration> {
        match options.timeout {
            TimeoutChoice::Inherit => self.transport.config.timeout,
            TimeoutChoice::Set(timeout) => Some(timeout),
            TimeoutChoice::Unlimited => None,
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.transport.config)
            .finish_non_exhaustive()
    }
}

/// Options of one call, overriding the client's configuration.
///
/// ```
/// use std::time::Duration;
/// use nanobanana_transport::{RequestOptions, RetryPolicy};
///
/// // A model the catalogue does not know yet, tried once, given ten minutes.
/// let options = RequestOptions::new()
///     .skip_validation()
///     .with_retry_policy(RetryPolicy::none())
///     .with_timeout(Duration::from_secs(600));
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct RequestOptions {
    skip_validation: bool,
    timeout: TimeoutChoice,
    retry: Option<RetryPolicy>,
    headers: Vec<(String, String)>,
}

impl fmt::Debug for RequestOptions {
    /// Header names only: a caller's header may carry a credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("skip_validation", &self.skip_validation)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[derive(Clone, Copy, Debug, Default)]
enum TimeoutChoice {
    #[default]
    Inherit,
    Set(Duration),
    Unlimited,
}

impl RequestOptions {
    /// The client's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends the request without validating it first: for models whose rules the catalogue does
    /// not know, or to see what the service itself answers.
    pub fn skip_validation(mut self) -> Self {
        self.skip_validation = true;
        self
    }

    /// Sets this call's per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = TimeoutChoice::Set(timeout);
        self
    }

    /// Lets this call run without a timeout.
    pub fn without_timeout(mut self) -> Self {
        self.timeout = TimeoutChoice::Unlimited;
        self
    }

    /// Sets this call's retry policy.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Adds a header to this call (every attempt): for proxies or gateways that want one, or to
    /// steer a fake server, e.g. `x-nanobanana-fault: status=503; times=1` (see
    /// `nanobanana-mock`). Checked when the call is made: a name or value that is not valid
    /// HTTP, or a header the client sets itself (`x-goog-api-key`, `user-agent`, `content-type`,
    /// `content-length`, `transfer-encoding`, `host`, `connection`), is a configuration error.
    /// Values never appear in `Debug` output.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Whether validation is skipped.
    pub fn validation_skipped(&self) -> bool {
        self.skip_validation
    }
}

impl Client {
    /// Validates one request against this client's validation options (see [`preflight`]).
    fn preflight(
        &self,
        model: &str,
        request: &GenerateContentRequest,
        options: &RequestOptions,
    ) -> Result<(), Error> {
        preflight(
            model,
            request,
            options,
            &self.transport.config.validation,
            None,
        )
    }
}

/// Validates `request` for `model` unless the options say not to; logs warnings.
pub(crate) fn preflight(
    model: &str,
    request: &GenerateContentRequest,
    options: &RequestOptions,
    validation: &nanobanana_rules::Options,
    request_index: Option<usize>,
) -> Result<(), Error> {
    if options.skip_validation {
        return Ok(());
    }
    let report = nanobanana_rules::validate_request_with(model, request, validation);
    for warning in report.warnings() {
        tracing::debug!(
            model,
            rule = warning.rule().id(),
            request_index,
            "{}",
            warning.message()
        );
    }
    if report.is_valid() {
        Ok(())
    } else {
        Err(Error::validation(report, request_index))
    }
}

/// Encodes a body as JSON.
pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Result<Bytes, Error> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| Error::config(format!("the request cannot be encoded as JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use nanobanana_rules::Rule;
    use nanobanana_wire::{Content, GenerationConfig, ImageConfig, Part};

    /// A port nothing listens on: any byte sent would fail with a connection error, so a
    /// refusal proves nothing was sent.
    fn client() -> Client {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Client::new(
            ClientConfig::new("AIzaCanaryKey-0000000000")
                .with_base_url(format!("http://127.0.0.1:{port}"))
                .with_retry_policy(RetryPolicy::none()),
        )
        .unwrap()
    }

    fn lowercase_1k() -> GenerateContentRequest {
        GenerateContentRequest::new()
            .with_contents([Content::user([Part::from_text("A banana")])])
            .with_generation_config(
                GenerationConfig::new().with_image_config(ImageConfig::new().with_image_size("1k")),
            )
    }

    #[tokio::test]
    async fn refuses_invalid_requests_before_sending() {
        let error = client()
            .generate_content("models/gemini-3-pro-image", &lowercase_1k())
            .await
            .unwrap_err();
        let report = error.validation_report().expect("a refusal");
        let first = report.first_error().unwrap();
        assert_eq!(first.rule(), Rule::ImageSizeCasing);
        assert_eq!(first.path(), "/generationConfig/imageConfig/imageSize");
        assert_eq!(
            error.to_string(),
            format!(
                "request refused before sending: [image-size-casing] {}",
                first.message()
            )
        );
        assert!(error.to_string().contains("Unsupported image size \"1k\""));
        assert!(!error.is_retryable());
        assert_eq!(error.status(), None);
    }

    #[tokio::test]
    async fn streams_refuse_as_their_only_item() {
        let mut stream = client().stream_generate_content("gemini-3-pro-image", &lowercase_1k());
        let first = stream.next().await.unwrap().unwrap_err();
        assert!(matches!(first.kind(), crate::ErrorKind::Validation { .. }));
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn skipping_validation_sends_the_request() {
        let options = RequestOptions::new().skip_validation();
        assert!(options.validation_skipped());
        let error = client()
            .generate_content_with("gemini-3-pro-image", &lowercase_1k(), &options)
            .await
            .unwrap_err();
        assert!(
            matches!(error.kind(), crate::ErrorKind::Connect),
            "it went to the network: {error:?}"
        );
        assert!(error.is_retryable());
        let text = format!("{error} {error:?}");
        assert!(!text.contains("AIzaCanaryKey"), "{text}");
        assert!(
            text.contains("POST /v1beta/models/gemini-3-pro-image:generateContent"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn bad_model_ids_are_refused() {
        let error = client()
            .generate_content("models/../files", &GenerateContentRequest::new())
            .await
            .unwrap_err();
        assert!(matches!(error.kind(), crate::ErrorKind::Config));
    }

    #[test]
    fn options_override_the_configuration() {
        let client = client();
        let defaults = RequestOptions::new();
        assert_eq!(client.timeout(&defaults), Some(Duration::from_secs(300)));
        assert_eq!(client.retry_policy(&defaults), &RetryPolicy::none());
        let options = RequestOptions::new()
            .with_timeout(Duration::from_secs(5))
            .with_retry_policy(RetryPolicy::default());
        assert_eq!(client.timeout(&options), Some(Duration::from_secs(5)));
        assert_eq!(client.retry_policy(&options), &RetryPolicy::default());
        assert_eq!(
            client.timeout(&RequestOptions::new().without_timeout()),
            None
        );
    }

    #[test]
    fn the_public_types_cross_threads() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Client>();
        check::<ClientConfig>();
        check::<Error>();
        check::<RequestOptions>();
        check::<crate::sse::SseParser>();
    }

    #[test]
    fn debug_never_shows_the_key() {
        let text = format!("{:?} {:#?}", client(), client());
        assert!(!text.contains("AIzaCanaryKey"), "{text}");
        assert!(text.contains("ApiKey(***)"));
    }
}
