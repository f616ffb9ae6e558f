//! `nanobanana models`: the model catalogue (`fixtures/models.json`, compiled into the rules)
//! with each model's state at a date, and with `--live` the difference between the catalogue and
//! the service's `models.list`, so a maintainer sees drift the day it happens.

use std::collections::BTreeSet;

use futures_util::StreamExt as _;
use nanobanana_rules::Date;
use nanobanana_rules::catalogue::{self, Basis, Model, State, Thinking};
use serde_json::{Value, json};

use crate::cli::{Global, ModelsArgs};
use crate::service;
use crate::ui::{Failure, Ui};

/// Prints the catalogue at the date asked for (default today).
pub(crate) fn run(ui: &Ui, args: &ModelsArgs) -> Result<(), Failure> {
    let date = args.as_of.unwrap_or_else(Date::today);
    if ui.json() {
        ui.document(&json!({
            "ok": true,
            "asOf": date.to_string(),
            "catalogueUpdated": catalogue::updated().to_string(),
            "models": catalogue::models().iter().map(|m| model_json(m, date)).collect::<Vec<_>>(),
        }));
    } else {
        ui.say(&table(date));
    }
    Ok(())
}

/// Prints the catalogue, then lists the service's models and reports the difference.
pub(crate) async fn run_live(ui: &Ui, global: &Global, args: &ModelsArgs) -> Result<(), Failure> {
    service::check(global)?;
    let date = args.as_of.unwrap_or_else(Date::today);
    let service = service::connect(global).await?;
    let mut live = BTreeSet::new();
    let mut stream = service.client().models().list(Some(100));
    while let Some(model) = stream.next().await {
        let model = model.map_err(|e| Failure::from_client(&e))?;
        if let Some(name) = model.name {
            live.insert(name.trim_start_matches("models/").to_owned());
        }
    }
    let drift = Drift::between(&live, date);
    if ui.json() {
        ui.document(&json!({
            "ok": true,
            "asOf": date.to_string(),
            "models": catalogue::models().iter().map(|m| model_json(m, date)).collect::<Vec<_>>(),
            "live": live.iter().collect::<Vec<_>>(),
            "newImageIds": drift.new_ids,
            "missingIds": drift.missing,
            "servedAfterShutdown": drift.resurrected,
        }));
    } else {
        let mut text = table(date);
        text.push_str("\n\n");
        text.push_str(&drift.describe(live.len()));
        ui.say(&text);
    }
    Ok(())
}

/// What differs between the service's list and the catalogue at a date.
struct Drift {
    /// Image-looking ids the service lists and the catalogue does not know.
    new_ids: Vec<String>,
    /// Ids the catalogue says are served at the date that the service does not list.
    missing: Vec<String>,
    /// Ids the catalogue says are shut down that the service still lists.
    resurrected: Vec<String>,
}

impl Drift {
    fn between(live: &BTreeSet<String>, date: Date) -> Drift {
        let known: BTreeSet<&str> = catalogue::models().iter().map(Model::id).collect();
        let new_ids = live
            .iter()
            .filter(|id| id.contains("image") && !known.contains(id.as_str()))
            .cloned()
            .collect();
        let missing = catalogue::available_at(date)
            .map(Model::id)
            .filter(|id| !live.contains(*id))
            .map(str::to_owned)
            .collect();
        let resurrected = catalogue::models()
            .iter()
            .filter(|m| matches!(m.state_at(date), State::ShutDown { .. }) && live.contains(m.id()))
            .map(|m| m.id().to_owned())
            .collect();
        Drift {
            new_ids,
            missing,
            resurrected,
        }
    }

    fn describe(&self, listed: usize) -> String {
        let mut lines = vec![format!("The service lists {listed} models.")];
        if self.new_ids.is_empty() && self.missing.is_empty() && self.resurrected.is_empty() {
            lines.push("No drift: the catalogue matches the service.".to_owned());
        }
        for id in &self.new_ids {
            lines.push(format!(
                "new: {id} is listed by the service but not in fixtures/models.json"
            ));
        }
        for id in &self.missing {
            lines.push(format!(
                "missing: {id} should be served by the catalogue's dates but the service does not list it (shut down?)"
            ));
        }
        for id in &self.resurrected {
            lines.push(format!(
                "still listed: {id} is shut down by the catalogue's dates but the service lists it"
            ));
        }
        lines.join("\n")
    }
}

