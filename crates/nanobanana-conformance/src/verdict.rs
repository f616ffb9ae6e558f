//! Comparing what was observed with what a case expects, at two levels: exactly (a client
//! served the recorded answers must see exactly what they hold) or as a server is held to it (a
//! correct server, live or fake, may answer with other images, texts and queries, but not with
//! another status, error, outcome, pixel size, signature placement or grounding shape).

use std::collections::BTreeSet;

use crate::observe::{Observation, abbreviate};
use crate::suite::{
    Conclusion, ErrorFacts, Expect, GroundingFacts, ImageFacts, ImageKind, SignatureFinding,
};

/// How strictly an observation is held to the expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Every fact equal: status, outcome, finish reason, error, the images in order with their
    /// sizes and formats, the signature findings, the grounding facts, the batch state.
    Exact,
    /// As a server is held to a case: the same status, error (code, status and message), outcome
    /// and finish reason; final images present exactly when expected, each of an expected pixel
    /// size and format; no thought images unless the expected answer has thoughts; the signature
    /// rules broken exactly when expected; where grounding is expected, chunks of each source,
    /// the entry point and search queries present exactly as expected; the same batch state; a
    /// resource with every top-level field of the recorded one.
    Server,
}

/// The facts one interaction's answer must show.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    /// HTTP status.
    pub status: u16,
    /// The outcome.
    pub outcome: Conclusion,
    /// Candidate 0's finish reason, when the expectation names one.
    pub finish_reason: Option<String>,
    /// The error.
    pub error: Option<ErrorFacts>,
    /// The images in order.
    pub images: Vec<ImageFacts>,
    /// Broken signature rules (interaction not set).
    pub signature_violations: Vec<SignatureFinding>,
    /// Whether the answer holds thought parts.
    pub thoughts: bool,
    /// Grounding facts.
    pub grounding: Option<GroundingFacts>,
    /// Batch state.
    pub batch_state: Option<String>,
    /// Top-level fields of a resource answer.
    pub resource_fields: Vec<String>,
}

impl Expected {
    /// The facts of a recorded answer (for every interaction but the last).
    pub fn from_observation(recorded: &Observation) -> Self {
        Self {
            status: recorded.status,
            outcome: recorded.outcome,
            finish_reason: recorded.finish_reason.clone(),
            error: recorded.error.clone(),
            images: recorded.images.clone(),
            signature_violations: recorded.signature_violations.clone(),
            thoughts: recorded.thoughts,
            grounding: recorded.grounding.clone(),
            batch_state: recorded.batch_state.clone(),
            resource_fields: recorded.resource_fields.clone(),
        }
    }

    /// The facts of the last interaction (`index`), from the case's `expect` block; what the block
    /// does not state comes from the recorded answer.
    pub fn from_expect(expect: &Expect, index: usize, recorded: &Observation) -> Self {
        let signature_violations = match &expect.signatures {
            Some(verdict) => verdict
                .violations
                .iter()
                .filter(|v| v.interaction.unwrap_or(0) == index)
                .map(|v| SignatureFinding {
                    interaction: None,
                    ..v.clone()
                })
                .collect(),
            None => recorded.signature_violations.clone(),
        };
        Self {
            status: expect.status.unwrap_or(recorded.status),
            outcome: expect.outcome.unwrap_or(recorded.outcome),
            finish_reason: expect.finish_reason.clone(),
            // An Interactions API vector's block states the status only (fixtures/README.md);
            // the rest comes from its recorded answer. A case's block always states the error
            // and images its last answer has, so the fallbacks change nothing for the cases.
            error: expect.error.clone().or_else(|| recorded.error.clone()),
            images: if expect.images.is_empty() {
                recorded.images.clone()
            } else {
                expect.images.clone()
            },
            signature_violations,
            thoughts: recorded.thoughts,
            grounding: expect.grounding.clone(),
            batch_state: expect.batch_state.clone(),
            resource_fields: recorded.resource_fields.clone(),
        }
    }
}

