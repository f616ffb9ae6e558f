//! The rules of a model answer (SPEC.md §3, §4): where thought signatures must and must not be,
//! and which images are thoughts and which are final.
//!
//! The signature checker borrows the parts and allocates nothing: [`signature_violations`] is an
//! iterator adapter over any iterator of parts, so the parts of one answer, of one candidate of a
//! stream's events ([`stream_parts`]) or of a replayed model turn are checked the same way.
//! Positions are 0-based positions in that sequence of parts.
//!
//! An unsigned image that is also the first non-thought part breaks two rules and is reported
//! twice, `response-image-signed` then `response-first-part-signed`, at the same position.

use std::fmt;

use nanobanana_wire::{Blob, GenerateContentResponse, Part};

use crate::report::Rule;

/// A broken signature rule of an answer, at a 0-based part position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignatureViolation {
    rule: Rule,
    part: usize,
}

impl SignatureViolation {
    /// One of `response-image-signed`, `response-first-part-signed`,
    /// `response-thought-unsigned`, `response-later-text-unsigned`.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The 0-based position of the part.
    pub fn part(&self) -> usize {
        self.part
    }

    /// What is wrong, in words.
    pub fn message(&self) -> &'static str {
        match self.rule {
            Rule::ResponseImageSigned => "a non-thought image part carries no thoughtSignature",
            Rule::ResponseFirstPartSigned => {
                "the first non-thought part carries no thoughtSignature"
            }
            Rule::ResponseThoughtUnsigned => "a thought part carries a thoughtSignature",
            _ => "a non-thought text part after the first carries a thoughtSignature",
        }
    }
}

impl fmt::Display for SignatureViolation {
    /// `response-image-signed at part 2: a non-thought image part carries no thoughtSignature`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at part {}: {}", self.rule, self.part, self.message())
    }
}

/// The signature violations of a sequence of answer parts, lazily (see [`signature_violations`]).
#[derive(Clone, Debug)]
pub struct SignatureViolations<I> {
    parts: I,
    index: usize,
    seen_non_thought: bool,
    /// The second violation of a part that breaks two rules.
    pending: Option<SignatureViolation>,
}

/// Checks SPEC.md §4 on the parts of one model answer, in order:
///
/// 1. every non-thought `inlineData` part is signed (`response-image-signed`);
/// 2. the first non-thought part is signed (`response-first-part-signed`);
/// 3. thought parts are not signed (`response-thought-unsigned`);
/// 4. non-thought text parts after the first are not signed (`response-later-text-unsigned`).
///
/// ```
/// use nanobanana_rules::{response::signature_violations, Rule};
/// use nanobanana_wire::{Base64Bytes, Blob, Part};
///
/// let image = || Blob::new().with_mime_type("image/png").with_data(Base64Bytes::new(vec![1, 2]));
/// let parts = [
///     Part::new().with_inline_data(image()).with_thought(true),
///     Part::new().with_text("Here you go").with_thought_signature(Base64Bytes::new(b"sig".to_vec())),
///     Part::new().with_inline_data(image()),
/// ];
/// let violations: Vec<_> = signature_violations(&parts).collect();
/// assert_eq!(violations.len(), 1);
/// assert_eq!((violations[0].rule(), violations[0].part()), (Rule::ResponseImageSigned, 2));
/// ```
pub fn signature_violations<'a, I>(parts: I) -> SignatureViolations<I::IntoIter>
where
    I: IntoIterator<Item = &'a Part>,
{
    SignatureViolations {
        parts: parts.into_iter(),
        index: 0,
        seen_non_thought: false,
        pending: None,
    }
}

impl<'a, I: Iterator<Item = &'a Part>> Iterator for SignatureViolations<I> {
    type Item = SignatureViolation;

    fn next(&mut self) -> Option<SignatureViolation> {
        if let Some(pending) = self.pending.take() {
            return Some(pending);
        }
        for part in self.parts.by_ref() {
            let index = self.index;
            self.index += 1;
            let (first, second) = part_violations(part, &mut self.seen_non_thought);
            let at = |rule| SignatureViolation { rule, part: index };
            self.pending = second.map(at);
            if let Some(rule) = first {
                return Some(at(rule));
            }
        }
        None
    }
}

/// The rules one part breaks (at most two: an unsigned first image breaks rules 1 and 2).
fn part_violations(part: &Part, seen_non_thought: &mut bool) -> (Option<Rule>, Option<Rule>) {
    let signed = part.thought_signature.is_some();
    if part.thought == Some(true) {
        return (signed.then_some(Rule::ResponseThoughtUnsigned), None);
    }
    let first = !std::mem::replace(seen_non_thought, true);
    let image = part.inline_data.is_some();
    match (signed, first, image) {
        (false, true, true) => (
            Some(Rule::ResponseImageSigned),
            Some(Rule::ResponseFirstPartSigned),
        ),
        (false, true, false) => (Some(Rule::ResponseFirstPartSigned), None),
        (false, false, true) => (Some(Rule::ResponseImageSigned), None),
        (true, false, false) if part.text.is_some() => {
            (Some(Rule::ResponseLaterTextUnsigned), None)
        }
        _ => (None, None),
    }
}

