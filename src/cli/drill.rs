//! `drillbook drill RUNBOOK [--scenario NAME]`: wire the runbook, estate and
//! options to a drill (`crate::drill`), stage it, run it, summarize it.

use super::{load_estate, DrillArgs, Env};
use crate::drill::roles::resolve_scenario;
use crate::drill::{Drill, NotApplicable};
use crate::error::Result;
use crate::report::Event;
use crate::run::{Mode, RunSpec};
use crate::runbook::pick;
use crate::runbook::{split_assignment, Runbook};

pub fn run(env: &Env, args: DrillArgs) -> Result<i32> {
    let rb = Runbook::find(&args.runbook, env.runbooks.as_deref())?;
    let scenario = pick(&rb, args.scenario.as_deref())?.clone();
    let estate = load_estate(args.estate.as_ref())?;
    let not_applicable = |na: NotApplicable| {
        env.reporter.event(&Event::DrillNotApplicable {
            runbook: rb.header.name.clone(),
            scenario: scenario.name.clone(),
            reason: na.0,
        });
        Ok(0)
    };
    let mut extra = Vec::new();
    for p in &args.params {
        extra.push(split_assignment(p)?);
    }
    let (scenario, params) = match resolve_scenario(&rb, &scenario, &estate, &extra)? {
        Ok(resolved) => resolved,
        Err(na) => return not_applicable(na),
    };
    let mut opts = env.run_options();
    opts.decisions = scenario
        .decisions
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    opts.decisions.extend(args.decisions);
    opts.take_over_lock = args.take_over_lock;

    let frontend = env.frontend();
    let drill = drill(env, &opts, &frontend);
    let lab = drill.stage(&scenario, &estate)?;
    if args.prepare {
        let mut command = format!("drillbook run {}", rb.header.name);
        for (k, v) in &scenario.params {
            command.push_str(&format!(" -p {k}={v}"));
        }
        for (k, v) in &scenario.decisions {
            command.push_str(&format!(" --decision {k}={v}"));
        }
        env.reporter.text(&format!(
            "lab prepared for {} · scenario {}: plan or run it with `{command}`",
            rb.header.name, scenario.name
        ));
        return Ok(0);
    }
    env.reporter.text(&format!(
        "drill {} · scenario {}: {}",
        rb.header.name, scenario.name, scenario.summary
    ));
    let spec = RunSpec {
        runbook: &rb,
        estate,
        params,
        target: Box::new(lab),
        mode: Mode::Apply,
        scenario: Some(scenario.name.clone()),
    };
    let outcome = crate::run::start(spec, &opts, &frontend)?;
    if outcome.error.is_some() {
        return super::finish(outcome);
    }
    summarize(env, &outcome)
}

/// The drill as this command line sets it up.
fn drill<'a>(
    env: &'a Env,
    opts: &'a crate::run::Options,
    frontend: &'a crate::run::Frontend,
) -> Drill<'a> {
    Drill {
        opts,
        runbooks: env.runbooks.as_deref(),
        frontend,
    }
}

/// Report a finished drill's measurements; fail if the end state is not the expected one.
pub fn summarize(env: &Env, outcome: &crate::run::Outcome) -> Result<i32> {
    drill(env, &env.run_options(), &env.frontend()).summarize(outcome)?;
    Ok(0)
}
