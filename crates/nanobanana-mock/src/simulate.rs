//! Simulate: a valid `generateContent` request answered by the documented rules (SPEC.md §1, §3,
//! §4): images of exactly the table's size for (model, aspect ratio, image size), content
//! derived from the request (the same request gives the same bytes), thought text and thought
//! images when `includeThoughts`, signatures placed per SPEC.md §4, grounding metadata with
//! Google Search, usage with the table's image token counts, `modelVersion` and `responseId`.

use std::collections::VecDeque;

use bytes::Bytes;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use nanobanana_rules::catalogue::{self, Lookup, Thinking};
use nanobanana_rules::resolution;
use nanobanana_wire::{AspectRatio, Base64Bytes, ImageSize};

use crate::fault::Outcome;
use crate::image::{self, ImageFormat, Style};
use crate::reply::{self, Reply};
use crate::signature::{Signed, Signer};

/// What the simulator needs besides the request.
pub(crate) struct Context<'a> {
    pub(crate) signer: &'a Signer,
    pub(crate) format: ImageFormat,
    /// Dimensions of input images, in order (inline ones and resolved file references).
    pub(crate) input_images: Vec<(u32, u32)>,
}

/// A simulated answer: the whole response, and the same as stream chunks.
pub(crate) struct Simulated {
    pub(crate) response: Value,
    pub(crate) chunks: Vec<Value>,
}

/// One part as the simulator builds it.
enum SimPart {
    ThoughtText(String),
    ThoughtImage(Bytes),
    Text(String),
    Image(Bytes),
}

/// Why a request was not simulated.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The request asks for what the model does not make (400, the service's answer), where
    /// validation could not tell (a row its table lacks).
    Invalid(String),
    /// The simulator itself failed (500): a bug, never the client's doing.
    Internal(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Internal(message)
    }
}

impl Failure {
    /// The answer: `400 INVALID_ARGUMENT` with the rule's message, or `500 INTERNAL`.
    pub(crate) fn into_reply(self) -> Reply {
        match self {
            Failure::Invalid(message) => reply::invalid_argument(&message),
            Failure::Internal(message) => reply::error(
                500,
                &format!("nanobanana-mock could not simulate: {message}"),
                Vec::new(),
            ),
        }
    }
}

