//! The workflows against the fake server (`nanobanana-mock`), one server per test on
//! 127.0.0.1:0. One test binary for the whole crate: each binary links the whole stack.

mod batch;
mod chat;
mod composition;
mod grounding;
mod images;
mod interactions;
mod outcomes;

use nanobanana_mock::{Endpoint, MockGemini, ReceivedRequest};
use nanobanana_transport::{Client, ClientConfig, RetryPolicy};

/// A fake server of today's service (simulate mode: no fixtures) and a client for it, retries
/// off so that every fault shows.
async fn setup() -> (MockGemini, Client) {
    setup_with(MockGemini::builder()).await
}

async fn setup_with(builder: nanobanana_mock::MockGeminiBuilder) -> (MockGemini, Client) {
    // Whole bodies in the journal (the default keeps up to 1 MiB), so tests can read them.
    let server = builder.journal_body_limit(64 << 20).start().await;
    let client = Client::new(
        ClientConfig::new("test-key-0123456789")
            .with_base_url(server.uri())
            .with_retry_policy(RetryPolicy::none()),
    )
    .unwrap();
    (server, client)
}

/// The generateContent requests the server received, in order.
fn generate_requests(server: &MockGemini) -> Vec<ReceivedRequest> {
    server
        .received_requests()
        .into_iter()
        .filter(|r| {
            matches!(
                r.endpoint(),
                Some(Endpoint::GenerateContent | Endpoint::StreamGenerateContent)
            )
        })
        .collect()
}

/// A real image made by the fake server (a 512x512 JPEG, as the 3.x models answer today), to
/// use as an input image.
async fn sample_png(client: &Client) -> Vec<u8> {
    use nanobanana_workflows::ClientExt;
    let generation = client
        .images()
        .generate("A sample image for tests")
        .model("gemini-3.1-flash-image")
        .image_size("512")
        .image_only()
        .send()
        .await
        .unwrap();
    generation.image().unwrap().bytes().to_vec()
}

/// A scratch directory of this test, emptied first.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nb-workflows-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
