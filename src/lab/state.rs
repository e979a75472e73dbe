//! The lab state: everything the simulation knows about the estate, as plain
//! data that serializes to the lab file.
//!
//! Every map is a `BTreeMap` and every list keeps insertion order, so the same
//! estate and the same sequence of calls always give byte-identical JSON. The
//! file may be edited by hand: nothing here assumes that a name it holds
//! resolves, and unknown names surface as op errors, never as panics.
//!
//! Each field is a part's state (see the parts' own modules); `perform` is
//! where an op is sent to the part that answers it, and where the derived
//! state is refreshed after it (`derive.rs`).

use crate::lab::{
    Clock, DbState, FaultRecord, Folders, Links, Lync, ManualRecord, MirrorRole, MirrorState,
    PoolState, Safety, Servers, SiteState, Sql, Workload,
};
use crate::op::Op;
use crate::targets::{OpError, Performed};
use crate::time;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// How long a cmdlet takes to refuse (a Cmdlet error), at most.
pub const REFUSAL_SECONDS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabState {
    pub estate: EstateRef,
    pub clock: Clock,
    pub sites: BTreeMap<String, SiteState>,
    #[serde(default)]
    pub links: Links,
    pub servers: Servers,
    pub sql: Sql,
    pub folders: Folders,
    pub lync: Lync,
    pub workload: BTreeMap<String, Workload>,
    pub faults: Vec<FaultRecord>,
    pub measurements: Measurements,
    /// Manual steps whose documented effect the lab applied, in order.
    #[serde(default)]
    pub manual_effects: Vec<ManualRecord>,
    /// What the last ops did not simulate (`not simulated: ...`), for the
    /// run's log; never saved.
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// Which estate file the lab was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstateRef {
    pub name: String,
    pub sha256: String,
}

/// The serialized name of a unit enum variant: what SQL Server prints as `*_desc`.
pub fn desc<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The enums print as SQL Server and Lync print them: `ONLINE`, `FailedOver`.
macro_rules! display_as_desc {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&desc(self))
            }
        }
    )*};
}
display_as_desc!(DbState, MirrorRole, MirrorState, Safety, PoolState);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurements {
    pub recoveries: Vec<Recovery>,
    #[serde(default)]
    pub pool_failovers: Vec<PoolFailover>,
}

/// The RPO of one pool failover or failback: the users' changes the copy
/// that serves them from now on does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolFailover {
    pub at: u64,
    /// The pool whose users moved (the cmdlet's -PoolFqdn).
    pub pool: String,
    /// The pool serving them now.
    pub to: String,
    /// `failover` or `failback`.
    pub kind: String,
    pub disaster_mode: bool,
    pub changes_lost: u64,
    /// From the last change the new copy holds to the last change users made.
    pub minutes_lost: f64,
}

/// The RPO of one recovery: what the users had committed that the recovered
/// copy does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    pub at: u64,
    pub pool: String,
    pub instance: String,
    pub database: String,
    pub transactions_lost: u64,
    pub minutes_lost: f64,
}

