//! Request validation, rule by rule, through one `check` helper: a model, a JSON body, and the
//! report as printed.

mod early;
use early::{validate_request, validate_request_json};
use nanobanana_wire::GenerateContentRequest;
use serde_json::{Value, json};

const FLASH31: &str = "gemini-3.1-flash-image-preview";
const PRO: &str = "gemini-3-pro-image-preview";
const FLASH25: &str = "gemini-2.5-flash-image";

/// Validates `body` for `model` and compares the printed report with `expect` (lines trimmed).
/// When the body decodes into the typed request, the typed entry point must report the same.
#[track_caller]
fn check(model: &str, body: Value, expect: &str) {
    let report = validate_request_json(model, &body);
    if let Ok(typed) = serde_json::from_value::<GenerateContentRequest>(body.clone()) {
        assert_eq!(
            validate_request(model, &typed),
            report,
            "typed and JSON validation differ"
        );
    }
    let expect: Vec<&str> = expect.trim().lines().map(str::trim).collect();
    assert_eq!(report.to_string(), expect.join("\n"));
}

fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"text": text}]})
}

fn image(mime: &str) -> Value {
    json!({"inlineData": {"mimeType": mime, "data": "iVBORw0KGgo="}})
}

fn config(generation_config: Value) -> Value {
    json!({"contents": [user("A banana")], "generationConfig": generation_config})
}

fn image_config(image_config: Value) -> Value {
    config(json!({"imageConfig": image_config}))
}

#[test]
fn plain_requests_are_clean_for_every_model() {
    for model in [FLASH31, PRO, FLASH25] {
        check(
            model,
            config(json!({"responseModalities": ["TEXT", "IMAGE"]})),
            &format!("{model}: 0 errors, 0 warnings"),
        );
    }
    check(
        "models/gemini-3-pro-image-preview",
        image_config(json!({"imageSize": "4K", "aspectRatio": "21:9"})),
        "models/gemini-3-pro-image-preview: 0 errors, 0 warnings",
    );
}

#[test]
fn image_size_needs_an_upper_case_k() {
    check(
        FLASH31,
        image_config(json!({"imageSize": "2k"})),
        r#"gemini-3.1-flash-image-preview: 1 error, 0 warnings
        error[image-size-casing] /generationConfig/imageConfig/imageSize: Unsupported image size "2k": image sizes use an upper-case K. Allowed for gemini-3.1-flash-image-preview: 512, 1K, 2K, 4K."#,
    );
    check(
        "models/gemini-3-pro-image-preview",
        json!({"generation_config": {"image_config": {"image_size": "4k"}}}),
        r#"models/gemini-3-pro-image-preview: 1 error, 0 warnings
        error[image-size-casing] /generationConfig/imageConfig/imageSize: Unsupported image size "4k": image sizes use an upper-case K. Allowed for gemini-3-pro-image-preview: 1K, 2K, 4K."#,
    );
}

#[test]
fn image_size_must_be_one_the_model_supports() {
    check(
        FLASH31,
        image_config(json!({"imageSize": "512"})),
        "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
    );
    check(
        PRO,
        image_config(json!({"imageSize": "512"})),
        r#"gemini-3-pro-image-preview: 1 error, 0 warnings
        error[image-size-supported] /generationConfig/imageConfig/imageSize: Unsupported image size "512" for model gemini-3-pro-image-preview. Allowed: 1K, 2K, 4K."#,
    );
    check(
        FLASH31,
        image_config(json!({"imageSize": "1024"})),
        r#"gemini-3.1-flash-image-preview: 1 error, 0 warnings
        error[image-size-supported] /generationConfig/imageConfig/imageSize: Unsupported image size "1024" for model gemini-3.1-flash-image-preview. Allowed: 512, 1K, 2K, 4K."#,
    );
}

#[test]
fn flash25_takes_no_image_size_whatever_its_spelling() {
    for size in ["1K", "1k", "512"] {
        check(
            FLASH25,
            image_config(json!({"imageSize": size, "aspectRatio": "3:2"})),
            r#"gemini-2.5-flash-image: 1 error, 0 warnings
            error[image-size-not-configurable] /generationConfig/imageConfig/imageSize: Image size is not supported for model gemini-2.5-flash-image; remove generation_config.image_config.image_size."#,
        );
    }
}

