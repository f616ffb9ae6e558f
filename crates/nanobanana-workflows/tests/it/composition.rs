//! Composition (SPEC.md §1 "reference images", §5): limits per model, checked before sending.

use nanobanana_workflows::{ClientExt, Composition, Error, InputImage, Outcome, Reference};

use crate::{generate_requests, sample_png, setup};

fn compose(png: &[u8], objects: usize, characters: usize) -> Composition {
    let image = || InputImage::from_bytes(png.to_vec()).unwrap();
    let mut composition = Composition::new("Put all of these in one scene");
    for i in 0..objects {
        composition = composition
            .with_reference(Reference::object(image()).with_label(format!("Object {i}:")));
    }
    for _ in 0..characters {
        composition = composition.with_character(image());
    }
    composition
}

/// 10 objects + 4 characters on 3.1 Flash, 6 + 5 on 3 Pro, and the advice of 3 on 2.5 Flash:
/// within the limits the request goes out (and the fake server accepts it); beyond them it is
/// refused with a clear error and nothing is sent.
#[tokio::test]
async fn composition_limits_per_model() {
    let (server, client) = setup().await;
    let png = sample_png(&client).await;
    let cases = [
        ("gemini-3.1-flash-image", 10, 4, true),
        ("gemini-3.1-flash-image", 11, 0, false),
        ("gemini-3.1-flash-image", 5, 5, false),
        ("gemini-3-pro-image", 6, 5, true),
        ("gemini-3-pro-image", 7, 1, false),
        ("gemini-3-pro-image", 0, 6, false),
        ("gemini-2.5-flash-image", 2, 1, true),
        ("gemini-2.5-flash-image", 2, 2, false),
    ];
    for (model, objects, characters, allowed) in cases {
        let before = generate_requests(&server).len();
        let mut generate = client
            .images()
            .compose(compose(&png, objects, characters))
            .model(model)
            .aspect_ratio("1:1");
        if model.starts_with("gemini-3.1") {
            generate = generate.image_size("512");
        }
        let result = generate.send().await;
        let sent = generate_requests(&server).len() - before;
        if allowed {
            let generation = result.unwrap();
            assert_eq!(generation.outcome(), &Outcome::Images, "{model}");
            assert_eq!(sent, 1);
            let body = generate_requests(&server).last().unwrap().json().unwrap();
            let parts = body["contents"][0]["parts"].as_array().unwrap();
            let images = parts
                .iter()
                .filter(|p| p.get("inlineData").is_some())
                .count();
            assert_eq!(images, objects + characters);
            // Each labelled reference: its label right before its image.
            assert_eq!(parts[1]["text"], "Object 0:");
            assert!(parts[2].get("inlineData").is_some());
        } else {
            let error = result.unwrap_err();
            assert!(matches!(error, Error::TooManyReferences { .. }), "{error}");
            assert!(error.to_string().contains(model), "{error}");
            assert_eq!(sent, 0, "{model} {objects}+{characters}: nothing sent");
        }
    }
    // Beyond the 2.5 Flash advice, on request: sent (the rules only warn).
    let generation = client
        .images()
        .compose(compose(&png, 2, 2).allow_beyond_advice())
        .model("gemini-2.5-flash-image")
        .send()
        .await
        .unwrap();
    assert_eq!(generation.outcome(), &Outcome::Images);
}
