//! `cargo xtask bench-report`: runs the decode benchmarks once and tabulates them against the
//! performance targets.
//!
//! 1. `cargo bench -p nanobanana-benches --bench decode -- <flags>` (brief Criterion settings by
//!    default; any arguments after `bench-report` replace them);
//! 2. reads `target/criterion/<group>/<function>/new/estimates.json` (mean point estimate, ns per
//!    iteration) and `benchmark.json` (throughput in bytes) of every group and function, refusing
//!    results older than this run;
//! 3. runs the peak-memory probe (`cargo run --release -p nanobanana-benches --bin peak_memory`),
//!    which decodes the 4K response once under a counting allocator;
//! 4. prints the table and says, for each target, whether it is met;
//! 5. runs the end-to-end harness (`cargo run --release -p nanobanana-benches --bin end_to_end --
//!    --settings`): the 1K, 2K and 4K answers served by a bare hyper server on loopback, a plain
//!    hyper client's raw read against our client end to end (and python google-genai when
//!    installed), the peak memory of one request, the issue-19 targets met or missed, and the raw
//!    read under other HTTP client settings. Its output is printed as it comes;
//! 6. runs the upload-memory harness (`cargo run --release -p nanobanana-benches --bin
//!    upload_memory`): a 256 MiB file uploaded from disk to the fake server (in a child
//!    process), cut at 60% and resumed, with the client's peak heap and `VmHWM` (issue 18).
//!
//! Depends on neither Criterion nor the benches crate: it runs cargo and reads JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use serde_json::Value;

/// Criterion groups in report order, with a label. Keep in step with
/// `nanobanana_benches::Scenario::ALL` (benches/src/lib.rs).
const GROUPS: [(&str, &str); 5] = [
    ("single_1k", "1K image"),
    ("single_2k", "2K image"),
    ("single_4k", "4K image"),
    ("three_images", "2 thought + 2K final"),
    ("sse_4k", "4K image as SSE event"),
];

/// The functions of every group.
const FUNCTIONS: [&str; 4] = ["wire", "naive", "memcpy", "images_into"];

/// Criterion flags used when none are given: the whole run stays well under two minutes.
const DEFAULT_FLAGS: [&str; 5] = ["--warm-up-time", "1", "--measurement-time", "2", "--noplot"];

/// The targets.
const TARGET_WIRE_GBPS: f64 = 10.0;
const TARGET_WIRE_OVER_NAIVE: f64 = 4.0;
const TARGET_WIRE_OVER_MEMCPY: f64 = 0.5;
const TARGET_SSE_SLOWDOWN: f64 = 1.5;
const TARGET_PEAK_EXTRA_MB: f64 = 1.0;

/// One group's results.
struct Row {
    group: &'static str,
    label: &'static str,
    bytes: u64,
    /// Mean ns per iteration of `wire`, `naive`, `memcpy`, `images_into`.
    mean_ns: [f64; 4],
}

impl Row {
    fn gbps(&self, function: usize) -> f64 {
        // Bytes per nanosecond is GB/s (decimal).
        self.bytes as f64 / self.mean_ns[function]
    }
}

pub(crate) fn run(root: &Path, flags: &[String]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = target_directory(root, &cargo)?;
    let criterion_dir = target_dir.join("criterion");
    let flags: Vec<String> = if flags.is_empty() {
        DEFAULT_FLAGS.iter().map(|s| (*s).to_owned()).collect()
    } else {
        flags.to_vec()
    };

    let started = SystemTime::now();
    println!(
        "== cargo bench -p nanobanana-benches --bench decode -- {} ==",
        flags.join(" ")
    );
    let status = Command::new(&cargo)
        .current_dir(root)
        .args([
            "bench",
            "-p",
            "nanobanana-benches",
            "--bench",
            "decode",
            "--",
        ])
        .args(&flags)
        .status()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    if !status.success() {
        return Err(format!("cargo bench failed ({status})"));
    }

    let mut rows = Vec::new();
    for (group, label) in GROUPS {
        let mut mean_ns = [0.0; 4];
        let mut bytes = None;
        for (i, function) in FUNCTIONS.iter().enumerate() {
            let dir = criterion_dir.join(group).join(function).join("new");
            let estimates = read_fresh_json(&dir.join("estimates.json"), started)?;
            mean_ns[i] = estimates["mean"]["point_estimate"]
                .as_f64()
                .filter(|ns| *ns > 0.0)
                .ok_or_else(|| format!("{}: no mean point estimate", dir.display()))?;
            let benchmark = read_fresh_json(&dir.join("benchmark.json"), started)?;
            let these = benchmark["throughput"]["Bytes"]
                .as_u64()
                .ok_or_else(|| format!("{}: no Bytes throughput", dir.display()))?;
            if bytes.is_some_and(|b| b != these) {
                return Err(format!("{group}: functions disagree on the throughput"));
            }
            bytes = Some(these);
        }
        rows.push(Row {
            group,
            label,
            bytes: bytes.unwrap_or_default(),
            mean_ns,
        });
    }

    println!("\n== cargo run --release -p nanobanana-benches --bin peak_memory ==");
    let peak = peak_memory(root, &cargo)?;

    print_report(&rows, &peak, &criterion_dir, &flags);

    run_harness(
        root,
        &cargo,
        "end_to_end",
        &["--settings"],
        "the end-to-end harness",
    )?;
    run_harness(
        root,
        &cargo,
        "upload_memory",
        &[],
        "the upload-memory harness",
    )?;
    Ok(())
}

