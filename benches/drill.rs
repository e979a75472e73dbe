//! Benchmarks: how fast the lab simulates, how long a whole drill takes, and
//! how much memory a long-running lab needs. Run with `cargo bench`; numbers
//! are printed, never asserted (these machines are shared and noisy).
//!
//! Reproduce: `cargo bench --bench drill`.

use drillbook::estate::Estate;
use drillbook::lab::LabState;
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Peak resident memory of this process, from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let estate = Estate::builtin().expect("built-in estate");

    // A week of simulated normal operation: log backups every 5 minutes,
    // copies and restores every 15, chat traffic throughout.
    let mut runs = Vec::new();
    let mut state = LabState::from_estate(&estate);
    for _ in 0..5 {
        let mut s = LabState::from_estate(&estate);
        let t = Instant::now();
        s.advance(7 * 24 * 3600);
        runs.push(t.elapsed());
        state = s;
    }
    let json = state.to_json();
    println!(
        "lab: one simulated week       median {:?} (state file {} KiB)",
        median(runs),
        json.len() / 1024
    );

    let t = Instant::now();
    let mut n = 0;
    while t.elapsed() < Duration::from_millis(500) {
        let _: LabState = serde_json::from_str(&json).expect("state reloads");
        n += 1;
    }
    println!("lab: reload a week-old state  {:?} each", t.elapsed() / n);
    if let Some(kib) = peak_rss_kib() {
        println!("memory: peak RSS of this process {kib} KiB");
    }

    // A whole drill through the real binary: parse, lab, 33 ops, journal fsyncs.
    let home = tempfile::tempdir().expect("temp dir");
    let mut walls = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_drillbook"))
            .args([
                "--home",
                home.path().to_str().unwrap(),
                "--json",
                "drill",
                "persistent-chat-failover",
            ])
            .output()
            .expect("run drillbook");
        walls.push(t.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!(
        "drill persistent-chat-failover  median {:?} wall (5 runs)",
        median(walls)
    );
}
