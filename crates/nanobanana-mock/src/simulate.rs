//! Simulate: a valid `generateContent` request answered by the documented rules (SPEC.md §1, §3,
//! §4): images of exactly the table's size for (model, aspect ratio, image size), content
//! derived from the request (the same request gives the same bytes), thought text and thought
//! images when `includeThoughts`, signatures placed per SPEC.md §4, grounding metadata with
//! Google Search, usage with the table's image token counts, `modelVersion` and `responseId`.
//!
//! The answer is built from the typed wire values ([`GenerateContentResponse`] and its parts,
//! in [`answer`]). The request is read from its normalized JSON (camelCase, as
//! [`crate::replay::normalize`] makes it) rather than the typed request: the simulator needs a
//! few fields of it, and the normalized form is also what seeds the answer.

mod answer;
mod cache;
mod grounding;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha256};

use nanobanana_rules::catalogue::{self, Lookup, Thinking};
use nanobanana_rules::resolution;
use nanobanana_wire::{AspectRatio, GenerateContentResponse, ImageSize};

pub(crate) use self::cache::{Cache, CachedAnswer};
use crate::image::{self, ImageFormat, Style};
use crate::reply::{self, Reply};
use crate::signature::Signer;
use nanobanana_rules::OutcomeKind;

/// What the simulator needs besides the request.
pub(crate) struct Context<'a> {
    pub(crate) signer: &'a Signer,
    pub(crate) format: ImageFormat,
    /// Dimensions of input images, in order (inline ones and resolved file references).
    pub(crate) input_images: Vec<(u32, u32)>,
}

/// A simulated answer: the whole response, and the same as stream chunks.
pub(crate) struct Simulated {
    pub(crate) response: GenerateContentResponse,
    pub(crate) chunks: Vec<GenerateContentResponse>,
}

impl Simulated {
    /// The answer's bytes: the whole body, and one JSON text per stream event.
    pub(crate) fn encode(&self) -> Result<CachedAnswer, Failure> {
        let encode = |response: &GenerateContentResponse| {
            serde_json::to_vec(response)
                .map(Bytes::from)
                .map_err(|e| Failure::Internal(e.to_string()))
        };
        Ok(CachedAnswer {
            body: encode(&self.response)?,
            events: self.chunks.iter().map(encode).collect::<Result<_, _>>()?,
        })
    }
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

/// What a request asks of the model, read once.
struct Plan<'m> {
    /// The catalogue entry whose rules apply (the default model's for an unknown text model).
    rules_model: &'m catalogue::Model,
    /// Whether the model thinks (its thinking is configurable).
    thinks: bool,
    wants_text: bool,
    wants_image: bool,
    include_thoughts: bool,
    /// The output image: width, height and its token count (zeros when no image is made).
    width: u32,
    height: u32,
    image_tokens: u64,
}

