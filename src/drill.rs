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

#[derive(Debug, Clone, Serialize)]
pub struct Recovery {
    pub instance: String,
    pub database: String,
    pub transactions_lost: u64,
    pub minutes_lost: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Measurements {
    /// Simulated seconds from the fault to the end of the run.
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
pub fn measure(lab: &Value, rb: &Runbook, scenario: &Scenario) -> Measurements {
    let now = lab
        .pointer("/clock/elapsed_seconds")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let fault_at = lab
        .pointer("/faults")
        .and_then(Value::as_array)
        .and_then(|f| {
            f.iter()
                .filter_map(|x| x.get("at").and_then(Value::as_u64))
                .max()
        })
        .unwrap_or(0);
    let recoveries = lab
        .pointer("/measurements/recoveries")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .filter(|r| r.get("at").and_then(Value::as_u64).unwrap_or(0) >= fault_at)
                .map(|r| Recovery {
                    instance: r
                        .get("instance")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    database: r
                        .get("database")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    transactions_lost: r
                        .get("transactions_lost")
                        .and_then(Value::as_u64)
                        .unwrap_or(0),
                    minutes_lost: r.get("minutes_lost").and_then(Value::as_f64).unwrap_or(0.0),
                })
                .collect()
        })
        .unwrap_or_default();
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
    let rto_seconds = now.saturating_sub(fault_at);
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
