//! Whole procedures op by op on the built-in lab, and the lab file: saved
//! after every op, under its lock, byte-identical for identical calls.

use super::fixtures::*;
use super::*;
use crate::op::PsValue;
use crate::targets::OpError;
use serde_json::json;

fn ok(lab: &mut LabState, op: Op) -> serde_json::Value {
    let done = lab.perform(&op);
    done.result.unwrap_or_else(|e| panic!("{op:?} failed: {e}"))
}

fn sql_error(lab: &mut LabState, op: Op) -> i32 {
    lab.perform(&op)
        .result
        .unwrap_err()
        .sql_number()
        .unwrap_or(0)
}

/// PROCEDURES.md §3.12, op by op, after the primary data center is lost
/// at 01:44 with backups taken through 01:40.
fn persistent_chat_failover() -> LabState {
    let mut lab = litware_at(44);
    lab.apply_fault("cms-away-from:redmond").unwrap();
    lab.apply_fault("primary-site-down").unwrap();
    let backup = || "pcsql-dub1".to_string();
    let ping = lab.perform(&Op::SqlPing {
        instance: "pcsql-red1".into(),
    });
    assert!(matches!(ping.result, Err(OpError::Unreachable { .. })));

    ok(
        &mut lab,
        Op::DeleteLogShippingSecondary {
            instance: backup(),
            database: "mgc".into(),
        },
    );
    let listed = ok(
        &mut lab,
        Op::ListFiles {
            folder: SHARE.into(),
            pattern: "mgc_*.trn".into(),
        },
    );
    assert_eq!(listed.as_array().map(Vec::len), Some(8));
    ok(
        &mut lab,
        Op::CopyFiles {
            from_folder: SHARE.into(),
            to_folder: COPY.into(),
            files: vec![trn(35), trn(40)],
        },
    );
    // One already applied by the restore job: the procedure skips it on 4326.
    for m in [30, 35, 40] {
        let file = format!("{COPY}\\{}", trn(m));
        ok(
            &mut lab,
            Op::RestoreHeaderOnly {
                instance: backup(),
                file: file.clone(),
            },
        );
        let op = Op::RestoreLog {
            instance: backup(),
            database: "mgc".into(),
            file,
        };
        match lab.perform(&op).result {
            Ok(_) => {}
            Err(e) => assert_eq!((m, e.sql_number()), (30, Some(4326))),
        }
    }
    let sessions = ok(
        &mut lab,
        Op::DatabaseSessions {
            instance: backup(),
            database: "mgc".into(),
        },
    );
    assert_eq!(sessions[0]["session_id"], 61);
    ok(
        &mut lab,
        Op::KillSession {
            instance: backup(),
            session_id: 61,
        },
    );
    ok(
        &mut lab,
        Op::RecoverDatabase {
            instance: backup(),
            database: "mgc".into(),
        },
    );

    let fe = "fe-dub1.litwareinc.com";
    let identity = s(&format!("service:{POOL}"));
    ok(
        &mut lab,
        cmdlet(
            fe,
            "Set-CsPersistentChatState",
            &[
                ("Identity", identity.clone()),
                ("PoolState", s("FailedOver")),
            ],
        ),
    );
    let install = [
        ("DatabaseType", s("PersistentChat")),
        ("SqlServerFqdn", s("pcsql-dub1.litwareinc.com")),
        ("SqlInstanceName", s("pchat")),
        ("FileShare", s(SHARE)),
        ("Verbose", PsValue::Switch),
    ];
    ok(&mut lab, cmdlet(fe, "Install-CsMirrorDatabase", &install));
    let servers = PsValue::List(vec![
        "pchat-dub1.litwareinc.com".into(),
        "pchat-dub2.litwareinc.com".into(),
    ]);
    let table = PsValue::Table(vec![("Replace".into(), servers)]);
    ok(
        &mut lab,
        cmdlet(
            fe,
            "Set-CsPersistentChatActiveServer",
            &[("Identity", identity), ("ActiveServers", table)],
        ),
    );
    lab
}

