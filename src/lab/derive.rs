//! The cross-part reactions: every field that is derived from other parts'
//! state, recomputed by `refresh` after every op, fault, repair and event.
//!
//! Pool health and where users are served follow from servers and the Back
//! End's SQL copies; resiliency mode from how long a Back End has been gone;
//! Edge services from their servers; CMS replicas from the master's pool and
//! the network; Backup Service statuses from the pools, the link between them
//! and time. Nothing else writes these fields, so a reader looking for why a
//! pool went into resiliency mode, or a replica went stale, finds it here.

use crate::lab::lync::backup_service::{direction, CMS_MASTER, MODULES, PRESENCE_FOCUS};
use crate::lab::lync::pools::RESILIENCY_AFTER;
use crate::lab::lync::USER_DATABASES;
use crate::lab::{ExportStatus, ImportStatus, LabState, ModuleStatus, Replica};
use std::collections::BTreeMap;

impl LabState {
    /// Recompute every derived field from the state of servers, instances,
    /// links and time. The order matters: resiliency reads pool health, and
    /// the CMS and the Backup Service read both.
    pub(in crate::lab) fn refresh(&mut self) {
        self.refresh_pool_health();
        self.refresh_resiliency();
        self.refresh_edges();
        self.refresh_cms();
        self.refresh_backup_service();
    }

    /// Recompute what time alone can change: resiliency (its deadline) and
    /// the Backup Service's statuses (how recent the last export is). Every
    /// other derived field reads only the state of servers, instances and
    /// links, and its `..._since` time is kept once set. So after time
    /// passes with no change since the last `refresh`, this leaves the state
    /// exactly as `refresh` would, at a fraction of its cost: on a run of
    /// reads, the full refresh was most of a lab op's CPU.
    pub(in crate::lab) fn refresh_time(&mut self) {
        self.refresh_resiliency();
        self.refresh_backup_recency();
    }

    /// Each Front End pool is up while a front end is; its Back End is
    /// available while every User database is served.
    fn refresh_pool_health(&mut self) {
        let now = self.elapsed();
        let names: Vec<String> = self.lync.pools.keys().cloned().collect();
        for name in &names {
            let Some(p) = self.lync.pools.get(name) else {
                continue;
            };
            let up = p.front_ends.iter().any(|s| self.server_up(s));
            let available = self.pool_serves(name, &USER_DATABASES);
            let candidates = self.back_end_candidates(name);
            let c: Vec<&str> = candidates.iter().map(String::as_str).collect();
            let current = self.sql.principal_by_role(&c, USER_DATABASES[0]);
            let hosts_cms = self
                .lync
                .cms
                .as_ref()
                .is_some_and(|cms| &cms.active_pool == name);
            if let Some(p) = self.lync.pools.get_mut(name) {
                p.up = up;
                p.hosts_cms = hosts_cms;
                let be = &mut p.back_end;
                be.available = available;
                be.current_principal = current;
                be.unavailable_since = if available {
                    None
                } else {
                    be.unavailable_since.or(Some(now))
                };
            }
        }
    }

    /// Users are in resiliency mode while the pool serving them is down, or
    /// has been without its Back End for `RESILIENCY_AFTER`.
    fn refresh_resiliency(&mut self) {
        let now = self.elapsed();
        let names: Vec<String> = self.lync.pools.keys().cloned().collect();
        for name in &names {
            let Some(served_by) = self.lync.pools.get(name).map(|p| p.users.served_by.clone())
            else {
                continue;
            };
            let resilient = match self.lync.pools.get(&served_by) {
                None => true,
                Some(s) => {
                    !s.up
                        || (!s.back_end.available
                            && s.back_end
                                .unavailable_since
                                .is_some_and(|t| now >= t.saturating_add(RESILIENCY_AFTER)))
                }
            };
            if let Some(p) = self.lync.pools.get_mut(name) {
                p.users.resiliency_mode = resilient;
                p.users.resiliency_since = if resilient {
                    p.users.resiliency_since.or(Some(now))
                } else {
                    None
                };
            }
        }
    }

    /// The seconds after `now` at which some pool's users enter resiliency
    /// mode if nothing changes: the clock stops there to refresh.
    pub(in crate::lab) fn resiliency_deadlines(&self) -> Vec<u64> {
        let now = self.elapsed();
        self.lync
            .pools
            .values()
            .filter(|p| !p.back_end.available)
            .filter_map(|p| p.back_end.unavailable_since)
            .map(|t| t.saturating_add(RESILIENCY_AFTER))
            .filter(|&t| t > now)
            .collect()
    }

    /// An Edge pool is up while a server is; its services run while every
    /// server runs them.
    fn refresh_edges(&mut self) {
        let names: Vec<String> = self.lync.edge_pools.keys().cloned().collect();
        for name in names {
            let Some(e) = self.lync.edge_pools.get(&name) else {
                continue;
            };
            let up = e.servers.iter().any(|s| self.server_up(s));
            let running = !e.servers.is_empty()
                && e.servers
                    .iter()
                    .all(|s| e.server_running(s, &self.network()));
            if let Some(e) = self.lync.edge_pools.get_mut(&name) {
                e.up = up;
                e.services_running = running;
            }
        }
    }

