//! What the journal says about each step of a run, for resume: completed
//! (with its result), failed, in doubt (started and not finished, with the
//! last op it sent and whether any op it sent was a change), or waiting for
//! a decision; and the decisions and confirmations already given.

use super::Record;
use crate::targets::SqlSession;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

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
    /// By step: the server session of a change that was sent and never
    /// answered (its op's sequence number and session).
    pub open_sessions: BTreeMap<usize, (usize, SqlSession)>,
    /// The latest lab clock at which a change was journaled as done.
    pub change_clock: Option<u64>,
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
                Record::OpSession { step, seq, session } => {
                    r.open_sessions.insert(*step, (*seq, session.clone()));
                }
                Record::OpDone {
                    step, seq, clock, ..
                } => {
                    if r.open_sessions.get(step).is_some_and(|(s, _)| s == seq) {
                        r.open_sessions.remove(step);
                    }
                    r.change_clock = r.change_clock.max(*clock);
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
