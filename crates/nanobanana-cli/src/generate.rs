//! `generate`, `edit` and `compose`: one request, its images written, its text, size and token
//! usage printed (and the sources to attribute with `--search`).
//!
//! Everything that can be checked locally is checked before the key is even looked at: input
//! images (readable, of a type the service takes), reference limits, the documented rules
//! (`nanobanana_rules::validate_request`, the same check the service and the fake server
//! make), and the output path. Only then is a request sent.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nanobanana_rules::{Options, validate_request_with};
use nanobanana_wire::{GenerateContentRequest, ThinkingLevel};
use nanobanana_workflows::{
    Chat, Composition, Generation, Image, ImageOptions, InputImage, InteractionConversation,
    Message, Outcome, Search, Usage,
};
use serde_json::{Value, json};

use crate::cli::{
    ApiChoice, ComposeArgs, EditArgs, GenerateArgs, Global, ImageOptions as ImageArgs,
    SearchChoice, ThinkingChoice,
};
use crate::files::{self, Overwrite, WriteError};
use crate::interactions;
use crate::service;
use crate::ui::{Failure, Ui, warn_report};

/// A request ready to check and send, and where its results go.
pub(crate) struct Job {
    model: String,
    message: Message,
    options: ImageOptions,
    output: PathBuf,
    thoughts: Option<PathBuf>,
    api: ApiChoice,
}

pub(crate) async fn generate(
    ui: &Ui,
    global: &Global,
    args: &GenerateArgs,
) -> Result<ExitCode, Failure> {
    let mut message = Message::text(&args.prompt);
    for path in &args.images {
        message = message.with_image(read_image(path)?);
    }
    run(ui, global, Job::new(&args.options, message, &args.output)?).await
}

pub(crate) async fn edit(ui: &Ui, global: &Global, args: &EditArgs) -> Result<ExitCode, Failure> {
    let message = Message::text(&args.prompt).with_image(read_image(&args.image)?);
    run(ui, global, Job::new(&args.options, message, &args.output)?).await
}

pub(crate) async fn compose(
    ui: &Ui,
    global: &Global,
    args: &ComposeArgs,
) -> Result<ExitCode, Failure> {
    if args.objects.is_empty() && args.characters.is_empty() {
        return Err(Failure::refused(
            "compose needs reference images: give --object IMG and/or --character IMG",
        ));
    }
    let mut composition = Composition::new(&args.prompt);
    for path in &args.objects {
        composition = composition.with_object(read_image(path)?);
    }
    for path in &args.characters {
        composition = composition.with_character(read_image(path)?);
    }
    // The hard limits are refused here; 2.5 Flash's advice (3 images) only warns, through the
    // rules' report.
    let composition = composition.allow_beyond_advice();
    composition
        .check(args.options.model())
        .map_err(|error| Failure::refused(format!("--object/--character: {error}")))?;
    let message: Message = composition.into();
    run(ui, global, Job::new(&args.options, message, &args.output)?).await
}

/// Reads an input image; a missing file or an unknown type is a refusal (exit code 2).
pub(crate) fn read_image(path: &Path) -> Result<InputImage, Failure> {
    InputImage::from_path(path).map_err(|error| Failure::refused(error.to_string()))
}

impl Job {
    fn new(args: &ImageArgs, message: Message, output: &Path) -> Result<Self, Failure> {
        if args.api == ApiChoice::Interactions {
            interactions::check_flags(args)?;
        }
        Ok(Self {
            model: args.model().to_owned(),
            message,
            options: image_options(args),
            output: output.to_path_buf(),
            thoughts: args.show_thoughts.clone(),
            api: args.api,
        })
    }
}

/// The workflows' options from the flags.
pub(crate) fn image_options(args: &ImageArgs) -> ImageOptions {
    let mut options = ImageOptions::new();
    if let Some(ratio) = &args.aspect_ratio {
        options = options.with_aspect_ratio(ratio.as_str());
    }
    if let Some(size) = &args.size {
        options = options.with_image_size(size.as_str());
    }
    if args.image_only {
        options = options.image_only();
    }
    if let Some(level) = args.thinking {
        options = options.with_thinking_level(match level {
            ThinkingChoice::Minimal => ThinkingLevel::Minimal,
            ThinkingChoice::Medium => ThinkingLevel::Medium,
            ThinkingChoice::High => ThinkingLevel::High,
        });
    }
    if args.show_thoughts.is_some() {
        options = options.with_thoughts();
    }
    if let Some(search) = args.search {
        options = options.with_search(match search {
            SearchChoice::Web => Search::Web,
            SearchChoice::Image => Search::Image,
            SearchChoice::Both => Search::WebAndImage,
        });
    }
    options
}

