//! The argument model (clap derive): global flags, one struct per subcommand, and the help
//! texts.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Generate and edit images with Gemini's native image models (Nano Banana).";

const LONG_ABOUT: &str = "\
Generate and edit images with Gemini's native image models (Nano Banana):
gemini-nano-banana-2.1 (Nano Banana 2.1, the default), gemini-3-pro-image (Nano Banana Pro),
gemini-3.1-flash-lite-image (Nano Banana 2 Lite), and the older gemini-3.1-flash-image and
gemini-2.5-flash-image. `nanobanana models` lists them with their state.

The API key comes from GEMINI_API_KEY (or GOOGLE_API_KEY). Without one, add --mock: a fake
Gemini server starts inside the command and answers with real images of the sizes the real
service makes, so everything can be tried with no key and no network.

Requests are checked against the documented rules before anything is sent: an unsupported
aspect ratio or image size, a lower-case \"1k\", an unreadable image or too many references are
refused with the rule's message and the allowed values (exit code 2). Errors of the service exit
with code 1 and its message. Files are written atomically and never overwritten without --force.";

const AFTER_HELP: &str = "\
Examples:
  nanobanana generate --mock \"a nano banana dish in a fancy restaurant\" -o banana.jpg
  nanobanana generate \"a banana-shaped moon over Seoul\" --aspect-ratio 16:9 --size 2K -o moon.jpg
  nanobanana edit banana.jpg \"add a tiny chef's hat\" -o chef.jpg
  nanobanana compose --object bowl.png --character cat.png \"the cat eating from the bowl\" -o cat.jpg
  nanobanana chat --session banana.chat.json
  nanobanana batch prompts.jsonl -o out/
  nanobanana sizes --model gemini-3-pro-image
  nanobanana mock --addr 127.0.0.1:8080

Exit codes: 0 success, 1 the service failed or answered with an error (or no image),
2 refused before any request (bad arguments, unreadable input, a file that exists).";

/// The `nanobanana` command.
#[derive(Debug, Parser)]
#[command(
    name = "nanobanana",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every subcommand takes, before or after its name.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Start a fake Gemini server inside this command and use it: no API key, no network
    #[arg(
        long,
        global = true,
        conflicts_with = "base_url",
        help_heading = "Service"
    )]
    pub(crate) mock: bool,

    /// A fault for the fake server (--mock, `mock`) to inject: "status=503", "outcome=no-image"
    #[arg(long, global = true, value_name = "SPEC", help_heading = "Service")]
    pub(crate) mock_fault: Option<String>,

    /// Another server to send requests to [default: $GOOGLE_GEMINI_BASE_URL, else Gemini's]
    #[arg(long, global = true, value_name = "URL", help_heading = "Service")]
    pub(crate) base_url: Option<String>,

    /// Retries on 408, 429, 5xx and failed connections
    #[arg(
        long,
        global = true,
        value_name = "N",
        default_value_t = 2,
        help_heading = "Service"
    )]
    pub(crate) retries: u32,

    /// Print one JSON document on stdout instead of text (errors too)
    #[arg(long, global = true, help_heading = "Output")]
    pub(crate) json: bool,

    /// Overwrite files that exist
    #[arg(long, global = true, help_heading = "Output")]
    pub(crate) force: bool,

    /// No spinner on stderr (off anyway when it is not a terminal); no request log for `mock`
    #[arg(short, long, global = true, help_heading = "Output")]
    pub(crate) quiet: bool,

    /// Trace requests on stderr (-v: each attempt, status and latency; -vv: everything the
    /// library traces). RUST_LOG, when set, decides instead (e.g. RUST_LOG=nanobanana_transport=debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Output")]
    pub(crate) verbose: u8,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate an image from a prompt, optionally with input images
    #[command(
        after_help = "Example:\n  nanobanana generate --mock \"a nano banana dish\" -o banana.jpg --aspect-ratio 16:9 --size 2K"
    )]
    Generate(GenerateArgs),
    /// Edit an image: one input image and an instruction
    #[command(
        after_help = "Example:\n  nanobanana edit banana.jpg \"make it a watercolour\" -o watercolour.jpg"
    )]
    Edit(EditArgs),
    /// Compose a new image from reference images of objects and characters
    #[command(after_help = "\
