//! Multi-turn editing: a chat keeps the history and sends thought signatures back exactly as
//! received; one turn overrides the ratio and size; a streamed turn; export, import, go on.
//!
//! `cargo run -p nanobanana --example chat` (fake server), or with `GEMINI_API_KEY`.

#![allow(clippy::print_stdout)]

mod common;

use nanobanana::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = common::connect().await?;
    let mut chat = session.client.chat("gemini-nano-banana-2.1").with_options(
        ImageOptions::new()
            .text_and_image()
            .with_aspect_ratio("16:9"),
    );

    let first = chat
        .send("Create a vibrant infographic that explains photosynthesis as if it were a recipe")
        .await?;
    println!("turn 1: {}, {}", first.outcome(), size(&first));

    // One turn in another ratio and size; the chat's settings stay for the next turns.
    let second = chat
        .send_with(
            "Update this infographic to be in Spanish. Do not change any other elements.",
            &ImageOptions::new()
                .with_aspect_ratio("1:1")
                .with_image_size("2K"),
        )
        .await?;
    println!("turn 2: {}, {}", second.outcome(), size(&second));

    // Streamed: chunks as they arrive, the same history as a whole answer.
    let mut chunks = 0;
    let third = chat
        .send_streaming(
            "Add a small sun in the top corner",
            &ImageOptions::new(),
            |_| chunks += 1,
        )
        .await?;
    println!("turn 3 (streamed, {chunks} chunks): {}", third.outcome());

    // Save the conversation, and resume it as if after a restart.
    let path = common::out_dir("chat")?.join("photosynthesis.chat.json");
    std::fs::write(&path, chat.export_json())?;
    let mut resumed = Chat::import(session.client.clone(), &std::fs::read_to_string(&path)?)?;
    println!(
        "saved and resumed {} turns from {}",
        resumed.turns(),
        path.display()
    );
    let fourth = resumed.send("Now make the background a soft green").await?;
    println!(
        "turn 4 after resuming: {}, {}",
        fourth.outcome(),
        size(&fourth)
    );
    Ok(())
}

fn size(generation: &Generation) -> String {
    generation
        .actual_dimensions()
        .map_or("no image".to_owned(), |d| d.to_string())
}
