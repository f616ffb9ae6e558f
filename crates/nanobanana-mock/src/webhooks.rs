//! Webhooks (SERVICE-2026.md §7): a batch created with `webhookConfig {uris, user_metadata}`
//! (and an interaction created with `webhook_config`) gets its completion event POSTed to each
//! URI when it reaches its end, signed as [Standard Webhooks](https://www.standardwebhooks.com/)
//! sign, retried with backoff, off the request path (a spawned task).
//!
//! **Signature**: headers `webhook-id` (`msg_` and 32 hex digits, the same for every attempt of
//! one event), `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature:
//! v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`. The key is the server's signing
//! secret ([`MockGeminiBuilder::webhook_secret`], `--webhook-secret`; a random one per server by
//! default, read with [`MockGemini::webhook_secret`]): for a secret `whsec_<base64>` the decoded
//! bytes, for any other text its bytes.
//!
//! **Payload** (SERVICE-2026 names the event types but not the body; this shape is the fake
//! server's choice, Standard Webhooks' `{type, timestamp, data}` envelope):
//!
//! ```json
//! {"type": "batch.succeeded", "timestamp": "2026-12-03T10:00:00Z",
//!  "data": {"name": "batches/abc", "state": "BATCH_STATE_SUCCEEDED", "model": "models/m",
//!           "createTime": "...", "updateTime": "...", "endTime": "...",
//!           "userMetadata": {"job": "42"}}}
//! ```
//!
//! Types: `batch.succeeded`, `batch.failed`, `batch.expired` (the service's), and
//! `batch.cancelled` (the fake's choice: the service lists no event for a cancelled batch).
//! `data.userMetadata` is the `user_metadata` given at creation, absent when none was.
//!
//! An interaction created with `webhook_config` gets `interaction.completed` or
//! `interaction.failed` (the service's) or `interaction.cancelled` (the fake's choice) when it
//! ends (at once, or for a `background` run when a get or a stream plays it to its end), in the
//! Interactions API's snake_case: `data` holds `id`, `status`, `model`, `created`, `updated`
//! and `user_metadata`.
//!
//! **Delivery**: only `http://` URIs whose host is loopback (`127.0.0.0/8`, `::1`,
//! `localhost`) or allowed by [`MockGeminiBuilder::webhook_allow_host`] are POSTed to (tests
//! never reach the internet); others are journalled as refused. An answer other than 2xx, or no
//! answer within 10 s, is retried: at most [`DEFAULT_WEBHOOK_ATTEMPTS`] attempts by default,
//! waiting 100 ms, then twice as long each time ([`MockGeminiBuilder::webhook_retries`]). Every
//! attempt is in [`MockGemini::webhook_deliveries`] (bounded: the last 1000).
//!
//! [`MockGeminiBuilder::webhook_secret`]: crate::MockGeminiBuilder::webhook_secret
//! [`MockGeminiBuilder::webhook_allow_host`]: crate::MockGeminiBuilder::webhook_allow_host
//! [`MockGeminiBuilder::webhook_retries`]: crate::MockGeminiBuilder::webhook_retries
//! [`MockGemini::webhook_secret`]: crate::MockGemini::webhook_secret
//! [`MockGemini::webhook_deliveries`]: crate::MockGemini::webhook_deliveries

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use nanobanana_wire::Base64Bytes;

use crate::config::MockGeminiBuilder;
use crate::outbound::{Outbound, scheme_and_host};
use crate::server::{Shared, lock};
use crate::signature::hmac_sha256;

/// Attempts per event and receiver by default (the first and four retries).
pub const DEFAULT_WEBHOOK_ATTEMPTS: u32 = 5;
const DEFAULT_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const JOURNAL_LIMIT: usize = 1000;

/// The webhook settings of a builder.
#[derive(Clone, Debug, Default)]
pub(crate) struct WebhookSettings {
    secret: Option<String>,
    allowed_hosts: Vec<String>,
    attempts: Option<u32>,
    backoff: Option<Duration>,
}

impl MockGeminiBuilder {
    /// The secret webhooks are signed with (`--webhook-secret`): `whsec_<base64>` as Standard
    /// Webhooks write it (the key is the decoded bytes), or any other text (its bytes). Default:
    /// a random `whsec_` secret per server, read with
    /// [`MockGemini::webhook_secret`](crate::MockGemini::webhook_secret).
    pub fn webhook_secret(mut self, secret: &str) -> Self {
        self.webhooks.secret = Some(secret.to_owned());
        self
    }

