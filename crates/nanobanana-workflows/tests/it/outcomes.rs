//! Outcomes (WIRE.md "Response details"): every way the service declines is its own variant.

use nanobanana_mock::{Fault, Mock};
use nanobanana_transport::wire::{BlockReason, FinishReason};
use nanobanana_workflows::{ClientExt, Error, Outcome, OutcomeKind};

use crate::{scratch, setup};

/// `NO_IMAGE`, `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`, `IMAGE_RECITATION`,
/// `MISSING_THOUGHT_SIGNATURE`, a blocked prompt and a text-only answer each come back as their
/// own `Outcome`, not an error or an empty list; `require_images` and `save` turn them into
/// `Error::Unusable`.
#[tokio::test]
async fn each_finish_reason_is_a_distinct_outcome() {
    let (server, client) = setup().await;
    let cases = [
        (OutcomeKind::NoImage, "no-image"),
        (OutcomeKind::ImageSafety, "image-safety"),
        (
            OutcomeKind::ImageProhibitedContent,
            "image-prohibited-content",
        ),
        (OutcomeKind::ImageRecitation, "image-recitation"),
        (OutcomeKind::BlockedPrompt, "blocked-prompt"),
        (OutcomeKind::TextOnly, "text-only"),
        (
            OutcomeKind::MissingThoughtSignature,
            "missing-thought-signature",
        ),
    ];
    for (fault, _) in cases {
        Mock::any()
            .body_contains(&format!("case {fault}"))
            .fault(Fault::outcome(fault))
            .expect(1)
            .mount(&server)
            .await;
    }
    let dir = scratch("outcomes");
    for (fault, name) in cases {
        let generation = client
            .images()
            .generate(format!("A banana, case {fault}"))
            .model("gemini-3.1-flash-image")
            .image_size("512")
            .send()
            .await
            .unwrap();
        let outcome = generation.outcome().clone();
        assert_eq!(outcome.name(), name);
        assert_eq!(outcome.kind(), fault);
        assert!(generation.final_images().is_empty(), "{name}");
        assert!(!outcome.has_images());
        match &outcome {
            Outcome::NoImage { .. } => {
                assert_eq!(generation.finish_reason(), Some(&FinishReason::NoImage));
            }
            Outcome::ImageSafety { .. } => {
                assert_eq!(generation.finish_reason(), Some(&FinishReason::ImageSafety));
            }
            Outcome::ImageProhibitedContent { message } => {
                assert!(message.as_deref().unwrap().contains("prohibited content"));
            }
            Outcome::ImageRecitation { .. } => {}
            Outcome::BlockedPrompt { reason, .. } => {
                assert_eq!(reason, &BlockReason::ProhibitedContent);
                assert!(generation.response().candidates.is_empty());
            }
            Outcome::TextOnly => {
                assert!(generation.text().contains("can't create that image"));
                assert!(outcome.is_usable());
            }
            Outcome::MissingThoughtSignature { message } => {
                assert!(message.as_deref().unwrap().contains("thought signature"));
                assert!(!outcome.is_usable());
            }
            other => panic!("unexpected {other:?}"),
        }
        let error = generation
            .save(dir.join(format!("{name}.png")))
            .unwrap_err();
        assert_eq!(error.outcome(), Some(&outcome));
        let error = generation.require_images().unwrap_err();
        assert!(matches!(error, Error::Unusable { .. }), "{error}");
        assert!(error.to_string().starts_with("the answer is not usable: "));
    }
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing saved"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    server.verify();
}

/// In a chat, a blocked prompt is an error that names the reason; a text-only answer is kept
/// (the model answered, and the conversation can go on from it).
#[tokio::test]
async fn chat_turns_keep_text_answers_and_refuse_blocked_ones() {
    let (server, client) = setup().await;
    let mut chat = client.chat("gemini-3.1-flash-image");
    Mock::any()
        .body_contains("forbidden")
        .fault(Fault::outcome(OutcomeKind::BlockedPrompt))
        .mount(&server)
        .await;
    Mock::any()
        .body_contains("describe")
        .fault(Fault::outcome(OutcomeKind::TextOnly))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let error = chat.send("Something forbidden").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the answer is not usable: the prompt was blocked (promptFeedback.blockReason PROHIBITED_CONTENT): The prompt was blocked because it may request content that violates the usage policies."
    );
    assert_eq!(chat.turns(), 0);
    let text = chat.send("Please describe a banana").await.unwrap();
    assert_eq!(text.outcome(), &Outcome::TextOnly);
    assert_eq!(chat.turns(), 1);
}
