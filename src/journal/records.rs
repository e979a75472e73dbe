//! The journal's records: one JSON object per line, tagged by `type`. This
//! is the file format of `<home>/runs/<run id>.jsonl`; journals written by
//! earlier versions must keep reading, so names and spellings here are fixed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the journal pins about the runbook: identity is name, version and text hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookId {
    pub name: String,
    pub version: String,
    pub sha256: String,
    /// `shipped` or the path of a local file.
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    pub run_id: String,
    pub runbook: RunbookId,
    pub params: serde_json::Map<String, Value>,
    pub target: String,
    pub mode: Mode,
    pub operator: String,
    pub estate: EstateId,
    pub started_at: String,
    /// Set when the run is a drill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The target's simulated clock when the run started (lab only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_start: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstateId {
    pub source: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Run(Box<RunHeader>),
    Resumed {
        at: String,
        operator: String,
        allow_changed: bool,
    },
    StepStarted {
        index: usize,
        name: String,
        idempotent: bool,
        at: String,
    },
    OpStarted {
        step: usize,
        seq: usize,
        op: Value,
        change: bool,
        text: String,
    },
    /// The server session a change is sent on (live SQL only), durable
    /// before it is sent.
    OpSession {
        step: usize,
        seq: usize,
        session: crate::targets::SqlSession,
    },
    OpDone {
        step: usize,
        seq: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<Value>,
        sim_seconds: u64,
        /// The lab's clock once a change was done (lab targets only): the
        /// journal is the lab's write-ahead log, so a resume can tell a lab
        /// that lost a change this record holds as done.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<u64>,
    },
    Log {
        step: Option<usize>,
        message: String,
    },
    StepCompleted {
        index: usize,
        name: String,
        result: Value,
        wall_ms: u64,
        sim_seconds: u64,
    },
    StepFailed {
        index: usize,
        name: String,
        error: String,
    },
    DecisionNeeded {
        step: usize,
        key: String,
        question: String,
        choices: Vec<String>,
    },
    Decision {
        step: usize,
        key: String,
        choice: String,
        operator: String,
        at: String,
    },
    Confirmed {
        step: usize,
        message: String,
        operator: String,
        at: String,
    },
    RunFinished {
        status: RunStatus,
        at: String,
        message: String,
    },
    /// A drill's summary, written after its run ended (succeeded or not);
    /// a resumed drill writes another, and the last one counts.
    DrillSummary(Box<crate::report::DrillSummary>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    Failed,
    Waiting,
    Aborted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Waiting => "waiting",
            RunStatus::Aborted => "aborted",
        }
    }
}

/// Whether a run changes the estate (`apply`) or only shows what it would
/// do (`plan`, a dry run, never journaled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Apply,
    Plan,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Apply => "apply",
            Mode::Plan => "plan",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
