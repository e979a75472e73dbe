//! A drill's summary: what the terminal prints after a drill, what the
//! journal keeps (record `drill_summary`, so a report can be written any
//! time later) and what `drillbook report` renders. A failed drill has one
//! too, saying where it stopped. Plain data; `drill/summary.rs` fills it in.

use super::summary::{Scorecard, StepOutcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything a drill report says, as the journal stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillSummary {
    pub run_id: String,
    pub runbook: String,
    #[serde(default)]
    pub version: String,
    pub scenario: String,
    /// The scenario's own one-line description.
    #[serde(default)]
    pub scenario_summary: String,
    /// `succeeded`, `failed`, `waiting` or `aborted`: how the run ended.
    #[serde(default)]
    pub status: String,
    /// Where a run that did not succeed stopped, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stopped>,
    /// Every step the run reached, over all its attempts, in order.
    pub steps: Vec<StepOutcome>,
    pub measurements: Scorecard,
    /// Operator decisions, with who took them and when.
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// Manual steps and confirmations, with who confirmed and when.
    #[serde(default)]
    pub confirmations: Vec<Confirmation>,
    /// The estate's state that the run changed: before (as the drill staged
    /// it) and after.
    #[serde(default)]
    pub state_changes: Vec<StateChange>,
    /// The run's ops, on the simulated time axis (for the timeline).
    #[serde(default)]
    pub ops: Vec<OpTick>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stopped {
    /// The step the run stopped in (empty if before the first step).
    pub step: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub step: usize,
    pub key: String,
    pub choice: String,
    pub operator: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    pub step: usize,
    pub message: String,
    pub operator: String,
    pub at: String,
}

/// One value of the lab state (a JSON pointer into `lab show --json`) that
/// differs between the staged lab and the lab at the end of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    pub pointer: String,
    pub before: Value,
    pub after: Value,
}

/// One op of the run: when it started on the simulated time axis (seconds
/// from the start of the run), how long it took, and whether it changed
/// anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpTick {
    pub step: usize,
    pub at: u64,
    pub sim_seconds: u64,
    pub change: bool,
    pub host: String,
    pub text: String,
    pub ok: bool,
}

impl DrillSummary {
    /// Where each step starts on the simulated time axis: the sum of the
    /// steps before it.
    pub fn step_starts(&self) -> Vec<u64> {
        let mut at = 0;
        self.steps
            .iter()
            .map(|s| {
                let start = at;
                at += s.sim_seconds;
                start
            })
            .collect()
    }

    /// The failures a drill is judged on: a run that did not succeed, and
    /// end-state expectations that do not hold; with `strict_rto`, an RTO
    /// missed too.
    pub fn failures(&self, strict_rto: bool) -> Vec<String> {
        let mut out = self.measurements.failures();
        if strict_rto && !self.measurements.rto_met {
            out.push(self.rto_line());
        }
        out
    }

    /// `RTO 5m 21s simulated, target 5m 00s (MISSED)`.
    pub fn rto_line(&self) -> String {
        let m = &self.measurements;
        format!(
            "RTO {} simulated, target {} ({})",
            super::duration(m.rto_seconds),
            super::duration(m.rto_target_seconds),
            if m.rto_met { "met" } else { "MISSED" }
        )
    }
}
