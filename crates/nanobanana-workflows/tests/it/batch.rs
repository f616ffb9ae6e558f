//! Batches (WIRE.md "Batch wire shapes"): results in submission order, each with its own
//! success or error.

use std::time::Duration;

use nanobanana_mock::{Endpoint, MockGemini};
use nanobanana_transport::wire::{
    Base64Bytes, BatchState, Content, GenerateContentRequest, GenerationConfig, ImageConfig, Part,
};
use nanobanana_transport::{Client, ClientConfig, RetryPolicy};
use nanobanana_workflows::{
    BatchBuilder, BatchJob, ClientExt, Error, ImageOptions, ItemError, Outcome, Polling,
};

use crate::setup_with;

const MODEL: &str = "gemini-3.1-flash-image";

fn fast() -> Polling {
    Polling::new()
        .with_initial_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_millis(20))
        .with_timeout(Duration::from_secs(60))
}

/// A request for item `i`: every fifth breaks a rule (refused locally), every fifth plus one
/// carries a forged signature (refused by the service: `Corrupted thought signature.`), the
/// rest are fine and name their number.
fn item(i: usize) -> GenerateContentRequest {
    let size = if i.is_multiple_of(5) { "1k" } else { "512" };
    let mut contents = Vec::new();
    if i % 5 == 1 {
        contents.push(Content::user([Part::from_text("Earlier")]));
        contents.push(Content::model([Part::from_text("Sure.")
            .with_thought_signature(Base64Bytes::new(
                b"forged signature".to_vec(),
            ))]));
    }
    contents.push(Content::user([Part::from_text(format!(
        "Banana number {i}"
    ))]));
    GenerateContentRequest::new()
        .with_contents(contents)
        .with_generation_config(
            GenerationConfig::new().with_image_config(ImageConfig::new().with_image_size(size)),
        )
}

fn check_results(results: &nanobanana_workflows::BatchResults, count: usize) {
    assert_eq!(results.state(), &BatchState::Succeeded);
    assert_eq!(results.items().len(), count);
    for (i, item) in results.items().iter().enumerate() {
        assert_eq!(item.index(), i);
        match (i % 5, item.result()) {
            (0, Err(ItemError::Refused { report })) => {
                assert_eq!(
                    report.first_error().unwrap().rule().id(),
                    "image-size-casing"
                );
            }
            (1, Err(error @ ItemError::Service { .. })) => {
                assert_eq!(
                    error.to_string(),
                    "the service answered 400 INVALID_ARGUMENT: Corrupted thought signature."
                );
            }
            (_, Ok(generation)) => {
                assert_eq!(generation.outcome(), &Outcome::Images);
                // The answer is this request's: the simulated text quotes its prompt.
                assert!(
                    generation.text().contains(&format!("number {i}\"")),
                    "item {i}: {}",
                    generation.text()
                );
                assert_eq!(generation.matches_prediction(), Some(true));
            }
            (_, other) => panic!("item {i}: {other:?}"),
        }
    }
}

/// 50 requests, mixed successes, local refusals and service errors, in submission order,
/// polled with progress until done.
#[tokio::test]
async fn fifty_requests_in_order_with_their_own_results() {
    let (server, client) = setup_with(MockGemini::builder().batch_polls(2)).await;
    let mut batch = client.batch(MODEL).display_name("fifty bananas");
    for i in 0..50 {
        batch = batch.add_request(item(i));
    }
    let preview = batch.preview();
    assert_eq!(preview.items().len(), 50);
    // The 40 valid requests at 512 on 3.1 Flash: 747 tokens each; "1k" is not in the table.
    assert_eq!(preview.known_image_tokens(), 40 * 747);
    assert_eq!(preview.unknown(), 10);
    assert_eq!(
        preview.to_string(),
        "50 requests, 29880 image tokens (10 requests of unknown cost)"
    );
    let job = batch.submit().await.unwrap();
    assert!(job.is_inline());
    assert_eq!(job.len(), 50);
    assert_eq!(job.refused(), 10);
    assert!(job.name().starts_with("batches/"));

    let mut progress = Vec::new();
    let results = job
        .wait(&fast(), |p| progress.push(p.clone()))
        .await
        .unwrap();
    check_results(&results, 50);
    assert_eq!((results.succeeded(), results.failed()), (30, 20));
    let states: Vec<&BatchState> = progress.iter().map(|p| &p.state).collect();
    assert_eq!(
        states,
        [
            &BatchState::Running,
            &BatchState::Running,
            &BatchState::Succeeded
        ]
    );
    assert_eq!(progress.last().unwrap().request_count, Some(40));
    assert_eq!(progress.last().unwrap().polls, 3);
    // One creation, three polls; the refused requests never left.
    let creates: Vec<_> = server
        .received_requests()
        .into_iter()
        .filter(|r| r.endpoint() == Some(Endpoint::BatchCreate))
        .collect();
    assert_eq!(creates.len(), 1);
    let body = creates[0].json().unwrap();
    assert_eq!(
        body["batch"]["inputConfig"]["requests"]["requests"]
            .as_array()
            .unwrap()
            .len(),
        40
    );
}

