//! Tests of `mirror_database`.

use super::*;
use crate::lab::fixtures::*;
use crate::lab::DbState;
use crate::op::PsValue;

const FE: &str = "fe-red1.litwareinc.com";
const RED: &str = "pool-red.litwareinc.com";

fn run(lab: &mut LabState, name: &str, args: &[(&str, PsValue)]) -> Result<Value, OpError> {
    run_on(lab, FE, name, args)
}

fn state(lab: &mut LabState, pool: &str, kind: &str) -> Result<Value, OpError> {
    run(
        lab,
        "Get-CsDatabaseMirrorState",
        &[("PoolFqdn", s(pool)), ("DatabaseType", s(kind))],
    )
}

fn failover(lab: &mut LabState, kind: &str, to: &str, force: bool) -> Result<Value, OpError> {
    let mut args = vec![
        ("PoolFqdn", s(RED)),
        ("DatabaseType", s(kind)),
        ("NewPrincipal", s(to)),
        ("Verbose", PsValue::Switch),
    ];
    if force {
        args.push(("Force", PsValue::Switch));
    }
    run(lab, "Invoke-CsDatabaseFailover", &args)
}

#[test]
fn mirror_state_per_database_and_the_cms_type_names() {
    let mut lab = litware();
    let rows = state(&mut lab, RED, "User").unwrap();
    assert_eq!(
        rows[0],
        json!({
            "DatabaseName": "rtcxds",
            "StateOnPrimary": "Principal",
            "StateOnMirror": "Mirror",
            "MirroringStatusOnPrimary": "synchronized",
            "MirroringStatusOnMirror": "synchronized",
        })
    );
    assert_eq!(rows.as_array().unwrap().len(), 3);
    assert_eq!(
        state(&mut lab, RED, "CentralMgmt")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        state(&mut lab, "pool-dub.litwareinc.com", "CentralMgmt").unwrap()[0]["DatabaseName"],
        "xds"
    );
    let cms = message(state(&mut lab, RED, "CMS"));
    assert!(
        cms.starts_with("Cannot validate argument on parameter 'DatabaseType'"),
        "{cms}"
    );
    let chat = state(&mut lab, "pchat.litwareinc.com", "PersistentChat").unwrap();
    assert_eq!(chat[0]["StateOnMirror"], "Mirror");
    lab.apply_fault("instance-down:besql-red2").unwrap();
    let rows = state(&mut lab, RED, "Application").unwrap();
    assert_eq!(rows[0]["StateOnMirror"], INACCESSIBLE);
    assert_eq!(rows[0]["MirroringStatusOnMirror"], Value::Null);
    assert_eq!(rows[0]["MirroringStatusOnPrimary"], "disconnected");
}

#[test]
fn planned_failover_and_failback_of_the_user_databases() {
    let mut lab = litware();
    failover(&mut lab, "User", "mirror", false).unwrap();
    let rows = state(&mut lab, RED, "User").unwrap();
    assert_eq!(
        (
            rows[1]["StateOnPrimary"].as_str(),
            rows[1]["StateOnMirror"].as_str()
        ),
        (Some("Mirror"), Some("Principal"))
    );
    // Application databases did not move.
    assert_eq!(
        state(&mut lab, RED, "Application").unwrap()[0]["StateOnPrimary"],
        "Principal"
    );
    let msg = message(failover(&mut lab, "User", "mirror", false));
    assert!(msg.contains("already holds the principal role"), "{msg}");
    failover(&mut lab, "User", "primary", false).unwrap();
    assert_eq!(
        lab.lync.pools[RED].back_end.current_principal.as_deref(),
        Some("besql-red1")
    );
    // Excluding a database leaves it where it was.
    run(
        &mut lab,
        "Invoke-CsDatabaseFailover",
        &[
            ("PoolFqdn", s(RED)),
            ("DatabaseType", s("Application")),
            ("NewPrincipal", s("mirror")),
            ("ExcludeDatabaseList", PsValue::List(vec!["cpsdyn".into()])),
        ],
    )
    .unwrap();
    assert_eq!(
        lab.sql["besql-red1"].databases["cpsdyn"].state,
        DbState::Online
    );
    assert_eq!(
        lab.sql["besql-red2"].databases["rgsdyn"].state,
        DbState::Online
    );
}

