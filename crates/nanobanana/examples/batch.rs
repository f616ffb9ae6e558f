//! Batches: many requests submitted at once (inline, or as a JSONL file when large), polled
//! with backoff and progress, results in submission order with each its own success or error.
//!
//! `cargo run -p nanobanana --example batch` (fake server), or with `GEMINI_API_KEY` (a real
//! batch can take up to 24 hours).

#![allow(clippy::print_stdout)]

mod common;

use std::time::Duration;

use nanobanana::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = common::connect().await?;
    let fruits = ["banana", "mango", "papaya", "lychee", "kiwi"];
    let mut batch = session
        .client
        .batch("gemini-2.5-flash-image")
        .display_name("fruit portraits");
    for fruit in fruits {
        batch = batch.add_message(
            format!("A studio portrait of a {fruit}"),
            &ImageOptions::new().with_aspect_ratio("4:5"),
        );
    }
    // This one breaks a rule (2.5 Flash takes no image size): refused locally, never sent.
    batch = batch.add_message("A dragon fruit", &ImageOptions::new().with_image_size("2K"));
    println!("preview: {}", batch.preview());

    let job = batch.submit().await?;
    println!(
        "submitted {} ({} requests, {} refused before sending)",
        job.name(),
        job.len(),
        job.refused()
    );
    let polling = if session.is_fake() {
        Polling::new().with_initial_delay(Duration::from_millis(50))
    } else {
        Polling::new()
    };
    let results = job
        .wait(&polling, |progress| println!("  {progress}"))
        .await?;
    for item in results.items() {
        match item.result() {
            Ok(generation) => println!(
                "#{}: {} {}",
                item.index(),
                generation.outcome(),
                generation
                    .actual_dimensions()
                    .map_or(String::new(), |d| d.to_string())
            ),
            Err(error) => println!("#{}: {error}", item.index()),
        }
    }
    println!(
        "{} succeeded, {} failed",
        results.succeeded(),
        results.failed()
    );
    Ok(())
}
