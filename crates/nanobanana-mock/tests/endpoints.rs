//! Every endpoint over real TCP: generate (whole, SSE with LF and CRLF, JSON array), batches,
//! files (raw, multipart, resumable uploads; get, list, delete, download), models, and auth.

mod common;

use common::*;
use nanobanana_mock::image::{ImageFormat, Style, render, sniff};
use nanobanana_mock::{Endpoint, LineEnding, MockGemini};
use nanobanana_rules::catalogue;
use serde_json::{Value, json};

const VERSIONS: [&str; 2] = ["v1beta", "v1"];

fn table_size(model: &str, ratio: &str, size: Option<&str>) -> (u32, u32, u32) {
    let entry = table_entry(model, ratio, size);
    (entry.width(), entry.height(), entry.tokens())
}

#[tokio::test]
async fn generate_content_answers_under_v1beta_and_v1() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let body = image_request("A nano banana dish", &["TEXT", "IMAGE"], None, None);
    let mut answers = Vec::new();
    for version in VERSIONS {
        let answer = post_json(
            &server,
            &format!("/{version}/models/{FLASH31}:generateContent"),
            &body,
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text_head());
        assert!(
            answer
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{:?}",
            answer.header("content-type")
        );
        let json = answer.json();
        let candidate = &json["candidates"][0];
        assert_eq!(candidate["content"]["role"], "model");
        assert_eq!(candidate["finishReason"], "STOP");
        assert_eq!(json["modelVersion"], FLASH31);
        assert_eq!(json["responseId"].as_str().map(str::len), Some(23));
        let finals = final_images(&json);
        assert_eq!(finals.len(), 1);
        assert_eq!(finals[0].mime_type, "image/png");
        assert_eq!(
            sniff(&finals[0].bytes),
            Some((ImageFormat::Png, 1024, 1024))
        );
        let texts = parts(&json)
            .iter()
            .filter(|p| p.get("text").is_some())
            .count();
        assert_eq!(texts, 1, "one text part with TEXT and IMAGE asked for");
        answers.push(answer.body);
    }
    // The version does not change the answer.
    assert_eq!(answers[0], answers[1]);
    let journal = server.received_requests();
    assert_eq!(journal.len(), 2);
    assert!(
        journal
            .iter()
            .all(|r| r.endpoint() == Some(Endpoint::GenerateContent) && r.model() == Some(FLASH31))
    );
    // The key is redacted in the journal.
    assert_eq!(journal[0].header("x-goog-api-key"), Some("***"));
}

/// Checks the framing and content rules of a simulated SSE answer; returns the events.
fn check_stream(answer: &Answer, line_ending: &str) -> Vec<Value> {
    assert_eq!(answer.status, 200, "{}", answer.text_head());
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    let raw = answer.text();
    // Exact framing: `data: <json>` + line ending + blank line, nothing else.
    let terminator = format!("{line_ending}{line_ending}");
    assert!(
        raw.ends_with(&terminator),
        "the stream ends with a blank line"
    );
    let pieces: Vec<&str> = raw.split(&terminator).collect();
    assert_eq!(pieces.last(), Some(&""));
    for piece in &pieces[..pieces.len() - 1] {
        assert!(piece.starts_with("data: {"), "{piece:.100}");
        assert!(
            !piece.contains('\n') && !piece.contains('\r'),
            "one line per event"
        );
    }
    if line_ending == "\n" {
        assert!(!raw.contains('\r'), "LF framing has no CR");
    } else {
        assert_eq!(
            raw.matches('\n').count(),
            raw.matches("\r\n").count(),
            "every LF is part of a CRLF"
        );
    }
    let events = answer.events();
    assert_eq!(events.len(), pieces.len() - 1);
    assert!(events.len() >= 3, "text chunks, an image and a last chunk");

    // Every chunk repeats role, modelVersion and responseId; usage is cumulative.
    let response_id = events[0]["responseId"].clone();
    let mut previous = 0;
    for event in &events {
        assert_eq!(event["candidates"][0]["content"]["role"], "model");
        assert_eq!(event["modelVersion"], FLASH31);
        assert_eq!(event["responseId"], response_id);
        let count = event["usageMetadata"]["candidatesTokenCount"]
            .as_u64()
            .unwrap_or(0);
        assert!(
            count >= previous,
            "usage is cumulative: {count} < {previous}"
        );
        previous = count;
        assert!(event["usageMetadata"]["totalTokenCount"].is_u64());
    }
    // The last chunk: no parts, finishReason STOP.
    let last = events.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(last["candidates"][0]["content"].get("parts").is_none());
    assert_eq!(last["candidates"][0]["content"], json!({"role": "model"}));
    for event in &events[..events.len() - 1] {
        assert!(event["candidates"][0].get("finishReason").is_none());
    }
    // Each image whole in one event: one event holds exactly one image part and nothing else.
    let image_events: Vec<&Value> = events
        .iter()
        .filter(|e| !images(&parts(e)).is_empty())
        .collect();
    assert_eq!(image_events.len(), 1);
    assert_eq!(parts(image_events[0]).len(), 1);
    let image = &images(&parts(image_events[0]))[0];
    assert_eq!(sniff(&image.bytes), Some((ImageFormat::Png, 1024, 1024)));
    events
}

