//! Tests of `mirroring`.

use super::*;
use crate::lab::fixtures::*;
use crate::lab::lync::{APPLICATION_DATABASES, CMS_DATABASES, USER_DATABASES};
use crate::lab::LabState;
use crate::op::Op;

fn role(lab: &LabState, id: &str, db: &str) -> (DbState, Option<MirrorRole>, Option<MirrorState>) {
    let d = &lab.sql[id].databases[db];
    (
        d.state,
        d.mirroring.as_ref().map(|m| m.role),
        d.mirroring.as_ref().map(|m| m.state),
    )
}

fn sql(lab: &mut LabState, op: Op) -> Result<Value, OpError> {
    lab.perform(&op).result
}

#[test]
fn back_end_databases_are_mirrored_with_the_witness() {
    let lab = litware();
    for db in USER_DATABASES
        .iter()
        .chain(&APPLICATION_DATABASES)
        .chain(&CMS_DATABASES)
    {
        assert_eq!(
            role(&lab, "besql-red1", db),
            (
                DbState::Online,
                Some(MirrorRole::Principal),
                Some(MirrorState::Synchronized)
            ),
            "{db}"
        );
        assert_eq!(role(&lab, "besql-red2", db).1, Some(MirrorRole::Mirror));
        let m = lab.sql["besql-red1"].databases[*db]
            .mirroring
            .clone()
            .unwrap();
        assert_eq!(m.witness.as_deref(), Some("besql-redw"));
    }
    // The standby CMS copy lives in the backup pool's Back End.
    assert!(lab.sql["besql-dub1"].databases.contains_key("xds"));
    assert!(lab.sql["besql-redw"].databases.is_empty());
}

#[test]
fn principal_lost_with_witness_fails_over_automatically() {
    let mut lab = litware_at(5);
    let effect = lab.apply_fault("instance-down:besql-red1").unwrap();
    assert!(
        effect.contains("rtcxds: automatic failover from besql-red1 to besql-red2"),
        "{effect}"
    );
    assert_eq!(
        role(&lab, "besql-red2", "rtcxds"),
        (
            DbState::Online,
            Some(MirrorRole::Principal),
            Some(MirrorState::Disconnected)
        )
    );
    let pool = &lab.lync.pools["pool-red.litwareinc.com"];
    assert!(pool.back_end.available);
    assert_eq!(
        pool.back_end.current_principal.as_deref(),
        Some("besql-red2")
    );
    // The former principal rejoins as the mirror and resynchronizes.
    let effect = lab.apply_fault("instance-up:besql-red1").unwrap();
    assert!(
        effect.contains("rtcxds: besql-red1 rejoined as the mirror of besql-red2"),
        "{effect}"
    );
    assert_eq!(
        role(&lab, "besql-red1", "rtcxds"),
        (
            DbState::Restoring,
            Some(MirrorRole::Mirror),
            Some(MirrorState::Synchronized)
        )
    );
}

#[test]
fn principal_lost_without_witness_waits_for_an_operator() {
    let mut lab = litware();
    lab.apply_fault("witness-down:besql-redw").unwrap();
    let effect = lab.apply_fault("instance-down:besql-red1").unwrap();
    assert!(
        effect.contains(
            "principal besql-red1 lost, no automatic failover: witness besql-redw is down too"
        ),
        "{effect}"
    );
    assert_eq!(
        role(&lab, "besql-red2", "rtcxds").1,
        Some(MirrorRole::Mirror)
    );
    assert!(!lab.lync.pools["pool-red.litwareinc.com"].back_end.available);

    // A pool configured with no witness at all.
    let mut lab = litware();
    for db in USER_DATABASES {
        for id in ["besql-red1", "besql-red2"] {
            let m = lab
                .sql
                .database_mut(id, db)
                .unwrap()
                .mirroring
                .as_mut()
                .unwrap();
            m.witness = None;
        }
    }
    let effect = lab.apply_fault("instance-down:besql-red1").unwrap();
    assert!(effect.contains("no witness is configured"), "{effect}");
    assert_eq!(
        role(&lab, "besql-red2", "rtcxds").1,
        Some(MirrorRole::Mirror)
    );
}

