//! The run's side of a running script: it answers the engine's requests
//! ([`Host`]) with the checkpoints, the journal, the target, the reporter and
//! the operator. Nothing unrecorded happens: every step start, op, answer,
//! decision and confirmation is journaled before the script goes on, and a
//! failure to journal stops the run.

use super::checkpoint::{Begin, Checkpoint, Ending, Policy, StepOutcome, StepStatus};
use super::operator::{Confirmation, Frontend};
use super::PlannedOp;
use crate::engine::{Begun, Halt, Host, HostResult};
use crate::error::Error;
use crate::journal::{Journal, Mode, Record, Replay};
use crate::op::Op;
use crate::report::Event;
use crate::targets::{OpError, SqlSession, Target};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a resume waits for an interrupted attempt's statement to finish.
const SESSION_WAIT: Duration = Duration::from_secs(120);
/// How often it asks the server.
const SESSION_POLL: Duration = Duration::from_millis(500);

/// Fixed for the whole attempt.
pub(super) struct Settings {
    /// The runbook's name, for parameter errors.
    pub runbook: String,
    /// Who runs it, as journaled with decisions and confirmations.
    pub operator: String,
    pub mode: Mode,
    /// `--yes`: confirmations are answered without asking.
    pub yes: bool,
    /// The run id and whether steps in doubt may run again.
    pub policy: Policy,
    pub replay: Replay,
    /// Decisions given on this command line, not yet journaled.
    pub fresh_decisions: BTreeMap<String, String>,
    /// The most one step may journal, in bytes.
    pub step_journal_max_bytes: u64,
}

/// What changes as the script runs.
pub(super) struct State {
    pub target: Box<dyn Target>,
    pub journal: Option<Journal>,
    pub next_index: usize,
    running: Option<Running>,
    pub outcomes: Vec<StepOutcome>,
    pub plan: Vec<PlannedOp>,
    pub ops_performed: u64,
    /// Why the script was stopped: wins over whatever error the script reports.
    pub stop: Option<Error>,
}

struct Running {
    checkpoint: Checkpoint,
    clock0: Option<u64>,
    wall: Instant,
    /// The journal's bytes written when the step began.
    journal0: u64,
}

pub(super) struct Session {
    pub settings: Settings,
    pub frontend: Frontend,
    pub state: RefCell<State>,
}

fn now() -> String {
    crate::time::rfc3339(crate::time::now_epoch())
}

impl Session {
    pub fn new(
        settings: Settings,
        frontend: Frontend,
        target: Box<dyn Target>,
        journal: Option<Journal>,
    ) -> Session {
        Session {
            settings,
            frontend,
            state: RefCell::new(State {
                target,
                journal,
                next_index: 0,
                running: None,
                outcomes: Vec::new(),
                plan: Vec::new(),
                ops_performed: 0,
                stop: None,
            }),
        }
    }

    /// Stop the run for `reason` (the first reason wins).
    fn stop(&self, reason: Error) -> Halt {
        let mut s = self.state.borrow_mut();
        if s.stop.is_none() {
            s.stop = Some(reason);
        }
        Halt::Stop
    }

    fn check_not_stopped(&self) -> HostResult<()> {
        match self.state.borrow().stop {
            Some(_) => Err(Halt::Stop),
            None => Ok(()),
        }
    }

    /// Journal a record and make it durable (with every record before it):
    /// before a change is sent, at a step's end, and for what the operator
    /// said. A failure to write stops the run.
    pub fn journal(&self, record: Record) -> HostResult<()> {
        self.journal_as(record, true)
    }

    /// Journal a record that the next durable one will carry to the disk:
    /// a step's start, a read and its answer, a change's answer, log lines.
    /// It is written to the file with the next durable record, or before
    /// the run next waits on the world or the operator (`journal_out`).
    fn journal_soon(&self, record: Record) -> HostResult<()> {
        self.journal_as(record, false)
    }

