//! Clients nobody here wrote against `lab serve`: FreeTDS `tsql` (Debian
//! `freetds-bin`) and pytds (PyPI `python-tds`, in the venv `.ci/run` makes
//! under target/) log in and run catalog reads and drillbook's own rendered
//! reads, so the twin answers what real clients send, not only tiberius.
//!
//! Where a client is not installed the test says so and passes, except in
//! CI (`CI=true`), where `.ci/run` installs both and a missing one fails.

mod common;
use common::{Db, Twin, TWIN_PASSWORD};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const INSTANCE: &str = "pcsql-dub1";

fn required(tool: &str) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(!ci, "{tool} is not installed: .ci/run installs it");
    eprintln!("skipped: {tool} is not installed (.ci/run installs it)");
    false
}

/// The SQL reads a Persistent Chat failover plan sends to `INSTANCE`, as
/// rendered with their values inline (`--json plan` op events that the lab
/// answered: a plan also reads files its modeled copies never made).
fn rendered_reads(db: &Db) -> Vec<String> {
    let out = db.run(&["--json", "plan", "persistent-chat-failover"]);
    out.ok();
    let mut reads: Vec<String> = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| {
            e["event"] == "op" && e["host"] == INSTANCE && e["change"] == false && e["ok"] == true
        })
        .filter_map(|e| e["text"].as_str().map(str::to_string))
        // The plan's scratch lab copied files the real one has not: their
        // RESTORE HEADERONLY reads only answer after the run's copies.
        .filter(|t| !t.starts_with("RESTORE"))
        .collect();
    reads.dedup();
    assert!(reads.len() >= 5, "{reads:?}");
    reads
}

fn served(db: &Db) -> (Twin, u16, Vec<String>) {
    db.lab_after_disaster(&[]);
    let reads = rendered_reads(db);
    let twin = db.serve(&[], &[]);
    let served = std::fs::read_to_string(&twin.stdout).unwrap();
    let port = served
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{INSTANCE}: 127.0.0.1:")))
        .and_then(|p| p.trim().parse().ok())
        .expect("the instance's port");
    (twin, port, reads)
}

#[test]
fn freetds_tsql_logs_in_and_reads_what_drillbook_reads() {
    if Command::new("tsql").arg("-C").output().is_err() && !required("tsql (freetds-bin)") {
        return;
    }
    let db = Db::new();
    let (twin, port, reads) = served(&db);
    let mut script = String::from("SELECT @@VERSION\ngo\nSELECT name, state_desc FROM sys.databases WHERE name = N'mgc'\ngo\n");
    for r in &reads {
        script.push_str(&format!("{r}\ngo\n"));
    }
    // A restore that fails: the reason, then 3013, as SQL Server says it.
    script.push_str(
        "RESTORE LOG [mgc] FROM DISK = N'\\\\nowhere\\x\\mgc_1.trn' WITH NORECOVERY, STATS = 1\ngo\nexit\n",
    );
    let mut child = Command::new("tsql")
        .args([
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "drillbook",
            "-P",
            TWIN_PASSWORD,
        ])
        .env("TDSVER", "7.4")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let errors: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| l.contains("Msg ") && l.contains("(severity"))
        .collect();
    assert_eq!(
        errors.len(),
        2,
        "only the failed restore errs: {errors:?}\n{stderr}"
    );
    assert!(errors[0].contains("Msg 3201 "), "{errors:?}");
    assert!(errors[1].contains("Msg 3013 "), "{errors:?}");
    assert!(
        stderr.contains("RESTORE LOG is terminating abnormally."),
        "{stderr}"
    );
    assert!(stdout.contains("Microsoft SQL Server 2012"), "{stdout}");
    assert!(stdout.contains("mgc\tRESTORING"), "{stdout}");
    twin.stop();
}

fn venv_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/py/bin/python")
}

#[test]
fn pytds_logs_in_with_a_transaction_and_reads_what_drillbook_reads() {
    let python = venv_python();
    let has_pytds = Command::new(&python)
        .args(["-c", "import pytds"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pytds && !required("pytds (python-tds in target/ci-venv)") {
        return;
    }
    let db = Db::new();
    let (twin, port, reads) = served(&db);
    let file = db.write("reads.sql", &reads.join("\n"));
    let out = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/pytds_smoke.py"))
        .arg(port.to_string())
        .arg(&file)
        .env("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(r#"[["mgc", "RESTORING"]]"#), "{stdout}");
    assert_eq!(stdout.lines().count(), reads.len() + 2, "{stdout}");
    twin.stop();
}
