//! The client against a scripted HTTP/1.1 responder on 127.0.0.1 (`support`): request paths,
//! headers, retries, streaming, uploads, paging and error handling, and that the key shows up
//! nowhere but in its header.

use std::time::Duration;

use futures_util::StreamExt;
use nanobanana_transport::wire::{
    Content, GenerateContentRequest, GenerationConfig, ImageConfig, InlinedRequest, Part,
};
use nanobanana_transport::{ApiVersion, Client, ClientConfig, ErrorKind, RetryPolicy};

mod support;

use support::{
    CANARY, IMAGE_ANSWER, Reply, Stub, answer, assert_no_key, json, quick_retries, request, sse,
};

#[tokio::test]
async fn generates_with_the_key_in_its_header_only() {
    let stub = Stub::start(vec![json(200, IMAGE_ANSWER)]).await;
    let client = stub.client(RetryPolicy::none());
    let response = client
        .generate_content("models/gemini-3-pro-image-preview", &request())
        .await
        .unwrap();
    let parts = &response.candidates[0].content.as_ref().unwrap().parts;
    assert_eq!(
        &parts[1]
            .inline_data
            .as_ref()
            .unwrap()
            .data
            .as_ref()
            .unwrap()
            .as_slice()[1..4],
        b"PNG"
    );
    let seen = stub.seen();
    assert_eq!(seen.len(), 1);
    let sent = &seen[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.target,
        "/v1beta/models/gemini-3-pro-image-preview:generateContent"
    );
    assert_eq!(sent.header("x-goog-api-key"), Some(CANARY));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert!(
        sent.header("user-agent")
            .unwrap()
            .starts_with("nanobanana-transport/")
    );
    let body: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(body, serde_json::to_value(request()).unwrap());
}

#[tokio::test]
async fn v1_paths() {
    let stub = Stub::start(vec![json(
        200,
        r#"{"name": "models/gemini-3-pro-image-preview"}"#,
    )])
    .await;
    let client = Client::new(
        ClientConfig::new(CANARY)
            .with_validation(
                nanobanana_rules::Options::at(
                    nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                )
                .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
            )
            .with_base_url(format!("{}/", stub.base_url))
            .with_api_version(ApiVersion::V1),
    )
    .unwrap();
    let model = client
        .models()
        .get("gemini-3-pro-image-preview")
        .await
        .unwrap();
    assert_eq!(
        model.name.as_deref(),
        Some("models/gemini-3-pro-image-preview")
    );
    assert_eq!(
        stub.seen()[0].target,
        "/v1/models/gemini-3-pro-image-preview"
    );
}

#[tokio::test]
async fn retries_retryable_answers_honouring_server_delays() {
    let stub = Stub::start(vec![
        json(
            503,
            r#"{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE",
               "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34s"}]}}"#,
        ),
        answer(429, &[("retry-after", "1")], "slow down"),
        json(200, IMAGE_ANSWER),
    ])
    .await;
    let started = std::time::Instant::now();
    let response = stub
        .client(quick_retries())
        .generate_content("gemini-3-pro-image-preview", &request())
        .await
        .unwrap();
    assert_eq!(response.candidates.len(), 1);
    assert_eq!(stub.seen().len(), 3);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "server delays are capped by the policy"
    );
}

/// Retry waits are tokio timers: on a paused clock a 34 s `RetryInfo` wait is honoured in
/// tokio's time and costs no wall time. (Timeouts are off: a paused clock would fire them while
/// the runtime waits on the socket.)
#[tokio::test(start_paused = true)]
async fn retry_waits_follow_a_paused_clock() {
    let stub = Stub::start(vec![
        json(
            429,
            r#"{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "quota",
               "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34s"}]}}"#,
        ),
        json(200, IMAGE_ANSWER),
    ])
    .await;
    let client = Client::new(
        ClientConfig::new(CANARY)
            .with_validation(
                nanobanana_rules::Options::at(
                    nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                )
                .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
            )
            .with_base_url(&stub.base_url)
            .without_timeout()
            .without_connect_timeout(),
    )
    .unwrap();
    let wall = std::time::Instant::now();
    let tokio_start = tokio::time::Instant::now();
    client
        .generate_content("gemini-3-pro-image-preview", &request())
        .await
        .unwrap();
    assert!(tokio_start.elapsed() >= Duration::from_secs(34));
    assert!(wall.elapsed() < Duration::from_secs(10));
    assert_eq!(stub.seen().len(), 2);
}

