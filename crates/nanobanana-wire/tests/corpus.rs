//! Whole-corpus tests of the generated wire types: every body of every fixture decodes, re-encodes
//! to the same JSON value, names every field it has, and decodes to the snapshotted value.

use nanobanana_wire::corpus::{Case, Corpus};
use nanobanana_wire::names::camel_case;
use nanobanana_wire::routes::route;
use nanobanana_wire::{BodyType, ERROR_BODY};
use serde_json::Value;

/// One JSON body of the corpus with its type and a place name for messages.
struct Body<'a> {
    at: String,
    ty: BodyType,
    value: &'a Value,
    /// The case says this request carries an undecodable signature (rule `signature-base64`):
    /// the typed layer must refuse it.
    corrupt: bool,
}

/// Interactions whose request a case marks as breaking `signature-base64`.
fn corrupt_requests(case: &Case) -> Vec<usize> {
    let violations = case
        .expect
        .as_ref()
        .and_then(|e| e.get("violations"))
        .and_then(Value::as_array);
    violations
        .into_iter()
        .flatten()
        .filter(|v| v["rule"] == "signature-base64")
        .map(|v| v.get("interaction").and_then(Value::as_u64).unwrap_or(0) as usize)
        .collect()
}

fn corpus() -> Corpus {
    Corpus::load(Corpus::repository_dir()).expect("the fixture corpus loads")
}

/// Every JSON body of a case with the type the route table gives it. Error bodies wrapped in a
/// one-element array (WIRE.md, Errors) are yielded element by element.
fn bodies(case: &Case) -> Vec<Body<'_>> {
    let mut out = Vec::new();
    let corrupt = corrupt_requests(case);
    for (i, interaction) in case.interactions.iter().enumerate() {
        let request = &interaction.request;
        let route = route(&request.method, &request.path).unwrap_or_else(|| {
            panic!(
                "{}: no route for {} {}",
                case.id, request.method, request.path
            )
        });
        if let Some(body) = &request.body {
            let ty = route.endpoint().request().expect("route takes a body");
            out.push(Body {
                at: format!("{}#{i}/request", case.id),
                ty,
                value: body,
                corrupt: corrupt.contains(&i),
            });
        }
        let response = &interaction.response;
        if let Some(body) = &response.body {
            let at = format!("{}#{i}/response", case.id);
            if response.status >= 400 {
                match body {
                    Value::Array(items) => {
                        out.extend(items.iter().enumerate().map(|(k, v)| Body {
                            at: format!("{at}/{k}"),
                            ty: ERROR_BODY,
                            value: v,
                            corrupt: false,
                        }))
                    }
                    _ => out.push(Body {
                        at,
                        ty: ERROR_BODY,
                        value: body,
                        corrupt: false,
                    }),
                }
            } else {
                out.push(Body {
                    at,
                    ty: route.endpoint().response().expect("route answers a body"),
                    value: body,
                    corrupt: false,
                });
            }
        }
        for (j, event) in response.events.iter().flatten().enumerate() {
            let ty = if event.get("error").is_some() {
                ERROR_BODY
            } else {
                route.endpoint().response().expect("stream type")
            };
            out.push(Body {
                at: format!("{}#{i}/event/{j}", case.id),
                ty,
                value: event,
                corrupt: false,
            });
        }
    }
    out
}

