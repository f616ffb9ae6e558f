//! A request as the handlers see it, read from hyper: the body whole (within the limit), the
//! query percent-decoded.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;

/// A request as the handlers see it: everything read, the body whole.
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

impl Request {
    /// A header's value, if it is text. `name` is a `&str`, or a `&HeaderName` made once for a
    /// name known in advance (no parsing of the name per request).
    pub(crate) fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request body was not read whole.
pub(crate) enum BodyError {
    /// Over the limit: the declared length, or `None` when it was not declared.
    TooLarge(Option<u64>),
    /// The body ended early (the client went away, or its chunked framing broke).
    Incomplete,
}

/// Reads a body whole, stopping as soon as it exceeds `limit` bytes.
pub(crate) async fn read_limited(mut body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    let mut buffer = BytesMut::new();
    let mut first: Option<Bytes> = None;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(BodyError::Incomplete);
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let total = first.as_ref().map_or(0, Bytes::len) + buffer.len() + data.len();
        if total > limit {
            return Err(BodyError::TooLarge(None));
        }
        match &first {
            // Most bodies arrive in one frame: keep it without copying.
            None if buffer.is_empty() => first = Some(data),
            _ => {
                if let Some(head) = first.take() {
                    buffer.extend_from_slice(&head);
                }
                buffer.extend_from_slice(&data);
            }
        }
    }
    Ok(match first {
        Some(head) if buffer.is_empty() => head,
        _ => buffer.freeze(),
    })
}

pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
