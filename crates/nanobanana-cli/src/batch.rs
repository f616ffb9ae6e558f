//! `batch`: many requests from a JSONL file, submitted as one batch (the workflows'
//! `BatchBuilder`: inline, or as an uploaded JSONL file when large), polled with a progress
//! line, and written to a directory in the order of the file.
//!
//! Every line is read and checked before anything is sent: a line that does not parse, or a
//! request that breaks a documented rule, refuses the whole batch (exit code 2) with the line
//! numbers. The command exits 0 when every request produced an image, else 1 (the images that
//! did come are written all the same).
//!
//! A batch outlives the process: right after submitting, the ledger `DIR/nanobanana-batch.json`
//! records the batch's name, the model, and each request's key and output name. `batch fetch
//! DIR` reads it in any later process, attaches to the batch (`BatchJob::attach`), waits, and
//! writes what is not written yet, recording each item in the ledger as it goes (so a second
//! fetch fetches and writes nothing). `batch submit`, `status`, `wait`, `list` and `cancel` are
//! the other steps.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nanobanana_rules::{Options, validate_request_with};
use nanobanana_wire::GenerateContentRequest;
use nanobanana_workflows::{
    BatchJob, BatchProgress, BatchResults, BatchSummary, ClientExt as _, Generation, ImageOptions,
    Message, Polling,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cli::{
    BatchAction, BatchArgs, BatchFetchArgs, BatchListArgs, BatchRunArgs, BatchSubmitArgs,
    BatchSubmitOptions, BatchTargetArgs, BatchWaitArgs, Global,
};
use crate::files::{self, Overwrite};
use crate::generate::{Report, no_image, prepare_dir};
use crate::service::{self, Service};
use crate::ui::{Failure, Ui, columns, violation_text};

/// The ledger's file name, in the output directory.
pub(crate) const LEDGER_NAME: &str = "nanobanana-batch.json";

/// The ledger's format version.
const LEDGER_VERSION: u32 = 1;
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
    match &args.action {
        None => run_all(ui, global, &args.run).await,
        Some(BatchAction::Submit(args)) => submit_only(ui, global, args).await,
        Some(BatchAction::Status(args)) => status(ui, global, args).await,
        Some(BatchAction::Wait(args)) => wait(ui, global, args).await,
        Some(BatchAction::Fetch(args)) => fetch(ui, global, args).await,
        Some(BatchAction::List(args)) => list(ui, global, args).await,
        Some(BatchAction::Cancel(args)) => cancel(ui, global, args).await,
    }
}

/// The local record of a submitted batch, `DIR/nanobanana-batch.json`: which batch, which
/// model, and for each request its key in the batch, its place in FILE and its output name
/// (relative to DIR, without the extension); what was written or failed is added as results
/// are fetched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ledger {
    version: u32,
    batch: String,
    model: String,
    display_name: String,
    source: String,
    items: Vec<LedgerItem>,
}

/// One request of the ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LedgerItem {
    /// 0-based position in FILE's requests.
    index: usize,
    /// The key it was sent under (the library's: the position, "0", "1", ...).
    key: String,
    /// Its line in FILE.
    line: usize,
    /// The key FILE gave it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_key: Option<String>,
    /// The output name, relative to DIR, without the extension (`001-dish`).
    output: String,
    /// The files written for it, relative to DIR, once written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    written: Option<Vec<String>>,
    /// Why it has no image, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl LedgerItem {
    /// `1. dish` or `3.`: how the text output names it.
    fn label(&self) -> String {
        match &self.request_key {
            Some(key) => format!("{}. {key}", self.index + 1),
            None => format!("{}.", self.index + 1),
        }
    }
}

impl Ledger {
    fn path(dir: &Path) -> PathBuf {
        dir.join(LEDGER_NAME)
    }

