//! Every call of the client round-trips against the fake server (`nanobanana-mock`), one server
//! per test on 127.0.0.1:0: generation whole and streamed (images of the resolution table's
//! sizes, SPEC.md §1), batches (WIRE.md "Batch wire shapes"), files (simple and resumable
//! uploads, WIRE.md "What the official SDKs actually send"), models, a request referring to an
//! uploaded file, thought-signature circulation over three turns (SPEC.md §4) and a 30 MB image
//! event (WIRE.md "Streaming").

mod mock_support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use futures_util::StreamExt;
use nanobanana_mock::image::{ImageFormat, Style, render};
use nanobanana_mock::{Endpoint, MockGemini, Mode};
use nanobanana_transport::encode_jsonl;
use nanobanana_transport::rules::resolution;
use nanobanana_transport::rules::response::signature_violations;
use nanobanana_transport::wire::{
    Base64Bytes, BatchState, Content, FinishReason, GenerateContentResponse, InlinedRequest,
    Modality, Part, Role,
};
use serde_json::json;

use mock_support::*;

/// SPEC.md §1 and `resolution-tables.json`: the image of a simulated answer decodes to exactly
/// the table's pixel size for the requested model, ratio and size, and the answer's image tokens
/// are the table's.
#[tokio::test]
async fn generated_images_have_the_resolution_table_sizes() {
    let server = simulator().await;
    let client = client(&server);
    let cases = [
        (FLASH31, "8:1", Some("512")),
        (FLASH31, "21:9", Some("2K")),
        (FLASH31, "1:1", None),
        (PRO, "3:4", Some("1K")),
        (PRO, "16:9", Some("4K")),
        (FLASH25, "9:16", None),
    ];
    for (model, ratio, size) in cases {
        let label = format!("{model} {ratio} {size:?}");
        let request = image_request("A nano banana dish, plated", Some(ratio), size);
        let entry = resolution::table()
            .get(model, &ratio.into(), size.map(Into::into).as_ref())
            .unwrap_or_else(|| panic!("{label}: not in the table"));
        assert_eq!(
            resolution::predict(model, &request).entry(),
            Some(entry),
            "{label}"
        );
        let response = client.generate_content(model, &request).await.unwrap();
        let images = final_images(&response);
        assert_eq!(images.len(), 1, "{label}");
        assert_eq!(
            png_dimensions(&images[0]),
            (entry.width(), entry.height()),
            "{label}"
        );
        let usage = response.usage_metadata.as_ref().unwrap();
        let image_tokens = usage
            .candidates_tokens_details
            .iter()
            .find(|d| d.modality == Some(Modality::Image))
            .and_then(|d| d.token_count);
        assert_eq!(image_tokens, Some(i64::from(entry.tokens())), "{label}");
        assert_eq!(
            response
                .model_version
                .as_deref()
                .map(|v| v.starts_with(model)),
            Some(true),
            "{label}"
        );
    }
    assert_eq!(
        journal(&server),
        cases
            .iter()
            .map(|(model, ..)| format!("POST {} -> 200", generate_path(model)))
            .collect::<Vec<_>>()
    );
}