Objects are kept with high fidelity, characters keep their likeness. Limits per model:
  gemini-nano-banana-2.1, gemini-3.1-flash-image, gemini-3.1-flash-lite-image
                          up to 10 objects and 4 characters (14 in all)
  gemini-3-pro-image      up to 6 objects and 5 characters (14 in all)
  gemini-2.5-flash-image  works best with up to 3 images in all

Example:
  nanobanana compose --object bowl.png --object spoon.png --character cat.png \\
      \"the cat eating from the bowl with the spoon\" -o cat.jpg")]
    Compose(ComposeArgs),
    /// Edit over several turns: type a prompt per line, each turn's image is saved
    #[command(after_help = "\
Type one prompt per line. Commands: /image PATH (attach an image to the next prompt),
/ratio R and /size S (for the next turns), /history, /help, /quit (or end of input).

With --session FILE the conversation is saved after every successful turn (atomically) and
resumed when the same file is given again.

Example:
  nanobanana chat --session banana.chat.json -o chat/")]
    Chat(ChatArgs),
    /// Submit many requests as one batch, wait for it, write the results in order; or submit,
    /// check, wait, fetch, list and cancel batches in separate steps (subcommands)
    #[command(after_help = "\
FILE holds one request per line, in any of these forms:
  {\"prompt\": \"a nano banana dish\", \"aspectRatio\": \"16:9\", \"imageSize\": \"2K\", \"key\": \"dish\"}
  {\"key\": \"dish\", \"request\": {GenerateContentRequest}}      (the Batch API's JSONL format)
  {GenerateContentRequest}
Blank lines and lines starting with # are skipped. Every request is checked before the batch is
submitted. Results are written to DIR as 001.jpg, 002-dish.jpg, ... (the extension of the
format the model answers with) in the order of FILE, and DIR/nanobanana-batch.json (the
ledger) names the batch: if the command is interrupted, `nanobanana batch fetch DIR` collects
the results later, from any process.

Examples:
  nanobanana batch prompts.jsonl -o out/
  nanobanana batch submit prompts.jsonl -o out/    (prints batches/ID and exits)
  nanobanana batch status out/
  nanobanana batch fetch out/
  nanobanana batch list
  nanobanana batch cancel batches/ID")]
    Batch(BatchArgs),
    /// Run the fake Gemini server in the foreground (the same flags as nanobanana-mock)
    Mock(MockArgs),
    /// Print the resolution table: pixel size and output tokens per model, ratio and size
    Sizes(SizesArgs),
    /// Print the model catalogue with each model's state at a date; --live compares it with
    /// the service's models.list
    #[command(
        after_help = "Examples:\n  nanobanana models\n  nanobanana models --as-of 2026-03-01\n  nanobanana models --live          (with GEMINI_API_KEY: reports ids the catalogue lacks or the service dropped)"
    )]
    Models(ModelsArgs),
    /// Upload a file to the Files API (resumable, streamed from disk, resumed after a cut) and
    /// print its name and URI, to reference it later as fileData
    #[command(
        after_help = "Example:\n  nanobanana upload holiday.mp4 --wait 5m    # prints files/ID and its URI"
    )]
    Upload(UploadArgs),
}

/// `upload`.
#[derive(Debug, Args)]
pub(crate) struct UploadArgs {
    /// The file to upload
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,

    /// Its MIME type [default: from the file's extension]
    #[arg(long, value_name = "TYPE")]
    pub(crate) mime: Option<String>,

    /// The file's display name [default: the file's name]
    #[arg(long, value_name = "NAME")]
    pub(crate) display_name: Option<String>,

    /// Wait until the service has processed the file (state ACTIVE), at most this long
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) wait: Option<Duration>,
}

/// `models`.
#[derive(Debug, Args)]
pub(crate) struct ModelsArgs {
    /// The date to evaluate each model's lifecycle at [default: today]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub(crate) as_of: Option<nanobanana_rules::Date>,
    /// Also list the service's models (models.list) and report the difference
    #[arg(long)]
    pub(crate) live: bool,
}

fn parse_date(text: &str) -> Result<nanobanana_rules::Date, String> {
    text.parse()
        .map_err(|e: nanobanana_rules::DateError| e.to_string())
}

