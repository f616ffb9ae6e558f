//! The model catalogue (SPEC.md §1): the three image models with their aspect ratios, image
//! sizes, thinking support, reference-image limits and image search.
//!
//! [`lookup`] accepts `models/<id>` aliases. An id that is not in the catalogue is not rejected:
//! it yields [`Lookup::Unknown`], whose [`warning`](Lookup::warning) carries the
//! `model-catalogue` rule, and validation then checks only what holds for every model.

use nanobanana_wire::{AspectRatio, ImageSize, ThinkingLevel};

use crate::report::{Rule, Violation};

/// Id of Nano Banana 2, the model to recommend by default.
pub const GEMINI_3_1_FLASH_IMAGE: &str = "gemini-3.1-flash-image-preview";
/// Id of Nano Banana Pro.
pub const GEMINI_3_PRO_IMAGE: &str = "gemini-3-pro-image-preview";
/// Id of Nano Banana (the first image model).
pub const GEMINI_2_5_FLASH_IMAGE: &str = "gemini-2.5-flash-image";

/// The 14 aspect ratios of 3.1 Flash Image, in the published table's order.
pub(crate) const ALL_RATIOS: &[AspectRatio] = &[
    AspectRatio::Ratio1x1,
    AspectRatio::Ratio1x4,
    AspectRatio::Ratio1x8,
    AspectRatio::Ratio2x3,
    AspectRatio::Ratio3x2,
    AspectRatio::Ratio3x4,
    AspectRatio::Ratio4x1,
    AspectRatio::Ratio4x3,
    AspectRatio::Ratio4x5,
    AspectRatio::Ratio5x4,
    AspectRatio::Ratio8x1,
    AspectRatio::Ratio9x16,
    AspectRatio::Ratio16x9,
    AspectRatio::Ratio21x9,
];

/// The 10 aspect ratios of 3 Pro Image and 2.5 Flash Image: the 14 less `1:4 4:1 1:8 8:1`.
const TEN_RATIOS: &[AspectRatio] = &[
    AspectRatio::Ratio1x1,
    AspectRatio::Ratio2x3,
    AspectRatio::Ratio3x2,
    AspectRatio::Ratio3x4,
    AspectRatio::Ratio4x3,
    AspectRatio::Ratio4x5,
    AspectRatio::Ratio5x4,
    AspectRatio::Ratio9x16,
    AspectRatio::Ratio16x9,
    AspectRatio::Ratio21x9,
];

/// One image model of the catalogue.
#[derive(Debug, PartialEq, Eq)]
pub struct Model {
    id: &'static str,
    name: &'static str,
    aspect_ratios: &'static [AspectRatio],
    image_sizes: &'static [ImageSize],
    default_image_size: Option<ImageSize>,
    thinking: Thinking,
    reference_images: ReferenceImages,
    image_search: Availability,
    thought_signatures: Signatures,
}

/// What a model does about thinking (SPEC.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Thinking {
    /// Thinking is always on and its level can be chosen.
    Levels {
        /// The levels the model accepts, in the guide's order.
        levels: &'static [ThinkingLevel],
        /// The level used when none is given.
        default: &'static ThinkingLevel,
    },
    /// Thinking is always on and cannot be disabled (`thinkingBudget: 0` is rejected).
    AlwaysOn,
    /// The model takes no thinking config at all.
    NotConfigurable,
}

/// How many input (reference) images a model takes (SPEC.md §1, §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceImages {
    /// A limit the service enforces: more images are rejected.
    Limit {
        /// At most this many images in all.
        total: u32,
        /// Of which at most this many high-fidelity object images.
        objects: u32,
        /// Of which at most this many character images (for likeness).
        characters: u32,
    },
    /// Advice only: the model works best with up to this many images; more only warn.
    Advice {
        /// The advised maximum.
        best_up_to: u32,
    },
}

/// Whether a model has a feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    /// The model has it.
    Available,
    /// The model does not have it.
    Unavailable,
}

/// Whether a model needs its thought signatures back (SPEC.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signatures {
    /// A model turn sent back without its signatures is rejected with 400 (Gemini 3 models).
    Required,
    /// A model turn sent back without its signatures is accepted; validation only warns.
    Optional,
}

static MODELS: [Model; 3] = [
    Model {
        id: GEMINI_3_1_FLASH_IMAGE,
        name: "Nano Banana 2",
        aspect_ratios: ALL_RATIOS,
        image_sizes: &[
            ImageSize::Size512,
            ImageSize::Size1K,
            ImageSize::Size2K,
            ImageSize::Size4K,
        ],
        default_image_size: Some(ImageSize::Size1K),
        thinking: Thinking::Levels {
            levels: &[ThinkingLevel::Minimal, ThinkingLevel::High],
            default: &ThinkingLevel::Minimal,
        },
        reference_images: ReferenceImages::Limit {
            total: 14,
            objects: 10,
            characters: 4,
        },
        image_search: Availability::Available,
        thought_signatures: Signatures::Required,
    },
    Model {
        id: GEMINI_3_PRO_IMAGE,
        name: "Nano Banana Pro",
        aspect_ratios: TEN_RATIOS,
        image_sizes: &[ImageSize::Size1K, ImageSize::Size2K, ImageSize::Size4K],
        default_image_size: Some(ImageSize::Size1K),
        thinking: Thinking::AlwaysOn,
        reference_images: ReferenceImages::Limit {
            total: 14,
            objects: 6,
            characters: 5,
        },
        image_search: Availability::Unavailable,
        thought_signatures: Signatures::Required,
    },
    Model {
        id: GEMINI_2_5_FLASH_IMAGE,
        name: "Nano Banana",
        aspect_ratios: TEN_RATIOS,
        image_sizes: &[],
        default_image_size: None,
        thinking: Thinking::NotConfigurable,
        reference_images: ReferenceImages::Advice { best_up_to: 3 },
        image_search: Availability::Unavailable,
        thought_signatures: Signatures::Optional,
    },
];

