//! Composition: reference images tagged as objects or characters, checked against the model's
//! limits before anything is sent.
//!
//! `cargo run -p nanobanana --example compose` (fake server), or with `GEMINI_API_KEY`.

#![allow(clippy::print_stdout)]

mod common;

use nanobanana::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = common::connect().await?;
    let images = session.client.images();

    // Reference pictures (made here; in an application, photos from disk).
    let mut references = Vec::new();
    for prompt in [
        "A studio photo of a red leather handbag on white",
        "A studio photo of a straw sun hat on white",
        "A portrait photo of a smiling woman with curly hair",
    ] {
        let picture = images
            .generate(prompt)
            .aspect_ratio("1:1")
            .image_size("1K")
            .image_only()
            .send()
            .await?
            .require_images()?;
        let bytes = picture.image().ok_or("an image")?.bytes().to_vec();
        references.push(InputImage::from_bytes(bytes)?);
    }

    let composition = Composition::new(
        "A fashion photo of the woman wearing the hat and carrying the handbag, on a beach",
    )
    .with_reference(Reference::object(references[0].clone()).with_label("The handbag:"))
    .with_reference(Reference::object(references[1].clone()).with_label("The hat:"))
    .with_reference(Reference::character(references[2].clone()).with_label("The woman:"));

    // Too many characters for 3.1 Flash (4) is refused before sending.
    let mut crowd = Composition::new("Everyone together");
    for _ in 0..5 {
        crowd = crowd.with_character(references[2].clone());
    }
    match crowd.check("gemini-3.1-flash-image") {
        Err(error) => println!("refused before sending: {error}"),
        Ok(()) => println!("unexpectedly within the limits"),
    }

    let photo = images
        .compose(composition)
        .model("gemini-3.1-flash-image")
        .aspect_ratio("3:4")
        .image_size("1K")
        .send()
        .await?;
    println!(
        "composed: {}, {}",
        photo.outcome(),
        photo
            .actual_dimensions()
            .map_or("no image".to_owned(), |d| d.to_string())
    );
    if photo.outcome().has_images() {
        let path = common::out_dir("compose")?.join("beach.png");
        photo.save_replacing(&path)?;
        println!("saved {}", path.display());
    }
    Ok(())
}
