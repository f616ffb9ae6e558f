//! Helpers shared by the integration tests: a reqwest client that talks to one server over real
//! TCP, JSON requests, server-sent events split on blank lines, base64 and the fixture corpus.

#![allow(dead_code, unreachable_pub)]

pub mod interactions;

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use bytes::Bytes;
use serde_json::{Value, json};

use nanobanana_mock::MockGemini;
use nanobanana_wire::GenerateContentResponse;
use nanobanana_wire::corpus::Corpus;

pub const FLASH31: &str = "gemini-3.1-flash-image-preview";
pub const PRO: &str = "gemini-3-pro-image-preview";
pub const FLASH25: &str = "gemini-2.5-flash-image";
/// The key the tests send (servers without `.api_key` accept any key).
pub const KEY: &str = "test";

/// A client without proxies (the environment's proxy settings must not reach loopback) and
/// without retries, so every fault is seen as it was injected.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .retry(reqwest::retry::never())
        .build()
        .expect("reqwest client")
}

/// An answer read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {}", self.text_head()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first 600 characters of the body, for failure messages.
    pub fn text_head(&self) -> String {
        self.text().chars().take(600).collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The events of an SSE body (every event must be complete).
    pub fn events(&self) -> Vec<Value> {
        let (events, rest) = sse_split(&self.body);
        assert!(
            rest.is_empty(),
            "the stream ends inside an event: {:?}",
            String::from_utf8_lossy(&rest)
                .chars()
                .take(200)
                .collect::<String>()
        );
        events
    }

    /// `error.message` of a Google-style error body.
    pub fn error_message(&self) -> String {
        let body = self.json();
        body["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.message in {body}"))
            .to_owned()
    }

    /// Asserts a Google-style error: status, `error.code`, `error.status` and `error.message`.
    #[track_caller]
    pub fn assert_error(&self, code: u16, status: &str, message: &str) {
        assert_eq!(self.status, code, "status of {}", self.text_head());
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "error content-type {:?}",
            self.header("content-type")
        );
        let body = self.json();
        assert_eq!(body["error"]["code"], json!(code), "{body}");
        assert_eq!(body["error"]["status"], json!(status), "{body}");
        assert_eq!(body["error"]["message"], json!(message), "{body}");
    }

    /// The response decoded into the wire types.
    pub fn typed(&self) -> GenerateContentResponse {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not a GenerateContentResponse ({e}): {}", self.text_head()))
    }
}

/// Sends a request and reads the whole answer; panics on a transport error.
pub async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the request failed");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("reading the body failed");
    Answer {
        status,
        headers,
        body,
    }
}

/// `{uri}{path}` where `path` may carry a query.
pub fn url(server: &MockGemini, path: &str) -> String {
    format!("{}{path}", server.uri())
}

pub fn generate_path(model: &str) -> String {
    format!("/v1beta/models/{model}:generateContent")
}

pub fn stream_path(model: &str) -> String {
    format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
}

/// POSTs JSON with the test key.
pub async fn post_json(server: &MockGemini, path: &str, body: &Value) -> Answer {
    post_json_with(server, path, body, &[]).await
}

