//! The server's own HTTP client, for the two things that make it send requests: record on miss
//! forwards requests to an upstream ([`record`](crate::record)), and webhooks are POSTed to
//! their receivers ([`webhooks`](crate::webhooks)). hyper's client (hyper-util's
//! `client-legacy`), HTTP/1.1 over plain TCP: never the workspace's transport crate, so the fake
//! server and the client under test share no HTTP code.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// An answer read whole.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

/// A pooled HTTP/1.1 client with a time limit per request and a limit on answer bodies.
#[derive(Clone)]
pub(crate) struct Outbound {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    body_limit: usize,
}

impl Outbound {
    pub(crate) fn new(timeout: Duration, body_limit: usize) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Self {
            client,
            timeout,
            body_limit,
        }
    }

    /// Sends one request and reads its answer whole (within the time and size limits); the
    /// error says what failed, naming the URL.
    pub(crate) async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Bytes,
    ) -> Result<Answer, String> {
        let mut builder = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| format!("cannot build the request to {url}: {e}"))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("{method} {url} failed: {}", error_chain(&e)))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, self.body_limit)
                .collect()
                .await
                .map_err(|e| format!("reading the answer of {method} {url} failed: {e}"))?
                .to_bytes();
            Ok(Answer {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "{method} {url} got no complete answer within {} ms",
                self.timeout.as_millis()
            )),
        }
    }
}

/// An error and its sources, joined (hyper's errors say little at the top level).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The host of an `http://` or `https://` URL (without port or brackets), lower-cased, and its
/// scheme; `None` for anything else.
pub(crate) fn scheme_and_host(url: &str) -> Option<(&str, String)> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    if host.is_empty() {
        return None;
    }
    Some((scheme, host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            scheme_and_host("http://127.0.0.1:8080/hook"),
            Some(("http", "127.0.0.1".to_owned()))
        );
        assert_eq!(
            scheme_and_host("https://user@LocalHost/x"),
            Some(("https", "localhost".to_owned()))
        );
        assert_eq!(
            scheme_and_host("http://[::1]:9/"),
            Some(("http", "::1".to_owned()))
        );
        assert_eq!(scheme_and_host("ftp://127.0.0.1/"), None);
        assert_eq!(scheme_and_host("http:///x"), None);
    }
}
