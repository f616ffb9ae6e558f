//! Cost preview: the output size and image tokens of a request, from the published resolution
//! table, before anything is sent; then one request sent to compare with the usage reported.
//!
//! `cargo run -p nanobanana --example cost_preview` (fake server), or with `GEMINI_API_KEY`.

#![allow(clippy::print_stdout)]

mod common;

use nanobanana::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = common::connect().await?;
    let images = session.client.images();
    let prompt = "A nano banana dish in a fancy restaurant";
    let choices = [
        ("gemini-3.1-flash-image", "16:9", Some("512")),
        ("gemini-3.1-flash-image", "21:9", Some("512")),
        ("gemini-nano-banana-2.1", "1:8", Some("4K")),
        ("gemini-3.1-flash-lite-image", "21:9", None),
        ("gemini-3-pro-image", "16:9", Some("2K")),
        ("gemini-3-pro-image", "3:2", None),
        ("gemini-2.5-flash-image", "9:16", None),
    ];
    for (model, ratio, size) in choices {
        let mut request = images.generate(prompt).model(model).aspect_ratio(ratio);
        if let Some(size) = size {
            request = request.image_size(size);
        }
        let preview = request.preview()?;
        let erratum = preview
            .prediction()
            .entry()
            .and_then(|entry| entry.erratum())
            .map(|e| {
                format!(
                    " (published erratum; consistent size {}x{})",
                    e.consistent_width(),
                    e.consistent_height()
                )
            })
            .unwrap_or_default();
        println!("{preview}{erratum}");
    }

    // Send one and compare.
    let request = images
        .generate(prompt)
        .model("gemini-3-pro-image")
        .aspect_ratio("16:9")
        .image_size("2K");
    let preview = request.preview()?;
    let generation = request.send().await?;
    println!(
        "sent: predicted {} at {} tokens; got {} at {:?} image tokens",
        preview
            .dimensions()
            .map_or("?".to_owned(), |d| d.to_string()),
        preview
            .tokens_per_image()
            .map_or("?".to_owned(), |t| t.to_string()),
        generation
            .actual_dimensions()
            .map_or("?".to_owned(), |d| d.to_string()),
        generation.usage().image_output_tokens
    );
    Ok(())
}
