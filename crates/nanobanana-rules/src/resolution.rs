//! The published resolution tables (SPEC.md §1, `fixtures/resolution-tables.json`): output pixel
//! size and token count per (model, aspect ratio, image size), a prediction for a request, and the
//! reverse look-up from pixel size to entries.
//!
//! The table is compiled in (`data/resolution-tables.json`, a byte-identical copy of the fixtures'
//! file made by `cargo xtask codegen`) and parsed once, on first use. It is keyed by the ids the
//! guide published it for; each catalogue model names the table whose rows it uses
//! ([`Model::resolution_table`](crate::catalogue::Model::resolution_table)), and a model with no
//! published table of its own (2.1, Lite) uses another's rows, marked estimated
//! ([`Prediction::is_estimated`]). It is kept **as published**: the one entry that breaks the
//! table's own rules (3.1 Flash Image, 21:9 at 512, published 792x168) keeps its published figure
//! and carries an [`Erratum`] with the consistent value (792x336). Nothing is silently fixed.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use nanobanana_wire::{AspectRatio, GenerateContentRequest, ImageSize};
use serde::Deserialize;

use crate::catalogue::{self, Lookup};
use crate::report::Rule;
use crate::request::is_image_part;

/// The published table, byte for byte.
const TABLE_JSON: &str = include_str!("../data/resolution-tables.json");

/// The order of image sizes, smallest first.
const SIZE_ORDER: &[ImageSize] = &[
    ImageSize::Size512,
    ImageSize::Size1K,
    ImageSize::Size2K,
    ImageSize::Size4K,
];

/// A published entry known to be wrong, with the value that would be consistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Erratum {
    rule: Rule,
    consistent_width: u32,
    consistent_height: u32,
    explanation: &'static str,
}

impl Erratum {
    /// The rule of the catalogue that names this erratum.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The width the table's own rules give.
    pub fn consistent_width(&self) -> u32 {
        self.consistent_width
    }

    /// The height the table's own rules give.
    pub fn consistent_height(&self) -> u32 {
        self.consistent_height
    }

    /// Why the published figure is wrong (SPEC.md §6).
    pub fn explanation(&self) -> &'static str {
        self.explanation
    }
}

/// The known errata of the published table, by (model, aspect ratio, image size).
const ERRATA: &[(&str, AspectRatio, ImageSize, Erratum)] = &[(
    "gemini-3.1-flash-image-preview",
    AspectRatio::Ratio21x9,
    ImageSize::Size512,
    Erratum {
        rule: Rule::ResolutionErratum21x9At512,
        consistent_width: 792,
        consistent_height: 336,
        explanation: "published as 792x168 (ratio 4.71, not 2.33); every other 512 entry is half \
                      its 1K entry, which gives 792x336",
    },
)];

/// One published entry: a model, an aspect ratio, an image size (none on 2.5 Flash Image), and
/// the output's pixel size and token count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableEntry {
    model: String,
    aspect_ratio: AspectRatio,
    image_size: Option<ImageSize>,
    width: u32,
    height: u32,
    tokens: u32,
    erratum: Option<Erratum>,
}

impl TableEntry {
    /// The key of the table the entry belongs to: the model id the guide published it for (a
    /// GA id or a model without a table of its own uses another model's rows).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The aspect ratio.
    pub fn aspect_ratio(&self) -> &AspectRatio {
        &self.aspect_ratio
    }

    /// The image size; `None` for a model that takes no `imageSize`.
    pub fn image_size(&self) -> Option<&ImageSize> {
        self.image_size.as_ref()
    }

    /// Width in pixels, as published.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels, as published.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Output tokens per image, as published.
    pub fn tokens(&self) -> u32 {
        self.tokens
    }

    /// The erratum, when the published figure is known to be wrong.
    pub fn erratum(&self) -> Option<&Erratum> {
        self.erratum.as_ref()
    }
}

