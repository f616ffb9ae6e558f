//! Client conformance for this project's client, [`nanobanana_transport::Client`]: every case is
//! served by a fresh fake server replaying that case only ([`serve_case`](crate::serve_case)), the client
//! makes the case's calls through its public API, and what it returns is held to the case
//! exactly ([`Level::Exact`]).
//!
//! Each interaction is mapped to the call a user of the client would make: `generate_content`,
//! `stream_generate_content`, `batches().create_with/get/cancel/delete/list`,
//! `files().upload/get/delete/list`, `models().get/list`. A resumable upload (start, then chunks)
//! is one `upload` call, and the pages of a list are one `list` stream; only the last of the
//! interactions such a call covers is observable. Requests keep the client's validation on: a
//! request the case says the service rejects may be refused before sending, with the same
//! message, and that conforms. Retries are off, so injected errors reach the caller as they are.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::StreamExt as _;
use serde::Serialize;
use serde_json::{Value, json};

use nanobanana_transport::wire::{BatchGenerateContentRequest, GenerateContentRequest};
use nanobanana_transport::{
    ApiVersion, Client, ClientConfig, Error, ErrorKind, RequestOptions, RetryPolicy,
};
use nanobanana_wire::Route;
use nanobanana_wire::corpus::Interaction;
use nanobanana_wire::routes::route;

mod interactions;

use crate::exchange::{Outgoing, prepare};
use crate::http::INVALID_KEY;
use crate::observe::{Answer, Payload, observe};
use crate::report::{CaseResult, Report, Verdict};
use crate::serve::{ServeOptions, serve_case};
use crate::suite::{Auth, Suite, SuiteCase, SuiteError};
use crate::verdict::{Expected, Level, compare};

/// Cases this client cannot make, and why: their requests are another client's spelling that
/// this client does not produce, so a replaying server cannot match them.
const NOT_THIS_CLIENT: &[(&str, &str)] = &[(
    "files/python-sdk-resumable-upload-v1",
    "python-genai's resumable upload of a small file without a display name; this client sends such a file in one raw request",
)];

/// The key the fake server requires in a client run.
const SERVED_KEY: &str = "conformance-client-key";

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct ClientRun {
    selector: Option<String>,
    required_only: bool,
}

impl ClientRun {
    /// Every case that targets clients.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only the case with this id, or the cases of an area (`generate/`).
    pub fn with_cases(mut self, selector: impl Into<String>) -> Self {
        self.selector = Some(selector.into());
        self
    }

    /// Skips optional cases.
    pub fn required_only(mut self) -> Self {
        self.required_only = true;
        self
    }
}

/// Runs the suite's client cases through [`nanobanana_transport::Client`], each against its own
/// replaying fake server on loopback.
pub async fn check_client(suite: &Suite, run: &ClientRun) -> Result<Report, SuiteError> {
    let cases: Vec<&SuiteCase> = match &run.selector {
        Some(selector) => suite.select(selector)?,
        None => suite.cases().iter().collect(),
    };
    let mut report = Report::default();
    for case in cases {
        let started = Instant::now();
        let not_this_client = NOT_THIS_CLIENT.iter().find(|(id, _)| *id == case.id());
        let skip = if !case.targets().client {
            Some("server only".to_owned())
        } else if run.required_only && !case.is_required() {
            Some("optional (--required-only)".to_owned())
        } else {
            not_this_client.map(|(_, why)| (*why).to_owned())
        };
        let (verdict, interactions) = match skip {
            Some(why) => (Verdict::Skip(why), 0),
            None => {
                let server =
                    serve_case(suite, case, &ServeOptions::new().with_api_key(SERVED_KEY)).await?;
                let (verdict, steps) = run_case(suite, case, &server.uri()).await;
                drop(server);
                (verdict, steps)
            }
        };
        report.results.push(CaseResult {
            id: case.id().to_owned(),
            required: case.is_required(),
            verdict,
            interactions,
            elapsed: started.elapsed(),
        });
    }
    Ok(report)
}

/// One call of the client and the interactions it covers.
struct Step {
    /// The interactions, in order; the last is the observable one.
    covers: Vec<usize>,
}

/// Groups interactions into client calls: a resumable upload's start and chunks, and the pages
/// of a list, are one call each.
fn steps(interactions: &[Interaction]) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    for (index, interaction) in interactions.iter().enumerate() {
        let request = &interaction.request;
        let continues = index > 0
            && (request.query.contains_key("upload_id")
                || (request.method == "GET" && request.query.contains_key("pageToken")));
        match out.last_mut() {
            Some(step) if continues => step.covers.push(index),
            _ => out.push(Step {
                covers: vec![index],
            }),
        }
    }
    out
}

