//! Thought-signature circulation in simulate mode (SPEC.md §4, WIRE.md "Errors"): a chat whose
//! model turns are sent back exactly goes on; a missing, altered or foreign signature gets the
//! service's 400 texts; python-genai's URL-safe re-encoding and a streamed turn sent back as one
//! content per chunk are accepted.

mod common;

use common::*;
use nanobanana_mock::{MockGemini, Mode};
use nanobanana_rules::response::signature_violations;
use nanobanana_rules::{Date, Options, Report, validate_request_json_with};

use serde_json::{Value, json};

/// The rules of the early-2026 service these tests' servers are pinned to.
fn validate_request_json(model: &str, body: &serde_json::Value) -> Report {
    validate_request_json_with(
        model,
        body,
        &Options::at(Date::new(2026, 3, 1).expect("a date")),
    )
}

const MODELS: [&str; 2] = [PRO, FLASH31];

async fn simulator() -> MockGemini {
    MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Simulate)
        .start()
        .await
}

fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"text": text}]})
}

fn request(contents: &[Value]) -> Value {
    json!({
        "contents": contents,
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]}
    })
}

/// Sends a turn; asserts success and a clean signature layout; returns the model content.
async fn turn(server: &MockGemini, model: &str, contents: &[Value]) -> Value {
    let answer = generate(server, model, &request(contents)).await;
    assert_eq!(answer.status, 200, "{model}: {}", answer.text_head());
    let typed = answer.typed();
    let parts = &typed.candidates[0].content.as_ref().unwrap().parts;
    assert_eq!(signature_violations(parts).count(), 0, "{model}");
    let content = answer.json()["candidates"][0]["content"].clone();
    assert_eq!(content["role"], "model");
    content
}

/// A three-turn chat, model turns sent back exactly; returns the history of turn 3 and the
/// model content it got.
async fn three_turns(server: &MockGemini, model: &str) -> Vec<Value> {
    let mut history = vec![user("Create a logo of a fox made of origami")];
    let first = turn(server, model, &history).await;
    history.push(first);
    history.push(user("Make it blue"));
    let second = turn(server, model, &history).await;
    history.push(second);
    history.push(user("Now add the word FOX below it"));
    let third = turn(server, model, &history).await;
    history.push(third);
    history
}

/// The 400 of a request and the rules crate's message for it.
async fn rejected(server: &MockGemini, model: &str, contents: &[Value]) -> String {
    let answer = generate(server, model, &request(contents)).await;
    assert_eq!(answer.status, 400, "{model}: {}", answer.text_head());
    assert_eq!(answer.json()["error"]["status"], "INVALID_ARGUMENT");
    answer.error_message()
}

/// Index of the first image part of a content.
fn image_index(content: &Value) -> usize {
    content["parts"]
        .as_array()
        .unwrap()
        .iter()
        .position(|p| p.get("inlineData").is_some())
        .expect("an image part")
}

#[tokio::test]
async fn a_three_turn_chat_sent_back_exactly_goes_on() {
    let server = simulator().await;
    for model in MODELS {
        let history = three_turns(&server, model).await;
        assert_eq!(history.len(), 6);
        // Each turn is a new answer: the images differ.
        let image =
            |content: &Value| content["parts"][image_index(content)]["inlineData"]["data"].clone();
        assert_ne!(image(&history[1]), image(&history[3]));
        assert_ne!(image(&history[3]), image(&history[5]));
    }
}

#[tokio::test]
async fn a_removed_image_signature_is_rejected_with_its_position() {
    let server = simulator().await;
    for model in MODELS {
        let mut history = vec![user("A teacup sailing boat")];
        history.push(turn(&server, model, &history).await);
        history.push(user("Add a storm"));
        let index = image_index(&history[1]);
        history[1]["parts"][index]
            .as_object_mut()
            .unwrap()
            .remove("thoughtSignature")
            .expect("the image was signed");
        let message = rejected(&server, model, &history).await;
        assert_eq!(
            message,
            format!(
                "Image part is missing a thought_signature in content position 2, part position {}.",
                index + 1
            )
        );
        let rules = validate_request_json(model, &request(&history));
        assert_eq!(
            rules.first_error().map(|e| e.message()),
            Some(message.as_str())
        );
    }
}

