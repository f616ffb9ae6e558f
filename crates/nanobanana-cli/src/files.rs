//! Files: atomic writes that never overwrite without `--force`, numbered output names, and the
//! checks made on output paths before any request is sent.
//!
//! A file is written to a temporary file in the target's directory, flushed to disk, then moved
//! into place: a reader never sees half an image, and an interrupted run leaves no partial file
//! under the target's name. Without `--force` the move is a hard link, which fails when the
//! target exists, so a file that appears between the check and the write is not clobbered
//! either.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use nanobanana_workflows::{Error, save};

/// Whether existing files may be replaced (`--force`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Overwrite {
    /// An existing file is an error (the default).
    Refuse,
    /// An existing file is replaced (`--force`).
    Replace,
}

impl Overwrite {
    pub(crate) fn from_force(force: bool) -> Self {
        if force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        }
    }
}

/// Why a file could not be written.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// The target exists and `--force` was not given.
    Exists(PathBuf),
    /// An I/O failure, with what was being done.
    Io(PathBuf, io::Error),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Exists(path) => write!(
                f,
                "{} exists; not overwritten (add --force to replace it)",
                path.display()
            ),
            WriteError::Io(path, error) => write!(f, "cannot write {}: {error}", path.display()),
        }
    }
}

/// Writes `bytes` to `path` atomically (the workflows crate's [`save`] functions). With
/// [`Overwrite::Refuse`], fails with [`WriteError::Exists`] if `path` exists, even if it
/// appeared a moment ago.
pub(crate) fn write_atomic(
    path: &Path,
    bytes: &[u8],
    overwrite: Overwrite,
) -> Result<(), WriteError> {
    let written = match overwrite {
        Overwrite::Refuse => save::write_new(path, bytes),
        Overwrite::Replace => save::write_replacing(path, bytes),
    };
    written.map_err(|error| match error {
        Error::AlreadyExists { path } => WriteError::Exists(path),
        Error::Io { path, source, .. } => WriteError::Io(path, source),
        other => WriteError::Io(path.to_path_buf(), io::Error::other(other.to_string())),
    })
}

/// Checks, before any request, that `path` can be written: its directory exists and, without
/// `--force`, the file does not. The message says what to do.
pub(crate) fn check_writable(path: &Path, overwrite: Overwrite) -> Result<(), String> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(format!(
            "cannot write {}: the directory {} does not exist",
            path.display(),
            dir.display()
        ));
    }
    if path.is_dir() {
        return Err(format!(
            "{} is a directory; give a file name such as {}",
            path.display(),
            path.join("banana.png").display()
        ));
    }
    if overwrite == Overwrite::Refuse && path.exists() {
        return Err(format!(
            "{} exists; not overwritten (add --force to replace it)",
            path.display()
        ));
    }
    Ok(())
}

/// Refuses an `-o` that names no file: `.`, `..`, a path ending in `/` or an existing directory
/// (an extension would otherwise be added to it, writing a hidden `..png`).
pub(crate) fn check_output_name(path: &Path, flag: &str) -> Result<(), String> {
    let text = path.as_os_str().to_string_lossy();
    if path.file_name().is_none()
        || text.ends_with('/')
        || text.ends_with(std::path::MAIN_SEPARATOR)
    {
        return Err(format!(
            "{flag} {}: not a file name; give one such as {}",
            path.display(),
            path.join("banana.png").display()
        ));
    }
    if path.is_dir() {
        return Err(format!(
            "{flag} {} is a directory; give a file name such as {}",
            path.display(),
            path.join("banana.png").display()
        ));
    }
    Ok(())
}

/// The most a text input (a chat session, a batch's prompt file) may hold: 1 GiB. A session
/// keeps every image of the conversation as base64, so it can be large, but not endless.
pub(crate) const MAX_TEXT_INPUT_BYTES: u64 = 1 << 30;

/// Reads a UTF-8 text file of at most `limit` bytes; an endless or larger input (`/dev/zero`) is
/// refused once the limit is passed, without reading on. The error names the flag and the file.
pub(crate) fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)
        .map_err(|e| format!("{what} {}: cannot read it: {e}", path.display()))?;
    let too_large = || {
        format!(
            "{what} {}: larger than {limit} bytes, the most this command reads",
            path.display()
        )
    };
    if let Ok(metadata) = file.metadata()
        && metadata.is_file()
        && metadata.len() > limit
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{what} {}: cannot read it: {e}", path.display()))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{what} {}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// The directory a file goes to (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// The name of output `index` (1-based) of `count`: `out` itself when there is one, else
/// `stem-INDEX.ext` (`banana-1.png`, `banana-2.png`).
pub(crate) fn numbered(out: &Path, index: usize, count: usize) -> PathBuf {
    if count <= 1 {
        return out.to_path_buf();
    }
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".to_owned());
    let name = match out.extension() {
        Some(ext) => format!("{stem}-{index}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{index}"),
    };
    out.with_file_name(name)
}

