//! The repository stands alone: no file refers to material outside it (a clone has nothing
//! beside it), and the documents that code comments and cases cite are present.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the project root")
        .to_path_buf()
}

/// Directories that are not the project's sources: build output, VCS data, installed packages.
const SKIPPED_DIRS: &[&str] = &["target", ".git", "node_modules", ".venv", "__pycache__"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_ref()) && !name.starts_with("target") {
                files(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_file_refers_outside_the_repository() {
    // Spelt in pieces so that this file does not match itself.
    let parent = concat!("..", "/", "shared");
    let needles = [
        parent.to_owned(),
        format!("{}/{}", "shared", "spec"),
        format!("{}/{}", "shared", "seeds"),
    ];
    let mut all = Vec::new();
    files(&root(), &mut all);
    let mut offenders = Vec::new();
    for path in &all {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // binary files (blobs) cannot cite anything
        };
        for needle in &needles {
            if let Some(line) = text.lines().position(|line| line.contains(needle.as_str())) {
                let shown = path.strip_prefix(root()).unwrap_or(path);
                offenders.push(format!("{}:{}: {needle}", shown.display(), line + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "these files refer outside the repository (copy the fact into docs/ or fixtures/ and cite that):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_cited_documents_are_in_the_repository() {
    for document in [
        "docs/README.md",
        "docs/service/SERVICE-2026.md",
        "docs/service/SPEC.md",
        "docs/service/WIRE.md",
        "docs/guide/nano-banana-image-generation.ko.txt",
        "fixtures/rules.json",
        "fixtures/resolution-tables.json",
    ] {
        assert!(
            root().join(document).is_file(),
            "{document} is cited by the project and must be in the repository"
        );
    }
}
