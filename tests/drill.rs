//! `drillbook drill`: the default scenario reaches the documented end state,
//! is measured, and is deterministic.

mod common;
use common::Db;
use serde_json::json;

const RB: &str = "persistent-chat-failover";

#[test]
fn drill_fails_persistent_chat_over_to_the_backup_site() {
    let db = Db::new();
    let out = db.run(&["drill", RB]);
    out.ok()
        .stdout_has("RTO")
        .stdout_has("RPO")
        .stdout_has("transactions")
        .stdout_has("minutes lost");
    let lab = db.lab();
    let mgc = &lab["sql"]["pcsql-dub1"]["databases"]["mgc"];
    assert_eq!(mgc["state"], "ONLINE");
    assert_eq!(mgc["mirroring"]["role"], "PRINCIPAL");
    assert_eq!(
        mgc["mirroring"]["partner"], "pcsql-dub2",
        "mirrored with the backup mirror, not the original mirror"
    );
    assert_eq!(
        lab["sql"]["pcsql-dub2"]["databases"]["mgc"]["mirroring"]["role"],
        "MIRROR"
    );
    let pc = &lab["lync"]["persistent_chat"]["pchat.litwareinc.com"];
    assert_eq!(pc["state"], "FailedOver");
    let active = pc["active_servers"].as_array().unwrap();
    assert!(!active.is_empty());
    for s in active {
        let site = &lab["servers"][s.as_str().unwrap()]["site"];
        assert_eq!(
            site, "dublin",
            "{s} is active outside the new primary's data center"
        );
    }
}

#[test]
fn drill_measures_rpo_from_the_log_backups_that_reached_the_share() {
    let db = Db::new();
    let out = db.run(&["--json", "drill", RB]);
    out.ok();
    let summary: serde_json::Value = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v["event"] == "drill_summary")
        .expect("a drill_summary event");
    let m = &summary["measurements"];
    let rec = &m["recoveries"][0];
    // 44 minutes in, the last log backup was taken at 40: four minutes of chat are lost.
    assert_eq!(rec["minutes_lost"], json!(4.0));
    assert!(rec["lost"].as_u64().unwrap() > 0);
    assert_eq!(rec["unit"], "transactions");
    assert!(m["rto_seconds"].as_u64().unwrap() > 0);
    assert_eq!(m["rto_target_seconds"], json!(600));
}

/// Log backups are copied in batches (one `CopyFiles` op), and a batch
/// costs the drill's clock what its files cost copied one by one, so a
/// drill's RTO does not depend on how the copies were grouped.
#[test]
fn a_copy_batch_costs_the_drill_what_its_files_cost_one_by_one() {
    use drillbook::op::Op;
    let db = Db::new();
    db.run(&["drill", RB]).ok();
    let journal = db.journal(&db.last_run());
    let started = journal
        .iter()
        .find(|r| r["type"] == "op_started" && r["op"]["op"] == "copy_files")
        .expect("a copy_files op");
    let Some(Op::CopyFiles {
        from_folder,
        to_folder,
        files,
    }) = Op::from_journal(&started["op"])
    else {
        panic!("{started}")
    };
    assert!(files.len() > 1, "a batch of one proves nothing: {files:?}");
    let done = journal
        .iter()
        .find(|r| {
            r["type"] == "op_done" && r["step"] == started["step"] && r["seq"] == started["seq"]
        })
        .expect("the copy's op_done");
    let rows = done["result"].as_array().expect("one row a file");
    assert_eq!(rows.len(), files.len());
    let one_by_one: u64 = rows
        .iter()
        .map(|row| {
            Op::CopyFiles {
                from_folder: from_folder.clone(),
                to_folder: to_folder.clone(),
                files: vec![row["name"].as_str().unwrap().to_string()],
            }
            .lab_seconds(&[row["size"].as_u64().unwrap()])
        })
        .sum();
    assert_eq!(done["sim_seconds"].as_u64(), Some(one_by_one));
}

#[test]
fn same_drill_gives_byte_identical_lab_state() {
    let a = Db::new();
    let b = Db::new();
    a.run(&["drill", RB]).ok();
    b.run(&["drill", RB]).ok();
    assert_eq!(a.lab_bytes(), b.lab_bytes());
}

#[test]
fn unreachable_share_recovers_from_copied_files_and_loses_more() {
    let db = Db::new();
    db.run(&["drill", RB, "--scenario", "share-unreachable"])
        .ok()
        .stdout_has("cannot be read");
    let lab = db.lab();
    assert_eq!(
        lab["sql"]["pcsql-dub1"]["databases"]["mgc"]["state"],
        "ONLINE"
    );
    let rec = &lab["measurements"]["recoveries"][0];
    // Only the backups copied by the 31-minute copy job (through 30) survive.
    assert_eq!(rec["minutes_lost"], json!(14.0));
}

#[test]
fn unknown_scenario_is_refused_with_the_known_ones() {
    let db = Db::new();
    db.run(&["drill", RB, "--scenario", "meteor"])
        .code(2)
        .stderr_has("missing-log-backup");
}
