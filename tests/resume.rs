//! Crash and resume: for every op N, a run killed right after op N and then
//! resumed ends in the same state as an uninterrupted run, and no completed
//! step runs twice.

mod common;
use common::{without_clock, Db};
use serde_json::Value;
use std::collections::BTreeSet;

const RB: &str = "persistent-chat-failover";

fn ops_in(db: &Db, run_id: &str) -> usize {
    db.journal(run_id)
        .iter()
        .filter(|r| r["type"] == "op_done")
        .count()
}

/// Steps completed before a `resumed` record must not start again after it.
fn assert_no_completed_step_reran(records: &[Value]) {
    let mut completed = BTreeSet::new();
    for r in records {
        match r["type"].as_str().unwrap() {
            "step_completed" => {
                completed.insert(r["index"].as_u64().unwrap());
            }
            "step_started" => {
                let i = r["index"].as_u64().unwrap();
                assert!(
                    !completed.contains(&i),
                    "step {i} ran again after completing: {r}"
                );
            }
            _ => {}
        }
    }
}

#[test]
fn abort_after_every_op_then_resume_reaches_the_same_state() {
    let reference = Db::new();
    reference.lab_after_disaster(&[]);
    reference.run(&["run", RB]).ok();
    let expected = without_clock(&reference.lab());
    let total = ops_in(&reference, &reference.last_run());
    assert!(total > 20, "the run performs {total} ops");

    for n in 1..=total {
        let db = Db::new();
        db.lab_after_disaster(&[]);
        let crashed = db.run_env(
            &["run", RB],
            &[("DRILLBOOK_ABORT_AFTER_OPS", &n.to_string())],
        );
        assert_ne!(crashed.code, 0, "run did not abort after op {n}");
        assert!(
            crashed.stderr.contains("DRILLBOOK_ABORT_AFTER_OPS"),
            "op {n}: {}",
            crashed.stderr
        );
        let run_id = db.last_run();
        db.run(&["resume", &run_id]).ok();
        assert_eq!(
            without_clock(&db.lab()),
            expected,
            "end state differs after abort at op {n}"
        );
        assert_no_completed_step_reran(&db.journal(&run_id));
    }
}

#[test]
fn resume_replays_completed_steps_from_the_journal() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    db.run_env(&["run", RB], &[("DRILLBOOK_ABORT_AFTER_OPS", "12")]);
    let out = db.run(&["resume", &db.last_run()]);
    out.ok().stdout_has("done earlier; result from the journal");
}

#[test]
fn resuming_a_finished_run_is_refused() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    db.run(&["run", RB]).ok();
    db.run(&["resume", &db.last_run()])
        .code(2)
        .stderr_has("already succeeded");
}

#[test]
fn resume_refuses_a_changed_runbook_unless_allowed() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let rb = db.write("local/pc.rhai", &common::shipped_runbook(RB));
    let rb = rb.to_str().unwrap();
    db.run_env(
        &["--override", "run", rb],
        &[("DRILLBOOK_ABORT_AFTER_OPS", "8")],
    );
    let run_id = db.last_run();
    let lab_before = db.lab_bytes();
    std::fs::write(
        rb,
        common::shipped_runbook(RB).replace(
            "end connections to mgc\", #{ idempotent: true }",
            "end connections to mgc\", #{ idempotent: false }",
        ),
    )
    .unwrap();
    db.run(&["resume", &run_id])
        .code(2)
        .stderr_has("changed since run")
        .stderr_has("--allow-changed");
    assert_eq!(db.lab_bytes(), lab_before, "a refused resume performed ops");
    db.run(&["resume", &run_id, "--allow-changed"]).ok();
}

#[test]
fn torn_last_journal_line_is_tolerated_and_reported() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    db.run_env(&["run", RB], &[("DRILLBOOK_ABORT_AFTER_OPS", "5")]);
    let run_id = db.last_run();
    let path = db.home().join("runs").join(format!("{run_id}.jsonl"));
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"type\":\"op_do");
    std::fs::write(&path, text).unwrap();
    db.run(&["resume", &run_id])
        .ok()
        .stdout_has("cut short by a crash");
}

#[test]
fn in_doubt_non_idempotent_step_waits_for_the_operator() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let text = common::shipped_runbook(RB).replace(
        "step(\"end connections to mgc\", #{ idempotent: true }",
        "step(\"end connections to mgc\"",
    );
    let rb = db.write("local/pc.rhai", &text);
    let rb = rb.to_str().unwrap();
    // Find the op number of the KILL in an uninterrupted plan of the same runbook.
    let reference = Db::new();
    reference.lab_after_disaster(&[]);
    reference.run(&["--override", "run", rb]).ok();
    let records = reference.journal(&reference.last_run());
    let kill_at = records
        .iter()
        .filter(|r| r["type"] == "op_started")
        .position(|r| r["text"] == "KILL 61;")
        .unwrap()
        + 1;
    db.run_env(
        &["--override", "run", rb],
        &[("DRILLBOOK_ABORT_AFTER_OPS", &kill_at.to_string())],
    );
    let run_id = db.last_run();
    db.run(&["resume", &run_id])
        .code(3)
        .stderr_has("is in doubt")
        .stderr_has("KILL 61;")
        .stderr_has("--rerun-in-doubt");
    db.run(&["resume", &run_id, "--rerun-in-doubt"]).ok();
    assert_eq!(
        db.lab()["sql"]["pcsql-dub1"]["databases"]["mgc"]["state"],
        "ONLINE"
    );
}

