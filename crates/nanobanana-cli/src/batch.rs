//! `batch`: many requests from a JSONL file, submitted as one batch (the workflows'
//! `BatchBuilder`: inline, or as an uploaded JSONL file when large), polled with a progress
//! line, and written to a directory in the order of the file.
//!
//! Every line is read and checked before anything is sent: a line that does not parse, or a
//! request that breaks a documented rule, refuses the whole batch (exit code 2) with the line
//! numbers. The command exits 0 when every request produced an image, else 1 (the images that
//! did come are written all the same).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nanobanana_rules::{Options, validate_request_with};
use nanobanana_wire::GenerateContentRequest;
use nanobanana_workflows::{ClientExt as _, Generation, ImageOptions, Message, Polling};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::{BatchArgs, Global};
use crate::files::{self, Overwrite};
use crate::generate::{Report, no_image, prepare_dir};
use crate::service;
use crate::ui::{Failure, Ui, violation_text};

/// One request of the file, with its line number and optional key.
struct Line {
    number: usize,
    key: Option<String>,
    request: GenerateContentRequest,
}

/// `{"prompt": ..., "aspectRatio": ..., "imageSize": ..., "key": ...}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Shorthand {
    prompt: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    aspect_ratio: Option<String>,
    #[serde(default)]
    image_size: Option<String>,
    #[serde(default)]
    image_only: bool,
}

/// `{"key": ..., "request": {...}}`, the Batch API's JSONL line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Keyed {
    #[serde(default)]
    key: Option<String>,
    request: GenerateContentRequest,
}

pub(crate) async fn run(ui: &Ui, global: &Global, args: &BatchArgs) -> Result<ExitCode, Failure> {
    let overwrite = Overwrite::from_force(global.force);
    let mut lines = read_lines(&args.file)?;
    check_rules(&args.model, &lines)?;
    service::check(global)?;
    prepare_dir(&args.output, "--output")?;
    let names: Vec<PathBuf> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| output_name(&args.output, index, lines.len(), line.key.as_deref()))
        .collect();
    let extension = files::extension_for(files::expected_mime_type(&args.model));
    for name in &names {
        files::check_writable(&name.with_extension(extension), overwrite)
            .map_err(Failure::refused)?;
    }
    let service = service::connect(global).await?;

    let display_name = args.display_name.clone().unwrap_or_else(|| {
        args.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "nanobanana batch".to_owned())
    });
    let mut builder = service
        .client()
        .batch(&args.model)
        .display_name(display_name);
    // The builder takes the requests; the lines keep their numbers and keys for the results.
    for line in &mut lines {
        builder = builder.add_request(std::mem::take(&mut line.request));
    }
    let preview = builder.preview();
    let spinner = ui.spinner(format!("submitting {} requests", lines.len()));
    let job = builder.submit().await;
    let job = match job {
        Ok(job) => job,
        Err(error) => {
            spinner.stop();
            return Err(workflow_failure(error));
        }
    };
    spinner.set_message(format!("{}: waiting", job.name()));
    let polling = Polling::new().initial_delay(args.poll_interval);
    let results = job
        .wait(&polling, |progress| {
            spinner.set_message(format!("{}: {progress}", job.name()));
        })
        .await;
    spinner.stop();
    let results = results.map_err(workflow_failure)?;

    let mut items_json = Vec::new();
    let mut text = vec![format!(
        "{}: {} ({preview})",
        job.name(),
        results.state().as_str(),
    )];
    let mut failures = 0;
    for (item, (line, name)) in results.items().iter().zip(lines.iter().zip(&names)) {
        let label = match &line.key {
            Some(key) => format!("{}. {key}", item.index() + 1),
            None => format!("{}.", item.index() + 1),
        };
        let mut entry = json!({
            "index": item.index(),
            "line": line.number,
            "key": line.key,
        });
        match item.result() {
            Ok(generation) if generation.outcome().has_images() => {
                match write_item(ui, generation, name, overwrite) {
                    Ok(report) => {
                        let written: Vec<String> = report
                            .finals()
                            .iter()
                            .map(crate::generate::Written::describe)
                            .collect();
                        text.push(format!("{label} wrote {}", written.join(", ")));
                        entry["ok"] = json!(true);
                        entry["result"] = report.json();
                    }
                    Err(failure) => {
                        failures += 1;
                        text.push(format!("{label} {}", failure.text()));
                        entry["ok"] = json!(false);
                        entry["error"] = failure.to_json();
                    }
                }
            }
            Ok(generation) => {
                failures += 1;
                let failure = no_image(generation.outcome());
                text.push(format!("{label} {}", failure.text()));
                entry["ok"] = json!(false);
                entry["error"] = failure.to_json();
            }
            Err(error) => {
                failures += 1;
                text.push(format!("{label} error: {error}"));
                entry["ok"] = json!(false);
                entry["error"] = json!({"kind": "service", "message": error.to_string()});
            }
        }
        items_json.push(entry);
    }
    text.push(format!(
        "{} of {} requests made images; {} failed",
        lines.len() - failures,
        lines.len(),
        failures
    ));
    ui.say(&text.join("\n"));
    ui.document(&json!({
        "ok": failures == 0,
        "batch": job.name(),
        "state": results.state().as_str(),
        "items": items_json,
    }));
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn workflow_failure(error: nanobanana_workflows::Error) -> Failure {
    match error {
        nanobanana_workflows::Error::Transport(error) => Failure::from_client(&error),
        error => Failure::failed(error.to_string()),
    }
}

fn write_item(
    ui: &Ui,
    generation: &Generation,
    name: &Path,
    overwrite: Overwrite,
) -> Result<Report, Failure> {
    let mut report = Report::new(generation);
    report.write_finals(ui, generation, name, overwrite)?;
    Ok(report)
}

