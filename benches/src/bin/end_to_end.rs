//! End to end on loopback: how close `nanobanana-transport` comes to just reading the answer.
//!
//! Starts a copy of itself as a bare hyper server (`end_to_end serve`, a separate process, so its
//! memory is not counted) that answers every request on three ports with the generated 1K, 2K and
//! 4K `generateContent` answers, then measures, in the same run and interleaved round by round:
//!
//! - **raw read**: a plain hyper HTTP/1.1 client reading the body to a sink (what curl to
//!   `/dev/null` does: the transfer floor);
//! - **ours**: `nanobanana_transport::Client::generate_content`, end to end, to the typed
//!   response with its images decoded;
//! - **python**: google-genai's `generate_content` on the same answer, when
//!   `python3 -c 'import google.genai'` works (the row says skipped otherwise);
//! - the **peak memory** of one request of ours (counting global allocator, `src/alloc_probe.rs`);
//! - with `--settings`, the raw read under other HTTP client settings (hyper's read buffer, reqwest
//!   reading whole or chunk by chunk) on the 4K answer.
//!
//! Each figure is the median over rounds of the mean time of a round's requests, on one reused
//! connection per client. Run by `cargo xtask bench-report`; alone:
//! `cargo run --release -p nanobanana-benches --bin end_to_end -- [--rounds 6] [--requests 20] [--settings]`.

// The counting allocator implements `GlobalAlloc`, unsafe by definition; see peak_memory.rs.
#![allow(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::convert::Infallible;
use std::io::{BufRead as _, Read as _, Write as _};
use std::net::SocketAddr;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use nanobanana_benches::{Scenario, wire_image_bytes};
use nanobanana_transport::{Client, ClientConfig};
use nanobanana_wire::{Content, GenerateContentRequest, Part};
use tokio::net::{TcpListener, TcpStream};

#[path = "../alloc_probe.rs"]
mod alloc_probe;

use alloc_probe::{CURRENT, PEAK};

/// The answers served, one port each.
const PAYLOADS: [(Scenario, &str); 3] = [
    (Scenario::Single1k, "1K"),
    (Scenario::Single2k, "2K"),
    (Scenario::Single4k, "4K"),
];

const MODEL: &str = "gemini-3-pro-image-preview";
const PATH: &str = "/v1beta/models/gemini-3-pro-image-preview:generateContent";
const REQUEST: &str = r#"{"contents":[{"role":"user","parts":[{"text":"a nano banana dish"}]}]}"#;

/// Targets of issue 19.
const TARGET_4K: f64 = 1.25;
const TARGET_1K_2K: f64 = 1.5;
const TARGET_PEAK_EXTRA_MB: f64 = 2.0;
const TARGET_OVER_PYTHON: f64 = 8.0;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return match serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("end_to_end serve: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let number = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let options = Options {
        rounds: number("--rounds", 6).max(1),
        requests: number("--requests", 20).max(1),
        settings: args.iter().any(|a| a == "--settings"),
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("end_to_end: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    rounds: usize,
    requests: usize,
    settings: bool,
}

/// The server process: prints its three ports on one line, serves until stdin closes.
fn serve() -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut ports = Vec::new();
        for (scenario, _) in PAYLOADS {
            let body = Bytes::from(scenario.payload().body);
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            ports.push(listener.local_addr()?.port().to_string());
            tokio::spawn(accept(listener, body));
        }
        println!("ports {}", ports.join(" "));
        std::io::stdout().flush()?;
        // The parent closes our stdin when it is done (or dies).
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await?;
        Ok(())
    })
}