    /// Write what is journaled to the file, without waiting for the disk:
    /// before an op that may wait is sent (`Target::waits`), after a change
    /// answers, before the operator is asked. A killed process then loses at
    /// most the records of work that never waited, which a resume does
    /// again; a read step against the lab costs one write and one fdatasync.
    fn journal_out(&self) -> HostResult<()> {
        let res = match &mut self.state.borrow_mut().journal {
            Some(j) => j.flush(),
            None => Ok(()),
        };
        res.map_err(|e| self.stop(e))
    }

    fn journal_as(&self, record: Record, durable: bool) -> HostResult<()> {
        let (res, full) = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let res = match &mut st.journal {
                Some(j) if durable => j.append(&record),
                Some(j) => j.write(&record),
                None => Ok(()),
            };
            // What the running step has journaled, against its bound.
            let written = st.journal.as_ref().map_or(0, |j| j.written());
            let full = st.running.as_ref().and_then(|r| {
                let limit = self.settings.step_journal_max_bytes;
                (written - r.journal0 > limit).then(|| Error::StepJournalFull {
                    run_id: self.settings.policy.run_id.clone(),
                    step: r.checkpoint.name().to_string(),
                    limit,
                })
            });
            (res, full)
        };
        res.map_err(|e| self.stop(e))?;
        match full {
            Some(e) => Err(self.stop(e)),
            None => Ok(()),
        }
    }

    /// Before a step runs again: wait (at most `SESSION_WAIT`) for the
    /// server session an interrupted attempt of it sent a change on to
    /// finish its request, so the step's checks see what that change did and
    /// no second copy of it races the first. What is awaited, and how it
    /// ended, is journaled; if it still runs, the run stops and says so.
    fn await_session(&self, index: usize, name: &str, session: &SqlSession) -> HostResult<()> {
        self.journal_out()?;
        let started = Instant::now();
        let mut told = false;
        loop {
            let running = self.state.borrow_mut().target.still_running(session);
            let what = match running {
                Ok(Some(what)) => what,
                Ok(None) | Err(_) => {
                    if told {
                        self.log_at(
                            index,
                            &format!(
                                "session {} on {} finished after {} s; running the step again",
                                session.spid,
                                session.instance,
                                started.elapsed().as_secs()
                            ),
                        )?;
                    }
                    return Ok(());
                }
            };
            if !told {
                told = true;
                self.log_at(index, &format!(
                    "session {} on {}, which the interrupted attempt sent its change on, is still running ({what}); \
                     waiting up to {} s for it to finish before running the step again",
                    session.spid,
                    session.instance,
                    SESSION_WAIT.as_secs()
                ))?;
            }
            if started.elapsed() >= SESSION_WAIT {
                return Err(self.stop(Error::StillRunning {
                    run_id: self.settings.policy.run_id.clone(),
                    step: name.to_string(),
                    instance: session.instance.clone(),
                    spid: session.spid,
                    what,
                    waited_seconds: started.elapsed().as_secs(),
                }));
            }
            std::thread::sleep(SESSION_POLL);
        }
    }

    fn log_at(&self, index: usize, message: &str) -> HostResult<()> {
        self.journal(Record::Log {
            step: Some(index),
            message: message.to_string(),
        })?;
        self.event(&Event::Log {
            step: Some(index),
            message: message.to_string(),
        });
        Ok(())
    }

    fn event(&self, e: &Event) {
        self.frontend.reporter.event(e);
    }

    /// The step running now.
    fn current(&self) -> Option<Checkpoint> {
        self.state
            .borrow()
            .running
            .as_ref()
            .map(|r| r.checkpoint.clone())
    }

    fn current_or(&self, message: &str) -> HostResult<Checkpoint> {
        self.current().ok_or_else(|| Halt::Script(message.into()))
    }

    fn decision(&self, key: &str) -> Option<String> {
        let s = &self.settings;
        s.fresh_decisions
            .get(key)
            .or_else(|| s.replay.decisions.get(key))
            .cloned()
    }
}