fn state_text(state: State) -> String {
    match state {
        State::Live => "live".to_owned(),
        State::Unreleased { released } => format!("unreleased (from {released})"),
        State::Deprecated { since, replacement } => {
            format!("deprecated {since}{}", instead(replacement))
        }
        State::Restricted { since, replacement } => {
            format!("restricted {since}{}", instead(replacement))
        }
        State::ShutDown { since, replacement } => {
            format!("shut down {since}{}", instead(replacement))
        }
    }
}

fn instead(replacement: Option<&str>) -> String {
    replacement.map_or_else(String::new, |r| format!(", use {r}"))
}

fn sizes(model: &Model) -> String {
    if model.image_sizes().is_empty() {
        "fixed".to_owned()
    } else {
        model
            .image_sizes()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn thinking(model: &Model) -> String {
    match model.thinking() {
        Thinking::Levels { levels, default } => {
            let levels: Vec<String> = levels
                .iter()
                .map(|l| {
                    let name = l.as_str().to_ascii_lowercase();
                    if l == default {
                        format!("{name}*")
                    } else {
                        name
                    }
                })
                .collect();
            levels.join(" ")
        }
        Thinking::AlwaysOn => "always on".to_owned(),
        Thinking::NotConfigurable => "none".to_owned(),
    }
}

fn price_1k(model: &Model) -> String {
    let tokens = nanobanana_rules::resolution::table()
        .get(model.id(), &"1:1".into(), None)
        .map(|entry| entry.tokens());
    match (model.pricing(), tokens) {
        (Some(pricing), Some(tokens)) => {
            let mark = if model.basis("pricing") == Basis::Published {
                ""
            } else {
                "~"
            };
            format!("{mark}${:.4}", pricing.image_cost(u64::from(tokens), false))
        }
        _ => "-".to_owned(),
    }
}

fn table(date: Date) -> String {
    let mut rows = vec![vec![
        "model".to_owned(),
        "name".to_owned(),
        format!("state on {date}"),
        "sizes".to_owned(),
        "ratios".to_owned(),
        "thinking (*default)".to_owned(),
        "output".to_owned(),
        "per image".to_owned(),
    ]];
    for model in catalogue::models() {
        let mut id = model.id().to_owned();
        if model.is_default() && model.state_at(date).is_served() {
            id.push_str(" (default)");
        }
        rows.push(vec![
            id,
            model.name().to_owned(),
            state_text(model.state_at(date)),
            sizes(model),
            model.aspect_ratios().len().to_string(),
            thinking(model),
            model.output_mime_type().to_owned(),
            price_1k(model),
        ]);
    }
    let mut out = crate::ui::columns(&rows);
    out.push('\n');
    out.push_str(&format!(
        "\nCatalogue: fixtures/models.json, brought up to date with the service on {}. \
         Per image: US dollars for one 1K image at the standard price (~: third-party figure; \
         Batch is half price).",
        catalogue::updated()
    ));
    out
}

fn model_json(model: &Model, date: Date) -> Value {
    let state = model.state_at(date);
    let life = model.lifecycle();
    json!({
        "id": model.id(),
        "name": model.name(),
        "default": model.is_default(),
        "state": state.label(),
        "served": state.is_served(),
        "replacement": state.replacement().or(life.replacement()),
        "released": life.released().to_string(),
        "deprecated": life.deprecated().map(|d| d.to_string()),
        "shutdown": life.shutdown().map(|d| d.to_string()),
        "imageSizes": model.image_sizes().iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "aspectRatios": model.aspect_ratios().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "outputMimeType": model.output_mime_type(),
        "resolutionEstimated": model.resolution_is_estimated(),
    })
}