/// Runs one harness binary of the benches crate in release mode, its output on our stdout.
fn run_harness(
    root: &Path,
    cargo: &std::ffi::OsStr,
    bin: &str,
    args: &[&str],
    what: &str,
) -> Result<(), String> {
    let mut line = format!("cargo run --release -p nanobanana-benches --bin {bin}");
    if !args.is_empty() {
        line.push_str(" -- ");
        line.push_str(&args.join(" "));
    }
    println!("\n== {line} ==");
    let status = bench_command(root, cargo, bin)
        .arg("--")
        .args(args)
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if !status.success() {
        return Err(format!("{what} failed ({status})"));
    }
    Ok(())
}

/// `target_directory` from `cargo metadata` (honours `CARGO_TARGET_DIR` and config).
fn target_directory(root: &Path, cargo: &std::ffi::OsStr) -> Result<PathBuf, String> {
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed ({})", output.status));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed invalid JSON: {e}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata has no target_directory".to_owned())
}

/// Reads a JSON file that this run wrote (modified at or after `started`).
fn read_fresh_json(path: &Path, started: SystemTime) -> Result<Value, String> {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| format!("{}: {e} (did the bench run this group?)", path.display()))?;
    if modified < started {
        return Err(format!(
            "{} is older than this run; refusing to mix runs",
            path.display()
        ));
    }
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// What the peak-memory probe printed.
struct Peak {
    input_bytes: u64,
    image_bytes: u64,
    live_before: u64,
    peak_live: u64,
}

impl Peak {
    /// Bytes live at the peak beyond the input body and the decoded images.
    fn extra(&self) -> i64 {
        self.peak_live as i64 - self.input_bytes as i64 - self.image_bytes as i64
    }
}

/// `cargo run --release --quiet -p nanobanana-benches --bin BIN` in the project root.
fn bench_command(root: &Path, cargo: &std::ffi::OsStr, bin: &str) -> Command {
    let mut command = Command::new(cargo);
    command.current_dir(root).args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "nanobanana-benches",
        "--bin",
        bin,
    ]);
    command
}

fn peak_memory(root: &Path, cargo: &std::ffi::OsStr) -> Result<Peak, String> {
    let output = bench_command(root, cargo, "peak_memory")
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run the peak-memory probe: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "peak-memory probe failed ({}): {stdout}",
            output.status
        ));
    }
    let value: Value = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("peak-memory probe printed {stdout:?}: {e}"))?;
    let field = |name: &str| {
        value[name]
            .as_u64()
            .ok_or_else(|| format!("peak-memory probe printed no {name}: {stdout}"))
    };
    Ok(Peak {
        input_bytes: field("input_bytes")?,
        image_bytes: field("image_bytes")?,
        live_before: field("live_before")?,
        peak_live: field("peak_live")?,
    })
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

