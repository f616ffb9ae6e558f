//! End-to-end tests of the `nanobanana` binary: each runs the built command as a user would,
//! against the fake server started in-process (`--mock`) or started here and reached with
//! `--base-url` (so the test can see what was sent). Written files are decoded back (PNG IHDR /
//! JPEG SOF via `nanobanana_mock::image::sniff`) and compared with the resolution table.
//!
//! One file on purpose: every test binary links the whole stack.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nanobanana_mock::image::{ImageFormat, sniff};
use nanobanana_mock::{Endpoint, MockGemini};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_nanobanana");

/// A fresh directory for one test under cargo's scratch space; the command runs inside it, so
/// messages hold short relative paths.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("nanobanana-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What a run printed and how it ended.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "the command failed: {self:#?}");
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:#?}"))
    }
}

/// A command with a clean environment: no key, no base URL from the caller's shell.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY")
        .env_remove("GOOGLE_GEMINI_BASE_URL")
        .stdin(Stdio::null());
    command
}

fn finish(output: std::process::Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn run(dir: &Path, args: &[&str]) -> Run {
    finish(command(dir, args).output().unwrap())
}

fn run_with_input(mut command: Command, input: &str) -> Run {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    finish(child.wait_with_output().unwrap())
}

/// Runs the command from async tests (the fake server keeps serving on the runtime).
async fn run_async(command: Command) -> Run {
    let mut command = command;
    tokio::task::spawn_blocking(move || finish(command.output().unwrap()))
        .await
        .unwrap()
}

/// A command pointed at `server` with a key.
fn against(server: &MockGemini, dir: &Path, args: &[&str]) -> Command {
    let mut command = command(dir, args);
    command
        .arg("--base-url")
        .arg(server.uri())
        .env("GEMINI_API_KEY", "test-key-0123456789");
    command
}

/// The format and pixel size of a complete image file.
fn image_size(path: &Path) -> (ImageFormat, u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    sniff(&bytes).unwrap_or_else(|| panic!("{} is not a whole PNG or JPEG", path.display()))
}

/// The published size for (model, ratio, size) (SPEC.md §1, resolution-tables.json).
fn table(model: &str, ratio: &str, size: Option<&str>) -> (u32, u32) {
    let size = size.map(nanobanana_wire::ImageSize::from);
    let entry = nanobanana_rules::resolution::table()
        .get(model, &ratio.into(), size.as_ref())
        .unwrap();
    (entry.width(), entry.height())
}

fn generate_requests(server: &MockGemini) -> Vec<Value> {
    server
        .received_requests()
        .iter()
        .filter(|r| r.endpoint() == Endpoint::GenerateContent)
        .map(|r| r.json().expect("a JSON body"))
        .collect()
}

/// The README's first command (rule `resolution-table`): no key, no network, a real PNG of the
/// table's default size (1K, 1:1), and nothing on stderr when it is not a terminal (no
/// spinner, no stray escape codes).
#[test]
fn the_readme_command_writes_a_table_sized_png() {
    let dir = scratch("readme");
    let run = run(
        &dir,
        &[
            "generate",
            "--mock",
            "a nano banana dish",
            "-o",
            "banana.png",
        ],
    )
    .ok();
    let (width, height) = table("gemini-3.1-flash-image-preview", "1:1", Some("1K"));
    assert_eq!(
        image_size(&dir.join("banana.png")),
        (ImageFormat::Png, width, height)
    );
    assert!(
        run.stdout
            .contains(&format!("wrote banana.png ({width}x{height} image/png")),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains("Here is an image"),
        "the model's text: {run:#?}"
    );
    assert!(run.stdout.contains("tokens: "), "the usage: {run:#?}");
    assert_eq!(run.stderr, "", "stderr is not a terminal: no spinner");
    // Written atomically: no temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["banana.png"]);
}

/// SPEC.md §1 (rule `resolution-table`): every model, ratios and sizes from each family, the
/// 512 size and the 21:9@512 erratum (`resolution-erratum-21x9-512`, made as published); each
/// written file decodes to the table's size.
#[test]
fn generated_files_decode_to_the_table_sizes() {
    let dir = scratch("sizes");
    let cases = [
        ("gemini-3.1-flash-image-preview", "16:9", Some("2K")),
        ("gemini-3.1-flash-image-preview", "1:8", Some("512")),
        ("gemini-3.1-flash-image-preview", "21:9", Some("512")),
        ("gemini-3-pro-image-preview", "21:9", Some("4K")),
        ("gemini-3-pro-image-preview", "3:4", None),
        ("gemini-2.5-flash-image", "3:2", None),
    ];
    for (index, (model, ratio, size)) in cases.iter().enumerate() {
        let out = format!("out-{index}.png");
        let mut args = vec!["generate", "--mock", "a banana", "-m", model, "-a", ratio];
        if let Some(size) = size {
            args.extend(["-s", size]);
        }
        args.extend(["-o", &out]);
        run(&dir, &args).ok();
        let (width, height) = table(model, ratio, *size);
        assert_eq!(
            image_size(&dir.join(&out)),
            (ImageFormat::Png, width, height),
            "{model} {ratio} {size:?}"
        );
    }
}

/// SPEC.md §2: each flag family becomes the documented request field (seen by the fake server),
/// and the answer's parts come back where they belong: thoughts and thought images with
/// `--show-thoughts` (§3), sources to attribute with `--search` (§3, display duties).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flag_family_reaches_the_request_and_the_output() {
    let dir = scratch("flags");
    let server = MockGemini::builder().allow_unmatched().start().await;
    let run = run_async(against(
        &server,
        &dir,
        &[
            "generate",
            "a nano banana dish",
            "-o",
            "banana.png",
            "--aspect-ratio",
            "16:9",
            "--size",
            "2K",
            "--thinking",
            "high",
            "--show-thoughts",
            "thoughts",
            "--search",
            "both",
        ],
    ))
    .await
    .ok();
    let requests = generate_requests(&server);
    assert_eq!(requests.len(), 1);
    let config = &requests[0]["generationConfig"];
    assert_eq!(config["imageConfig"]["aspectRatio"], "16:9");
    assert_eq!(config["imageConfig"]["imageSize"], "2K");
    assert_eq!(config["thinkingConfig"]["thinkingLevel"], "HIGH");
    assert_eq!(config["thinkingConfig"]["includeThoughts"], true);
    assert_eq!(
        requests[0]["tools"][0]["googleSearch"]["searchTypes"],
        serde_json::json!({"webSearch": {}, "imageSearch": {}})
    );
    assert_eq!(
        requests[0]["contents"][0]["parts"][0]["text"],
        "a nano banana dish"
    );

    let (width, height) = table("gemini-3.1-flash-image-preview", "16:9", Some("2K"));
    assert_eq!(
        image_size(&dir.join("banana.png")),
        (ImageFormat::Png, width, height)
    );
    assert!(run.stdout.starts_with("thoughts:\n"), "{run:#?}");
    let thought = dir.join("thoughts").join("thought-1.png");
    assert_eq!(image_size(&thought).0, ImageFormat::Png);
    assert!(
        run.stdout.contains("wrote thoughts/thought-1.png"),
        "{run:#?}"
    );
    // Image sources link to the page, with the image as a second link.
    let sources = run
        .stdout
        .split("sources to attribute (link to the page, not the image):\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no sources: {run:#?}"));
    assert!(sources.contains("<https://"), "{sources}");
    assert!(sources.contains("(image: https://"), "{sources}");

    // --image-only: responseModalities IMAGE, and no text comes back.
    let run = run_async(against(
        &server,
        &dir,
        &[
            "generate",
            "just the picture",
            "--image-only",
            "-o",
            "only.png",
        ],
    ))
    .await
    .ok();
    let requests = generate_requests(&server);
    assert_eq!(
        requests[1]["generationConfig"]["responseModalities"],
        serde_json::json!(["IMAGE"])
    );
    assert!(!run.stdout.contains("Here is"), "{run:#?}");
    assert!(
        run.stdout
            .starts_with("wrote only.png (1024x1024 image/png"),
        "{run:#?}"
    );
}

