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
        .filter(|r| r.endpoint() == Some(Endpoint::GenerateContent))
        .map(|r| r.json().expect("a JSON body"))
        .collect()
}

/// The model of each generateContent request, in order (from the request's path).
fn generate_models(server: &MockGemini) -> Vec<String> {
    server
        .received_requests()
        .iter()
        .filter(|r| r.endpoint() == Some(Endpoint::GenerateContent))
        .map(|r| r.model().expect("a models/{model} path").to_owned())
        .collect()
}

/// The README's first command (rule `resolution-table`): no key, no network, a real image of
/// the table's default size (1K, 1:1) from the default model (`gemini-nano-banana-2.1`, which
/// answers JPEG, so the file is named .jpg), and nothing on stderr when it is not a terminal (no
/// spinner, no stray escape codes, no warning about the file's name).
#[test]
fn the_readme_command_writes_a_table_sized_image() {
    let dir = scratch("readme");
    let run = run(
        &dir,
        &[
            "generate",
            "--mock",
            "a nano banana dish",
            "-o",
            "banana.jpg",
        ],
    )
    .ok();
    let (width, height) = table("gemini-nano-banana-2.1", "1:1", Some("1K"));
    assert_eq!(
        image_size(&dir.join("banana.jpg")),
        (ImageFormat::Jpeg, width, height)
    );
    assert!(
        run.stdout
            .contains(&format!("wrote banana.jpg ({width}x{height} image/jpeg")),
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
    assert_eq!(names, ["banana.jpg"]);
}

/// Without `-m` the model is the catalogue's default, `gemini-nano-banana-2.1` (since
/// 2026-10-06), and like every 3.x model it answers JPEG: `-o x` without an extension becomes
/// `x.jpg`, the table's size, with 2.1's estimated prediction (3.1 Flash Image's rows).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_model_is_nano_banana_2_1_and_answers_jpeg() {
    let dir = scratch("default-model");
    let run = self::run(&dir, &["--json", "generate", "--mock", "x", "-o", "x"]).ok();
    let doc = run.json();
    assert_eq!(doc["model"], "gemini-nano-banana-2.1", "{run:#?}");
    let (width, height) = table("gemini-nano-banana-2.1", "1:1", Some("1K"));
    assert_eq!((width, height), (1024, 1024));
    assert_eq!(doc["images"][0]["path"], "x.jpg");
    assert_eq!(doc["images"][0]["mimeType"], "image/jpeg");
    assert_eq!(doc["predicted"]["width"], width);
    assert_eq!(
        image_size(&dir.join("x.jpg")),
        (ImageFormat::Jpeg, width, height)
    );
    assert_eq!(run.stderr, "", "the default model is live: no warning");

    // What goes over the wire: the request is for gemini-nano-banana-2.1, with no
    // thinking config unless asked for (its default level, medium, can be asked for).
    let server = MockGemini::builder().allow_unmatched().start().await;
    run_async(against(&server, &dir, &["generate", "x", "-o", "y.jpg"]))
        .await
        .ok();
    run_async(against(
        &server,
        &dir,
        &["generate", "x", "--thinking", "medium", "-o", "z.jpg"],
    ))
    .await
    .ok();
    assert_eq!(
        generate_models(&server),
        ["gemini-nano-banana-2.1", "gemini-nano-banana-2.1"]
    );
    let requests = generate_requests(&server);
    assert!(
        requests[0]["generationConfig"]
            .get("thinkingConfig")
            .is_none(),
        "{}",
        requests[0]
    );
    assert_eq!(
        requests[1]["generationConfig"]["thinkingConfig"]["thinkingLevel"],
        "MEDIUM"
    );
    assert_eq!(image_size(&dir.join("z.jpg")).0, ImageFormat::Jpeg);
}

/// SPEC.md §1 (rule `resolution-table`): every model served today, ratios and sizes from each
/// family, the 512 size and the 21:9@512 erratum (`resolution-erratum-21x9-512`, made as
/// published); each written file decodes to the table's size (2.1's and Lite's estimated from
/// 3.1 Flash Image's rows) in the model's format: JPEG for the 3.x models, PNG for 2.5 Flash
/// Image. The deprecated and the restricted model work and warn, naming the replacement.
#[test]
fn generated_files_decode_to_the_table_sizes() {
    use ImageFormat::{Jpeg, Png};
    let dir = scratch("sizes");
    let cases = [
        ("gemini-nano-banana-2.1", "8:1", Some("2K"), Jpeg),
        ("gemini-nano-banana-2.1", "21:9", None, Jpeg),
        ("gemini-3.1-flash-lite-image", "4:5", None, Jpeg),
        ("gemini-3.1-flash-image", "16:9", Some("2K"), Jpeg),
        ("gemini-3.1-flash-image", "1:8", Some("512"), Jpeg),
        ("gemini-3.1-flash-image", "21:9", Some("512"), Jpeg),
        ("gemini-3-pro-image", "21:9", Some("4K"), Jpeg),
        ("gemini-3-pro-image", "3:4", None, Jpeg),
        ("gemini-2.5-flash-image", "3:2", None, Png),
    ];
    for (index, (model, ratio, size, format)) in cases.iter().enumerate() {
        let extension = if *format == Jpeg { "jpg" } else { "png" };
        let out = format!("out-{index}.{extension}");
        let mut args = vec!["generate", "--mock", "a banana", "-m", model, "-a", ratio];
        if let Some(size) = size {
            args.extend(["-s", size]);
        }
        args.extend(["-o", &out]);
        let run = run(&dir, &args).ok();
        let (width, height) = table(model, ratio, *size);
        assert_eq!(
            image_size(&dir.join(&out)),
            (*format, width, height),
            "{model} {ratio} {size:?}"
        );
        // The name fits the data, so the only warning is the model's lifecycle.
        assert!(!run.stderr.contains("holds image/"), "{run:#?}");
        match *model {
            "gemini-3.1-flash-image" | "gemini-2.5-flash-image" => assert!(
                run.stderr
                    .contains(&format!("warning: --model: Model {model}"))
                    && run.stderr.contains("Use gemini-nano-banana-2.1 instead")
                    && run.stderr.contains("(rule model-lifecycle)"),
                "{run:#?}"
            ),
            _ => assert_eq!(run.stderr, "", "{model} is live: {run:#?}"),
        }
    }
    // The erratum is made as published, and 2.1's 8:1 at 2K is 3.1 Flash Image's row.
    assert_eq!(image_size(&dir.join("out-5.jpg")), (Jpeg, 792, 168));
    assert_eq!(image_size(&dir.join("out-0.jpg")), (Jpeg, 6144, 768));
}

