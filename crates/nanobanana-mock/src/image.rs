//! Synthetic pictures for the fake image model: real PNG and baseline JPEG files of exactly the
//! requested pixel size, drawn deterministically from a seed.
//!
//! The fake server answers with images of the sizes the resolution tables give (up to 4096x4096
//! and 12288x1536 pixels), byte for byte the same for the same request, and fast even in a debug
//! build. [`render`] draws a small scene whose colours and layout come from the seed: sky bands, a
//! sun, a house on a chequered ground, inside a frame. [`Style::Thought`] draws an interim
//! "thought" image instead: a greyish pencil draft of the same scene on ruled paper. [`sniff`]
//! reads the format and size back from a PNG or JPEG file.
//!
//! Everything in a scene is made of flat-colour cells of 8x8 pixels, which is what keeps the
//! encoders (written here, on the standard library only) cheap:
//!
//! * PNG: palette colour at 1, 2 or 4 bits, one fixed-Huffman deflate block in which each
//!   distinct row is written once, run-length coded, and every repeated row as a filter-Up row of
//!   zeros (two literals and distance-1 matches). The Adler-32 of a repeated row is combined
//!   arithmetically, so the work is proportional to the compressed size, not the pixel count.
//! * JPEG: baseline (SOF0), YCbCr 4:4:4, the standard tables of JPEG Annex K. Every 8x8 block is
//!   flat, so it is a DC difference and an end-of-block code: there is no DCT. A restart interval
//!   per row of blocks makes identical rows identical bytes, which are encoded once and copied.
//!
//! ```
//! use nanobanana_mock::image::{ImageFormat, Style, render, sniff};
//!
//! # fn main() -> Result<(), nanobanana_mock::image::ImageError> {
//! let png = render(ImageFormat::Png, Style::Final, 1024, 768, b"a nano banana dish")?;
//! assert_eq!(sniff(&png), Some((ImageFormat::Png, 1024, 768)));
//! // The same request draws the same bytes; another seed draws another picture.
//! assert_eq!(png, render(ImageFormat::Png, Style::Final, 1024, 768, b"a nano banana dish")?);
//! assert_ne!(png, render(ImageFormat::Png, Style::Final, 1024, 768, b"a banana split")?);
//! # Ok(())
//! # }
//! ```

use std::fmt;

pub use nanobanana_wire::media::{ImageFormat, sniff};

mod jpeg_encoder;
mod png_encoder;
mod scene;
#[cfg(test)]
mod tests;

use self::jpeg_encoder::*;
use self::png_encoder::*;
use self::scene::*;

/// The largest width or height [`render`] accepts: the limit of a JPEG frame header (also applied
/// to PNG, for simplicity).
pub const MAX_SIDE: u32 = 65_535;

/// The largest number of pixels (width times height) [`render`] accepts: 2^28.
pub const MAX_PIXELS: u64 = 1 << 28;

/// The image formats [`render`] draws: PNG and JPEG (of `nanobanana_wire::media`'s
/// [`ImageFormat`], re-exported here with [`sniff`], which reads them back).
pub const OUTPUT_FORMATS: [ImageFormat; 2] = [ImageFormat::Png, ImageFormat::Jpeg];

/// A format the fake server draws, by name: `png`, `jpeg` or `jpg`, in any case, surrounding
/// spaces ignored. The error names the format asked for and the allowed ones.
///
/// ```
/// use nanobanana_mock::image::{ImageFormat, output_format};
///
/// assert_eq!(output_format(" JPG "), Ok(ImageFormat::Jpeg));
/// assert_eq!(
///     output_format("webp").unwrap_err(),
///     "unknown image format \"webp\": allowed are png, jpeg"
/// );
/// ```
pub fn output_format(name: &str) -> Result<ImageFormat, String> {
    name.parse::<ImageFormat>()
        .ok()
        .filter(|format| OUTPUT_FORMATS.contains(format))
        .ok_or_else(|| {
            format!(
                "unknown image format {:?}: allowed are png, jpeg",
                name.trim()
            )
        })
}

/// What kind of picture [`render`] draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    /// A final answer image: a coloured scene.
    Final,
    /// An interim thought image (the model's draft while it thinks): a greyish, desaturated pencil
    /// sketch of the same scene on ruled paper, clearly different from the final image.
    Thought,
}

/// A size (or format) [`render`] refuses to draw. Its message says what was wrong and what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageError {
    width: u32,
    height: u32,
    reason: Reason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    Side,
    Pixels,
    Format(ImageFormat),
}

impl ImageError {
    /// The width that was asked for.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The height that was asked for.
    pub fn height(&self) -> u32 {
        self.height
    }
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (width, height) = (self.width, self.height);
        match self.reason {
            Reason::Side => write!(
                f,
                "image size {width}x{height} is not allowed: width and height must be 1..={MAX_SIDE}"
            ),
            Reason::Pixels => write!(
                f,
                "image size {width}x{height} is not allowed: it has {} pixels, at most {MAX_PIXELS} \
                 (2^28) are allowed",
                u64::from(width) * u64::from(height)
            ),
            Reason::Format(format) => write!(
                f,
                "image format {format} is not drawn: the fake server draws PNG and JPEG"
            ),
        }
    }
}

impl std::error::Error for ImageError {}

/// Draws the picture of `seed` as a PNG or JPEG file of exactly `width` x `height` pixels.
///
/// The same arguments always give the same bytes; another seed, style or size gives other bytes.
/// A thought image is a draft of the final image of the same seed. Width and height must be
/// `1..=`[`MAX_SIDE`] and their product at most [`MAX_PIXELS`].
pub fn render(
    format: ImageFormat,
    style: Style,
    width: u32,
    height: u32,
    seed: &[u8],
) -> Result<Vec<u8>, ImageError> {
    check_size(width, height)?;
    if !OUTPUT_FORMATS.contains(&format) {
        return Err(ImageError {
            width,
            height,
            reason: Reason::Format(format),
        });
    }
    let scene = Scene::new(style, width, height, seed);
    let rows = scene.cell_rows();
    Ok(match format {
        ImageFormat::Jpeg => encode_jpeg(&scene, &rows),
        _ => encode_png(&scene, &rows),
    })
}

fn check_size(width: u32, height: u32) -> Result<(), ImageError> {
    let side_allowed = |side: u32| (1..=MAX_SIDE).contains(&side);
    let reason = if !side_allowed(width) || !side_allowed(height) {
        Reason::Side
    } else if u64::from(width) * u64::from(height) > MAX_PIXELS {
        Reason::Pixels
    } else {
        return Ok(());
    };
    Err(ImageError {
        width,
        height,
        reason,
    })
}