impl fmt::Display for TableEntry {
    /// `gemini-3.1-flash-image-preview 21:9 @ 512: 792x168, 747 tokens (erratum: 792x336)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.model, self.aspect_ratio)?;
        if let Some(size) = &self.image_size {
            write!(f, " @ {size}")?;
        }
        write!(
            f,
            ": {}x{}, {} tokens",
            self.width, self.height, self.tokens
        )?;
        if let Some(erratum) = &self.erratum {
            write!(
                f,
                " (erratum: {}x{})",
                erratum.consistent_width, erratum.consistent_height
            )?;
        }
        Ok(())
    }
}

/// The whole published table.
#[derive(Debug)]
pub struct ResolutionTable {
    entries: Vec<TableEntry>,
}

/// The published table, parsed on first use.
pub fn table() -> &'static ResolutionTable {
    static TABLE: OnceLock<ResolutionTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        ResolutionTable::parse(TABLE_JSON)
            .unwrap_or_else(|err| panic!("the compiled-in resolution table is malformed: {err}"))
    })
}

impl ResolutionTable {
    /// Every entry: models in the catalogue's order, then aspect ratios in the published order,
    /// then sizes smallest first.
    pub fn entries(&self) -> &[TableEntry] {
        &self.entries
    }

    /// The entries of one model (`models/` alias accepted): the rows of its table for the
    /// ratios and sizes the model accepts. For an id the catalogue does not know, the rows of a
    /// table published under that id (none, today).
    pub fn model_entries<'a>(
        &'a self,
        model_id: &str,
    ) -> impl Iterator<Item = &'a TableEntry> + use<'a> {
        let lookup = catalogue::lookup(model_id);
        let model = lookup.model();
        let key = model.map_or_else(
            || lookup.id().to_owned(),
            |m| m.resolution_table().to_owned(),
        );
        self.entries.iter().filter(move |entry| {
            entry.model == key
                && model.is_none_or(|m| {
                    m.supports_aspect_ratio(&entry.aspect_ratio)
                        && entry
                            .image_size
                            .as_ref()
                            .is_none_or(|size| m.supports_image_size(size))
                })
        })
    }

    /// The entry for a model, an aspect ratio and the requested image size. With no requested
    /// size the model's default applies (2.5 Flash Image has no sizes at all). `None` when the
    /// model, ratio or size is not in the table.
    pub fn get(
        &self,
        model_id: &str,
        aspect_ratio: &AspectRatio,
        requested_size: Option<&ImageSize>,
    ) -> Option<&TableEntry> {
        let lookup = catalogue::lookup(model_id);
        let size = match requested_size {
            Some(size) => Some(size),
            None => lookup.model().and_then(|model| model.default_image_size()),
        };
        self.model_entries(model_id)
            .find(|entry| entry.aspect_ratio == *aspect_ratio && entry.image_size.as_ref() == size)
    }

    /// Reverse look-up: every entry whose published size is `width` x `height`, or whose erratum
    /// gives that size as the consistent one (an image of 792x336 finds the 21:9 at 512 entry).
    pub fn by_dimensions(&self, width: u32, height: u32) -> impl Iterator<Item = &TableEntry> {
        self.entries.iter().filter(move |entry| {
            (entry.width, entry.height) == (width, height)
                || entry
                    .erratum
                    .is_some_and(|e| (e.consistent_width, e.consistent_height) == (width, height))
        })
    }

    fn parse(json: &str) -> Result<Self, serde_json::Error> {
        let file: TableFile = serde_json::from_str(json)?;
        let mut entries = Vec::new();
        for (model, table) in file.models {
            for (ratio, cell) in table.aspect_ratios {
                let aspect_ratio = AspectRatio::from_wire(&ratio);
                match cell {
                    Cell::Fixed(size) => {
                        entries.push(TableEntry::new(&model, aspect_ratio, None, size));
                    }
                    Cell::BySize(sizes) => {
                        for (size, published) in sizes {
                            let size = Some(ImageSize::from_wire(&size));
                            entries.push(TableEntry::new(
                                &model,
                                aspect_ratio.clone(),
                                size,
                                published,
                            ));
                        }
                    }
                }
            }
        }
        entries.sort_by_key(|entry| {
            let model = catalogue::models()
                .iter()
                .position(|m| m.id() == entry.model)
                .unwrap_or(usize::MAX);
            let ratio = AspectRatio::WIRE_VALUES
                .iter()
                .position(|r| *r == entry.aspect_ratio.as_str())
                .unwrap_or(usize::MAX);
            let size = entry
                .image_size
                .as_ref()
                .map(|s| SIZE_ORDER.iter().position(|o| o == s).unwrap_or(usize::MAX));
            (model, ratio, size)
        });
        Ok(Self { entries })
    }
}

