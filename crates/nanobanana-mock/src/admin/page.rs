//! `GET /__admin/journal.html`: the journal as one self-contained page for a browser: the most
//! recent requests first (endpoint, model, status, latency, the fault applied, replayed or
//! simulated), the images sent and received as thumbnails (served by the image routes of
//! [`images`](super::images), never inlined as `data:` URLs), and the decoded request and
//! answer a click away (`<details>`). No external asset: the style and the one small script
//! (it marks each image loaded or failed, for the tests and for a reader) are inline, and a
//! `Content-Security-Policy` with a per-page nonce lets only that script run. Every text from a
//! request is escaped.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha256};

use nanobanana_wire::Endpoint;

use super::images::{Side, documents, elided, images};
use crate::journal::ReceivedRequest;
use crate::reply::Reply;
use crate::server::{Request, Shared, lock};

/// Entries shown unless `?limit=` says otherwise.
const DEFAULT_LIMIT: usize = 200;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#1d1d1f;background:#fafafa}\
h1{font-size:20px;margin:0 0 4px}header p{margin:0 0 12px;color:#555}\
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e3e3e3;padding:6px 8px;text-align:left;vertical-align:top}\
th{background:#f0f0f3;font-weight:600}code{font:12px ui-monospace,monospace}.path{color:#666;font:11px ui-monospace,monospace;word-break:break-all}\
.prompt{margin:4px 0;color:#333;max-width:420px;white-space:pre-wrap;word-break:break-word}\
.status{font-weight:700;border-radius:4px;padding:1px 6px}.s2{background:#dff5e1;color:#17622a}.s4{background:#fff0d6;color:#8a5300}.s5,.s0{background:#fde2e2;color:#9b1c1c}\
.fault{color:#9b1c1c;font:12px ui-monospace,monospace}img.thumb{height:72px;max-width:128px;object-fit:contain;border:1px solid #ccc;border-radius:4px;margin:2px;background:#eee}\
img.thumb[data-loaded='0']{border-color:#d00}details{margin-top:4px}summary{cursor:pointer;color:#0b57d0}\
pre{max-width:760px;max-height:420px;overflow:auto;background:#f6f8fa;border:1px solid #e3e3e3;padding:8px;font:12px ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}";

/// Marks every thumbnail `data-loaded` 1 or 0 and counts them on `<body>`.
const SCRIPT: &str = "(function(){var ok=0,bad=0,b=document.body;function n(){b.dataset.imagesLoaded=ok;b.dataset.imagesFailed=bad;}\
document.querySelectorAll('img.thumb').forEach(function(i){function y(){i.dataset.loaded='1';ok++;n();}function f(){i.dataset.loaded='0';bad++;n();}\
if(i.complete){if(i.naturalWidth>0){y();}else{f();}}else{i.addEventListener('load',y);i.addEventListener('error',f);}});n();})();";

/// Escapes text for HTML content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A fresh nonce for the page's script.
fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = Sha256::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.update(now.to_le_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `?access_token=` of a `GET` of the page or its images (how a browser sends the admin
/// token); `None` on any other request.
pub(super) fn token_in_query(request: &Request) -> Option<&str> {
    let path = &request.path;
    let page_or_image = path.ends_with("/journal.html") || path.contains("-image/");
    (request.method == "GET" && page_or_image)
        .then(|| request.query("access_token"))
        .flatten()
}

/// `GET /__admin/journal.html`.
pub(super) fn page(shared: &Shared, request: &Request) -> Reply {
    let limit = request
        .query("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(DEFAULT_LIMIT);
    // Copied out of the lock (bodies within the journal's limits, answers shared).
    let (entries, received) = {
        let journal = lock(&shared.journal);
        let kept: Vec<(usize, ReceivedRequest)> = journal.iter().cloned().enumerate().collect();
        (kept, journal.total())
    };
    let shown = entries.len().min(limit);
    let nonce = nonce();
    let mut html = String::with_capacity(16 << 10);
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>nanobanana-mock journal</title><link rel=\"icon\" href=\"data:,\"><style>{STYLE}</style></head><body>\
<header><h1>nanobanana-mock journal</h1><p>{received} received, {} kept, {shown} shown, newest first &middot; <a href=\"/__admin/journal\">as JSON</a></p></header>\
<table><thead><tr><th>#</th><th>request</th><th>model</th><th>status</th><th>latency</th><th>fault</th><th>source</th><th>images sent</th><th>images received</th></tr></thead><tbody>",
        entries.len()
    );
    // The admin token, when the page was opened with one, goes on to its image links.
    let token = token_in_query(request).map_or(String::new(), |t| {
        format!("?access_token={}", percent_encode(t))
    });
    for (index, entry) in entries.iter().rev().take(limit) {
        row(&mut html, *index, entry, &token);
    }
    if entries.is_empty() {
        html.push_str("<tr><td colspan=\"9\">No requests yet.</td></tr>");
    }
    let _ = write!(
        html,
        "</tbody></table><script nonce=\"{nonce}\">{SCRIPT}</script></body></html>"
    );
    Reply::bytes(200, "text/html; charset=utf-8", Bytes::from(html))
        .with_header(
            "content-security-policy",
            format!("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'"),
        )
        .with_header("cache-control", "no-store")
}

/// One `<tr>` of the table.
fn row(html: &mut String, index: usize, entry: &ReceivedRequest, token: &str) {
    let status = entry.status();
    let status_text = if status == 0 {
        "dropped".to_owned()
    } else {
        status.to_string()
    };
    let endpoint = entry.endpoint().map_or("(no endpoint)", Endpoint::name);
    let _ = write!(
        html,
        "<tr class=\"row\" data-row=\"{index}\" data-status=\"{status}\"><td>{index}</td><td><code>{}</code> <strong>{}</strong><div class=\"path\">{}</div>",
        escape(entry.method()),
        escape(endpoint),
        escape(entry.path())
    );
    let request_docs = documents(entry, Side::Request);
    if let Some(prompt) = request_docs.first().and_then(prompt_text) {
        let _ = write!(html, "<div class=\"prompt\">{}</div>", escape(&prompt));
    }
    exchange(html, "request", &request_docs, entry.body_len() > 0);
    exchange(html, "answer", &documents(entry, Side::Answer), false);
    let fault = entry.fault().unwrap_or("");
    let source = if entry.replayed() {
        "replayed"
    } else if status >= 400 && (fault.contains("status=") || fault.starts_with("quota")) {
        "injected"
    } else {
        "simulated"
    };
    let _ = write!(
        html,
        "</td><td>{}</td><td><span class=\"status s{}\">{}</span></td><td>{:.1}&nbsp;ms</td><td class=\"fault\">{}</td><td>{source}</td><td>",
        escape(entry.model().unwrap_or("")),
        status / 100,
        status_text,
        entry.latency().as_secs_f64() * 1000.0,
        escape(fault)
    );
    thumbnails(html, index, entry, Side::Request, token);
    html.push_str("</td><td>");
    thumbnails(html, index, entry, Side::Answer, token);
    html.push_str("</td></tr>");
}

/// The `<details>` of one side: its JSON, pretty, base64 payloads elided.
fn exchange(html: &mut String, label: &str, docs: &[Value], had_body: bool) {
    let text = match docs {
        [] if had_body => "(the journal did not keep this body, or it is not JSON)".to_owned(),
        [] => return,
        [one] => serde_json::to_string_pretty(&elided(one)).unwrap_or_default(),
        many => {
            let events: Vec<Value> = many.iter().map(elided).collect();
            serde_json::to_string_pretty(&events).unwrap_or_default()
        }
    };
    let _ = write!(
        html,
        "<details><summary>{label}</summary><pre>{}</pre></details>",
        escape(&text)
    );
}

fn thumbnails(html: &mut String, index: usize, entry: &ReceivedRequest, side: Side, token: &str) {
    for (n, (mime, bytes)) in images(entry, side).iter().enumerate() {
        let src = escape(&format!(
            "/__admin/journal/{index}/{}-image/{n}{token}",
            side.as_str()
        ));
        let _ = write!(
            html,
            "<a href=\"{src}\" target=\"_blank\"><img class=\"thumb\" src=\"{src}\" alt=\"{} image {n} ({}, {} bytes)\" title=\"{}, {} bytes\"></a>",
            side.as_str(),
            escape(mime),
            bytes.len(),
            escape(mime),
            bytes.len()
        );
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The text of the last content of a generate request (shortened), or `None`.
fn prompt_text(body: &Value) -> Option<String> {
    let parts = body.get("contents")?.as_array()?.last()?.get("parts")?;
    let text: Vec<&str> = parts
        .as_array()?
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect();
    let text = text.join(" ");
    if text.is_empty() {
        return None;
    }
    let mut short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    Some(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
