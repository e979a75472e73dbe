//! The Central Management Store: active in one pool, a standby copy in its
//! backup pool, replicas on every front end and Edge server. Replica status
//! is derived in `derive.rs`; the status, replication and failover cmdlets
//! (§3.3) are in `cmdlets/cms.rs`.
//!
//! Topology and configuration writes go through the active master
//! (PROCEDURES.md §2, JJ204678): while it is down and not failed over, the
//! cmdlets marked `through_cms` in the cmdlet table (`cmdlets/mod.rs`) and
//! the Topology Builder publishes in `CMS_PUBLISHES` fail, as they do in Lync.

use crate::lab::lync::CMS_DATABASES;
use crate::lab::network::Network;
use crate::lab::{FePool, LabState, Sql};
use crate::targets::OpError;
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
    /// The CMS moves to its backup pool, as Invoke-CsManagementServerFailover
    /// leaves it: the standby becomes the master, the old master the standby,
    /// and the replicas are re-pointed at the new master.
    pub(in crate::lab) fn cms_move_to_standby(&mut self) {
        if let Some(c) = self.lync.cms.as_mut() {
            if let Some(standby) = c.standby_pool.take() {
                c.standby_pool = Some(std::mem::replace(&mut c.active_pool, standby));
                for r in c.replicas.values_mut() {
                    r.stale_since = None;
                }
            }
        }
    }

    /// `cms-away-from:SITE` (staging): if the CMS is active in a pool of
    /// `site`, it fails over to its backup pool, as cms-failover would have
    /// before the site is lost; elsewhere nothing changes.
    pub(in crate::lab) fn cms_away_from(&mut self, site: &str) -> Result<String, String> {
        if !self.sites.contains_key(site) {
            return Err(format!("no site `{site}`"));
        }
        let Some(cms) = self.lync.cms.clone() else {
            return Ok("the estate has no CMS: nothing to move".to_string());
        };
        let in_site = |pool: &str| self.lync.pools.get(pool).is_some_and(|p| p.site == site);
        if !in_site(&cms.active_pool) {
            return Ok(format!(
                "the CMS is active in {}, not in {site}: nothing to move",
                cms.active_pool
            ));
        }
        let Some(standby) = cms.standby_pool.clone().filter(|b| !in_site(b)) else {
            return Err(format!(
                "the CMS pool {} is in {site} and has no backup pool outside it to fail over to",
                cms.active_pool
            ));
        };
        self.cms_move_to_standby();
        Ok(format!(
            "the CMS failed over from {} to {standby}",
            cms.active_pool
        ))
    }

    pub(in crate::lab) fn cms_available(&self) -> bool {
        self.lync
            .cms
            .as_ref()
            .is_some_and(|c| c.available(&self.lync.pools, &self.sql, &self.network()))
    }
}

/// The manual effects that are a Topology Builder publish.
pub(in crate::lab) const CMS_PUBLISHES: [&str; 4] = [
    "edge-next-hop",
    "edge-federation",
    "fe-edge-association",
    "publish-topology",
];

impl LabState {
    /// The error `what` (a cmdlet, or Topology Builder's publish) meets when
    /// it writes through a CMS that cannot be reached; none while it can.
    /// The text is SQL Server's connection failure, as Lync passes it on,
    /// with the store named and the way out.
    pub(in crate::lab) fn cms_write_refused(&self, what: &str) -> Option<OpError> {
        let cms = self.lync.cms.as_ref()?;
        if self.cms_available() {
            return None;
        }
        let store = self
            .lync
            .pools
            .get(&cms.active_pool)
            .map(|p| self.sql.name(&p.back_end.principal))
            .unwrap_or_default();
        Some(OpError::cmdlet(
            what,
            format!(
                "Command execution failed: the Central Management Store cannot be reached: \
                 A network-related or instance-specific error occurred while establishing a connection to SQL Server \
                 ({store}, Central Management Store of pool \"{}\"). The server was not found or was not accessible. \
                 Fail the Central Management Store over (Invoke-CsManagementServerFailover) and run the command again.",
                cms.active_pool
            ),
        ))
    }
}
