//! The general escape hatches for teams writing their own procedures:
//! `lync::cmdlet` (read or change by its verb) and `sql::query` (refused
//! unless read-only) / `sql::exec` (always a change).

mod common;
use common::Db;

fn ops(db: &Db) -> Vec<serde_json::Value> {
    db.journal(&db.last_run())
        .into_iter()
        .filter(|r| r["type"] == "op_started")
        .collect()
}

#[test]
fn a_get_cmdlet_is_a_read_and_a_set_cmdlet_a_change() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.local_runbook("mine",
        r#"step("read and set", || {
    let c = lync::cmdlet("fe-red1.litwareinc.com", "Get-CsBackupServiceConfiguration");
    lync::cmdlet("fe-red1.litwareinc.com", "Set-CsBackupServiceConfiguration", #{ Identity: "global", SyncInterval: "00:04:00" });
    c.SyncInterval
});"#,
    );
    db.run(&["run", &rb]).ok();
    let ops = ops(&db);
    assert_eq!(ops[0]["change"], false);
    assert_eq!(ops[1]["change"], true);
    assert_eq!(
        ops[1]["text"],
        "Set-CsBackupServiceConfiguration -Identity 'global' -SyncInterval '00:04:00'"
    );
    assert_eq!(
        db.lab()["lync"]["backup_service"]["sync_interval"],
        "00:04:00"
    );
}

#[test]
fn a_cmdlet_the_lab_does_not_simulate_says_so() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.local_runbook("odd",
        r#"step("odd", || lync::cmdlet("fe-red1.litwareinc.com", "Get-CsUser", #{ Identity: "sip:kim@litwareinc.com" }));"#,
    );
    db.run(&["run", &rb])
        .code(1)
        .stderr_has("not simulated by the lab");
}

#[test]
fn sql_query_refuses_anything_but_one_read_before_sending_it() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.local_runbook(
        "sneaky",
        r#"step("sneaky", || sql::query("besql-red1", "SELECT 1; DROP DATABASE rtcxds"));"#,
    );
    db.run(&["run", &rb])
        .code(1)
        .stderr_has("sql::query refuses this text because it holds more than one statement");
    assert!(ops(&db).is_empty(), "the statement was sent");
}

#[test]
fn sql_query_reads_and_sql_exec_is_a_change() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.local_runbook("rw",
        r#"step("read", || sql::query("pcsql-dub1", "SELECT name, state_desc FROM sys.databases WHERE name = " + sql::literal("mgc")));
step("write", || sql::exec("pcsql-red1", "ALTER DATABASE " + sql::ident("mgc") + " SET PARTNER FAILOVER;"));"#,
    );
    db.run(&["run", &rb]).ok();
    let ops = ops(&db);
    assert_eq!(
        (ops[0]["change"].clone(), ops[1]["change"].clone()),
        (false.into(), true.into())
    );
    assert_eq!(
        ops[0]["text"],
        "SELECT name, state_desc FROM sys.databases WHERE name = N'mgc'"
    );
    assert_eq!(
        db.lab()["sql"]["pcsql-red2"]["databases"]["mgc"]["mirroring"]["role"],
        "PRINCIPAL"
    );
}
