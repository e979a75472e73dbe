//! Drills: a fresh lab from the estate, a scenario's lead-in and faults, the
//! runbook run on it, and a measured summary — simulated RTO against the
//! runbook's target, RPO (transactions and minutes lost), and whether the end
//! state is what the scenario expects.

use crate::error::{Error, Result};
use crate::runbook::{Runbook, Scenario};
use serde::Serialize;
use serde_json::Value;

/// The scenario `drill RUNBOOK` runs when none is named.
pub const DEFAULT_SCENARIO: &str = "default";

pub fn pick<'a>(rb: &'a Runbook, name: Option<&str>) -> Result<&'a Scenario> {
    let scenarios = &rb.header.scenarios;
    let known = || {
        scenarios
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => scenarios
            .iter()
            .find(|s| s.name == n)
            .ok_or_else(|| Error::Usage {
                message: format!(
                    "runbook `{}` has no scenario `{n}` (it has: {})",
                    rb.header.name,
                    known()
                ),
            }),
        None => scenarios
            .iter()
            .find(|s| s.name == DEFAULT_SCENARIO)
            .or_else(|| scenarios.first())
            .ok_or_else(|| Error::Usage {
                message: format!("runbook `{}` ships no drill scenario", rb.header.name),
            }),
    }
}

/// Data lost at one recovery: a database brought online from its backups,
/// or a pool failed over before the Backup Service caught up.
#[derive(Debug, Clone, Serialize)]
pub struct Recovery {
    /// `mgc on pcsql-dub1`, `pool-red.litwareinc.com -> pool-dub.litwareinc.com`.
    pub what: String,
    pub lost: u64,
    /// `transactions` or `changes`.
    pub unit: String,
    pub minutes_lost: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Measurements {
    /// Simulated seconds from the start of the run (the fault, in a drill) to its end.
    pub rto_seconds: u64,
    pub rto_target_seconds: u64,
    pub rto_met: bool,
    pub recoveries: Vec<Recovery>,
    pub expectations: Vec<Expectation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Expectation {
    pub pointer: String,
    pub expected: Value,
    pub actual: Value,
    pub holds: bool,
}

/// Measure a finished drill from the lab state (`lab show --json`).
/// `sim_start` is the lab clock when the run started.
pub fn measure(
    lab: &Value,
    rb: &Runbook,
    scenario: &Scenario,
    sim_start: Option<u64>,
) -> Measurements {
    let now = lab
        .pointer("/clock/elapsed_seconds")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let last_fault = lab
        .pointer("/faults")
        .and_then(Value::as_array)
        .and_then(|f| {
            f.iter()
                .filter_map(|x| x.get("at").and_then(Value::as_u64))
                .max()
        })
        .unwrap_or(0);
    let start = sim_start.unwrap_or(last_fault);
    let since = |r: &&Value| r.get("at").and_then(Value::as_u64).unwrap_or(0) >= start;
    let num = |r: &Value, k: &str| r.get(k).and_then(Value::as_u64).unwrap_or(0);
    let minutes = |r: &Value| r.get("minutes_lost").and_then(Value::as_f64).unwrap_or(0.0);
    let text = |r: &Value, k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let list = |p: &str| {
        lab.pointer(p)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut recoveries: Vec<Recovery> = list("/measurements/recoveries")
        .iter()
        .filter(since)
        .map(|r| Recovery {
            what: format!("{} on {}", text(r, "database"), text(r, "instance")),
            lost: num(r, "transactions_lost"),
            unit: "transactions".into(),
            minutes_lost: minutes(r),
        })
        .collect();
    recoveries.extend(
        list("/measurements/pool_failovers")
            .iter()
            .filter(since)
            .map(|r| Recovery {
                what: format!("{} -> {}", text(r, "pool"), text(r, "to")),
                lost: num(r, "changes_lost"),
                unit: "changes".into(),
                minutes_lost: minutes(r),
            }),
    );
    let expectations = scenario
        .expect
        .iter()
        .map(|(pointer, expected)| {
            let actual = lab.pointer(pointer).cloned().unwrap_or(Value::Null);
            Expectation {
                pointer: pointer.clone(),
                holds: &actual == expected,
                expected: expected.clone(),
                actual,
            }
        })
        .collect();
    let rto_seconds = now.saturating_sub(start);
    let rto_target_seconds = rb.header.rto_minutes as u64 * 60;
    Measurements {
        rto_seconds,
        rto_target_seconds,
        rto_met: rto_seconds <= rto_target_seconds,
        recoveries,
        expectations,
    }
}

/// The failures among the expectations, as lines for an error.
pub fn failures(m: &Measurements) -> Vec<String> {
    m.expectations
        .iter()
        .filter(|e| !e.holds)
        .map(|e| format!("{}: expected {}, found {}", e.pointer, e.expected, e.actual))
        .collect()
}