#[test]
fn aspect_ratio_must_be_one_the_model_supports() {
    check(
        FLASH31,
        image_config(json!({"aspectRatio": "8:1"})),
        "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
    );
    check(
        FLASH25,
        image_config(json!({"aspectRatio": "1:8"})),
        r#"gemini-2.5-flash-image: 1 error, 0 warnings
        error[aspect-ratio-supported] /generationConfig/imageConfig/aspectRatio: Unsupported aspect ratio "1:8" for model gemini-2.5-flash-image. Allowed: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9."#,
    );
    check(
        FLASH31,
        json!({"generation_config": {"image_config": {"aspect_ratio": "3:1"}}}),
        r#"gemini-3.1-flash-image-preview: 1 error, 0 warnings
        error[aspect-ratio-supported] /generationConfig/imageConfig/aspectRatio: Unsupported aspect ratio "3:1" for model gemini-3.1-flash-image-preview. Allowed: 1:1, 1:4, 1:8, 2:3, 3:2, 3:4, 4:1, 4:3, 4:5, 5:4, 8:1, 9:16, 16:9, 21:9."#,
    );
}

#[test]
fn thinking_levels_are_case_insensitive_and_limited_on_flash31() {
    for level in ["high", "High", "HIGH", "minimal", "MINIMAL"] {
        check(
            FLASH31,
            config(json!({"thinkingConfig": {"thinkingLevel": level, "includeThoughts": true}})),
            "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
        );
    }
    check(
        FLASH31,
        config(json!({"thinking_config": {"thinking_level": "LOW"}})),
        r#"gemini-3.1-flash-image-preview: 1 error, 0 warnings
        error[thinking-level-supported] /generationConfig/thinkingConfig/thinkingLevel: Unsupported thinking level "low" for model gemini-3.1-flash-image-preview. Allowed: minimal, high."#,
    );
    check(
        FLASH31,
        config(json!({"thinkingConfig": {"thinkingLevel": "extreme"}})),
        r#"gemini-3.1-flash-image-preview: 1 error, 0 warnings
        error[thinking-level-supported] /generationConfig/thinkingConfig/thinkingLevel: Unsupported thinking level "extreme" for model gemini-3.1-flash-image-preview. Allowed: minimal, high."#,
    );
}

#[test]
fn pro_thinks_always_and_takes_any_known_level() {
    check(
        PRO,
        config(json!({"thinkingConfig": {"thinkingLevel": "high", "thinkingBudget": -1}})),
        "gemini-3-pro-image-preview: 0 errors, 0 warnings",
    );
    check(
        PRO,
        config(json!({"thinkingConfig": {"thinkingLevel": "extreme"}})),
        r#"gemini-3-pro-image-preview: 1 error, 0 warnings
        error[thinking-level-supported] /generationConfig/thinkingConfig/thinkingLevel: Unsupported thinking level "extreme" for model gemini-3-pro-image-preview. Allowed: minimal, low, medium, high."#,
    );
    // Proto JSON writes 64-bit integers as strings too.
    check(
        PRO,
        config(json!({"thinking_config": {"thinking_budget": "0"}})),
        r#"gemini-3-pro-image-preview: 1 error, 0 warnings
        error[thinking-not-configurable] /generationConfig/thinkingConfig/thinkingBudget: Thinking cannot be disabled for model gemini-3-pro-image-preview."#,
    );
    // 3.1 Flash thinks always too (SPEC.md §1: "always on").
    check(
        FLASH31,
        config(json!({"thinkingConfig": {"thinkingBudget": 0}})),
        r#"gemini-3.1-flash-image-preview: 1 error, 0 warnings
        error[thinking-not-configurable] /generationConfig/thinkingConfig/thinkingBudget: Thinking cannot be disabled for model gemini-3.1-flash-image-preview."#,
    );
}