impl Plan<'static> {
    /// Reads the request; a size the model's table lacks is a 400, never a 500.
    fn read(model: &str, body: &Value, context: &Context<'_>) -> Result<Self, Failure> {
        // A text-only model (asked for text only) is simulated with the default model's rules;
        // the handler answers every other id the catalogue does not serve with the service's 404.
        let rules_model = match catalogue::lookup(model) {
            Lookup::Known(m) => m,
            Lookup::Unknown(_) => catalogue::default_model(),
        };
        let thinks = !matches!(rules_model.thinking(), Thinking::NotConfigurable);
        let config = body.get("generationConfig");
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
        let wants =
            |modality: &str| modalities.is_empty() || modalities.iter().any(|m| m == modality);
        // A known text-only model makes no images (validation rejected asking it for them).
        let wants_image = wants("IMAGE") && !catalogue::lookup(model).is_text_only();
        let include_thoughts = thinks
            && config
                .and_then(|c| c.pointer("/thinkingConfig/includeThoughts"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
        let mut plan = Plan {
            rules_model,
            thinks,
            wants_text: wants("TEXT"),
            wants_image,
            include_thoughts,
            width: 0,
            height: 0,
            image_tokens: 0,
        };
        if wants_image {
            let image_config = config.and_then(|c| c.get("imageConfig"));
            (plan.width, plan.height, plan.image_tokens) =
                output_size(model, rules_model, image_config, context)?;
        }
        Ok(plan)
    }
}

/// The output size (SPEC.md §1 and the resolution table): the ratio asked for, or the one
/// closest to the last input image's; the size asked for, or the model's default.
fn output_size(
    model: &str,
    rules_model: &catalogue::Model,
    image_config: Option<&Value>,
    context: &Context<'_>,
) -> Result<(u32, u32, u64), Failure> {
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
    let entry = resolution::table()
        .get(rules_model.id(), &ratio, size.as_ref())
        .ok_or_else(|| {
            Failure::Invalid(format!(
                "Unsupported combination of aspect ratio \"{}\" and image size \"{}\" for model {model}. Allowed: the sizes and ratios of the model's resolution table.",
                ratio.as_str(),
                size.as_ref().map(ImageSize::as_str).unwrap_or("(default)")
            ))
        })?;
    Ok((entry.width(), entry.height(), u64::from(entry.tokens())))
}

/// Answers a request (`body` in camelCase, as [`crate::replay::normalize`] makes it) for `model`.
/// Validation ran before, for a model the catalogue knows; an unknown image model is checked
/// here against the rules it is simulated with.
pub(crate) fn generate(
    model: &str,
    body: &Value,
    seed: &[u8; 32],
    outcome: Option<OutcomeKind>,
    context: &Context<'_>,
) -> Result<Simulated, Failure> {
    // Images are the normal answer.
    let outcome = outcome.filter(|kind| *kind != OutcomeKind::Images);
    let plan = Plan::read(model, body, context)?;
    let subject = summarize(&last_user_text(body));
    let mut rng = Rng::new(seed);
    let (parts, text) = draw(&plan, seed, outcome, &subject, context, &mut rng)?;
    let tokens = answer::Tokens::count(body, &plan, &parts, text.as_deref(), &mut rng);
    let grounding = grounding::metadata(
        body,
        plan.rules_model.id(),
        text.as_deref(),
        &subject,
        &mut rng,
    );
    let answer = answer::Answer {
        model,
        response_id: response_id(seed),
        tokens,
        grounding,
        wire_parts: answer::sign_parts(&parts, context.signer, context.format),
        parts,
    };
    Ok(answer.build(outcome))
}

/// The parts of the answer, in order (thoughts, then the text, then the image), and its text.
/// An outcome other than `text-only` makes none.
fn draw(
    plan: &Plan<'_>,
    seed: &[u8; 32],
    outcome: Option<OutcomeKind>,
    subject: &str,
    context: &Context<'_>,
    rng: &mut Rng,
) -> Result<(Vec<SimPart>, Option<String>), Failure> {
    let mut parts: Vec<SimPart> = Vec::new();
    let outcome_parts = outcome.is_some();
    if plan.include_thoughts && !outcome_parts {
        parts.push(SimPart::ThoughtText(format!(
            "**Planning the image**\n\nI'm working out the composition for {subject}: the main subject centred, a clean background, balanced colours. A quick draft to check the layout."
        )));
    }
    let mut final_image = None;
    if plan.wants_image && !outcome_parts {
        let render = |style: Style, salt: &[u8]| {
            let mut image_seed = seed.to_vec();
            image_seed.extend_from_slice(salt);
            image::render(context.format, style, plan.width, plan.height, &image_seed)
                .map(Bytes::from)
                .map_err(|e| Failure::Internal(e.to_string()))
        };
        let finished = render(Style::Final, b"final")?;
        if plan.include_thoughts {
            // SPEC.md §3: up to two interim thought images; the last one is the final image.
            if rng.next().is_multiple_of(2) {
                parts.push(SimPart::ThoughtImage(render(Style::Thought, b"draft")?));
            }
            parts.push(SimPart::ThoughtImage(finished.clone()));
        }
        final_image = Some(finished);
    }
    let text = if outcome == Some(OutcomeKind::TextOnly) {
        Some(format!(
            "I can describe {subject}, but I can't create that image right now."
        ))
    } else if plan.wants_text && !outcome_parts {
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
    Ok((parts, text))
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

/// The input tokens of a request as the simulated usage counts them (its
/// `promptTokenCount`): text about four characters a token, each input image 258 tokens (1120
/// for a thinking model). For quotas on tokens per minute; `body` as the client sent it.
pub(crate) fn input_tokens(model: &str, body: &Value) -> u64 {
    let normal = crate::replay::normalize(body);
    let rules_model = match catalogue::lookup(model) {
        Lookup::Known(m) => m,
        Lookup::Unknown(_) => catalogue::default_model(),
    };
    let thinks = !matches!(rules_model.thinking(), Thinking::NotConfigurable);
    let (text, images) = prompt_tokens(&normal, thinks);
    text + images
}

/// The prompt's tokens of a normalized body: (text, input images).
fn prompt_tokens(body: &Value, thinks: bool) -> (u64, u64) {
    let per_input_image: u64 = if thinks { 1120 } else { 258 };
    (
        all_text(body).div_ceil(4).max(1) as u64,
        per_input_image * count_input_images(body) as u64,
    )
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
pub(crate) fn split_text(text: &str) -> Vec<String> {
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