/// What is wrong with `actual` against `expected`; empty when it conforms. A status that differs
/// is reported alone (the rest would only restate it).
pub fn compare(expected: &Expected, actual: &Observation, level: Level) -> Vec<String> {
    let mut out: Vec<String> = actual.problems.clone();
    if actual.status != expected.status {
        let mut line = format!("status {}, expected {}", actual.status, expected.status);
        if let Some(error) = &actual.error {
            line.push_str(&format!(": {}", describe_error(error)));
        }
        out.push(line);
        return out;
    }
    compare_error(expected.error.as_ref(), actual.error.as_ref(), &mut out);
    if actual.outcome != expected.outcome {
        out.push(format!(
            "outcome {}, expected {}",
            actual.outcome, expected.outcome
        ));
    }
    if let Some(want) = &expected.finish_reason
        && actual.finish_reason.as_ref() != Some(want)
    {
        out.push(format!(
            "finishReason {}, expected {want}",
            actual.finish_reason.as_deref().unwrap_or("(none)")
        ));
    }
    match level {
        Level::Exact => compare_images_exactly(&expected.images, &actual.images, &mut out),
        Level::Server => compare_images_as_server(expected, &actual.images, &mut out),
    }
    let want: BTreeSet<(&str, usize)> = expected
        .signature_violations
        .iter()
        .map(|f| (f.rule.as_str(), f.part))
        .collect();
    let got: BTreeSet<(&str, usize)> = actual
        .signature_violations
        .iter()
        .map(|f| (f.rule.as_str(), f.part))
        .collect();
    let signatures_differ = match level {
        Level::Exact => want != got,
        Level::Server => want.is_empty() != got.is_empty(),
    };
    if signatures_differ {
        out.push(format!(
            "signature rules (SPEC.md §4) broken: {}, expected {}",
            list_findings(&got),
            list_findings(&want)
        ));
    }
    compare_grounding(
        expected.grounding.as_ref(),
        actual.grounding.as_ref(),
        level,
        &mut out,
    );
    if let Some(want) = &expected.batch_state
        && actual.batch_state.as_ref() != Some(want)
    {
        out.push(format!(
            "batch state {}, expected {want}",
            actual.batch_state.as_deref().unwrap_or("(none)")
        ));
    }
    if level == Level::Server && expected.outcome == Conclusion::Resource {
        let missing: Vec<&str> = expected
            .resource_fields
            .iter()
            .filter(|f| f.as_str() != "nextPageToken" && !actual.resource_fields.contains(f))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            out.push(format!("answer lacks the fields {}", missing.join(", ")));
        }
    }
    out
}

fn describe_error(error: &ErrorFacts) -> String {
    format!(
        "{} {} {:?}",
        error.code.map(|c| c.to_string()).unwrap_or_default(),
        error.status.as_deref().unwrap_or(""),
        abbreviate(error.message.as_deref().unwrap_or(""), 1200)
    )
}

fn compare_error(want: Option<&ErrorFacts>, got: Option<&ErrorFacts>, out: &mut Vec<String>) {
    match (want, got) {
        (None, None) => {}
        (Some(want), None) => {
            out.push(format!("no error, expected error {}", describe_error(want)))
        }
        (None, Some(got)) => out.push(format!("unexpected error {}", describe_error(got))),
        (Some(want), Some(got)) => {
            if want.code.is_some() && want.code != got.code {
                out.push(format!(
                    "error code {:?}, expected {:?}",
                    got.code, want.code
                ));
            }
            if want.status.is_some() && want.status != got.status {
                out.push(format!(
                    "error status {}, expected {}",
                    got.status.as_deref().unwrap_or("(none)"),
                    want.status.as_deref().unwrap_or("")
                ));
            }
            if want.message.is_some() && want.message != got.message {
                out.push(format!(
                    "error message {:?}, expected {:?}",
                    got.message.as_deref().unwrap_or(""),
                    want.message.as_deref().unwrap_or("")
                ));
            }
        }
    }
}

