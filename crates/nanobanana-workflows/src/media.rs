//! Image types recognised from their content (magic bytes), pixel sizes read from the headers,
//! and the input images of a request: bytes, a file on disk, or a file uploaded with the Files
//! API.

use std::fmt;
use std::io::Read as _;
use std::path::Path;

use nanobanana_rules::resolution::Prediction;
use nanobanana_wire::{File, Part};

use crate::error::Error;

/// An image type the service accepts as input, recognised from the bytes themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// WebP (`RIFF` .... `WEBP`).
    WebP,
    /// HEIC: an ISO BMFF `ftyp` box with a HEVC brand (`heic`, `heix`, `hevc`, `hevx`, ...).
    Heic,
    /// HEIF: an ISO BMFF `ftyp` box with a generic HEIF brand (`mif1`, `msf1`, `heif`).
    Heif,
    /// GIF (`GIF87a` or `GIF89a`).
    Gif,
}

/// The names of the recognised types, for error messages.
pub(crate) const SUPPORTED: &str = "PNG, JPEG, WebP, HEIC, HEIF and GIF";

impl ImageFormat {
    /// Every recognised type.
    pub const ALL: &'static [ImageFormat] = &[
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::WebP,
        ImageFormat::Heic,
        ImageFormat::Heif,
        ImageFormat::Gif,
    ];

    /// Recognises the type from the first bytes, whatever a file name says; `None` when the
    /// bytes are none of [`ImageFormat::ALL`].
    ///
    /// ```
    /// use nanobanana_workflows::ImageFormat;
    ///
    /// assert_eq!(ImageFormat::detect(b"\x89PNG\r\n\x1a\n...."), Some(ImageFormat::Png));
    /// assert_eq!(ImageFormat::detect(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageFormat::WebP));
    /// assert_eq!(ImageFormat::detect(b"%PDF-1.7"), None);
    /// ```
    pub fn detect(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(ImageFormat::Png);
        }
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(ImageFormat::Jpeg);
        }
        if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            return Some(ImageFormat::WebP);
        }
        if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            return Some(ImageFormat::Gif);
        }
        heif_brand(bytes)
    }

    /// The MIME type, e.g. `image/png`.
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::WebP => "image/webp",
            ImageFormat::Heic => "image/heic",
            ImageFormat::Heif => "image/heif",
            ImageFormat::Gif => "image/gif",
        }
    }

    /// The usual file extension, without the dot, e.g. `png`, `jpg`.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::WebP => "webp",
            ImageFormat::Heic => "heic",
            ImageFormat::Heif => "heif",
            ImageFormat::Gif => "gif",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::WebP => "WebP",
            ImageFormat::Heic => "HEIC",
            ImageFormat::Heif => "HEIF",
            ImageFormat::Gif => "GIF",
        })
    }
}

/// The largest image file [`InputImage::from_path`] reads: 100 MB, the inline data the service
/// takes per request (its base64 text is larger still, so a file this large only fits a request
/// alone, if at all).
pub const MAX_INPUT_IMAGE_BYTES: u64 = 100_000_000;

/// How much of a file is read to recognise its type before the rest.
const HEAD_BYTES: u64 = 64;

/// Why `bytes` of `format` are not a whole image, if they are not: a PNG that does not reach its
/// `IEND` chunk, a JPEG without its end-of-image marker after the scan, a WebP shorter than its
/// RIFF header says. GIF, HEIC and HEIF are not checked.
fn truncation(format: ImageFormat, bytes: &[u8]) -> Option<String> {
    match format {
        ImageFormat::Png => png_truncation(bytes),
        ImageFormat::Jpeg => jpeg_truncation(bytes),
        ImageFormat::WebP => {
            let declared = u64::from(le32(bytes, 4)?) + 8;
            (declared > bytes.len() as u64).then(|| {
                format!(
                    "the WebP holds {} bytes, its RIFF header declares {declared}",
                    bytes.len()
                )
            })
        }
        ImageFormat::Gif | ImageFormat::Heic | ImageFormat::Heif => None,
    }
}