/// `--json`: one document with the files, their decoded sizes, the table's prediction, the
/// usage and the sources.
#[test]
fn json_output_describes_the_result() {
    let dir = scratch("json");
    let run = run(
        &dir,
        &[
            "--json",
            "generate",
            "--mock",
            "a banana",
            "-a",
            "4:3",
            "--search",
            "web",
            "-o",
            "banana.png",
        ],
    )
    .ok();
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["outcome"], "images");
    assert_eq!(doc["model"], "gemini-3.1-flash-image-preview");
    let (width, height) = table("gemini-3.1-flash-image-preview", "4:3", Some("1K"));
    assert_eq!(doc["images"][0]["path"], "banana.png");
    assert_eq!(doc["images"][0]["width"], width);
    assert_eq!(doc["images"][0]["height"], height);
    assert_eq!(doc["predicted"]["width"], width);
    assert_eq!(doc["predicted"]["tokensPerImage"], 1120);
    assert!(doc["usage"]["totalTokens"].as_u64().unwrap() > 0);
    assert_eq!(doc["sources"][0]["kind"], "web");
    assert!(
        doc["searchEntryPointHtml"]
            .as_str()
            .unwrap()
            .contains("chip")
    );
}

/// Input images: `-i` on generate, `edit`, and `compose`; without `--aspect-ratio` the output
/// keeps the input's ratio (SPEC.md §1), and the images travel inline with their detected type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_compose_and_input_images() {
    let dir = scratch("inputs");
    let server = MockGemini::builder().allow_unmatched().start().await;
    let wide = nanobanana_mock::image::render(
        ImageFormat::Jpeg,
        nanobanana_mock::image::Style::Final,
        1376,
        768,
        b"wide",
    )
    .unwrap();
    std::fs::write(dir.join("wide.png"), &wide).unwrap(); // a JPEG with a .png name
    run_async(against(
        &server,
        &dir,
        &["edit", "wide.png", "make it night", "-o", "night.png"],
    ))
    .await
    .ok();
    assert_eq!(
        image_size(&dir.join("night.png")),
        (ImageFormat::Png, 1376, 768)
    );
    run_async(against(
        &server,
        &dir,
        &[
            "generate",
            "in the style of",
            "-i",
            "wide.png",
            "-i",
            "night.png",
            "-o",
            "styled.png",
        ],
    ))
    .await
    .ok();
    run_async(against(
        &server,
        &dir,
        &[
            "compose",
            "--object",
            "wide.png",
            "--character",
            "night.png",
            "--character",
            "styled.png",
            "the characters in the scene",
            "-a",
            "1:1",
            "-o",
            "composed.png",
        ],
    ))
    .await
    .ok();
    assert_eq!(
        image_size(&dir.join("composed.png")),
        (ImageFormat::Png, 1024, 1024)
    );
    let requests = generate_requests(&server);
    assert_eq!(requests.len(), 3);
    let mime = |request: &Value, part: usize| {
        request["contents"][0]["parts"][part]["inlineData"]["mimeType"].clone()
    };
    // edit: the prompt, then the image (its type from the bytes, not the name).
    assert_eq!(
        requests[0]["contents"][0]["parts"][0]["text"],
        "make it night"
    );
    assert_eq!(mime(&requests[0], 1), "image/jpeg");
    // generate -i: the prompt, then the images in order.
    assert_eq!(mime(&requests[1], 1), "image/jpeg");
    assert_eq!(mime(&requests[1], 2), "image/png");
    // compose: the prompt and three references.
    let images = requests[2]["contents"][0]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p.get("inlineData").is_some())
        .count();
    assert_eq!(images, 3);
}

