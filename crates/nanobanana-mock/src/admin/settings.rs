//! `GET` and `PATCH /__admin/settings`: the server's mode, date and signature policy.

use nanobanana_rules::{Date, SignaturePolicy};
use serde_json::{Value, json};

use super::{bad_request, json_object, refuse_unknown_keys};
use crate::control::Settings;
use crate::reply::Reply;
use crate::server::{Mode, Shared};

fn settings_json(settings: Settings) -> Value {
    json!({
        "mode": settings.mode.as_str(),
        "asOf": settings.as_of.to_string(),
        "signatures": settings.signatures.as_str(),
    })
}

/// `GET /__admin/settings`.
pub(super) fn get(shared: &Shared) -> Reply {
    Reply::json(200, &settings_json(shared.settings()))
}

/// `PATCH /__admin/settings`: changes the fields given (all or nothing) and answers with the
/// settings now in force. `POST /__admin/reset` restores the ones the server started with.
pub(super) fn patch(shared: &Shared, body: &[u8]) -> Reply {
    let object = match json_object(body, "the settings") {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    if let Err(reply) =
        refuse_unknown_keys(&object, "the settings", &["mode", "asOf", "signatures"])
    {
        return reply;
    }
    let mut settings = shared.settings();
    for (key, value) in &object {
        let Some(text) = value.as_str() else {
            return bad_request(&format!("settings.{key} must be a string, not {value}."));
        };
        let applied = match key.as_str() {
            "mode" => text
                .parse::<Mode>()
                .map(|mode| settings.mode = mode)
                .map_err(|e| e.to_string()),
            "asOf" => text
                .parse::<Date>()
                .map(|date| settings.as_of = date)
                .map_err(|e| format!("{e} (a date like 2026-03-01)")),
            _ => text
                .parse::<SignaturePolicy>()
                .map(|policy| settings.signatures = policy),
        };
        if let Err(e) = applied {
            return bad_request(&format!("settings.{key}: {e}."));
        }
    }
    if settings.mode == Mode::Replay && shared.replay.is_none() {
        return bad_request(
            "settings.mode: replay needs fixtures, and this server has none (start it with --fixtures DIR).",
        );
    }
    shared.settings.set(settings);
    Reply::json(200, &settings_json(settings))
}
