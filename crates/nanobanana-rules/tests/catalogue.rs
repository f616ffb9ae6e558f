//! The model catalogue (`fixtures/models.json`): the compiled-in copy, every model of
//! SERVICE-2026.md §0 with its state at the dates that matter, capabilities per model, the checks
//! a catalogue file must pass, and validation of each live model at today's service.

use nanobanana_rules::catalogue::{self, Availability, Basis, State, Thinking};
use nanobanana_rules::resolution::predict;
use nanobanana_rules::{
    Date, Options, Rule, Severity, SignaturePolicy, UnknownFields, validate_request_json_with,
};
use nanobanana_wire::{GenerateContentRequest, GenerationConfig, ImageConfig};
use serde_json::{Value, json};

const COPY: &str = include_str!("../data/models.json");

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn model(id: &str) -> &'static catalogue::Model {
    catalogue::lookup(id)
        .model()
        .unwrap_or_else(|| panic!("{id} is in the catalogue"))
}

#[test]
fn the_compiled_in_catalogue_is_a_byte_identical_copy_of_the_fixtures_catalogue() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models.json");
    let original =
        std::fs::read_to_string(&data).unwrap_or_else(|err| panic!("{}: {err}", data.display()));
    assert!(
        original == COPY,
        "data/models.json differs from {}: run `cargo xtask codegen`",
        data.display()
    );
}

#[test]
fn states_on_2026_12_03_are_those_of_service_2026_section_0() {
    let today = date("2026-12-03");
    let state = |id: &str| model(id).state_at(today);
    assert_eq!(state("gemini-nano-banana-2.1"), State::Live);
    assert_eq!(state("gemini-3-pro-image"), State::Live);
    assert_eq!(state("gemini-3.1-flash-lite-image"), State::Live);
    assert_eq!(
        state("gemini-3.1-flash-image"),
        State::Deprecated {
            since: date("2026-10-06"),
            replacement: Some("gemini-nano-banana-2.1")
        }
    );
    assert!(matches!(
        state("gemini-2.5-flash-image"),
        State::Restricted { since, .. } if since == date("2026-09-18")
    ));
    for (id, since, replacement) in [
        (
            "gemini-3-pro-image-preview",
            "2026-06-25",
            "gemini-3-pro-image",
        ),
        (
            "gemini-3.1-flash-image-preview",
            "2026-06-25",
            "gemini-3.1-flash-image",
        ),
        (
            "gemini-2.5-flash-image-preview",
            "2026-01-15",
            "gemini-2.5-flash-image",
        ),
    ] {
        assert_eq!(
            state(id),
            State::ShutDown {
                since: date(since),
                replacement: Some(replacement)
            },
            "{id}"
        );
    }
    assert_eq!(catalogue::default_model().id(), "gemini-nano-banana-2.1");
    let served: Vec<&str> = catalogue::available_at(today).map(|m| m.id()).collect();
    assert_eq!(
        served,
        [
            "gemini-nano-banana-2.1",
            "gemini-3-pro-image",
            "gemini-3.1-flash-lite-image",
            "gemini-3.1-flash-image",
            "gemini-2.5-flash-image"
        ]
    );
}

#[test]
fn a_scheduled_shutdown_takes_effect_on_its_date() {
    let preview = model("gemini-3-pro-image-preview");
    assert!(preview.state_at(date("2026-06-24")).is_served());
    assert_eq!(preview.state_at(date("2026-06-24")).label(), "deprecated");
    assert!(!preview.state_at(date("2026-06-25")).is_served());
    assert_eq!(
        model("gemini-nano-banana-2.1").state_at(date("2026-10-05")),
        State::Unreleased {
            released: date("2026-10-06")
        }
    );
    // The early-2026 service of the fixture corpus served the preview ids.
    let early: Vec<&str> = catalogue::available_at(date("2026-03-01"))
        .map(|m| m.id())
        .collect();
    assert_eq!(
        early,
        [
            "gemini-2.5-flash-image",
            "gemini-3.1-flash-image-preview",
            "gemini-3-pro-image-preview"
        ]
    );
}

