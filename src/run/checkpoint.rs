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
pub use crate::report::{StepOutcome, StepStatus};
use serde_json::Value;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(rerun_in_doubt: bool) -> Policy {
        Policy {
            run_id: "r1".into(),
            rerun_in_doubt,
        }
    }

    fn started(index: usize, name: &str) -> Record {
        Record::StepStarted {
            index,
            name: name.into(),
            idempotent: false,
            at: "t".into(),
        }
    }

    fn op(step: usize, change: bool, text: &str) -> Record {
        Record::OpStarted {
            step,
            seq: 0,
            op: Value::Null,
            change,
            text: text.into(),
        }
    }

    fn completed(index: usize, name: &str, result: Value) -> Record {
        Record::StepCompleted {
            index,
            name: name.into(),
            result,
            wall_ms: 0,
            sim_seconds: 0,
        }
    }

    fn failed(index: usize, name: &str) -> Record {
        Record::StepFailed {
            index,
            name: name.into(),
            error: "boom".into(),
        }
    }

    fn begin(records: &[Record], index: usize, name: &str, idempotent: bool) -> Begin {
        let replay = Replay::from_records(records);
        Checkpoint::begin(index, name, idempotent, &replay, &policy(false))
    }

    fn stop_message(b: Begin) -> String {
        match b {
            Begin::Stop(e) => e.to_string(),
            other => panic!("expected a stop, got {other:?}"),
        }
    }

    #[test]
    fn a_step_the_journal_does_not_know_runs() {
        assert!(matches!(begin(&[], 0, "a", false), Begin::Run(_)));
    }

    #[test]
    fn a_completed_step_replays_its_journaled_result() {
        let records = [started(0, "a"), completed(0, "a", json!({"n": 3}))];
        match begin(&records, 0, "a", false) {
            Begin::Replay(v) => assert_eq!(v, json!({"n": 3})),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn another_step_name_at_the_same_index_is_divergence() {
        let records = [started(0, "a"), completed(0, "a", Value::Null)];
        let message = stop_message(begin(&records, 0, "b", false));
        assert!(
            message.starts_with("runbook diverged from journal at step 1:"),
            "{message}"
        );
        assert!(
            message.contains("`a`") && message.contains("`b`"),
            "{message}"
        );
    }

    #[test]
    fn in_doubt_after_a_change_stops_unless_rerun_is_allowed() {
        let records = [started(0, "a"), op(0, true, "ALTER DATABASE x")];
        let message = stop_message(begin(&records, 0, "a", false));
        assert!(message.contains("is in doubt"), "{message}");
        assert!(message.contains("ALTER DATABASE x"), "{message}");
        let replay = Replay::from_records(&records);
        assert!(matches!(
            Checkpoint::begin(0, "a", false, &replay, &policy(true)),
            Begin::Run(_)
        ));
    }

    #[test]
    fn in_doubt_idempotent_step_runs_again() {
        let records = [started(0, "a"), op(0, true, "ALTER DATABASE x")];
        assert!(matches!(begin(&records, 0, "a", true), Begin::Run(_)));
    }

    #[test]
    fn in_doubt_step_that_sent_no_change_runs_again() {
        let records = [started(0, "a"), op(0, false, "SELECT 1")];
        assert!(matches!(begin(&records, 0, "a", false), Begin::Run(_)));
    }

    #[test]
    fn a_change_sent_in_an_earlier_attempt_keeps_the_step_in_doubt() {
        // Crashed after a change, resumed with --rerun-in-doubt, crashed again
        // before any op: the first change may still have taken effect.
        let records = [
            started(0, "a"),
            op(0, true, "ALTER DATABASE x"),
            started(0, "a"),
        ];
        let message = stop_message(begin(&records, 0, "a", false));
        assert!(
            message.contains("the last op sent was:\n    (none)"),
            "{message}"
        );
    }

    #[test]
    fn a_step_that_failed_before_any_change_runs_again() {
        let records = [started(0, "a"), op(0, false, "SELECT 1"), failed(0, "a")];
        assert!(matches!(begin(&records, 0, "a", false), Begin::Run(_)));
    }

    #[test]
    fn a_step_that_failed_after_a_change_is_in_doubt() {
        let records = [started(0, "a"), op(0, true, "ALTER"), failed(0, "a")];
        let message = stop_message(begin(&records, 0, "a", false));
        assert!(
            message.contains("(the step failed after sending a change: boom)"),
            "{message}"
        );
    }

    #[test]
    fn a_step_waiting_for_a_decision_runs_again_to_ask_it() {
        let records = [
            started(0, "a"),
            Record::DecisionNeeded {
                step: 0,
                key: "k".into(),
                question: "q?".into(),
                choices: vec!["x".into()],
            },
        ];
        assert!(matches!(begin(&records, 0, "a", false), Begin::Run(_)));
    }

    #[test]
    fn a_step_may_wait_for_a_decision_only_before_a_change_unless_idempotent() {
        let Begin::Run(mut plain) = begin(&[], 0, "a", false) else {
            panic!()
        };
        let Begin::Run(mut idempotent) = begin(&[], 0, "a", true) else {
            panic!()
        };
        plain.op_done(false, 1);
        assert!(plain.may_wait().is_ok());
        plain.op_done(true, 1);
        idempotent.op_done(true, 1);
        assert!(plain
            .may_wait()
            .unwrap_err()
            .contains("must be declared idempotent"));
        assert!(idempotent.may_wait().is_ok());
    }

    #[test]
    fn ending_says_what_to_journal_and_counts_ops() {
        let Begin::Run(mut cp) = begin(&[], 2, "a", false) else {
            panic!()
        };
        assert_eq!(cp.next_seq(), 0);
        cp.op_done(true, 5);
        cp.op_done(false, 7);
        assert_eq!(cp.next_seq(), 2);
        let (record, outcome) = cp.clone().end(Ending::Completed(json!(1)), 9, None);
        assert!(matches!(
            record,
            Some(Record::StepCompleted {
                index: 2,
                sim_seconds: 12,
                wall_ms: 9,
                ..
            })
        ));
        assert_eq!(
            (outcome.status, outcome.ops, outcome.changes),
            (StepStatus::Completed, 2, 1)
        );
        let (record, outcome) = cp.clone().end(Ending::Failed("boom".into()), 0, Some(60));
        assert!(matches!(record, Some(Record::StepFailed { .. })));
        assert_eq!(
            (outcome.status, outcome.sim_seconds),
            (StepStatus::Failed, 60)
        );
        let (record, outcome) = cp.clone().end(Ending::Waiting, 0, None);
        assert!(record.is_none());
        assert_eq!(outcome.status, StepStatus::Waiting);
        let (record, outcome) = cp.end(Ending::Stopped, 0, None);
        assert!(record.is_none());
        assert_eq!(outcome.status, StepStatus::Stopped);
    }

    #[test]
    fn step_statuses_serialize_as_before() {
        let all = [
            StepStatus::Completed,
            StepStatus::Replayed,
            StepStatus::Failed,
            StepStatus::Waiting,
            StepStatus::Stopped,
        ];
        let names: Vec<Value> = all
            .iter()
            .map(|s| serde_json::to_value(s).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                json!("completed"),
                json!("replayed"),
                json!("failed"),
                json!("waiting"),
                json!("stopped")
            ]
        );
    }
}
