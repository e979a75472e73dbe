//! Tests of `effects`.

use super::*;
use crate::lab::fixtures::*;
use crate::op::{Op, PsValue};
use serde_json::json;

#[test]
fn topology_dns_and_firewall_effects() {
    let mut lab = litware();
    let took = lab
        .manual_effect(&json!({"kind": "edge-next-hop", "edge_pool": "edge-red.litwareinc.com", "next_hop": "pool-dub.litwareinc.com"}))
        .unwrap();
    assert_eq!((took, lab.elapsed()), (300, 300));
    assert_eq!(
        lab.lync.edge_pools["edge-red.litwareinc.com"].next_hop,
        "pool-dub.litwareinc.com"
    );
    lab.manual_effect(&json!({"kind": "edge-federation", "edge_pool": "edge-red.litwareinc.com", "enabled": false}))
        .unwrap();
    lab.manual_effect(&json!({"kind": "edge-federation", "edge_pool": "edge-dub.litwareinc.com", "enabled": true}))
        .unwrap();
    let dub = &lab.lync.edge_pools["edge-dub.litwareinc.com"];
    assert!(dub.federation && !dub.federation_applied);
    lab.manual_effect(&json!({"kind": "edge-setup", "edge_pool": "edge-dub.litwareinc.com"}))
        .unwrap();
    assert!(lab.lync.edge_pools["edge-dub.litwareinc.com"].federation_applied);
    lab.manual_effect(&json!({"kind": "fe-edge-association", "pool": "pool-red.litwareinc.com", "edge_pool": "edge-dub.litwareinc.com"}))
        .unwrap();
    assert_eq!(
        lab.lync.pools["pool-red.litwareinc.com"]
            .edge_pool
            .as_deref(),
        Some("edge-dub.litwareinc.com")
    );
    lab.manual_effect(&json!({"kind": "dns", "name": "xmpp.litwareinc.com", "type": "A", "target": "edge-dub1.litwareinc.com"}))
        .unwrap();
    lab.manual_effect(&json!({"kind": "dns", "name": "_xmpp-server._tcp.litwareinc.com", "type": "SRV", "target": "xmpp.litwareinc.com", "port": 5269, "priority": 20}))
        .unwrap();
    let xmpp: Vec<&DnsRecord> = lab
        .lync
        .dns
        .iter()
        .filter(|r| r.name.starts_with("xmpp") || r.name.starts_with("_xmpp"))
        .collect();
    assert_eq!(xmpp.len(), 2);
    assert_eq!(xmpp[0].priority, Some(20));
    assert_eq!(xmpp[1].target, "edge-dub1.litwareinc.com");
    lab.manual_effect(&json!({"kind": "firewall", "port": 5269, "open": true}))
        .unwrap();
    assert!(lab.lync.firewall["5269"]);
    lab.manual_effect(&json!({"kind": "restore-lis", "pool": "pool-dub.litwareinc.com"}))
        .unwrap();
    assert!(lab.lync.pools["pool-dub.litwareinc.com"].lis_restored);
    lab.manual_effect(&json!({"kind": "publish-topology"}))
        .unwrap();
    assert_eq!(lab.manual_effects.len(), 10);
    assert_eq!(lab.manual_effects[0].at, 0);
}

#[test]
fn bad_effects_name_the_field_and_change_nothing() {
    let mut lab = litware();
    let before = lab.clone();
    let cases = [
        (json!("dns"), "an effect is an object"),
        (json!({"name": "x"}), "needs a `kind`"),
        (json!({"kind": "meteor"}), "unknown kind `meteor`"),
        (
            json!({"kind": "edge-next-hop", "edge_pool": "edge-red.litwareinc.com"}),
            "needs the field `next_hop`",
        ),
        (
            json!({"kind": "edge-next-hop", "edge_pool": "edge-x.litwareinc.com", "next_hop": "pool-dub.litwareinc.com"}),
            "field `edge_pool` = \"edge-x.litwareinc.com\"",
        ),
        (
            json!({"kind": "edge-federation", "edge_pool": "edge-red.litwareinc.com", "enabled": "yes"}),
            "field `enabled` must be true or false",
        ),
        (
            json!({"kind": "dns", "name": "x.litwareinc.com", "type": "SRV", "target": "y.litwareinc.com"}),
            "`port` is required",
        ),
        (
            json!({"kind": "dns", "name": "x.litwareinc.com", "type": "MX", "target": "y.litwareinc.com"}),
            "field `type`",
        ),
        (
            json!({"kind": "firewall", "port": 70000, "open": true}),
            "field `port` must be a number",
        ),
        (
            json!({"kind": "restore-lis", "pool": "pool-red.litwareinc.com", "when": 1}),
            "takes no field `when`",
        ),
    ];
    for (effect, expected) in cases {
        let err = lab.manual_effect(&effect).unwrap_err();
        assert!(matches!(err, Error::Usage { .. }));
        assert!(err.to_string().contains(expected), "{expected}: {err}");
    }
    assert_eq!(lab, before);
}