/// SPEC.md §2: each flag family becomes the documented request field (seen by the fake server),
/// and the answer's parts come back where they belong: thoughts and thought images with
/// `--show-thoughts` (§3), sources to attribute with `--search` (§3, display duties). Image
/// search needs `gemini-3.1-flash-image` (2.1 has web search only); its images are JPEG.
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
            "-m",
            "gemini-3.1-flash-image",
            "-o",
            "banana.jpg",
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
    assert_eq!(generate_models(&server), ["gemini-3.1-flash-image"]);
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

    let (width, height) = table("gemini-3.1-flash-image", "16:9", Some("2K"));
    assert_eq!(
        image_size(&dir.join("banana.jpg")),
        (ImageFormat::Jpeg, width, height)
    );
    assert!(run.stdout.starts_with("thoughts:\n"), "{run:#?}");
    // Thought images come in the model's format too, named by it.
    let thought = dir.join("thoughts").join("thought-1.jpg");
    assert_eq!(image_size(&thought).0, ImageFormat::Jpeg);
    assert!(
        run.stdout.contains("wrote thoughts/thought-1.jpg"),
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

    // --image-only: responseModalities IMAGE, and no text comes back; on the default model
    // (2.1) with its own thinking level, medium, and web search.
    let run = run_async(against(
        &server,
        &dir,
        &[
            "generate",
            "just the picture",
            "--image-only",
            "--thinking",
            "medium",
            "--search",
            "web",
            "-o",
            "only.jpg",
        ],
    ))
    .await
    .ok();
    let requests = generate_requests(&server);
    assert_eq!(
        requests[1]["generationConfig"]["responseModalities"],
        serde_json::json!(["IMAGE"])
    );
    assert_eq!(
        requests[1]["generationConfig"]["thinkingConfig"]["thinkingLevel"],
        "MEDIUM"
    );
    assert_eq!(
        requests[1]["tools"],
        serde_json::json!([{"googleSearch": {}}]),
        "web search: a plain googleSearch tool"
    );
    assert_eq!(
        generate_models(&server),
        ["gemini-3.1-flash-image", "gemini-nano-banana-2.1"]
    );
    assert!(!run.stdout.contains("Here is"), "{run:#?}");
    assert!(
        run.stdout
            .starts_with("wrote only.jpg (1024x1024 image/jpeg"),
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
            "banana.jpg",
        ],
    )
    .ok();
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["outcome"], "images");
    assert_eq!(doc["model"], "gemini-nano-banana-2.1");
    let (width, height) = table("gemini-nano-banana-2.1", "4:3", Some("1K"));
    assert_eq!(doc["images"][0]["path"], "banana.jpg");
    assert_eq!(doc["images"][0]["mimeType"], "image/jpeg");
    assert_eq!(doc["images"][0]["width"], width);
    assert_eq!(doc["images"][0]["height"], height);
    assert_eq!(doc["predicted"]["width"], width);
    assert_eq!(doc["predicted"]["height"], height);
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
/// keeps the input's ratio (SPEC.md §1), and the images travel inline with their detected type
/// (from the bytes, not the name). The default model answers JPEG.
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
    let mark = nanobanana_mock::image::render(
        ImageFormat::Png,
        nanobanana_mock::image::Style::Final,
        64,
        64,
        b"mark",
    )
    .unwrap();
    std::fs::write(dir.join("mark.jpg"), &mark).unwrap(); // a PNG with a .jpg name
    run_async(against(
        &server,
        &dir,
        &["edit", "wide.png", "make it night", "-o", "night.jpg"],
    ))
    .await
    .ok();
    assert_eq!(
        image_size(&dir.join("night.jpg")),
        (ImageFormat::Jpeg, 1376, 768)
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
            "mark.jpg",
            "-i",
            "night.jpg",
            "-o",
            "styled.jpg",
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
            "night.jpg",
            "--character",
            "styled.jpg",
            "the characters in the scene",
            "-a",
            "1:1",
            "-o",
            "composed.jpg",
        ],
    ))
    .await
    .ok();
    assert_eq!(
        image_size(&dir.join("composed.jpg")),
        (ImageFormat::Jpeg, 1024, 1024)
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
    // generate -i: the prompt, then the images in order, each with the type of its bytes.
    assert_eq!(mime(&requests[1], 1), "image/jpeg");
    assert_eq!(mime(&requests[1], 2), "image/png");
    assert_eq!(mime(&requests[1], 3), "image/jpeg");
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_files_need_force() {
    let dir = scratch("force");
    let server = MockGemini::builder().allow_unmatched().start().await;
    std::fs::write(dir.join("banana.jpg"), b"precious").unwrap();
    let refused = run_async(against(
        &server,
        &dir,
        &["generate", "x", "-o", "banana.jpg"],
    ))
    .await;
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert_eq!(std::fs::read(dir.join("banana.jpg")).unwrap(), b"precious");
    run_async(against(
        &server,
        &dir,
        &["generate", "x", "-o", "banana.jpg", "--force"],
    ))
    .await
    .ok();
    assert_eq!(image_size(&dir.join("banana.jpg")).0, ImageFormat::Jpeg);
    assert_eq!(generate_requests(&server).len(), 1);
    // `-o banana` writes banana.jpg (the default model answers JPEG): the file that exists is
    // refused before any request (exit code 2), not found after the answer came.
    let refused = run_async(against(&server, &dir, &["generate", "x", "-o", "banana"])).await;
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(
        refused
            .stderr
            .contains("banana.jpg exists; not overwritten (add --force to replace it)"),
        "{refused:#?}"
    );
    assert_eq!(generate_requests(&server).len(), 1, "nothing was sent");
    // The name checked is the model's: 2.5 Flash Image answers PNG, so `-o banana` is refused
    // for an existing banana.png; for the default model banana.png is no obstacle.
    std::fs::write(dir.join("banana.png"), b"precious").unwrap();
    let refused = run_async(against(
        &server,
        &dir,
        &[
            "generate",
            "x",
            "-m",
            "gemini-2.5-flash-image",
            "-o",
            "banana",
        ],
    ))
    .await;
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(
        refused
            .stderr
            .contains("banana.png exists; not overwritten"),
        "{refused:#?}"
    );
    assert_eq!(generate_requests(&server).len(), 1, "nothing was sent");
    std::fs::remove_file(dir.join("banana.jpg")).unwrap();
    run_async(against(&server, &dir, &["generate", "x", "-o", "banana"]))
        .await
        .ok();
    assert_eq!(image_size(&dir.join("banana.jpg")).0, ImageFormat::Jpeg);
    assert_eq!(std::fs::read(dir.join("banana.png")).unwrap(), b"precious");
}

/// Refusals happen before any request (exit code 2) with the rule's message and the allowed
/// values; the fake server behind `--base-url` receives nothing. The texts are snapshotted.
/// Today's catalogue: the default model is `gemini-nano-banana-2.1` (1K, 2K, 4K; no image
/// search), Lite is 1K only, and the preview ids shut down on 2026-06-25 are refused with their
/// replacement (rule `model-lifecycle`).
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
                "gemini-3-pro-image",
                "-a",
                "4:1",
                "-o",
                "a.png",
            ],
        ),
        // SPEC.md §2: capital K (image-size-casing); sizes per model (image-size-supported):
        // 512 only on 3.1 Flash, not on 2.1 (the default) or Pro, 1K only on Lite.
        (
            "lower-case 1k",
            vec!["generate", "x", "-s", "1k", "-o", "a.png"],
        ),
        (
            "512 on 2.1",
            vec![
                "generate",
                "x",
                "-m",
                "gemini-nano-banana-2.1",
                "-s",
                "512",
                "-o",
                "a.png",
            ],
        ),
        (
            "2K on Lite",
            vec![
                "generate",
                "x",
                "-m",
                "gemini-3.1-flash-lite-image",
                "-s",
                "2K",
                "-o",
                "a.png",
            ],
        ),
        (
            "512 on Pro",
            vec![
                "generate",
                "x",
                "-m",
                "gemini-3-pro-image",
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
            "thinking level the model lacks",
            vec![
                "generate",
                "x",
                "-m",
                "gemini-3.1-flash-image",
                "--thinking",
                "medium",
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
                "gemini-3-pro-image",
                "--search",
                "image",
                "-o",
                "a.png",
            ],
        ),
        (
            "image search on 2.1",
            vec!["generate", "x", "--search", "both", "-o", "a.png"],
        ),
        // Model lifecycle (model-lifecycle): the preview ids were shut down on 2026-06-25.
        (
            "shut-down Pro preview",
            vec![
                "generate",
                "x",
                "-m",
                "gemini-3-pro-image-preview",
                "-o",
                "a.png",
            ],
        ),
        (
            "shut-down Flash preview",
            vec![
                "edit",
                "ref.png",
                "x",
                "-m",
                "gemini-3.1-flash-image-preview",
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
        // SPEC.md §1: reference limits (input-image-count): 4 characters on 2.1 (estimated
        // from 3.1 Flash).
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
        // Flags clap checks: LOW is a wire value no image model offers.
        (
            "thinking level not offered",
            vec!["generate", "x", "--thinking", "low", "-o", "a.png"],
        ),
    ];
    let mut transcript = String::new();
    let mut stderr = std::collections::HashMap::new();
    for (name, args) in &cases {
        let run = run_async(against(&server, &dir, args)).await;
        assert_eq!(run.code, 2, "{name}: {run:#?}");
        assert_eq!(run.stdout, "", "{name}: {run:#?}");
        transcript.push_str(&format!(
            "## {name}\n$ nanobanana {}\n{}\n",
            args.join(" "),
            run.stderr.trim_end()
        ));
        stderr.insert(*name, run.stderr);
    }
    // The refusals name the rule and what is allowed instead.
    let says = |name: &str, texts: &[&str]| {
        for text in texts {
            assert!(
                stderr[name].contains(text),
                "{name}: {text:?} in {}",
                stderr[name]
            );
        }
    };
    says(
        "shut-down Pro preview",
        &[
            "gemini-3-pro-image-preview was shut down on 2026-06-25",
            "Use gemini-3-pro-image instead",
            "(rule model-lifecycle)",
        ],
    );
    says(
        "shut-down Flash preview",
        &[
            "Use gemini-3.1-flash-image instead",
            "(rule model-lifecycle)",
        ],
    );
    says(
        "512 on 2.1",
        &["\"512\" for model gemini-nano-banana-2.1. Allowed: 1K, 2K, 4K."],
    );
    says(
        "2K on Lite",
        &["\"2K\" for model gemini-3.1-flash-lite-image. Allowed: 1K."],
    );
    says(
        "image search on 2.1",
        &["(rule image-search-supported)", "gemini-nano-banana-2.1"],
    );
    says(
        "thinking level the model lacks",
        &["(rule thinking-level-supported)"],
    );
    says("thinking level not offered", &["minimal, medium, high"]);
    assert_eq!(
        server.received_requests().len(),
        0,
        "a refusal sent something: {:#?}",
        server.received_requests()
    );
    assert!(!dir.join("out").exists() || std::fs::read_dir(dir.join("out")).unwrap().count() == 0);
    insta::assert_snapshot!("refusals", transcript);
}

/// `nanobanana mock --chaos/--quota` read the fake server's syntax; a bad text is refused by name.
#[test]
fn mock_refuses_bad_chaos_and_quota_texts() {
    let dir = scratch("mock-chaos");
    let chaos = run(&dir, &["mock", "--chaos", "generate: rate=0.1"]);
    assert_eq!(chaos.code, 2, "{chaos:#?}");
    assert!(
        chaos.stderr.contains("--chaos") && chaos.stderr.contains("unknown endpoint \"generate\""),
        "{chaos:#?}"
    );
    let quota = run(&dir, &["mock", "--quota", "gemini-3.1-flash-image: rps=5"]);
    assert_eq!(quota.code, 2, "{quota:#?}");
    assert!(
        quota.stderr.contains("allowed are rpm, rpd, tpm"),
        "{quota:#?}"
    );
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
    let cases: [(&str, &[&str]); 5] = [
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
        // Today's service may answer a missing signature with a 200 and this finish reason.
        (
            "missing thought signature",
            &["--mock-fault", "outcome=missing-thought-signature"],
        ),
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
    // The default model, gemini-nano-banana-2.1, has no 512.
    assert_eq!(violation["allowed"], "1K, 2K, 4K");
}

/// Chat (SPEC.md §2 multi-turn, §4 signatures): scripted stdin, one image per turn (JPEG, from
/// the default model), the session saved after every turn; a second run with the same file
/// resumes the conversation and sends every model turn back exactly as it was received,
/// signatures included (today's service would accept a turn without them, but the client does
/// not rely on that).
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
        first
            .stdout
            .contains("wrote turns/turn-002.jpg (1376x768 image/jpeg"),
        "{first:#?}"
    );
    assert!(
        first
            .stdout
            .contains("1. a nano banana dish -> turns/turn-001.jpg"),
        "{first:#?}"
    );
    assert_eq!(
        image_size(&dir.join("turns/turn-001.jpg")),
        (ImageFormat::Jpeg, 1024, 1024)
    );
    assert_eq!(
        image_size(&dir.join("turns/turn-002.jpg")),
        (ImageFormat::Jpeg, 1376, 768)
    );
    let session: Value =
        serde_json::from_slice(&std::fs::read(dir.join("banana.chat.json")).unwrap()).unwrap();
    assert_eq!(session["format"], "nanobanana.chat");
    assert_eq!(session["model"], "gemini-nano-banana-2.1");
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
    assert_eq!(turn["model"], "gemini-nano-banana-2.1");
    assert_eq!(turn["images"][0]["path"], "turns/turn-003.jpg");
    assert_eq!(turn["images"][0]["mimeType"], "image/jpeg");
    assert_eq!(
        turn["images"][0]["width"], 1376,
        "the session's ratio is kept"
    );
    // The third request carried the whole history as saved, signatures included.
    let requests = generate_requests(&server);
    assert_eq!(requests.len(), 3);
    assert_eq!(generate_models(&server), ["gemini-nano-banana-2.1"; 3]);
    let contents = requests[2]["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 5);
    assert_eq!(
        &contents[..4],
        session["history"].as_array().unwrap().as_slice(),
        "the history goes back exactly as it was saved"
    );
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

/// A failed chat turn (NO_IMAGE, or today's 200 answer with finishReason
/// MISSING_THOUGHT_SIGNATURE) keeps the history as it was and, with scripted input, ends the
/// command with exit code 1; a tampered session file, another model than the session's, and a
/// shut-down model are refused (exit code 2).
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
    let run = run_with_input(
        command(
            &dir,
            &[
                "chat",
                "--mock",
                "--session",
                "s.json",
                "--mock-fault",
                "outcome=missing-thought-signature",
            ],
        ),
        "a second turn\n",
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("MISSING_THOUGHT_SIGNATURE"), "{run:#?}");
    assert!(run.stderr.contains("the turn was not kept"), "{run:#?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("s.json")).unwrap(),
        text,
        "the session is as it was"
    );
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
                "gemini-3-pro-image",
            ],
        ),
        "again\n",
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("the session is with gemini-nano-banana-2.1, not gemini-3-pro-image"),
        "{run:#?}"
    );
    // A model shut down on 2026-06-25: the first turn is refused before it is sent.
    let run = run_with_input(
        command(
            &dir,
            &["chat", "--mock", "-m", "gemini-3.1-flash-image-preview"],
        ),
        "a banana\n",
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("(rule model-lifecycle)")
            && run.stderr.contains("Use gemini-3.1-flash-image instead"),
        "{run:#?}"
    );
}