    /// Reads `DIR/nanobanana-batch.json`.
    fn load(dir: &Path) -> Result<Self, Failure> {
        let path = Self::path(dir);
        if !path.is_file() {
            return Err(Failure::refused(format!(
                "{}: no ledger ({LEDGER_NAME}); give the directory of a `nanobanana batch submit \
                 FILE -o DIR` or `nanobanana batch FILE -o DIR`",
                dir.display()
            )));
        }
        let text = files::read_text(&path, files::MAX_TEXT_INPUT_BYTES, "batch ledger")
            .map_err(Failure::refused)?;
        let ledger: Ledger = serde_json::from_str(&text).map_err(|e| {
            Failure::refused(format!(
                "{}: not a nanobanana batch ledger: {e}",
                path.display()
            ))
        })?;
        if ledger.version != LEDGER_VERSION {
            return Err(Failure::refused(format!(
                "{}: ledger version {} is not supported (this nanobanana reads version \
                 {LEDGER_VERSION})",
                path.display(),
                ledger.version
            )));
        }
        for item in &ledger.items {
            let names = std::iter::once(&item.output).chain(item.written.iter().flatten());
            for name in names {
                if !is_plain_name(name) {
                    return Err(Failure::refused(format!(
                        "{}: item {} names {name:?}; output names must be plain file names \
                         inside the directory",
                        path.display(),
                        item.index
                    )));
                }
            }
        }
        Ok(ledger)
    }

    /// Writes the ledger atomically (replacing the previous version).
    fn save(&self, dir: &Path) -> Result<(), Failure> {
        let path = Self::path(dir);
        let mut text = serde_json::to_vec_pretty(self)
            .map_err(|e| Failure::failed(format!("the ledger cannot be encoded: {e}")))?;
        text.push(b'\n');
        files::write_atomic(&path, &text, Overwrite::Replace)
            .map_err(|e| Failure::failed(format!("{}: {e}", path.display())))
    }

    /// Whether an item is settled (written, or known to have no image) and need not be fetched
    /// again: its recorded files exist, or its error is recorded, or (written but not yet
    /// recorded when the process stopped) its output file exists.
    fn settled(&self, item: &LedgerItem, dir: &Path) -> Option<Settled> {
        if let Some(written) = &item.written
            && !written.is_empty()
            && written.iter().all(|name| dir.join(name).is_file())
        {
            return Some(Settled::Written(written.clone()));
        }
        if let Some(error) = &item.error {
            return Some(Settled::Failed(error.clone()));
        }
        let extension = files::extension_for(files::expected_mime_type(&self.model));
        let name = format!("{}.{extension}", item.output);
        dir.join(&name)
            .is_file()
            .then(|| Settled::Written(vec![name]))
    }
}

/// What is known of an item already.
enum Settled {
    Written(Vec<String>),
    Failed(String),
}

/// A name without directories, `.` or `..` (the ledger could have been edited).
fn is_plain_name(name: &str) -> bool {
    let path = Path::new(name);
    let mut components = path.components();
    matches!(
        (components.next(), components.next()),
        (Some(std::path::Component::Normal(_)), None)
    )
}

/// `batch FILE -o DIR`: submit, record the ledger, wait, write.
async fn run_all(ui: &Ui, global: &Global, args: &BatchRunArgs) -> Result<ExitCode, Failure> {
    let (Some(file), Some(output)) = (&args.file, &args.output) else {
        return Err(Failure::refused(
            "batch needs FILE and -o DIR (nanobanana batch prompts.jsonl -o out/), or a \
             subcommand: submit, status, wait, fetch, list, cancel",
        ));
    };
    let overwrite = Overwrite::from_force(global.force);
    let submitted = submit(ui, global, file, output, &args.submit, overwrite).await?;
    if let Err(failure) = submitted.ledger.save(output) {
        // Waiting goes on; without a ledger, only this process can write the results.
        let name = submitted.job.name();
        ui.warn(&format!(
            "{} (the batch {name} goes on; if this command is interrupted, follow it with \
             `nanobanana batch status {name}`)",
            failure.text(),
        ));
    }
    let polling = Polling::new().with_initial_delay(args.poll_interval);
    let mut ledger = submitted.ledger;
    let header = |state: &str| format!("{}: {state} ({})", submitted.job.name(), submitted.preview);
    collect(
        ui,
        &submitted.job,
        &mut ledger,
        output,
        overwrite,
        &polling,
        &header,
    )
    .await
}

