//! Validation never panics on arbitrary JSON, and whenever a body decodes into the typed request
//! the typed and the JSON entry points report exactly the same.

use nanobanana_rules::Rule;

mod early;
use early::{validate_request, validate_request_json};
use nanobanana_wire::GenerateContentRequest;
use proptest::prelude::*;
use serde_json::{Map, Value};

const MODELS: [&str; 6] = [
    "gemini-3.1-flash-image-preview",
    "gemini-3-pro-image-preview",
    "models/gemini-2.5-flash-image",
    "gemini-9-image",
    "",
    "models/",
];

/// The field names the rules read, in both spellings, so that generated trees reach deep.
const KEYS: &[&str] = &[
    "contents",
    "role",
    "parts",
    "text",
    "thought",
    "thoughtSignature",
    "thought_signature",
    "inlineData",
    "inline_data",
    "fileData",
    "file_data",
    "mimeType",
    "mime_type",
    "data",
    "fileUri",
    "tools",
    "googleSearch",
    "google_search",
    "searchTypes",
    "search_types",
    "imageSearch",
    "image_search",
    "webSearch",
    "generationConfig",
    "generation_config",
    "responseModalities",
    "response_modalities",
    "imageConfig",
    "image_config",
    "imageSize",
    "image_size",
    "aspectRatio",
    "aspect_ratio",
    "thinkingConfig",
    "thinking_config",
    "thinkingLevel",
    "thinking_level",
    "thinkingBudget",
    "thinking_budget",
    "includeThoughts",
];

