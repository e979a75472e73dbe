//! The vocabulary of what runs and drills tell: how each step ended and what
//! a drill measured. Plain data, defined here so that every room that tells
//! something (run, drill) depends on the report room, never the other way
//! round. The checkpoint (`run/checkpoint.rs`) and the drill's measurement
//! (`drill/measure.rs`) fill them in.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a step ended, as summaries, `--json` and drill reports show it.
/// Serialized as the strings earlier versions wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Ran to its end in this attempt.
    Completed,
    /// Completed in an earlier attempt: its journaled result was returned.
    Replayed,
    /// The step's body erred; the run failed there.
    Failed,
    /// Stopped for an operator's decision or confirmation.
    Waiting,
    /// Stopped for another reason (a journal or target failure, an abort, ...).
    Stopped,
}

/// One step as it ended, for summaries and drill reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    pub index: usize,
    pub name: String,
    pub status: StepStatus,
    pub sim_seconds: u64,
    pub wall_ms: u64,
    pub ops: usize,
    pub changes: usize,
}

impl StepOutcome {
    pub fn replayed(index: usize, name: &str) -> StepOutcome {
        StepOutcome {
            index,
            name: name.to_string(),
            status: StepStatus::Replayed,
            sim_seconds: 0,
            wall_ms: 0,
            ops: 0,
            changes: 0,
        }
    }
}

/// The drill's verdict: RTO, data lost, end state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataLoss {
    /// `mgc on pcsql-dub1`, `pool-red.litwareinc.com -> pool-dub.litwareinc.com`.
    pub what: String,
    pub lost: u64,
    /// `transactions` or `changes`.
    pub unit: String,
    pub minutes_lost: f64,
}

/// One `expect` entry of the scenario against the end state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    pub pointer: String,
    pub expected: Value,
    pub actual: Value,
    pub holds: bool,
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