/// The model and the generation options shared by generate, edit, compose and chat.
#[derive(Debug, Args, Clone)]
pub(crate) struct ImageOptions {
    /// The model [default: gemini-nano-banana-2.1, or a resumed chat's]
    #[arg(short, long, value_name = "MODEL", help_heading = "Image")]
    pub(crate) model: Option<String>,

    /// Aspect ratio, e.g. 16:9 (`nanobanana sizes` lists them) [default: the input's, or 1:1]
    #[arg(short, long, value_name = "RATIO", help_heading = "Image")]
    pub(crate) aspect_ratio: Option<String>,

    /// Image size: 512 (3.1 Flash only), 1K, 2K or 4K, upper-case K [default: 1K]
    #[arg(short, long, value_name = "SIZE", help_heading = "Image")]
    pub(crate) size: Option<String>,

    /// Ask for images only, no text
    #[arg(long, help_heading = "Image")]
    pub(crate) image_only: bool,

    /// Thinking level (medium: gemini-nano-banana-2.1 only)
    #[arg(long, value_enum, value_name = "LEVEL", help_heading = "Image")]
    pub(crate) thinking: Option<ThinkingChoice>,

    /// Save the interim thought images in DIR and print the thoughts
    #[arg(long, value_name = "DIR", help_heading = "Image")]
    pub(crate) show_thoughts: Option<PathBuf>,

    /// Ground in Google Search (image: 3.1 Flash only); prints the sources to attribute
    #[arg(long, value_enum, value_name = "KIND", help_heading = "Image")]
    pub(crate) search: Option<SearchChoice>,

    /// The service's API to call (with interactions, a chat keeps its history on the service and
    /// only interaction ids in its session file)
    #[arg(
        long,
        value_enum,
        value_name = "API",
        default_value = "generate-content",
        help_heading = "Image"
    )]
    pub(crate) api: ApiChoice,
}

/// `--api`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ApiChoice {
    /// generateContent (a chat sends its whole history each turn)
    GenerateContent,
    /// The Interactions API (the service keeps a chat's history: previous_interaction_id)
    Interactions,
}

impl ImageOptions {
    /// The model given, or the default one.
    pub(crate) fn model(&self) -> &str {
        match &self.model {
            Some(model) => model,
            None => default_model(),
        }
    }
}

/// The catalogue's default model (`gemini-nano-banana-2.1` since 2026-10-06).
pub(crate) fn default_model() -> &'static str {
    nanobanana_rules::catalogue::default_model().id()
}

/// `--thinking`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ThinkingChoice {
    /// Lowest latency, still some thinking (the default of 3.1 Flash Image)
    Minimal,
    /// Some thinking (the default of gemini-nano-banana-2.1)
    Medium,
    /// More thinking for harder compositions
    High,
}

/// `--search`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SearchChoice {
    /// Google web search
    Web,
    /// Google image search (3.1 Flash Image only)
    Image,
    /// Web and image search
    Both,
}

/// `generate`.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// What to draw (or what to do with the input images)
    pub(crate) prompt: String,

    /// An input image (PNG, JPEG, WebP, HEIC or HEIF); repeat for several
    #[arg(short = 'i', long = "image", value_name = "IMAGE")]
    pub(crate) images: Vec<PathBuf>,

    /// Where to write the image (several: OUT-1.jpg, OUT-2.jpg, ...)
    #[arg(short, long, value_name = "OUT")]
    pub(crate) output: PathBuf,

    #[command(flatten)]
    pub(crate) options: ImageOptions,
}

/// `edit`.
#[derive(Debug, Args)]
pub(crate) struct EditArgs {
    /// The image to edit (PNG, JPEG, WebP, HEIC or HEIF)
    pub(crate) image: PathBuf,

    /// What to change
    pub(crate) prompt: String,

    /// Where to write the result (several: OUT-1.jpg, OUT-2.jpg, ...)
    #[arg(short, long, value_name = "OUT")]
    pub(crate) output: PathBuf,

    #[command(flatten)]
    pub(crate) options: ImageOptions,
}

/// `compose`.
#[derive(Debug, Args)]
pub(crate) struct ComposeArgs {
    /// An object to keep with high fidelity; repeat for several
    #[arg(long = "object", value_name = "IMG")]
    pub(crate) objects: Vec<PathBuf>,

    /// A character whose likeness to keep; repeat for several
    #[arg(long = "character", value_name = "IMG")]
    pub(crate) characters: Vec<PathBuf>,