/// Semantic equality of an original body and its re-encoding: field names compared in camelCase
/// (snake_case is accepted in, camelCase goes out), strings equal, or equal ignoring ASCII case
/// (case-insensitive enums are written canonically), or both base64 of the same bytes (URL-safe
/// in, standard out), or an int64 number written back as its canonical string. Returns the first
/// difference.
fn same(original: &Value, encoded: &Value, at: &str) -> Result<(), String> {
    match (original, encoded) {
        (Value::Object(a), Value::Object(b)) => {
            if a.len() != b.len() {
                return Err(format!(
                    "{at}: {} fields in, {} out: {:?} vs {:?}",
                    a.len(),
                    b.len(),
                    a.keys(),
                    b.keys()
                ));
            }
            for (key, value) in a {
                let camel = camel_case(key);
                let other = b
                    .get(camel.as_ref())
                    .or_else(|| b.get(key))
                    .ok_or_else(|| format!("{at}/{key}: dropped"))?;
                same(value, other, &format!("{at}/{key}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .try_for_each(|(i, (x, y))| same(x, y, &format!("{at}/{i}"))),
        (Value::String(a), Value::String(b)) => {
            if a == b || a.eq_ignore_ascii_case(b) || same_base64(a, b) {
                Ok(())
            } else {
                Err(format!("{at}: {a:?} became {b:?}"))
            }
        }
        (a, b) if a == b => Ok(()),
        // Proto JSON int64 fields are written as strings; python-genai sends numbers.
        (Value::Number(n), Value::String(s)) if n.to_string() == *s => Ok(()),
        (a, b) => Err(format!("{at}: {a} became {b}")),
    }
}

fn same_base64(a: &str, b: &str) -> bool {
    match (
        nanobanana_wire::Base64Bytes::from_base64(a),
        nanobanana_wire::Base64Bytes::from_base64(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[test]
fn every_fixture_body_round_trips_losslessly() {
    let corpus = corpus();
    let mut checked = 0;
    let mut refused = 0;
    let mut failures = Vec::new();
    for case in corpus.cases() {
        for body in bodies(case) {
            let bytes = serde_json::to_vec(body.value).unwrap();
            match body.ty.reencode(&bytes) {
                Err(e) if body.corrupt && e.to_string().contains("invalid base64") => refused += 1,
                Ok(_) if body.corrupt => {
                    failures.push(format!("{}: a corrupted signature decoded", body.at))
                }
                Ok(encoded) => {
                    if let Err(diff) = same(body.value, &encoded, &body.at) {
                        failures.push(diff);
                    }
                }
                Err(e) => failures.push(format!("{} as {}: {e}", body.at, body.ty.name())),
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} bodies do not round-trip:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 100, "only {checked} bodies checked");
    assert!(
        refused > 0,
        "no case exercises an undecodable signature (rule signature-base64)"
    );
}

#[test]
fn every_fixture_field_is_a_named_field() {
    // Fields the overlay marks `rejected` are in the corpus only to show the service refusing
    // them; they must stay unknown, so a typed request cannot carry them.
    let rejected: Vec<&str> = nanobanana_wire::REJECTED_FIELDS
        .iter()
        .map(|f| f.rsplit('.').next().expect("Type.field"))
        .collect();
    let corpus = corpus();
    let mut unnamed = Vec::new();
    let mut rejected_seen = Vec::new();
    for case in corpus.cases() {
        for body in bodies(case).into_iter().filter(|b| !b.corrupt) {
            let bytes = serde_json::to_vec(body.value).unwrap();
            let report = body.ty.unknown_report(&bytes).unwrap();
            for field in &report.fields {
                let name = field.rsplit('/').next().unwrap_or_default();
                if rejected.contains(&name) {
                    rejected_seen.push(name.to_owned());
                } else {
                    unnamed.push(format!("{}{field}", body.at));
                }
            }
        }
    }
    assert!(
        unnamed.is_empty(),
        "fields only in the unknown bucket (run `cargo xtask codegen`):\n{}",
        unnamed.join("\n")
    );
    for name in rejected {
        assert!(
            rejected_seen.iter().any(|s| s == name),
            "rejected field {name} never decoded as unknown"
        );
    }
}

/// Snapshots of decoded bodies (`Debug`; image bytes and signatures print as length and
/// fingerprint). Cases with many interactions are cut to their first three.
#[test]
fn decoded_fixtures_snapshot() {
    let corpus = corpus();
    for case in corpus.cases() {
        let mut text = String::new();
        for body in bodies(case).into_iter().filter(|b| {
            b.at.split('#').nth(1).is_some_and(|r| {
                r.split('/')
                    .next()
                    .and_then(|i| i.parse::<usize>().ok())
                    .is_some_and(|i| i < 3)
            })
        }) {
            let bytes = serde_json::to_vec(body.value).unwrap();
            let decoded = if body.corrupt {
                let err = body
                    .ty
                    .reencode(&bytes)
                    .expect_err("a corrupted signature is refused");
                format!("refused: {err}")
            } else {
                decode_debug(body.ty, &bytes)
            };
            text.push_str(&format!("── {} ({})\n{decoded}\n", body.at, body.ty.name()));
        }
        let name = case.id.replace('/', "__");
        insta::assert_snapshot!(name, text);
    }
}

fn decode_debug(ty: BodyType, bytes: &[u8]) -> String {
    use nanobanana_wire::*;
    fn show<T: serde::de::DeserializeOwned + std::fmt::Debug>(bytes: &[u8]) -> String {
        format!(
            "{:#?}",
            serde_json::from_slice::<T>(bytes).expect("decodes")
        )
    }
    match ty.name() {
        "GenerateContentRequest" => show::<GenerateContentRequest>(bytes),
        "GenerateContentResponse" => show::<GenerateContentResponse>(bytes),
        "ErrorResponse" => show::<ErrorResponse>(bytes),
        // Other bodies are small; their re-encoded JSON is the readable form.
        _ => serde_json::to_string_pretty(&ty.reencode(bytes).expect("decodes")).unwrap(),
    }
}