#[test]
fn persistent_chat_failover_recovers_mgc_in_the_backup_site_and_measures_the_loss() {
    let mut lab = persistent_chat_failover();
    // Backups through 01:40 were recovered; the last four minutes were lost.
    let recovery = &lab.measurements.recoveries[0];
    assert_eq!(
        (
            recovery.instance.as_str(),
            recovery.transactions_lost,
            recovery.minutes_lost
        ),
        ("pcsql-dub1", 480, 4.0)
    );

    let mirroring = ok(
        &mut lab,
        Op::MirroringState {
            instance: "pcsql-dub1".into(),
            database: "mgc".into(),
        },
    );
    assert_eq!(mirroring[0]["mirroring_role_desc"], "PRINCIPAL");
    assert_eq!(mirroring[0]["mirroring_state_desc"], "SYNCHRONIZED");
    assert_eq!(mirroring[0]["mirroring_safety_level_desc"], "FULL");
    assert_eq!(
        mirroring[0]["mirroring_partner_instance"],
        "pcsql-dub2.litwareinc.com\\pchat"
    );
    assert_eq!(mirroring[0]["mirroring_witness_state_desc"], "UNKNOWN");

    // Users are back, writing to the new principal and its mirror.
    lab.advance(60);
    let (principal, mirror) = (
        &lab.sql["pcsql-dub1"].databases["mgc"],
        &lab.sql["pcsql-dub2"].databases["mgc"],
    );
    assert_eq!(principal.transactions, 4800 + 120);
    assert_eq!(
        (mirror.lsn, mirror.transactions),
        (principal.lsn, principal.transactions)
    );
    assert_eq!(lab.workload[POOL].committed, 4800 + 120);
}

#[test]
fn identical_call_sequences_give_identical_state_files() {
    let (a, b) = (persistent_chat_failover(), persistent_chat_failover());
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a, b);
    assert_eq!(LabState::from_json(&a.to_json()).unwrap(), a);
}

/// §3.3 and §3.4 after losing Redmond, op by op.
fn pool_disaster() -> LabState {
    let mut lab = litware_at(33);
    lab.apply_fault("site-down:redmond").unwrap();
    lab.apply_fault("advance:7").unwrap();
    let fe = "fe-dub1.litwareinc.com";
    let run =
        |lab: &mut LabState, name: &str, args: &[(&str, PsValue)]| ok(lab, cmdlet(fe, name, args));
    let whatif = run(
        &mut lab,
        "Invoke-CsManagementServerFailover",
        &[("WhatIf", PsValue::Switch)],
    );
    assert_eq!(whatif["BackupPool"], "pool-dub.litwareinc.com");
    run(
        &mut lab,
        "Invoke-CsManagementServerFailover",
        &[
            ("BackupSqlServerFqdn", s("besql-dub1.litwareinc.com")),
            ("BackupSqlInstanceName", s("rtc")),
            ("Force", PsValue::Switch),
        ],
    );
    run(
        &mut lab,
        "Set-CsEdgeServer",
        &[
            ("Identity", s("EdgeServer:edge-red.litwareinc.com")),
            ("Registrar", s("Registrar:pool-dub.litwareinc.com")),
        ],
    );
    run(
        &mut lab,
        "Invoke-CsPoolFailOver",
        &[
            ("PoolFqdn", s("pool-red.litwareinc.com")),
            ("DisasterMode", PsValue::Switch),
        ],
    );
    lab.manual_effect(&json!({"kind": "restore-lis", "pool": "pool-dub.litwareinc.com"}))
        .unwrap();
    lab.advance(600);
    lab
}

#[test]
fn pool_disaster_moves_users_cms_and_next_hop_and_measures_the_loss() {
    let lab = pool_disaster();
    let red = &lab.lync.pools["pool-red.litwareinc.com"];
    assert_eq!(red.state, PoolState::FailedOver);
    assert_eq!(red.users.served_by, "pool-dub.litwareinc.com");
    assert!(!red.users.resiliency_mode);
    assert_eq!(
        lab.lync.cms.as_ref().unwrap().active_pool,
        "pool-dub.litwareinc.com"
    );
    assert_eq!(
        lab.lync.edge_pools["edge-red.litwareinc.com"].next_hop,
        "pool-dub.litwareinc.com"
    );
    assert!(lab.lync.pools["pool-dub.litwareinc.com"].lis_restored);
    // Last sync at 32:00, Redmond lost at 33:00: one minute of changes.
    let m = &lab.measurements.pool_failovers[0];
    assert_eq!(
        (m.changes_lost, m.minutes_lost, m.disaster_mode),
        (200, 1.0, true)
    );
}

#[test]
fn identical_pool_sequences_give_identical_state_files() {
    let (a, b) = (pool_disaster(), pool_disaster());
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(LabState::from_json(&a.to_json()).unwrap(), a);
}

#[test]
fn a_lab_file_from_before_the_pools_still_opens() {
    let mut v: serde_json::Value = serde_json::from_str(&litware().to_json()).unwrap();
    let lync = v["lync"].as_object_mut().unwrap();
    lync.retain(|k, _| k == "persistent_chat");
    v.as_object_mut().unwrap().remove("links");
    v.as_object_mut().unwrap().remove("manual_effects");
    v["measurements"]
        .as_object_mut()
        .unwrap()
        .remove("pool_failovers");
    let mut old = LabState::from_json(&v.to_string()).unwrap();
    assert!(old.lync.pools.is_empty());
    old.advance(60);
}

