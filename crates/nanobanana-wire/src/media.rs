//! Image bytes recognised without decoding them: the type from the magic bytes
//! ([`ImageFormat::detect`]), the pixel size from the header ([`dimensions`]), and the format and
//! size of a whole PNG or JPEG file, refusing a truncated or malformed one ([`sniff`]), and why
//! a file is cut short, in words ([`truncation`]).
//!
//! One place for every crate: the client recognises its input images and measures its answers,
//! the fake server measures the images it is sent, the conformance runner the images it
//! observes. Pure functions on byte slices; none of them panics on any input.

use std::fmt;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

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
pub const SUPPORTED: &str = "PNG, JPEG, WebP, HEIC, HEIF and GIF";

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
    /// use nanobanana_wire::media::ImageFormat;
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

/// A format name that is not one of [`ImageFormat`]'s (`png`, `jpeg`/`jpg`, `webp`, `heic`,
/// `heif`, `gif`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownImageFormat(pub String);

impl fmt::Display for UnknownImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown image format {:?}: allowed are png, jpeg, webp, heic, heif, gif",
            self.0
        )
    }
}

impl std::error::Error for UnknownImageFormat {}

impl std::str::FromStr for ImageFormat {
    type Err = UnknownImageFormat;

    /// The extension-like name (`png`, `jpeg` or `jpg`, `webp`, `heic`, `heif`, `gif`), in any
    /// case, surrounding spaces ignored.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = text.trim();
        if name.eq_ignore_ascii_case("jpg") {
            return Ok(ImageFormat::Jpeg);
        }
        ImageFormat::ALL
            .iter()
            .copied()
            .find(|format| {
                name.eq_ignore_ascii_case(format.extension())
                    || name.eq_ignore_ascii_case(&format.mime_type()["image/".len()..])
            })
            .ok_or_else(|| UnknownImageFormat(name.to_owned()))
    }
}

impl ImageFormat {
    /// The format of a MIME type, compared case-insensitively (`image/png`, `image/jpeg` and
    /// the common misspelling `image/jpg`, `image/webp`, ...). `None` for anything else.
    ///
    /// ```
    /// use nanobanana_wire::media::ImageFormat;
    ///
    /// assert_eq!(ImageFormat::from_mime_type("IMAGE/JPG"), Some(ImageFormat::Jpeg));
    /// assert_eq!(ImageFormat::from_mime_type("application/pdf"), None);
    /// ```
    pub fn from_mime_type(mime: &str) -> Option<ImageFormat> {
        if mime.eq_ignore_ascii_case("image/jpg") {
            return Some(ImageFormat::Jpeg);
        }
        ImageFormat::ALL
            .iter()
            .copied()
            .find(|format| mime.eq_ignore_ascii_case(format.mime_type()))
    }
}

