//! A run: one execution of one runbook — load, validate, journal, lock, and
//! drive the script to its end or to the point where it must stop. Resume
//! rebuilds the same run from its journal and drives the script again.

use crate::engine::context::{Ctx, Mode, PlannedOp, Replay, StepOutcome};
use crate::engine::{self, api::estate::EstateView, steps};
use crate::error::{Error, Result};
use crate::estate::Estate;
use crate::journal::{self, EstateId, Journal, Lock, Record, RunHeader, RunStatus, RunbookId};
use crate::lab::Lab;
use crate::report::{Event, Reporter};
use crate::runbook::Runbook;
use crate::targets::dry_run::DryRun;
use crate::targets::Target;
use serde_json::Value;
use std::cell::RefCell;
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
    pub abort_after_ops: Option<u64>,
    pub take_over_lock: bool,
    pub allow_changed: bool,
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

pub fn lab_path(home: &Path) -> PathBuf {
    home.join("lab").join("state.json")
}

/// The target a run names, opened from `home` (the lab) or the estate (live).
pub fn open_target(name: &str, home: &Path, estate: &Estate) -> Result<Box<dyn Target>> {
    match name {
        "lab" => Ok(Box::new(Lab::open(&lab_path(home))?)),
        "live" => {
            // Behind the lab twin, file ops, waits and manual steps go to its lab file.
            let ports = crate::twin::LabFile::ports(estate)
                .unwrap_or_else(|| crate::live::Live::ports(estate));
            Ok(Box::new(crate::live::Live::open(estate, ports)?))
        }
        other => Err(Error::Usage {
            message: format!("target `{other}` does not exist: use --target lab or --target live"),
        }),
    }
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

/// Start a new run (apply or plan).
#[allow(clippy::too_many_arguments)]
pub fn start(
    rb: &Runbook,
    estate: Estate,
    params: serde_json::Map<String, Value>,
    target: Box<dyn Target>,
    mode: Mode,
    scenario: Option<String>,
    opts: &Options,
    reporter: Rc<dyn Reporter>,
) -> Result<Outcome> {
    let (mut decisions, bare) = parse_decisions(&opts.decisions);
    if let Some(b) = bare {
        return Err(Error::Usage {
            message: format!("--decision {b:?} needs a question to answer: give it as KEY={b} (for example log-chain-gap={b})"),
        });
    }
    decisions.retain(|_, v| !v.is_empty());
    let target_name = target.name();
    if mode == Mode::Plan {
        let target: Box<dyn Target> = Box::new(DryRun::new(target));
        let run_id = format!("plan-{}", rb.header.name);
        return execute(
            rb,
            estate,
            &params,
            target,
            mode,
            None,
            Replay::default(),
            decisions,
            &run_id,
            scenario,
            opts,
            reporter,
            false,
        );
    }
    let run_id = new_run_id(&opts.home, &rb.header.name);
    let _lock = Lock::acquire(
        &opts.home,
        &estate.file.estate.name,
        &opts.operator,
        &run_id,
        opts.take_over_lock,
    )?;
    let header = RunHeader {
        run_id: run_id.clone(),
        runbook: RunbookId {
            name: rb.header.name.clone(),
            version: rb.header.version.clone(),
            sha256: rb.sha256.clone(),
            origin: rb.origin.clone(),
        },
        params: params.clone(),
        target: target_name,
        mode: "apply".into(),
        operator: opts.operator.clone(),
        estate: EstateId {
            // Absolute, so a resume from another directory finds the file.
            source: estate
                .path
                .as_ref()
                .map_or_else(|| estate.source.clone(), |p| p.display().to_string()),
            sha256: estate.sha256.clone(),
        },
        started_at: crate::time::rfc3339(crate::time::now_epoch()),
        scenario: scenario.clone(),
        sim_start: target.clock(),
    };
    let journal = Journal::create(&opts.home, header)?;
    execute(
        rb,
        estate,
        &params,
        target,
        mode,
        Some(journal),
        Replay::default(),
        decisions,
        &run_id,
        scenario,
        opts,
        reporter,
        false,
    )
}

/// Resume a run from its journal.
pub fn resume(run_id: &str, opts: &Options, reporter: Rc<dyn Reporter>) -> Result<Outcome> {
    let path = Journal::path_for(&opts.home, run_id);
    if !path.exists() {
        return Err(Error::UnknownRun {
            run_id: run_id.to_string(),
            dir: Journal::runs_dir(&opts.home),
        });
    }
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
    let estate = if h.estate.source.starts_with("<built-in") {
        Estate::builtin()?
    } else {
        Estate::load(Path::new(&h.estate.source))?
    };
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
    let _lock = Lock::acquire(
        &opts.home,
        &estate.file.estate.name,
        &opts.operator,
        run_id,
        opts.take_over_lock,
    )?;
    let target = open_target(&h.target, &opts.home, &estate)?;
    let mut journal = Journal::reopen(&path, loaded.torn.as_ref())?;
    if let Some(t) = &loaded.torn {
        reporter.text(&format!(
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
    let params = h.params.clone();
    execute(
        &rb,
        estate,
        &params,
        target,
        Mode::Apply,
        Some(journal),
        replay,
        decisions,
        run_id,
        h.scenario.clone(),
        opts,
        reporter,
        true,
    )
}

#[allow(clippy::too_many_arguments)]
fn execute(
    rb: &Runbook,
    estate: Estate,
    params: &serde_json::Map<String, Value>,
    target: Box<dyn Target>,
    mode: Mode,
    journal: Option<Journal>,
    replay: Replay,
    decisions: BTreeMap<String, String>,
    run_id: &str,
    scenario: Option<String>,
    opts: &Options,
    reporter: Rc<dyn Reporter>,
    resumed: bool,
) -> Result<Outcome> {
    let estate = Rc::new(estate);
    let target_name = target.name();
    let clock0 = target.clock();
    let ctx = Rc::new(RefCell::new(Ctx {
        run_id: run_id.to_string(),
        runbook: rb.header.name.clone(),
        operator: opts.operator.clone(),
        mode,
        target,
        journal,
        replay,
        fresh_decisions: decisions,
        yes: opts.yes,
        rerun_in_doubt: opts.rerun_in_doubt,
        reporter: reporter.clone(),
        next_index: 0,
        active: None,
        outcomes: Vec::new(),
        plan: Vec::new(),
        ops_performed: 0,
        abort_after_ops: if mode == Mode::Apply {
            opts.abort_after_ops
        } else {
            None
        },
        stop: None,
    }));
    let engine = engine::run_engine(&ctx, estate.clone(), rb.local_stdlib.clone());
    let mut scope = rhai::Scope::new();
    scope.push_constant("params", steps::to_dynamic(&Value::Object(params.clone())));
    scope.push_constant("estate", EstateView(estate.clone()));
    reporter.event(&Event::RunStarted {
        run_id: run_id.to_string(),
        runbook: rb.header.name.clone(),
        version: rb.header.version.clone(),
        target: target_name,
        mode: if mode == Mode::Plan {
            "plan".into()
        } else {
            "apply".into()
        },
        steps_total: rb.static_steps().len(),
        resumed,
    });
    let wall = Instant::now();
    let result = engine.run_ast_with_scope(&mut scope, &rb.ast);
    drop(engine);
    let mut c = ctx.borrow_mut();
    let error = match (result, c.stop.take()) {
        (_, Some(e)) => Some(e),
        (Ok(()), None) => None,
        (Err(e), None) => {
            let line = e.position().line().unwrap_or(0);
            Some(Error::Script {
                file: rb.file.clone(),
                line,
                message: steps::describe(&e),
            })
        }
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
    let finish = c.journal(Record::RunFinished {
        status,
        at: crate::time::rfc3339(crate::time::now_epoch()),
        message: message.clone(),
    });
    let sim_seconds = match (clock0, c.target.clock()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let changes = c.outcomes.iter().map(|o| o.changes).sum();
    reporter.event(&Event::RunFinished {
        run_id: run_id.to_string(),
        status: status.as_str().into(),
        message,
        steps: c.outcomes.len(),
        ops: c.ops_performed,
        changes,
        sim_seconds,
        wall_ms: wall.elapsed().as_millis() as u64,
    });
    finish?;
    Ok(Outcome {
        run_id: run_id.to_string(),
        status,
        error,
        steps: std::mem::take(&mut c.outcomes),
        plan: std::mem::take(&mut c.plan),
        ops: c.ops_performed,
        sim_seconds,
        scenario,
    })
}