fn list_images(images: &[ImageFacts]) -> String {
    if images.is_empty() {
        return "none".to_owned();
    }
    images
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_findings(findings: &BTreeSet<(&str, usize)>) -> String {
    if findings.is_empty() {
        return "none".to_owned();
    }
    findings
        .iter()
        .map(|(rule, part)| format!("{rule} at part {part}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn compare_images_exactly(want: &[ImageFacts], got: &[ImageFacts], out: &mut Vec<String>) {
    if want != got {
        out.push(format!(
            "images [{}], expected [{}]",
            list_images(got),
            list_images(want)
        ));
    }
}

fn compare_images_as_server(expected: &Expected, got: &[ImageFacts], out: &mut Vec<String>) {
    let want = expected.images.as_slice();
    let finals = |images: &[ImageFacts]| -> Vec<ImageFacts> {
        images
            .iter()
            .filter(|i| i.kind == ImageKind::Final)
            .cloned()
            .collect()
    };
    let (want_final, got_final) = (finals(want), finals(got));
    if want_final.is_empty() != got_final.is_empty() {
        out.push(format!(
            "final images [{}], expected [{}]",
            list_images(&got_final),
            list_images(&want_final)
        ));
    } else {
        let sizes: BTreeSet<(u32, u32)> = want_final.iter().map(|i| (i.width, i.height)).collect();
        let formats: BTreeSet<Option<&str>> =
            want_final.iter().map(|i| i.mime_type.as_deref()).collect();
        for image in &got_final {
            if !sizes.contains(&(image.width, image.height)) {
                out.push(format!(
                    "final image of {}x{}, expected {}",
                    image.width,
                    image.height,
                    sizes
                        .iter()
                        .map(|(w, h)| format!("{w}x{h}"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ));
            }
            if !formats.contains(&None) && !formats.contains(&image.mime_type.as_deref()) {
                out.push(format!(
                    "final image in {}, expected {}",
                    image.mime_type.as_deref().unwrap_or("an unknown format"),
                    formats
                        .iter()
                        .flatten()
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" or ")
                ));
            }
        }
    }
    // Thought images come with thoughts; whether a thinking model draws one is its choice.
    let thoughts = |images: &[ImageFacts]| images.iter().any(|i| i.kind == ImageKind::Thought);
    if !expected.thoughts && !thoughts(want) && thoughts(got) {
        out.push(format!(
            "thought images [{}], expected none",
            list_images(
                &got.iter()
                    .filter(|i| i.kind == ImageKind::Thought)
                    .cloned()
                    .collect::<Vec<_>>()
            )
        ));
    }
}

fn compare_grounding(
    want: Option<&GroundingFacts>,
    got: Option<&GroundingFacts>,
    level: Level,
    out: &mut Vec<String>,
) {
    match (want, got) {
        (None, None) => {}
        (Some(_), None) => out.push("no groundingMetadata, expected one".to_owned()),
        // A server may ground an answer the recording did not (a search tool does not oblige
        // the model to search, nor forbid it).
        (None, Some(_)) if level == Level::Server => {}
        (None, Some(_)) => out.push("groundingMetadata, expected none".to_owned()),
        (Some(want), Some(got)) => match level {
            Level::Exact => {
                if want != got {
                    out.push(format!("grounding {got:?}, expected {want:?}"));
                }
            }
            Level::Server => {
                let shape = |g: &GroundingFacts| {
                    [
                        ("web chunks", g.web_chunks > 0),
                        ("image chunks", g.image_chunks > 0),
                        ("searchEntryPoint", g.search_entry_point),
                        ("webSearchQueries", !g.web_search_queries.is_empty()),
                        ("imageSearchQueries", !g.image_search_queries.is_empty()),
                    ]
                };
                for ((name, w), (_, g)) in shape(want).into_iter().zip(shape(got)) {
                    if w != g {
                        out.push(format!(
                            "grounding {name} {}, expected {}",
                            if g { "present" } else { "absent" },
                            if w { "present" } else { "absent" }
                        ));
                    }
                }
            }
        },
    }
}
