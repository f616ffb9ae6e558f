//! `nanobanana-mock`: the fake Gemini server as a command, for clients in any language.
//!
//! Prints exactly `listening on http://HOST:PORT` as its first line on stdout, logs one line per
//! request to stderr, and exits cleanly on SIGINT or SIGTERM.

#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use nanobanana_mock::chaos::Chaos;
use nanobanana_mock::image::ImageFormat;
use nanobanana_mock::quota::Quotas;
use nanobanana_mock::{LineEnding, MockGemini, MockGeminiBuilder, Mode, RecordMode};
use nanobanana_rules::{Date, SignaturePolicy};

const USAGE: &str = "\
nanobanana-mock: a fake Gemini image-generation server (Nano Banana) for tests

USAGE:
    nanobanana-mock [OPTIONS]

OPTIONS:
    --addr HOST:PORT          address to bind [default: 127.0.0.1:0, a free loopback port]
    --fixtures DIR            fixture corpus to replay (the directory holding cases/ and blobs/)
    --mode MODE               simulate | replay | hybrid [default: hybrid]
    --api-key KEY             require this API key (a wrong one gets the real 400 API_KEY_INVALID)
    --crlf                    end SSE lines with CRLF instead of LF
    --image-format FORMAT     png | jpeg for simulated images [default: the model's own:
                              jpeg for the 3.x models, png for 2.5 Flash Image]
    --as-of YYYY-MM-DD        the date of the service to be [default: today]: models are served,
                              listed and refused (404) by their lifecycle at that date;
                              2026-03-01 serves the early-2026 preview ids
    --signatures POLICY       by-date | strict | lenient: what an unsigned model turn sent back
                              gets [default: by-date: accepted since 2026-07-22, 400 before]
    --body-limit BYTES        refuse larger request bodies with 413 [default: 67108864]
    --signature-secret TEXT   secret that authenticates thought signatures
    --batch-polls N           polls a simulated batch stays running [default: 1]
    --max-connections N       connections served at once; more wait in the backlog [default: 512]
    --header-read-timeout MS  close a connection that takes longer to send request headers, or
                              stays idle longer between requests [default: 30000]
    --journal-byte-limit BYTES  bytes of request bodies the journal keeps [default: 33554432]
    --admin-token TOKEN       require `Authorization: Bearer TOKEN` on the admin API (/__admin/...)
    --upstream URL            forward what is recorded to this server (http:// only), e.g. a
                              local TLS-terminating proxy in front of the real service
    --record-into DIR         write forwarded exchanges into DIR as corpus cases (cases/,
                              blobs/; credentials redacted) and replay them
    --record-mode MODE        none (replay only) | new (forward and record what matches no
                              recording) | all (forward and record everything) [default: new]
    --webhook-secret SECRET   sign webhook events with this secret (whsec_<base64> or text)
                              [default: a random whsec_ secret, printed to stderr]
    --webhook-allow-host HOST also deliver webhooks to HOST (loopback is always allowed)
    --chaos TEXT              seeded random faults and delays per endpoint, e.g.
                              'seed=42; generateContent: rate=0.1, faults=503|429|cut-body,
                              delay=lognormal(300ms, 0.5)' (the crate's chaos module docs)
    --quota TEXT              per-model rate limits answered with the service's 429, e.g.
                              'gemini-3.1-flash-image-preview: rpm=5, rpd=100, tpm=100000'
    --quiet                   do not log requests to stderr
    -h, --help                print this help

Per-request headers: x-nanobanana-fault (e.g. \"status=429; times=1\"), x-nanobanana-mode,
x-nanobanana-image-format. The admin API (journal, mounts, expectations, settings) is under
/__admin/ (ADMIN.md of the crate). See the crate docs of nanobanana-mock.";

struct Args {
    addr: SocketAddr,
    fixtures: Option<PathBuf>,
    mode: Mode,
    api_key: Option<String>,
    crlf: bool,
    image_format: Option<ImageFormat>,
    as_of: Option<Date>,
    signatures: SignaturePolicy,
    body_limit: Option<usize>,
    signature_secret: Option<String>,
    batch_polls: Option<u32>,
    max_connections: Option<usize>,
    header_read_timeout_ms: Option<u64>,
    journal_byte_limit: Option<usize>,
    admin_token: Option<String>,
    upstream: Option<String>,
    record_into: Option<PathBuf>,
    record_mode: Option<RecordMode>,
    webhook_secret: Option<String>,
    webhook_hosts: Vec<String>,
    chaos: Option<Chaos>,
    quotas: Option<Quotas>,
    quiet: bool,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            fixtures: None,
            mode: Mode::Hybrid,
            api_key: None,
            crlf: false,
            image_format: None,
            as_of: None,
            signatures: SignaturePolicy::ByDate,
            body_limit: None,
            signature_secret: None,
            batch_polls: None,
            max_connections: None,
            header_read_timeout_ms: None,
            journal_byte_limit: None,
            admin_token: None,
            upstream: None,
            record_into: None,
            record_mode: None,
            webhook_secret: None,
            webhook_hosts: Vec::new(),
            chaos: None,
            quotas: None,
            quiet: false,
        }
    }
}