impl Host for Session {
    fn begin_step(&self, name: &str, idempotent: bool) -> HostResult<Begun> {
        self.check_not_stopped()?;
        let index = {
            let mut s = self.state.borrow_mut();
            if let Some(r) = &s.running {
                return Err(Halt::Script(format!(
                    "step `{name}` was called inside step `{}`: steps cannot nest",
                    r.checkpoint.name()
                )));
            }
            s.next_index += 1;
            s.next_index - 1
        };
        let s = &self.settings;
        match Checkpoint::begin(index, name, idempotent, &s.replay, &s.policy) {
            Begin::Stop(e) => Err(self.stop(e)),
            Begin::Replay(v) => {
                self.event(&Event::StepReplayed {
                    index,
                    name: name.to_string(),
                });
                let outcome = StepOutcome::replayed(index, name);
                self.state.borrow_mut().outcomes.push(outcome);
                Ok(Begun::Replayed(v))
            }
            Begin::Run(checkpoint) => {
                if let Some((_, session)) = s.replay.open_sessions.get(&index) {
                    self.await_session(index, name, session)?;
                }
                self.journal_soon(checkpoint.started(now()))?;
                self.event(&Event::StepStarted {
                    index,
                    name: name.to_string(),
                });
                let mut st = self.state.borrow_mut();
                let clock0 = st.target.clock();
                let journal0 = st.journal.as_ref().map_or(0, |j| j.written());
                st.running = Some(Running {
                    checkpoint,
                    clock0,
                    wall: Instant::now(),
                    journal0,
                });
                Ok(Begun::Running)
            }
        }
    }

    fn end_step(&self, result: Result<Value, String>) -> HostResult<()> {
        let (running, clock1, stopped, journal_full) = {
            let mut st = self.state.borrow_mut();
            let waiting = matches!(
                st.stop,
                Some(Error::WaitingForDecision { .. } | Error::ConfirmationNeeded { .. })
            );
            let stopped = st.stop.as_ref().map(|_| waiting);
            // A step past its journal bound is failed, not left in doubt.
            let journal_full = match &st.stop {
                Some(e @ Error::StepJournalFull { .. }) => {
                    e.to_string().lines().next().map(str::to_string)
                }
                _ => None,
            };
            (st.running.take(), st.target.clock(), stopped, journal_full)
        };
        let running = running.ok_or_else(|| Halt::Script("no step is running".into()))?;
        let wall_ms = running.wall.elapsed().as_millis() as u64;
        let clock = match (running.clock0, clock1) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        let (index, name) = (
            running.checkpoint.index(),
            running.checkpoint.name().to_string(),
        );
        let ending = match (result, stopped, journal_full) {
            (_, _, Some(message)) => Ending::Failed(message),
            (Ok(json), _, None) => Ending::Completed(json),
            (Err(_), Some(true), None) => Ending::Waiting,
            (Err(_), Some(false), None) => Ending::Stopped,
            (Err(message), None, None) => Ending::Failed(message),
        };
        let error = match &ending {
            Ending::Failed(message) => message.clone(),
            _ => String::new(),
        };
        let (record, outcome) = running.checkpoint.end(ending, wall_ms, clock);
        if let Some(record) = record {
            self.journal(record)?;
        }
        let status = outcome.status;
        match status {
            StepStatus::Completed => self.event(&Event::StepCompleted {
                index,
                name: name.clone(),
                sim_seconds: outcome.sim_seconds,
                wall_ms,
            }),
            StepStatus::Failed => self.event(&Event::StepFailed {
                index,
                name: name.clone(),
                error: error.clone(),
            }),
            _ => {}
        }
        self.state.borrow_mut().outcomes.push(outcome);
        match status {
            StepStatus::Completed => Ok(()),
            StepStatus::Failed => Err(self.stop(Error::StepFailed {
                run_id: self.settings.policy.run_id.clone(),
                step: name,
                message: error,
            })),
            _ => Err(Halt::Stop),
        }
    }