async fn accept(listener: TcpListener, body: Bytes) {
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request, so that the connection stays reusable.
                    let _ = request.into_body().collect().await;
                    let mut response = Response::new(Full::new(body));
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// One payload's figures, in seconds per request.
struct Row {
    label: &'static str,
    body_bytes: usize,
    image_bytes: usize,
    raw: f64,
    ours: f64,
    python: Option<f64>,
    peak_extra: i64,
}

fn run(options: &Options) -> Result<(), Error> {
    let exe = std::env::current_exe()?;
    let mut server = Command::new(exe)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    let stdout = server.stdout.take().ok_or("no server stdout")?;
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let ports: Vec<u16> = line
        .strip_prefix("ports ")
        .ok_or_else(|| format!("the server printed {line:?}"))?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let result = measure(options, &ports);
    // Closing stdin ends the server.
    drop(server.stdin.take());
    let _ = server.wait();
    result
}

fn measure(options: &Options, ports: &[u16]) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let python = python_available();
    let mut rows = Vec::new();
    for ((scenario, label), &port) in PAYLOADS.iter().zip(ports) {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let payload = scenario.payload();
        let expected_image = nanobanana_benches::image_bytes(&payload.expected);
        eprintln!("measuring {label} ({} bytes)...", payload.body.len());
        let body_bytes = payload.body.len();
        drop(payload);
        let (raw, ours, peak_extra) = runtime.block_on(async {
            let mut raw_client = RawClient::connect(addr, ReadBuffer::Default).await?;
            let ours =
                Client::new(ClientConfig::new("bench").with_base_url(format!("http://{addr}")))?;
            let request = GenerateContentRequest::new().with_contents([Content::new()
                .with_role("user")
                .with_parts([Part::new().with_text("a nano banana dish")])]);
            // Warm up both connections.
            for _ in 0..2 {
                raw_client.read().await?;
                let response = ours.generate_content(MODEL, &request).await?;
                if wire_image_bytes(&response) != expected_image {
                    return Err::<_, Error>("our client decoded another image".into());
                }
            }
            let (mut raw, mut mine) = (Vec::new(), Vec::new());
            for _ in 0..options.rounds {
                let started = Instant::now();
                for _ in 0..options.requests {
                    std::hint::black_box(raw_client.read().await?);
                }
                raw.push(per_request(started.elapsed(), options.requests));
                let started = Instant::now();
                for _ in 0..options.requests {
                    std::hint::black_box(ours.generate_content(MODEL, &request).await?);
                }
                mine.push(per_request(started.elapsed(), options.requests));
            }
            // Peak memory of one request, the connection already open.
            let before = CURRENT.load(Ordering::Relaxed);
            PEAK.store(before, Ordering::Relaxed);
            let response = ours.generate_content(MODEL, &request).await?;
            let peak = PEAK.load(Ordering::Relaxed);
            let image = wire_image_bytes(&response);
            drop(response);
            let extra = peak as i64 - before as i64 - image as i64;
            Ok((median(&mut raw), median(&mut mine), extra))
        })?;
        let python = match python {
            true => Some(python_time(
                port,
                options.rounds,
                options.requests.div_ceil(4),
            )?),
            false => None,
        };
        rows.push(Row {
            label,
            body_bytes,
            image_bytes: expected_image,
            raw,
            ours,
            python,
            peak_extra,
        });
    }
    print_rows(&rows, python, options);
    if options.settings {
        let port = ports.last().copied().ok_or("no 4K port")?;
        runtime.block_on(settings(SocketAddr::from(([127, 0, 0, 1], port)), options))?;
    }
    Ok(())
}

