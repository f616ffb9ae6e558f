//! Hostile input (issue 20): each finding of the fuzzing, overflow and slow-client run has a
//! regression test here, named after what it guards. Servers bind 127.0.0.1:0, one per test;
//! waits are bounded and nothing asserts on timing.

mod common;

use std::time::Duration;

use common::*;
use nanobanana_mock::{FAULT_HEADER, MockGemini};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Generous bound on waits that end as soon as the awaited thing happens.
const BOUND: Duration = Duration::from_secs(20);

fn unknown_name(name: &str, at: &str) -> String {
    format!("Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field.")
}

#[tokio::test]
async fn mis_cased_field_names_are_unknown_fields_not_internal_errors() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let mut body = prompt("A banana");
    body["generationConfig"] = json!({"image_Config": {"imageSize": "1k"}});
    let answer = generate(&server, FLASH31, &body).await;
    answer.assert_error(
        400,
        "INVALID_ARGUMENT",
        &unknown_name("image_Config", "generation_config"),
    );
    // The exact snake_case spelling is still the field.
    body["generationConfig"] = json!({"image_config": {"image_size": "1K"}});
    assert_eq!(generate(&server, FLASH31, &body).await.status, 200);
}

#[tokio::test]
async fn all_digit_field_names_are_unknown_fields() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let mut body = prompt("A banana");
    body["generationConfig"] = json!({"0": 1});
    generate(&server, FLASH31, &body).await.assert_error(
        400,
        "INVALID_ARGUMENT",
        &unknown_name("0", "generation_config"),
    );
}

#[tokio::test]
async fn names_with_slash_and_tilde_are_quoted_as_sent() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let mut body = prompt("A banana");
    body["/"] = json!({});
    let answer = generate(&server, FLASH31, &body).await;
    assert_eq!(
        answer.error_message(),
        "Invalid JSON payload received. Unknown name \"/\": Cannot find field."
    );
}

#[tokio::test]
async fn unknown_image_model_with_a_bad_size_or_ratio_is_a_404_not_a_500() {
    // An id the catalogue does not know is answered with the service's 404, whatever the body
    // (it used to be simulated with another model's rules and could end in a 500).
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    for config in [
        json!({"imageConfig": {"imageSize": "1k"}}),
        json!({"imageConfig": {"aspectRatio": "7:3"}}),
        json!({"imageConfig": {"imageSize": "8K"}}),
    ] {
        let mut body = prompt("A banana");
        body["generationConfig"] = config.clone();
        let answer = generate(&server, "gemini-9-image-preview", &body).await;
        assert_eq!(answer.status, 404, "{config}: {}", answer.text_head());
        let message = answer.error_message();
        assert!(
            message.starts_with("models/gemini-9-image-preview is not found"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn text_only_model_with_an_image_config_is_never_a_500() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    for config in [
        json!({"imageConfig": {"imageSize": "1k"}}),
        json!({"imageConfig": {"aspectRatio": "4:1", "imageSize": "9K"}}),
    ] {
        let mut body = prompt("A banana");
        body["generationConfig"] = config.clone();
        let answer = generate(&server, "gemini-2.5-flash", &body).await;
        assert!(answer.status < 500, "{config}: {}", answer.text_head());
    }
}

#[tokio::test]
async fn page_token_at_usize_max_is_an_empty_page_not_a_panic() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let token = b64_standard(b"offset:18446744073709551615");
    for path in ["/v1beta/files", "/v1beta/batches"] {
        let answer = get(&server, &format!("{path}?pageSize=1000&pageToken={token}")).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text_head());
        assert!(answer.json().get("nextPageToken").is_none());
    }
    assert_eq!(get(&server, "/v1beta/files").await.status, 200);
}

async fn start_upload(server: &MockGemini, declared: Option<&str>) -> Answer {
    let mut headers = vec![
        ("x-goog-upload-protocol", "resumable"),
        ("x-goog-upload-command", "start"),
        ("x-goog-upload-header-content-type", "image/png"),
    ];
    if let Some(length) = declared {
        headers.push(("x-goog-upload-header-content-length", length));
    }
    post_bytes(server, "/upload/v1beta/files", Vec::new(), &headers).await
}

async fn send_chunk(url: &str, offset: usize, bytes: usize) -> Answer {
    send(
        client()
            .post(url)
            .header("x-goog-upload-command", "upload")
            .header("x-goog-upload-offset", offset.to_string())
            .body(vec![7u8; bytes]),
    )
    .await
}

#[tokio::test]
async fn upload_declaring_u64_max_bytes_is_refused_with_429() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let answer = start_upload(&server, Some("18446744073709551615")).await;
    assert_eq!(answer.status, 429, "{}", answer.text_head());
    assert!(answer.error_message().contains("quota"));
}

#[tokio::test]
async fn resumable_upload_is_refused_at_the_chunk_that_passes_the_quota() {
    let server = MockGemini::builder()
        .state_limits(10, 1000, 10)
        .start()
        .await;
    let start = start_upload(&server, None).await;
    assert_eq!(start.status, 200, "{}", start.text_head());
    let url = start
        .header("x-goog-upload-url")
        .expect("upload url")
        .to_owned();
    assert_eq!(send_chunk(&url, 0, 400).await.status, 200);
    assert_eq!(send_chunk(&url, 400, 400).await.status, 200);
    let over = send_chunk(&url, 800, 400).await;
    assert_eq!(over.status, 429, "{}", over.text_head());
    assert_eq!(over.header("x-goog-upload-status"), Some("final"));
    // The refused upload is gone, so its bytes no longer count: a new one fits.
    let again = start_upload(&server, Some("900")).await;
    assert_eq!(again.status, 200, "{}", again.text_head());
}