    fn perform(&self, op: Op) -> HostResult<Result<Value, OpError>> {
        self.check_not_stopped()?;
        let step = self.current_or("ops must run inside a step, so that resume can replay their results; wrap this call in step(\"...\", || ...)")?;
        let text = op.render().map_err(|q| self.stop(Error::Quote(q)))?;
        let change = op.is_change();
        let seq = step.next_seq();
        // Durable before a change is sent; a read may be repeated.
        self.journal_as(
            Record::OpStarted {
                step: step.index(),
                seq,
                op: serde_json::to_value(&op).unwrap_or(Value::Null),
                change,
                text: text.clone(),
            },
            change,
        )?;
        if change && self.settings.mode == Mode::Apply {
            let session = self.state.borrow_mut().target.session(&op);
            if let Some(session) = session {
                self.journal(Record::OpSession {
                    step: step.index(),
                    seq,
                    session,
                })?;
            }
        }
        if self.state.borrow().target.waits() {
            self.journal_out()?;
        }
        let (performed, notes, clock) = {
            let mut st = self.state.borrow_mut();
            let performed = st.target.perform(&op);
            let clock = st
                .target
                .clock()
                .filter(|_| change && self.settings.mode == Mode::Apply);
            (performed, st.target.take_notes(), clock)
        };
        let performed = performed.map_err(|e| self.stop(e))?;
        let ops_performed = {
            let mut st = self.state.borrow_mut();
            st.ops_performed += 1;
            st.ops_performed
        };
        let apply = self.settings.mode == Mode::Apply;
        if let (true, Some(observe)) = (apply, &self.frontend.on_op_performed) {
            observe(ops_performed);
        }
        let (result, error) = match &performed.result {
            Ok(v) => (Some(v.clone()), None),
            Err(e) => (None, Some(serde_json::to_value(e).unwrap_or(Value::Null))),
        };
        // Durable with the step's end, or before the next change is sent.
        self.journal_soon(Record::OpDone {
            step: step.index(),
            seq,
            result,
            error,
            sim_seconds: performed.sim_seconds,
            clock,
        })?;
        if change {
            // A killed process must not leave a change that answered in doubt.
            self.journal_out()?;
        }
        // What the shell printed beside its answer (VERBOSE, WARNING lines).
        for line in &performed.logs {
            self.log(&format!("{}: {line}", op.host()))?;
        }
        let planned = !apply && change;
        {
            let mut st = self.state.borrow_mut();
            if let Some(r) = st.running.as_mut() {
                r.checkpoint.op_done(change, performed.sim_seconds);
            }
            if planned {
                st.plan.push(PlannedOp {
                    step: step.name().to_string(),
                    host: op.host(),
                    language: op.language().into(),
                    text: text.clone(),
                });
            }
        }
        self.event(&Event::Op {
            step: step.index(),
            host: op.host(),
            change,
            planned,
            text,
            ok: performed.result.is_ok(),
            error: performed.result.as_ref().err().map(|e| e.to_string()),
            sim_seconds: performed.sim_seconds,
        });
        for note in notes {
            self.log(&note)?;
        }
        Ok(performed.result)
    }

    fn log(&self, message: &str) -> HostResult<()> {
        let step = self.current().map(|c| c.index());
        self.journal_soon(Record::Log {
            step,
            message: message.to_string(),
        })?;
        self.event(&Event::Log {
            step,
            message: message.to_string(),
        });
        Ok(())
    }

    fn progress(&self, label: &str, done: u64, total: u64) {
        self.event(&Event::Progress {
            step: self.current().map_or(0, |c| c.index()),
            label: label.to_string(),
            done,
            total,
        });
    }

