//! A run: one execution of one runbook — load, validate, journal, lock, and
//! drive the script to its end or to the point where it must stop. Resume
//! rebuilds the same run from its journal and drives the script again.
//!
//! `checkpoint` decides, step by step, what resume replays, runs or stops
//! at; `session` answers the script's requests (the engine's `Host`) with
//! the journal, the target, the reporter and the operator; `operator` is
//! the person the run asks, behind a trait the CLI implements.

pub mod checkpoint;
pub mod operator;
mod session;

pub use crate::journal::Mode;
pub use checkpoint::{StepOutcome, StepStatus};
pub use operator::{Confirmation, Frontend, OpObserver, Operator};

use crate::engine;
use crate::error::{Error, Result};
use crate::estate::Estate;
use crate::journal::{
    self, EstateId, Journal, Lock, Record, Replay, RunHeader, RunStatus, RunbookId,
};
use crate::report::Event;
use crate::runbook::Runbook;
use crate::targets::dry_run::DryRun;
use crate::targets::Target;
use checkpoint::Policy;
use serde_json::Value;
use session::{Session, Settings};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

/// Settings of one invocation, from the command line and environment.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub home: PathBuf,
    pub operator: String,
    pub yes: bool,
    pub rerun_in_doubt: bool,
    /// `choice` (for the question a resumed run waits on) or `key=choice`.
    pub decisions: Vec<String>,
    pub take_over_lock: bool,
    pub allow_changed: bool,
    /// The most one step may journal, in bytes; 0 means
    /// [`STEP_JOURNAL_MAX_BYTES`].
    pub step_journal_max_bytes: u64,
}

/// The most one step may write to the journal: a shipped step writes a few
/// KiB per op, a restore loop over a week of log backups (2,016 files) well
/// under 16 MiB; a loop that does not end is stopped here, not by a full disk.
pub const STEP_JOURNAL_MAX_BYTES: u64 = 16 << 20;

/// What to run: the runbook, where and how.
pub struct RunSpec<'a> {
    pub runbook: &'a Runbook,
    pub estate: Estate,
    /// Validated against the runbook's schema (`runbook::resolve_params`).
    pub params: serde_json::Map<String, Value>,
    pub target: Box<dyn Target>,
    pub mode: Mode,
    /// The drill scenario, when the run is a drill.
    pub scenario: Option<String>,
}

/// One attempt of a run: a start, or a resume from the journal.
struct Attempt {
    run_id: String,
    journal: Option<Journal>,
    replay: Replay,
    /// Decisions given on this command line.
    decisions: BTreeMap<String, String>,
    resumed: bool,
}

/// A change op a plan would send.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedOp {
    pub step: String,
    pub host: String,
    pub language: String,
    pub text: String,
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    pub run_id: String,
    pub status: RunStatus,
    pub error: Option<Error>,
    pub steps: Vec<StepOutcome>,
    pub plan: Vec<PlannedOp>,
    pub ops: u64,
    pub sim_seconds: Option<u64>,
    pub scenario: Option<String>,
}

/// The estate a journal names: the built-in one, or the file at its path.
pub fn journaled_estate(id: &crate::journal::EstateId) -> Result<Estate> {
    if id.source.starts_with("<built-in") {
        Estate::builtin()
    } else {
        Estate::load(Path::new(&id.source))
    }
}

pub fn lab_path(home: &Path) -> PathBuf {
    home.join("lab").join("state.json")
}

