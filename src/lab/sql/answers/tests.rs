//! Tests of `answers`.

use super::*;
use crate::lab::fixtures::*;
use crate::lab::LSN_BASE;

const BACKUP: &str = "pcsql-dub1";

fn restore(lab: &mut LabState, minutes: u64) -> Result<Value, OpError> {
    let file = format!("{COPY}\\{}", trn(minutes));
    lab.perform(&Op::RestoreLog {
        instance: BACKUP.into(),
        database: "mgc".into(),
        file,
    })
    .result
}

fn copy(lab: &mut LabState, minutes: u64) {
    let op = Op::CopyFiles {
        from_folder: SHARE.into(),
        to_folder: COPY.into(),
        files: vec![trn(minutes)],
    };
    lab.perform(&op).result.unwrap();
}

fn error(result: Result<Value, OpError>) -> (i32, String) {
    match result {
        Err(OpError::Sql {
            number, message, ..
        }) => (number, message),
        other => panic!("expected a SQL error, got {other:?}"),
    }
}

#[test]
fn restore_log_refuses_logs_too_early_and_too_recent() {
    let mut lab = litware_at(44);
    copy(&mut lab, 35);
    copy(&mut lab, 40);
    let at_30 = LSN_BASE + 30 * 1200;
    let (number, message) = error(restore(&mut lab, 30));
    assert_eq!(number, 4326);
    assert_eq!(
        message,
        format!(
            "The log in this backup set terminates at LSN {at_30}, which is too early to apply to the database. \
             A more recent log backup that includes LSN {at_30} can be restored."
        )
    );
    let (number, message) = error(restore(&mut lab, 40));
    assert_eq!(number, 4305);
    assert!(
        message.contains(&format!(
            "begins at LSN {}, which is too recent",
            LSN_BASE + 35 * 1200
        )),
        "{message}"
    );

    assert_eq!(restore(&mut lab, 35).unwrap(), json!([]));
    assert_eq!(restore(&mut lab, 40).unwrap(), json!([]));
    let redo = lab.perform(&Op::RedoStartLsn {
        instance: BACKUP.into(),
        database: "mgc".into(),
    });
    assert_eq!(
        redo.result.unwrap(),
        json!([{"redo_start_lsn": LSN_BASE + 40 * 1200}])
    );
    let history = &lab.sql[BACKUP].msdb.restore_history;
    assert_eq!(
        history.last().map(|h| h.file.clone()),
        Some(format!("{COPY}\\{}", trn(40)))
    );
}

#[test]
fn restore_log_checks_state_device_and_database() {
    let mut lab = litware_at(11);
    let online = Op::RestoreLog {
        instance: "pcsql-red1".into(),
        database: "MGC".into(),
        file: format!("{SHARE}\\{}", trn(5)),
    };
    assert_eq!(error(lab.perform(&online).result).0, 3117);
    assert_eq!(error(restore(&mut lab, 5)).1, format!(
        "Cannot open backup device '{COPY}\\{}'. Operating system error 2(The system cannot find the file specified.).",
        trn(5)
    ));
    let mut other = lab.folders[SHARE].files[&trn(5)].clone();
    other.database = "mgccomp".into();
    lab.folders
        .get_mut(COPY)
        .unwrap()
        .files
        .insert(&trn(5), other);
    assert_eq!(error(restore(&mut lab, 5)).0, 3154);
    let absent = Op::RestoreLog {
        instance: BACKUP.into(),
        database: "nope".into(),
        file: "x".into(),
    };
    assert_eq!(error(lab.perform(&absent).result).0, 911);
}

#[test]
fn header_only_reads_the_file_or_says_why_not() {
    let mut lab = litware_at(6);
    let file = format!("{SHARE}\\{}", trn(5));
    let header = lab.perform(&Op::RestoreHeaderOnly {
        instance: BACKUP.into(),
        file: file.clone(),
    });
    assert_eq!(
        header.result.unwrap(),
        json!([{
            "BackupType": 2,
            "DatabaseName": "mgc",
            "FirstLSN": LSN_BASE,
            "LastLSN": LSN_BASE + 6000,
            "BackupFinishDate": "2026-03-14T01:05:00Z",
            "BackupSize": 1024 * 1024 + 600 * 4096,
        }])
    );
    assert_eq!(header.sim_seconds, 2);

    lab.apply_fault(&format!("log-backup-damaged:{}", trn(5)))
        .unwrap();
    let op = Op::RestoreHeaderOnly {
        instance: BACKUP.into(),
        file: file.clone(),
    };
    assert_eq!(error(lab.perform(&op).result).0, 3241);
    lab.apply_fault("share-unreachable").unwrap();
    let (number, message) = error(lab.perform(&op).result);
    assert_eq!(number, 3201);
    assert!(
        message.ends_with("Operating system error 53(The network path was not found.)."),
        "{message}"
    );
}

