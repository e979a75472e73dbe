//! Fail closed: with the primary data center up, a Persistent Chat failover
//! against the twin must never take a server it could not check for a lost
//! one. One test per connection outcome (TLS mismatch, wrong password, a
//! garbage server, a refused port), each on the primary's `[sql.*]` entry:
//! no change op is sent and mgc stays ONLINE on one side only.

mod common;
use common::{Db, Out, Twin, TWIN_PASSWORD};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;

const RB: &str = "persistent-chat-failover";
const PRIMARY: &str = "pcsql-red1";
const MIRROR: &str = "pcsql-red2";

/// 44 minutes of normal traffic, no fault: Redmond is up.
fn healthy_lab_served(db: &Db) -> Twin {
    healthy_lab_served_with(db, &[])
}

/// The same, `lab serve` given `args`.
fn healthy_lab_served_with(db: &Db, args: &[&str]) -> Twin {
    db.run(&["lab", "init"]).ok();
    db.run(&["lab", "advance", "44"]).ok();
    db.serve(args, &[])
}

/// The served estate with `key = value` set in the `[sql.ID]` tables named.
fn edit(twin: &Twin, ids: &[&str], key: &str, value: &str) {
    let text = std::fs::read_to_string(&twin.estate).unwrap();
    let mut out = String::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(id) = line.strip_prefix("[sql.").and_then(|l| l.strip_suffix(']')) {
            current = id.to_string();
        } else if line.starts_with('[') {
            current.clear();
        }
        if ids.contains(&current.as_str()) && line.starts_with(&format!("{key} =")) {
            out.push_str(&format!("{key} = {value}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert_ne!(out, text, "no {key} in {ids:?}");
    // Written in place: the twin stops when its estate file disappears.
    std::fs::write(&twin.estate, out).unwrap();
}

fn mgc_online(db: &Db) -> Vec<String> {
    let lab = db.lab();
    lab["sql"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v["databases"]["mgc"]["state"] == "ONLINE")
        .map(|(k, _)| k.clone())
        .collect()
}

fn changes_sent(journal: &[Value]) -> Vec<String> {
    journal
        .iter()
        .filter(|r| r["type"] == "op_started" && r["change"] == true)
        .map(|r| r["text"].to_string())
        .collect()
}

/// The run stopped before any change, and Redmond still holds the only ONLINE mgc.
fn nothing_changed(db: &Db) -> Vec<Value> {
    let journal = db.journal(&db.last_run());
    assert_eq!(changes_sent(&journal), Vec::<String>::new());
    assert_eq!(mgc_online(db), vec![PRIMARY.to_string()]);
    journal
}

fn run(db: &Db, twin: &Twin, env: &[(&str, &str)]) -> Out {
    db.run_live(twin, &["--yes", "run", RB], env)
}

#[test]
fn tls_required_on_a_server_without_tls_stops_for_the_operator_not_a_split_brain() {
    let db = Db::new();
    let twin = healthy_lab_served(&db);
    edit(&twin, &[PRIMARY, MIRROR], "encryption", "\"required\"");
    let out = run(&db, &twin, &[]);
    out.code(3)
        .stderr_has("cannot confirm that pcsql-red1 is lost")
        .stderr_has("TLS failed")
        .stderr_has("[sql.pcsql-red1] asks for encryption = \"required\"")
        .stderr_has("--decision <abort|treat-as-lost>");
    let journal = nothing_changed(&db);
    let failed = journal
        .iter()
        .find(|r| r["type"] == "op_done" && r["error"]["kind"] == "unchecked")
        .expect("an unchecked connection journaled");
    assert_eq!(failed["error"]["failed"], "tls", "{failed}");

    // Abort is the operator's and is journaled with who.
    let run_id = db.last_run();
    let out = db.run_env(
        &[
            "resume",
            &run_id,
            "--decision",
            "lost-unconfirmed:pcsql-red1=abort",
        ],
        &[("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)],
    );
    assert_ne!(out.code, 0, "{}", out.stderr);
    let journal = nothing_changed(&db);
    let decision = journal
        .iter()
        .find(|r| r["type"] == "decision")
        .expect("decision journaled");
    assert_eq!(decision["choice"], "abort");
    assert_eq!(decision["operator"], "test-operator");
    twin.stop();
}

/// SQL Server 2008 R2/2012 without the TLS 1.2 update: TLS 1.0 only.
#[test]
fn a_primary_that_speaks_only_tls_1_0_names_the_mismatch_and_the_two_ways_out() {
    let db = Db::new();
    let twin = healthy_lab_served_with(&db, &["--tls10-only"]);
    let out = run(&db, &twin, &[]);
    out.code(3)
        .stderr_has("cannot confirm that pcsql-red1 is lost")
        .stderr_has("no TLS protocol version or cipher suite in common with the server")
        .stderr_has("install the TLS 1.2 update for SQL Server")
        .stderr_has("--no-default-features --features native-tls");
    nothing_changed(&db);
    twin.stop();
}

#[test]
fn only_an_explicit_decision_treats_an_unchecked_primary_as_lost() {
    let db = Db::new();
    let twin = healthy_lab_served(&db);
    edit(&twin, &[PRIMARY, MIRROR], "encryption", "\"required\"");
    run(&db, &twin, &[]).code(3);
    nothing_changed(&db);
    // The operator knows Redmond is down (it is not: the twin shows what follows).
    let out = db.run_env(
        &[
            "--yes",
            "resume",
            &db.last_run(),
            "--decision",
            "lost-unconfirmed:pcsql-red1=treat-as-lost",
            "--decision",
            "lost-unconfirmed:pcsql-red2=treat-as-lost",
        ],
        &[("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)],
    );
    out.ok()
        .stdout_has("the operator treats pcsql-red1 as lost although it could not be checked");
    let journal = db.journal(&db.last_run());
    let decisions: Vec<&Value> = journal.iter().filter(|r| r["type"] == "decision").collect();
    assert_eq!(decisions.len(), 2, "{decisions:?}");
    assert!(decisions.iter().all(|d| d["operator"] == "test-operator"));
    twin.stop();
}

#[test]
fn a_wrong_password_on_the_primary_is_not_a_lost_primary() {
    let db = Db::new();
    let twin = healthy_lab_served(&db);
    edit(&twin, &[PRIMARY], "password_env", "\"PRIMARY_PASSWORD\"");
    let out = run(&db, &twin, &[("PRIMARY_PASSWORD", "not-the-password")]);
    out.code(3)
        .stderr_has("the login failed: error 18456")
        .stderr_has("check login and its password");
    assert!(!out.stderr.contains("not-the-password"));
    nothing_changed(&db);
    twin.stop();
}

/// A TCP server that answers anything with an HTTP error, as a web server
/// on the wrong port would.
fn garbage_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    port
}

#[test]
fn a_garbage_server_on_the_primary_port_is_not_a_lost_primary() {
    let db = Db::new();
    let twin = healthy_lab_served(&db);
    let port = garbage_server();
    edit(&twin, &[PRIMARY], "port", &port.to_string());
    let out = run(&db, &twin, &[]);
    out.code(3)
        .stderr_has("cannot confirm that pcsql-red1 is lost")
        .stderr_has("the protocol failed")
        .stderr_has("check that host and port in [sql.pcsql-red1]");
    nothing_changed(&db);
    twin.stop();
}

#[test]
fn a_refused_port_is_unreachable_and_the_live_mirror_still_stops_the_run() {
    let db = Db::new();
    let twin = healthy_lab_served(&db);
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    edit(&twin, &[PRIMARY], "port", &port.to_string());
    let out = run(&db, &twin, &[]);
    out.code(1)
        .stderr_has("step `check: the primary mgc and its mirror are unreachable` failed")
        .stderr_has("still answers: this procedure is for a lost primary data center");
    assert!(
        !out.stderr.contains("pcsql-red1.litwareinc.com"),
        "{}",
        out.stderr
    );
    let journal = nothing_changed(&db);
    let refused = journal
        .iter()
        .find(|r| {
            r["type"] == "op_done" && r["op"].is_null() && r["error"]["kind"] == "unreachable"
        })
        .expect("the refused primary is unreachable");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot connect to 127.0.0.1:"),
        "{refused}"
    );
    twin.stop();
}

#[test]
fn estate_check_reports_a_back_end_it_could_not_check_instead_of_passing_it() {
    let db = Db::new();
    let twin = healthy_lab_served(&db);
    edit(&twin, &["besql-red1"], "encryption", "\"required\"");
    let out = db.run_live(&twin, &["--yes", "run", "estate-check"], &[]);
    out.code(1)
        .stderr_has("mirroring safety could not be checked on 1 back end(s)")
        .stderr_has("TLS failed");
    twin.stop();
}
