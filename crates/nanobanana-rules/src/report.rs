//! Rule ids, severities, violations and the report that validation returns.
//!
//! Every [`Rule`] carries the stable id of the rule catalogue (`fixtures/rules.json`), so a client,
//! the fake server and the fixture corpus all name a broken rule the same way.

use std::fmt;

/// A rule of the catalogue (`fixtures/rules.json`) that this crate checks or describes.
///
/// [`Rule::id`] is the stable id; [`Display`](fmt::Display) prints it too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// `model-catalogue`: the model is one of the catalogue's image models (unknown ids only warn).
    ModelCatalogue,
    /// `model-lifecycle`: the model is served at the date checked: a shut-down or unreleased id
    /// is refused (the service answers 404), a deprecated or restricted one warns.
    ModelLifecycle,
    /// `part-data`: every part carries one data field (text, inline data, a file, ...).
    PartData,
    /// `inline-data-size`: inline data of one request within 100 MB.
    InlineDataSize,
    /// `search-supported`: Google Search grounding only on the models that offer it.
    SearchSupported,
    /// `unknown-request-field`: every field name of a request is one the service knows
    /// (camelCase or snake_case); the service rejects the whole request otherwise.
    UnknownRequestField,
    /// `image-size-casing`: `imageSize` takes an upper-case `K`.
    ImageSizeCasing,
    /// `image-size-supported`: `imageSize` is one the model supports.
    ImageSizeSupported,
    /// `image-size-not-configurable`: `gemini-2.5-flash-image` takes no `imageSize`.
    ImageSizeNotConfigurable,
    /// `aspect-ratio-supported`: `aspectRatio` is one the model supports.
    AspectRatioSupported,
    /// `thinking-level-supported`: `thinkingLevel` is one the model supports.
    ThinkingLevelSupported,
    /// `thinking-not-configurable`: no thinking config on 2.5 Flash; thinking cannot be disabled
    /// on the Gemini 3 models.
    ThinkingNotConfigurable,
    /// `response-modalities`: `responseModalities` holds `TEXT` and/or `IMAGE`.
    ResponseModalities,
    /// `input-image-count`: input images within the model's limit (or advice).
    InputImageCount,
    /// `input-modality`: inputs are text and images only.
    InputModality,
    /// `role-alternation`: contents alternate user and model turns, starting with user.
    RoleAlternation,
    /// `signature-circulation`: model turns sent back carry their thought signatures.
    SignatureCirculation,
    /// `signature-base64`: a thought signature is base64 (standard or URL-safe alphabet).
    SignatureBase64,
    /// `image-search-supported`: image search only on `gemini-3.1-flash-image-preview`.
    ImageSearchSupported,
    /// `response-format-image`: an Interactions API image `response_format` asks for
    /// `image/jpeg` and an `inline` or `uri` delivery.
    ResponseFormatImage,
    /// `response-image-signed`: every non-thought image part of a response is signed.
    ResponseImageSigned,
    /// `response-first-part-signed`: the first non-thought part of a response is signed.
    ResponseFirstPartSigned,
    /// `response-thought-unsigned`: thought parts carry no signature.
    ResponseThoughtUnsigned,
    /// `response-later-text-unsigned`: non-thought text parts after the first carry no signature.
    ResponseLaterTextUnsigned,
    /// `resolution-table`: output sizes and token counts follow the published table.
    ResolutionTable,
    /// `resolution-erratum-21x9-512`: the one published table entry that breaks the table's own
    /// rules, kept as published and flagged.
    ResolutionErratum21x9At512,
}

impl Rule {
    /// Every rule, in the catalogue's order.
    pub const ALL: &'static [Rule] = &[
        Rule::ModelCatalogue,
        Rule::ModelLifecycle,
        Rule::PartData,
        Rule::InlineDataSize,
        Rule::SearchSupported,
        Rule::UnknownRequestField,
        Rule::ImageSizeCasing,
        Rule::ImageSizeSupported,
        Rule::ImageSizeNotConfigurable,
        Rule::AspectRatioSupported,
        Rule::ThinkingLevelSupported,
        Rule::ThinkingNotConfigurable,
        Rule::ResponseModalities,
        Rule::InputImageCount,
        Rule::InputModality,
        Rule::RoleAlternation,
        Rule::SignatureCirculation,
        Rule::SignatureBase64,
        Rule::ImageSearchSupported,
        Rule::ResponseFormatImage,
        Rule::ResponseImageSigned,
        Rule::ResponseFirstPartSigned,
        Rule::ResponseThoughtUnsigned,
        Rule::ResponseLaterTextUnsigned,
        Rule::ResolutionTable,
        Rule::ResolutionErratum21x9At512,
    ];

    /// The stable id of `fixtures/rules.json`, e.g. `image-size-casing`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::ModelCatalogue => "model-catalogue",
            Rule::ModelLifecycle => "model-lifecycle",
            Rule::PartData => "part-data",
            Rule::InlineDataSize => "inline-data-size",
            Rule::SearchSupported => "search-supported",
            Rule::UnknownRequestField => "unknown-request-field",
            Rule::ImageSizeCasing => "image-size-casing",
            Rule::ImageSizeSupported => "image-size-supported",
            Rule::ImageSizeNotConfigurable => "image-size-not-configurable",
            Rule::AspectRatioSupported => "aspect-ratio-supported",
            Rule::ThinkingLevelSupported => "thinking-level-supported",
            Rule::ThinkingNotConfigurable => "thinking-not-configurable",
            Rule::ResponseModalities => "response-modalities",
            Rule::InputImageCount => "input-image-count",
            Rule::InputModality => "input-modality",
            Rule::RoleAlternation => "role-alternation",
            Rule::SignatureCirculation => "signature-circulation",
            Rule::SignatureBase64 => "signature-base64",
            Rule::ImageSearchSupported => "image-search-supported",
            Rule::ResponseFormatImage => "response-format-image",
            Rule::ResponseImageSigned => "response-image-signed",
            Rule::ResponseFirstPartSigned => "response-first-part-signed",
            Rule::ResponseThoughtUnsigned => "response-thought-unsigned",
            Rule::ResponseLaterTextUnsigned => "response-later-text-unsigned",
            Rule::ResolutionTable => "resolution-table",
            Rule::ResolutionErratum21x9At512 => "resolution-erratum-21x9-512",
        }
    }

    /// The rule with this stable id, if this crate knows it.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|rule| rule.id() == id)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// How bad a violation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The service rejects the request (400 `INVALID_ARGUMENT`).
    Error,
    /// The request goes through, but the caller should know (an unknown model, advice exceeded).
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One broken rule of a request: which rule, where, what was sent, what is allowed, and the
/// message the service answers with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    rule: Rule,
    severity: Severity,
    path: String,
    sent: String,
    allowed: String,
    message: String,
}

