//! The Central Management Store: active in one pool, a standby copy in its
//! backup pool, replicas on every front end and Edge server. Replica status
//! is derived in `derive.rs`; the status, replication and failover cmdlets
//! (§3.3) are in `cmdlets/cms.rs`.

use crate::lab::lync::CMS_DATABASES;
use crate::lab::network::Network;
use crate::lab::{FePool, LabState, Sql};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cms {
    /// The pool where the active master runs.
    pub active_pool: String,
    /// Its backup pool, where the standby copy lives.
    pub standby_pool: Option<String>,
    /// One replica per front end and Edge server.
    pub replicas: BTreeMap<String, Replica>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    pub up_to_date: bool,
    /// When it stopped being up to date; none while it is.
    pub stale_since: Option<u64>,
}

impl Cms {
    /// The active master can be used: its pool is up and serves xds and lis.
    pub(in crate::lab) fn available(
        &self,
        pools: &BTreeMap<String, FePool>,
        sql: &Sql,
        net: &Network,
    ) -> bool {
        pools
            .get(&self.active_pool)
            .is_some_and(|p| p.up && p.serves(&CMS_DATABASES, sql, net))
    }
}

impl LabState {
    pub(in crate::lab) fn cms_available(&self) -> bool {
        self.lync
            .cms
            .as_ref()
            .is_some_and(|c| c.available(&self.lync.pools, &self.sql, &self.network()))
    }
}
