//! Editing: an input image from a file (its type recognised from the bytes, not the name) and
//! an instruction; then the same image uploaded once with the Files API and used by reference.
//!
//! `cargo run -p nanobanana --example edit [IMAGE]` (fake server), or with `GEMINI_API_KEY`.

#![allow(clippy::print_stdout)]

mod common;

use nanobanana::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = common::connect().await?;
    let images = session.client.images();
    let dir = common::out_dir("edit")?;

    // The picture to edit: a path on the command line, or one made here.
    let path = match std::env::args().nth(1) {
        Some(path) => path.into(),
        None => {
            let cat = images
                .generate("A photo of a ginger cat sitting on a windowsill")
                .aspect_ratio("4:3")
                .image_size("1K")
                .image_only()
                .send()
                .await?
                .require_images()?;
            let path = dir.join("cat.png");
            cat.save_replacing(&path)?;
            path
        }
    };
    let input = InputImage::from_path(&path)?;
    println!(
        "input {}: {} {}",
        path.display(),
        input.mime_type(),
        input.dimensions().map_or("?".to_owned(), |d| d.to_string())
    );

    // Without an aspect ratio, the output keeps the input's.
    let edited = images
        .edit(input.clone(), "Put a tiny knitted wizard hat on the cat")
        .image_only()
        .send()
        .await?
        .require_images()?;
    println!(
        "edited: {}",
        edited
            .actual_dimensions()
            .map_or("?".to_owned(), |d| d.to_string())
    );
    edited.save_replacing(dir.join("cat-with-hat.png"))?;

    // Upload once, use by reference (fileData) in later requests.
    let uploaded = images.upload(input).await?;
    println!("uploaded as {}", uploaded.file_uri().unwrap_or("?"));
    let again = images
        .edit(uploaded, "Now make it a watercolour painting")
        .image_only()
        .send()
        .await?;
    println!("by reference: {}", again.outcome());
    Ok(())
}
