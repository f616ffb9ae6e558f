//! A bounded fuzz run on the stable toolchain: every target of `nanobanana_fuzz` is fed
//! mutations of its seeds (the fixture corpus and the issue-20 findings) for a fixed time or
//! number of executions. Not coverage-guided (that is `cargo +nightly fuzz run`), but the same
//! invariants, with overflow checks and debug assertions on, in CI every run.
//!
//! ```text
//! bounded [--seconds S] [--iterations N] [--target NAME]... [--seed N] [--write-seeds]
//! ```
//!
//! `--seconds` is per target (default 15); `--iterations` stops a target earlier. A failing input
//! is written to `fuzz/artifacts/<target>/crash-<hash>` and the run exits with code 1; replay it
//! with `cargo +nightly fuzz run <target> <file>` or `bounded --replay <target> <file>`.
//! `--write-seeds` writes the seeds to `fuzz/corpus/<target>/` for cargo-fuzz and exits.

#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Tokens the mutator inserts: JSON structure, the request fields the rules read, and the names
/// and numbers behind the issue-20 findings.
const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "\\u0000",
    "null",
    "true",
    "0",
    "-1",
    "18446744073709551615",
    "1e309",
    "\"image_Config\"",
    "\"imageConfig\"",
    "\"image_config\"",
    "\"0\"",
    "\"/\"",
    "\"~\"",
    "\"~1\"",
    "\"imageSize\"",
    "\"aspectRatio\"",
    "\"1k\"",
    "\"1K\"",
    "\"8K\"",
    "\"4:1\"",
    "\"21:9\"",
    "\"IMAGE\"",
    "\"TEXT\"",
    "\"responseModalities\"",
    "\"generationConfig\"",
    "\"contents\"",
    "\"parts\"",
    "\"thoughtSignature\"",
    "\"inlineData\"",
    "\"fileData\"",
    "\"role\"",
    "\"model\"",
    "data: ",
    "data:",
    "\r\n",
    "\r",
    "\n\n",
    ": c\n",
    "\u{feff}",
    "event: x\n",
    "pageToken=",
    "offset:",
    "upload_id=",
    "x-goog-upload-command: upload, finalize\n",
    "x-goog-upload-offset: 0\n",
    "x-nanobanana-mode: replay\n",
    "x-nanobanana-image-format: jpeg\n",
];

/// JSON values the structural mutator puts in place of others.
fn json_values() -> Vec<Value> {
    serde_json::from_str(
        r#"[null, 0, -1, 1.5, 18446744073709551615, "", "1k", "1K", "512", "8K", "4:1", "16:9",
        "IMAGE", "TEXT", "image", "model", "user", "c2ln", "not base64!", {}, [], [{}],
        {"imageSize": "1k"}, {"image_Config": {}}, {"0": 1}, {"/": {}}, [{"text": "x"}],
        {"parts": [{"text": "x", "thought": true, "thoughtSignature": "c2ln"}], "role": "model"}]"#,
    )
    .unwrap_or_default()
}

const NAMES: &[&str] = &[
    "contents",
    "parts",
    "text",
    "role",
    "generationConfig",
    "generation_config",
    "imageConfig",
    "image_config",
    "image_Config",
    "ImageConfig",
    "imageSize",
    "image_size",
    "aspectRatio",
    "responseModalities",
    "thinkingConfig",
    "thinkingLevel",
    "includeThoughts",
    "thinkingBudget",
    "tools",
    "googleSearch",
    "searchTypes",
    "imageSearch",
    "inlineData",
    "mimeType",
    "data",
    "fileData",
    "fileUri",
    "thoughtSignature",
    "thought",
    "0",
    "12",
    "/",
    "~",
    "a/b~c",
    "",
    "systemInstruction",
    "safetySettings",
    "candidateCount",
];

/// xorshift64*: deterministic from `--seed`, so a run reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const MAX_LEN: usize = 64 << 10;

fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(6) {
        let len = data.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                data[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                data[at] = [0, 0xFF, b'"', b'\\', b'\n', b'{', b'}', 0x80][rng.below(8)];
            }
            2 => {
                let at = rng.below(len + 1);
                let token = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                data.splice(at..at, token.iter().copied());
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(16)).min(len);
                data.drain(at..end);
            }
            4 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(32)).min(len);
                let copy = data[at..end].to_vec();
                let to = rng.below(len + 1);
                data.splice(to..to, copy);
            }
            5 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let end = (from + 1 + rng.below(64)).min(other.len());
                    let to = rng.below(len + 1);
                    data.splice(to..to, other[from..end].iter().copied());
                }
            }
            6 if len > 0 => data.truncate(rng.below(len)),
            _ => {
                let at = rng.below(len + 1);
                data.insert(at, rng.next() as u8);
            }
        }
    }
    data.truncate(MAX_LEN);
}

/// Renames, replaces, removes or adds one member somewhere in a JSON tree.
fn mutate_json(rng: &mut Rng, value: &mut Value, values: &[Value]) {
    // A path chosen by walking the tree read-only, then followed mutably.
    let mut pointer = String::new();
    {
        let mut node: &Value = value;
        for _ in 0..rng.below(6) {
            let step = match node {
                Value::Object(map) if !map.is_empty() => map
                    .iter()
                    .nth(rng.below(map.len()))
                    .map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v)),
                Value::Array(items) if !items.is_empty() => {
                    let at = rng.below(items.len());
                    Some((at.to_string(), &items[at]))
                }
                _ => None,
            };
            match step {
                Some((segment, child)) if rng.below(4) != 0 => {
                    pointer.push('/');
                    pointer.push_str(&segment);
                    node = child;
                }
                _ => break,
            }
        }
    }
    let Some(node) = value.pointer_mut(&pointer) else {
        return;
    };
    let fresh = values[rng.below(values.len())].clone();
    match node {
        Value::Object(map) => {
            let key = map.keys().nth(rng.below(map.len().max(1))).cloned();
            match (rng.below(4), key) {
                (0, Some(key)) => {
                    if let Some(v) = map.remove(&key) {
                        map.insert(NAMES[rng.below(NAMES.len())].to_owned(), v);
                    }
                }
                (1, Some(key)) => {
                    map.remove(&key);
                }
                (2, Some(key)) => {
                    map.insert(key, fresh);
                }
                _ => {
                    map.insert(NAMES[rng.below(NAMES.len())].to_owned(), fresh);
                }
            }
        }
        Value::Array(items) => {
            let at = rng.below(items.len() + 1);
            items.insert(at, fresh);
        }
        other => *other = fresh,
    }
}

/// One mutated input: structural for JSON (after the validator's model byte, or after the mock
/// request's head), byte-level otherwise or at random.
fn mutate(
    rng: &mut Rng,
    target: &str,
    seed: &[u8],
    seeds: &[Vec<u8>],
    values: &[Value],
) -> Vec<u8> {
    let split = match target {
        "validate_request" => seed.len().min(1),
        "mock_request" => seed
            .windows(2)
            .position(|w| w == b"\n\n")
            .map_or(seed.len(), |at| at + 2),
        _ => 0,
    };
    let (head, body) = seed.split_at(split);
    let mut out;
    if rng.below(2) == 0
        && let Ok(mut json) = serde_json::from_slice::<Value>(body)
    {
        for _ in 0..1 + rng.below(3) {
            mutate_json(rng, &mut json, values);
        }
        out = head.to_vec();
        if target == "validate_request" && rng.below(4) == 0 {
            out = vec![rng.next() as u8];
        }
        out.extend_from_slice(json.to_string().as_bytes());
    } else {
        out = seed.to_vec();
        mutate_bytes(rng, &mut out, seeds);
    }
    out
}

