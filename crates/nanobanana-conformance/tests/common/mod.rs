//! Shared by the integration tests: the repository's suite, loaded once.

#![allow(dead_code, unreachable_pub)]

use std::sync::OnceLock;

use nanobanana_conformance::Suite;

/// The key the fake servers of these tests require.
pub const KEY: &str = "conformance-test-key";

/// The repository's suite (`fixtures/`).
pub fn suite() -> &'static Suite {
    static SUITE: OnceLock<Suite> = OnceLock::new();
    SUITE
        .get_or_init(|| Suite::load(Suite::repository_dir()).expect("the repository's suite loads"))
}

/// How many cases target servers.
pub fn server_cases() -> usize {
    suite()
        .cases()
        .iter()
        .filter(|c| c.targets().server)
        .count()
}

/// A scratch directory of this test process, removed first if it exists.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "nanobanana-conformance-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
