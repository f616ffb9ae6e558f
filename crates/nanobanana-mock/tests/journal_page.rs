//! The journal page (`/__admin/journal.html`) in a real headless browser: Debian's `chromium`
//! loads the page of a server that answered a generated image, an edit with an input image (its
//! prompt carrying `<script>`) and a 429 fault; the test reads the DOM after the page's script
//! ran (rows, statuses, every thumbnail loaded, the prompt shown as text) and checks the
//! screenshot. Skipped, saying so, only when `chromium` is not installed (CI installs it).
//! `JOURNAL_PAGE_SCREENSHOT=path` keeps a copy of the screenshot (docs/images/journal-page.png
//! is one).

// The skip message goes to stderr, where `cargo test` shows it.
#![allow(clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use nanobanana_mock::{FAULT_HEADER, MockGemini};
use serde_json::json;

const HOSTILE: &str = "<script>document.title='owned'</script> make the banana <b>blue</b>";

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Runs headless Chromium on `url` with `mode` (`--dump-dom` or `--screenshot=FILE`), a fresh
/// profile, no network beyond the page; returns stdout.
fn run_chromium(chromium: &Path, profile: &Path, mode: &str, url: &str) -> String {
    let output = Command::new("timeout")
        .arg("120")
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--window-size=1280,900")
        .arg(mode)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium {mode} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The request of the first image.
fn first_request() -> serde_json::Value {
    image_request(
        "A nano banana on a plate",
        &["TEXT", "IMAGE"],
        Some("1:1"),
        None,
    )
}

/// A generated image, an edit sending it back with a hostile prompt, a 429.
async fn make_requests(server: &MockGemini) {
    let first = generate(server, FLASH31, &first_request()).await;
    assert_eq!(first.status, 200, "{}", first.text_head());
    let image = final_images(&first.json()).remove(0);
    let edit = json!({
        "contents": [{"role": "user", "parts": [
            {"text": HOSTILE},
            {"inlineData": {"mimeType": image.mime_type, "data": b64_standard(&image.bytes)}}
        ]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"aspectRatio": "1:1"}}
    });
    let edited = generate(server, FLASH31, &edit).await;
    assert_eq!(edited.status, 200, "{}", edited.text_head());
    let limited = post_json_with(
        server,
        &generate_path(FLASH31),
        &prompt("one more banana"),
        &[(FAULT_HEADER, "status=429; retry-delay=7s")],
    )
    .await;
    assert_eq!(limited.status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_page_renders_rows_thumbnails_and_escaped_prompts_in_chromium() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "SKIPPED the_journal_page_renders_rows_thumbnails_and_escaped_prompts_in_chromium: chromium is not installed (/usr/bin/chromium); `apt-get install -y chromium` runs this test (CI does)"
        );
        return;
    };
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    make_requests(&server).await;
    let url = format!("{}/__admin/journal.html", server.uri());
    let dir = std::env::temp_dir().join(format!("nanobanana-journal-page-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let shot = dir.join("journal-page.png");
    let (dom, _) = {
        let (chromium, dir, shot, url) = (chromium.clone(), dir.clone(), shot.clone(), url.clone());
        tokio::task::spawn_blocking(move || {
            let dom = run_chromium(&chromium, &dir.join("profile-dom"), "--dump-dom", &url);
            let screenshot = format!("--screenshot={}", shot.display());
            run_chromium(&chromium, &dir.join("profile-shot"), &screenshot, &url);
            (dom, ())
        })
        .await
        .expect("the chromium task")
    };

    // Three rows, newest first, with their statuses.
    let rows: Vec<&str> = dom
        .match_indices("data-row=\"")
        .map(|(i, _)| &dom[i..i + 30])
        .collect();
    assert_eq!(rows.len(), 3, "{dom}");
    for status in ["data-status=\"429\"", "data-status=\"200\""] {
        assert!(dom.contains(status), "{status} missing: {dom}");
    }
    assert!(
        dom.find("data-row=\"2\"") < dom.find("data-row=\"0\""),
        "newest first"
    );
    // Thumbnails: the first answer's image, the edit's input and its answer's image, loaded.
    let thumbs = dom.matches("class=\"thumb\"").count();
    assert_eq!(thumbs, 3, "{dom}");
    assert_eq!(dom.matches("data-loaded=\"1\"").count(), 3, "{dom}");
    assert!(dom.contains("data-images-loaded=\"3\"") && dom.contains("data-images-failed=\"0\""));
    assert!(
        !dom.contains("data:image"),
        "images are served by URL, never inlined"
    );
    // The hostile prompt is text: escaped in the DOM, its script never ran.
    assert!(
        dom.contains("&lt;script&gt;document.title='owned'&lt;/script&gt;"),
        "{dom}"
    );
    assert!(dom.contains("&lt;b&gt;blue&lt;/b&gt;"));
    assert!(
        dom.contains("<title>nanobanana-mock journal</title>"),
        "the title was not changed"
    );
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the page's own script"
    );
    // The fault and the decoded answer a click away.
    assert!(dom.contains("status=429; retry-delay=7000ms"), "{dom}");
    assert_eq!(dom.matches("<td>injected</td>").count(), 1, "{dom}");
    assert_eq!(dom.matches("<td>simulated</td>").count(), 2, "{dom}");
    assert!(dom.contains("RESOURCE_EXHAUSTED") && dom.contains("<summary>answer</summary>"));

    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        png.len() > 20_000,
        "a near-empty screenshot: {} bytes",
        png.len()
    );
    // The browser asked for nothing else (no /favicon.ico): the journal still holds three.
    assert_eq!(server.received_requests().len(), 3);
    if let Ok(keep) = std::env::var("JOURNAL_PAGE_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("copying the screenshot");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_image_routes_serve_decoded_bytes_and_say_what_is_missing() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    make_requests(&server).await;
    let image = get(&server, "/__admin/journal/1/request-image/0").await;
    assert_eq!(image.status, 200);
    let sent = final_images(&generate(&server, FLASH31, &first_request()).await.json()).remove(0);
    assert_eq!(
        image.body.as_ref(),
        sent.bytes.as_slice(),
        "the bytes sent, decoded"
    );
    let missing = get(&server, "/__admin/journal/1/request-image/5").await;
    assert_eq!(missing.status, 404);
    assert!(missing.error_message().contains("has no request image 5"));
    let gone = get(&server, "/__admin/journal/99/answer-image/0").await;
    assert!(gone.error_message().contains("no journal entry 99"));
    let page = get(&server, "/__admin/journal.html").await;
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.header("content-security-policy")
            .is_some_and(|c| c.contains("script-src 'nonce-"))
    );
    assert!(page.text().contains("&lt;script&gt;document.title"));
}

#[tokio::test]
async fn with_an_admin_token_the_page_takes_it_as_access_token_and_passes_it_on() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .admin_token("s3cret/+")
        .start()
        .await;
    make_requests(&server).await;
    assert_eq!(get(&server, "/__admin/journal.html").await.status, 401);
    let page = get(&server, "/__admin/journal.html?access_token=s3cret%2F%2B").await;
    assert_eq!(page.status, 200, "{}", page.text_head());
    let link = "/__admin/journal/1/request-image/0?access_token=s3cret%2F%2B";
    assert!(page.text().contains(link), "{}", page.text());
    assert_eq!(get(&server, link).await.status, 200);
    let wrong = get(
        &server,
        "/__admin/journal/1/request-image/0?access_token=nope",
    )
    .await;
    assert_eq!(wrong.status, 401);
    // Only the page and its images: the rest of the admin API wants the header.
    let json = get(&server, "/__admin/journal?access_token=s3cret%2F%2B").await;
    assert_eq!(json.status, 401);
}
