//! Simulated answers: images of exactly the table's size for every (model, ratio, size), the
//! table's image tokens, determinism, thought parts and signature placement, grounding, JPEG;
//! and agreement with what the corpus recorded for valid requests.

mod common;

use common::*;
use nanobanana_mock::image::{ImageFormat, sniff};
use nanobanana_mock::{IMAGE_FORMAT_HEADER, MockGemini, Mode};
use nanobanana_rules::resolution::{self, TableEntry};
use nanobanana_rules::response::{signature_violations, stream_parts as typed_stream_parts};
use nanobanana_wire::GenerateContentResponse;
use serde_json::{Value, json};

async fn simulator() -> MockGemini {
    MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Simulate)
        .start()
        .await
}

fn entry_request(entry: &TableEntry) -> Value {
    image_request(
        "A nano banana dish",
        &["IMAGE"],
        Some(entry.aspect_ratio().as_str()),
        entry.image_size().map(|s| s.as_str()),
    )
}

fn png_dimensions(bytes: &[u8]) -> (u32, u32) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    // Palette indices as they are: the decode checks every row without expanding to RGB.
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a buffer size")];
    let info = reader.next_frame(&mut buffer).expect("a whole PNG frame");
    (info.width, info.height)
}

fn jpeg_dimensions(bytes: &[u8]) -> (u32, u32) {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder.decode().expect("a whole JPEG");
    let info = decoder.info().expect("JPEG info");
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    assert_eq!(
        pixels.len(),
        (w * h) as usize * info.pixel_format.pixel_bytes()
    );
    (w, h)
}

#[tokio::test]
async fn every_table_entry_has_its_exact_size_and_tokens() {
    let server = simulator().await;
    let entries = resolution::table().entries();
    assert!(entries.len() >= 90, "{} entries", entries.len());
    let mut decoded = 0;
    for entry in entries {
        let label = format!(
            "{} {} {:?}",
            entry.model(),
            entry.aspect_ratio().as_str(),
            entry.image_size().map(|s| s.as_str())
        );
        let answer = generate(&server, entry.model(), &entry_request(entry)).await;
        assert_eq!(answer.status, 200, "{label}: {}", answer.text_head());
        let json = answer.json();
        let finals = final_images(&json);
        assert_eq!(finals.len(), 1, "{label}");
        let (width, height) = (entry.width(), entry.height());
        assert_eq!(
            sniff(&finals[0].bytes),
            Some((ImageFormat::Png, width, height)),
            "{label}"
        );
        // Fully decode a handful: one per model at its first entry, and a 4K one.
        let size = entry.image_size().map(|s| s.as_str());
        let first_of_model = entries.iter().find(|e| e.model() == entry.model()) == Some(entry);
        let big = size == Some("4K") && entry.aspect_ratio().as_str() == "16:9";
        if first_of_model || big || (size == Some("512") && entry.aspect_ratio().as_str() == "8:1")
        {
            assert_eq!(png_dimensions(&finals[0].bytes), (width, height), "{label}");
            decoded += 1;
        }
        let usage = &json["usageMetadata"];
        assert_eq!(
            usage["candidatesTokensDetails"],
            json!([{"modality": "IMAGE", "tokenCount": entry.tokens()}]),
            "{label}"
        );
        assert_eq!(
            usage["candidatesTokenCount"],
            json!(entry.tokens()),
            "{label}"
        );
        let total = usage["promptTokenCount"].as_u64().unwrap()
            + u64::from(entry.tokens())
            + usage["thoughtsTokenCount"].as_u64().unwrap_or(0);
        assert_eq!(usage["totalTokenCount"], json!(total), "{label}");
        assert_eq!(
            usage.get("thoughtsTokenCount").is_some(),
            entry.model() != FLASH25,
            "{label}: thinking is always on for Gemini 3, absent on 2.5 Flash"
        );
    }
    assert!(decoded >= 5, "{decoded} fully decoded");
}

