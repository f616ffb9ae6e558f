//! Nothing a client sends crashes the server: garbage and non-UTF-8 bodies, JSON of the wrong
//! types, huge and non-UTF-8 header values, broken HTTP, concurrent requests. After each, a
//! normal request still works. State stays bounded.

mod common;

use common::*;
use nanobanana_mock::{FAULT_HEADER, MockGemini};
use reqwest::header::HeaderValue;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A normal request still gets a normal answer.
async fn still_serves(server: &MockGemini) {
    let answer = generate(server, FLASH25, &prompt("A banana, still")).await;
    assert_eq!(answer.status, 200, "{}", answer.text_head());
    assert_eq!(final_images(&answer.json()).len(), 1);
}

/// Deterministic pseudo-random bytes (xorshift), many of them not UTF-8.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.max(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Asserts a client error with a Google-style JSON error body.
#[track_caller]
fn assert_client_error(answer: &Answer, what: &str) {
    assert!(
        (400..500).contains(&answer.status),
        "{what}: {} {}",
        answer.status,
        answer.text_head()
    );
    let body = answer.json();
    assert_eq!(
        body["error"]["code"],
        json!(answer.status),
        "{what}: {body}"
    );
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
}

#[tokio::test]
async fn garbage_and_non_utf8_bodies_are_client_errors() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let paths = [
        generate_path(FLASH31),
        stream_path(PRO),
        format!("/v1/models/{FLASH31}:streamGenerateContent"),
        format!("/v1beta/models/{FLASH31}:batchGenerateContent"),
    ];
    for seed in 1..=4u64 {
        let body = garbage(seed, 64 + seed as usize * 300);
        assert!(std::str::from_utf8(&body).is_err(), "not UTF-8");
        for path in &paths {
            let answer = post_bytes(&server, path, body.clone(), &[]).await;
            assert_client_error(&answer, path);
        }
    }
    // A resumable upload start with a garbage body and no MIME type anywhere.
    let start = post_bytes(
        &server,
        "/upload/v1beta/files",
        garbage(9, 100),
        &[
            ("x-goog-upload-protocol", "resumable"),
            ("x-goog-upload-command", "start"),
        ],
    )
    .await;
    assert_client_error(&start, "upload start");
    // Unknown upload protocol and unknown sessions.
    let protocol = post_bytes(
        &server,
        "/upload/v1beta/files",
        "x",
        &[("x-goog-upload-protocol", "carrier-pigeon")],
    )
    .await;
    assert_client_error(&protocol, "protocol");
    let session = post_bytes(
        &server,
        "/upload/v1beta/files?upload_id=nope",
        "x",
        &[("x-goog-upload-command", "upload, finalize")],
    )
    .await;
    assert_eq!(session.status, 404);
    still_serves(&server).await;
}

#[tokio::test]
async fn json_of_the_wrong_types_is_a_client_error() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies = [
        json!({"contents": "x"}).to_string(),
        json!({"contents": [1, 2]}).to_string(),
        json!({"contents": [{"parts": "x"}]}).to_string(),
        json!({"contents": [{"role": 7, "parts": [{"text": "x"}]}]}).to_string(),
        json!({"contents": [{"parts": [{"text": 5}]}]}).to_string(),
        json!({"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": 7}}]}]})
            .to_string(),
        json!({"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "!!not base64!!"}}]}]})
            .to_string(),
        json!({"contents": [{"parts": [{"text": "x"}]}], "generationConfig": []}).to_string(),
        json!({"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"imageConfig": {"aspectRatio": 16}}})
            .to_string(),
        json!({"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"responseModalities": "IMAGE"}})
            .to_string(),
        json!({"contents": [{"parts": [{"text": "x"}]}], "tools": "google"}).to_string(),
        json!({"contents": [{"parts": [{"text": "x"}]}], "tools": [{"googleSearch": 1}]}).to_string(),
        json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}, {"role": "model", "parts": [{"text": "y", "thoughtSignature": 5}]}, {"role": "user", "parts": [{"text": "z"}]}]})
            .to_string(),
        json!([]).to_string(),
        "null".to_owned(),
        "\"a string\"".to_owned(),
        "1e400".to_owned(),
        "{\"contents\": [{\"parts\": [{\"text\": \"\\ud800\"}]}]}".to_owned(),
        deep,
    ];
    for body in &bodies {
        for path in [generate_path(FLASH31), stream_path(PRO)] {
            let answer = post_bytes(
                &server,
                &path,
                body.clone(),
                &[("content-type", "application/json")],
            )
            .await;
            assert_client_error(&answer, &body.chars().take(120).collect::<String>());
        }
    }
    still_serves(&server).await;
}

