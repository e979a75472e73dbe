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
    let mut child = common::tsql(port)
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

/// Is pytds in the venv (else: skipped, or failed in CI)?
fn has_pytds() -> bool {
    let ok = Command::new(venv_python())
        .args(["-c", "import pytds"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok || required("pytds (python-tds in target/ci-venv)")
}

/// Run tests/clients/SCRIPT against the port with the statements (one a
/// line); its stdout, once it succeeded.
fn pytds(db: &Db, script: &str, port: u16, statements: &[String]) -> String {
    let file = db.write("reads.sql", &statements.join("\n"));
    let out = Command::new(venv_python())
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/clients")
                .join(script),
        )
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
    stdout.into_owned()
}

#[test]
fn pytds_logs_in_with_a_transaction_and_reads_what_drillbook_reads() {
    if !has_pytds() {
        return;
    }
    let db = Db::new();
    let (twin, port, reads) = served(&db);
    let stdout = pytds(&db, "pytds_smoke.py", port, &reads);
    assert!(stdout.contains(r#"[["mgc", "RESTORING"]]"#), "{stdout}");
    assert_eq!(stdout.lines().count(), reads.len() + 2, "{stdout}");
    twin.stop();
}

/// Drillbook's own catalog reads, as pytds reads their columns: an empty
/// result still has its columns (COLMETADATA, zero rows), and each column
/// has the type SQL Server's catalog gives it.
#[test]
fn pytds_sees_the_catalog_column_types_and_the_columns_of_empty_results() {
    if !has_pytds() {
        return;
    }
    let db = Db::new();
    let (twin, port, reads) = served(&db);
    // drillbook's own reads of the log-shipping secondary, redo_start_lsn
    // and the database's sessions, then two that find nothing.
    let read = |start: &str| -> String {
        reads
            .iter()
            .find(|r| r.starts_with(start))
            .unwrap_or_else(|| panic!("no read starting {start} in {reads:?}"))
            .clone()
    };
    let statements = [
        "SELECT name, state_desc FROM sys.databases WHERE name = N'nosuch';".to_string(),
        read("SELECT s.primary_server"),
        read("SELECT redo_start_lsn"),
        "SELECT percent_complete FROM sys.dm_exec_requests WHERE session_id = 999;".to_string(),
        read("SELECT spid AS session_id"),
    ];
    let stdout = pytds(&db, "pytds_columns.py", port, &statements);
    let answers: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), statements.len(), "{stdout}");
    let columns = |i: usize| -> Vec<(String, String)> {
        answers[i]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c[0].as_str().unwrap().into(), c[1].as_str().unwrap().into()))
            .collect()
    };
    let typed = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    };
    // No such database: no rows, and still its two nvarchar columns.
    assert_eq!(answers[0]["rows"], serde_json::json!([]), "{stdout}");
    assert_eq!(
        columns(0),
        typed(&[("name", "nvarchar"), ("state_desc", "nvarchar")])
    );
    // The log-shipping secondary: bit, int, datetime, nvarchar.
    let ls = columns(1);
    assert_eq!(ls.len(), 12, "{stdout}");
    for want in [
        ("primary_server", "nvarchar"),
        ("last_copied_date", "datetime"),
        ("last_restored_date", "datetime"),
        ("restore_mode", "bit"),
        ("restore_delay", "int"),
        ("restore_job", "nvarchar"),
    ] {
        assert!(
            ls.contains(&(want.0.into(), want.1.into())),
            "{want:?} in {ls:?}"
        );
    }
    assert_eq!(columns(2), typed(&[("redo_start_lsn", "numeric(25,0)")]));
    // No such request: no rows, and its real column.
    assert_eq!(answers[3]["rows"], serde_json::json!([]), "{stdout}");
    assert_eq!(columns(3), typed(&[("percent_complete", "real")]));
    assert_eq!(
        columns(4),
        typed(&[
            ("session_id", "smallint"),
            ("login_name", "nvarchar"),
            ("host_name", "nvarchar"),
            ("program_name", "nvarchar")
        ])
    );
    twin.stop();
}
