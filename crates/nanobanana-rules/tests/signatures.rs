//! Thought signatures (SPEC.md §4) as properties: well-formed answers pass the checker, every
//! missing or extra signature is caught at its position, echoed histories validate, and a
//! stripped or corrupted signature in a history is caught.

use nanobanana_rules::response::{signature_violations, split_parts};
use nanobanana_rules::{Rule, Severity};

mod early;
use early::{validate_request, validate_request_json};
use nanobanana_wire::{Base64Bytes, Blob, Content, GenerateContentRequest, Part};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

const MODELS: [&str; 3] = [
    "gemini-3.1-flash-image-preview",
    "gemini-3-pro-image-preview",
    "gemini-2.5-flash-image",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Image,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Text), Just(Kind::Image)]
}

fn part(kind: Kind) -> Part {
    match kind {
        Kind::Text => Part::new().with_text("Step one"),
        Kind::Image => Part::new().with_inline_data(
            Blob::new()
                .with_mime_type("image/png")
                .with_data(Base64Bytes::new(vec![0x89, b'P'])),
        ),
    }
}

/// A well-formed answer: thought parts (text and images, up to three images, as the guide's own
/// example has) without signatures, then non-thought parts where the first part and every image
/// are signed and later text is not.
fn answer() -> impl Strategy<Value = Vec<Part>> {
    let signatures = prop::collection::vec(prop::collection::vec(any::<u8>(), 1..24), 8);
    (
        prop::collection::vec(kind(), 0..5),
        prop::collection::vec(kind(), 1..7),
        signatures,
    )
        .prop_map(|(thoughts, finals, signatures)| {
            let mut parts: Vec<Part> = thoughts
                .into_iter()
                .map(|k| part(k).with_thought(true))
                .collect();
            for (i, kind) in finals.into_iter().enumerate() {
                let mut part = part(kind);
                if i == 0 || kind == Kind::Image {
                    part = part.with_thought_signature(Base64Bytes::new(signatures[i % 8].clone()));
                }
                parts.push(part);
            }
            parts
        })
}

fn is_thought(part: &Part) -> bool {
    part.thought == Some(true)
}

fn violations(parts: &[Part]) -> Vec<(Rule, usize)> {
    signature_violations(parts)
        .map(|v| (v.rule(), v.part()))
        .collect()
}

proptest! {
    #[test]
    fn well_formed_answers_pass_and_split_cleanly(parts in answer()) {
        prop_assert_eq!(violations(&parts), []);
        let split = split_parts(&parts);
        let images = |thought: bool| parts.iter().filter(|p| p.inline_data.is_some() && is_thought(p) == thought).count();
        prop_assert_eq!(split.thought_images().len(), images(true));
        prop_assert_eq!(split.final_images().len(), images(false));
        prop_assert_eq!(split.interim_images().len(), images(true).saturating_sub(1));
    }

    #[test]
    fn stripping_a_required_signature_is_caught_at_its_position(mut parts in answer(), pick in any::<Index>()) {
        let signed: Vec<usize> = (0..parts.len()).filter(|&i| parts[i].thought_signature.is_some()).collect();
        let at = signed[pick.index(signed.len())];
        parts[at].thought_signature = None;
        let first = parts.iter().position(|p| !is_thought(p)) == Some(at);
        let expected = match (parts[at].inline_data.is_some(), first) {
            (true, true) => vec![(Rule::ResponseImageSigned, at), (Rule::ResponseFirstPartSigned, at)],
            (true, false) => vec![(Rule::ResponseImageSigned, at)],
            (false, _) => vec![(Rule::ResponseFirstPartSigned, at)],
        };
        prop_assert_eq!(violations(&parts), expected);
    }

    #[test]
    fn signing_a_thought_or_a_later_text_is_caught_at_its_position(mut parts in answer(), pick in any::<Index>()) {
        // A thought summary up front, so that there is always an unsigned part to sign.
        parts.insert(0, part(Kind::Text).with_thought(true));
        let first = parts.iter().position(|p| !is_thought(p)).unwrap();
        let unsigned: Vec<usize> = (0..parts.len())
            .filter(|&i| is_thought(&parts[i]) || (i > first && parts[i].inline_data.is_none()))
            .collect();
        let at = unsigned[pick.index(unsigned.len())];
        parts[at].thought_signature = Some(Base64Bytes::new(b"extra".to_vec()));
        let rule = if is_thought(&parts[at]) { Rule::ResponseThoughtUnsigned } else { Rule::ResponseLaterTextUnsigned };
        prop_assert_eq!(violations(&parts), [(rule, at)]);
    }
}

/// A conversation that echoes each answer back: user, model (the answer, possibly as several
/// consecutive model contents, the way SDKs replay a streamed turn), ..., user.
fn history() -> impl Strategy<Value = GenerateContentRequest> {
    let turn = (answer(), prop::collection::vec(any::<Index>(), 0..3));
    prop::collection::vec(turn, 1..4).prop_map(|turns| {
        let user = |n: usize| {
            Content::new()
                .with_role("user")
                .with_parts([Part::new().with_text(format!("Turn {n}"))])
        };
        let mut contents = Vec::new();
        for (n, (parts, cuts)) in turns.into_iter().enumerate() {
            contents.push(user(n));
            let mut cuts: Vec<usize> = cuts
                .iter()
                .map(|c| c.index(parts.len()))
                .filter(|&c| c > 0)
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            cuts.push(parts.len());
            let mut start = 0;
            for cut in cuts {
                contents.push(
                    Content::new()
                        .with_role("model")
                        .with_parts(parts[start..cut].to_vec()),
                );
                start = cut;
            }
        }
        contents.push(user(99));
        GenerateContentRequest::new().with_contents(contents)
    })
}

