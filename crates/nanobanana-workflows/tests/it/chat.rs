//! Multi-turn chat (SPEC.md §2 "Multi-turn", §4 "Thought signatures").

use nanobanana_mock::{Endpoint, Fault, Mock};
use nanobanana_transport::wire::{Base64Bytes, Content, GenerateContentRequest, Part};
use nanobanana_workflows::{
    Chat, ChatExport, ClientExt, Error, ImageOptions, Outcome, OutcomeKind,
};
use serde_json::Value;

use crate::{generate_requests, setup};

const MODEL: &str = "gemini-3.1-flash-image";

fn small() -> ImageOptions {
    ImageOptions::new().with_image_size("512").with_thoughts()
}

/// SPEC.md §4: every model part goes back exactly as received, signatures included, and the
/// fake server (which authenticates every signature it issued) accepts all three turns.
#[tokio::test]
async fn three_turn_edit_sends_signatures_back_byte_for_byte() {
    let (server, client) = setup().await;
    let mut chat = client.chat(MODEL).with_options(small());
    let first = chat.send("A banana on a plate").await.unwrap();
    let second = chat.send("Make the plate blue").await.unwrap();
    let third = chat.send("Add a tiny hat").await.unwrap();
    for turn in [&first, &second, &third] {
        assert_eq!(turn.outcome(), &Outcome::Images);
        let image = turn.image().unwrap();
        assert!(
            image.part().thought_signature.is_some(),
            "SPEC.md §4 rule 1"
        );
    }
    assert_eq!(chat.turns(), 3);

    let requests = generate_requests(&server);
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.status() == 200), "{requests:?}");
    let last = requests[2].json().unwrap();
    let contents = last["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 5);
    // The model contents as sent equal the answers as received, part for part.
    for (sent, turn) in [(&contents[1], &first), (&contents[3], &second)] {
        let received = serde_json::to_value(turn.content().unwrap()).unwrap();
        assert_eq!(sent, &received);
        let signed = sent["parts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p.get("thoughtSignature").is_some())
            .count();
        assert!(signed >= 1, "{sent}");
    }
    // The signature bytes are the ones received.
    let sent_signature = contents[1]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find_map(|p| p["thoughtSignature"].as_str())
        .unwrap();
    assert_eq!(
        Base64Bytes::from_base64(sent_signature).unwrap(),
        *first
            .image()
            .unwrap()
            .part()
            .thought_signature
            .as_ref()
            .unwrap()
    );
}

/// The control for the test above: the fake server does check, so a signature altered by one
/// byte is refused with the service's text (WIRE.md "Errors").
#[tokio::test]
async fn the_fake_server_refuses_an_altered_signature() {
    let (_server, client) = setup().await;
    let mut chat = client.chat(MODEL).with_options(small());
    chat.send("A banana on a plate").await.unwrap();
    let mut history = chat.history().to_vec();
    let image_part = history[1]
        .parts
        .iter_mut()
        .find(|p| p.inline_data.is_some() && !p.is_thought())
        .unwrap();
    let mut signature = image_part.thought_signature.take().unwrap().into_vec();
    signature[8] ^= 1;
    image_part.thought_signature = Some(Base64Bytes::new(signature));
    history.push(Content::user([Part::from_text("Make it blue")]));
    let error = client
        .generate_content(MODEL, &GenerateContentRequest::new().with_contents(history))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert_eq!(
        error.api_error().unwrap().message(),
        "Corrupted thought signature."
    );
}

/// A turn is transactional: a failed call (a 500 injected on turn 2) and an unusable answer
/// (NO_IMAGE) leave the history with turn 1 only; retrying turn 2 then succeeds.
#[tokio::test]
async fn a_failed_turn_leaves_the_history_unchanged() {
    let (server, client) = setup().await;
    let mut chat = client.chat(MODEL).with_options(small());
    chat.send("A banana on a plate").await.unwrap();
    let after_first = chat.history().to_vec();

    let _fault = Mock::any()
        .endpoint(Endpoint::GenerateContent)
        .fault(Fault::status(500))
        .up_to_n_times(1)
        .expect(1)
        .mount_as_scoped(&server)
        .await;
    let error = chat.send("Make the plate blue").await.unwrap_err();
    let transport = error.transport().expect("a failed call");
    assert_eq!(transport.status(), Some(500));
    assert_eq!(chat.history(), after_first.as_slice());

    let _no_image = Mock::any()
        .endpoint(Endpoint::GenerateContent)
        .fault(Fault::outcome(OutcomeKind::NoImage))
        .up_to_n_times(1)
        .expect(1)
        .mount_as_scoped(&server)
        .await;
    let error = chat.send("Make the plate blue").await.unwrap_err();
    assert!(
        matches!(error.outcome(), Some(Outcome::NoImage { .. })),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "the answer is not usable: no image was made (finishReason NO_IMAGE)"
    );
    assert_eq!(chat.history(), after_first.as_slice());

    let retried = chat.send("Make the plate blue").await.unwrap();
    assert_eq!(retried.outcome(), &Outcome::Images);
    assert_eq!(chat.turns(), 2);
    assert_eq!(&chat.history()[..2], after_first.as_slice());
    // Every attempt of turn 2 carried turn 1 and the new message, nothing more.
    for request in &generate_requests(&server)[1..] {
        assert_eq!(
            request.json().unwrap()["contents"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }
}

/// A cut-off stream is an error, and the turn is not kept either.
#[tokio::test]
async fn a_broken_stream_leaves_the_history_unchanged() {
    let (server, client) = setup().await;
    let mut chat = client.chat(MODEL).with_options(small());
    chat.send("A banana on a plate").await.unwrap();
    let _cut = Mock::any()
        .endpoint(Endpoint::StreamGenerateContent)
        .fault(Fault::truncate_after(1))
        .up_to_n_times(1)
        .mount_as_scoped(&server)
        .await;
    let mut chunks = 0;
    let error = chat
        .send_streaming("Make it blue", &ImageOptions::new(), |_| chunks += 1)
        .await
        .unwrap_err();
    assert!(error.transport().is_some(), "{error}");
    assert_eq!(chunks, 1);
    assert_eq!(chat.turns(), 1);
}

/// WIRE.md "Streaming": a streamed turn assembles into the same history as a whole one, and the
/// conversation goes on from it.
#[tokio::test]
async fn streamed_turns_keep_the_same_history_as_whole_ones() {
    let (server, client) = setup().await;
    let mut whole = client.chat(MODEL).with_options(small());
    let mut streamed = client.chat(MODEL).with_options(small());
    whole.send("A banana on a plate").await.unwrap();
    let mut chunks = Vec::new();
    let turn = streamed
        .send_streaming("A banana on a plate", &ImageOptions::new(), |chunk| {
            chunks.push(chunk.clone())
        })
        .await
        .unwrap();
    assert!(chunks.len() > 2, "{} chunks", chunks.len());
    assert_eq!(turn.outcome(), &Outcome::Images);
    assert_eq!(streamed.history(), whole.history());
    let next = streamed.send("Make the plate blue").await.unwrap();
    assert_eq!(next.outcome(), &Outcome::Images);
    assert!(generate_requests(&server).iter().all(|r| r.status() == 200));
}

/// Per-turn overrides change one turn only (the guide's "change the ratio and size for this
/// turn"); SPEC.md §1 sizes from the resolution table.
#[tokio::test]
async fn overrides_apply_to_one_turn() {
    let (server, client) = setup().await;
    let mut chat = client.chat(MODEL).with_options(
        ImageOptions::new()
            .with_aspect_ratio("16:9")
            .with_image_size("512"),
    );
    let first = chat
        .send("An infographic about photosynthesis")
        .await
        .unwrap();
    assert_eq!(first.actual_dimensions().unwrap().to_string(), "688x384");
    let square = chat
        .send_with(
            "Translate it to Spanish",
            &ImageOptions::new()
                .with_aspect_ratio("1:1")
                .with_image_size("1K"),
        )
        .await
        .unwrap();
    assert_eq!(square.actual_dimensions().unwrap().to_string(), "1024x1024");
    assert_eq!(square.matches_prediction(), Some(true));
    let third = chat.send("Now in French").await.unwrap();
    assert_eq!(third.actual_dimensions().unwrap().to_string(), "688x384");
    let bodies: Vec<Value> = generate_requests(&server)
        .iter()
        .map(|r| r.json().unwrap())
        .collect();
    assert_eq!(
        bodies[1]["generationConfig"]["imageConfig"],
        serde_json::json!({"aspectRatio": "1:1", "imageSize": "1K"})
    );
    assert_eq!(
        bodies[2]["generationConfig"]["imageConfig"],
        serde_json::json!({"aspectRatio": "16:9", "imageSize": "512"})
    );
}

/// An exported chat imports to the same conversation, which goes on with the same signatures.
#[tokio::test]
async fn export_and_import_round_trip() {
    let (server, client) = setup().await;
    let mut chat = client
        .chat(MODEL)
        .with_options(small().with_aspect_ratio("4:3"));
    chat.send("A banana on a plate").await.unwrap();
    chat.send("Make the plate blue").await.unwrap();
    let json = chat.export_json();
    let value: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["format"], "nanobanana.chat");
    assert_eq!(value["version"], 1);
    assert_eq!(value["model"], MODEL);
    assert_eq!(
        value["options"],
        serde_json::json!({"aspectRatio": "4:3", "imageSize": "512", "includeThoughts": true})
    );
    assert!(value["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(value["history"].as_array().unwrap().len(), 4);

    let mut resumed = Chat::import(client.clone(), &json).unwrap();
    assert_eq!(resumed.history(), chat.history());
    assert_eq!(resumed.options(), chat.options());
    assert_eq!(resumed.model(), MODEL);
    assert_eq!(resumed.export_json(), json);
    let third = resumed.send("Add a tiny hat").await.unwrap();
    assert_eq!(third.outcome(), &Outcome::Images);
    assert!(generate_requests(&server).iter().all(|r| r.status() == 200));
}

/// A tampered export is refused: a signature edited by hand (digest), a signature removed
/// even with the digest recomputed (SPEC.md §4 rule 1), a signature on a thought part (rule 3),
/// roles out of order, an unknown version.
#[tokio::test]
async fn tampered_imports_are_rejected() {
    let (_server, client) = setup().await;
    let mut chat = client.chat(MODEL).with_options(small());
    chat.send("A banana on a plate").await.unwrap();
    let export = chat.export();
    let import = |export: ChatExport| {
        Chat::from_export(client.clone(), export)
            .unwrap_err()
            .to_string()
    };

    // One base64 character of a signature changed in the JSON text.
    let json = chat.export_json();
    let value: Value = serde_json::from_str(&json).unwrap();
    let signature = value["history"][1]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|p| p["thoughtSignature"].as_str())
        .unwrap()
        .to_owned();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = json.replace(&signature, &format!("{flipped}{}", &signature[1..]));
    assert_ne!(tampered, json);
    let error = Chat::import(client.clone(), &tampered).unwrap_err();
    assert!(matches!(error, Error::Import { .. }));
    assert_eq!(
        error.to_string(),
        "chat import rejected: the digest does not match: the model or history was changed after export"
    );

    // The final image's signature removed, digest recomputed.
    let mut unsigned = export.clone();
    let final_image = unsigned.history[1]
        .parts
        .iter()
        .rposition(|p| p.inline_data.is_some() && !p.is_thought())
        .unwrap();
    unsigned.history[1].parts[final_image].thought_signature = None;
    unsigned.reseal();
    assert_eq!(
        import(unsigned),
        format!(
            "chat import rejected: content 2 (model), part {}: a non-thought image part carries no thoughtSignature (response-image-signed)",
            final_image + 1
        )
    );

    // A signature moved onto a thought part.
    let mut thought_signed = export.clone();
    let thought = thought_signed.history[1]
        .parts
        .iter()
        .position(|p| p.is_thought())
        .unwrap();
    thought_signed.history[1].parts[thought].thought_signature =
        Some(Base64Bytes::new(b"moved".to_vec()));
    thought_signed.reseal();
    assert!(
        import(thought_signed).contains("(response-thought-unsigned)"),
        "rule 3"
    );

    // Two user turns in a row.
    let mut roles = export.clone();
    roles
        .history
        .push(Content::user([Part::from_text("again")]));
    roles
        .history
        .push(Content::user([Part::from_text("and again")]));
    roles.reseal();
    assert!(import(roles).contains("content 4 has role \"user\", expected \"model\""));

    // A version from the future.
    let mut future = export.clone();
    future.version = 2;
    assert_eq!(
        import(future),
        "chat import rejected: format version 2 is not one this crate reads (it reads version 1)"
    );

    // Not JSON at all.
    assert!(
        Chat::import(client.clone(), "{\"format\": 1}")
            .unwrap_err()
            .to_string()
            .starts_with("chat import rejected: not a chat export: ")
    );
    // The untouched export still imports.
    assert!(Chat::from_export(client.clone(), export).is_ok());
}

/// Undo drops the last turn; the conversation continues from the one before.
#[tokio::test]
async fn undo_drops_the_last_turn() {
    let (_server, client) = setup().await;
    let mut chat = client.chat(MODEL).with_options(small());
    assert!(!chat.undo());
    chat.send("A banana").await.unwrap();
    chat.send("Blue").await.unwrap();
    assert!(chat.undo());
    assert_eq!(chat.turns(), 1);
    chat.send("Red").await.unwrap();
    assert_eq!(chat.turns(), 2);
}
