//! The failure semantics and ordering rules of PROCEDURES.md §2 and §3.4,
//! as a person meets them through the runbooks.

mod common;
use common::Db;
use serde_json::Value;

const RED: &str = "pool-red.litwareinc.com";
const DUB: &str = "pool-dub.litwareinc.com";

fn change_ops(db: &Db, run: &str) -> usize {
    db.journal(run)
        .iter()
        .filter(|r| r["type"] == "op_started" && r["change"] == true)
        .count()
}

fn last_run_of(db: &Db, rb: &str) -> String {
    db.runs()
        .into_iter()
        .rfind(|r| r.contains(&format!("-{rb}")))
        .expect("a run")
}

#[test]
fn failing_over_the_pool_that_serves_failed_over_users_is_refused_until_failback() {
    let db = Db::new();
    // Redmond failed over to Dublin and is back, not yet failed back.
    db.run(&["--yes", "drill", "pool-failback", "--prepare"])
        .ok();
    let out = db.run(&[
        "--yes",
        "run",
        "pool-failover",
        "-p",
        &format!("pool={DUB}"),
        "-p",
        "disaster_mode=false",
    ]);
    out.code(1)
        .stderr_has("the failover order rule (fail back before failing over)")
        .stderr_has(&format!("First fail back {RED}"))
        .stderr_has(&format!("then fail over {DUB}"));
    assert_eq!(
        change_ops(&db, &last_run_of(&db, "pool-failover")),
        0,
        "a change was sent before the refusal"
    );

    db.run(&[
        "--yes",
        "run",
        "pool-failback",
        "-p",
        &format!("pool={RED}"),
    ])
    .ok();
    db.run(&[
        "--yes",
        "run",
        "pool-failover",
        "-p",
        &format!("pool={DUB}"),
        "-p",
        "disaster_mode=false",
    ])
    .ok();
    let lab = db.lab();
    assert_eq!(lab["lync"]["pools"][RED]["users"]["served_by"], RED);
    assert_eq!(lab["lync"]["pools"][DUB]["users"]["served_by"], RED);
    assert_eq!(lab["lync"]["pools"][DUB]["state"], "FailedOver");
}

#[test]
fn with_a_witness_sql_fails_over_by_itself_and_the_runbook_has_nothing_to_do() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    db.run(&["lab", "advance", "10"]).ok();
    db.run(&["lab", "fault", "instance-down:besql-red1"]).ok();
    let lab = db.lab();
    assert_eq!(
        lab["sql"]["besql-red2"]["databases"]["rtcxds"]["mirroring"]["role"],
        "PRINCIPAL"
    );
    assert_eq!(lab["lync"]["pools"][RED]["back_end"]["available"], true);
    let out = db.run(&[
        "--yes",
        "run",
        "be-mirror-failover",
        "-p",
        &format!("pool={RED}"),
    ]);
    out.ok().stdout_has("nothing to do");
    assert_eq!(change_ops(&db, &db.last_run()), 0);
}

#[test]
fn without_a_witness_users_reach_resiliency_mode_at_30_minutes_and_the_runbook_restores_service() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    db.run(&["lab", "advance", "10"]).ok();
    db.run(&["lab", "fault", "instance-down:besql-dub1"]).ok();
    let users = |db: &Db| -> Value { db.lab()["lync"]["pools"][DUB]["users"].clone() };
    assert_eq!(
        db.lab()["lync"]["pools"][DUB]["back_end"]["available"],
        false
    );
    db.run(&["lab", "advance", "29"]).ok();
    assert_eq!(
        users(&db)["resiliency_mode"],
        false,
        "users work normally for about 30 minutes"
    );
    db.run(&["lab", "advance", "1"]).ok();
    assert_eq!(
        users(&db)["resiliency_mode"],
        true,
        "at 30 simulated minutes users are in resiliency mode"
    );
    db.run(&[
        "--yes",
        "run",
        "be-mirror-failover",
        "-p",
        &format!("pool={DUB}"),
    ])
    .ok();
    let lab = db.lab();
    assert_eq!(lab["lync"]["pools"][DUB]["back_end"]["available"], true);
    assert_eq!(lab["lync"]["pools"][DUB]["users"]["resiliency_mode"], false);
    assert_eq!(
        lab["sql"]["besql-dub2"]["databases"]["rtcxds"]["mirroring"]["role"],
        "PRINCIPAL"
    );
}

#[test]
fn disaster_mode_pool_failover_moves_users_cms_and_edge_next_hop() {
    let db = Db::new();
    let out = db.run(&["--json", "--yes", "drill", "pool-failover"]);
    out.ok();
    let lab = db.lab();
    assert_eq!(lab["lync"]["pools"][RED]["users"]["served_by"], DUB);
    assert_eq!(lab["lync"]["cms"]["active_pool"], DUB);
    assert_eq!(
        lab["lync"]["edge_pools"]["edge-red.litwareinc.com"]["next_hop"],
        DUB
    );
    // The Backup Service's lag decides what a disaster-mode failover loses.
    let f = &lab["measurements"]["pool_failovers"][0];
    assert_eq!(f["pool"], RED);
    assert_eq!(f["disaster_mode"], true);
    assert!(f["changes_lost"].is_u64(), "{f}");
    // The CMS failed over before the pool.
    let journal = db.journal(&last_run_of(&db, "pool-failover"));
    let texts: Vec<&str> = journal
        .iter()
        .filter(|r| r["type"] == "op_started" && r["change"] == true)
        .filter_map(|r| r["text"].as_str())
        .collect();
    let cms = texts
        .iter()
        .position(|t| t.starts_with("Invoke-CsManagementServerFailover"))
        .expect("CMS failover");
    let pool = texts
        .iter()
        .position(|t| t.starts_with("Invoke-CsPoolFailOver"))
        .expect("pool failover");
    assert!(cms < pool, "{texts:?}");
}

#[test]
fn the_edge_next_hop_in_another_site_is_repointed_with_set_csedgeserver() {
    let db = Db::new();
    db.run(&["--yes", "drill", "pool-failover"]).ok();
    let journal = db.journal(&last_run_of(&db, "pool-failover"));
    assert!(journal.iter().any(|r| r["type"] == "op_started"
        && r["text"] == "Set-CsEdgeServer -Identity 'EdgeServer:edge-red.litwareinc.com' -Registrar 'Registrar:pool-dub.litwareinc.com'"));
}