fn per_request(elapsed: Duration, requests: usize) -> f64 {
    elapsed.as_secs_f64() / requests as f64
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

fn print_rows(rows: &[Row], python: bool, options: &Options) {
    const MB: f64 = 1e6;
    let ms = |s: f64| s * 1e3;
    println!(
        "\n== end to end on loopback (median of {} rounds of {} requests; one connection per client) ==\n",
        options.rounds, options.requests
    );
    println!(
        "{:<8} {:>8} {:>9} {:>13} {:>8} {:>9} {:>10} {:>12} {:>16}",
        "payload",
        "body MB",
        "image MB",
        "raw read ms",
        "ours ms",
        "ours/raw",
        "python ms",
        "python/ours",
        "peak-image MB"
    );
    for row in rows {
        let (python_ms, python_ratio) = match row.python {
            Some(p) => (format!("{:.1}", ms(p)), format!("{:.1}x", p / row.ours)),
            None => ("skipped".to_owned(), "-".to_owned()),
        };
        println!(
            "{:<8} {:>8.2} {:>9.2} {:>13.2} {:>8.2} {:>8.2}x {:>10} {:>12} {:>16.3}",
            row.label,
            row.body_bytes as f64 / MB,
            row.image_bytes as f64 / MB,
            ms(row.raw),
            ms(row.ours),
            row.ours / row.raw,
            python_ms,
            python_ratio,
            row.peak_extra as f64 / MB,
        );
    }
    println!(
        "\nraw read: a plain hyper HTTP/1.1 client reading the body to a sink; ours: \
         nanobanana_transport::Client::generate_content to the typed response, images decoded; \
         python: google-genai generate_content (a quarter of the requests per round); \
         peak-image: bytes live at the peak of one request of ours beyond the decoded image."
    );
    if !python {
        println!("python google-genai: skipped (python3 -c 'import google.genai' failed)");
    }
    println!("\nTargets (issue 19):");
    let target = |name: String, value: String, met: Option<bool>| {
        let verdict = met.map_or("skipped", verdict);
        println!("  {name:<44} {value:>12}   {verdict}");
    };
    for row in rows {
        let limit = if row.label == "4K" {
            TARGET_4K
        } else {
            TARGET_1K_2K
        };
        let ratio = row.ours / row.raw;
        target(
            format!("{} end to end <= {limit}x raw read", row.label),
            format!("{ratio:.2}x"),
            Some(ratio <= limit),
        );
    }
    if let Some(row) = rows.iter().find(|r| r.label == "4K") {
        let extra = row.peak_extra as f64 / MB;
        target(
            format!("peak of one 4K request <= image + {TARGET_PEAK_EXTRA_MB} MB"),
            format!("+{extra:.3} MB"),
            Some(extra <= TARGET_PEAK_EXTRA_MB),
        );
        let over = row.python.map(|p| p / row.ours);
        target(
            format!("4K >= {TARGET_OVER_PYTHON}x faster than python google-genai"),
            over.map_or("-".to_owned(), |o| format!("{o:.1}x")),
            over.map(|o| o >= TARGET_OVER_PYTHON),
        );
    }
}

/// How the raw client's read buffer is set.
#[derive(Clone, Copy, Debug)]
enum ReadBuffer {
    /// hyper's default: adaptive, from 8 KiB up to about 400 KiB.
    Default,
    /// Reads of exactly this size.
    Exact(usize),
    /// Adaptive, up to this size.
    Max(usize),
}

/// A plain hyper HTTP/1.1 client on one connection.
struct RawClient {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    chunks: usize,
}

impl RawClient {
    async fn connect(addr: SocketAddr, buffer: ReadBuffer) -> Result<Self, Error> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut builder = hyper::client::conn::http1::Builder::new();
        match buffer {
            ReadBuffer::Default => {}
            ReadBuffer::Exact(n) => {
                builder.read_buf_exact_size(Some(n));
            }
            ReadBuffer::Max(n) => {
                builder.max_buf_size(n);
            }
        }
        let (sender, connection) = builder.handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self { sender, chunks: 0 })
    }

    /// One request; the body read to a sink. Returns its length.
    async fn read(&mut self) -> Result<usize, Error> {
        self.sender.ready().await?;
        let request = Request::post(PATH)
            .header(hyper::header::HOST, "127.0.0.1")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from_static(REQUEST.as_bytes())))?;
        let mut body = self.sender.send_request(request).await?.into_body();
        let mut len = 0;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                len += std::hint::black_box(data).len();
                self.chunks += 1;
            }
        }
        Ok(len)
    }
}