#[tokio::test]
async fn stream_sse_with_lf_under_both_versions_matches_the_whole_answer() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let body = image_request(
        "A lighthouse at dusk, loose watercolor washes over the whole sky",
        &["TEXT", "IMAGE"],
        None,
        None,
    );
    let whole = generate(&server, FLASH31, &body).await.json();
    for version in VERSIONS {
        let answer = post_json(
            &server,
            &format!("/{version}/models/{FLASH31}:streamGenerateContent?alt=sse"),
            &body,
        )
        .await;
        let events = check_stream(&answer, "\n");
        // Text comes in several chunks that concatenate to the whole answer's text.
        let streamed = stream_parts(&events);
        let texts: Vec<&str> = streamed.iter().filter_map(|p| p["text"].as_str()).collect();
        assert!(texts.len() > 1, "text arrives in small chunks");
        let whole_parts = parts(&whole);
        let whole_text: String = whole_parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect();
        assert_eq!(texts.concat(), whole_text);
        // The streamed image is the same image, with the same signature.
        assert_eq!(
            images(&streamed)[0].bytes,
            final_images(&whole)[0].bytes,
            "same request, same image"
        );
        let image_signature = |ps: &[Value]| {
            ps.iter()
                .find(|p| p.get("inlineData").is_some())
                .map(|p| p["thoughtSignature"].clone())
        };
        assert_eq!(image_signature(&streamed), image_signature(&whole_parts));
        // The final usage equals the whole answer's.
        assert_eq!(
            events.last().unwrap()["usageMetadata"],
            whole["usageMetadata"]
        );
    }
}

#[tokio::test]
async fn stream_sse_with_crlf_has_the_same_events() {
    let lf = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let crlf = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .line_ending(LineEnding::Crlf)
        .start()
        .await;
    let body = image_request("A red bicycle by a canal", &["TEXT", "IMAGE"], None, None);
    let lf_answer = stream(&lf, FLASH31, &body).await;
    let crlf_answer = stream(&crlf, FLASH31, &body).await;
    let lf_events = check_stream(&lf_answer, "\n");
    let crlf_events = check_stream(&crlf_answer, "\r\n");
    assert_eq!(lf_events, crlf_events);
    assert_ne!(lf_answer.body, crlf_answer.body);
}

#[tokio::test]
async fn stream_without_alt_is_one_json_array_of_the_chunks() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let body = image_request("A paper crane on a desk", &["TEXT", "IMAGE"], None, None);
    let sse = stream(&server, FLASH31, &body).await.events();
    for version in VERSIONS {
        let array = post_json(
            &server,
            &format!("/{version}/models/{FLASH31}:streamGenerateContent"),
            &body,
        )
        .await;
        assert_eq!(array.status, 200);
        assert!(
            array
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json"))
        );
        let chunks = array.json();
        let chunks = chunks.as_array().expect("a JSON array");
        assert_eq!(chunks, &sse);
    }
}

/// Creates an inline batch of two requests; returns the batch id.
async fn create_inline_batch(server: &MockGemini, version: &str, name: &str) -> String {
    let body = json!({"batch": {
        "displayName": name,
        "inputConfig": {"requests": {"requests": [
            {"request": image_request("A cat in a hat", &["IMAGE"], Some("16:9"), None), "metadata": {"key": "cat"}},
            {"request": prompt("A dog on a log"), "metadata": {"key": "dog"}}
        ]}}
    }});
    let answer = post_json(
        server,
        &format!("/{version}/models/{FLASH31}:batchGenerateContent"),
        &body,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text_head());
    let op = answer.json();
    let name_field = op["name"].as_str().expect("operation name").to_owned();
    let id = name_field
        .strip_prefix("batches/")
        .expect("batches/{id}")
        .to_owned();
    assert!(!id.is_empty() && !id.contains('/'));
    assert_eq!(op["metadata"]["name"], json!(name_field));
    assert_eq!(op["metadata"]["state"], "BATCH_STATE_PENDING");
    assert_eq!(op["metadata"]["model"], json!(format!("models/{FLASH31}")));
    assert_eq!(op["metadata"]["displayName"], json!(name));
    assert_eq!(op["metadata"]["batchStats"]["requestCount"], "2");
    assert!(op.get("done").is_none(), "done: false is left out");
    id
}

#[tokio::test]
async fn inline_batch_runs_to_success_under_both_versions() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    for version in VERSIONS {
        let id = create_inline_batch(&server, version, "inline").await;
        let running = get(&server, &format!("/{version}/batches/{id}")).await;
        assert_eq!(running.status, 200);
        assert_eq!(running.json()["metadata"]["state"], "BATCH_STATE_RUNNING");
        assert!(running.json().get("done").is_none());
        let done = get(&server, &format!("/{version}/batches/{id}"))
            .await
            .json();
        assert_eq!(done["metadata"]["state"], "BATCH_STATE_SUCCEEDED");
        assert_eq!(done["done"], true);
        assert!(done["metadata"]["endTime"].is_string());
        let responses = done["metadata"]["output"]["inlinedResponses"]["inlinedResponses"]
            .as_array()
            .expect("inlined responses")
            .clone();
        assert_eq!(responses.len(), 2);
        assert_eq!(responses[0]["metadata"], json!({"key": "cat"}));
        assert_eq!(responses[1]["metadata"], json!({"key": "dog"}));
        let cat = final_images(&responses[0]["response"]);
        assert_eq!(cat.len(), 1);
        let (w, h, _) = table_size(FLASH31, "16:9", Some("1K"));
        assert_eq!(sniff(&cat[0].bytes), Some((ImageFormat::Png, w, h)));
        assert_eq!(final_images(&responses[1]["response"]).len(), 1);
        // Finished batches stay finished.
        let again = get(&server, &format!("/{version}/batches/{id}"))
            .await
            .json();
        assert_eq!(again, done);
    }
}

