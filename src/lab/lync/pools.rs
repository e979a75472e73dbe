//! Front End pools: topology, health (front ends up, Back End available),
//! where their users are served and whether they are in resiliency mode, and
//! the users' data on each copy (the home pool's and the backup pool's).
//!
//! Health and resiliency are derived (`derive.rs`) after anything changes;
//! the clock stops at every resiliency deadline, so resiliency mode begins
//! exactly 30 simulated minutes after a Back End became unavailable. The pool
//! failover and failback cmdlets are in `cmdlets/pools.rs`.

use crate::lab::network::Network;
use crate::lab::{LabState, PoolState, Sql};
use serde::{Deserialize, Serialize};

/// A Front End pool: topology, health, where its users are served, and
/// the state of their data between it and its backup pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FePool {
    pub site: String,
    pub backup_pool: Option<String>,
    /// Normal, or FailedOver: its users are served by the backup pool.
    pub state: PoolState,
    /// Some front end is up.
    pub up: bool,
    /// The active Central Management Store master is in this pool.
    pub hosts_cms: bool,
    /// A planned failover made the pool read-only until it fails back.
    pub read_only: bool,
    pub back_end: BackEndState,
    pub users: PoolUsers,
    /// "Associate Edge Pool (for media components)".
    pub edge_pool: Option<String>,
    /// The latest LIS backup was restored into this pool (§3.4 step 3).
    pub lis_restored: bool,
    pub conference_content: ConferenceContent,
    pub data: PoolData,
    pub front_ends: Vec<String>,
    pub edition: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackEndState {
    /// `mirroring`, `cluster` or `none`.
    pub ha: String,
    /// The topology's primary, mirror and witness (SQL instance ids).
    pub principal: String,
    pub mirror: Option<String>,
    pub witness: Option<String>,
    /// The instance whose User databases hold the principal role now.
    pub current_principal: Option<String>,
    /// Every User database is served: principal online, up, with quorum.
    pub available: bool,
    pub unavailable_since: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolUsers {
    pub homed: u64,
    /// The pool their sessions and data are served by now.
    pub served_by: String,
    pub resiliency_mode: bool,
    pub resiliency_since: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConferenceContent {
    pub in_sync: bool,
}

/// The pool's users' data (contacts, presence, conferences): what the users
/// made, and what each copy holds — the home pool's Back End and the backup
/// pool's — that the Backup Service replicates between.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolData {
    /// Changes users made, as they see them.
    pub changes: u64,
    pub last_change_at: u64,
    pub changes_per_minute: u64,
    pub home_copy: DataCopy,
    pub backup_copy: DataCopy,
    /// Changes-per-minute accrue per second; the remainder in sixtieths.
    pub carry: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCopy {
    pub changes: u64,
    /// When the last change this copy holds was made.
    pub last_change_at: u64,
}

/// Users enter resiliency mode this long after their Back End became unavailable [S0].
pub const RESILIENCY_AFTER: u64 = 30 * 60;

/// Minutes, to a tenth, of `seconds`.
pub(in crate::lab) fn minutes_tenths(seconds: u64) -> f64 {
    // In u128, so no lab clock can overflow it (issue 11, finding 14).
    let tenths = (u128::from(seconds) * 10 + 30) / 60;
    tenths as f64 / 10.0
}

impl FePool {
    /// The instances that may hold the pool's databases: primary, then mirror.
    pub(in crate::lab) fn back_end_candidates(&self) -> Vec<&str> {
        std::iter::once(self.back_end.principal.as_str())
            .chain(self.back_end.mirror.as_deref())
            .collect()
    }

    /// Every database of `databases` is served by the pool's Back End.
    pub(in crate::lab) fn serves(&self, databases: &[&str], sql: &Sql, net: &Network) -> bool {
        let c = self.back_end_candidates();
        databases
            .iter()
            .all(|db| sql.serving_copy(&c, db, net).is_some())
    }

    /// The pool is up and its User databases are available.
    pub(in crate::lab) fn working(&self) -> bool {
        self.up && self.back_end.available
    }
}

impl LabState {
    /// The instances that may hold a pool's databases: primary, then mirror.
    pub(in crate::lab) fn back_end_candidates(&self, pool: &str) -> Vec<String> {
        self.lync.pools.get(pool).map_or_else(Vec::new, |p| {
            p.back_end_candidates()
                .into_iter()
                .map(str::to_string)
                .collect()
        })
    }

    /// Every database of `databases` is served by the pool's Back End.
    pub(in crate::lab) fn pool_serves(&self, pool: &str, databases: &[&str]) -> bool {
        self.lync
            .pools
            .get(pool)
            .is_some_and(|p| p.serves(databases, &self.sql, &self.network()))
    }

    /// The pool is up and its User databases are available.
    pub(in crate::lab) fn pool_working(&self, pool: &str) -> bool {
        self.lync.pools.get(pool).is_some_and(FePool::working)
    }
}