/// Batch (SPEC.md §2 "Batch"): the three line forms, submitted as one batch to the default
/// model, results written in the file's order (each line asks for another ratio, so the order
/// shows in the sizes), as JPEG files.
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
        "001-b0.jpg",
        "002-k1.jpg",
        "003.jpg",
        "004-b3.jpg",
        "005-k4.jpg",
    ];
    for (name, ratio) in expected.iter().zip(ratios) {
        let (width, height) = table("gemini-nano-banana-2.1", ratio, Some("1K"));
        assert_eq!(
            image_size(&dir.join("out").join(name)),
            (ImageFormat::Jpeg, width, height),
            "{name}"
        );
    }
    let created: Vec<_> = server
        .received_requests()
        .into_iter()
        .filter(|r| r.endpoint() == Some(Endpoint::BatchCreate))
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].model(), Some("gemini-nano-banana-2.1"));
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].contains("BATCH_STATE_SUCCEEDED"), "{run:#?}");
    assert!(
        lines[1].starts_with("1. b0 wrote out/001-b0.jpg"),
        "{run:#?}"
    );
    assert!(lines[3].starts_with("3. wrote out/003.jpg"), "{run:#?}");
    assert_eq!(lines.last(), Some(&"5 of 5 requests made images; 0 failed"));
    let polls = server
        .received_requests()
        .iter()
        .filter(|r| r.endpoint() == Some(Endpoint::BatchGet))
        .count();
    assert!(polls >= 2, "the batch was polled until done: {polls}");
    // The ledger records the batch and what was written: a later fetch has nothing to do.
    let recorded = ledger(&dir);
    assert_eq!(recorded["batch"], lines[0].split(':').next().unwrap());
    assert_eq!(
        recorded["items"][1]["written"],
        serde_json::json!(["002-k1.jpg"])
    );
    assert_eq!(recorded["items"][2]["line"], 4);
    let fetch = run_async(against(&server, &dir, &["batch", "fetch", "out"]))
        .await
        .ok();
    assert!(
        fetch.stdout.contains("already fetched, nothing to do"),
        "{fetch:#?}"
    );
    assert_eq!(
        server
            .received_requests()
            .iter()
            .filter(|r| r.endpoint() == Some(Endpoint::BatchGet))
            .count(),
        polls
    );

    // Run again: the results' names (.jpg, the default model's type) exist, so the batch is
    // refused before it is submitted.
    let again = run_async(against(
        &server,
        &dir,
        &["batch", "prompts.jsonl", "-o", "out"],
    ))
    .await;
    assert_eq!(again.code, 2, "{again:#?}");
    assert!(
        again
            .stderr
            .contains("out/001-b0.jpg exists; not overwritten"),
        "{again:#?}"
    );
    let created = server
        .received_requests()
        .iter()
        .filter(|r| r.endpoint() == Some(Endpoint::BatchCreate))
        .count();
    assert_eq!(created, 1, "nothing was submitted the second time");
}

