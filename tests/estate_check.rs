//! estate-check: one crafted estate per design rule under
//! tests/fixtures/estate-check/, each reported with the objects involved;
//! the built-in estate passes.

mod common;
use common::Db;
use std::path::PathBuf;

fn fixture(rule: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/estate-check/{rule}.toml"))
}

/// (rule, an object the report must name).
const FINDINGS: [(&str, &str); 12] = [
    ("pair-edition", "pool-dub.litwareinc.com"),
    ("pair-platform", "pool-dub.litwareinc.com"),
    ("pair-os", "pool-dub.litwareinc.com"),
    ("pair-back-end-ha", "pool-dub.litwareinc.com"),
    ("backup-pool-site", "pool-dub.litwareinc.com"),
    ("standard-edition-back-end-ha", "pool-dub.litwareinc.com"),
    ("synchronous-mirroring", "pool-dub.litwareinc.com"),
    ("sql-version", "besql-dub2"),
    ("sql-edition", "besql-dub2"),
    ("one-federation-edge-pool", "edge-dub.litwareinc.com"),
    ("one-xmpp-route", "dublin"),
    ("chat-stretched-layout", "pchat.litwareinc.com"),
];

#[test]
fn each_design_rule_is_reported_with_the_objects_involved() {
    for (rule, object) in FINDINGS {
        let db = Db::new();
        let estate = fixture(rule);
        let estate = estate.to_str().unwrap();
        db.run(&["lab", "init", "--estate", estate]).ok();
        let out = db.run(&["run", "estate-check", "--estate", estate]);
        out.code(1);
        let line = out
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{rule}:")))
            .unwrap_or_else(|| panic!("{rule}: no finding line in\n{}", out.stdout));
        assert!(
            line.contains(object),
            "{rule}: the finding does not name {object}: {line}"
        );
    }
}

#[test]
fn unsafe_persistent_chat_estates_are_refused_on_load_naming_the_servers() {
    for (rule, needle) in [
        (
            "chat-active-site",
            "pchat-dub1.litwareinc.com (dublin) is not in site \"redmond\"",
        ),
        (
            "chat-max-active",
            "lists 5 servers; at most 4 may be active",
        ),
    ] {
        let db = Db::new();
        let estate = fixture(rule);
        db.run(&["run", "estate-check", "--estate", estate.to_str().unwrap()])
            .code(2)
            .stderr_has(needle);
    }
}

#[test]
fn the_built_in_estate_passes() {
    let db = Db::new();
    db.run(&["drill", "estate-check"]).ok();
}