#[tokio::test]
async fn gives_up_after_the_last_attempt_and_never_retries_a_400() {
    let overloaded = r#"{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}"#;
    let stub = Stub::start(vec![
        json(503, overloaded),
        json(503, overloaded),
        json(503, overloaded),
    ])
    .await;
    let error = stub
        .client(quick_retries())
        .generate_content("gemini-3-pro-image-preview", &request())
        .await
        .unwrap_err();
    assert_eq!(stub.seen().len(), 3);
    assert_eq!(error.status(), Some(503));
    assert!(error.is_retryable());
    assert_eq!(
        error.to_string(),
        "Gemini API error 503 UNAVAILABLE: The model is overloaded. Please try again later. \
         (gave up after 3 attempts)"
    );

    let stub = Stub::start(vec![json(
        400,
        r#"[{"error": {"code": 400, "message": "Corrupted thought signature.", "status": "INVALID_ARGUMENT"}}]"#,
    )])
    .await;
    let error = stub
        .client(quick_retries())
        .generate_content("gemini-3-pro-image-preview", &request())
        .await
        .unwrap_err();
    assert_eq!(stub.seen().len(), 1);
    assert_eq!(
        error.api_error().unwrap().message(),
        "Corrupted thought signature."
    );
}

#[tokio::test]
async fn streams_events_split_anywhere_with_any_line_ends() {
    let stub = Stub::start(vec![sse(&[
        "data: {\"candidates\": [{\"content\": {\"role\": \"model\", \"parts\": [{\"text\": \"Hel",
        "lo\"}]}}]}\r\n\r",
        "\ndata: {\"candidates\": [{\"content\": {\"role\": \"model\", \"parts\": [{\"inlineData\": {\"mimeType\": \"image/png\", \"data\": \"iVBORw0KGgo=\"}}]}}]}\r\r",
        ": a comment\n",
        "data: {\"candidates\": [{\"content\": {\"role\": \"model\"}, \"finishReason\": \"STOP\"}]}\n\n",
    ])])
    .await;
    let stream = stub
        .client(RetryPolicy::none())
        .stream_generate_content("gemini-3-pro-image-preview", &request());
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 3, "{items:?}");
    let items: Vec<_> = items.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        items[0].candidates[0].content.as_ref().unwrap().parts[0]
            .text
            .as_deref(),
        Some("Hello")
    );
    assert!(
        items[1].candidates[0].content.as_ref().unwrap().parts[0]
            .inline_data
            .is_some()
    );
    assert_eq!(
        stub.seen()[0].target,
        "/v1beta/models/gemini-3-pro-image-preview:streamGenerateContent?alt=sse"
    );
}

#[tokio::test]
async fn streams_retry_only_before_the_first_event() {
    let overloaded = "data: {\"error\": {\"code\": 503, \"message\": \"The model is overloaded. Please try again later.\", \"status\": \"UNAVAILABLE\"}}\n\n";
    let chunk = "data: {\"candidates\": [{\"content\": {\"role\": \"model\", \"parts\": [{\"text\": \"Hi\"}]}}]}\n\n";
    let stub = Stub::start(vec![
        json(
            500,
            r#"{"error": {"code": 500, "status": "INTERNAL", "message": "Internal error"}}"#,
        ),
        sse(&[overloaded]),
        sse(&[chunk, overloaded]),
    ])
    .await;
    let mut stream = stub
        .client(quick_retries())
        .stream_generate_content("gemini-3-pro-image-preview", &request());
    assert!(stream.next().await.unwrap().is_ok());
    let error = stream.next().await.unwrap().unwrap_err();
    assert!(stream.next().await.is_none(), "an error ends the stream");
    assert_eq!(stub.seen().len(), 3);
    let api = error.api_error().unwrap();
    assert!(api.is_mid_stream());
    assert_eq!(error.status(), Some(503));
    assert_no_key(&error);
}