/// SPEC.md §3: an answer may hold several images; they are written as OUT-1, OUT-2, ... with
/// the extension of their type when OUT has none, and a size that differs from the table's
/// prediction is pointed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_images_are_numbered() {
    use nanobanana_mock::Mock;
    use nanobanana_mock::image::{Style, render};
    use nanobanana_wire::Base64Bytes;

    let dir = scratch("numbered");
    let server = MockGemini::builder().allow_unmatched().start().await;
    let png = render(ImageFormat::Png, Style::Final, 64, 32, b"one").unwrap();
    let jpeg = render(ImageFormat::Jpeg, Style::Final, 32, 64, b"two").unwrap();
    let image = |mime: &str, bytes: &[u8]| {
        serde_json::json!({
            "inlineData": {"mimeType": mime, "data": Base64Bytes::new(bytes.to_vec()).to_base64()},
            "thoughtSignature": "c2ln"
        })
    };
    Mock::any()
        .endpoint(Endpoint::GenerateContent)
        .respond_json(
            200,
            serde_json::json!({
                "candidates": [{"content": {"role": "model", "parts": [
                    {"text": "Two recipes, one picture each.", "thoughtSignature": "c2ln"},
                    image("image/png", &png),
                    image("image/jpeg", &jpeg)
                ]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2240, "totalTokenCount": 2245}
            }),
        )
        .mount(&server)
        .await;
    let run = run_async(against(
        &server,
        &dir,
        &["generate", "two recipes", "-o", "recipe"],
    ))
    .await
    .ok();
    assert_eq!(
        image_size(&dir.join("recipe-1.png")),
        (ImageFormat::Png, 64, 32)
    );
    assert_eq!(
        image_size(&dir.join("recipe-2.jpg")),
        (ImageFormat::Jpeg, 32, 64)
    );
    assert!(
        run.stdout.contains("wrote recipe-1.png (64x32 image/png"),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains("wrote recipe-2.jpg (32x64 image/jpeg"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains("note: the image is 64x32, the resolution table predicts 1024x1024"),
        "{run:#?}"
    );
    // A name whose extension does not fit the data is kept, with a warning.
    let run = run_async(against(
        &server,
        &dir,
        &["generate", "two recipes", "-o", "named.png"],
    ))
    .await
    .ok();
    assert_eq!(
        image_size(&dir.join("named-2.png")),
        (ImageFormat::Jpeg, 32, 64)
    );
    assert!(
        run.stderr
            .contains("warning: named-2.png holds image/jpeg data"),
        "{run:#?}"
    );
}

/// Files are never overwritten without `--force`; with it they are, atomically.
#[test]
fn existing_files_need_force() {
    let dir = scratch("force");
    std::fs::write(dir.join("banana.png"), b"precious").unwrap();
    let refused = run(&dir, &["generate", "--mock", "x", "-o", "banana.png"]);
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert_eq!(std::fs::read(dir.join("banana.png")).unwrap(), b"precious");
    run(
        &dir,
        &["generate", "--mock", "x", "-o", "banana.png", "--force"],
    )
    .ok();
    assert_eq!(image_size(&dir.join("banana.png")).0, ImageFormat::Png);
    // `-o banana` writes banana.png: the file that exists is refused before any request (exit
    // code 2), not found after the answer came.
    let refused = run(&dir, &["generate", "--mock", "x", "-o", "banana"]);
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(
        refused
            .stderr
            .contains("banana.png exists; not overwritten (add --force to replace it)"),
        "{refused:#?}"
    );
}

/// Refusals happen before any request (exit code 2) with the rule's message and the allowed
/// values; the fake server behind `--base-url` receives nothing. The texts are snapshotted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_send_nothing_and_exit_2() {
    let dir = scratch("refusals");
    let server = MockGemini::builder().allow_unmatched().start().await;
    std::fs::write(dir.join("notes.txt"), b"not an image").unwrap();
    std::fs::write(dir.join("exists.png"), b"x").unwrap();
    let png = nanobanana_mock::image::render(
        ImageFormat::Png,
        nanobanana_mock::image::Style::Final,
        64,
        64,
        b"ref",
    )
    .unwrap();
    std::fs::write(dir.join("ref.png"), &png).unwrap();
    std::fs::write(
        dir.join("bad.jsonl"),
        "{\"prompt\": \"ok\"}\n{\"prompt\": \"x\", \"ratio\": \"1:1\"}\nnot json\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("rules.jsonl"),
        "{\"prompt\": \"ok\"}\n{\"prompt\": \"x\", \"imageSize\": \"1k\"}\n",
    )
    .unwrap();
    let five_characters: Vec<&str> = ["--character", "ref.png"]
        .iter()
        .copied()
        .cycle()
        .take(10)
        .collect();
    let mut compose = vec!["compose"];
    compose.extend(&five_characters);
    compose.extend(["a group photo", "-o", "group.png"]);
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // SPEC.md §1: aspect ratios per model (aspect-ratio-supported).
        (
            "unknown ratio",
            vec!["generate", "x", "-a", "7:3", "-o", "a.png"],
        ),
        (
            "ratio the model lacks",
            vec![
                "generate",
                "x",
                "-m",
                "gemini-3-pro-image-preview",
                "-a",
                "4:1",
                "-o",
                "a.png",
            ],
        ),
        // SPEC.md §2: capital K (image-size-casing), 512 only on 3.1 Flash.
        (
            "lower-case 1k",
            vec!["generate", "x", "-s", "1k", "-o", "a.png"],
        ),
        (
            "512 on Pro",
            vec![
                "generate",
                "x",
                "-m",
                "gemini-3-pro-image-preview",
                "-s",
                "512",
                "-o",
                "a.png",
            ],
        ),
        (
            "size on 2.5 Flash",
            vec![
                "generate",
                "x",
                "-m",
                "gemini-2.5-flash-image",
                "-s",
                "1K",
                "-o",
                "a.png",
            ],
        ),
        // SPEC.md §1: thinking and image search per model.
        (
            "thinking on 2.5 Flash",
            vec![
                "generate",
                "x",
                "-m",
                "gemini-2.5-flash-image",
                "--thinking",
                "high",
                "-o",
                "a.png",
            ],
        ),
        (
            "image search on Pro",
            vec![
                "generate",
                "x",
                "-m",
                "gemini-3-pro-image-preview",
                "--search",
                "image",
                "-o",
                "a.png",
            ],
        ),
        (
            "several rules at once",
            vec!["generate", "x", "-a", "7:3", "-s", "2k", "-o", "a.png"],
        ),
        // Inputs.
        (
            "missing image",
            vec!["edit", "missing.png", "x", "-o", "a.png"],
        ),
        (
            "not an image",
            vec!["generate", "x", "-i", "notes.txt", "-o", "a.png"],
        ),
        // SPEC.md §1: reference limits (input-image-count): 4 characters on 3.1 Flash.
        ("too many references", compose),
        (
            "compose without references",
            vec!["compose", "x", "-o", "a.png"],
        ),
        // Outputs.
        ("existing output", vec!["generate", "x", "-o", "exists.png"]),
        (
            "missing output directory",
            vec!["generate", "x", "-o", "nowhere/a.png"],
        ),
        // Batch files.
        ("bad batch lines", vec!["batch", "bad.jsonl", "-o", "out"]),
        (
            "batch request breaking a rule",
            vec!["batch", "rules.jsonl", "-o", "out"],
        ),
        // Flags clap checks.
        (
            "thinking level not offered",
            vec!["generate", "x", "--thinking", "medium", "-o", "a.png"],
        ),
    ];
    let mut transcript = String::new();
    for (name, args) in &cases {
        let run = run_async(against(&server, &dir, args)).await;
        assert_eq!(run.code, 2, "{name}: {run:#?}");
        assert_eq!(run.stdout, "", "{name}: {run:#?}");
        transcript.push_str(&format!(
            "## {name}\n$ nanobanana {}\n{}\n",
            args.join(" "),
            run.stderr.trim_end()
        ));
    }
    assert_eq!(
        server.received_requests().len(),
        0,
        "a refusal sent something: {:#?}",
        server.received_requests()
    );
    assert!(!dir.join("out").exists() || std::fs::read_dir(dir.join("out")).unwrap().count() == 0);
    insta::assert_snapshot!("refusals", transcript);
}

