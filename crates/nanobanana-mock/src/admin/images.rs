//! The images of a journal entry, for the journal page: the inline images a request sent and
//! the ones its answer carried, decoded from base64 and served as bytes by
//! `GET /__admin/journal/{index}/{request|answer}-image/{n}` (a page of thumbnails never holds
//! megabytes of `data:` URLs), and the request and answer as JSON with every base64 payload
//! replaced by a short mark.

use bytes::Bytes;
use serde_json::{Map, Value};

use nanobanana_wire::Base64Bytes;

use crate::image::sniff;
use crate::journal::ReceivedRequest;
use crate::reply::{self, Reply};
use crate::server::{Shared, lock};

/// Which side of an exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    Request,
    Answer,
}

impl Side {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Side::Request => "request",
            Side::Answer => "answer",
        }
    }
}

/// The JSON documents of one side: the request body, or the answer (one body, or the events of
/// a stream). Empty when the journal kept none or it is not JSON.
pub(super) fn documents(entry: &ReceivedRequest, side: Side) -> Vec<Value> {
    match side {
        Side::Request => entry
            .body()
            .and_then(|b| serde_json::from_slice(b).ok())
            .into_iter()
            .collect(),
        Side::Answer => entry
            .answer
            .iter()
            .filter_map(|b: &Bytes| serde_json::from_slice(b).ok())
            .collect(),
    }
}

/// Every `inlineData` (or `inline_data`) object in a document, in order.
fn inline_blobs<'v>(value: &'v Value, out: &mut Vec<&'v Map<String, Value>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if (key == "inlineData" || key == "inline_data")
                    && let Value::Object(blob) = child
                {
                    out.push(blob);
                } else {
                    inline_blobs(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| inline_blobs(item, out)),
        _ => {}
    }
}

/// The decoded images of one side, with their MIME types (only bytes that sniff as an image).
pub(super) fn images(entry: &ReceivedRequest, side: Side) -> Vec<(String, Vec<u8>)> {
    let documents = documents(entry, side);
    let mut blobs = Vec::new();
    for document in &documents {
        inline_blobs(document, &mut blobs);
    }
    blobs
        .into_iter()
        .filter_map(|blob| {
            let data = blob.get("data")?.as_str()?;
            let bytes = Base64Bytes::from_base64(data).ok()?.into_vec();
            let (format, _, _) = sniff(&bytes)?;
            Some((format.mime_type().to_owned(), bytes))
        })
        .collect()
}

/// `GET /__admin/journal/{index}/{side}-image/{n}`: the image's bytes, or a 404 saying why.
pub(super) fn serve(shared: &Shared, rest: &str) -> Option<Reply> {
    let rest = rest.strip_prefix("/journal/")?;
    let (index, image) = rest.split_once('/')?;
    let (side, n) = image.split_once("-image/")?;
    let side = match side {
        "request" => Side::Request,
        "answer" => Side::Answer,
        _ => return None,
    };
    let (Ok(index), Ok(n)) = (index.parse::<usize>(), n.parse::<usize>()) else {
        return None;
    };
    // Copied out of the lock (the body at most the journal's body limit, the answer shared),
    // then decoded.
    let entry = lock(&shared.journal).iter().nth(index).cloned();
    let found = entry.map(|entry| images(&entry, side).into_iter().nth(n));
    Some(match found {
        Some(Some((mime, bytes))) => {
            Reply::bytes(200, &mime, Bytes::from(bytes)).with_header("cache-control", "no-store")
        }
        Some(None) => reply::not_found(&format!(
            "nanobanana-mock admin: journal entry {index} has no {} image {n} (or its body was not kept).",
            side.as_str()
        )),
        None => reply::not_found(&format!(
            "nanobanana-mock admin: no journal entry {index} (the journal holds the most recent requests)."
        )),
    })
}

/// A document with every base64 payload (`inlineData.data`, `thoughtSignature`) replaced by
/// `<N bytes of base64>`: what the page shows, readable and small.
pub(super) fn elided(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, child)| {
                    let long_text = child.as_str().filter(|s| s.len() > 200);
                    let is_payload = matches!(
                        key.as_str(),
                        "data" | "thoughtSignature" | "thought_signature"
                    );
                    match long_text {
                        Some(text) if is_payload => (
                            key.clone(),
                            Value::String(format!("<{} characters of base64>", text.len())),
                        ),
                        _ => (key.clone(), elided(child)),
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(elided).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payloads_are_elided_and_short_text_kept() {
        let long = "A".repeat(400);
        let doc = json!({"parts": [{"inlineData": {"mimeType": "image/png", "data": long}}, {"text": "hi", "thoughtSignature": "c2ln"}]});
        let out = elided(&doc);
        assert_eq!(
            out["parts"][0]["inlineData"]["data"],
            "<400 characters of base64>"
        );
        assert_eq!(out["parts"][1]["thoughtSignature"], "c2ln");
        assert_eq!(out["parts"][1]["text"], "hi");
    }
}
