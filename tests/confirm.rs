//! Manual steps and confirmations: the run waits for a person (exit 3), and
//! the journal records who confirmed and when. At a terminal, only `y` goes
//! on and only `abort` ends the run: Enter or `n` pauses it, resumable.

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

fn finished(db: &Db, run_id: &str) -> serde_json::Value {
    db.journal(run_id)
        .into_iter()
        .rev()
        .find(|r| r["type"] == "run_finished")
        .expect("run_finished journaled")
}

#[test]
fn enter_or_n_at_a_confirmation_pauses_the_run_and_resume_goes_on() {
    for answer in ["", "n"] {
        let db = Db::new();
        db.run(&["lab", "init"]).ok();
        let rb = db.write("dns.rhai", MANUAL);
        db.on_terminal(&["run", rb.to_str().unwrap()], &[answer])
            .code(3)
            .stdout_has("abort = abort the run")
            .stdout_has("paused: the operator did not confirm")
            .stdout_has("drillbook resume");
        let run_id = db.last_run();
        let end = finished(&db, &run_id);
        assert_eq!(end["status"], "waiting", "{answer:?}: {end}");
        assert!(end["message"].as_str().unwrap().contains("paused"), "{end}");
        // Asked again on resume; yes this time.
        db.on_terminal(&["resume", &run_id], &["y"]).ok();
        assert_eq!(finished(&db, &run_id)["status"], "succeeded");
    }
}

#[test]
fn only_abort_at_a_confirmation_aborts_the_run() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.write("dns.rhai", MANUAL);
    db.on_terminal(&["run", rb.to_str().unwrap()], &["abort"])
        .code(1)
        .stdout_has("the operator answered abort");
    let run_id = db.last_run();
    assert_eq!(finished(&db, &run_id)["status"], "aborted");
    db.run(&["--yes", "resume", &run_id])
        .code(2)
        .stderr_has("aborted");
}
