//! The users' side of the estate: chat transactions on each Persistent Chat
//! pool's writer and user-data changes on each Front End pool, made only in
//! estate time (`clock::pass`), never in procedure time, so RPO is measured
//! at the fault and a drill's end state does not depend on how long its steps
//! took.

use crate::lab::{LabState, MirrorRole, MirrorState, CHAT_DATABASE, LSN_PER_TRANSACTION};
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
    /// Users make changes on every pool that serves them while its front
    /// ends are up and they are outside resiliency mode, from `from` to `to`:
    /// also in the 30 minutes after the Back End is lost, when users carry
    /// on normally [S0] and the front ends hold what they change (the
    /// Backup Service cannot export it then, so a pool failover loses it).
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
            let serving_up = self.lync.pools.get(&serving).is_some_and(|s| s.up);
            if cpm == 0 || p.users.resiliency_mode || !serving_up {
                continue;
            }
            let home = serving == name;
            let Some(p) = self.lync.pools.get_mut(&name) else {
                continue;
            };
            let d = &mut p.data;
            let Some((n, seconds)) = per_minute(&mut d.carry, cpm, dt) else {
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

impl LabState {
    /// Users commit to every pool that has a writer, from `from` to `to`.
    pub(in crate::lab) fn accrue(&mut self, from: u64, to: u64) {
        let dt = to.saturating_sub(from);
        if dt == 0 {
            return;
        }
        self.accrue_pool_changes(from, to);
        let pools: Vec<String> = self.lync.persistent_chat.keys().cloned().collect();
        for name in pools {
            let Some(pool) = self.lync.persistent_chat.get(&name) else {
                continue;
            };
            let tpm = pool.transactions_per_minute;
            let Some(writer) = pool.writer(&self.sql, &self.network()).filter(|_| tpm > 0) else {
                continue;
            };
            let work = self.workload.entry(name).or_default();
            let Some((n, seconds)) = per_minute(&mut work.carry, tpm, dt) else {
                continue;
            };
            let at = from + seconds;
            work.committed = work.committed.saturating_add(n);
            work.last_commit_at = at;
            self.commit(&writer, n, at);
        }
    }

    /// `n` transactions reach the writer's mgc and, synchronously, its mirror.
    pub(in crate::lab) fn commit(&mut self, writer: &str, n: u64, at: u64) {
        let lsn_step = crate::lab::sql::Lsn::from(n).saturating_mul(LSN_PER_TRANSACTION);
        let Some(db) = self.sql.database_mut(writer, CHAT_DATABASE) else {
            return;
        };
        db.lsn = db.lsn.saturating_add(lsn_step);
        db.transactions = db.transactions.saturating_add(n);
        db.last_transaction_at = at;
        let (lsn, transactions) = (db.lsn, db.transactions);
        let Some(m) = db.mirroring.clone() else {
            return;
        };
        if m.state != MirrorState::Synchronized
            || !self.sql.connected(writer, &m.partner, &self.network())
        {
            return;
        }
        if let Some(mirror) = self.sql.database_mut(&m.partner, CHAT_DATABASE) {
            let joined = mirror
                .mirroring
                .as_ref()
                .is_some_and(|r| r.role == MirrorRole::Mirror && r.partner == writer);
            if joined {
                mirror.lsn = lsn;
                mirror.transactions = transactions;
                mirror.last_transaction_at = at;
            }
        }
    }
}

/// Integer accrual at `rate` per minute over `dt` seconds: each second adds
/// `rate` sixtieths to `carry`, and an item happens in the second its
/// sixtieths reach a whole one. Returns how many happened and the offset
/// (in seconds, 1..=dt) of the last one; `None` if none did.
///
/// Computed in u128, exactly: rates are bounded when the estate and the lab
/// load (`estate::TX_PER_MINUTE_MAX`), so a count never leaves u64; if one
/// would, nothing accrues rather than a wrong count (issue 11, finding 14).
pub(in crate::lab) fn per_minute(carry: &mut u64, rate: u64, dt: u64) -> Option<(u64, u64)> {
    let (before, rate128) = (u128::from(*carry), u128::from(rate));
    let total = before + rate128 * u128::from(dt);
    let n = u64::try_from(total / 60).ok()?;
    *carry = (total % 60) as u64;
    if n == 0 || rate == 0 {
        return None;
    }
    let last = (u128::from(n) * 60 - before.min(u128::from(n) * 60)).div_ceil(rate128);
    Some((n, u64::try_from(last).unwrap_or(dt).clamp(1, dt)))
}
