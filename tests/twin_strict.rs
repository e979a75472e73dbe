//! The twin as strict as a real SQL Server: what a client meets is what it
//! would meet on the real thing (issue 9, §3 and §4).

mod common;
use common::Db;
use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Connect to the port until `ok` holds for the outcome (the twin follows
/// the lab within a moment), at most 10 s; the last outcome.
fn connect_until(
    port: u16,
    ok: impl Fn(&std::io::Result<TcpStream>) -> bool,
) -> std::io::Result<TcpStream> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let c = TcpStream::connect(("127.0.0.1", port));
        if ok(&c) || Instant::now() > until {
            return c;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn refused(c: &std::io::Result<TcpStream>) -> bool {
    c.as_ref()
        .is_err_and(|e| e.kind() == ErrorKind::ConnectionRefused)
}

#[test]
fn a_down_instance_refuses_the_tcp_connection_and_listens_again_once_up() {
    let db = Db::new();
    db.lab_at(10, &["instance-down:pcsql-red1"]);
    let twin = db.serve(&[], &[]);
    let port = twin.port("pcsql-red1");
    // Down from the start: refused, as a stopped server's port is (within a
    // moment of the twin's start, however loaded the machine).
    let first = connect_until(port, refused);
    assert!(refused(&first), "{first:?}");
    // Up again: the same port listens.
    db.run(&["lab", "fault", "instance-up:pcsql-red1"]).ok();
    let up = connect_until(port, |c| c.is_ok());
    assert!(up.is_ok(), "{up:?}");
    drop(up);
    // Down while served: refused again.
    db.run(&["lab", "fault", "instance-down:pcsql-red1"]).ok();
    let down = connect_until(port, refused);
    assert!(refused(&down), "{down:?}");
    twin.stop();
}

#[test]
fn the_live_target_finds_a_down_primary_refused_and_unreachable() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&[], &[]);
    db.run_live(&twin, &["--yes", "run", "persistent-chat-failover"], &[]);
    let journal = db.journal(&db.last_run());
    let refused = journal
        .iter()
        .filter(|r| r["type"] == "op_done" && r["error"]["kind"] == "unreachable")
        .map(|r| {
            r["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect::<Vec<_>>();
    assert!(!refused.is_empty(), "no unreachable op in {journal:?}");
    assert!(
        refused
            .iter()
            .all(|m| m.to_lowercase().contains("connection refused")),
        "{refused:?}"
    );
    twin.stop();
}

/// A lab whose LSNs start past 64 bits (`lsn-beyond-64-bits` right after
/// init), 44 minutes of traffic, then the primary data center lost.
fn lab_with_lsns_beyond_64_bits(db: &Db) {
    db.run(&["lab", "init"]).ok();
    db.run(&["lab", "fault", "lsn-beyond-64-bits"]).ok();
    db.run(&["lab", "advance", "44"]).ok();
    db.run(&["lab", "fault", "cms-away-from:redmond", "primary-site-down"])
        .ok();
}

fn dub1_mgc_lsn(db: &Db) -> u128 {
    let lab = db.lab();
    let lsn = &lab["sql"]["pcsql-dub1"]["databases"]["mgc"]["lsn"];
    lsn.as_str()
        .map(|s| s.parse().unwrap())
        .or(lsn.as_u64().map(u128::from))
        .unwrap_or_else(|| panic!("no mgc LSN on pcsql-dub1: {lsn}"))
}

#[test]
fn log_backups_with_lsns_past_64_bits_are_restored_live_as_in_the_lab() {
    let lab = Db::new();
    lab_with_lsns_beyond_64_bits(&lab);
    let before = dub1_mgc_lsn(&lab);
    assert!(before > 1u128 << 64, "{before}");
    lab.run(&["--yes", "run", "persistent-chat-failover"]).ok();

    let db = Db::new();
    lab_with_lsns_beyond_64_bits(&db);
    let twin = db.serve(&[], &[]);
    db.run_live(&twin, &["--yes", "run", "persistent-chat-failover"], &[])
        .ok();
    twin.stop();
    let journal = db.journal(&db.last_run());
    let restored: Vec<&serde_json::Value> = journal
        .iter()
        .filter(|r| {
            r["type"] == "op_started"
                && r["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("RESTORE LOG"))
        })
        .collect();
    assert!(!restored.is_empty(), "no log backup restored: {journal:?}");
    // Each log backup waiting was applied: dub1's copy moved on, as in the lab.
    let after = dub1_mgc_lsn(&db);
    assert!(after > before, "{before} -> {after}");
    assert_eq!(after, dub1_mgc_lsn(&lab));
    assert_eq!(
        common::without_clock(&db.lab()),
        common::without_clock(&lab.lab())
    );
}

/// An older SQL Agent session left the log-shipping restore job's
/// `msdb.dbo.sysjobactivity` row unfinished (the agent stopped mid-job):
/// the job-running check reads only the current agent session
/// (`msdb.dbo.syssessions`), so the failover is not blocked by it.
#[test]
fn a_stale_agent_session_row_does_not_block_the_running_job_check() {
    let db = Db::new();
    db.lab_after_disaster(&["stale-job-activity:pcsql-dub1"]);
    let twin = db.serve(&[], &[]);
    let out = db.run_live(&twin, &["--yes", "run", "persistent-chat-failover"], &[]);
    twin.stop();
    out.ok();
    assert!(
        !out.stderr.contains("is running; wait for it to finish"),
        "{}",
        out.stderr
    );
    let lab = db.lab();
    let stale = &lab["sql"]["pcsql-dub1"]["msdb"]["stale_job_activity"];
    assert!(
        stale[0]
            .as_str()
            .is_some_and(|j| j.starts_with("LSRestore_")),
        "the stale row is still there: {stale}"
    );
    assert_eq!(
        lab["sql"]["pcsql-dub1"]["databases"]["mgc"]["state"],
        "ONLINE"
    );
}

/// A login whose default database cannot be opened (here `mgc`, which a
/// failover leaves RESTORING on one side) is refused with 4064 to any client
/// that names no database, as SQL Server refuses it; drillbook names
/// `master` on every connection, so its run goes on (issue 9, §4).
#[test]
fn drillbook_connects_to_master_not_the_logins_default_database() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&["--login-default-database", "mgc"], &[]);
    // A client that names no database meets the refusal (FreeTDS `tsql`,
    // when it is here: `.ci/run` installs it).
    if std::process::Command::new("tsql")
        .arg("-C")
        .output()
        .is_ok()
    {
        let port = twin.port("pcsql-dub1");
        let out = common::tsql(port)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(said.contains("4064"), "{said}");
    }
    let out = db.run_live(&twin, &["--yes", "run", "persistent-chat-failover"], &[]);
    out.ok().stdout_has("on live (apply)");
    twin.stop();
}