/// The request of a message with options, checked against the documented rules: the whole
/// report is shown when it breaks any, and nothing is sent.
pub(crate) fn checked_request(
    ui: &Ui,
    model: &str,
    message: &Message,
    options: &ImageOptions,
) -> Result<GenerateContentRequest, Failure> {
    let request = message
        .clone()
        .into_request(model, options)
        .map_err(|error| Failure::refused(error.to_string()))?;
    check_rules(ui, model, &request)?;
    Ok(request)
}

/// The next request of a chat, checked the same way.
pub(crate) fn checked_history_request(
    ui: &Ui,
    chat: &Chat,
    message: &Message,
) -> Result<GenerateContentRequest, Failure> {
    let request = chat
        .request_for(message.clone(), &ImageOptions::new())
        .map_err(|error| Failure::refused(error.to_string()))?;
    check_rules(ui, chat.model(), &request)?;
    Ok(request)
}

/// Refuses a request that breaks a documented rule (`nanobanana_rules::validate_request`, what
/// the service and the fake server check), and prints the warnings of one that does not.
fn check_rules(ui: &Ui, model: &str, request: &GenerateContentRequest) -> Result<(), Failure> {
    let report = validate_request_with(model, request, &Options::for_client());
    if !report.is_valid() {
        return Err(Failure::rules(&report, "the request "));
    }
    warn_report(ui, &report);
    Ok(())
}

async fn run(ui: &Ui, global: &Global, job: Job) -> Result<ExitCode, Failure> {
    let overwrite = Overwrite::from_force(global.force);
    files::check_output_name(&job.output, "-o").map_err(Failure::refused)?;
    // `--api interactions`: the same checks on the Interactions request (`None` here then).
    let request = match job.api {
        ApiChoice::GenerateContent => {
            Some(checked_request(ui, &job.model, &job.message, &job.options)?)
        }
        ApiChoice::Interactions => {
            interactions::check_request(ui, &job.model, &job.options, &job.message)?;
            None
        }
    };
    // The name an image gets when `-o` has no extension (the extension of the model's output
    // type; batch and chat check their names the same way), so an existing `banana.jpg` is
    // refused for `-o banana` before the request, not after it.
    let expected =
        files::with_default_extension(&job.output, files::expected_mime_type(&job.model));
    files::check_writable(&expected, overwrite).map_err(Failure::refused)?;
    service::check(global)?;
    if let Some(dir) = &job.thoughts {
        prepare_dir(dir, "--show-thoughts")?;
    }
    let service = service::connect(global).await?;

    let spinner = ui.spinner(format!("generating with {}", job.model));
    let generation = match request {
        Some(request) => service
            .client()
            .generate_content(&job.model, &request)
            .await
            .map(|answer| Generation::new(job.model.as_str(), &request, answer))
            .map_err(Failure::from),
        None => {
            let mut conversation =
                InteractionConversation::new(service.client().clone(), job.model.as_str())
                    .with_options(job.options.clone());
            interactions::send(&mut conversation, job.message).await
        }
    };
    spinner.stop();
    let generation = generation?;

    let mut report = Report::new(&generation);
    if let Some(dir) = &job.thoughts {
        report.write_thoughts(&generation, dir, "thought", overwrite)?;
    }
    if !generation.outcome().has_images() {
        report.show(ui);
        return Err(no_image(generation.outcome()).with_data(json!({
            "outcome": generation.outcome().name(),
            "finishReason": generation.finish_reason().map(|r| r.as_str()),
            "text": generation.text(),
            "usage": usage_json(&generation.usage()),
        })));
    }
    report.write_finals(ui, &generation, &job.output, overwrite)?;
    report.show(ui);
    Ok(ExitCode::SUCCESS)
}

/// The failure for an answer without images (exit code 1), with the service's reason.
pub(crate) fn no_image(outcome: &Outcome) -> Failure {
    Failure::failed(format!("no image: {outcome}")).with_data(json!({"outcome": outcome.name()}))
}