/// Three prompt lines with keys a, b and c (ratios 16:9, 1:1, 9:16).
fn three_prompts(dir: &Path) {
    let file = "{\"prompt\": \"banana a\", \"aspectRatio\": \"16:9\", \"key\": \"a\"}\n\
                {\"prompt\": \"banana b\", \"aspectRatio\": \"1:1\", \"key\": \"b\"}\n\
                {\"prompt\": \"banana c\", \"aspectRatio\": \"9:16\", \"key\": \"c\"}\n";
    std::fs::write(dir.join("prompts.jsonl"), file).unwrap();
}

fn count_requests(server: &MockGemini, endpoint: Endpoint) -> usize {
    server
        .received_requests()
        .iter()
        .filter(|r| r.endpoint() == Some(endpoint))
        .count()
}

fn ledger(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("out/nanobanana-batch.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Issue 18: a batch submitted by one process (`batch submit`, which records the ledger and
/// exits) is followed (`status`, `list`) and collected (`fetch`) by others; a second fetch
/// asks the service nothing and rewrites nothing; a file removed since is fetched again alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_submit_then_fetch_in_another_process() {
    let dir = scratch("batch-submit-fetch");
    let server = MockGemini::builder()
        .allow_unmatched()
        .batch_polls(2)
        .start()
        .await;
    three_prompts(&dir);
    let submit = run_async(against(
        &server,
        &dir,
        &["batch", "submit", "prompts.jsonl", "-o", "out"],
    ))
    .await
    .ok();
    let name = submit.stdout.trim().to_owned();
    assert!(name.starts_with("batches/"), "{submit:#?}");
    assert_eq!(submit.stdout.lines().count(), 1, "{submit:#?}");
    assert_eq!(count_requests(&server, Endpoint::BatchCreate), 1);
    assert_eq!(
        count_requests(&server, Endpoint::BatchGet),
        0,
        "submit does not wait"
    );

    // The ledger: the batch, the model, each request's key, line and output name.
    let recorded = ledger(&dir);
    assert_eq!(recorded["version"], 1);
    assert_eq!(recorded["batch"], name.as_str());
    assert_eq!(recorded["model"], "gemini-nano-banana-2.1");
    assert_eq!(recorded["displayName"], "prompts.jsonl");
    assert_eq!(recorded["source"], "prompts.jsonl");
    let items = recorded["items"].as_array().unwrap();
    let summary: Vec<(String, u64, String, String)> = items
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_owned(),
                i["line"].as_u64().unwrap(),
                i["requestKey"].as_str().unwrap().to_owned(),
                i["output"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("0".to_owned(), 1, "a".to_owned(), "001-a".to_owned()),
            ("1".to_owned(), 2, "b".to_owned(), "002-b".to_owned()),
            ("2".to_owned(), 3, "c".to_owned(), "003-c".to_owned()),
        ]
    );
    assert!(items.iter().all(|i| i.get("written").is_none()));

    // status by directory and by name; list.
    let status = run_async(against(&server, &dir, &["batch", "status", "out"]))
        .await
        .ok();
    assert!(
        status
            .stdout
            .starts_with(&format!("{name} BATCH_STATE_RUNNING: 3 requests")),
        "{status:#?}"
    );
    assert!(
        status.stdout.contains("model: gemini-nano-banana-2.1"),
        "{status:#?}"
    );
    let status = run_async(against(
        &server,
        &dir,
        &["batch", "status", &name, "--json"],
    ))
    .await
    .ok();
    let document = status.json();
    assert_eq!(document["batch"], name.as_str());
    assert_eq!(document["requestCount"], 3);
    assert_eq!(document["done"], false);
    let list = run_async(against(&server, &dir, &["batch", "list"]))
        .await
        .ok();
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{list:#?}");
    assert!(
        lines[1].starts_with(&name) && lines[1].ends_with("prompts.jsonl"),
        "{list:#?}"
    );

    // fetch: waits, writes the three images in order.
    let fetch = run_async(against(
        &server,
        &dir,
        &["batch", "fetch", "out", "--poll-interval", "10ms"],
    ))
    .await
    .ok();
    let lines: Vec<&str> = fetch.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("{name}: BATCH_STATE_SUCCEEDED"),
        "{fetch:#?}"
    );
    assert!(
        lines[1].starts_with("1. a wrote out/001-a.jpg"),
        "{fetch:#?}"
    );
    assert_eq!(lines.last(), Some(&"3 of 3 requests made images; 0 failed"));
    for (name, ratio) in [
        ("001-a.jpg", "16:9"),
        ("002-b.jpg", "1:1"),
        ("003-c.jpg", "9:16"),
    ] {
        let (width, height) = table("gemini-nano-banana-2.1", ratio, Some("1K"));
        assert_eq!(
            image_size(&dir.join("out").join(name)),
            (ImageFormat::Jpeg, width, height),
            "{name}"
        );
    }
    let recorded = ledger(&dir);
    assert_eq!(
        recorded["items"][2]["written"],
        serde_json::json!(["003-c.jpg"])
    );

    // fetch again: nothing asked, nothing written.
    let gets = count_requests(&server, Endpoint::BatchGet);
    let modified = std::fs::metadata(dir.join("out/001-a.jpg"))
        .unwrap()
        .modified()
        .unwrap();
    let again = run_async(against(&server, &dir, &["batch", "fetch", "out"]))
        .await
        .ok();
    assert!(
        again
            .stdout
            .starts_with(&format!("{name}: already fetched, nothing to do")),
        "{again:#?}"
    );
    assert!(
        again.stdout.contains("1. a already written: out/001-a.jpg"),
        "{again:#?}"
    );
    assert_eq!(count_requests(&server, Endpoint::BatchGet), gets);
    assert_eq!(
        std::fs::metadata(dir.join("out/001-a.jpg"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );

    // A file removed since: only it is written again.
    std::fs::remove_file(dir.join("out/002-b.jpg")).unwrap();
    let resumed = run_async(against(&server, &dir, &["batch", "fetch", "out", "--json"]))
        .await
        .ok();
    let document = resumed.json();
    let skipped: Vec<bool> = document["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["skipped"] == true)
        .collect();
    assert_eq!(skipped, [true, false, true], "{resumed:#?}");
    assert!(dir.join("out/002-b.jpg").is_file());
    assert_eq!(
        std::fs::metadata(dir.join("out/001-a.jpg"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );

    // status once done: the counts.
    let status = run_async(against(&server, &dir, &["batch", "status", "out"]))
        .await
        .ok();
    assert!(
        status.stdout.starts_with(&format!(
            "{name} BATCH_STATE_SUCCEEDED: 3 requests, 3 succeeded, 0 failed"
        )),
        "{status:#?}"
    );
}

/// `batch cancel`: a running batch is cancelled; fetching it then fails (exit 1) saying so;
/// cancelling it again is the service's error; a directory without a ledger is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_cancel_and_fetch_of_a_cancelled_batch() {
    let dir = scratch("batch-cancel");
    let server = MockGemini::builder()
        .allow_unmatched()
        .batch_polls(1000)
        .start()
        .await;
    three_prompts(&dir);
    let submit = run_async(against(
        &server,
        &dir,
        &["batch", "submit", "prompts.jsonl", "-o", "out"],
    ))
    .await
    .ok();
    let name = submit.stdout.trim().to_owned();
    let cancel = run_async(against(&server, &dir, &["batch", "cancel", "out"]))
        .await
        .ok();
    assert_eq!(
        cancel.stdout.trim(),
        format!("{name}: cancel requested; now BATCH_STATE_CANCELLED")
    );
    let fetch = run_async(against(&server, &dir, &["batch", "fetch", "out"])).await;
    assert_eq!(fetch.code, 1, "{fetch:#?}");
    assert!(
        fetch
            .stderr
            .contains("ended BATCH_STATE_CANCELLED without results"),
        "{fetch:#?}"
    );
    let again = run_async(against(&server, &dir, &["batch", "cancel", &name])).await;
    assert_eq!(again.code, 1, "{again:#?}");
    assert!(again.stderr.contains("has already finished"), "{again:#?}");
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    let refused = run_async(against(&server, &dir, &["batch", "status", "empty"])).await;
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(
        refused.stderr.contains("no ledger (nanobanana-batch.json)"),
        "{refused:#?}"
    );
    // submit refuses a directory that holds a ledger already.
    let twice = run_async(against(
        &server,
        &dir,
        &["batch", "submit", "prompts.jsonl", "-o", "out"],
    ))
    .await;
    assert_eq!(twice.code, 2, "{twice:#?}");
    assert!(
        twice.stderr.contains("nanobanana-batch.json exists"),
        "{twice:#?}"
    );
    assert_eq!(count_requests(&server, Endpoint::BatchCreate), 1);
}

/// Issue 18: `batch FILE -o DIR` killed while it waits leaves its ledger; `batch wait DIR` and
/// `batch fetch DIR` in later processes pick the batch up and write its results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_killed_while_waiting_is_fetched_later() {
    let dir = scratch("batch-killed");
    let server = MockGemini::builder()
        .allow_unmatched()
        .batch_polls(3)
        .start()
        .await;
    three_prompts(&dir);
    // A long first wait: the child polls once, then sleeps until it is killed.
    let mut child = against(
        &server,
        &dir,
        &[
            "batch",
            "prompts.jsonl",
            "-o",
            "out",
            "--poll-interval",
            "60m",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut waited = 0;
    while count_requests(&server, Endpoint::BatchGet) == 0 {
        assert!(waited < 3000, "the batch was never polled");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the command ended early"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.join("out/001-a.jpg").exists());
    assert_eq!(ledger(&dir)["items"].as_array().unwrap().len(), 3);

    let wait = run_async(against(
        &server,
        &dir,
        &["batch", "wait", "out", "--poll-interval", "10ms"],
    ))
    .await
    .ok();
    assert!(
        wait.stdout
            .contains("BATCH_STATE_SUCCEEDED: 3 requests, 3 succeeded"),
        "{wait:#?}"
    );
    let fetch = run_async(against(&server, &dir, &["batch", "fetch", "out"]))
        .await
        .ok();
    assert_eq!(
        fetch.stdout.lines().last(),
        Some("3 of 3 requests made images; 0 failed"),
        "{fetch:#?}"
    );
    for name in ["001-a.jpg", "002-b.jpg", "003-c.jpg"] {
        assert!(dir.join("out").join(name).is_file(), "{name}");
    }
    assert_eq!(count_requests(&server, Endpoint::BatchCreate), 1);
}

/// `sizes`: the resolution table of every catalogue model, tokens per image, the 21:9@512
/// erratum marked (rule `resolution-erratum-21x9-512`), and the tables no one published (2.1,
/// Lite) marked ESTIMATED.
#[test]
fn sizes_prints_the_table_with_the_erratum() {
    let dir = scratch("sizes-table");
    let run = run(&dir, &["sizes"]).ok();
    let headers: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains(": pixels per aspect ratio"))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        headers,
        [
            "gemini-nano-banana-2.1",
            "gemini-3-pro-image",
            "gemini-3.1-flash-lite-image",
            "gemini-3.1-flash-image",
            "gemini-2.5-flash-image",
            "gemini-3.1-flash-image-preview",
            "gemini-3-pro-image-preview",
            "gemini-2.5-flash-image-preview",
        ],
        "every catalogue model"
    );
    assert_eq!(run.stdout.matches("\nESTIMATED: ").count(), 2);
    insta::assert_snapshot!("sizes", run.stdout);
    let run = self::run(
        &dir,
        &["--json", "sizes", "--model", "gemini-3.1-flash-image"],
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
    assert!(entries.iter().all(|e| e["estimated"] == false));
}

/// `sizes -m gemini-nano-banana-2.1`: no table is published for 2.1, so its sizes (3.1 Flash
/// Image's rows for 1K, 2K and 4K, no 512) are marked ESTIMATED, in the text and in `--json`.
#[test]
fn sizes_marks_the_estimated_table_of_2_1() {
    let dir = scratch("sizes-estimated");
    let run = run(&dir, &["sizes", "-m", "gemini-nano-banana-2.1"]).ok();
    let mut lines = run.stdout.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("gemini-nano-banana-2.1 (Nano Banana 2.1): pixels"),
        "{run:#?}"
    );
    assert!(lines.next().unwrap().starts_with("ESTIMATED: "), "{run:#?}");
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("ratio   1K (default)  2K         4K"),
        "no 512 column: {run:#?}"
    );
    assert!(
        !run.stdout.contains('*'),
        "no erratum without 512: {run:#?}"
    );
    let run = self::run(&dir, &["--json", "sizes", "-m", "gemini-nano-banana-2.1"]).ok();
    let doc = run.json();
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 14 * 3);
    assert!(entries.iter().all(|e| e["estimated"] == true
        && e["model"] == "gemini-nano-banana-2.1"
        && e["table"] == "gemini-3.1-flash-image-preview"));
    let row = entries
        .iter()
        .find(|e| e["aspectRatio"] == "21:9" && e["imageSize"] == "4K")
        .unwrap();
    let (width, height) = table("gemini-nano-banana-2.1", "21:9", Some("4K"));
    assert_eq!(
        (&row["width"], &row["height"]),
        (&width.into(), &height.into())
    );
}

/// The rows of `nanobanana models`' table: (model id without " (default)", state column).
fn model_states(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .skip(1)
        .take_while(|line| !line.is_empty())
        .map(|line| {
            let cells: Vec<&str> = line
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            (
                cells[0].trim_end_matches(" (default)").to_owned(),
                cells[2].to_owned(),
            )
        })
        .collect()
}

/// `models`: every catalogue model with its state at a date (computed from the lifecycle
/// dates in fixtures/models.json): on 2026-12-03 2.1 is the live default, 3.1 Flash Image is
/// deprecated and 2.5 Flash Image restricted (both pointing to 2.1), the preview ids are shut
/// down with their replacements; on 2026-03-01 the preview ids were live and the GA ids not
/// released yet. `--live --mock` compares the catalogue with the fake server's models.list:
/// no drift.
#[test]
fn models_lists_the_catalogue_with_each_state() {
    let dir = scratch("models");
    let run = run(&dir, &["models", "--as-of", "2026-12-03"]).ok();
    assert!(
        run.stdout
            .lines()
            .next()
            .unwrap()
            .contains("state on 2026-12-03"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("gemini-nano-banana-2.1 (default) ")),
        "{run:#?}"
    );
    let today = [
        ("gemini-nano-banana-2.1", "live"),
        ("gemini-3-pro-image", "live"),
        ("gemini-3.1-flash-lite-image", "live"),
        (
            "gemini-3.1-flash-image",
            "deprecated 2026-10-06, use gemini-nano-banana-2.1",
        ),
        (
            "gemini-2.5-flash-image",
            "restricted 2026-09-18, use gemini-nano-banana-2.1",
        ),
        (
            "gemini-3.1-flash-image-preview",
            "shut down 2026-06-25, use gemini-3.1-flash-image",
        ),
        (
            "gemini-3-pro-image-preview",
            "shut down 2026-06-25, use gemini-3-pro-image",
        ),
        (
            "gemini-2.5-flash-image-preview",
            "shut down 2026-01-15, use gemini-2.5-flash-image",
        ),
    ];
    let expected: Vec<(String, String)> = today
        .iter()
        .map(|(id, state)| ((*id).to_owned(), (*state).to_owned()))
        .collect();
    assert_eq!(model_states(&run.stdout), expected, "{run:#?}");
    insta::assert_snapshot!("models_2026_12_03", run.stdout);

    let run = self::run(&dir, &["models", "--as-of", "2026-03-01"]).ok();
    let early: std::collections::HashMap<String, String> =
        model_states(&run.stdout).into_iter().collect();
    assert_eq!(early.len(), 8, "{run:#?}");
    assert_eq!(early["gemini-3.1-flash-image-preview"], "live");
    assert_eq!(early["gemini-3-pro-image-preview"], "live");
    assert_eq!(early["gemini-2.5-flash-image"], "live");
    assert_eq!(
        early["gemini-nano-banana-2.1"],
        "unreleased (from 2026-10-06)"
    );
    assert_eq!(
        early["gemini-3.1-flash-image"],
        "unreleased (from 2026-05-28)"
    );
    assert_eq!(
        early["gemini-2.5-flash-image-preview"],
        "shut down 2026-01-15, use gemini-2.5-flash-image"
    );

    // --json: the same states as labels.
    let run = self::run(&dir, &["--json", "models", "--as-of", "2026-12-03"]).ok();
    let doc = run.json();
    assert_eq!(doc["asOf"], "2026-12-03");
    let labels: Vec<(String, String, bool)> = doc["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                m["state"].as_str().unwrap().to_owned(),
                m["served"].as_bool().unwrap(),
            )
        })
        .collect();
    let served = |label: &str| label != "shut down" && label != "unreleased";
    let expected: Vec<(String, String, bool)> = today
        .iter()
        .map(|(id, state)| {
            let label = state.split([' ', ',']).next().unwrap();
            let label = if label == "shut" { "shut down" } else { label };
            ((*id).to_owned(), label.to_owned(), served(label))
        })
        .collect();
    assert_eq!(labels, expected);
    assert_eq!(doc["models"][0]["default"], true);
    assert_eq!(doc["models"][0]["resolutionEstimated"], true);

    // Without a date: today's. The table lists every model all the same.
    let run = self::run(&dir, &["models"]).ok();
    assert_eq!(model_states(&run.stdout).len(), 8, "{run:#?}");

    // --live against the fake server (today's service): it lists exactly the served models.
    let run = self::run(&dir, &["models", "--live", "--mock"]).ok();
    assert!(
        run.stdout
            .contains("No drift: the catalogue matches the service."),
        "{run:#?}"
    );
    let run = self::run(&dir, &["--json", "models", "--live", "--mock"]).ok();
    let doc = run.json();
    assert_eq!(doc["newImageIds"], serde_json::json!([]));
    assert_eq!(doc["missingIds"], serde_json::json!([]));
    assert_eq!(doc["servedAfterShutdown"], serde_json::json!([]));
    for id in [
        "gemini-nano-banana-2.1",
        "gemini-3.1-flash-image",
        "gemini-3-pro-image",
    ] {
        assert!(
            doc["live"].as_array().unwrap().contains(&id.into()),
            "{id}: {run:#?}"
        );
    }
    assert!(
        !doc["live"]
            .as_array()
            .unwrap()
            .contains(&"gemini-3-pro-image-preview".into()),
        "{run:#?}"
    );
    // --live needs a key or --mock.
    let run = self::run(&dir, &["models", "--live"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("no API key"), "{run:#?}");
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
    assert!(
        run.stdout
            .contains("gemini-nano-banana-2.1 (Nano Banana 2.1, the default)"),
        "{run:#?}"
    );
    assert!(
        !run.stdout.contains("-preview"),
        "no shut-down ids: {run:#?}"
    );
    let run = self::run(&dir, &["batch", "--help"]).ok();
    assert!(
        run.stdout.contains("[default: gemini-nano-banana-2.1]"),
        "{run:#?}"
    );
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
        screen.contains("chat with gemini-nano-banana-2.1 (fake server)"),
        "{screen}"
    );
    assert!(screen.contains("1> "), "{screen}");
    assert!(screen.contains("error: unknown command /bogus"), "{screen}");
    assert!(
        screen.contains("turn 1: generating with"),
        "the spinner: {screen}"
    );
    // indicatif clears the whole line (`ESC [2K`) before each redraw and when the wait ends.
    assert!(
        screen.contains("\r\x1b[2K"),
        "the spinner's line is cleared: {screen}"
    );
    assert!(screen.contains("2> "), "{screen}");
    assert_eq!(
        image_size(&dir.join("turns/turn-001.jpg")),
        (ImageFormat::Jpeg, 1024, 1024)
    );
}

