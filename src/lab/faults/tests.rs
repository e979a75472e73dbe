//! Tests of `faults`.

use super::*;
use crate::lab::fixtures::*;
use crate::lab::{DbState, MirrorState};

fn mirroring(lab: &LabState, id: &str) -> (DbState, MirrorRole, MirrorState) {
    let db = &lab.sql[id].databases["mgc"];
    let m = db.mirroring.as_ref().expect("mirrored");
    (db.state, m.role, m.state)
}

#[test]
fn primary_site_down_takes_principal_mirror_and_witness_without_failover() {
    let mut lab = litware_at(10);
    let effect = lab.apply_fault("primary-site-down").unwrap();
    for id in ["pcsql-red1", "pcsql-red2", "pcsql-redw"] {
        assert!(!lab.sql[id].up, "{id}");
    }
    assert!(
        lab.sql["pcsql-dub1"].up
            && !lab.sites["redmond"].up
            && !lab.servers["pchat-red1.litwareinc.com"].up
    );
    assert!(
        effect.contains("no automatic failover: mirror pcsql-red2 is down too"),
        "{effect}"
    );
    assert_eq!(
        mirroring(&lab, "pcsql-red1"),
        (
            DbState::Online,
            MirrorRole::Principal,
            MirrorState::Disconnected
        )
    );
    assert_eq!(
        mirroring(&lab, "pcsql-red2"),
        (
            DbState::Restoring,
            MirrorRole::Mirror,
            MirrorState::Disconnected
        )
    );
    assert_eq!(
        lab.faults,
        vec![FaultRecord {
            fault: "primary-site-down".into(),
            at: 600,
            effect
        }]
    );

    // Nobody can write: the users' commits stop where the site went.
    lab.advance(600);
    assert_eq!(lab.workload[POOL].committed, 10 * 120);
}

#[test]
fn losing_the_principal_alone_fails_over_to_the_mirror() {
    let mut lab = litware_at(7);
    let effect = lab.apply_fault("instance-down:pcsql-red1").unwrap();
    assert!(
        effect.contains("automatic failover from pcsql-red1 to pcsql-red2"),
        "{effect}"
    );
    assert_eq!(
        mirroring(&lab, "pcsql-red2"),
        (
            DbState::Online,
            MirrorRole::Principal,
            MirrorState::Disconnected
        )
    );
    assert_eq!(
        mirroring(&lab, "pcsql-red1"),
        (
            DbState::Restoring,
            MirrorRole::Mirror,
            MirrorState::Disconnected
        )
    );

    // Users carry on against the new principal, and so does log shipping:
    // its backups continue the chain the old principal started.
    lab.advance(30 * 60);
    assert_eq!(lab.workload[POOL].committed, 37 * 120);
    assert_eq!(
        lab.sql["pcsql-red2"].databases["mgc"].transactions,
        37 * 120
    );
    let backup = &lab.sql["pcsql-dub1"].databases["mgc"];
    assert_eq!(backup.transactions, 30 * 120);
    let restored = lab.sql["pcsql-dub1"].msdb.restore_history.len();
    assert_eq!(restored, 6);
}

#[test]
fn losing_the_principal_without_witness_quorum_changes_nothing() {
    let mut lab = litware_at(1);
    lab.apply_fault("instance-down:pcsql-redw").unwrap();
    let effect = lab.apply_fault("instance-down:pcsql-red1").unwrap();
    assert!(
        effect.contains("witness pcsql-redw is down too"),
        "{effect}"
    );
    assert_eq!(mirroring(&lab, "pcsql-red2").1, MirrorRole::Mirror);
}

#[test]
fn a_principal_that_loses_mirror_and_witness_stops_serving() {
    let mut lab = litware_at(1);
    lab.apply_fault("instance-down:pcsql-red2").unwrap();
    lab.advance(60);
    assert_eq!(lab.workload[POOL].committed, 240);
    lab.apply_fault("instance-down:pcsql-redw").unwrap();
    lab.advance(60);
    assert_eq!(lab.workload[POOL].committed, 240);
}