    fn decide(&self, key: &str, question: &str, choices: &[String]) -> HostResult<String> {
        self.check_not_stopped()?;
        let step = self.current_or("decide() must be called inside a step")?;
        let s = &self.settings;
        let journaled =
            s.replay.decisions.contains_key(key) && !s.fresh_decisions.contains_key(key);
        self.journal_out()?;
        let given = self.decision(key).or_else(|| {
            (s.mode == Mode::Apply)
                .then(|| self.frontend.operator.choose(key, question, choices))
                .flatten()
        });
        if let Some(choice) = given {
            if !choices.contains(&choice) {
                return Err(self.stop(Error::Usage {
                    message: format!(
                        "decision `{choice}` for `{key}` is not one of: {}",
                        choices.join(", ")
                    ),
                }));
            }
            if !journaled {
                self.journal(Record::Decision {
                    step: step.index(),
                    key: key.to_string(),
                    choice: choice.clone(),
                    operator: s.operator.clone(),
                    at: now(),
                })?;
            }
            self.log(&format!("operator decision for {key}: {choice}"))?;
            return Ok(choice);
        }
        step.may_wait().map_err(Halt::Script)?;
        self.journal(Record::DecisionNeeded {
            step: step.index(),
            key: key.to_string(),
            question: question.to_string(),
            choices: choices.to_vec(),
        })?;
        self.event(&Event::DecisionNeeded {
            step: step.index(),
            key: key.to_string(),
            question: question.to_string(),
            choices: choices.to_vec(),
        });
        Err(self.stop(Error::WaitingForDecision {
            run_id: s.policy.run_id.clone(),
            step: step.name().to_string(),
            key: key.to_string(),
            question: question.to_string(),
            choices: choices.to_vec(),
        }))
    }

    fn confirm(&self, message: &str) -> HostResult<bool> {
        self.check_not_stopped()?;
        let step = self.current_or("confirm() must be called inside a step")?;
        let s = &self.settings;
        if s.mode == Mode::Plan {
            self.log(&format!("would ask the operator to confirm: {message}"))?;
            return Ok(true);
        }
        if s.replay
            .confirmed
            .contains(&(step.index(), message.to_string()))
        {
            return Ok(true);
        }
        let answer = if s.yes {
            Confirmation::Yes
        } else {
            self.journal_out()?;
            self.frontend.operator.confirm(message)
        };
        match answer {
            Confirmation::Yes => {}
            Confirmation::Abort => {
                return Err(self.stop(Error::Aborted {
                    run_id: s.policy.run_id.clone(),
                    step: step.name().to_string(),
                    reason: format!("the operator answered abort to: {message}"),
                }))
            }
            Confirmation::Pause | Confirmation::Unavailable => {
                return Err(self.stop(Error::ConfirmationNeeded {
                    run_id: s.policy.run_id.clone(),
                    step: step.name().to_string(),
                    message: message.to_string(),
                    paused: answer == Confirmation::Pause,
                }))
            }
        }
        self.journal(Record::Confirmed {
            step: step.index(),
            message: message.to_string(),
            operator: s.operator.clone(),
            at: now(),
        })?;
        self.event(&Event::Confirmed {
            step: step.index(),
            message: message.to_string(),
            operator: s.operator.clone(),
        });
        Ok(true)
    }

    fn abort(&self, reason: &str) -> Halt {
        let step = self.current().map_or_else(
            || "(before the first step)".to_string(),
            |c| c.name().to_string(),
        );
        self.stop(Error::Aborted {
            run_id: self.settings.policy.run_id.clone(),
            step,
            reason: reason.to_string(),
        })
    }

    fn reject(&self, param: &str, message: &str) -> Halt {
        self.stop(Error::Param {
            runbook: self.settings.runbook.clone(),
            param: param.to_string(),
            message: message.to_string(),
        })
    }

    fn print(&self, text: &str) {
        self.frontend.operator.show(text);
    }

    fn now(&self) -> HostResult<i64> {
        self.check_not_stopped()?;
        Ok(self.state.borrow().target.now())
    }
}