#[test]
fn failover_refusals() {
    let mut lab = litware();
    lab.apply_fault("witness-down:besql-redw").unwrap();
    lab.apply_fault("instance-down:besql-red1").unwrap();
    let msg = message(failover(&mut lab, "User", "mirror", false));
    assert!(msg.contains("Use -Force"), "{msg}");
    let msg = message(failover(&mut lab, "User", "primary", true));
    assert!(
        msg.starts_with("Cannot connect to the primary server"),
        "{msg}"
    );
    // -Force cannot do more than the FORCE_SERVICE_ALLOW_DATA_LOSS it runs:
    // with the witness down too, the mirror alone has no quorum (1455).
    let before = lab.sql.clone();
    let msg = message(failover(&mut lab, "User", "mirror", true));
    assert!(msg.contains("SQL Server error 1455"), "{msg}");
    assert!(msg.contains("nor can the witness"), "{msg}");
    assert_eq!(lab.sql, before);
    assert!(!lab.lync.pools[RED].back_end.available);
    // Without a mirror in the topology.
    lab.lync.pools.get_mut(RED).unwrap().back_end.mirror = None;
    let msg = message(failover(&mut lab, "User", "mirror", false));
    assert!(msg.contains("mirroring is not configured"), "{msg}");
    let msg = message(state(&mut lab, "pool-x.litwareinc.com", "User"));
    assert!(msg.starts_with("Cannot find Front End pool"), "{msg}");
}

#[test]
fn centralmgmt_only_on_the_cms_pools() {
    let mut lab = litware();
    lab.lync.cms.as_mut().unwrap().standby_pool = None;
    let msg = message(state(&mut lab, "pool-dub.litwareinc.com", "CentralMgmt"));
    assert!(
        msg.contains("does not host the Central Management Store"),
        "{msg}"
    );
}

#[test]
fn uninstall_and_install_the_back_end_mirror() {
    let mut lab = litware();
    let base = [
        ("SqlServerFqdn", s("besql-red1.litwareinc.com")),
        ("SqlInstanceName", s("rtc")),
        ("DatabaseType", s("User")),
    ];
    run(&mut lab, "Uninstall-CsMirrorDatabase", &base).unwrap();
    assert!(lab.sql["besql-red1"].databases["rtcxds"]
        .mirroring
        .is_none());
    assert_eq!(
        lab.sql["besql-red2"].databases["rtcxds"].state,
        DbState::Restoring
    );
    let msg = message(run(&mut lab, "Uninstall-CsMirrorDatabase", &base));
    assert!(msg.contains("are not mirrored"), "{msg}");
    let mut install = base.to_vec();
    install.push(("FileShare", s("\\\\fs-dub1.litwareinc.com\\pchatlogs")));
    let msg = message(run(&mut lab, "Install-CsMirrorDatabase", &install));
    assert!(msg.contains("-DropExistingDatabasesOnMirror"), "{msg}");
    install.push(("DropExistingDatabasesOnMirror", PsValue::Switch));
    run(&mut lab, "Install-CsMirrorDatabase", &install).unwrap();
    let rows = state(&mut lab, RED, "User").unwrap();
    assert_eq!(rows[2]["MirroringStatusOnMirror"], "synchronized");
    let m = lab.sql["besql-red1"].databases["rtcab"]
        .mirroring
        .clone()
        .unwrap();
    assert_eq!(m.witness.as_deref(), Some("besql-redw"));
    // -ConfiguredDatabases after dropping every mirror copy.
    for kind in ["User", "Application", "CentralMgmt"] {
        let mut args = base.to_vec();
        args[2].1 = s(kind);
        args.push(("DropExistingDatabasesOnMirror", PsValue::Switch));
        run(&mut lab, "Uninstall-CsMirrorDatabase", &args).unwrap();
    }
    assert!(lab.sql["besql-red2"].databases.is_empty());
    run(
        &mut lab,
        "Install-CsMirrorDatabase",
        &[
            ("ConfiguredDatabases", PsValue::Switch),
            ("ForInstance", s("rtc")),
            ("SqlServerFqdn", s("besql-red1.litwareinc.com")),
            ("FileShare", s("\\\\fs-dub1.litwareinc.com\\pchatlogs")),
        ],
    )
    .unwrap();
    assert_eq!(lab.sql["besql-red2"].databases.len(), 8);
}
