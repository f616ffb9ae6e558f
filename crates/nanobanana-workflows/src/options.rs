//! The knobs of a generation (SPEC.md §2): aspect ratio, image size, response modalities,
//! thinking, and Google Search grounding. One [`ImageOptions`] value serves as a builder's
//! settings, a chat's defaults and a chat turn's overrides.

use nanobanana_wire::{
    AspectRatio, GenerateContentRequest, GenerationConfig, GoogleSearch, ImageConfig, ImageSearch,
    ImageSize, Modality, SearchTypes, ThinkingConfig, ThinkingLevel, Tool, WebSearch,
};
use serde::{Deserialize, Serialize};

/// What kind of answer to ask for (`responseModalities`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Modalities {
    /// `["IMAGE"]`: images only.
    ImageOnly,
    /// `["TEXT", "IMAGE"]`: text and images (the service's default).
    TextAndImage,
}

/// Grounding with Google Search (SPEC.md §3): web results, image results, or both. Image
/// search exists on `gemini-3.1-flash-image` only; asking another model for it is
/// refused before sending (`image-search-supported`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Search {
    /// `{"googleSearch": {}}`: web search.
    Web,
    /// `{"googleSearch": {"searchTypes": {"imageSearch": {}}}}`: image search only.
    Image,
    /// `{"googleSearch": {"searchTypes": {"webSearch": {}, "imageSearch": {}}}}`.
    WebAndImage,
}

impl Search {
    /// The `tools` entry.
    pub fn tool(self) -> Tool {
        let search = match self {
            Search::Web => GoogleSearch::new(),
            Search::Image => GoogleSearch::new()
                .with_search_types(SearchTypes::new().with_image_search(ImageSearch::new())),
            Search::WebAndImage => GoogleSearch::new().with_search_types(
                SearchTypes::new()
                    .with_web_search(WebSearch::new())
                    .with_image_search(ImageSearch::new()),
            ),
        };
        Tool::new().with_google_search(search)
    }
}

/// Settings of a generation; every one optional (unset: the service's default, or, as a chat
/// turn's override, the chat's setting).
///
/// Serialized (in chat exports) as camelCase JSON with only the settings that are set, e.g.
/// `{"aspectRatio": "16:9", "imageSize": "2K", "modalities": "image-only",
/// "thinkingLevel": "HIGH", "includeThoughts": true, "search": "web"}`.
///
/// ```
/// use nanobanana_workflows::{ImageOptions, Search};
///
/// let defaults = ImageOptions::new().with_aspect_ratio("16:9").with_image_size("2K");
/// let turn = ImageOptions::new().with_aspect_ratio("4:3").with_search(Search::Web);
/// let merged = defaults.merged_with(&turn);
/// assert_eq!(merged.aspect_ratio().unwrap().as_str(), "4:3");
/// assert_eq!(merged.image_size().unwrap().as_str(), "2K");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aspect_ratio: Option<AspectRatio>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_size: Option<ImageSize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    modalities: Option<Modalities>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thinking_level: Option<ThinkingLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    include_thoughts: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    search: Option<Search>,
}

impl ImageOptions {
    /// Nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `imageConfig.aspectRatio`, e.g. `"16:9"` (checked against the model before sending).
    pub fn with_aspect_ratio(mut self, ratio: impl Into<AspectRatio>) -> Self {
        self.aspect_ratio = Some(ratio.into());
        self
    }

    /// Sets `imageConfig.imageSize`: `"512"` (3.1 Flash only), `"1K"`, `"2K"`, `"4K"`, with a
    /// capital K (`"1k"` is refused before sending, as the service rejects it).
    pub fn with_image_size(mut self, size: impl Into<ImageSize>) -> Self {
        self.image_size = Some(size.into());
        self
    }

    /// Unsets the aspect ratio (the model's default applies: 1:1, or the input image's ratio).
    pub fn without_aspect_ratio(mut self) -> Self {
        self.aspect_ratio = None;
        self
    }

    /// Unsets the image size (the model's default applies: 1K).
    pub fn without_image_size(mut self) -> Self {
        self.image_size = None;
        self
    }

    /// Asks for images only (`responseModalities: ["IMAGE"]`).
    pub fn image_only(mut self) -> Self {
        self.modalities = Some(Modalities::ImageOnly);
        self
    }

    /// Asks for text and images (`responseModalities: ["TEXT", "IMAGE"]`).
    pub fn text_and_image(mut self) -> Self {
        self.modalities = Some(Modalities::TextAndImage);
        self
    }

    /// Sets the thinking level (`minimal` or `high` on 3.1 Flash; not configurable on 2.5
    /// Flash).
    pub fn with_thinking_level(mut self, level: impl Into<ThinkingLevel>) -> Self {
        self.thinking_level = Some(level.into());
        self
    }

    /// Returns thought parts (interim thought images, thought summaries) with the answer
    /// (`includeThoughts: true`). Thought tokens are billed either way.
    pub fn with_thoughts(mut self) -> Self {
        self.include_thoughts = Some(true);
        self
    }

    /// Leaves thoughts out (`includeThoughts: false`), e.g. to override a chat's default.
    pub fn without_thoughts(mut self) -> Self {
        self.include_thoughts = Some(false);
        self
    }

