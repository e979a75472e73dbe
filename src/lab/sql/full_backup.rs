//! Full database backups and restores (PROCEDURES.md §3.13 steps 3–4):
//! `BACKUP DATABASE ... TO DISK ... WITH INIT` writes a file into the folder
//! model carrying the database's LSN and transactions; `RESTORE DATABASE
//! ... FROM DISK ... WITH REPLACE, RECOVERY` brings a database online from it.

use crate::lab::files::{split_path, BackupFile};
use crate::lab::sql::answers::key_ci;
use crate::lab::sql::answers::no_such_database;
use crate::lab::{desc, Database, DbState, LabState};
use crate::targets::OpError;
use serde_json::{json, Value};

use crate::lab::clock::{KIB, MIB};

/// `RESTORE HEADERONLY`'s BackupType of a full database backup.
pub const FULL_BACKUP: i64 = 1;

impl LabState {
    /// The size of a full backup of a database: its data, not its log.
    pub(in crate::lab) fn full_backup_size(&self, instance: &str, database: &str) -> u64 {
        let tx = self
            .sql
            .get(instance)
            .and_then(|i| key_ci(&i.databases, database).and_then(|k| i.databases.get(&k)))
            .map_or(0, |d| d.transactions);
        (64 * MIB).saturating_add(tx.saturating_mul(4 * KIB))
    }

    pub(in crate::lab) fn backup_database(
        &mut self,
        id: &str,
        database: &str,
        path: &str,
    ) -> Result<Value, OpError> {
        let key = self
            .sql
            .get(id)
            .and_then(|i| key_ci(&i.databases, database))
            .ok_or_else(|| no_such_database(database))?;
        let Some(db) = self.sql.database(id, &key).cloned() else {
            return Err(no_such_database(database));
        };
        match db.state {
            DbState::Online => {}
            DbState::Restoring => {
                return Err(OpError::sql(
                    927,
                    14,
                    format!("Database '{key}' cannot be opened. It is in the middle of a restore."),
                ))
            }
            other => {
                return Err(OpError::sql(
                    942,
                    14,
                    format!(
                        "Database '{key}' cannot be opened because it is {}.",
                        desc(&other).to_ascii_lowercase()
                    ),
                ))
            }
        }
        let (folder, name) = split_path(path);
        if name.is_empty() || !self.folder_reachable_from(id, folder) {
            return Err(OpError::sql(
                3201,
                16,
                format!(
                    "Cannot open backup device '{path}'. Operating system error 53(The network path was not found.)."
                ),
            ));
        }
        let file = BackupFile {
            database: key.clone(),
            backup_type: FULL_BACKUP,
            first_lsn: db.lsn,
            last_lsn: db.lsn,
            transactions: db.transactions,
            last_transaction_at: db.last_transaction_at,
            size: self.full_backup_size(id, &key),
            damaged: false,
            finished_at: self.elapsed(),
        };
        self.folders.put_file(folder, name, file);
        Ok(json!([]))
    }

    pub(in crate::lab) fn restore_database(
        &mut self,
        id: &str,
        database: &str,
        path: &str,
    ) -> Result<Value, OpError> {
        let file = self.read_backup(path)?;
        if file.backup_type != FULL_BACKUP {
            return Err(OpError::sql(
                3135,
                16,
                format!("The backup set in file '{path}' was created by BACKUP LOG and cannot be used for this restore operation."),
            ));
        }
        let key = self
            .sql
            .get(id)
            .and_then(|i| key_ci(&i.databases, database))
            .unwrap_or_else(|| database.to_string());
        if let Some(db) = self.sql.database(id, &key) {
            crate::lab::sql::answers::restore_needs_exclusive(&key, db)?;
        }
        if let Some(i) = self.sql.get_mut(id) {
            i.databases.insert(
                key,
                Database {
                    state: DbState::Online,
                    mirroring: None,
                    lsn: file.last_lsn,
                    transactions: file.transactions,
                    last_transaction_at: file.last_transaction_at,
                    sessions: Vec::new(),
                },
            );
        }
        Ok(json!([]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::*;
    use crate::op::Op;

    fn bak() -> String {
        format!("{SHARE}\\mgc_full.bak")
    }

    #[test]
    fn full_backup_and_restore_carry_the_data_across() {
        let mut lab = litware_at(20);
        let backup = Op::BackupDatabase {
            instance: "pcsql-red1".into(),
            database: "mgc".into(),
            file: bak(),
        };
        lab.perform(&backup).result.unwrap();
        let f = lab.folders[SHARE].files["mgc_full.bak"].clone();
        assert_eq!((f.backup_type, f.transactions), (FULL_BACKUP, 20 * 120));
        // Log shipping ignores full backups in the share.
        lab.advance(20 * 60);
        assert!(!lab.folders[COPY].files.contains_key("mgc_full.bak"));
        let header = lab
            .perform(&Op::RestoreHeaderOnly {
                instance: "pcsql-dub2".into(),
                file: bak(),
            })
            .result
            .unwrap();
        assert_eq!(header[0]["BackupType"], 1);

        let restore = |id: &str| Op::RestoreDatabase {
            instance: id.into(),
            database: "mgc".into(),
            file: bak(),
        };
        // A mirrored database, a database in use: refused.
        assert_eq!(
            lab.perform(&restore("pcsql-red2"))
                .result
                .unwrap_err()
                .sql_number(),
            Some(3104)
        );
        assert_eq!(
            lab.perform(&restore("pcsql-dub1"))
                .result
                .unwrap_err()
                .sql_number(),
            Some(3101)
        );
        lab.perform(&restore("pcsql-dub2")).result.unwrap();
        let db = &lab.sql["pcsql-dub2"].databases["mgc"];
        assert_eq!(
            (db.state, db.transactions, db.lsn),
            (DbState::Online, 20 * 120, f.last_lsn)
        );
        // A restoring copy cannot be backed up; a log backup cannot be restored as a database.
        let busy = Op::BackupDatabase {
            instance: "pcsql-red2".into(),
            database: "mgc".into(),
            file: bak(),
        };
        assert_eq!(
            lab.perform(&busy).result.unwrap_err().sql_number(),
            Some(927)
        );
        let log = Op::RestoreDatabase {
            instance: "pcsql-dub2".into(),
            database: "mgc".into(),
            file: format!("{SHARE}\\{}", trn(5)),
        };
        assert_eq!(
            lab.perform(&log).result.unwrap_err().sql_number(),
            Some(3135)
        );
        let nowhere = Op::BackupDatabase {
            instance: "pcsql-red1".into(),
            database: "mgc".into(),
            file: "\\\\nowhere\\x\\mgc.bak".into(),
        };
        assert_eq!(
            lab.perform(&nowhere).result.unwrap_err().sql_number(),
            Some(3201)
        );
    }
}
