//! SQL Server as the lab simulates it: instances, their databases and the
//! sessions on them (`answers` answers the T-SQL ops, `statements` the
//! runbook-written T-SQL), mirroring (`mirroring`), msdb's log-shipping
//! configuration and history (`log_shipping`) and full backups
//! (`full_backup`).
//!
//! Whether an instance can be reached is the network's to say: every method
//! that needs it takes a [`Network`] rather than the whole lab, so nothing in
//! SQL Server's rules depends on the Lync side.

pub(in crate::lab) mod agent;
pub(in crate::lab) mod answers;
pub(in crate::lab) mod full_backup;
pub(in crate::lab) mod log_shipping;
pub mod lsn;
pub(in crate::lab) mod mirroring;
pub(in crate::lab) mod statements;

use crate::lab::keyed::keyed_part;
use crate::lab::network::Network;
use crate::lab::{LabState, Msdb};
pub use lsn::Lsn;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The first LSN of every Persistent Chat database the lab creates: a value
/// of the size SQL Server shows, so runbooks see realistic numbers.
pub const LSN_BASE: Lsn = 34_000_000_010_000_001;
/// Each committed transaction moves the log this far.
pub const LSN_PER_TRANSACTION: Lsn = 10;

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
    #[serde(with = "lsn")]
    pub lsn: Lsn,
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

keyed_part!(
    /// The SQL Server instances by id: their databases, mirroring sessions
    /// and msdb.
    Sql,
    SqlInstance
);

impl Sql {
    /// Up, on a server that is up: something a client can connect to.
    pub(in crate::lab) fn instance_up(&self, id: &str, net: &Network) -> bool {
        self.get(id)
            .is_some_and(|i| i.up && net.server_up(&i.server))
    }

    /// `server\instance` of an instance id; the id itself if it is unknown.
    pub(in crate::lab) fn name(&self, id: &str) -> String {
        self.get(id)
            .map_or_else(|| id.to_string(), SqlInstance::name)
    }

    pub(in crate::lab) fn database(&self, instance: &str, database: &str) -> Option<&Database> {
        self.get(instance)?.databases.get(database)
    }

    pub(in crate::lab) fn database_mut(
        &mut self,
        instance: &str,
        database: &str,
    ) -> Option<&mut Database> {
        self.get_mut(instance)?.databases.get_mut(database)
    }
}

impl LabState {
    /// Up, on a server that is up: something a client can connect to.
    pub(in crate::lab) fn instance_up(&self, id: &str) -> bool {
        self.sql.instance_up(id, &self.network())
    }
}