/// WIRE.md "Streaming": text in chunks, the image whole in one event, role, model version,
/// response id and cumulative usage on every chunk, and a last chunk with no parts and
/// `finishReason: STOP`. The chunks add up to the whole answer of the same request.
#[tokio::test]
async fn streams_chunks_with_cumulative_usage_and_a_final_stop() {
    let server = simulator().await;
    let client = client(&server);
    let request = image_request("A banana boat at dawn", Some("16:9"), Some("2K"));
    let chunks: Vec<GenerateContentResponse> = client
        .stream_generate_content(PRO, &request)
        .map(|item| item.expect("every chunk decodes"))
        .collect()
        .await;
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());

    let mut last_total = 0;
    for chunk in &chunks {
        let candidate = &chunk.candidates[0];
        assert_eq!(
            candidate.content.as_ref().unwrap().role,
            Some(Role::Model),
            "every chunk repeats the role"
        );
        assert_eq!(chunk.response_id, chunks[0].response_id);
        assert!(chunk.model_version.is_some());
        let total = chunk
            .usage_metadata
            .as_ref()
            .and_then(|u| u.total_token_count)
            .expect("usage on every chunk");
        assert!(total >= last_total, "usage is cumulative");
        last_total = total;
    }
    let last = &chunks.last().unwrap().candidates[0];
    assert_eq!(last.finish_reason, Some(FinishReason::Stop));
    assert!(last.content.as_ref().unwrap().parts.is_empty());
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c.candidates[0].finish_reason.is_none())
    );

    // The stream and the whole answer are the same answer.
    let whole = client.generate_content(PRO, &request).await.unwrap();
    assert_eq!(
        Some(last_total),
        whole.usage_metadata.as_ref().unwrap().total_token_count
    );
    let streamed_images: Vec<Vec<u8>> = chunks.iter().flat_map(final_images).collect();
    assert_eq!(streamed_images, final_images(&whole));
    let entry = resolution::table()
        .get(PRO, &"16:9".into(), Some(&"2K".into()))
        .unwrap();
    assert_eq!(
        png_dimensions(&streamed_images[0]),
        (entry.width(), entry.height())
    );
    let text = |parts: &mut dyn Iterator<Item = &Part>| -> String {
        parts
            .filter(|p| !p.is_thought())
            .filter_map(|p| p.text.as_deref())
            .collect()
    };
    let streamed_text = text(
        &mut chunks
            .iter()
            .flat_map(|c| c.candidates[0].content.iter().flat_map(|c| &c.parts)),
    );
    let whole_text = text(&mut whole.candidates[0].content.iter().flat_map(|c| &c.parts));
    assert!(!whole_text.is_empty());
    assert_eq!(streamed_text, whole_text);

    let sent = server.received_requests();
    assert_eq!(sent[0].path(), stream_path(PRO));
    assert_eq!(sent[0].query(), [("alt".to_owned(), "sse".to_owned())]);
}

fn inlined(key: &str, prompt: &str) -> InlinedRequest {
    InlinedRequest::new()
        .with_request(image_request(prompt, Some("4:3"), Some("1K")))
        .with_metadata([("key".to_owned(), key.to_owned())])
}

/// WIRE.md "Batch wire shapes": an inline batch is created as
/// `{"batch": {"displayName", "inputConfig": {"requests": {"requests": [...]}}}}`, polled from
/// pending through running to succeeded, and its inlined responses keep their metadata.
#[tokio::test]
async fn inline_batches_are_created_and_polled_to_their_answers() {
    let server = simulator().await;
    let client = client(&server);
    let created = client
        .batches()
        .create_inline(
            PRO,
            "two bananas",
            [
                inlined("first", "A banana"),
                inlined("second", "Two bananas"),
            ],
        )
        .await
        .unwrap();
    let name = created.name.clone().unwrap();
    assert!(name.starts_with("batches/"), "{name}");
    let metadata = created.metadata.as_ref().unwrap();
    assert_eq!(metadata.state, Some(BatchState::Pending));
    assert_eq!(metadata.display_name.as_deref(), Some("two bananas"));
    assert_eq!(metadata.model.as_deref(), Some(&*format!("models/{PRO}")));
    assert_ne!(created.done, Some(true));

    let sent = server.received_requests()[0].json().unwrap();
    assert_eq!(sent["batch"]["displayName"], "two bananas");
    assert_eq!(
        sent["batch"]["inputConfig"]["requests"]["requests"][1]["metadata"]["key"],
        "second"
    );

    let running = client.batches().get(&name).await.unwrap();
    assert_eq!(
        running.metadata.unwrap().state,
        Some(BatchState::Running),
        "one poll answers running"
    );
    let id = name.trim_start_matches("batches/");
    let done = client.batches().get(id).await.unwrap();
    assert_eq!(done.done, Some(true));
    let metadata = done.metadata.unwrap();
    assert_eq!(metadata.state, Some(BatchState::Succeeded));
    let responses = metadata
        .output
        .and_then(|o| o.inlined_responses)
        .unwrap()
        .inlined_responses;
    assert_eq!(responses.len(), 2);
    let entry = resolution::table()
        .get(PRO, &"4:3".into(), Some(&"1K".into()))
        .unwrap();
    for (response, key) in responses.iter().zip(["first", "second"]) {
        assert_eq!(response.metadata.as_ref().unwrap()["key"], key);
        let images = final_images(response.response.as_ref().unwrap());
        assert_eq!(
            png_dimensions(&images[0]),
            (entry.width(), entry.height()),
            "{key}"
        );
    }
    assert_eq!(
        journal(&server),
        [
            format!("POST /v1beta/models/{PRO}:batchGenerateContent -> 200"),
            format!("GET /v1beta/{name} -> 200"),
            format!("GET /v1beta/{name} -> 200"),
        ]
    );
}

