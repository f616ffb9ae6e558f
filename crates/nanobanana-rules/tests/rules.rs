//! The rule ids of this crate are the catalogue's (`fixtures/rules.json`), and every request,
//! response and table rule of the catalogue is one this crate knows.

use std::collections::BTreeSet;

use nanobanana_rules::Rule;
use nanobanana_wire::corpus::Corpus;
use serde_json::Value;

#[test]
fn rule_ids_are_the_catalogues() {
    let path = Corpus::repository_dir().join("rules.json");
    let catalogue: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let rules = catalogue["rules"].as_array().unwrap();
    let kind = |id: &str| {
        rules
            .iter()
            .find(|r| r["id"] == id)
            .and_then(|r| r["kind"].as_str())
            .map(str::to_owned)
    };
    for rule in Rule::ALL {
        assert!(
            kind(rule.id()).is_some(),
            "{rule} is not in {}",
            path.display()
        );
        assert_eq!(Rule::from_id(rule.id()), Some(*rule));
        assert_eq!(rule.to_string(), rule.id());
    }
    let checked: BTreeSet<&str> = rules
        .iter()
        .filter(|r| matches!(r["kind"].as_str(), Some("request" | "response" | "table")))
        .filter_map(|r| r["id"].as_str())
        .collect();
    let ours: BTreeSet<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    assert_eq!(ours, checked);
}
