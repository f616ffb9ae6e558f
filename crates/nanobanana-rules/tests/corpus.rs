//! The fixture corpus (`fixtures/cases/`) against the rules: the verdict of every validation case,
//! the 400 message of every rejected request, the signature verdict of every answer, the split of
//! the last answer's images, and the predicted size of every size-matrix request.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use nanobanana_rules::resolution::{RatioSource, predict};
use nanobanana_rules::response::{signature_violations, split_parts, stream_parts};
use nanobanana_rules::{Date, Options, Report, validate_request_json_with, validate_request_with};
use nanobanana_wire::Route;
use nanobanana_wire::corpus::{Case, Corpus, Interaction};
use nanobanana_wire::routes::route;
use nanobanana_wire::{GenerateContentRequest, GenerateContentResponse};
use serde_json::Value;

/// Fixtures whose expectation disagrees with SPEC.md and `fixtures/rules.json`, with the reason.
/// They are reported to the lead rather than bent into the rules; the test checks that they
/// still disagree, so the entry is removed when the fixture is fixed.
const DISAGREEMENTS: &[(&str, &str)] = &[];

fn corpus() -> Corpus {
    Corpus::load(Corpus::repository_dir()).expect("the fixture corpus loads")
}

/// A `generateContent` or `streamGenerateContent` request of a case, with its model.
struct Generate<'a> {
    index: usize,
    model: &'a str,
    body: &'a Value,
    interaction: &'a Interaction,
}

fn generate_requests(case: &Case) -> Vec<Generate<'_>> {
    let mut out = Vec::new();
    for (index, interaction) in case.interactions.iter().enumerate() {
        let request = &interaction.request;
        let model = match route(&request.method, &request.path).map(|m| m.route) {
            Some(Route::GenerateContent { model } | Route::StreamGenerateContent { model }) => {
                model
            }
            _ => continue,
        };
        if let Some(body) = &request.body {
            out.push(Generate {
                index,
                model,
                body,
                interaction,
            });
        }
    }
    out
}

/// Validates a body through both entry points and checks that they agree whenever the body
/// decodes into the typed request.
/// The options a case is checked with: the service as it was on the case's date.
fn options(case: &Case) -> Options {
    let date: Date = case
        .service_date
        .parse()
        .unwrap_or_else(|e| panic!("{}: serviceDate: {e}", case.id));
    Options::at(date)
}

fn validate(case: &Case, model: &str, body: &Value) -> Report {
    let options = options(case);
    let report = validate_request_json_with(model, body, &options);
    if let Ok(typed) = serde_json::from_value::<GenerateContentRequest>(body.clone()) {
        assert_eq!(
            validate_request_with(model, &typed, &options),
            report,
            "typed and JSON validation differ"
        );
    }
    report
}

fn expect(case: &Case) -> &Value {
    static NULL: Value = Value::Null;
    case.expect.as_ref().unwrap_or(&NULL)
}

fn expects_invalid(case: &Case) -> bool {
    expect(case)["valid"] == Value::Bool(false)
}