#[test]
fn losing_quorum_makes_the_back_end_unavailable_even_with_the_principal_running() {
    let mut lab = litware();
    lab.apply_fault("instance-down:besql-red2").unwrap();
    assert!(lab.lync.pools["pool-red.litwareinc.com"].back_end.available);
    let effect = lab.apply_fault("witness-down:besql-redw").unwrap();
    assert!(lab.sql["besql-red1"].up, "{effect}");
    let be = &lab.lync.pools["pool-red.litwareinc.com"].back_end;
    assert!(!be.available);
    assert_eq!(be.unavailable_since, Some(0));
    // The witness returns: the principal has quorum again.
    lab.apply_fault("witness-up:besql-redw").unwrap();
    assert!(lab.lync.pools["pool-red.litwareinc.com"].back_end.available);

    // Principal and mirror lost together: unavailable, nobody fails over.
    let mut lab = litware();
    lab.apply_fault("instance-down:besql-red1")
        .unwrap_or_default();
    let mut lab2 = litware();
    lab2.apply_fault("site-down:redmond").unwrap();
    assert!(
        !lab2.lync.pools["pool-red.litwareinc.com"]
            .back_end
            .available
    );
    assert!(lab.lync.pools["pool-red.litwareinc.com"].back_end.available);
}

#[test]
fn a_mirror_that_finds_the_witness_again_takes_over() {
    let mut lab = litware();
    lab.apply_fault("witness-down:besql-redw").unwrap();
    lab.apply_fault("instance-down:besql-red1").unwrap();
    let effect = lab.apply_fault("witness-up:besql-redw").unwrap();
    assert!(
        effect.contains("rtcxds: automatic failover from besql-red1 to besql-red2 (witness besql-redw returned)"),
        "{effect}"
    );
    assert!(lab.lync.pools["pool-red.litwareinc.com"].back_end.available);
}

#[test]
fn tsql_failover_switches_roles_only_from_a_synchronized_principal() {
    let mut lab = litware();
    let on = |id: &str| Op::MirrorFailover {
        instance: id.into(),
        database: "rtcab".into(),
    };
    assert_eq!(
        sql(&mut lab, on("besql-red2")).unwrap_err().sql_number(),
        Some(1470)
    );
    sql(&mut lab, on("besql-red1")).unwrap();
    assert_eq!(
        role(&lab, "besql-red2", "rtcab").1,
        Some(MirrorRole::Principal)
    );
    assert_eq!(role(&lab, "besql-red1", "rtcab").0, DbState::Restoring);
    lab.apply_fault("instance-down:besql-red1").unwrap();
    assert_eq!(
        sql(&mut lab, on("besql-red2")).unwrap_err().sql_number(),
        Some(1404)
    );
    let none = Op::MirrorFailover {
        instance: "pcsql-dub1".into(),
        database: "mgc".into(),
    };
    assert_eq!(sql(&mut lab, none).unwrap_err().sql_number(), Some(1416));
}

#[test]
fn tsql_force_service_needs_the_principal_gone_and_the_witness_off_or_with_the_mirror() {
    let mut lab = litware();
    let force = Op::MirrorForceService {
        instance: "besql-red2".into(),
        database: "rtcxds".into(),
    };
    assert_eq!(
        sql(&mut lab, force.clone()).unwrap_err().sql_number(),
        Some(1455)
    );
    lab.apply_fault("witness-down:besql-redw").unwrap();
    lab.apply_fault("instance-down:besql-red1").unwrap();
    assert_eq!(
        sql(&mut lab, force.clone()).unwrap_err().sql_number(),
        Some(1455)
    );
    lab.apply_fault("witness-up:besql-redw").unwrap();
    // The witness came back: that was an automatic failover already.
    assert_eq!(
        role(&lab, "besql-red2", "rtcxds").1,
        Some(MirrorRole::Principal)
    );

    let mut lab = litware();
    for db in ["rtcxds"] {
        for id in ["besql-red1", "besql-red2"] {
            lab.sql
                .database_mut(id, db)
                .unwrap()
                .mirroring
                .as_mut()
                .unwrap()
                .witness = None;
        }
    }
    lab.apply_fault("instance-down:besql-red1").unwrap();
    sql(&mut lab, force).unwrap();
    assert_eq!(role(&lab, "besql-red2", "rtcxds").0, DbState::Online);
    lab.apply_fault("instance-up:besql-red1").unwrap();
    assert_eq!(
        role(&lab, "besql-red1", "rtcxds"),
        (
            DbState::Restoring,
            Some(MirrorRole::Mirror),
            Some(MirrorState::Synchronized)
        )
    );
}

