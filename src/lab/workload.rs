//! The users' side of the estate: chat transactions on each Persistent Chat
//! pool's writer and user-data changes on each Front End pool, made only in
//! estate time (`clock::pass`), never in procedure time, so RPO is measured
//! at the fault and a drill's end state does not depend on how long its steps
//! took.

use crate::lab::LabState;
use serde::{Deserialize, Serialize};

/// The users' side of a pool: what they were told was committed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    pub committed: u64,
    pub last_commit_at: u64,
    /// Transactions per minute accrue per second; this is the remainder
    /// (in transaction-sixtieths) not yet committed.
    pub carry: u64,
}

impl LabState {
    /// Users make changes on every pool that serves them with a working
    /// Back End and outside resiliency mode, from `from` to `to`.
    pub(in crate::lab) fn accrue_pool_changes(&mut self, from: u64, to: u64) {
        let dt = to.saturating_sub(from);
        if dt == 0 {
            return;
        }
        let names: Vec<String> = self.lync.pools.keys().cloned().collect();
        for name in names {
            let Some(p) = self.lync.pools.get(&name) else {
                continue;
            };
            let cpm = p.data.changes_per_minute;
            let serving = p.users.served_by.clone();
            if cpm == 0 || p.users.resiliency_mode || !self.pool_working(&serving) {
                continue;
            }
            let home = serving == name;
            let Some(p) = self.lync.pools.get_mut(&name) else {
                continue;
            };
            let d = &mut p.data;
            let Some((n, seconds)) = crate::lab::clock::per_minute(&mut d.carry, cpm, dt) else {
                continue;
            };
            let at = from + seconds;
            d.changes = d.changes.saturating_add(n);
            d.last_change_at = at;
            let copy = if home {
                &mut d.home_copy
            } else {
                &mut d.backup_copy
            };
            copy.changes = d.changes;
            copy.last_change_at = at;
        }
    }
}
