//! The events a run and a drill emit, and the `Reporter` that renders them:
//! the one road from the engine, the run and the drill to the person at the
//! terminal (`terminal.rs`) or a program reading `--json` (`json.rs`).

use super::drill_summary::DrillSummary;
use serde::Serialize;

/// One thing that happened, for a person or a program.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        run_id: String,
        runbook: String,
        version: String,
        target: String,
        mode: String,
        steps_total: usize,
        resumed: bool,
    },
    StepStarted {
        index: usize,
        name: String,
    },
    StepReplayed {
        index: usize,
        name: String,
    },
    StepCompleted {
        index: usize,
        name: String,
        sim_seconds: u64,
        wall_ms: u64,
    },
    StepFailed {
        index: usize,
        name: String,
        error: String,
    },
    Op {
        step: usize,
        host: String,
        change: bool,
        planned: bool,
        text: String,
        ok: bool,
        error: Option<String>,
        sim_seconds: u64,
    },
    Log {
        step: Option<usize>,
        message: String,
    },
    Progress {
        step: usize,
        label: String,
        done: u64,
        total: u64,
    },
    DecisionNeeded {
        step: usize,
        key: String,
        question: String,
        choices: Vec<String>,
    },
    Confirmed {
        step: usize,
        message: String,
        operator: String,
    },
    RunFinished {
        run_id: String,
        status: String,
        message: String,
        steps: usize,
        ops: u64,
        changes: usize,
        sim_seconds: Option<u64>,
        wall_ms: u64,
    },
    /// A drill's summary, after its run ended.
    DrillSummary(Box<DrillSummary>),
    /// A drill scenario that cannot apply to the estate (a role it needs is
    /// not there): nothing was staged or run, and it is not a failure.
    DrillNotApplicable {
        runbook: String,
        scenario: String,
        reason: String,
    },
}

pub trait Reporter {
    fn event(&self, e: &Event);
    /// Free text for humans only (summaries, tables); JSON readers get events.
    fn text(&self, line: &str);
    /// Detail for humans that asked for it (`--verbose`).
    fn detail(&self, _line: &str) {}
    /// Run `f` (which writes to the terminal) with any progress display
    /// hidden, so it is not left behind in the scrollback.
    fn suspend(&self, f: &mut dyn FnMut()) {
        f()
    }
}
