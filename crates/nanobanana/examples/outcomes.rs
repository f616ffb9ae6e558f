//! Outcomes: `NO_IMAGE`, `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`, a blocked prompt and a
//! text-only answer are distinct results to match on. Against the fake server, each prompt is
//! made to end that way (with its fault injection); against the real service the prompts are
//! sent as they are and whatever comes back is matched the same way.
//!
//! `cargo run -p nanobanana --example outcomes` (fake server), or with `GEMINI_API_KEY`.

#![allow(clippy::print_stdout)]

mod common;

use nanobanana::prelude::*;
use nanobanana_mock::{Fault, Mock, OutcomeKind as Injected};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = common::connect().await?;
    let cases = [
        ("A banana (an ordinary request)", None),
        ("A banana drawn by nobody", Some(Injected::NoImage)),
        ("A banana, unsafe version", Some(Injected::ImageSafety)),
        (
            "A banana, prohibited version",
            Some(Injected::ImageProhibitedContent),
        ),
        ("A banana, blocked prompt", Some(Injected::BlockedPrompt)),
        ("Describe a banana in words", Some(Injected::TextOnly)),
    ];
    if let Some(server) = &session.server {
        for (prompt, injected) in cases {
            if let Some(outcome) = injected {
                Mock::any()
                    .body_contains(prompt)
                    .fault(Fault::outcome(outcome))
                    .mount(server)
                    .await;
            }
        }
    }
    for (prompt, _) in cases {
        let generation = session
            .client
            .images()
            .generate(prompt)
            .image_size("1K")
            .send()
            .await?;
        let what = match generation.outcome() {
            Outcome::Images => format!("{} image(s)", generation.final_images().len()),
            Outcome::TextOnly => format!("text only: {:?}", generation.text()),
            Outcome::NoImage { .. } => "no image: rephrase and try again".to_owned(),
            Outcome::ImageSafety { .. } => "withheld by the safety filters".to_owned(),
            Outcome::ImageProhibitedContent { message } => {
                format!("prohibited content: {}", message.as_deref().unwrap_or("-"))
            }
            Outcome::BlockedPrompt { reason, .. } => {
                format!("the prompt was blocked ({})", reason.as_str())
            }
            other => format!("other: {other}"),
        };
        println!("{prompt:40} -> {what}");
    }
    Ok(())
}
