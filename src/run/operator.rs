//! Who a run talks to: the [`Reporter`] tells what happens, the
//! [`Operator`] is the person asked to confirm and to choose. The run only
//! calls these traits; the CLI provides the terminal implementations, so
//! neither the run nor the engine reads the terminal.

use crate::report::Reporter;
use std::rc::Rc;

/// An operator's answer to "confirm?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Yes,
    /// Not now (Enter, `n`, anything but yes or abort): the run pauses
    /// (exit 3) and `resume` asks again.
    Pause,
    /// The operator answered `abort`: the run ends for good.
    Abort,
    /// Nobody can be asked now (no terminal): the run waits (exit 3) until
    /// it is resumed with `--yes`.
    Unavailable,
}

/// The person running the runbook.
pub trait Operator {
    /// Ask to confirm `message` (a manual step done, a change about to be made).
    fn confirm(&self, message: &str) -> Confirmation;
    /// Ask to choose one of `choices` for the question `key`; `None` when the
    /// choice is not given now, and the run waits for `--decision`.
    fn choose(&self, key: &str, question: &str, choices: &[String]) -> Option<String>;
    /// Show what the script printed (`print`, `debug`).
    fn show(&self, text: &str);
}

/// Called with the run's count of performed ops, right after each op an
/// apply run performs and before its answer is journaled (a test hook).
pub type OpObserver = Rc<dyn Fn(u64)>;

/// Everything outside the run that it talks to.
#[derive(Clone)]
pub struct Frontend {
    pub reporter: Rc<dyn Reporter>,
    pub operator: Rc<dyn Operator>,
    pub on_op_performed: Option<OpObserver>,
    /// Called once a new apply run holds the estate lock under its run id,
    /// before its journal exists (a test hook).
    pub on_locked: Option<Rc<dyn Fn()>>,
}