/// Creates a directory for outputs (e.g. `--show-thoughts DIR`), refusing a path that is a file.
pub(crate) fn prepare_dir(dir: &Path, flag: &str) -> Result<(), Failure> {
    if dir.exists() && !dir.is_dir() {
        return Err(Failure::refused(format!(
            "{flag} {}: not a directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::refused(format!("{flag} {}: cannot create it: {e}", dir.display())))
}

/// A written image, for the report.
pub(crate) struct Written {
    pub(crate) path: PathBuf,
    pub(crate) mime_type: String,
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    pub(crate) bytes: usize,
}

impl Written {
    fn json(&self) -> Value {
        json!({
            "path": self.path.display().to_string(),
            "mimeType": self.mime_type,
            "width": self.width,
            "height": self.height,
            "bytes": self.bytes,
        })
    }

    /// `banana.png (1024x1024 image/png, 5.1 kB)`.
    pub(crate) fn describe(&self) -> String {
        let size = match (self.width, self.height) {
            (Some(w), Some(h)) => format!("{w}x{h} "),
            _ => String::new(),
        };
        format!(
            "{} ({size}{}, {})",
            self.path.display(),
            self.mime_type,
            human_bytes(self.bytes)
        )
    }
}

/// Writes one image of an answer to `path` (its extension added when it has none).
pub(crate) fn write_image(
    image: &Image<'_>,
    path: &Path,
    overwrite: Overwrite,
) -> Result<Written, Failure> {
    let mime_type = image
        .format()
        .map(|f| f.mime_type().to_owned())
        .or_else(|| image.mime_type().map(str::to_owned))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let path = files::with_default_extension(path, &mime_type);
    files::write_atomic(&path, image.bytes(), overwrite).map_err(|error| match error {
        WriteError::Exists(_) => Failure::failed(format!("{error}; the image was not saved")),
        WriteError::Io(..) => Failure::failed(error.to_string()),
    })?;
    let dimensions = image.dimensions();
    Ok(Written {
        path,
        mime_type,
        width: dimensions.map(|d| d.width),
        height: dimensions.map(|d| d.height),
        bytes: image.bytes().len(),
    })
}

/// What a generation produced and where it went, shown as text or JSON.
pub(crate) struct Report {
    model: String,
    outcome: Outcome,
    finish_reason: Option<String>,
    text: String,
    thought_text: String,
    usage: Usage,
    predicted: Option<(u32, u32)>,
    tokens_per_image: Option<u32>,
    finals: Vec<Written>,
    thoughts: Vec<Written>,
    sources: Vec<Value>,
    source_lines: Vec<String>,
    entry_point_html: Option<String>,
    mismatch: Option<String>,
}

impl Report {
    pub(crate) fn new(generation: &Generation) -> Self {
        let prediction = generation.prediction();
        let mut report = Self {
            model: generation.model().to_owned(),
            outcome: generation.outcome().clone(),
            finish_reason: generation.finish_reason().map(|r| r.as_str().to_owned()),
            text: generation.text(),
            thought_text: generation.thought_text(),
            usage: generation.usage(),
            predicted: prediction.and_then(|p| p.width().zip(p.height())),
            tokens_per_image: prediction.and_then(|p| p.tokens_per_image()),
            finals: Vec::new(),
            thoughts: Vec::new(),
            sources: Vec::new(),
            source_lines: Vec::new(),
            entry_point_html: None,
            mismatch: None,
        };
        if let Some(grounding) = generation.grounding() {
            let attribution = grounding.attribution();
            report.entry_point_html = attribution.entry_point_html.clone();
            for (index, link) in attribution.links.iter().enumerate() {
                let kind = match link.kind {
                    nanobanana_workflows::grounding::SourceKind::Web => "web",
                    nanobanana_workflows::grounding::SourceKind::Image => "image",
                };
                let mut line = format!("{}. {} <{}>", index + 1, link.title, link.page_url);
                if let Some(image) = &link.image_url {
                    line.push_str(&format!(" (image: {image})"));
                }
                report.source_lines.push(line);
                report.sources.push(json!({
                    "kind": kind,
                    "title": link.title,
                    "pageUrl": link.page_url,
                    "imageUrl": link.image_url,
                    "domain": link.domain,
                }));
            }
        }
        if generation.matches_prediction() == Some(false)
            && let (Some(actual), Some(predicted)) = (
                generation.actual_dimensions(),
                generation.predicted_dimensions(),
            )
        {
            report.mismatch = Some(format!(
                "the image is {actual}, the resolution table predicts {predicted}"
            ));
        }
        report
    }

    /// Writes the final images: `out` for one, `out-1`, `out-2`, ... for several.
    pub(crate) fn write_finals(
        &mut self,
        ui: &Ui,
        generation: &Generation,
        out: &Path,
        overwrite: Overwrite,
    ) -> Result<(), Failure> {
        let images = generation.final_images();
        for (index, image) in images.iter().enumerate() {
            let path = files::numbered(out, index + 1, images.len());
            let written = write_image(image, &path, overwrite)?;
            if !files::extension_matches(&written.path, &written.mime_type) {
                ui.warn(&format!(
                    "{} holds {} data (written as received; the name was kept)",
                    written.path.display(),
                    written.mime_type
                ));
            }
            self.finals.push(written);
        }
        Ok(())
    }

    /// Writes the thought images to `dir` as `PREFIX-1.png`, `PREFIX-2.png`, ...
    pub(crate) fn write_thoughts(
        &mut self,
        generation: &Generation,
        dir: &Path,
        prefix: &str,
        overwrite: Overwrite,
    ) -> Result<(), Failure> {
        for (index, image) in generation.thought_images().iter().enumerate() {
            let path = dir.join(format!("{prefix}-{}", index + 1));
            self.thoughts.push(write_image(image, &path, overwrite)?);
        }
        Ok(())
    }

    pub(crate) fn finals(&self) -> &[Written] {
        &self.finals
    }

    /// The text lines: the model's text, thoughts, files, size check, usage, sources.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.thought_text.trim().is_empty() || !self.thoughts.is_empty() {
            lines.push("thoughts:".to_owned());
            for line in self.thought_text.trim().lines() {
                lines.push(format!("  {line}").trim_end().to_owned());
            }
            for written in &self.thoughts {
                lines.push(format!("  wrote {}", written.describe()));
            }
        }
        if !self.text.trim().is_empty() {
            lines.push(self.text.trim().to_owned());
        }
        for written in &self.finals {
            lines.push(format!("wrote {}", written.describe()));
        }
        if let Some(mismatch) = &self.mismatch {
            lines.push(format!("note: {mismatch}"));
        }
        lines.push(format!("tokens: {}", usage_line(&self.usage)));
        if !self.source_lines.is_empty() {
            lines.push("sources to attribute (link to the page, not the image):".to_owned());
            for line in &self.source_lines {
                lines.push(format!("  {line}"));
            }
            if self.entry_point_html.is_some() {
                lines.push(
                    "  (show the search suggestions chip too: --json has its HTML as searchEntryPointHtml)"
                        .to_owned(),
                );
            }
        }
        lines
    }

    pub(crate) fn json(&self) -> Value {
        json!({
            "model": self.model,
            "outcome": self.outcome.name(),
            "finishReason": self.finish_reason,
            "text": self.text,
            "thoughts": self.thought_text,
            "images": self.finals.iter().map(Written::json).collect::<Vec<_>>(),
            "thoughtImages": self.thoughts.iter().map(Written::json).collect::<Vec<_>>(),
            "predicted": self.predicted.map(|(w, h)| json!({
                "width": w, "height": h, "tokensPerImage": self.tokens_per_image
            })),
            "usage": usage_json(&self.usage),
            "sources": self.sources,
            "searchEntryPointHtml": self.entry_point_html,
        })
    }

    /// Prints the report: text lines, or the JSON document with `"ok": true` when images were
    /// written (a failure prints its own document).
    pub(crate) fn show(&self, ui: &Ui) {
        if ui.json() {
            if self.outcome.has_images() {
                let mut value = self.json();
                if let Value::Object(map) = &mut value {
                    map.insert("ok".to_owned(), Value::Bool(true));
                }
                ui.document(&value);
            }
        } else {
            ui.say(&self.lines().join("\n"));
        }
    }
}

/// `7 prompt + 1120 output (1120 image) + 96 thinking = 1223 total`.
pub(crate) fn usage_line(usage: &Usage) -> String {
    let n = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
    let mut text = format!(
        "{} prompt + {} output",
        n(usage.prompt_tokens),
        n(usage.output_tokens)
    );
    if let Some(image) = usage.image_output_tokens {
        text.push_str(&format!(" ({image} image)"));
    }
    if let Some(thinking) = usage.thoughts_tokens {
        text.push_str(&format!(" + {thinking} thinking"));
    }
    text.push_str(&format!(" = {} total", n(usage.total_tokens)));
    text
}

pub(crate) fn usage_json(usage: &Usage) -> Value {
    json!({
        "promptTokens": usage.prompt_tokens,
        "outputTokens": usage.output_tokens,
        "imageOutputTokens": usage.image_output_tokens,
        "thoughtsTokens": usage.thoughts_tokens,
        "totalTokens": usage.total_tokens,
    })
}

/// `512 B`, `5.1 kB`, `1.4 MB`.
pub(crate) fn human_bytes(bytes: usize) -> String {
    let bytes = bytes as f64;
    if bytes < 1000.0 {
        format!("{bytes} B")
    } else if bytes < 1_000_000.0 {
        format!("{:.1} kB", bytes / 1000.0)
    } else {
        format!("{:.1} MB", bytes / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_short() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(5_123), "5.1 kB");
        assert_eq!(human_bytes(1_400_000), "1.4 MB");
    }

    #[test]
    fn usage_lines_mark_what_is_unknown() {
        let usage = Usage::default();
        assert_eq!(usage_line(&usage), "? prompt + ? output = ? total");
    }
}