#[tokio::test]
async fn defaults_are_1_1_at_the_default_size_or_the_input_image_ratio() {
    let server = simulator().await;
    let size = |model: &str, ratio: &str, size: Option<&str>| {
        let e = table_entry(model, ratio, size);
        (e.width(), e.height())
    };
    for (model, default_size) in [(FLASH31, Some("1K")), (PRO, Some("1K")), (FLASH25, None)] {
        let json = generate(&server, model, &prompt("A plain request"))
            .await
            .json();
        let (w, h) = size(model, "1:1", default_size);
        assert_eq!(
            sniff(&final_images(&json)[0].bytes),
            Some((ImageFormat::Png, w, h)),
            "{model}"
        );
    }
    // An input image of 9:16 without aspectRatio: the answer is 9:16.
    let (w, h) = size(FLASH31, "9:16", Some("1K"));
    let input = nanobanana_mock::image::render(
        ImageFormat::Png,
        nanobanana_mock::image::Style::Final,
        w / 8,
        h / 8,
        b"input",
    )
    .unwrap();
    let body = json!({"contents": [{"role": "user", "parts": [
        {"text": "Paint this"},
        {"inlineData": {"mimeType": "image/png", "data": b64_standard(&input)}}
    ]}], "generationConfig": {"imageConfig": {"imageSize": "2K"}}});
    let json = generate(&server, FLASH31, &body).await.json();
    let (w2, h2) = size(FLASH31, "9:16", Some("2K"));
    assert_eq!(
        sniff(&final_images(&json)[0].bytes),
        Some((ImageFormat::Png, w2, h2))
    );
}

#[tokio::test]
async fn the_same_request_gives_the_same_bytes() {
    let server = simulator().await;
    let body = image_request("A red bicycle", &["TEXT", "IMAGE"], Some("3:2"), Some("2K"));
    let first = generate(&server, PRO, &body).await;
    let second = generate(&server, PRO, &body).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body, second.body);
    // Another server (same default secret) gives the same bytes: not just a cache.
    let other = simulator().await;
    assert_eq!(generate(&other, PRO, &body).await.body, first.body);
    // snake_case spelling of the same request: the same answer.
    let snake = json!({"contents": body["contents"], "generation_config": {
        "response_modalities": ["TEXT", "IMAGE"],
        "image_config": {"aspect_ratio": "3:2", "image_size": "2K"}
    }});
    assert_eq!(generate(&other, PRO, &snake).await.body, first.body);
    // Another prompt: another image.
    let different = image_request(
        "A blue bicycle",
        &["TEXT", "IMAGE"],
        Some("3:2"),
        Some("2K"),
    );
    let third = generate(&server, PRO, &different).await.json();
    assert_ne!(
        final_images(&third)[0].bytes,
        final_images(&first.json())[0].bytes
    );
    // Streams are deterministic too.
    assert_eq!(
        stream(&server, PRO, &body).await.body,
        stream(&other, PRO, &body).await.body
    );
}

fn thoughts_request(text: &str) -> Value {
    json!({
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "generationConfig": {
            "responseModalities": ["TEXT", "IMAGE"],
            "thinkingConfig": {"includeThoughts": true}
        }
    })
}