#[test]
fn capabilities_follow_the_decisions_table() {
    let banana21 = model("gemini-nano-banana-2.1");
    let sizes: Vec<&str> = banana21.image_sizes().iter().map(|s| s.as_str()).collect();
    assert_eq!(sizes, ["1K", "2K", "4K"]);
    assert_eq!(banana21.aspect_ratios().len(), 14);
    assert_eq!(banana21.output_mime_type(), "image/jpeg");
    assert_eq!(banana21.search().web(), Availability::Available);
    assert_eq!(banana21.search().image(), Availability::Unavailable);

    let lite = model("gemini-3.1-flash-lite-image");
    let sizes: Vec<&str> = lite.image_sizes().iter().map(|s| s.as_str()).collect();
    assert_eq!(sizes, ["1K"]);
    assert_eq!(lite.aspect_ratios().len(), 10);
    assert_eq!(lite.search().web(), Availability::Unavailable);
    assert_eq!(lite.token_limits().output(), Some(4096));

    let pro = model("gemini-3-pro-image");
    assert_eq!(pro.thinking(), Thinking::AlwaysOn);
    assert_eq!(pro.aspect_ratios().len(), 10);

    assert_eq!(
        model("gemini-2.5-flash-image").output_mime_type(),
        "image/png"
    );
    for model in catalogue::models() {
        let expected = if model.version() == "2.5" {
            "image/png"
        } else {
            "image/jpeg"
        };
        assert_eq!(model.output_mime_type(), expected, "{}", model.id());
    }
}

#[test]
fn predictions_for_models_without_a_published_table_are_estimated() {
    let request = |size: &str| {
        GenerateContentRequest::new().with_generation_config(
            GenerationConfig::new().with_image_config(
                ImageConfig::new()
                    .with_aspect_ratio("1:1")
                    .with_image_size(size),
            ),
        )
    };
    let estimated = predict("gemini-nano-banana-2.1", &request("4K"));
    assert!(estimated.is_estimated());
    assert_eq!(
        (estimated.width(), estimated.height()),
        (Some(4096), Some(4096))
    );
    assert_eq!(
        model("gemini-nano-banana-2.1").basis("resolution"),
        Basis::Estimated
    );
    // 512 is not a size of 2.1: no row, whatever 3.1 Flash publishes.
    assert_eq!(
        predict("gemini-nano-banana-2.1", &request("512")).width(),
        None
    );
    assert_eq!(
        predict("gemini-3.1-flash-lite-image", &request("2K")).width(),
        None
    );
    let published = predict("gemini-3-pro-image", &request("4K"));
    assert!(!published.is_estimated());
    assert_eq!(published.tokens_per_image(), Some(2000));
}

#[test]
fn prices_give_dollars_and_the_batch_half_price() {
    let pricing = model("gemini-3-pro-image").pricing().unwrap();
    assert!((pricing.image_cost(1120, false) - 0.1344).abs() < 1e-9);
    assert!((pricing.image_cost(1120, true) - 0.0672).abs() < 1e-9);
    assert_eq!(
        model("gemini-3-pro-image").basis("pricing"),
        Basis::ThirdParty
    );
}

fn body(config: Value) -> Value {
    json!({
        "contents": [{"role": "user", "parts": [{"text": "A nano banana"}]}],
        "generationConfig": config
    })
}

fn first_error(model: &str, body: &Value, at: &str) -> Option<(Rule, String)> {
    let report = validate_request_json_with(model, body, &Options::at(date(at)));
    report
        .first_error()
        .map(|error| (error.rule(), error.message().to_owned()))
}

