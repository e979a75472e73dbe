//! Log shipping: msdb's configuration and history on each instance, and
//! the SQL Agent jobs that act on them (LSBackup, LSCopy, LSRestore). The
//! clock decides when a job runs (`clock.rs`); what it does, and when it
//! does nothing (instance down, share unreachable, a gap or a damaged file
//! in the chain), is here.

use crate::lab::clock::{KIB, MIB};
use crate::lab::files::{split_path, BackupFile};
use crate::lab::network::Network;
use crate::lab::sql::answers::LogFit;
use crate::lab::{DbState, LabState, MirrorState, Sql, LSN_PER_TRANSACTION};
use crate::op::join_path;
use crate::time;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Msdb {
    pub log_shipping_primary: BTreeMap<String, LogShippingPrimary>,
    pub log_shipping_secondary: BTreeMap<String, LogShippingSecondary>,
    pub restore_history: Vec<RestoreHistory>,
    /// Jobs with a `msdb.dbo.sysjobactivity` row an older SQL Agent session
    /// left unfinished (started, never stopped: the agent stopped or
    /// crashed mid-job). No job runs; only a read that does not filter by
    /// the current agent session (`msdb.dbo.syssessions`) sees them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale_job_activity: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogShippingPrimary {
    pub backup_directory: String,
    pub backup_job: String,
    pub every_minutes: u64,
    /// A backup older than this is deleted from the share by the backup
    /// job, copied or not (`backup_retention_period`).
    #[serde(default = "crate::estate::file::default_retention_minutes")]
    pub retention_minutes: u64,
    pub last_backup_file: Option<String>,
    #[serde(with = "crate::lab::sql::lsn")]
    pub last_backup_lsn: crate::lab::sql::Lsn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogShippingSecondary {
    pub primary_instance: String,
    pub primary_database: String,
    pub backup_source_directory: String,
    pub backup_destination_directory: String,
    pub copy_job: String,
    pub restore_job: String,
    pub copy_every_minutes: u64,
    pub restore_every_minutes: u64,
    /// A restored backup older than this is deleted from the copy folder
    /// by the restore job (`file_retention_period`).
    #[serde(default = "crate::estate::file::default_retention_minutes")]
    pub file_retention_minutes: u64,
    pub last_copied_file: Option<String>,
    pub last_copied_at: Option<String>,
    pub last_restored_file: Option<String>,
    pub last_restored_at: Option<String>,
    pub restore_mode: i64,
    pub restore_delay: i64,
}

impl LogShippingPrimary {
    /// `database` (mgc or mgccomp) backing its log up to `share` every
    /// `every_minutes`, the chain starting at `lsn` (the full backup the
    /// secondary was initialized from).
    pub fn chat(
        database: &str,
        share: &str,
        (every_minutes, retention_minutes): (u64, u64),
        lsn: crate::lab::sql::Lsn,
    ) -> Self {
        LogShippingPrimary {
            backup_directory: share.to_string(),
            backup_job: format!("LSBackup_{database}"),
            every_minutes,
            retention_minutes,
            last_backup_file: None,
            last_backup_lsn: lsn,
        }
    }
}

impl LogShippingSecondary {
    /// A secondary of `database` just initialized from a full backup of `primary_instance`
    /// (`primary_name` is its SQL name, for the default job names): nothing
    /// copied or restored yet, restores WITH NORECOVERY and no delay.
    pub fn initialized(
        database: &str,
        primary_instance: &str,
        primary_name: &str,
        (share, copy_folder): (&str, &str),
        (copy_every_minutes, restore_every_minutes, file_retention_minutes): (u64, u64, u64),
    ) -> Self {
        LogShippingSecondary {
            primary_instance: primary_instance.to_string(),
            primary_database: database.to_string(),
            backup_source_directory: share.to_string(),
            backup_destination_directory: copy_folder.to_string(),
            copy_job: format!("LSCopy_{primary_name}_{database}"),
            restore_job: format!("LSRestore_{primary_name}_{database}"),
            copy_every_minutes,
            restore_every_minutes,
            file_retention_minutes,
            last_copied_file: None,
            last_copied_at: None,
            last_restored_file: None,
            last_restored_at: None,
            restore_mode: 0,
            restore_delay: 0,
        }
    }
}

/// How long the lab keeps msdb's restore history: the log-shipping history
/// retention SQL Server Management Studio sets (`history_retention_period`,
/// 96 hours). Nothing reads older rows; a real `restorehistory` grows until
/// `sp_delete_backuphistory` trims it, which the lab does not model.
pub const HISTORY_RETENTION_MINUTES: u64 = 96 * 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreHistory {
    pub database: String,
    pub file: String,
    pub at: String,
}

impl Sql {
    pub(in crate::lab) fn log_shipping_primary(
        &self,
        id: &str,
        database: &str,
    ) -> Option<&LogShippingPrimary> {
        self.get(id)?.msdb.log_shipping_primary.get(database)
    }

    pub(in crate::lab) fn log_shipping_primary_mut(
        &mut self,
        id: &str,
        database: &str,
    ) -> Option<&mut LogShippingPrimary> {
        self.get_mut(id)?
            .msdb
            .log_shipping_primary
            .get_mut(database)
    }

    pub(in crate::lab) fn log_shipping_secondary(
        &self,
        id: &str,
        database: &str,
    ) -> Option<&LogShippingSecondary> {
        self.get(id)?.msdb.log_shipping_secondary.get(database)
    }

    pub(in crate::lab) fn log_shipping_secondary_mut(
        &mut self,
        id: &str,
        database: &str,
    ) -> Option<&mut LogShippingSecondary> {
        self.get_mut(id)?
            .msdb
            .log_shipping_secondary
            .get_mut(database)
    }
}

impl LabState {
    /// LSBackup: a log backup to the share, by whichever log-shipping primary
    /// holds the principal copy.
    pub(in crate::lab) fn backup_job(&mut self, id: &str, database: &str, t: u64) {
        let Some(config) = self.sql.log_shipping_primary(id, database).cloned() else {
            return;
        };
        let Some(db) = self
            .sql
            .database(id, database)
            .filter(|d| d.is_principal_online())
        else {
            return;
        };
        if !self.instance_up(id) || !self.folder_reachable_from(id, &config.backup_directory) {
            return;
        }
        let logged =
            u64::try_from(db.lsn.saturating_sub(config.last_backup_lsn) / LSN_PER_TRANSACTION)
                .unwrap_or(u64::MAX);
        let file = BackupFile {
            database: database.to_string(),
            backup_type: 2,
            first_lsn: config.last_backup_lsn,
            last_lsn: db.lsn,
            transactions: db.transactions,
            last_transaction_at: db.last_transaction_at,
            size: MIB.saturating_add(logged.saturating_mul(4 * KIB)),
            damaged: false,
            finished_at: t,
        };
        let (lsn, partner) = (
            db.lsn,
            db.mirroring
                .as_ref()
                .filter(|m| m.state == MirrorState::Synchronized)
                .map(|m| m.partner.clone()),
        );
        let name = format!("{database}_{}.trn", time::compact(self.epoch_at(t)));
        self.folders.put_file(&config.backup_directory, &name, file);
        if let Some(p) = self.sql.log_shipping_primary_mut(id, database) {
            p.last_backup_file = Some(join_path(&config.backup_directory, &name));
            p.last_backup_lsn = lsn;
        }
        // The log chain belongs to the database, and a synchronized mirror
        // holds the same log: after a failover its backups carry on from here.
        if let Some(p) = partner.and_then(|p| self.sql.log_shipping_primary_mut(&p, database)) {
            p.last_backup_lsn = lsn;
        }
        // Then it deletes the backups past their retention, copied or not.
        let before = t.saturating_sub(config.retention_minutes.saturating_mul(60));
        self.folders
            .expire(&config.backup_directory, database, before, None);
    }

    /// LSCopy: every backup of the database newer than the last copied one,
    /// from the share to the copy folder.
    pub(in crate::lab) fn copy_job(&mut self, id: &str, database: &str, t: u64) {
        let Some(config) = self.sql.log_shipping_secondary(id, database).cloned() else {
            return;
        };
        let (from, to) = (
            &config.backup_source_directory,
            &config.backup_destination_directory,
        );
        if !self.instance_up(id)
            || !self.folder_reachable_from(id, from)
            || !self.folder_reachable_from(id, to)
        {
            return;
        }
        let last = config.last_copied_file.as_deref().map(|f| split_path(f).1);
        // Only what sorts after the last copied file: the job takes up where it was.
        let pending: Vec<String> = self
            .folders
            .folder(from)
            .into_iter()
            .flat_map(|f| f.files.after(last))
            .filter(|(_, f)| f.backup_type == 2 && f.database == config.primary_database)
            .map(|(name, _)| name.clone())
            .collect();
        let mut copied = None;
        for name in &pending {
            if self
                .folders
                .copy_files(
                    from,
                    to,
                    std::slice::from_ref(name),
                    &Network::new(&self.servers, &self.links),
                )
                .is_ok()
            {
                copied = Some(name);
            }
        }
        let Some(name) = copied else { return };
        let stamp = self.stamp(t);
        if let Some(s) = self.sql.log_shipping_secondary_mut(id, database) {
            s.last_copied_file = Some(join_path(to, name));
            s.last_copied_at = Some(stamp);
        }
    }

    /// LSRestore: apply copied backups in name order until a gap or a damaged file.
    pub(in crate::lab) fn restore_job(&mut self, id: &str, database: &str, t: u64) {
        let Some(config) = self.sql.log_shipping_secondary(id, database).cloned() else {
            return;
        };
        let folder = &config.backup_destination_directory;
        let restoring = self
            .sql
            .database(id, database)
            .is_some_and(|d| d.state == DbState::Restoring);
        if !restoring || !self.instance_up(id) || !self.folder_reachable_from(id, folder) {
            return;
        }
        let last = config
            .last_restored_file
            .as_deref()
            .map(|f| split_path(f).1);
        let Some(lsn) = self.sql.database(id, database).map(|d| d.lsn) else {
            return;
        };
        // The last file the job is done with: applied, or skipped because
        // the database already holds its log. Skipping copies nothing: a
        // database nobody writes to (mgccomp) ships only such backups.
        let (mut done_with, candidates) = {
            let mut skipped: Option<&String> = None;
            let mut candidates: Vec<(String, BackupFile)> = Vec::new();
            let files = self
                .folders
                .folder(folder)
                .into_iter()
                .flat_map(|f| f.files.after(last))
                .filter(|(_, f)| f.backup_type == 2 && f.database == config.primary_database);
            for (name, file) in files {
                let held = !file.damaged && matches!(LogFit::of(file, lsn), LogFit::TooEarly);
                match (candidates.is_empty(), held) {
                    (true, true) => skipped = Some(name),
                    _ => candidates.push((name.clone(), file.clone())),
                }
            }
            let done_with = skipped.cloned().or(last.map(str::to_string));
            (done_with, candidates)
        };
        for (name, file) in candidates {
            let Some(lsn) = self.sql.database(id, database).map(|d| d.lsn) else {
                return;
            };
            if file.damaged {
                break;
            }
            match LogFit::of(&file, lsn) {
                LogFit::TooEarly => {}
                LogFit::Applies => self.apply_log(id, database, &join_path(folder, &name), &file),
                LogFit::TooRecent => break,
            }
            done_with = Some(name);
        }
        // Then it deletes the backups it is done with past their retention;
        // one it has not restored yet stays, however old.
        if let Some(done_with) = done_with {
            let before = t.saturating_sub(config.file_retention_minutes.saturating_mul(60));
            self.folders
                .expire(folder, database, before, Some(&done_with));
        }
    }
}