/// Batch items can carry a fault of their own (`metadata["x-nanobanana-fault"]`, in the fault
/// header's syntax): one item gets an outcome, another an error, the rest succeed; `batchStats`
/// counts them once the batch has run (pending until then).
#[tokio::test]
async fn batch_items_carry_their_own_faults_and_stats_count_them() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .batch_polls(0)
        .start()
        .await;
    let body = json!({"batch": {"inputConfig": {"requests": {"requests": [
        {"request": prompt("A cat"), "metadata": {"key": "ok"}},
        {"request": prompt("A dog"), "metadata": {"key": "no-image", "x-nanobanana-fault": "outcome=no-image"}},
        {"request": prompt("A cow"), "metadata": {"key": "fails", "x-nanobanana-fault": "status=500"}},
        {"request": prompt("A fox"), "metadata": {"key": "bad", "x-nanobanana-fault": "status=7"}}
    ]}}}});
    let answer = post_json(
        &server,
        &format!("/v1beta/models/{FLASH31}:batchGenerateContent"),
        &body,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text_head());
    let created = answer.json();
    assert_eq!(
        created["metadata"]["batchStats"],
        json!({"requestCount": "4", "pendingRequestCount": "4"})
    );
    let name = created["name"].as_str().unwrap().to_owned();
    let done = get(&server, &format!("/v1beta/{name}")).await.json();
    assert_eq!(done["metadata"]["state"], "BATCH_STATE_SUCCEEDED");
    assert_eq!(
        done["metadata"]["batchStats"],
        json!({"requestCount": "4", "successfulRequestCount": "2", "failedRequestCount": "2"})
    );
    let items = done["metadata"]["output"]["inlinedResponses"]["inlinedResponses"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(final_images(&items[0]["response"]).len(), 1);
    assert_eq!(
        items[1]["response"]["candidates"][0]["finishReason"],
        "NO_IMAGE"
    );
    assert_eq!(items[2]["error"]["code"], 500);
    assert_eq!(items[2]["error"]["status"], "INTERNAL");
    assert_eq!(items[3]["error"]["code"], 400);
    assert!(
        items[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("status"),
        "{}",
        items[3]["error"]
    );
}

/// A batch item's fault takes only what can happen to one item (`status` with its
/// `retry-delay`, `outcome`); anything else, or a fault that is not a string, is that item's
/// 400 naming what is allowed, never silently ignored.
#[tokio::test]
async fn batch_item_faults_take_status_retry_delay_and_outcome_only() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .batch_polls(0)
        .start()
        .await;
    let body = json!({"batch": {"inputConfig": {"requests": {"requests": [
        {"request": prompt("A cat"), "metadata": {"x-nanobanana-fault": "status=429; retry-delay=2s"}},
        {"request": prompt("A dog"), "metadata": {"x-nanobanana-fault": "delay=10ms"}},
        {"request": prompt("A cow"), "metadata": {"x-nanobanana-fault": 500}}
    ]}}}});
    let path = format!("/v1beta/models/{FLASH31}:batchGenerateContent");
    let created = post_json(&server, &path, &body).await.json();
    let name = created["name"].as_str().unwrap().to_owned();
    let done = get(&server, &format!("/v1beta/{name}")).await.json();
    let items = &done["metadata"]["output"]["inlinedResponses"]["inlinedResponses"];
    assert_eq!(items[0]["error"]["code"], 429);
    let retry = items[0]["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo")
        .cloned();
    assert_eq!(retry.unwrap()["retryDelay"], "2s");
    for (item, expected) in [
        (
            &items[1],
            "only status, retry-delay and outcome apply to a batch item",
        ),
        (
            &items[2],
            "must be a string of the fault header's directives",
        ),
    ] {
        assert_eq!(item["error"]["code"], 400, "{item}");
        let message = item["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }
    assert_eq!(
        done["metadata"]["batchStats"],
        json!({"requestCount": "3", "successfulRequestCount": "0", "failedRequestCount": "3"})
    );
}

/// A batch cancelled before it ran reports its size in `batchStats`, and neither successes nor
/// failures (WIRE.md "Batch wire shapes": nothing ran, so nothing succeeded).
#[tokio::test]
async fn a_batch_cancelled_before_it_ran_counts_no_successes() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .batch_polls(5)
        .start()
        .await;
    let id = create_inline_batch(&server, "v1beta", "cancelled").await;
    let cancel = post_json(&server, &format!("/v1beta/batches/{id}:cancel"), &json!({})).await;
    assert_eq!(cancel.status, 200);
    let cancelled = get(&server, &format!("/v1beta/batches/{id}")).await.json();
    assert_eq!(cancelled["metadata"]["state"], "BATCH_STATE_CANCELLED");
    assert_eq!(
        cancelled["metadata"]["batchStats"],
        json!({"requestCount": "2"})
    );
}

#[tokio::test]
async fn batches_list_in_pages_cancel_and_delete() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .batch_polls(5)
        .start()
        .await;
    let mut created = Vec::new();
    for name in ["one", "two", "three"] {
        created.push(create_inline_batch(&server, "v1beta", name).await);
    }

    // Pagination: two pages of at most 2.
    let first = get(&server, "/v1beta/batches?pageSize=2").await;
    assert_eq!(first.status, 200);
    let first = first.json();
    assert_eq!(first["operations"].as_array().map(Vec::len), Some(2));
    let token = first["nextPageToken"].as_str().expect("a next page token");
    let second = get(
        &server,
        &format!(
            "/v1beta/batches?pageSize=2&pageToken={}",
            token
                .replace('=', "%3D")
                .replace('+', "%2B")
                .replace('/', "%2F")
        ),
    )
    .await
    .json();
    assert_eq!(second["operations"].as_array().map(Vec::len), Some(1));
    assert!(second.get("nextPageToken").is_none());
    let mut listed: Vec<String> = first["operations"]
        .as_array()
        .into_iter()
        .chain(second["operations"].as_array())
        .flatten()
        .map(|op| {
            op["name"]
                .as_str()
                .unwrap()
                .trim_start_matches("batches/")
                .to_owned()
        })
        .collect();
    listed.sort();
    let mut expected = created.clone();
    expected.sort();
    assert_eq!(listed, expected);
    let all = get(&server, "/v1/batches").await.json();
    assert_eq!(all["operations"].as_array().map(Vec::len), Some(3));
    let bad = get(&server, "/v1beta/batches?pageToken=garbage!").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["status"], "INVALID_ARGUMENT");

    // Cancel a running batch: {} then CANCELLED and done; a second cancel is refused.
    let id = &created[0];
    let cancel = post_json(&server, &format!("/v1beta/batches/{id}:cancel"), &json!({})).await;
    assert_eq!(cancel.status, 200);
    assert_eq!(cancel.json(), json!({}));
    let cancelled = get(&server, &format!("/v1beta/batches/{id}")).await.json();
    assert_eq!(cancelled["metadata"]["state"], "BATCH_STATE_CANCELLED");
    assert_eq!(cancelled["done"], true);
    assert!(cancelled["metadata"].get("output").is_none());
    let twice = post_json(&server, &format!("/v1/batches/{id}:cancel"), &json!({})).await;
    assert_eq!(twice.status, 400);

    // Delete: {} then 404 on get, cancel and delete.
    let deleted = delete(&server, &format!("/v1/batches/{id}")).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json(), json!({}));
    get(&server, &format!("/v1beta/batches/{id}"))
        .await
        .assert_error(404, "NOT_FOUND", "Requested entity was not found.");
    delete(&server, &format!("/v1beta/batches/{id}"))
        .await
        .assert_error(404, "NOT_FOUND", "Requested entity was not found.");
    post_json(&server, &format!("/v1beta/batches/{id}:cancel"), &json!({}))
        .await
        .assert_error(404, "NOT_FOUND", "Requested entity was not found.");
    let rest = get(&server, "/v1beta/batches").await.json();
    assert_eq!(rest["operations"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn batch_from_an_uploaded_jsonl_file_writes_a_downloadable_responses_file() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .batch_polls(0)
        .start()
        .await;
    let jsonl = [
        json!({"key": "poster-1", "request": image_request("A travel poster of Lisbon trams", &["TEXT", "IMAGE"], Some("2:3"), None)}),
        json!({"key": "poster-2", "request": {"contents": [{"parts": [{"text": "Fjords"}]}], "generation_config": {"response_modalities": ["IMAGE"], "image_config": {"aspect_ratio": "2:3"}}}}),
        json!({"key": "bad", "request": image_request("Bad size", &["IMAGE"], None, Some("1k"))}),
    ]
    .iter()
    .map(|l| format!("{l}\n"))
    .collect::<String>();
    let upload = post_bytes(
        &server,
        "/upload/v1beta/files",
        jsonl.clone(),
        &[
            ("x-goog-upload-protocol", "raw"),
            ("content-type", "application/jsonl"),
        ],
    )
    .await;
    assert_eq!(upload.status, 200, "{}", upload.text_head());
    let file = upload.json()["file"].clone();
    assert_eq!(file["mimeType"], "application/jsonl");
    assert_eq!(file["sizeBytes"], json!(jsonl.len().to_string()));

    let create = post_json(
        &server,
        &format!("/v1beta/models/{FLASH31}:batchGenerateContent"),
        &json!({"batch": {"displayName": "posters", "inputConfig": {"fileName": file["name"]}}}),
    )
    .await;
    assert_eq!(create.status, 200, "{}", create.text_head());
    let name = create.json()["name"].as_str().unwrap().to_owned();
    let done = get(&server, &format!("/v1beta/{name}")).await.json();
    assert_eq!(done["metadata"]["state"], "BATCH_STATE_SUCCEEDED");
    assert_eq!(done["done"], true);
    let responses_file = done["metadata"]["output"]["responsesFile"]
        .as_str()
        .expect("responsesFile")
        .to_owned();
    let id = responses_file.strip_prefix("files/").expect("files/{id}");

    // The output file is a stored file: get, list and download it.
    let resource = get(&server, &format!("/v1beta/files/{id}")).await;
    assert_eq!(resource.status, 200);
    assert_eq!(resource.json()["name"], json!(responses_file));
    let listed = get(&server, "/v1beta/files").await.json();
    assert!(
        listed["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == json!(responses_file))
    );
    let download = get(
        &server,
        &format!("/download/v1beta/files/{id}:download?alt=media"),
    )
    .await;
    assert_eq!(download.status, 200);
    let lines: Vec<Value> = download
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["key"], "poster-1");
    assert_eq!(lines[1]["key"], "poster-2");
    let (w, h, _) = table_size(FLASH31, "2:3", Some("1K"));
    for line in &lines[..2] {
        let finals = final_images(&line["response"]);
        assert_eq!(finals.len(), 1, "{}", line["key"]);
        assert_eq!(sniff(&finals[0].bytes), Some((ImageFormat::Png, w, h)));
    }
    // A request the service would reject becomes an error line.
    assert_eq!(lines[2]["key"], "bad");
    assert_eq!(lines[2]["error"]["code"], 400);
    assert!(lines[2].get("response").is_none());

    // An unknown input file is refused.
    let missing = post_json(
        &server,
        &format!("/v1beta/models/{FLASH31}:batchGenerateContent"),
        &json!({"batch": {"inputConfig": {"fileName": "files/nosuchfile"}}}),
    )
    .await;
    missing.assert_error(
        403,
        "PERMISSION_DENIED",
        "You do not have permission to access the File nosuchfile or it may not exist.",
    );
}

fn png(width: u32, height: u32, seed: &[u8]) -> Vec<u8> {
    render(ImageFormat::Png, Style::Final, width, height, seed).expect("render")
}

#[tokio::test]
async fn raw_upload_then_get_list_download_and_delete() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let bytes = png(64, 48, b"raw upload");
    let upload = post_bytes(
        &server,
        "/upload/v1/files",
        bytes.clone(),
        &[
            ("x-goog-upload-protocol", "raw"),
            ("x-goog-upload-file-name", "tiny.png"),
            ("content-type", "image/png"),
        ],
    )
    .await;
    assert_eq!(upload.status, 200, "{}", upload.text_head());
    let file = upload.json()["file"].clone();
    let name = file["name"].as_str().unwrap().to_owned();
    let id = name.strip_prefix("files/").unwrap().to_owned();
    assert_eq!(file["mimeType"], "image/png");
    assert_eq!(file["displayName"], "tiny.png");
    assert_eq!(file["sizeBytes"], json!(bytes.len().to_string()));
    assert_eq!(file["state"], "ACTIVE");
    assert_eq!(
        file["uri"],
        json!(format!("{}/v1beta/files/{id}", server.uri()))
    );

    for version in VERSIONS {
        let got = get(&server, &format!("/{version}/files/{id}")).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.json(), file);
    }
    let listed = get(&server, "/v1beta/files").await.json();
    assert_eq!(listed["files"], json!([file]));
    let download = get(
        &server,
        &format!("/download/v1beta/files/{id}:download?alt=media"),
    )
    .await;
    assert_eq!(download.status, 200);
    assert_eq!(download.header("content-type"), Some("image/png"));
    assert_eq!(download.body.as_ref(), bytes.as_slice());

    let deleted = delete(&server, &format!("/v1beta/files/{id}")).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json(), json!({}));
    let gone = format!("You do not have permission to access the File {id} or it may not exist.");
    get(&server, &format!("/v1beta/files/{id}"))
        .await
        .assert_error(403, "PERMISSION_DENIED", &gone);
    delete(&server, &format!("/v1beta/files/{id}"))
        .await
        .assert_error(403, "PERMISSION_DENIED", &gone);
    get(&server, &format!("/download/v1beta/files/{id}:download"))
        .await
        .assert_error(403, "PERMISSION_DENIED", &gone);
    assert_eq!(
        get(&server, "/v1beta/files").await.json()["files"],
        json!([])
    );
}