impl TableEntry {
    fn new(
        model: &str,
        aspect_ratio: AspectRatio,
        image_size: Option<ImageSize>,
        published: Published,
    ) -> Self {
        let erratum = ERRATA
            .iter()
            .find(|(m, r, s, _)| {
                *m == model && *r == aspect_ratio && Some(s) == image_size.as_ref()
            })
            .map(|(_, _, _, erratum)| *erratum);
        Self {
            model: model.to_owned(),
            aspect_ratio,
            image_size,
            width: published.width,
            height: published.height,
            tokens: published.tokens,
            erratum,
        }
    }
}

/// The file's layout.
#[derive(Deserialize)]
struct TableFile {
    models: BTreeMap<String, ModelTable>,
}

#[derive(Deserialize)]
struct ModelTable {
    aspect_ratios: BTreeMap<String, Cell>,
}

/// One aspect ratio of a model: per size, or a single entry for a model without sizes.
#[derive(Deserialize)]
#[serde(untagged)]
enum Cell {
    Fixed(Published),
    BySize(BTreeMap<String, Published>),
}

#[derive(Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct Published {
    width: u32,
    height: u32,
    tokens: u32,
}

/// Where the aspect ratio of a request's output comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RatioSource {
    /// The request's `imageConfig.aspectRatio`.
    Requested(AspectRatio),
    /// No `aspectRatio` and no input image: the output is 1:1.
    DefaultSquare,
    /// No `aspectRatio`, but an input image: the output matches that image, whose ratio the
    /// table cannot know.
    MatchesInputImage,
}

impl RatioSource {
    /// The aspect ratio, when it is known.
    pub fn aspect_ratio(&self) -> Option<&AspectRatio> {
        match self {
            RatioSource::Requested(ratio) => Some(ratio),
            RatioSource::DefaultSquare => Some(&AspectRatio::Ratio1x1),
            RatioSource::MatchesInputImage => None,
        }
    }
}

/// What a request will produce per image, as far as the table tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prediction {
    ratio: RatioSource,
    image_size: Option<ImageSize>,
    entry: Option<&'static TableEntry>,
    tokens: Option<u32>,
    estimated: bool,
}

impl Prediction {
    /// Where the output's aspect ratio comes from.
    pub fn ratio(&self) -> &RatioSource {
        &self.ratio
    }

    /// The image size in effect: the requested one or the model's default; `None` for a model
    /// without sizes.
    pub fn image_size(&self) -> Option<&ImageSize> {
        self.image_size.as_ref()
    }

    /// The table entry, when the model, ratio and size are all known and published.
    pub fn entry(&self) -> Option<&'static TableEntry> {
        self.entry
    }

    /// Predicted width in pixels (as published).
    pub fn width(&self) -> Option<u32> {
        self.entry.map(TableEntry::width)
    }

    /// Predicted height in pixels (as published).
    pub fn height(&self) -> Option<u32> {
        self.entry.map(TableEntry::height)
    }

    /// Predicted output tokens per image. Known even when the ratio is not (the output matches
    /// an input image) if every ratio of the model costs the same at this size, as in the
    /// published tables.
    pub fn tokens_per_image(&self) -> Option<u32> {
        self.tokens
    }

    /// Whether the figures are estimated: the model has no published table of its own and uses
    /// another model's rows (2.1 and Lite use 3.1 Flash Image's).
    pub fn is_estimated(&self) -> bool {
        self.estimated
    }
}