/// WIRE.md "Batch wire shapes": a batch from a JSONL file (`{"key", "request"}` lines, uploaded
/// first) is created with `inputConfig.fileName` and answers with a `responsesFile`.
#[tokio::test]
async fn batches_from_an_uploaded_jsonl_file() {
    let server = simulator().await;
    let client = client(&server);
    let requests = [
        image_request("A banana", Some("1:1"), None),
        image_request("A plantain", Some("3:2"), None),
    ];
    let jsonl = encode_jsonl(FLASH25, [("a", &requests[0]), ("b", &requests[1])]).unwrap();
    let file = client
        .files()
        .upload(jsonl.clone(), "application/jsonl", None)
        .await
        .unwrap();
    assert_eq!(file.mime_type.as_deref(), Some("application/jsonl"));
    let file_name = file.name.unwrap();

    let created = client
        .batches()
        .create_from_file(FLASH25, "from a file", &file_name)
        .await
        .unwrap();
    let sent = server.received_requests()[1].json().unwrap();
    assert_eq!(
        sent,
        json!({"batch": {"displayName": "from a file", "inputConfig": {"fileName": file_name}}})
    );
    let name = created.name.unwrap();
    client.batches().get(&name).await.unwrap();
    let done = client.batches().get(&name).await.unwrap();
    let metadata = done.metadata.unwrap();
    assert_eq!(metadata.state, Some(BatchState::Succeeded));
    let output = metadata.output.unwrap().responses_file.unwrap();
    assert!(output.starts_with("files/"), "{output}");
    let output_file = client.files().get(&output).await.unwrap();
    assert_eq!(output_file.mime_type.as_deref(), Some("application/jsonl"));

    // The result file downloads as JSONL: one `{"key", "response"}` line per request.
    let results = client.files().download(&output).await.unwrap();
    let keys: Vec<String> = results
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            let line: serde_json::Value = serde_json::from_slice(line).unwrap();
            assert!(line["response"]["candidates"].is_array(), "{line}");
            line["key"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(keys, ["a", "b"]);
    let missing = client
        .files()
        .download("files/nothing-here")
        .await
        .unwrap_err();
    // The Files API answers an unknown file with 403 PERMISSION_DENIED ("... or it may not
    // exist"), not 404; the fake server does the same.
    assert_eq!(missing.status(), Some(403), "{missing}");
}

/// WIRE.md "Batch wire shapes": the list is a stream over pages (`pageSize`, `pageToken` →
/// `nextPageToken`); cancel and delete change what get and list answer.
#[tokio::test]
async fn batches_list_over_pages_cancel_and_delete() {
    let server = simulator().await;
    let client = client(&server);
    let mut created = BTreeSet::new();
    for i in 0..5 {
        let operation = client
            .batches()
            .create_inline(FLASH31, &format!("batch {i}"), [inlined("k", "A banana")])
            .await
            .unwrap();
        created.insert(operation.name.unwrap());
    }
    let listed: BTreeSet<String> = client
        .batches()
        .list(Some(2))
        .map(|item| item.unwrap().name.unwrap())
        .collect()
        .await;
    assert_eq!(listed, created);
    let pages: Vec<_> = server
        .received_requests()
        .into_iter()
        .filter(|r| r.endpoint() == Some(Endpoint::BatchList))
        .collect();
    assert_eq!(pages.len(), 3, "5 batches in pages of 2");
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.query()
                .contains(&("pageSize".to_owned(), "2".to_owned()))
        );
        assert_eq!(
            page.query().iter().any(|(k, _)| k == "pageToken"),
            i > 0,
            "page {i}: the first page has no token, the next ones the previous nextPageToken"
        );
    }

    let mut names = created.iter();
    let cancelled = names.next().unwrap();
    client.batches().cancel(cancelled).await.unwrap();
    let operation = client.batches().get(cancelled).await.unwrap();
    assert_eq!(
        operation.metadata.unwrap().state,
        Some(BatchState::Cancelled)
    );
    assert_eq!(operation.done, Some(true));

    let deleted = names.next().unwrap();
    client.batches().delete(deleted).await.unwrap();
    let error = client.batches().get(deleted).await.unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.api_error().unwrap().status(), Some("NOT_FOUND"));
    assert!(!error.is_retryable());
    let remaining = client.batches().list(None).count().await;
    assert_eq!(remaining, 4);
}