fn new_run_id(home: &Path, runbook: &str) -> String {
    let stamp = crate::time::compact(crate::time::now_epoch());
    let base = format!("{}T{}-{runbook}", &stamp[..8], &stamp[8..]);
    let mut id = base.clone();
    let mut n = 2;
    while Journal::path_for(home, &id).exists() {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// How a journal names an estate: its file's absolute path (so a resume
/// from another directory finds it) or the built-in one, and its sha256.
fn estate_id(estate: &Estate) -> EstateId {
    EstateId {
        source: estate
            .path
            .as_ref()
            .map_or_else(|| estate.source.clone(), |p| p.display().to_string()),
        sha256: estate.sha256.clone(),
    }
}

/// Split `--decision` values into keyed ones and one bare choice.
fn parse_decisions(given: &[String]) -> (BTreeMap<String, String>, Option<String>) {
    let mut keyed = BTreeMap::new();
    let mut bare = None;
    for d in given {
        match d.split_once('=') {
            Some((k, v)) => {
                keyed.insert(k.trim().to_string(), v.trim().to_string());
            }
            None => bare = Some(d.trim().to_string()),
        }
    }
    (keyed, bare)
}

/// The `--decision KEY=CHOICE` answers a new run starts with; a bare
/// CHOICE answers nothing yet.
fn new_run_decisions(opts: &Options) -> Result<BTreeMap<String, String>> {
    let (mut decisions, bare) = parse_decisions(&opts.decisions);
    if let Some(b) = bare {
        return Err(Error::Usage {
            message: format!("--decision {b:?} needs a question to answer: give it as KEY={b} (for example log-chain-gap={b})"),
        });
    }
    decisions.retain(|_, v| !v.is_empty());
    Ok(decisions)
}

/// Start a new run (apply or plan).
pub fn start(spec: RunSpec, opts: &Options, frontend: &Frontend) -> Result<Outcome> {
    let decisions = new_run_decisions(opts)?;
    let rb = spec.runbook;
    if spec.mode == Mode::Plan {
        let spec = RunSpec {
            target: Box::new(DryRun::new(spec.target)),
            ..spec
        };
        let attempt = Attempt {
            run_id: format!("plan-{}", rb.header.name),
            journal: None,
            replay: Replay::default(),
            decisions,
            resumed: false,
        };
        return execute(spec, attempt, opts, frontend);
    }
    let mut lock = Lock::acquire(
        &opts.home,
        &spec.estate.file.estate.name,
        &opts.operator,
        &format!("starting {}", rb.header.name),
        opts.take_over_lock,
    )?;
    if !opts.take_over_lock {
        let estate = estate_id(&spec.estate);
        let target = spec.target.name();
        if let Some(w) = journal::waiting_run(&opts.home, &rb.header.name, &estate.source, &target)
        {
            return Err(Error::RunWaiting {
                run_id: w.run_id,
                runbook: rb.header.name.clone(),
                why: w.why,
            });
        }
    }
    start_locked(spec, &mut lock, opts, frontend)
}

/// Start a new apply run under the estate's lock, which the caller took
/// before it changed anything (a drill stages its lab under it).
pub fn start_locked(
    spec: RunSpec,
    lock: &mut Lock,
    opts: &Options,
    frontend: &Frontend,
) -> Result<Outcome> {
    let decisions = new_run_decisions(opts)?;
    let rb = spec.runbook;
    let mut run_id = new_run_id(&opts.home, &rb.header.name);
    lock.rename(&opts.operator, &run_id)?;
    if let Some(hook) = &frontend.on_locked {
        hook();
    }
    let estate = &spec.estate;
    let mut header = RunHeader {
        run_id: run_id.clone(),
        runbook: RunbookId {
            name: rb.header.name.clone(),
            version: rb.header.version.clone(),
            sha256: rb.sha256.clone(),
            origin: rb.origin.clone(),
        },
        params: spec.params.clone(),
        target: spec.target.name(),
        mode: Mode::Apply,
        operator: opts.operator.clone(),
        estate: estate_id(estate),
        started_at: crate::time::rfc3339(crate::time::now_epoch()),
        scenario: spec.scenario.clone(),
        sim_start: spec.target.clock(),
    };
    // Another run (on another estate) may take the same id in the same
    // second: the journal is created exclusively, and the id bumped until
    // one is ours.
    let journal = loop {
        match Journal::create(&opts.home, header.clone()) {
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
                run_id = new_run_id(&opts.home, &rb.header.name);
                header.run_id = run_id.clone();
                lock.rename(&opts.operator, &run_id)?;
            }
            created => break created?,
        }
    };
    let mut journal = journal;
    say_taken_over(lock, &mut journal, frontend)?;
    let attempt = Attempt {
        run_id,
        journal: Some(journal),
        replay: Replay::default(),
        decisions,
        resumed: false,
    };
    execute(spec, attempt, opts, frontend)
}

/// A lock taken over by itself from a dead run that left nothing to
/// resume: the operator is told, and the new run's journal says so.
fn say_taken_over(lock: &Lock, journal: &mut Journal, frontend: &Frontend) -> Result<()> {
    let Some(line) = lock.taken_over() else {
        return Ok(());
    };
    frontend.reporter.text(&format!("note: {line}"));
    journal.append(&Record::Log {
        step: None,
        message: line.to_string(),
    })
}

/// Opens the target a journal names (`lab`, `live`) for an estate.
pub type OpenTarget<'a> = dyn Fn(&str, &Estate) -> Result<Box<dyn Target>> + 'a;

/// Resume a run from its journal. `open_target` opens the target the
/// journal names (`lab` or `live`) for the estate: the caller wires targets.
pub fn resume(
    run_id: &str,
    opts: &Options,
    frontend: &Frontend,
    open_target: &OpenTarget<'_>,
) -> Result<Outcome> {
    let path = Journal::path_for(&opts.home, run_id);
    if !path.exists() {
        return Err(Error::UnknownRun {
            run_id: run_id.to_string(),
            dir: Journal::runs_dir(&opts.home),
        });
    }
    // The header names the estate, whose lock guards the run; everything
    // else is read under the lock, once no other process can append.
    let h = journal::read(&path)?.header;
    let estate = journaled_estate(&h.estate)?;
    let lock = Lock::acquire(
        &opts.home,
        &estate.file.estate.name,
        &opts.operator,
        run_id,
        opts.take_over_lock,
    )?;
    let loaded = journal::read(&path)?;
    let h = loaded.header.clone();
    if journal::last_status(&loaded.records) == Some(RunStatus::Succeeded) {
        return Err(Error::NotResumable {
            run_id: run_id.to_string(),
            message: "it already succeeded".into(),
        });
    }
    if journal::last_status(&loaded.records) == Some(RunStatus::Aborted) {
        return Err(Error::NotResumable {
            run_id: run_id.to_string(),
            message: "the operator aborted it; start a new run".into(),
        });
    }
    let rb = if h.runbook.origin == "shipped" {
        Runbook::find(&h.runbook.name, None)?
    } else {
        Runbook::find(&h.runbook.origin, None)?
    };
    if rb.sha256 != h.runbook.sha256 && !opts.allow_changed {
        return Err(Error::RunbookChanged {
            run_id: run_id.to_string(),
            runbook: h.runbook.name.clone(),
            journaled: h.runbook.sha256.clone(),
            current: rb.sha256.clone(),
        });
    }
    if estate.sha256 != h.estate.sha256 && !opts.allow_changed {
        return Err(Error::NotResumable {
            run_id: run_id.to_string(),
            message: format!(
                "the estate {} changed since the run started (sha256 {}… then, {}… now): \
                 resume with --allow-changed only if you are sure the change is safe mid-run",
                h.estate.source,
                &h.estate.sha256[..h.estate.sha256.len().min(12)],
                &estate.sha256[..estate.sha256.len().min(12)],
            ),
        });
    }
    let replay = Replay::from_records(&loaded.records);
    let (mut decisions, bare) = parse_decisions(&opts.decisions);
    if let Some(choice) = bare {
        let pending = loaded.records.iter().rev().find_map(|r| match r {
            Record::DecisionNeeded { key, .. } => Some(key.clone()),
            _ => None,
        });
        match pending {
            Some(key) if !replay.decisions.contains_key(&key) => {
                decisions.insert(key, choice);
            }
            _ => return Err(Error::Usage { message: format!("run {run_id} is not waiting for a decision; --decision {choice:?} has nothing to answer") }),
        }
    }
    let target = open_target(&h.target, &estate)?;
    check_not_behind(run_id, &replay, target.as_ref())?;
    let mut journal = Journal::reopen(&path, loaded.torn.as_ref())?;
    if let Some(t) = &loaded.torn {
        frontend.reporter.text(&format!(
            "note: {}:{}: the last record was cut short by a crash and has been dropped",
            path.display(),
            t.line
        ));
    }
    journal.append(&Record::Resumed {
        at: crate::time::rfc3339(crate::time::now_epoch()),
        operator: opts.operator.clone(),
        allow_changed: opts.allow_changed,
    })?;
    say_taken_over(&lock, &mut journal, frontend)?;
    let spec = RunSpec {
        runbook: &rb,
        estate,
        params: h.params.clone(),
        target,
        mode: Mode::Apply,
        scenario: h.scenario.clone(),
    };
    let attempt = Attempt {
        run_id: run_id.to_string(),
        journal: Some(journal),
        replay,
        decisions,
        resumed: true,
    };
    execute(spec, attempt, opts, frontend)
}

/// A lab syncs a run's changes with the run's journal, not on its own
/// (docs/architecture.md, "What is durable when"): a lab whose clock is
/// behind the last change the journal holds as done lost changes (a power
/// loss, a restored or re-initialized lab file), and resuming on it would
/// carry on from a world that never was.
fn check_not_behind(run_id: &str, replay: &Replay, target: &dyn Target) -> Result<()> {
    match (replay.change_clock, target.clock()) {
        (Some(done), Some(now)) if now < done => Err(Error::NotResumable {
            run_id: run_id.to_string(),
            message: format!(
                "the lab is behind this run's journal: the journal holds changes done up to \
                 {done} s of lab time, the lab's clock reads {now} s, so the lab lost changes \
                 (a power loss before they reached its disk, or a lab file restored or \
                 re-initialized since). Stage the lab again (`drillbook lab init`, or a new \
                 `drillbook drill`) and start a new run"
            ),
        }),
        _ => Ok(()),
    }
}

fn execute(
    spec: RunSpec,
    attempt: Attempt,
    opts: &Options,
    frontend: &Frontend,
) -> Result<Outcome> {
    let RunSpec {
        runbook: rb,
        estate,
        params,
        target,
        mode,
        scenario,
    } = spec;
    let run_id = attempt.run_id;
    let target_name = target.name();
    let clock0 = target.clock();
    let settings = Settings {
        runbook: rb.header.name.clone(),
        operator: opts.operator.clone(),
        mode,
        yes: opts.yes,
        policy: Policy {
            run_id: run_id.clone(),
            rerun_in_doubt: opts.rerun_in_doubt,
        },
        replay: attempt.replay,
        fresh_decisions: attempt.decisions,
        step_journal_max_bytes: match opts.step_journal_max_bytes {
            0 => STEP_JOURNAL_MAX_BYTES,
            n => n,
        },
    };
    let session = Rc::new(Session::new(
        settings,
        frontend.clone(),
        target,
        attempt.journal,
    ));
    let reporter = &frontend.reporter;
    reporter.event(&Event::RunStarted {
        run_id: run_id.clone(),
        runbook: rb.header.name.clone(),
        version: rb.header.version.clone(),
        target: target_name,
        mode: mode.as_str().into(),
        steps_total: rb.static_steps().len(),
        resumed: attempt.resumed,
    });
    let wall = Instant::now();
    let host: engine::Shared = session.clone();
    let result = engine::run(
        &host,
        Rc::new(estate),
        &rb.ast,
        rb.local_stdlib.clone(),
        &params,
    );
    drop(host);
    let stop = session.state.borrow_mut().stop.take();
    let error = match (result, stop) {
        (_, Some(e)) => Some(e),
        (Ok(()), None) => None,
        (Err(failure), None) => Some(Error::Script {
            file: rb.file.clone(),
            line: failure.line,
            message: failure.message,
        }),
    };
    let status = match &error {
        None => RunStatus::Succeeded,
        Some(
            Error::WaitingForDecision { .. }
            | Error::InDoubt { .. }
            | Error::ConfirmationNeeded { .. },
        ) => RunStatus::Waiting,
        Some(Error::Aborted { .. }) => RunStatus::Aborted,
        Some(_) => RunStatus::Failed,
    };
    let message = error
        .as_ref()
        .map(|e| e.to_string().lines().next().unwrap_or("").to_string())
        .unwrap_or_default();
    let finish = match &mut session.state.borrow_mut().journal {
        Some(j) => j.append(&Record::RunFinished {
            status,
            at: crate::time::rfc3339(crate::time::now_epoch()),
            message: message.clone(),
        }),
        None => Ok(()),
    };
    let mut st = session.state.borrow_mut();
    let sim_seconds = match (clock0, st.target.clock()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let changes = st.outcomes.iter().map(|o| o.changes).sum();
    reporter.event(&Event::RunFinished {
        run_id: run_id.clone(),
        status: status.as_str().into(),
        message,
        steps: st.outcomes.len(),
        ops: st.ops_performed,
        changes,
        sim_seconds,
        wall_ms: wall.elapsed().as_millis() as u64,
    });
    finish?;
    Ok(Outcome {
        run_id,
        status,
        error,
        steps: std::mem::take(&mut st.outcomes),
        plan: std::mem::take(&mut st.plan),
        ops: st.ops_performed,
        sim_seconds,
        scenario,
    })
}