/// `out`, with the extension of `mime_type` added when it has none (`banana` → `banana.png`).
pub(crate) fn with_default_extension(out: &Path, mime_type: &str) -> PathBuf {
    if out.extension().is_some() {
        return out.to_path_buf();
    }
    let mut name = out.as_os_str().to_owned();
    name.push(".");
    name.push(extension_for(mime_type));
    PathBuf::from(name)
}

/// The MIME type `model`'s images come in (the catalogue's `outputMimeType`: JPEG for the 3.x
/// models, PNG for 2.5 Flash Image; PNG for a model the catalogue does not know). Used to check,
/// before a request, the name an output without an extension will get.
pub(crate) fn expected_mime_type(model: &str) -> &'static str {
    nanobanana_rules::catalogue::lookup(model)
        .model()
        .map_or("image/png", |model| model.output_mime_type())
}

/// The usual file extension of an image MIME type.
pub(crate) fn extension_for(mime_type: &str) -> &'static str {
    match mime_type.to_ascii_lowercase().as_str() {
        "image/jpeg" | "image/jpg" => "jpg",
        "image/webp" => "webp",
        "image/heic" => "heic",
        "image/heif" => "heif",
        "image/gif" => "gif",
        _ => "png",
    }
}

/// Whether a file name's extension fits a MIME type (`.jpg`/`.jpeg` for JPEG, and so on).
pub(crate) fn extension_matches(path: &Path, mime_type: &str) -> bool {
    let Some(ext) = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
    else {
        return true;
    };
    let expected = extension_for(mime_type);
    ext == expected || (expected == "jpg" && ext == "jpeg")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "nanobanana-cli-files-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn output_without_a_file_name_is_refused() {
        for out in [".", "..", "out/", "/"] {
            let error = check_output_name(Path::new(out), "-o").unwrap_err();
            assert!(
                error.contains("not a file name") || error.contains("is a directory"),
                "{out}: {error}"
            );
        }
        let dir = scratch("output-name");
        let error = check_output_name(&dir, "-o").unwrap_err();
        assert!(error.contains("is a directory"), "{error}");
        check_output_name(&dir.join("banana"), "-o").unwrap();
        check_output_name(Path::new("banana.png"), "-o").unwrap();
    }

    #[test]
    fn text_inputs_are_read_with_a_size_limit() {
        let dir = scratch("text-limit");
        let path = dir.join("prompts.jsonl");
        std::fs::write(&path, "0123456789").unwrap();
        assert_eq!(read_text(&path, 10, "batch").unwrap(), "0123456789");
        let error = read_text(&path, 9, "batch").unwrap_err();
        assert!(error.contains("larger than 9 bytes"), "{error}");
        if Path::new("/dev/zero").exists() {
            let error = read_text(Path::new("/dev/zero"), 1 << 16, "--session").unwrap_err();
            assert!(error.contains("larger than 65536 bytes"), "{error}");
        }
    }

    #[test]
    fn writes_and_refuses_to_overwrite_without_force() {
        let dir = scratch("overwrite");
        let path = dir.join("banana.png");
        write_atomic(&path, b"first", Overwrite::Refuse).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let error = write_atomic(&path, b"second", Overwrite::Refuse).unwrap_err();
        assert!(matches!(error, WriteError::Exists(_)), "{error}");
        assert!(error.to_string().contains("add --force"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        write_atomic(&path, b"third", Overwrite::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"third");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["banana.png"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn checks_paths_before_any_request() {
        let dir = scratch("check");
        let path = dir.join("banana.png");
        check_writable(&path, Overwrite::Refuse).unwrap();
        std::fs::write(&path, b"x").unwrap();
        assert!(
            check_writable(&path, Overwrite::Refuse)
                .unwrap_err()
                .contains("exists")
        );
        check_writable(&path, Overwrite::Replace).unwrap();
        let missing = dir.join("nope").join("banana.png");
        assert!(
            check_writable(&missing, Overwrite::Replace)
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(
            check_writable(&dir, Overwrite::Replace)
                .unwrap_err()
                .contains("is a directory")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn numbers_outputs_only_when_there_are_several() {
        let out = Path::new("out/banana.png");
        assert_eq!(numbered(out, 1, 1), Path::new("out/banana.png"));
        assert_eq!(numbered(out, 1, 2), Path::new("out/banana-1.png"));
        assert_eq!(numbered(out, 2, 2), Path::new("out/banana-2.png"));
        assert_eq!(numbered(Path::new("x"), 3, 3), Path::new("x-3"));
    }

    #[test]
    fn extensions() {
        assert_eq!(
            with_default_extension(Path::new("banana"), "image/jpeg"),
            Path::new("banana.jpg")
        );
        assert_eq!(
            with_default_extension(Path::new("banana.png"), "image/jpeg"),
            Path::new("banana.png")
        );
        assert!(extension_matches(Path::new("a.JPEG"), "image/jpeg"));
        assert!(!extension_matches(Path::new("a.png"), "image/jpeg"));
        assert!(extension_matches(Path::new("a"), "image/png"));
        assert_eq!(parent_dir(Path::new("a.png")), Path::new("."));
    }
}