/// WIRE.md "Endpoints" and the SDKs' upload protocol: a small file goes in one raw request; a
/// large one (or one with a display name) in a resumable session, chunk by chunk at increasing
/// offsets, the last one `upload, finalize`, the chunks without the key. Get, list and delete
/// see what was stored, byte for byte (the server's `sha256Hash`).
#[tokio::test]
async fn files_upload_simple_and_resumable_get_list_and_delete() {
    let server = simulator().await;
    let chunk = 64 * 1024;
    let client = client_with(config(&server).with_upload_chunk_size(chunk));
    let sha256_hash = |bytes: &[u8]| Base64Bytes::new(sha256_hex(bytes)).to_base64();

    // Simple: at most one chunk, no display name.
    let small = render(ImageFormat::Png, Style::Final, 640, 480, b"small").unwrap();
    assert!(small.len() <= chunk);
    let simple = client
        .files()
        .upload(small.clone(), "image/png", None)
        .await
        .unwrap();
    assert_eq!(simple.mime_type.as_deref(), Some("image/png"));
    assert_eq!(simple.size_bytes.map(|n| n.get()), Some(small.len() as i64));
    assert_eq!(simple.sha256_hash.as_deref(), Some(&*sha256_hash(&small)));
    let sent = server.received_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path(), "/upload/v1beta/files");
    assert_eq!(sent[0].header("x-goog-upload-protocol"), Some("raw"));
    assert_eq!(sent[0].header("x-goog-api-key"), Some("***"));
    assert_eq!(sent[0].body(), Some(&small[..]));

    // Resumable: five chunks of 64 KiB (the last one shorter).
    let large: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let resumable = client
        .files()
        .upload(large.clone(), "application/octet-stream", None)
        .await
        .unwrap();
    assert_eq!(
        resumable.size_bytes.map(|n| n.get()),
        Some(large.len() as i64)
    );
    assert_eq!(
        resumable.sha256_hash.as_deref(),
        Some(&*sha256_hash(&large))
    );
    let sent = &server.received_requests()[1..];
    assert_eq!(sent.len(), 6, "a start and five chunks");
    assert_eq!(sent[0].header("x-goog-upload-protocol"), Some("resumable"));
    assert_eq!(sent[0].header("x-goog-upload-command"), Some("start"));
    assert_eq!(
        sent[0].header("x-goog-upload-header-content-length"),
        Some("300000")
    );
    assert_eq!(sent[0].header("x-goog-api-key"), Some("***"));
    for (i, chunk_request) in sent[1..].iter().enumerate() {
        let last = i == 4;
        assert_eq!(
            chunk_request.header("x-goog-upload-command"),
            Some(if last { "upload, finalize" } else { "upload" })
        );
        assert_eq!(
            chunk_request.header("x-goog-upload-offset"),
            Some(&*(i * chunk).to_string())
        );
        assert_eq!(
            chunk_request.header("x-goog-api-key"),
            None,
            "chunks carry no key"
        );
        assert_eq!(
            chunk_request.header("content-type"),
            Some("application/octet-stream")
        );
        assert_eq!(
            chunk_request.body_len(),
            if last { 300_000 - 4 * chunk } else { chunk }
        );
        assert_eq!(chunk_request.status(), 200);
    }

    // A display name needs the resumable protocol, even for a small file.
    let named = client
        .files()
        .upload(small.clone(), "image/png", Some("a small banana"))
        .await
        .unwrap();
    assert_eq!(named.display_name.as_deref(), Some("a small banana"));
    assert_eq!(server.received_requests().len(), 1 + 6 + 2);

    let got = client
        .files()
        .get(named.name.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(got, named);
    let listed: BTreeSet<String> = client
        .files()
        .list(Some(2))
        .map(|file| file.unwrap().name.unwrap())
        .collect()
        .await;
    let all: BTreeSet<String> = [&simple, &resumable, &named]
        .iter()
        .map(|f| f.name.clone().unwrap())
        .collect();
    assert_eq!(listed, all);

    let gone = resumable.name.as_deref().unwrap();
    client.files().delete(gone).await.unwrap();
    let error = client.files().get(gone).await.unwrap_err();
    assert_eq!(error.status(), Some(403));
    assert_eq!(
        error.api_error().unwrap().status(),
        Some("PERMISSION_DENIED")
    );
    assert_eq!(client.files().list(None).count().await, 2);
}

