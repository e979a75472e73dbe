//! The state one run shares between the Rust host and the Rhai script: the
//! target, the journal, what the journal says happened before (for resume),
//! and why the script was stopped, if it was.

use crate::error::Error;
use crate::journal::{Journal, Record};
use crate::report::Reporter;
use crate::targets::Target;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Apply,
    Plan,
}

/// What the journal says of one step, from earlier attempts of this run.
#[derive(Debug, Clone, PartialEq)]
pub enum Prior {
    Completed(Value),
    Failed {
        error: String,
        changes_done: bool,
    },
    InDoubt {
        last_op: Option<String>,
        changes_done: bool,
    },
    Waiting {
        key: String,
    },
}

impl Prior {
    /// For a step that started earlier and did not complete: whether it may
    /// have sent a change, and the last thing it is known to have done.
    pub fn doubt(&self) -> Option<(bool, String)> {
        match self {
            Prior::InDoubt {
                last_op,
                changes_done,
            } => Some((
                *changes_done,
                last_op.clone().unwrap_or_else(|| "(none)".into()),
            )),
            Prior::Failed {
                error,
                changes_done,
            } => Some((
                *changes_done,
                format!("(the step failed after sending a change: {error})"),
            )),
            Prior::Completed(_) | Prior::Waiting { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PriorStep {
    pub name: String,
    pub prior: Prior,
}

/// Everything an earlier attempt journaled that a resume needs.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    pub steps: BTreeMap<usize, PriorStep>,
    pub decisions: BTreeMap<String, String>,
    pub confirmed: BTreeSet<(usize, String)>,
}

impl Replay {
    pub fn from_records(records: &[Record]) -> Replay {
        let mut r = Replay::default();
        for rec in records {
            match rec {
                Record::StepStarted { index, name, .. } => {
                    let changes_done = matches!(
                        r.steps.get(index),
                        Some(PriorStep {
                            prior: Prior::InDoubt {
                                changes_done: true,
                                ..
                            } | Prior::Failed {
                                changes_done: true,
                                ..
                            },
                            ..
                        })
                    );
                    r.steps.insert(
                        *index,
                        PriorStep {
                            name: name.clone(),
                            prior: Prior::InDoubt {
                                last_op: None,
                                changes_done,
                            },
                        },
                    );
                }
                Record::OpStarted {
                    step, text, change, ..
                } => {
                    if let Some(PriorStep {
                        prior:
                            Prior::InDoubt {
                                last_op,
                                changes_done,
                            },
                        ..
                    }) = r.steps.get_mut(step)
                    {
                        *last_op = Some(text.clone());
                        // A change that was sent may have taken effect, answered or not.
                        *changes_done |= *change;
                    }
                }
                Record::StepCompleted { index, result, .. } => {
                    if let Some(s) = r.steps.get_mut(index) {
                        s.prior = Prior::Completed(result.clone());
                    }
                }
                Record::StepFailed { index, error, .. } => {
                    if let Some(s) = r.steps.get_mut(index) {
                        let changes_done = matches!(
                            s.prior,
                            Prior::InDoubt {
                                changes_done: true,
                                ..
                            }
                        );
                        s.prior = Prior::Failed {
                            error: error.clone(),
                            changes_done,
                        };
                    }
                }
                Record::DecisionNeeded { step, key, .. } => {
                    if let Some(s) = r.steps.get_mut(step) {
                        s.prior = Prior::Waiting { key: key.clone() };
                    }
                }
                Record::Decision { key, choice, .. } => {
                    r.decisions.insert(key.clone(), choice.clone());
                }
                Record::Confirmed { step, message, .. } => {
                    r.confirmed.insert((*step, message.clone()));
                }
                _ => {}
            }
        }
        r
    }
}

/// The step being run now.
#[derive(Debug, Clone)]
pub struct ActiveStep {
    pub index: usize,
    pub name: String,
    pub idempotent: bool,
    pub changes: usize,
    pub ops: usize,
    pub sim_seconds: u64,
}

/// One step as it ended, for summaries and drill reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepOutcome {
    pub index: usize,
    pub name: String,
    /// `completed`, `replayed`, `failed`, `waiting`.
    pub status: String,
    pub sim_seconds: u64,
    pub wall_ms: u64,
    pub ops: usize,
    pub changes: usize,
}

/// A change op a plan would send.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedOp {
    pub step: String,
    pub host: String,
    pub language: String,
    pub text: String,
}

pub struct Ctx {
    pub run_id: String,
    /// The runbook's name, for parameter errors.
    pub runbook: String,
    pub operator: String,
    pub mode: Mode,
    pub target: Box<dyn Target>,
    pub journal: Option<Journal>,
    pub replay: Replay,
    /// Decisions given on this command line, not yet journaled.
    pub fresh_decisions: BTreeMap<String, String>,
    pub yes: bool,
    pub rerun_in_doubt: bool,
    pub reporter: Rc<dyn Reporter>,
    pub next_index: usize,
    pub active: Option<ActiveStep>,
    pub outcomes: Vec<StepOutcome>,
    pub plan: Vec<PlannedOp>,
    pub ops_performed: u64,
    pub abort_after_ops: Option<u64>,
    /// Why the script was stopped: wins over whatever error the script reports.
    pub stop: Option<Error>,
}

impl Ctx {
    pub fn journal(&mut self, record: Record) -> Result<(), Error> {
        match &mut self.journal {
            Some(j) => j.append(&record),
            None => Ok(()),
        }
    }

    pub fn decision(&self, key: &str) -> Option<String> {
        self.fresh_decisions
            .get(key)
            .or_else(|| self.replay.decisions.get(key))
            .cloned()
    }
}