#[tokio::test]
async fn batches_with_broken_items_finish_with_error_lines() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .batch_polls(0)
        .start()
        .await;
    let create = |batch: serde_json::Value| {
        let server = &server;
        async move {
            post_json(
                server,
                &format!("/v1beta/models/{FLASH31}:batchGenerateContent"),
                &json!({ "batch": batch }),
            )
            .await
        }
    };
    for bad in [
        json!(5),
        json!({}),
        json!({"inputConfig": {"requests": {"requests": []}}}),
        json!({"inputConfig": {"requests": {"requests": "x"}}}),
        json!({"inputConfig": {"fileName": 12}}),
    ] {
        assert_client_error(&create(bad.clone()).await, &bad.to_string());
    }
    let answer = create(json!({"inputConfig": {"requests": {"requests": [
        5,
        {"request": "x"},
        {"request": {"contents": "x"}},
        {"request": prompt("A fine one")}
    ]}}}))
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text_head());
    let name = answer.json()["name"].as_str().unwrap().to_owned();
    let done = get(&server, &format!("/v1beta/{name}")).await.json();
    let lines = done["metadata"]["output"]["inlinedResponses"]["inlinedResponses"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(lines.len(), 4);
    for line in &lines[..3] {
        assert_eq!(line["error"]["code"], 400, "{line}");
    }
    assert_eq!(final_images(&lines[3]["response"]).len(), 1);
    still_serves(&server).await;
}

#[tokio::test]
async fn huge_and_non_utf8_header_values_do_not_crash_the_server() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let body = prompt("A banana").to_string();
    let path = url(&server, &generate_path(FLASH25));

    // A 100 KB fault header: a 400 naming it, not a crash.
    let long = "x".repeat(100_000);
    let answer = send(
        client()
            .post(&path)
            .header("x-goog-api-key", KEY)
            .header(FAULT_HEADER, long.as_str())
            .body(body.clone()),
    )
    .await;
    assert_client_error(&answer, "a long fault header");

    // A 2 MB header: refused by the HTTP layer or cut; either way the server lives on.
    let huge = "y".repeat(2 << 20);
    let result = client()
        .post(&path)
        .header("x-goog-api-key", KEY)
        .header("x-something", huge.as_str())
        .body(body.clone())
        .send()
        .await;
    if let Ok(response) = result {
        assert!(response.status().is_client_error(), "{}", response.status());
    }

    // Non-UTF-8 (obs-text) values in every header the server reads.
    let odd = HeaderValue::from_bytes(b"\xff\xfe status=500 \xc3").unwrap();
    for name in [
        FAULT_HEADER,
        "x-nanobanana-mode",
        "x-nanobanana-image-format",
    ] {
        let answer = send(
            client()
                .post(&path)
                .header("x-goog-api-key", KEY)
                .header(name, odd.clone())
                .body(body.clone()),
        )
        .await;
        assert!(answer.status < 500, "{name}: {}", answer.status);
    }
    let key = send(
        client()
            .post(&path)
            .header("x-goog-api-key", odd.clone())
            .body(body.clone()),
    )
    .await;
    assert!((400..500).contains(&key.status), "{}", key.status);
    let content_type = send(
        client()
            .post(url(&server, "/upload/v1beta/files"))
            .header("x-goog-api-key", KEY)
            .header("x-goog-upload-protocol", "multipart")
            .header("content-type", odd.clone())
            .body("x"),
    )
    .await;
    assert_client_error(&content_type, "multipart with an odd content-type");

    // Odd query strings: bad percent escapes, non-UTF-8 after decoding.
    for query in [
        "?key=%ZZ%",
        "?pageSize=%FF%FE&pageToken=%",
        "?alt=%73se&&&=&key",
    ] {
        let answer = send(
            client()
                .get(url(&server, &format!("/v1beta/files{query}")))
                .header("x-goog-api-key", KEY),
        )
        .await;
        assert!(answer.status < 500, "{query}: {}", answer.status);
    }
    still_serves(&server).await;
}

