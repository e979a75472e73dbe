//! What a running script asks of the run that hosts it. The engine is the
//! Rhai side only: it turns script calls into these requests and their
//! answers back into script values. The run (`src/run/`) answers them — it
//! owns the checkpoints, the journal, the target, the reporter and the
//! operator — so the engine never touches a file, the terminal or the
//! process, and does not depend on the run.

use crate::op::Op;
use crate::targets::OpError;
use serde_json::Value;

/// Why a request returned no value.
#[derive(Debug)]
pub enum Halt {
    /// A mistake in the runbook: a script error the runbook can catch.
    Script(String),
    /// The run stops. The host keeps the reason; the script cannot catch it.
    Stop,
}

pub type HostResult<T> = Result<T, Halt>;

/// How a step the script reached begins.
#[derive(Debug)]
pub enum Begun {
    /// Completed in an earlier attempt: its journaled result. The body does not run.
    Replayed(Value),
    /// Run the body now, then hand its result to [`Host::end_step`].
    Running,
}

/// The run's side of a script. Every request may stop the run.
pub trait Host {
    /// The script reached step `name`: replay it, run it, or stop.
    fn begin_step(&self, name: &str, idempotent: bool) -> HostResult<Begun>;
    /// The running step's body returned (its result as plain data) or erred
    /// (the error in one line). An error always halts.
    fn end_step(&self, result: Result<Value, String>) -> HostResult<()>;
    /// Send one op to the target. The inner result is the estate's answer.
    fn perform(&self, op: Op) -> HostResult<Result<Value, OpError>>;
    fn log(&self, message: &str) -> HostResult<()>;
    /// Progress of a loop inside the running step.
    fn progress(&self, label: &str, done: u64, total: u64);
    /// The operator's choice for the question `key`; stops the run until it is given.
    fn decide(&self, key: &str, question: &str, choices: &[String]) -> HostResult<String>;
    /// The operator's confirmation of `message`; stops the run until it is given.
    fn confirm(&self, message: &str) -> HostResult<bool>;
    /// Stop the run as aborted (by the runbook, or by the operator's choice).
    fn abort(&self, reason: &str) -> Halt;
    /// Stop the run: the parameter `param` cannot be used (a bad-input error).
    fn reject(&self, param: &str, message: &str) -> Halt;
    /// Text the script printed (`print`, `debug`), for the operator.
    fn print(&self, text: &str);
    /// Seconds since the Unix epoch on the target's clock: simulated in the
    /// lab (a drill, a plan), real against the live estate.
    fn now(&self) -> HostResult<i64>;
}

/// A host for an engine that is only listed (`drillbook api`), never run.
pub(super) struct Inert;

impl Inert {
    fn refuse<T>(&self) -> HostResult<T> {
        Err(Halt::Script("this engine only lists the API".into()))
    }
}

impl Host for Inert {
    fn begin_step(&self, _: &str, _: bool) -> HostResult<Begun> {
        self.refuse()
    }
    fn end_step(&self, _: Result<Value, String>) -> HostResult<()> {
        self.refuse()
    }
    fn perform(&self, _: Op) -> HostResult<Result<Value, OpError>> {
        self.refuse()
    }
    fn log(&self, _: &str) -> HostResult<()> {
        self.refuse()
    }
    fn progress(&self, _: &str, _: u64, _: u64) {}
    fn decide(&self, _: &str, _: &str, _: &[String]) -> HostResult<String> {
        self.refuse()
    }
    fn confirm(&self, _: &str) -> HostResult<bool> {
        self.refuse()
    }
    fn abort(&self, _: &str) -> Halt {
        Halt::Stop
    }
    fn reject(&self, _: &str, _: &str) -> Halt {
        Halt::Stop
    }
    fn print(&self, _: &str) {}
    fn now(&self) -> HostResult<i64> {
        self.refuse()
    }
}