    /// Also delivers webhooks to this host (a name or an IP address, as it appears in the
    /// URI), besides loopback.
    pub fn webhook_allow_host(mut self, host: &str) -> Self {
        self.webhooks
            .allowed_hosts
            .push(host.trim_matches(['[', ']']).to_ascii_lowercase());
        self
    }

    /// At most `attempts` deliveries of one event to one receiver (at least 1; default
    /// [`DEFAULT_WEBHOOK_ATTEMPTS`]), waiting `first_backoff` after the first failure and twice
    /// as long after each further one (at most 30 s; default 100 ms).
    pub fn webhook_retries(mut self, attempts: u32, first_backoff: Duration) -> Self {
        self.webhooks.attempts = Some(attempts.max(1));
        self.webhooks.backoff = Some(first_backoff);
        self
    }
}

/// One attempt to deliver a webhook event to one receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The receiver's URI.
    pub uri: String,
    /// The event's type, e.g. `batch.succeeded`.
    pub event_type: String,
    /// The `webhook-id` header: the same for every attempt of one event.
    pub webhook_id: String,
    /// 1 for the first attempt; 0 for a URI that was refused without an attempt.
    pub attempt: u32,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed or was refused, when it did.
    pub error: Option<String>,
    /// The JSON body sent.
    pub body: String,
}

impl WebhookDelivery {
    /// Whether the receiver took the event (a 2xx status).
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

impl fmt::Display for WebhookDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} -> {} (attempt {})",
            self.event_type, self.webhook_id, self.uri, self.attempt
        )?;
        match (&self.status, &self.error) {
            (Some(status), _) => write!(f, ": {status}"),
            (None, Some(error)) => write!(f, ": {error}"),
            (None, None) => Ok(()),
        }
    }
}

/// `webhookConfig` as given at creation: where to deliver and what to echo back.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct WebhookConfig {
    pub(crate) uris: Vec<String>,
    pub(crate) user_metadata: Option<Value>,
}

impl WebhookConfig {
    /// Reads `{uris: [string], user_metadata|userMetadata: {..}}`; the error names what is
    /// wrong and what is allowed.
    pub(crate) fn from_json(value: &Value, field: &str) -> Result<Self, String> {
        let Some(map) = value.as_object() else {
            return Err(format!(
                "{field} must be an object {{uris: [string], user_metadata: {{string: string}}}}."
            ));
        };
        let uris = match map.get("uris").and_then(Value::as_array) {
            Some(uris) if !uris.is_empty() => uris
                .iter()
                .map(|u| u.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("{field}.uris must hold strings (URLs)."))?,
            _ => return Err(format!("{field}.uris must be a non-empty list of URLs.")),
        };
        let user_metadata = map
            .get("user_metadata")
            .or_else(|| map.get("userMetadata"))
            .cloned();
        if user_metadata.as_ref().is_some_and(|m| !m.is_object()) {
            return Err(format!(
                "{field}.user_metadata must be an object of strings."
            ));
        }
        Ok(Self {
            uris,
            user_metadata,
        })
    }
}

/// An event: `{type, timestamp, data}`, with the config's user metadata in `data` under
/// `metadata_key` (`userMetadata` in the Gemini API's camelCase, `user_metadata` in the
/// Interactions API's snake_case).
pub(crate) fn event(
    kind: &str,
    mut data: Map<String, Value>,
    config: &WebhookConfig,
    metadata_key: &str,
) -> Value {
    if let Some(metadata) = &config.user_metadata {
        data.insert(metadata_key.into(), metadata.clone());
    }
    json!({
        "type": kind,
        "timestamp": crate::store::rfc3339(SystemTime::now()),
        "data": data,
    })
}

/// Sends a batch's completion event, if it was created with a `webhookConfig`: the type from
/// its state, `data` from its operation's metadata (name, state, model, times).
pub(crate) fn batch_ended(shared: &Shared, batch: &crate::store::Batch, operation: &Value) {
    let Some(config) = &batch.webhook else {
        return;
    };
    let state = batch.state.wire();
    let kind = match state.as_str() {
        "BATCH_STATE_SUCCEEDED" => "batch.succeeded",
        "BATCH_STATE_FAILED" => "batch.failed",
        "BATCH_STATE_EXPIRED" => "batch.expired",
        "BATCH_STATE_CANCELLED" => "batch.cancelled",
        _ => return,
    };
    let mut data = Map::new();
    if let Some(metadata) = operation.get("metadata").and_then(Value::as_object) {
        for field in [
            "name",
            "state",
            "model",
            "displayName",
            "createTime",
            "updateTime",
            "endTime",
        ] {
            if let Some(value) = metadata.get(field) {
                data.insert(field.into(), value.clone());
            }
        }
    }
    deliver(
        shared,
        &config.uris,
        event(kind, data, config, "userMetadata"),
    );
}

