//! Tests of replay matching.

use serde_json::Map;

use super::compare::{canonical_base64_len, diff, remove_pointers};
use super::*;
use nanobanana_wire::corpus::Corpus;
use nanobanana_wire::names::snake_case;
use serde_json::json;

#[test]
fn normalisation_ignores_key_spelling_and_base64_alphabet() {
    let camel = json!({"inlineData": {"mimeType": "image/png", "data": "+/+/"}, "thoughtSignature": "ab+/"});
    let snake = json!({"inline_data": {"mime_type": "image/png", "data": "-_-_"}, "thought_signature": "ab-_"});
    assert_eq!(normalize(&camel), normalize(&snake));
    // Enum spellings the service accepts in any case, and an empty config, match.
    assert_eq!(
        normalize(
            &json!({"generationConfig": {"responseModalities": ["Image", "text"],
            "thinkingConfig": {"thinkingLevel": "High"}}})
        ),
        normalize(
            &json!({"generation_config": {"response_modalities": ["IMAGE", "TEXT"],
            "thinking_config": {"thinking_level": "HIGH"}}})
        )
    );
    assert_eq!(
        normalize(&json!({"contents": [], "generationConfig": {}})),
        normalize(&json!({"contents": []}))
    );
    assert_ne!(
        normalize(&json!({"text": "+/"})),
        normalize(&json!({"text": "-_"}))
    );
}

#[test]
fn diff_names_every_difference() {
    let mut out = Vec::new();
    diff(
        &json!({"a": 1, "b": [1, 2], "c": "x"}),
        &json!({"a": 2, "b": [1], "d": true, "c": "x"}),
        &mut String::new(),
        &mut out,
    );
    assert_eq!(
        out,
        [
            "/a: recorded 1, received 2",
            "/b: recorded 2 elements, received 1",
            "/d: not recorded, received true"
        ]
    );
}

#[test]
fn ignored_pointers_are_removed() {
    let mut v = json!({"a": {"b": 1, "c": 2}});
    remove_pointers(&mut v, &["/a/b".to_owned(), "/zz/q".to_owned()]);
    assert_eq!(v, json!({"a": {"c": 2}}));
}

/// The length check in front of the base64 comparison never turns away a text that
/// normalizes to the recording (WIRE.md "Encoding rules": either alphabet, padding optional).
#[test]
fn canonical_base64_lengths() {
    for n in 0..40u8 {
        let bytes = Base64Bytes::new((0..n).map(|i| i.wrapping_mul(97)).collect::<Vec<u8>>());
        let standard = bytes.to_base64();
        let url_safe = standard.replace('+', "-").replace('/', "_");
        for text in [
            standard.clone(),
            url_safe.clone(),
            url_safe.replace('=', ""),
        ] {
            assert_eq!(canonical_base64_len(&text), standard.len(), "{text}");
        }
    }
}

/// Every way a client may spell a recorded body: snake_case keys, URL-safe base64 without
/// padding, lower-case enums, an empty generation config.
fn respell(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let v = match (k.as_str(), v) {
                    ("data" | "thoughtSignature", Value::String(text)) => {
                        Value::String(text.replace('+', "-").replace('/', "_").replace('=', ""))
                    }
                    ("responseModalities" | "thinkingLevel", v) => lower(v),
                    (_, v) => respell(v),
                };
                out.insert(snake_case(k).into_owned(), v);
            }
            if map.contains_key("contents") && !map.contains_key("generationConfig") {
                out.insert("generation_config".to_owned(), json!({}));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(respell).collect()),
        other => other.clone(),
    }
}

fn lower(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.to_ascii_lowercase()),
        Value::Array(items) => Value::Array(items.iter().map(lower).collect()),
        other => other.clone(),
    }
}

/// The replay's on-the-fly comparison answers exactly what comparing normalized copies
/// answers, for every pair of recorded request bodies as sent and as respelled.
#[test]
fn on_the_fly_comparison_equals_comparing_normalized_copies() {
    let corpus = Corpus::load(Corpus::repository_dir()).unwrap();
    let bodies: Vec<Value> = corpus
        .cases()
        .iter()
        .flat_map(|case| &case.interactions)
        .filter_map(|interaction| interaction.request.body.clone())
        .collect();
    assert!(bodies.len() > 50, "{}", bodies.len());
    let received: Vec<Value> = bodies
        .iter()
        .flat_map(|b| [b.clone(), respell(b)])
        .collect();
    let mut equal_pairs = 0;
    for recorded in &bodies {
        let recorded = normalize(recorded);
        for body in &received {
            let expected = recorded == normalize(body);
            let bytes = serde_json::to_vec(body).unwrap();
            let parsed: Json<'_> = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(parsed.to_value(), *body);
            assert_eq!(
                equals_normalized(&recorded, &parsed),
                expected,
                "{recorded} vs {body}"
            );
            equal_pairs += usize::from(expected);
        }
    }
    assert!(equal_pairs >= 2 * bodies.len(), "{equal_pairs}");
}
