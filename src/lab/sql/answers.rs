//! How the lab's SQL Server instances answer the T-SQL ops: rows shaped as a
//! client would receive them (column names as in the SELECT the op renders),
//! and errors with SQL Server's numbers, classes and message texts, because
//! runbooks match on them (4326 = already applied, 4305 = gap, ...).

use crate::lab::files::BackupFile;
use crate::lab::network::Network;
use crate::lab::sql::lsn;
use crate::lab::{desc, DbState, LabState, RestoreHistory, CHAT_DATABASE};
use crate::op::Op;
use crate::targets::OpError;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What SqlClient reports when the server does not answer.
pub const CONNECT_TIMEOUT: &str =
    "A network-related or instance-specific error occurred while establishing \
     a connection to SQL Server (TCP Provider: connection timed out)";

/// Where a log backup falls relative to a database's redo point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFit {
    /// Everything in it is already applied (msg 4326).
    TooEarly,
    /// It contains the redo point: apply it.
    Applies,
    /// It starts after the redo point: a backup is missing (msg 4305).
    TooRecent,
}

impl LogFit {
    pub fn of(file: &BackupFile, lsn: crate::lab::sql::Lsn) -> LogFit {
        if file.last_lsn <= lsn {
            LogFit::TooEarly
        } else if file.first_lsn > lsn {
            LogFit::TooRecent
        } else {
            LogFit::Applies
        }
    }
}