/// `text` as a number that passes `ok`, or the error `what` says.
fn number<T: std::str::FromStr>(
    text: &str,
    ok: impl Fn(&T) -> bool,
    what: impl FnOnce() -> String,
) -> Result<T, String> {
    text.parse().ok().filter(|n| ok(n)).ok_or_else(what)
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args::default();
    while let Some(arg) = argv.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| argv.next())
                .ok_or_else(|| format!("{name} needs a value ({what})"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => {
                let text = value("HOST:PORT")?;
                args.addr = text.parse().map_err(|_| {
                    format!("--addr {text:?} is not an address like 127.0.0.1:8080")
                })?;
            }
            "--fixtures" => args.fixtures = Some(PathBuf::from(value("DIR")?)),
            "--mode" => args.mode = value("MODE")?.parse().map_err(|e| format!("--mode: {e}"))?,
            "--api-key" => args.api_key = Some(value("KEY")?),
            "--admin-token" => args.admin_token = Some(value("TOKEN")?),
            "--chaos" => {
                args.chaos =
                    Some(Chaos::parse(&value("TEXT")?).map_err(|e| format!("--chaos: {e}"))?);
            }
            "--quota" => {
                args.quotas =
                    Some(Quotas::parse(&value("TEXT")?).map_err(|e| format!("--quota: {e}"))?);
            }
            "--crlf" => args.crlf = true,
            "--quiet" => args.quiet = true,
            "--image-format" => {
                args.image_format = Some(
                    nanobanana_mock::image::output_format(&value("FORMAT")?)
                        .map_err(|e| format!("--image-format: {e}"))?,
                );
            }
            "--as-of" => {
                args.as_of = Some(
                    value("YYYY-MM-DD")?
                        .parse()
                        .map_err(|e| format!("--as-of: {e}"))?,
                );
            }
            "--signatures" => {
                args.signatures = value("POLICY")?
                    .parse()
                    .map_err(|e| format!("--signatures: {e}"))?;
            }
            _ => {
                if !parse_number(&mut args, &name, &mut value)?
                    && !parse_outbound(&mut args, &name, &mut value)?
                {
                    return Err(format!("unknown option {name:?}; see --help"));
                }
            }
        }
    }
    Ok(Some(args))
}