/// SPEC.md §1 ("without aspectRatio, the output matches the input image's size") through the
/// Files API: a request that refers to an uploaded 3:2 image by `fileData.fileUri` gets a 3:2
/// answer, so the server read the uploaded bytes; an unknown URI is refused.
#[tokio::test]
async fn a_request_can_refer_to_an_uploaded_file_by_uri() {
    let server = simulator().await;
    let client = client(&server);
    let photo = render(ImageFormat::Png, Style::Final, 1200, 800, b"a photo").unwrap();
    let file = client
        .files()
        .upload(photo, "image/png", None)
        .await
        .unwrap();
    let uri = file.uri.unwrap();
    let request = prompt("x").with_contents([Content::user([
        Part::from_text("Make the sky purple"),
        Part::from_file_uri("image/png", &uri),
    ])]);
    let response = client.generate_content(PRO, &request).await.unwrap();
    let entry = resolution::table().get(PRO, &"3:2".into(), None).unwrap();
    assert_eq!(
        png_dimensions(&final_images(&response)[0]),
        (entry.width(), entry.height())
    );
    let sent = server.received_requests()[1].json().unwrap();
    assert_eq!(sent["contents"][0]["parts"][1]["fileData"]["fileUri"], uri);

    let missing = uri.replace(file.name.as_deref().unwrap(), "files/not-uploaded");
    let request = prompt("x").with_contents([Content::user([
        Part::from_text("Make the sky purple"),
        Part::from_file_uri("image/png", missing),
    ])]);
    let error = client.generate_content(PRO, &request).await.unwrap_err();
    assert_eq!(error.status(), Some(403));
    assert!(
        error
            .to_string()
            .contains("You do not have permission to access the File not-uploaded"),
        "{error}"
    );
}

