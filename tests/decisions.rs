//! A gap in the log chain stops for the operator, who aborts or accepts the loss.

mod common;
use common::Db;

const RB: &str = "persistent-chat-failover";

fn stopped_at_gap(db: &Db) -> String {
    db.lab_after_disaster(&["log-backup-missing"]);
    let out = db.run(&["run", RB]);
    out.code(3)
        .stderr_has("log chain gap on mgc")
        .stderr_has(
            "after mgc_20260314013000.trn the next log backup must contain LSN 34000000010036001",
        )
        .stderr_has("mgc_20260314014000.trn, begins at LSN 34000000010042001")
        .stderr_has("--decision <abort|accept-data-loss>");
    db.last_run()
}

#[test]
fn missing_log_backup_stops_with_exit_3_naming_the_gap() {
    let db = Db::new();
    stopped_at_gap(&db);
    let lab = db.lab();
    assert_eq!(
        lab["sql"]["pcsql-dub1"]["databases"]["mgc"]["state"], "RESTORING",
        "nothing recovered before the decision"
    );
}

#[test]
fn operator_accepts_the_loss_and_mgc_is_recovered_at_the_gap() {
    let db = Db::new();
    let run_id = stopped_at_gap(&db);
    db.run(&["resume", &run_id, "--decision", "accept-data-loss"])
        .ok();
    let lab = db.lab();
    assert_eq!(
        lab["sql"]["pcsql-dub1"]["databases"]["mgc"]["state"],
        "ONLINE"
    );
    assert_eq!(
        lab["sql"]["pcsql-dub1"]["databases"]["mgc"]["lsn"],
        34000000010036001i64
    );
    assert_eq!(
        lab["lync"]["persistent_chat"]["pchat.litwareinc.com"]["state"],
        "FailedOver"
    );
    let journal = db.journal(&run_id);
    let decision = journal
        .iter()
        .find(|r| r["type"] == "decision")
        .expect("decision journaled");
    assert_eq!(decision["choice"], "accept-data-loss");
    assert_eq!(decision["operator"], "test-operator");
}

#[test]
fn operator_aborts_and_nothing_more_is_changed() {
    let db = Db::new();
    let run_id = stopped_at_gap(&db);
    let before = db.lab_bytes();
    db.run(&["resume", &run_id, "--decision", "abort"])
        .code(1)
        .stderr_has("aborted");
    let after: serde_json::Value = serde_json::from_slice(&db.lab_bytes()).unwrap();
    assert_eq!(
        after["sql"]["pcsql-dub1"]["databases"]["mgc"]["state"],
        "RESTORING"
    );
    let before: serde_json::Value = serde_json::from_slice(&before).unwrap();
    assert_eq!(
        common::without_clock(&after)["folders"],
        common::without_clock(&before)["folders"]
    );
    db.run(&["resume", &run_id]).code(2).stderr_has("aborted");
}

#[test]
fn a_decision_that_is_not_offered_is_refused() {
    let db = Db::new();
    let run_id = stopped_at_gap(&db);
    db.run(&["resume", &run_id, "--decision", "shrug"])
        .code(2)
        .stderr_has("not one of: abort, accept-data-loss");
}

#[test]
fn drill_scenario_with_a_preanswered_decision_completes() {
    let db = Db::new();
    db.run(&["drill", RB, "--scenario", "missing-log-backup"])
        .ok()
        .stdout_has("operator decision for log-chain-gap: accept-data-loss");
}

#[test]
fn a_plan_stops_at_the_gap_and_plans_past_it_with_a_decision() {
    let db = Db::new();
    db.lab_after_disaster(&["log-backup-missing"]);
    let before = db.lab_bytes();
    db.run(&["plan", RB])
        .code(3)
        .stderr_has("the plan stops here")
        .stderr_has("--decision log-chain-gap=<abort|accept-data-loss>");
    db.run(&["plan", RB, "--decision", "log-chain-gap=accept-data-loss"])
        .ok()
        .stdout_has("would change on pcsql-dub1: RESTORE DATABASE [mgc] WITH RECOVERY;");
    assert_eq!(db.lab_bytes(), before);
}