impl Violation {
    /// A violation at error level.
    pub(crate) fn error(
        rule: Rule,
        path: String,
        sent: impl Into<String>,
        allowed: impl Into<String>,
        message: String,
    ) -> Self {
        Self::new(
            rule,
            Severity::Error,
            path,
            sent.into(),
            allowed.into(),
            message,
        )
    }

    /// A violation at warning level.
    /// Changes the severity (a client may downgrade a refusal it was asked not to enforce).
    pub(crate) fn set_severity(&mut self, severity: Severity) {
        self.severity = severity;
    }

    /// The same violation at another place (the model travels in the body of an Interactions
    /// API request, in the path of a generateContent one).
    pub(crate) fn at_path(mut self, path: &str) -> Self {
        self.path = path.to_owned();
        self
    }

    pub(crate) fn warning(
        rule: Rule,
        path: String,
        sent: impl Into<String>,
        allowed: impl Into<String>,
        message: String,
    ) -> Self {
        Self::new(
            rule,
            Severity::Warning,
            path,
            sent.into(),
            allowed.into(),
            message,
        )
    }

    fn new(
        rule: Rule,
        severity: Severity,
        path: String,
        sent: String,
        allowed: String,
        message: String,
    ) -> Self {
        Self {
            rule,
            severity,
            path,
            sent,
            allowed,
            message,
        }
    }

    /// The broken rule.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// Error or warning.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// Whether the service rejects the request for this violation.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// JSON pointer into the request body, with camelCase names whatever spelling was sent, e.g.
    /// `/generationConfig/imageConfig/imageSize`. Empty for the body as a whole (an unknown model,
    /// which travels in the URL).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What was sent, e.g. `1k`, `audio/mpeg`, `15 images`.
    pub fn sent(&self) -> &str {
        &self.sent
    }

    /// What is allowed instead, e.g. `512, 1K, 2K, 4K`.
    pub fn allowed(&self) -> &str {
        &self.allowed
    }

    /// The message of the service's 400 answer for this violation (for a warning, the text a
    /// client shows); exactly what the fake server sends.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Violation {
    /// `error[image-size-casing] /generationConfig/imageConfig/imageSize: Unsupported image size ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(request)"
        } else {
            &self.path
        };
        write!(
            f,
            "{}[{}] {}: {}",
            self.severity, self.rule, path, self.message
        )
    }
}

/// Everything wrong with one request for one model: all violations at once, errors and warnings,
/// in the order they were checked (see [`validate_request`](crate::validate_request)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    model: String,
    violations: Vec<Violation>,
}

impl Report {
    pub(crate) fn new(model: &str, violations: Vec<Violation>) -> Self {
        Self {
            model: model.to_owned(),
            violations,
        }
    }

    /// The model the request was checked for, as given (not normalised).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Every violation, errors and warnings, in checking order.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The violations at error level.
    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.is_error())
    }

    /// The violations at warning level.
    pub fn warnings(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| !v.is_error())
    }

    /// The error the service answers with: the first one checked.
    pub fn first_error(&self) -> Option<&Violation> {
        self.errors().next()
    }

    /// Whether the service accepts the request (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.first_error().is_none()
    }

    /// Whether there is nothing at all to report, not even a warning.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

impl fmt::Display for Report {
    /// A header line (`model: N errors, M warnings`), then one line per violation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.errors().count();
        let warnings = self.violations.len() - errors;
        write!(
            f,
            "{}: {} {}, {} {}",
            self.model,
            errors,
            plural(errors, "error"),
            warnings,
            plural(warnings, "warning")
        )?;
        for violation in &self.violations {
            write!(f, "\n{violation}")?;
        }
        Ok(())
    }
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}