#[tokio::test]
async fn a_stream_cut_off_inside_an_event_fails() {
    let stub = Stub::start(vec![sse(&[
        "data: {\"candidates\": []}\n\n",
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"inlineData\": {\"data\": \"iVBO",
    ])])
    .await;
    let items: Vec<_> = stub
        .client(RetryPolicy::none())
        .stream_generate_content(
            "gemini-2.5-flash-image",
            &GenerateContentRequest::new().with_contents([Content::user([Part::from_text("x")])]),
        )
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    let error = items[1].as_ref().unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Truncated), "{error:?}");
    assert!(!error.is_retryable());
    assert!(error.to_string().starts_with(
        "the stream was cut off inside an event (POST /v1beta/models/gemini-2.5-flash-image:streamGenerateContent)"
    ), "{error}");
}

#[tokio::test]
async fn a_stream_without_events_is_an_error() {
    let stub = Stub::start(vec![json(
        200,
        r#"[{"candidates": []}]"#, // A JSON array: what the service sends without `alt=sse`.
    )])
    .await;
    let items: Vec<_> = stub
        .client(RetryPolicy::none())
        .stream_generate_content("gemini-3-pro-image-preview", &request())
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Protocol), "{error:?}");
    assert!(
        error
            .to_string()
            .ends_with("expected an event stream (text/event-stream), got application/json"),
        "{error}"
    );

    let stub = Stub::start(vec![sse(&[": nothing but a comment\n\n"])]).await;
    let items: Vec<_> = stub
        .client(RetryPolicy::none())
        .stream_generate_content("gemini-3-pro-image-preview", &request())
        .collect()
        .await;
    let error = items[0].as_ref().unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("the stream ended without any event"),
        "{error}"
    );
}

#[tokio::test]
async fn times_out() {
    let stub = Stub::start(vec![Reply::Hang]).await;
    let client = Client::new(
        ClientConfig::new(CANARY)
            .with_validation(
                nanobanana_rules::Options::at(
                    nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                )
                .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
            )
            .with_base_url(&stub.base_url)
            .with_timeout(Duration::from_millis(200))
            .with_retry_policy(quick_retries()),
    )
    .unwrap();
    let error = client
        .generate_content("gemini-3-pro-image-preview", &request())
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(stub.seen().len(), 1, "timeouts are not retried");
    assert_eq!(
        error.to_string(),
        "request timed out (POST /v1beta/models/gemini-3-pro-image-preview:generateContent): no answer within 200ms"
    );
}

#[tokio::test]
async fn the_key_never_shows_on_any_error_path() {
    let echo = format!(
        r#"{{"error": {{"code": 400, "message": "API key {CANARY} not valid.", "status": "INVALID_ARGUMENT",
            "details": [{{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
            "domain": "googleapis.com", "metadata": {{"key": "{CANARY}"}}}}]}}}}"#
    );
    let not_json = format!("<html>bad gateway for {CANARY}</html>");
    let garbage = format!("hello {CANARY} this is not JSON");
    let stub = Stub::start(vec![
        json(400, &echo),
        answer(502, &[("content-type", "text/html")], &not_json),
        json(200, &garbage),
        // A body cut short: Content-Length promises more than arrives.
        Reply::Pieces(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n{\"candidates\""
                .to_vec(),
        ]),
        sse(&[&format!(
            "data: {{\"error\": {{\"code\": 500, \"message\": \"{CANARY}\"}}}}\n\n"
        )]),
        sse(&[&format!("data: {{\"candidates\": []}}\n\ndata: {CANARY}")]),
        json(200, "{}"), // an upload start without X-Goog-Upload-URL
        Reply::Hang,
    ])
    .await;
    let client = Client::new(
        ClientConfig::new(CANARY)
            .with_validation(
                nanobanana_rules::Options::at(
                    nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                )
                .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
            )
            .with_base_url(&stub.base_url)
            .with_retry_policy(RetryPolicy::none())
            .with_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let model = "gemini-3-pro-image-preview";
    let mut errors = Vec::new();
    for _ in 0..4 {
        errors.push(
            client
                .generate_content(model, &request())
                .await
                .unwrap_err(),
        );
    }
    for _ in 0..2 {
        let items: Vec<_> = client
            .stream_generate_content(model, &request())
            .collect()
            .await;
        errors.push(items.into_iter().find_map(Result::err).unwrap());
    }
    errors.push(
        client
            .files()
            .upload(vec![1, 2, 3], "image/png", Some("named"))
            .await
            .unwrap_err(),
    );
    errors.push(
        client
            .generate_content(model, &request())
            .await
            .unwrap_err(),
    );

    let kinds: Vec<String> = errors
        .iter()
        .map(|e| {
            format!("{:?}", e.kind())
                .split([' ', '('])
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "Api",
            "Api",
            "Decode",
            "Transport",
            "Api",
            "Truncated",
            "Protocol",
            "Timeout"
        ]
    );
    assert!(matches!(
        errors[3].kind(),
        ErrorKind::Transport {
            after_response: true
        }
    ));
    assert_eq!(
        errors[1].api_error().unwrap().raw_body(),
        "<html>bad gateway for ***</html>"
    );

    // Refused before sending, and never connected.
    let refused = client
        .generate_content(
            model,
            &request().with_generation_config(
                GenerationConfig::new().with_image_config(ImageConfig::new().with_image_size("1k")),
            ),
        )
        .await
        .unwrap_err();
    errors.push(refused);
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = Client::new(
        ClientConfig::new(CANARY)
            .with_validation(
                nanobanana_rules::Options::at(
                    nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                )
                .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
            )
            .with_base_url(format!("http://127.0.0.1:{closed_port}"))
            .with_retry_policy(RetryPolicy::none()),
    )
    .unwrap();
    let connect = unreachable
        .batches()
        .list(Some(10))
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(connect.kind(), ErrorKind::Connect), "{connect:?}");
    assert!(connect.is_retryable());
    errors.push(connect);

    for error in &errors {
        assert_no_key(error);
    }
    assert_eq!(errors.len(), 10);
    assert!(
        stub.seen().iter().all(|seen| !seen.target.contains(CANARY)),
        "the key never goes in a URL"
    );
}