#[test]
fn each_live_model_refuses_what_it_does_not_support() {
    let today = "2026-12-03";
    let size = |size: &str| body(json!({"imageConfig": {"imageSize": size}}));
    assert_eq!(
        first_error("gemini-nano-banana-2.1", &size("512"), today),
        Some((
            Rule::ImageSizeSupported,
            "Unsupported image size \"512\" for model gemini-nano-banana-2.1. Allowed: 1K, 2K, 4K."
                .to_owned()
        ))
    );
    assert_eq!(
        first_error("gemini-3.1-flash-lite-image", &size("2K"), today),
        Some((
            Rule::ImageSizeSupported,
            "Unsupported image size \"2K\" for model gemini-3.1-flash-lite-image. Allowed: 1K."
                .to_owned()
        ))
    );
    let ratio = body(json!({"imageConfig": {"aspectRatio": "1:8"}}));
    assert_eq!(
        first_error("gemini-3-pro-image", &ratio, today).map(|e| e.0),
        Some(Rule::AspectRatioSupported)
    );
    assert_eq!(first_error("gemini-nano-banana-2.1", &ratio, today), None);
    let medium = body(json!({"thinkingConfig": {"thinkingLevel": "medium"}}));
    assert_eq!(first_error("gemini-nano-banana-2.1", &medium, today), None);
    assert_eq!(
        first_error("gemini-3.1-flash-lite-image", &medium, today),
        Some((
            Rule::ThinkingLevelSupported,
            "Unsupported thinking level \"medium\" for model gemini-3.1-flash-lite-image. Allowed: minimal, high."
                .to_owned()
        ))
    );
    let mut search = body(json!({}));
    search["tools"] = json!([{"googleSearch": {}}]);
    assert_eq!(
        first_error("gemini-3.1-flash-lite-image", &search, today).map(|e| e.0),
        Some(Rule::SearchSupported)
    );
    assert_eq!(first_error("gemini-nano-banana-2.1", &search, today), None);
}

#[test]
fn shut_down_ids_are_refused_naming_the_replacement_and_deprecated_ones_warn() {
    let plain = body(json!({}));
    assert_eq!(
        first_error("gemini-3-pro-image-preview", &plain, "2026-12-03"),
        Some((
            Rule::ModelLifecycle,
            "Model gemini-3-pro-image-preview was shut down on 2026-06-25 and is no longer served. Use gemini-3-pro-image instead."
                .to_owned()
        ))
    );
    assert_eq!(
        first_error("gemini-3-pro-image-preview", &plain, "2026-03-01"),
        None
    );
    let report = validate_request_json_with(
        "gemini-3.1-flash-image",
        &plain,
        &Options::at(date("2026-12-03")),
    );
    assert!(report.is_valid());
    let warning = &report.violations()[0];
    assert_eq!(
        (warning.rule(), warning.severity()),
        (Rule::ModelLifecycle, Severity::Warning)
    );
    assert!(
        warning
            .message()
            .contains("Use gemini-nano-banana-2.1 instead.")
    );
}

#[test]
fn new_sdk_fields_and_inputs_of_2026_are_accepted() {
    let mut request = body(json!({"mediaResolution": "MEDIA_RESOLUTION_LOW"}));
    request["store"] = json!(false);
    request["serviceTier"] = json!("flex");
    request["continuationToken"] = json!("AAEC");
    request["contents"][0]["parts"][0]["mediaResolution"] =
        json!({"level": "MEDIA_RESOLUTION_HIGH"});
    request["contents"][0]["parts"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.jpg"}
        }));
    request["contents"][0]["parts"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "file_data": {"mime_type": "image/png", "file_uri": "gs://bucket/dog.png"}
        }));
    let report = validate_request_json_with(
        "gemini-nano-banana-2.1",
        &request,
        &Options::at(date("2026-12-03")),
    );
    assert!(report.is_clean(), "{report}");
}

#[test]
fn parts_without_data_are_refused_with_the_services_text() {
    let request =
        json!({"contents": [{"role": "user", "parts": [{"text": "x"}, {"thought": true}]}]});
    assert_eq!(
        first_error("gemini-nano-banana-2.1", &request, "2026-12-03"),
        Some((
            Rule::PartData,
            "* GenerateContentRequest.contents[0].parts[1].data: required oneof field 'data' must have one initialized field"
                .to_owned()
        ))
    );
}