#[test]
fn recovery_needs_exclusive_access_and_measures_what_was_lost() {
    let mut lab = litware_at(44);
    lab.apply_fault("primary-site-down").unwrap();
    let recover = Op::RecoverDatabase {
        instance: BACKUP.into(),
        database: "mgc".into(),
    };
    assert_eq!(error(lab.perform(&recover).result).0, 3101);
    let kill = |id| Op::KillSession {
        instance: BACKUP.into(),
        session_id: id,
    };
    assert_eq!(
        error(lab.perform(&kill(62)).result).1,
        "Process ID 62 is not an active process ID."
    );
    assert_eq!(lab.perform(&kill(61)).result.unwrap(), json!([]));
    let done = lab.perform(&recover);
    assert_eq!((done.result.unwrap(), done.sim_seconds), (json!([]), 30));

    // Restores through 01:30 only: 14 minutes of chat lost.
    let r = &lab.measurements.recoveries[0];
    assert_eq!(
        (r.pool.as_str(), r.transactions_lost, r.minutes_lost),
        (POOL, 14 * 120, 14.0)
    );
    assert_eq!(lab.workload[POOL].committed, 30 * 120);
    assert_eq!(error(lab.perform(&recover).result).0, 3153);
    let state = lab.perform(&Op::DatabaseState {
        instance: BACKUP.into(),
        database: "mgc".into(),
    });
    assert_eq!(
        state.result.unwrap(),
        json!([{"name": "mgc", "state_desc": "ONLINE"}])
    );
}

#[test]
fn log_shipping_row_shows_msdb_until_the_secondary_is_removed() {
    let mut lab = litware_at(20);
    let read = Op::LogShippingSecondary {
        instance: BACKUP.into(),
        database: "mgc".into(),
    };
    let row = lab.perform(&read).result.unwrap();
    assert_eq!(row[0]["primary_server"], "pcsql-red1.litwareinc.com\\pchat");
    assert_eq!(row[0]["backup_source_directory"], SHARE);
    assert_eq!(row[0]["last_restored_file"], format!("{COPY}\\{}", trn(15)));
    assert_eq!(row[0]["last_restored_date"], "2026-03-14T01:17:00Z");
    assert_eq!(
        row[0]["restore_job"],
        "LSRestore_pcsql-red1.litwareinc.com\\pchat_mgc"
    );

    let delete = Op::DeleteLogShippingSecondary {
        instance: BACKUP.into(),
        database: "mgc".into(),
    };
    assert_eq!(
        lab.perform(&delete).result.unwrap(),
        json!([{"return_value": 0}])
    );
    assert_eq!(lab.perform(&read).result.unwrap(), json!([]));
    let (number, message) = error(lab.perform(&delete).result);
    assert_eq!(
        (number, message.as_str()),
        (
            32010,
            "Database mgc does not exist as log shipping secondary."
        )
    );
    // The jobs are gone with it: nothing more is copied or restored.
    lab.advance(30 * 60);
    assert_eq!(lab.sql[BACKUP].msdb.restore_history.len(), 3);
    assert_eq!(lab.sql[BACKUP].databases["mgc"].state, DbState::Restoring);
}

#[test]
fn mirroring_row_names_partner_and_witness() {
    let mut lab = litware();
    let read = |id: &str| Op::MirroringState {
        instance: id.into(),
        database: "mgc".into(),
    };
    assert_eq!(
        lab.perform(&read("pcsql-red1")).result.unwrap(),
        json!([{
            "name": "mgc",
            "mirroring_role_desc": "PRINCIPAL",
            "mirroring_state_desc": "SYNCHRONIZED",
            "mirroring_safety_level_desc": "FULL",
            "mirroring_partner_instance": "pcsql-red2.litwareinc.com\\pchat",
            "mirroring_witness_name": "TCP://pcsql-redw.litwareinc.com:7022",
            "mirroring_witness_state_desc": "CONNECTED",
        }])
    );
    let unmirrored = lab.perform(&read(BACKUP)).result.unwrap();
    assert_eq!(unmirrored[0]["mirroring_role_desc"], Value::Null);
    assert_eq!(lab.perform(&read("pcsql-dub2")).result.unwrap(), json!([]));
    lab.apply_fault("instance-down:pcsql-redw").unwrap();
    let row = lab.perform(&read("pcsql-red2")).result.unwrap();
    assert_eq!(row[0]["mirroring_witness_state_desc"], "DISCONNECTED");
}

#[test]
fn unknown_and_unreachable_instances() {
    let mut lab = litware();
    let unknown = lab
        .perform(&Op::RunningJobs {
            instance: "nope".into(),
        })
        .result
        .unwrap_err();
    assert!(matches!(unknown, OpError::NotSimulated { ref message } if message.contains("`nope`")));
    lab.apply_fault("instance-down:pcsql-dub2").unwrap();
    let down = lab
        .perform(&Op::SqlPing {
            instance: "pcsql-dub2".into(),
        })
        .result
        .unwrap_err();
    assert_eq!(
        down,
        OpError::Unreachable {
            host: "pcsql-dub2.litwareinc.com\\pchat".into(),
            message: CONNECT_TIMEOUT.into()
        }
    );
    assert_eq!(
        lab.perform(&Op::RunningJobs {
            instance: BACKUP.into()
        })
        .result
        .unwrap(),
        json!([])
    );
}