    /// What to make of the references
    pub(crate) prompt: String,

    /// Where to write the result (several: OUT-1.jpg, OUT-2.jpg, ...)
    #[arg(short, long, value_name = "OUT")]
    pub(crate) output: PathBuf,

    #[command(flatten)]
    pub(crate) options: ImageOptions,
}

/// `chat`.
#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// Save the conversation here after every turn; resume it if the file exists
    #[arg(long, value_name = "FILE")]
    pub(crate) session: Option<PathBuf>,

    /// Directory for the turns' images (turn-001.jpg, turn-002.jpg, ...)
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub(crate) output: PathBuf,

    #[command(flatten)]
    pub(crate) options: ImageOptions,
}

/// `batch`: either `batch FILE -o DIR` (submit, wait, write) or one of the subcommands
/// (`batch submit FILE -o DIR`, `batch status NAME|DIR`, ...). A FILE named like a subcommand
/// is given as `./submit`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct BatchArgs {
    #[command(subcommand)]
    pub(crate) action: Option<BatchAction>,

    #[command(flatten)]
    pub(crate) run: BatchRunArgs,
}

/// The subcommands of `batch`.
#[derive(Debug, Subcommand)]
pub(crate) enum BatchAction {
    /// Submit FILE as one batch, write DIR/nanobanana-batch.json (the ledger), print the batch's
    /// name and exit
    #[command(
        after_help = "Then: nanobanana batch status out/, nanobanana batch fetch out/\n\nExample:\n  nanobanana batch submit prompts.jsonl -o out/"
    )]
    Submit(BatchSubmitArgs),
    /// Show a batch's state and counts (NAME: batches/ID; DIR: the ledger's batch)
    Status(BatchTargetArgs),
    /// Wait for a batch to end, showing its progress on a terminal; exit 0 if it succeeded
    Wait(BatchWaitArgs),
    /// Wait for the batch of DIR's ledger and write its results to DIR; files already written
    /// are not fetched or written again
    #[command(after_help = "Example:\n  nanobanana batch fetch out/")]
    Fetch(BatchFetchArgs),
    /// List the batches of the key, newest first
    List(BatchListArgs),
    /// Ask the service to cancel a batch (NAME: batches/ID; DIR: the ledger's batch)
    Cancel(BatchTargetArgs),
}

/// `batch FILE -o DIR`: the requests and where their results go.
#[derive(Debug, Args)]
pub(crate) struct BatchRunArgs {
    /// The requests, one JSON object per line (see below)
    #[arg(required = true, value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,

    /// Directory for the results (created if missing)
    #[arg(short, long, value_name = "DIR", required = true)]
    pub(crate) output: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) submit: BatchSubmitOptions,

    /// First wait between polls of the batch (then longer, up to a minute)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub(crate) poll_interval: Duration,
}

/// What `batch FILE` and `batch submit` share besides the file and the directory.
#[derive(Debug, Args, Clone)]
pub(crate) struct BatchSubmitOptions {
    /// The model every request goes to
    #[arg(
        short,
        long,
        value_name = "MODEL",
        default_value = default_model()
    )]
    pub(crate) model: String,

    /// The batch's display name (default: the file's name)
    #[arg(long, value_name = "NAME")]
    pub(crate) display_name: Option<String>,

    /// Ask the service to POST the batch's completion event to this https URL (repeatable)
    #[arg(long = "webhook", value_name = "URL")]
    pub(crate) webhooks: Vec<String>,

    /// JSON object echoed in each webhook event (with --webhook)
    #[arg(long, value_name = "JSON", requires = "webhooks", value_parser = parse_json_object)]
    pub(crate) webhook_metadata: Option<serde_json::Value>,
}

fn parse_json_object(text: &str) -> Result<serde_json::Value, String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) if value.is_object() => Ok(value),
        Ok(_) => Err("expected a JSON object, e.g. {\"job\": \"dishes\"}".to_owned()),
        Err(e) => Err(format!(
            "not JSON ({e}); expected an object, e.g. {{\"job\": \"dishes\"}}"
        )),
    }
}

/// `batch submit`.
#[derive(Debug, Args)]
pub(crate) struct BatchSubmitArgs {
    /// The requests, one JSON object per line (as for `batch FILE`)
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,

