//! SQL Server as the lab simulates it.

pub(in crate::lab) mod answers;
pub(in crate::lab) mod full_backup;
pub(in crate::lab) mod log_shipping;
pub(in crate::lab) mod mirroring;
pub(in crate::lab) mod statements;

use crate::lab::{LabState, Msdb};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The first LSN of every Persistent Chat database the lab creates: a value
/// of the size SQL Server shows, so runbooks see realistic numbers.
pub const LSN_BASE: i64 = 34_000_000_010_000_001;
/// Each committed transaction moves the log this far.
pub const LSN_PER_TRANSACTION: i64 = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlInstance {
    pub server: String,
    pub instance: Option<String>,
    pub site: String,
    pub up: bool,
    pub databases: BTreeMap<String, Database>,
    pub msdb: Msdb,
}

impl SqlInstance {
    /// `server\instance`, as SQL Server names itself.
    pub fn name(&self) -> String {
        match &self.instance {
            Some(i) => format!("{}\\{}", self.server, i),
            None => self.server.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub state: DbState,
    pub mirroring: Option<Mirroring>,
    /// The next LSN: where redo would start.
    pub lsn: i64,
    pub transactions: u64,
    /// Elapsed seconds when the last transaction this copy holds was committed.
    pub last_transaction_at: u64,
    pub sessions: Vec<Session>,
}

impl Database {
    /// Can this copy take writes as far as its own role goes?
    pub fn is_principal_online(&self) -> bool {
        self.state == DbState::Online
            && self
                .mirroring
                .as_ref()
                .is_none_or(|m| m.role == MirrorRole::Principal)
    }
}

/// `sys.databases.state_desc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DbState {
    Online,
    Restoring,
    Recovering,
    RecoveryPending,
    Suspect,
    Emergency,
    Offline,
}

/// One side's record of a mirroring session (`sys.database_mirroring`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mirroring {
    pub role: MirrorRole,
    /// The partner's instance id.
    pub partner: String,
    /// The witness's instance id.
    pub witness: Option<String>,
    pub state: MirrorState,
    pub safety: Safety,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MirrorRole {
    Principal,
    Mirror,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MirrorState {
    Synchronized,
    Synchronizing,
    Suspended,
    Disconnected,
    PendingFailover,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Safety {
    Full,
    Off,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub session_id: i64,
    pub login_name: String,
    pub host_name: String,
    pub program_name: String,
}

impl LabState {
    /// Up, on a server that is up: something a client can connect to.
    pub(in crate::lab) fn instance_up(&self, id: &str) -> bool {
        self.sql
            .get(id)
            .is_some_and(|i| i.up && self.server_up(&i.server))
    }

    /// `server\instance` of an instance id; the id itself if it is unknown.
    pub(in crate::lab) fn instance_name(&self, id: &str) -> String {
        self.sql
            .get(id)
            .map_or_else(|| id.to_string(), SqlInstance::name)
    }

    pub(in crate::lab) fn database(&self, instance: &str, database: &str) -> Option<&Database> {
        self.sql.get(instance)?.databases.get(database)
    }

    pub(in crate::lab) fn database_mut(
        &mut self,
        instance: &str,
        database: &str,
    ) -> Option<&mut Database> {
        self.sql.get_mut(instance)?.databases.get_mut(database)
    }
}