/// Large batches go as JSONL through the Files API; results come back from the result file,
/// in order.
#[tokio::test]
async fn large_batches_go_through_a_jsonl_file() {
    let (server, client) = setup_with(MockGemini::builder().batch_polls(0)).await;
    let mut batch = client.batch(MODEL).inline_limit(64);
    for i in 0..7 {
        batch = batch.add_request(item(i));
    }
    let job = batch.submit().await.unwrap();
    assert!(!job.is_inline());
    let results = job.wait(&fast(), |_| {}).await.unwrap();
    check_results(&results, 7);
    let endpoints: Vec<Endpoint> = server
        .received_requests()
        .iter()
        .filter_map(|r| r.endpoint())
        .collect();
    assert!(endpoints.contains(&Endpoint::FileUpload), "{endpoints:?}");
    assert!(endpoints.contains(&Endpoint::FileDownload), "{endpoints:?}");
}

/// A cancelled batch ends without results, and says so.
#[tokio::test]
async fn a_cancelled_batch_says_so() {
    let (_server, client) = setup_with(MockGemini::builder().batch_polls(1000)).await;
    let job = client
        .batch(MODEL)
        .add_message("A banana", &ImageOptions::new().with_image_size("512"))
        .submit()
        .await
        .unwrap();
    assert_eq!(job.progress().await.unwrap().state, BatchState::Running);
    job.cancel().await.unwrap();
    let error = job.wait(&fast(), |_| {}).await.unwrap_err();
    assert!(matches!(error, Error::Batch { .. }));
    assert_eq!(
        error.to_string(),
        format!(
            "batch {}: ended BATCH_STATE_CANCELLED without results",
            job.name()
        )
    );
}

/// Nothing to send is an error before any call; waiting gives up at the polling timeout.
#[tokio::test]
async fn empty_or_refused_batches_and_timeouts() {
    let (server, client) = setup_with(MockGemini::builder().batch_polls(1000)).await;
    let empty = BatchBuilder::new(client.clone(), MODEL).submit().await;
    assert!(
        empty
            .unwrap_err()
            .to_string()
            .contains("the batch is empty")
    );
    let refused = client
        .batch(MODEL)
        .add_request(item(0))
        .add_request(item(5))
        .submit()
        .await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .starts_with("every request of the batch was refused; the first: refused before sending: [image-size-casing]")
    );
    assert!(server.received_requests().is_empty());

    let job = client
        .batch(MODEL)
        .add_request(item(2))
        .submit()
        .await
        .unwrap();
    let error = job
        .wait(&fast().with_timeout(Duration::from_millis(30)), |_| {})
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("still BATCH_STATE_RUNNING after"),
        "{error}"
    );
}

/// `wait`'s timeout runs on tokio's clock, as its waits between polls do: on a paused test clock
/// it gives up after the timeout's worth of backoff (5 s growing by 1.5 up to 60 s: 15 polls in
/// 10 minutes, fewer if other timers move the clock on) instead of polling until the batch ends.
#[tokio::test(start_paused = true)]
async fn the_polling_timeout_runs_on_tokios_clock() {
    let server = MockGemini::builder().batch_polls(1000).start().await;
    // No request timeouts: a paused clock jumps ahead while a call waits for the server.
    let client = Client::new(
        ClientConfig::new("test-key-0123456789")
            .with_base_url(server.uri())
            .without_timeout()
            .without_connect_timeout()
            .with_retry_policy(RetryPolicy::none()),
    )
    .unwrap();
    let job = client
        .batch(MODEL)
        .add_request(item(2))
        .submit()
        .await
        .unwrap();
    let mut polls = 0;
    let error = job
        .wait(
            &Polling::new().with_timeout(Duration::from_secs(600)),
            |p| polls = p.polls,
        )
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("still BATCH_STATE_RUNNING after"),
        "{error}"
    );
    assert!((2..=15).contains(&polls), "{polls} polls");
}