#[tokio::test]
async fn upload_chunk_past_the_declared_length_is_refused() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let start = start_upload(&server, Some("100")).await;
    let url = start
        .header("x-goog-upload-url")
        .expect("upload url")
        .to_owned();
    let over = send_chunk(&url, 0, 101).await;
    assert_eq!(over.status, 400, "{}", over.text_head());
    assert!(over.error_message().contains("declared"));
}

#[tokio::test]
async fn fault_header_that_is_not_text_is_a_400() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    for header in [
        FAULT_HEADER,
        "x-nanobanana-mode",
        "x-nanobanana-image-format",
    ] {
        let value = reqwest::header::HeaderValue::from_bytes(b"status=5\xff03").expect("obs-text");
        let answer = send(
            client()
                .post(url(&server, &generate_path(FLASH31)))
                .header("x-goog-api-key", KEY)
                .header(header, value)
                .body(serde_json::to_vec(&prompt("A banana")).expect("json")),
        )
        .await;
        assert_eq!(answer.status, 400, "{header}: {}", answer.text_head());
        assert!(answer.error_message().contains(header), "{header}");
    }
}

#[tokio::test]
async fn journal_bodies_are_bounded_by_total_bytes_with_a_mark_on_dropped_ones() {
    let server = MockGemini::builder()
        .journal_byte_limit(1 << 20)
        .start()
        .await;
    let body = vec![b'x'; 200 << 10];
    for _ in 0..20 {
        let answer = post_bytes(&server, "/v1beta/nothing-here", body.clone(), &[]).await;
        assert_eq!(answer.status, 404);
    }
    let journal = server.received_requests();
    assert_eq!(journal.len(), 20);
    let kept: usize = journal
        .iter()
        .filter_map(|r| r.body())
        .map(<[u8]>::len)
        .sum();
    assert!(kept <= 1 << 20, "{kept} bytes kept");
    assert!(journal[0].body_dropped() && journal[0].body().is_none());
    assert_eq!(journal[0].body_len(), 200 << 10);
    assert!(
        journal[0].to_string().contains("body dropped"),
        "{}",
        journal[0]
    );
    assert!(journal[19].body().is_some() && !journal[19].body_dropped());
}

/// Reads until the server closes the connection (or the bound passes); true when it closed.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 1024];
    let read_all = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(BOUND, read_all).await.is_ok()
}

#[tokio::test]
async fn slow_request_headers_are_cut_off_by_the_header_read_timeout() {
    let server = MockGemini::builder()
        .header_read_timeout(Duration::from_millis(200))
        .start()
        .await;
    let mut stream = TcpStream::connect(server.address()).await.expect("connect");
    stream
        .write_all(b"GET /v1beta/models HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    assert!(closed_by_server(&mut stream).await, "still open");
    still_answers(&server).await;
}

#[tokio::test]
async fn idle_connection_is_closed_by_the_header_read_timeout() {
    let server = MockGemini::builder()
        .header_read_timeout(Duration::from_millis(200))
        .start()
        .await;
    let mut stream = TcpStream::connect(server.address()).await.expect("connect");
    assert!(closed_by_server(&mut stream).await, "still open");
}

async fn still_answers(server: &MockGemini) {
    let answer = tokio::time::timeout(BOUND, get(server, "/v1beta/models"))
        .await
        .expect("a normal request is served");
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let server = MockGemini::builder()
        .max_connections(4)
        .header_read_timeout(Duration::from_secs(600))
        .start()
        .await;
    // Four slow clients take every slot (each sent part of its headers, then stalls).
    let mut slow = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(server.address()).await.expect("connect");
        stream
            .write_all(b"GET /v1beta/models HTTP/1.1\r\n")
            .await
            .expect("write");
        slow.push(stream);
    }
    // A fifth connection is taken by the kernel's backlog but not served while they stay.
    let mut waiting = tokio::spawn({
        let uri = server.uri();
        async move {
            send(
                client()
                    .get(format!("{uri}/v1beta/models"))
                    .header("x-goog-api-key", KEY),
            )
            .await
        }
    });
    // Not a race: while the four hold their slots, the server cannot have accepted it.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut waiting)
            .await
            .is_err(),
        "a connection over the cap was served"
    );
    // One slow client goes away: the waiting request is served.
    drop(slow.pop());
    let answer = tokio::time::timeout(BOUND, waiting)
        .await
        .expect("served once a slot is free")
        .expect("join");
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn slow_clients_over_the_cap_time_out_and_normal_requests_go_on() {
    let server = MockGemini::builder()
        .max_connections(8)
        .header_read_timeout(Duration::from_millis(300))
        .start()
        .await;
    // Twice as many slow clients as slots: each trickles a partial request line and stalls.
    let mut slow = Vec::new();
    for _ in 0..16 {
        let mut stream = TcpStream::connect(server.address()).await.expect("connect");
        let _ = stream.write_all(b"POST /v1beta/files HTTP/1.1\r\nho").await;
        slow.push(stream);
    }
    // They are cut off by the timeout, so a normal request gets through in bounded time.
    still_answers(&server).await;
    for stream in &mut slow {
        assert!(
            closed_by_server(stream).await,
            "a slow client stayed connected"
        );
    }
}