/// `GET /__admin/webhooks`: `{secret, deliveries: [{uri, type, webhookId, attempt, status?,
/// error?, delivered, body}]}`, oldest first.
pub(crate) fn admin_list(shared: &Shared) -> crate::reply::Reply {
    let deliveries: Vec<Value> = shared
        .webhooks
        .deliveries()
        .iter()
        .map(|d| {
            let mut out = json!({
                "uri": d.uri,
                "type": d.event_type,
                "webhookId": d.webhook_id,
                "attempt": d.attempt,
                "delivered": d.delivered(),
                "body": serde_json::from_str::<Value>(&d.body).unwrap_or(Value::Null),
            });
            if let Some(status) = d.status {
                out["status"] = json!(status);
            }
            if let Some(error) = &d.error {
                out["error"] = json!(error);
            }
            out
        })
        .collect();
    crate::reply::Reply::json(
        200,
        &json!({"secret": shared.webhooks.secret(), "deliveries": deliveries}),
    )
}

/// The webhook side of a running server: the key, the receivers allowed, the journal of
/// attempts.
#[derive(Clone)]
pub(crate) struct Webhooks(Arc<Inner>);

struct Inner {
    secret: String,
    key: Vec<u8>,
    allowed_hosts: Vec<String>,
    attempts: u32,
    backoff: Duration,
    outbound: Outbound,
    next_id: AtomicU64,
    deliveries: Mutex<VecDeque<WebhookDelivery>>,
}

impl Webhooks {
    pub(crate) fn new(builder: &MockGeminiBuilder, base_uri: &str) -> Self {
        let settings = &builder.webhooks;
        let secret = settings
            .secret
            .clone()
            .unwrap_or_else(|| random_secret(base_uri));
        let key = secret
            .strip_prefix("whsec_")
            .and_then(|b64| Base64Bytes::from_base64(b64).ok())
            .map_or_else(|| secret.as_bytes().to_vec(), Base64Bytes::into_vec);
        Self(Arc::new(Inner {
            secret,
            key,
            allowed_hosts: settings.allowed_hosts.clone(),
            attempts: settings.attempts.unwrap_or(DEFAULT_WEBHOOK_ATTEMPTS),
            backoff: settings.backoff.unwrap_or(DEFAULT_BACKOFF),
            outbound: Outbound::new(ATTEMPT_TIMEOUT, 1 << 20),
            next_id: AtomicU64::new(1),
            deliveries: Mutex::new(VecDeque::new()),
        }))
    }

    pub(crate) fn secret(&self) -> &str {
        &self.0.secret
    }

    pub(crate) fn deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.0.deliveries).iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        lock(&self.0.deliveries).clear();
    }

    /// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
    pub(crate) fn signature(&self, id: &str, timestamp: u64, body: &str) -> String {
        let mac = hmac_sha256(
            &self.0.key,
            &[
                id.as_bytes(),
                b".",
                timestamp.to_string().as_bytes(),
                b".",
                body.as_bytes(),
            ],
        );
        format!("v1,{}", Base64Bytes::new(mac.to_vec()).to_base64())
    }
}

/// POSTs `event` to each URI off the request path (one task per receiver), as configured on
/// the server; refused URIs are journalled.
pub(crate) fn deliver(shared: &Shared, uris: &[String], event: Value) {
    let webhooks = &shared.webhooks;
    let body = event.to_string();
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("event")
        .to_owned();
    let n = webhooks.0.next_id.fetch_add(1, Ordering::Relaxed);
    let digest = Sha256::digest(format!("{}:{n}:{body}", webhooks.0.secret).as_bytes());
    let id: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let id = format!("msg_{id}");
    for uri in uris {
        let mut attempt = WebhookDelivery {
            uri: uri.clone(),
            event_type: kind.clone(),
            webhook_id: id.clone(),
            attempt: 0,
            status: None,
            error: None,
            body: body.clone(),
        };
        if let Err(reason) = webhooks.allows(uri) {
            attempt.error = Some(reason);
            webhooks.journal(attempt);
            continue;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            attempt.error = Some("no tokio runtime to deliver on".to_owned());
            webhooks.journal(attempt);
            continue;
        };
        runtime.spawn(webhooks.clone().run(attempt));
    }
}