/// No key and no `--mock`: a clear message (not a stack trace) that says what to do, exit 2.
#[test]
fn no_key_says_what_to_do() {
    let dir = scratch("no-key");
    let run = run(&dir, &["generate", "a banana", "-o", "banana.png"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("no_key", run.stderr);
    assert!(!dir.join("banana.png").exists());
}

/// Service errors exit 1 with the service's message (WIRE.md "Errors"); answers without an
/// image exit 1 with the outcome (WIRE.md "Response details"); the key never shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_errors_and_outcomes_exit_1() {
    let dir = scratch("service");
    let mut transcript = String::new();
    let cases: [(&str, &[&str]); 4] = [
        (
            "overloaded",
            &["--mock-fault", "status=503", "--retries", "0"],
        ),
        ("no image", &["--mock-fault", "outcome=no-image"]),
        (
            "blocked prompt",
            &["--mock-fault", "outcome=blocked-prompt"],
        ),
        ("safety", &["--mock-fault", "outcome=image-safety"]),
    ];
    for (name, extra) in cases {
        let mut args = vec!["generate", "--mock", "a banana", "-o", "banana.png"];
        args.extend(extra);
        let run = run(&dir, &args);
        assert_eq!(run.code, 1, "{name}: {run:#?}");
        assert!(!dir.join("banana.png").exists(), "{name}");
        transcript.push_str(&format!("## {name}\n{}\n", run.stderr.trim_end()));
    }
    // A wrong key: the service's 400 API_KEY_INVALID, and the key appears nowhere.
    let server = MockGemini::builder()
        .api_key("the-right-key")
        .allow_unmatched()
        .start()
        .await;
    let canary = "AIzaSyCANARY-never-print-0123456789";
    let mut command = command(&dir, &["generate", "a banana", "-o", "banana.png"]);
    command
        .args(["--base-url", &server.uri()])
        .env("GEMINI_API_KEY", canary);
    let run = run_async(command).await;
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(!format!("{run:?}").contains(canary));
    transcript.push_str(&format!("## wrong key\n{}\n", run.stderr.trim_end()));
    insta::assert_snapshot!("service_errors", transcript);

    // With --json, the error is a document on stdout too.
    let run = self::run(
        &dir,
        &[
            "--json",
            "generate",
            "--mock",
            "x",
            "-o",
            "b.png",
            "--mock-fault",
            "outcome=no-image",
        ],
    );
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"]["kind"], "failed");
    assert_eq!(doc["error"]["outcome"], "no-image");
}

/// `--json` refusals carry every violation with its rule id, path and allowed values.
#[test]
fn json_refusals_list_the_violations() {
    let dir = scratch("json-refusal");
    let run = run(
        &dir,
        &[
            "--json", "generate", "--mock", "x", "-s", "1k", "-o", "a.png",
        ],
    );
    assert_eq!(run.code, 2);
    let doc = run.json();
    assert_eq!(doc["error"]["kind"], "refused");
    let violation = &doc["error"]["violations"][0];
    assert_eq!(violation["rule"], "image-size-casing");
    assert_eq!(violation["path"], "/generationConfig/imageConfig/imageSize");
    assert_eq!(violation["sent"], "1k");
    assert_eq!(violation["allowed"], "512, 1K, 2K, 4K");
}

/// Chat (SPEC.md §2 multi-turn, §4 signatures): scripted stdin, one image per turn, the
/// session saved after every turn; a second run with the same file resumes the conversation,
/// which the fake server accepts only because every model turn came back with its signatures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_resumes_from_its_session_file() {
    let dir = scratch("chat");
    let server = MockGemini::builder().allow_unmatched().start().await;
    let plate = nanobanana_mock::image::render(
        ImageFormat::Png,
        nanobanana_mock::image::Style::Final,
        64,
        64,
        b"plate",
    )
    .unwrap();
    std::fs::write(dir.join("plate.png"), &plate).unwrap();
    let first = tokio::task::spawn_blocking({
        let command = against(
            &server,
            &dir,
            &["chat", "--session", "banana.chat.json", "-o", "turns"],
        );
        move || {
            run_with_input(
                command,
                "a nano banana dish\n\n/ratio 16:9\n/image plate.png\nnow on this plate\n/history\n/quit\nnever sent\n",
            )
        }
    })
    .await
    .unwrap()
    .ok();
    assert!(first.stdout.contains("turn 1:\n"), "{first:#?}");
    assert!(
        first.stdout.contains("wrote turns/turn-002.png (1376x768"),
        "{first:#?}"
    );
    assert!(
        first
            .stdout
            .contains("1. a nano banana dish -> turns/turn-001.png"),
        "{first:#?}"
    );
    assert_eq!(
        image_size(&dir.join("turns/turn-001.png")),
        (ImageFormat::Png, 1024, 1024)
    );
    assert_eq!(
        image_size(&dir.join("turns/turn-002.png")),
        (ImageFormat::Png, 1376, 768)
    );
    let session: Value =
        serde_json::from_slice(&std::fs::read(dir.join("banana.chat.json")).unwrap()).unwrap();
    assert_eq!(session["format"], "nanobanana.chat");
    assert_eq!(session["history"].as_array().unwrap().len(), 4);
    assert_eq!(session["options"]["aspectRatio"], "16:9");
    let requests = generate_requests(&server);
    assert_eq!(requests.len(), 2, "/quit ends the chat");
    // The attached image went with the second prompt, after it.
    let last_user = &requests[1]["contents"][2]["parts"];
    assert_eq!(last_user[0]["text"], "now on this plate");
    assert_eq!(last_user[1]["inlineData"]["mimeType"], "image/png");

    let second = tokio::task::spawn_blocking({
        let command = against(
            &server,
            &dir,
            &[
                "--json",
                "chat",
                "--session",
                "banana.chat.json",
                "-o",
                "turns",
            ],
        );
        move || run_with_input(command, "add a tiny chef's hat\n")
    })
    .await
    .unwrap()
    .ok();
    let turn: Value = serde_json::from_str(second.stdout.trim()).unwrap();
    assert_eq!(turn["turn"], 3);
    assert_eq!(turn["images"][0]["path"], "turns/turn-003.png");
    assert_eq!(
        turn["images"][0]["width"], 1376,
        "the session's ratio is kept"
    );
    // The third request carried the whole history, signatures included.
    let requests = generate_requests(&server);
    assert_eq!(requests.len(), 3);
    let contents = requests[2]["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 5);
    for model_turn in [&contents[1], &contents[3]] {
        assert_eq!(model_turn["role"], "model");
        assert!(
            model_turn["parts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p.get("thoughtSignature").is_some()),
            "{model_turn}"
        );
    }
    let session: Value =
        serde_json::from_slice(&std::fs::read(dir.join("banana.chat.json")).unwrap()).unwrap();
    assert_eq!(session["history"].as_array().unwrap().len(), 6);
}

/// A failed chat turn (here NO_IMAGE) keeps the history as it was and, with scripted input,
/// ends the command with exit code 1; a tampered session file is refused (exit code 2).
#[test]
fn chat_failures_keep_the_session_intact() {
    let dir = scratch("chat-failures");
    let run = run_with_input(
        command(
            &dir,
            &[
                "chat",
                "--mock",
                "--session",
                "s.json",
                "--mock-fault",
                "outcome=no-image",
            ],
        ),
        "a banana\n",
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("the turn was not kept"), "{run:#?}");
    assert!(
        !dir.join("s.json").exists(),
        "nothing to save after a failed first turn"
    );

    run_with_input(
        command(&dir, &["chat", "--mock", "--session", "s.json"]),
        "a banana\n",
    )
    .ok();
    let text = std::fs::read_to_string(dir.join("s.json")).unwrap();
    std::fs::write(
        dir.join("tampered.json"),
        text.replacen("a banana", "a melon", 1),
    )
    .unwrap();
    let run = run_with_input(
        command(&dir, &["chat", "--mock", "--session", "tampered.json"]),
        "again\n",
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("the digest does not match"), "{run:#?}");
    let run = run_with_input(
        command(
            &dir,
            &[
                "chat",
                "--mock",
                "--session",
                "s.json",
                "-m",
                "gemini-3-pro-image-preview",
            ],
        ),
        "again\n",
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("the session is with gemini-3.1-flash-image-preview")
    );
}

/// Batch (SPEC.md §2 "Batch"): the three line forms, submitted as one batch, results written
/// in the file's order (each line asks for another ratio, so the order shows in the sizes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_writes_results_in_order() {
    let dir = scratch("batch");
    let server = MockGemini::builder()
        .allow_unmatched()
        .batch_polls(2)
        .start()
        .await;
    let ratios = ["16:9", "1:1", "9:16", "21:9", "4:3"];
    let mut file = String::from("# one request per line\n");
    for (index, ratio) in ratios.iter().enumerate() {
        match index % 3 {
            0 => file.push_str(&format!(
                "{{\"prompt\": \"banana {index}\", \"aspectRatio\": \"{ratio}\", \"key\": \"b{index}\"}}\n"
            )),
            1 => file.push_str(&format!(
                "{{\"key\": \"k{index}\", \"request\": {{\"contents\": [{{\"role\": \"user\", \"parts\": [{{\"text\": \"banana {index}\"}}]}}], \"generationConfig\": {{\"imageConfig\": {{\"aspectRatio\": \"{ratio}\"}}}}}}}}\n"
            )),
            _ => file.push_str(&format!(
                "{{\"contents\": [{{\"role\": \"user\", \"parts\": [{{\"text\": \"banana {index}\"}}]}}], \"generationConfig\": {{\"imageConfig\": {{\"aspectRatio\": \"{ratio}\"}}}}}}\n\n"
            )),
        }
    }
    std::fs::write(dir.join("prompts.jsonl"), file).unwrap();
    let run = run_async(against(
        &server,
        &dir,
        &[
            "batch",
            "prompts.jsonl",
            "-o",
            "out",
            "--poll-interval",
            "10ms",
        ],
    ))
    .await
    .ok();
    let expected = [
        "001-b0.png",
        "002-k1.png",
        "003.png",
        "004-b3.png",
        "005-k4.png",
    ];
    for (name, ratio) in expected.iter().zip(ratios) {
        let (width, height) = table("gemini-3.1-flash-image-preview", ratio, Some("1K"));
        assert_eq!(
            image_size(&dir.join("out").join(name)),
            (ImageFormat::Png, width, height),
            "{name}"
        );
    }
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].contains("BATCH_STATE_SUCCEEDED"), "{run:#?}");
    assert!(
        lines[1].starts_with("1. b0 wrote out/001-b0.png"),
        "{run:#?}"
    );
    assert!(lines[3].starts_with("3. wrote out/003.png"), "{run:#?}");
    assert_eq!(lines.last(), Some(&"5 of 5 requests made images; 0 failed"));
    let polls = server
        .received_requests()
        .iter()
        .filter(|r| r.endpoint() == Endpoint::BatchGet)
        .count();
    assert!(polls >= 2, "the batch was polled until done: {polls}");
}