#[test]
fn flash25_takes_no_thinking_config_at_all() {
    check(
        FLASH25,
        config(json!({"thinkingConfig": {"includeThoughts": false}})),
        r#"gemini-2.5-flash-image: 1 error, 0 warnings
        error[thinking-not-configurable] /generationConfig/thinkingConfig: Thinking is not supported for model gemini-2.5-flash-image; remove generation_config.thinking_config."#,
    );
}

#[test]
fn response_modalities_are_text_and_image_in_any_case() {
    check(
        FLASH31,
        config(json!({"responseModalities": ["image", "Text"]})),
        "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
    );
    check(
        FLASH31,
        config(json!({"responseModalities": ["TEXT", "PICTURE", "audio"]})),
        r#"gemini-3.1-flash-image-preview: 2 errors, 0 warnings
        error[response-modalities] /generationConfig/responseModalities/1: Invalid value at 'generation_config.response_modalities[1]' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), "PICTURE"
        error[response-modalities] /generationConfig/responseModalities/2: Model does not support the requested response modalities: audio"#,
    );
}

fn images(count: usize, mime: &str) -> Value {
    let mut parts = vec![json!({"text": "Combine these"})];
    parts.extend((0..count).map(|_| image(mime)));
    json!({"role": "user", "parts": parts})
}

