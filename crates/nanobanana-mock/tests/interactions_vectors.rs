//! The Interactions API vectors (`fixtures/interactions/`) against the fake server: replayed as
//! recorded in replay mode, and answered alike (statuses, errors, steps) in simulate mode.

mod common;

use common::interactions::*;
use common::*;
use nanobanana_mock::{MockGemini, Mode};
use nanobanana_wire::corpus::Corpus;
use serde_json::Value;

fn vectors() -> Corpus {
    Corpus::load_interactions(Corpus::repository_dir()).expect("the interactions vectors load")
}

/// Replay mode serves every recorded vector as recorded, streams with their `event:` lines.
#[tokio::test]
async fn replay_serves_the_recorded_vectors() {
    let corpus = vectors();
    let server = MockGemini::builder()
        .mode(Mode::Replay)
        .corpus(corpus.clone())
        .api_key(KEY)
        .start()
        .await;
    for case in corpus.cases() {
        for (index, recorded) in case.interactions.iter().enumerate() {
            let answer = send_recorded(&server, &recorded.request, &[]).await;
            let at = format!("{} #{index}", case.id);
            assert_eq!(
                answer.status,
                recorded.response.status,
                "{at}: {}",
                answer.text_head()
            );
            match (&recorded.response.events, &recorded.response.body) {
                (Some(events), _) => {
                    let got = named_events(&answer);
                    let want: Vec<(String, Value)> = events
                        .iter()
                        .map(|e| (e["event_type"].as_str().unwrap_or("").to_owned(), e.clone()))
                        .collect();
                    assert_eq!(got, want, "{at}");
                }
                (None, Some(body)) => assert_eq!(&answer.json(), body, "{at}"),
                (None, None) => {}
            }
        }
    }
}

async fn send_recorded(
    server: &MockGemini,
    request: &nanobanana_wire::corpus::RecordedRequest,
    ids: &[(String, String)],
) -> Answer {
    let rewrite = |text: &str| {
        ids.iter()
            .fold(text.to_owned(), |t, (from, to)| t.replace(from, to))
    };
    let query: Vec<String> = request
        .query
        .iter()
        .map(|(k, v)| format!("{k}={}", rewrite(v)))
        .collect();
    let path = if query.is_empty() {
        rewrite(&request.path)
    } else {
        format!("{}?{}", rewrite(&request.path), query.join("&"))
    };
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).expect("a method");
    let mut builder = client()
        .request(method, url(server, &path))
        .header("x-goog-api-key", KEY);
    if let Some(body) = &request.body {
        builder = builder
            .header("content-type", "application/json")
            .body(rewrite(&body.to_string()));
    }
    send(builder).await
}

/// Simulate mode answers every server vector (those whose answers a server makes on demand)
/// with the recorded status, the recorded error exactly, and a completed image answer where one
/// was recorded; later requests refer to the ids this server gave.
#[tokio::test]
async fn simulate_answers_the_server_vectors_as_recorded() {
    let corpus = vectors();
    let targets = |case: &nanobanana_wire::corpus::Case| -> bool {
        let path = Corpus::repository_dir().join("interactions").join(format!(
            "{}.json",
            case.id.trim_start_matches("interactions/")
        ));
        let file: Value =
            serde_json::from_slice(&std::fs::read(path).expect("the vector")).expect("JSON");
        file.get("targets")
            .and_then(Value::as_array)
            .is_none_or(|t| t.iter().any(|t| t == "server"))
    };
    let mut ran = 0;
    for case in corpus.cases().iter().filter(|c| targets(c)) {
        let server = MockGemini::builder().mode(Mode::Simulate).start().await;
        let mut ids: Vec<(String, String)> = Vec::new();
        for (index, recorded) in case.interactions.iter().enumerate() {
            let at = format!("{} #{index}", case.id);
            let answer = send_recorded(&server, &recorded.request, &ids).await;
            assert_eq!(
                answer.status,
                recorded.response.status,
                "{at}: {}",
                answer.text_head()
            );
            if answer.status >= 400 {
                assert_eq!(
                    Some(answer.json()),
                    recorded
                        .response
                        .body
                        .as_ref()
                        .map(|b| rewrite_ids(b, &ids)),
                    "{at}"
                );
                continue;
            }
            if let Some(events) = &recorded.response.events {
                let got = named_events(&answer);
                let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
                let want: Vec<&str> = events
                    .iter()
                    .map(|e| e["event_type"].as_str().unwrap_or(""))
                    .collect();
                assert_eq!(names.first(), want.first(), "{at}");
                assert_eq!(names.last(), want.last(), "{at}");
                let (recorded_id, actual_id) = (
                    &events[0]["interaction"]["id"],
                    &got[0].1["interaction"]["id"],
                );
                ids.push((
                    recorded_id.as_str().unwrap_or("").to_owned(),
                    actual_id.as_str().unwrap_or("").to_owned(),
                ));
            } else if let Some(body) = &recorded.response.body {
                let got = answer.json();
                if let (Some(r), Some(a)) = (body["id"].as_str(), got["id"].as_str()) {
                    ids.push((r.to_owned(), a.to_owned()));
                    assert_eq!(got["status"], body["status"], "{at}");
                    let kinds = |v: &Value| {
                        v["steps"]
                            .as_array()
                            .map(|s| s.iter().map(|s| s["type"].clone()).collect::<Vec<_>>())
                    };
                    assert_eq!(kinds(&got), kinds(body), "{at}");
                }
            }
        }
        ran += 1;
    }
    assert!(ran >= 12, "only {ran} server vectors ran");
}

fn rewrite_ids(value: &Value, ids: &[(String, String)]) -> Value {
    let text = ids
        .iter()
        .fold(value.to_string(), |t, (from, to)| t.replace(from, to));
    serde_json::from_str(&text).expect("JSON")
}