#[test]
fn log_backup_missing_takes_the_oldest_unrestored_file() {
    let mut lab = litware_at(44);
    let effect = lab.apply_fault("log-backup-missing").unwrap();
    assert_eq!(effect, format!("{} removed in {SHARE}", trn(35)));
    assert!(!lab.folders[SHARE].files.contains_key(&trn(35)));
    let named = lab
        .apply_fault(&format!("log-backup-missing:{}", trn(30)))
        .unwrap();
    assert_eq!(named, format!("{} removed in {SHARE}, {COPY}", trn(30)));
    let gone = lab
        .apply_fault(&format!("log-backup-missing:{}", trn(30)))
        .unwrap_err();
    assert!(gone.to_string().contains("no folder holds"), "{gone}");
}

#[test]
fn bad_fault_specs_list_what_is_known() {
    let mut lab = litware();
    let cases = [
        ("meteor", "the kinds are primary-site-down, site-down:SITE"),
        ("site-down:mars", "known: dublin, redmond"),
        (
            "site-down",
            "site-down needs a target: site-down:SITE (known: dublin, redmond)",
        ),
        (
            "instance-down:pcsql-x",
            "pcsql-dub1, pcsql-dub2, pcsql-red1, pcsql-red2, pcsql-redw",
        ),
        ("share-unreachable:\\\\x\\y", "no folder"),
        ("primary-site-down:dublin", "takes no target"),
    ];
    for (spec, expected) in cases {
        match lab.apply_fault(spec) {
            Err(Error::Fault { fault, message }) => {
                assert_eq!(fault, spec);
                assert!(message.contains(expected), "{spec}: {message}");
            }
            other => panic!("{spec}: unexpected {other:?}"),
        }
    }
    assert!(lab.faults.is_empty());
    let mut empty = litware();
    empty.lync.persistent_chat.clear();
    assert!(empty.apply_fault("primary-site-down").is_err());
}

#[test]
fn new_faults_and_their_repairs() {
    let mut lab = litware_at(1);
    let e = lab
        .apply_fault("pool-down:pool-dub.litwareinc.com")
        .unwrap();
    assert!(
        e.contains("front ends fe-dub1.litwareinc.com, fe-dub2.litwareinc.com"),
        "{e}"
    );
    assert!(!lab.lync.pools["pool-dub.litwareinc.com"].up);
    lab.apply_fault("pool-up:pool-dub.litwareinc.com").unwrap();
    assert!(lab.lync.pools["pool-dub.litwareinc.com"].up);
    lab.apply_fault("edge-down:edge-red.litwareinc.com")
        .unwrap();
    assert!(!lab.lync.edge_pools["edge-red.litwareinc.com"].up);
    lab.apply_fault("edge-up:edge-red.litwareinc.com").unwrap();
    lab.apply_fault("link-down:redmond-dublin").unwrap();
    assert!(!lab.links["dublin-redmond"].up);
    lab.apply_fault("link-up:dublin-redmond").unwrap();
    assert!(lab.links["dublin-redmond"].up);
    let e = lab
        .apply_fault("witness-down:pcsql-dub1")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("is not a witness (witnesses: besql-redw, pcsql-redw)"),
        "{e}"
    );
    lab.apply_fault("site-down:dublin").unwrap();
    let e = lab
        .apply_fault("instance-up:besql-dub1")
        .unwrap_err()
        .to_string();
    assert!(e.contains("repair it with site-up:dublin"), "{e}");
    lab.apply_fault("site-up:dublin").unwrap();
    assert!(
        lab.sql["besql-dub1"].up && lab.lync.pools["pool-dub.litwareinc.com"].back_end.available
    );
    let e = lab
        .apply_fault("mirroring-off:pool-red.litwareinc.com")
        .unwrap();
    assert!(e.contains("besql-red2/rtcxds"), "{e}");
    assert!(lab.sql["besql-red2"].databases.is_empty());
    let at = lab.elapsed();
    lab.apply_fault("advance:31").unwrap();
    assert_eq!(lab.elapsed(), at + 31 * 60);
    assert_eq!(lab.faults.last().unwrap().at, at + 31 * 60);
    for (spec, expected) in [
        ("link-down:redmond-mars", "no link `redmond-mars`"),
        ("pool-down:pool-x.litwareinc.com", "no Front End pool"),
        ("advance:soon", "a number of minutes"),
        ("edge-up", "edge-up needs a target"),
    ] {
        let e = lab.apply_fault(spec).unwrap_err().to_string();
        assert!(e.contains(expected), "{spec}: {e}");
    }
}
