//! `cargo xtask codegen`: fixtures + overlay → `crates/nanobanana-wire/src/generated/` and
//! `fixtures/manifest.json`.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::corpus::{CaseFile, load_cases};
use crate::emit;
use crate::infer::{Kind, Model};
use crate::manifest;
use crate::overlay::Overlay;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Write,
    Check,
}

pub(crate) fn run(root: &Path, mode: Mode) -> Result<(), String> {
    let outputs = generate(root)?;
    let mut stale = Vec::new();
    for (path, text) in &outputs {
        let current = fs::read_to_string(path).ok();
        if current.as_deref() == Some(text.as_str()) {
            continue;
        }
        match mode {
            Mode::Check => stale.push(
                path.strip_prefix(root)
                    .unwrap_or(path)
                    .display()
                    .to_string(),
            ),
            Mode::Write => {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir)
                        .map_err(|e| format!("creating {}: {e}", dir.display()))?;
                }
                fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
                println!(
                    "wrote {}",
                    path.strip_prefix(root).unwrap_or(path).display()
                );
            }
        }
    }
    let generated_dir = root.join("crates/nanobanana-wire/src/generated");
    let expected: BTreeSet<&PathBuf> = outputs.iter().map(|(p, _)| p).collect();
    if let Ok(entries) = fs::read_dir(&generated_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if !expected.contains(&path) {
                match mode {
                    Mode::Check => stale.push(format!("{} (no longer generated)", path.display())),
                    Mode::Write => {
                        fs::remove_file(&path)
                            .map_err(|e| format!("removing {}: {e}", path.display()))?;
                        println!("removed {}", path.display());
                    }
                }
            }
        }
    }
    if stale.is_empty() {
        if mode == Mode::Check {
            println!("generated code is fresh ({} files)", outputs.len());
        }
        Ok(())
    } else {
        Err(format!(
            "generated files are stale: {}; run `cargo xtask codegen`",
            stale.join(", ")
        ))
    }
}

/// Every output file and its full text.
pub(crate) fn generate(root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let overlay_path = root.join("crates/nanobanana-wire/overlay.json");
    let overlay_text = fs::read_to_string(&overlay_path)
        .map_err(|e| format!("reading {}: {e}", overlay_path.display()))?;
    let overlay = Overlay::parse(&overlay_text)?;
    let cases = load_cases(&root.join("fixtures"))?;
    generate_from(root, &overlay, &cases)
}

/// Every output file for a given overlay and corpus (tests pass edited corpora here).
pub(crate) fn generate_from(
    root: &Path,
    overlay: &Overlay,
    cases: &[CaseFile],
) -> Result<Vec<(PathBuf, String)>, String> {
    let fixtures = root.join("fixtures");

    let mut model = Model::default();
    let mut roots = BTreeSet::new();
    roots.insert(overlay.error_type.clone());
    for case in cases {
        observe_case(overlay, &mut model, &mut roots, &case.rel_path, &case.json)?;
    }
    check_overlay(overlay, &model)?;

    let mut used_enums = BTreeSet::new();
    for shape in model.types.values() {
        for field in shape.fields.values() {
            let kind = match &field.kind {
                Kind::Array(inner) => inner.as_ref(),
                other => other,
            };
            if let Kind::Enum(name) = kind {
                used_enums.insert(name.clone());
            }
        }
    }
    for name in overlay.enums.keys() {
        if !used_enums.contains(name) {
            return Err(format!(
                "overlay.json describes enum {name}, but no field of the corpus uses it; remove it or add a fixture"
            ));
        }
    }
    for (name, seen) in &model.enum_values {
        let known: BTreeSet<String> = overlay.enums[name]
            .values
            .iter()
            .map(|v| v.wire.to_ascii_uppercase())
            .collect();
        for (value, at) in seen {
            let folded = if overlay.enums[name].case_insensitive {
                value.to_ascii_uppercase()
            } else {
                value.clone()
            };
            let listed = if overlay.enums[name].case_insensitive {
                known.contains(&folded)
            } else {
                overlay.enums[name].values.iter().any(|v| &v.wire == value)
            };
            if !listed {
                eprintln!(
                    "note: enum {name} value {value:?} at {at} is not in the overlay; it decodes as Unknown"
                );
            }
        }
    }

    for (name, seen) in &model.unions {
        for (tag, at) in seen {
            if !overlay.unions[name].variants.iter().any(|v| &v.wire == tag) {
                eprintln!(
                    "note: union {name} tag {tag:?} at {at} is not in the overlay; it decodes as Unknown"
                );
            }
        }
    }

    let dir = root.join("crates/nanobanana-wire/src/generated");
    let mut outputs = vec![
        (
            dir.join("mod.rs"),
            rustfmt(root, &emit::module(&model, &used_enums))?,
        ),
        (
            dir.join("types.rs"),
            rustfmt(root, &emit::types(&model, overlay)?)?,
        ),
        (
            dir.join("enums.rs"),
            rustfmt(root, &emit::enums(&used_enums, overlay)?)?,
        ),
        (
            dir.join("routes.rs"),
            rustfmt(root, &emit::routes(overlay, &roots, &model.rejected))?,
        ),
    ];
    outputs.push((
        fixtures.join("manifest.json"),
        manifest::render(&fixtures, cases)?,
    ));
    // The rules crate compiles the catalogue and the tables in; its copies are byte-identical to
    // the fixtures' (a crate cannot include files outside its package when published).
    for name in ["models.json", "resolution-tables.json"] {
        let text = fs::read_to_string(fixtures.join(name))
            .map_err(|e| format!("reading fixtures/{name}: {e}"))?;
        outputs.push((root.join("crates/nanobanana-rules/data").join(name), text));
    }
    Ok(outputs)
}