/// §3.13 with the lab's ops and effects, after the §3.12 failover.
#[test]
fn persistent_chat_failback_with_reinstall_restore_and_log_shipping() {
    let mut lab = litware_at(44);
    lab.apply_fault("cms-away-from:redmond").unwrap();
    lab.apply_fault("primary-site-down").unwrap();
    let dub1 = || "pcsql-dub1".to_string();
    lab.perform(&Op::DeleteLogShippingSecondary {
        instance: dub1(),
        database: "mgc".into(),
    });
    lab.perform(&Op::KillSession {
        instance: dub1(),
        session_id: 61,
    });
    lab.perform(&Op::RecoverDatabase {
        instance: dub1(),
        database: "mgc".into(),
    })
    .result
    .unwrap();
    let fe = "fe-dub1.litwareinc.com";
    let state = |v: &str| {
        cmdlet(
            fe,
            "Set-CsPersistentChatState",
            &[("Identity", s(POOL)), ("PoolState", s(v))],
        )
    };
    lab.perform(&state("FailedOver")).result.unwrap();
    lab.perform(&cmdlet(
        fe,
        "Install-CsMirrorDatabase",
        &[
            ("DatabaseType", s("PersistentChat")),
            ("SqlServerFqdn", s("pcsql-dub1.litwareinc.com")),
            ("SqlInstanceName", s("pchat")),
            ("FileShare", s(SHARE)),
        ],
    ))
    .result
    .unwrap();
    let dublin = PsValue::List(vec!["pchat-dub1.litwareinc.com".into()]);
    lab.perform(&cmdlet(
        fe,
        "Set-CsPersistentChatActiveServer",
        &[("Identity", s(POOL)), ("ActiveServers", dublin)],
    ))
    .result
    .unwrap();
    lab.advance(600);
    let committed = lab.workload[POOL].committed;
    assert_eq!(committed, 3600 + 10 * 120);
    assert_eq!(
        committed,
        lab.sql["pcsql-dub1"].databases["mgc"].transactions
    );

    // Redmond rebuilt; the runbook's steps.
    lab.apply_fault("site-up:redmond").unwrap();
    lab.manual_effect(&json!({"kind": "reinstall-chat-databases", "pool": POOL}))
        .unwrap();
    assert_eq!(lab.sql["pcsql-red1"].databases["mgc"].transactions, 0);
    assert!(!lab.sql["pcsql-red2"].databases.contains_key("mgc"));
    lab.perform(&cmdlet(
        fe,
        "Set-CsPersistentChatActiveServer",
        &[("Identity", s(POOL)), ("ActiveServers", PsValue::Null)],
    ))
    .result
    .unwrap();
    lab.perform(&Op::MirrorOff {
        instance: dub1(),
        database: "mgc".into(),
    })
    .result
    .unwrap();
    let bak = format!("{SHARE}\\mgc_failback.bak");
    lab.perform(&Op::BackupDatabase {
        instance: dub1(),
        database: "mgc".into(),
        file: bak.clone(),
    })
    .result
    .unwrap();
    lab.perform(&Op::RestoreDatabase {
        instance: "pcsql-red1".into(),
        database: "mgc".into(),
        file: bak,
    })
    .result
    .unwrap();
    assert_eq!(
        lab.sql["pcsql-red1"].databases["mgc"].transactions,
        committed
    );
    lab.perform(&state("Normal")).result.unwrap();
    lab.manual_effect(&json!({"kind": "logship-setup", "pool": POOL}))
        .unwrap();
    let backup = &lab.sql["pcsql-dub1"].databases["mgc"];
    assert_eq!(
        (
            backup.state,
            backup.mirroring.is_none(),
            backup.transactions
        ),
        (DbState::Restoring, true, committed)
    );
    assert!(!lab.sql["pcsql-dub2"].databases.contains_key("mgc"));
    let secondary = &lab.sql["pcsql-dub1"].msdb.log_shipping_secondary["mgc"];
    assert_eq!(secondary.primary_instance, "pcsql-red1");
    lab.perform(&cmdlet(
        fe,
        "Set-CsPersistentChatActiveServer",
        &[
            ("Identity", s(POOL)),
            (
                "ActiveServers",
                PsValue::List(vec!["pchat-red1.litwareinc.com".into()]),
            ),
        ],
    ))
    .result
    .unwrap();
    // Users write to Redmond again, and log shipping carries it to Dublin.
    lab.advance(30 * 60);
    let red = lab.sql["pcsql-red1"].databases["mgc"].transactions;
    assert_eq!(red, committed + 30 * 120);
    let dub = lab.sql["pcsql-dub1"].databases["mgc"].transactions;
    assert!(dub > committed && dub < red, "{dub}");
}
