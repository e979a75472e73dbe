//! Procedures on estates of other documented-valid shapes than litware
//! (issue #8 §3): hand-made fixtures under `tests/fixtures/estates/`, loaded
//! with `--estate`, each showing a defect litware cannot show.

mod common;
use common::Db;

fn fixture(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/estates")
        .join(format!("{name}.toml"))
        .to_str()
        .unwrap()
        .to_string()
}

/// `lab init --estate FILE`, `minutes` of normal use, then `faults`.
fn lab_on(db: &Db, estate: &str, minutes: &str, faults: &[&str]) {
    db.run(&["lab", "init", "--estate", estate]).ok();
    db.run(&["lab", "advance", minutes]).ok();
    if !faults.is_empty() {
        let mut args = vec!["lab", "fault"];
        args.extend_from_slice(faults);
        db.run(&args).ok();
    }
}

fn ops_of(db: &Db, run: &str) -> Vec<String> {
    db.journal(run)
        .iter()
        .filter(|r| r["type"] == "op_started")
        .map(|r| r["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn cms_failover_to_a_default_instance_leaves_the_instance_name_out() {
    let db = Db::new();
    let estate = fixture("default-instance");
    lab_on(
        &db,
        &estate,
        "10",
        &["instance-down:besql-red1", "instance-down:besql-red2"],
    );
    db.run(&["--yes", "run", "cms-failover", "--estate", &estate])
        .ok();
    let failover: Vec<String> = ops_of(&db, &db.last_run())
        .into_iter()
        .filter(|o| o.starts_with("Invoke-CsManagementServerFailover") && o.contains("-Force"))
        .collect();
    assert_eq!(
        failover,
        ["Invoke-CsManagementServerFailover -BackupSqlServerFqdn 'besql-dub1.litwareinc.com' -Force"]
    );
    assert_eq!(
        db.lab()["lync"]["cms"]["active_pool"],
        "pool-dub.litwareinc.com"
    );
}

#[test]
fn pool_failover_fails_the_cms_over_to_the_cms_pools_own_backup() {
    // Redmond is lost: pool-red2 (paired with Tokyo) fails over, and the
    // CMS, down with pool-red, goes to pool-red's backup (Dublin) first.
    let db = Db::new();
    let estate = fixture("three-sites");
    lab_on(&db, &estate, "30", &["site-down:redmond"]);
    let out = db.run(&[
        "--yes",
        "run",
        "pool-failover",
        "--estate",
        &estate,
        "-p",
        "pool=pool-red2.litwareinc.com",
    ]);
    out.ok()
        .stdout_has("fail the Central Management Store over first: it is down");
    let lab = db.lab();
    assert_eq!(lab["lync"]["cms"]["active_pool"], "pool-dub.litwareinc.com");
    assert_eq!(
        lab["lync"]["pools"]["pool-red2.litwareinc.com"]["users"]["served_by"],
        "pool-tok.litwareinc.com"
    );
}

#[test]
fn cms_failover_after_a_site_loss_judges_only_replicas_that_can_answer() {
    let db = Db::new();
    // Redmond, with the CMS, is lost.
    db.lab_at(44, &["primary-site-down"]);
    let out = db.run(&["--yes", "run", "cms-failover"]);
    out.ok().stdout_has(
        "replicas that could not answer (server down or cut off), not judged: \
         [\"edge-red1.litwareinc.com\", \"fe-red1.litwareinc.com\", \"fe-red2.litwareinc.com\"]",
    );
    assert_eq!(
        db.lab()["lync"]["cms"]["active_pool"],
        "pool-dub.litwareinc.com"
    );
}

#[test]
fn pool_failback_of_a_pool_not_failed_over_is_refused_before_any_change() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    db.run(&["lab", "advance", "10"]).ok();
    let before = db.lab_bytes();
    let out = db.run(&[
        "--yes",
        "run",
        "pool-failback",
        "-p",
        "pool=pool-red.litwareinc.com",
    ]);
    out.code(1)
        .stderr_has("pool-red.litwareinc.com is not failed over");
    let changes: Vec<String> = db
        .journal(&db.last_run())
        .iter()
        .filter(|r| r["type"] == "op_started" && r["change"] == true)
        .map(|r| r.to_string())
        .collect();
    assert!(changes.is_empty(), "changes were sent: {changes:?}");
    // Reads move the lab clock; nothing else changes.
    let after: serde_json::Value = serde_json::from_slice(&db.lab_bytes()).unwrap();
    let before: serde_json::Value = serde_json::from_slice(&before).unwrap();
    assert_eq!(
        common::without_clock(&after),
        common::without_clock(&before)
    );
}

fn chat_failover(db: &Db, estate: Option<&str>, extra: &[&str]) -> common::Out {
    let mut args = vec!["--yes", "run", "persistent-chat-failover"];
    if let Some(e) = estate {
        args.extend(["--estate", e]);
    }
    args.extend_from_slice(extra);
    db.run(&args)
}

fn active_servers(db: &Db) -> serde_json::Value {
    db.lab()["lync"]["persistent_chat"]["pchat.litwareinc.com"]["active_servers"].clone()
}

#[test]
fn chat_failover_mirrors_through_a_share_in_the_surviving_site() {
    // The log-shipping share is in Redmond, lost with it.
    let db = Db::new();
    let estate = fixture("share-in-primary");
    lab_on(
        &db,
        &estate,
        "44",
        &["cms-away-from:redmond", "primary-site-down"],
    );
    chat_failover(&db, Some(&estate), &[])
        .ok()
        .stdout_has("-FileShare '\\\\pcsql-dub1.litwareinc.com\\lscopy'");
    let lab = db.lab();
    assert_eq!(
        lab["sql"]["pcsql-dub1"]["databases"]["mgc"]["mirroring"]["partner"],
        "pcsql-dub2"
    );
    assert_eq!(
        active_servers(&db),
        serde_json::json!(["pchat-dub1.litwareinc.com", "pchat-dub2.litwareinc.com"])
    );
}

#[test]
fn chat_failover_without_a_backup_mirror_restores_chat_when_the_operator_says_so() {
    let db = Db::new();
    db.lab_after_disaster(&["instance-down:pcsql-dub2"]);
    chat_failover(&db, None, &[])
        .code(3)
        .stderr_has("--decision <restore-without-mirror|stop>");
    assert_eq!(
        active_servers(&db),
        serde_json::json!(["pchat-red1.litwareinc.com", "pchat-red2.litwareinc.com"])
    );
    db.run(&[
        "--yes",
        "resume",
        &db.last_run(),
        "--decision",
        "restore-without-mirror",
    ])
    .ok();
    assert_eq!(
        active_servers(&db),
        serde_json::json!(["pchat-dub1.litwareinc.com", "pchat-dub2.litwareinc.com"])
    );
}

#[test]
fn chat_failover_stops_before_the_active_servers_when_the_operator_says_stop() {
    let db = Db::new();
    db.lab_after_disaster(&["instance-down:pcsql-dub2"]);
    chat_failover(&db, None, &["--decision", "chat-mirror=stop"])
        .code(1)
        .stderr_has("stopped by the operator before the active servers were set");
    assert_eq!(
        active_servers(&db),
        serde_json::json!(["pchat-red1.litwareinc.com", "pchat-red2.litwareinc.com"])
    );
}

#[test]
fn a_low_latency_link_lets_active_chat_servers_sit_in_either_data_center() {
    // The estate rule: refused without the link, accepted with it.
    let db = Db::new();
    let estate = fixture("low-latency");
    let unmarked = db.write(
        "unmarked.toml",
        &std::fs::read_to_string(&estate)
            .unwrap()
            .replace("low_latency_to = [\"redmond\"]", ""),
    );
    db.run(&["lab", "init", "--estate", unmarked.to_str().unwrap()])
        .code(2)
        .stderr_has("low-latency link");
    // The runbook and the lab: mgc fails over to Dublin while Redmond's
    // chat servers still run; one of them stays active.
    lab_on(
        &db,
        &estate,
        "44",
        &["instance-down:pcsql-red1", "instance-down:pcsql-red2"],
    );
    chat_failover(
        &db,
        Some(&estate),
        &[
            "-p",
            "active_servers=pchat-dub1.litwareinc.com,pchat-red1.litwareinc.com",
        ],
    )
    .ok();
    assert_eq!(
        active_servers(&db),
        serde_json::json!(["pchat-dub1.litwareinc.com", "pchat-red1.litwareinc.com"])
    );
}
