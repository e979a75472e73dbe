//! What a drill measured, read from the lab's own state: simulated RTO
//! (from the start of the run, or the last fault, to the lab clock now)
//! against the runbook's target, the RPO of every recovery and pool failover
//! since then (`LabState::measurements`, so a renamed field is a compile
//! error, never a silent zero), and whether each expected value of the end
//! state holds (JSON pointers into `lab show --json`, as runbooks write them).

use crate::lab::{LabState, PoolFailover, Recovery};
use crate::report::{DataLoss, Expectation, Scorecard};
use crate::runbook::Runbook;
use crate::runbook::Scenario;
use serde_json::Value;

impl From<&Recovery> for DataLoss {
    fn from(r: &Recovery) -> DataLoss {
        DataLoss {
            what: format!("{} on {}", r.database, r.instance),
            lost: r.transactions_lost,
            unit: "transactions".into(),
            minutes_lost: r.minutes_lost,
        }
    }
}

impl From<&PoolFailover> for DataLoss {
    fn from(f: &PoolFailover) -> DataLoss {
        DataLoss {
            what: format!("{} -> {}", f.pool, f.to),
            lost: f.changes_lost,
            unit: "changes".into(),
            minutes_lost: f.minutes_lost,
        }
    }
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
