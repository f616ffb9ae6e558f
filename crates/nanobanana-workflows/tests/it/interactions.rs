//! The server-side conversation (`InteractionConversation`) against a queue of recorded answers
//! of `fixtures/interactions/` (the fake server does not serve the Interactions API yet): a
//! one-connection-per-answer HTTP/1.1 responder on 127.0.0.1:0 that keeps what it was sent.

use std::sync::{Arc, Mutex};

use nanobanana_transport::wire::corpus::Corpus;
use nanobanana_transport::wire::{ImageDelivery, Interaction};
use nanobanana_transport::{Client, ClientConfig, RetryPolicy};
use nanobanana_workflows::{ClientExt, ImageOptions, InteractionConversation, Outcome};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers each connection with the next JSON body (status 200) and keeps each request's
/// target and JSON body.
async fn respond(answers: Vec<Value>) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(Mutex::new(Vec::new()));
    let keep = sent.clone();
    tokio::spawn(async move {
        for answer in answers {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 65536];
            let (head, body) = loop {
                let n = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).into_owned();
                let Some((head, body)) = text.split_once("\r\n\r\n") else {
                    continue;
                };
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break (head.to_owned(), body.to_owned());
                }
            };
            let target = head.split(' ').nth(1).unwrap().to_owned();
            keep.lock()
                .unwrap()
                .push((target, serde_json::from_str(&body).unwrap_or(Value::Null)));
            let body = serde_json::to_string(&answer).unwrap();
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(reply.as_bytes()).await.unwrap();
            let _ = socket.shutdown().await;
        }
    });
    (base, sent)
}

fn client(base: &str) -> Client {
    Client::new(
        ClientConfig::new("test-key-0123456789")
            .with_base_url(base)
            .with_validation(nanobanana_transport::rules::Options::at(
                nanobanana_transport::rules::Date::new(2026, 12, 3).unwrap(),
            ))
            .with_retry_policy(RetryPolicy::none()),
    )
    .unwrap()
}

fn answers(id: &str) -> Vec<Value> {
    let corpus = Corpus::load_interactions(Corpus::repository_dir()).unwrap();
    let case = corpus.case(&format!("interactions/{id}")).unwrap();
    case.interactions
        .iter()
        .map(|i| i.response.body.clone().unwrap())
        .collect()
}

#[tokio::test]
async fn a_server_side_conversation_sends_only_the_new_turn_and_gives_generations() {
    let recorded = answers("continue-previous-interaction");
    let first_id = recorded[0]["id"].as_str().unwrap().to_owned();
    let (base, sent) = respond(recorded).await;
    let mut chat = client(&base)
        .interaction_chat("gemini-nano-banana-2.1")
        .with_options(
            ImageOptions::new()
                .with_aspect_ratio("1:1")
                .with_image_size("1K"),
        );
    let first = chat
        .send("A nano banana dish in a fancy restaurant")
        .await
        .unwrap();
    assert_eq!(first.outcome(), &Outcome::Images);
    assert_eq!(first.image().unwrap().mime_type(), Some("image/jpeg"));
    assert_eq!(first.actual_dimensions(), first.predicted_dimensions());
    assert_eq!(chat.last_interaction_id(), Some(first_id.as_str()));
    let second = chat.send("Make the plate blue").await.unwrap();
    assert_eq!(second.text(), "The plate, now blue.");
    assert_eq!(chat.turns(), 2);

    let sent = sent.lock().unwrap().clone();
    assert!(sent[0].0.ends_with("/interactions"));
    assert!(sent[0].1.get("previous_interaction_id").is_none());
    assert_eq!(sent[1].1["previous_interaction_id"], first_id.as_str());
    assert_eq!(
        sent[1].1["input"],
        serde_json::json!([{"type": "text", "text": "Make the plate blue"}]),
        "only the new turn travels"
    );
    assert_eq!(
        sent[1].1["response_format"],
        serde_json::json!({"type": "image", "aspect_ratio": "1:1", "image_size": "1K"})
    );
}

#[tokio::test]
async fn thought_signatures_and_the_interaction_are_kept() {
    let recorded = answers("create-inline");
    let (base, _) = respond(recorded.clone()).await;
    let mut chat = client(&base).interaction_chat("gemini-nano-banana-2.1");
    let generation = chat
        .send("A nano banana dish in a fancy restaurant")
        .await
        .unwrap();
    let interaction: &Interaction = chat.last_interaction().unwrap();
    assert_eq!(interaction.steps.len(), 2);
    // The thought step's signature rides on the first answer part, as generateContent's does.
    let parts = &generation.response().candidates[0]
        .content
        .as_ref()
        .unwrap()
        .parts;
    let signature = recorded[0]["steps"][0]["signature"].as_str().unwrap();
    assert_eq!(
        serde_json::to_value(parts[0].thought_signature.as_ref().unwrap()).unwrap(),
        signature
    );
    assert!(parts[1].thought_signature.is_none());
    let usage = generation.usage();
    assert_eq!(usage.total_tokens, Some(1389));
    assert_eq!(usage.image_output_tokens, Some(1120));
    assert_eq!(usage.thoughts_tokens, Some(252));
}

#[tokio::test]
async fn a_uri_delivery_and_a_resumed_conversation() {
    let recorded = answers("create-uri");
    let (base, sent) = respond(recorded).await;
    let mut chat =
        InteractionConversation::resume(client(&base), "gemini-nano-banana-2.1", "v1_earlier")
            .with_delivery(ImageDelivery::Uri);
    let generation = chat
        .send("Put this cat in a fancy restaurant")
        .await
        .unwrap();
    let parts = &generation.response().candidates[0]
        .content
        .as_ref()
        .unwrap()
        .parts;
    assert!(
        parts[1]
            .file_data
            .as_ref()
            .unwrap()
            .file_uri
            .as_deref()
            .unwrap()
            .starts_with("https://")
    );
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent[0].1["previous_interaction_id"], "v1_earlier");
    assert_eq!(sent[0].1["response_format"]["delivery"], "uri");
}