#[test]
fn a_second_change_run_on_the_same_estate_is_locked_out() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    // Op 9 is the run's first change (ops 1-8 are reads): a crash after
    // it leaves something to resume.
    db.run_env(&["run", RB], &[("DRILLBOOK_ABORT_AFTER_OPS", "9")]);
    let crashed = db.journal(&db.last_run());
    assert!(crashed
        .iter()
        .any(|r| r["type"] == "op_started" && r["change"] == true));
    // The crashed run still holds the lock.
    db.run(&["run", RB])
        .code(4)
        .stderr_has("held by test-operator");
    // Taken over on request (the new run then meets the estate the crash
    // left: the step it would redo is already done there).
    let over = db.run(&["run", RB, "--take-over-lock"]);
    assert_ne!(over.code, 4, "{over:#?}");
    assert!(!over.stderr.contains("held by"), "{over:#?}");
}

/// The lock a dead run left, and how the next run of RB fares against it:
/// it takes the lock over by itself, says so, journals it, and finishes.
fn next_run_takes_the_lock_over(db: &Db, why: &str) {
    let lock = std::fs::read_to_string(db.home().join("locks").join("litware.lock")).unwrap();
    assert!(
        lock.contains("\"pid\""),
        "the dead run's name is left: {lock:?}"
    );
    let before = db.runs();
    let out = db.run(&["run", RB]);
    out.ok();
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains("took over the estate lock from test-operator"),
        "{said}"
    );
    assert!(said.contains(why), "{said}");
    let new = db.last_run();
    assert!(!before.contains(&new), "a new run was journaled");
    let noted = db.journal(&new).iter().any(|r| {
        r["type"] == "log"
            && r["message"]
                .as_str()
                .unwrap_or("")
                .contains("took over the estate lock")
    });
    assert!(noted, "the new run journals the take-over");
    assert_eq!(
        db.lab()["sql"]["pcsql-dub1"]["databases"]["mgc"]["state"],
        "ONLINE"
    );
}

#[test]
fn a_run_killed_before_its_journal_leaves_a_lock_the_next_run_takes_over() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let lab = db.lab_bytes();
    db.run_env(&["run", RB], &[("DRILLBOOK_ABORT_BEFORE_JOURNAL", "1")])
        .code(-1);
    assert_eq!(db.runs(), Vec::<String>::new(), "killed before its journal");
    assert_eq!(db.lab_bytes(), lab, "nothing was changed");
    next_run_takes_the_lock_over(&db, "it has no journal");
}

#[test]
fn a_run_killed_before_its_first_change_leaves_a_lock_the_next_run_takes_over() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    db.run_env(&["run", RB], &[("DRILLBOOK_ABORT_AFTER_OPS", "1")])
        .code(-1);
    let dead = db.last_run();
    let changes = db
        .journal(&dead)
        .iter()
        .filter(|r| r["type"] == "op_started" && r["change"] == true)
        .count();
    assert_eq!(changes, 0, "the first op of {RB} is a read");
    next_run_takes_the_lock_over(&db, "its journal shows no change sent");
}

#[test]
fn a_local_runbook_and_estate_resume_from_another_directory() {
    let db = Db::new();
    db.write("work/estate.toml", &common::builtin_estate());
    db.write("work/pc.rhai", &common::shipped_runbook(RB));
    let work = db.path("work");
    db.run_in(&work, &["lab", "init", "--estate", "estate.toml"], &[])
        .ok();
    db.run_in(&work, &["lab", "advance", "44"], &[]).ok();
    db.run_in(
        &work,
        &["lab", "fault", "cms-away-from:redmond", "primary-site-down"],
        &[],
    )
    .ok();
    db.run_in(
        &work,
        &["--override", "run", "pc.rhai", "--estate", "estate.toml"],
        &[("DRILLBOOK_ABORT_AFTER_OPS", "9")],
    );
    let elsewhere = db.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    db.run_in(&elsewhere, &["resume", &db.last_run()], &[]).ok();
    assert_eq!(
        db.lab()["lync"]["persistent_chat"]["pchat.litwareinc.com"]["state"],
        "FailedOver"
    );
}