/// A batch just submitted, with its ledger (not yet saved).
struct Submitted {
    /// Keeps the in-process fake server of `--mock` alive.
    service: Service,
    job: BatchJob,
    ledger: Ledger,
    preview: String,
}

/// Reads and checks FILE, checks that DIR's outputs and ledger can be written, and submits.
async fn submit(
    ui: &Ui,
    global: &Global,
    file: &Path,
    output: &Path,
    options: &BatchSubmitOptions,
    overwrite: Overwrite,
) -> Result<Submitted, Failure> {
    let model = &options.model;
    let mut lines = read_lines(file, model)?;
    check_rules(model, &lines)?;
    service::check(global)?;
    prepare_dir(output, "--output")?;
    let names: Vec<PathBuf> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| output_name(output, index, lines.len(), line.key.as_deref()))
        .collect();
    let extension = files::extension_for(files::expected_mime_type(model));
    for name in &names {
        files::check_writable(&name.with_extension(extension), overwrite)
            .map_err(Failure::refused)?;
    }
    let ledger_path = Ledger::path(output);
    files::check_writable(&ledger_path, overwrite).map_err(|message| {
        Failure::refused(format!(
            "{message} (the ledger of an earlier batch: `nanobanana batch fetch {}` collects it)",
            output.display()
        ))
    })?;
    let service = service::connect(global).await?;

    let display_name = options.display_name.clone().unwrap_or_else(|| {
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "nanobanana batch".to_owned())
    });
    let mut builder = service
        .client()
        .batch(model)
        .display_name(display_name.clone());
    if !options.webhooks.is_empty() {
        builder = builder.webhook(options.webhooks.clone(), options.webhook_metadata.clone());
    }
    // The builder takes the requests; the lines keep their numbers and keys for the results.
    for line in &mut lines {
        builder = builder.add_request(std::mem::take(&mut line.request));
    }
    let preview = builder.preview().to_string();
    let spinner = ui.spinner(format!("submitting {} requests", lines.len()));
    let job = builder.submit().await;
    spinner.stop();
    let job = job.map_err(workflow_failure)?;
    let items = lines
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(index, (line, name))| LedgerItem {
            index,
            key: index.to_string(),
            line: line.number,
            request_key: line.key.clone(),
            output: name
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            written: None,
            error: None,
        })
        .collect();
    let ledger = Ledger {
        version: LEDGER_VERSION,
        batch: job.name().to_owned(),
        model: model.clone(),
        display_name,
        source: file.display().to_string(),
        items,
    };
    Ok(Submitted {
        service,
        job,
        ledger,
        preview,
    })
}

/// `batch submit FILE -o DIR`: submit, save the ledger, print the name.
async fn submit_only(
    ui: &Ui,
    global: &Global,
    args: &BatchSubmitArgs,
) -> Result<ExitCode, Failure> {
    let overwrite = Overwrite::from_force(global.force);
    let submitted = submit(
        ui,
        global,
        &args.file,
        &args.output,
        &args.submit,
        overwrite,
    )
    .await?;
    let name = submitted.job.name();
    submitted.ledger.save(&args.output).map_err(|failure| {
        Failure::failed(format!(
            "the batch {name} was submitted, but its ledger could not be written: {}; \
             follow it with `nanobanana batch status {name}`",
            failure.text()
        ))
    })?;
    let ledger = Ledger::path(&args.output);
    if submitted.service.is_mock() {
        ui.warn(
            "--mock: the fake server stops with this command, so this batch cannot be fetched \
             later; use --base-url with a running `nanobanana mock` instead",
        );
    }
    ui.say(name);
    ui.document(&json!({
        "ok": true,
        "batch": name,
        "model": submitted.ledger.model,
        "requests": submitted.ledger.items.len(),
        "ledger": ledger.display().to_string(),
    }));
    Ok(ExitCode::SUCCESS)
}

