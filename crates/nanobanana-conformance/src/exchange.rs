//! Turning a case's recorded request into the request to send, given what the server under test
//! actually answered so far in the case.
//!
//! A server other than the recording's answers with its own ids and its own model turns, so a
//! later request that refers to an earlier answer must refer to the actual one:
//!
//! - **Ids**: strings at `id` (an interaction's), `name`, `uri`, `fileUri`, `fileName`, `responsesFile` and
//!   `nextPageToken` of an earlier recorded answer, and the `x-goog-upload-url` header with its
//!   query values (the resumable `upload_id`), are bound to what the actual answer holds at the
//!   same place; the later request's path, query and body get the actual values.
//! - **Model turns** sent back: when an earlier actual answer has parts of the same kinds as the
//!   recorded one (thought or not, text, image, in the same order), every thought signature,
//!   image and model text of the recorded answer found in the later request is replaced by the
//!   actual one, in the same base64 alphabet and padding the case used, so a deliberately broken
//!   turn (a signature removed) stays broken the same way. When the kinds differ, a run of model
//!   contents equal to the recorded answer is replaced by one content with the actual parts.
//!
//! Against a server replaying the recording, every binding maps a value to itself.

use nanobanana_wire::names::camel_case;
use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use nanobanana_wire::Base64Bytes;
use nanobanana_wire::corpus::{Case, Corpus, Interaction};

#[cfg(test)]
use crate::observe::Payload;
use crate::observe::{Answer, answer_views, field};
use crate::suite::Auth;

/// Fields whose string values are ids a later request may refer to.
const ID_FIELDS: &[&str] = &[
    "id",
    "name",
    "uri",
    "fileUri",
    "fileName",
    "responsesFile",
    "nextPageToken",
];

/// A request ready to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    /// HTTP method.
    pub method: String,
    /// Path without query, e.g. `/v1beta/models/gemini-3-pro-image-preview:generateContent`.
    pub path: String,
    /// Query parameters (never the key: [`Outgoing::auth`] says how it travels).
    pub query: Vec<(String, String)>,
    /// Headers as the case recorded them, lower-case names.
    pub headers: Vec<(String, String)>,
    /// How the key travels.
    pub auth: Auth,
    /// The JSON body, if the request has one.
    pub json: Option<Value>,
    /// The body bytes (JSON, text or a blob).
    pub body: Option<Vec<u8>>,
}

/// What a later request may refer to in the earlier answers of a case.
#[derive(Debug, Default)]
pub(crate) struct Bindings {
    /// Recorded string -> actual string, longest first.
    ids: Vec<(String, String)>,
    /// Decoded recorded signature -> actual signature bytes.
    signatures: HashMap<Vec<u8>, Vec<u8>>,
    /// Decoded recorded image -> actual image bytes.
    data: HashMap<Vec<u8>, Vec<u8>>,
    /// Recorded model text -> actual model text.
    texts: HashMap<String, String>,
    /// Recorded answers whose parts could not be aligned with the actual ones: (normalised
    /// recorded parts, actual parts).
    whole_turns: Vec<(Vec<Value>, Vec<Value>)>,
}

impl Bindings {
    /// Binds everything the earlier interactions' recorded answers and actual answers hold.
    pub(crate) fn new(recorded: &[&Interaction], actual: &[Answer]) -> Self {
        let mut bindings = Self::default();
        for (interaction, answer) in recorded.iter().zip(actual) {
            let recorded_answer = Answer::from_recorded(&interaction.response);
            bindings.bind_ids(&recorded_answer, answer);
            bindings.bind_turn(&recorded_answer, answer);
        }
        bindings
            .ids
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        bindings.ids.dedup_by(|a, b| a.0 == b.0);
        bindings
    }

    fn bind(&mut self, recorded: &str, actual: &str) {
        if recorded != actual && !recorded.is_empty() {
            self.ids.push((recorded.to_owned(), actual.to_owned()));
        }
    }

    fn bind_ids(&mut self, recorded: &Answer, actual: &Answer) {
        if let (Some(r), Some(a)) = (recorded.json(), actual.json()) {
            self.bind_json_ids(r, a);
        }
        if let (Some(r), Some(a)) = (
            recorded.header("x-goog-upload-url"),
            actual.header("x-goog-upload-url"),
        ) {
            self.bind(r, a);
            let (rq, aq) = (query_pairs(r), query_pairs(a));
            for (name, value) in &rq {
                if let Some((_, actual_value)) = aq.iter().find(|(n, _)| n == name) {
                    self.bind(value, actual_value);
                }
            }
        }
    }

