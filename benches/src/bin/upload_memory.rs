//! Memory of an upload streamed from disk (issue 18): a large generated file (256 MiB by
//! default, 2 GiB with `--large`, any size with `--mib N`) uploaded with
//! `Files::upload_path` to the fake server, cut at 60% by the server's `cut-upload-at` fault
//! so that the resume runs too, and the peak memory of this process printed: the counting
//! allocator's peak of live heap bytes during the upload (above what was live before it) and
//! the kernel's peak resident set (`VmHWM` of `/proc/self/status`) before and after.
//!
//! The fake server runs in a child process (this binary with `--serve`), so the file it stores
//! is not counted here. Memory stays flat when the peak is about one upload chunk (8 MiB by
//! default, `--chunk-mib N`), whatever the file's size. `cargo xtask bench-report` runs it with
//! the defaults; the file is written under the system's temporary directory and removed.

// The counting allocator (`src/alloc_probe.rs`) implements `GlobalAlloc`, which is `unsafe` by
// definition; see peak_memory.rs.
#![allow(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use nanobanana_mock::MockGemini;
use nanobanana_transport::{Client, ClientConfig, RequestOptions, UploadOptions};
use sha2::{Digest, Sha256};

#[path = "../alloc_probe.rs"]
mod alloc_probe;

use alloc_probe::{CURRENT, PEAK};

const MIB: u64 = 1 << 20;

struct Args {
    serve: bool,
    mib: u64,
    chunk_mib: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        serve: false,
        mib: 256,
        chunk_mib: 8,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} takes a positive number of MiB"))
        };
        match arg.as_str() {
            "--serve" => args.serve = true,
            "--large" => args.mib = 2048,
            "--mib" => args.mib = number("--mib")?,
            "--chunk-mib" => args.chunk_mib = number("--chunk-mib")?,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; allowed: --large (2 GiB), --mib N, --chunk-mib N"
                ));
            }
        }
    }
    Ok(args)
}

/// `VmHWM` (peak resident set) of this process in bytes, from `/proc/self/status`.
fn vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if args.serve {
        runtime.block_on(serve(&args))
    } else {
        runtime.block_on(measure(&args))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The child: a fake server with room for the file, until its stdin closes.
async fn serve(args: &Args) -> Result<(), String> {
    let room = usize::try_from((args.mib + 64) * MIB).map_err(|e| e.to_string())?;
    let server = MockGemini::builder()
        .state_limits(16, room, 16)
        .body_limit(usize::try_from((args.chunk_mib + 1) * MIB).map_err(|e| e.to_string())?)
        .journal_body_limit(0)
        .start()
        .await;
    println!("{}", server.uri());
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
    })
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// Removes the generated file however the measurement ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn measure(args: &Args) -> Result<(), String> {
    let total = args.mib * MIB;
    let scratch = Scratch(std::env::temp_dir().join(format!(
        "nanobanana-upload-memory-{}.bin",
        std::process::id()
    )));
    // The file, written 1 MiB at a time (pseudo-random, so nothing compresses), and its digest.
    let mut hasher = Sha256::new();
    {
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(&scratch.0)
                .map_err(|e| format!("{}: {e}", scratch.0.display()))?,
        );
        let mut block = vec![0u8; MIB as usize];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..args.mib {
            for word in block.chunks_exact_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                word.copy_from_slice(&state.to_le_bytes());
            }
            hasher.update(&block);
            file.write_all(&block).map_err(|e| e.to_string())?;
        }
        file.flush().map_err(|e| e.to_string())?;
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args([
            "--serve",
            "--mib",
            &args.mib.to_string(),
            "--chunk-mib",
            &args.chunk_mib.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the fake server process: {e}"))?;
    let mut uri = String::new();
    if let Some(stdout) = child.stdout.take() {
        BufReader::new(stdout)
            .read_line(&mut uri)
            .map_err(|e| e.to_string())?;
    }
    let uri = uri.trim().to_owned();
    if uri.is_empty() {
        let _ = child.kill();
        return Err("the fake server process printed no address".to_owned());
    }

    let client = Client::new(
        ClientConfig::new("upload-memory-bench")
            .with_base_url(&uri)
            .with_upload_chunk_size((args.chunk_mib * MIB) as usize),
    )
    .map_err(|e| e.to_string())?;
    let reports = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&reports);
    let options = UploadOptions::new()
        .with_display_name("upload-memory.bin")
        .with_progress(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .with_request_options(
            RequestOptions::new().with_header("x-nanobanana-fault", "cut-upload-at=60%"),
        );

    let hwm_before = vm_hwm().unwrap_or(0);
    let live_before = CURRENT.load(Ordering::Relaxed) as u64;
    PEAK.store(live_before as usize, Ordering::Relaxed);
    let started = Instant::now();
    let uploaded = client
        .files()
        .upload_path(&scratch.0, "application/octet-stream", &options)
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let peak_live = PEAK.load(Ordering::Relaxed) as u64;
    let hwm_after = vm_hwm().unwrap_or(0);
    drop(child.stdin.take());
    let _ = child.wait();
    let uploaded = uploaded.map_err(|e| format!("the upload failed: {e}"))?;

    let expected = nanobanana_transport::wire::Base64Bytes::new(hex.into_bytes()).to_base64();
    let matches = uploaded.sha256_hash.as_deref() == Some(expected.as_str())
        && uploaded.size_bytes.map(|n| n.get()) == i64::try_from(total).ok();
    println!(
        "file MiB  chunk MiB  progress reports  seconds  live before MiB  peak live MiB  peak - before MiB  VmHWM before MiB  VmHWM after MiB  sha256"
    );
    println!(
        "{:>8}  {:>9}  {:>16}  {:>7.2}  {:>15.2}  {:>13.2}  {:>17.2}  {:>16.1}  {:>15.1}  {}",
        args.mib,
        args.chunk_mib,
        reports.load(Ordering::Relaxed),
        seconds,
        mb(live_before),
        mb(peak_live),
        mb(peak_live.saturating_sub(live_before)),
        mb(hwm_before),
        mb(hwm_after),
        if matches { "matches" } else { "DIFFERS" },
    );
    println!(
        "(cut at 60% by the fake server and resumed; the fake server runs in a child process; peak - before is the upload's own heap, about one chunk when memory stays flat)"
    );
    if !matches {
        return Err(format!(
            "the stored file (sha256Hash {:?}, {:?} bytes) is not the file (sha256Hash {expected:?}, {total} bytes)",
            uploaded.sha256_hash,
            uploaded.size_bytes.map(|n| n.get())
        ));
    }
    Ok(())
}