/// The batch a NAME|DIR argument means: a directory with a ledger names its batch; anything
/// else is a batch name.
fn resolve(target: &str) -> Result<String, Failure> {
    let path = Path::new(target);
    if path.is_dir() {
        return Ok(Ledger::load(path)?.batch);
    }
    if target.is_empty() || target.ends_with('/') || target.trim() != target {
        return Err(Failure::refused(format!(
            "{target:?} is neither a batch name (batches/ID or ID) nor a directory with a \
             ledger ({LEDGER_NAME})"
        )));
    }
    Ok(target.to_owned())
}

/// The summary as JSON.
fn summary_json(summary: &BatchSummary) -> Value {
    json!({
        "batch": summary.name,
        "state": summary.state.as_str(),
        "done": summary.is_done(),
        "displayName": summary.display_name,
        "model": summary.model,
        "requestCount": summary.request_count,
        "succeeded": summary.succeeded,
        "failed": summary.failed,
        "pending": summary.pending,
        "createTime": summary.create_time,
        "updateTime": summary.update_time,
        "endTime": summary.end_time,
    })
}

/// The summary as text lines: the state and counts, then what else the service says.
fn summary_text(summary: &BatchSummary) -> String {
    let mut lines = vec![summary.to_string()];
    let fields = [
        ("display name", &summary.display_name),
        ("model", &summary.model),
        ("created", &summary.create_time),
        ("ended", &summary.end_time),
    ];
    for (what, value) in fields {
        if let Some(value) = value {
            lines.push(format!("  {what}: {value}"));
        }
    }
    lines.join("\n")
}

/// `batch status NAME|DIR`.
async fn status(ui: &Ui, global: &Global, args: &BatchTargetArgs) -> Result<ExitCode, Failure> {
    let name = resolve(&args.target)?;
    service::check(global)?;
    let service = service::connect(global).await?;
    // One poll: a batch's description is all `status` needs.
    let operation = service
        .client()
        .batches()
        .get(&name)
        .await
        .map_err(|e| Failure::from_client(&e))?;
    let summary = BatchSummary::of(&operation).map_err(workflow_failure)?;
    ui.say(&summary_text(&summary));
    let mut document = summary_json(&summary);
    document["ok"] = json!(true);
    ui.document(&document);
    Ok(ExitCode::SUCCESS)
}