#[tokio::test]
async fn include_thoughts_adds_unsigned_thought_parts_and_signs_the_rest() {
    let server = simulator().await;
    let mut drafts_seen = 0;
    for model in [PRO, FLASH31] {
        for prompt_text in ["A macaron tower", "A castle on a hill", "A snail race"] {
            let answer = generate(&server, model, &thoughts_request(prompt_text)).await;
            assert_eq!(answer.status, 200);
            let typed: GenerateContentResponse = answer.typed();
            let typed_parts = &typed.candidates[0].content.as_ref().unwrap().parts;
            assert_eq!(signature_violations(typed_parts).count(), 0, "{model}");

            let json = answer.json();
            let all = parts(&json);
            // Thoughts first: thought text, then up to two thought images, none signed.
            assert_eq!(all[0]["thought"], true);
            assert!(all[0]["text"].is_string());
            let thoughts: Vec<&Value> = all.iter().filter(|p| p["thought"] == true).collect();
            assert!(thoughts.iter().all(|p| p.get("thoughtSignature").is_none()));
            let thought_images: Vec<Image> =
                images(&all).into_iter().filter(|i| i.thought).collect();
            assert!(
                (1..=2).contains(&thought_images.len()),
                "{}",
                thought_images.len()
            );
            drafts_seen += thought_images.len() - 1;
            // The first non-thought part and the final image are signed.
            let non_thought: Vec<&Value> = all.iter().filter(|p| p["thought"] != true).collect();
            assert!(non_thought[0]["thoughtSignature"].is_string());
            let finals = final_images(&json);
            assert_eq!(finals.len(), 1);
            assert!(
                non_thought
                    .iter()
                    .filter(|p| p.get("inlineData").is_some())
                    .all(|p| p["thoughtSignature"].is_string())
            );
            // The last thought image is the final image.
            assert_eq!(thought_images.last().unwrap().bytes, finals[0].bytes);
            assert!(
                json["usageMetadata"]["thoughtsTokenCount"]
                    .as_u64()
                    .unwrap()
                    > 0
            );
            // Thought images are not billed.
            let (w, h) = (1024, 1024);
            assert_eq!(sniff(&finals[0].bytes), Some((ImageFormat::Png, w, h)));
            assert_eq!(
                json["usageMetadata"]["candidatesTokensDetails"][0]["tokenCount"],
                json!(table_entry(model, "1:1", Some("1K")).tokens())
            );

            // Streamed: the same rules over the concatenated parts.
            let events = stream(&server, model, &thoughts_request(prompt_text)).await;
            let typed_events: Vec<GenerateContentResponse> = events
                .events()
                .into_iter()
                .map(|e| serde_json::from_value(e).unwrap())
                .collect();
            assert_eq!(
                signature_violations(typed_stream_parts(&typed_events, 0)).count(),
                0
            );
        }
    }
    // Without includeThoughts: no thought parts at all.
    let plain = generate(
        &server,
        PRO,
        &image_request("A castle on a hill", &["TEXT", "IMAGE"], None, None),
    )
    .await
    .json();
    assert!(parts(&plain).iter().all(|p| p.get("thought").is_none()));
    assert!(
        drafts_seen > 0 && drafts_seen < 6,
        "some answers have an interim draft, some not: {drafts_seen}"
    );
}

