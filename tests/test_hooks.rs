//! The testing aids (`DRILLBOOK_ABORT_AFTER_OPS`,
//! `DRILLBOOK_ABORT_BEFORE_JOURNAL`, `DRILLBOOK_LAB_STALL`) exist only in a
//! build with `--features test-hooks`: the release binary an operator runs
//! ignores them. The test builds that binary itself,
//! as an operator would, into its own target directory (so it never waits
//! on the lock of the build that runs the tests), and checks that none of
//! them does anything there.

mod common;

use common::Db;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `cargo build --release --bin drillbook` without features, built once.
fn release_without_hooks() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target_dir = root.join("target").join("no-hooks");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--locked", "--release", "--bin", "drillbook"])
            .arg("--target-dir")
            .arg(&target_dir)
            .current_dir(root)
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build --release failed: {status}");
        target_dir
            .join("release")
            .join(format!("drillbook{}", std::env::consts::EXE_SUFFIX))
    })
}

#[test]
fn abort_after_ops_does_nothing_without_the_feature() {
    let bin = release_without_hooks();
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let out = db.run_bin(
        bin,
        db.dir.path(),
        &["--yes", "run", "persistent-chat-failover"],
        &[
            ("DRILLBOOK_ABORT_AFTER_OPS", "1"),
            ("DRILLBOOK_ABORT_BEFORE_JOURNAL", "1"),
        ],
        "",
    );
    out.ok();
    assert_eq!(
        db.lab()["lync"]["persistent_chat"]["pchat.litwareinc.com"]["state"],
        "FailedOver"
    );
}

#[test]
fn lab_stall_does_not_stall_the_stand_in_without_the_feature() {
    let bin = release_without_hooks();
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let script = drillbook::wire::script(
        "Get-CsService -EdgeServer",
        &drillbook::wire::Session::Local,
    );
    let stall = [("DRILLBOOK_LAB_STALL", "Get-CsService:60")];
    let args = ["lab", "pwsh", "--host", "fe-red1.litwareinc.com"];
    let started = Instant::now();
    let out = db.run_bin(bin, db.dir.path(), &args, &stall, &script);
    out.ok();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the stand-in stalled: {:?}",
        started.elapsed()
    );
    assert!(out.stdout.contains("EdgeServer:"), "{}", out.stdout);
    // A build with the hook: the same variable stalls it.
    if !cfg!(feature = "test-hooks") {
        return;
    }
    let short = [("DRILLBOOK_LAB_STALL", "Get-CsService:1.5")];
    let test_build = Path::new(env!("CARGO_BIN_EXE_drillbook"));
    let started = Instant::now();
    db.run_bin(test_build, db.dir.path(), &args, &short, &script)
        .ok();
    assert!(started.elapsed() >= Duration::from_millis(1500));
}
