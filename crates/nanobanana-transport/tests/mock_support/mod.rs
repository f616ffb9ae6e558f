//! Helpers shared by the tests that drive the client against the fake server
//! (`nanobanana-mock`): one server per test on 127.0.0.1:0, clients pointed at it, requests, the
//! server's journal in a comparable form, image decoding and a `tracing` recorder.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part.

use std::time::Duration;

use nanobanana_mock::{MockGemini, Mode};
use nanobanana_transport::wire::{
    Content, GenerateContentRequest, GenerateContentResponse, GenerationConfig, ImageConfig,
    Modality, Part,
};
use nanobanana_transport::{Client, ClientConfig, Error, RetryPolicy};

pub const FLASH31: &str = "gemini-3.1-flash-image-preview";
pub const PRO: &str = "gemini-3-pro-image-preview";
pub const FLASH25: &str = "gemini-2.5-flash-image";

/// The key every client of these tests sends: unique, so that a leak is unmistakable.
pub const CANARY: &str = "AIzaSyCANARY-mock-tests-7f3a9c1e5b";

/// A server that simulates every answer (no fixtures).
pub async fn simulator() -> MockGemini {
    MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Simulate)
        .start()
        .await
}

/// Retries as the default policy has them (3 attempts), with waits of at most 20 ms, so tests
/// on a real clock stay fast.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(20))
}

/// The configuration of a test client: the canary key, the server's URI, quick retries and a
/// 30 s timeout (a test that wants a timeout sets a short one).
pub fn config(server: &MockGemini) -> ClientConfig {
    ClientConfig::new(CANARY)
        .with_validation(
            nanobanana_rules::Options::at(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
                .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
        )
        .with_base_url(server.uri())
        .with_timeout(Duration::from_secs(30))
        .with_retry_policy(quick_retries())
}

pub fn client(server: &MockGemini) -> Client {
    Client::new(config(server)).expect("a client")
}

pub fn client_with(config: ClientConfig) -> Client {
    Client::new(config).expect("a client")
}

/// A client for tests on a paused clock: no timeouts at all (a paused clock jumps to the next
/// timer whenever the runtime waits on a socket, which would fire a timeout at once) and the
/// default retry policy unless the test sets another.
pub fn paused_clock_client(server: &MockGemini, policy: RetryPolicy) -> Client {
    client_with(
        ClientConfig::new(CANARY)
            .with_validation(
                nanobanana_rules::Options::at(
                    nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                )
                .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
            )
            .with_base_url(server.uri())
            .without_timeout()
            .without_connect_timeout()
            .with_retry_policy(policy),
    )
}

/// A text-and-image request with an image configuration.
pub fn image_request(
    prompt: &str,
    aspect_ratio: Option<&str>,
    image_size: Option<&str>,
) -> GenerateContentRequest {
    let mut image = ImageConfig::new();
    if let Some(ratio) = aspect_ratio {
        image = image.with_aspect_ratio(ratio);
    }
    if let Some(size) = image_size {
        image = image.with_image_size(size);
    }
    GenerateContentRequest::new()
        .with_contents([Content::user([Part::from_text(prompt)])])
        .with_generation_config(
            GenerationConfig::new()
                .with_response_modalities([Modality::Text, Modality::Image])
                .with_image_config(image),
        )
}

/// A plain request: one user prompt, the model's defaults.
pub fn prompt(text: &str) -> GenerateContentRequest {
    GenerateContentRequest::new().with_contents([Content::user([Part::from_text(text)])])
}

/// The server's journal as `METHOD /path -> status` lines (status 0: the connection was reset
/// before any answer), for comparing the attempts made with the ones expected.
pub fn journal(server: &MockGemini) -> Vec<String> {
    server
        .received_requests()
        .iter()
        .map(|r| format!("{} {} -> {}", r.method(), r.path(), r.status()))
        .collect()
}

/// `n` copies of a journal line.
pub fn lines(line: &str, n: usize) -> Vec<String> {
    vec![line.to_owned(); n]
}

pub fn generate_path(model: &str) -> String {
    format!("/v1beta/models/{model}:generateContent")
}

pub fn stream_path(model: &str) -> String {
    format!("/v1beta/models/{model}:streamGenerateContent")
}

/// The bytes of the non-thought images of an answer, in order.
pub fn final_images(response: &GenerateContentResponse) -> Vec<Vec<u8>> {
    response
        .candidates
        .iter()
        .filter_map(|c| c.content.as_ref())
        .flat_map(|c| &c.parts)
        .filter(|p| !p.is_thought())
        .filter_map(|p| p.inline_data.as_ref()?.data.as_ref())
        .map(|data| data.as_slice().to_vec())
        .collect()
}

/// Decodes a whole PNG (every row, palette indices as they are) and returns its size.
pub fn png_dimensions(bytes: &[u8]) -> (u32, u32) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a buffer size")];
    let info = reader.next_frame(&mut buffer).expect("a whole PNG frame");
    (info.width, info.height)
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every text of an error (Display, Debug, pretty Debug), for leak checks.
pub fn all_texts(error: &Error) -> String {
    format!("{error}\n{error:?}\n{error:#?}")
}

/// Asserts the canary shows in no text of `error`.
#[track_caller]
pub fn assert_no_canary(error: &Error) {
    let text = all_texts(error);
    assert!(!text.contains(CANARY), "the key leaked: {text}");
    assert!(
        !text.contains(&CANARY[8..]),
        "part of the key leaked: {text}"
    );
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A minimal `tracing` subscriber that writes every span, field record and event as a line.
pub mod recorder {
    use std::fmt::{self, Write};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    #[derive(Clone, Default)]
    pub struct Recorder {
        lines: Arc<Mutex<Vec<String>>>,
        next_id: Arc<AtomicU64>,
    }

    struct Line(String);

    impl Visit for Line {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            let _ = write!(self.0, " {}={:?}", field.name(), value);
        }
    }

    impl Recorder {
        fn push(&self, line: Line) {
            self.lines.lock().unwrap().push(line.0);
        }

        /// Everything recorded so far, one line each.
        pub fn text(&self) -> String {
            self.lines.lock().unwrap().join("\n")
        }
    }

    impl Subscriber for Recorder {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }

        fn new_span(&self, span: &Attributes<'_>) -> Id {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
            let mut line = Line(format!("span#{id} {}", span.metadata().name()));
            span.record(&mut line);
            self.push(line);
            Id::from_u64(id)
        }

        fn record(&self, span: &Id, values: &Record<'_>) {
            let mut line = Line(format!("record#{}", span.into_u64()));
            values.record(&mut line);
            self.push(line);
        }

        fn record_follows_from(&self, _: &Id, _: &Id) {}

        fn event(&self, event: &Event<'_>) {
            let mut line = Line(format!(
                "event {} {}",
                event.metadata().level(),
                event.metadata().target()
            ));
            event.record(&mut line);
            self.push(line);
        }

        fn enter(&self, _: &Id) {}

        fn exit(&self, _: &Id) {}
    }
}