#[test]
fn tsql_partner_off_leaves_the_mirror_restoring() {
    let mut lab = litware();
    let off = Op::MirrorOff {
        instance: "besql-red2".into(),
        database: "rgsdyn".into(),
    };
    sql(&mut lab, off.clone()).unwrap();
    assert_eq!(
        role(&lab, "besql-red2", "rgsdyn"),
        (DbState::Restoring, None, None)
    );
    assert_eq!(
        role(&lab, "besql-red1", "rgsdyn"),
        (DbState::Online, None, None)
    );
    assert_eq!(sql(&mut lab, off).unwrap_err().sql_number(), Some(1416));
    // The partner down: it drops its own record when it returns.
    lab.apply_fault("instance-down:besql-red2").unwrap();
    let off = Op::MirrorOff {
        instance: "besql-red1".into(),
        database: "rgsconfig".into(),
    };
    sql(&mut lab, off).unwrap();
    assert!(lab.sql["besql-red2"].databases["rgsconfig"]
        .mirroring
        .is_some());
    lab.apply_fault("instance-up:besql-red2").unwrap();
    assert!(lab.sql["besql-red2"].databases["rgsconfig"]
        .mirroring
        .is_none());
}

#[test]
fn a_cut_link_isolates_sessions_across_sites() {
    // Mirror the Redmond back end across the link, witness in Dublin
    // (an otherwise idle Dublin instance).
    let mut lab = litware();
    let pool = "pool-red.litwareinc.com";
    for db in USER_DATABASES {
        lab.sql.get_mut("besql-red2").unwrap().databases.remove(db);
        lab.sql
            .establish_mirroring("besql-red1", "besql-dub2", Some("pcsql-dub2"), db);
    }
    lab.lync.pools.get_mut(pool).unwrap().back_end.mirror = Some("besql-dub2".into());
    let effect = lab.apply_fault("link-down:dublin-redmond").unwrap();
    assert!(
        effect.contains("rtcxds: automatic failover from besql-red1 to besql-dub2"),
        "{effect}"
    );
    assert_eq!(role(&lab, "besql-red1", "rtcxds").0, DbState::Restoring);
    let effect = lab.apply_fault("link-up:redmond-dublin").unwrap();
    assert!(
        effect.contains("besql-red1 rejoined as the mirror of besql-dub2"),
        "{effect}"
    );
}

#[test]
fn asynchronous_mirroring_loads_and_never_fails_over_by_itself() {
    let estate = litware_estate_with(
        "mirroring = \"synchronous\"\nprincipal = \"besql-red1\"",
        "mirroring = \"asynchronous\"\nprincipal = \"besql-red1\"",
    );
    assert_eq!(estate.design_findings()[0].rule, "synchronous-mirroring");
    let mut lab = LabState::from_estate(&estate);
    let m = lab.sql["besql-red1"].databases["rtcxds"]
        .mirroring
        .clone()
        .unwrap();
    assert_eq!(m.safety, Safety::Off);
    let effect = lab.apply_fault("instance-down:besql-red1").unwrap();
    assert!(effect.contains("rtcxds: principal besql-red1 lost, no automatic failover: safety is OFF (asynchronous mirroring)"), "{effect}");
    assert!(!lab.lync.pools["pool-red.litwareinc.com"].back_end.available);
}