#[tokio::test]
async fn file_list_pages() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let mut names = Vec::new();
    for i in 0..3u8 {
        let upload = post_bytes(
            &server,
            "/upload/v1beta/files",
            vec![i; 10],
            &[("content-type", "application/octet-stream")],
        )
        .await;
        names.push(upload.json()["file"]["name"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut path = "/v1beta/files?pageSize=1".to_owned();
    for page in 0.. {
        assert!(page < 3, "three files, three pages");
        let answer = get(&server, &path).await.json();
        let files = answer["files"].as_array().unwrap();
        assert_eq!(files.len(), 1);
        seen.push(files[0]["name"].as_str().unwrap().to_owned());
        match answer["nextPageToken"].as_str() {
            Some(token) => {
                path = format!(
                    "/v1beta/files?pageSize=1&pageToken={}",
                    token.replace('=', "%3D")
                );
            }
            None => break,
        }
    }
    seen.sort();
    names.sort();
    assert_eq!(seen, names);
}

#[tokio::test]
async fn multipart_upload_stores_the_media_with_its_metadata() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let bytes = png(32, 32, b"multipart");
    let boundary = "nanobanana-boundary-42";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{}\r\n--{boundary}\r\nContent-Type: image/png\r\n\r\n",
            json!({"file": {"display_name": "multi.png", "mime_type": "image/png"}})
        )
        .as_bytes(),
    );
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let upload = post_bytes(
        &server,
        "/upload/v1beta/files",
        body,
        &[
            ("x-goog-upload-protocol", "multipart"),
            (
                "content-type",
                &format!("multipart/related; boundary={boundary}"),
            ),
        ],
    )
    .await;
    assert_eq!(upload.status, 200, "{}", upload.text_head());
    let file = upload.json()["file"].clone();
    assert_eq!(file["displayName"], "multi.png");
    assert_eq!(file["mimeType"], "image/png");
    assert_eq!(file["sizeBytes"], json!(bytes.len().to_string()));
    let id = file["name"].as_str().unwrap().trim_start_matches("files/");
    let download = get(&server, &format!("/download/v1beta/files/{id}:download")).await;
    assert_eq!(download.body.as_ref(), bytes.as_slice());

    // Without a boundary: a clear 400.
    let bad = post_bytes(
        &server,
        "/upload/v1beta/files",
        "x",
        &[
            ("x-goog-upload-protocol", "multipart"),
            ("content-type", "multipart/related"),
        ],
    )
    .await;
    assert_eq!(bad.status, 400);
}