/// WIRE.md "Endpoints": the model list holds the three image models; get takes an id or a
/// resource name; an unknown model is a typed 404.
#[tokio::test]
async fn models_list_and_get() {
    let server = simulator().await;
    let client = client(&server);
    let names: BTreeSet<String> = client
        .models()
        .list(None)
        .map(|model| model.unwrap().name.unwrap())
        .collect()
        .await;
    for model in [FLASH31, PRO, FLASH25] {
        assert!(names.contains(&format!("models/{model}")), "{names:?}");
    }
    let pro = client.models().get(PRO).await.unwrap();
    assert_eq!(pro.name.as_deref(), Some(&*format!("models/{PRO}")));
    assert_eq!(pro.base_model_id.as_deref(), Some(PRO));
    let flash = client
        .models()
        .get(&format!("models/{FLASH25}"))
        .await
        .unwrap();
    assert_eq!(flash.base_model_id.as_deref(), Some(FLASH25));
    let error = client
        .models()
        .get("gemini-0-banana-image")
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.api_error().unwrap().status(), Some("NOT_FOUND"));
    assert_eq!(
        journal(&server),
        [
            "GET /v1beta/models -> 200".to_owned(),
            format!("GET /v1beta/models/{PRO} -> 200"),
            format!("GET /v1beta/models/{FLASH25} -> 200"),
            "GET /v1beta/models/gemini-0-banana-image -> 404".to_owned(),
        ]
    );
}

/// SPEC.md §4: over three turns, every model turn is sent back exactly as received (the fake
/// server authenticates each signature against the bytes it signed); a tampered signature is
/// the service's typed `400 INVALID_ARGUMENT: Corrupted thought signature.`, not retried.
#[tokio::test]
async fn signatures_circulate_over_three_turns_and_tampering_is_refused() {
    let server = simulator().await;
    let client = client(&server);
    for model in [PRO, FLASH31] {
        let mut history = vec![Content::user([Part::from_text(
            "Create a logo of a fox made of origami",
        )])];
        for next in ["Make it blue", "Now add the word FOX below it", "Thanks"] {
            let request = image_request("x", None, None).with_contents(history.clone());
            let response = client.generate_content(model, &request).await.unwrap();
            let content = response.candidates[0].content.clone().unwrap();
            assert_eq!(signature_violations(&content.parts).count(), 0, "{model}");
            assert!(
                content.parts.iter().any(|p| p.thought_signature.is_some()),
                "{model}: the answer is signed"
            );
            history.push(content);
            history.push(Content::user([Part::from_text(next)]));
        }
        // The third request carried the first two model turns exactly as received.
        let third = server.received_requests().last().unwrap().json().unwrap();
        for index in [1, 3] {
            assert_eq!(
                third["contents"][index],
                serde_json::to_value(&history[index]).unwrap(),
                "{model}: content {index}"
            );
        }

        // Tamper with one byte of the image's signature in the first model turn.
        let before = server.received_requests().len();
        let image = history[1]
            .parts
            .iter()
            .position(|p| p.inline_data.is_some())
            .unwrap();
        let signature = history[1].parts[image].thought_signature.take().unwrap();
        let mut bytes = signature.into_vec();
        bytes[0] ^= 0x01;
        history[1].parts[image].thought_signature = Some(Base64Bytes::new(bytes));
        history.truncate(5);
        let request = image_request("x", None, None).with_contents(history);
        let error = client.generate_content(model, &request).await.unwrap_err();
        let api = error.api_error().expect("the service's answer");
        assert_eq!(api.http_status(), 400);
        assert_eq!(api.status(), Some("INVALID_ARGUMENT"));
        assert_eq!(api.message(), "Corrupted thought signature.");
        assert!(!error.is_retryable());
        assert_eq!(
            error.to_string(),
            "Gemini API error 400 INVALID_ARGUMENT: Corrupted thought signature."
        );
        assert_eq!(server.received_requests().len(), before + 1, "not retried");
    }
}

