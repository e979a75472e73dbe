//! `drillbook drill RUNBOOK [--scenario NAME]`.

use super::{load_estate, DrillArgs, Env};
use crate::error::{Error, Result};
use crate::estate::Estate;
use crate::lab::{Lab, LabState};
use crate::report::duration;
use crate::run::{Mode, RunSpec};
use crate::runbook::{resolve_params, split_assignment, Runbook, Scenario};

pub fn run(env: &Env, args: DrillArgs) -> Result<i32> {
    let rb = Runbook::find(&args.runbook, env.runbooks.as_deref())?;
    let scenario = crate::drill::pick(&rb, args.scenario.as_deref())?.clone();
    let estate = load_estate(args.estate.as_ref())?;
    let mut given: Vec<(String, String)> = scenario
        .params
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for p in &args.params {
        given.push(split_assignment(p)?);
    }
    let params = resolve_params(&rb, &given, &estate)?;
    let mut opts = env.run_options();
    opts.decisions = scenario
        .decisions
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    opts.decisions.extend(args.decisions);
    opts.take_over_lock = args.take_over_lock;

    let path = crate::run::lab_path(&env.home);
    let mut state = LabState::from_estate(&estate);
    state.advance(scenario.lead_in_minutes as u64 * 60);
    Lab::create(&path, state)?;
    for action in &scenario.setup {
        setup(env, &scenario, action, &estate, &opts)?;
    }
    let mut lab = Lab::open(&path)?;
    for f in &scenario.faults {
        let what = lab.state.apply_fault(f)?;
        env.reporter.text(&format!("fault {f}: {what}"));
    }
    lab.save()?;
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
    let outcome = crate::run::start(spec, &opts, &env.frontend())?;
    if outcome.error.is_some() {
        return super::finish(outcome);
    }
    summarize(env, &outcome)
}

/// One `setup` action of a scenario, on the drill's lab.
fn setup(
    env: &Env,
    scenario: &Scenario,
    action: &str,
    estate: &Estate,
    opts: &crate::run::Options,
) -> Result<()> {
    let fail = |message: String| Error::DrillSetup {
        scenario: scenario.name.clone(),
        action: action.to_string(),
        message,
    };
    let path = crate::run::lab_path(&env.home);
    let (kind, arg) = action.split_once(':').unwrap_or((action, ""));
    match kind {
        "advance" => {
            let minutes: u64 = arg
                .trim()
                .parse()
                .map_err(|_| fail(format!("{arg:?} is not a number of minutes")))?;
            let mut lab = Lab::open(&path)?;
            lab.state.advance(minutes * 60);
            lab.save()?;
            env.reporter
                .text(&format!("setup: {minutes} minutes of normal operation"));
        }
        "fault" => {
            let mut lab = Lab::open(&path)?;
            let what = lab
                .state
                .apply_fault(arg.trim())
                .map_err(|e| fail(e.to_string()))?;
            lab.save()?;
            env.reporter.text(&format!("setup: fault {arg}: {what}"));
        }
        "run" => {
            let mut words = arg.split_whitespace();
            let id = words
                .next()
                .ok_or_else(|| fail("names no runbook".into()))?;
            let rb = Runbook::find(id, env.runbooks.as_deref())?;
            let given = words.map(split_assignment).collect::<Result<Vec<_>>>()?;
            let params = resolve_params(&rb, &given, estate)?;
            let mut opts = opts.clone();
            // A setup run is scaffolding: its manual steps are taken as done.
            opts.yes = true;
            env.reporter.text(&format!("setup: run {arg}"));
            let target = Box::new(Lab::open(&path)?);
            let spec = RunSpec {
                runbook: &rb,
                estate: estate.clone(),
                params,
                target,
                mode: Mode::Apply,
                scenario: None,
            };
            let outcome = crate::run::start(spec, &opts, &env.frontend())?;
            if let Some(e) = outcome.error {
                return Err(fail(e.to_string()));
            }
        }
        _ => return Err(fail("unknown action".into())),
    }
    Ok(())
}

/// Print the drill's measurements; fail if the end state is not the expected one.
pub fn summarize(env: &Env, outcome: &crate::run::Outcome) -> Result<i32> {
    let name = outcome.scenario.clone().unwrap_or_default();
    let header = crate::journal::read(&crate::journal::Journal::path_for(
        &env.home,
        &outcome.run_id,
    ))?
    .header;
    let rb = Runbook::find(&header.runbook.name, env.runbooks.as_deref())?;
    let scenario = crate::drill::pick(&rb, Some(&name))?;
    let lab = Lab::open(&crate::run::lab_path(&env.home))?;
    let lab_json: serde_json::Value =
        serde_json::from_str(&lab.state.to_json()).unwrap_or_default();
    let m = crate::drill::measure(&lab_json, &rb, scenario, header.sim_start);
    if env.json {
        env.print_json(&serde_json::json!({"event": "drill_summary", "run_id": outcome.run_id, "scenario": name,
            "steps": outcome.steps, "measurements": m}));
    } else {
        println!("drill summary ({} · {})", rb.header.name, name);
        let w = outcome
            .steps
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        println!("  {:w$}  {:>10}  {:>9}", "step", "simulated", "wall");
        for s in &outcome.steps {
            println!(
                "  {:w$}  {:>10}  {:>6} ms",
                s.name,
                duration(s.sim_seconds),
                s.wall_ms
            );
        }
        let verdict = if m.rto_met { "met" } else { "MISSED" };
        println!(
            "  RTO  {} simulated, target {} ({verdict})",
            duration(m.rto_seconds),
            duration(m.rto_target_seconds)
        );
        if m.recoveries.is_empty() {
            println!("  RPO  no data was lost or recovered in this drill");
        }
        for r in &m.recoveries {
            println!(
                "  RPO  {} {}, {:.1} minutes lost ({})",
                r.lost, r.unit, r.minutes_lost, r.what
            );
        }
        let holds = m.expectations.iter().filter(|e| e.holds).count();
        println!(
            "  end state: {holds} of {} expectations hold",
            m.expectations.len()
        );
    }
    let failures = crate::drill::failures(&m);
    if !failures.is_empty() {
        return Err(Error::DrillExpectation {
            scenario: name,
            failures,
        });
    }
    Ok(0)
}
