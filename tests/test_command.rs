//! `drillbook test`: every scenario as a test, documented refusals
//! included; JUnit for CI; local runbooks by path; a local runbook may not
//! take a shipped name without `--override`.

mod common;

use common::{shipped_runbook, Db};

fn junit_cases(path: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    let text = std::fs::read_to_string(path).expect("the JUnit file was written");
    let doc = roxmltree::Document::parse(&text).expect("JUnit XML parses");
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| {
            let failure = n
                .children()
                .find(|c| c.has_tag_name("failure"))
                .map(|f| f.attribute("message").unwrap_or("").to_string());
            (
                n.attribute("classname").unwrap().to_string(),
                n.attribute("name").unwrap().to_string(),
                failure,
            )
        })
        .collect()
}

#[test]
fn every_shipped_scenario_passes_with_a_junit_file() {
    let db = Db::new();
    let junit = db.path("junit.xml");
    let out = db.run(&["test", "--junit", junit.to_str().unwrap()]);
    out.ok();
    let cases = junit_cases(&junit);
    let total = cases.len();
    assert!(total >= 16, "{total} scenarios");
    assert!(cases.iter().all(|c| c.2.is_none()), "{cases:?}");
    assert!(cases.iter().any(
        |(class, name, _)| class == "persistent-chat-failover" && name == "missing-log-backup"
    ));
    // One line per scenario, counted against the known total, and one summary line.
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains(" PASS "))
        .collect();
    assert_eq!(lines.len(), total);
    assert!(
        lines[0].starts_with(&format!("[ 1/{total}] PASS"))
            || lines[0].starts_with(&format!("[1/{total}] PASS")),
        "{}",
        lines[0]
    );
    out.stdout_has(&format!("{total} scenario(s) run in"));
    out.stdout_has(&format!("{total} passed, 0 failed, 0 not applicable"));
}

/// A local runbook whose scenario expects what does not happen.
const WRONG: &str = r#"runbook(#{
    name: "team-check",
    version: "1.0.0",
    summary: "a team's own check",
    rto_minutes: 1,
    scenarios: #{
        "default": #{
            summary: "expects a failover nobody made",
            expect: #{ "/lync/persistent_chat/pchat.litwareinc.com/state": "FailedOver" },
        },
    },
});
step("look", || sql::reachable("pcsql-red1"));
"#;

#[test]
fn a_failing_local_scenario_fails_the_test_run_with_the_reason() {
    let db = Db::new();
    let file = db.write("team/team-check.rhai", WRONG);
    let junit = db.path("junit.xml");
    let out = db.run(&[
        "test",
        file.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    out.code(1)
        .stdout_has("FAIL")
        .stdout_has("0 passed, 1 failed")
        .stderr_has("1 of 1 scenario(s) failed")
        .stderr_has("team-check · default")
        .stderr_has("expected exit 0, the drill exited 1")
        .stdout_has("/lync/persistent_chat/pchat.litwareinc.com/state: expected \"FailedOver\", found \"Normal\"");
    let cases = junit_cases(&junit);
    assert_eq!(cases.len(), 1);
    assert!(cases[0]
        .2
        .as_deref()
        .unwrap()
        .contains("expected exit 0, the drill exited 1"));
}

/// The shipped Persistent Chat failover under a local name, with a scenario
/// that documents its refusal: a gap in the log chain stops it for a decision.
fn refusal_runbook(db: &Db, expect: &str) -> String {
    let text = shipped_runbook("persistent-chat-failover")
        .replace(
            "name: \"persistent-chat-failover\"",
            "name: \"team-pc-failover\"",
        )
        .replace(
            "scenarios: #{",
            &format!(
                "scenarios: #{{\n        \"gap-refused\": #{{\n            summary: \"a log backup is missing and nobody has decided\",\n            lead_in_minutes: 44,\n            faults: [\"cms-away-from:{{chat_pool.primary_site}}\", \"primary-site-down\", \"log-backup-missing\"],\n            {expect}\n        }},"
            ),
        );
    db.write("team/team-pc-failover.rhai", &text)
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_documented_refusal_is_a_passing_test() {
    let db = Db::new();
    let file = refusal_runbook(
        &db,
        "expect_decision: \"log-chain-gap\", expect_error: \"log chain\",",
    );
    let out = db.run(&["test", &file]);
    out.ok()
        .stdout_has("PASS")
        .stdout_has("team-pc-failover · gap-refused");
}

#[test]
fn a_refusal_that_does_not_happen_fails() {
    let db = Db::new();
    let file = refusal_runbook(&db, "expect_exit: 0,");
    let out = db.run(&["test", &file]);
    out.code(1)
        .stdout_has("FAIL")
        .stdout_has("expected exit 0, the drill exited 3");
}

#[test]
fn a_bad_expectation_field_is_a_header_error() {
    let db = Db::new();
    let file = refusal_runbook(&db, "expect_exit: \"one\",");
    let out = db.run(&["check", &file]);
    out.code(2).stderr_has("`expect_exit` must be an exit code");
}

#[test]
fn a_local_runbook_drills_by_file_path() {
    let db = Db::new();
    let file = refusal_runbook(&db, "");
    let out = db.run(&["--yes", "drill", &file]);
    out.ok()
        .stdout_has("drill summary (team-pc-failover · default)");
}

#[test]
fn a_local_runbook_with_a_shipped_name_needs_override() {
    let db = Db::new();
    let file = db.write(
        "team/estate-check.rhai",
        &shipped_runbook("estate-check").replace("Check", "Our check"),
    );
    let file = file.to_str().unwrap();
    let out = db.run(&["--yes", "drill", file]);
    out.code(2)
        .stderr_has("is named `estate-check`, like a shipped runbook")
        .stderr_has("--override");
    let test = db.run(&["test", file]);
    test.code(2).stderr_has("--override");
    db.run(&["--yes", "--override", "drill", file]).ok();
}