fn observe_case(
    overlay: &Overlay,
    model: &mut Model,
    roots: &mut BTreeSet<String>,
    rel_path: &str,
    case: &Value,
) -> Result<(), String> {
    let interactions = case
        .get("interactions")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{rel_path}: no interactions array"))?;
    for (i, interaction) in interactions.iter().enumerate() {
        let at = format!("{rel_path}#/interactions/{i}");
        let request = interaction
            .get("request")
            .ok_or_else(|| format!("{at}: no request"))?;
        let method = request.get("method").and_then(Value::as_str).unwrap_or("");
        let path = request.get("path").and_then(Value::as_str).unwrap_or("");
        let route = overlay.route(method, path).ok_or_else(|| {
            format!("{at}: no route for {method} {path}; add one to the routes of overlay.json")
        })?;

        if let Some(body) = request.get("body") {
            let ty = route.request.as_ref().ok_or_else(|| {
                format!(
                    "{at}: {method} {path} takes no JSON body in overlay.json, but the case has one"
                )
            })?;
            roots.insert(ty.clone());
            model.observe(overlay, ty, body, &format!("{at}/request/body"))?;
        }

        let response = interaction
            .get("response")
            .ok_or_else(|| format!("{at}: no response"))?;
        let status = response.get("status").and_then(Value::as_u64).unwrap_or(0);
        if let Some(body) = response.get("body") {
            let body_at = format!("{at}/response/body");
            if status >= 400 {
                let error_type = route.error.as_ref().unwrap_or(&overlay.error_type);
                roots.insert(error_type.clone());
                observe_error(overlay, model, error_type, body, &body_at)?;
            } else {
                let ty = route.response.as_ref().ok_or_else(|| {
                    format!("{at}: {method} {path} has no response type in overlay.json, but the case has a body")
                })?;
                roots.insert(ty.clone());
                model.observe(overlay, ty, body, &body_at)?;
            }
        }
        if let Some(events) = response.get("events").and_then(Value::as_array) {
            let ty = route
                .events
                .as_ref()
                .or(route.response.as_ref())
                .ok_or_else(|| {
                    format!("{at}: {method} {path} has no response type in overlay.json")
                })?;
            for (j, event) in events.iter().enumerate() {
                let event_at = format!("{at}/response/events/{j}");
                // Named-event streams (the Interactions API) type their error events too.
                if route.events.is_none() && event.get("error").is_some() {
                    observe_error(overlay, model, &overlay.error_type, event, &event_at)?;
                } else {
                    roots.insert(ty.clone());
                    model.observe(overlay, ty, event, &event_at)?;
                }
            }
        }
    }
    Ok(())
}

