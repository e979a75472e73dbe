//! The Backup Service between paired pools (§3.6, §3.7): every sync
//! interval, each direction P→Q replicates the user data P serves whose
//! other copy is at Q (P's own users while P serves them; Q's users while
//! they are failed over to P), if both pools run with their Back Ends and
//! the link between their sites is up. Status is per direction and module,
//! derived in `derive.rs`; the cmdlets are in `cmdlets/backup_service.rs`.

use crate::lab::{LabState, PoolState};
use crate::time::parse_hms;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupServiceState {
    /// `hh:mm:ss`.
    pub sync_interval: String,
    /// `P1->P2` → module identity → status of that direction.
    pub directions: BTreeMap<String, BTreeMap<String, ModuleStatus>>,
}

impl Default for BackupServiceState {
    fn default() -> Self {
        BackupServiceState {
            sync_interval: "00:02:00".to_string(),
            directions: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleStatus {
    pub export: ExportStatus,
    pub import: ImportStatus,
    /// When this module last exported successfully in this direction.
    pub last_export_at: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ExportStatus {
    FinalState,
    SteadyState,
    NotInitialized,
    NonSteadyState,
    ErrorState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ImportStatus {
    NormalState,
    ErrorState,
}

pub const PRESENCE_FOCUS: &str = "UserServices.PresenceFocus";
pub const DATA_CONF: &str = "ConfServices.DataConf";
pub const CMS_MASTER: &str = "CentralMgmt.CMSMaster";
pub const MODULES: [&str; 3] = [PRESENCE_FOCUS, DATA_CONF, CMS_MASTER];

/// `P1->P2`.
pub fn direction(from: &str, to: &str) -> String {
    format!("{from}->{to}")
}

/// A module's dotted name from a dotted or short one, ignoring case.
pub(in crate::lab) fn module_named(name: &str) -> Option<&'static str> {
    MODULES.into_iter().find(|m| {
        m.eq_ignore_ascii_case(name)
            || m.split('.')
                .nth(1)
                .is_some_and(|short| short.eq_ignore_ascii_case(name))
    })
}

impl LabState {
    pub(in crate::lab) fn sync_interval_seconds(&self) -> u64 {
        parse_hms(&self.lync.backup_service.sync_interval)
            .unwrap_or(120)
            .max(1)
    }

    /// Every direction of every pair has replicated user data through a
    /// sync at or after `since` (a drill's `backup-synced` lead-in).
    pub fn backup_synced_since(&self, since: u64) -> bool {
        self.lync.backup_service.directions.values().all(|modules| {
            modules
                .get(PRESENCE_FOCUS)
                .and_then(|m| m.last_export_at)
                .is_some_and(|t| t >= since)
        })
    }

    /// Every (pool, its backup) pair, each direction once.
    pub(in crate::lab) fn backup_directions(&self) -> Vec<(String, String)> {
        self.lync
            .pools
            .iter()
            .filter_map(|(n, p)| {
                let b = p.backup_pool.as_ref()?;
                self.lync
                    .pools
                    .contains_key(b)
                    .then(|| (n.clone(), b.clone()))
            })
            .collect()
    }

    /// The Backup Service can replicate from `from` to `to` now.
    pub(in crate::lab) fn direction_reachable(&self, from: &str, to: &str) -> bool {
        match (self.lync.pools.get(from), self.lync.pools.get(to)) {
            (Some(a), Some(b)) => {
                self.pool_working(from)
                    && self.pool_working(to)
                    && self.sites_linked(&a.site, &b.site)
            }
            _ => false,
        }
    }

    /// The pools whose users' data `from` exports to `to`, with whether
    /// the source copy is the home copy.
    fn exported_data(&self, from: &str, to: &str) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        if let Some(p) = self.lync.pools.get(from) {
            if p.backup_pool.as_deref() == Some(to) && p.users.served_by == from {
                out.push((from.to_string(), true));
            }
        }
        if let Some(p) = self.lync.pools.get(to) {
            if p.backup_pool.as_deref() == Some(from)
                && p.state == PoolState::FailedOver
                && p.users.served_by == from
            {
                out.push((to.to_string(), false));
            }
        }
        out
    }

    /// Changes `from` holds that `to` does not yet.
    pub(in crate::lab) fn pending(&self, from: &str, to: &str) -> u64 {
        self.exported_data(from, to)
            .iter()
            .filter_map(|(pool, home)| {
                let d = &self.lync.pools.get(pool)?.data;
                let (src, dst) = if *home {
                    (&d.home_copy, &d.backup_copy)
                } else {
                    (&d.backup_copy, &d.home_copy)
                };
                Some(src.changes.saturating_sub(dst.changes))
            })
            .sum()
    }

    /// Copy the user data `from` exports to `to`.
    pub(in crate::lab) fn replicate(&mut self, from: &str, to: &str) {
        for (pool, home) in self.exported_data(from, to) {
            if let Some(p) = self.lync.pools.get_mut(&pool) {
                let d = &mut p.data;
                if home {
                    d.backup_copy = d.home_copy.clone();
                } else {
                    d.home_copy = d.backup_copy.clone();
                }
            }
        }
    }

    pub(in crate::lab) fn module_status_mut(
        &mut self,
        from: &str,
        to: &str,
        module: &str,
    ) -> &mut ModuleStatus {
        self.lync
            .backup_service
            .directions
            .entry(direction(from, to))
            .or_default()
            .entry(module.to_string())
            .or_insert(ModuleStatus {
                export: ExportStatus::SteadyState,
                import: ImportStatus::NormalState,
                last_export_at: None,
            })
    }

    /// `from`'s user modules (and CMSMaster, if it is the master) exported at `at`.
    pub(in crate::lab) fn mark_exported(&mut self, from: &str, to: &str, at: u64) {
        let master = self
            .lync
            .cms
            .as_ref()
            .is_some_and(|c| c.active_pool == from);
        for module in MODULES {
            if module != CMS_MASTER || master {
                self.module_status_mut(from, to, module).last_export_at = Some(at);
            }
        }
    }

    /// The scheduled sync: every reachable direction replicates.
    pub(in crate::lab) fn backup_sync_job(&mut self, at: u64) {
        for (from, to) in self.backup_directions() {
            if self.direction_reachable(&from, &to) {
                self.replicate(&from, &to);
                self.mark_exported(&from, &to, at);
            }
        }
    }
}