#[test]
fn unknown_fields_warn_for_a_client_and_are_refused_otherwise() {
    let mut request = body(json!({}));
    request["futureKnob"] = json!(1);
    let at = Options::at(date("2026-12-03"));
    let refused = validate_request_json_with("gemini-nano-banana-2.1", &request, &at);
    assert_eq!(
        refused.first_error().map(|e| e.rule()),
        Some(Rule::UnknownRequestField)
    );
    let warned = validate_request_json_with(
        "gemini-nano-banana-2.1",
        &request,
        &at.with_unknown_fields(UnknownFields::Warn),
    );
    assert!(warned.is_valid());
    assert_eq!(warned.warnings().count(), 1);
}

#[test]
fn unsigned_image_turns_are_refused_before_the_services_change_and_accepted_after() {
    let request = json!({
        "contents": [
            {"role": "user", "parts": [{"text": "A cat"}]},
            {"role": "model", "parts": [{"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}}]},
            {"role": "user", "parts": [{"text": "Bluer"}]}
        ]
    });
    let since = catalogue::behaviour("unsigned-image-turn-accepted")
        .unwrap()
        .since();
    let early = Options::at(date("2026-03-01"));
    let now = Options::at(date("2026-12-03"));
    assert!(since > early.as_of() && since <= now.as_of());
    let report =
        |model: &str, options: &Options| validate_request_json_with(model, &request, options);
    assert_eq!(
        report("gemini-3.1-flash-image-preview", &early)
            .first_error()
            .map(|e| e.rule()),
        Some(Rule::SignatureCirculation)
    );
    assert!(report("gemini-nano-banana-2.1", &now).is_valid());
    assert!(
        !report(
            "gemini-nano-banana-2.1",
            &now.with_signatures(SignaturePolicy::Strict)
        )
        .is_valid()
    );
    assert!(
        report(
            "gemini-3.1-flash-image-preview",
            &early.with_signatures(SignaturePolicy::Lenient)
        )
        .is_valid()
    );
}

#[test]
fn a_catalogue_file_with_a_mistake_is_refused_with_what_is_wrong() {
    let good: Value = serde_json::from_str(COPY).unwrap();
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut file = good.clone();
        edit(&mut file);
        catalogue::check_catalogue(&file.to_string()).unwrap_err()
    };
    assert!(catalogue::check_catalogue(COPY).is_ok());
    assert!(
        broken(&|f| f["models"][0]["imageSizes"] = json!(["1k"])).contains("image size \"1k\"")
    );
    assert!(broken(&|f| f["models"][0]["sources"] = json!(["nowhere"])).contains("unknown source"));
    assert!(broken(&|f| f["models"][1]["default"] = json!(true)).contains("exactly one model"));
    assert!(
        broken(&|f| f["models"][5]["lifecycle"]["replacement"] = json!("gemini-99"))
            .contains("not in the catalogue")
    );
    assert!(
        broken(&|f| f["models"][0]["lifecycle"]["released"] = json!("2026-13-01"))
            .contains("YYYY-MM-DD")
    );
    assert!(broken(&|f| f["models"][0]["colour"] = json!("yellow")).contains("colour"));
}

#[test]
fn inline_data_over_100_mb_is_refused() {
    // 100 MB + 3 bytes of inline data, as base64 text (no case of the corpus can carry it).
    let over = "A".repeat(((100 * 1024 * 1024) / 3 + 1) * 4);
    let request = json!({"contents": [{"role": "user", "parts": [
        {"text": "x"},
        {"inlineData": {"mimeType": "image/png", "data": over}}
    ]}]});
    let report = validate_request_json_with(
        "gemini-nano-banana-2.1",
        &request,
        &Options::at(date("2026-12-03")),
    );
    let error = report.first_error().expect("refused");
    assert_eq!(error.rule(), Rule::InlineDataSize);
    assert_eq!(
        error.message(),
        "Request payload size exceeds the limit: 104857600 bytes."
    );
}
