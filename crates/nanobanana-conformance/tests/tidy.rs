//! The suite keeps itself honest: unique ids equal to their paths, every rule of
//! `fixtures/rules.json` covered by a case and every rule a case cites in the catalogue, every
//! blob referenced and every reference resolved, no dangling interaction index, every case
//! stating its level, a manifest that lists every file with its hash, and `expect` blocks equal
//! to what the recorded answers show (the Rust derivation agreeing with
//! `fixtures/tools/expect.py`). Schema validation proper runs in CI (`fixtures/tools/check.py`
//! with jsonschema); the parts of the schema the runners rely on are enforced here by parsing
//! (`targets`, `auth`, an `expect` block with no unknown field).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use common::suite;
use nanobanana_conformance::{derive_expect, recorded_answers};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    nanobanana_conformance::Suite::repository_dir()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every case file and Interactions API vector, raw (with `$blob` references), by id.
fn raw_cases() -> BTreeMap<String, Value> {
    let mut files = Vec::new();
    files_under(&root().join("cases"), &mut files);
    files_under(&root().join("interactions"), &mut files);
    let mut out = BTreeMap::new();
    for file in files {
        let value = read_json(&file);
        let id = value["id"].as_str().unwrap_or_default().to_owned();
        assert!(
            out.insert(id.clone(), value).is_none(),
            "case id {id} is used twice"
        );
    }
    out
}

fn walk<'v>(value: &'v Value, key: &str, f: &mut impl FnMut(&str, &'v Value)) {
    f(key, value);
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, k, f)),
        Value::Array(items) => items.iter().for_each(|v| walk(v, key, f)),
        _ => {}
    }
}

#[test]
fn ids_are_unique_and_equal_their_paths() {
    let raw = raw_cases();
    assert_eq!(raw.len(), suite().cases().len());
    for case in suite().cases() {
        assert!(raw.contains_key(case.id()), "{}", case.id());
        let (area, slug) = case.id().split_once('/').expect("<area>/<slug>");
        assert!(!area.is_empty() && !slug.contains('/'), "{}", case.id());
    }
}

#[test]
fn every_rule_is_covered_and_every_cited_rule_exists() {
    let catalogue = read_json(&root().join("rules.json"));
    let rules: BTreeSet<&str> = catalogue["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.len() >= 30);
    let mut covered = BTreeSet::new();
    for case in suite().cases() {
        let expect = case.expect();
        let cited = case
            .case()
            .rules
            .iter()
            .map(String::as_str)
            .chain(expect.violations.iter().map(|v| v.rule.as_str()))
            .chain(expect.warnings.iter().map(String::as_str))
            .chain(
                expect
                    .signatures
                    .iter()
                    .flat_map(|s| &s.violations)
                    .map(|v| v.rule.as_str()),
            );
        for rule in cited {
            assert!(
                rules.contains(rule),
                "{} cites unknown rule {rule}",
                case.id()
            );
        }
        covered.extend(case.case().rules.iter().map(String::as_str));
        // Every rule a verdict names is one the case says it exercises.
        for violation in &expect.violations {
            assert!(
                case.case().rules.contains(&violation.rule),
                "{}: {}",
                case.id(),
                violation.rule
            );
        }
    }
    // The Interactions API vectors (fixtures/interactions/, not yet part of the suite) cover the
    // rules only they exercise.
    let mut vectors = Vec::new();
    files_under(&root().join("interactions"), &mut vectors);
    let vectors: Vec<Value> = vectors.iter().map(|file| read_json(file)).collect();
    for vector in &vectors {
        for rule in vector["rules"].as_array().unwrap() {
            let rule = rule.as_str().unwrap();
            assert!(
                rules.contains(rule),
                "{} cites unknown rule {rule}",
                vector["id"]
            );
            covered.insert(rule);
        }
    }
    let uncovered: Vec<&&str> = rules.iter().filter(|r| !covered.contains(**r)).collect();
    assert!(uncovered.is_empty(), "rules no case covers: {uncovered:?}");
}

#[test]
fn every_blob_is_referenced_and_every_reference_resolves() {
    let blob_dir = root().join("blobs").join("sha256");
    let mut on_disk = BTreeSet::new();
    for entry in fs::read_dir(&blob_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            hex_sha256(&fs::read(&path).unwrap()),
            name,
            "blob {name} is not named by its SHA-256"
        );
        on_disk.insert(format!("sha256/{name}"));
    }
    let mut referenced = BTreeSet::new();
    for (id, case) in raw_cases() {
        walk(&case, "", &mut |key, value| {
            if let ("$blob" | "bodyBlob", Value::String(path)) = (key, value) {
                assert!(
                    on_disk.contains(path),
                    "{id} references the missing blob {path}"
                );
                referenced.insert(path.clone());
            }
        });
    }
    let unreferenced: Vec<&String> = on_disk.difference(&referenced).collect();
    assert!(
        unreferenced.is_empty(),
        "blobs no case references: {unreferenced:?}"
    );
}