impl LabState {
    /// Pretty JSON with a trailing newline: the lab file, and `lab show --json`.
    pub fn to_json(&self) -> String {
        // Cannot fail: every map key is a string and no float is computed
        // from anything but integers.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parse a lab file; the message names the line and column of a problem.
    pub fn from_json(text: &str) -> Result<LabState, String> {
        let state: LabState = serde_json::from_str(text).map_err(|e| {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = full.strip_suffix(&suffix).unwrap_or(&full);
            format!("line {}, column {}: {message}", e.line(), e.column())
        })?;
        if time::parse_rfc3339(&state.clock.start).is_none() {
            return Err(format!(
                "clock.start = {:?} is not a UTC time like \"2026-03-14T01:00:00Z\"",
                state.clock.start
            ));
        }
        // The workload rates the estate bounds, bounded here too: a lab file
        // is edited by hand as often as an estate (issue 11, finding 14).
        use crate::estate::{out_of_range, CHANGES_PER_MINUTE_MAX, TX_PER_MINUTE_MAX};
        let rates = state
            .lync
            .persistent_chat
            .iter()
            .map(|(n, p)| {
                let at = format!("lync.persistent_chat.{n:?}.transactions_per_minute");
                (at, p.transactions_per_minute, TX_PER_MINUTE_MAX)
            })
            .chain(state.lync.pools.iter().map(|(n, p)| {
                let at = format!("lync.pools.{n:?}.data.changes_per_minute");
                (at, p.data.changes_per_minute, CHANGES_PER_MINUTE_MAX)
            }));
        for (at, value, max) in rates {
            if let Some(problem) = out_of_range(&at, value, max) {
                return Err(problem);
            }
        }
        Ok(state)
    }

    /// Perform one op at the current time, then let its modeled duration
    /// pass: scheduled jobs run, users' workload does not.
    pub fn perform(&mut self, op: &Op) -> Performed {
        let sizes: Vec<u64> = match op {
            Op::CopyFiles {
                from_folder, files, ..
            } => {
                let net = self.network();
                files
                    .iter()
                    .map(|file| self.folders.file_size(from_folder, file, &net))
                    .collect()
            }
            Op::RestoreLog { file, .. } | Op::RestoreDatabase { file, .. } => {
                vec![self.folders.file_size_at(file, &self.network())]
            }
            Op::BackupDatabase {
                instance, database, ..
            } => vec![self.full_backup_size(instance, database)],
            _ => Vec::new(),
        };
        let result = match op {
            Op::ListFiles { .. } | Op::CopyFiles { .. } => self.file_op(op),
            Op::Cmdlet { host, cmdlet, args } => self.cmdlet(host, cmdlet, args),
            Op::Wait { .. } => Ok(serde_json::Value::Null),
            Op::Manual { effect, .. } if !effect.is_null() => {
                if let Some(refused) = self.publish_refused(effect) {
                    return Performed {
                        result: Err(refused),
                        sim_seconds: 0,
                        logs: Vec::new(),
                    };
                }
                // Each effect lets its own modeled time pass.
                return match self.manual_effects(effect) {
                    Ok(seconds) => Performed {
                        result: Ok(serde_json::Value::Null),
                        sim_seconds: seconds,
                        logs: Vec::new(),
                    },
                    Err(e) => Performed {
                        result: Err(OpError::NotSimulated {
                            message: e.to_string(),
                        }),
                        sim_seconds: 0,
                        logs: Vec::new(),
                    },
                };
            }
            Op::Manual { .. } => Ok(serde_json::Value::Null),
            _ => self.sql_op(op),
        };
        // Derived state (pool health, resiliency, statuses) follows a change
        // at once. A read changed nothing, so what was derived still holds
        // (time passing, below, derives it again): on a run of reads this
        // was half the cost of a lab op.
        if op.is_change() || matches!(op, Op::Wait { .. }) {
            self.refresh();
        }
        // A cmdlet that refuses does so after its prechecks, not after the
        // work it would have done.
        // A host that does not answer costs no simulated time: the op never
        // ran, and the twin, whose client sees a refused or reset connection,
        // must not move the clock for it either (a plan's attempt included).
        let sim_seconds = match &result {
            Err(OpError::Unreachable { .. }) => 0,
            Err(OpError::Cmdlet { .. }) => op.lab_seconds(&sizes).min(REFUSAL_SECONDS),
            _ => op.lab_seconds(&sizes),
        };
        // Waiting is time in normal operation; any other op is procedure time.
        if matches!(op, Op::Wait { .. }) {
            self.pass(sim_seconds);
        } else {
            self.pass_quietly(sim_seconds);
        }
        Performed {
            result,
            sim_seconds,
            logs: Vec::new(),
        }
    }

    /// A Topology Builder publish among a manual step's effects, refused
    /// while the CMS cannot be reached.
    fn publish_refused(&self, effect: &serde_json::Value) -> Option<OpError> {
        let items = match effect {
            serde_json::Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let publishes = items.iter().any(|e| {
            e.get("kind")
                .and_then(|k| k.as_str())
                .is_some_and(|k| crate::lab::lync::cms::CMS_PUBLISHES.contains(&k))
        });
        if publishes {
            self.cms_write_refused("Publish-CsTopology")
        } else {
            None
        }
    }

    /// A manual step's documented effect: one effect object, or a list of
    /// them applied in order (all or nothing).
    fn manual_effects(&mut self, effect: &serde_json::Value) -> crate::error::Result<u64> {
        let effects: Vec<&serde_json::Value> = match effect {
            serde_json::Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let mut next = self.clone();
        let mut seconds = 0;
        for e in effects {
            seconds += next.manual_effect(e)?;
        }
        *self = next;
        Ok(seconds)
    }

    /// The error for a name the lab does not know.
    pub(in crate::lab) fn not_simulated(
        what: &str,
        name: &str,
        known: impl Iterator<Item = String>,
    ) -> OpError {
        let known: Vec<String> = known.collect();
        OpError::NotSimulated {
            message: format!(
                "{what} `{name}` is not part of the lab estate (known: {})",
                known.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_print_as_sql_server_and_lync_do() {
        assert_eq!(DbState::RecoveryPending.to_string(), "RECOVERY_PENDING");
        assert_eq!(MirrorState::Synchronized.to_string(), "SYNCHRONIZED");
        assert_eq!(PoolState::FailedOver.to_string(), "FailedOver");
    }
}