/// Error bodies are `{"error": ...}` or, from some endpoints, a one-element array of it.
fn observe_error(
    overlay: &Overlay,
    model: &mut Model,
    error_type: &str,
    body: &Value,
    at: &str,
) -> Result<(), String> {
    match body {
        Value::Array(items) => {
            for (k, item) in items.iter().enumerate() {
                model.observe(overlay, error_type, item, &format!("{at}/{k}"))?;
            }
            Ok(())
        }
        _ => model.observe(overlay, error_type, body, at),
    }
}

/// The overlay may only describe what the corpus has, so it cannot silently go stale.
fn check_overlay(overlay: &Overlay, model: &Model) -> Result<(), String> {
    let mut problems = Vec::new();
    for route in &overlay.routes {
        for ty in route
            .request
            .iter()
            .chain(&route.response)
            .chain(&route.events)
            .chain(&route.error)
        {
            if !model.types.contains_key(ty) && !model.unions.contains_key(ty) {
                problems.push(format!(
                    "route {} {} names {ty} (no fixture body has it)",
                    route.method, route.pattern
                ));
            }
        }
    }
    for (name, ty) in &overlay.types {
        match model.types.get(name) {
            None => problems.push(format!("type {name} (no fixture body has it)")),
            Some(shape) => {
                for field in ty.fields.keys() {
                    if !shape.fields.contains_key(field)
                        && !model.rejected.contains(&format!("{name}.{field}"))
                    {
                        problems.push(format!("field {name}.{field} (no fixture body has it)"));
                    }
                }
            }
        }
    }
    for (name, union) in &overlay.unions {
        match model.unions.get(name) {
            None => problems.push(format!("union {name} (no fixture body has it)")),
            Some(seen) => {
                for variant in &union.variants {
                    if !seen.contains_key(&variant.wire) {
                        problems.push(format!(
                            "union {name} variant {:?} (no fixture body has it)",
                            variant.wire
                        ));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "overlay.json describes what the corpus lacks: {}",
            problems.join("; ")
        ))
    }
}

/// Formats generated source with the toolchain's rustfmt, from the workspace root so the
/// project's formatting configuration applies.
fn rustfmt(root: &Path, source: &str) -> Result<String, String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running rustfmt: {e}"))?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(source.as_bytes())
        .map_err(|e| format!("writing to rustfmt: {e}"))?;
    let output = child
        .wait_with_output()
        .map_err(|e| format!("waiting for rustfmt: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "rustfmt rejected the generated code (a generator bug):\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("rustfmt output is not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project_root;

    fn overlay() -> Overlay {
        let text =
            fs::read_to_string(project_root().join("crates/nanobanana-wire/overlay.json")).unwrap();
        Overlay::parse(&text).unwrap()
    }

    fn types_rs(outputs: &[(PathBuf, String)]) -> &str {
        &outputs
            .iter()
            .find(|(p, _)| p.ends_with("types.rs"))
            .expect("types.rs is generated")
            .1
    }

    /// The committed output matches what the generator makes now (CI also runs the command).
    #[test]
    fn generated_code_is_fresh() {
        if let Err(message) = run(&project_root(), Mode::Check) {
            panic!("{message}");
        }
    }

    #[test]
    fn generator_is_deterministic() {
        let root = project_root();
        assert_eq!(generate(&root).unwrap(), generate(&root).unwrap());
    }

    /// Removes `key` from every object below `value`; returns how many were removed.
    fn remove_everywhere(value: &mut Value, key: &str) -> usize {
        match value {
            Value::Object(map) => {
                let mut n = usize::from(map.remove(key).is_some());
                n += map
                    .values_mut()
                    .map(|v| remove_everywhere(v, key))
                    .sum::<usize>();
                n
            }
            Value::Array(items) => items.iter_mut().map(|v| remove_everywhere(v, key)).sum(),
            _ => 0,
        }
    }

    #[test]
    fn adding_a_field_to_a_fixture_adds_it_to_the_types() {
        let root = project_root();
        let mut cases = load_cases(&root.join("fixtures")).unwrap();
        let before = generate_from(&root, &overlay(), &cases).unwrap();
        assert!(!types_rs(&before).contains("brand_new_field"));

        let case = cases
            .iter_mut()
            .find(|c| c.json["interactions"][0]["response"]["body"]["candidates"][0].is_object())
            .expect("some case answers with a candidate");
        case.json["interactions"][0]["response"]["body"]["candidates"][0]["brandNewField"] =
            Value::from(7);
        let after = generate_from(&root, &overlay(), &cases).unwrap();
        let types = types_rs(&after);
        assert!(
            types.contains("pub brand_new_field: Option<i64>"),
            "Candidate gained no field"
        );
        assert!(types.contains("rename = \"brandNewField\""));
    }

    #[test]
    fn deleting_a_field_from_every_fixture_removes_it_from_the_types() {
        let root = project_root();
        let mut cases = load_cases(&root.join("fixtures")).unwrap();
        assert!(
            types_rs(&generate_from(&root, &overlay(), &cases).unwrap())
                .contains("pub total_token_count:")
        );
        let removed: usize = cases
            .iter_mut()
            .map(|c| remove_everywhere(&mut c.json, "totalTokenCount"))
            .sum();
        assert!(removed > 0);

        // The overlay still documents the field, so it is now stale: a loud error.
        let err = generate_from(&root, &overlay(), &cases).unwrap_err();
        assert!(
            err.contains("field UsageMetadata.totalTokenCount (no fixture body has it)"),
            "{err}"
        );

        let mut overlay = overlay();
        overlay
            .types
            .get_mut("UsageMetadata")
            .unwrap()
            .fields
            .remove("totalTokenCount");
        let after = generate_from(&root, &overlay, &cases).unwrap();
        assert!(!types_rs(&after).contains("total_token_count"));
    }

    /// Removes every array item whose `key` member equals `value`; returns how many.
    fn remove_tagged(value: &mut Value, key: &str, tag: &str) -> usize {
        match value {
            Value::Array(items) => {
                let before = items.len();
                items.retain(|item| item.get(key).and_then(Value::as_str) != Some(tag));
                let mut n = before - items.len();
                n += items
                    .iter_mut()
                    .map(|v| remove_tagged(v, key, tag))
                    .sum::<usize>();
                n
            }
            Value::Object(map) => map.values_mut().map(|v| remove_tagged(v, key, tag)).sum(),
            _ => 0,
        }
    }

    #[test]
    fn unions_are_enums_with_a_variant_per_tag_the_corpus_has() {
        let root = project_root();
        let mut cases = load_cases(&root.join("fixtures")).unwrap();
        let types = types_rs(&generate_from(&root, &overlay(), &cases).unwrap()).to_owned();
        assert!(types.contains("pub enum Step {"));
        assert!(types.contains("Thought(ThoughtStep),"));
        assert!(types.contains("Unknown(serde_json::Value),"));
        assert!(
            types.contains("rename = \"previous_interaction_id\""),
            "snake_case on the wire"
        );

        // A variant the overlay lists but no fixture shows is an error, like a stale field.
        let removed: usize = cases
            .iter_mut()
            .map(|c| remove_tagged(&mut c.json, "event_type", "step.stop"))
            .sum();
        assert!(removed > 0);
        let err = generate_from(&root, &overlay(), &cases).unwrap_err();
        assert!(
            err.contains("union InteractionEvent variant \"step.stop\" (no fixture body has it)"),
            "{err}"
        );
    }

    #[test]
    fn a_route_without_fixtures_is_an_error() {
        let root = project_root();
        let cases = load_cases(&root.join("fixtures")).unwrap();
        let mut overlay = overlay();
        overlay.routes.push(crate::overlay::Route {
            endpoint: "TunedModelGet".into(),
            name: "tunedModels.get".into(),
            method: "GET".into(),
            pattern: "tunedModels/{model}".into(),
            prefix: crate::overlay::Prefix::Api,
            request: None,
            response: Some("TunedModel".into()),
            events: None,
            error: None,
        });
        let err = generate_from(&root, &overlay, &cases).unwrap_err();
        assert!(
            err.contains("route GET tunedModels/{model} names TunedModel"),
            "{err}"
        );
    }
}
