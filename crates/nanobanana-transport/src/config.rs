//! What a [`Client`](crate::Client) is made from: the API key, where the service is, timeouts,
//! the user agent and the retry policy.

use std::fmt;
use std::time::Duration;

use crate::error::Error;
use crate::retry::RetryPolicy;

/// The public endpoint of the Gemini API.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The default timeout of one attempt (see [`ClientConfig::with_timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The default timeout for establishing a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default size of an upload chunk, as the official SDKs use (8 MiB); files up to this size
/// are uploaded in one request.
pub const DEFAULT_UPLOAD_CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// An API key. It never prints: `Debug` shows `ApiKey(***)` and there is no `Display`. It
/// travels only in the `x-goog-api-key` header (marked sensitive), never in a URL.
///
/// An empty key sends no header at all (the service then answers 403 `PERMISSION_DENIED`), which
/// is what a test of that answer wants.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for the rare caller that must hand it on. Handle with care.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the key is empty (no header is sent).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        Self(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        Self(key.to_owned())
    }
}

/// The API version, the first segment of every path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiVersion {
    /// `v1beta`: where image generation, batches and files are documented.
    #[default]
    V1Beta,
    /// `v1`: what recent official SDKs call.
    V1,
}

impl ApiVersion {
    /// `v1beta` or `v1`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1Beta => "v1beta",
            ApiVersion::V1 => "v1",
        }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to reach the service. Build it with [`ClientConfig::new`] (or [`ClientConfig::from_env`])
/// and the `with_*` methods; there is deliberately no `Default`, which would have to invent or
/// silently read a key.
///
/// ```
/// use std::time::Duration;
/// use nanobanana_transport::{ApiVersion, ClientConfig, RetryPolicy};
///
/// let config = ClientConfig::new("my-key")
///     .with_base_url("http://127.0.0.1:8080")
///     .with_api_version(ApiVersion::V1)
///     .with_timeout(Duration::from_secs(60))
///     .with_retry_policy(RetryPolicy::none());
/// assert_eq!(config.base_url(), "http://127.0.0.1:8080");
/// assert!(!format!("{config:?}").contains("my-key"));
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    pub(crate) api_key: ApiKey,
    pub(crate) base_url: String,
    pub(crate) api_version: ApiVersion,
    pub(crate) timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) user_agent: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) upload_chunk_size: usize,
    pub(crate) http_client: Option<reqwest::Client>,
    pub(crate) validation: nanobanana_rules::Options,
}

impl ClientConfig {
    /// A configuration for the public endpoint with `api_key` and the defaults: `v1beta`, a
    /// 300 s timeout per attempt, a 10 s connect timeout, [`RetryPolicy::default`], 8 MiB
    /// upload chunks.
    pub fn new(api_key: impl Into<ApiKey>) -> Self {
        Self {
            api_key: api_key.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_version: ApiVersion::default(),
            timeout: Some(DEFAULT_TIMEOUT),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            user_agent: concat!("nanobanana-transport/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            upload_chunk_size: DEFAULT_UPLOAD_CHUNK_SIZE,
            http_client: None,
            validation: client_validation(),
        }
    }

    /// How requests are checked before they are sent (see `nanobanana_rules::Options`). The
    /// default is the service of today ([`Date::today`](nanobanana_rules::Date::today) when the
    /// configuration is made): shut-down model ids are refused naming their replacement,
    /// deprecated ones warn, and field names the rules do not know are sent with a warning
    /// (the service adds fields before any client learns them). For a strict client that
    /// refuses unknown fields too:
    ///
    /// ```
    /// use nanobanana_transport::ClientConfig;
    /// use nanobanana_transport::rules::{Options, UnknownFields};
    ///
    /// let strict = ClientConfig::new("key")
    ///     .with_validation(Options::default().with_unknown_fields(UnknownFields::Reject));
    /// assert_eq!(strict.validation().unknown_fields(), UnknownFields::Reject);
    /// ```
    pub fn with_validation(mut self, options: nanobanana_rules::Options) -> Self {
        self.validation = options;
        self
    }

    /// How requests are checked before they are sent.
    pub fn validation(&self) -> &nanobanana_rules::Options {
        &self.validation
    }

    /// A configuration from the environment, as the official SDKs read it: the key from
    /// `GEMINI_API_KEY`, else `GOOGLE_API_KEY`; the base URL from `GOOGLE_GEMINI_BASE_URL` if
    /// set. Empty variables count as unset. Fails when there is no key.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the environment given as a function.
    pub(crate) fn from_env_with(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let key = get("GEMINI_API_KEY")
            .or_else(|| get("GOOGLE_API_KEY"))
            .ok_or_else(|| Error::config("no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY)"))?;
        let mut config = Self::new(ApiKey::new(key.trim()));
        if let Some(base_url) = get("GOOGLE_GEMINI_BASE_URL") {
            config = config.with_base_url(base_url.trim());
        }
        Ok(config)
    }

    /// Sets where the service is, e.g. a fake server's `http://127.0.0.1:PORT`. A path prefix
    /// is kept (`https://proxy.example/gemini` serves `/gemini/v1beta/...`); a trailing `/` is
    /// not needed. Checked by [`Client::new`](crate::Client::new): http or https, no query.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sets the API version (default `v1beta`).
    pub fn with_api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self
    }