/// POSTs JSON with the test key and extra headers.
pub async fn post_json_with(
    server: &MockGemini,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = client()
        .post(url(server, path))
        .header("x-goog-api-key", KEY)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).expect("serialise"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

/// POSTs raw bytes with the test key and extra headers.
pub async fn post_bytes(
    server: &MockGemini,
    path: &str,
    body: impl Into<reqwest::Body>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = client()
        .post(url(server, path))
        .header("x-goog-api-key", KEY)
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

pub async fn get(server: &MockGemini, path: &str) -> Answer {
    send(
        client()
            .get(url(server, path))
            .header("x-goog-api-key", KEY),
    )
    .await
}

pub async fn delete(server: &MockGemini, path: &str) -> Answer {
    send(
        client()
            .delete(url(server, path))
            .header("x-goog-api-key", KEY),
    )
    .await
}

/// `generateContent` for a model.
pub async fn generate(server: &MockGemini, model: &str, body: &Value) -> Answer {
    post_json(server, &generate_path(model), body).await
}

/// `streamGenerateContent?alt=sse` for a model.
pub async fn stream(server: &MockGemini, model: &str, body: &Value) -> Answer {
    post_json(server, &stream_path(model), body).await
}

/// A one-turn request.
pub fn prompt(text: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": text}]}]})
}

/// A one-turn request with an image config (either part optional) and response modalities.
pub fn image_request(
    text: &str,
    modalities: &[&str],
    ratio: Option<&str>,
    size: Option<&str>,
) -> Value {
    let mut body = prompt(text);
    let mut config = json!({"responseModalities": modalities});
    let mut image_config = json!({});
    if let Some(ratio) = ratio {
        image_config["aspectRatio"] = json!(ratio);
    }
    if let Some(size) = size {
        image_config["imageSize"] = json!(size);
    }
    if ratio.is_some() || size.is_some() {
        config["imageConfig"] = image_config;
    }
    body["generationConfig"] = config;
    body
}

/// Splits an SSE body into the JSON of its complete events and what follows the last blank
/// line. Events end with a blank line (`\n\n` or `\r\n\r\n`); each must be exactly one
/// `data: <json>` line.
pub fn sse_split(body: &[u8]) -> (Vec<Value>, Vec<u8>) {
    let mut events = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < body.len() {
        let end = if body[i..].starts_with(b"\r\n\r\n") {
            Some(4)
        } else if body[i..].starts_with(b"\n\n") {
            Some(2)
        } else {
            None
        };
        match end {
            Some(len) => {
                let event = &body[start..i];
                let text = std::str::from_utf8(event).expect("an event is UTF-8");
                assert!(
                    !text.contains('\n') && !text.contains('\r'),
                    "an event is one line: {:?}",
                    text.chars().take(200).collect::<String>()
                );
                let data = text
                    .strip_prefix("data: ")
                    .unwrap_or_else(|| panic!("an event is a data: line: {text:.200}"));
                events.push(
                    serde_json::from_str(data)
                        .unwrap_or_else(|e| panic!("event JSON ({e}): {data:.200}")),
                );
                i += len;
                start = i;
            }
            None => i += 1,
        }
    }
    (events, body[start..].to_vec())
}

/// Decodes standard or URL-safe base64, padded or not.
pub fn b64(text: &str) -> Vec<u8> {
    nanobanana_wire::Base64Bytes::from_base64(text)
        .unwrap_or_else(|e| panic!("not base64 ({e}): {text:.80}"))
        .into_vec()
}

pub fn b64_standard(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// URL-safe, padded: python-genai's re-encoding.
pub fn b64_url_safe(bytes: &[u8]) -> String {
    URL_SAFE.encode(bytes)
}

/// The parts of the first candidate (empty if none).
pub fn parts(response: &Value) -> Vec<Value> {
    response["candidates"][0]["content"]["parts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The parts of the first candidate across the events of a stream.
pub fn stream_parts(events: &[Value]) -> Vec<Value> {
    events.iter().flat_map(parts).collect()
}

/// An image of an answer.
#[derive(Clone, Debug)]
pub struct Image {
    pub thought: bool,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// The images among parts, in order.
pub fn images(parts: &[Value]) -> Vec<Image> {
    parts
        .iter()
        .filter_map(|p| {
            let data = p.pointer("/inlineData/data")?.as_str()?;
            Some(Image {
                thought: p["thought"] == json!(true),
                mime_type: p
                    .pointer("/inlineData/mimeType")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                bytes: b64(data),
            })
        })
        .collect()
}

/// The final (non-thought) images of an answer.
pub fn final_images(response: &Value) -> Vec<Image> {
    images(&parts(response))
        .into_iter()
        .filter(|i| !i.thought)
        .collect()
}

/// The repository's fixture corpus, loaded once per test binary.
pub fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| Corpus::load(Corpus::repository_dir()).expect("the fixture corpus loads"))
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// The resolution-table entry of (model, aspect ratio, image size).
pub fn table_entry(
    model: &str,
    ratio: &str,
    size: Option<&str>,
) -> &'static nanobanana_rules::resolution::TableEntry {
    nanobanana_rules::resolution::table()
        .entries()
        .iter()
        .find(|e| {
            e.model() == model
                && e.aspect_ratio().as_str() == ratio
                && e.image_size().map(|s| s.as_str()) == size
        })
        .unwrap_or_else(|| panic!("no table entry for {model} {ratio} {size:?}"))
}
