//! Atomic file writes: the bytes go to a temporary file in the target's directory, are flushed
//! to disk, and only then take the target's name, so a reader never sees half an image and a
//! crash leaves at most a stray temporary file (named `.NAME.PID.N.tmp`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

/// Writes `bytes` to `path`; fails with [`Error::AlreadyExists`] if it exists. The final step
/// is a hard link (atomic, and it fails rather than replace); where the file system has no hard
/// links, a rename after checking that the target does not exist.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if path.exists() {
        return Err(Error::AlreadyExists {
            path: path.to_path_buf(),
        });
    }
    let temp = write_temp(path, bytes)?;
    let linked = fs::hard_link(&temp, path);
    let result = match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Error::AlreadyExists {
            path: path.to_path_buf(),
        }),
        Err(_) if !path.exists() => {
            // No hard links here (e.g. FAT): rename instead. The check above narrows the race
            // to the moment between it and the rename.
            return fs::rename(&temp, path).map_err(|source| {
                let _ = fs::remove_file(&temp);
                io_error(path, source)
            });
        }
        Err(_) => Err(Error::AlreadyExists {
            path: path.to_path_buf(),
        }),
    };
    let _ = fs::remove_file(&temp);
    result
}

/// Writes `bytes` to `path`, atomically replacing whatever is there.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let temp = write_temp(path, bytes)?;
    fs::rename(&temp, path).map_err(|source| {
        let _ = fs::remove_file(&temp);
        io_error(path, source)
    })
}

fn io_error(path: &Path, source: io::Error) -> Error {
    Error::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    }
}

/// A new temporary file beside `path` holding `bytes`, synced to disk.
fn write_temp(path: &Path, bytes: &[u8]) -> Result<PathBuf, Error> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{} names no file", path.display())))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(
            ".{}.{}.{n}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => {
                return fill(file, bytes).map(|()| temp.clone()).map_err(|source| {
                    let _ = fs::remove_file(&temp);
                    io_error(path, source)
                });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(io_error(path, source)),
        }
    }
}

fn fill(mut file: File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nb-save-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn save_never_replaces_and_leaves_no_temporary_file() {
        let dir = scratch("new");
        let path = dir.join("banana.png");
        write_new(&path, b"first").unwrap();
        let error = write_new(&path, b"second").unwrap_err();
        assert!(matches!(error, Error::AlreadyExists { .. }), "{error}");
        assert!(error.to_string().ends_with(
            "banana.png already exists; not replaced (use save_replacing to replace it)"
        ));
        assert_eq!(fs::read(&path).unwrap(), b"first");
        write_replacing(&path, b"third").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"third");
        assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_a_clear_error() {
        let dir = scratch("missing");
        let error = write_new(&dir.join("no/such/dir/x.png"), b"x").unwrap_err();
        assert!(error.to_string().starts_with("could not write "), "{error}");
        assert!(write_new(Path::new("/"), b"x").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