#[test]
fn manual_effects_are_saved_with_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.json");
    let mut lab = Lab::create(&path, litware()).unwrap();
    let op = Op::Manual {
        instructions: "publish the topology".into(),
        effect: json!({"kind": "publish-topology"}),
    };
    let took = lab.perform(&op).unwrap().sim_seconds;
    assert_eq!((took, lab.clock()), (120, Some(120)));
    assert_eq!(Lab::open(&path).unwrap().state.manual_effects.len(), 1);
}

#[test]
fn lab_file_round_trips_through_its_log_and_checkpoints_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep/er/lab.json");
    let mut lab = Lab::create(&path, litware()).unwrap();
    let done = lab
        .perform(&Op::SqlPing {
            instance: "pcsql-dub1".into(),
        })
        .unwrap();
    assert_eq!(
        done.result.unwrap(),
        json!([{"server_name": "pcsql-dub1.litwareinc.com\\pchat"}])
    );
    assert_eq!(lab.clock(), Some(1));
    let reopened = Lab::open(&path).unwrap();
    assert_eq!(reopened.state, lab.state);
    let state = lab.state.clone();
    drop(lab);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), state.to_json());
    assert!(!path.with_extension("json.tmp").exists());
    assert!(!crate::lab::log_path(&path).exists());
}

/// Many performers on one lab file, in rounds: short-lived ones (open,
/// perform, checkpoint on close — so logs are removed and started again
/// all the time, and their inodes reused) and long-lived ones (a twin) that
/// checkpoint now and then. Every ping is one simulated second: none lost.
#[test]
fn concurrent_performers_on_one_file_lose_nothing() {
    const SHORT: usize = 4;
    const LONG: usize = 4;
    const OPS: u64 = 30;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.json");
    Lab::create(&path, litware()).unwrap();
    let ping = || Op::SqlPing {
        instance: "pcsql-dub1".into(),
    };
    for round in 1..=2u64 {
        let threads: Vec<_> = (0..SHORT + LONG)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    if t < SHORT {
                        for _ in 0..OPS {
                            Lab::perform_at(&path, &ping()).unwrap();
                        }
                    } else {
                        let mut lab = Lab::open(&path).unwrap();
                        for i in 0..OPS {
                            lab.perform(&ping()).unwrap();
                            if i % 7 == 6 {
                                lab.checkpoint().unwrap();
                            }
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let expected = round * OPS * (SHORT + LONG) as u64;
        assert_eq!(Lab::open(&path).unwrap().state.elapsed(), expected);
    }
}

#[test]
fn scratch_copies_never_touch_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.json");
    let lab = Lab::create(&path, litware()).unwrap();
    let before = std::fs::read_to_string(&path).unwrap();
    let mut scratch = lab.scratch().unwrap();
    scratch
        .perform(&Op::KillSession {
            instance: "pcsql-dub1".into(),
            session_id: 61,
        })
        .unwrap();
    assert_eq!(scratch.clock(), Some(1));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}

#[test]
fn opening_a_missing_or_broken_lab_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.json");
    assert!(matches!(Lab::open(&path), Err(Error::LabMissing { .. })));

    std::fs::write(&path, "{\n  \"estate\": 3\n}\n").unwrap();
    match Lab::open(&path) {
        Err(Error::LabState { message, .. }) => {
            assert!(message.starts_with("line 2, column"), "{message}")
        }
        other => panic!("unexpected {other:?}"),
    }

    let text = litware()
        .to_json()
        .replace("\"2026-03-14T01:00:00Z\"", "\"yesterday\"");
    std::fs::write(&path, text).unwrap();
    match Lab::open(&path) {
        Err(Error::LabState { message, .. }) => {
            assert!(message.contains("clock.start"), "{message}")
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn hand_edited_names_that_resolve_nowhere_give_errors_not_panics() {
    let mut lab = litware();
    let pool = lab.lync.persistent_chat.get_mut(POOL).unwrap();
    pool.mgc.primary = "ghost".into();
    pool.active_servers = vec!["nowhere.litwareinc.com".into()];
    lab.sql
        .get_mut("pcsql-dub1")
        .unwrap()
        .msdb
        .log_shipping_secondary
        .get_mut("mgc")
        .unwrap()
        .backup_source_directory = "\\\\ghost\\share".into();
    lab.advance(3600);
    assert_eq!(lab.workload[POOL].committed, 0);
    assert_eq!(
        sql_error(
            &mut lab,
            Op::RecoverDatabase {
                instance: "pcsql-dub1".into(),
                database: "nope".into()
            }
        ),
        911
    );
    let unknown = lab
        .perform(&Op::SqlPing {
            instance: "ghost".into(),
        })
        .result
        .unwrap_err();
    assert!(matches!(unknown, OpError::NotSimulated { ref message } if message.contains("ghost")));
    lab.apply_fault("primary-site-down").unwrap_err();
}
