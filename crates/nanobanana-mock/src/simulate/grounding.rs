//! Grounding metadata (SPEC.md §3) for a request that enables Google Search: web and image
//! search chunks, the search queries, the entry point chip and the supports of the answer text.

use serde_json::Value;

use nanobanana_rules::catalogue;
use nanobanana_wire::{
    GroundingChunk, GroundingMetadata, GroundingSupport, ImageChunk, SearchEntryPoint, Segment,
    WebChunk,
};

use super::Rng;

/// The grounding metadata of an answer, when the request enables Google Search.
pub(super) fn metadata(
    body: &Value,
    model: &str,
    text: Option<&str>,
    subject: &str,
    rng: &mut Rng,
) -> Option<GroundingMetadata> {
    let tools = body.get("tools")?.as_array()?;
    let search = tools.iter().find_map(|t| t.get("googleSearch"))?;
    let types = search.get("searchTypes");
    let image_search = types.is_some_and(|t| t.get("imageSearch").is_some())
        && catalogue::lookup(model)
            .model()
            .is_some_and(|m| m.image_search() == catalogue::Availability::Available);
    let web_search = types.is_none_or(|t| t.get("webSearch").is_some() || !image_search);
    let topic = subject.trim_start_matches("an image of ").to_owned();
    let mut chunks = Vec::new();
    if image_search {
        for (i, domain) in ["example-gallery.org", "photos.example.net"]
            .iter()
            .enumerate()
        {
            let token = rng.token();
            chunks.push(
                GroundingChunk::new().with_image(
                    ImageChunk::new()
                        .with_source_uri(redirect(&token))
                        .with_image_uri(format!(
                            "https://encrypted-tbn0.gstatic.com/images?q=tbn:{token}{i}"
                        ))
                        .with_title(format!("{} ({})", capitalize(&topic), domain))
                        .with_domain(*domain),
                ),
            );
        }
    }
    let web_start = chunks.len();
    if web_search {
        for domain in ["wikipedia.org", "britannica.com", "example.com"] {
            let token = rng.token();
            chunks.push(
                GroundingChunk::new().with_web(
                    WebChunk::new()
                        .with_uri(redirect(&token))
                        .with_title(domain),
                ),
            );
        }
    }
    let web_indices: Vec<i64> = (web_start..chunks.len()).map(|i| i as i64).collect();
    let mut metadata = GroundingMetadata::new()
        .with_search_entry_point(SearchEntryPoint::new().with_rendered_content(search_chip(&topic)))
        .with_grounding_chunks(chunks);
    if web_search {
        metadata = metadata.with_web_search_queries([topic.clone()]);
    }
    if image_search {
        metadata = metadata.with_image_search_queries([topic.clone(), format!("{topic} photo")]);
    }
    if let Some(text) = text
        && !web_indices.is_empty()
    {
        let support = GroundingSupport::new()
            .with_segment(
                Segment::new()
                    .with_start_index(0)
                    .with_end_index(text.len() as i64)
                    .with_text(text),
            )
            .with_confidence_scores(web_indices.iter().map(|_| 0.9))
            .with_grounding_chunk_indices(web_indices);
        metadata = metadata.with_grounding_supports([support]);
    }
    Some(metadata)
}

/// A grounding redirect URL like the service's.
fn redirect(token: &str) -> String {
    format!("https://vertexaisearch.cloud.google.com/grounding-api-redirect/{token}")
}

fn search_chip(query: &str) -> String {
    let escaped = query
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<style>\n.container {{\n  align-items: center;\n  border-radius: 8px;\n  display: flex;\n  font-family: Google Sans, Roboto, sans-serif;\n  font-size: 14px;\n  padding: 8px 12px;\n}}\n.chip {{\n  border: solid 1px #dadce0;\n  border-radius: 16px;\n  color: #1f1f1f;\n  padding: 5px 16px;\n  text-decoration: none;\n}}\n</style>\n<div class=\"container\"><a class=\"chip\" href=\"https://www.google.com/search?q={}\">{escaped}</a></div>\n",
        query
            .replace(' ', "+")
            .replace('"', "%22")
            .replace('<', "%3C")
            .replace('>', "%3E")
    )
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