/// Answers a request (`body` in camelCase, as [`crate::replay::normalize`] makes it) for `model`.
/// Validation ran before, for a model the catalogue knows; an unknown image model is checked
/// here against the rules it is simulated with.
pub(crate) fn generate(
    model: &str,
    body: &Value,
    seed: &[u8; 32],
    outcome: Option<Outcome>,
    context: &Context<'_>,
) -> Result<Simulated, Failure> {
    // A text-only model (asked for text only) is simulated with the default model's rules; the
    // handler answers every other id the catalogue does not serve with the service's 404.
    let rules_model = match catalogue::lookup(model) {
        Lookup::Known(m) => m,
        Lookup::Unknown(_) => catalogue::default_model(),
    };
    let thinks = !matches!(rules_model.thinking(), Thinking::NotConfigurable);
    let config = body.get("generationConfig");
    let image_config = config.and_then(|c| c.get("imageConfig"));
    let modalities: Vec<String> = config
        .and_then(|c| c.get("responseModalities"))
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_uppercase)
                .collect()
        })
        .unwrap_or_default();
    let wants_text = modalities.is_empty() || modalities.iter().any(|m| m == "TEXT");
    // A known text-only model makes no images (validation rejected asking it for them).
    let wants_image = (modalities.is_empty() || modalities.iter().any(|m| m == "IMAGE"))
        && !catalogue::lookup(model).is_text_only();
    let include_thoughts = thinks
        && config
            .and_then(|c| c.pointer("/thinkingConfig/includeThoughts"))
            .and_then(Value::as_bool)
            .unwrap_or(false);

    // The output size: SPEC.md §1 and the resolution table.
    let ratio = match image_config
        .and_then(|c| c.get("aspectRatio"))
        .and_then(Value::as_str)
    {
        Some(r) => AspectRatio::from_wire(r),
        None => match context.input_images.last() {
            Some(&(w, h)) => closest_ratio(rules_model.aspect_ratios(), w, h),
            None => AspectRatio::Ratio1x1,
        },
    };
    let size = image_config
        .and_then(|c| c.get("imageSize"))
        .and_then(Value::as_str)
        .map(ImageSize::from_wire)
        .or_else(|| rules_model.default_image_size().cloned());
    // A model that makes no image here (text only) needs no table entry; otherwise the request
    // asks for a size the table has, or for something the model does not make (400, never 500).
    let (width, height, image_tokens) = if wants_image {
        let entry = resolution::table()
            .get(rules_model.id(), &ratio, size.as_ref())
            .ok_or_else(|| {
                Failure::Invalid(format!(
                    "Unsupported combination of aspect ratio \"{}\" and image size \"{}\" for model {model}. Allowed: the sizes and ratios of the model's resolution table.",
                    ratio.as_str(),
                    size.as_ref().map(ImageSize::as_str).unwrap_or("(default)")
                ))
            })?;
        (entry.width(), entry.height(), entry.tokens())
    } else {
        (0, 0, 0)
    };

    let prompt = last_user_text(body);
    let subject = summarize(&prompt);
    let mut rng = Rng::new(seed);

    let mut parts: Vec<SimPart> = Vec::new();
    let outcome_parts = outcome.is_some();
    if include_thoughts && !outcome_parts {
        parts.push(SimPart::ThoughtText(format!(
            "**Planning the image**\n\nI'm working out the composition for {subject}: the main subject centred, a clean background, balanced colours. A quick draft to check the layout."
        )));
    }
    let mut final_image = None;
    if wants_image && !outcome_parts {
        let render = |style: Style, salt: &[u8]| {
            let mut image_seed = seed.to_vec();
            image_seed.extend_from_slice(salt);
            image::render(context.format, style, width, height, &image_seed)
                .map(Bytes::from)
                .map_err(|e| e.to_string())
        };
        let finished = render(Style::Final, b"final")?;
        if include_thoughts {
            // SPEC.md §3: up to two interim thought images; the last one is the final image.
            if rng.next().is_multiple_of(2) {
                parts.push(SimPart::ThoughtImage(render(Style::Thought, b"draft")?));
            }
            parts.push(SimPart::ThoughtImage(finished.clone()));
        }
        final_image = Some(finished);
    }
    let text = if outcome == Some(Outcome::TextOnly) {
        Some(format!(
            "I can describe {subject}, but I can't create that image right now."
        ))
    } else if wants_text && !outcome_parts {
        Some(format!("Here is {subject}."))
    } else {
        None
    };
    if let Some(text) = &text {
        parts.push(SimPart::Text(text.clone()));
    }
    if let Some(image) = final_image {
        parts.push(SimPart::Image(image));
    }

    // Tokens: text about four characters a token; input images as the service counts them.
    let prompt_text_tokens = all_text(body).div_ceil(4).max(1) as u64;
    let per_input_image: u64 = if thinks { 1120 } else { 258 };
    let input_images = count_input_images(body) as u64;
    let prompt_tokens = prompt_text_tokens + per_input_image * input_images;
    let final_images = parts
        .iter()
        .filter(|p| matches!(p, SimPart::Image(_)))
        .count() as u64;
    let text_tokens = text.as_ref().map_or(0, |t| t.len().div_ceil(4)) as u64;
    let candidate_tokens = u64::from(image_tokens) * final_images + text_tokens;
    let thoughts_tokens = if thinks { 120 + rng.next() % 400 } else { 0 };

    let response_id = response_id(seed);
    let usage = |candidates: u64| {
        let mut usage = json!({
            "promptTokenCount": prompt_tokens,
            "totalTokenCount": prompt_tokens + candidates + thoughts_tokens,
            "promptTokensDetails": prompt_details(prompt_text_tokens, per_input_image * input_images),
        });
        if candidates > 0 {
            usage["candidatesTokenCount"] = json!(candidates);
        }
        if final_images > 0 && candidates > 0 {
            usage["candidatesTokensDetails"] = json!([{"modality": "IMAGE", "tokenCount": u64::from(image_tokens) * final_images}]);
        }
        if thoughts_tokens > 0 {
            usage["thoughtsTokenCount"] = json!(thoughts_tokens);
        }
        usage
    };

    let grounding = grounding(body, rules_model.id(), text.as_deref(), &subject, &mut rng);
    let wire_parts = sign_parts(&parts, context.signer, context.format);

    let mut candidate = match outcome {
        None | Some(Outcome::TextOnly) => json!({
            "content": {"role": "model", "parts": wire_parts},
            "finishReason": "STOP",
            "index": 0
        }),
        Some(Outcome::NoImage) => json!({"content": {}, "finishReason": "NO_IMAGE", "index": 0}),
        Some(Outcome::ImageSafety) => json!({"finishReason": "IMAGE_SAFETY", "index": 0}),
        Some(Outcome::ImageProhibited) => json!({
            "content": {"role": "model"},
            "finishReason": "IMAGE_PROHIBITED_CONTENT",
            "finishMessage": "Unable to show the generated image. The image was filtered out because it may contain prohibited content. You can try rephrasing the prompt.",
            "index": 0
        }),
        Some(Outcome::ImageRecitation) => {
            json!({"content": {"role": "model"}, "finishReason": "IMAGE_RECITATION", "index": 0})
        }
        Some(Outcome::BlockedPrompt) => Value::Null,
        Some(Outcome::MissingThoughtSignature) => json!({
            "finishReason": "MISSING_THOUGHT_SIGNATURE",
            "finishMessage": "Request has at least one thought signature missing.",
            "index": 0
        }),
    };
    if let (Some(grounding), Value::Object(map)) = (&grounding, &mut candidate) {
        map.insert("groundingMetadata".to_owned(), grounding.clone());
    }
    let model_version = model.to_owned();
    let response = if outcome == Some(Outcome::BlockedPrompt) {
        json!({
            "promptFeedback": {
                "blockReason": "PROHIBITED_CONTENT",
                "blockReasonMessage": "The prompt was blocked because it may request content that violates the usage policies."
            },
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "totalTokenCount": prompt_tokens,
                "promptTokensDetails": prompt_details(prompt_text_tokens, per_input_image * input_images),
            },
            "modelVersion": model_version,
            "responseId": response_id,
        })
    } else {
        let candidates = if outcome.is_none() || outcome == Some(Outcome::TextOnly) {
            candidate_tokens
        } else {
            0
        };
        json!({
            "candidates": [candidate.clone()],
            "usageMetadata": usage(candidates),
            "modelVersion": model_version,
            "responseId": response_id,
        })
    };

    // Stream chunks (WIRE.md "Streaming"): text in small chunks, each image whole in one event,
    // role, modelVersion, responseId and cumulative usage on every chunk, and a last chunk
    // with no parts carrying the finish reason (and the grounding metadata).
    let chunks = if outcome.is_some() && outcome != Some(Outcome::TextOnly) {
        vec![response.clone()]
    } else {
        let mut chunks = Vec::new();
        let mut emitted_tokens = 0u64;
        for (part, wire) in parts
            .iter()
            .zip(wire_parts.as_array().into_iter().flatten())
        {
            let pieces: Vec<Value> = match part {
                SimPart::Text(text) => {
                    emitted_tokens += text.len().div_ceil(4) as u64;
                    split_text(text)
                        .into_iter()
                        .enumerate()
                        .map(|(i, piece)| {
                            let mut p = json!({"text": piece});
                            if i == 0
                                && let Some(sig) = wire.get("thoughtSignature")
                            {
                                p["thoughtSignature"] = sig.clone();
                            }
                            p
                        })
                        .collect()
                }
                SimPart::Image(_) => {
                    emitted_tokens += u64::from(image_tokens);
                    vec![wire.clone()]
                }
                _ => vec![wire.clone()],
            };
            for piece in pieces {
                chunks.push(json!({
                    "candidates": [{"content": {"role": "model", "parts": [piece]}, "index": 0}],
                    "usageMetadata": usage(emitted_tokens.min(candidate_tokens)),
                    "modelVersion": model,
                    "responseId": response_id,
                }));
            }
        }
        let mut last = json!({"content": {"role": "model"}, "finishReason": "STOP", "index": 0});
        if let Some(grounding) = &grounding {
            last["groundingMetadata"] = grounding.clone();
        }
        chunks.push(json!({
            "candidates": [last],
            "usageMetadata": usage(candidate_tokens),
            "modelVersion": model,
            "responseId": response_id,
        }));
        chunks
    };
    Ok(Simulated { response, chunks })
}

