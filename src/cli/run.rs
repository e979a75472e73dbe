//! `drillbook run` and `drillbook plan`: apply a runbook, or dry-run it.

use super::{finish, load_estate, Env, RunArgs};
use crate::error::{Error, Result};
use crate::lab::{Lab, LabState};
use crate::run::{Mode, RunSpec};
use crate::runbook::{resolve_params, split_assignment};
use crate::targets::Target;

pub fn run(env: &Env, args: RunArgs, mode: Mode) -> Result<i32> {
    let rb = env.runbook(&args.runbook)?;
    let estate = load_estate(args.estate.as_ref())?;
    let given = args
        .params
        .iter()
        .map(|p| split_assignment(p))
        .collect::<Result<Vec<_>>>()?;
    let params = resolve_params(&rb, &given, &estate)?;
    let target = open(env, &args.target, &estate, mode)?;
    let mut opts = env.run_options();
    opts.decisions = args.decisions;
    opts.take_over_lock = args.take_over_lock;
    let spec = RunSpec {
        runbook: &rb,
        estate,
        params,
        target,
        mode,
        scenario: None,
    };
    let outcome = crate::run::start(spec, &opts, &env.frontend())?;
    if mode == Mode::Plan && !env.json {
        println!(
            "plan: {} change op(s); nothing was changed",
            outcome.plan.len()
        );
    }
    finish(outcome)
}

/// The target, checked against the estate the run uses.
fn open(
    env: &Env,
    name: &str,
    estate: &crate::estate::Estate,
    mode: Mode,
) -> Result<Box<dyn Target>> {
    match name {
        "lab" => {}
        // Plans over live read for real and model the changes (run::start wraps it in DryRun).
        "live" if mode == Mode::Plan => return super::target::live_reads_only(estate),
        "live" => return super::target::live(estate),
        other => {
            return Err(super::usage(format!(
                "target `{other}` does not exist: use --target lab or --target live"
            )))
        }
    }
    let path = crate::run::lab_path(&env.home);
    let lab = match Lab::open(&path) {
        Ok(lab) => lab,
        // A plan needs no saved lab: it predicts on a fresh one.
        Err(Error::LabMissing { .. }) if mode == Mode::Plan => {
            env.reporter.text(&format!(
                "note: no lab state at {}; planning against a fresh lab from the estate",
                path.display()
            ));
            Lab::in_memory(LabState::from_estate(estate))
        }
        Err(e) => return Err(e),
    };
    estate.check_lab(&lab.state.estate.sha256, &path)?;
    Ok(Box::new(lab))
}
