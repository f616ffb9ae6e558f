//! What an answer amounts to (WIRE.md "Response details"): images, text only, or one of the
//! ways the service declines, each a distinct variant a caller can match on ([`Outcome`]), and
//! its name alone ([`OutcomeKind`]: what the fake server is asked to answer with, and what the
//! conformance cases expect).
//!
//! The classification is a documented rule, so it lives here, shared by the client
//! (`nanobanana_workflows::Outcome` re-exports it) and the fake server.

use std::fmt;

use nanobanana_wire::{BlockReason, FinishReason, GenerateContentResponse};

/// What the service answered, classified from the first candidate (or its absence).
///
/// ```
/// use nanobanana_rules::outcome::{Outcome, OutcomeKind};
/// use nanobanana_wire::GenerateContentResponse;
///
/// let body = br#"{"candidates": [{"content": {}, "finishReason": "NO_IMAGE", "index": 0}]}"#;
/// let response: GenerateContentResponse = serde_json::from_slice(body)?;
/// match Outcome::of(&response) {
///     Outcome::NoImage { .. } => { /* ask again, rephrased */ }
///     other => panic!("{other}"),
/// }
/// assert_eq!(Outcome::of(&response).kind(), OutcomeKind::NoImage);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// At least one final (non-thought) image.
    Images,
    /// Text and no image: the model answered in words (to an image request: it declined to draw,
    /// or explained why). The text is in `Generation::text`.
    TextOnly,
    /// `finishReason: NO_IMAGE`: the model made no image.
    NoImage {
        /// The candidate's `finishMessage`, if any.
        message: Option<String>,
    },
    /// `finishReason: IMAGE_SAFETY`: the image was withheld by the safety filters.
    ImageSafety {
        /// The candidate's `finishMessage`, if any.
        message: Option<String>,
    },
    /// `finishReason: IMAGE_PROHIBITED_CONTENT`: the image was withheld as prohibited content.
    ImageProhibitedContent {
        /// The candidate's `finishMessage`, if any.
        message: Option<String>,
    },
    /// `finishReason: IMAGE_RECITATION`: the image was withheld as too close to existing work.
    ImageRecitation {
        /// The candidate's `finishMessage`, if any.
        message: Option<String>,
    },
    /// No candidates at all: the prompt itself was blocked (`promptFeedback.blockReason`).
    BlockedPrompt {
        /// Why (`SAFETY`, `OTHER`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `IMAGE_SAFETY`, ...).
        reason: BlockReason,
        /// `promptFeedback.blockReasonMessage`, if any.
        message: Option<String>,
    },
    /// `finishReason: MISSING_THOUGHT_SIGNATURE`: a model turn sent back lacks its thought
    /// signature; the 200 answer the service may give instead of a 400 (SERVICE-2026.md §4).
    /// Send the model turns back exactly as received.
    MissingThoughtSignature {
        /// The candidate's `finishMessage`, if any.
        message: Option<String>,
    },
    /// The candidate ended with another reason (`SAFETY`, `PROHIBITED_CONTENT`, `IMAGE_OTHER`,
    /// `MAX_TOKENS`, `OTHER`, a value this crate does not know, ...) and holds no image (any
    /// text it holds was cut short; `Generation::text` still has it).
    Stopped {
        /// The finish reason.
        reason: FinishReason,
        /// The candidate's `finishMessage`, if any.
        message: Option<String>,
    },
    /// Nothing: no candidate and no block reason, or a candidate without image or text and
    /// with no finish reason that explains it.
    Empty,
}