fn print_report(rows: &[Row], peak: &Peak, criterion_dir: &Path, flags: &[String]) {
    const MB: f64 = 1e6;
    println!("\n== decode throughput (GB/s of body bytes, mean of one run) ==\n");
    let names: Vec<String> = rows
        .iter()
        .map(|row| format!("{} ({})", row.group, row.label))
        .collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    println!(
        "{:<width$} {:>8} {:>10} {:>10} {:>10} {:>11} {:>11} {:>12}",
        "payload",
        "JSON MB",
        "wire GB/s",
        "into GB/s",
        "naive GB/s",
        "memcpy GB/s",
        "wire/naive",
        "wire/memcpy"
    );
    for (row, name) in rows.iter().zip(&names) {
        let (wire, naive, memcpy, into) = (row.gbps(0), row.gbps(1), row.gbps(2), row.gbps(3));
        println!(
            "{name:<width$} {:>8.2} {:>10.2} {:>10.2} {:>10.2} {:>11.2} {:>10.2}x {:>11.2}x",
            row.bytes as f64 / MB,
            wire,
            into,
            naive,
            memcpy,
            wire / naive,
            wire / memcpy,
        );
    }
    println!(
        "\nwire: decode_response into the typed GenerateContentResponse (fresh buffers); into: decode_images_into with one reused buffer."
    );

    let min = |f: &dyn Fn(&Row) -> f64| rows.iter().map(f).fold(f64::INFINITY, f64::min);
    let min_wire = min(&|r| r.gbps(0));
    let min_into = min(&|r| r.gbps(3));
    let min_vs_naive = min(&|r| r.gbps(0) / r.gbps(1));
    let min_vs_memcpy = min(&|r| r.gbps(0) / r.gbps(2));
    let by_group = |group: &str| rows.iter().find(|r| r.group == group);
    let sse_slowdown = match (by_group("sse_4k"), by_group("single_4k")) {
        (Some(sse), Some(plain)) => sse.mean_ns[0] / plain.mean_ns[0],
        _ => f64::NAN,
    };
    let extra_mb = peak.extra() as f64 / MB;

    println!(
        "\nPeak memory of one wire decode of single_4k: input {:.2} MB, decoded images {:.2} MB, \
         live before {:.2} MB, peak live {:.2} MB; peak - input - images = {:.3} MB ({} bytes)",
        peak.input_bytes as f64 / MB,
        peak.image_bytes as f64 / MB,
        peak.live_before as f64 / MB,
        peak.peak_live as f64 / MB,
        extra_mb,
        peak.extra(),
    );

    println!("\nTargets (the worst payload counts):");
    let target = |name: String, value: String, met: bool, note: &str| {
        let line = format!("  {name:<34} {value:>11}   {:<8}{note}", verdict(met));
        println!("{}", line.trim_end());
    };
    target(
        format!("wire >= {TARGET_WIRE_GBPS} GB/s"),
        format!("{min_wire:.2} GB/s"),
        min_wire >= TARGET_WIRE_GBPS,
        "",
    );
    target(
        format!("into >= {TARGET_WIRE_GBPS} GB/s"),
        format!("{min_into:.2} GB/s"),
        min_into >= TARGET_WIRE_GBPS,
        "(decode_images_into, reused buffer)",
    );
    target(
        format!("wire >= {TARGET_WIRE_OVER_NAIVE}x naive"),
        format!("{min_vs_naive:.2}x"),
        min_vs_naive >= TARGET_WIRE_OVER_NAIVE,
        "",
    );
    target(
        format!("wire >= {TARGET_WIRE_OVER_MEMCPY}x memcpy"),
        format!("{min_vs_memcpy:.2}x"),
        min_vs_memcpy >= TARGET_WIRE_OVER_MEMCPY,
        "",
    );
    target(
        format!("SSE within {TARGET_SSE_SLOWDOWN}x of non-streaming"),
        format!("{sse_slowdown:.2}x"),
        sse_slowdown <= TARGET_SSE_SLOWDOWN,
        "(sse_4k / single_4k wire time)",
    );
    target(
        format!("peak - input - images <= {TARGET_PEAK_EXTRA_MB} MB"),
        format!("{extra_mb:.3} MB"),
        extra_mb <= TARGET_PEAK_EXTRA_MB,
        "(one wire decode of single_4k)",
    );

    println!(
        "\nSource: {}/<group>/<wire|naive|memcpy|images_into>/new/estimates.json (mean point estimate, ns per \
         iteration) and benchmark.json (throughput bytes), all written by this run (Criterion flags: \
         {}); peak memory from benches/src/bin/peak_memory.rs (counting global allocator, release \
         build). GB/s and MB are decimal (1e9, 1e6 bytes).",
        criterion_dir.display(),
        flags.join(" "),
    );
}
