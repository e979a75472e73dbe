//! One change run per estate, whatever the timing: processes started at the
//! same instant on one estate never both proceed; the ones refused exit 4
//! naming the process that holds the lock, and leave its lock alone. Runs,
//! resumes, drills and the lab commands that change the lab (`init`,
//! `advance`, `fault`) all take the lock before they change anything, and a
//! run that waits for an operator keeps a new run of its runbook off the
//! estate. Each race is repeated a few times in CI (about 30 s in all);
//! `scripts/concurrency` runs the long version (`DRILLBOOK_ROUNDS=N` rounds
//! of each race) and prints the figures each race prints: trials, exactly
//! one proceeded (or never overlapped), failed.

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

/// Rounds of each race: `DRILLBOOK_ROUNDS` (the long version), else 3 —
/// enough to meet both orders, few enough for CI (a round is one slowed
/// run, ~2 s).
fn rounds() -> usize {
    std::env::var("DRILLBOOK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// Run `round` (given its number) `n` times, counting the rounds
/// whose checks all held (`held`: what that means); print the figures and
/// fail naming each round that failed.
fn race(name: &str, held: &str, n: usize, round: impl Fn(usize)) {
    let mut failures = Vec::new();
    for i in 0..n {
        if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| round(i))) {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("round {i}: {why}"));
        }
    }
    println!(
        "concurrency {name}: trials {n}, {held} {}, failed {}",
        n - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn runs_of_one_runbook_started_together_let_exactly_one_proceed() {
    race("two runs", "exactly one proceeded", rounds(), |_| {
        runs_started_together()
    });
}

fn runs_started_together() {
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
    race("two resumes", "exactly one proceeded", rounds(), |_| {
        resumes_started_together()
    });
}

fn resumes_started_together() {
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

/// Wait until a run (named by its run id) holds the estate's lock.
fn until_a_run_holds_the_lock(db: &Db) {
    for _ in 0..1500 {
        if lock_file(db).contains(&format!("-{RB}\"")) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("no run took the lock within 30 s: {:?}", lock_file(db));
}

/// A slowed run of RB that holds the lock while `during` runs.
fn while_a_run_holds_the_lock(db: &Db, during: impl FnOnce()) {
    let child = db.spawn(&["run", RB], &[SLOW]);
    until_a_run_holds_the_lock(db);
    during();
    finish(child).ok();
}

#[test]
fn a_drill_meets_the_lock_of_a_running_run_before_it_stages_anything() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    while_a_run_holds_the_lock(&db, || {
        db.run(&["drill", RB])
            .code(4)
            .stderr_has("which is running")
            .stderr_has(", pid ");
        // Nothing staged: the lab the run works on was not rebuilt.
        assert!(!db.home().join("lab").join("staged.json").exists());
    });
    assert_eq!(db.runs().len(), 1, "{:?}", db.runs());
}

#[test]
fn lab_init_advance_and_fault_meet_the_lock_of_a_running_run() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    while_a_run_holds_the_lock(&db, || {
        for args in [
            vec!["lab", "fault", "edge-down:edge-dub.litwareinc.com"],
            vec!["lab", "advance", "5"],
            vec!["lab", "init"],
        ] {
            db.run(&args)
                .code(4)
                .stderr_has("which is running")
                .stderr_has(", pid ");
        }
    });
    let faults = db.lab()["faults"].to_string();
    assert!(!faults.contains("edge-down"), "{faults}");
    assert_eq!(
        lock_file(&db),
        "",
        "the refused commands left the lock alone"
    );
}

#[test]
fn a_run_waiting_for_an_operator_makes_a_new_run_of_its_runbook_refuse() {
    let db = Db::new();
    db.lab_after_disaster(&["log-backup-missing"]);
    db.run(&["run", RB]).code(3);
    let waiting = db.last_run();
    let lab = db.lab_bytes();
    db.run(&["run", RB])
        .code(4)
        .stderr_has(&format!("`drillbook resume {waiting}`"))
        .stderr_has("decision")
        .stderr_has("nothing was changed");
    assert_eq!(db.runs(), vec![waiting.clone()], "no second run journaled");
    assert_eq!(db.lab_bytes(), lab, "the refused run changed the lab");
    // The way out it names works, and then a new run is no longer refused
    // for it.
    db.run(&["resume", &waiting, "--decision", "abort"]).code(1);
    let again = db.run(&["run", RB]);
    assert_ne!(again.code, 4, "{again:#?}");
}

#[test]
fn a_run_and_a_lab_fault_started_together_never_overlap() {
    // The fault is quicker to start than a run: started at the same
    // instant it lands first, so it is also started a little later (the
    // rounds go through these delays in turn).
    const DELAYS_MS: [u64; 4] = [0, 150, 300, 600];
    let n = rounds().max(DELAYS_MS.len());
    race("run vs lab fault", "never overlapped", n, |i| {
        let delay_ms = DELAYS_MS[i % DELAYS_MS.len()];
        let db = Db::new();
        db.lab_after_disaster(&[]);
        let fault = "edge-down:edge-dub.litwareinc.com";
        let run = db.spawn(&["run", RB], &[SLOW]);
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let lab_fault = db.spawn(&["lab", "fault", fault], &[]);
        let outs = vec![finish(run), finish(lab_fault)];
        let (run, lab_fault) = (&outs[0], &outs[1]);
        assert!(run.code == 0 || lab_fault.code == 0, "{outs:#?}");
        for o in outs.iter().filter(|o| o.code != 0) {
            o.code(4)
                .stderr_has("which is running")
                .stderr_has(", pid ");
        }
        let lab = db.lab();
        let applied = lab["faults"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["fault"] == fault)
            .cloned();
        if lab_fault.code == 0 {
            // Applied, and before the run began (never under it).
            let at = applied.expect("an applied fault is in the lab")["at"].as_u64();
            if run.code == 0 {
                let start = db.journal(&db.last_run())[0]["sim_start"].as_u64();
                assert!(at <= start, "fault at {at:?}, run from {start:?}");
            }
        } else {
            assert_eq!(applied, None);
        }
        assert_eq!(lock_file(&db), "");
    });
}

#[test]
fn a_drill_and_a_run_started_together_let_exactly_one_proceed() {
    race("drill vs run", "exactly one proceeded", rounds(), |_| {
        let db = Db::new();
        db.lab_after_disaster(&[]);
        let outs = all_at_once(&db, &[vec!["run", RB], vec!["drill", RB]]);
        exactly_one_proceeded(&outs);
        assert_eq!(db.runs().len(), 1, "{:?}", db.runs());
        // A refused drill staged nothing.
        let staged = db.home().join("lab").join("staged.json").exists();
        assert_eq!(staged, outs[1].code == 0, "{outs:#?}");
    });
}