#[test]
fn no_dangling_interaction_index_and_every_case_states_its_level() {
    for (id, case) in raw_cases() {
        assert!(
            case.get("required").is_some_and(Value::is_boolean),
            "{id}: no explicit `required`"
        );
        let interactions = case["interactions"].as_array().unwrap().len();
        walk(&case["expect"], "", &mut |key, value| {
            if key == "interaction" {
                let index = value.as_u64().unwrap();
                assert!(
                    usize::try_from(index).unwrap() < interactions,
                    "{id}: expect names interaction {index} of {interactions}"
                );
            }
        });
    }
    let level = |required: bool| {
        suite()
            .cases()
            .iter()
            .filter(|c| c.is_required() == required)
            .count()
    };
    assert!(
        level(true) >= 75 && level(false) >= 1,
        "{} required, {} optional",
        level(true),
        level(false)
    );
}

#[test]
fn the_manifest_lists_every_file_with_its_hash() {
    let manifest = read_json(&root().join("manifest.json"));
    let version = fs::read_to_string(root().join("VERSION")).unwrap();
    assert_eq!(
        manifest["version"],
        version.trim(),
        "run `cargo xtask codegen`"
    );
    assert_eq!(suite().version(), version.trim());
    let mut listed = BTreeMap::new();
    for row in manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .chain(manifest["blobs"].as_array().unwrap())
    {
        listed.insert(
            row["path"].as_str().unwrap().to_owned(),
            row["sha256"].as_str().unwrap().to_owned(),
        );
    }
    let mut files = Vec::new();
    files_under(&root().join("cases"), &mut files);
    files_under(&root().join("blobs"), &mut files);
    assert_eq!(listed.len(), files.len(), "run `cargo xtask codegen`");
    for file in files {
        let rel = file
            .strip_prefix(root())
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        assert_eq!(
            listed.get(&rel),
            Some(&hex_sha256(&fs::read(&file).unwrap())),
            "{rel}: stale manifest, run `cargo xtask codegen`"
        );
    }
    for row in manifest["cases"].as_array().unwrap() {
        let case = suite().case(row["id"].as_str().unwrap()).unwrap();
        assert_eq!(row["required"], case.is_required());
    }
}

/// The `expect` blocks are what the recorded answers show, computed by this crate's
/// `observe`; fixtures/tools/expect.py computes the same in Python (check.py holds the files to
/// it), so the two implementations agree on every case.
#[test]
fn expectations_equal_what_the_recorded_answers_show() {
    let mut differ = Vec::new();
    for case in suite().cases() {
        // An Interactions API vector's block states the validator's verdict and the status only
        // (fixtures/README.md; check.py holds it to the last answer's status).
        if case.id().starts_with("interactions/") {
            let last = case.case().interactions.last().map(|i| i.response.status);
            assert_eq!(case.expect().status, last, "{}", case.id());
            continue;
        }
        let derived = derive_expect(&recorded_answers(case.case()), case.expect());
        let mut want = case.expect().clone();
        let mut got = derived;
        // The signature findings are a set.
        for verdict in [&mut want.signatures, &mut got.signatures]
            .into_iter()
            .flatten()
        {
            verdict.violations.sort();
        }
        if want != got {
            differ.push(format!(
                "{}:\n  file:    {want:?}\n  derived: {got:?}",
                case.id()
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