    fn bind_json_ids(&mut self, recorded: &Value, actual: &Value) {
        match (recorded, actual) {
            (Value::Object(r), Value::Object(a)) => {
                for (key, rv) in r {
                    let Some(av) = a.get(key) else { continue };
                    match (rv, av) {
                        (Value::String(rs), Value::String(as_))
                            if ID_FIELDS.contains(&key.as_str()) =>
                        {
                            self.bind(rs, as_);
                        }
                        _ => self.bind_json_ids(rv, av),
                    }
                }
            }
            (Value::Array(r), Value::Array(a)) => {
                for (rv, av) in r.iter().zip(a) {
                    self.bind_json_ids(rv, av);
                }
            }
            _ => {}
        }
    }

    fn bind_turn(&mut self, recorded: &Answer, actual: &Answer) {
        let recorded_views = answer_views(&recorded.payload);
        let actual_views = answer_views(&actual.payload);
        let (Some(r), Some(a)) = (recorded_views.first(), actual_views.first()) else {
            return;
        };
        if r.is_empty() {
            return;
        }
        let aligned = r.len() == a.len() && r.iter().zip(a.iter()).all(|(x, y)| kind(x) == kind(y));
        if !aligned {
            self.whole_turns.push((
                r.iter().map(|p| normalise(p)).collect(),
                a.iter().map(|p| (*p).clone()).collect(),
            ));
            return;
        }
        for (rp, ap) in r.iter().zip(a.iter()) {
            if let (Some(rs), Some(as_)) = (signature_bytes(rp), signature_bytes(ap)) {
                self.signatures.insert(rs, as_);
            }
            if let (Some(rd), Some(ad)) = (data_bytes(rp), data_bytes(ap)) {
                self.data.insert(rd, ad);
            }
            if let (Some(rt), Some(at)) = (
                rp.get("text").and_then(Value::as_str),
                ap.get("text").and_then(Value::as_str),
            ) && rt != at
            {
                self.texts.insert(rt.to_owned(), at.to_owned());
            }
        }
    }

    fn substitute_ids(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (recorded, actual) in &self.ids {
            if out.contains(recorded.as_str()) {
                out = out.replace(recorded.as_str(), actual);
            }
        }
        out
    }

    fn substitute_json_ids(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.substitute_ids(s),
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if !matches!(
                        key.as_str(),
                        "data" | "thoughtSignature" | "thought_signature"
                    ) {
                        self.substitute_json_ids(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.substitute_json_ids(v)),
            _ => {}
        }
    }

    /// Replaces recorded model turns in a generate request body by the actual ones.
    fn substitute_turns(&self, body: &mut Value) {
        if let Some(contents) = body.get_mut("contents").and_then(Value::as_array_mut)
            && !self.whole_turns.is_empty()
        {
            replace_whole_turns(contents, &self.whole_turns);
        }
        self.substitute_values(body, false);
    }

    fn substitute_values(&self, value: &mut Value, in_model_turn: bool) {
        match value {
            Value::Object(map) => {
                let model = in_model_turn
                    || (map.get("role").and_then(Value::as_str) == Some("model")
                        && map.contains_key("parts"));
                for key in ["thoughtSignature", "thought_signature"] {
                    if let Some(Value::String(s)) = map.get_mut(key)
                        && let Some(bytes) = decode(s)
                        && let Some(actual) = self.signatures.get(&bytes)
                    {
                        *s = encode_like(s, actual);
                    }
                }
                for key in ["inlineData", "inline_data"] {
                    if let Some(Value::String(s)) = map.get_mut(key).and_then(|b| b.get_mut("data"))
                        && let Some(bytes) = decode(s)
                        && let Some(actual) = self.data.get(&bytes)
                    {
                        *s = encode_like(s, actual);
                    }
                }
                if model
                    && let Some(Value::String(text)) = map.get_mut("text")
                    && let Some(actual) = self.texts.get(text.as_str())
                {
                    *text = actual.clone();
                }
                for (key, v) in map.iter_mut() {
                    if !matches!(
                        key.as_str(),
                        "text" | "thoughtSignature" | "thought_signature"
                    ) {
                        self.substitute_values(v, model);
                    }
                }
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| self.substitute_values(v, in_model_turn)),
            _ => {}
        }
    }
}