/// The raw read on the 4K answer under other client settings, and what they do to ours.
async fn settings(addr: SocketAddr, options: &Options) -> Result<(), Error> {
    println!(
        "\n== HTTP client settings, 4K answer (median of {} rounds of {} requests) ==\n",
        options.rounds, options.requests
    );
    println!("{:<52} {:>8} {:>14}", "client", "ms", "body chunks");
    let buffers = [
        (
            "hyper http1, default read buffer (8 KiB..~400 KiB)",
            ReadBuffer::Default,
        ),
        (
            "hyper http1, read_buf_exact_size 16 KiB",
            ReadBuffer::Exact(16 << 10),
        ),
        (
            "hyper http1, read_buf_exact_size 64 KiB",
            ReadBuffer::Exact(64 << 10),
        ),
        (
            "hyper http1, read_buf_exact_size 1 MiB",
            ReadBuffer::Exact(1 << 20),
        ),
        (
            "hyper http1, max_buf_size 4 MiB (adaptive)",
            ReadBuffer::Max(4 << 20),
        ),
    ];
    for (name, buffer) in buffers {
        let mut client = RawClient::connect(addr, buffer).await?;
        client.read().await?;
        client.chunks = 0;
        let mut times = Vec::new();
        for _ in 0..options.rounds {
            let started = Instant::now();
            for _ in 0..options.requests {
                client.read().await?;
            }
            times.push(per_request(started.elapsed(), options.requests));
        }
        let chunks = client.chunks as f64 / (options.rounds * options.requests) as f64;
        println!(
            "{name:<52} {:>8.2} {chunks:>14.0}",
            median(&mut times) * 1e3
        );
    }
    let reqwest = reqwest::Client::builder().no_proxy().build()?;
    let url = format!("http://{addr}{PATH}");
    for whole in [true, false] {
        let mut times = Vec::new();
        let mut chunks = 0usize;
        for round in 0..=options.rounds {
            let started = Instant::now();
            for _ in 0..options.requests {
                let mut response = reqwest.post(&url).body(REQUEST).send().await?;
                if whole {
                    std::hint::black_box(response.bytes().await?);
                } else {
                    while let Some(chunk) = response.chunk().await? {
                        std::hint::black_box(chunk);
                        chunks += 1;
                    }
                }
            }
            // Round 0 warms the pool.
            if round > 0 {
                times.push(per_request(started.elapsed(), options.requests));
            } else {
                chunks = 0;
            }
        }
        let name = if whole {
            "reqwest 0.13 http1, bytes() (read whole)"
        } else {
            "reqwest 0.13 http1, chunk() to a sink"
        };
        let per = chunks as f64 / (options.rounds * options.requests) as f64;
        let chunks = if whole {
            "-".to_owned()
        } else {
            format!("{per:.0}")
        };
        println!("{name:<52} {:>8.2} {chunks:>14}", median(&mut times) * 1e3);
    }
    println!(
        "\nHTTP/2 is not measured: the workspace builds hyper and reqwest without h2 (compile time), \
         and the service's image answers are one response per request either way."
    );
    Ok(())
}

fn python_available() -> bool {
    Command::new("python3")
        .args(["-c", "import google.genai"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// google-genai's median time per request on the answer served at `port`.
fn python_time(port: u16, rounds: usize, requests: usize) -> Result<f64, Error> {
    const SCRIPT: &str = r#"
import statistics, sys, time
from google import genai
from google.genai import types
port, rounds, requests = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
client = genai.Client(api_key="bench", http_options=types.HttpOptions(base_url=f"http://127.0.0.1:{port}"))
def one():
    response = client.models.generate_content(model="gemini-3-pro-image-preview", contents="a nano banana dish")
    return len(response.candidates[0].content.parts[0].inline_data.data)
one(); one()
times = []
for _ in range(rounds):
    started = time.perf_counter()
    for _ in range(requests):
        one()
    times.append((time.perf_counter() - started) / requests)
print(statistics.median(times))
"#;
    let output = Command::new("python3")
        .args(["-c", SCRIPT])
        .args([port.to_string(), rounds.to_string(), requests.to_string()])
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("python google-genai run failed ({})", output.status).into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}