impl fmt::Display for Prediction {
    /// `16:9 @ 2K: 2752x1536, 1680 tokens per image`, with `?` for what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ratio.aspect_ratio() {
            Some(ratio) => write!(f, "{ratio}")?,
            None => f.write_str("ratio of the input image")?,
        }
        if let Some(size) = &self.image_size {
            write!(f, " @ {size}")?;
        }
        match (self.width(), self.height()) {
            (Some(width), Some(height)) => write!(f, ": {width}x{height}")?,
            _ => f.write_str(": ?x?")?,
        }
        match self.tokens {
            Some(tokens) => write!(f, ", {tokens} tokens per image")?,
            None => f.write_str(", ? tokens per image")?,
        }
        if self.estimated {
            f.write_str(" (estimated)")?;
        }
        Ok(())
    }
}

/// Predicts the output size and token cost per image of a request (SPEC.md §1): the requested
/// aspect ratio, else 1:1 when the conversation holds no image, else the input image's (unknown)
/// ratio; the requested image size, else the model's default. Sizes are as published (the 21:9
/// at 512 erratum included; see [`TableEntry::erratum`]).
///
/// ```
/// use nanobanana_rules::resolution::{predict, RatioSource};
/// use nanobanana_wire::{GenerateContentRequest, GenerationConfig, ImageConfig};
///
/// let request = GenerateContentRequest::new().with_generation_config(
///     GenerationConfig::new().with_image_config(ImageConfig::new().with_aspect_ratio("16:9")),
/// );
/// let prediction = predict("gemini-3.1-flash-image", &request);
/// assert_eq!((prediction.width(), prediction.height()), (Some(1376), Some(768)));
/// assert_eq!(prediction.tokens_per_image(), Some(1120));
/// assert!(!prediction.is_estimated());
///
/// // 2.1 has no published table: 3.1 Flash Image's rows, marked estimated.
/// let estimated = predict("gemini-nano-banana-2.1", &request);
/// assert_eq!(estimated.to_string(), "16:9 @ 1K: 1376x768, 1120 tokens per image (estimated)");
///
/// let bare = predict("gemini-2.5-flash-image", &GenerateContentRequest::new());
/// assert_eq!(bare.ratio(), &RatioSource::DefaultSquare);
/// assert_eq!(bare.to_string(), "1:1: 1024x1024, 1290 tokens per image");
/// ```
pub fn predict(model_id: &str, request: &GenerateContentRequest) -> Prediction {
    let image_config = request
        .generation_config
        .as_ref()
        .and_then(|config| config.image_config.as_ref());
    let requested_ratio = image_config.and_then(|config| config.aspect_ratio.clone());
    let requested_size = image_config.and_then(|config| config.image_size.as_ref());
    let has_input_image = request
        .contents
        .iter()
        .flat_map(|c| &c.parts)
        .any(is_image_part);
    let ratio = match requested_ratio {
        Some(ratio) => RatioSource::Requested(ratio),
        None if has_input_image => RatioSource::MatchesInputImage,
        None => RatioSource::DefaultSquare,
    };
    let lookup = catalogue::lookup(model_id);
    let image_size = match (requested_size, lookup) {
        (Some(size), _) => Some(size.clone()),
        (None, Lookup::Known(model)) => model.default_image_size().cloned(),
        (None, Lookup::Unknown(_)) => None,
    };
    let table = table();
    let entry = ratio
        .aspect_ratio()
        .and_then(|ratio| table.get(model_id, ratio, image_size.as_ref()));
    let tokens = match entry {
        Some(entry) => Some(entry.tokens),
        None => uniform_tokens(table, model_id, image_size.as_ref()),
    };
    Prediction {
        ratio,
        image_size,
        entry,
        tokens,
        estimated: lookup
            .model()
            .is_some_and(catalogue::Model::resolution_is_estimated),
    }
}

/// The token count every aspect ratio of the model shares at this size, if they all agree.
fn uniform_tokens(
    table: &ResolutionTable,
    model_id: &str,
    size: Option<&ImageSize>,
) -> Option<u32> {
    let mut tokens = table
        .model_entries(model_id)
        .filter(|entry| entry.image_size.as_ref() == size)
        .map(|entry| entry.tokens);
    let first = tokens.next()?;
    tokens.all(|t| t == first).then_some(first)
}