fn png_truncation(bytes: &[u8]) -> Option<String> {
    let mut at: usize = 8;
    loop {
        let Some(header) = bytes.get(at..at + 8) else {
            return Some(format!(
                "the PNG ends after {} bytes, before its IEND chunk",
                bytes.len()
            ));
        };
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = &header[4..8];
        let end = at.saturating_add(12).saturating_add(length);
        if end > bytes.len() {
            return Some(format!(
                "the PNG ends after {} bytes, inside its {} chunk (which needs {end}), before IEND",
                bytes.len(),
                String::from_utf8_lossy(kind)
            ));
        }
        if kind == b"IEND" {
            return None;
        }
        at = end;
    }
}

fn jpeg_truncation(bytes: &[u8]) -> Option<String> {
    let cut = || {
        Some(format!(
            "the JPEG ends after {} bytes without its end-of-image marker (FF D9)",
            bytes.len()
        ))
    };
    // Marker segments up to the first scan (an EXIF thumbnail's own FF D9 is skipped with its
    // APP1 segment), then the end marker anywhere after it.
    let mut at = 2;
    loop {
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if bytes.get(at) != Some(&0xFF) {
            return cut();
        }
        let Some(&marker) = bytes.get(at + 1) else {
            return cut();
        };
        match marker {
            0xD9 => return None,
            0x01 | 0xD0..=0xD7 => at += 2,
            _ => {
                let Some(length) = be16(bytes, at + 2) else {
                    return cut();
                };
                at += 2 + usize::from(length);
                if marker == 0xDA {
                    break;
                }
            }
        }
    }
    let scan = bytes.get(at..).unwrap_or_default();
    if scan.windows(2).any(|pair| pair == [0xFF, 0xD9]) {
        None
    } else {
        cut()
    }
}

/// HEIC or HEIF from the major and compatible brands of a leading `ftyp` box.
fn heif_brand(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = size.clamp(16, 256).min(bytes.len());
    // The major brand, then (after the minor version) the compatible brands.
    let brands = std::iter::once(&bytes[8..12]).chain(bytes[16..end].chunks_exact(4));
    let mut generic = false;
    for brand in brands {
        match brand {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"hevm" | b"hevs" => {
                return Some(ImageFormat::Heic);
            }
            b"mif1" | b"msf1" | b"heif" => generic = true,
            _ => {}
        }
    }
    generic.then_some(ImageFormat::Heif)
}

/// A pixel size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dimensions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Dimensions {
    /// The size the resolution table predicts, when it knows both sides.
    pub(crate) fn predicted(prediction: &Prediction) -> Option<Dimensions> {
        Some(Dimensions {
            width: prediction.width()?,
            height: prediction.height()?,
        })
    }
}

impl fmt::Display for Dimensions {
    /// `1376x768`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// Reads the pixel size from the header of a PNG (IHDR), JPEG (the first SOF marker), GIF
/// (logical screen) or WebP (VP8, VP8L or VP8X) image, without decoding it. `None` for other
/// types (HEIC/HEIF) and for a header that is cut off or malformed.
///
/// ```
/// use nanobanana_workflows::media::dimensions;
///
/// let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
/// png.extend_from_slice(&1376u32.to_be_bytes());
/// png.extend_from_slice(&768u32.to_be_bytes());
/// let size = dimensions(&png).unwrap();
/// assert_eq!((size.width, size.height), (1376, 768));
/// ```
pub fn dimensions(bytes: &[u8]) -> Option<Dimensions> {
    let (width, height) = match ImageFormat::detect(bytes)? {
        ImageFormat::Png => png_size(bytes)?,
        ImageFormat::Jpeg => jpeg_size(bytes)?,
        ImageFormat::Gif => gif_size(bytes)?,
        ImageFormat::WebP => webp_size(bytes)?,
        ImageFormat::Heic | ImageFormat::Heif => return None,
    };
    (width > 0 && height > 0).then_some(Dimensions { width, height })
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at + 2)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at + 2)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn le24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], 0]))
}

fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    // Signature (8), chunk length (4), "IHDR" (4), width (4), height (4).
    if bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be32(bytes, 16)?, be32(bytes, 20)?))
}

fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        // Skip fill bytes before a marker.
        while *bytes.get(at)? == 0xFF && *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        match marker {
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => at += 2,
            // End of image, or start of scan before any frame header: no size.
            0xD9 | 0xDA => return None,
            // Start of frame (baseline, progressive, lossless, ...), not DHT/JPG/DAC.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let height = be16(bytes, at + 5)?;
                let width = be16(bytes, at + 7)?;
                return Some((u32::from(width), u32::from(height)));
            }
            _ => {
                let length = be16(bytes, at + 2)?;
                if length < 2 {
                    return None;
                }
                at += 2 + usize::from(length);
            }
        }
    }
}

fn gif_size(bytes: &[u8]) -> Option<(u32, u32)> {
    Some((u32::from(le16(bytes, 6)?), u32::from(le16(bytes, 8)?)))
}

fn webp_size(bytes: &[u8]) -> Option<(u32, u32)> {
    match bytes.get(12..16)? {
        b"VP8 " => {
            // Frame tag (3), start code 9D 01 2A (3), then 14-bit width and height.
            if bytes.get(23..26)? != [0x9D, 0x01, 0x2A] {
                return None;
            }
            Some((
                u32::from(le16(bytes, 26)? & 0x3FFF),
                u32::from(le16(bytes, 28)? & 0x3FFF),
            ))
        }
        b"VP8L" => {
            if *bytes.get(20)? != 0x2F {
                return None;
            }
            let b = bytes.get(21..25)?;
            let bits = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => Some((le24(bytes, 24)? + 1, le24(bytes, 27)? + 1)),
        _ => None,
    }
}

/// An image given as input: inline bytes of a recognised type, or a file uploaded with the
/// Files API (referenced by its URI).
///
/// ```
/// use nanobanana_workflows::{ImageFormat, InputImage};
///
/// let png = InputImage::from_bytes(b"\x89PNG\r\n\x1a\n(the rest of a PNG)".to_vec())?;
/// assert_eq!(png.mime_type(), "image/png");
///
/// let error = InputImage::from_bytes(b"%PDF-1.7".to_vec()).unwrap_err();
/// assert!(error.to_string().contains("PNG, JPEG, WebP, HEIC, HEIF and GIF"));
/// # Ok::<(), nanobanana_workflows::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct InputImage {
    source: Source,
}

#[derive(Clone, PartialEq, Eq)]
enum Source {
    Inline { format: ImageFormat, bytes: Vec<u8> },
    File { uri: String, mime_type: String },
}