/// Writes raw bytes on a fresh connection and reads until the server closes it (or 5 s pass).
async fn raw_exchange(server: &MockGemini, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(server.address()).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let _ = stream.shutdown().await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut out),
    )
    .await;
    out
}

#[tokio::test]
async fn broken_http_does_not_crash_the_server() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let cases: [&[u8]; 5] = [
        b"HELLO THERE\r\n\r\n",
        b"GET /v1beta/\xff\xfe HTTP/1.1\r\nhost: x\r\n\r\n",
        b"POST /v1beta/models/x:generateContent HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\nx-goog-api-key: k\r\n\r\n{\"contents\"",
        b"POST /v1beta/models/x:generateContent HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nx-goog-api-key: k\r\n\r\nzz\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ];
    for bytes in cases {
        let answer = raw_exchange(&server, bytes).await;
        if !answer.is_empty() {
            assert!(
                answer.starts_with(b"HTTP/1.1 4"),
                "{:?}",
                String::from_utf8_lossy(&answer)
            );
        }
    }
    still_serves(&server).await;
}

#[tokio::test]
async fn concurrent_requests_are_all_served() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let uri = server.uri();
        tasks.spawn(async move {
            let (path, body) = match i % 3 {
                0 => (
                    generate_path(FLASH31),
                    prompt(&format!("Banana number {i}")),
                ),
                1 => (stream_path(PRO), prompt(&format!("Banana number {i}"))),
                _ => ("/upload/v1beta/files".to_owned(), json!({"n": i})),
            };
            let answer = send(
                client()
                    .post(format!("{uri}{path}"))
                    .header("x-goog-api-key", KEY)
                    .body(body.to_string()),
            )
            .await;
            (i, answer.status)
        });
    }
    let mut done = 0;
    while let Some(result) = tasks.join_next().await {
        let (i, status) = result.expect("the task ran");
        assert_eq!(status, 200, "request {i}");
        done += 1;
    }
    assert_eq!(done, 24);
    assert_eq!(server.received_requests().len(), 24);
    assert_eq!(
        get(&server, "/v1beta/files").await.json()["files"]
            .as_array()
            .map(Vec::len),
        Some(8)
    );
}

#[tokio::test]
async fn state_and_the_journal_are_bounded() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .state_limits(2, 1 << 20, 1)
        .journal_capacity(3)
        .journal_body_limit(10)
        .start()
        .await;
    for i in 0..2u8 {
        let upload = post_bytes(&server, "/upload/v1beta/files", vec![i; 100], &[]).await;
        assert_eq!(upload.status, 200);
    }
    let third = post_bytes(&server, "/upload/v1beta/files", vec![3; 100], &[]).await;
    assert_client_error(&third, "a third file");
    assert_eq!(third.status, 429);
    let batch =
        json!({"batch": {"inputConfig": {"requests": {"requests": [{"request": prompt("x")}]}}}});
    let path = format!("/v1beta/models/{FLASH31}:batchGenerateContent");
    assert_eq!(post_json(&server, &path, &batch).await.status, 200);
    assert_eq!(post_json(&server, &path, &batch).await.status, 429);

    let journal = server.received_requests();
    assert_eq!(journal.len(), 3, "the most recent 3");
    assert_eq!(journal[2].status(), 429);
    // Bodies over the journal's body limit are kept by length only.
    assert!(journal[2].body().is_none());
    assert!(journal[2].body_len() > 10);

    // reset() forgets the state.
    server.reset();
    assert!(server.received_requests().is_empty());
    assert_eq!(
        get(&server, "/v1beta/files").await.json()["files"],
        json!([])
    );
    assert_eq!(
        post_bytes(&server, "/upload/v1beta/files", vec![1; 10], &[])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_upload_cut_short_by_the_client_stores_nothing() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let head = format!(
        "POST /upload/v1beta/files HTTP/1.1\r\nhost: {}\r\nx-goog-api-key: {KEY}\r\ncontent-type: image/png\r\ncontent-length: 1000\r\n\r\n",
        server.address()
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&[7u8; 100]);
    raw_exchange(&server, &bytes).await;
    // Whatever the server did with the cut request, it stored no partial file.
    assert_eq!(
        get(&server, "/v1beta/files").await.json()["files"],
        json!([])
    );
    let journal = server.received_requests();
    assert!(journal.len() <= 2, "{} requests", journal.len());
    still_serves(&server).await;
}
