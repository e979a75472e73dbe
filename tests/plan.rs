//! `drillbook plan`: every change shown with its rendered command; nothing changed.

mod common;
use common::Db;

const RB: &str = "persistent-chat-failover";

#[test]
fn plan_shows_every_change_and_leaves_the_lab_byte_identical() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let before = db.lab_bytes();
    let out = db.run(&["plan", RB]);
    out.ok();
    for text in [
        "would change on pcsql-dub1: DECLARE @rc int; EXEC @rc = master.dbo.sp_delete_log_shipping_secondary_database @secondary_database = N'mgc'; SELECT @rc AS return_value;",
        "would change on pcsql-dub1: RESTORE LOG [mgc] FROM DISK = N'\\\\pcsql-dub1.litwareinc.com\\lscopy\\mgc_20260314013500.trn' WITH NORECOVERY, STATS = 1;",
        "would change on pcsql-dub1: KILL 61;",
        "would change on pcsql-dub1: RESTORE DATABASE [mgc] WITH RECOVERY;",
        "Set-CsPersistentChatState -Identity 'PersistentChatServer:pchat.litwareinc.com' -PoolState 'FailedOver'",
        "Install-CsMirrorDatabase -DatabaseType 'PersistentChat' -SqlServerFqdn 'pcsql-dub1.litwareinc.com' -SqlInstanceName 'pchat'",
        "Set-CsPersistentChatActiveServer -Identity 'PersistentChatServer:pchat.litwareinc.com' -ActiveServers @{Replace='pchat-dub1.litwareinc.com','pchat-dub2.litwareinc.com'}",
        "copy 2 files \\\\fs-dub1.litwareinc.com\\pchatlogs -> \\\\pcsql-dub1.litwareinc.com\\lscopy: mgc_20260314013500.trn, mgc_20260314014000.trn",
    ] {
        out.stdout_has(text);
    }
    assert_eq!(db.lab_bytes(), before, "plan changed the lab state");
    assert!(db.runs().is_empty(), "plan wrote a journal");
}

#[test]
fn plan_json_lists_planned_changes_as_events() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let out = db.run(&["--json", "plan", RB]);
    out.ok();
    let planned: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "op" && v["planned"] == true)
        .collect();
    assert_eq!(planned.len(), 11, "{planned:#?}");
    assert!(planned
        .iter()
        .all(|p| p["change"] == true && !p["text"].as_str().unwrap().is_empty()));
}

#[test]
fn plan_of_a_healthy_lab_stops_at_the_precondition_and_changes_nothing() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let before = db.lab_bytes();
    db.run(&["plan", RB]).code(1).stderr_has("still answers");
    assert_eq!(db.lab_bytes(), before);
}
