//! Tracing: every attempt is a `gemini.request` span with its model, attempt, status and
//! latency, and no span or event holds the key. Its own test binary: `tracing` caches which
//! callsites are enabled process-wide, so a thread-scoped subscriber is reliable only when no
//! other test runs beside it.

mod support;

use support::{CANARY, IMAGE_ANSWER, Stub, json, quick_retries, request};

/// A minimal `tracing` subscriber that writes every span, record and event as a line.
mod recorder {
    use std::fmt::{self, Write};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    #[derive(Clone, Default)]
    pub(crate) struct Recorder {
        pub(crate) lines: Arc<Mutex<Vec<String>>>,
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
            let mut line = Line(format!("event {}", event.metadata().level()));
            event.record(&mut line);
            self.push(line);
        }

        fn enter(&self, _: &Id) {}

        fn exit(&self, _: &Id) {}
    }
}

#[tokio::test]
async fn every_attempt_is_a_span_and_none_holds_the_key() {
    let recorder = recorder::Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let stub = Stub::start(vec![
        json(503, &format!(r#"{{"error": {{"code": 503, "message": "overloaded {CANARY}", "status": "UNAVAILABLE"}}}}"#)),
        json(200, IMAGE_ANSWER),
    ])
    .await;
    stub.client(quick_retries())
        .generate_content("gemini-3-pro-image-preview", &request())
        .await
        .unwrap();
    let lines = recorder.lines.lock().unwrap().clone();
    let text = lines.join("\n");
    assert!(!text.contains(CANARY), "{text}");
    for expected in [
        "span#1 gemini.request rpc=\"generateContent\" model=\"gemini-3-pro-image-preview\" method=POST attempt=1",
        "record#1 status=503",
        "span#2 gemini.request rpc=\"generateContent\" model=\"gemini-3-pro-image-preview\" method=POST attempt=2",
        "record#2 status=200",
        "record#2 latency_ms=",
        "event WARN message=gemini request failed; retrying delay_ms=",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}
