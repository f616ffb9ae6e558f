//! Grounding with Google Search (web and image search on 3.1 Flash Image): the sources, the
//! queries, the supported spans of the text, and the attribution to display, written as HTML.
//!
//! `cargo run -p nanobanana --example grounding` (fake server), or with `GEMINI_API_KEY`.

#![allow(clippy::print_stdout)]

mod common;

use nanobanana::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = common::connect().await?;
    let forecast = session
        .client
        .images()
        .generate("Visualize the current weather forecast for the next 5 days in San Francisco as a clean, modern weather chart")
        .model("gemini-3.1-flash-image")
        .aspect_ratio("16:9")
        .google_search(Search::WebAndImage)
        .send()
        .await?;
    println!("outcome: {}", forecast.outcome());
    let Some(grounding) = forecast.grounding() else {
        println!("the answer carries no grounding metadata");
        return Ok(());
    };
    println!("web search queries: {:?}", grounding.web_search_queries());
    println!(
        "image search queries: {:?}",
        grounding.image_search_queries()
    );
    for web in grounding.web_sources() {
        println!(
            "web source: {} <{}>",
            web.title.unwrap_or("?"),
            web.uri.unwrap_or("?")
        );
    }
    for image in grounding.image_sources() {
        println!(
            "image source: {} (page {})",
            image.title.unwrap_or("?"),
            image.page_uri.unwrap_or("?")
        );
    }
    let text = forecast.text();
    for support in grounding.supports() {
        if let Some(supported) = support.span().and_then(|span| text.get(span)) {
            println!(
                "supported: {supported:?} by sources {:?}",
                support.source_indices()
            );
        }
    }
    // What must be shown with the answer: the search chip and links to the source pages.
    let attribution = grounding.attribution();
    let path = common::out_dir("grounding")?.join("attribution.html");
    std::fs::write(&path, attribution.to_html())?;
    println!(
        "{} attribution links; HTML written to {}",
        attribution.links.len(),
        path.display()
    );
    Ok(())
}