    /// Directory for the results and the ledger (created if missing)
    #[arg(short, long, value_name = "DIR")]
    pub(crate) output: PathBuf,

    #[command(flatten)]
    pub(crate) submit: BatchSubmitOptions,
}

/// A batch named directly, or through the ledger of a directory.
#[derive(Debug, Args)]
pub(crate) struct BatchTargetArgs {
    /// A batch name (batches/ID or ID), or a directory holding a ledger (nanobanana-batch.json)
    #[arg(value_name = "NAME|DIR")]
    pub(crate) target: String,
}

/// `batch wait`.
#[derive(Debug, Args)]
pub(crate) struct BatchWaitArgs {
    #[command(flatten)]
    pub(crate) target: BatchTargetArgs,

    /// First wait between polls of the batch (then longer, up to a minute)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub(crate) poll_interval: Duration,
}

/// `batch fetch`.
#[derive(Debug, Args)]
pub(crate) struct BatchFetchArgs {
    /// The directory given to `batch submit -o` (or `batch FILE -o`), holding the ledger
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,

    /// First wait between polls of the batch (then longer, up to a minute)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub(crate) poll_interval: Duration,
}

/// `batch list`.
#[derive(Debug, Args)]
pub(crate) struct BatchListArgs {
    /// List at most N batches
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub(crate) limit: u32,
}

/// `mock`: the flags of the `nanobanana-mock` binary. `Debug` hides the key and the secret.
#[derive(Args)]
pub(crate) struct MockArgs {
    /// Address to bind
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:0")]
    pub(crate) addr: std::net::SocketAddr,

    /// Fixture corpus to replay (the directory holding cases/ and blobs/)
    #[arg(long, value_name = "DIR")]
    pub(crate) fixtures: Option<PathBuf>,

    /// simulate, replay, or hybrid (replay what matches, simulate the rest)
    #[arg(long, value_name = "MODE", default_value = "hybrid")]
    pub(crate) mode: String,

    /// Require this API key (a wrong one gets the real 400 API_KEY_INVALID)
    #[arg(long, value_name = "KEY")]
    pub(crate) api_key: Option<String>,

    /// End SSE lines with CRLF instead of LF
    #[arg(long)]
    pub(crate) crlf: bool,

    /// Format of simulated images, png or jpeg [default: the model's own: jpeg for the 3.x
    /// models, png for 2.5 Flash Image]
    #[arg(long, value_name = "FORMAT")]
    pub(crate) image_format: Option<String>,

    /// The date of the service to play [default: today]: models are served, listed and
    /// refused (404) by their lifecycle at that date; 2026-03-01 serves the early-2026 preview ids
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub(crate) as_of: Option<nanobanana_rules::Date>,

    /// What an unsigned model turn sent back gets: by-date (accepted since 2026-07-22, 400
    /// before), strict (always 400) or lenient [default: by-date]
    #[arg(long, value_name = "POLICY", default_value = "by-date")]
    pub(crate) signatures: String,

    /// Refuse larger request bodies with 413 [default: 67108864]
    #[arg(long, value_name = "BYTES")]
    pub(crate) body_limit: Option<usize>,

    /// Secret that authenticates thought signatures
    #[arg(long, value_name = "TEXT")]
    pub(crate) signature_secret: Option<String>,

    /// Polls a simulated batch stays running [default: 1]
    #[arg(long, value_name = "N")]
    pub(crate) batch_polls: Option<u32>,

    /// Connections served at once; more wait in the backlog [default: 512]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_connections: Option<u32>,