/// Strings the rules give meaning to, and a few they do not.
const STRINGS: &[&str] = &[
    "user",
    "model",
    "system",
    "image/png",
    "IMAGE/JPEG",
    "audio/mpeg",
    "video/mp4",
    "c2ln",
    "-_-_",
    "not base64!",
    "1k",
    "1K",
    "512",
    "8K",
    "4:1",
    "21:9",
    "TEXT",
    "image",
    "PICTURE",
    "AUDIO",
    "high",
    "Medium",
    "MINIMAL",
    "0",
    "-1",
    "",
    "é",
    "🍌",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(STRINGS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 96, 6, |inner| {
        let key = prop_oneof![4 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => "[a-z_]{0,8}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A request-shaped skeleton with arbitrary values in the places the rules read.
fn request_like() -> impl Strategy<Value = Value> {
    let part =
        prop::collection::vec((prop::sample::select(KEYS), json()), 0..4).prop_map(|fields| {
            Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        });
    let content = (json(), prop::collection::vec(part, 0..5))
        .prop_map(|(role, parts)| serde_json::json!({"role": role, "parts": parts}));
    (
        prop::collection::vec(content, 0..5),
        json(),
        json(),
        json(),
        json(),
    )
        .prop_map(|(contents, modalities, image_config, thinking, tools)| {
            serde_json::json!({
                "contents": contents,
                "tools": [{"googleSearch": tools}],
                "generationConfig": {
                    "responseModalities": modalities,
                    "imageConfig": image_config,
                    "thinkingConfig": thinking
                }
            })
        })
}

/// Picks one of a few JSON values.
fn one_of(values: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::sample::select(values).prop_map(Value::from)
}

/// An object of optional fields, each spelt in camelCase or snake_case at random.
fn object(fields: Vec<(&'static str, &'static str, Option<Value>)>, snake: bool) -> Value {
    let entries = fields.into_iter().filter_map(|(camel, snake_name, value)| {
        value.map(|v| ((if snake { snake_name } else { camel }).to_owned(), v))
    });
    Value::Object(entries.collect())
}

/// A body of the right JSON types throughout, so that it usually decodes into the typed
/// request, with values the rules care about.
fn well_typed() -> impl Strategy<Value = Value> {
    let blob = (
        one_of(&[
            "image/png",
            "image/jpeg",
            "audio/mpeg",
            "video/mp4",
            "text/plain",
        ]),
        any::<bool>(),
    )
        .prop_map(|(mime, snake)| {
            object(
                vec![
                    ("mimeType", "mime_type", Some(mime)),
                    ("data", "data", Some("AAAA".into())),
                ],
                snake,
            )
        });
    let file = (one_of(&["image/webp", "video/mp4"]), any::<bool>()).prop_map(|(mime, snake)| {
        object(
            vec![
                ("mimeType", "mime_type", Some(mime)),
                ("fileUri", "file_uri", Some("files/a".into())),
            ],
            snake,
        )
    });
    let body = prop_oneof![
        Just(("text", "text", Value::from("Hi"))),
        blob.prop_map(|b| ("inlineData", "inline_data", b)),
        file.prop_map(|f| ("fileData", "file_data", f)),
    ];
    let part = (
        body,
        prop::option::of(any::<bool>()),
        prop::option::of(one_of(&["c2ln", "-_-_", ""])),
        any::<bool>(),
    )
        .prop_map(|((camel, snake_name, value), thought, signature, snake)| {
            object(
                vec![
                    (camel, snake_name, Some(value)),
                    ("thought", "thought", thought.map(Value::from)),
                    ("thoughtSignature", "thought_signature", signature),
                ],
                snake,
            )
        });
    let content = (
        prop::option::of(one_of(&["user", "model", "model", "system"])),
        prop::collection::vec(part, 0..5),
    )
        .prop_map(|(role, parts)| {
            object(
                vec![
                    ("role", "role", role),
                    ("parts", "parts", Some(Value::from(parts))),
                ],
                false,
            )
        });
    let image_config = (
        prop::option::of(one_of(&["1:1", "4:1", "21:9", "7:3"])),
        prop::option::of(one_of(&["512", "1K", "1k", "4K", "8K"])),
        any::<bool>(),
    )
        .prop_map(|(ratio, size, snake)| {
            object(
                vec![
                    ("aspectRatio", "aspect_ratio", ratio),
                    ("imageSize", "image_size", size),
                ],
                snake,
            )
        });
    let thinking = (
        prop::option::of(one_of(&["minimal", "HIGH", "Medium", "extreme"])),
        prop::option::of(prop::sample::select(vec![0, -1, 1024])),
        prop::option::of(any::<bool>()),
        any::<bool>(),
    )
        .prop_map(|(level, budget, include, snake)| {
            object(
                vec![
                    ("thinkingLevel", "thinking_level", level),
                    ("thinkingBudget", "thinking_budget", budget.map(Value::from)),
                    (
                        "includeThoughts",
                        "include_thoughts",
                        include.map(Value::from),
                    ),
                ],
                snake,
            )
        });
    let modalities = prop::collection::vec(one_of(&["TEXT", "image", "PICTURE", "AUDIO"]), 0..3);
    let search = prop_oneof![
        Just(serde_json::json!({})),
        Just(serde_json::json!({"searchTypes": {"imageSearch": {}}})),
        Just(serde_json::json!({"search_types": {"web_search": {}}}))
    ];
    let config = (
        prop::option::of(modalities),
        prop::option::of(image_config),
        prop::option::of(thinking),
        any::<bool>(),
    )
        .prop_map(|(modalities, image, thinking, snake)| {
            object(
                vec![
                    (
                        "responseModalities",
                        "response_modalities",
                        modalities.map(Value::from),
                    ),
                    ("imageConfig", "image_config", image),
                    ("thinkingConfig", "thinking_config", thinking),
                ],
                snake,
            )
        });
    (
        prop::collection::vec(content, 0..6),
        prop::option::of(search),
        prop::option::of(config),
        any::<bool>(),
    )
        .prop_map(|(contents, search, config, snake)| {
            object(
                vec![
                    ("contents", "contents", Some(Value::from(contents))),
                    (
                        "tools",
                        "tools",
                        search.map(|s| serde_json::json!([{"googleSearch": s}])),
                    ),
                    ("generationConfig", "generation_config", config),
                ],
                snake,
            )
        })
}

fn check(body: &Value) -> Result<(), TestCaseError> {
    let typed = serde_json::from_value::<GenerateContentRequest>(body.clone()).ok();
    for model in MODELS {
        let report = validate_request_json(model, body);
        let _ = report.to_string();
        for violation in report.violations() {
            prop_assert!(Rule::ALL.contains(&violation.rule()));
            prop_assert!(violation.path().is_empty() || violation.path().starts_with('/'));
            prop_assert!(!violation.message().is_empty());
        }
        if let Some(typed) = &typed {
            prop_assert_eq!(&validate_request(model, typed), &report, "{}", body);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_json_never_panics(body in json()) {
        check(&body)?;
    }

    #[test]
    fn request_shaped_json_never_panics(body in request_like()) {
        check(&body)?;
    }

    #[test]
    fn both_entry_points_agree_on_well_typed_bodies(body in well_typed()) {
        prop_assert!(serde_json::from_value::<GenerateContentRequest>(body.clone()).is_ok(), "{}", body);
        check(&body)?;
    }
}

#[test]
fn bodies_that_are_not_objects_are_clean() {
    for body in [
        Value::Null,
        Value::from(1),
        Value::from("contents"),
        Value::Array(vec![]),
    ] {
        assert!(validate_request_json("gemini-3-pro-image-preview", &body).is_clean());
    }
}

/// Issue 20: field names the service does not know, seen the same way by both entry points.
mod hostile_names {
    use super::*;

    fn both(body: &Value) -> nanobanana_rules::Report {
        let json = validate_request_json("gemini-3.1-flash-image-preview", body);
        let typed: GenerateContentRequest = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(
            validate_request("gemini-3.1-flash-image-preview", &typed),
            json,
            "{body}"
        );
        json
    }

    #[test]
    fn mis_cased_names_are_unknown_fields_and_not_looked_into() {
        for name in ["image_Config", "ImageConfig", "imageconfig", "IMAGE_CONFIG"] {
            let body = serde_json::json!({"generationConfig": {name: {"imageSize": "1k"}}});
            let report = both(&body);
            let error = report.first_error().unwrap();
            assert_eq!(error.rule(), Rule::UnknownRequestField, "{name}");
            assert_eq!(error.path(), format!("/generationConfig/{name}"));
            assert_eq!(
                error.message(),
                format!(
                    "Invalid JSON payload received. Unknown name \"{name}\" at 'generation_config': Cannot find field."
                )
            );
            // Nothing inside is read as an image size.
            assert_eq!(report.violations().len(), 1, "{report}");
        }
        // The two exact spellings are the field.
        for name in ["imageConfig", "image_config"] {
            let body = serde_json::json!({"generationConfig": {name: {"imageSize": "1K"}}});
            assert!(both(&body).is_valid(), "{name}");
        }
    }

    #[test]
    fn all_digit_keys_are_unknown_fields_not_array_indices() {
        let body = serde_json::json!({"generationConfig": {"0": 1}});
        let report = both(&body);
        let error = report.first_error().unwrap();
        assert_eq!(error.path(), "/generationConfig/0");
        assert!(
            error
                .message()
                .contains("Unknown name \"0\" at 'generation_config'")
        );
        let body = serde_json::json!({"contents": [{"parts": [{"text": "x", "12": true}]}]});
        let report = both(&body);
        let error = report.first_error().unwrap();
        assert_eq!(error.path(), "/contents/0/parts/0/12");
        assert!(
            error.message().contains("at 'contents[0].parts[0]'"),
            "{error}"
        );
    }

    #[test]
    fn pointers_escape_slash_and_tilde_and_messages_quote_the_name_as_sent() {
        for (name, pointer) in [
            ("/", "/~1"),
            ("~", "/~0"),
            ("a/b~c", "/a~1b~0c"),
            ("~1", "/~01"),
            ("", "/"),
        ] {
            let body = serde_json::json!({name: {}});
            let report = both(&body);
            let error = report.first_error().unwrap();
            assert_eq!(error.path(), pointer, "{name:?}");
            assert_eq!(
                error.message(),
                format!(
                    "Invalid JSON payload received. Unknown name \"{name}\": Cannot find field."
                )
            );
        }
    }
}

/// Names that broke the agreement once (issue 20), mixed into generated bodies.
const HOSTILE_KEYS: &[&str] = &[
    "0",
    "12",
    "/",
    "~",
    "~1",
    "a/b",
    "",
    "image_Config",
    "ImageConfig",
    "generation_Config",
    "inline_Data",
    "Parts",
    "systemInstruction",
    "system_instruction",
    "safetySettings",
    "toolConfig",
];

fn hostile_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 5, |inner| {
        let key = prop_oneof![
            3 => prop::sample::select(KEYS).prop_map(str::to_owned),
            2 => prop::sample::select(HOSTILE_KEYS).prop_map(str::to_owned),
            1 => "[a-zA-Z0-9_/~]{0,6}"
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A well-typed body with hostile names added at any level still gets the same report from
    /// both entry points (when it still decodes).
    #[test]
    fn both_entry_points_agree_with_hostile_names(
        body in well_typed(),
        extra in prop::collection::vec((prop::sample::select(HOSTILE_KEYS), hostile_json()), 0..3),
        depth in 0usize..4,
    ) {
        let mut body = body;
        let mut target = &mut body;
        for key in ["generationConfig", "imageConfig", "thinkingConfig"].iter().take(depth) {
            if target.get(*key).is_some_and(Value::is_object) {
                target = target.get_mut(*key).unwrap();
            } else {
                break;
            }
        }
        if let Value::Object(map) = target {
            for (key, value) in extra {
                map.insert(key.to_owned(), value);
            }
        }
        check(&body)?;
    }
}