/// Sends a resumable-upload chunk the way the SDKs do: no API key.
async fn chunk(url: &str, command: &str, offset: Option<usize>, data: Vec<u8>) -> Answer {
    let mut request = client()
        .post(url)
        .header("x-goog-upload-command", command)
        .header("content-type", "application/json")
        .body(data);
    if let Some(offset) = offset {
        request = request.header("x-goog-upload-offset", offset.to_string());
    }
    send(request).await
}

#[tokio::test]
async fn resumable_upload_in_chunks_with_offsets() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let bytes = png(200, 100, b"resumable");
    let total = bytes.len();
    for version in VERSIONS {
        // Start: answered with the upload URL, status active.
        let start = post_json_with(
            &server,
            &format!("/upload/{version}/files"),
            &json!({"file": {"display_name": "sketch.png"}}),
            &[
                ("x-goog-upload-protocol", "resumable"),
                ("x-goog-upload-command", "start"),
                ("x-goog-upload-header-content-length", &total.to_string()),
                ("x-goog-upload-header-content-type", "image/png"),
            ],
        )
        .await;
        assert_eq!(start.status, 200, "{}", start.text_head());
        assert_eq!(start.header("x-goog-upload-status"), Some("active"));
        let upload_url = start
            .header("x-goog-upload-url")
            .expect("X-Goog-Upload-URL")
            .to_owned();
        assert!(
            upload_url.starts_with(&server.uri()),
            "{upload_url} points at this server"
        );
        assert!(upload_url.contains("upload_id="));

        let half = total / 2;
        let first = chunk(&upload_url, "upload", Some(0), bytes[..half].to_vec()).await;
        assert_eq!(first.status, 200, "{}", first.text_head());
        assert_eq!(first.header("x-goog-upload-status"), Some("active"));
        assert_eq!(
            first.header("x-goog-upload-size-received"),
            Some(half.to_string().as_str())
        );

        // A chunk at the wrong offset is rejected and changes nothing.
        let wrong = chunk(&upload_url, "upload", Some(0), bytes[half..].to_vec()).await;
        assert_eq!(wrong.status, 400);
        assert_eq!(wrong.header("x-goog-upload-status"), Some("active"));
        assert!(
            wrong.error_message().contains(&format!(
                "the server has received {half} bytes of this upload"
            )),
            "{}",
            wrong.error_message()
        );
        let query = chunk(&upload_url, "query", None, Vec::new()).await;
        assert_eq!(query.status, 200);
        assert_eq!(
            query.header("x-goog-upload-size-received"),
            Some(half.to_string().as_str())
        );

        let last = chunk(
            &upload_url,
            "upload, finalize",
            Some(half),
            bytes[half..].to_vec(),
        )
        .await;
        assert_eq!(last.status, 200, "{}", last.text_head());
        assert_eq!(last.header("x-goog-upload-status"), Some("final"));
        let file = last.json()["file"].clone();
        assert_eq!(file["displayName"], "sketch.png");
        assert_eq!(file["mimeType"], "image/png");
        assert_eq!(file["sizeBytes"], json!(total.to_string()));
        let id = file["name"].as_str().unwrap().trim_start_matches("files/");
        let download = get(&server, &format!("/download/{version}/files/{id}:download")).await;
        assert_eq!(download.body.as_ref(), bytes.as_slice());

        // The session is over.
        let after = chunk(&upload_url, "upload", Some(total), vec![1]).await;
        assert_eq!(after.status, 404);
        assert_eq!(after.header("x-goog-upload-status"), Some("final"));
    }

    // Starting an upload needs a key; chunks do not (checked above).
    let no_key = send(
        client()
            .post(url(&server, "/upload/v1beta/files"))
            .header("x-goog-upload-protocol", "resumable")
            .header("x-goog-upload-command", "start")
            .header("x-goog-upload-header-content-type", "image/png")
            .body("{}"),
    )
    .await;
    assert_eq!(no_key.status, 403);
}

