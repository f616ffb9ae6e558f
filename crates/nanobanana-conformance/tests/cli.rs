//! The `nanobanana-conformance` binary: `serve` prints `listening on http://HOST:PORT` and replays
//! the vectors; `server` prints a line per case and the summary, and its exit code says whether
//! a required case failed; bad arguments are refused with what is allowed.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use common::KEY;
use nanobanana_mock::{Fault, MockGemini};

const BIN: &str = env!("CARGO_BIN_EXE_nanobanana-conformance");

/// The child process, killed (by its own handle) when the test ends, whatever happens.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve() -> (Served, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--quiet", "--api-key", KEY])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (Served(child), url)
}

#[test]
fn serve_then_server_passes_an_area_and_exits_0() {
    let (_served, url) = serve();
    let output = Command::new(BIN)
        .args([
            "server",
            "--base-url",
            &url,
            "--api-key",
            KEY,
            "--case",
            "grounding/",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("pass   grounding/weather-web-search-docs"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("3 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
    assert!(!stdout.contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_exits_1_when_a_required_case_fails() {
    let broken = MockGemini::builder()
        .as_of(nanobanana_transport::rules::Date::new(2026, 3, 1).expect("a date"))
        .api_key(KEY)
        .fault(Fault::status(503))
        .start()
        .await;
    let uri = broken.uri();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args([
                "server",
                "--base-url",
                &uri,
                "--api-key",
                KEY,
                "--case",
                "edit/",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL   edit/cat-photo-png"), "{stdout}");
    assert!(stdout.contains("status 503, expected 200"), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("0 passed, 3 failed, 0 skipped"),
        "{stdout}"
    );
}

#[test]
fn bad_arguments_are_refused_with_what_is_allowed() {
    let run = |args: &[&str]| {
        let output = Command::new(BIN).args(args).output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["serve-all"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("allowed are server, serve, client, record"),
        "{err}"
    );
    let (code, err) = run(&["server"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("server needs --base-url URL"), "{err}");
    let (code, err) = run(&["server", "--base-url", "127.0.0.1:80"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is not an http:// or https:// URL"), "{err}");
    let (code, err) = run(&["record", "--api-key", "k"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("record needs --case ID"), "{err}");
    let (code, err) = run(&["client", "--case", "nope/"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no case \"nope/\""), "{err}");
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(
        String::from_utf8_lossy(&help.stdout)
            .contains("nanobanana-conformance server --base-url URL")
    );
}
