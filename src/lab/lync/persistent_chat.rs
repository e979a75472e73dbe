//! Persistent Chat pools: where mgc lives by topology and which copy
//! serves users now.

use crate::lab::{Database, LabState, PoolState};
use serde::{Deserialize, Serialize};

/// The one Persistent Chat database the lab fails over; mgccomp never is.
pub const CHAT_DATABASE: &str = "mgc";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatPool {
    pub state: PoolState,
    pub active_servers: Vec<String>,
    pub servers: Vec<String>,
    pub mgc: ChatTopology,
    pub transactions_per_minute: u64,
    /// The log-shipping configuration of the topology, for re-creating it.
    #[serde(default)]
    pub log_shipping: Option<crate::estate::LogShipping>,
}

/// Where the pool's mgc lives: the topology as published, by instance id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatTopology {
    pub primary: String,
    pub mirror: Option<String>,
    pub witness: Option<String>,
    pub backup: String,
    pub backup_mirror: Option<String>,
    pub backup_witness: Option<String>,
}

impl ChatTopology {
    /// The instances that hold mgc while the pool is in `state`, the
    /// designated principal first.
    pub fn candidates(&self, state: PoolState) -> Vec<&str> {
        let (first, second) = match state {
            PoolState::Normal => (&self.primary, &self.mirror),
            PoolState::FailedOver => (&self.backup, &self.backup_mirror),
        };
        std::iter::once(first.as_str())
            .chain(second.as_deref())
            .collect()
    }

    pub fn holds(&self, instance: &str) -> bool {
        [
            Some(&self.primary),
            self.mirror.as_ref(),
            Some(&self.backup),
            self.backup_mirror.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|i| i == instance)
    }
}

impl LabState {
    /// The instance whose mgc is the pool's current principal by role and
    /// state, whether or not it is reachable.
    pub(in crate::lab) fn principal_of(&self, pool: &ChatPool) -> Option<String> {
        pool.mgc
            .candidates(pool.state)
            .into_iter()
            .find(|id| {
                self.sql
                    .database(id, CHAT_DATABASE)
                    .is_some_and(Database::is_principal_online)
            })
            .map(str::to_string)
    }

    /// The site the pool's primary mgc is in now: the principal's for the
    /// pool state; else any copy that is principal (during failback, §3.13,
    /// the restored primary is live before the pool returns to Normal, and
    /// its servers are made active first); else the designated primary's.
    pub(in crate::lab) fn primary_site(&self, pool: &ChatPool) -> String {
        let any_principal = || {
            [PoolState::Normal, PoolState::FailedOver]
                .into_iter()
                .flat_map(|s| pool.mgc.candidates(s))
                .find(|id| {
                    self.sql
                        .database(id, CHAT_DATABASE)
                        .is_some_and(Database::is_principal_online)
                })
                .map(str::to_string)
        };
        let id = self
            .principal_of(pool)
            .or_else(any_principal)
            .unwrap_or_else(|| match pool.state {
                PoolState::Normal => pool.mgc.primary.clone(),
                PoolState::FailedOver => pool.mgc.backup.clone(),
            });
        self.sql
            .get(&id)
            .map(|i| i.site.clone())
            .unwrap_or_default()
    }

    /// The instance users' writes go to, if they can write at all: the
    /// principal is reachable, keeps quorum, and an active server is up.
    pub(in crate::lab) fn writer_of(&self, pool: &ChatPool) -> Option<String> {
        let id = self.principal_of(pool)?;
        if !self.instance_up(&id) || !pool.active_servers.iter().any(|s| self.server_up(s)) {
            return None;
        }
        // With a witness configured, a principal that sees neither its
        // partner nor the witness has lost quorum and stops serving.
        if !self.sql.has_quorum(&id, CHAT_DATABASE, &self.network()) {
            return None;
        }
        Some(id)
    }
}