/// The request of interaction `index` of `case`, given the actual answers to the interactions
/// before it. Fails when the case has no interaction `index`, or its body blob cannot be read.
pub fn prepare(
    case: &Case,
    auth: Auth,
    index: usize,
    earlier: &[Answer],
    corpus: &Corpus,
) -> Result<Outgoing, String> {
    let Some(interaction) = case.interactions.get(index) else {
        return Err(format!(
            "case {} has no interaction {index} (it has {})",
            case.id,
            case.interactions.len()
        ));
    };
    let recorded: Vec<&Interaction> = case.interactions.iter().take(index).collect();
    let bindings = Bindings::new(&recorded, earlier);
    let request = &interaction.request;
    let path = bindings.substitute_ids(&request.path);
    let query = request
        .query
        .iter()
        .filter(|(k, _)| k.as_str() != "key")
        .map(|(k, v)| (k.clone(), bindings.substitute_ids(v)))
        .collect();
    let headers = request
        .headers
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "content-length" | "host" | "x-goog-api-key"))
        .map(|(k, v)| (k.clone(), bindings.substitute_ids(v)))
        .collect();
    let (json, body) = if let Some(body) = &request.body {
        let mut body = body.clone();
        bindings.substitute_json_ids(&mut body);
        bindings.substitute_turns(&mut body);
        let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        (Some(body), Some(bytes))
    } else if let Some(text) = &request.body_text {
        (None, Some(bindings.substitute_ids(text).into_bytes()))
    } else if let Some(blob) = &request.body_blob {
        (None, Some(corpus.blob(blob).map_err(|e| e.to_string())?))
    } else {
        (None, None)
    };
    Ok(Outgoing {
        method: request.method.to_ascii_uppercase(),
        path,
        query,
        headers,
        auth,
        json,
        body,
    })
}

/// `text` (an expected error message, say) with the ids the earlier recorded answers of `case`
/// gave replaced by the ones the server under test gave (`Interaction {id} was not found.`).
pub(crate) fn bind_ids_in(case: &Case, index: usize, earlier: &[Answer], text: &str) -> String {
    let recorded: Vec<&Interaction> = case.interactions.iter().take(index).collect();
    Bindings::new(&recorded, earlier).substitute_ids(text)
}

fn query_pairs(url: &str) -> Vec<(String, String)> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// (thought, text, image) of a part.
fn kind(part: &Value) -> (bool, bool, bool) {
    (
        part.get("thought")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        part.get("text").is_some(),
        field(part, "inlineData").is_some(),
    )
}

fn decode(text: &str) -> Option<Vec<u8>> {
    Base64Bytes::from_base64(text)
        .ok()
        .map(Base64Bytes::into_vec)
}

fn signature_bytes(part: &Value) -> Option<Vec<u8>> {
    field(part, "thoughtSignature")
        .and_then(Value::as_str)
        .and_then(decode)
}

fn data_bytes(part: &Value) -> Option<Vec<u8>> {
    field(part, "inlineData")
        .and_then(|b| field(b, "data"))
        .and_then(Value::as_str)
        .and_then(decode)
}

/// `bytes` in the base64 alphabet and padding of `like`.
pub(crate) fn encode_like(like: &str, bytes: &[u8]) -> String {
    let url_safe = like.contains(['-', '_']);
    let padded = like.ends_with('=') || (like.len().is_multiple_of(4) && !url_safe);
    match (url_safe, padded) {
        (false, true) => STANDARD.encode(bytes),
        (false, false) => STANDARD_NO_PAD.encode(bytes),
        (true, true) => URL_SAFE.encode(bytes),
        (true, false) => URL_SAFE_NO_PAD.encode(bytes),
    }
}