fn expected_warnings(case: &Case) -> BTreeSet<String> {
    let warnings = expect(case)["warnings"].as_array().into_iter().flatten();
    warnings
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// What the rules say about a case, in the expectation's terms, plus the readable report.
struct Verdict {
    errors: BTreeSet<(String, String, u64)>,
    warnings: BTreeSet<String>,
    text: String,
    message_mismatches: Vec<String>,
}

fn verdict(case: &Case) -> Verdict {
    let mut verdict = Verdict {
        errors: BTreeSet::new(),
        warnings: BTreeSet::new(),
        text: String::new(),
        message_mismatches: Vec::new(),
    };
    for request in generate_requests(case) {
        let report = validate(case, request.model, request.body);
        let _ = writeln!(verdict.text, "interaction {}: {report}", request.index);
        for violation in report.errors() {
            let path = violation.path().to_owned();
            verdict
                .errors
                .insert((violation.rule().id().to_owned(), path, request.index as u64));
        }
        verdict
            .warnings
            .extend(report.warnings().map(|v| v.rule().id().to_owned()));
        let response = &request.interaction.response;
        if response.status == 400 {
            let sent = response.body.as_ref().and_then(error_message);
            let ours = report.first_error().map(|v| v.message());
            if sent != ours {
                verdict.message_mismatches.push(format!(
                    "interaction {}: fixture {sent:?}, rules {ours:?}",
                    request.index
                ));
            }
        }
    }
    verdict
}

/// The message of an error body, also when wrapped in a one-element array.
fn error_message(body: &Value) -> Option<&str> {
    let error = match body {
        Value::Array(items) => items.first()?,
        other => other,
    };
    error["error"]["message"].as_str()
}

fn expected_errors(case: &Case) -> BTreeSet<(String, String, u64)> {
    let violations = expect(case)["violations"].as_array().into_iter().flatten();
    violations
        .map(|v| {
            let rule = v["rule"].as_str().unwrap_or_default().to_owned();
            let path = v["path"].as_str().unwrap_or_default().to_owned();
            (rule, path, v["interaction"].as_u64().unwrap_or(0))
        })
        .collect()
}

#[test]
fn invalid_and_warning_cases_report_the_expected_violations_and_messages() {
    let corpus = corpus();
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in corpus.cases() {
        if !expects_invalid(case) && expected_warnings(case).is_empty() {
            continue;
        }
        checked += 1;
        let verdict = verdict(case);
        insta::assert_snapshot!(
            format!("case__{}", case.id.replace('/', "__")),
            verdict.text
        );
        let agrees = verdict.errors == expected_errors(case)
            && verdict.warnings == expected_warnings(case)
            && verdict.message_mismatches.is_empty();
        let disagreement = DISAGREEMENTS.iter().find(|(id, _)| *id == case.id);
        match (agrees, disagreement) {
            (true, None) => {}
            (true, Some(_)) => failures.push(format!(
                "{}: now agrees with the rules; remove it from DISAGREEMENTS",
                case.id
            )),
            (false, Some(_)) => {}
            (false, None) => failures.push(format!(
                "{}:\n  errors   expected {:?}\n           reported {:?}\n  warnings expected {:?}\n           reported {:?}\n  messages {:?}",
                case.id,
                expected_errors(case),
                verdict.errors,
                expected_warnings(case),
                verdict.warnings,
                verdict.message_mismatches
            )),
        }
    }
    assert!(checked >= 10, "only {checked} validation cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn valid_cases_have_no_errors_and_only_the_expected_warnings() {
    let corpus = corpus();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in corpus.cases() {
        if expects_invalid(case) {
            continue;
        }
        let expected = expected_warnings(case);
        for request in generate_requests(case) {
            checked += 1;
            let report = validate(case, request.model, request.body);
            let warnings: BTreeSet<String> = report
                .warnings()
                .map(|v| v.rule().id().to_owned())
                .collect();
            if !report.is_valid() || !warnings.is_subset(&expected) {
                failures.push(format!(
                    "{} interaction {}: {report}",
                    case.id, request.index
                ));
            }
        }
    }
    assert!(checked >= 50, "only {checked} valid requests found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fixture_400_answers_carry_the_first_error_message() {
    // Every rejected generate request of the corpus, whatever its case expects overall.
    let corpus = corpus();
    let mut failures = Vec::new();
    for case in corpus.cases() {
        if DISAGREEMENTS.iter().any(|(id, _)| *id == case.id) {
            continue;
        }
        for request in generate_requests(case) {
            let response = &request.interaction.response;
            let Some(sent) = response.body.as_ref().and_then(error_message) else {
                continue;
            };
            if response.status != 400 {
                continue;
            }
            let report = validate(case, request.model, request.body);
            // Rejections that no request rule explains (an unknown field, a bad key) are the
            // server's business, not this crate's.
            if let Some(error) = report.first_error()
                && error.message() != sent
            {
                failures.push(format!(
                    "{} interaction {}: {sent:?} vs {report}",
                    case.id, request.index
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The answer parts of one interaction: the body's first candidate or the stream's.
fn answer(interaction: &Interaction) -> Option<Vec<GenerateContentResponse>> {
    let response = &interaction.response;
    if response.status != 200 {
        return None;
    }
    let bodies: Vec<&Value> = match (&response.body, &response.events) {
        (Some(body), _) => vec![body],
        (None, Some(events)) => events.iter().filter(|e| e.get("error").is_none()).collect(),
        (None, None) => return None,
    };
    bodies
        .into_iter()
        .map(|b| serde_json::from_value(b.clone()).ok())
        .collect()
}

#[test]
fn answers_follow_the_signature_rules_as_the_cases_expect() {
    let corpus = corpus();
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in corpus.cases() {
        let Some(signatures) = expect(case).get("signatures") else {
            continue;
        };
        let mut found = BTreeSet::new();
        for request in generate_requests(case) {
            let Some(events) = answer(request.interaction) else {
                continue;
            };
            checked += 1;
            for violation in signature_violations(stream_parts(&events, 0)) {
                found.insert((
                    violation.rule().id().to_owned(),
                    violation.part() as u64,
                    request.index as u64,
                ));
            }
        }
        let expected: BTreeSet<_> = signatures["violations"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                let rule = v["rule"].as_str().unwrap_or_default().to_owned();
                (
                    rule,
                    v["part"].as_u64().unwrap_or(0),
                    v["interaction"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        let ok = signatures["ok"] == Value::Bool(true);
        if found != expected || ok != found.is_empty() {
            failures.push(format!(
                "{}: expected {expected:?} (ok: {ok}), found {found:?}",
                case.id
            ));
        }
    }
    assert!(checked >= 20, "only {checked} answers checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Width and height of a PNG from its IHDR chunk.
/// Width and height of a PNG (IHDR) or a JPEG (the first SOF0 to SOF3 frame header).
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        return jpeg_size(bytes);
    }
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Some((word(16), word(20)))
}

fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    while at + 9 < bytes.len() {
        if bytes[at] != 0xFF {
            return None;
        }
        let marker = bytes[at + 1];
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if (0xC0..=0xC3).contains(&marker) {
            let height = u16::from_be_bytes([bytes[at + 5], bytes[at + 6]]);
            let width = u16::from_be_bytes([bytes[at + 7], bytes[at + 8]]);
            return Some((u32::from(width), u32::from(height)));
        }
        at += 2 + length;
    }
    None
}

#[test]
fn the_last_answer_splits_into_the_expected_thought_and_final_images() {
    let corpus = corpus();
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in corpus.cases() {
        let Some(images) = expect(case).get("images").and_then(Value::as_array) else {
            continue;
        };
        // The last answer, when it is a generate answer (batch operations hold theirs inside).
        let Some(last) = generate_requests(case).pop() else {
            continue;
        };
        if last.index + 1 != case.interactions.len() {
            continue;
        }
        let Some(events) = answer(last.interaction) else {
            continue;
        };
        checked += 1;
        let split = split_parts(stream_parts(&events, 0));
        let mut found: Vec<_> = split
            .thought_images()
            .iter()
            .map(|image| ("thought", image))
            .chain(split.final_images().iter().map(|image| ("final", image)))
            .collect();
        found.sort_by_key(|(_, image)| image.part());
        let found: Vec<Value> = found
            .into_iter()
            .map(|(kind, image)| {
                let (width, height) = image.data().and_then(png_size).unwrap_or((0, 0));
                serde_json::json!({"kind": kind, "width": width, "height": height, "mimeType": image.mime_type()})
            })
            .collect();
        if found != *images {
            failures.push(format!("{}: expected {images:?}, found {found:?}", case.id));
        }
        // Three thought images are legal (SPEC.md §6); the last one is the final render.
        assert_eq!(
            split.interim_images().len(),
            split.thought_images().len().saturating_sub(1),
            "{}",
            case.id
        );
    }
    assert!(checked >= 20, "only {checked} answers with images checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_final_image_has_the_predicted_size() {
    // Across the whole corpus: whenever the table predicts a size, the answer's images have it.
    let corpus = corpus();
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in corpus.cases() {
        for request in generate_requests(case) {
            let Ok(typed) = serde_json::from_value::<GenerateContentRequest>(request.body.clone())
            else {
                continue;
            };
            let prediction = predict(request.model, &typed);
            let (Some(width), Some(height)) = (prediction.width(), prediction.height()) else {
                continue;
            };
            let Some(events) = answer(request.interaction) else {
                continue;
            };
            for image in split_parts(stream_parts(&events, 0)).final_images() {
                checked += 1;
                let size = image.data().and_then(png_size);
                if size != Some((width, height)) {
                    failures.push(format!(
                        "{} #{}: {size:?}, predicted {prediction}",
                        case.id, request.index
                    ));
                }
            }
        }
    }
    assert!(checked >= 100, "only {checked} images checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn predicted_sizes_and_tokens_match_every_size_matrix_answer() {
    let corpus = corpus();
    let mut checked = 0;
    for case in corpus
        .cases()
        .iter()
        .filter(|case| case.id.starts_with("sizes/"))
    {
        for request in generate_requests(case) {
            let typed: GenerateContentRequest =
                serde_json::from_value(request.body.clone()).unwrap();
            let prediction = predict(request.model, &typed);
            assert!(
                matches!(prediction.ratio(), RatioSource::Requested(_)),
                "{}",
                case.id
            );
            let events = answer(request.interaction).expect("a size-matrix answer");
            let split = split_parts(stream_parts(&events, 0));
            let image = split.final_images().first().expect("one final image");
            let size = image.data().and_then(png_size);
            assert_eq!(
                size,
                prediction.width().zip(prediction.height()),
                "{} #{}",
                case.id,
                request.index
            );
            let image_tokens = events[0]
                .usage_metadata
                .as_ref()
                .and_then(|usage| {
                    usage
                        .candidates_tokens_details
                        .iter()
                        .find(|d| d.modality.as_ref().is_some_and(|m| m.as_str() == "IMAGE"))
                })
                .and_then(|detail| detail.token_count);
            assert_eq!(
                image_tokens,
                prediction.tokens_per_image().map(i64::from),
                "{} #{}",
                case.id,
                request.index
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        14 * 4 + 10 * 3 + 10,
        "every table entry has a size-matrix interaction"
    );
}