impl InputImage {
    /// Inline image bytes; the type is recognised from the content. Fails, naming the supported
    /// types, when the bytes are not an image of a recognised type.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let bytes = bytes.into();
        let format = ImageFormat::detect(&bytes).ok_or_else(|| Error::UnknownImageType {
            what: describe_bytes(&bytes),
        })?;
        Ok(Self {
            source: Source::Inline { format, bytes },
        })
    }

    /// Reads an image file (blocking) and recognises its type from the content, not from the
    /// extension: a JPEG named `photo.png` is sent as `image/jpeg`.
    ///
    /// Reads at most [`MAX_INPUT_IMAGE_BYTES`] (a larger file, or an endless one such as
    /// `/dev/zero`, is refused without being read whole; what is not an image is refused after
    /// its first bytes), and refuses a PNG or JPEG that ends before its end marker (a cut
    /// download or copy), a WebP shorter than its RIFF header says: the service could not use
    /// them, and the request would be paid for.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let io = |source| Error::Io {
            action: "read the image",
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let too_large = || {
            Error::invalid(format!(
                "{} is larger than {MAX_INPUT_IMAGE_BYTES} bytes, the most an input image can be \
                 (the service takes at most 100 MB of inline data per request); upload it with \
                 the Files API and pass InputImage::from_file instead",
                path.display()
            ))
        };
        if let Ok(metadata) = file.metadata()
            && metadata.is_file()
            && metadata.len() > MAX_INPUT_IMAGE_BYTES
        {
            return Err(too_large());
        }
        let mut reader = std::io::Read::take(file, MAX_INPUT_IMAGE_BYTES + 1);
        // The type first, from the first bytes: what is not an image is not read further.
        let mut bytes = Vec::new();
        std::io::Read::by_ref(&mut reader)
            .take(HEAD_BYTES)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        let format = ImageFormat::detect(&bytes).ok_or_else(|| Error::UnknownImageType {
            what: format!("{} ({})", path.display(), describe_bytes(&bytes)),
        })?;
        reader.read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > MAX_INPUT_IMAGE_BYTES {
            return Err(too_large());
        }
        if let Some(problem) = truncation(format, &bytes) {
            return Err(Error::invalid(format!(
                "{} is cut short: {problem}; the service cannot use a partial image (copy or \
                 download it again, or re-export it)",
                path.display()
            )));
        }
        Ok(Self {
            source: Source::Inline { format, bytes },
        })
    }

    /// A file uploaded with the Files API (`client.files().upload(...)`): its `uri` and
    /// `mimeType`. Fails when the file has no URI, or its MIME type is not an image type.
    pub fn from_file(file: &File) -> Result<Self, Error> {
        let name = file.name.as_deref().unwrap_or("the file");
        let uri = file.uri.clone().ok_or_else(|| Error::InvalidInput {
            message: format!("{name} has no uri: pass the File the upload returned"),
        })?;
        let mime_type = file.mime_type.clone().unwrap_or_default();
        Self::from_file_uri(uri, mime_type)
    }

    /// A file reference by URI and MIME type (an `image/*` type).
    pub fn from_file_uri(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
    ) -> Result<Self, Error> {
        let uri = uri.into();
        let mime_type = mime_type.into();
        if !mime_type
            .get(..6)
            .is_some_and(|head| head.eq_ignore_ascii_case("image/"))
        {
            return Err(Error::InvalidInput {
                message: format!(
                    "file {uri} has MIME type {mime_type:?}; an input image needs an image/* type ({SUPPORTED})"
                ),
            });
        }
        Ok(Self {
            source: Source::File { uri, mime_type },
        })
    }

    /// The MIME type sent with the image.
    pub fn mime_type(&self) -> &str {
        match &self.source {
            Source::Inline { format, .. } => format.mime_type(),
            Source::File { mime_type, .. } => mime_type,
        }
    }

    /// The recognised type of inline bytes; `None` for a file reference.
    pub fn format(&self) -> Option<ImageFormat> {
        match &self.source {
            Source::Inline { format, .. } => Some(*format),
            Source::File { .. } => None,
        }
    }

    /// The inline bytes; `None` for a file reference.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.source {
            Source::Inline { bytes, .. } => Some(bytes),
            Source::File { .. } => None,
        }
    }

    /// The file URI of a file reference; `None` for inline bytes.
    pub fn file_uri(&self) -> Option<&str> {
        match &self.source {
            Source::Inline { .. } => None,
            Source::File { uri, .. } => Some(uri),
        }
    }

    /// The pixel size read from the header of inline bytes (PNG, JPEG, GIF, WebP).
    pub fn dimensions(&self) -> Option<Dimensions> {
        self.bytes().and_then(dimensions)
    }

    /// The request part: `inlineData` or `fileData`.
    pub fn to_part(&self) -> Part {
        match &self.source {
            Source::Inline { format, bytes } => Part::from_bytes(format.mime_type(), bytes.clone()),
            Source::File { uri, mime_type } => Part::from_file_uri(mime_type.clone(), uri.clone()),
        }
    }

    /// The type and bytes of an inline image; a file reference comes back unchanged as the
    /// error.
    pub(crate) fn into_inline(self) -> Result<(ImageFormat, Vec<u8>), Self> {
        match self.source {
            Source::Inline { format, bytes } => Ok((format, bytes)),
            source @ Source::File { .. } => Err(Self { source }),
        }
    }

    /// The request part, moving the bytes instead of copying them.
    pub fn into_part(self) -> Part {
        match self.source {
            Source::Inline { format, bytes } => Part::from_bytes(format.mime_type(), bytes),
            Source::File { uri, mime_type } => Part::from_file_uri(mime_type, uri),
        }
    }
}