#[tokio::test]
async fn resumable_upload_with_a_wrong_declared_size_is_refused_at_finalize() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    let start = post_json_with(
        &server,
        "/upload/v1beta/files",
        &json!({"file": {"mimeType": "image/png", "sizeBytes": "10"}}),
        &[
            ("x-goog-upload-protocol", "resumable"),
            ("x-goog-upload-command", "start"),
        ],
    )
    .await;
    assert_eq!(start.status, 200);
    let upload_url = start.header("x-goog-upload-url").unwrap().to_owned();
    let last = chunk(&upload_url, "upload, finalize", Some(0), vec![0; 4]).await;
    assert_eq!(last.status, 400);
    assert_eq!(last.header("x-goog-upload-status"), Some("final"));
    assert_eq!(
        last.error_message(),
        "Upload finalized with 4 bytes, but its start declared 10 bytes."
    );
    assert_eq!(
        get(&server, "/v1beta/files").await.json()["files"],
        json!([])
    );
}

#[tokio::test]
async fn generate_with_an_uploaded_file_reference() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    // A 16:9 input image: without aspectRatio the answer takes the input's ratio.
    let (w, h, _) = table_size(FLASH31, "16:9", Some("1K"));
    let upload = post_bytes(
        &server,
        "/upload/v1beta/files",
        png(w / 4, h / 4, b"input"),
        &[("content-type", "image/png")],
    )
    .await;
    let file = upload.json()["file"].clone();
    for uri in [file["uri"].clone(), file["name"].clone()] {
        let body = json!({
            "contents": [{"role": "user", "parts": [
                {"text": "Turn this into a watercolor"},
                {"fileData": {"mimeType": "image/png", "fileUri": uri}}
            ]}],
            "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]}
        });
        let answer = generate(&server, FLASH31, &body).await;
        assert_eq!(answer.status, 200, "{}", answer.text_head());
        let json = answer.json();
        assert_eq!(
            sniff(&final_images(&json)[0].bytes),
            Some((ImageFormat::Png, w, h))
        );
        // The input image is counted as image tokens of the prompt.
        let details = json["usageMetadata"]["promptTokensDetails"]
            .as_array()
            .unwrap();
        assert!(
            details
                .iter()
                .any(|d| d["modality"] == "IMAGE" && d["tokenCount"] == 1120),
            "{details:?}"
        );
    }

    // python-genai's snake_case spelling works too.
    let snake = json!({
        "contents": [{"role": "user", "parts": [
            {"text": "Again"},
            {"file_data": {"mime_type": "image/png", "file_uri": file["uri"]}}
        ]}]
    });
    assert_eq!(generate(&server, FLASH31, &snake).await.status, 200);

    // An unknown file: the service's 403 text.
    let missing = json!({
        "contents": [{"role": "user", "parts": [
            {"text": "Edit this"},
            {"fileData": {"mimeType": "image/png", "fileUri": format!("{}/v1beta/files/doesnotexist", server.uri())}}
        ]}]
    });
    generate(&server, FLASH31, &missing).await.assert_error(
        403,
        "PERMISSION_DENIED",
        "You do not have permission to access the File doesnotexist or it may not exist.",
    );
}