/// Why a client call was not made.
enum NotMade {
    /// The case's request cannot be expressed with the client's typed API (e.g. a signature
    /// that is not base64 cannot be put in a typed part): the client cannot send it.
    Inexpressible(String),
    /// Anything else (a route the runner does not know).
    Broken(String),
}

/// Runs one case; returns its verdict and the number of interactions carried out.
async fn run_case(suite: &Suite, case: &SuiteCase, base_url: &str) -> (Verdict, usize) {
    let interactions = &case.case().interactions;
    let last = interactions.len() - 1;
    let mut answers: Vec<Answer> = Vec::new();
    let mut findings = Vec::new();
    for step in steps(interactions) {
        let first = step.covers[0];
        let observed_at = *step.covers.last().unwrap_or(&first);
        let request = match prepare(
            case.case(),
            case.auth(first),
            first,
            &answers,
            suite.corpus(),
        ) {
            Ok(r) => r,
            Err(e) => {
                findings.push(format!(
                    "interaction {first}: cannot prepare the request: {e}"
                ));
                break;
            }
        };
        let outcome = call(case, &step, &request, base_url, suite).await;
        let answer = match outcome {
            Ok(answer) => answer,
            Err(NotMade::Inexpressible(why))
                if interactions[first].response.status >= 400 && findings.is_empty() =>
            {
                // The service would refuse the request; the client cannot even make it.
                return (
                    Verdict::Skip(format!(
                        "interaction {first} cannot be made with the typed API ({why})"
                    )),
                    answers.len(),
                );
            }
            Err(NotMade::Inexpressible(problem) | NotMade::Broken(problem)) => {
                findings.push(format!("interaction {first}: {problem}"));
                break;
            }
        };
        // The interactions a call covers before its last are not observable: what they
        // answered is taken as recorded.
        for &covered in &step.covers[..step.covers.len() - 1] {
            answers.push(Answer::from_recorded(&interactions[covered].response));
        }
        let recorded = observe(&Answer::from_recorded(&interactions[observed_at].response));
        let expected = if observed_at == last {
            Expected::from_expect(case.expect(), observed_at, &recorded)
        } else {
            Expected::from_observation(&recorded)
        };
        let observation = observe(&answer);
        let status_differs = observation.status != expected.status;
        let prefix = if interactions.len() == 1 {
            String::new()
        } else {
            format!("interaction {observed_at}: ")
        };
        findings.extend(
            compare(&expected, &observation, Level::Exact)
                .into_iter()
                .map(|f| format!("{prefix}{f}")),
        );
        if let Some(count) = listed(&answer)
            && let Some(want) = recorded_items(interactions, &step.covers)
            && count != want
        {
            findings.push(format!(
                "{prefix}listed {count} items, the pages hold {want}"
            ));
        }
        answers.push(answer);
        if status_differs {
            break;
        }
    }
    let verdict = if findings.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail(findings)
    };
    (verdict, answers.len())
}

fn client_for(
    base_url: &str,
    version: ApiVersion,
    auth: Auth,
    service_date: &str,
) -> Result<Client, NotMade> {
    // The client checks requests against the service the case records (its serviceDate), so an
    // early-2026 case may use the preview ids that were served then.
    let date = if service_date.is_empty() {
        nanobanana_transport::rules::Date::today()
    } else {
        service_date
            .parse()
            .map_err(|e| NotMade::Broken(format!("serviceDate: {e}")))?
    };
    let validation = nanobanana_transport::rules::Options::at(date)
        .with_unknown_fields(nanobanana_transport::rules::UnknownFields::Warn);
    let key = match auth {
        Auth::Header | Auth::Query => SERVED_KEY,
        Auth::Invalid => INVALID_KEY,
        Auth::None => "",
    };
    Client::new(
        ClientConfig::new(key)
            .with_base_url(base_url)
            .with_api_version(version)
            .with_retry_policy(RetryPolicy::none())
            .with_validation(validation),
    )
    .map_err(|e| NotMade::Broken(format!("the client cannot be built: {e}")))
}

