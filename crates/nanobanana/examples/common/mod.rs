//! What every example shares: a client for the real service when `GEMINI_API_KEY` is set, else
//! for the fake server started in-process; and a directory for the files they write.

#![allow(dead_code)] // Each example uses part of this.

use std::path::PathBuf;

use nanobanana::{Client, ClientConfig};
use nanobanana_mock::MockGemini;

/// A client, and the fake server it talks to (if it does).
pub(crate) struct Session {
    pub(crate) client: Client,
    pub(crate) server: Option<MockGemini>,
}

impl Session {
    /// Whether the client talks to the fake server.
    pub(crate) fn is_fake(&self) -> bool {
        self.server.is_some()
    }
}

/// The real service with `GEMINI_API_KEY` (or `GOOGLE_API_KEY`), else a fake server on
/// 127.0.0.1 started here.
pub(crate) async fn connect() -> Result<Session, Box<dyn std::error::Error>> {
    // `from_env` fails only when no key is set (empty counts as unset).
    if let Ok(config) = ClientConfig::from_env() {
        println!("using the Gemini API (a key is set)");
        return Ok(Session {
            client: Client::new(config)?,
            server: None,
        });
    }
    let server = MockGemini::builder().batch_polls(2).start().await;
    println!(
        "using the fake server at {} (set GEMINI_API_KEY to use the real service)",
        server.uri()
    );
    let client = Client::new(ClientConfig::new("fake-key").with_base_url(server.uri()))?;
    Ok(Session {
        client,
        server: Some(server),
    })
}

/// `$TMPDIR/nanobanana-examples/<name>`, created.
pub(crate) fn out_dir(name: &str) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join("nanobanana-examples").join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
