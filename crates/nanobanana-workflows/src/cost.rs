//! Cost previews: before sending, what a request will produce per image (pixel size and output
//! tokens) according to the published resolution table (SPEC.md §1), through
//! [`nanobanana_rules::resolution::predict`], and what it costs in US dollars where the model
//! catalogue (`fixtures/models.json`) knows the rate (SERVICE-2026.md §8: third-party
//! transcriptions; Batch is half price).

use std::fmt;

use nanobanana_rules::resolution::{self, Prediction};
use nanobanana_wire::GenerateContentRequest;

use crate::media::Dimensions;

/// The predicted output of one request, per image.
///
/// ```
/// use nanobanana_workflows::CostPreview;
/// use nanobanana_wire::{GenerateContentRequest, GenerationConfig, ImageConfig};
///
/// let request = GenerateContentRequest::new().with_generation_config(
///     GenerationConfig::new()
///         .with_image_config(ImageConfig::new().with_aspect_ratio("16:9").with_image_size("2K")),
/// );
/// let preview = CostPreview::of("gemini-3-pro-image", &request);
/// assert_eq!(preview.dimensions().unwrap().to_string(), "2752x1536");
/// assert_eq!(preview.tokens_per_image(), Some(1120));
/// assert_eq!(preview.usd_per_image(), Some(0.1344));
/// assert_eq!(
///     preview.to_string(),
///     "gemini-3-pro-image: 16:9 @ 2K: 2752x1536, 1120 tokens per image, ~$0.1344 ($0.0672 in a batch)"
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CostPreview {
    model: String,
    prediction: Prediction,
}

impl CostPreview {
    /// The preview of `request` for `model`.
    pub fn of(model: &str, request: &GenerateContentRequest) -> Self {
        Self {
            model: model.to_owned(),
            prediction: resolution::predict(model, request),
        }
    }

    /// The model.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The rules crate's prediction (ratio source, size in effect, table entry, erratum).
    pub fn prediction(&self) -> &Prediction {
        &self.prediction
    }

    /// The predicted pixel size of each image, when the ratio and size are known (without an
    /// aspect ratio, an edit keeps its input image's ratio, which the table cannot know).
    pub fn dimensions(&self) -> Option<Dimensions> {
        crate::media::predicted(&self.prediction)
    }

    /// Output tokens per image (known even when the ratio is not, if every ratio of the model
    /// costs the same at this size).
    pub fn tokens_per_image(&self) -> Option<u32> {
        self.prediction.tokens_per_image()
    }

    /// US dollars per image at the standard price, where the catalogue knows the model's rate
    /// for image output tokens (rounded to a hundredth of a cent).
    pub fn usd_per_image(&self) -> Option<f64> {
        self.usd(false)
    }

    /// US dollars per image at the Batch (and Flex) price.
    pub fn usd_per_image_in_batch(&self) -> Option<f64> {
        self.usd(true)
    }

    /// Whether the price is a third-party transcription or an estimate rather than the
    /// service's published figure (every rate of the catalogue is, as of 2026-12-03).
    pub fn usd_is_estimated(&self) -> bool {
        nanobanana_rules::catalogue::lookup(&self.model)
            .model()
            .is_none_or(|m| m.basis("pricing") != nanobanana_rules::catalogue::Basis::Published)
    }

    fn usd(&self, batch: bool) -> Option<f64> {
        let pricing = nanobanana_rules::catalogue::lookup(&self.model)
            .model()?
            .pricing()?;
        let tokens = self.tokens_per_image()?;
        let usd = pricing.image_cost(u64::from(tokens), batch);
        Some((usd * 10_000.0).round() / 10_000.0)
    }
}

impl fmt::Display for CostPreview {
    /// `MODEL: 16:9 @ 2K: 2752x1536, 1120 tokens per image, ~$0.1344 ($0.0672 in a batch)`
    /// (`~`: not the service's published price).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.model, self.prediction)?;
        if let (Some(usd), Some(batch)) = (self.usd_per_image(), self.usd_per_image_in_batch()) {
            let mark = if self.usd_is_estimated() { "~" } else { "" };
            write!(f, ", {mark}${usd:.4} (${batch:.4} in a batch)")?;
        }
        Ok(())
    }
}

/// The previews of every request of a batch, with the total image tokens (one image per
/// request).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchCostPreview {
    items: Vec<Option<CostPreview>>,
}

impl BatchCostPreview {
    pub(crate) fn new(items: Vec<Option<CostPreview>>) -> Self {
        Self { items }
    }

    /// One preview per request, in submission order; `None` for a request that could not be
    /// built (it will be refused).
    pub fn items(&self) -> &[Option<CostPreview>] {
        &self.items
    }

    /// The sum of the output tokens per image over the requests whose cost is known.
    pub fn known_image_tokens(&self) -> u64 {
        self.items
            .iter()
            .flatten()
            .filter_map(CostPreview::tokens_per_image)
            .map(u64::from)
            .sum()
    }

    /// How many requests have no known cost (not built, or a model, ratio or size the table
    /// does not have, which validation refuses for the known models).
    pub fn unknown(&self) -> usize {
        self.items
            .iter()
            .filter(|item| {
                item.as_ref()
                    .and_then(CostPreview::tokens_per_image)
                    .is_none()
            })
            .count()
    }
}

impl fmt::Display for BatchCostPreview {
    /// `6 requests, 6450 image tokens (1 request of unknown cost)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} requests, {} image tokens",
            self.items.len(),
            self.known_image_tokens()
        )?;
        match self.unknown() {
            0 => Ok(()),
            1 => f.write_str(" (1 request of unknown cost)"),
            n => write!(f, " ({n} requests of unknown cost)"),
        }
    }
}
