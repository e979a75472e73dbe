//! One change run per estate, whatever the timing: processes started at the
//! same instant on one estate never both proceed; the ones refused exit 4
//! naming the process that holds the lock, and leave its lock alone.

mod common;
use common::{finish, Db, Out};

const RB: &str = "persistent-chat-failover";

/// Each op of an apply run sleeps this long, so the winner of the lock
/// still holds it when the others ask (a testing aid of `test-hooks`).
const SLOW: (&str, &str) = ("DRILLBOOK_OP_DELAY_MS", "60");

/// Start every command at once; wait for all.
fn all_at_once(db: &Db, commands: &[Vec<&str>]) -> Vec<Out> {
    let children: Vec<_> = commands.iter().map(|a| db.spawn(a, &[SLOW])).collect();
    children.into_iter().map(finish).collect()
}

/// Exactly one succeeded; every other was refused with exit 4 naming a
/// running holder by pid.
fn exactly_one_proceeded(outs: &[Out]) {
    let winners = outs.iter().filter(|o| o.code == 0).count();
    assert_eq!(winners, 1, "{outs:#?}");
    for o in outs.iter().filter(|o| o.code != 0) {
        o.code(4)
            .stderr_has("which is running")
            .stderr_has(", pid ");
    }
}

fn lock_file(db: &Db) -> String {
    std::fs::read_to_string(db.home().join("locks").join("litware.lock")).unwrap_or_default()
}

#[test]
fn runs_of_one_runbook_started_together_let_exactly_one_proceed() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let outs = all_at_once(&db, &[vec!["run", RB], vec!["run", RB], vec!["run", RB]]);
    exactly_one_proceeded(&outs);
    // The refused runs neither journaled nor removed the winner's lock: it
    // ran to its end, then released it.
    assert_eq!(db.runs().len(), 1, "{:?}", db.runs());
    assert_eq!(lock_file(&db), "");
}

#[test]
fn resumes_of_one_run_started_together_let_exactly_one_proceed() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    db.run_env(&["run", RB], &[("DRILLBOOK_ABORT_AFTER_OPS", "3")])
        .code(-1);
    let run_id = db.last_run();
    let outs = all_at_once(&db, &[vec!["resume", &run_id], vec!["resume", &run_id]]);
    exactly_one_proceeded(&outs);
    let resumed = db
        .journal(&run_id)
        .iter()
        .filter(|r| r["type"] == "resumed")
        .count();
    assert_eq!(resumed, 1, "one resume went on");
    assert_eq!(
        db.lab()["sql"]["pcsql-dub1"]["databases"]["mgc"]["state"],
        "ONLINE"
    );
}