/// The stored key equal to `name` ignoring case: SQL Server's default
/// collation compares names that way.
pub fn key_ci<V>(map: &BTreeMap<String, V>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

pub(in crate::lab) fn no_such_database(database: &str) -> OpError {
    OpError::sql(
        911,
        16,
        format!(
            "Database '{database}' does not exist. Make sure that the name is entered correctly."
        ),
    )
}

impl LabState {
    /// A known instance that no client can connect to now (what a ping of
    /// it would answer, asked without moving the clock).
    pub fn unreachable(&self, id: &str) -> bool {
        self.sql.contains_key(id) && !self.instance_up(id)
    }

    /// Can a client connect to this instance now?
    fn connect(&self, id: &str) -> Result<(), OpError> {
        if !self.sql.contains_key(id) {
            return Err(Self::not_simulated(
                "SQL instance",
                id,
                self.sql.keys().cloned(),
            ));
        }
        if !self.instance_up(id) {
            return Err(OpError::Unreachable {
                host: self.sql.name(id),
                message: CONNECT_TIMEOUT.to_string(),
            });
        }
        Ok(())
    }

    /// The stored name of a database of a (known) instance.
    fn db_key(&self, id: &str, database: &str) -> Option<String> {
        key_ci(&self.sql.get(id)?.databases, database)
    }

    pub(in crate::lab) fn sql_op(&mut self, op: &Op) -> Result<Value, OpError> {
        let id = op.host();
        self.connect(&id)?;
        match op {
            Op::SqlPing { .. } => Ok(json!([{"server_name": self.sql.name(&id)}])),
            Op::DatabaseState { database, .. } => Ok(self.rows_of(
                &id,
                database,
                |name, db| json!({"name": name, "state_desc": desc(&db.state)}),
            )),
            Op::MirroringState { database, .. } => {
                let key = self.db_key(&id, database);
                Ok(Value::Array(
                    key.map(|k| self.mirroring_row(&id, &k))
                        .into_iter()
                        .collect(),
                ))
            }
            Op::LogShippingSecondary { database, .. } => Ok(self.log_shipping_row(&id, database)),
            // Lab jobs run in an instant, so none is ever seen running.
            Op::RunningJobs { .. } => Ok(json!([])),
            Op::RestoreHeaderOnly { file, .. } => {
                let f = self.read_backup(file)?;
                Ok(json!([{
                    "BackupType": f.backup_type,
                    "DatabaseName": f.database,
                    "FirstLSN": lsn::value(f.first_lsn),
                    "LastLSN": lsn::value(f.last_lsn),
                    "BackupFinishDate": self.stamp(f.finished_at),
                    "BackupSize": f.size,
                }]))
            }
            // redo_start_lsn is NULL unless the database is restoring.
            Op::RedoStartLsn { database, .. } => Ok(self.rows_of(&id, database, |_, db| {
                let redo = (db.state == DbState::Restoring).then_some(lsn::value(db.lsn));
                json!({"redo_start_lsn": redo})
            })),
            Op::DatabaseSessions { database, .. } => {
                let sessions = self
                    .db_key(&id, database)
                    .and_then(|k| self.sql.database(&id, &k))
                    .map(|d| d.sessions.clone());
                let rows = sessions.unwrap_or_default().into_iter().map(|s| {
                    json!({
                        "session_id": s.session_id,
                        "login_name": s.login_name,
                        "host_name": s.host_name,
                        "program_name": s.program_name,
                    })
                });
                Ok(Value::Array(rows.collect()))
            }
            Op::DeleteLogShippingSecondary { database, .. } => self.delete_secondary(&id, database),
            Op::RestoreLog { database, file, .. } => self.restore_log(&id, database, file),
            Op::KillSession { session_id, .. } => self.kill(&id, *session_id),
            Op::RecoverDatabase { database, .. } => self.recover(&id, database),
            Op::MirrorFailover { database, .. } => {
                self.sql
                    .mirror_failover(&id, database, &Network::new(&self.servers, &self.links))
            }
            Op::MirrorForceService { database, .. } => self.sql.mirror_force_service(
                &id,
                database,
                &Network::new(&self.servers, &self.links),
            ),
            Op::MirrorOff { database, .. } => {
                self.sql
                    .mirror_off(&id, database, &Network::new(&self.servers, &self.links))
            }
            Op::BackupDatabase { database, file, .. } => self.backup_database(&id, database, file),
            Op::RestoreDatabase { database, file, .. } => {
                self.restore_database(&id, database, file)
            }
            Op::Query { text, .. } => self.query(&id, text),
            Op::Exec { text, .. } => self.exec(&id, text),
            _ => Err(OpError::NotSimulated {
                message: format!("{op:?} is not a SQL op"),
            }),
        }
    }

    /// No row if the database is absent, else the row `row` makes of it.
    fn rows_of(
        &self,
        id: &str,
        database: &str,
        row: impl Fn(&str, &crate::lab::Database) -> Value,
    ) -> Value {
        let found = self
            .db_key(id, database)
            .and_then(|k| self.sql.database(id, &k).map(|db| row(&k, db)));
        Value::Array(found.into_iter().collect())
    }

    fn mirroring_row(&self, id: &str, name: &str) -> Value {
        let Some(m) = self
            .sql
            .database(id, name)
            .and_then(|d| d.mirroring.as_ref())
        else {
            // sys.database_mirroring has a row for every database, NULLs when unmirrored.
            return json!({
                "name": name,
                "mirroring_role_desc": null,
                "mirroring_state_desc": null,
                "mirroring_safety_level_desc": null,
                "mirroring_partner_instance": null,
                "mirroring_witness_name": null,
                "mirroring_witness_state_desc": null,
            });
        };
        let (witness_name, witness_state) = match &m.witness {
            Some(w) => {
                let server = self.sql.get(w).map_or(w.as_str(), |i| i.server.as_str());
                let state = if self.instance_up(w) {
                    "CONNECTED"
                } else {
                    "DISCONNECTED"
                };
                (format!("TCP://{server}:7022"), state)
            }
            None => (String::new(), "UNKNOWN"),
        };
        json!({
            "name": name,
            "mirroring_role_desc": desc(&m.role),
            "mirroring_state_desc": desc(&m.state),
            "mirroring_safety_level_desc": desc(&m.safety),
            "mirroring_partner_instance": self.sql.name(&m.partner),
            "mirroring_witness_name": witness_name,
            "mirroring_witness_state_desc": witness_state,
        })
    }

    fn log_shipping_row(&self, id: &str, database: &str) -> Value {
        let secondaries = self.sql.get(id).map(|i| &i.msdb.log_shipping_secondary);
        let Some(s) = secondaries.and_then(|m| m.get(&key_ci(m, database)?)) else {
            return json!([]);
        };
        json!([{
            "primary_server": self.sql.name(&s.primary_instance),
            "primary_database": s.primary_database,
            "backup_source_directory": s.backup_source_directory,
            "backup_destination_directory": s.backup_destination_directory,
            "last_copied_file": s.last_copied_file,
            "last_copied_date": s.last_copied_at,
            "last_restored_file": s.last_restored_file,
            "last_restored_date": s.last_restored_at,
            "restore_mode": s.restore_mode,
            "restore_delay": s.restore_delay,
            "copy_job": s.copy_job,
            "restore_job": s.restore_job,
        }])
    }

    /// A log backup as `RESTORE` reads it: the device opens and the media is sound.
    pub(in crate::lab) fn read_backup(&self, path: &str) -> Result<BackupFile, OpError> {
        let (_, file) = self.folders.open_path(path, &self.network()).map_err(|e| {
            OpError::sql(
                3201,
                16,
                format!(
                    "Cannot open backup device '{path}'. Operating system error {}({}).",
                    e.os_code(),
                    e.text()
                ),
            )
        })?;
        if file.damaged {
            return Err(OpError::sql(
                3241,
                16,
                format!(
                    "The media family on device '{path}' is incorrectly formed. SQL Server cannot process this media family."
                ),
            ));
        }
        Ok(file.clone())
    }

    fn delete_secondary(&mut self, id: &str, database: &str) -> Result<Value, OpError> {
        let msdb = self
            .sql
            .get_mut(id)
            .map(|i| &mut i.msdb.log_shipping_secondary);
        let removed = msdb.and_then(|m| m.remove(&key_ci(m, database)?));
        match removed {
            Some(_) => Ok(json!([{"return_value": 0}])),
            None => Err(OpError::sql(
                32010,
                16,
                format!("Database {database} does not exist as log shipping secondary."),
            )),
        }
    }

    fn restore_log(&mut self, id: &str, database: &str, path: &str) -> Result<Value, OpError> {
        let key = self
            .db_key(id, database)
            .ok_or_else(|| no_such_database(database))?;
        let lsn = match self.sql.database(id, &key) {
            Some(db) if db.state == DbState::Restoring => db.lsn,
            _ => {
                return Err(OpError::sql(
                    3117,
                    16,
                    "The log or differential backup cannot be restored because no files are ready to rollforward.",
                ))
            }
        };
        let file = self.read_backup(path)?;
        if !file.database.eq_ignore_ascii_case(&key) {
            return Err(OpError::sql(
                3154,
                16,
                format!("The backup set holds a backup of a database other than the existing '{key}' database."),
            ));
        }
        match LogFit::of(&file, lsn) {
            LogFit::TooEarly => Err(OpError::sql(
                4326,
                16,
                format!(
                    "The log in this backup set terminates at LSN {}, which is too early to apply to the database. \
                     A more recent log backup that includes LSN {lsn} can be restored.",
                    file.last_lsn
                ),
            )),
            LogFit::TooRecent => Err(OpError::sql(
                4305,
                16,
                format!(
                    "The log in this backup set begins at LSN {}, which is too recent to apply to the database. \
                     An earlier log backup that includes LSN {lsn} can be restored.",
                    file.first_lsn
                ),
            )),
            LogFit::Applies => {
                self.apply_log(id, &key, path, &file);
                Ok(json!([]))
            }
        }
    }

    /// Roll `database` forward through `file`, as RESTORE LOG and the restore job do.
    pub(in crate::lab) fn apply_log(
        &mut self,
        id: &str,
        database: &str,
        path: &str,
        file: &BackupFile,
    ) {
        let at = self.stamp(self.elapsed());
        let cutoff = self.stamp(
            self.elapsed()
                .saturating_sub(crate::lab::sql::log_shipping::HISTORY_RETENTION_MINUTES * 60),
        );
        let Some(instance) = self.sql.get_mut(id) else {
            return;
        };
        if let Some(db) = instance.databases.get_mut(database) {
            db.lsn = file.last_lsn;
            db.transactions = file.transactions;
            db.last_transaction_at = file.last_transaction_at;
        }
        let history = &mut instance.msdb.restore_history;
        history.push(RestoreHistory {
            database: database.to_string(),
            file: path.to_string(),
            at: at.clone(),
        });
        // Rows are kept for the log-shipping history retention (docs/
        // architecture.md, "The lab"): stamps sort as they fall in time.
        let older = history.partition_point(|r| r.at < cutoff);
        history.drain(..older);
        if let Some(s) = instance.msdb.log_shipping_secondary.get_mut(database) {
            s.last_restored_file = Some(path.to_string());
            s.last_restored_at = Some(at);
        }
    }

    fn kill(&mut self, id: &str, session_id: i64) -> Result<Value, OpError> {
        // Sessions up to 50 belong to the engine itself.
        if session_id <= 50 {
            return Err(OpError::sql(6107, 14, "Only user processes can be killed."));
        }
        let databases = self.sql.get_mut(id).map(|i| i.databases.values_mut());
        for db in databases.into_iter().flatten() {
            let before = db.sessions.len();
            db.sessions.retain(|s| s.session_id != session_id);
            if db.sessions.len() != before {
                return Ok(json!([]));
            }
        }
        Err(OpError::sql(
            6106,
            16,
            format!("Process ID {session_id} is not an active process ID."),
        ))
    }

    fn recover(&mut self, id: &str, database: &str) -> Result<Value, OpError> {
        let key = self
            .db_key(id, database)
            .ok_or_else(|| no_such_database(database))?;
        let Some(db) = self.sql.database(id, &key) else {
            return Err(no_such_database(database));
        };
        match db.state {
            DbState::Restoring => {}
            DbState::Online => {
                return Err(OpError::sql(
                    3153,
                    16,
                    "The database is already fully recovered.",
                ))
            }
            other => {
                return Err(OpError::NotSimulated {
                    message: format!(
                        "RESTORE WITH RECOVERY of a database in state {}",
                        desc(&other)
                    ),
                })
            }
        }
        restore_needs_exclusive(&key, db)?;
        let (transactions, last_transaction_at) = (db.transactions, db.last_transaction_at);
        if let Some(db) = self.sql.database_mut(id, &key) {
            db.state = DbState::Online;
        }
        if key.eq_ignore_ascii_case(CHAT_DATABASE) {
            self.measure_recovery(id, &key, transactions, last_transaction_at);
        }
        Ok(json!([]))
    }

    /// Record the RPO of bringing a pool's mgc online here, then make this
    /// copy the users' new lineage: what it holds is what they now have.
    fn measure_recovery(
        &mut self,
        id: &str,
        database: &str,
        transactions: u64,
        last_transaction_at: u64,
    ) {
        let pool = self
            .lync
            .persistent_chat
            .iter()
            .find(|(_, p)| p.mgc.holds(id))
            .map(|(name, _)| name.clone());
        let Some(pool) = pool else { return };
        let at = self.elapsed();
        let work = self.workload.entry(pool.clone()).or_default();
        let transactions_lost = work.committed.saturating_sub(transactions);
        let seconds_lost = work.last_commit_at.saturating_sub(last_transaction_at);
        work.committed = transactions;
        work.last_commit_at = last_transaction_at;
        self.measurements.recoveries.push(crate::lab::Recovery {
            at,
            pool,
            instance: id.to_string(),
            database: database.to_string(),
            transactions_lost,
            minutes_lost: crate::lab::lync::pools::minutes_tenths(seconds_lost),
        });
    }
}

/// A RESTORE needs the database out of mirroring and free of sessions.
pub(in crate::lab) fn restore_needs_exclusive(
    key: &str,
    db: &crate::lab::Database,
) -> Result<(), OpError> {
    if db.mirroring.is_some() {
        return Err(OpError::sql(
            3104,
            16,
            format!(
                "RESTORE cannot operate on database '{key}' because it is configured for database mirroring. \
                 If you intend to restore the database, use ALTER DATABASE to remove mirroring."
            ),
        ));
    }
    if !db.sessions.is_empty() {
        return Err(OpError::sql(
            3101,
            16,
            "Exclusive access could not be obtained because the database is in use.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
