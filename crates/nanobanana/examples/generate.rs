//! One-shot generation: preview the cost, send, match the outcome, compare the predicted and
//! actual size, save the image atomically.
//!
//! `cargo run -p nanobanana --example generate` (fake server), or with `GEMINI_API_KEY` set.

#![allow(clippy::print_stdout)]

mod common;

use nanobanana::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = common::connect().await?;
    let request = session
        .client
        .images()
        .generate("A nano banana dish in a fancy restaurant with a Gemini theme")
        .model("gemini-nano-banana-2.1")
        .aspect_ratio("16:9")
        .image_size("1K")
        .text_and_image();
    println!("preview: {}", request.preview()?);

    let banana = request.send().await?;
    match banana.outcome() {
        Outcome::Images => {
            let image = banana.image().ok_or("an Images outcome has an image")?;
            println!(
                "got a {} image: predicted {}, actual {}",
                image.mime_type().unwrap_or("?"),
                banana
                    .predicted_dimensions()
                    .map_or("?".to_owned(), |d| d.to_string()),
                image.dimensions().map_or("?".to_owned(), |d| d.to_string()),
            );
            let extension = image.format().map_or("img", |f| f.extension());
            let path = common::out_dir("generate")?.join(format!("banana.{extension}"));
            banana.save_replacing(&path)?;
            println!("saved {}", path.display());
        }
        other => println!("no image this time: {other}"),
    }
    if !banana.text().is_empty() {
        println!("text: {}", banana.text());
    }
    let usage = banana.usage();
    println!(
        "tokens: prompt {:?}, image output {:?}, thinking {:?}, total {:?}",
        usage.prompt_tokens, usage.image_output_tokens, usage.thoughts_tokens, usage.total_tokens
    );
    Ok(())
}
