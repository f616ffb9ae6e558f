//! `models.list` and `models.get`, from the model catalogue at the server's date.

use serde_json::{Value, json};

use nanobanana_rules::catalogue;

use super::Ctx;
use crate::reply::{self, Reply};

/// `GET models`: the models served at the server's date.
pub(super) fn list(ctx: &Ctx<'_>) -> Reply {
    let served = catalogue::available_at(ctx.shared.settings().as_of);
    Reply::json(
        200,
        &json!({"models": served.map(model_resource).collect::<Vec<_>>()}),
    )
}

/// `GET models/{model}`: the model, or the service's 404 when it is not served at the date.
pub(super) fn get(ctx: &Ctx<'_>, model: &str) -> Reply {
    let served = catalogue::lookup(model)
        .model()
        .filter(|m| m.state_at(ctx.shared.settings().as_of).is_served());
    match served {
        Some(m) => Reply::json(200, &model_resource(m)),
        None => reply::not_found(&catalogue::not_found_message(
            model,
            ctx.version,
            "getModel",
        )),
    }
}

/// A model as `models.get` and `models.list` describe it, from the catalogue.
fn model_resource(model: &catalogue::Model) -> Value {
    let limits = model.token_limits();
    json!({
        "name": format!("models/{}", model.id()),
        "baseModelId": model.id(),
        "version": model.version(),
        "displayName": model.name(),
        "description": format!("{} (simulated by nanobanana-mock).", model.name()),
        "inputTokenLimit": limits.input().unwrap_or(65536),
        "outputTokenLimit": limits.output().unwrap_or(32768),
        "supportedGenerationMethods": ["generateContent", "countTokens", "batchGenerateContent"],
        "thinking": !matches!(model.thinking(), catalogue::Thinking::NotConfigurable),
    })
}