#[tokio::test]
async fn uploads_small_files_in_one_request() {
    let file = r#"{"file": {"name": "files/abc", "mimeType": "image/jpeg", "sizeBytes": "3", "state": "ACTIVE"}}"#;
    let stub = Stub::start(vec![json(200, file)]).await;
    let uploaded = stub
        .client(RetryPolicy::none())
        .files()
        .upload(vec![0xFF, 0xD8, 0xFF], "image/jpeg", None)
        .await
        .unwrap();
    assert_eq!(uploaded.name.as_deref(), Some("files/abc"));
    let seen = &stub.seen()[0];
    assert_eq!(seen.target, "/upload/v1beta/files");
    assert_eq!(seen.header("x-goog-upload-protocol"), Some("raw"));
    assert_eq!(seen.header("content-type"), Some("image/jpeg"));
    assert_eq!(seen.header("x-goog-api-key"), Some(CANARY));
    assert_eq!(seen.body, [0xFF, 0xD8, 0xFF]);
}

#[tokio::test]
async fn uploads_large_files_in_resumable_chunks() {
    let upload_url = "https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=UP1&upload_protocol=resumable";
    let active = [("x-goog-upload-status", "active")];
    let stub = Stub::start(vec![
        answer(
            200,
            &[
                ("x-goog-upload-status", "active"),
                ("x-goog-upload-url", upload_url),
            ],
            "",
        ),
        answer(200, &active, ""),
        answer(200, &active, ""),
        answer(
            200,
            &[
                ("x-goog-upload-status", "final"),
                ("content-type", "application/json"),
            ],
            r#"{"file": {"name": "files/big", "displayName": "ten bytes", "sizeBytes": "10"}}"#,
        ),
    ])
    .await;
    let client = Client::new(
        ClientConfig::new(CANARY)
            .with_validation(
                nanobanana_rules::Options::at(
                    nanobanana_rules::Date::new(2026, 3, 1).expect("a date"),
                )
                .with_unknown_fields(nanobanana_rules::UnknownFields::Warn),
            )
            .with_base_url(&stub.base_url)
            .with_upload_chunk_size(4),
    )
    .unwrap();
    let data: Vec<u8> = (0..10).collect();
    let file = client
        .files()
        .upload(data.clone(), "application/jsonl", Some("ten bytes"))
        .await
        .unwrap();
    assert_eq!(file.name.as_deref(), Some("files/big"));

    let seen = stub.seen();
    assert_eq!(seen.len(), 4);
    let start = &seen[0];
    assert_eq!(start.target, "/upload/v1beta/files");
    assert_eq!(start.header("x-goog-upload-protocol"), Some("resumable"));
    assert_eq!(start.header("x-goog-upload-command"), Some("start"));
    assert_eq!(
        start.header("x-goog-upload-header-content-length"),
        Some("10")
    );
    assert_eq!(
        start.header("x-goog-upload-header-content-type"),
        Some("application/jsonl")
    );
    assert_eq!(start.header("x-goog-api-key"), Some(CANARY));
    let metadata: serde_json::Value = serde_json::from_slice(&start.body).unwrap();
    assert_eq!(
        metadata,
        serde_json::json!({"file": {"displayName": "ten bytes", "mimeType": "application/jsonl"}})
    );
    let chunks = &seen[1..];
    let commands: Vec<_> = chunks
        .iter()
        .map(|c| c.header("x-goog-upload-command").unwrap())
        .collect();
    assert_eq!(commands, ["upload", "upload", "upload, finalize"]);
    let offsets: Vec<_> = chunks
        .iter()
        .map(|c| c.header("x-goog-upload-offset").unwrap())
        .collect();
    assert_eq!(offsets, ["0", "4", "8"]);
    let joined: Vec<u8> = chunks.iter().flat_map(|c| c.body.clone()).collect();
    assert_eq!(joined, data);
    for chunk in chunks {
        assert_eq!(
            chunk.target, "/upload/v1beta/files?upload_id=UP1&upload_protocol=resumable",
            "sent to the stub, not to the host in the upload URL"
        );
        assert_eq!(chunk.header("x-goog-api-key"), None, "chunks carry no key");
    }
}

