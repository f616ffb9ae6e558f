//! The wire guarantees on small hand-made inputs: unknown fields and enum values kept, snake_case
//! accepted, both base64 alphabets, camelCase and standard base64 written, readable errors.

use nanobanana_wire::{
    Base64Bytes, Content, FinishReason, GenerateContentRequest, GenerateContentResponse, ImageSize,
    Modality, Part, Role, ThinkingLevel, UnknownReport,
};
use serde_json::{Value, json};

fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> T {
    serde_json::from_value(value.clone()).expect("decodes")
}

/// WIRE.md, Encoding rules: unknown fields in answers (e.g. `turnToken`) must be kept.
#[test]
fn unknown_fields_kept_and_written_back() {
    let body = json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": "hi", "futurePartField": {"x": 1}}]},
                        "finishReason": "STOP", "futureCandidateField": [1, 2]}],
        "futureTopLevel": "v"
    });
    let response: GenerateContentResponse = decode(&body);
    assert_eq!(response.unknown_fields["futureTopLevel"], "v");
    let report = UnknownReport::of(&response);
    assert_eq!(
        report.fields,
        [
            "/futureTopLevel",
            "/candidates/0/futureCandidateField",
            "/candidates/0/content/parts/0/futurePartField"
        ]
    );
    assert_eq!(serde_json::to_value(&response).unwrap(), body);
}

/// WIRE.md, Encoding rules: "an unknown value must not fail decoding".
#[test]
fn unknown_enum_values_kept_and_reported() {
    let body = json!({"candidates": [{"finishReason": "SOMETHING_NEW", "index": 0}]});
    let response: GenerateContentResponse = decode(&body);
    let reason = response.candidates[0].finish_reason.as_ref().unwrap();
    assert_eq!(reason, &FinishReason::Unknown("SOMETHING_NEW".into()));
    assert!(!reason.is_known());
    assert_eq!(
        UnknownReport::of(&response).enum_values,
        [("/candidates/0/finishReason".into(), "SOMETHING_NEW".into())]
    );
    assert_eq!(serde_json::to_value(&response).unwrap(), body);
}

/// SPEC.md §2 (rule `image-size-casing`): `1k` is not `1K`, so the exact enum keeps it as sent
/// for the validator; rule `thinking-level-supported`: levels are case-insensitive.
#[test]
fn enum_case_sensitivity_follows_the_service() {
    assert_eq!(ImageSize::from_wire("1K"), ImageSize::Size1K);
    assert_eq!(ImageSize::from_wire("1k"), ImageSize::Unknown("1k".into()));
    for spelling in ["high", "High", "HIGH"] {
        assert_eq!(ThinkingLevel::from_wire(spelling), ThinkingLevel::High);
    }
    assert_eq!(Modality::from_wire("Image"), Modality::Image);
    assert_eq!(ThinkingLevel::High.as_str(), "HIGH");
}

/// SPEC.md §2 (rule `snake-case-input`): the guide's REST examples and python-genai send
/// snake_case; the same request decodes either way.
#[test]
fn snake_case_requests_decode_like_camel_case() {
    let snake = json!({"contents": [{"role": "user", "parts": [
        {"text": "edit this"}, {"inline_data": {"mime_type": "image/png", "data": "iVBORw0KGgo="}}]}],
        "generation_config": {"response_modalities": ["Image"], "image_config": {"aspect_ratio": "16:9"}}});
    let camel = json!({"contents": [{"role": "user", "parts": [
        {"text": "edit this"}, {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}]}],
        "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "16:9"}}});
    let a: GenerateContentRequest = decode(&snake);
    let b: GenerateContentRequest = decode(&camel);
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        camel,
        "camelCase and canonical enums go out"
    );
}

/// WIRE.md, Encoding rules (rule `base64-alphabets`): python-genai sends signatures back URL-safe;
/// the decoded bytes are the same and the standard alphabet goes out.
#[test]
fn url_safe_signatures_decode_to_the_same_bytes() {
    let raw: Vec<u8> = (0u8..=255).rev().collect();
    let standard = Base64Bytes::new(raw.clone()).to_base64();
    assert!(standard.contains('+') && standard.contains('/'));
    let url_safe = standard
        .replace('+', "-")
        .replace('/', "_")
        .trim_end_matches('=')
        .to_owned();
    let part: Part = decode(&json!({"text": "", "thoughtSignature": url_safe}));
    assert_eq!(
        part.thought_signature.as_ref().unwrap().as_slice(),
        &raw[..]
    );
    assert_eq!(
        serde_json::to_value(&part).unwrap()["thoughtSignature"],
        standard
    );
}

#[test]
fn bad_base64_is_an_error_naming_the_problem() {
    let err = serde_json::from_value::<Part>(json!({"thoughtSignature": "@@@"})).unwrap_err();
    assert!(err.to_string().contains("invalid base64"), "{err}");
}

#[test]
fn builders_make_camel_case_requests() {
    let request = GenerateContentRequest::new().with_contents([Content::new()
        .with_role(Role::User)
        .with_parts([
            Part::new().with_text("a banana"),
            Part::new().with_thought_signature(vec![1u8, 2, 3]),
        ])]);
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"contents": [{"role": "user", "parts": [{"text": "a banana"}, {"thoughtSignature": "AQID"}]}]})
    );
}

#[test]
fn debug_prints_only_what_is_set_and_never_bytes() {
    let part = Part::new().with_thought_signature(b"opaque-signature".to_vec());
    let debug = format!("{part:?}");
    assert_eq!(
        debug,
        format!(
            "Part {{ thought_signature: {:?} }}",
            part.thought_signature.as_ref().unwrap()
        )
    );
    assert!(!debug.contains("opaque"));
}