/// Parts on the wire, signed per SPEC.md §4: every non-thought image, and the first non-thought
/// part; thought parts and later texts carry none.
fn sign_parts(parts: &[SimPart], signer: &Signer, format: ImageFormat) -> Value {
    let mut first_non_thought = true;
    let out: Vec<Value> = parts
        .iter()
        .map(|part| match part {
            SimPart::ThoughtText(text) => json!({"text": text, "thought": true}),
            SimPart::ThoughtImage(bytes) => json!({
                "inlineData": {"mimeType": format.mime_type(), "data": base64(bytes)},
                "thought": true
            }),
            SimPart::Text(text) => {
                let mut p = json!({"text": text});
                if std::mem::take(&mut first_non_thought) {
                    p["thoughtSignature"] = json!(base64(&signer.sign(Signed::Text(text))));
                }
                p
            }
            SimPart::Image(bytes) => {
                first_non_thought = false;
                json!({
                    "inlineData": {"mimeType": format.mime_type(), "data": base64(bytes)},
                    "thoughtSignature": base64(&signer.sign(Signed::Image(bytes)))
                })
            }
        })
        .collect();
    Value::Array(out)
}

fn base64(bytes: &[u8]) -> String {
    Base64Bytes::new(bytes.to_vec()).to_base64()
}