/// Issue 20: `-o .` (and other outputs that name no file) is refused before any request, instead
/// of writing a hidden `./..png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_that_names_no_file_is_refused_before_sending() {
    let dir = scratch("output-dot");
    let server = MockGemini::builder().allow_unmatched().start().await;
    for out in [".", "..", "sub/"] {
        let run = run_async(against(&server, &dir, &["generate", "x", "-o", out])).await;
        assert_eq!(run.code, 2, "{out}: {run:#?}");
        assert!(
            run.stderr.contains("not a file name"),
            "{out}: {}",
            run.stderr
        );
    }
    assert!(!dir.join("..png").exists() && !dir.join("sub/.png").exists());
    assert!(server.received_requests().is_empty());
}

/// Issue 20: a PNG cut short is refused before sending (exit 2, naming the file and what is
/// missing), not sent as an input image without a word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_png_input_is_refused_before_sending() {
    let dir = scratch("truncated-png");
    let server = MockGemini::builder().allow_unmatched().start().await;
    let png = nanobanana_mock::image::render(
        ImageFormat::Png,
        nanobanana_mock::image::Style::Final,
        64,
        64,
        b"cut",
    )
    .unwrap();
    std::fs::write(dir.join("cut.png"), &png[..100]).unwrap();
    let run = run_async(against(
        &server,
        &dir,
        &["edit", "cut.png", "add a hat", "-o", "hat.png"],
    ))
    .await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("cut.png is cut short"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("ends after 100 bytes"),
        "{}",
        run.stderr
    );
    assert!(server.received_requests().is_empty());
}