    /// Sets the timeout of one attempt: from sending the request to the last byte of the
    /// answer. For a stream it bounds the wait for the answer's head and then every wait for the
    /// next chunk, not the stream as a whole. Each retry has its own.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Removes the per-attempt timeout (tests on a paused clock want this: a paused clock jumps
    /// to the next timer while a real socket is waited on).
    pub fn without_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// Sets the timeout for establishing a connection (ignored with a custom reqwest client,
    /// which has its own; see the `reqwest-client` feature).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Removes the connect timeout.
    pub fn without_connect_timeout(mut self) -> Self {
        self.connect_timeout = None;
        self
    }

    /// Sets the `User-Agent` header (default `nanobanana-transport/VERSION`).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the retry policy of every call (a call can override it with
    /// [`RequestOptions::with_retry_policy`](crate::RequestOptions::with_retry_policy)).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the chunk size of resumable uploads; files up to this size go in one request
    /// (default 8 MiB). The real service wants a multiple of 256 KiB; a fake server may take
    /// less, which lets tests exercise several chunks cheaply. At least 1.
    pub fn with_upload_chunk_size(mut self, bytes: usize) -> Self {
        self.upload_chunk_size = bytes.max(1);
        self
    }

    /// Uses a `reqwest` client of your own (proxies, certificates, pools) instead of the one
    /// built from this configuration. Needs the `reqwest-client` feature: it is the only place
    /// `reqwest` shows in this crate's API, and it ties you to reqwest 0.13 (a later reqwest
    /// would be a breaking change of that feature only). The client's own TLS, connect timeout,
    /// proxies and redirect policy apply (keep redirects off: the key header is custom, so
    /// reqwest would carry it across hosts); the user agent, key and per-attempt timeout of
    /// this configuration still do.
    #[cfg(feature = "reqwest-client")]
    pub fn with_reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The API key.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The base URL, as given.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The API version.
    pub fn api_version(&self) -> ApiVersion {
        self.api_version
    }

    /// The per-attempt timeout, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The connect timeout, if any.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// The `User-Agent` header.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The upload chunk size.
    pub fn upload_chunk_size(&self) -> usize {
        self.upload_chunk_size
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("upload_chunk_size", &self.upload_chunk_size)
            .field("custom_http_client", &self.http_client.is_some())
            .finish()
    }
}

/// The client's default validation: the service of today, unknown fields warned about and sent.
pub(crate) fn client_validation() -> nanobanana_rules::Options {
    nanobanana_rules::Options::for_client()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from_map(vars: &[(&str, &str)]) -> Result<ClientConfig, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ClientConfig::from_env_with(|name| map.get(name).cloned())
    }

    #[test]
    fn reads_the_key_and_base_url_from_the_environment() {
        let config =
            from_map(&[("GEMINI_API_KEY", "gemini"), ("GOOGLE_API_KEY", "google")]).unwrap();
        assert_eq!(config.api_key().expose_secret(), "gemini");
        assert_eq!(config.base_url(), DEFAULT_BASE_URL);

        let config = from_map(&[
            ("GEMINI_API_KEY", " "),
            ("GOOGLE_API_KEY", "google\n"),
            ("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9999/"),
        ])
        .unwrap();
        assert_eq!(config.api_key().expose_secret(), "google");
        assert_eq!(config.base_url(), "http://127.0.0.1:9999/");

        let error = from_map(&[("GOOGLE_GEMINI_BASE_URL", "http://x")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid configuration: no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY)"
        );
    }

    #[test]
    fn defaults() {
        let config = ClientConfig::new("k");
        assert_eq!(config.api_version(), ApiVersion::V1Beta);
        assert_eq!(config.timeout(), Some(DEFAULT_TIMEOUT));
        assert_eq!(config.connect_timeout(), Some(DEFAULT_CONNECT_TIMEOUT));
        assert!(config.user_agent().starts_with("nanobanana-transport/"));
        assert_eq!(config.retry_policy(), &RetryPolicy::default());
        assert_eq!(config.upload_chunk_size(), 8 * 1024 * 1024);
        let config = config.without_timeout().without_connect_timeout();
        assert_eq!((config.timeout(), config.connect_timeout()), (None, None));
        assert_eq!(ApiVersion::V1.to_string(), "v1");
    }

    #[test]
    fn the_key_never_prints() {
        let canary = "AIzaSyCANARY-do-not-print-0123456789";
        let config = ClientConfig::new(canary).with_user_agent("ua");
        for text in [
            format!("{config:?}"),
            format!("{config:#?}"),
            format!("{:?}", config.api_key()),
        ] {
            assert!(!text.contains(canary), "{text}");
            assert!(text.contains("ApiKey(***)"), "{text}");
        }
    }
}