#[test]
fn input_images_are_limited_in_the_last_user_turn() {
    check(
        FLASH31,
        json!({"contents": [images(14, "image/png")]}),
        "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
    );
    check(
        FLASH31,
        json!({"contents": [images(15, "image/jpeg")]}),
        r#"gemini-3.1-flash-image-preview: 1 error, 0 warnings
        error[input-image-count] /contents/0/parts/15: Too many input images for model gemini-3.1-flash-image-preview: 15 sent, at most 14 allowed."#,
    );
    // File references count as images too.
    let mut turn = images(14, "image/png");
    turn["parts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"file_data": {"mime_type": "image/webp", "file_uri": "files/abc"}}));
    check(
        PRO,
        json!({"contents": [turn]}),
        r#"gemini-3-pro-image-preview: 1 error, 0 warnings
        error[input-image-count] /contents/0/parts/15: Too many input images for model gemini-3-pro-image-preview: 15 sent, at most 14 allowed."#,
    );
    // Earlier turns are history: only the last user turn counts.
    let model_turn =
        json!({"role": "model", "parts": [{"text": "Done", "thoughtSignature": "c2ln"}]});
    check(
        PRO,
        json!({"contents": [images(10, "image/png"), model_turn, images(10, "image/png")]}),
        "gemini-3-pro-image-preview: 0 errors, 0 warnings",
    );
}

#[test]
fn flash25_only_advises_at_most_three_images() {
    check(
        FLASH25,
        json!({"contents": [images(3, "image/png")]}),
        "gemini-2.5-flash-image: 0 errors, 0 warnings",
    );
    check(
        FLASH25,
        json!({"contents": [images(5, "image/png")]}),
        r#"gemini-2.5-flash-image: 0 errors, 1 warning
        warning[input-image-count] /contents/0/parts/4: Too many input images for model gemini-2.5-flash-image: 5 sent, works best with at most 3."#,
    );
}

#[test]
fn inputs_are_text_and_images_only() {
    let mut turn = images(1, "image/png");
    turn["parts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"fileData": {"mimeType": "video/mp4", "fileUri": "files/v"}}));
    turn["parts"]
        .as_array_mut()
        .unwrap()
        .push(image("AUDIO/wav"));
    check(
        FLASH31,
        json!({"contents": [turn]}),
        r#"gemini-3.1-flash-image-preview: 2 errors, 0 warnings
        error[input-modality] /contents/0/parts/2/fileData/mimeType: Unsupported input MIME type "video/mp4" in content position 1, part position 3. Allowed: text and image/* parts.
        error[input-modality] /contents/0/parts/3/inlineData/mimeType: Unsupported input MIME type "AUDIO/wav" in content position 1, part position 4. Allowed: text and image/* parts."#,
    );
}

fn model(parts: Value) -> Value {
    json!({"role": "model", "parts": parts})
}

#[test]
fn roles_alternate_starting_with_user() {
    let signed = json!([{"text": "Here", "thoughtSignature": "c2ln"}]);
    // A streamed turn replayed as several model contents is one turn; no role means user.
    check(
        FLASH31,
        json!({"contents": [user("a"), model(signed.clone()), model(json!([{"text": " it is"}])), {"parts": [{"text": "b"}]}]}),
        "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
    );
    check(
        FLASH31,
        json!({"contents": [model(signed.clone()), user("a"), user("b"), {"role": "system", "parts": [{"text": "c"}]}]}),
        r#"gemini-3.1-flash-image-preview: 3 errors, 0 warnings
        error[role-alternation] /contents/0/role: Please ensure that multiturn requests alternate between user and model.
        error[role-alternation] /contents/2/role: Please ensure that multiturn requests alternate between user and model.
        error[role-alternation] /contents/3/role: Please ensure that multiturn requests alternate between user and model."#,
    );
}

#[test]
fn gemini3_needs_signatures_back_on_images_and_the_first_part() {
    let turn = model(json!([
        {"text": "Thinking about it", "thought": true},
        {"inlineData": {"mimeType": "image/png", "data": "AAAA"}, "thought": true},
        {"text": "Here is step one"},
        {"inlineData": {"mimeType": "image/png", "data": "AAAA"}},
        {"text": "And step two"},
        {"inlineData": {"mimeType": "image/png", "data": "AAAA"}, "thoughtSignature": "c2ln"}
    ]));
    let body = json!({"contents": [user("a"), turn, user("b")]});
    check(
        PRO,
        body.clone(),
        r#"gemini-3-pro-image-preview: 2 errors, 0 warnings
        error[signature-circulation] /contents/1/parts/2: Text part is missing a thought_signature in content position 2, part position 3.
        error[signature-circulation] /contents/1/parts/3: Image part is missing a thought_signature in content position 2, part position 4."#,
    );
    // 2.5 Flash does not need them back: a warning only. An unknown model: nothing.
    check(
        FLASH25,
        body.clone(),
        r#"gemini-2.5-flash-image: 0 errors, 2 warnings
        warning[signature-circulation] /contents/1/parts/2: Text part is missing a thought_signature in content position 2, part position 3.
        warning[signature-circulation] /contents/1/parts/3: Image part is missing a thought_signature in content position 2, part position 4."#,
    );
    check(
        "gemini-9-image",
        body,
        r#"gemini-9-image: 0 errors, 1 warning
        warning[model-catalogue] (request): Unknown model "gemini-9-image": not one of the image models (gemini-nano-banana-2.1, gemini-3-pro-image, gemini-3.1-flash-lite-image, gemini-3.1-flash-image, gemini-2.5-flash-image, gemini-3.1-flash-image-preview, gemini-3-pro-image-preview, gemini-2.5-flash-image-preview); only the rules that hold for every model were checked."#,
    );
}

#[test]
fn a_streamed_turn_needs_its_signature_once_per_turn() {
    // Chunks of one turn: the first non-thought part of the *turn* is signed, the rest are not.
    let chunks = [
        model(json!([{"text": "", "thoughtSignature": "c2ln"}])),
        model(json!([{"text": "A kite"}])),
        model(
            json!([{"inlineData": {"mimeType": "image/png", "data": "AAAA"}, "thoughtSignature": "c2ln"}]),
        ),
    ];
    let mut contents = vec![user("a")];
    contents.extend(chunks.iter().cloned());
    contents.push(user("b"));
    check(
        FLASH31,
        json!({"contents": contents}),
        "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
    );

    let mut contents = vec![user("a"), model(json!([{"text": "A kite"}]))];
    contents.extend(chunks[..1].iter().cloned());
    contents.push(user("b"));
    check(
        FLASH31,
        json!({"contents": contents}),
        r#"gemini-3.1-flash-image-preview: 1 error, 0 warnings
        error[signature-circulation] /contents/1/parts/0: Text part is missing a thought_signature in content position 2, part position 1."#,
    );
}

#[test]
fn signatures_are_base64_in_either_alphabet() {
    let turn = |signature: Value| json!({"contents": [user("a"), model(json!([{"text": "Here", "thought_signature": signature}])), user("b")]});
    check(
        FLASH31,
        turn(json!("-_-_")),
        "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
    );
    check(
        FLASH31,
        turn(json!("+/+/")),
        "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
    );
    for bad in [json!("not base64!"), json!(42), json!({"bytes": "c2ln"})] {
        check(
            FLASH31,
            turn(bad),
            r#"gemini-3.1-flash-image-preview: 1 error, 0 warnings
            error[signature-base64] /contents/1/parts/0/thoughtSignature: Corrupted thought signature."#,
        );
    }
    // An unknown model gets the checks that hold for every model.
    check(
        "gemini-9-image",
        turn(json!("%%%")),
        r#"gemini-9-image: 1 error, 1 warning
        warning[model-catalogue] (request): Unknown model "gemini-9-image": not one of the image models (gemini-nano-banana-2.1, gemini-3-pro-image, gemini-3.1-flash-lite-image, gemini-3.1-flash-image, gemini-2.5-flash-image, gemini-3.1-flash-image-preview, gemini-3-pro-image-preview, gemini-2.5-flash-image-preview); only the rules that hold for every model were checked.
        error[signature-base64] /contents/1/parts/0/thoughtSignature: Corrupted thought signature."#,
    );
}

#[test]
fn image_search_is_only_on_flash31() {
    let search =
        |search: Value| json!({"contents": [user("a")], "tools": [{"googleSearch": {}}, search]});
    let image_search =
        json!({"google_search": {"search_types": {"web_search": {}, "image_search": {}}}});
    check(
        FLASH31,
        search(image_search.clone()),
        "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
    );
    check(
        PRO,
        search(json!({"googleSearch": {"searchTypes": {"webSearch": {}}}})),
        "gemini-3-pro-image-preview: 0 errors, 0 warnings",
    );
    check(
        PRO,
        search(image_search.clone()),
        r#"gemini-3-pro-image-preview: 1 error, 0 warnings
        error[image-search-supported] /tools/1/googleSearch/searchTypes/imageSearch: Image search is not supported for model gemini-3-pro-image-preview. Allowed only on gemini-3.1-flash-image-preview."#,
    );
    // 2.5 Flash Image has no Search at all (SERVICE-2026.md §2): every search tool is refused.
    check(
        FLASH25,
        search(image_search),
        r#"gemini-2.5-flash-image: 2 errors, 0 warnings
        error[search-supported] /tools/0/googleSearch: Search grounding is not supported for model gemini-2.5-flash-image. Allowed only on gemini-3.1-flash-image-preview, gemini-3-pro-image-preview.
        error[search-supported] /tools/1/googleSearch: Search grounding is not supported for model gemini-2.5-flash-image. Allowed only on gemini-3.1-flash-image-preview, gemini-3-pro-image-preview."#,
    );
}

#[test]
fn unknown_models_are_warned_about_not_rejected() {
    check(
        "models/gemini-4-flash-image-preview",
        image_config(json!({"imageSize": "1k", "aspectRatio": "7:3"})),
        r#"models/gemini-4-flash-image-preview: 0 errors, 1 warning
        warning[model-catalogue] (request): Unknown model "gemini-4-flash-image-preview": not one of the image models (gemini-nano-banana-2.1, gemini-3-pro-image, gemini-3.1-flash-lite-image, gemini-3.1-flash-image, gemini-2.5-flash-image, gemini-3.1-flash-image-preview, gemini-3-pro-image-preview, gemini-2.5-flash-image-preview); only the rules that hold for every model were checked."#,
    );
}

#[test]
fn every_violation_is_reported_at_once_in_checking_order() {
    let body = json!({
        "contents": [
            model(json!([{"inlineData": {"mimeType": "image/png", "data": "AAAA"}}])),
            {"role": "user", "parts": [{"text": "x"}, {"inline_data": {"mime_type": "audio/mpeg", "data": "AAAA"}}]},
            model(json!([{"text": "y", "thoughtSignature": "?"}])),
            user("z")
        ],
        "tools": [{"googleSearch": {"searchTypes": {"imageSearch": {}}}}],
        "generationConfig": {
            "responseModalities": ["PICTURE"],
            "imageConfig": {"imageSize": "1k", "aspectRatio": "8:1"},
            "thinkingConfig": {"thinkingLevel": "medium", "thinkingBudget": 0}
        }
    });
    check(
        PRO,
        body,
        r#"gemini-3-pro-image-preview: 9 errors, 0 warnings
        error[signature-base64] /contents/2/parts/0/thoughtSignature: Corrupted thought signature.
        error[response-modalities] /generationConfig/responseModalities/0: Invalid value at 'generation_config.response_modalities[0]' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), "PICTURE"
        error[image-size-casing] /generationConfig/imageConfig/imageSize: Unsupported image size "1k": image sizes use an upper-case K. Allowed for gemini-3-pro-image-preview: 1K, 2K, 4K.
        error[aspect-ratio-supported] /generationConfig/imageConfig/aspectRatio: Unsupported aspect ratio "8:1" for model gemini-3-pro-image-preview. Allowed: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9.
        error[thinking-not-configurable] /generationConfig/thinkingConfig/thinkingBudget: Thinking cannot be disabled for model gemini-3-pro-image-preview.
        error[image-search-supported] /tools/0/googleSearch/searchTypes/imageSearch: Image search is not supported for model gemini-3-pro-image-preview. Allowed only on gemini-3.1-flash-image-preview.
        error[role-alternation] /contents/0/role: Please ensure that multiturn requests alternate between user and model.
        error[input-modality] /contents/1/parts/1/inlineData/mimeType: Unsupported input MIME type "audio/mpeg" in content position 2, part position 2. Allowed: text and image/* parts.
        error[signature-circulation] /contents/0/parts/0: Image part is missing a thought_signature in content position 1, part position 1."#,
    );
}

#[test]
fn violations_expose_what_was_sent_and_what_is_allowed() {
    let report = validate_request_json(PRO, &image_config(json!({"imageSize": "512"})));
    let violation = &report.violations()[0];
    assert_eq!(
        (violation.sent(), violation.allowed()),
        ("512", "1K, 2K, 4K")
    );
    assert!(violation.is_error() && !report.is_valid() && !report.is_clean());
    assert_eq!(report.model(), PRO);
}

/// WIRE.md "Encoding rules": unknown request fields are rejected with proto JSON's message, the
/// name as sent and the parent path in snake_case with array indices.
#[test]
fn unknown_request_field_is_rejected_with_the_proto_json_message() {
    check(
        FLASH31,
        json!({"contents": [user("A banana")], "numberOfImages": 2}),
        r#"gemini-3.1-flash-image-preview: 1 error, 0 warnings
        error[unknown-request-field] /numberOfImages: Invalid JSON payload received. Unknown name "numberOfImages": Cannot find field."#,
    );
    check(
        PRO,
        json!({"contents": [{"role": "user", "parts": [{"text": "A banana"}, {"inline_data": {"mime_type": "image/png", "data": "iVBORw==", "uri": "x"}}]}]}),
        r#"gemini-3-pro-image-preview: 1 error, 0 warnings
        error[unknown-request-field] /contents/0/parts/1/inlineData/uri: Invalid JSON payload received. Unknown name "uri" at 'contents[0].parts[1].inline_data': Cannot find field."#,
    );
}

/// Fields the service knows but the image rules never read (and the wire types may not name)
/// are not refused: a system instruction, sampling settings, safety settings, snake_case names.
#[test]
fn known_request_fields_outside_the_image_rules_are_accepted() {
    check(
        FLASH31,
        json!({
            "contents": [user("A banana")],
            "system_instruction": {"parts": [{"text": "Be brief."}]},
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
            "generation_config": {"temperature": 0.4, "candidate_count": 1, "seed": 7,
                "thinking_config": {"include_thoughts": true, "thinking_level": "HIGH"}},
            "tools": [{"google_search": {"search_types": {"web_search": {}}}}]
        }),
        "gemini-3.1-flash-image-preview: 0 errors, 0 warnings",
    );
}