/// `(content, part)` of every signed part of a history.
fn signed_parts(request: &GenerateContentRequest) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (c, content) in request.contents.iter().enumerate() {
        for (p, part) in content.parts.iter().enumerate() {
            if part.thought_signature.is_some() {
                out.push((c, p));
            }
        }
    }
    out
}

/// Rewrites every `thoughtSignature` of a JSON body with `rewrite`.
fn rewrite_signatures(value: &mut Value, rewrite: &dyn Fn(&str) -> String) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(text) if key == "thoughtSignature" => *text = rewrite(text),
                    _ => rewrite_signatures(item, rewrite),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_signatures(item, rewrite)),
        _ => {}
    }
}

proptest! {
    #[test]
    fn echoed_histories_validate_for_every_model(request in history()) {
        for model in MODELS {
            let report = validate_request(model, &request);
            prop_assert!(report.is_clean(), "{}", report);
        }
        // python-genai sends signatures back URL-safe and unpadded: still fine.
        let mut json = serde_json::to_value(&request).unwrap();
        rewrite_signatures(&mut json, &|s| s.replace('+', "-").replace('/', "_").trim_end_matches('=').to_owned());
        let report = validate_request_json(MODELS[0], &json);
        prop_assert!(report.is_clean(), "{}", report);
    }

    #[test]
    fn a_stripped_signature_in_a_history_is_caught(mut request in history(), pick in any::<Index>()) {
        let signed = signed_parts(&request);
        let (c, p) = signed[pick.index(signed.len())];
        request.contents[c].parts[p].thought_signature = None;
        let label = if request.contents[c].parts[p].inline_data.is_some() { "Image" } else { "Text" };
        for (model, severity) in [(MODELS[0], Severity::Error), (MODELS[1], Severity::Error), (MODELS[2], Severity::Warning)] {
            let report = validate_request(model, &request);
            let found: Vec<_> = report.violations().iter().map(|v| (v.rule(), v.severity(), v.path(), v.message())).collect();
            let path = format!("/contents/{c}/parts/{p}");
            let message = format!("{label} part is missing a thought_signature in content position {}, part position {}.", c + 1, p + 1);
            prop_assert_eq!(found, [(Rule::SignatureCirculation, severity, path.as_str(), message.as_str())]);
        }
    }

    #[test]
    fn a_corrupted_signature_in_a_history_is_caught(request in history(), pick in any::<Index>()) {
        let signed = signed_parts(&request);
        let (c, p) = signed[pick.index(signed.len())];
        let mut json = serde_json::to_value(&request).unwrap();
        json["contents"][c]["parts"][p]["thoughtSignature"] = Value::String("*not base64*".to_owned());
        prop_assert!(serde_json::from_value::<GenerateContentRequest>(json.clone()).is_err());
        for model in MODELS {
            let report = validate_request_json(model, &json);
            let found: Vec<_> = report.violations().iter().map(|v| (v.rule(), v.path().to_owned(), v.message())).collect();
            let path = format!("/contents/{c}/parts/{p}/thoughtSignature");
            prop_assert_eq!(found, [(Rule::SignatureBase64, path, "Corrupted thought signature.")]);
        }
    }

    #[test]
    fn altered_signature_bytes_cannot_be_told_apart_without_the_servers_keys(mut request in history(), pick in any::<Index>()) {
        // A limitation, stated as a test: only the service can verify a signature's bytes.
        let signed = signed_parts(&request);
        let (c, p) = signed[pick.index(signed.len())];
        request.contents[c].parts[p].thought_signature = Some(Base64Bytes::new(b"forged".to_vec()));
        prop_assert!(validate_request(MODELS[0], &request).is_clean());
    }
}

#[test]
fn the_violations_of_an_answer_missing_its_signatures() {
    // The guide's macaron answer (SPEC.md §6: three thought images) with every signature moved
    // to the wrong place.
    let image = || part(Kind::Image);
    let signature = || Base64Bytes::new(b"sig".to_vec());
    let parts = [
        image().with_thought(true),
        image().with_thought(true),
        image()
            .with_thought(true)
            .with_thought_signature(signature()),
        Part::new().with_text("Here is a step-by-step guide to baking macarons."),
        image(),
        Part::new()
            .with_text("Step 2: baking.")
            .with_thought_signature(signature()),
        image().with_thought_signature(signature()),
        Part::new().with_text("Step 3: assembling."),
        image(),
    ];
    let report: Vec<String> = signature_violations(&parts)
        .map(|v| v.to_string())
        .collect();
    insta::assert_snapshot!("answer_missing_signatures", report.join("\n"));
    let split = split_parts(&parts);
    assert_eq!(
        (
            split.thought_images().len(),
            split.interim_images().len(),
            split.final_images().len()
        ),
        (3, 2, 3)
    );
    assert_eq!(split.texts().len(), 3);
}