#[tokio::test]
async fn google_search_adds_grounding_metadata() {
    let server = simulator().await;
    let mut body = image_request(
        "The weather in Lisbon today as a poster",
        &["TEXT", "IMAGE"],
        None,
        None,
    );
    body["tools"] = json!([{"googleSearch": {}}]);
    for model in [FLASH31, PRO] {
        let json = generate(&server, model, &body).await.json();
        let grounding = &json["candidates"][0]["groundingMetadata"];
        let rendered = grounding["searchEntryPoint"]["renderedContent"]
            .as_str()
            .expect("renderedContent");
        assert!(
            rendered.contains("<style>") && rendered.contains("https://www.google.com/search?q=")
        );
        let chunks = grounding["groundingChunks"].as_array().unwrap();
        assert_eq!(chunks.len(), 3, "the top 3 web sources");
        for chunk in chunks {
            assert!(
                chunk["web"]["uri"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://")
            );
            assert!(chunk["web"]["title"].is_string());
        }
        assert!(!grounding["webSearchQueries"].as_array().unwrap().is_empty());
        let supports = grounding["groundingSupports"].as_array().unwrap();
        assert!(!supports.is_empty());
        for support in supports {
            for index in support["groundingChunkIndices"].as_array().unwrap() {
                assert!((index.as_u64().unwrap() as usize) < chunks.len());
            }
        }
        // Streamed: on the last chunk.
        let events = stream(&server, model, &body).await.events();
        assert_eq!(
            &events.last().unwrap()["candidates"][0]["groundingMetadata"],
            grounding
        );
    }
    // No tools: no grounding.
    let plain = generate(&server, FLASH31, &prompt("A poster")).await.json();
    assert!(plain["candidates"][0].get("groundingMetadata").is_none());
}

#[tokio::test]
async fn image_search_on_3_1_flash_adds_image_chunks() {
    let server = simulator().await;
    for tools in [
        json!([{"googleSearch": {"searchTypes": {"imageSearch": {}}}}]),
        json!([{"google_search": {"search_types": {"image_search": {}}}}]),
        json!([{"googleSearch": {"searchTypes": {"webSearch": {}, "imageSearch": {}}}}]),
    ] {
        let mut body = image_request("A blue morpho butterfly", &["TEXT", "IMAGE"], None, None);
        body["tools"] = tools.clone();
        let answer = generate(&server, FLASH31, &body).await;
        assert_eq!(answer.status, 200, "{}", answer.text_head());
        let json = answer.json();
        let grounding = &json["candidates"][0]["groundingMetadata"];
        let chunks = grounding["groundingChunks"].as_array().unwrap();
        let image_chunks: Vec<&Value> =
            chunks.iter().filter(|c| c.get("image").is_some()).collect();
        assert!(!image_chunks.is_empty(), "{tools}");
        for chunk in &image_chunks {
            assert!(
                chunk["image"]["sourceUri"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://")
            );
            assert!(
                chunk["image"]["imageUri"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://")
            );
            assert!(chunk["image"]["title"].is_string() && chunk["image"]["domain"].is_string());
        }
        assert!(
            !grounding["imageSearchQueries"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert!(grounding["searchEntryPoint"]["renderedContent"].is_string());
        let web = chunks.iter().any(|c| c.get("web").is_some());
        assert_eq!(web, tools.to_string().contains("webSearch"), "{tools}");
    }
}

#[tokio::test]
async fn jpeg_images_by_header_and_by_builder() {
    let server = simulator().await;
    let body = image_request("A cat photo", &["IMAGE"], Some("4:3"), Some("1K"));
    let entry = table_entry(FLASH31, "4:3", Some("1K"));
    let (w, h) = (entry.width(), entry.height());
    let answer = post_json_with(
        &server,
        &generate_path(FLASH31),
        &body,
        &[(IMAGE_FORMAT_HEADER, "jpeg")],
    )
    .await;
    let image = &final_images(&answer.json())[0];
    assert_eq!(image.mime_type, "image/jpeg");
    assert_eq!(sniff(&image.bytes), Some((ImageFormat::Jpeg, w, h)));
    assert_eq!(jpeg_dimensions(&image.bytes), (w, h));
    // PNG without the header, on the same server.
    let png = &final_images(&generate(&server, FLASH31, &body).await.json())[0];
    assert_eq!(png.mime_type, "image/png");

    let jpeg_server = MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .mode(Mode::Simulate)
        .image_format(ImageFormat::Jpeg)
        .start()
        .await;
    let image = &final_images(&generate(&jpeg_server, FLASH31, &body).await.json())[0];
    assert_eq!(image.mime_type, "image/jpeg");
    assert_eq!(jpeg_dimensions(&image.bytes), (w, h));
    // The header overrides the builder.
    let answer = post_json_with(
        &jpeg_server,
        &generate_path(FLASH31),
        &body,
        &[(IMAGE_FORMAT_HEADER, "png")],
    )
    .await;
    assert_eq!(final_images(&answer.json())[0].mime_type, "image/png");
}

#[tokio::test]
async fn image_only_and_text_modalities() {
    let server = simulator().await;
    let image_only = generate(
        &server,
        FLASH31,
        &image_request("A kite", &["IMAGE"], None, None),
    )
    .await
    .json();
    let all = parts(&image_only);
    assert_eq!(all.len(), 1);
    assert!(all[0]["inlineData"].is_object() && all[0]["thoughtSignature"].is_string());
    let text_only = generate(
        &server,
        FLASH31,
        &image_request("A kite", &["TEXT"], None, None),
    )
    .await
    .json();
    let all = parts(&text_only);
    assert!(!all.is_empty() && all.iter().all(|p| p["text"].is_string()));
    assert!(
        text_only["usageMetadata"]
            .get("candidatesTokensDetails")
            .is_none()
    );
}

/// Every recorded 200 answer to a generate request that needs no stored file: the simulator
/// accepts the request too, and its first final image has the recorded image's size.
#[tokio::test]
async fn simulate_accepts_every_valid_corpus_request_and_matches_recorded_sizes() {
    // The corpus is loaded so that its recorded signatures are accepted on replayed turns.
    // One server per service date the corpus records, each as the service was on that date.
    let mut servers: std::collections::BTreeMap<String, MockGemini> = Default::default();
    let mut checked = 0;
    let mut sizes_compared = 0;
    for case in corpus().cases() {
        if !servers.contains_key(&case.service_date) {
            let server = MockGemini::builder()
                .as_of(case.service_date.parse().expect("serviceDate"))
                .mode(Mode::Simulate)
                .corpus(corpus().clone())
                .start()
                .await;
            servers.insert(case.service_date.clone(), server);
        }
        let server = &servers[&case.service_date];
        for (i, interaction) in case.interactions.iter().enumerate() {
            let request = &interaction.request;
            let Some(body) = &request.body else { continue };
            let generate_like = request.path.ends_with(":generateContent")
                || request.path.ends_with(":streamGenerateContent");
            // A model the catalogue does not know is answered 404 by the fake server (the
            // recording shows a service that knew it): not a request it can simulate.
            let model = request
                .path
                .rsplit_once("/models/")
                .and_then(|(_, rest)| rest.split_once(':'))
                .map_or("", |(model, _)| model);
            let lookup = nanobanana_rules::catalogue::lookup(model);
            let known = lookup.model().is_some() || lookup.is_text_only();
            if !generate_like
                || !known
                || interaction.response.status != 200
                || body.to_string().contains("file")
            {
                continue;
            }
            let stream = request.path.ends_with(":streamGenerateContent");
            let path = if stream {
                format!("{}?alt=sse", request.path)
            } else {
                request.path.clone()
            };
            let answer = post_json(server, &path, body).await;
            assert_eq!(
                answer.status,
                200,
                "{} {i}: {}",
                case.id,
                answer.text_head()
            );
            checked += 1;
            let (recorded, simulated) = if stream {
                let recorded = interaction.response.events.clone().unwrap_or_default();
                (stream_parts(&recorded), stream_parts(&answer.events()))
            } else {
                let recorded = interaction.response.body.clone().unwrap_or_default();
                (parts(&recorded), parts(&answer.json()))
            };
            let first_final = |ps: &[Value]| images(ps).into_iter().find(|i| !i.thought);
            if let (Some(recorded), Some(simulated)) =
                (first_final(&recorded), first_final(&simulated))
            {
                let recorded_size = sniff(&recorded.bytes).map(|(_, w, h)| (w, h));
                let simulated_size = sniff(&simulated.bytes).map(|(_, w, h)| (w, h));
                assert_eq!(simulated_size, recorded_size, "{} interaction {i}", case.id);
                sizes_compared += 1;
            }
        }
    }
    assert!(checked >= 100, "{checked} requests");
    assert!(sizes_compared >= 90, "{sizes_compared} sizes");
}

#[tokio::test]
async fn a_text_only_model_answers_with_text() {
    let server = simulator().await;
    for body in [
        prompt("Describe a banana"),
        image_request("Describe a banana", &["TEXT"], None, None),
    ] {
        let answer = generate(&server, "gemini-2.5-flash", &body).await;
        assert_eq!(answer.status, 200, "{}", answer.text_head());
        let json = answer.json();
        let all = parts(&json);
        assert!(!all.is_empty());
        assert!(
            all.iter().all(|p| p["text"].is_string()),
            "no images from a text model: {}",
            answer.text_head()
        );
        assert_eq!(json["modelVersion"], "gemini-2.5-flash");
    }
    // Asking it for images is the service's 400.
    generate(
        &server,
        "gemini-2.5-flash",
        &image_request("Draw a banana", &["TEXT", "IMAGE"], None, None),
    )
    .await
    .assert_error(
        400,
        "INVALID_ARGUMENT",
        "Model does not support the requested response modalities: image",
    );
}