/// `DIR/001`, or `DIR/002-dish` with a key; the extension comes with the image.
fn output_name(dir: &Path, index: usize, count: usize, key: Option<&str>) -> PathBuf {
    let width = count.to_string().len().max(3);
    let number = format!("{:0width$}", index + 1);
    match key.map(safe_name).filter(|k| !k.is_empty()) {
        Some(key) => dir.join(format!("{number}-{key}")),
        None => dir.join(number),
    }
}

/// A key made safe for a file name: letters, digits, `-` and `_` kept, the rest `_`, at most
/// 48 characters.
fn safe_name(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect()
}

/// Reads and parses every line; any bad line refuses the batch, naming every one.
fn read_lines(path: &Path) -> Result<Vec<Line>, Failure> {
    let text = crate::files::read_text(path, crate::files::MAX_TEXT_INPUT_BYTES, "prompt file")
        .map_err(Failure::refused)?;
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        match parse_line(raw) {
            Ok((key, request)) => lines.push(Line {
                number,
                key,
                request,
            }),
            Err(problem) => problems.push(format!("line {number}: {problem}")),
        }
    }
    if !problems.is_empty() {
        let mut failure = Failure::refused(format!(
            "{}: {} bad line{}; nothing was sent",
            path.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ));
        for problem in problems {
            failure = failure.with_detail(problem);
        }
        return Err(failure);
    }
    if lines.is_empty() {
        return Err(Failure::refused(format!(
            "{}: no requests (one JSON object per line, e.g. {{\"prompt\": \"a nano banana dish\"}})",
            path.display()
        )));
    }
    Ok(lines)
}

fn parse_line(raw: &str) -> Result<(Option<String>, GenerateContentRequest), String> {
    let value: Value = serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(map) = &value else {
        return Err("not a JSON object".to_owned());
    };
    if map.contains_key("request") {
        let keyed: Keyed = serde_json::from_value(value)
            .map_err(|e| format!("not a {{\"key\", \"request\"}} line: {e}"))?;
        Ok((keyed.key, keyed.request))
    } else if map.contains_key("prompt") {
        let short: Shorthand = serde_json::from_value(value).map_err(|e| {
            format!(
                "{e} (a prompt line takes prompt, and optionally key, aspectRatio, imageSize, \
                 imageOnly)"
            )
        })?;
        let mut options = ImageOptions::new();
        if let Some(ratio) = &short.aspect_ratio {
            options = options.aspect_ratio(ratio.as_str());
        }
        if let Some(size) = &short.image_size {
            options = options.image_size(size.as_str());
        }
        if short.image_only {
            options = options.image_only();
        }
        let message = Message::text(short.prompt);
        let mut request = GenerateContentRequest::new().with_contents([message.into_content()]);
        options.apply_to(&mut request);
        Ok((short.key, request))
    } else if map.contains_key("contents") {
        let request: GenerateContentRequest =
            serde_json::from_value(value).map_err(|e| format!("not a request: {e}"))?;
        Ok((None, request))
    } else {
        Err(
            "expected {\"prompt\": ...}, {\"key\": ..., \"request\": {...}} or a request with \
             \"contents\""
                .to_owned(),
        )
    }
}

/// Checks every request against the rules for the model; any error refuses the batch.
fn check_rules(model: &str, lines: &[Line]) -> Result<(), Failure> {
    let mut details = Vec::new();
    for line in lines {
        let report = validate_request_with(model, &line.request, &Options::for_client());
        for violation in report.errors() {
            // The requests come from the file, not from flags: the place is the request's JSON
            // pointer (the model, when empty, is the one flag that applies: --model).
            let place = match violation.path() {
                "" => "--model",
                path => path,
            };
            details.push(format!(
                "line {}: {place}: {}",
                line.number,
                violation_text(violation)
            ));
        }
    }
    if details.is_empty() {
        return Ok(());
    }
    let mut failure = Failure::refused(format!(
        "{} problem{} with the requests for {model}; nothing was sent",
        details.len(),
        if details.len() == 1 { "" } else { "s" }
    ));
    for detail in details {
        failure = failure.with_detail(detail);
    }
    Err(failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_line_forms_parse() {
        let (key, request) =
            parse_line(r#"{"prompt": "a dish", "key": "d", "aspectRatio": "16:9"}"#).unwrap();
        assert_eq!(key.as_deref(), Some("d"));
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json["generationConfig"]["imageConfig"]["aspectRatio"],
            "16:9"
        );
        assert_eq!(json["contents"][0]["parts"][0]["text"], "a dish");

        let (key, request) = parse_line(
            r#"{"key": "k", "request": {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}}"#,
        )
        .unwrap();
        assert_eq!(key.as_deref(), Some("k"));
        assert_eq!(request.contents.len(), 1);

        let (key, _) =
            parse_line(r#"{"contents": [{"role": "user", "parts": [{"text": "x"}]}]}"#).unwrap();
        assert_eq!(key, None);

        assert!(parse_line("[1]").unwrap_err().contains("not a JSON object"));
        assert!(
            parse_line(r#"{"prompt": "x", "ratio": "1:1"}"#)
                .unwrap_err()
                .contains("unknown field `ratio`")
        );
        assert!(
            parse_line(r#"{"text": "x"}"#)
                .unwrap_err()
                .contains("expected")
        );
    }

    #[test]
    fn output_names_keep_the_order_and_a_safe_key() {
        let dir = Path::new("out");
        assert_eq!(output_name(dir, 0, 5, None), Path::new("out/001"));
        assert_eq!(
            output_name(dir, 1, 5, Some("a dish/../x")),
            Path::new("out/002-a_dish____x")
        );
        assert_eq!(output_name(dir, 9, 1000, None), Path::new("out/0010"));
    }
}
