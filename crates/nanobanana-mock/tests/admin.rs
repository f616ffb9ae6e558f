//! The admin HTTP API (`/__admin/...`), one server per test over real TCP: the journal and its
//! filters, mounts (faults, outcomes, statuses, JSON answers, `times`, expectations), verify,
//! reset, settings, the admin token, and the error texts for bad admin input.

mod common;

use common::*;
use nanobanana_mock::{MockGemini, Mode};
use nanobanana_rules::Date;
use serde_json::{Value, json};

/// Ids the service serves in December 2026 (the tests' date).
const FLASH: &str = "gemini-3.1-flash-image";
const PRO_GA: &str = "gemini-3-pro-image";

fn date(text: &str) -> Date {
    text.parse().expect("a date")
}

/// A simulating server pinned to a date (the default is today, which moves).
async fn server() -> MockGemini {
    MockGemini::builder()
        .as_of(date("2026-12-03"))
        .start()
        .await
}

async fn admin(server: &MockGemini, method: &str, path: &str, body: Option<&Value>) -> Answer {
    admin_with_token(server, method, path, body, None).await
}

async fn admin_with_token(
    server: &MockGemini,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = client().request(method, url(server, path));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    send(request).await
}

/// Mounts and returns the mount as the API answered it (asserting the 201).
async fn mount(server: &MockGemini, body: Value) -> Value {
    let answer = admin(server, "POST", "/__admin/mounts", Some(&body)).await;
    assert_eq!(answer.status, 201, "{}", answer.text_head());
    answer.json()
}

/// The 400 message of a refused admin request.
async fn refusal(server: &MockGemini, method: &str, path: &str, body: &str) -> String {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let answer = send(
        client()
            .request(method, url(server, path))
            .body(body.to_owned()),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.text_head());
    answer.json()["error"]["message"]
        .as_str()
        .expect("a message")
        .to_owned()
}

