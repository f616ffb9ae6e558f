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

/// An image file format the fake server produces and recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// PNG, `image/png`.
    Png,
    /// JPEG, `image/jpeg`.
    Jpeg,
}

/// A format name that is not `png`, `jpeg` or `jpg`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownImageFormat(pub String);

impl fmt::Display for UnknownImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown image format {:?}: allowed are png, jpeg",
            self.0
        )
    }
}

impl std::error::Error for UnknownImageFormat {}

impl std::str::FromStr for ImageFormat {
    type Err = UnknownImageFormat;

    /// `png`, `jpeg` or `jpg`, in any case, surrounding spaces ignored.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = text.trim();
        if name.eq_ignore_ascii_case("png") {
            Ok(ImageFormat::Png)
        } else if name.eq_ignore_ascii_case("jpeg") || name.eq_ignore_ascii_case("jpg") {
            Ok(ImageFormat::Jpeg)
        } else {
            Err(UnknownImageFormat(name.to_owned()))
        }
    }
}

impl ImageFormat {
    /// The MIME type of the format: `image/png` or `image/jpeg`.
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }

    /// The format of a MIME type, compared case-insensitively: `image/png`, `image/jpeg`, or the
    /// common misspelling `image/jpg`. `None` for anything else.
    pub fn from_mime_type(mime: &str) -> Option<ImageFormat> {
        if mime.eq_ignore_ascii_case("image/png") {
            Some(ImageFormat::Png)
        } else if mime.eq_ignore_ascii_case("image/jpeg") || mime.eq_ignore_ascii_case("image/jpg")
        {
            Some(ImageFormat::Jpeg)
        } else {
            None
        }
    }
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

/// A size [`render`] refuses to draw. Its message says what was wrong and what is allowed.
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
    let scene = Scene::new(style, width, height, seed);
    let rows = scene.cell_rows();
    Ok(match format {
        ImageFormat::Png => encode_png(&scene, &rows),
        ImageFormat::Jpeg => encode_jpeg(&scene, &rows),
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

// ---------------------------------------------------------------------------------------------
// Sniffing.

/// The format and pixel size of a complete PNG or JPEG file, or `None`.
///
/// A PNG must start with the signature and an `IHDR` chunk and run, chunk by chunk, to an `IEND`
/// chunk with image data on the way. A JPEG must run, segment by segment and through its
/// entropy-coded data, from SOI through a frame header (any SOFn: baseline, extended,
/// progressive, lossless, arithmetic) and at least one scan to EOI. Anything else, including a
/// truncated file, is `None`. Bytes after the end of the image are ignored. Never panics.
pub fn sniff(bytes: &[u8]) -> Option<(ImageFormat, u32, u32)> {
    if bytes.starts_with(&PNG_SIGNATURE) {
        sniff_png(bytes).map(|(w, h)| (ImageFormat::Png, w, h))
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        sniff_jpeg(bytes).map(|(w, h)| (ImageFormat::Jpeg, w, h))
    } else {
        None
    }
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

fn sniff_png(bytes: &[u8]) -> Option<(u32, u32)> {
    const MAX: u32 = 0x7FFF_FFFF;
    let mut at = PNG_SIGNATURE.len();
    let mut size = None;
    let mut data_seen = false;
    loop {
        let len = be32(bytes, at)?;
        if len > MAX {
            return None;
        }
        let kind = bytes.get(at + 4..at + 8)?;
        let data_at = at + 8;
        let data_end = data_at.checked_add(len as usize)?;
        let data = bytes.get(data_at..data_end)?;
        let crc = be32(bytes, data_end)?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        match (kind, size) {
            (b"IHDR", None) => {
                let width = be32(data, 0)?;
                let height = be32(data, 4)?;
                let valid = |side| (1..=MAX).contains(&side);
                if len != 13 || crc != crc32(&[kind, data]) || !valid(width) || !valid(height) {
                    return None;
                }
                size = Some((width, height));
            }
            (_, None) | (b"IHDR", Some(_)) => return None,
            (b"IDAT", Some(_)) => data_seen = true,
            (b"IEND", Some(size)) => return data_seen.then_some(size),
            _ => {}
        }
        at = data_end + 4;
    }
}

fn sniff_jpeg(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    let mut frame = None;
    let mut scanned = false;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        while *bytes.get(at)? == 0xFF {
            at += 1; // fill bytes
        }
        let marker = *bytes.get(at)?;
        at += 1;
        match marker {
            0xD9 => return if scanned { frame } else { None },
            0x00 | 0xD8 => return None,
            0x01 | 0xD0..=0xD7 => continue, // standalone markers
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
        let body = bytes.get(at + 2..at.checked_add(len)?)?;
        at += len;
        match marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let (&[_precision, h1, h0, w1, w0, components], specs) =
                    body.split_first_chunk::<6>()?;
                let (width, height) = (u16::from_be_bytes([w1, w0]), u16::from_be_bytes([h1, h0]));
                // A height of 0 (defined later by a DNL segment) is not supported.
                if frame.is_some()
                    || width == 0
                    || height == 0
                    || components == 0
                    || specs.len() != 3 * usize::from(components)
                {
                    return None;
                }
                frame = Some((u32::from(width), u32::from(height)));
            }
            0xDA => {
                let (&components, specs) = body.split_first()?;
                if frame.is_none()
                    || components == 0
                    || specs.len() != 2 * usize::from(components) + 3
                {
                    return None;
                }
                scanned = true;
                // Entropy-coded data runs to the first marker that is neither a stuffed 0xFF00
                // nor a restart marker.
                loop {
                    let ff = at + bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
                    match *bytes.get(ff + 1)? {
                        0x00 | 0xD0..=0xD7 => at = ff + 2,
                        _ => {
                            at = ff;
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
