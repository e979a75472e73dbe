//! What a drill measured, read from the lab's own state: simulated RTO
//! (from the start of the run, or the last fault, to the lab clock now)
//! against the runbook's target, the RPO of every recovery and pool failover
//! since then (`LabState::measurements`, so a renamed field is a compile
//! error, never a silent zero), and whether each expected value of the end
//! state holds (JSON pointers into `lab show --json`, as runbooks write them).

use super::scenario::Scenario;
use crate::lab::{LabState, PoolFailover, Recovery};
use crate::runbook::Runbook;
use serde::Serialize;
use serde_json::Value;

/// The drill's verdict: RTO, data lost, end state.
#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    /// Simulated seconds from the start of the run (the fault, in a drill) to its end.
    pub rto_seconds: u64,
    pub rto_target_seconds: u64,
    pub rto_met: bool,
    /// Data lost at each recovery and pool failover, in the order the lab recorded them.
    pub recoveries: Vec<DataLoss>,
    pub expectations: Vec<Expectation>,
}

/// Data lost at one recovery: a database brought online from its backups,
/// or a pool failed over before the Backup Service caught up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataLoss {
    /// `mgc on pcsql-dub1`, `pool-red.litwareinc.com -> pool-dub.litwareinc.com`.
    pub what: String,
    pub lost: u64,
    /// `transactions` or `changes`.
    pub unit: &'static str,
    pub minutes_lost: f64,
}

impl From<&Recovery> for DataLoss {
    fn from(r: &Recovery) -> DataLoss {
        DataLoss {
            what: format!("{} on {}", r.database, r.instance),
            lost: r.transactions_lost,
            unit: "transactions",
            minutes_lost: r.minutes_lost,
        }
    }
}

impl From<&PoolFailover> for DataLoss {
    fn from(f: &PoolFailover) -> DataLoss {
        DataLoss {
            what: format!("{} -> {}", f.pool, f.to),
            lost: f.changes_lost,
            unit: "changes",
            minutes_lost: f.minutes_lost,
        }
    }
}

/// One `expect` entry of the scenario against the end state.
#[derive(Debug, Clone, Serialize)]
pub struct Expectation {
    pub pointer: String,
    pub expected: Value,
    pub actual: Value,
    pub holds: bool,
}

/// Measure a finished drill from the lab state. `sim_start` is the lab
/// clock when the run started; without it, the last fault's time.
pub fn measure(
    lab: &LabState,
    rb: &Runbook,
    scenario: &Scenario,
    sim_start: Option<u64>,
) -> Scorecard {
    let last_fault = lab.faults.iter().map(|f| f.at).max().unwrap_or(0);
    let start = sim_start.unwrap_or(last_fault);
    let m = &lab.measurements;
    let mut recoveries: Vec<DataLoss> = m
        .recoveries
        .iter()
        .filter(|r| r.at >= start)
        .map(DataLoss::from)
        .collect();
    recoveries.extend(
        m.pool_failovers
            .iter()
            .filter(|f| f.at >= start)
            .map(DataLoss::from),
    );
    let shown = serde_json::to_value(lab).unwrap_or_default();
    let expectations = scenario
        .expect
        .iter()
        .map(|(pointer, expected)| {
            let actual = shown.pointer(pointer).cloned().unwrap_or(Value::Null);
            Expectation {
                pointer: pointer.clone(),
                holds: &actual == expected,
                expected: expected.clone(),
                actual,
            }
        })
        .collect();
    let rto_seconds = lab.clock.elapsed_seconds.saturating_sub(start);
    let rto_target_seconds = rb.header.rto_minutes as u64 * 60;
    Scorecard {
        rto_seconds,
        rto_target_seconds,
        rto_met: rto_seconds <= rto_target_seconds,
        recoveries,
        expectations,
    }
}

impl Scorecard {
    /// The failures among the expectations, as lines for an error.
    pub fn failures(&self) -> Vec<String> {
        self.expectations
            .iter()
            .filter(|e| !e.holds)
            .map(|e| format!("{}: expected {}, found {}", e.pointer, e.expected, e.actual))
            .collect()
    }
}
