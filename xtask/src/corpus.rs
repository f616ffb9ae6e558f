//! Reading the fixture corpus as plain JSON: case files in a stable order.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One case file, parsed.
pub(crate) struct CaseFile {
    /// Path relative to `fixtures/`, with `/` separators.
    pub(crate) rel_path: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) json: Value,
}

/// The directories of `fixtures/` that hold case files: the corpus proper, and the Interactions
/// API vectors (same format; not yet run by the conformance suite, see `fixtures/README.md`).
pub(crate) const CASE_DIRS: &[&str] = &["cases", "interactions"];

/// Every `*.json` file under the [`CASE_DIRS`], sorted by relative path.
pub(crate) fn load_cases(fixtures: &Path) -> Result<Vec<CaseFile>, String> {
    let mut paths = Vec::new();
    for dir in CASE_DIRS {
        collect_files(&fixtures.join(dir), &mut paths)?;
    }
    paths.retain(|p| p.extension().is_some_and(|e| e == "json"));
    paths.sort();
    let mut cases = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let json: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
        cases.push(CaseFile {
            rel_path: relative(fixtures, &path),
            bytes,
            json,
        });
    }
    if cases.is_empty() {
        return Err(format!(
            "no case files under {}",
            fixtures.join("cases").display()
        ));
    }
    Ok(cases)
}

/// Every file below `dir`, recursively (unsorted).
pub(crate) fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// `path` relative to `base`, with `/` separators on every platform.
pub(crate) fn relative(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