fn statuses(journal: &Value) -> Vec<u64> {
    journal["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| r["status"].as_u64().expect("status"))
        .collect()
}

#[tokio::test]
async fn journal_lists_requests_with_decoded_bodies_and_filters_them() {
    let server = server().await;
    assert_eq!(generate(&server, FLASH, &prompt("a cat")).await.status, 200);
    assert_eq!(
        generate(&server, PRO_GA, &prompt("a dog")).await.status,
        200
    );
    assert_eq!(get(&server, "/v1beta/models").await.status, 200);
    assert_eq!(
        get(&server, "/v1beta/models/no-such-model").await.status,
        404
    );

    let all = admin(&server, "GET", "/__admin/journal", None).await.json();
    assert_eq!(
        statuses(&all),
        [200, 200, 200, 404],
        "admin calls are not journalled"
    );
    let first = &all["requests"][0];
    assert_eq!(first["endpoint"], "generateContent");
    assert_eq!(first["model"], FLASH);
    assert_eq!(first["method"], "POST");
    assert_eq!(first["body"]["contents"][0]["parts"][0]["text"], "a cat");
    assert_eq!(
        first["headers"]["x-goog-api-key"], "***",
        "the key is redacted"
    );
    assert_eq!(all["received"], 4);

    let by_model = admin(
        &server,
        "GET",
        &format!("/__admin/journal?model=models/{PRO_GA}"),
        None,
    )
    .await
    .json();
    assert_eq!(by_model["requests"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        by_model["requests"][0]["body"]["contents"][0]["parts"][0]["text"],
        "a dog"
    );
    let by_endpoint = admin(
        &server,
        "GET",
        "/__admin/journal?endpoint=models.list",
        None,
    )
    .await
    .json();
    assert_eq!(by_endpoint["requests"][0]["path"], "/v1beta/models");
    assert_eq!(by_endpoint["requests"].as_array().map(Vec::len), Some(1));
    let by_status = admin(
        &server,
        "GET",
        "/__admin/journal?status=404&method=get",
        None,
    )
    .await
    .json();
    assert_eq!(by_status["requests"][0]["endpoint"], "models.get");
    assert_eq!(by_status["requests"].as_array().map(Vec::len), Some(1));

    assert_eq!(
        admin(&server, "DELETE", "/__admin/journal", None)
            .await
            .status,
        200
    );
    let empty = admin(&server, "GET", "/__admin/journal", None).await.json();
    assert_eq!(statuses(&empty), Vec::<u64>::new());
}

#[tokio::test]
async fn journal_filters_that_make_no_sense_are_refused_by_name() {
    let server = server().await;
    let message = refusal(&server, "GET", "/__admin/journal?endpoint=generate", "").await;
    assert!(
        message.contains("unknown endpoint \"generate\"") && message.contains("generateContent"),
        "{message}"
    );
    let message = refusal(&server, "GET", "/__admin/journal?status=ok", "").await;
    assert!(
        message.contains("status \"ok\" is not an HTTP status code"),
        "{message}"
    );
    let message = refusal(&server, "GET", "/__admin/journal?colour=red", "").await;
    assert!(
        message.contains("unknown journal filter \"colour\"")
            && message.contains("endpoint, model, status, method"),
        "{message}"
    );
}

#[tokio::test]
async fn a_mounted_status_fault_fails_then_succeeds_and_its_expectation_verifies() {
    let server = server().await;
    let mounted = mount(
        &server,
        json!({
            "name": "one rate limit",
            "match": {"endpoint": "generateContent", "model": FLASH},
            "respond": {"status": 429},
            "times": 1,
            "expect": 1,
        }),
    )
    .await;
    assert_eq!(mounted["description"], "mock \"one rate limit\"");
    assert_eq!(mounted["expect"], "exactly 1");
    let not_yet = admin(&server, "GET", "/__admin/verify", None).await.json();
    assert_eq!(not_yet["ok"], false);
    assert!(
        not_yet["report"]
            .as_str()
            .is_some_and(|r| r.contains("expected exactly 1 matching request(s), received 0")),
        "{not_yet}"
    );

    let limited = generate(&server, FLASH, &prompt("a cat")).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(generate(&server, FLASH, &prompt("a cat")).await.status, 200);
    assert_eq!(
        generate(&server, PRO_GA, &prompt("a cat")).await.status,
        200,
        "other model"
    );

    let verified = admin(&server, "POST", "/__admin/verify", None).await.json();
    assert_eq!(verified["ok"], true, "{verified}");
    let listed = admin(&server, "GET", "/__admin/mounts", None).await.json();
    assert_eq!(listed["mounts"][0]["received"], 1);
    assert_eq!(listed["mounts"][0]["unmet"], Value::Null);
}

#[tokio::test]
async fn mounts_match_on_json_pointers_and_body_text_and_answer_fixed_json() {
    let server = server().await;
    mount(
        &server,
        json!({
            "match": {"json": {"/contents/0/parts/0/text": "a fixed answer"}},
            "respond": {"status": 200, "json": {"candidates": [], "custom": true}},
        }),
    )
    .await;
    mount(
        &server,
        json!({"match": {"bodyContains": "overloaded"}, "respond": {"fault": "status=503"}}),
    )
    .await;
    let fixed = generate(&server, FLASH, &prompt("a fixed answer")).await;
    assert_eq!(
        (fixed.status, fixed.json()["custom"].clone()),
        (200, json!(true))
    );
    assert_eq!(
        generate(&server, FLASH, &prompt("overloaded")).await.status,
        503
    );
    let normal = generate(&server, FLASH, &prompt("a fixed answer, not quite")).await;
    assert_eq!(normal.status, 200);
    assert_eq!(normal.json().get("custom"), None);
}

#[tokio::test]
async fn a_mounted_outcome_answers_without_an_image() {
    let server = server().await;
    mount(
        &server,
        json!({"match": {"endpoint": "generateContent"}, "respond": {"outcome": "no-image"}}),
    )
    .await;
    let answer = generate(&server, FLASH, &prompt("a cat")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["candidates"][0]["finishReason"], "NO_IMAGE");
}

#[tokio::test]
async fn mounts_are_unmounted_one_by_one_or_all_at_once() {
    let server = server().await;
    let first = mount(&server, json!({"respond": {"status": 500}})).await;
    mount(&server, json!({"respond": {"status": 503}})).await;
    assert_eq!(generate(&server, FLASH, &prompt("a cat")).await.status, 500);
    let removed = admin(
        &server,
        "DELETE",
        &format!("/__admin/mounts/{}", first["id"]),
        None,
    )
    .await;
    assert_eq!(
        (removed.status, removed.json()["received"].clone()),
        (200, json!(1))
    );
    assert_eq!(generate(&server, FLASH, &prompt("a cat")).await.status, 503);
    let gone = admin(
        &server,
        "DELETE",
        &format!("/__admin/mounts/{}", first["id"]),
        None,
    )
    .await;
    assert_eq!(gone.status, 404);
    assert!(gone.text().contains("no mount with id"), "{}", gone.text());
    let all = admin(&server, "DELETE", "/__admin/mounts", None)
        .await
        .json();
    assert_eq!(all["unmounted"], 1);
    assert_eq!(generate(&server, FLASH, &prompt("a cat")).await.status, 200);
}

#[tokio::test]
async fn bad_mounts_are_refused_with_what_is_allowed() {
    let server = server().await;
    let cases = [
        ("[1]", "the mount must be a JSON object"),
        ("{", "the mount is not valid JSON"),
        (
            r#"{"when": {}}"#,
            "unknown field \"when\" in the mount; allowed: name, match",
        ),
        (
            r#"{"match": {"endpoint": "gen"}}"#,
            "match.endpoint: unknown endpoint \"gen\"",
        ),
        (
            r#"{"match": {"model": 3}}"#,
            "match.model must be a string, not 3",
        ),
        (
            r#"{"match": {"json": {"contents": 1}}}"#,
            "\"contents\" is not a JSON pointer",
        ),
        (
            r#"{"respond": {"fault": "status=99"}}"#,
            "respond.fault: Invalid x-nanobanana-fault",
        ),
        (
            r#"{"respond": {"fault": "status=503; times=1"}}"#,
            "use the mount's \"times\"",
        ),
        (
            r#"{"respond": {"outcome": "sad"}}"#,
            "unknown outcome \"sad\"; allowed: images, text-only, no-image",
        ),
        (
            r#"{"respond": {"status": 200}}"#,
            "give a status from 400 to 599, or a json body",
        ),
        (
            r#"{"respond": {"status": 99}}"#,
            "respond.status must be an HTTP status code",
        ),
        (
            r#"{"respond": {"json": {}, "outcome": "no-image"}}"#,
            "cannot have a fault or an outcome",
        ),
        (
            r#"{"respond": {"mode": "replay", "status": 503}}"#,
            "respond.mode serves in another mode",
        ),
        (
            r#"{"respond": {"mode": "dream"}}"#,
            "unknown mode \"dream\"",
        ),
        (
            r#"{"times": -1}"#,
            "times must be a whole number of at least 0, not -1",
        ),
        (
            r#"{"expect": {"min": 3, "max": 1}}"#,
            "expect.min (3) is over expect.max (1)",
        ),
        (r#"{"expect": "once"}"#, "expect must be a count"),
    ];
    for (body, expected) in cases {
        let message = refusal(&server, "POST", "/__admin/mounts", body).await;
        assert!(message.contains(expected), "{body}: {message}");
        assert!(message.starts_with("nanobanana-mock admin: "), "{message}");
    }
    let listed = admin(&server, "GET", "/__admin/mounts", None).await.json();
    assert_eq!(listed["mounts"], json!([]), "nothing refused was mounted");
}

#[tokio::test]
async fn reset_forgets_mounts_and_the_journal_and_restores_the_settings() {
    let server = server().await;
    mount(&server, json!({"respond": {"status": 500}, "expect": 5})).await;
    assert_eq!(generate(&server, FLASH, &prompt("a cat")).await.status, 500);
    let patched = json!({"asOf": "2026-03-01"});
    assert_eq!(
        admin(&server, "PATCH", "/__admin/settings", Some(&patched))
            .await
            .status,
        200
    );
    assert_eq!(
        admin(&server, "POST", "/__admin/reset", None).await.status,
        200
    );
    assert_eq!(generate(&server, FLASH, &prompt("a cat")).await.status, 200);
    let journal = admin(&server, "GET", "/__admin/journal", None).await.json();
    assert_eq!(statuses(&journal), [200]);
    let settings = admin(&server, "GET", "/__admin/settings", None)
        .await
        .json();
    assert_eq!(settings["asOf"], "2026-12-03");
    assert_eq!(
        admin(&server, "GET", "/__admin/verify", None).await.json()["ok"],
        true
    );
}

#[tokio::test]
async fn settings_change_the_served_date_mode_and_signature_policy() {
    let server = server().await;
    let settings = admin(&server, "GET", "/__admin/settings", None)
        .await
        .json();
    assert_eq!(
        settings,
        json!({"mode": "hybrid", "asOf": "2026-12-03", "signatures": "by-date"})
    );
    // The preview id is shut down in December 2026 and served in March.
    assert_eq!(generate(&server, PRO, &prompt("a cat")).await.status, 404);
    let patch = json!({"asOf": "2026-03-01", "signatures": "strict", "mode": "simulate"});
    let patched = admin(&server, "PATCH", "/__admin/settings", Some(&patch)).await;
    assert_eq!(patched.json(), patch);
    assert_eq!(generate(&server, PRO, &prompt("a cat")).await.status, 200);

    let cases = [
        (r#"{"asOf": "2026-02-30"}"#, "settings.asOf:"),
        (
            r#"{"mode": "dream"}"#,
            "settings.mode: unknown mode \"dream\"",
        ),
        (r#"{"mode": "replay"}"#, "replay needs fixtures"),
        (
            r#"{"signatures": "loose"}"#,
            "unknown signature policy \"loose\"",
        ),
        (
            r#"{"signatures": 1}"#,
            "settings.signatures must be a string",
        ),
        (
            r#"{"date": "2026-03-01"}"#,
            "unknown field \"date\" in the settings; allowed: mode, asOf, signatures",
        ),
    ];
    for (body, expected) in cases {
        let message = refusal(&server, "PATCH", "/__admin/settings", body).await;
        assert!(message.contains(expected), "{body}: {message}");
    }
    let unchanged = admin(&server, "GET", "/__admin/settings", None)
        .await
        .json();
    assert_eq!(unchanged, patch, "a refused patch changes nothing");
}

#[tokio::test]
async fn the_admin_token_guards_the_admin_api_only() {
    let server = MockGemini::builder()
        .as_of(date("2026-12-03"))
        .admin_token("s3cret")
        .start()
        .await;
    let missing = admin(&server, "GET", "/__admin/journal", None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["error"]["status"], "UNAUTHENTICATED");
    assert!(
        missing.text().contains("Authorization: Bearer TOKEN"),
        "{}",
        missing.text()
    );
    let wrong = admin_with_token(&server, "GET", "/__admin/journal", None, Some("guess")).await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.text().contains("the admin token is wrong"),
        "{}",
        wrong.text()
    );
    assert!(
        !wrong.text().contains("s3cret"),
        "the token is never echoed"
    );
    assert_eq!(generate(&server, FLASH, &prompt("a cat")).await.status, 200);
    let right = admin_with_token(&server, "GET", "/__admin/journal", None, Some("s3cret")).await;
    assert_eq!(right.status, 200);
    assert_eq!(statuses(&right.json()), [200]);
    assert!(!format!("{server:?}").contains("s3cret"));
}

#[tokio::test]
async fn unknown_admin_routes_and_methods_are_named() {
    let server = server().await;
    let unknown = admin(&server, "GET", "/__admin/requests", None).await;
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.text().contains("no route /__admin/requests")
            && unknown.text().contains("GET /__admin/journal"),
        "{}",
        unknown.text()
    );
    let wrong = admin(&server, "PUT", "/__admin/settings", None).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("GET, PATCH"));
    let index = admin(&server, "GET", "/__admin/", None).await.json();
    assert!(index["routes"].as_array().is_some_and(|r| r.len() >= 10));
}

#[tokio::test]
async fn verify_reports_requests_no_recording_matched() {
    let server = MockGemini::builder()
        .mode(Mode::Replay)
        .corpus(corpus().clone())
        .allow_unmatched()
        .start()
        .await;
    let missed = generate(&server, FLASH, &prompt("nothing recorded says this")).await;
    assert_eq!(missed.status, 501);
    let verified = admin(&server, "GET", "/__admin/verify", None).await.json();
    assert_eq!(verified["ok"], false);
    assert_eq!(verified["unmatched"].as_array().map(Vec::len), Some(1));
    assert!(
        verified["report"]
            .as_str()
            .is_some_and(|r| r.contains("The server received 1 request(s)")),
        "{verified}"
    );
}

#[tokio::test]
async fn a_body_the_journal_does_not_hold_is_marked() {
    let server = MockGemini::builder()
        .as_of(date("2026-12-03"))
        .journal_body_limit(16)
        .start()
        .await;
    assert_eq!(
        generate(&server, FLASH, &prompt("a cat, described at length"))
            .await
            .status,
        200
    );
    let journal = admin(&server, "GET", "/__admin/journal", None).await.json();
    let entry = &journal["requests"][0];
    assert_eq!(entry["bodyTruncated"], true);
    assert_eq!(entry["bodyDropped"], false);
    assert_eq!(entry.get("body"), None);
    assert!(
        entry["bodyLength"].as_u64().is_some_and(|n| n > 16),
        "{entry}"
    );
}

/// A chat's second turn with the first turn's image part sent back without its signature.
fn unsigned_second_turn(first: &Value) -> Value {
    let mut model_turn = first["candidates"][0]["content"].clone();
    for part in model_turn["parts"].as_array_mut().expect("parts") {
        if let Some(part) = part.as_object_mut() {
            part.remove("thoughtSignature");
        }
    }
    json!({
        "contents": [
            {"role": "user", "parts": [{"text": "a fox logo"}]},
            model_turn,
            {"role": "user", "parts": [{"text": "make it blue"}]},
        ],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
    })
}

#[tokio::test]
async fn the_signature_policy_and_the_mode_change_what_is_served() {
    let server = MockGemini::builder()
        .as_of(date("2026-12-03"))
        .corpus(corpus().clone())
        .start()
        .await;
    let first_turn = json!({
        "contents": [{"role": "user", "parts": [{"text": "a fox logo"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
    });
    let first = generate(&server, FLASH, &first_turn).await;
    assert_eq!(first.status, 200, "{}", first.text_head());
    let second = unsigned_second_turn(&first.json());
    assert_eq!(
        generate(&server, FLASH, &second).await.status,
        200,
        "by date: accepted"
    );

    let strict = json!({"signatures": "strict"});
    assert_eq!(
        admin(&server, "PATCH", "/__admin/settings", Some(&strict))
            .await
            .status,
        200
    );
    let refused = generate(&server, FLASH, &second).await;
    assert_eq!(refused.status, 400, "{}", refused.text_head());
    assert!(
        refused.text().contains("thought_signature"),
        "{}",
        refused.text_head()
    );

    // Hybrid simulates what no recording matches; replay refuses it.
    let replay = json!({"mode": "replay"});
    assert_eq!(
        admin(&server, "PATCH", "/__admin/settings", Some(&replay))
            .await
            .status,
        200
    );
    assert_eq!(generate(&server, FLASH, &first_turn).await.status, 501);
    assert_eq!(
        admin(&server, "GET", "/__admin/verify", None).await.json()["ok"],
        false
    );
    assert_eq!(
        admin(&server, "POST", "/__admin/reset", None).await.status,
        200
    );
    assert_eq!(
        generate(&server, FLASH, &first_turn).await.status,
        200,
        "hybrid again"
    );
}
