//! drillbook's one error type: a variant per failure, each carrying what an
//! admin needs to act on it. Messages are rendered here and nowhere else, and
//! each variant belongs to one exit-code class (see the README).

use std::fmt;
use std::path::PathBuf;

/// Exit codes, one per failure class.
pub mod exit {
    pub const OK: i32 = 0;
    pub const RUNBOOK_FAILED: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
    pub const WAITING_FOR_OPERATOR: i32 = 3;
    pub const LOCK_HELD: i32 = 4;
    pub const IO: i32 = 5;
}

#[derive(Debug)]
pub enum Error {
    UnknownRunbook {
        name: String,
        known: Vec<String>,
    },
    RunbookSyntax {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
    RunbookHeader {
        file: String,
        message: String,
    },
    Param {
        runbook: String,
        param: String,
        message: String,
    },
    EstateSyntax {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
    Estate {
        file: String,
        message: String,
    },
    Fault {
        fault: String,
        message: String,
    },
    LabMissing {
        path: PathBuf,
    },
    LabState {
        path: PathBuf,
        message: String,
    },
    UnknownRun {
        run_id: String,
        dir: PathBuf,
    },
    Journal {
        path: PathBuf,
        line: usize,
        message: String,
    },
    RunbookChanged {
        run_id: String,
        runbook: String,
        journaled: String,
        current: String,
    },
    NotResumable {
        run_id: String,
        message: String,
    },
    Usage {
        message: String,
    },
    Quote(crate::quote::QuoteError),
    /// The live target cannot be set up from the estate file (a missing
    /// password, an impossible setting). Never carries a secret.
    LiveSetup {
        what: String,
        message: String,
    },
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An input file that is not UTF-8 text: bad input, not an I/O failure.
    NotText {
        path: PathBuf,
    },

    /// The runbook stopped: an op failed, a `require` did not hold, or the script erred.
    StepFailed {
        run_id: String,
        step: String,
        message: String,
    },
    Script {
        file: String,
        line: usize,
        message: String,
    },
    Diverged {
        run_id: String,
        index: usize,
        journaled: String,
        found: String,
    },
    Aborted {
        run_id: String,
        step: String,
        reason: String,
    },
    /// One step wrote more than the journal allows a step (a runaway loop).
    StepJournalFull {
        run_id: String,
        step: String,
        limit: u64,
    },
    DrillExpectation {
        scenario: String,
        failures: Vec<String>,
    },
    DrillSetup {
        scenario: String,
        action: String,
        message: String,
    },

    WaitingForDecision {
        run_id: String,
        step: String,
        key: String,
        question: String,
        choices: Vec<String>,
    },
    InDoubt {
        run_id: String,
        step: String,
        last_op: String,
    },
    /// The interrupted attempt's statement still runs on the server.
    StillRunning {
        run_id: String,
        step: String,
        instance: String,
        spid: i64,
        what: String,
        waited_seconds: u64,
    },
    /// A confirmation nobody could answer (no terminal), or that the
    /// operator did not give (`paused`: Enter or `n`): the run waits.
    ConfirmationNeeded {
        run_id: String,
        step: String,
        message: String,
        paused: bool,
    },

    LockHeld {
        path: PathBuf,
        owner: String,
        since: String,
    },
    /// `run` of a runbook that has a run waiting for an operator on the
    /// same estate and target.
    RunWaiting {
        run_id: String,
        runbook: String,
        why: String,
    },
    /// A local runbook whose header takes a shipped runbook's name.
    ShadowsShipped {
        file: String,
        name: String,
    },
    /// `drillbook test`: scenarios that did not end as expected, as
    /// `runbook · scenario: reason`.
    TestsFailed {
        total: usize,
        failures: Vec<String>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Read a text input file: I/O failures are [`Error::Io`], bytes that
    /// are not UTF-8 are [`Error::NotText`] (bad input, exit 2).
    pub fn read_text(path: &std::path::Path) -> Result<String> {
        match std::fs::read(path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| Error::NotText {
                path: path.to_path_buf(),
            }),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    pub fn exit_code(&self) -> i32 {
        use Error::*;
        match self {
            UnknownRunbook { .. }
            | RunbookSyntax { .. }
            | RunbookHeader { .. }
            | Param { .. }
            | EstateSyntax { .. }
            | Estate { .. }
            | Fault { .. }
            | LabMissing { .. }
            | LabState { .. }
            | UnknownRun { .. }
            | Journal { .. }
            | RunbookChanged { .. }
            | NotResumable { .. }
            | Usage { .. }
            | LiveSetup { .. }
            | NotText { .. }
            | ShadowsShipped { .. }
            | Quote(_) => exit::BAD_INPUT,
            Io { .. } => exit::IO,
            StepFailed { .. }
            | Script { .. }
            | Diverged { .. }
            | Aborted { .. }
            | StepJournalFull { .. }
            | DrillExpectation { .. }
            | DrillSetup { .. }
            | TestsFailed { .. } => exit::RUNBOOK_FAILED,
            WaitingForDecision { .. }
            | InDoubt { .. }
            | StillRunning { .. }
            | ConfirmationNeeded { .. } => exit::WAITING_FOR_OPERATOR,
            LockHeld { .. } | RunWaiting { .. } => exit::LOCK_HELD,
        }
    }

    /// A stable name for the class, used in `--json` output.
    pub fn kind(&self) -> &'static str {
        use Error::*;
        match self {
            UnknownRunbook { .. } => "unknown_runbook",
            RunbookSyntax { .. } => "runbook_syntax",
            RunbookHeader { .. } => "runbook_header",
            Param { .. } => "parameter",
            EstateSyntax { .. } => "estate_syntax",
            Estate { .. } => "estate",
            Fault { .. } => "fault",
            LabMissing { .. } => "lab_missing",
            LabState { .. } => "lab_state",
            UnknownRun { .. } => "unknown_run",
            Journal { .. } => "journal",
            RunbookChanged { .. } => "runbook_changed",
            NotResumable { .. } => "not_resumable",
            Usage { .. } => "usage",
            Quote(_) => "quote",
            LiveSetup { .. } => "live_setup",
            Io { .. } => "io",
            NotText { .. } => "not_text",
            StepFailed { .. } => "step_failed",
            Script { .. } => "script",
            Diverged { .. } => "diverged",
            Aborted { .. } => "aborted",
            StepJournalFull { .. } => "step_journal_full",
            DrillExpectation { .. } => "drill_expectation",
            DrillSetup { .. } => "drill_setup",
            WaitingForDecision { .. } => "waiting_for_decision",
            InDoubt { .. } => "in_doubt",
            StillRunning { .. } => "still_running",
            ConfirmationNeeded { .. } => "confirmation_needed",
            LockHeld { .. } => "lock_held",
            RunWaiting { .. } => "run_waiting",
            ShadowsShipped { .. } => "shadows_shipped",
            TestsFailed { .. } => "tests_failed",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Error::*;
        match self {
            UnknownRunbook { name, known } => write!(
                f,
                "no runbook named `{name}`{}: give a shipped runbook ({}) or the path of a .rhai file",
                crate::suggest::did_you_mean(name, known.iter().map(String::as_str)),
                known.join(", ")
            ),
            RunbookSyntax { file, line, col, message } => {
                write!(f, "{file}:{line}:{col}: syntax error: {message}")
            }
            RunbookHeader { file, message } => write!(f, "{file}: runbook header: {message}"),
            Param { runbook, param, message } => {
                write!(f, "parameter `{param}` of runbook `{runbook}`: {message}")
            }
            EstateSyntax { file, line, col, message } => {
                write!(f, "{file}:{line}:{col}: estate file syntax error: {}", message.trim())
            }
            Estate { file, message } => write!(f, "{file}: {message}"),
            Fault { fault, message } => write!(f, "fault `{fault}`: {message}"),
            LabMissing { path } => write!(
                f,
                "no lab state at {}: create it with `drillbook lab init` (or run a `drillbook drill`)",
                path.display()
            ),
            LabState { path, message } => write!(
                f,
                "{}: lab state is unusable: {message}; recreate it with `drillbook lab init`",
                path.display()
            ),
            UnknownRun { run_id, dir } => write!(
                f,
                "no run `{run_id}` in {}: `drillbook journal` lists the runs",
                dir.display()
            ),
            NotText { path } => write!(
                f,
                "{}: not UTF-8 text; save it as UTF-8 (without a byte-order mark is best)",
                path.display()
            ),
            Journal { path, line, message } => write!(f, "{}:{line}: journal: {message}", path.display()),
            RunbookChanged { run_id, runbook, journaled, current } => write!(
                f,
                "runbook `{runbook}` changed since run {run_id} started (sha256 {} then, {} now): \
                 resume with --allow-changed only if you are sure the change is safe mid-run",
                short(journaled),
                short(current)
            ),
            NotResumable { run_id, message } => write!(f, "run {run_id} cannot be resumed: {message}"),
            Usage { message } => write!(f, "{message}"),
            Quote(e) => write!(f, "{e}; nothing was sent"),
            LiveSetup { what, message } => {
                write!(f, "{what}: {message}; nothing was sent")
            }
            Io { path, source } => write!(f, "{}: {source}", path.display()),
            // A plan has no run to resume: it is planned again.
            StepFailed { run_id, step, message } if is_plan(run_id) => write!(
                f,
                "step `{step}` failed: {message}\n  fix the cause, then plan again"
            ),
            StepFailed { run_id, step, message } => write!(
                f,
                "step `{step}` failed: {message}\n  fix the cause, then `drillbook resume {run_id}`"
            ),
            Script { file, line, message } => write!(f, "{file}:{line}: runbook error: {message}"),
            Diverged { run_id, index, journaled, found } => write!(
                f,
                "runbook diverged from journal at step {index}: the journal of run {run_id} has \
                 `{journaled}` there, the runbook now reaches `{found}`"
            ),
            Aborted { run_id, step, reason } => {
                write!(f, "run {run_id} aborted at step `{step}`: {reason}")
            }
            StepJournalFull { run_id, step, limit } => write!(
                f,
                "step `{step}` failed: it journaled more than {} (the most one step may write: a loop \
                 of ops or log lines that does not end?); stopped before it fills the disk\n  fix the \
                 runbook, then `drillbook resume {run_id} --allow-changed`",
                size(*limit)
            ),
            DrillExpectation { scenario, failures } => write!(
                f,
                "drill scenario `{scenario}` ended in the wrong state:\n  {}",
                failures.join("\n  ")
            ),
            ShadowsShipped { file, name } => write!(
                f,
                "{file}: this local runbook is named `{name}`, like a shipped runbook: rename it \
                 (header `name`), or pass --override to use it in the shipped one's place"
            ),
            TestsFailed { total, failures } => write!(
                f,
                "{} of {total} scenario(s) failed:\n  {}",
                failures.len(),
                failures.join("\n  ")
            ),
            DrillSetup { scenario, action, message } => {
                write!(f, "drill scenario `{scenario}` could not be prepared: `{action}`: {message}")
            }
            // A plan has no run to resume: it is planned again with the answer.
            // The one place a waiting run states its question (with what
            // each choice costs, when the runbook says).
            WaitingForDecision { run_id, step, key, question, choices } if is_plan(run_id) => write!(
                f,
                "step `{step}` needs an operator decision: {}\n  the plan stops here; plan past it \
                 with `--decision {key}=<{}>`",
                question.replace('\n', "\n  "),
                choices.join("|")
            ),
            WaitingForDecision { run_id, step, question, choices, .. } => write!(
                f,
                "step `{step}` needs an operator decision: {}\n  choose with \
                 `drillbook resume {run_id} --decision <{}>`",
                question.replace('\n', "\n  "),
                choices.join("|")
            ),
            InDoubt { run_id, step, last_op } => write!(
                f,
                "step `{step}` is in doubt: it started but did not finish; the last op sent was:\n    \
                 {last_op}\n  check the estate, then `drillbook resume {run_id} --rerun-in-doubt` \
                 to run the step again"
            ),
            StillRunning { run_id, step, instance, spid, what, waited_seconds } => write!(
                f,
                "step `{step}` was not run again: session {spid} on {instance}, which the interrupted \
                 attempt sent its change on, is still running ({what}) after {waited_seconds} s\n  \
                 let it finish (or end it with KILL {spid} on {instance}), then `drillbook resume {run_id}`"
            ),
            ConfirmationNeeded { step, message, run_id, .. } if is_plan(run_id) => write!(
                f,
                "step `{step}` waits for an operator: {message}\n  plan again with --yes to plan past it"
            ),
            ConfirmationNeeded { run_id, step, message, paused: true } => write!(
                f,
                "step `{step}` paused: the operator did not confirm: {message}\n  the run waits; when ready, \
                 `drillbook resume {run_id}` asks again (or `--yes`); answer `abort` there to end it for good"
            ),
            ConfirmationNeeded { run_id, step, message, paused: false } => write!(
                f,
                "step `{step}` waits for an operator: {message}\n  do it, then `drillbook resume {run_id} --yes`"
            ),
            LockHeld { path, owner, since } => write!(
                f,
                "{} is held by {owner} since {since}: one change run at a time on this estate; \
                 if that run is dead, resume it, or take the lock over with --take-over-lock",
                path.display()
            ),
            RunWaiting { run_id, runbook, why } => write!(
                f,
                "run {run_id} of `{runbook}` on this estate waits for an operator ({why}); nothing was \
                 changed\n  finish it with `drillbook resume {run_id}` (it says what it needs), or start \
                 anew with --take-over-lock"
            ),
        }
    }
}

/// A byte count as people read it: whole MiB when it is, else bytes.
fn size(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// A plan's run id (`plan-NAME`): there is no run to resume.
fn is_plan(run_id: &str) -> bool {
    run_id.starts_with("plan-")
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

impl std::error::Error for Error {}

impl From<crate::quote::QuoteError> for Error {
    fn from(e: crate::quote::QuoteError) -> Self {
        Error::Quote(e)
    }
}

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