struct Options {
    seconds: f64,
    iterations: Option<u64>,
    targets: Vec<String>,
    seed: u64,
    write_seeds: bool,
    replay: Option<(String, PathBuf)>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        seconds: 15.0,
        iterations: None,
        targets: Vec::new(),
        seed: 0x5eed,
        write_seeds: false,
        replay: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{arg} needs {what}"));
        match arg.as_str() {
            "--seconds" => {
                options.seconds = value("a number of seconds")?
                    .parse()
                    .map_err(|_| "--seconds takes a number of seconds, e.g. 15".to_owned())?;
            }
            "--iterations" => {
                options.iterations = Some(
                    value("a count")?
                        .parse()
                        .map_err(|_| "--iterations takes a count, e.g. 100000".to_owned())?,
                );
            }
            "--target" => options.targets.push(value("a target name")?),
            "--seed" => {
                options.seed = value("a number")?
                    .parse()
                    .map_err(|_| "--seed takes a number".to_owned())?;
            }
            "--write-seeds" => options.write_seeds = true,
            "--replay" => {
                let target = value("a target and a file")?;
                let file = PathBuf::from(value("a file")?);
                options.replay = Some((target, file));
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?}; allowed: --seconds S, --iterations N, --target NAME, --seed N, --write-seeds, --replay TARGET FILE"
                ));
            }
        }
    }
    let known: Vec<&str> = nanobanana_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
    for name in &options.targets {
        if !known.contains(&name.as_str()) {
            return Err(format!(
                "unknown target {name:?}; allowed: {}",
                known.join(", ")
            ));
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("bounded: {e}");
            return ExitCode::from(2);
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if let Some((target, file)) = &options.replay {
        let Some((_, run)) = nanobanana_fuzz::TARGETS.iter().find(|(n, _)| n == target) else {
            eprintln!("bounded: unknown target {target:?}");
            return ExitCode::from(2);
        };
        match std::fs::read(file) {
            Ok(data) => {
                run(&data);
                println!("{target}: {} ran without a failure", file.display());
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("bounded: cannot read {}: {e}", file.display());
                return ExitCode::from(2);
            }
        }
    }
    let values = json_values();
    let mut failed = false;
    for (name, run) in nanobanana_fuzz::TARGETS {
        if !options.targets.is_empty() && !options.targets.iter().any(|t| t == name) {
            continue;
        }
        let seeds = nanobanana_fuzz::seeds(name);
        if options.write_seeds {
            let dir = root.join("corpus").join(name);
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("bounded: cannot create {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
            for (i, seed) in seeds.iter().enumerate() {
                let _ = std::fs::write(dir.join(format!("seed-{i:04}")), seed);
            }
            println!("{name}: {} seeds written to {}", seeds.len(), dir.display());
            continue;
        }
        let mut rng = Rng(options.seed ^ name.len() as u64 ^ 0x9e37_79b9_7f4a_7c15);
        let deadline = Instant::now() + Duration::from_secs_f64(options.seconds.max(0.0));
        let started = Instant::now();
        let mut executions: u64 = 0;
        let mut failure = None;
        // Every seed as it is first, then mutations.
        let mut inputs = seeds.iter().cloned();
        loop {
            if options.iterations.is_some_and(|n| executions >= n)
                || (executions.is_multiple_of(64)
                    && Instant::now() >= deadline
                    && executions >= seeds.len() as u64)
            {
                break;
            }
            let input = match inputs.next() {
                Some(seed) => seed,
                None if seeds.is_empty() => {
                    let mut data = Vec::new();
                    mutate_bytes(&mut rng, &mut data, &seeds);
                    data
                }
                None => {
                    let seed = &seeds[rng.below(seeds.len())];
                    mutate(&mut rng, name, seed, &seeds, &values)
                }
            };
            executions += 1;
            if catch_unwind(AssertUnwindSafe(|| run(&input))).is_err() {
                failure = Some(input);
                break;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        match failure {
            None => println!(
                "{name}: {executions} executions in {elapsed:.1} s ({:.0}/s) from {} seeds, no failure",
                executions as f64 / elapsed.max(1e-9),
                seeds.len()
            ),
            Some(input) => {
                failed = true;
                let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                });
                let dir = root.join("artifacts").join(name);
                let path = dir.join(format!("crash-{hash:016x}"));
                let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &input));
                eprintln!(
                    "{name}: FAILED after {executions} executions; input written to {} (replay: bounded --replay {name} {})",
                    path.display(),
                    path.display()
                );
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