/// The parts of one candidate of an answer (by position in `candidates`); empty if there is no
/// such candidate or it has no content.
pub fn candidate_parts(
    response: &GenerateContentResponse,
    candidate: usize,
) -> impl Iterator<Item = &Part> {
    response
        .candidates
        .get(candidate)
        .and_then(|c| c.content.as_ref())
        .into_iter()
        .flat_map(|c| &c.parts)
}

/// The parts of one candidate across the events of a stream, in order: the whole answer, as the
/// signature rules see it.
pub fn stream_parts(
    events: &[GenerateContentResponse],
    candidate: usize,
) -> impl Iterator<Item = &Part> {
    events
        .iter()
        .flat_map(move |event| candidate_parts(event, candidate))
}

/// An image of an answer: its part position and its blob.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Image<'a> {
    part: usize,
    blob: &'a Blob,
}

impl<'a> Image<'a> {
    /// The 0-based position of the part.
    pub fn part(&self) -> usize {
        self.part
    }

    /// The MIME type, e.g. `image/png`.
    pub fn mime_type(&self) -> Option<&'a str> {
        self.blob.mime_type.as_deref()
    }

    /// The decoded bytes.
    pub fn data(&self) -> Option<&'a [u8]> {
        self.blob.data.as_ref().map(|data| data.as_slice())
    }

    /// The blob itself.
    pub fn blob(&self) -> &'a Blob {
        self.blob
    }
}

/// An answer split into thought images, final images and text (SPEC.md §3).
///
/// The model makes interim *thought images* to test a composition; the last image inside the
/// thinking is also the final rendered image, so with `includeThoughts` the final picture appears
/// twice: as the last thought image and as the signed final image. [`interim_images`] leaves it
/// out. No count is enforced: the guide says "up to two", but its own example has three thought
/// images (SPEC.md §6), and three must not be rejected.
///
/// [`interim_images`]: ResponseParts::interim_images
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseParts<'a> {
    thought_images: Vec<Image<'a>>,
    final_images: Vec<Image<'a>>,
    texts: Vec<&'a str>,
    thought_texts: Vec<&'a str>,
}

impl<'a> ResponseParts<'a> {
    /// Every thought image (`thought: true`), in order.
    pub fn thought_images(&self) -> &[Image<'a>] {
        &self.thought_images
    }

    /// The thought images that are not the final render: all but the last thought image, which
    /// is the final image itself.
    pub fn interim_images(&self) -> &[Image<'a>] {
        let len = self.thought_images.len().saturating_sub(1);
        &self.thought_images[..len]
    }

    /// The final (non-thought) images, in order.
    pub fn final_images(&self) -> &[Image<'a>] {
        &self.final_images
    }

    /// The non-thought text parts, in order (empty texts left out).
    pub fn texts(&self) -> &[&'a str] {
        &self.texts
    }

    /// The thought text parts (thought summaries), in order.
    pub fn thought_texts(&self) -> &[&'a str] {
        &self.thought_texts
    }

    /// The non-thought text, concatenated.
    pub fn text(&self) -> String {
        self.texts.concat()
    }
}

/// Splits the parts of an answer (or of a stream's candidate, see [`stream_parts`]) into
/// thought images, final images and text.
///
/// ```
/// use nanobanana_rules::response::split_parts;
/// use nanobanana_wire::{Blob, Part};
///
/// let image = || Blob::new().with_mime_type("image/png");
/// let parts = [
///     Part::new().with_inline_data(image()).with_thought(true),
///     Part::new().with_inline_data(image()).with_thought(true),
///     Part::new().with_text("Done."),
///     Part::new().with_inline_data(image()),
/// ];
/// let split = split_parts(&parts);
/// assert_eq!(split.thought_images().len(), 2);
/// assert_eq!(split.interim_images().len(), 1);
/// assert_eq!(split.final_images()[0].part(), 3);
/// assert_eq!(split.text(), "Done.");
/// ```
pub fn split_parts<'a>(parts: impl IntoIterator<Item = &'a Part>) -> ResponseParts<'a> {
    let mut split = ResponseParts::default();
    for (index, part) in parts.into_iter().enumerate() {
        let thought = part.thought == Some(true);
        if let Some(blob) = &part.inline_data {
            let image = Image { part: index, blob };
            if thought {
                split.thought_images.push(image);
            } else {
                split.final_images.push(image);
            }
        } else if let Some(text) = part.text.as_deref().filter(|text| !text.is_empty()) {
            if thought {
                split.thought_texts.push(text);
            } else {
                split.texts.push(text);
            }
        }
    }
    split
}