impl Webhooks {
    /// Whether a receiver may be delivered to: `http://`, a loopback or allowed host.
    fn allows(&self, uri: &str) -> Result<(), String> {
        let Some((scheme, host)) = scheme_and_host(uri) else {
            return Err(format!("refused: {uri:?} is not an http:// URL"));
        };
        if scheme != "http" {
            return Err(format!(
                "refused: {scheme} receivers are not supported by nanobanana-mock (use http://)"
            ));
        }
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback || self.0.allowed_hosts.contains(&host) {
            Ok(())
        } else {
            Err(format!(
                "refused: {host} is not loopback and not allowed (webhook_allow_host)"
            ))
        }
    }

    fn journal(&self, delivery: WebhookDelivery) {
        let mut deliveries = lock(&self.0.deliveries);
        if deliveries.len() >= JOURNAL_LIMIT {
            deliveries.pop_front();
        }
        deliveries.push_back(delivery);
    }

    /// Attempts the delivery until the receiver takes it or the attempts are used up.
    async fn run(self, template: WebhookDelivery) {
        let mut backoff = self.0.backoff;
        for attempt in 1..=self.0.attempts {
            let timestamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let headers = vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                (
                    "user-agent".to_owned(),
                    "nanobanana-mock-webhooks".to_owned(),
                ),
                ("webhook-id".to_owned(), template.webhook_id.clone()),
                ("webhook-timestamp".to_owned(), timestamp.to_string()),
                (
                    "webhook-signature".to_owned(),
                    self.signature(&template.webhook_id, timestamp, &template.body),
                ),
            ];
            let result = self
                .0
                .outbound
                .send(
                    "POST",
                    &template.uri,
                    &headers,
                    Bytes::from(template.body.clone()),
                )
                .await;
            let mut record = template.clone();
            record.attempt = attempt;
            match result {
                Ok(answer) => record.status = Some(answer.status),
                Err(e) => record.error = Some(e),
            }
            let done = record.delivered();
            self.journal(record);
            if done {
                return;
            }
            if attempt < self.0.attempts {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// A fresh `whsec_` secret: 24 bytes from the clock, the process and the server's address.
fn random_secret(base_uri: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!(
        "{nanos}:{}:{}:{base_uri}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let digest = Sha256::digest(seed.as_bytes());
    format!(
        "whsec_{}",
        Base64Bytes::new(digest[..24].to_vec()).to_base64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_are_read_with_clear_errors() {
        let config = WebhookConfig::from_json(
            &json!({"uris": ["http://127.0.0.1:9/h"], "user_metadata": {"a": "b"}}),
            "batch.webhookConfig",
        )
        .unwrap();
        assert_eq!(config.uris, ["http://127.0.0.1:9/h"]);
        assert_eq!(config.user_metadata, Some(json!({"a": "b"})));
        let error = WebhookConfig::from_json(&json!({"uris": []}), "batch.webhookConfig");
        assert_eq!(
            error.unwrap_err(),
            "batch.webhookConfig.uris must be a non-empty list of URLs."
        );
        assert!(WebhookConfig::from_json(&json!({"uris": [1]}), "w").is_err());
        assert!(WebhookConfig::from_json(&json!("x"), "w").is_err());
    }

    #[test]
    fn the_signature_is_standard_webhooks() {
        // The example of the Standard Webhooks specification (its reference libraries' tests).
        let builder =
            MockGeminiBuilder::default().webhook_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let webhooks = Webhooks::new(&builder, "http://127.0.0.1:1");
        let signature = webhooks.signature(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn only_loopback_and_allowed_hosts_are_delivered_to() {
        let builder = MockGeminiBuilder::default().webhook_allow_host("hooks.test");
        let webhooks = Webhooks::new(&builder, "http://127.0.0.1:1");
        assert!(webhooks.allows("http://127.0.0.1:8/x").is_ok());
        assert!(webhooks.allows("http://[::1]:8/x").is_ok());
        assert!(webhooks.allows("http://localhost/x").is_ok());
        assert!(webhooks.allows("http://hooks.test/x").is_ok());
        assert!(webhooks.allows("http://example.com/x").is_err());
        assert!(webhooks.allows("https://127.0.0.1/x").is_err());
        assert!(webhooks.allows("file:///etc/passwd").is_err());
    }

    #[test]
    fn a_random_secret_per_server() {
        let a = Webhooks::new(&MockGeminiBuilder::default(), "http://127.0.0.1:1");
        let b = Webhooks::new(&MockGeminiBuilder::default(), "http://127.0.0.1:1");
        assert!(a.secret().starts_with("whsec_"));
        assert_ne!(a.secret(), b.secret());
    }
}
