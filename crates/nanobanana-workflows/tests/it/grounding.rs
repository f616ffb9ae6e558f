//! Grounding with Google Search (SPEC.md §3): metadata access and attribution.

use nanobanana_workflows::{ClientExt, Search, SourceKind};

use crate::setup;

/// SPEC.md §3: web and image sources, queries, supports mapped to text spans, the entry point;
/// the attribution links image sources to their containing page (snapshot of data and HTML).
#[tokio::test]
async fn grounding_metadata_and_attribution() {
    let (_server, client) = setup().await;
    let generation = client
        .images()
        .generate("The current weather in Lisbon as a watercolour postcard")
        .model("gemini-3.1-flash-image")
        .image_size("512")
        .google_search(Search::WebAndImage)
        .send()
        .await
        .unwrap();
    let grounding = generation.grounding().expect("grounding metadata");
    assert!(grounding.entry_point_html().unwrap().contains("<style>"));
    assert_eq!(grounding.web_sources().len(), 3);
    assert_eq!(grounding.image_sources().len(), 2);
    assert_eq!(grounding.sources().len(), 5);
    assert!(!grounding.web_search_queries().is_empty());
    assert_eq!(grounding.image_search_queries().len(), 2);
    for image in grounding.image_sources() {
        assert!(image.page_uri.unwrap().starts_with("https://"));
        assert!(image.image_uri.unwrap().starts_with("https://"));
    }

    let text = generation.text();
    let supports = grounding.supports();
    assert!(!supports.is_empty());
    for support in &supports {
        let span = support.span().expect("every support maps to the text");
        assert_eq!(Some(&text[span]), support.text());
        for &index in support.source_indices() {
            assert!(index < grounding.sources().len());
        }
    }

    let attribution = grounding.attribution();
    assert_eq!(attribution.links.len(), 5);
    let images: Vec<_> = attribution
        .links
        .iter()
        .filter(|l| l.kind == SourceKind::Image)
        .collect();
    assert_eq!(images.len(), 2);
    for (link, source) in images.iter().zip(grounding.image_sources()) {
        // The containing page, never the image file, is the link.
        assert_eq!(Some(link.page_url.as_str()), source.page_uri);
        assert_eq!(link.image_url.as_deref(), source.image_uri);
    }
    insta::assert_debug_snapshot!("attribution_data", attribution);
    insta::assert_snapshot!("attribution_html", attribution.to_html());
}

/// Image search exists on 3.1 Flash Image only (`image-search-supported`): asking 3 Pro for it
/// is refused before sending.
#[tokio::test]
async fn image_search_only_where_the_model_has_it() {
    let (server, client) = setup().await;
    let error = client
        .images()
        .generate("A banana")
        .model("gemini-3-pro-image")
        .google_search(Search::Image)
        .send()
        .await
        .unwrap_err();
    let report = error.transport().unwrap().validation_report().unwrap();
    assert_eq!(
        report.first_error().unwrap().rule().id(),
        "image-search-supported"
    );
    assert!(server.received_requests().is_empty());
    // Web search is fine there.
    let web = client
        .images()
        .generate("A banana")
        .model("gemini-3-pro-image")
        .google_search(Search::Web)
        .send()
        .await
        .unwrap();
    let grounding = web.grounding().unwrap();
    assert!(grounding.image_sources().is_empty());
    assert_eq!(grounding.web_sources().len(), 3);
}