/// `batch wait NAME|DIR`: exit 0 if the batch succeeded, 1 if it ended otherwise.
async fn wait(ui: &Ui, global: &Global, args: &BatchWaitArgs) -> Result<ExitCode, Failure> {
    let name = resolve(&args.target.target)?;
    service::check(global)?;
    let service = service::connect(global).await?;
    let job = BatchJob::attach(service.client().clone(), &name)
        .await
        .map_err(workflow_failure)?;
    let polling = Polling::new().with_initial_delay(args.poll_interval);
    let spinner = ui.spinner(format!("{}: waiting", job.name()));
    let summary = job
        .wait_until_done(&polling, |progress| {
            show_progress(&spinner, job.name(), progress);
        })
        .await;
    spinner.stop();
    let summary = summary.map_err(workflow_failure)?;
    let succeeded = summary.state == nanobanana_wire::BatchState::Succeeded;
    ui.say(&summary_text(&summary));
    let mut document = summary_json(&summary);
    document["ok"] = json!(succeeded);
    ui.document(&document);
    Ok(if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `batch fetch DIR`.
async fn fetch(ui: &Ui, global: &Global, args: &BatchFetchArgs) -> Result<ExitCode, Failure> {
    let dir = &args.dir;
    let mut ledger = Ledger::load(dir)?;
    let overwrite = Overwrite::from_force(global.force);
    let pending = ledger
        .items
        .iter()
        .filter(|item| global.force || ledger.settled(item, dir).is_none())
        .count();
    if pending == 0 {
        // Everything is written or known to have failed: nothing to ask the service.
        let batch = ledger.batch.clone();
        let header = |_: &str| format!("{batch}: already fetched, nothing to do");
        return report(ui, &mut ledger, dir, None, overwrite, &header, false);
    }
    service::check(global)?;
    let service = service::connect(global).await?;
    let job = BatchJob::attach(service.client().clone(), &ledger.batch)
        .await
        .map_err(workflow_failure)?;
    let polling = Polling::new().with_initial_delay(args.poll_interval);
    let header = |state: &str| format!("{}: {state}", job.name());
    collect(ui, &job, &mut ledger, dir, overwrite, &polling, &header).await
}

/// Waits for `job` with a progress line, then writes what the ledger does not have yet.
async fn collect(
    ui: &Ui,
    job: &BatchJob,
    ledger: &mut Ledger,
    dir: &Path,
    overwrite: Overwrite,
    polling: &Polling,
    header: &dyn Fn(&str) -> String,
) -> Result<ExitCode, Failure> {
    let spinner = ui.spinner(format!("{}: waiting", job.name()));
    let results = job
        .wait(polling, |progress| {
            show_progress(&spinner, job.name(), progress);
        })
        .await;
    spinner.stop();
    let results = results.map_err(workflow_failure)?;
    report(
        ui,
        ledger,
        dir,
        Some(&results),
        overwrite,
        header,
        overwrite == Overwrite::Replace,
    )
}

/// Writes the results the ledger does not have yet (all with `rewrite`), records each in the
/// ledger, and reports every item.
fn report(
    ui: &Ui,
    ledger: &mut Ledger,
    dir: &Path,
    results: Option<&BatchResults>,
    overwrite: Overwrite,
    header: &dyn Fn(&str) -> String,
    rewrite: bool,
) -> Result<ExitCode, Failure> {
    let state = results.map(|r| r.state().as_str().to_owned());
    let mut text = vec![header(state.as_deref().unwrap_or_default())];
    let mut items_json = Vec::new();
    let mut failures = 0;
    let mut earlier = 0;
    for position in 0..ledger.items.len() {
        let item = ledger.items[position].clone();
        let label = item.label();
        let mut entry = json!({
            "index": item.index,
            "line": item.line,
            "key": item.request_key,
        });
        let settled = if rewrite {
            None
        } else {
            ledger.settled(&item, dir)
        };
        // Err: the message, its JSON, and whether it is final (recorded in the ledger: an
        // answer without an image stays without one) or worth another fetch (a file that could
        // not be written).
        let outcome: Result<Vec<String>, (String, Value, bool)> = match (settled, results) {
            (Some(Settled::Written(names)), _) => {
                earlier += 1;
                let paths: Vec<String> = names
                    .iter()
                    .map(|n| dir.join(n).display().to_string())
                    .collect();
                text.push(format!("{label} already written: {}", paths.join(", ")));
                entry["ok"] = json!(true);
                entry["skipped"] = json!(true);
                entry["result"] = json!({"files": paths});
                ledger.items[position].written = Some(names);
                items_json.push(entry);
                continue;
            }
            (Some(Settled::Failed(error)), _) => {
                earlier += 1;
                failures += 1;
                text.push(format!("{label} {error}"));
                entry["ok"] = json!(false);
                entry["skipped"] = json!(true);
                entry["error"] = json!({"kind": "failed", "message": error});
                items_json.push(entry);
                continue;
            }
            (None, None) => Err((
                "not fetched".to_owned(),
                json!({"kind": "failed", "message": "not fetched"}),
                false,
            )),
            (None, Some(results)) => {
                let found = results
                    .items()
                    .iter()
                    .find(|result| result.key() == Some(item.key.as_str()));
                match found.map(|found| found.result()) {
                    None => Err((
                        "error: the batch's output holds no result for this request".to_owned(),
                        json!({"kind": "service", "message": "the batch's output holds no result for this request"}),
                        true,
                    )),
                    Some(Ok(generation)) if generation.outcome().has_images() => {
                        match write_item(ui, generation, &dir.join(&item.output), overwrite) {
                            Ok(report) => {
                                let written: Vec<String> = report
                                    .finals()
                                    .iter()
                                    .map(crate::generate::Written::describe)
                                    .collect();
                                text.push(format!("{label} wrote {}", written.join(", ")));
                                entry["result"] = report.json();
                                Ok(report
                                    .finals()
                                    .iter()
                                    .filter_map(|w| w.path.file_name())
                                    .map(|n| n.to_string_lossy().into_owned())
                                    .collect())
                            }
                            Err(failure) => Err((failure.text(), failure.to_json(), false)),
                        }
                    }
                    Some(Ok(generation)) => {
                        let failure = no_image(generation.outcome());
                        Err((failure.text(), failure.to_json(), true))
                    }
                    Some(Err(error)) => Err((
                        format!("error: {error}"),
                        json!({"kind": "service", "message": error.to_string()}),
                        true,
                    )),
                }
            }
        };
        match outcome {
            Ok(names) => {
                entry["ok"] = json!(true);
                ledger.items[position].written = Some(names);
                ledger.items[position].error = None;
            }
            Err((message, error, last)) => {
                failures += 1;
                text.push(format!("{label} {message}"));
                entry["ok"] = json!(false);
                entry["error"] = error;
                if last {
                    ledger.items[position].error = Some(message);
                }
            }
        }
        items_json.push(entry);
        // Saved after every item: a fetch interrupted here resumes after it.
        if results.is_some()
            && let Err(failure) = ledger.save(dir)
        {
            ui.warn(&failure.text());
        }
    }
    let count = ledger.items.len();
    if earlier > 0 {
        text.push(format!(
            "{earlier} of them written or settled before; not fetched again"
        ));
    }
    text.push(format!(
        "{} of {} requests made images; {} failed",
        count - failures,
        count,
        failures
    ));
    ui.say(&text.join("\n"));
    ui.document(&json!({
        "ok": failures == 0,
        "batch": ledger.batch,
        "state": state,
        "items": items_json,
        "ledger": Ledger::path(dir).display().to_string(),
    }));
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `batch list`.
async fn list(ui: &Ui, global: &Global, args: &BatchListArgs) -> Result<ExitCode, Failure> {
    service::check(global)?;
    let service = service::connect(global).await?;
    let limit = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let batches = BatchJob::list(service.client(), Some(limit))
        .await
        .map_err(workflow_failure)?;
    if batches.is_empty() {
        ui.say("no batches");
    } else {
        let count = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
        let mut rows = vec![
            [
                "NAME",
                "STATE",
                "REQUESTS",
                "SUCCEEDED",
                "FAILED",
                "CREATED",
                "DISPLAY NAME",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        for batch in &batches {
            rows.push(vec![
                batch.name.clone(),
                batch.state.as_str().to_owned(),
                count(batch.request_count),
                count(batch.succeeded),
                count(batch.failed),
                batch.create_time.clone().unwrap_or_default(),
                batch.display_name.clone().unwrap_or_default(),
            ]);
        }
        ui.say(&columns(&rows));
    }
    ui.document(&json!({
        "ok": true,
        "batches": batches.iter().map(summary_json).collect::<Vec<_>>(),
    }));
    Ok(ExitCode::SUCCESS)
}

/// `batch cancel NAME|DIR`.
async fn cancel(ui: &Ui, global: &Global, args: &BatchTargetArgs) -> Result<ExitCode, Failure> {
    let name = resolve(&args.target)?;
    service::check(global)?;
    let service = service::connect(global).await?;
    let job = BatchJob::attach(service.client().clone(), &name)
        .await
        .map_err(workflow_failure)?;
    job.cancel().await.map_err(workflow_failure)?;
    let summary = job.status().await.map_err(workflow_failure)?;
    ui.say(&format!(
        "{}: cancel requested; now {}",
        summary.name,
        summary.state.as_str()
    ));
    let mut document = summary_json(&summary);
    document["ok"] = json!(true);
    ui.document(&document);
    Ok(ExitCode::SUCCESS)
}

/// The spinner's message while a batch runs (its state and failures:
/// `batches/x: RUNNING (1 failed)`), and the requests done (succeeded or failed) out of the
/// total when the service gives counts, for the bar.
fn progress_line(name: &str, progress: &BatchProgress) -> (String, Option<(u64, u64)>) {
    let state = progress.state.as_str();
    let state = state.strip_prefix("BATCH_STATE_").unwrap_or(state);
    let Some(total) = progress.request_count.filter(|&n| n > 0) else {
        return (format!("{name}: {state} (poll {})", progress.polls), None);
    };
    let failed = progress.failed.unwrap_or(0);
    let done = progress
        .succeeded
        .unwrap_or(0)
        .saturating_add(failed)
        .min(total);
    let mut line = format!("{name}: {state}");
    if failed > 0 {
        line.push_str(&format!(" ({failed} failed)"));
    }
    (line, Some((done, total)))
}

/// Puts a poll's progress on the spinner: the state in words, and a bar of finished requests
/// out of the total once the service reports counts.
fn show_progress(spinner: &crate::spinner::Spinner, name: &str, progress: &BatchProgress) {
    let (line, counts) = progress_line(name, progress);
    spinner.set_message(line);
    if let Some((done, total)) = counts {
        spinner.set_progress(done, total);
    }
}

fn workflow_failure(error: nanobanana_workflows::Error) -> Failure {
    match error {
        nanobanana_workflows::Error::Transport(error) => Failure::from_client(&error),
        // Refused before anything was sent (a webhook URI the service cannot use, ...): exit 2.
        error @ nanobanana_workflows::Error::InvalidInput { .. } => {
            Failure::refused(error.to_string())
        }
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
fn read_lines(path: &Path, model: &str) -> Result<Vec<Line>, Failure> {
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
        match parse_line(model, raw) {
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

fn parse_line(model: &str, raw: &str) -> Result<(Option<String>, GenerateContentRequest), String> {
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
            options = options.with_aspect_ratio(ratio.as_str());
        }
        if let Some(size) = &short.image_size {
            options = options.with_image_size(size.as_str());
        }
        if short.image_only {
            options = options.image_only();
        }
        let request = Message::text(short.prompt)
            .into_request(model, &options)
            .map_err(|error| error.to_string())?;
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

    const MODEL: &str = "gemini-3-pro-image";

    #[test]
    fn the_three_line_forms_parse() {
        let (key, request) = parse_line(
            MODEL,
            r#"{"prompt": "a dish", "key": "d", "aspectRatio": "16:9"}"#,
        )
        .unwrap();
        assert_eq!(key.as_deref(), Some("d"));
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json["generationConfig"]["imageConfig"]["aspectRatio"],
            "16:9"
        );
        assert_eq!(json["contents"][0]["parts"][0]["text"], "a dish");

        let (key, request) = parse_line(
            MODEL,
            r#"{"key": "k", "request": {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}}"#,
        )
        .unwrap();
        assert_eq!(key.as_deref(), Some("k"));
        assert_eq!(request.contents.len(), 1);

        let (key, _) = parse_line(
            MODEL,
            r#"{"contents": [{"role": "user", "parts": [{"text": "x"}]}]}"#,
        )
        .unwrap();
        assert_eq!(key, None);

        assert!(
            parse_line(MODEL, "[1]")
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(
            parse_line(MODEL, r#"{"prompt": "x", "ratio": "1:1"}"#)
                .unwrap_err()
                .contains("unknown field `ratio`")
        );
        assert!(
            parse_line(MODEL, r#"{"text": "x"}"#)
                .unwrap_err()
                .contains("expected")
        );
    }

    #[test]
    fn the_progress_line_gives_the_state_and_the_counts_for_the_bar() {
        let mut progress: BatchProgress =
            serde_json::from_value::<nanobanana_wire::Operation>(json!({
                "name": "batches/x",
                "metadata": {"state": "BATCH_STATE_RUNNING", "batchStats": {
                    "requestCount": "50", "successfulRequestCount": "19",
                    "failedRequestCount": "1", "pendingRequestCount": "30"}}
            }))
            .map(|operation| BatchProgress::of(&operation, 1, std::time::Duration::ZERO))
            .unwrap();
        assert_eq!(
            progress_line("batches/x", &progress),
            ("batches/x: RUNNING (1 failed)".to_owned(), Some((20, 50)))
        );
        progress.request_count = None;
        assert_eq!(
            progress_line("batches/x", &progress),
            ("batches/x: RUNNING (poll 1)".to_owned(), None)
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