/// `BatchJob::attach`: a batch picked up by name (as another process would) is waited for and
/// collected; its items keep their keys and submission positions (a request refused before
/// sending has none, so the attached job has one item fewer), and carry no prediction.
#[tokio::test]
async fn an_attached_batch_is_collected_without_predictions() {
    let (_server, client) = setup_with(MockGemini::builder().batch_polls(2)).await;
    for inline in [true, false] {
        let mut batch = client.batch(MODEL);
        batch = if inline {
            batch.always_inline()
        } else {
            batch.always_file()
        };
        for i in 0..7 {
            batch = batch.add_request(item(i));
        }
        let submitted = batch.submit().await.unwrap();
        let name = submitted.name().to_owned();
        let id = name.strip_prefix("batches/").unwrap();
        drop(submitted);

        let job = BatchJob::attach(client.clone(), id).await.unwrap();
        assert_eq!(job.name(), name);
        assert!(job.is_attached());
        assert_eq!(job.model(), MODEL);
        // Two were refused before sending: the service counts five.
        assert_eq!(job.len(), 5);
        let results = job.wait(&fast(), |_| {}).await.unwrap();
        assert_eq!(results.state(), &BatchState::Succeeded);
        let indices: Vec<usize> = results.items().iter().map(|i| i.index()).collect();
        assert_eq!(indices, [1, 2, 3, 4, 6], "inline: {inline}");
        for item in results.items() {
            assert_eq!(item.key(), Some(item.index().to_string().as_str()));
            match (item.index() % 5, item.result()) {
                (1, Err(ItemError::Service { message, .. })) => {
                    assert_eq!(message, "Corrupted thought signature.");
                }
                (_, Ok(generation)) => {
                    assert!(generation.prediction().is_none());
                    assert_eq!(generation.matches_prediction(), None);
                    assert!(generation.actual_dimensions().is_some());
                }
                (_, other) => panic!("item {}: {other:?}", item.index()),
            }
        }
    }
    let error = BatchJob::attach(client.clone(), "batches/nope")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("404") || error.to_string().contains("not"),
        "{error}"
    );
}

/// `BatchJob::list` and `status`: typed summaries, newest first, with their counts.
#[tokio::test]
async fn batches_are_listed_as_summaries() {
    let (_server, client) = setup_with(MockGemini::builder().batch_polls(1000)).await;
    assert!(BatchJob::list(&client, None).await.unwrap().is_empty());
    let mut names = Vec::new();
    for label in ["first", "second", "third"] {
        let job = client
            .batch(MODEL)
            .display_name(label)
            .add_message("A banana", &ImageOptions::new().with_image_size("512"))
            .add_message("A mango", &ImageOptions::new().with_image_size("512"))
            .submit()
            .await
            .unwrap();
        names.push(job.name().to_owned());
    }
    let all = BatchJob::list(&client, None).await.unwrap();
    assert_eq!(all.len(), 3);
    let listed: std::collections::BTreeSet<&str> = all.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(listed, names.iter().map(String::as_str).collect());
    for summary in &all {
        assert_eq!(summary.model.as_deref(), Some(MODEL));
        assert_eq!(summary.request_count, Some(2));
        assert_eq!(summary.pending, Some(2));
        assert!(summary.create_time.is_some());
        assert!(!summary.is_done());
        assert!(summary.display_name.is_some());
    }
    assert_eq!(BatchJob::list(&client, Some(2)).await.unwrap().len(), 2);

    let job = BatchJob::attach(client.clone(), &names[0]).await.unwrap();
    job.cancel().await.unwrap();
    let status = job.status().await.unwrap();
    assert_eq!(status.state, BatchState::Cancelled);
    assert!(status.is_done());
    assert_eq!(
        status.to_string(),
        format!("{} BATCH_STATE_CANCELLED: 2 requests", names[0])
    );
}

/// A batch with a webhook carries `batch.webhookConfig` (SERVICE-2026.md §7), inline or from a
/// file; a URI the service cannot use is refused before anything is sent.
#[tokio::test]
async fn webhooks_travel_with_the_batch_and_bad_uris_are_refused() {
    let (server, client) = setup_with(MockGemini::builder()).await;
    let metadata = serde_json::json!({"job": "dishes"});
    for always_file in [false, true] {
        let mut builder = client
            .batch(MODEL)
            .display_name("dishes")
            .add_message("A nano banana dish", &ImageOptions::new())
            .webhook(
                ["https://example.com/hooks/batches"],
                Some(metadata.clone()),
            );
        if always_file {
            builder = builder.always_file();
        }
        builder.submit().await.unwrap();
    }
    let creates: Vec<_> = server
        .received_requests()
        .into_iter()
        .filter(|r| r.endpoint() == Some(Endpoint::BatchCreate))
        .collect();
    assert_eq!(creates.len(), 2);
    for create in &creates {
        let body = create.json().unwrap();
        assert_eq!(
            body["batch"]["webhookConfig"],
            serde_json::json!({"uris": ["https://example.com/hooks/batches"], "userMetadata": {"job": "dishes"}})
        );
    }
    let before = server.received_requests().len();
    for uris in [vec![], vec!["ftp://example.com/x"], vec!["https://"]] {
        let error = client
            .batch(MODEL)
            .add_message("A nano banana dish", &ImageOptions::new())
            .webhook(uris.clone(), None)
            .submit()
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::InvalidInput { message } if message.contains("https://")),
            "{uris:?}: {error}"
        );
    }
    assert_eq!(server.received_requests().len(), before, "nothing was sent");
}