#[tokio::test]
async fn lists_follow_page_tokens() {
    let stub = Stub::start(vec![
        json(
            200,
            r#"{"operations": [{"name": "batches/a"}, {"name": "batches/b"}], "nextPageToken": "t/2="}"#,
        ),
        json(200, r#"{"operations": [{"name": "batches/c"}], "nextPageToken": ""}"#),
    ])
    .await;
    let names: Vec<String> = stub
        .client(RetryPolicy::none())
        .batches()
        .list(Some(2))
        .map(|op| op.unwrap().name.unwrap())
        .collect()
        .await;
    assert_eq!(names, ["batches/a", "batches/b", "batches/c"]);
    let targets: Vec<_> = stub.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(
        targets,
        [
            "/v1beta/batches?pageSize=2",
            "/v1beta/batches?pageSize=2&pageToken=t%2F2%3D"
        ]
    );
}

#[tokio::test]
async fn batches_create_get_cancel_delete() {
    let operation = r#"{"name": "batches/b1", "metadata": {"state": "BATCH_STATE_PENDING"}}"#;
    let stub = Stub::start(vec![
        json(200, operation),
        json(200, operation),
        json(200, operation),
        json(200, "{}"),
        json(200, "{}"),
    ])
    .await;
    let client = stub.client(RetryPolicy::none());
    let batches = client.batches();
    let created = batches
        .create_inline(
            "gemini-3-pro-image-preview",
            "two",
            [request(), request()].map(|r| InlinedRequest::new().with_request(r)),
        )
        .await
        .unwrap();
    assert_eq!(created.name.as_deref(), Some("batches/b1"));
    batches
        .create_from_file("gemini-3-pro-image-preview", "from file", "abc")
        .await
        .unwrap();
    batches.get("batches/b1").await.unwrap();
    batches.cancel("b1").await.unwrap();
    batches.delete("batches/b1").await.unwrap();

    let seen = stub.seen();
    let lines: Vec<_> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.target))
        .collect();
    assert_eq!(
        lines,
        [
            "POST /v1beta/models/gemini-3-pro-image-preview:batchGenerateContent",
            "POST /v1beta/models/gemini-3-pro-image-preview:batchGenerateContent",
            "GET /v1beta/batches/b1",
            "POST /v1beta/batches/b1:cancel",
            "DELETE /v1beta/batches/b1",
        ]
    );
    let inline: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(inline["batch"]["displayName"], "two");
    assert_eq!(
        inline["batch"]["inputConfig"]["requests"]["requests"][1]["request"]["generationConfig"]["imageConfig"]
            ["imageSize"],
        "2K"
    );
    let from_file: serde_json::Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(
        from_file,
        serde_json::json!({"batch": {"displayName": "from file", "inputConfig": {"fileName": "files/abc"}}})
    );
}