/// Makes the client call for a step and turns what it returns into the answer it stands for.
async fn call(
    case: &SuiteCase,
    step: &Step,
    request: &Outgoing,
    base_url: &str,
    suite: &Suite,
) -> Result<Answer, NotMade> {
    let matched = route(&request.method, &request.path);
    let Some(matched) = matched.filter(|m| api_version(m.version).is_some()) else {
        return Err(NotMade::Broken(format!(
            "{} {} is not an endpoint of the API",
            request.method, request.path
        )));
    };
    let version = api_version(matched.version).unwrap_or(ApiVersion::V1Beta);
    let client = client_for(base_url, version, request.auth, &case.case().service_date)?;
    let options = RequestOptions::new();
    let page_size = request
        .query
        .iter()
        .find(|(k, _)| k == "pageSize")
        .and_then(|(_, v)| v.parse::<u32>().ok());
    let items = recorded_items(&case.case().interactions, &step.covers).unwrap_or(usize::MAX);
    // One arm per endpoint, no catch-all: a new endpoint of the route table must say here how
    // the client calls it.
    match matched.route {
        Route::GenerateContent { model } => {
            let typed: GenerateContentRequest = decode_body(request)?;
            let result = client.generate_content_with(model, &typed, &options).await;
            Ok(match &result {
                Err(e) => served(e, version, "generateContent"),
                Ok(_) => answer_of(result),
            })
        }
        Route::StreamGenerateContent { model } => {
            let typed: GenerateContentRequest = decode_body(request)?;
            stream_call(&client, model, &typed, &options, version).await
        }
        Route::BatchCreate { model } => {
            let typed: BatchGenerateContentRequest = decode_body(request)?;
            Ok(answer_of(
                client.batches().create_with(model, &typed, &options).await,
            ))
        }
        Route::ModelGet { model } => Ok(answer_of(client.models().get(model).await)),
        Route::ModelList => {
            let list = client.models().list(page_size);
            Ok(list_answer("models", list, items).await)
        }
        Route::BatchList => {
            let list = client.batches().list(page_size);
            Ok(list_answer("operations", list, items).await)
        }
        Route::FileList => {
            let list = client.files().list(page_size);
            Ok(list_answer("files", list, items).await)
        }
        Route::BatchGet { batch } => Ok(answer_of(client.batches().get(batch).await)),
        Route::BatchDelete { batch } => Ok(empty_answer(client.batches().delete(batch).await)),
        Route::BatchCancel { batch } => Ok(empty_answer(client.batches().cancel(batch).await)),
        Route::FileGet { file } => Ok(answer_of(client.files().get(file).await)),
        Route::FileDelete { file } => Ok(empty_answer(client.files().delete(file).await)),
        Route::FileUpload => upload_call(case, step, request, &client, suite).await,
        Route::FileDownload { .. } => Err(no_call(request)),
        Route::InteractionCreate
        | Route::InteractionGet { .. }
        | Route::InteractionDelete { .. }
        | Route::InteractionCancel { .. } => {
            interactions::call(&client, matched.route, request).await
        }
    }
}

/// The API versions the client speaks.
fn api_version(version: &str) -> Option<ApiVersion> {
    match version {
        "v1beta" => Some(ApiVersion::V1Beta),
        "v1" => Some(ApiVersion::V1),
        _ => None,
    }
}

/// A `streamGenerateContent` call: its chunks, and an error after them as the last event.
async fn stream_call(
    client: &Client,
    model: &str,
    typed: &GenerateContentRequest,
    options: &RequestOptions,
    version: ApiVersion,
) -> Result<Answer, NotMade> {
    let mut stream = client.stream_generate_content_with(model, typed, options);
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => events.push(to_json(&chunk)),
            Err(e) if events.is_empty() => {
                return Ok(served(&e, version, "streamGenerateContent"));
            }
            Err(e) => {
                let answer = error_answer(&e);
                let Payload::Json(body) = answer.payload else {
                    return Ok(answer);
                };
                events.push(body);
                break;
            }
        }
    }
    Ok(Answer {
        status: 200,
        headers: BTreeMap::new(),
        payload: Payload::Events(events),
    })
}

fn no_call(request: &Outgoing) -> NotMade {
    NotMade::Broken(format!(
        "no client call for {} {}",
        request.method, request.path
    ))
}

