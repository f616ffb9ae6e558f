//! One-shot generation and editing (SPEC.md §1-§3).

use nanobanana_mock::Endpoint;
use nanobanana_rules::resolution;
use nanobanana_transport::wire::ThinkingLevel;
use nanobanana_workflows::{ClientExt, Error, ImageFormat, InputImage, Outcome};

use crate::{generate_requests, sample_png, scratch, setup};

/// SPEC.md §1 (`resolution-table`): the image's header size is the table's, for each model, and
/// the cost preview made before sending agrees with the usage after.
#[tokio::test]
async fn images_have_the_predicted_size_and_cost() {
    let (_server, client) = setup().await;
    let cases = [
        ("gemini-3.1-flash-image", Some("21:9"), Some("1K")),
        ("gemini-3.1-flash-image", Some("8:1"), Some("512")),
        ("gemini-3-pro-image", Some("3:4"), None),
        ("gemini-2.5-flash-image", Some("16:9"), None),
        ("gemini-2.5-flash-image", None, None),
    ];
    for (model, ratio, size) in cases {
        let mut generate = client
            .images()
            .generate("A banana")
            .model(model)
            .image_only();
        if let Some(ratio) = ratio {
            generate = generate.aspect_ratio(ratio);
        }
        if let Some(size) = size {
            generate = generate.image_size(size);
        }
        let preview = generate.preview().unwrap();
        let generation = generate.send().await.unwrap();
        assert_eq!(generation.outcome(), &Outcome::Images, "{model}");
        let actual = generation.actual_dimensions().unwrap();
        assert_eq!(
            Some(actual),
            preview.dimensions(),
            "{model} {ratio:?} {size:?}"
        );
        assert_eq!(generation.predicted_dimensions(), preview.dimensions());
        assert_eq!(generation.matches_prediction(), Some(true));
        let usage = generation.usage();
        assert_eq!(
            usage.image_output_tokens,
            preview.tokens_per_image().map(u64::from),
            "{model}"
        );
        assert!(usage.total_tokens.unwrap() >= usage.image_output_tokens.unwrap());
        // The model's own format: JPEG for the 3.x models, PNG for 2.5 Flash Image.
        let image = generation.image().unwrap();
        let mime = nanobanana_rules::catalogue::lookup(model)
            .model()
            .unwrap()
            .output_mime_type();
        assert_eq!(image.mime_type(), Some(mime), "{model}");
        let format = if mime == "image/png" {
            ImageFormat::Png
        } else {
            ImageFormat::Jpeg
        };
        assert_eq!(image.format(), Some(format), "{model}");
        assert!(generation.text().is_empty(), "image only");
    }
}

/// SPEC.md §3: with `includeThoughts`, thought images come apart from the final one (the last
/// thought image is the final render); text and thought text are separate.
#[tokio::test]
async fn thoughts_come_apart_from_the_final_image() {
    let (_server, client) = setup().await;
    let generation = client
        .images()
        .generate("A nano banana dish in a fancy restaurant")
        .model("gemini-3.1-flash-image")
        .image_size("512")
        .thinking_level(ThinkingLevel::High)
        .include_thoughts()
        .text_and_image()
        .send()
        .await
        .unwrap();
    let finals = generation.final_images();
    let thoughts = generation.thought_images();
    assert_eq!(finals.len(), 1);
    assert!((1..=2).contains(&thoughts.len()), "{}", thoughts.len());
    assert!(thoughts.iter().all(|i| i.is_thought()));
    assert_eq!(thoughts.last().unwrap().bytes(), finals[0].bytes());
    assert!(
        generation.text().starts_with("Here is"),
        "{}",
        generation.text()
    );
    assert!(!generation.thought_text().is_empty());
    assert!(generation.usage().thoughts_tokens.unwrap() > 0);
}