#[tokio::test]
async fn models_list_and_get() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    // The models served on the server's date (the early-2026 service: the preview ids).
    let early = nanobanana_rules::Date::new(2026, 3, 1).expect("a date");
    let ids: Vec<&str> = catalogue::available_at(early).map(|m| m.id()).collect();
    assert_eq!(ids, [FLASH25, FLASH31, PRO]);
    for version in VERSIONS {
        let list = get(&server, &format!("/{version}/models")).await;
        assert_eq!(list.status, 200);
        let names: Vec<String> = list.json()["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned())
            .collect();
        let expected: Vec<String> = ids.iter().map(|id| format!("models/{id}")).collect();
        assert_eq!(names, expected);
        for id in &ids {
            let model = get(&server, &format!("/{version}/models/{id}")).await;
            assert_eq!(model.status, 200);
            let model = model.json();
            assert_eq!(model["name"], json!(format!("models/{id}")));
            assert_eq!(model["baseModelId"], json!(id));
            assert!(
                model["supportedGenerationMethods"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("generateContent"))
            );
        }
        get(&server, &format!("/{version}/models/gemini-9-ultra-image")).await.assert_error(
            404,
            "NOT_FOUND",
            &format!("models/gemini-9-ultra-image is not found for API version {version}, or is not supported for getModel. Call ListModels to see the list of available models and their supported methods."),
        );
    }
    // Generating with an unknown non-image model is a 404 too.
    let unknown = generate(&server, "no-such-model", &prompt("hi")).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"]["status"], "NOT_FOUND");
}

#[tokio::test]
async fn unknown_routes_are_404() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/v1beta/nothing"),
        ("PUT", "/v1beta/models/x:generateContent"),
        ("GET", "/v1beta/models/a/b"),
        (
            "POST",
            "/v1beta/models/gemini-3-pro-image-preview:countTokens",
        ),
    ] {
        let answer = send(
            client()
                .request(method.parse().unwrap(), url(&server, path))
                .header("x-goog-api-key", KEY),
        )
        .await;
        assert_eq!(answer.status, 404, "{method} {path}");
        assert_eq!(answer.json()["error"]["status"], "NOT_FOUND");
    }
}

const UNREGISTERED: &str = "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";

#[tokio::test]
async fn missing_key_is_403_permission_denied_on_every_endpoint() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .start()
        .await;
    for (method, path) in [
        ("POST", generate_path(FLASH31)),
        ("POST", stream_path(FLASH31)),
        ("GET", "/v1/models".to_owned()),
        ("GET", "/v1beta/files".to_owned()),
        ("GET", "/v1beta/batches".to_owned()),
        ("POST", "/upload/v1beta/files".to_owned()),
    ] {
        let answer = send(
            client()
                .request(method.parse().unwrap(), url(&server, &path))
                .body(prompt("x").to_string()),
        )
        .await;
        answer.assert_error(403, "PERMISSION_DENIED", UNREGISTERED);
    }
    // An empty key is no key.
    let empty = send(
        client()
            .post(url(&server, &generate_path(FLASH31)))
            .header("x-goog-api-key", "")
            .body(prompt("x").to_string()),
    )
    .await;
    empty.assert_error(403, "PERMISSION_DENIED", UNREGISTERED);
}

#[tokio::test]
async fn a_required_key_is_checked_in_the_header_and_the_query() {
    let server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .api_key("k")
        .start()
        .await;
    let body = prompt("A banana").to_string();
    let path = generate_path(FLASH25);
    let with_header = |key: &'static str| {
        client()
            .post(url(&server, &path))
            .header("x-goog-api-key", key)
            .body(body.clone())
    };
    assert_eq!(send(with_header("k")).await.status, 200);
    let wrong = send(with_header("wrong")).await;
    wrong.assert_error(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
    );
    assert_eq!(
        wrong.json()["error"]["details"],
        json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"}
        }])
    );
    // ?key= works like the header.
    let query = |key: &str| {
        client()
            .post(url(&server, &format!("{path}?key={key}")))
            .body(body.clone())
    };
    assert_eq!(send(query("k")).await.status, 200);
    let wrong = send(query("nope")).await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        wrong.json()["error"]["details"][0]["reason"],
        "API_KEY_INVALID"
    );
    // No key at all is still the 403.
    send(client().post(url(&server, &path)).body(body.clone()))
        .await
        .assert_error(403, "PERMISSION_DENIED", UNREGISTERED);
    // The journal never shows the key.
    for request in server.received_requests() {
        assert!(
            request
                .query()
                .iter()
                .all(|(k, v)| k != "key" || v == "***")
        );
        assert!(request.header("x-goog-api-key").is_none_or(|v| v == "***"));
    }
}