    /// Grounds the answer with Google Search.
    pub fn with_search(mut self, search: Search) -> Self {
        self.search = Some(search);
        self
    }

    /// The aspect ratio, if set.
    pub fn aspect_ratio(&self) -> Option<&AspectRatio> {
        self.aspect_ratio.as_ref()
    }

    /// The image size, if set.
    pub fn image_size(&self) -> Option<&ImageSize> {
        self.image_size.as_ref()
    }

    /// The modalities, if set.
    pub fn modalities(&self) -> Option<Modalities> {
        self.modalities
    }

    /// The thinking level, if set.
    pub fn thinking_level(&self) -> Option<&ThinkingLevel> {
        self.thinking_level.as_ref()
    }

    /// Whether thoughts are asked for, if set.
    pub fn include_thoughts(&self) -> Option<bool> {
        self.include_thoughts
    }

    /// The search grounding, if set.
    pub fn search(&self) -> Option<Search> {
        self.search
    }

    /// These settings with those `overrides` sets replacing them.
    pub fn merged_with(&self, overrides: &ImageOptions) -> ImageOptions {
        ImageOptions {
            aspect_ratio: overrides
                .aspect_ratio
                .clone()
                .or_else(|| self.aspect_ratio.clone()),
            image_size: overrides
                .image_size
                .clone()
                .or_else(|| self.image_size.clone()),
            modalities: overrides.modalities.or(self.modalities),
            thinking_level: overrides
                .thinking_level
                .clone()
                .or_else(|| self.thinking_level.clone()),
            include_thoughts: overrides.include_thoughts.or(self.include_thoughts),
            search: overrides.search.or(self.search),
        }
    }

    /// The `generationConfig` these settings make; `None` when nothing is set.
    pub fn generation_config(&self) -> Option<GenerationConfig> {
        let mut config = GenerationConfig::new();
        let mut any = false;
        if self.aspect_ratio.is_some() || self.image_size.is_some() {
            let mut image = ImageConfig::new();
            image.aspect_ratio = self.aspect_ratio.clone();
            image.image_size = self.image_size.clone();
            config = config.with_image_config(image);
            any = true;
        }
        match self.modalities {
            Some(Modalities::ImageOnly) => {
                config = config.with_response_modalities([Modality::Image]);
                any = true;
            }
            Some(Modalities::TextAndImage) => {
                config = config.with_response_modalities([Modality::Text, Modality::Image]);
                any = true;
            }
            None => {}
        }
        if self.thinking_level.is_some() || self.include_thoughts.is_some() {
            let mut thinking = ThinkingConfig::new();
            thinking.thinking_level = self.thinking_level.clone();
            thinking.include_thoughts = self.include_thoughts;
            config = config.with_thinking_config(thinking);
            any = true;
        }
        any.then_some(config)
    }

    /// The `tools` these settings make.
    pub fn tools(&self) -> Vec<Tool> {
        self.search.map(Search::tool).into_iter().collect()
    }

    /// Sets the request's `generationConfig` and `tools` from these settings (replacing them).
    pub fn apply_to(&self, request: &mut GenerateContentRequest) {
        request.generation_config = self.generation_config();
        request.tools = self.tools();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_setting_can_be_unset_and_the_others_stay() {
        let options = ImageOptions::new()
            .with_aspect_ratio("16:9")
            .with_image_size("2K")
            .image_only()
            .without_aspect_ratio();
        assert_eq!(options.aspect_ratio(), None);
        assert_eq!(options.image_size(), Some(&ImageSize::from("2K")));
        assert_eq!(options.modalities(), Some(Modalities::ImageOnly));
        assert_eq!(options.without_image_size().image_size(), None);
    }

    #[test]
    fn settings_make_the_documented_request_shape() {
        let options = ImageOptions::new()
            .with_aspect_ratio("16:9")
            .with_image_size("2K")
            .text_and_image()
            .with_thinking_level(ThinkingLevel::High)
            .with_thoughts()
            .with_search(Search::WebAndImage);
        let mut request = GenerateContentRequest::new();
        options.apply_to(&mut request);
        // SPEC.md §2, the request example.
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({
                "tools": [{"googleSearch": {"searchTypes": {"webSearch": {}, "imageSearch": {}}}}],
                "generationConfig": {
                    "responseModalities": ["TEXT", "IMAGE"],
                    "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
                    "thinkingConfig": {"thinkingLevel": "HIGH", "includeThoughts": true}
                }
            })
        );
        assert_eq!(ImageOptions::new().generation_config(), None);
        assert_eq!(
            serde_json::to_value(Search::Web.tool()).unwrap(),
            json!({"googleSearch": {}})
        );
    }

    #[test]
    fn options_serialize_to_their_documented_shape_and_back() {
        let options = ImageOptions::new()
            .with_aspect_ratio("4:3")
            .image_only()
            .without_thoughts()
            .with_search(Search::Image);
        let value = serde_json::to_value(&options).unwrap();
        assert_eq!(
            value,
            json!({"aspectRatio": "4:3", "modalities": "image-only", "includeThoughts": false, "search": "image"})
        );
        let back: ImageOptions = serde_json::from_value(value).unwrap();
        assert_eq!(back, options);
    }
}