impl Outcome {
    /// Classifies an answer by its first candidate: images win; then the image finish reasons
    /// (`NO_IMAGE`, `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`, `IMAGE_RECITATION`) and
    /// `MISSING_THOUGHT_SIGNATURE`; then text
    /// that ended normally (`STOP`, or no reason); then any other finish reason (text cut short
    /// by `SAFETY` or `MAX_TOKENS` is [`Outcome::Stopped`]); a response without candidates is a
    /// blocked prompt when it says so.
    pub fn of(response: &GenerateContentResponse) -> Outcome {
        let Some(candidate) = response.candidates.first() else {
            return match response
                .prompt_feedback
                .as_ref()
                .and_then(|feedback| feedback.block_reason.clone().map(|r| (r, feedback)))
            {
                Some((reason, feedback)) => Outcome::BlockedPrompt {
                    reason,
                    message: feedback.block_reason_message.clone(),
                },
                None => Outcome::Empty,
            };
        };
        let parts = candidate
            .content
            .as_ref()
            .map(|c| c.parts.as_slice())
            .unwrap_or_default();
        let has_image = parts
            .iter()
            .any(|p| !p.is_thought() && p.inline_data.is_some());
        if has_image {
            return Outcome::Images;
        }
        let message = candidate.finish_message.clone();
        match &candidate.finish_reason {
            Some(FinishReason::NoImage) => return Outcome::NoImage { message },
            Some(FinishReason::ImageSafety) => return Outcome::ImageSafety { message },
            Some(FinishReason::ImageProhibitedContent) => {
                return Outcome::ImageProhibitedContent { message };
            }
            Some(FinishReason::ImageRecitation) => return Outcome::ImageRecitation { message },
            Some(FinishReason::MissingThoughtSignature) => {
                return Outcome::MissingThoughtSignature { message };
            }
            _ => {}
        }
        let has_text = parts
            .iter()
            .any(|p| !p.is_thought() && p.text.as_deref().is_some_and(|t| !t.is_empty()));
        match &candidate.finish_reason {
            None | Some(FinishReason::Stop | FinishReason::FinishReasonUnspecified) if has_text => {
                Outcome::TextOnly
            }
            None | Some(FinishReason::Stop | FinishReason::FinishReasonUnspecified) => {
                Outcome::Empty
            }
            // Text cut short by a filter or a limit is not an answer to keep.
            Some(reason) => Outcome::Stopped {
                reason: reason.clone(),
                message,
            },
        }
    }

    /// Whether the answer holds final images.
    pub fn has_images(&self) -> bool {
        matches!(self, Outcome::Images)
    }

    /// Whether the answer holds model content a conversation can continue from (images or
    /// text): what a chat turn needs to be kept.
    pub fn is_usable(&self) -> bool {
        matches!(self, Outcome::Images | Outcome::TextOnly)
    }

    /// What kind of outcome this is, without its details.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Images => OutcomeKind::Images,
            Outcome::TextOnly => OutcomeKind::TextOnly,
            Outcome::NoImage { .. } => OutcomeKind::NoImage,
            Outcome::ImageSafety { .. } => OutcomeKind::ImageSafety,
            Outcome::ImageProhibitedContent { .. } => OutcomeKind::ImageProhibitedContent,
            Outcome::ImageRecitation { .. } => OutcomeKind::ImageRecitation,
            Outcome::BlockedPrompt { .. } => OutcomeKind::BlockedPrompt,
            Outcome::MissingThoughtSignature { .. } => OutcomeKind::MissingThoughtSignature,
            Outcome::Stopped { .. } => OutcomeKind::Stopped,
            Outcome::Empty => OutcomeKind::Empty,
        }
    }

    /// A stable short name: [`OutcomeKind::as_str`] of its [`kind`](Self::kind).
    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// The kind of an [`Outcome`], without its details: a value to name, compare, store or ask for