/// Issue 20: an endless input (`/dev/zero`) is refused after its first bytes, not read into
/// memory without limit; text inputs (a batch's prompts) are read with a size limit too.
#[test]
fn endless_inputs_are_refused_without_reading_them_whole() {
    if !Path::new("/dev/zero").exists() {
        return;
    }
    let dir = scratch("dev-zero");
    let run = run(&dir, &["edit", "--mock", "/dev/zero", "x", "-o", "x.png"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("unrecognised image type"),
        "{}",
        run.stderr
    );
}

/// Issue 20: `RUST_LOG` and `--verbose` reach the library's spans through a tracing subscriber,
/// and the API key (a canary) appears nowhere in what the command prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_log_and_verbose_trace_requests_without_the_key() {
    const CANARY: &str = "canary-key-7f3a9c1e5b";
    let dir = scratch("tracing");
    let server = MockGemini::builder().allow_unmatched().start().await;
    let traced = |args: &[&str], rust_log: Option<&str>| {
        let mut command = command(&dir, args);
        command
            .arg("--base-url")
            .arg(server.uri())
            .env("GEMINI_API_KEY", CANARY)
            .env_remove("RUST_LOG");
        if let Some(filter) = rust_log {
            command.env("RUST_LOG", filter);
        }
        command
    };
    for (args, rust_log) in [
        (&["generate", "a banana", "-o", "a.png"][..], Some("trace")),
        (&["generate", "a banana", "-o", "b.png", "-vv"][..], None),
        (
            &["generate", "a banana", "-o", "c.png", "--json", "-v"][..],
            None,
        ),
    ] {
        let run = run_async(traced(args, rust_log)).await.ok();
        assert!(
            run.stderr.contains("gemini.request"),
            "{args:?}: no span in {}",
            run.stderr
        );
        assert!(!run.stderr.contains(CANARY) && !run.stdout.contains(CANARY));
    }
    // A request the server refuses (an unknown image model at a size it does not make) is
    // traced too, without the key.
    let run = run_async(traced(
        &[
            "generate",
            "a banana",
            "-o",
            "d.png",
            "-m",
            "gemini-9-image",
            "-s",
            "8K",
        ],
        Some("trace"),
    ))
    .await;
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("gemini.request"), "{}", run.stderr);
    assert!(!run.stderr.contains(CANARY) && !run.stdout.contains(CANARY));
    // Without either, the command traces nothing.
    let quiet = run_async(traced(&["generate", "a banana", "-o", "e.png"], None))
        .await
        .ok();
    assert!(!quiet.stderr.contains("gemini.request"), "{}", quiet.stderr);
}

