//! Webhooks of batches: a loopback receiver (one per test, 127.0.0.1:0) gets the completion
//! event, signed the Standard Webhooks way, retried after a failed attempt; URIs that are not
//! loopback are refused without a connection; a bad `webhookConfig` is a 400.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use common::{FLASH31, client, get, post_json, prompt};
use nanobanana_mock::MockGemini;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON event")
    }
}

/// A webhook receiver on 127.0.0.1: answers the scripted statuses in order, then 200.
struct Receiver {
    uri: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(statuses: &[u16]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}/hook", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(statuses.to_vec()));
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let Some(request) = read_request(&mut stream).await else {
                    continue;
                };
                log.lock().unwrap().push(request);
                let status = {
                    let mut script = script.lock().unwrap();
                    if script.is_empty() {
                        200
                    } else {
                        script.remove(0)
                    }
                };
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        Self { uri, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1000 {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the receiver got {:?}, not {n} requests", self.received());
    }
}

/// Reads one HTTP/1.1 request with a `content-length` body.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..head_end + length]).into_owned();
    Some(Received { headers, body })
}

/// The Standard Webhooks signature of a received request, computed here independently.
fn expected_signature(request: &Received) -> String {
    let key = STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.{}",
        request.header("webhook-id"),
        request.header("webhook-timestamp"),
        request.body
    );
    mac.update(signed.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

async fn server() -> MockGemini {
    MockGemini::builder()
        .as_of(nanobanana_rules::Date::new(2026, 3, 1).expect("a date"))
        .batch_polls(0)
        .webhook_secret(SECRET)
        .webhook_retries(3, Duration::from_millis(20))
        .start()
        .await
}

/// Creates an inline batch of one request with this webhook config; returns its id.
async fn create_batch(server: &MockGemini, webhook: Value) -> String {
    let body = json!({"batch": {
        "displayName": "hooked",
        "inputConfig": {"requests": {"requests": [
            {"request": prompt("A banana"), "metadata": {"key": "one"}}
        ]}},
        "webhookConfig": webhook,
    }});
    let answer = post_json(
        server,
        &format!("/v1beta/models/{FLASH31}:batchGenerateContent"),
        &body,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text_head());
    answer.json()["name"]
        .as_str()
        .and_then(|n| n.strip_prefix("batches/"))
        .expect("batches/{id}")
        .to_owned()
}

#[tokio::test]
async fn a_finished_batch_posts_a_signed_event_and_retries_after_a_500() {
    let receiver = Receiver::start(&[500]).await;
    let server = server().await;
    let id = create_batch(
        &server,
        json!({"uris": [receiver.uri], "user_metadata": {"job": "42"}}),
    )
    .await;
    assert!(
        receiver.received().is_empty(),
        "nothing before the batch ends"
    );
    let done = get(&server, &format!("/v1beta/batches/{id}")).await.json();
    assert_eq!(done["metadata"]["state"], "BATCH_STATE_SUCCEEDED");

    let received = receiver.wait_for(2).await;
    let (first, second) = (&received[0], &received[1]);
    assert_eq!(first.body, second.body, "a retry sends the same event");
    assert_eq!(first.header("webhook-id"), second.header("webhook-id"));
    assert!(first.header("webhook-id").starts_with("msg_"));
    for request in &received {
        assert_eq!(request.header("content-type"), "application/json");
        assert_eq!(
            request.header("webhook-signature"),
            expected_signature(request)
        );
    }
    let event = second.json();
    assert_eq!(event["type"], "batch.succeeded");
    assert!(
        event["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let data = &event["data"];
    assert_eq!(data["name"], format!("batches/{id}"));
    assert_eq!(data["state"], "BATCH_STATE_SUCCEEDED");
    assert_eq!(data["model"], format!("models/{FLASH31}"));
    assert_eq!(data["displayName"], "hooked");
    assert_eq!(data["userMetadata"], json!({"job": "42"}));
    assert!(data["endTime"].is_string() && data["createTime"].is_string());

    let deliveries = server.webhook_deliveries();
    let attempts: Vec<(u32, Option<u16>)> =
        deliveries.iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(attempts, [(1, Some(500)), (2, Some(200))]);
    assert!(deliveries[1].delivered() && !deliveries[0].delivered());
    assert_eq!(deliveries[0].event_type, "batch.succeeded");
    assert_eq!(deliveries[0].uri, receiver.uri);
    // Polling the finished batch again sends nothing more.
    let _ = get(&server, &format!("/v1beta/batches/{id}")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn retries_are_bounded() {
    let receiver = Receiver::start(&[503, 503, 503, 503, 503]).await;
    let server = server().await;
    let id = create_batch(&server, json!({"uris": [receiver.uri]})).await;
    let _ = get(&server, &format!("/v1beta/batches/{id}")).await;
    let received = receiver.wait_for(3).await;
    assert!(received[0].json()["data"].get("userMetadata").is_none());
    // Three attempts (the server's setting), then nothing: 20 + 40 ms of backoff have passed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 3);
    let deliveries = server.webhook_deliveries();
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries.iter().all(|d| d.status == Some(503)));
    assert_eq!(deliveries[2].attempt, 3);
}

#[tokio::test]
async fn a_cancelled_batch_posts_batch_cancelled() {
    let receiver = Receiver::start(&[]).await;
    let server = server().await;
    let id = create_batch(
        &server,
        json!({"uris": [receiver.uri], "userMetadata": {"a": "b"}}),
    )
    .await;
    let cancelled = post_json(&server, &format!("/v1beta/batches/{id}:cancel"), &json!({})).await;
    assert_eq!(cancelled.status, 200);
    let event = receiver.wait_for(1).await[0].json();
    assert_eq!(event["type"], "batch.cancelled");
    assert_eq!(event["data"]["state"], "BATCH_STATE_CANCELLED");
    assert_eq!(event["data"]["userMetadata"], json!({"a": "b"}));
}

#[tokio::test]
async fn receivers_that_are_not_loopback_are_refused_without_a_connection() {
    let receiver = Receiver::start(&[]).await;
    let server = server().await;
    let id = create_batch(
        &server,
        json!({"uris": ["http://example.com/hook", "https://127.0.0.1:1/hook", receiver.uri]}),
    )
    .await;
    let _ = get(&server, &format!("/v1beta/batches/{id}")).await;
    assert_eq!(receiver.wait_for(1).await.len(), 1);
    let refused: Vec<_> = server
        .webhook_deliveries()
        .into_iter()
        .filter(|d| d.attempt == 0)
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(
        refused[0].error.as_deref(),
        Some("refused: example.com is not loopback and not allowed (webhook_allow_host)")
    );
    assert!(
        refused[1]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("https"))
    );
}

#[tokio::test]
async fn a_bad_webhook_config_is_a_400_naming_it() {
    let server = server().await;
    let answer = post_json(
        &server,
        &format!("/v1beta/models/{FLASH31}:batchGenerateContent"),
        &json!({"batch": {
            "inputConfig": {"requests": {"requests": [{"request": prompt("A banana")}]}},
            "webhookConfig": {"uris": []},
        }}),
    )
    .await;
    answer.assert_error(
        400,
        "INVALID_ARGUMENT",
        "batch.webhookConfig.uris must be a non-empty list of URLs.",
    );
}

#[tokio::test]
async fn every_server_has_its_own_secret_unless_given_one() {
    let a = MockGemini::start().await;
    let b = MockGemini::start().await;
    assert!(a.webhook_secret().starts_with("whsec_"));
    assert_ne!(a.webhook_secret(), b.webhook_secret());
    assert_eq!(server().await.webhook_secret(), SECRET);
}

#[tokio::test]
async fn the_admin_api_lists_the_secret_and_the_deliveries() {
    let receiver = Receiver::start(&[500]).await;
    let server = server().await;
    let id = create_batch(&server, json!({"uris": [receiver.uri]})).await;
    let _ = get(&server, &format!("/v1beta/batches/{id}")).await;
    receiver.wait_for(2).await;
    let listed = get(&server, "/__admin/webhooks").await.json();
    assert_eq!(listed["secret"], SECRET);
    let deliveries = listed["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 2, "{listed}");
    assert_eq!(deliveries[0]["status"], 500);
    assert_eq!(deliveries[0]["delivered"], false);
    assert_eq!(deliveries[1]["attempt"], 2);
    assert_eq!(deliveries[1]["delivered"], true);
    assert_eq!(deliveries[1]["body"]["type"], "batch.succeeded");
    let reset = client()
        .post(format!("{}/__admin/reset", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert!(server.webhook_deliveries().is_empty());
}

#[tokio::test]
async fn an_interaction_posts_interaction_completed_in_snake_case() {
    use common::interactions::{CREATE, MODEL, create, id_of};
    let receiver = Receiver::start(&[]).await;
    let server = MockGemini::builder().webhook_secret(SECRET).start().await;
    let answer = create(
        &server,
        json!({"webhook_config": {"uris": [receiver.uri], "user_metadata": {"run": "7"}}}),
    )
    .await;
    let id = id_of(&answer);
    let request = &receiver.wait_for(1).await[0];
    assert_eq!(
        request.header("webhook-signature"),
        expected_signature(request)
    );
    let event = request.json();
    assert_eq!(event["type"], "interaction.completed");
    assert_eq!(event["data"]["id"], id);
    assert_eq!(event["data"]["status"], "completed");
    assert_eq!(event["data"]["model"], MODEL);
    assert_eq!(event["data"]["user_metadata"], json!({"run": "7"}));
    // A get of the finished interaction sends nothing more.
    let _ = get(&server, &format!("{CREATE}/{id}")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_background_interaction_posts_when_a_get_ends_it_and_when_cancelled() {
    use common::interactions::{CREATE, create, id_of};
    let receiver = Receiver::start(&[]).await;
    let server = MockGemini::builder().interaction_polls(0).start().await;
    let hook = json!({"uris": [receiver.uri]});
    let finished =
        id_of(&create(&server, json!({"background": true, "webhook_config": hook})).await);
    let cancelled =
        id_of(&create(&server, json!({"background": true, "webhook_config": hook})).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(receiver.received().is_empty(), "running: no event yet");
    let _ = get(&server, &format!("{CREATE}/{finished}")).await;
    let answer = post_json(&server, &format!("{CREATE}/{cancelled}/cancel"), &json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.text_head());
    let received = receiver.wait_for(2).await;
    let mut events: Vec<(String, String)> = received
        .iter()
        .map(|r| {
            let event = r.json();
            (
                event["data"]["id"].as_str().unwrap().to_owned(),
                event["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    events.sort();
    let mut expected = vec![
        (finished, "interaction.completed".to_owned()),
        (cancelled, "interaction.cancelled".to_owned()),
    ];
    expected.sort();
    assert_eq!(events, expected);
}

#[tokio::test]
async fn a_bad_interaction_webhook_config_is_refused_in_the_apis_shape() {
    use common::interactions::{api_error, create};
    let server = MockGemini::start().await;
    let answer = create(
        &server,
        json!({"webhook_config": {"uris": "http://127.0.0.1:1"}}),
    )
    .await;
    assert_eq!(answer.status, 400);
    let (_, code, message) = api_error(&answer);
    assert_eq!(code, "invalid_request");
    assert_eq!(
        message,
        "webhook_config.uris must be a non-empty list of URLs."
    );
}
