//! The step state machine: for each step the script reaches, decide from
//! what the journal says whether to replay its journaled value, run it, or
//! stop the run; count what the running step sends; and say what to journal
//! when it ends. Plain data in, plain data out — no Rhai, no I/O — so the
//! resume rules (architecture rule 2) are tested on their own.
//!
//! The rules, for the step at `index` named `name`:
//! - the journal names another step there: the runbook diverged, stop;
//! - completed earlier: replay its journaled result;
//! - started earlier and did not finish, or failed, after sending a change:
//!   in doubt — run again only if the step is idempotent or the operator said
//!   `--rerun-in-doubt`, else stop;
//! - started earlier without sending a change, failed before any change, or
//!   stopped waiting for a decision: run again (the question is asked again,
//!   and a journaled answer answers it);
//! - not in the journal: run.

use crate::error::Error;
use crate::journal::{Prior, Record, Replay};
use serde::Serialize;
use serde_json::Value;

/// How a step ended, as summaries, `--json` and drill reports show it.
/// Serialized as the strings earlier versions wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

/// What the run decides with: its id (named in the errors) and whether the
/// operator asked to run steps in doubt again.
#[derive(Debug, Clone)]
pub struct Policy {
    pub run_id: String,
    pub rerun_in_doubt: bool,
}

/// What to do with a step the script has reached.
#[derive(Debug)]
pub enum Begin {
    /// Completed in an earlier attempt: return this without running the step.
    Replay(Value),
    /// Run it: journal [`Checkpoint::started`] first.
    Run(Checkpoint),
    /// Stop the run here.
    Stop(Error),
}

/// How a running step ended.
#[derive(Debug)]
pub enum Ending {
    /// Its body returned this value.
    Completed(Value),
    /// Its body erred with this message.
    Failed(String),
    /// The run stopped inside it for an operator's decision or confirmation.
    Waiting,
    /// The run stopped inside it for another reason.
    Stopped,
}

/// A step being run: who it is and what it has sent so far.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    index: usize,
    name: String,
    idempotent: bool,
    ops: usize,
    changes: usize,
    sim_seconds: u64,
}

impl Checkpoint {
    /// Decide about the step at `index` (counted from 0 in the order the
    /// script reaches steps).
    pub fn begin(
        index: usize,
        name: &str,
        idempotent: bool,
        replay: &Replay,
        policy: &Policy,
    ) -> Begin {
        if let Some(before) = replay.steps.get(&index) {
            if before.name != name {
                return Begin::Stop(Error::Diverged {
                    run_id: policy.run_id.clone(),
                    index: index + 1,
                    journaled: before.name.clone(),
                    found: name.to_string(),
                });
            }
            if let Prior::Completed(v) = &before.prior {
                return Begin::Replay(v.clone());
            }
            // A step that may have sent a change runs again only if it is
            // idempotent or the operator says so.
            if let Some((true, last_op)) = before.prior.doubt() {
                if !idempotent && !policy.rerun_in_doubt {
                    return Begin::Stop(Error::InDoubt {
                        run_id: policy.run_id.clone(),
                        step: name.to_string(),
                        last_op,
                    });
                }
            }
        }
        Begin::Run(Checkpoint {
            index,
            name: name.to_string(),
            idempotent,
            ops: 0,
            changes: 0,
            sim_seconds: 0,
        })
    }

    pub fn index(&self) -> usize {
        self.index
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The record that opens the step in the journal.
    pub fn started(&self, at: String) -> Record {
        Record::StepStarted {
            index: self.index,
            name: self.name.clone(),
            idempotent: self.idempotent,
            at,
        }
    }

    /// The sequence number of the step's next op.
    pub fn next_seq(&self) -> usize {
        self.ops
    }

    /// An op of this step was answered.
    pub fn op_done(&mut self, change: bool, sim_seconds: u64) {
        self.ops += 1;
        self.changes += usize::from(change);
        self.sim_seconds += sim_seconds;
    }

    /// Whether the step may stop to wait for an operator's decision: not once
    /// it sent a change, unless it is idempotent — on resume it would be in
    /// doubt and never reach the question again.
    pub fn may_wait(&self) -> Result<(), String> {
        if !self.idempotent && self.changes > 0 {
            return Err(format!(
                "step `{}` asks for a decision after sending a change; a step that can stop for a decision must be declared idempotent",
                self.name
            ));
        }
        Ok(())
    }

    /// The step ended: what to journal (nothing when the run stopped inside
    /// it: the journal then shows it in doubt or waiting) and its outcome.
    /// `clock_seconds` is the target's simulated time across the step, when
    /// it has a clock; otherwise the ops' own durations are summed.
    pub fn end(
        self,
        ending: Ending,
        wall_ms: u64,
        clock_seconds: Option<u64>,
    ) -> (Option<Record>, StepOutcome) {
        let sim_seconds = clock_seconds.unwrap_or(self.sim_seconds);
        let (record, status) = match ending {
            Ending::Completed(result) => (
                Some(Record::StepCompleted {
                    index: self.index,
                    name: self.name.clone(),
                    result,
                    wall_ms,
                    sim_seconds,
                }),
                StepStatus::Completed,
            ),
            Ending::Failed(error) => (
                Some(Record::StepFailed {
                    index: self.index,
                    name: self.name.clone(),
                    error,
                }),
                StepStatus::Failed,
            ),
            Ending::Waiting => (None, StepStatus::Waiting),
            Ending::Stopped => (None, StepStatus::Stopped),
        };
        let outcome = StepOutcome {
            index: self.index,
            name: self.name,
            status,
            sim_seconds,
            wall_ms,
            ops: self.ops,
            changes: self.changes,
        };
        (record, outcome)
    }
}
