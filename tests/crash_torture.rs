//! Crash torture (issue 11): the real process killed with SIGKILL at a
//! random moment of a run — on the lab and live against the twin — then
//! resumed until it finishes, must end where an uninterrupted run ends, with
//! no panic anywhere. Each op is slowed a little (`DRILLBOOK_OP_DELAY_MS`,
//! after the op is performed and before its answer is journaled), so kills
//! land inside steps, between a change and its record, and in journal writes.
//!
//! CI runs a fixed list of seeds (`LAB_SEEDS`, `LIVE_SEEDS`); the moment of
//! each kill comes from its seed and the measured length of a reference run,
//! so a failure names the seed that reproduces it. `scripts/crash-torture`
//! runs the long version (`DRILLBOOK_TORTURE_TRIALS=N`: seeds 1..=N on the
//! lab and 1..=N/4 live) and prints the figures this test prints.

mod common;
use common::{without_clock, Db, Rng, TWIN_PASSWORD};
use serde_json::Value;
use std::time::{Duration, Instant};

const RB: &str = "persistent-chat-failover";
const DELAY_MS: &str = "15";
const LAB_SEEDS: &[u64] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const LIVE_SEEDS: &[u64] = &[1, 2, 3, 4, 5, 6];

/// When seed `seed` kills the run: up to 10 % past the reference run's
/// length, so some kills land after its end.
fn moment(seed: u64, span: Duration) -> Duration {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    rng.next();
    let ms = span.as_millis() as usize * 11 / 10 + 1;
    Duration::from_millis(rng.below(ms) as u64)
}

enum Outcome {
    Passed,
    Failed(String),
    Panicked(String),
}

struct Setup {
    live: bool,
    expected: Value,
    span: Duration,
}

fn finished(db: &Db, run: &str) -> bool {
    db.journal(run)
        .iter()
        .rev()
        .find(|r| r["type"] == "run_finished")
        .is_some_and(|r| r["status"] == "succeeded")
}

fn run_args(twin: Option<&common::Twin>) -> Vec<String> {
    let mut args: Vec<String> = ["--yes", "run", RB].map(String::from).to_vec();
    if let Some(t) = twin {
        args.extend(["--target", "live", "--estate", t.estate_arg()].map(String::from));
    }
    args
}

fn env(delay: bool) -> Vec<(&'static str, &'static str)> {
    let mut e = vec![("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)];
    if delay {
        e.push(("DRILLBOOK_OP_DELAY_MS", DELAY_MS));
    }
    e
}

/// The uninterrupted run: its end state and how long it took.
fn reference(live: bool) -> Setup {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = live.then(|| db.serve(&[], &[]));
    let args = run_args(twin.as_ref());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    db.run_env(&args, &env(true)).ok();
    let span = started.elapsed();
    Setup {
        live,
        expected: without_clock(&db.lab()),
        span,
    }
}

fn trial(setup: &Setup, seed: u64) -> Outcome {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = setup.live.then(|| db.serve(&[], &[]));
    let args = run_args(twin.as_ref());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = db.spawn(&argv, &env(true));
    std::thread::sleep(moment(seed, setup.span));
    let mut child = child;
    let _ = child.kill(); // SIGKILL
    let killed = common::finish(child);
    if killed.stderr.contains("panicked") {
        return Outcome::Panicked(killed.stderr);
    }
    let mut rerun = false;
    for _ in 0..5 {
        let out = match db.runs().pop() {
            // Killed before its journal: nothing to resume; the next run
            // takes the dead run's lock over by itself.
            None => db.run_env(&argv, &env(false)),
            Some(run) if finished(&db, &run) => break,
            Some(run) => {
                let mut a = vec!["--yes", "resume", &run];
                if rerun {
                    a.push("--rerun-in-doubt");
                }
                let a: Vec<&str> = a.iter().map(|s| &**s).collect();
                db.run_env(&a, &env(false))
            }
        };
        if out.stderr.contains("panicked") {
            return Outcome::Panicked(out.stderr);
        }
        match out.code {
            0 => {}
            // In doubt: the operator checked the estate and says run it again.
            3 if out.stderr.contains("--rerun-in-doubt") => rerun = true,
            code => return Outcome::Failed(format!("exit {code}: {}", out.stderr)),
        }
    }
    let Some(run) = db.runs().pop() else {
        return Outcome::Failed("no run was journaled".into());
    };
    if !finished(&db, &run) {
        return Outcome::Failed(format!("run {run} did not finish after five resumes"));
    }
    let got = without_clock(&db.lab());
    if got != setup.expected {
        let diff = common::differences(&setup.expected, &got);
        return Outcome::Failed(format!("end state differs: {diff:?}"));
    }
    Outcome::Passed
}

fn seeds(ci: &[u64], divisor: u64) -> Vec<u64> {
    match std::env::var("DRILLBOOK_TORTURE_TRIALS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(n) => (1..=(n / divisor).max(1)).collect(),
        None => ci.to_vec(),
    }
}

#[test]
fn sigkill_at_random_moments_then_resume_reaches_the_uninterrupted_end_state() {
    let started = Instant::now();
    let (mut trials, mut passed, mut failed, mut panics) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for (live, seeds) in [(false, seeds(LAB_SEEDS, 1)), (true, seeds(LIVE_SEEDS, 4))] {
        let setup = reference(live);
        for seed in seeds {
            trials += 1;
            match trial(&setup, seed) {
                Outcome::Passed => passed += 1,
                Outcome::Failed(why) => {
                    failed += 1;
                    failures.push(format!(
                        "{} seed {seed}: {why}",
                        if live { "live" } else { "lab" }
                    ));
                }
                Outcome::Panicked(why) => {
                    panics += 1;
                    failures.push(format!(
                        "{} seed {seed}: panic: {why}",
                        if live { "live" } else { "lab" }
                    ));
                }
            }
        }
    }
    println!(
        "crash torture: trials {trials}, passed {passed}, failed {failed}, panics {panics} ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