fn prompt_details(text: u64, images: u64) -> Value {
    let mut details = vec![json!({"modality": "TEXT", "tokenCount": text})];
    if images > 0 {
        details.push(json!({"modality": "IMAGE", "tokenCount": images}));
    }
    Value::Array(details)
}

/// Grounding metadata (SPEC.md §3) when the request enables Google Search.
fn grounding(
    body: &Value,
    model: &str,
    text: Option<&str>,
    subject: &str,
    rng: &mut Rng,
) -> Option<Value> {
    let tools = body.get("tools")?.as_array()?;
    let search = tools.iter().find_map(|t| t.get("googleSearch"))?;
    let types = search.get("searchTypes");
    let image_search = types.is_some_and(|t| t.get("imageSearch").is_some())
        && catalogue::lookup(model)
            .model()
            .is_some_and(|m| m.image_search() == catalogue::Availability::Available);
    let web_search = types.is_none_or(|t| t.get("webSearch").is_some() || !image_search);
    let topic = subject.trim_start_matches("an image of ").to_owned();
    let mut chunks = Vec::new();
    if image_search {
        for (i, domain) in ["example-gallery.org", "photos.example.net"]
            .iter()
            .enumerate()
        {
            let token = rng.token();
            chunks.push(json!({"image": {
                "sourceUri": format!("https://vertexaisearch.cloud.google.com/grounding-api-redirect/{token}"),
                "imageUri": format!("https://encrypted-tbn0.gstatic.com/images?q=tbn:{token}{i}"),
                "title": format!("{} ({})", capitalize(&topic), domain),
                "domain": domain,
            }}));
        }
    }
    if web_search {
        for domain in ["wikipedia.org", "britannica.com", "example.com"] {
            let token = rng.token();
            chunks.push(json!({"web": {
                "uri": format!("https://vertexaisearch.cloud.google.com/grounding-api-redirect/{token}"),
                "title": domain,
            }}));
        }
    }
    let mut metadata = json!({
        "searchEntryPoint": {"renderedContent": search_chip(&topic)},
        "groundingChunks": chunks,
    });
    if web_search {
        metadata["webSearchQueries"] = json!([topic.clone()]);
    }
    if image_search {
        metadata["imageSearchQueries"] = json!([topic.clone(), format!("{topic} photo")]);
    }
    if let Some(text) = text {
        let web_indices: Vec<usize> = (0..chunks.len())
            .filter(|&i| chunks[i].get("web").is_some())
            .collect();
        if !web_indices.is_empty() {
            let end = text.len();
            metadata["groundingSupports"] = json!([{
                "segment": {"startIndex": 0, "endIndex": end, "text": text},
                "groundingChunkIndices": web_indices,
                "confidenceScores": web_indices.iter().map(|_| 0.9).collect::<Vec<_>>(),
            }]);
        }
    }
    Some(metadata)
}

