//! The rules on Interactions API create requests: every vector of `fixtures/interactions/` gets
//! the verdict its `expect` states, the violations at its pointers, and (for a refused request)
//! exactly the recorded error answer; both entry points agree; properties hold for every model
//! of the catalogue.

use std::collections::BTreeSet;

use nanobanana_rules::catalogue::{self, Model};
use nanobanana_rules::{
    Date, Options, Rule, UnknownFields, interaction_error, validate_interaction_json_with,
    validate_interaction_with,
};
use nanobanana_wire::corpus::{Case, Corpus};
use nanobanana_wire::{AspectRatio, CreateInteractionRequest, ImageSize};
use proptest::prelude::*;
use serde_json::{Value, json};

fn options(case: &Case) -> Options {
    Options::at(case.service_date.parse::<Date>().expect("serviceDate"))
}

#[test]
fn every_vector_gets_its_verdict_and_its_recorded_error() {
    let corpus = Corpus::load_interactions(Corpus::repository_dir()).unwrap();
    let (mut valid, mut refused) = (0, 0);
    for case in corpus.cases() {
        let expect = case.expect.as_ref().expect("an expect block");
        let expected: BTreeSet<(String, String, u64)> = expect
            .get("violations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|v| {
                (
                    v["rule"].as_str().unwrap().to_owned(),
                    v["path"].as_str().unwrap().to_owned(),
                    v.get("interaction").and_then(Value::as_u64).unwrap_or(0),
                )
            })
            .collect();
        let mut found = BTreeSet::new();
        for (i, interaction) in case.interactions.iter().enumerate() {
            let request = &interaction.request;
            let Some(body) = request.body.as_ref().filter(|_| request.method == "POST") else {
                continue;
            };
            let report = validate_interaction_json_with(body, &options(case));
            if let Ok(typed) = serde_json::from_value::<CreateInteractionRequest>(body.clone()) {
                assert_eq!(
                    validate_interaction_with(&typed, &options(case)),
                    report,
                    "{}#{i}: the entry points disagree",
                    case.id
                );
            }
            for v in report.errors() {
                found.insert((v.rule().id().to_owned(), v.path().to_owned(), i as u64));
            }
            let recorded = &interaction.response;
            match interaction_error(&report) {
                Some(answer) => {
                    refused += 1;
                    let error = &recorded.body.as_ref().unwrap()["error"];
                    assert_eq!(answer.status, recorded.status, "{}#{i}", case.id);
                    assert_eq!(error["code"], answer.code, "{}#{i}", case.id);
                    assert_eq!(error["message"], answer.message.as_str(), "{}#{i}", case.id);
                }
                None => {
                    valid += 1;
                    assert!(
                        recorded.status == 200 || recorded.status == 404,
                        "{}#{i}: a valid request answered {}",
                        case.id,
                        recorded.status
                    );
                }
            }
        }
        assert_eq!(found, expected, "{}", case.id);
        assert_eq!(expect["valid"], expected.is_empty(), "{}", case.id);
    }
    assert!(
        valid >= 10 && refused >= 7,
        "{valid} valid, {refused} refused"
    );
}

#[test]
fn unknown_fields_warn_for_a_client_and_pointers_name_nested_members() {
    let body = json!({
        "model": "gemini-nano-banana-2.1",
        "input": "x",
        "generation_config": {"thinking_level": "high", "imageConfig": {"aspect_ratio": "1:1"}},
        "response_format": [{"type": "text"}, {"type": "image", "size": "2K", "image_size": "3K"}]
    });
    let options = Options::at(Date::new(2026, 12, 3).unwrap());
    let report = validate_interaction_json_with(&body, &options);
    let errors: Vec<(&str, &str)> = report.errors().map(|v| (v.rule().id(), v.path())).collect();
    assert_eq!(
        errors,
        [
            ("unknown-request-field", "/generation_config/imageConfig"),
            ("unknown-request-field", "/response_format/1/size"),
            ("image-size-supported", "/response_format/1/image_size"),
        ]
    );
    let client = options.with_unknown_fields(UnknownFields::Warn);
    let report = validate_interaction_json_with(&body, &client);
    assert_eq!(report.errors().count(), 1);
    assert_eq!(report.warnings().count(), 2);
}

#[test]
fn an_unknown_model_only_warns_and_garbage_never_panics() {
    let options = Options::at(Date::new(2026, 12, 3).unwrap());
    let report = validate_interaction_json_with(
        &json!({"model": "gemini-9-ultra-image", "response_format": {"type": "image", "image_size": "9K"}}),
        &options,
    );
    assert!(report.is_valid());
    assert_eq!(
        report.warnings().next().unwrap().rule(),
        Rule::ModelCatalogue
    );
    for body in [
        json!(null),
        json!([1, 2]),
        json!({"model": 7, "response_format": "image"}),
    ] {
        let _ = validate_interaction_json_with(&body, &options);
    }
}

fn live_models() -> Vec<&'static Model> {
    catalogue::available_at(Date::new(2026, 12, 3).unwrap()).collect()
}

proptest! {
    /// Every ratio and size a model lists is accepted in an image response_format; a ratio it
    /// does not list is refused at the Interactions pointer with the house text.
    #[test]
    fn the_catalogue_decides_ratios_and_sizes(model in 0..live_models().len(), ratio in 0..AspectRatio::WIRE_VALUES.len(), size in 0..ImageSize::WIRE_VALUES.len()) {
        let model = live_models()[model];
        let ratio = AspectRatio::WIRE_VALUES[ratio];
        let size = ImageSize::WIRE_VALUES[size];
        let body = json!({"model": model.id(), "input": "x",
            "response_format": {"type": "image", "aspect_ratio": ratio, "image_size": size}});
        let report = validate_interaction_json_with(&body, &Options::at(Date::new(2026, 12, 3).unwrap()));
        let ratio_ok = model.supports_aspect_ratio(&AspectRatio::from_wire(ratio));
        let size_ok = model.supports_image_size(&ImageSize::from_wire(size));
        let rules: Vec<Rule> = report.errors().map(|v| v.rule()).collect();
        prop_assert_eq!(rules.contains(&Rule::AspectRatioSupported), !ratio_ok);
        prop_assert_eq!(report.is_valid(), ratio_ok && size_ok, "{:?}", rules);
        if !ratio_ok {
            let v = report.errors().find(|v| v.rule() == Rule::AspectRatioSupported).unwrap();
            prop_assert_eq!(v.path(), "/response_format/aspect_ratio");
            let expected = format!("Unsupported aspect ratio \"{ratio}\" for model {}.", model.id());
            prop_assert!(v.message().starts_with(&expected), "{}", v.message());
        }
    }

    /// Any MIME type but image/jpeg and any delivery but inline and uri break
    /// response-format-image; the two allowed ones keep it.
    #[test]
    fn mime_types_and_deliveries(mime in "image/[a-z]{1,5}", delivery in "[a-z]{1,8}") {
        let body = json!({"model": "gemini-nano-banana-2.1",
            "response_format": {"type": "image", "mime_type": mime, "delivery": delivery}});
        let report = validate_interaction_json_with(&body, &Options::at(Date::new(2026, 12, 3).unwrap()));
        let paths: Vec<&str> = report.errors().filter(|v| v.rule() == Rule::ResponseFormatImage).map(|v| v.path()).collect();
        let mut expected = Vec::new();
        if mime != "image/jpeg" { expected.push("/response_format/mime_type"); }
        if delivery != "inline" && delivery != "uri" { expected.push("/response_format/delivery"); }
        prop_assert_eq!(paths, expected);
    }
}