/// Input images are typed from their content, not their name: a JPEG saved as `.png` goes as
/// `image/jpeg`; an unknown type is refused before anything is sent.
#[tokio::test]
async fn input_types_come_from_the_content() {
    let (server, client) = crate::setup_with(
        nanobanana_mock::MockGemini::builder()
            .image_format(nanobanana_mock::image::ImageFormat::Jpeg),
    )
    .await;
    let jpeg = client
        .images()
        .generate("A sample")
        .model("gemini-2.5-flash-image")
        .aspect_ratio("3:2")
        .send()
        .await
        .unwrap();
    let image = jpeg.image().unwrap();
    assert_eq!(image.format(), Some(ImageFormat::Jpeg));
    // The size comes from the JPEG's frame header.
    assert_eq!(jpeg.matches_prediction(), Some(true));
    let dir = scratch("input-types");
    let path = dir.join("photo.png");
    std::fs::write(&path, image.bytes()).unwrap();
    let input = InputImage::from_path(&path).unwrap();
    assert_eq!(input.mime_type(), "image/jpeg");
    assert_eq!(input.dimensions(), jpeg.actual_dimensions());
    let before = generate_requests(&server).len();
    let edit = client
        .images()
        .edit(input, "Make it blue")
        .model("gemini-2.5-flash-image")
        .send()
        .await
        .unwrap();
    assert_eq!(edit.outcome(), &Outcome::Images);
    // No ratio asked: the output keeps the input's 3:2.
    assert_eq!(edit.actual_dimensions(), jpeg.actual_dimensions());
    let requests = generate_requests(&server);
    let body = requests[before].json().unwrap();
    assert_eq!(
        body["contents"][0]["parts"][1]["inlineData"]["mimeType"],
        "image/jpeg"
    );
    assert_eq!(body["contents"][0]["parts"][0]["text"], "Make it blue");

    std::fs::write(dir.join("notes.png"), b"just text, not an image").unwrap();
    let error = InputImage::from_path(dir.join("notes.png")).unwrap_err();
    assert!(matches!(error, Error::UnknownImageType { .. }));
    assert!(error.to_string().contains("notes.png"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An input image uploaded once with the Files API goes as `fileData` and is used by the
/// model (the output matches its size when no ratio is given, SPEC.md §1).
#[tokio::test]
async fn uploaded_inputs_go_by_reference() {
    let (server, client) = setup().await;
    let png = sample_png(&client).await;
    let uploaded = client
        .images()
        .upload(InputImage::from_bytes(png).unwrap())
        .await
        .unwrap();
    assert_eq!(uploaded.mime_type(), "image/jpeg");
    let uri = uploaded.file_uri().unwrap().to_owned();
    let edit = client
        .images()
        .edit(uploaded, "Turn this into a watercolour")
        .model("gemini-3.1-flash-image")
        .image_size("512")
        .send()
        .await
        .unwrap();
    // 512x512 input, no ratio: the output is 1:1 too.
    assert_eq!(edit.actual_dimensions().unwrap().to_string(), "512x512");
    assert_eq!(
        edit.prediction().unwrap().ratio(),
        &resolution::RatioSource::MatchesInputImage
    );
    let requests = generate_requests(&server);
    let body = requests.last().unwrap().json().unwrap();
    assert_eq!(body["contents"][0]["parts"][1]["fileData"]["fileUri"], uri);
    assert!(
        server
            .received_requests()
            .iter()
            .any(|r| r.endpoint() == Some(Endpoint::FileUpload))
    );
}

/// `save` is atomic and never replaces a file silently; the saved bytes decode to the
/// predicted size.
#[tokio::test]
async fn saving_is_atomic_and_refuses_to_replace() {
    let (_server, client) = setup().await;
    let generation = client
        .images()
        .generate("A banana")
        .aspect_ratio("4:5")
        .model("gemini-3.1-flash-image")
        .image_size("512")
        .send()
        .await
        .unwrap();
    let dir = scratch("save");
    let path = dir.join("banana.png");
    generation.save(&path).unwrap();
    let saved = std::fs::read(&path).unwrap();
    assert_eq!(saved, generation.image().unwrap().bytes());
    assert_eq!(
        nanobanana_workflows::media::dimensions(&saved),
        generation.predicted_dimensions()
    );
    let error = generation.save(&path).unwrap_err();
    assert!(matches!(error, Error::AlreadyExists { .. }), "{error}");
    generation.save_replacing(&path).unwrap();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["banana.png"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A request the rules reject (`image-size-casing`) is refused before any byte is sent.
#[tokio::test]
async fn bad_requests_are_refused_before_sending() {
    let (server, client) = setup().await;
    let error = client
        .images()
        .generate("A banana")
        .model("gemini-3-pro-image")
        .image_size("1k")
        .send()
        .await
        .unwrap_err();
    let report = error.transport().unwrap().validation_report().unwrap();
    assert_eq!(
        report.first_error().unwrap().rule().id(),
        "image-size-casing"
    );
    assert!(
        error.to_string().contains("Unsupported image size \"1k\""),
        "{error}"
    );
    assert!(server.received_requests().is_empty());
}

/// A streamed generation assembles into the same answer as a whole one.
#[tokio::test]
async fn streaming_gives_the_same_generation() {
    let (_server, client) = setup().await;
    let builder = client
        .images()
        .generate("A banana in the rain")
        .model("gemini-3.1-flash-image")
        .image_size("512")
        .include_thoughts();
    let whole = builder.clone().send().await.unwrap();
    let mut chunks = 0;
    let streamed = builder.send_streaming(|_| chunks += 1).await.unwrap();
    assert!(chunks >= 3, "{chunks}");
    assert_eq!(streamed.response().candidates, whole.response().candidates);
    assert_eq!(streamed.text(), whole.text());
    assert_eq!(streamed.usage(), whole.usage());
}

/// The `image` feature decodes a generated image into the predicted size.
#[cfg(feature = "image")]
#[tokio::test]
async fn images_decode_with_the_image_crate() {
    let (_server, client) = setup().await;
    let generation = client
        .images()
        .generate("A banana")
        .aspect_ratio("3:2")
        .model("gemini-3.1-flash-image")
        .image_size("512")
        .send()
        .await
        .unwrap();
    let decoded = generation.image().unwrap().to_dynamic_image().unwrap();
    let predicted = generation.predicted_dimensions().unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (predicted.width, predicted.height)
    );
}