#[test]
fn a_runbook_that_reaches_other_steps_stops_as_diverged() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let rb = db.write("local/pc.rhai", &common::shipped_runbook(RB));
    let rb = rb.to_str().unwrap();
    db.run_env(
        &["--override", "run", rb],
        &[("DRILLBOOK_ABORT_AFTER_OPS", "8")],
    );
    let run_id = db.last_run();
    std::fs::write(
        rb,
        common::shipped_runbook(RB).replace(
            "step(\"check: mgc is RESTORING on the backup instance\"",
            "step(\"check: mgc is RESTORING on the secondary\"",
        ),
    )
    .unwrap();
    db.run(&["resume", &run_id, "--allow-changed"])
        .code(1)
        .stderr_has("runbook diverged from journal at step 3")
        .stderr_has("`check: mgc is RESTORING on the backup instance`");
}

#[test]
fn resume_refuses_an_estate_changed_since_the_run_started() {
    let db = Db::new();
    let estate = db.write("estate.toml", &common::builtin_estate());
    let estate = estate.to_str().unwrap();
    db.run(&["lab", "init", "--estate", estate]).ok();
    db.run(&["lab", "advance", "44"]).ok();
    db.run(&["lab", "fault", "cms-away-from:redmond", "primary-site-down"])
        .ok();
    db.run_env(
        &["run", RB, "--estate", estate],
        &[("DRILLBOOK_ABORT_AFTER_OPS", "5")],
    );
    let run_id = db.last_run();
    std::fs::write(estate, common::builtin_estate() + "\n# edited mid-run\n").unwrap();
    db.run(&["resume", &run_id])
        .code(2)
        .stderr_has("changed since the run started")
        .stderr_has("--allow-changed");
    db.run(&["resume", &run_id, "--allow-changed"]).ok();
}

#[test]
fn resume_refuses_a_lab_rebuilt_from_another_estate() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    db.run_env(&["run", RB], &[("DRILLBOOK_ABORT_AFTER_OPS", "5")]);
    let run_id = db.last_run();
    // The lab now says it was built from another estate.
    let mut lab: Value = serde_json::from_slice(&db.lab_bytes()).unwrap();
    lab["estate"]["sha256"] = Value::from("0".repeat(64));
    std::fs::write(db.lab_path(), serde_json::to_vec(&lab).unwrap()).unwrap();
    db.run(&["resume", &run_id])
        .code(2)
        .stderr_has("built from another estate");
}

#[test]
fn a_last_line_torn_inside_a_character_is_dropped_and_one_damaged_journal_spares_the_list() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    db.run_env(&["run", RB], &[("DRILLBOOK_ABORT_AFTER_OPS", "5")]);
    let run_id = db.last_run();
    let path = db.home().join("runs").join(format!("{run_id}.jsonl"));
    let mut bytes = std::fs::read(&path).unwrap();
    // A record cut after the first byte of `§` (0xC2 0xA7).
    bytes.extend_from_slice(b"{\"type\":\"log\",\"step\":null,\"message\":\"see \xC2");
    std::fs::write(&path, &bytes).unwrap();
    // Another run's journal, damaged in the middle.
    db.write("home/runs/20000101T000000-broken.jsonl", "not json\n{}\n");
    db.run(&["journal"])
        .ok()
        .stdout_has(&run_id)
        .stdout_has("20000101T000000-broken  damaged:");
    db.run(&["journal", &run_id]).ok();
    db.run(&["resume", &run_id])
        .ok()
        .stdout_has("cut short by a crash and has been dropped");
}

/// The run's journal is the lab's write-ahead log: a change's lab event is
/// written at once but synced with the journal, not on its own. A power
/// loss can then take the lab log's tail while the journal holds the change
/// as done; resuming on that lab would carry on from a world that never
/// was, so resume refuses it (here the tail is cut as a power loss would).
#[test]
fn resume_refuses_a_lab_that_lost_changes_the_journal_holds_as_done() {
    let reference = Db::new();
    reference.lab_after_disaster(&[]);
    reference.run(&["run", RB]).ok();
    let total = ops_in(&reference, &reference.last_run());

    let db = Db::new();
    db.lab_after_disaster(&[]);
    let log = db.home().join("lab").join("state.json.log");
    let staged = std::fs::read(&log).ok();
    db.run_env(
        &["run", RB],
        &[("DRILLBOOK_ABORT_AFTER_OPS", &(total - 1).to_string())],
    );
    let run_id = db.last_run();
    let done_changes = db
        .journal(&run_id)
        .iter()
        .filter(|r| r["type"] == "op_done" && r["clock"].is_u64())
        .count();
    assert!(done_changes > 0, "the journal holds changes as done");
    // The lab log as it was before the run: every event the run appended lost.
    match &staged {
        Some(bytes) => std::fs::write(&log, bytes).unwrap(),
        None => std::fs::remove_file(&log).unwrap(),
    }
    db.run(&["resume", &run_id])
        .code(2)
        .stderr_has("the lab is behind this run's journal");
}