/// `--webhook` sends `batch.webhookConfig` with its metadata (SERVICE-2026.md §7); a URI the
/// service cannot use is refused with exit 2 before anything is sent.
#[tokio::test]
async fn batch_submit_carries_a_webhook_and_refuses_an_unusable_one() {
    let dir = scratch("batch-webhook");
    let server = MockGemini::builder().allow_unmatched().start().await;
    three_prompts(&dir);
    let submit = run_async(against(
        &server,
        &dir,
        &[
            "batch",
            "submit",
            "prompts.jsonl",
            "-o",
            "out",
            "--webhook",
            "https://example.com/hooks/batches",
            "--webhook-metadata",
            r#"{"job": "dishes"}"#,
        ],
    ))
    .await
    .ok();
    assert!(submit.stdout.starts_with("batches/"), "{submit:#?}");
    let create = server
        .received_requests()
        .into_iter()
        .find(|r| r.endpoint() == Some(Endpoint::BatchCreate))
        .expect("a batch was created");
    assert_eq!(
        create.json().unwrap()["batch"]["webhookConfig"],
        serde_json::json!({"uris": ["https://example.com/hooks/batches"], "userMetadata": {"job": "dishes"}})
    );
    let before = server.received_requests().len();
    let refused = run_async(against(
        &server,
        &dir,
        &[
            "batch",
            "submit",
            "prompts.jsonl",
            "-o",
            "out2",
            "--webhook",
            "ftp://example.com/x",
        ],
    ))
    .await;
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(refused.stderr.contains("https://"), "{refused:#?}");
    assert_eq!(server.received_requests().len(), before, "nothing was sent");
}

/// `upload FILE`: the resumable protocol from disk; a transfer cut at 60% by the fake server is
/// resumed from the offset it reports, and the stored file is the one on disk; an unknown
/// extension without `--mime` is refused before anything is sent.
#[tokio::test]
async fn upload_streams_resumes_after_a_cut_and_stores_the_file() {
    use nanobanana_mock::{Fault, UploadCut};
    let dir = scratch("upload");
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("clip.mp4"), &bytes).unwrap();
    let server = MockGemini::builder()
        .allow_unmatched()
        .fault(Fault::cut_upload(UploadCut::Percent(60)))
        .start()
        .await;
    let run = run_async(against(
        &server,
        &dir,
        &["--json", "upload", "clip.mp4", "--wait", "10s"],
    ))
    .await
    .ok();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let name = doc["name"].as_str().unwrap().to_owned();
    assert!(name.starts_with("files/"), "{doc}");
    assert_eq!(doc["mimeType"], "video/mp4");
    assert_eq!(doc["file"]["displayName"], "clip.mp4");
    let commands: Vec<String> = server
        .received_requests()
        .iter()
        .filter(|r| r.endpoint() == Some(Endpoint::FileUpload))
        .filter_map(|r| r.header("x-goog-upload-command").map(str::to_owned))
        .collect();
    assert!(commands.iter().any(|c| c == "query"), "{commands:?}");
    let client = nanobanana_transport::Client::new(
        nanobanana_transport::ClientConfig::new("k").with_base_url(server.uri()),
    )
    .unwrap();
    let download = client.files().download(&name).await.unwrap();
    assert_eq!(
        download.as_ref(),
        bytes.as_slice(),
        "the stored file is the file"
    );

    std::fs::write(dir.join("notes.xyz"), b"x").unwrap();
    let before = server.received_requests().len();
    let refused = run_async(against(&server, &dir, &["upload", "notes.xyz"])).await;
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(refused.stderr.contains("--mime"), "{refused:#?}");
    assert_eq!(server.received_requests().len(), before);
}