fn search_chip(query: &str) -> String {
    let escaped = query
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<style>\n.container {{\n  align-items: center;\n  border-radius: 8px;\n  display: flex;\n  font-family: Google Sans, Roboto, sans-serif;\n  font-size: 14px;\n  padding: 8px 12px;\n}}\n.chip {{\n  border: solid 1px #dadce0;\n  border-radius: 16px;\n  color: #1f1f1f;\n  padding: 5px 16px;\n  text-decoration: none;\n}}\n</style>\n<div class=\"container\"><a class=\"chip\" href=\"https://www.google.com/search?q={}\">{escaped}</a></div>\n",
        query
            .replace(' ', "+")
            .replace('"', "%22")
            .replace('<', "%3C")
            .replace('>', "%3E")
    )
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The aspect ratio among `allowed` closest to `width`:`height`.
fn closest_ratio(allowed: &[AspectRatio], width: u32, height: u32) -> AspectRatio {
    let target = (f64::from(width.max(1)) / f64::from(height.max(1))).ln();
    allowed
        .iter()
        .min_by(|a, b| {
            let da = (ratio_value(a) - target).abs();
            let db = (ratio_value(b) - target).abs();
            da.total_cmp(&db)
        })
        .cloned()
        .unwrap_or(AspectRatio::Ratio1x1)
}

fn ratio_value(ratio: &AspectRatio) -> f64 {
    let (w, h) = ratio.as_str().split_once(':').unwrap_or(("1", "1"));
    let w: f64 = w.parse().unwrap_or(1.0);
    let h: f64 = h.parse().unwrap_or(1.0);
    (w / h).ln()
}

/// The text of the last user content.
fn last_user_text(body: &Value) -> String {
    let contents = body.get("contents").and_then(Value::as_array);
    let last_user = contents.and_then(|c| {
        c.iter()
            .rev()
            .find(|c| c.get("role").and_then(Value::as_str).unwrap_or("user") == "user")
    });
    last_user
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Characters of text in every content.
fn all_text(body: &Value) -> usize {
    body.get("contents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("parts").and_then(Value::as_array))
        .flatten()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .map(str::len)
        .sum()
}

fn count_input_images(body: &Value) -> usize {
    body.get("contents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("parts").and_then(Value::as_array))
        .flatten()
        .filter(|p| {
            p.get("thought").and_then(Value::as_bool) != Some(true)
                && (p.get("inlineData").is_some() || p.get("fileData").is_some())
        })
        .count()
}

/// "an image of <the prompt, shortened>".
fn summarize(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().collect();
    if words.is_empty() {
        return "the image you asked for".to_owned();
    }
    let mut text = words.iter().take(16).copied().collect::<Vec<_>>().join(" ");
    text = text
        .trim_end_matches(['.', '!', '?', ',', ';', ':'])
        .to_owned();
    if words.len() > 16 {
        text.push_str("...");
    }
    let first = text
        .chars()
        .next()
        .map(|c| c.to_lowercase().collect::<String>())
        .unwrap_or_default();
    let rest: String = text.chars().skip(1).collect();
    format!("an image of \"{first}{rest}\"")
}

/// Text split into up to three small chunks at word boundaries, as the service streams it.
fn split_text(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    if words.len() < 3 {
        return vec![text.to_owned()];
    }
    let third = words.len().div_ceil(3);
    words.chunks(third).map(|c| c.concat()).collect()
}

/// A `responseId`: 23 characters of URL-safe base64 derived from the request.
fn response_id(seed: &[u8; 32]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    seed.iter()
        .take(23)
        .map(|b| ALPHABET[(b & 63) as usize] as char)
        .collect()
}

/// The seed of a request: the same model and normalised body always give the same answer.
pub(crate) fn seed(model: &str, normalized_body: &Value) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(model.as_bytes());
    hasher.update(b"\n");
    hasher.update(normalized_body.to_string().as_bytes());
    hasher.finalize().into()
}

/// Deterministic numbers from a seed.
struct Rng {
    state: [u8; 32],
    counter: u64,
}

impl Rng {
    fn new(seed: &[u8; 32]) -> Self {
        Self {
            state: *seed,
            counter: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        let mut hasher = Sha256::new();
        hasher.update(self.state);
        hasher.update(self.counter.to_le_bytes());
        let digest = hasher.finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or([0; 8]))
    }

    /// A URL-safe token like the service's redirect ids.
    fn token(&mut self) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..4)
            .flat_map(|_| self.next().to_le_bytes())
            .map(|b| ALPHABET[(b & 63) as usize] as char)
            .collect()
    }
}

/// Simulated answers kept for repeated requests, bounded by count and bytes.
pub(crate) struct Cache {
    entries: VecDeque<([u8; 32], CachedAnswer)>,
    bytes: usize,
}

/// A cached answer: the whole body, and the stream events.
#[derive(Clone)]
pub(crate) struct CachedAnswer {
    pub(crate) body: Bytes,
    pub(crate) events: Vec<Bytes>,
}

const CACHE_ENTRIES: usize = 64;
const CACHE_BYTES: usize = 256 << 20;

impl Cache {
    pub(crate) fn new() -> Self {
        Self {
            entries: VecDeque::new(),
            bytes: 0,
        }
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<CachedAnswer> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    pub(crate) fn put(&mut self, key: [u8; 32], answer: CachedAnswer) {
        let size = answer.body.len() + answer.events.iter().map(Bytes::len).sum::<usize>();
        if size > CACHE_BYTES / 4 {
            return;
        }
        while self.entries.len() >= CACHE_ENTRIES || self.bytes + size > CACHE_BYTES {
            let Some((_, old)) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old.body.len() + old.events.iter().map(Bytes::len).sum::<usize>();
        }
        self.bytes += size;
        self.entries.push_back((key, answer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_ratio_picks_the_nearest_supported_one() {
        let all = [
            AspectRatio::Ratio1x1,
            AspectRatio::Ratio16x9,
            AspectRatio::Ratio9x16,
        ];
        assert_eq!(closest_ratio(&all, 1920, 1080), AspectRatio::Ratio16x9);
        assert_eq!(closest_ratio(&all, 500, 480), AspectRatio::Ratio1x1);
        assert_eq!(closest_ratio(&all, 0, 0), AspectRatio::Ratio1x1);
    }

    #[test]
    fn text_splits_into_at_most_three_chunks_that_concatenate_back() {
        let text = "Here is an image of a nano banana on a plate.";
        let pieces = split_text(text);
        assert!(pieces.len() <= 3 && pieces.len() > 1);
        assert_eq!(pieces.concat(), text);
        assert_eq!(split_text("Hi"), ["Hi"]);
    }

    #[test]
    fn summaries_are_short_and_quoted() {
        assert_eq!(summarize("A Banana."), "an image of \"a Banana\"");
        assert_eq!(summarize(""), "the image you asked for");
    }
}
