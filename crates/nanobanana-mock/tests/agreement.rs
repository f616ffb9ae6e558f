//! The client's verdict equals the fake server's (issue 20): for generated requests, including
//! mis-cased, all-digit and slash/tilde names and sizes and ratios no model makes, a request the
//! rules refuse (what the client checks before sending, `validate_request` on the typed request)
//! gets exactly that message in a 400 from the server, a request they accept is answered 200 by
//! the server for a known model, and the server never answers 5xx.

use bytes::Bytes;
use nanobanana_mock::MockGemini;
use nanobanana_rules::{Date, Options, Report, validate_request_json_with, validate_request_with};

/// The early-2026 service the known ids (the preview ids) were served by; the server plays it too.
fn early() -> Options {
    Options::at(Date::new(2026, 3, 1).expect("a date"))
}

fn validate_request(model: &str, request: &GenerateContentRequest) -> Report {
    validate_request_with(model, request, &early())
}

fn validate_request_json(model: &str, body: &Value) -> Report {
    validate_request_json_with(model, body, &early())
}
use nanobanana_wire::GenerateContentRequest;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const KNOWN: &[&str] = &[
    "gemini-3.1-flash-image-preview",
    "gemini-3-pro-image-preview",
    "gemini-2.5-flash-image",
];
const OTHER: &[&str] = &["gemini-9-image-preview", "gemini-2.5-flash"];

const NAMES: &[&str] = &[
    "imageConfig",
    "image_config",
    "image_Config",
    "ImageConfig",
    "0",
    "/",
    "~",
    "a/b~c",
    "",
    "responseModalities",
    "candidateCount",
    "temperature",
    "thinkingConfig",
];

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(1)),
        Just(json!("1K")),
        Just(json!({})),
        Just(json!({"imageSize": "1k"})),
        Just(json!({"aspect_ratio": "16:9"})),
        Just(json!(["TEXT"])),
    ]
}

fn body() -> impl Strategy<Value = Value> {
    let ratio = prop::option::of(prop::sample::select(vec![
        "1:1", "16:9", "21:9", "4:1", "1:8", "7:3",
    ]));
    let size = prop::option::of(prop::sample::select(vec![
        "512", "1K", "2K", "4K", "1k", "8K",
    ]));
    let modalities = prop::option::of(prop::sample::select(vec![
        json!(["TEXT"]),
        json!(["TEXT", "IMAGE"]),
        json!(["IMAGE"]),
        json!(["image"]),
    ]));
    let extra = prop::collection::vec((prop::sample::select(NAMES), value()), 0..3);
    let placement = 0usize..3;
    (ratio, size, modalities, extra, placement, any::<bool>()).prop_map(
        |(ratio, size, modalities, extra, placement, snake)| {
            let mut image = Map::new();
            if let Some(r) = ratio {
                image.insert(
                    if snake { "aspect_ratio" } else { "aspectRatio" }.into(),
                    r.into(),
                );
            }
            if let Some(s) = size {
                image.insert(
                    if snake { "image_size" } else { "imageSize" }.into(),
                    s.into(),
                );
            }
            let mut config = Map::new();
            config.insert("imageConfig".into(), Value::Object(image));
            if let Some(m) = modalities {
                config.insert("responseModalities".into(), m);
            }
            let mut body = json!({"contents": [{"role": "user", "parts": [{"text": "A banana"}]}]});
            body["generationConfig"] = Value::Object(config);
            for (name, value) in extra {
                let target = match placement {
                    0 => &mut body,
                    1 => &mut body["generationConfig"],
                    _ => &mut body["generationConfig"]["imageConfig"],
                };
                if let Value::Object(map) = target {
                    map.insert(name.to_owned(), value);
                }
            }
            body
        },
    )
}

fn model() -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => prop::sample::select(KNOWN), 1 => prop::sample::select(OTHER)]
}

fn runtime() -> &'static (tokio::runtime::Runtime, MockGemini) {
    static SERVER: std::sync::OnceLock<(tokio::runtime::Runtime, MockGemini)> =
        std::sync::OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let server = runtime.block_on(
            MockGemini::builder()
                .as_of(early().as_of())
                .journal_capacity(0)
                .start(),
        );
        (runtime, server)
    })
}

fn check(model: &str, body: &Value) -> Result<(), TestCaseError> {
    // A body the typed request cannot hold is one a typed client never sends; its JSON report
    // is what a client of raw JSON checks.
    let typed = serde_json::from_value::<GenerateContentRequest>(body.clone()).ok();
    let client = match &typed {
        Some(typed) => {
            let typed_report = validate_request(model, typed);
            prop_assert_eq!(
                &typed_report,
                &validate_request_json(model, body),
                "{}",
                body
            );
            typed_report
        }
        None => validate_request_json(model, body),
    };
    let (runtime, server) = runtime();
    let bytes = Bytes::from(serde_json::to_vec(body).expect("json"));
    let (status, answer) = runtime.block_on(server.answer_in_process(
        "POST",
        &format!("/v1beta/models/{model}:generateContent"),
        &[
            ("x-goog-api-key", b"k"),
            ("content-type", b"application/json"),
        ],
        bytes,
    ));
    let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
    prop_assert!(status < 500, "{model} {body}: {status} {answer}");
    let unknown = nanobanana_rules::catalogue::lookup(model).model().is_none()
        && !nanobanana_rules::catalogue::lookup(model).is_text_only();
    match client.first_error() {
        // An id the catalogue does not know: the client sends it (with a warning) and the fake
        // server answers the service's 404 for it, whatever the body.
        Some(_) if unknown => {
            prop_assert_eq!(status, 404, "{} {}: {}", model, body, answer);
        }
        Some(error) => {
            prop_assert_eq!(status, 400, "{} {}: {}", model, body, answer);
            prop_assert_eq!(
                answer["error"]["message"].as_str(),
                Some(error.message()),
                "{} {}",
                model,
                body
            );
        }
        None if KNOWN.contains(&model) && typed.is_some() => {
            prop_assert_eq!(status, 200, "{} {}: {}", model, body, answer);
        }
        // An id the catalogue does not know: the client only warns, the server answers by the
        // rules it simulates the model with (or 404), never 5xx.
        None => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn client_verdict_equals_the_fake_servers(model in model(), body in body()) {
        check(model, &body)?;
    }
}

#[test]
fn issue_20_examples_agree() {
    for (model, body) in [
        (KNOWN[0], json!({"/": {}})),
        (KNOWN[0], json!({"generationConfig": {"0": 1}})),
        (
            KNOWN[0],
            json!({"generationConfig": {"image_Config": {"imageSize": "1k"}}}),
        ),
        (
            OTHER[0],
            json!({"generationConfig": {"imageConfig": {"imageSize": "1k"}}}),
        ),
        (
            OTHER[1],
            json!({"generationConfig": {"imageConfig": {"aspectRatio": "4:1"}}}),
        ),
    ] {
        check(model, &body).unwrap();
    }
}
