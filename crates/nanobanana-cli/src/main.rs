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
mod mock_cmd;
mod models;
mod service;
mod sizes;
mod spinner;
mod ui;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::ui::{Failure, Ui};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(&cli.global);
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
        Command::Models(args) => models::run_live(ui, &cli.global, args)
            .await
            .map(|()| ExitCode::SUCCESS),
    }
}