/// Starts a resumable upload of `total` bytes with extra headers; returns the upload URL.
async fn start_upload(server: &MockGemini, total: usize, headers: &[(&str, &str)]) -> String {
    let length = total.to_string();
    let mut all = vec![
        ("x-goog-upload-protocol", "resumable"),
        ("x-goog-upload-command", "start"),
        ("x-goog-upload-header-content-length", length.as_str()),
        (
            "x-goog-upload-header-content-type",
            "application/octet-stream",
        ),
    ];
    all.extend_from_slice(headers);
    let start = post_json_with(server, "/upload/v1beta/files", &json!({"file": {}}), &all).await;
    assert_eq!(start.status, 200, "{}", start.text_head());
    start
        .header("x-goog-upload-url")
        .expect("X-Goog-Upload-URL")
        .to_owned()
}

#[tokio::test]
async fn an_upload_cut_at_60_percent_keeps_the_bytes_before_the_cut_and_resumes() {
    let server = MockGemini::start().await;
    let bytes: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let upload_url = start_upload(
        &server,
        bytes.len(),
        &[("x-nanobanana-fault", "cut-upload-at=60%")],
    )
    .await;
    // The first chunk (0..500) passes; the second (500..1000) crosses 600: the connection drops.
    let first = chunk(&upload_url, "upload", Some(0), bytes[..500].to_vec()).await;
    assert_eq!(first.status, 200, "{}", first.text_head());
    let cut = client()
        .post(&upload_url)
        .header("x-goog-upload-command", "upload, finalize")
        .header("x-goog-upload-offset", "500")
        .body(bytes[500..].to_vec())
        .send()
        .await;
    assert!(cut.is_err(), "the cut chunk gets no answer: {cut:?}");

    // The query says what was kept: up to the cut.
    let query = chunk(&upload_url, "query", None, Vec::new()).await;
    assert_eq!(query.status, 200, "{}", query.text_head());
    assert_eq!(query.header("x-goog-upload-status"), Some("active"));
    assert_eq!(query.header("x-goog-upload-size-received"), Some("600"));

    // Resumed from there (the upload is cut once), the file is whole.
    let last = chunk(
        &upload_url,
        "upload, finalize",
        Some(600),
        bytes[600..].to_vec(),
    )
    .await;
    assert_eq!(last.status, 200, "{}", last.text_head());
    assert_eq!(last.header("x-goog-upload-status"), Some("final"));
    let file = last.json()["file"].clone();
    assert_eq!(file["sizeBytes"], json!("1000"));
    let id = file["name"].as_str().unwrap().trim_start_matches("files/");
    let download = get(&server, &format!("/download/v1beta/files/{id}:download")).await;
    assert_eq!(download.body.as_ref(), bytes.as_slice());

    // After the finalize, a query answers final with the size and the file.
    let after = chunk(&upload_url, "query", None, Vec::new()).await;
    assert_eq!(after.status, 200, "{}", after.text_head());
    assert_eq!(after.header("x-goog-upload-status"), Some("final"));
    assert_eq!(after.header("x-goog-upload-size-received"), Some("1000"));
    assert_eq!(after.json()["file"]["name"], file["name"]);
}

#[tokio::test]
async fn an_upload_cut_with_a_status_answers_it_and_reports_the_bytes_kept() {
    let server = MockGemini::start().await;
    let bytes = vec![7u8; 300];
    let upload_url = start_upload(&server, bytes.len(), &[]).await;
    // The directive may come on a chunk too; with status= the cut chunk gets that answer.
    let cut = client()
        .post(&upload_url)
        .header("x-goog-upload-command", "upload, finalize")
        .header("x-goog-upload-offset", "0")
        .header("x-nanobanana-fault", "cut-upload-after=100; status=503")
        .body(bytes.clone());
    let cut = send(cut).await;
    assert_eq!(cut.status, 503, "{}", cut.text_head());
    assert_eq!(cut.header("x-goog-upload-status"), Some("active"));
    assert_eq!(cut.header("x-goog-upload-size-received"), Some("100"));
    // The same header again does not cut again: an upload is cut once.
    let rest = client()
        .post(&upload_url)
        .header("x-goog-upload-command", "upload, finalize")
        .header("x-goog-upload-offset", "100")
        .header("x-nanobanana-fault", "cut-upload-after=100; status=503")
        .body(bytes[100..].to_vec());
    let rest = send(rest).await;
    assert_eq!(rest.status, 200, "{}", rest.text_head());
    assert_eq!(rest.header("x-goog-upload-status"), Some("final"));
}

#[tokio::test]
async fn an_upload_cut_at_a_percentage_needs_a_declared_length() {
    let server = MockGemini::start().await;
    let start = post_json_with(
        &server,
        "/upload/v1beta/files",
        &json!({"file": {}}),
        &[
            ("x-goog-upload-protocol", "resumable"),
            ("x-goog-upload-command", "start"),
            ("x-goog-upload-header-content-type", "image/png"),
            ("x-nanobanana-fault", "cut-upload-at=50%"),
        ],
    )
    .await;
    assert_eq!(start.status, 400);
    assert!(
        start.error_message().contains("use cut-upload-after=BYTES"),
        "{}",
        start.error_message()
    );
}
