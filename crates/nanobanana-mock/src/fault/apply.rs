//! Faults applied: the error answer of a status fault, the `times=` count of header faults,
//! and what a fault does to a body on its way out (a reset after N bytes, delayed, truncated
//! or broken event streams).

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::mpsc;

use nanobanana_wire::Endpoint;
use nanobanana_wire::corpus::LineEnding;

use super::Fault;
use crate::reply::{self, Reply};
use crate::server::lock;

/// The chunks of an answer body on their way to hyper; an error drops the connection.
pub(crate) type BodySender = mpsc::Sender<Result<Bytes, io::Error>>;

/// The error answer of a status fault, with the fault's `RetryInfo.retryDelay` (34 s, as the
/// service, unless it says otherwise).
pub(crate) fn status_reply(code: u16, fault: &Fault, model: Option<&str>) -> Reply {
    let delay = fault.retry_delay.map_or(34, |d| d.as_secs().max(1));
    reply::status_fault(code, model, delay)
}

/// The answer of a status fault that replaces the whole answer: not one that says what a
/// mid-stream error event carries (`error-after`), nor one beside an upload cut (the cut
/// chunk's answer, not this request's).
pub(crate) fn status_answer(
    fault: &Fault,
    endpoint: Option<Endpoint>,
    model: Option<&str>,
) -> Option<Reply> {
    let code = fault.status?;
    if fault.error_after.is_some()
        || (fault.cut_upload.is_some() && endpoint == Some(Endpoint::FileUpload))
    {
        return None;
    }
    let mut reply = status_reply(code, fault, model);
    if let Some(seconds) = fault.retry_after {
        reply = reply.with_header("retry-after", seconds.to_string());
    }
    Some(reply)
}

/// Whether a header fault still applies: one with `times=N` applies to the first N requests
/// carrying the same header text (counted per server, the count bounded).
pub(crate) fn header_fault_applies(
    counts: &Mutex<HashMap<String, u64>>,
    text: &str,
    fault: &Fault,
) -> bool {
    let Some(limit) = fault.times else {
        return true;
    };
    let mut counts = lock(counts);
    if counts.len() > 10_000 {
        counts.clear();
    }
    let count = counts.entry(text.to_owned()).or_insert(0);
    *count += 1;
    *count <= limit
}

/// The error that drops the connection (a reset fault).
pub(crate) fn reset_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "nanobanana-mock: connection reset (injected fault)",
    )
}

/// Sends a whole body cut after `after` bytes, then drops the connection.
pub(crate) async fn send_cut(tx: BodySender, data: Bytes, after: u64) {
    let cut = usize::try_from(after).unwrap_or(usize::MAX).min(data.len());
    if cut > 0 {
        let _ = tx.send(Ok(data.slice(..cut))).await;
    }
    let _ = tx.send(Err(reset_error())).await;
}

/// Sends server-sent events with the fault's stream directives: a delay between events, an
/// error event after some (`error-after`), a stream cut in the middle of an event
/// (`truncate-after`), a reset after N bytes (`reset-after`).
pub(crate) async fn send_events(
    tx: BodySender,
    events: Vec<Bytes>,
    names: Option<Vec<String>>,
    line_ending: LineEnding,
    fault: Fault,
) {
    let mut out = Budgeted {
        tx,
        budget: fault
            .reset_after
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    };
    let last = events.len().saturating_sub(1);
    for (index, event) in events.iter().enumerate() {
        if index > 0
            && let Some(delay) = fault.event_delay
        {
            tokio::time::sleep(delay).await;
        }
        if fault.error_after == Some(index) {
            break;
        }
        // Sent as three shared buffers: the event itself is never copied per request.
        let name = names
            .as_ref()
            .and_then(|n| n.get(index))
            .map(String::as_str);
        let framed = reply::frame_event_parts(name, event, line_ending);
        if fault.truncate_after.map(|n| n.min(last)) == Some(index) {
            let mut half = framed.iter().map(Bytes::len).sum::<usize>() / 2;
            for part in framed {
                let take = part.len().min(half);
                half -= take;
                if take > 0 && !out.send(part.slice(..take)).await {
                    return;
                }
            }
            return;
        }
        for part in framed {
            if !out.send(part).await {
                return;
            }
        }
    }
    // `error-after=N`: the loop stopped after N events (or sent them all, when there are
    // fewer); the error event, then the end of the stream.
    if let Some(after) = fault.error_after {
        let code = fault.status.unwrap_or(503);
        let event = match names {
            // Named events (the Interactions API): an `error` event with the next event id.
            Some(_) => named_error_event(code, after.min(events.len()) + 1, line_ending),
            None => error_event(code, line_ending),
        };
        let _ = out.send(event).await;
    }
}

/// The message of the error event of a stream that breaks.
const STREAM_ERROR: &str = "The model is overloaded. Please try again later.";

/// The `data: {"error": ...}` event of a stream that breaks.
fn error_event(code: u16, line_ending: LineEnding) -> Bytes {
    let error = serde_json::json!({
        "error": reply::error_object(code, STREAM_ERROR, Vec::new())
    });
    reply::frame_event(error.to_string().as_bytes(), line_ending)
}

/// The `error` event of an Interactions API stream that breaks (INTERACTIONS.md §5, §6): named,
/// with `event_type`, an `event_id` after the last one sent, and a string code.
fn named_error_event(code: u16, number: usize, line_ending: LineEnding) -> Bytes {
    let error = serde_json::json!({
        "event_type": "error",
        "event_id": format!("evt_{number:04}"),
        "error": {"code": reply::interactions_code(code), "message": STREAM_ERROR},
    });
    let newline = match line_ending {
        LineEnding::Lf => "\n",
        LineEnding::Crlf => "\r\n",
    };
    let mut framed = format!("event: error{newline}").into_bytes();
    framed.extend_from_slice(&reply::frame_event(
        error.to_string().as_bytes(),
        line_ending,
    ));
    Bytes::from(framed)
}

/// A body sender that resets the connection once a byte budget is spent.
struct Budgeted {
    tx: BodySender,
    budget: Option<usize>,
}

impl Budgeted {
    /// Sends `data`, honouring the reset budget; false once the stream is over.
    async fn send(&mut self, data: Bytes) -> bool {
        let (data, reset) = match &mut self.budget {
            Some(left) if data.len() >= *left => {
                let cut = data.slice(..*left);
                *left = 0;
                (cut, true)
            }
            Some(left) => {
                *left -= data.len();
                (data, false)
            }
            None => (data, false),
        };
        if !data.is_empty() && self.tx.send(Ok(data)).await.is_err() {
            return false;
        }
        if reset {
            let _ = self.tx.send(Err(reset_error())).await;
            return false;
        }
        true
    }
}