impl fmt::Debug for InputImage {
    /// The type and length, never the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Inline { format, bytes } => f
                .debug_struct("InputImage")
                .field("format", format)
                .field("len", &bytes.len())
                .finish(),
            Source::File { uri, mime_type } => f
                .debug_struct("InputImage")
                .field("file_uri", uri)
                .field("mime_type", mime_type)
                .finish(),
        }
    }
}

/// `12 bytes starting 25 50 44 46`, for the unknown-type error.
fn describe_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "no bytes at all".to_owned();
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02X}")).collect();
    format!("{} bytes starting {}", bytes.len(), head.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        // APP0 (JFIF), length 16.
        out.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        out.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        // DHT before the frame (must be skipped, not read as SOF).
        out.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x03, 0x00]);
        // SOF2 (progressive).
        out.extend_from_slice(&[0xFF, 0xC2, 0x00, 0x11, 0x08]);
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&width.to_be_bytes());
        out.extend_from_slice(&[0x03; 10]);
        // SOS (length 8), one byte of scan data, EOI.
        out.extend_from_slice(&[
            0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0, 0x55, 0xFF, 0xD9,
        ]);
        out
    }

    #[test]
    fn every_type_is_recognised_from_its_magic_bytes() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        let heif = b"\0\0\0\x18ftypmif1\0\0\0\0mif1miaf";
        let cases: &[(&[u8], Option<ImageFormat>)] = &[
            (b"\x89PNG\r\n\x1a\n", Some(ImageFormat::Png)),
            (&[0xFF, 0xD8, 0xFF, 0xE0], Some(ImageFormat::Jpeg)),
            (b"RIFF\x10\0\0\0WEBPVP8L", Some(ImageFormat::WebP)),
            (b"GIF89a\x01\0\x01\0", Some(ImageFormat::Gif)),
            (b"GIF87a\x01\0\x01\0", Some(ImageFormat::Gif)),
            (heic, Some(ImageFormat::Heic)),
            (heif, Some(ImageFormat::Heif)),
            (b"\0\0\0\x18ftypisom\0\0\0\0isommp41", None),
            (b"RIFF\x10\0\0\0WAVEfmt ", None),
            (b"\x89PNG", None),
            (b"", None),
        ];
        for (bytes, expected) in cases {
            assert_eq!(ImageFormat::detect(bytes), *expected, "{bytes:?}");
        }
    }

    #[test]
    fn sizes_come_from_the_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&2752u32.to_be_bytes());
        png.extend_from_slice(&1536u32.to_be_bytes());
        assert_eq!(
            dimensions(&png),
            Some(Dimensions {
                width: 2752,
                height: 1536
            })
        );
        assert_eq!(
            dimensions(&jpeg(1584, 672)),
            Some(Dimensions {
                width: 1584,
                height: 672
            })
        );
        assert_eq!(
            dimensions(b"GIF89a\x40\x01\xF0\x00"),
            Some(Dimensions {
                width: 320,
                height: 240
            })
        );
        // VP8X: 24-bit width-1 and height-1.
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        webp.extend_from_slice(&[0x3F, 0x01, 0x00, 0xEF, 0x00, 0x00]);
        assert_eq!(
            dimensions(&webp),
            Some(Dimensions {
                width: 320,
                height: 240
            })
        );
        // Cut-off headers give no size rather than a wrong one.
        assert_eq!(dimensions(&png[..20]), None);
        assert_eq!(dimensions(&jpeg(10, 10)[..12]), None);
        assert_eq!(dimensions(b"\xFF\xD8\xFF\xD9"), None);
    }

    #[test]
    fn unknown_bytes_are_a_clear_error() {
        let error = InputImage::from_bytes(b"%PDF-1.7 ...".to_vec()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unrecognised image type: 12 bytes starting 25 50 44 46 2D 31 2E 37; \
             supported are PNG, JPEG, WebP, HEIC, HEIF and GIF, recognised from the content \
             (not the file name)"
        );
        let error = InputImage::from_bytes(Vec::new()).unwrap_err();
        assert!(error.to_string().contains("no bytes at all"), "{error}");
    }

    #[test]
    fn the_content_wins_over_the_extension() {
        let dir = std::env::temp_dir().join(format!("nb-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("really-a-jpeg.png");
        std::fs::write(&path, jpeg(64, 32)).unwrap();
        let image = InputImage::from_path(&path).unwrap();
        assert_eq!(image.mime_type(), "image/jpeg");
        assert_eq!(
            image.dimensions(),
            Some(Dimensions {
                width: 64,
                height: 32
            })
        );
        let missing = InputImage::from_path(dir.join("missing.png")).unwrap_err();
        assert!(
            missing.to_string().starts_with("could not read the image "),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn scratch_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("nb-media-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// A whole 1x1 PNG: signature, IHDR, IDAT, IEND.
    fn png() -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&[0; 4]);
        };
        chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
        chunk(b"IDAT", &[0x78, 0x9C, 0x63, 0x60, 0, 0, 0, 4, 0, 1]);
        chunk(b"IEND", &[]);
        out
    }

    #[test]
    fn truncated_png_input_is_refused_before_sending() {
        let whole = png();
        assert!(InputImage::from_path(scratch_file("whole.png", &whole)).is_ok());
        for cut in [whole.len() - 1, 40, 33, 20] {
            let path = scratch_file(&format!("cut-{cut}.png"), &whole[..cut]);
            let error = InputImage::from_path(&path).unwrap_err().to_string();
            assert!(error.contains("is cut short"), "{error}");
            assert!(
                error.contains(&format!("ends after {cut} bytes")),
                "{error}"
            );
        }
    }

    #[test]
    fn truncated_jpeg_and_webp_inputs_are_refused_before_sending() {
        let whole = jpeg(8, 8);
        assert!(InputImage::from_path(scratch_file("whole.jpg", &whole)).is_ok());
        let error = InputImage::from_path(scratch_file("cut.jpg", &whole[..whole.len() - 2]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("end-of-image marker"), "{error}");
        let webp = b"RIFF\x40\0\0\0WEBPVP8L";
        let error = InputImage::from_path(scratch_file("cut.webp", webp))
            .unwrap_err()
            .to_string();
        assert!(error.contains("RIFF header declares 72"), "{error}");
    }

    #[test]
    fn endless_input_file_is_refused_after_its_first_bytes() {
        // /dev/zero has no length and never ends: not an image, refused without reading on.
        if std::path::Path::new("/dev/zero").exists() {
            let error = InputImage::from_path("/dev/zero").unwrap_err();
            assert!(matches!(error, Error::UnknownImageType { .. }), "{error}");
        }
    }

    #[test]
    fn file_references_need_an_image_type() {
        let file = File::new()
            .with_name("files/abc")
            .with_uri("http://127.0.0.1/v1beta/files/abc")
            .with_mime_type("image/webp");
        let image = InputImage::from_file(&file).unwrap();
        let part = serde_json::to_value(image.to_part()).unwrap();
        assert_eq!(part["fileData"]["mimeType"], "image/webp");
        assert!(InputImage::from_file_uri("u", "application/pdf").is_err());
        assert!(InputImage::from_file(&File::new().with_name("files/x")).is_err());
        assert!(format!("{image:?}").contains("file_uri"));
    }
}
