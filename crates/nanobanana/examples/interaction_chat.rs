//! A conversation kept on the service (the Interactions API): each turn sends only the new
//! message and continues the last interaction (`previous_interaction_id`); the answer is the same
//! `Generation` a `generateContent` turn gives; the conversation goes on later from one id; an
//! image can come as a download `uri` instead of inline bytes.
//!
//! `cargo run -p nanobanana --example interaction_chat` (fake server), or with `GEMINI_API_KEY`.

#![allow(clippy::print_stdout)]

mod common;

use nanobanana::prelude::*;
use nanobanana::wire::{ImageDelivery, InteractionContent, Step};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = common::connect().await?;
    let model = "gemini-nano-banana-2.1";
    let mut conversation = session
        .client
        .interaction_chat(model)
        .with_options(ImageOptions::new().with_aspect_ratio("16:9"));

    let first = conversation
        .send("A nano banana dish in a fancy restaurant with a Gemini theme")
        .await?;
    println!("turn 1: {}, {}", first.outcome(), size(&first));
    let second = conversation.send("Make the plate blue").await?;
    println!("turn 2: {}, {}", second.outcome(), size(&second));
    let out = common::out_dir("interaction_chat")?;
    let path = out.join("blue-plate.jpg");
    second.save_replacing(&path)?;
    println!("saved {}", path.display());

    // All a program needs to keep to go on later: the id of the last interaction.
    let id = conversation
        .last_interaction_id()
        .ok_or("the service kept no interaction")?
        .to_owned();
    println!("last interaction: {id}");
    let mut later = InteractionConversation::resume(session.client.clone(), model, id)
        .with_delivery(ImageDelivery::Uri);
    let third = later.send("Add a tiny chef's hat on the banana").await?;
    // Delivered as a download URI: the conversation fetched the bytes (the interaction keeps
    // the URI).
    let uri = later.last_interaction().and_then(|interaction| {
        interaction.steps.iter().find_map(|step| match step {
            Step::ModelOutput(output) => output.content.iter().find_map(|content| match content {
                InteractionContent::Image(image) => image.uri.clone(),
                _ => None,
            }),
            _ => None,
        })
    });
    println!(
        "turn 3 after resuming: {}, {}, downloaded from {}",
        third.outcome(),
        size(&third),
        uri.as_deref().unwrap_or("(inline)")
    );
    Ok(())
}

fn size(generation: &Generation) -> String {
    generation
        .actual_dimensions()
        .map_or("no image".to_owned(), |d| d.to_string())
}