/// The three image models, newest first (the order of SPEC.md §1).
pub fn models() -> &'static [Model] {
    &MODELS
}

impl Model {
    /// The model id, e.g. `gemini-3.1-flash-image-preview`.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The product name, e.g. `Nano Banana 2`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The aspect ratios the model accepts, in the published table's order.
    pub fn aspect_ratios(&self) -> &'static [AspectRatio] {
        self.aspect_ratios
    }

    /// The image sizes the model accepts, smallest first; empty when the model takes no
    /// `imageSize` (2.5 Flash Image).
    pub fn image_sizes(&self) -> &'static [ImageSize] {
        self.image_sizes
    }

    /// The image size used when the request gives none; `None` when sizes are not configurable.
    pub fn default_image_size(&self) -> Option<&ImageSize> {
        self.default_image_size.as_ref()
    }

    /// What the model does about thinking.
    pub fn thinking(&self) -> Thinking {
        self.thinking
    }

    /// How many input images the model takes.
    pub fn reference_images(&self) -> ReferenceImages {
        self.reference_images
    }

    /// Whether the model offers web image search grounding (`searchTypes.imageSearch`).
    pub fn image_search(&self) -> Availability {
        self.image_search
    }

    /// Whether the model requires thought signatures back (Gemini 3 models, SPEC.md §4);
    /// 2.5 Flash Image does not.
    pub fn thought_signatures(&self) -> Signatures {
        self.thought_signatures
    }

    /// Whether the model accepts this aspect ratio.
    pub fn supports_aspect_ratio(&self, ratio: &AspectRatio) -> bool {
        self.aspect_ratios.contains(ratio)
    }

    /// Whether the model accepts this image size.
    pub fn supports_image_size(&self, size: &ImageSize) -> bool {
        self.image_sizes.contains(size)
    }
}

/// The result of looking a model id up in the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// One of the three image models.
    Known(&'static Model),
    /// An id the catalogue does not know (normalised: without `models/`). Validation is
    /// permissive for it: only the rules that hold for every model are checked.
    Unknown(&'a str),
}

impl<'a> Lookup<'a> {
    /// The model, if the catalogue knows it.
    pub fn model(&self) -> Option<&'static Model> {
        match self {
            Lookup::Known(model) => Some(model),
            Lookup::Unknown(_) => None,
        }
    }

    /// The normalised id (without a `models/` prefix).
    pub fn id(&self) -> &'a str {
        match self {
            Lookup::Known(model) => model.id,
            Lookup::Unknown(id) => id,
        }
    }

    /// Whether the id is a Gemini model known to produce no images (see [`TEXT_ONLY_MODELS`]).
    pub fn is_text_only(&self) -> bool {
        matches!(self, Lookup::Unknown(id) if TEXT_ONLY_MODELS.contains(id))
    }

    /// The `model-catalogue` warning for an unknown id; `None` for a known image model and for a
    /// known text-only model (which is not unknown: asking it for images is an error instead).
    pub fn warning(&self) -> Option<Violation> {
        match self {
            Lookup::Known(_) => None,
            Lookup::Unknown(_) if self.is_text_only() => None,
            Lookup::Unknown(id) => Some(Violation::warning(
                Rule::ModelCatalogue,
                String::new(),
                *id,
                known_ids(),
                format!(
                    "Unknown model \"{id}\": not one of the image models ({}); only the rules that hold for every model were checked.",
                    known_ids()
                ),
            )),
        }
    }
}

/// Looks a model id up, accepting the `models/<id>` alias.
///
/// ```
/// use nanobanana_rules::catalogue::{lookup, Lookup};
///
/// let model = lookup("models/gemini-3-pro-image-preview").model().unwrap();
/// assert_eq!(model.name(), "Nano Banana Pro");
/// assert!(matches!(lookup("gemini-9-image"), Lookup::Unknown("gemini-9-image")));
/// ```
pub fn lookup(model_id: &str) -> Lookup<'_> {
    let id = normalise(model_id);
    match MODELS.iter().find(|model| model.id == id) {
        Some(model) => Lookup::Known(model),
        None => Lookup::Unknown(id),
    }
}

/// Gemini models known to make no images. The service answers a request for image output to
/// them with `400 INVALID_ARGUMENT "Model does not support the requested response modalities:
/// image"` (WIRE.md, Errors), so validation reports that under `model-catalogue` instead of the
/// permissive unknown-model warning. The list is deliberately explicit, not a guess from the
/// id's spelling: any other id stays permissive, because the service adds image models.
pub const TEXT_ONLY_MODELS: &[&str] = &[
    "gemini-2.0-flash",
    "gemini-2.0-flash-lite",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.5-pro",
];

/// Strips the `models/` prefix of a resource name.
fn normalise(model_id: &str) -> &str {
    model_id.strip_prefix("models/").unwrap_or(model_id)
}

fn known_ids() -> String {
    join(MODELS.iter().map(|model| model.id))
}

/// Joins wire spellings with `, `, as the messages list allowed values.
pub(crate) fn join<'s>(items: impl IntoIterator<Item = &'s str>) -> String {
    let mut out = String::new();
    for item in items {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(item);
    }
    out
}
