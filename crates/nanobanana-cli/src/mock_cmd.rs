//! `nanobanana mock`: the fake Gemini server in the foreground, with the flags of the
//! `nanobanana-mock` binary. Prints `listening on http://HOST:PORT` first on stdout, logs a line
//! per request on stderr (unless `--quiet`), and stops on Ctrl-C or SIGTERM.

use nanobanana_mock::image::ImageFormat;
use nanobanana_mock::{LineEnding, MockGemini, MockGeminiBuilder, Mode, RecordMode};
use std::io::Write as _;

use serde_json::json;

use crate::cli::{Global, MockArgs};
use crate::service;
use crate::ui::{Failure, Ui};

pub(crate) async fn run(ui: &Ui, global: &Global, args: &MockArgs) -> Result<(), Failure> {
    let mode: Mode = args
        .mode
        .parse()
        .map_err(|e| Failure::refused(format!("--mode: {e}")))?;
    let image_format: Option<ImageFormat> = args
        .image_format
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| Failure::refused(format!("--image-format: {e}")))?;
    let signatures: nanobanana_rules::SignaturePolicy = args
        .signatures
        .parse()
        .map_err(|e| Failure::refused(format!("--signatures: {e}")))?;
    if let Some(dir) = &args.fixtures
        && !dir.is_dir()
    {
        return Err(Failure::refused(format!(
            "--fixtures {}: not a directory (give the corpus directory holding cases/ and blobs/)",
            dir.display()
        )));
    }
    let mut builder = MockGemini::builder()
        .addr(args.addr)
        .mode(mode)
        .signatures(signatures)
        .allow_unmatched();
    if let Some(format) = image_format {
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
        builder = builder.max_connections(connections as usize);
    }
    if let Some(ms) = args.header_read_timeout {
        builder = builder.header_read_timeout(std::time::Duration::from_millis(ms));
    }
    if let Some(bytes) = args.journal_byte_limit {
        builder = builder.journal_byte_limit(bytes);
    }
    if let Some(token) = &args.admin_token {
        builder = builder.admin_token(token);
    }
    builder = with_chaos_and_quotas(builder, args)?;
    // `--mock-fault` applies to every request this server answers.
    if let Some(spec) = &global.mock_fault {
        builder = builder.fault(service::parse_fault(spec)?);
    }
    builder = outbound(builder, args)?;
    if !global.quiet {
        builder = builder.log_requests_to_stderr();
    }
    let server = builder
        .try_start()
        .await
        .map_err(|e| Failure::failed(format!("the fake server could not start: {e}")))?;
    if ui.json() {
        ui.document(&json!({
            "ok": true,
            "listening": server.uri(),
            "mode": mode.as_str(),
            "webhookSecret": server.webhook_secret(),
        }));
    } else {
        ui.say(&format!("listening on {}", server.uri()));
        if args.webhook_secret.is_none() {
            // The fake server's test secret, needed to check its webhooks' signatures.
            let _ = writeln!(
                std::io::stderr(),
                "webhook signing secret: {}",
                server.webhook_secret()
            );
        }
    }
    nanobanana_mock::shutdown_signal().await;
    drop(server);
    Ok(())
}

/// The recording and webhook flags on the builder.
fn outbound(
    mut builder: nanobanana_mock::MockGeminiBuilder,
    args: &MockArgs,
) -> Result<nanobanana_mock::MockGeminiBuilder, Failure> {
    let record_mode: RecordMode = args
        .record_mode
        .parse()
        .map_err(|e| Failure::refused(format!("--record-mode: {e}")))?;
    builder = builder.record_mode(record_mode);
    if let Some(url) = &args.upstream {
        builder = builder.upstream(url);
    }
    if let Some(dir) = &args.record_into {
        builder = builder.record_into(dir);
    }
    if let Some(secret) = &args.webhook_secret {
        builder = builder.webhook_secret(secret);
    }
    for host in &args.webhook_allow_host {
        builder = builder.webhook_allow_host(host);
    }
    Ok(builder)
}

/// `--chaos` and `--quota`, read in the fake server's syntax.
fn with_chaos_and_quotas(
    mut builder: MockGeminiBuilder,
    args: &MockArgs,
) -> Result<MockGeminiBuilder, Failure> {
    if let Some(text) = &args.chaos {
        let chaos = nanobanana_mock::chaos::Chaos::parse(text)
            .map_err(|e| Failure::refused(format!("--chaos: {e}")))?;
        builder = builder.chaos(chaos);
    }
    if let Some(text) = &args.quota {
        let quotas = nanobanana_mock::quota::Quotas::parse(text)
            .map_err(|e| Failure::refused(format!("--quota: {e}")))?;
        builder = builder.quotas(quotas);
    }
    Ok(builder)
}