/// `sizes`: the resolution table per model, tokens per image, the 21:9@512 erratum marked
/// (rule `resolution-erratum-21x9-512`).
#[test]
fn sizes_prints_the_table_with_the_erratum() {
    let dir = scratch("sizes-table");
    let run = run(&dir, &["sizes"]).ok();
    insta::assert_snapshot!("sizes", run.stdout);
    let run = self::run(
        &dir,
        &[
            "--json",
            "sizes",
            "--model",
            "gemini-3.1-flash-image-preview",
        ],
    )
    .ok();
    let doc = run.json();
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 14 * 4);
    let marked: Vec<&Value> = entries.iter().filter(|e| !e["erratum"].is_null()).collect();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0]["aspectRatio"], "21:9");
    assert_eq!(marked[0]["imageSize"], "512");
    assert_eq!(marked[0]["erratum"]["consistentHeight"], 336);
}

/// `mock`: the fake server in the foreground prints where it listens first; another run of the
/// command can use it with `--base-url`.
#[test]
fn mock_serves_in_the_foreground() {
    let dir = scratch("mock");
    let mut server = command(&dir, &["mock", "--quiet", "--image-format", "jpeg"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let uri = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    let mut client = command(
        &dir,
        &[
            "generate",
            "a banana",
            "-o",
            "banana.jpg",
            "--base-url",
            &uri,
        ],
    );
    client.env("GEMINI_API_KEY", "any-key-0123456789");
    let run = finish(client.output().unwrap());
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        image_size(&dir.join("banana.jpg")),
        (ImageFormat::Jpeg, 1024, 1024)
    );
}

/// The help is worth reading: examples, exit codes, and every flag of generate.
#[test]
fn help_texts() {
    let dir = scratch("help");
    let run = run(&dir, &["--help"]).ok();
    assert!(
        run.stdout.contains("nanobanana generate --mock"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("Exit codes: 0 success"), "{run:#?}");
    let run = self::run(&dir, &["generate", "--help"]).ok();
    insta::assert_snapshot!("generate_help", run.stdout);
}

/// On a terminal (a pseudo-terminal from `script`, util-linux/bsdutils): the chat greets,
/// prompts with the turn number, draws a spinner on stderr while it waits and clears its line,
/// and a bad command is reported without ending the conversation.
#[test]
fn chat_on_a_terminal() {
    let dir = scratch("chat-tty");
    // script(1) forwards its stdin to the terminal the command reads from.
    let inner = format!("'{BIN}' chat --mock --mock-fault delay=300ms -o turns");
    let mut command = Command::new("script");
    command
        .args(["-qec", &inner, "/dev/null"])
        .current_dir(&dir)
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY");
    let run = run_with_input(command, "/bogus\na banana\n/quit\n");
    assert_eq!(run.code, 0, "{run:#?}");
    let screen = &run.stdout;
    assert!(
        screen.contains("chat with gemini-3.1-flash-image-preview (fake server)"),
        "{screen}"
    );
    assert!(screen.contains("1> "), "{screen}");
    assert!(screen.contains("error: unknown command /bogus"), "{screen}");
    assert!(
        screen.contains("turn 1: generating with"),
        "the spinner: {screen}"
    );
    assert!(
        screen.contains("\r\x1b[K"),
        "the spinner's line is cleared: {screen}"
    );
    assert!(screen.contains("2> "), "{screen}");
    assert_eq!(
        image_size(&dir.join("turns/turn-001.png")),
        (ImageFormat::Png, 1024, 1024)
    );
}
