//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! - `codegen [--check]`: infers the wire types from every JSON body in `fixtures/cases/`, merges
//!   the overlay `crates/nanobanana-wire/overlay.json`, and writes
//!   `crates/nanobanana-wire/src/generated/*.rs` plus `fixtures/manifest.json`. With `--check` it
//!   writes nothing and fails when the committed output is stale.
//! - `bench-report [criterion flags]`: runs the decode benchmarks (`benches/`) once, plus the
//!   peak-memory probe, and prints throughput and memory against the performance targets.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench_report;
mod codegen;
mod corpus;
mod emit;
mod infer;
mod manifest;
mod overlay;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => match args.get(1).map(String::as_str) {
            None => codegen::run(&project_root(), codegen::Mode::Write),
            Some("--check") => codegen::run(&project_root(), codegen::Mode::Check),
            Some(other) => Err(format!(
                "unknown codegen flag {other:?}; expected --check or nothing"
            )),
        },
        Some("bench-report") => bench_report::run(&project_root(), &args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

const HELP: &str = "\
cargo xtask <command>

Commands:
  codegen          regenerate crates/nanobanana-wire/src/generated/ and fixtures/manifest.json
                   from fixtures/cases/ and crates/nanobanana-wire/overlay.json
  codegen --check  fail if the committed generated files are stale (what CI runs)
  bench-report     run the decode benchmarks (benches/) and the peak-memory probe once and print
                   GB/s and peak memory against the targets (extra arguments go to Criterion)
";

/// The workspace root: the parent of this crate's directory.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
