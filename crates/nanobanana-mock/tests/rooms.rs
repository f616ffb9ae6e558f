//! The fake server stays livable (issue 15): no source file over 600 lines, no function over 80
//! (test modules aside: a big one lives in a `tests.rs` beside its module, which counts for the
//! file limit but not for the function limit).

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FUNCTION_LINES: usize = 80;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The functions of `text` longer than the limit, as (first line, length, name); the lines of
/// an inline `#[cfg(test)]` module and after it are not looked at.
fn long_functions(text: &str) -> Vec<(usize, usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .iter()
        .position(|l| l.starts_with("#[cfg(test)]") && !l.contains("mod tests;"))
        .unwrap_or(lines.len());
    let mut out = Vec::new();
    for (start, line) in lines[..end].iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(name) = function_name(trimmed) else {
            continue;
        };
        if trimmed.ends_with(';') {
            continue;
        }
        let indent = &line[..line.len() - trimmed.len()];
        let closing = format!("{indent}}}");
        let length = lines[start..]
            .iter()
            .position(|l| l.trim_end() == closing)
            .map_or(0, |offset| offset + 1);
        if length > MAX_FUNCTION_LINES {
            out.push((start + 1, length, name));
        }
    }
    out
}

/// `fn name` at the start of a (trimmed) line, after any of `pub`, `pub(crate)`, `async`,
/// `const`.
fn function_name(line: &str) -> Option<String> {
    let mut rest = line;
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(rest[..end].to_owned())
}

#[test]
fn no_file_over_600_lines_and_no_function_over_80() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 10, "found only {files:?}");
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a source file");
        let shown = file.strip_prefix(&root).unwrap_or(file).display();
        let count = text.lines().count();
        if count > MAX_FILE_LINES {
            problems.push(format!("{shown}: {count} lines (at most {MAX_FILE_LINES})"));
        }
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        for (line, length, name) in long_functions(&text) {
            problems.push(format!(
                "{shown}:{line}: fn {name} is {length} lines (at most {MAX_FUNCTION_LINES})"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "split these (ARCHITECTURE.md, nanobanana-mock):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_sees_long_functions_and_skips_test_modules() {
    let body = "    let x = 1;\n".repeat(MAX_FUNCTION_LINES);
    let text = format!(
        "pub(crate) async fn long() {{\n{body}}}\n\nfn short() {{\n}}\n\n#[cfg(test)]\nmod tests {{\n    fn also_long() {{\n{body}    }}\n}}\n"
    );
    let found = long_functions(&text);
    assert_eq!(found, [(1, MAX_FUNCTION_LINES + 2, "long".to_owned())]);
    assert_eq!(function_name("fn x(a: u8);"), Some("x".to_owned()));
    assert_eq!(function_name("let f = 1;"), None);
}