#[tokio::test]
async fn a_removed_first_text_signature_is_rejected() {
    let server = simulator().await;
    let mut history = vec![user("A paper lantern")];
    history.push(turn(&server, FLASH31, &history).await);
    history.push(user("Make it glow"));
    assert!(
        history[1]["parts"][0]["text"].is_string(),
        "text comes first"
    );
    history[1]["parts"][0]
        .as_object_mut()
        .unwrap()
        .remove("thoughtSignature")
        .expect("the first part was signed");
    assert_eq!(
        rejected(&server, FLASH31, &history).await,
        "Text part is missing a thought_signature in content position 2, part position 1."
    );
}

#[tokio::test]
async fn an_altered_image_with_its_original_signature_is_corrupted() {
    let server = simulator().await;
    for model in MODELS {
        let mut history = vec![user("A lighthouse")];
        history.push(turn(&server, model, &history).await);
        history.push(user("At night"));
        let index = image_index(&history[1]);
        let data = &mut history[1]["parts"][index]["inlineData"]["data"];
        let mut bytes = b64(data.as_str().unwrap());
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        *data = json!(b64_standard(&bytes));
        assert_eq!(
            rejected(&server, model, &history).await,
            "Corrupted thought signature."
        );
    }
}

#[tokio::test]
async fn a_signature_from_a_server_with_another_secret_is_corrupted() {
    let issuer = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Simulate)
        .signature_secret("issuer secret")
        .start()
        .await;
    let twin = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Simulate)
        .signature_secret("issuer secret")
        .start()
        .await;
    let other = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Simulate)
        .signature_secret("another secret")
        .start()
        .await;
    for model in MODELS {
        let mut history = vec![user("A windmill")];
        history.push(turn(&issuer, model, &history).await);
        history.push(user("In a storm"));
        assert_eq!(
            rejected(&other, model, &history).await,
            "Corrupted thought signature."
        );
        // The default secret is another secret too.
        assert_eq!(
            rejected(&simulator().await, model, &history).await,
            "Corrupted thought signature."
        );
        // A server with the same secret accepts the chat (a restart keeps chats alive).
        turn(&twin, model, &history).await;
    }
}

