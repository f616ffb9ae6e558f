//! The admin HTTP API under `/__admin/` (no Gemini path starts so): the journal, mounts and
//! expectations, reset and settings of a running server, for tests in any language. It drives
//! the same machinery as the Rust API ([`Mock`](crate::Mock), the journal,
//! [`MockGemini::reset`](crate::MockGemini::reset)); `ADMIN.md` beside the crate documents it
//! with curl examples. Admin requests are not journalled and never reach the Gemini routes;
//! the request path only pays a prefix check for it.

mod images;
mod journal;

pub(crate) use self::journal::parse_endpoint;
mod mounts;
mod page;
mod settings;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::reply::{self, Reply};
use crate::server::{Request, Shared, lock};

/// The path prefix of the admin API.
pub(crate) const PREFIX: &str = "/__admin";

/// Whether a path belongs to the admin API (`/__admin` and everything under `/__admin/`).
pub(crate) fn is_admin(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The routes, for the index and for the 404 of an unknown admin path.
const ROUTES: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/__admin/journal",
        "the requests received (?endpoint=, ?model=, ?status=, ?method=)",
    ),
    ("DELETE", "/__admin/journal", "forget the requests received"),
    (
        "GET",
        "/__admin/journal.html",
        "the journal as a page for a browser (?limit=, default 200)",
    ),
    (
        "GET",
        "/__admin/journal/{index}/{request|answer}-image/{n}",
        "an image a journalled request sent or its answer carried",
    ),
    (
        "POST",
        "/__admin/reset",
        "forget mounts, the journal and stored state; restore the settings",
    ),
    ("GET", "/__admin/mounts", "the mounted mocks"),
    ("POST", "/__admin/mounts", "mount a mock"),
    ("DELETE", "/__admin/mounts", "unmount every mock"),
    ("DELETE", "/__admin/mounts/{id}", "unmount one mock"),
    (
        "GET",
        "/__admin/verify",
        "check the expectations (POST works too)",
    ),
    ("GET", "/__admin/settings", "mode, asOf, signatures"),
    (
        "GET",
        "/__admin/webhooks",
        "the webhook signing secret and every delivery attempt",
    ),
    (
        "PATCH",
        "/__admin/settings",
        "change mode, asOf or signatures",
    ),
];

/// Answers an admin request. `body_ok` is false when the body was over the server's limit or
/// cut short.
pub(crate) fn answer(shared: &Arc<Shared>, request: &Request, body_ok: bool) -> Reply {
    if let Some(refusal) = check_token(shared, request) {
        return refusal;
    }
    if !body_ok {
        return reply::invalid_argument(
            "nanobanana-mock admin: the request body was over the server's body limit or ended early.",
        );
    }
    let rest = request.path[PREFIX.len()..].trim_end_matches('/');
    let method = request.method.as_str();
    match (method, rest) {
        (_, "") => only(method, &["GET"], || Reply::json(200, &index())),
        (_, "/journal") => match method {
            "DELETE" => {
                lock(&shared.journal).clear();
                Reply::json(200, &json!({}))
            }
            _ => only(method, &["GET", "DELETE"], || {
                journal::list(shared, request)
            }),
        },
        (_, "/journal.html") => only(method, &["GET"], || page::page(shared, request)),
        (_, "/reset") => only(method, &["POST", "DELETE"], || {
            shared.reset();
            Reply::json(200, &json!({}))
        }),
        (_, "/mounts") => match method {
            "POST" => mounts::mount(shared, &request.body),
            "DELETE" => mounts::unmount_all(shared),
            _ => only(method, &["GET", "POST", "DELETE"], || mounts::list(shared)),
        },
        (_, "/verify") => only(method, &["GET", "POST"], || mounts::verify(shared)),
        (_, "/webhooks") => only(method, &["GET"], || crate::webhooks::admin_list(shared)),
        (_, "/settings") => match method {
            "PATCH" => settings::patch(shared, &request.body),
            _ => only(method, &["GET", "PATCH"], || settings::get(shared)),
        },
        (_, other) => match other.strip_prefix("/mounts/") {
            Some(id) => only(method, &["DELETE"], || mounts::unmount(shared, id)),
            None => match images::serve(shared, other) {
                Some(image) => only(method, &["GET"], || image),
                None => unknown_route(&request.path),
            },
        },
    }
}

/// Runs `serve` when `method` is one of `allowed`, else answers 405 naming them.
fn only(method: &str, allowed: &[&str], serve: impl FnOnce() -> Reply) -> Reply {
    if allowed.contains(&method) {
        serve()
    } else {
        reply::error(
            405,
            &format!(
                "nanobanana-mock admin: method {method} is not allowed here; allowed: {}.",
                allowed.join(", ")
            ),
            Vec::new(),
        )
        .with_header("allow", allowed.join(", "))
    }
}

fn index() -> Value {
    let routes: Vec<Value> = ROUTES
        .iter()
        .map(|(method, path, what)| json!({"method": method, "path": path, "description": what}))
        .collect();
    json!({ "routes": routes })
}

fn unknown_route(path: &str) -> Reply {
    let known: Vec<String> = ROUTES
        .iter()
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    reply::not_found(&format!(
        "nanobanana-mock admin: no route {path}; the admin API has: {}.",
        known.join(", ")
    ))
}

/// The 401 for a request without the admin token, when one is required.
fn check_token(shared: &Shared, request: &Request) -> Option<Reply> {
    let expected = shared.config.admin_token.as_deref()?;
    // A browser cannot send the header: the journal page and its images also take the token
    // as `?access_token=` (RFC 6750), and the page passes it on to its image links.
    let sent = request
        .header(http::header::AUTHORIZATION)
        .and_then(|value| value.strip_prefix("Bearer "))
        .or_else(|| page::token_in_query(request));
    let message = match sent {
        Some(token) if constant_time_eq(token.trim().as_bytes(), expected.as_bytes()) => {
            return None;
        }
        Some(_) => "nanobanana-mock admin: the admin token is wrong.",
        None => {
            "nanobanana-mock admin: this server requires an admin token: send `Authorization: Bearer TOKEN` (the token given to --admin-token)."
        }
    };
    Some(reply::error(401, message, Vec::new()).with_header("www-authenticate", "Bearer"))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses an admin request body as a JSON object, or answers 400 saying what was expected.
fn json_object(body: &[u8], what: &str) -> Result<serde_json::Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad_request(&format!("{what} must be a JSON object."))),
        Err(e) => Err(bad_request(&format!("{what} is not valid JSON: {e}."))),
    }
}

/// A `400` with the admin API's prefix on the message.
fn bad_request(message: &str) -> Reply {
    reply::invalid_argument(&format!("nanobanana-mock admin: {message}"))
}

/// Refuses keys of `object` outside `allowed`, naming them.
fn refuse_unknown_keys(
    object: &serde_json::Map<String, Value>,
    what: &str,
    allowed: &[&str],
) -> Result<(), Reply> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(bad_request(&format!(
            "unknown field \"{key}\" in {what}; allowed: {}.",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_admin_prefix_is_admin() {
        assert!(is_admin("/__admin"));
        assert!(is_admin("/__admin/journal"));
        assert!(!is_admin("/__administrator"));
        assert!(!is_admin("/v1beta/models/__admin"));
    }
}
