//! `nanobanana`: Gemini's native image generation ("Nano Banana") from a terminal.
//!
//! ```text
//! nanobanana generate --mock "a nano banana dish" -o banana.png
//! nanobanana edit banana.png "add a tiny chef's hat" -o chef.png
//! nanobanana compose --object bowl.png --character cat.png "the cat eating from the bowl" -o cat.png
//! nanobanana chat --session banana.chat.json
//! nanobanana batch prompts.jsonl -o out/
//! nanobanana sizes
//! nanobanana mock
//! ```
//!
//! The layers underneath: `nanobanana-workflows` (results, chat, composition, grounding,
//! outcomes, batches) on `nanobanana-transport` (the HTTP client), `nanobanana-rules` (the
//! checks made before any request, and the resolution table), and `nanobanana-mock` (the fake
//! server behind `--mock` and `nanobanana mock`).
//!
//! Exit codes: 0 success; 1 the service failed, answered with an error or without an image; 2
//! refused before any request (bad arguments, unreadable input, a file that exists, no key).

#![forbid(unsafe_code)]
// Printing is what a command does.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod batch;
mod chat;
mod cli;
mod files;
mod generate;
mod interactions;
mod mock_cmd;
mod models;
mod service;
mod sizes;
mod spinner;
mod ui;
mod upload;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::ui::{Failure, Ui};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(&cli.global);
    if let Err(message) = init_tracing(cli.global.verbose) {
        ui.warn(&message);
    }
    match run(&ui, &cli) {
        Ok(code) => code,
        Err(failure) => ui.fail(&failure),
    }
}

fn run(ui: &Ui, cli: &Cli) -> Result<ExitCode, Failure> {
    match &cli.command {
        Command::Sizes(args) => sizes::run(ui, args).map(|()| ExitCode::SUCCESS),
        Command::Models(args) if !args.live => models::run(ui, args).map(|()| ExitCode::SUCCESS),
        command => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| Failure::failed(format!("cannot start the async runtime: {e}")))?;
            runtime.block_on(run_async(ui, cli, command))
        }
    }
}

/// The crates whose spans and events `--verbose` shows.
const TRACED: &[&str] = &[
    "nanobanana",
    "nanobanana_transport",
    "nanobanana_workflows",
    "nanobanana_rules",
    "nanobanana_mock",
];

/// Sends the library's traces to stderr when `RUST_LOG` is set (its directives decide) or
/// `--verbose` is given (`-v`: debug, `-vv`: trace, for the nanobanana crates); otherwise nothing
/// is traced. Spans never hold the API key (the transport's invariant), and no `log` bridge is
/// installed, so the HTTP stack's own logs stay out. A bad `RUST_LOG` is reported, not fatal.
fn init_tracing(verbose: u8) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|directives| !directives.trim().is_empty());
    let (filter, problem) = match from_env {
        Some(directives) => match EnvFilter::try_new(&directives) {
            Ok(filter) => (filter, None),
            Err(e) => (
                EnvFilter::new("warn"),
                Some(format!(
                    "RUST_LOG={directives:?} is not a tracing filter ({e}); tracing warnings only. \
                     Allowed: directives such as \"debug\" or \"nanobanana_transport=trace\""
                )),
            ),
        },
        None if verbose == 0 => return Ok(()),
        None => {
            let level = if verbose == 1 { "debug" } else { "trace" };
            let directives: Vec<String> = TRACED.iter().map(|c| format!("{c}={level}")).collect();
            (
                EnvFilter::new(format!("warn,{}", directives.join(","))),
                None,
            )
        }
    };
    // A line when each attempt's span closes: its model, attempt, status and latency, even
    // when nothing inside it logged.
    let installed = tracing_subscriber::fmt()
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    if let Err(e) = installed {
        return Err(format!("tracing is off: {e}"));
    }
    problem.map_or(Ok(()), Err)
}

async fn run_async(ui: &Ui, cli: &Cli, command: &Command) -> Result<ExitCode, Failure> {
    match command {
        Command::Mock(args) => mock_cmd::run(ui, &cli.global, args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Generate(args) => generate::generate(ui, &cli.global, args).await,
        Command::Edit(args) => generate::edit(ui, &cli.global, args).await,
        Command::Compose(args) => generate::compose(ui, &cli.global, args).await,
        Command::Chat(args) => chat::run(ui, &cli.global, args).await,
        Command::Batch(args) => batch::run(ui, &cli.global, args).await,
        Command::Sizes(args) => sizes::run(ui, args).map(|()| ExitCode::SUCCESS),
        Command::Upload(args) => upload::run(ui, &cli.global, args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Models(args) => models::run_live(ui, &cli.global, args)
            .await
            .map(|()| ExitCode::SUCCESS),
    }
}
