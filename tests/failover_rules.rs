//! The failure semantics and ordering rules of PROCEDURES.md §2 and §3.4,
//! as a person meets them through the runbooks.

mod common;
use common::{Db, Out};
use serde_json::Value;

const RED: &str = "pool-red.litwareinc.com";
const DUB: &str = "pool-dub.litwareinc.com";

fn change_ops(db: &Db, run: &str) -> usize {
    db.journal(run)
        .iter()
        .filter(|r| r["type"] == "op_started" && r["change"] == true)
        .count()
}

/// be-mirror-failover of pool-red's Back End, answering yes.
fn fail_over_red_back_end(db: &Db) -> Out {
    db.run(&[
        "--yes",
        "run",
        "be-mirror-failover",
        "-p",
        &format!("pool={RED}"),
    ])
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
    let out = fail_over_red_back_end(&db);
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

/// Topology and configuration writes go through the CMS (PROCEDURES.md §2):
/// with its pool lost and the CMS not failed over, the chat failover stops
/// before any change and names cms-failover; after it, the run resumes.
#[test]
fn chat_failover_stops_before_any_change_while_the_cms_is_down_and_names_cms_failover() {
    let db = Db::new();
    // Redmond holds both the primary mgc and the CMS.
    db.lab_at(44, &["primary-site-down"]);
    let out = db.run(&["--yes", "run", "persistent-chat-failover"]);
    out.code(1).stderr_has(
        "the Central Management Store has no active master (its pool is down and it is not failed over): \
         topology and configuration changes would fail. Run cms-failover first (drillbook run cms-failover), \
         then run this runbook again",
    );
    let run = last_run_of(&db, "persistent-chat-failover");
    assert_eq!(change_ops(&db, &run), 0);
    db.run(&["--yes", "run", "cms-failover"]).ok();
    db.run(&["--yes", "resume", &run]).ok();
    let lab = db.lab();
    assert_eq!(
        lab["lync"]["persistent_chat"]["pchat.litwareinc.com"]["state"],
        "FailedOver"
    );
    assert_eq!(lab["lync"]["cms"]["active_pool"], DUB);
}

/// The lab's CMS-backed cmdlets fail while the CMS cannot be reached, as
/// Lync's do, and work again once it is failed over.
#[test]
fn cms_backed_cmdlets_fail_while_the_cms_is_down() {
    let db = Db::new();
    db.lab_at(0, &["pool-down:pool-red.litwareinc.com"]);
    let lines = [
        "Set-CsEdgeServer -Identity 'EdgeServer:edge-dub.litwareinc.com' -Registrar 'Registrar:pool-dub.litwareinc.com'",
        "Set-CsPersistentChatState -Identity 'service:pchat.litwareinc.com' -PoolState 'FailedOver'",
        "Set-CsPersistentChatActiveServer -ActiveServers $null",
        "Install-CsMirrorDatabase -DatabaseType 'User' -SqlServerFqdn 'besql-dub1.litwareinc.com' -SqlInstanceName 'rtc' -FileShare '\\\\fs-dub1.litwareinc.com\\share'",
    ];
    let shell = |line: &str| {
        let script = drillbook::wire::script(line, &drillbook::wire::Session::Local);
        let args = ["lab", "pwsh", "--host", "fe-dub1.litwareinc.com"];
        let bin = std::path::Path::new(env!("CARGO_BIN_EXE_drillbook"));
        db.run_bin(bin, db.dir.path(), &args, &[], &script)
    };
    let before = db.lab();
    for line in lines {
        let out = shell(line);
        let said = format!("{}{}", out.stdout, out.stderr);
        assert!(
            said.contains("the Central Management Store cannot be reached")
                && said.contains(
                    "Fail the Central Management Store over (Invoke-CsManagementServerFailover)"
                ),
            "{line}: {said}"
        );
    }
    assert!(common::differences(
        &common::without_clock(&before),
        &common::without_clock(&db.lab())
    )
    .is_empty());
    db.run(&[
        "--yes",
        "run",
        "cms-failover",
        "-p",
        "failed_pool=pool-red.litwareinc.com",
    ])
    .ok();
    shell(lines[0]).ok();
}

/// Forced service needs quorum (PROCEDURES.md §2): with the principal and
/// the witness both down, Invoke-CsDatabaseFailover -Force is refused as the
/// FORCE_SERVICE_ALLOW_DATA_LOSS it runs is (Msg 1455), and nothing moves.
#[test]
fn forcing_the_back_end_over_without_principal_and_witness_is_refused_like_sql_server() {
    let db = Db::new();
    db.lab_at(0, &["witness-down:besql-redw", "instance-down:besql-red1"]);
    let out = fail_over_red_back_end(&db);
    out.code(1)
        .stderr_has("Invoke-CsDatabaseFailover failed: Cannot force the User databases of pool \"pool-red.litwareinc.com\"")
        .stderr_has("SQL Server error 1455 (severity 16): The database mirroring service cannot be forced")
        .stderr_has("nor can the witness besql-redw.litwareinc.com\\rtc: the mirror alone has no quorum");
    let lab = db.lab();
    let rtcxds = &lab["sql"]["besql-red2"]["databases"]["rtcxds"];
    assert_eq!(rtcxds["mirroring"]["role"], "MIRROR", "{rtcxds}");
}

/// backup-service-config-monitor runs on a management host that answers:
/// with the CMS's data center down, from the other one.
#[test]
fn backup_service_monitoring_runs_from_a_surviving_site() {
    let db = Db::new();
    db.lab_at(0, &["site-down:redmond"]);
    let out = db.run(&[
        "--yes",
        "-v",
        "run",
        "backup-service-config-monitor",
        "-p",
        "force_sync=false",
    ]);
    out.ok()
        .stdout_has("not answering: [\"fe-red1.litwareinc.com\"]")
        .stdout_has("read on fe-dub1.litwareinc.com: Get-CsBackupServiceStatus -PoolFqdn 'pool-red.litwareinc.com'");
}

/// XMPP federation back on a two-server Edge pool: the external A record
/// names both of its servers, not only the first (fabrikam's edge-sea).
#[test]
fn the_xmpp_a_record_names_every_server_of_the_edge_pool() {
    let db = Db::new();
    let estate = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("estates/fabrikam.toml");
    let out = db.run(&[
        "--yes",
        "drill",
        "edge-federation-failback",
        "--estate",
        estate.to_str().unwrap(),
        "-p",
        "edge_pool=edge-sea.fabrikam.com",
        "-p",
        "from_edge=edge-ams.fabrikam.com",
    ]);
    out.ok().stdout_has(
        "the XMPP A records (xmpp.fabrikam.com) to edge-sea1.fabrikam.com and edge-sea2.fabrikam.com",
    );
    let lab = db.lab();
    let a: Vec<&Value> = lab["lync"]["dns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "xmpp.fabrikam.com")
        .map(|r| &r["target"])
        .collect();
    assert_eq!(a, ["edge-sea1.fabrikam.com", "edge-sea2.fabrikam.com"]);
}

/// fabrikam on a shell that takes the DR topic's Set-CsSite
/// -XmppExternalFederationRoute (PROCEDURES.md §4), with the XMPP route on
/// Amsterdam's one-server Edge pool, so the drill moves it to Seattle's
/// two-server edge-sea.
fn fabrikam_with_the_dr_xmpp_parameter() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("estates/fabrikam.toml");
    let mut text = std::fs::read_to_string(path).unwrap();
    for (from, to) in [
        (
            "name = \"fabrikam\"\n",
            "name = \"fabrikam\"\nxmpp_route_parameter = \"XmppExternalFederationRoute\"\n",
        ),
        ("xmpp_federation_route = \"edge-sea.fabrikam.com\"\n", ""),
        (
            "management_host = \"fe-ams1.fabrikam.com\"\n",
            "management_host = \"fe-ams1.fabrikam.com\"\nxmpp_federation_route = \"edge-ams.fabrikam.com\"\n",
        ),
    ] {
        assert!(text.contains(from), "fabrikam.toml lacks {from:?}");
        text = text.replacen(from, to, 1);
    }
    text
}

/// Where Set-CsSite takes -XmppExternalFederationRoute and not
/// -XmppFederationRoute, the XMPP failover names an Edge *server* of the new
/// pool (the lab, like Lync, refuses the pool's FQDN there) and the lab ends
/// with XMPP federation routed through that pool.
#[test]
fn xmpp_failover_names_an_edge_server_where_set_cssite_takes_the_dr_parameter() {
    let db = Db::new();
    let estate = db.write("dr-xmpp.toml", &fabrikam_with_the_dr_xmpp_parameter());
    db.run(&[
        "--yes",
        "drill",
        "edge-xmpp-failover",
        "--estate",
        estate.to_str().unwrap(),
    ])
    .ok()
    .stdout_has("end state: 3 of 3 expectations hold");
    let set_site: Vec<Value> = db
        .journal(&db.last_run())
        .into_iter()
        .filter(|r| r["type"] == "op_started" && r["op"]["cmdlet"] == "Set-CsSite")
        .map(|r| r["text"].clone())
        .collect();
    assert_eq!(
        set_site,
        ["Set-CsSite -Identity 'seattle' -XmppExternalFederationRoute 'edge-sea1.fabrikam.com'"]
    );
    let route = &db.lab()["lync"]["xmpp_route"];
    assert_eq!(
        route,
        &serde_json::json!({
            "site": "seattle",
            "edge_pool": "edge-sea.fabrikam.com",
            "edge_server": "edge-sea1.fabrikam.com",
        })
    );
}

/// In the 30 minutes after a Back End is lost (no witness), users carry on
/// normally [S0]: their changes are made, the Backup Service cannot export
/// them, and a disaster-mode pool failover then loses them all.
#[test]
fn changes_made_before_resiliency_mode_count_in_the_pool_failover_loss() {
    let db = Db::new();
    // Dublin's back end has no witness: nothing fails over by itself.
    db.lab_at(10, &["instance-down:besql-dub1", "advance:20"]);
    let lab = db.lab();
    let users = &lab["lync"]["pools"][DUB]["users"];
    assert_eq!(users["resiliency_mode"], false, "{users}");
    db.run(&["lab", "fault", &format!("pool-down:{DUB}")]).ok();
    db.run(&[
        "--yes",
        "run",
        "pool-failover",
        "-p",
        &format!("pool={DUB}"),
    ])
    .ok();
    let lab = db.lab();
    let f = &lab["measurements"]["pool_failovers"][0];
    assert_eq!(f["pool"], DUB);
    // 150 changes a minute for the 20 minutes, none of them exported.
    assert!(f["changes_lost"].as_u64().unwrap() >= 20 * 150, "{f}");
    assert!(f["minutes_lost"].as_f64().unwrap() >= 20.0, "{f}");
}