/// The options that take a number (or a secret); false for a name that is none of them.
fn parse_number(
    args: &mut Args,
    name: &str,
    value: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<bool, String> {
    match name {
        "--body-limit" => {
            let text = value("BYTES")?;
            args.body_limit = Some(number(
                &text,
                |_| true,
                || format!("--body-limit {text:?} is not a number of bytes"),
            )?);
        }
        "--signature-secret" => args.signature_secret = Some(value("TEXT")?),
        "--batch-polls" => {
            let text = value("N")?;
            args.batch_polls = Some(number(
                &text,
                |_| true,
                || format!("--batch-polls {text:?} is not a count"),
            )?);
        }
        "--max-connections" => {
            let text = value("N")?;
            args.max_connections = Some(number(
                &text,
                |&n| n > 0,
                || format!("--max-connections {text:?} is not a count of at least 1"),
            )?);
        }
        "--header-read-timeout" => {
            let text = value("MS")?;
            args.header_read_timeout_ms = Some(number(
                &text,
                |&n| n > 0,
                || {
                    format!(
                        "--header-read-timeout {text:?} is not a number of milliseconds of at least 1"
                    )
                },
            )?);
        }
        "--journal-byte-limit" => {
            let text = value("BYTES")?;
            args.journal_byte_limit = Some(number(
                &text,
                |_| true,
                || format!("--journal-byte-limit {text:?} is not a number of bytes"),
            )?);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The options of recording and webhooks; false for a name that is none of them.
fn parse_outbound(
    args: &mut Args,
    name: &str,
    value: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<bool, String> {
    match name {
        "--upstream" => args.upstream = Some(value("URL")?),
        "--record-into" => args.record_into = Some(PathBuf::from(value("DIR")?)),
        "--record-mode" => {
            args.record_mode = Some(
                value("MODE")?
                    .parse()
                    .map_err(|e| format!("--record-mode: {e}"))?,
            );
        }
        "--webhook-secret" => args.webhook_secret = Some(value("SECRET")?),
        "--webhook-allow-host" => args.webhook_hosts.push(value("HOST")?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("nanobanana-mock: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nanobanana-mock: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let mut builder = MockGemini::builder()
        .addr(args.addr)
        .mode(args.mode)
        .signatures(args.signatures)
        .allow_unmatched();
    if let Some(format) = args.image_format {
        builder = builder.image_format(format);
    }
    if let Some(date) = args.as_of {
        builder = builder.as_of(date);
    }
    if let Some(dir) = &args.fixtures {
        builder = builder.fixtures(dir);
    }
    if let Some(key) = &args.api_key {
        builder = builder.api_key(key);
    }
    if args.crlf {
        builder = builder.line_ending(LineEnding::Crlf);
    }
    if let Some(limit) = args.body_limit {
        builder = builder.body_limit(limit);
    }
    if let Some(secret) = &args.signature_secret {
        builder = builder.signature_secret(secret);
    }
    if let Some(polls) = args.batch_polls {
        builder = builder.batch_polls(polls);
    }
    if let Some(connections) = args.max_connections {
        builder = builder.max_connections(connections);
    }
    if let Some(ms) = args.header_read_timeout_ms {
        builder = builder.header_read_timeout(std::time::Duration::from_millis(ms));
    }
    if let Some(bytes) = args.journal_byte_limit {
        builder = builder.journal_byte_limit(bytes);
    }
    if let Some(token) = &args.admin_token {
        builder = builder.admin_token(token);
    }
    builder = with_outbound_and_conditions(builder, &args);
    if !args.quiet {
        builder = builder.log_requests_to_stderr();
    }
    let server = match builder.try_start().await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("nanobanana-mock: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", server.uri());
        let _ = out.flush();
    }
    if args.webhook_secret.is_none() {
        // The test secret of this fake server, needed to check its webhooks' signatures.
        eprintln!("webhook signing secret: {}", server.webhook_secret());
    }
    nanobanana_mock::shutdown_signal().await;
    drop(server);
    ExitCode::SUCCESS
}

/// Recording, webhooks (`--upstream`, `--record-*`, `--webhook-*`), chaos and quotas.
fn with_outbound_and_conditions(mut builder: MockGeminiBuilder, args: &Args) -> MockGeminiBuilder {
    if let Some(url) = &args.upstream {
        builder = builder.upstream(url);
    }
    if let Some(dir) = &args.record_into {
        builder = builder.record_into(dir);
    }
    if let Some(mode) = args.record_mode {
        builder = builder.record_mode(mode);
    }
    if let Some(secret) = &args.webhook_secret {
        builder = builder.webhook_secret(secret);
    }
    for host in &args.webhook_hosts {
        builder = builder.webhook_allow_host(host);
    }
    if let Some(chaos) = &args.chaos {
        builder = builder.chaos(chaos.clone());
    }
    if let Some(quotas) = &args.quotas {
        builder = builder.quotas(quotas.clone());
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Option<Args>, String> {
        parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn recording_and_webhook_options() {
        let args = parsed(&[
            "--upstream",
            "http://127.0.0.1:9",
            "--record-into=rec",
            "--record-mode",
            "all",
            "--webhook-secret",
            "whsec_abc",
            "--webhook-allow-host",
            "hooks.test",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(args.upstream.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(args.record_into, Some(PathBuf::from("rec")));
        assert_eq!(args.record_mode, Some(RecordMode::All));
        assert_eq!(args.webhook_secret.as_deref(), Some("whsec_abc"));
        assert_eq!(args.webhook_hosts, ["hooks.test"]);
        assert_eq!(
            parsed(&["--record-mode", "once"]).err().unwrap(),
            "--record-mode: unknown record mode \"once\": allowed are none, new, all"
        );
        assert_eq!(
            parsed(&["--upstream"]).err().unwrap(),
            "--upstream needs a value (URL)"
        );
    }
}
