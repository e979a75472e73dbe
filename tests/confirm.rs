//! Manual steps and confirmations: the run waits for a person (exit 3), and
//! the journal records who confirmed and when.

mod common;
use common::Db;

const MANUAL: &str = r#"runbook(#{ name: "dns-cutover", version: "1.0.0", summary: "s", rto_minutes: 5 });
step("before", || log("checked"));
manual("point the XMPP A record at the Dublin Edge", "In DNS, point xmpp.litwareinc.com at the Dublin Edge pool's external address.");
step("after", || log("done"));
"#;

#[test]
fn manual_step_waits_for_the_operator_without_yes() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.write("dns.rhai", MANUAL);
    db.run(&["run", rb.to_str().unwrap()])
        .code(3)
        .stdout_has("MANUAL: In DNS, point xmpp.litwareinc.com")
        .stderr_has("waits for an operator")
        .stderr_has("--yes");
}

#[test]
fn resume_with_yes_journals_who_confirmed() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.write("dns.rhai", MANUAL);
    db.run(&["run", rb.to_str().unwrap()]).code(3);
    let run_id = db.last_run();
    db.run(&["--yes", "resume", &run_id]).ok();
    let journal = db.journal(&run_id);
    let confirmed = journal
        .iter()
        .find(|r| r["type"] == "confirmed")
        .expect("confirmation journaled");
    assert_eq!(confirmed["operator"], "test-operator");
    assert!(confirmed["at"].as_str().unwrap().ends_with('Z'));
    let before_runs = journal
        .iter()
        .filter(|r| r["type"] == "step_started" && r["name"] == "before")
        .count();
    assert_eq!(before_runs, 1, "the completed step ran again");
}

#[test]
fn plan_shows_the_manual_step_without_waiting() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.write("dns.rhai", MANUAL);
    db.run(&["plan", rb.to_str().unwrap()])
        .ok()
        .stdout_has("would ask the operator to confirm");
}