/// (the fake server's `outcome=` fault takes one).
///
/// ```
/// use nanobanana_rules::outcome::OutcomeKind;
///
/// assert_eq!(OutcomeKind::from_name("no-image"), Some(OutcomeKind::NoImage));
/// assert_eq!(OutcomeKind::ImageProhibitedContent.as_str(), "image-prohibited-content");
/// assert!(OutcomeKind::ALL.iter().all(|k| OutcomeKind::from_name(k.as_str()) == Some(*k)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OutcomeKind {
    /// [`Outcome::Images`].
    Images,
    /// [`Outcome::TextOnly`].
    TextOnly,
    /// [`Outcome::NoImage`].
    NoImage,
    /// [`Outcome::ImageSafety`].
    ImageSafety,
    /// [`Outcome::ImageProhibitedContent`].
    ImageProhibitedContent,
    /// [`Outcome::ImageRecitation`].
    ImageRecitation,
    /// [`Outcome::BlockedPrompt`].
    BlockedPrompt,
    /// [`Outcome::MissingThoughtSignature`].
    MissingThoughtSignature,
    /// [`Outcome::Stopped`].
    Stopped,
    /// [`Outcome::Empty`].
    Empty,
}

impl OutcomeKind {
    /// Every kind.
    pub const ALL: &'static [OutcomeKind] = &[
        OutcomeKind::Images,
        OutcomeKind::TextOnly,
        OutcomeKind::NoImage,
        OutcomeKind::ImageSafety,
        OutcomeKind::ImageProhibitedContent,
        OutcomeKind::ImageRecitation,
        OutcomeKind::BlockedPrompt,
        OutcomeKind::MissingThoughtSignature,
        OutcomeKind::Stopped,
        OutcomeKind::Empty,
    ];

    /// The stable short name: `images`, `text-only`, `no-image`, `image-safety`,
    /// `image-prohibited-content`, `image-recitation`, `blocked-prompt`,
    /// `missing-thought-signature`, `stopped`, `empty`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Images => "images",
            OutcomeKind::TextOnly => "text-only",
            OutcomeKind::NoImage => "no-image",
            OutcomeKind::ImageSafety => "image-safety",
            OutcomeKind::ImageProhibitedContent => "image-prohibited-content",
            OutcomeKind::ImageRecitation => "image-recitation",
            OutcomeKind::BlockedPrompt => "blocked-prompt",
            OutcomeKind::MissingThoughtSignature => "missing-thought-signature",
            OutcomeKind::Stopped => "stopped",
            OutcomeKind::Empty => "empty",
        }
    }

    /// The kind of a short name ([`as_str`](Self::as_str)'s spelling, exactly).
    pub fn from_name(name: &str) -> Option<OutcomeKind> {
        OutcomeKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == name)
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Outcome {
    /// One sentence, e.g. `no image was made (finishReason NO_IMAGE)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = match self {
            Outcome::Images => return f.write_str("images"),
            Outcome::TextOnly => return f.write_str("a text-only answer (no image)"),
            Outcome::Empty => {
                return f.write_str("an empty answer (no candidate, no image and no text)");
            }
            Outcome::NoImage { message } => {
                f.write_str("no image was made (finishReason NO_IMAGE)")?;
                message
            }
            Outcome::ImageSafety { message } => {
                f.write_str(
                    "the image was withheld by the safety filters (finishReason IMAGE_SAFETY)",
                )?;
                message
            }
            Outcome::ImageProhibitedContent { message } => {
                f.write_str(
                    "the image was withheld as prohibited content (finishReason IMAGE_PROHIBITED_CONTENT)",
                )?;
                message
            }
            Outcome::ImageRecitation { message } => {
                f.write_str(
                    "the image was withheld as recitation (finishReason IMAGE_RECITATION)",
                )?;
                message
            }
            Outcome::BlockedPrompt { reason, message } => {
                write!(
                    f,
                    "the prompt was blocked (promptFeedback.blockReason {})",
                    reason.as_str()
                )?;
                message
            }
            Outcome::MissingThoughtSignature { message } => {
                f.write_str(
                    "the answer stopped without an image (finishReason MISSING_THOUGHT_SIGNATURE)",
                )?;
                message
            }
            // Any text it holds was cut short; an image it never holds (images win).
            Outcome::Stopped { reason, message } => {
                write!(
                    f,
                    "the answer stopped without an image (finishReason {})",
                    reason.as_str()
                )?;
                message
            }
        };
        if let Some(message) = message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(body: &str) -> Outcome {
        Outcome::of(&serde_json::from_str(body).unwrap())
    }

    /// WIRE.md "Response details": every finish reason that matters for images, and a blocked
    /// prompt, is its own outcome.
    #[test]
    fn each_finish_reason_is_its_own_outcome() {
        let cases = [
            (
                r#"{"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"AA=="},"thoughtSignature":"AA=="}]},"finishReason":"STOP"}]}"#,
                "images",
            ),
            (
                r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"I can't draw that.","thoughtSignature":"AA=="}]},"finishReason":"STOP"}]}"#,
                "text-only",
            ),
            (
                r#"{"candidates":[{"content":{},"finishReason":"NO_IMAGE"}]}"#,
                "no-image",
            ),
            (
                r#"{"candidates":[{"finishReason":"IMAGE_SAFETY"}]}"#,
                "image-safety",
            ),
            (
                r#"{"candidates":[{"content":{"role":"model"},"finishReason":"IMAGE_PROHIBITED_CONTENT","finishMessage":"filtered"}]}"#,
                "image-prohibited-content",
            ),
            (
                r#"{"candidates":[{"content":{"role":"model"},"finishReason":"IMAGE_RECITATION"}]}"#,
                "image-recitation",
            ),
            (
                r#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}"#,
                "blocked-prompt",
            ),
            (r#"{"candidates":[{"finishReason":"SAFETY"}]}"#, "stopped"),
            (
                r#"{"candidates":[{"finishReason":"MISSING_THOUGHT_SIGNATURE","finishMessage":"Request has at least one thought signature missing."}]}"#,
                "missing-thought-signature",
            ),
            (
                r#"{"candidates":[{"finishReason":"SOMETHING_NEW"}]}"#,
                "stopped",
            ),
            (
                r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Once upon"}]},"finishReason":"MAX_TOKENS"}]}"#,
                "stopped",
            ),
            (r#"{}"#, "empty"),
            (
                r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"thinking","thought":true}]},"finishReason":"STOP"}]}"#,
                "empty",
            ),
        ];
        for (body, name) in cases {
            assert_eq!(outcome(body).name(), name, "{body}");
            assert_eq!(OutcomeKind::from_name(name), Some(outcome(body).kind()));
        }
        // Every kind is reached by one of the cases.
        for kind in OutcomeKind::ALL {
            assert!(
                cases.iter().any(|(body, _)| outcome(body).kind() == *kind),
                "{kind}"
            );
        }
        assert_eq!(
            outcome(cases[4].0).to_string(),
            "the image was withheld as prohibited content (finishReason IMAGE_PROHIBITED_CONTENT): filtered"
        );
        assert_eq!(
            outcome(cases[6].0).to_string(),
            "the prompt was blocked (promptFeedback.blockReason PROHIBITED_CONTENT)"
        );
        // Text cut short by MAX_TOKENS: the answer has text, so the sentence does not deny it.
        assert_eq!(
            outcome(cases[10].0).to_string(),
            "the answer stopped without an image (finishReason MAX_TOKENS)"
        );
        assert!(outcome(cases[0].0).is_usable() && outcome(cases[1].0).is_usable());
        assert!(!outcome(cases[2].0).is_usable());
        // The sentence of a missing signature is the one it had as a `Stopped` outcome.
        assert_eq!(
            outcome(cases[8].0).to_string(),
            "the answer stopped without an image (finishReason MISSING_THOUGHT_SIGNATURE): \
             Request has at least one thought signature missing."
        );
        assert_eq!(OutcomeKind::from_name("image-prohibited"), None);
    }
}
