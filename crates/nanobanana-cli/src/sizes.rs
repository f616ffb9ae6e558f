//! `nanobanana sizes`: the published resolution table, one matrix per model (aspect ratio by
//! image size), with the output tokens per image and the one published erratum marked.

use std::fmt::Write as _;

use nanobanana_rules::catalogue::{self, Lookup};
use nanobanana_rules::resolution::{self, TableEntry};
use nanobanana_wire::ImageSize;
use serde_json::{Value, json};

use crate::cli::SizesArgs;
use crate::ui::{Failure, Ui};

pub(crate) fn run(ui: &Ui, args: &SizesArgs) -> Result<(), Failure> {
    let models: Vec<&catalogue::Model> = match &args.model {
        None => catalogue::models().iter().collect(),
        Some(id) => match catalogue::lookup(id) {
            Lookup::Known(model) => vec![model],
            Lookup::Unknown(_) => {
                return Err(Failure::refused(format!(
                    "--model {id:?}: not one of the image models. Allowed: {}.",
                    catalogue::models()
                        .iter()
                        .map(|m| m.id())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        },
    };
    if ui.json() {
        let entries: Vec<Value> = models
            .iter()
            .flat_map(|model| {
                resolution::table()
                    .model_entries(model.id())
                    .map(move |entry| {
                        let mut row = entry_json(entry);
                        row["model"] = json!(model.id());
                        row["table"] = json!(entry.model());
                        row["estimated"] = json!(model.resolution_is_estimated());
                        row
                    })
            })
            .collect();
        ui.document(&json!({"ok": true, "entries": entries}));
    } else {
        let text: Vec<String> = models.iter().map(|model| matrix(model)).collect();
        ui.say(&text.join("\n\n"));
    }
    Ok(())
}

fn entry_json(entry: &TableEntry) -> Value {
    json!({
        "model": entry.model(),
        "aspectRatio": entry.aspect_ratio().to_string(),
        "imageSize": entry.image_size().map(ToString::to_string),
        "width": entry.width(),
        "height": entry.height(),
        "tokens": entry.tokens(),
        "erratum": entry.erratum().map(|erratum| json!({
            "rule": erratum.rule().id(),
            "consistentWidth": erratum.consistent_width(),
            "consistentHeight": erratum.consistent_height(),
            "explanation": erratum.explanation(),
        })),
    })
}

/// One model's table: a header naming the model, a row of tokens per size, a row per ratio, and
/// a footnote per erratum.
fn matrix(model: &catalogue::Model) -> String {
    let entries: Vec<&TableEntry> = resolution::table().model_entries(model.id()).collect();
    // Columns: the model's sizes, or one column for a model without sizes.
    let sizes: Vec<Option<&ImageSize>> = if model.image_sizes().is_empty() {
        vec![None]
    } else {
        model.image_sizes().iter().map(Some).collect()
    };
    let cell = |ratio: &nanobanana_wire::AspectRatio, size: Option<&ImageSize>| {
        entries
            .iter()
            .find(|e| e.aspect_ratio() == ratio && e.image_size() == size)
            .copied()
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["ratio".to_owned()];
    for size in &sizes {
        header.push(match size {
            Some(size) => {
                let default = model.default_image_size() == Some(*size);
                format!("{size}{}", if default { " (default)" } else { "" })
            }
            None => "size (fixed)".to_owned(),
        });
    }
    rows.push(header);
    // Tokens per image, per column; "varies" is never the case in the published tables, but a
    // column whose ratios cost differently shows its cells' tokens instead.
    let mut uniform = Vec::new();
    let mut tokens_row = vec!["tokens".to_owned()];
    for size in &sizes {
        let mut tokens = model
            .aspect_ratios()
            .iter()
            .filter_map(|ratio| cell(ratio, *size))
            .map(TableEntry::tokens);
        let first = tokens.next();
        let same = first.is_some_and(|first| tokens.all(|t| t == first));
        uniform.push(same);
        tokens_row.push(match (first, same) {
            (Some(first), true) => first.to_string(),
            _ => "per cell".to_owned(),
        });
    }
    rows.push(tokens_row);
    let mut footnotes = Vec::new();
    for ratio in model.aspect_ratios() {
        let mut row = vec![ratio.to_string()];
        for (column, size) in sizes.iter().enumerate() {
            let text = match cell(ratio, *size) {
                None => "-".to_owned(),
                Some(entry) => {
                    let mut text = format!("{}x{}", entry.width(), entry.height());
                    if !uniform[column] {
                        let _ = write!(text, " ({})", entry.tokens());
                    }
                    if let Some(erratum) = entry.erratum() {
                        text.push('*');
                        footnotes.push(format!(
                            "* erratum [{}]: {}. Kept as published (the fake server makes \
                             {}x{} too); the consistent size would be {}x{}.",
                            erratum.rule().id(),
                            erratum.explanation(),
                            entry.width(),
                            entry.height(),
                            erratum.consistent_width(),
                            erratum.consistent_height()
                        ));
                    }
                    text
                }
            };
            row.push(text);
        }
        rows.push(row);
    }
    let mut out = format!(
        "{} ({}): pixels per aspect ratio and image size, output tokens per image",
        model.id(),
        model.name()
    );
    if model.resolution_is_estimated() {
        let _ = write!(
            out,
            "\nESTIMATED: no table is published for this model; these are the rows of the table \
             published for {} (its ratios and sizes that this model accepts).",
            model.resolution_table()
        );
    }
    out.push('\n');
    out.push_str(&crate::ui::columns(&rows));
    for footnote in footnotes {
        out.push('\n');
        out.push_str(&footnote);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_erratum_is_marked_in_the_flash_table() {
        let model = catalogue::lookup("gemini-3.1-flash-image").model().unwrap();
        let text = matrix(model);
        let row = text.lines().find(|l| l.starts_with("21:9")).unwrap();
        assert!(row.contains("792x168*"), "{row}");
        assert!(text.contains("792x336"), "{text}");
        assert!(text.contains("resolution-erratum-21x9-512"), "{text}");
    }

    #[test]
    fn a_model_without_sizes_has_one_column() {
        let model = catalogue::lookup("gemini-2.5-flash-image").model().unwrap();
        let text = matrix(model);
        assert!(text.contains("size (fixed)"), "{text}");
        assert!(
            text.lines().any(|l| l.starts_with("tokens  1290")),
            "{text}"
        );
        assert!(!text.contains('*'), "{text}");
    }
}