async fn upload_call(
    case: &SuiteCase,
    step: &Step,
    request: &Outgoing,
    client: &Client,
    suite: &Suite,
) -> Result<Answer, NotMade> {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (bytes, mime, display_name) = if header("x-goog-upload-protocol") == Some("resumable") {
        // The bytes are in the chunks that follow the start request.
        let mut bytes = Vec::new();
        for &index in &step.covers[1..] {
            let chunk = prepare(case.case(), case.auth(index), index, &[], suite.corpus())
                .map_err(NotMade::Broken)?;
            bytes.extend(chunk.body.unwrap_or_default());
        }
        let display_name = request
            .json
            .as_ref()
            .and_then(|b| crate::observe::field(b, "file"))
            .and_then(|f| crate::observe::field(f, "displayName"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mime =
            header("x-goog-upload-header-content-type").unwrap_or("application/octet-stream");
        (bytes, mime.to_owned(), display_name)
    } else {
        let mime = header("content-type").unwrap_or("application/octet-stream");
        (
            request.body.clone().unwrap_or_default(),
            mime.to_owned(),
            None,
        )
    };
    let result = client
        .files()
        .upload(bytes, &mime, display_name.as_deref())
        .await;
    Ok(match result {
        Ok(file) => json_answer(json!({ "file": to_json(&file) })),
        Err(e) => error_answer(&e),
    })
}

fn decode_body<T: serde::de::DeserializeOwned>(request: &Outgoing) -> Result<T, NotMade> {
    let body = request.json.clone().ok_or_else(|| {
        NotMade::Broken(format!(
            "{} {} has no JSON body",
            request.method, request.path
        ))
    })?;
    serde_json::from_value(body).map_err(|e| {
        NotMade::Inexpressible(format!(
            "the request does not decode into the wire types: {e}"
        ))
    })
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| json!({"unencodable": e.to_string()}))
}

fn json_answer(body: Value) -> Answer {
    Answer {
        status: 200,
        headers: BTreeMap::new(),
        payload: Payload::Json(body),
    }
}

/// The answer an error of a generate-like call stands for. A refusal before sending for a model
/// the service does not serve at the client's date (`model-lifecycle`) stands for the service's
/// 404 `NOT_FOUND` at the request's API version, with the service's text; anything else is
/// [`error_answer`].
fn served(error: &Error, version: ApiVersion, method: &str) -> Answer {
    let lifecycle = match error.kind() {
        ErrorKind::Validation { report, .. } => report
            .first_error()
            .filter(|v| v.rule() == nanobanana_transport::rules::Rule::ModelLifecycle)
            .map(|_| report.model().trim_start_matches("models/").to_owned()),
        _ => None,
    };
    let Some(model) = lifecycle else {
        return error_answer(error);
    };
    let message =
        nanobanana_transport::rules::catalogue::not_found_message(&model, version.as_str(), method);
    Answer {
        status: 404,
        headers: BTreeMap::new(),
        payload: Payload::Json(
            json!({"error": {"code": 404, "status": "NOT_FOUND", "message": message}}),
        ),
    }
}

fn answer_of<T: Serialize>(result: Result<T, Error>) -> Answer {
    match result {
        Ok(value) => json_answer(to_json(&value)),
        Err(e) => error_answer(&e),
    }
}

fn empty_answer(result: Result<(), Error>) -> Answer {
    match result {
        Ok(()) => json_answer(json!({})),
        Err(e) => error_answer(&e),
    }
}

async fn list_answer<T: Serialize>(
    field: &str,
    mut list: impl futures_util::Stream<Item = Result<T, Error>> + Unpin,
    items: usize,
) -> Answer {
    let mut got = Vec::new();
    while got.len() < items {
        match list.next().await {
            Some(Ok(item)) => got.push(to_json(&item)),
            Some(Err(e)) => return error_answer(&e),
            None => break,
        }
    }
    json_answer(json!({ field: got }))
}

/// The answer a client error stands for: the service's error (HTTP status and body, or an error
/// event), or, for a request refused before sending, the 400 the service would have answered
/// with the same message. Other failures have status 0 and their text.
fn error_answer(error: &Error) -> Answer {
    let body = |code: i64, status: &str, message: &str| json!({"error": {"code": code, "status": status, "message": message}});
    let (status, payload) = match error.kind() {
        ErrorKind::Validation { report, .. } => {
            let message = report
                .first_error()
                .map(|v| v.message().to_owned())
                .unwrap_or_default();
            (400, Payload::Json(body(400, "INVALID_ARGUMENT", &message)))
        }
        ErrorKind::Api(api) => {
            let status = if api.is_mid_stream() {
                200
            } else {
                api.http_status()
            };
            (
                status,
                Payload::Json(json!({"error": {
                    "code": api.code(),
                    "status": api.status(),
                    "message": api.message(),
                }})),
            )
        }
        _ => (0, Payload::Text(error.to_string())),
    };
    Answer {
        status,
        headers: BTreeMap::new(),
        payload,
    }
}

/// The number of items a list answer holds.
fn listed(answer: &Answer) -> Option<usize> {
    let body = answer.json()?.as_object()?;
    if body.len() != 1 {
        return None;
    }
    let (name, items) = body.iter().next()?;
    matches!(name.as_str(), "models" | "operations" | "files")
        .then(|| items.as_array().map(Vec::len))
        .flatten()
}

/// The number of items the recorded pages of a list step hold.
fn recorded_items(interactions: &[Interaction], covers: &[usize]) -> Option<usize> {
    let mut total = 0;
    for &index in covers {
        let body = interactions[index].response.body.as_ref()?.as_object()?;
        let items = ["models", "operations", "files"]
            .iter()
            .find_map(|k| body.get(*k))?;
        total += items.as_array()?.len();
    }
    Some(total)
}
