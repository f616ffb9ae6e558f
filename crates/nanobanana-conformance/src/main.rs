//! `nanobanana-conformance`: hold a Gemini image-generation server or client to the fixture
//! corpus. See `--help` and the crate docs.

#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use nanobanana_conformance::{
    ClientRun, PLACEHOLDER_KEY, PUBLIC_BASE_URL, Report, ServeOptions, ServerRun, Suite, Target,
    check_client, check_server, record_case, serve_case, serve_vectors,
};

const USAGE: &str = "\
nanobanana-conformance: the fixture corpus as conformance vectors for Gemini image generation

USAGE:
    nanobanana-conformance server --base-url URL [--api-key KEY] [--case ID] [--required-only]
                                  [--service-date YYYY-MM-DD]
    nanobanana-conformance serve [--addr HOST:PORT] [--api-key KEY] [--case ID] [--quiet]
    nanobanana-conformance client [--case ID] [--required-only]
    nanobanana-conformance record --case ID [--api-key KEY] [--base-url URL] [--out DIR]

COMMANDS:
    server   send every case's requests to the server at URL and check its answers; prints a
             line per case and `N passed, N failed, N skipped`; exits 1 if a required case failed
    serve    serve the cases (the fake server in replay mode) for a client in any language;
             prints `listening on http://HOST:PORT`, runs until interrupted. With --case, only
             that case: several cases record the same request (a first chat turn), and a
             server of all of them answers it as the first case in corpus order recorded it
    client   run this project's Rust client through every case against served vectors
    record   replay one case's requests against a live service and write a `recorded` case
             (key and volatile ids redacted) under DIR/cases and DIR/blobs [default DIR: recorded]

OPTIONS:
    --fixtures DIR     the corpus (the directory holding cases/ and blobs/) [default: this
                       repository's fixtures/]
    --api-key KEY      the key to send [default: $GEMINI_API_KEY, else a placeholder the fake
                       server accepts]; never printed
    --base-url URL     server, record: where to send [record default: the public endpoint]
    --case ID          a case id, or an area followed by '/' (e.g. generate/); serve: one id
    --required-only    skip optional cases
    --service-date D   server: only the cases that record the service of date D (serviceDate),
                       for a server that plays one date (nanobanana-mock --as-of D)
    --timeout SECS     per request [default: 300]
    --addr HOST:PORT   serve: the address to bind [default: 127.0.0.1:0, a free port]
    --quiet            serve: do not log requests to stderr
    -h, --help         print this help";

#[derive(Default)]
struct Args {
    command: String,
    fixtures: Option<PathBuf>,
    api_key: Option<String>,
    base_url: Option<String>,
    case: Option<String>,
    required_only: bool,
    service_date: Option<String>,
    timeout: Option<Duration>,
    addr: Option<SocketAddr>,
    quiet: bool,
    out: Option<PathBuf>,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args::default();
    let Some(command) = argv.next() else {
        return Ok(None);
    };
    if matches!(command.as_str(), "-h" | "--help" | "help") {
        return Ok(None);
    }
    if !matches!(command.as_str(), "server" | "serve" | "client" | "record") {
        return Err(format!(
            "unknown command {command:?}: allowed are server, serve, client, record (see --help)"
        ));
    }
    args.command = command;
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
            "--fixtures" => args.fixtures = Some(PathBuf::from(value("DIR")?)),
            "--api-key" => args.api_key = Some(value("KEY")?),
            "--base-url" => {
                let url = value("URL")?;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!(
                        "--base-url {url:?} is not an http:// or https:// URL, e.g. http://127.0.0.1:8080"
                    ));
                }
                args.base_url = Some(url);
            }
            "--case" => args.case = Some(value("ID")?),
            "--required-only" => args.required_only = true,
            "--service-date" => args.service_date = Some(value("YYYY-MM-DD")?),
            "--timeout" => {
                let text = value("SECS")?;
                let secs: u64 = text
                    .parse()
                    .map_err(|_| format!("--timeout {text:?} is not a number of seconds"))?;
                args.timeout = Some(Duration::from_secs(secs.max(1)));
            }
            "--addr" => {
                let text = value("HOST:PORT")?;
                args.addr = Some(text.parse().map_err(|_| {
                    format!("--addr {text:?} is not an address like 127.0.0.1:8080")
                })?);
            }
            "--quiet" => args.quiet = true,
            "--out" => args.out = Some(PathBuf::from(value("DIR")?)),
            other => return Err(format!("unknown option {other:?}; see --help")),
        }
    }
    match args.command.as_str() {
        "server" if args.base_url.is_none() => {
            Err("server needs --base-url URL (the server to check)".to_owned())
        }
        "record" if args.case.is_none() => {
            Err("record needs --case ID (the case whose requests to replay)".to_owned())
        }
        _ => Ok(Some(args)),
    }
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("nanobanana-conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nanobanana-conformance: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nanobanana-conformance: {e}");
            ExitCode::FAILURE
        }
    }
}

