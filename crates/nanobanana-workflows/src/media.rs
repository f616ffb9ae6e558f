//! The input images of a request: bytes, a file on disk, or a file uploaded with the Files API.
//! Their types are recognised from their content (magic bytes) and pixel sizes read from the
//! headers by `nanobanana_wire::media`, whose [`ImageFormat`], [`Dimensions`] and
//! [`dimensions`] are re-exported here.

use std::fmt;
use std::io::Read as _;
use std::path::Path;

use nanobanana_rules::resolution::Prediction;
pub use nanobanana_wire::media::{Dimensions, ImageFormat, dimensions};
use nanobanana_wire::media::{SUPPORTED, truncation};
use nanobanana_wire::{File, Part};

use crate::error::Error;

/// The largest image file [`InputImage::from_path`] reads: 100 MB, the inline data the service
/// takes per request (its base64 text is larger still, so a file this large only fits a request
/// alone, if at all).
pub const MAX_INPUT_IMAGE_BYTES: u64 = 100_000_000;

/// How much of a file is read to recognise its type before the rest.
const HEAD_BYTES: u64 = 64;

/// The size the resolution table predicts, when it knows both sides.
pub(crate) fn predicted(prediction: &Prediction) -> Option<Dimensions> {
    Some(Dimensions {
        width: prediction.width()?,
        height: prediction.height()?,
    })
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

    /// A whole baseline JPEG of this size, drawn by the fake server's encoder.
    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        use nanobanana_mock::image::{Style, render};
        render(
            ImageFormat::Jpeg,
            Style::Final,
            u32::from(width),
            u32::from(height),
            b"an input image",
        )
        .expect("a small JPEG")
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