    /// Replicas are up to date while their server is up, the master is
    /// available and their site reaches the master's. Updated in place: a
    /// refresh follows every change, and rebuilding the map each time was
    /// most of its cost.
    fn refresh_cms(&mut self) {
        let Some(cms) = self.lync.cms.as_ref() else {
            return;
        };
        let now = self.elapsed();
        let available = self.cms_available();
        let master_site = self
            .lync
            .pools
            .get(&cms.active_pool)
            .map_or("", |p| p.site.as_str());
        let up: Vec<bool> = cms_servers(&self.lync.pools, &self.lync.edge_pools)
            .map(|server| {
                let site = self.servers.get(server).map(|s| s.site.as_str());
                available
                    && self.server_up(server)
                    && site.is_some_and(|s| self.sites_linked(s, master_site))
            })
            .collect();
        let lync = &mut self.lync;
        let Some(cms) = lync.cms.as_mut() else {
            return;
        };
        let replicas = &mut cms.replicas;
        let mut seen = 0;
        for (server, up_to_date) in cms_servers(&lync.pools, &lync.edge_pools).zip(up) {
            seen += 1;
            match replicas.get_mut(server) {
                Some(r) => {
                    r.stale_since = if up_to_date {
                        None
                    } else {
                        r.stale_since.or(Some(now))
                    };
                    r.up_to_date = up_to_date;
                }
                None => {
                    let stale_since = (!up_to_date).then_some(now);
                    replicas.insert(
                        server.clone(),
                        Replica {
                            up_to_date,
                            stale_since,
                        },
                    );
                }
            }
        }
        // A server that left the topology takes its replica with it.
        if replicas.len() != seen {
            let keep: std::collections::BTreeSet<&String> =
                cms_servers(&lync.pools, &lync.edge_pools).collect();
            replicas.retain(|server, _| keep.contains(server));
        }
    }

    /// Recompute every direction's module statuses.
    fn refresh_backup_service(&mut self) {
        let now = self.elapsed();
        let interval = self.sync_interval_seconds();
        let master = self.lync.cms.as_ref().map(|c| c.active_pool.clone());
        let mut directions = BTreeMap::new();
        for (from, to) in self.backup_directions() {
            let key = direction(&from, &to);
            let reachable = self.direction_reachable(&from, &to);
            let pending = self.pending(&from, &to);
            let read_only = self.lync.pools.get(&from).is_some_and(|p| p.read_only);
            let old = self.lync.backup_service.directions.get(&key);
            let mut modules = BTreeMap::new();
            for module in MODULES {
                let last = match old.and_then(|o| o.get(module)) {
                    Some(s) => s.last_export_at,
                    // A new pairing starts in steady state.
                    None => reachable.then_some(now),
                };
                let (export, import) = if !reachable {
                    (ExportStatus::ErrorState, ImportStatus::ErrorState)
                } else if module == CMS_MASTER && master.as_deref() != Some(from.as_str()) {
                    (ExportStatus::NotInitialized, ImportStatus::NormalState)
                } else if module == CMS_MASTER {
                    (by_recency(last, now, interval), ImportStatus::NormalState)
                } else {
                    let backlog = if module == PRESENCE_FOCUS { pending } else { 0 };
                    let e = if read_only && backlog == 0 {
                        ExportStatus::FinalState
                    } else {
                        by_recency(last, now, interval)
                    };
                    (e, ImportStatus::NormalState)
                };
                modules.insert(
                    module.to_string(),
                    ModuleStatus {
                        export,
                        import,
                        last_export_at: last,
                    },
                );
            }
            directions.insert(key, modules);
        }
        self.lync.backup_service.directions = directions;
    }

    /// What time alone changes in the Backup Service: a status that follows
    /// how recent the last export is. Every other status follows the pools
    /// and links, which time does not change.
    fn refresh_backup_recency(&mut self) {
        let now = self.elapsed();
        let interval = self.sync_interval_seconds();
        for modules in self.lync.backup_service.directions.values_mut() {
            for m in modules.values_mut() {
                if matches!(
                    m.export,
                    ExportStatus::SteadyState | ExportStatus::NonSteadyState
                ) {
                    m.export = by_recency(m.last_export_at, now, interval);
                }
            }
        }
    }
}

/// Steady while the last export is at most a sync interval old.
fn by_recency(last_export_at: Option<u64>, now: u64, interval: u64) -> ExportStatus {
    if last_export_at.is_some_and(|t| now.saturating_sub(t) <= interval) {
        ExportStatus::SteadyState
    } else {
        ExportStatus::NonSteadyState
    }
}
/// Every server that holds a CMS replica: each pool's front ends, then each
/// Edge pool's servers.
fn cms_servers<'a>(
    pools: &'a BTreeMap<String, crate::lab::lync::pools::FePool>,
    edge_pools: &'a BTreeMap<String, crate::lab::lync::edge::EdgePoolState>,
) -> impl Iterator<Item = &'a String> {
    pools
        .values()
        .flat_map(|p| p.front_ends.iter())
        .chain(edge_pools.values().flat_map(|e| e.servers.iter()))
}