/// Re-encodes every bytes field (`data`, `thoughtSignature`) in the URL-safe alphabet, as
/// python-genai does, and spells keys in snake_case where it does.
fn python_style(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("data" | "thoughtSignature", Value::String(s)) => {
                            json!(b64_url_safe(&b64(s)))
                        }
                        _ => python_style(v),
                    };
                    let k = match k.as_str() {
                        "thoughtSignature" => "thought_signature".to_owned(),
                        "mimeType" => "mime_type".to_owned(),
                        other => other.to_owned(),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(python_style).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn url_safe_re_encoded_signatures_are_accepted() {
    let server = simulator().await;
    for model in MODELS {
        let mut history = vec![user("A fox logo")];
        history.push(turn(&server, model, &history).await);
        history.push(user("Make it orange"));
        let python: Vec<Value> = history.iter().map(python_style).collect();
        let encoded = python[1].to_string();
        assert!(
            encoded.contains('-') || encoded.contains('_'),
            "the re-encoding changed the alphabet"
        );
        assert_ne!(python[1], history[1]);
        let second = turn(&server, model, &python).await;
        // And a third turn after it, still re-encoded.
        let mut python = python;
        python.push(python_style(&second));
        python.push(user("Smaller"));
        turn(&server, model, &python).await;
    }
}

#[tokio::test]
async fn a_streamed_turn_sent_back_as_one_content_per_chunk_is_accepted() {
    let server = simulator().await;
    for model in MODELS {
        let first = vec![user(
            "A red kite over a beach, drawn with crayons by a child",
        )];
        let answer = post_json(
            &server,
            &format!("/v1beta/models/{model}:streamGenerateContent?alt=sse"),
            &request(&first),
        )
        .await;
        let events = answer.events();
        // One model content per chunk that has parts (the SDKs' replay).
        let contents: Vec<Value> = events
            .iter()
            .filter(|e| !parts(e).is_empty())
            .map(|e| e["candidates"][0]["content"].clone())
            .collect();
        assert!(contents.len() >= 3, "several text chunks and an image");
        let signed = contents
            .iter()
            .filter(|c| c["parts"][0].get("thoughtSignature").is_some())
            .count();
        assert_eq!(signed, 2, "the first text chunk and the image");
        let mut history = first.clone();
        history.extend(contents.iter().cloned());
        history.push(user("Add a second kite"));
        turn(&server, model, &history).await;

        // Dropping the first chunk's signature breaks the turn.
        let mut broken = history.clone();
        broken[1]["parts"][0]
            .as_object_mut()
            .unwrap()
            .remove("thoughtSignature")
            .expect("the first chunk is signed");
        assert_eq!(
            rejected(&server, model, &broken).await,
            "Text part is missing a thought_signature in content position 2, part position 1."
        );
    }
}

#[tokio::test]
async fn gemini_2_5_flash_accepts_an_unsigned_replay() {
    let server = simulator().await;
    let mut history = vec![user("A banana boat")];
    history.push(turn(&server, FLASH25, &history).await);
    history.push(user("Bigger"));
    for part in history[1]["parts"].as_array_mut().unwrap() {
        part.as_object_mut().unwrap().remove("thoughtSignature");
    }
    turn(&server, FLASH25, &history).await;
    // The same unsigned history is refused by a Gemini 3 model.
    let message = rejected(&server, FLASH31, &history).await;
    assert!(
        message.contains("is missing a thought_signature in content position 2, part position 1.")
    );
}

/// The service of today (SERVICE-2026.md §0.5): the fake server's default.
async fn today() -> MockGemini {
    MockGemini::builder()
        .as_of(Date::new(2026, 12, 3).expect("a date"))
        .mode(Mode::Simulate)
        .start()
        .await
}

/// The model turn of a first answer with its image part's signature replaced (`None` removes it).
fn with_image_signature(content: &Value, signature: Option<&str>) -> Value {
    let mut content = content.clone();
    let index = image_index(&content);
    let part = &mut content["parts"][index];
    match signature {
        Some(signature) => part["thoughtSignature"] = json!(signature),
        None => {
            part.as_object_mut().unwrap().remove("thoughtSignature");
        }
    }
    content
}

#[tokio::test]
async fn today_an_unsigned_image_turn_and_the_dummy_signatures_are_accepted() {
    let server = today().await;
    let model = "gemini-nano-banana-2.1";
    let history = vec![user("Create a logo of a fox made of origami")];
    let first = turn(&server, model, &history).await;
    let dummies = [
        None,
        Some("skip_thought_signature_validator"),
        Some("context_engineering_is_the_way_to_go"),
        // base64 of skip_thought_signature_validator, as google-genai sends bytes
        Some("c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I="),
    ];
    for signature in dummies {
        let contents = [
            history[0].clone(),
            with_image_signature(&first, signature),
            user("Make it blue"),
        ];
        turn(&server, model, &contents).await;
    }
    // A signature that is present but not this server's is still refused.
    let contents = [
        history[0].clone(),
        with_image_signature(&first, Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
        user("Make it blue"),
    ];
    assert_eq!(
        rejected(&server, model, &contents).await,
        "Corrupted thought signature."
    );
}

#[tokio::test]
async fn strict_signatures_keep_the_early_2026_refusal() {
    let server = MockGemini::builder()
        .as_of(Date::new(2026, 12, 3).expect("a date"))
        .signatures(nanobanana_rules::SignaturePolicy::Strict)
        .mode(Mode::Simulate)
        .start()
        .await;
    let model = "gemini-nano-banana-2.1";
    let history = vec![user("Create a logo of a fox made of origami")];
    let first = turn(&server, model, &history).await;
    let contents = [
        history[0].clone(),
        with_image_signature(&first, None),
        user("Make it blue"),
    ];
    let message = rejected(&server, model, &contents).await;
    assert!(
        message.starts_with("Image part is missing a thought_signature"),
        "{message}"
    );
}
