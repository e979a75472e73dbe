//! mgccomp, the Persistent Chat compliance database: laid out and log shipped
//! like mgc; failover brings the backup copy online without recovering its
//! logs (it is not failed over), and failback does for mgccomp the same steps
//! it does for mgc (remove mirroring, back up, restore over the primary,
//! re-create log shipping). Checked on the lab state the drills leave.

mod common;
use common::Db;
use serde_json::Value;

const PRIMARY: &str = "pcsql-red1";
const BACKUP: &str = "pcsql-dub1";

fn mgccomp<'a>(lab: &'a Value, instance: &str) -> &'a Value {
    &lab["sql"][instance]["databases"]["mgccomp"]
}

#[test]
fn mgccomp_is_log_shipped_like_mgc_in_a_fresh_lab() {
    let db = Db::new();
    db.lab_at(0, &[]);
    let lab = db.lab();
    assert_eq!(mgccomp(&lab, PRIMARY)["state"], "ONLINE");
    assert_eq!(mgccomp(&lab, BACKUP)["state"], "RESTORING");
    let secondary = &lab["sql"][BACKUP]["msdb"]["log_shipping_secondary"]["mgccomp"];
    assert_eq!(secondary["primary_database"], "mgccomp");
    assert_eq!(secondary["restore_mode"], 0, "restores WITH NORECOVERY");
    assert_eq!(
        lab["sql"][PRIMARY]["msdb"]["log_shipping_primary"]["mgccomp"]["backup_job"],
        "LSBackup_mgccomp"
    );
}

#[test]
fn failover_brings_the_backup_mgccomp_online_without_log_shipping() {
    let db = Db::new();
    db.run(&["drill", "persistent-chat-failover"]).ok();
    let lab = db.lab();
    assert_eq!(mgccomp(&lab, BACKUP)["state"], "ONLINE");
    assert!(
        lab["sql"][BACKUP]["msdb"]["log_shipping_secondary"]
            .get("mgccomp")
            .is_none(),
        "log shipping of mgccomp is removed on the backup instance"
    );
}

#[test]
fn failback_restores_mgccomp_on_the_primary_and_log_ships_it_again() {
    let db = Db::new();
    db.run(&["--yes", "drill", "persistent-chat-failback"]).ok();
    let lab = db.lab();
    assert_eq!(mgccomp(&lab, PRIMARY)["state"], "ONLINE");
    assert_eq!(
        mgccomp(&lab, BACKUP)["state"],
        "RESTORING",
        "log-shipping initialization overwrites the backup mgccomp"
    );
    let secondary = &lab["sql"][BACKUP]["msdb"]["log_shipping_secondary"]["mgccomp"];
    assert_eq!(secondary["primary_database"], "mgccomp");
    assert_eq!(secondary["primary_instance"], PRIMARY);
    assert_eq!(
        lab["sql"][PRIMARY]["msdb"]["log_shipping_primary"]["mgccomp"]["backup_job"],
        "LSBackup_mgccomp"
    );
    // The failback backup of mgccomp went through the share.
    let share = &lab["folders"]["\\\\fs-dub1.litwareinc.com\\pchatlogs"]["files"];
    assert!(
        share.get("mgccomp_failback.bak").is_some(),
        "no mgccomp_failback.bak in the share: {share}"
    );
}