/// Why `bytes` of `format` are not a whole image, if they are not: a PNG that does not reach its
/// `IEND` chunk, a JPEG without its end-of-image marker after the scan, a WebP shorter than its
/// RIFF header says, each said in a sentence (`the PNG ends after 40 bytes, inside its IDAT
/// chunk (which needs 52), before IEND`). GIF, HEIC and HEIF are not checked. Lighter than
/// [`sniff`] (no checksums, no scan structure): what a client checks of a file before sending it.
///
/// ```
/// use nanobanana_wire::media::{ImageFormat, truncation};
///
/// let cut = truncation(ImageFormat::Jpeg, b"\xFF\xD8\xFF\xE0\0\x10JFIF").unwrap();
/// assert!(cut.contains("without its end-of-image marker (FF D9)"), "{cut}");
/// ```
pub fn truncation(format: ImageFormat, bytes: &[u8]) -> Option<String> {
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

impl fmt::Display for Dimensions {
    /// `1376x768`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// Reads the pixel size from the header of a PNG (IHDR), JPEG (the first SOF marker), GIF
/// (logical screen) or WebP (VP8, VP8L or VP8X) image, without decoding it and without looking
/// past the header (an image still arriving, or cut off after its header, has a size). `None`
/// for other types (HEIC/HEIF) and for a header that is cut off or malformed; never panics.
/// [`sniff`] also checks that a PNG or JPEG is whole.
///
/// ```
/// use nanobanana_wire::media::dimensions;
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
    let b = bytes.get(at..at.checked_add(4)?)?;
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

/// The format and pixel size of a complete PNG or JPEG file, or `None`.
///
/// A PNG must start with the signature and an `IHDR` chunk and run, chunk by chunk, to an `IEND`
/// chunk with image data on the way. A JPEG must run, segment by segment and through its
/// entropy-coded data, from SOI through a frame header (any SOFn: baseline, extended,
/// progressive, lossless, arithmetic) and at least one scan to EOI. Anything else, including a
/// truncated file, is `None`. Bytes after the end of the image are ignored. Never panics.
///
/// ```
/// use nanobanana_wire::media::{ImageFormat, sniff};
///
/// assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"), None); // a header alone
/// assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), None); // not a PNG or a JPEG
/// # let _ = ImageFormat::Png;
/// ```
pub fn sniff(bytes: &[u8]) -> Option<(ImageFormat, u32, u32)> {
    if bytes.starts_with(&PNG_SIGNATURE) {
        sniff_png(bytes).map(|(w, h)| (ImageFormat::Png, w, h))
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        sniff_jpeg(bytes).map(|(w, h)| (ImageFormat::Jpeg, w, h))
    } else {
        None
    }
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

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

/// The CRC-32 (ISO-HDLC, as PNG uses) of the concatenated parts: a PNG chunk's checksum is
/// `crc32(&[kind, data])`.
///
/// ```
/// assert_eq!(nanobanana_wire::media::crc32(&[b"1234", b"", b"56789"]), 0xCBF4_3926);
/// ```
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for part in parts {
        for &byte in *part {
            crc = CRC_TABLE[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    /// A whole progressive JPEG: APP0, a DHT before the frame (skipped, not read as a frame),
    /// SOF2, one scan of one byte, EOI.
    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        // APP0 (JFIF), length 16.
        out.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        out.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        // DHT before the frame (must be skipped, not read as SOF).
        out.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x03, 0x00]);
        // SOF2 (progressive), three components.
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

    /// A real PNG of the fixture corpus (64x64, written by the corpus tools).
    fn png() -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../fixtures/blobs/sha256/7b1c0d8e0b59cf6dfd9bd7276feec9a3e43eea90667dc6d48c3288a0fdae0477",
        );
        std::fs::read(path).expect("a fixture blob")
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
    fn names_and_mime_types_round_trip() {
        for &format in ImageFormat::ALL {
            assert_eq!(format.extension().parse::<ImageFormat>(), Ok(format));
            assert_eq!(
                ImageFormat::from_mime_type(format.mime_type()),
                Some(format)
            );
        }
        assert_eq!(" PNG ".parse::<ImageFormat>(), Ok(ImageFormat::Png));
        assert_eq!("Jpeg".parse::<ImageFormat>(), Ok(ImageFormat::Jpeg));
        assert_eq!("jpg".parse::<ImageFormat>(), Ok(ImageFormat::Jpeg));
        assert_eq!(
            "bmp".parse::<ImageFormat>().unwrap_err().to_string(),
            "unknown image format \"bmp\": allowed are png, jpeg, webp, heic, heif, gif"
        );
        assert_eq!(
            ImageFormat::from_mime_type("IMAGE/PNG"),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            ImageFormat::from_mime_type("image/JPG"),
            Some(ImageFormat::Jpeg)
        );
        for other in ["png", "", " image/png", "image/jpeg2000", "application/pdf"] {
            assert_eq!(ImageFormat::from_mime_type(other), None, "{other:?}");
        }
    }

    #[test]
    fn sizes_come_from_the_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&2752u32.to_be_bytes());
        png.extend_from_slice(&1536u32.to_be_bytes());
        let size = |width, height| Some(Dimensions { width, height });
        assert_eq!(dimensions(&png), size(2752, 1536));
        assert_eq!(dimensions(&jpeg(1584, 672)), size(1584, 672));
        assert_eq!(dimensions(b"GIF89a\x40\x01\xF0\x00"), size(320, 240));
        // VP8X: 24-bit width-1 and height-1.
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        webp.extend_from_slice(&[0x3F, 0x01, 0x00, 0xEF, 0x00, 0x00]);
        assert_eq!(dimensions(&webp), size(320, 240));
        // Cut-off headers give no size rather than a wrong one.
        assert_eq!(dimensions(&png[..20]), None);
        assert_eq!(dimensions(&jpeg(10, 10)[..12]), None);
        assert_eq!(dimensions(b"\xFF\xD8\xFF\xD9"), None);
    }

    #[test]
    fn sniff_reads_whole_files_and_agrees_with_the_header() {
        let png = png();
        assert_eq!(sniff(&png), Some((ImageFormat::Png, 64, 64)));
        assert_eq!(sniff(&jpeg(33, 17)), Some((ImageFormat::Jpeg, 33, 17)));
        for file in [png.clone(), jpeg(33, 17)] {
            let (_, width, height) = sniff(&file).unwrap();
            assert_eq!(dimensions(&file), Some(Dimensions { width, height }));
            // Bytes after the end of the image do not matter.
            let mut trailing = file.clone();
            trailing.extend_from_slice(b"trailing junk");
            assert_eq!(sniff(&trailing), sniff(&file));
        }
    }

    #[test]
    fn sniff_reads_every_kind_of_jpeg_frame() {
        let jpeg = jpeg(33, 17);
        let sof = jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xC2])
            .expect("an SOF2");
        for marker in [
            0xC0, 0xC1, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF,
        ] {
            let mut other = jpeg.clone();
            other[sof + 1] = marker;
            assert_eq!(
                sniff(&other),
                Some((ImageFormat::Jpeg, 33, 17)),
                "SOF {marker:#x}"
            );
        }
        // A second frame header, or none at all, is not a JPEG.
        let mut two = jpeg[..sof].to_vec();
        two.extend_from_slice(&jpeg[sof..sof + 19]);
        two.extend_from_slice(&jpeg[sof..]);
        assert_eq!(sniff(&two), None);
        let mut none = jpeg.clone();
        none[sof + 1] = 0xFE; // now a comment
        assert_eq!(sniff(&none), None);
        // Comments, application segments and fill bytes between segments are skipped.
        let mut extra = jpeg[..2].to_vec();
        extra.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x05, b'h', b'e', b'y', 0xFF, 0xFF]);
        extra.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x04, 0xFF, 0xD9]);
        extra.extend_from_slice(&jpeg[2..]);
        assert_eq!(sniff(&extra), Some((ImageFormat::Jpeg, 33, 17)));
    }

    #[test]
    fn sniff_rejects_empty_garbage_and_every_truncation() {
        assert_eq!(sniff(&[]), None);
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00"), None);
        assert_eq!(sniff(b"not an image at all"), None);
        for file in [png(), jpeg(23, 41)] {
            for len in 0..file.len() {
                assert_eq!(sniff(&file[..len]), None, "cut at {len} of {}", file.len());
            }
            assert!(sniff(&file).is_some());
        }
        // A PNG with a broken header checksum, or without image data.
        let png = png();
        let mut broken = png.clone();
        broken[29] ^= 1;
        assert_eq!(sniff(&broken), None);
        let mut no_data = png[..33].to_vec();
        no_data.extend_from_slice(&png[png.len() - 12..]);
        assert_eq!(sniff(&no_data), None);
    }

    /// Every byte of a whole file changed in a few ways: no panic, and a sniffed size is the
    /// header's.
    #[test]
    fn sniff_never_panics_on_a_changed_byte() {
        for file in [png(), jpeg(30, 20)] {
            for at in 0..file.len() {
                for value in [0x00, 0xFF, 0xD9, 0xDA, file[at] ^ 0x80] {
                    let mut bytes = file.clone();
                    bytes[at] = value;
                    let header = dimensions(&bytes);
                    if let Some((_, width, height)) = sniff(&bytes) {
                        assert_eq!(header, Some(Dimensions { width, height }), "byte {at}");
                    }
                    let _ = ImageFormat::detect(&bytes).map(|f| truncation(f, &bytes));
                }
            }
        }
    }

    #[test]
    fn truncation_says_where_a_file_ends() {
        let png = png();
        assert_eq!(truncation(ImageFormat::Png, &png), None);
        let cut = truncation(ImageFormat::Png, &png[..40]).unwrap();
        assert_eq!(cut, "the PNG ends after 40 bytes, before its IEND chunk");
        let cut = truncation(ImageFormat::Png, &png[..png.len() - 1]).unwrap();
        assert!(cut.contains("inside its IEND chunk"), "{cut}");
        let jpeg = jpeg(8, 8);
        assert_eq!(truncation(ImageFormat::Jpeg, &jpeg), None);
        let cut = truncation(ImageFormat::Jpeg, &jpeg[..jpeg.len() - 2]).unwrap();
        assert!(
            cut.contains("without its end-of-image marker (FF D9)"),
            "{cut}"
        );
        let cut = truncation(ImageFormat::WebP, b"RIFF\x40\0\0\0WEBPVP8L").unwrap();
        assert_eq!(cut, "the WebP holds 16 bytes, its RIFF header declares 72");
        assert_eq!(truncation(ImageFormat::Gif, b"GIF89a"), None);
    }

    #[test]
    fn checksums_match_their_reference_values() {
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"1234", b"", b"56789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[]), 0);
    }

    proptest! {
        /// Any bytes, after either signature or none, and any valid file changed in one byte or
        /// cut and followed by noise: no panic, and a sniffed size is the header's.
        #[test]
        fn nothing_panics_and_sniff_agrees_with_the_header(
            noise in proptest::collection::vec(any::<u8>(), 0..400),
            head in 0usize..3,
            cut in any::<proptest::sample::Index>(),
            at in any::<proptest::sample::Index>(),
            value in any::<u8>(),
        ) {
            let heads: [&[u8]; 3] = [&PNG_SIGNATURE, &[0xFF, 0xD8, 0xFF], &[]];
            let mut bytes = heads[head].to_vec();
            bytes.extend_from_slice(&noise);
            let mut inputs = vec![bytes];
            for file in [png(), jpeg(30, 20)] {
                let mut changed = file.clone();
                changed[at.index(file.len())] = value;
                inputs.push(changed);
                let mut cut_short = file[..cut.index(file.len())].to_vec();
                cut_short.extend_from_slice(&noise);
                inputs.push(cut_short);
            }
            for input in inputs {
                let _ = ImageFormat::detect(&input);
                let header = dimensions(&input);
                if let Some((_, width, height)) = sniff(&input) {
                    prop_assert_eq!(header, Some(Dimensions { width, height }));
                }
            }
        }
    }
}