/// A part with camelCase keys and base64 in the standard alphabet, for comparing turns.
fn normalise(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, v) in map {
                let key = camel_case(key).into_owned();
                let v = match v {
                    Value::String(s) if key == "data" || key == "thoughtSignature" => {
                        decode(s).map_or_else(|| v.clone(), |b| Value::String(STANDARD.encode(b)))
                    }
                    _ => normalise(v),
                };
                out.insert(key, v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

fn replace_whole_turns(contents: &mut Vec<Value>, turns: &[(Vec<Value>, Vec<Value>)]) {
    let is_model = |c: &Value| c.get("role").and_then(Value::as_str) == Some("model");
    let mut i = 0;
    while i < contents.len() {
        if !is_model(&contents[i]) {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < contents.len() && is_model(&contents[end]) {
            end += 1;
        }
        let parts: Vec<Value> = contents[i..end]
            .iter()
            .filter_map(|c| c.get("parts").and_then(Value::as_array))
            .flatten()
            .map(normalise)
            .collect();
        if let Some((_, actual)) = turns.iter().find(|(recorded, _)| *recorded == parts) {
            let turn = serde_json::json!({"role": "model", "parts": actual});
            contents.splice(i..end, [turn]);
            i += 1;
        } else {
            i = end;
        }
    }
}

/// The answers of a case as recorded (for runs against the recording itself).
pub fn recorded_answers(case: &Case) -> Vec<Answer> {
    case.interactions
        .iter()
        .map(|i| Answer::from_recorded(&i.response))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_in_the_alphabet_and_padding_of_the_original() {
        let bytes = [0xfb, 0xff, 0xfe, 0x01];
        assert_eq!(encode_like("AAAA", &bytes), "+//+AQ==");
        assert_eq!(encode_like("a-b_", &bytes), "-__-AQ");
        assert_eq!(encode_like("a-b_==", &bytes), "-__-AQ==");
        assert_eq!(encode_like("AAA", &bytes), "+//+AQ");
    }

    #[test]
    fn a_recorded_turn_sent_back_becomes_the_actual_one() {
        let recorded = json!({"candidates": [{"content": {"role": "model", "parts": [
            {"text": "old", "thoughtSignature": "AAAA"},
            {"inlineData": {"mimeType": "image/png", "data": "AQID"}, "thoughtSignature": "AAAB"}
        ]}}]});
        let actual = json!({"candidates": [{"content": {"role": "model", "parts": [
            {"text": "new", "thoughtSignature": "BBBB"},
            {"inlineData": {"mimeType": "image/png", "data": "BAUG"}, "thoughtSignature": "BBBC"}
        ]}}]});
        let answer = |v: &Value| Answer {
            status: 200,
            headers: Default::default(),
            payload: Payload::Json(v.clone()),
        };
        let mut bindings = Bindings::default();
        bindings.bind_turn(&answer(&recorded), &answer(&actual));
        let mut body = json!({"contents": [
            {"role": "user", "parts": [{"text": "old"}]},
            {"role": "model", "parts": [
                {"text": "old", "thought_signature": "AAAA"},
                {"inline_data": {"mime_type": "image/png", "data": "AQID"}}
            ]}
        ]});
        bindings.substitute_turns(&mut body);
        assert_eq!(
            body,
            json!({"contents": [
                {"role": "user", "parts": [{"text": "old"}]},
                {"role": "model", "parts": [
                    {"text": "new", "thought_signature": "BBBB"},
                    {"inline_data": {"mime_type": "image/png", "data": "BAUG"}}
                ]}
            ]})
        );
    }

    #[test]
    fn an_interaction_the_case_lacks_is_an_error_not_a_panic() {
        let corpus = Corpus::load(Corpus::repository_dir()).unwrap();
        let case = &corpus.cases()[0];
        let past_the_end = case.interactions.len();
        let error = prepare(case, Auth::Header, past_the_end, &[], &corpus).unwrap_err();
        assert_eq!(
            error,
            format!(
                "case {} has no interaction {past_the_end} (it has {past_the_end})",
                case.id
            )
        );
        assert!(prepare(case, Auth::Header, 0, &[], &corpus).is_ok());
    }

    #[test]
    fn ids_and_upload_urls_are_bound() {
        let recorded = Answer {
            status: 200,
            headers: [(
                "x-goog-upload-url".to_owned(),
                "https://x/upload/v1beta/files?upload_id=OLD&upload_protocol=resumable".to_owned(),
            )]
            .into(),
            payload: Payload::Json(
                json!({"file": {"name": "files/old1", "uri": "https://x/v1beta/files/old1"}}),
            ),
        };
        let actual = Answer {
            status: 200,
            headers: [(
                "x-goog-upload-url".to_owned(),
                "http://127.0.0.1:1/upload/v1beta/files?upload_id=NEW&upload_protocol=resumable"
                    .to_owned(),
            )]
            .into(),
            payload: Payload::Json(
                json!({"file": {"name": "files/new2", "uri": "http://127.0.0.1:1/v1beta/files/new2"}}),
            ),
        };
        let mut bindings = Bindings::default();
        bindings.bind_ids(&recorded, &actual);
        bindings.ids.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
        assert_eq!(
            bindings.substitute_ids("/v1beta/files/old1"),
            "/v1beta/files/new2"
        );
        assert_eq!(bindings.substitute_ids("OLD"), "NEW");
        assert_eq!(
            bindings.substitute_ids("https://x/v1beta/files/old1"),
            "http://127.0.0.1:1/v1beta/files/new2"
        );
    }
}