fn api_key(args: &Args) -> String {
    args.api_key
        .clone()
        .or_else(|| {
            std::env::var("GEMINI_API_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty())
        })
        .unwrap_or_else(|| PLACEHOLDER_KEY.to_owned())
}

fn print_report(report: &Report) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{report}");
    if report.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let dir = args.fixtures.clone().unwrap_or_else(Suite::repository_dir);
    let suite = Suite::load(&dir).map_err(|e| {
        format!(
            "cannot load the suite from {} ({e}); give the fixtures with --fixtures DIR",
            dir.display()
        )
    })?;
    let target = |default_url: &str| {
        let mut target = Target::new(
            args.base_url.as_deref().unwrap_or(default_url),
            &api_key(&args),
        );
        if let Some(timeout) = args.timeout {
            target = target.with_timeout(timeout);
        }
        target
    };
    match args.command.as_str() {
        "server" => {
            let mut run = ServerRun::new(target(PUBLIC_BASE_URL));
            if let Some(case) = &args.case {
                run = run.with_cases(case.clone());
            }
            if args.required_only {
                run = run.required_only();
            }
            if let Some(date) = &args.service_date {
                run = run.with_service_date(date.clone());
            }
            {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "suite {} ({} cases) against {}",
                    suite.version(),
                    suite.cases().len(),
                    args.base_url.as_deref().unwrap_or_default()
                );
            }
            let report = check_server(&suite, &run)
                .await
                .map_err(|e| e.to_string())?;
            Ok(print_report(&report))
        }
        "client" => {
            let mut run = ClientRun::new();
            if let Some(case) = &args.case {
                run = run.with_cases(case.clone());
            }
            if args.required_only {
                run = run.required_only();
            }
            let report = check_client(&suite, &run)
                .await
                .map_err(|e| e.to_string())?;
            Ok(print_report(&report))
        }
        "serve" => {
            let mut options = ServeOptions::new();
            if let Some(addr) = args.addr {
                options = options.with_addr(addr);
            }
            if let Some(key) = &args.api_key {
                options = options.with_api_key(key);
            }
            if !args.quiet {
                options = options.with_request_log();
            }
            let server = match &args.case {
                Some(id) => {
                    let case = suite.case(id).ok_or_else(|| {
                        format!("no case {id:?} to serve: give a case id such as generate/text-to-image-pro")
                    })?;
                    serve_case(&suite, case, &options).await
                }
                None => serve_vectors(&suite, &options).await,
            }
            .map_err(|e| e.to_string())?;
            {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "listening on {}", server.uri());
                let _ = out.flush();
            }
            nanobanana_mock::shutdown_signal().await;
            drop(server);
            Ok(ExitCode::SUCCESS)
        }
        "record" => {
            if args.api_key.is_none() && api_key(&args) == PLACEHOLDER_KEY {
                return Err(
                    "record needs a key: --api-key KEY or GEMINI_API_KEY (it is never written)"
                        .to_owned(),
                );
            }
            let id = args.case.clone().unwrap_or_default();
            let out_dir = args
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from("recorded"));
            let recording = record_case(&suite, &id, &target(PUBLIC_BASE_URL), &out_dir)
                .await
                .map_err(|e| e.to_string())?;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "recorded {} interaction(s) of {id} to {} ({} blob file(s))",
                recording.interactions,
                recording.case_path.display(),
                recording.blobs.len()
            );
            for finding in &recording.findings {
                let _ = writeln!(out, "  differs from the source case: {finding}");
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(format!("unknown command {:?}", args.command)),
    }
}
