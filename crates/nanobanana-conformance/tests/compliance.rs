//! The compliance table of the README (`crates/nanobanana-conformance/README.md`): per rule id of
//! `fixtures/rules.json`, how many of the cases exercising it this project's client and fake
//! server pass. Printed with `cargo test -p nanobanana-conformance --test compliance --
//! --nocapture`; the test holds the README's table to what the runs show.

#![allow(clippy::print_stdout)]

mod common;

use common::{KEY, suite};
use nanobanana_conformance as conformance;
use nanobanana_conformance::{
    ClientRun, ServeOptions, ServerRun, Target, check_client, check_server, compliance_table,
    serve_vectors,
};
use nanobanana_mock::{MockGemini, Mode};
use serde_json::Value;

#[tokio::test]
async fn the_readme_table_is_what_the_runs_show() {
    let catalogue: Value =
        serde_json::from_slice(&std::fs::read(suite().corpus().root().join("rules.json")).unwrap())
            .unwrap();
    let rules: Vec<&str> = catalogue["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let client = check_client(suite(), &ClientRun::new()).await.unwrap();
    // The simulating fake server plays the service of each date the cases record; a case's
    // verdict is the one of the server of its date.
    let mut simulated: Option<conformance::Report> = None;
    for date in ["2026-03-01", "2026-12-03"] {
        let simulator = MockGemini::builder()
            .as_of(date.parse().expect("a date"))
            .mode(Mode::Simulate)
            .api_key(KEY)
            .start()
            .await;
        let run = ServerRun::new(Target::new(&simulator.uri(), KEY)).with_service_date(date);
        let report = check_server(suite(), &run).await.unwrap();
        match &mut simulated {
            None => simulated = Some(report),
            Some(merged) => {
                for (kept, other) in merged.results.iter_mut().zip(report.results) {
                    let other_date = matches!(&kept.verdict, conformance::Verdict::Skip(why) if why.starts_with("records the service of"));
                    if other_date {
                        *kept = other;
                    }
                }
            }
        }
    }
    let simulated = simulated.expect("two runs");
    let replayer = serve_vectors(suite(), &ServeOptions::new().with_api_key(KEY))
        .await
        .unwrap();
    let replayed = check_server(suite(), &ServerRun::new(Target::new(&replayer.uri(), KEY)))
        .await
        .unwrap();
    let table = compliance_table(
        suite(),
        &rules,
        &[
            ("client (nanobanana-transport)", &client),
            ("fake server, simulating", &simulated),
            ("fake server, replaying", &replayed),
        ],
    );
    println!("{table}");
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    assert!(
        readme.contains(&table),
        "the README's compliance table is stale; replace it with:\n{table}"
    );
}