/// A directory under the system's temporary directory, removed when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(label: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "nanobanana-transport-{label}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic bytes that do not compress: an image-sized payload without an encoder.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(len + 8);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// WIRE.md "Streaming": an image arrives whole inside one event. An event of more than 30 MB
/// (24 MiB of image bytes as base64), replayed by the fake server from a scratch corpus built
/// here (a case file and a content-addressed blob), is decoded intact.
#[tokio::test]
async fn a_30_mb_image_event_is_decoded_intact() {
    let scratch = ScratchDir::new("large-event");
    let image = noise(24 << 20);
    let hex = sha256_hex(&image);
    let blobs = scratch.0.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(blobs.join(&hex), &image).unwrap();

    let request = image_request("One very large banana", Some("1:1"), Some("4K"));
    let image_event = json!({"candidates": [{"content": {"role": "model", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": {"$blob": format!("sha256/{hex}")}},
         "thoughtSignature": "c2lnbmF0dXJl"}]}, "index": 0}]});
    let case = json!({
        "id": "stream/large-image-event",
        "description": "One image event of more than 30 MB between two small ones.",
        "rules": [],
        "provenance": "synthetic",
        "interactions": [{
            "request": {
                "method": "POST",
                "path": stream_path(PRO),
                "query": {"alt": "sse"},
                "body": serde_json::to_value(&request).unwrap(),
            },
            "response": {
                "status": 200,
                "headers": {"content-type": "text/event-stream"},
                "events": [
                    {"candidates": [{"content": {"role": "model", "parts": [{"text": "Here it is."}]}, "index": 0}]},
                    image_event,
                    {"candidates": [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}]},
                ],
            },
        }],
    });
    let cases = scratch.0.join("cases/stream");
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::write(
        cases.join("large-image-event.json"),
        serde_json::to_vec_pretty(&case).unwrap(),
    )
    .unwrap();

    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Replay)
        .fixtures(&scratch.0)
        .start()
        .await;
    let started = std::time::Instant::now();
    let chunks: Vec<GenerateContentResponse> = client(&server)
        .stream_generate_content(PRO, &request)
        .map(|item| item.expect("every chunk decodes"))
        .collect()
        .await;
    let elapsed = started.elapsed();
    assert_eq!(chunks.len(), 3);
    let received = final_images(&chunks[1]);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].len(), image.len());
    assert!(received[0] == image, "the image bytes differ");
    assert_eq!(sha256_hex(&received[0]), hex);
    assert_eq!(
        chunks[2].candidates[0].finish_reason,
        Some(FinishReason::Stop)
    );
    // The event as the server framed it: `data: ` + one line of JSON + a blank line.
    let event_len = "data: ".len() + image.len().div_ceil(3) * 4 + 2;
    assert!(event_len > 30_000_000, "{event_len} bytes");
    assert!(
        elapsed < std::time::Duration::from_secs(60),
        "{elapsed:?}: a large event must not be buffered quadratically"
    );
    assert_eq!(
        journal(&server),
        [format!("POST {} -> 200", stream_path(PRO))]
    );
}

/// The `reqwest-client` feature: the caller's own reqwest client carries the calls (its default
/// headers arrive), with the key and user agent of the configuration.
#[cfg(feature = "reqwest-client")]
#[tokio::test]
async fn a_custom_reqwest_client_carries_the_calls() {
    let server = simulator().await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-custom-client", "yes".parse().unwrap());
    let custom = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    let client = client_with(config(&server).with_reqwest_client(custom));
    client.models().get(PRO).await.unwrap();
    let sent = &server.received_requests()[0];
    assert_eq!(sent.header("x-custom-client"), Some("yes"));
    assert_eq!(sent.header("x-goog-api-key"), Some("***"));
    assert!(
        sent.header("user-agent")
            .unwrap()
            .starts_with("nanobanana-transport/")
    );
}