/// The bodies of the Interactions API create requests the server received, in order.
fn interaction_requests(server: &MockGemini) -> Vec<Value> {
    server
        .received_for(Endpoint::InteractionCreate)
        .iter()
        .map(|r| r.json().expect("a JSON body"))
        .collect()
}

/// `--api interactions` (issue 16): generate and edit send one Interactions create request each
/// (the message as content, the ratio and size as the image response format), write the image
/// the model answered (JPEG at the table's size); the flags with no Interactions field are
/// refused by name before anything is sent, and so is a broken rule (exit code 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_and_edit_through_the_interactions_api() {
    let dir = scratch("interactions-generate");
    let server = MockGemini::builder().allow_unmatched().start().await;
    let made = run_async(against(
        &server,
        &dir,
        &[
            "generate",
            "--api",
            "interactions",
            "a nano banana dish",
            "-a",
            "16:9",
            "-s",
            "2K",
            "-o",
            "dish",
        ],
    ))
    .await
    .ok();
    assert!(made.stdout.contains("wrote dish.jpg"), "{made:#?}");
    assert_eq!(
        image_size(&dir.join("dish.jpg")),
        (ImageFormat::Jpeg, 2752, 1536),
        "the 2K row of 16:9"
    );
    let edited = run_async(against(
        &server,
        &dir,
        &[
            "edit",
            "--api",
            "interactions",
            "dish.jpg",
            "add a spoon",
            "-o",
            "spoon.jpg",
        ],
    ))
    .await
    .ok();
    assert!(edited.stdout.contains("wrote spoon.jpg"), "{edited:#?}");
    let requests = interaction_requests(&server);
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!(requests[0]["model"], "gemini-nano-banana-2.1");
    assert_eq!(requests[0]["input"][0]["text"], "a nano banana dish");
    assert_eq!(requests[0]["response_format"]["aspect_ratio"], "16:9");
    assert_eq!(requests[0]["response_format"]["image_size"], "2K");
    assert!(requests[0].get("previous_interaction_id").is_none());
    assert_eq!(requests[1]["input"][1]["type"], "image");
    assert_eq!(requests[1]["input"][1]["mime_type"], "image/jpeg");
    assert!(
        generate_requests(&server).is_empty(),
        "nothing went to generateContent"
    );

    let refused = run_async(against(
        &server,
        &dir,
        &[
            "generate",
            "--api",
            "interactions",
            "--search",
            "web",
            "--image-only",
            "x",
            "-o",
            "x.jpg",
        ],
    ))
    .await;
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(
        refused
            .stderr
            .contains("--search, --image-only cannot be used with --api interactions"),
        "{refused:#?}"
    );
    let broken = run_async(against(
        &server,
        &dir,
        &[
            "generate",
            "--api",
            "interactions",
            "x",
            "-s",
            "512",
            "-o",
            "y.jpg",
        ],
    ))
    .await;
    assert_eq!(broken.code, 2, "{broken:#?}");
    assert!(broken.stderr.contains("512"), "{broken:#?}");
    assert_eq!(
        interaction_requests(&server).len(),
        2,
        "nothing more was sent"
    );
}

/// `chat --api interactions`: each turn sends only its message and continues the last
/// interaction (`previous_interaction_id`); the session file holds the model and the chain of
/// interaction ids, nothing of the images; a later run resumes from the file, `/undo` goes back
/// one interaction; a file-kept session cannot move to the service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_through_the_interactions_api_keeps_only_interaction_ids() {
    let dir = scratch("interactions-chat");
    let server = MockGemini::builder().allow_unmatched().start().await;
    let chat = |input: &'static str, extra: &'static [&'static str]| {
        let mut args = vec!["chat", "--session", "server.chat.json", "-o", "turns"];
        args.extend_from_slice(extra);
        let command = against(&server, &dir, &args);
        tokio::task::spawn_blocking(move || run_with_input(command, input))
    };
    let first = chat(
        "a nano banana dish\n/ratio 16:9\nnow in the sun\n/history\n",
        &["--api", "interactions"],
    )
    .await
    .unwrap()
    .ok();
    assert!(
        first
            .stdout
            .contains("wrote turns/turn-002.jpg (1376x768 image/jpeg"),
        "{first:#?}"
    );
    let session: Value =
        serde_json::from_slice(&std::fs::read(dir.join("server.chat.json")).unwrap()).unwrap();
    assert_eq!(session["format"], "nanobanana-interaction-session");
    assert_eq!(session["model"], "gemini-nano-banana-2.1");
    let ids: Vec<String> = session["interactionIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{session}");
    assert!(
        first.stdout.contains(&format!("2. interaction {}", ids[1])),
        "{first:#?}"
    );
    let requests = interaction_requests(&server);
    assert_eq!(requests.len(), 2);
    assert!(requests[0].get("previous_interaction_id").is_none());
    assert_eq!(requests[1]["previous_interaction_id"], ids[0].as_str());
    assert_eq!(
        requests[1]["input"].as_array().unwrap().len(),
        1,
        "only the new message goes"
    );

    // Resumed from the file alone (no --api: the session says where its history is); /undo
    // goes back to the first interaction (its new turn 2 is written where the old one was).
    std::fs::remove_file(dir.join("turns/turn-002.jpg")).unwrap();
    let second = chat("/undo\na tiny chef's hat\n", &[]).await.unwrap().ok();
    assert!(second.stdout.contains("turn 2:"), "{second:#?}");
    let requests = interaction_requests(&server);
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2]["previous_interaction_id"], ids[0].as_str());
    let session: Value =
        serde_json::from_slice(&std::fs::read(dir.join("server.chat.json")).unwrap()).unwrap();
    let resumed = session["interactionIds"].as_array().unwrap();
    assert_eq!(resumed.len(), 2);
    assert_eq!(resumed[0], ids[0].as_str());
    assert_ne!(resumed[1], ids[1].as_str());

    // A session kept in the file stays there.
    let client_side = tokio::task::spawn_blocking({
        let command = against(
            &server,
            &dir,
            &["chat", "--session", "local.chat.json", "-o", "local"],
        );
        move || run_with_input(command, "one\n")
    })
    .await
    .unwrap()
    .ok();
    assert!(client_side.stdout.contains("turn 1:"), "{client_side:#?}");
    let moved = tokio::task::spawn_blocking({
        let command = against(
            &server,
            &dir,
            &[
                "chat",
                "--api",
                "interactions",
                "--session",
                "local.chat.json",
                "-o",
                "local",
            ],
        );
        move || run_with_input(command, "two\n")
    })
    .await
    .unwrap();
    assert_eq!(moved.code, 2, "{moved:#?}");
    assert!(
        moved.stderr.contains("keeps its history in the file"),
        "{moved:#?}"
    );
}
