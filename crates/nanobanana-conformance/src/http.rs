//! Sending a prepared request exactly as the case holds it (invalid bodies, snake_case keys,
//! URL-safe base64, no key, the key in the query) and reading the answer whole.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::exchange::Outgoing;
use crate::observe::Answer;
use crate::suite::Auth;

/// The public endpoint of the Gemini API.
pub const PUBLIC_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// A key sent where a case wants one the server does not accept.
pub(crate) const INVALID_KEY: &str = "nanobanana-conformance-invalid-key";

/// The key sent when none is given (a fake server without a required key accepts any).
pub const PLACEHOLDER_KEY: &str = "nanobanana-conformance";

/// Where requests go and with which key.
#[derive(Clone)]
pub struct Target {
    base_url: String,
    api_key: String,
    timeout: Duration,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("base_url", &self.base_url)
            .field("api_key", &"***")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Target {
    /// Requests go to `base_url` (scheme, host, port and an optional path prefix) with `api_key`.
    pub fn new(base_url: &str, api_key: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            timeout: Duration::from_secs(300),
        }
    }

    /// The timeout of one request (default 300 s: a 4K image takes a while on the live service).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Removes the key from a text (error messages, reports).
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.api_key.len() >= 8 {
            text.replace(&self.api_key, "***")
        } else {
            text.to_owned()
        }
    }
}

/// An HTTP client for one run.
#[derive(Clone, Debug)]
pub(crate) struct Sender {
    client: reqwest::Client,
    target: Target,
}

impl Sender {
    pub(crate) fn new(target: Target) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(target.timeout)
            .connect_timeout(Duration::from_secs(30))
            .retry(reqwest::retry::never());
        if is_loopback(&target.base_url) {
            // Proxy settings of the environment must not send loopback traffic elsewhere.
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self { client, target })
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// Sends a request; returns the answer and what was wrong with it on the wire.
    pub(crate) async fn send(&self, request: &Outgoing) -> Result<(Answer, Vec<String>), String> {
        let mut query = request.query.clone();
        let key = match request.auth {
            Auth::Header | Auth::Query => Some(self.target.api_key.as_str()),
            Auth::Invalid => Some(INVALID_KEY),
            Auth::None => None,
        };
        if request.auth == Auth::Query
            && let Some(key) = key
        {
            query.push(("key".to_owned(), key.to_owned()));
        }
        let mut url = format!("{}{}", self.target.base_url, request.path);
        if !query.is_empty() {
            let pairs: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", encode_query(k), encode_query(v)))
                .collect();
            url = format!("{url}?{}", pairs.join("&"));
        }
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| format!("{:?} is not an HTTP method", request.method))?;
        let mut builder = self.client.request(method, &url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if matches!(request.auth, Auth::Header | Auth::Invalid)
            && let Some(key) = key
        {
            let mut value = reqwest::header::HeaderValue::from_str(key)
                .map_err(|_| "the API key is not a valid header value".to_owned())?;
            value.set_sensitive(true);
            builder = builder.header("x-goog-api-key", value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let what = format!("{} {}", request.method, request.path);
        let response = builder
            .send()
            .await
            .map_err(|e| self.target.scrub(&format!("{what}: {}", error_chain(&e))))?;
        let status = response.status().as_u16();
        let mut headers = BTreeMap::new();
        for (name, value) in response.headers() {
            if let Ok(value) = value.to_str() {
                headers.insert(name.as_str().to_owned(), value.to_owned());
            }
        }
        let body = response.bytes().await.map_err(|e| {
            self.target
                .scrub(&format!("{what}: reading the answer: {}", error_chain(&e)))
        })?;
        Ok(Answer::from_http(status, headers, &body))
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    text
}

fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    host == "localhost" || host.starts_with("127.") || host == "[::1]"
}

fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://127.0.0.1:4000"));
        assert!(is_loopback("http://localhost/prefix"));
        assert!(is_loopback("http://[::1]:8080"));
        assert!(!is_loopback(PUBLIC_BASE_URL));
    }

    #[test]
    fn the_key_never_prints() {
        let target = Target::new("http://127.0.0.1:1/", "AIzaSecretSecret");
        assert_eq!(target.base_url(), "http://127.0.0.1:1");
        assert!(!format!("{target:?}").contains("AIza"));
        assert_eq!(target.scrub("key AIzaSecretSecret here"), "key *** here");
    }
}
