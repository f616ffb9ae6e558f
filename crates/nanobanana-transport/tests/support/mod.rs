//! A scripted HTTP/1.1 responder on 127.0.0.1 (one per test): each connection gets the next
//! canned answer, and every request is recorded. Not the fake server (`nanobanana-mock`): it only
//! lets the client's own request paths be checked.

#![allow(dead_code)] // Each test binary uses a different part.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nanobanana_transport::wire::{
    Content, GenerateContentRequest, GenerationConfig, ImageConfig, Part,
};
use nanobanana_transport::{Client, ClientConfig, Error, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(crate) const CANARY: &str = "AIzaSyCANARY-loopback-0123456789";

/// One recorded request.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to do with one connection.
pub(crate) enum Reply {
    /// Write these pieces (flushing after each), then close.
    Pieces(Vec<Vec<u8>>),
    /// Read the request and never answer.
    Hang,
}

pub(crate) struct Stub {
    pub(crate) base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    pub(crate) async fn start(replies: Vec<Reply>) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            for reply in replies {
                let (mut socket, _) = listener.accept().await.unwrap();
                let request = read_request(&mut socket).await;
                record.lock().unwrap().push(request);
                match reply {
                    Reply::Pieces(pieces) => {
                        for piece in pieces {
                            if socket.write_all(&piece).await.is_err() {
                                break;
                            }
                            let _ = socket.flush().await;
                        }
                        let _ = socket.shutdown().await;
                    }
                    Reply::Hang => {
                        // Keep the socket open until the test ends.
                        tokio::spawn(async move {
                            let mut sink = [0u8; 1];
                            let _ = socket.read(&mut sink).await;
                        });
                    }
                }
            }
        });
        Stub { base_url, seen }
    }

    pub(crate) fn client(&self, retry: RetryPolicy) -> Client {
        Client::new(
            ClientConfig::new(CANARY)
                .with_validation(
                    nanobanana_rules::Options::at(
                        nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                    )
                    .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
                )
                .with_base_url(&self.base_url)
                .with_retry_policy(retry)
                .with_timeout(Duration::from_secs(10)),
        )
        .unwrap()
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn read_request(socket: &mut TcpStream) -> Seen {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed inside a request head");
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(data[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let mut start = lines.next().unwrap().split(' ');
    let method = start.next().unwrap().to_owned();
    let target = start.next().unwrap().to_owned();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed inside a request body");
        body.extend_from_slice(&buf[..n]);
    }
    Seen {
        method,
        target,
        headers,
        body,
    }
}

/// A whole answer with a body and a Content-Length.
pub(crate) fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    Reply::Pieces(vec![head.into_bytes(), body.as_bytes().to_vec()])
}

pub(crate) fn json(status: u16, body: &str) -> Reply {
    answer(status, &[("content-type", "application/json")], body)
}

/// An event stream, its body delimited by closing the connection, written in `pieces`.
pub(crate) fn sse(pieces: &[&str]) -> Reply {
    let mut all = vec![
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n".to_vec(),
    ];
    all.extend(pieces.iter().map(|p| p.as_bytes().to_vec()));
    Reply::Pieces(all)
}

pub(crate) fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(20))
}

pub(crate) fn request() -> GenerateContentRequest {
    GenerateContentRequest::new()
        .with_contents([Content::user([Part::from_text("A nano banana dish")])])
        .with_generation_config(
            GenerationConfig::new().with_image_config(
                ImageConfig::new()
                    .with_aspect_ratio("16:9")
                    .with_image_size("2K"),
            ),
        )
}

pub(crate) const IMAGE_ANSWER: &str = r#"{"candidates": [{"content": {"role": "model", "parts": [
    {"text": "Here it is", "thoughtSignature": "c2ln"},
    {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}]},
    "finishReason": "STOP"}], "modelVersion": "gemini-3-pro-image-preview"}"#;

/// The key shows nowhere in an error, whatever its kind.
pub(crate) fn assert_no_key(error: &Error) {
    let text = format!("{error} | {error:?} | {error:#?}");
    assert!(!text.contains(CANARY), "the key leaked: {text}");
}
