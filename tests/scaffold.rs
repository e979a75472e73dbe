//! `drillbook new`: a runbook to start from that passes `check`, `plan`,
//! `drill` and `test` as written, and the commands to do so.

mod common;

use common::Db;

#[test]
fn a_new_runbook_passes_check_plan_drill_and_test_unedited() {
    let db = Db::new();
    let out = db.run(&["new", "team-pc-check"]);
    out.ok().stdout_has("wrote ./team-pc-check.rhai");
    for cmd in ["check", "plan", "--yes drill", "test"] {
        out.stdout_has(&format!("drillbook {cmd} ./team-pc-check.rhai"));
    }
    let file = "./team-pc-check.rhai";
    let text = std::fs::read_to_string(db.path("team-pc-check.rhai")).unwrap();
    assert!(text.contains("params: #{"), "a parameter");
    assert!(text.contains("step(\""), "a step");
    assert!(
        text.contains("expect: #{"),
        "a scenario with an expectation"
    );
    db.run(&["check", file])
        .ok()
        .stdout_has("1 steps, 1 parameters, 1 scenarios");
    db.run(&["plan", file]).ok();
    db.run(&["--yes", "drill", file])
        .ok()
        .stdout_has("end state: 1 of 1 expectations hold");
    db.run(&["test", file])
        .ok()
        .stdout_has("1 passed, 0 failed");
}

#[test]
fn new_from_a_shipped_runbook_copies_it_under_the_new_name() {
    let db = Db::new();
    let dir = db.path("team");
    let dir = dir.to_str().unwrap();
    db.run(&[
        "--runbooks",
        dir,
        "new",
        "our-cms-failover",
        "--from",
        "cms-failover",
    ])
    .ok();
    let text = std::fs::read_to_string(db.path("team/our-cms-failover.rhai")).unwrap();
    assert!(text.contains("name: \"our-cms-failover\""));
    assert!(text.contains("version: \"0.1.0\""));
    db.run(&["--runbooks", dir, "test", "our-cms-failover"])
        .ok()
        .stdout_has("PASS");
}

#[test]
fn new_refuses_a_shipped_name_an_odd_name_and_an_existing_file() {
    let db = Db::new();
    db.run(&["new", "pool-failover"])
        .code(2)
        .stderr_has("is a shipped runbook");
    db.run(&["new", "Team Check"])
        .code(2)
        .stderr_has("cannot name a runbook");
    db.run(&["new", "team-check"]).ok();
    db.run(&["new", "team-check"])
        .code(5)
        .stderr_has("team-check.rhai");
}