    /// Close a connection that takes longer to send request headers, or stays idle longer
    /// between requests [default: 30000]
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) header_read_timeout: Option<u64>,

    /// Bytes of request bodies the journal keeps [default: 33554432]
    #[arg(long, value_name = "BYTES")]
    pub(crate) journal_byte_limit: Option<usize>,

    /// Require `Authorization: Bearer TOKEN` on the admin API (/__admin/...)
    #[arg(long, value_name = "TOKEN")]
    pub(crate) admin_token: Option<String>,

    /// Forward what is recorded to this server (http:// only)
    #[arg(long, value_name = "URL")]
    pub(crate) upstream: Option<String>,

    /// Write forwarded exchanges into DIR as corpus cases (credentials redacted) and replay them
    #[arg(long, value_name = "DIR")]
    pub(crate) record_into: Option<std::path::PathBuf>,

    /// none (replay only) | new (forward and record what matches no recording) | all
    #[arg(long, value_name = "MODE", default_value = "new")]
    pub(crate) record_mode: String,

    /// Sign webhook events with this secret (whsec_<base64> or text) [default: random, printed]
    #[arg(long, value_name = "SECRET")]
    pub(crate) webhook_secret: Option<String>,

    /// Also deliver webhooks to HOST (loopback is always allowed)
    #[arg(long, value_name = "HOST")]
    pub(crate) webhook_allow_host: Vec<String>,

    /// Seeded random faults and delays per endpoint, e.g. 'seed=42; generateContent: rate=0.1,
    /// faults=503|429|cut-body, delay=lognormal(300ms, 0.5)' (nanobanana_mock::chaos)
    #[arg(long, value_name = "TEXT")]
    pub(crate) chaos: Option<String>,

    /// Per-model rate limits answered with the service's 429, e.g.
    /// 'gemini-3.1-flash-image: rpm=5, rpd=100, tpm=100000' (nanobanana_mock::quota)
    #[arg(long, value_name = "TEXT")]
    pub(crate) quota: Option<String>,
}

impl std::fmt::Debug for MockArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |secret: &Option<String>| secret.as_ref().map(|_| "***");
        f.debug_struct("MockArgs")
            .field("addr", &self.addr)
            .field("fixtures", &self.fixtures)
            .field("mode", &self.mode)
            .field("api_key", &hidden(&self.api_key))
            .field("crlf", &self.crlf)
            .field("image_format", &self.image_format)
            .field("body_limit", &self.body_limit)
            .field("signature_secret", &hidden(&self.signature_secret))
            .field("batch_polls", &self.batch_polls)
            .field("admin_token", &hidden(&self.admin_token))
            .field("upstream", &self.upstream)
            .field("record_into", &self.record_into)
            .field("record_mode", &self.record_mode)
            .field("webhook_secret", &hidden(&self.webhook_secret))
            .field("chaos", &self.chaos)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

/// `sizes`.
#[derive(Debug, Args)]
pub(crate) struct SizesArgs {
    /// Only this model's table
    #[arg(short, long, value_name = "MODEL")]
    pub(crate) model: Option<String>,
}

/// Parses `250ms`, `5s`, `2m` or a plain number of seconds; zero is refused (a poll interval of
/// zero would poll without pause, and the waits grow from it by a factor).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration like 250ms, 5s or 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("\"{text}\": allowed units are ms, s, m")),
    };
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if duration.is_zero() => Err(format!(
            "\"{text}\": give a duration longer than zero, like 250ms, 5s or 2m"
        )),
        Ok(duration) => Ok(duration),
        Err(_) => Err(format!("\"{text}\" is not a duration like 250ms, 5s or 2m")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_argument_model_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_before_or_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["nanobanana", "generate", "--mock", "x", "-o", "a.png"]).unwrap();
        assert!(cli.global.mock);
        let cli = Cli::try_parse_from(["nanobanana", "--json", "sizes"]).unwrap();
        assert!(cli.global.json);
        let error = Cli::try_parse_from([
            "nanobanana",
            "generate",
            "--mock",
            "--base-url",
            "http://x",
            "p",
            "-o",
            "a.png",
        ])
        .unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn the_fake_servers_key_and_secret_never_print() {
        let cli = Cli::try_parse_from([
            "nanobanana",
            "mock",
            "--api-key",
            "AIzaSecretKey0123",
            "--signature-secret",
            "s3cret-signing-text",
        ])
        .unwrap();
        let debug = format!("{cli:?}");
        assert!(!debug.contains("AIzaSecretKey0123"), "{debug}");
        assert!(!debug.contains("s3cret-signing-text"), "{debug}");
        assert!(debug.contains("api_key: Some(\"***\")"), "{debug}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("5h").unwrap_err().contains("allowed units"));
        assert!(parse_duration("soon").is_err());
        assert!(
            parse_duration("0s")
                .unwrap_err()
                .contains("longer than zero")
        );
        assert!(
            parse_duration("0ms")
                .unwrap_err()
                .contains("longer than zero")
        );
    }
}
