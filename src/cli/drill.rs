//! `drillbook drill RUNBOOK [--scenario NAME]`.

use super::{load_estate, DrillArgs, Env};
use crate::engine::context::Mode;
use crate::error::{Error, Result};
use crate::report::duration;
use crate::runbook::{resolve_params, split_assignment, Runbook};
use crate::target::lab::{Lab, LabState};

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
    let mut state = LabState::from_estate(&estate);
    state.advance(scenario.lead_in_minutes as u64 * 60);
    for f in &scenario.faults {
        let what = state.apply_fault(f)?;
        env.reporter.text(&format!("fault {f}: {what}"));
    }
    let lab = Lab::create(&crate::run::lab_path(&env.home), state)?;
    let mut opts = env.run_options();
    opts.decisions = scenario
        .decisions
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    opts.decisions.extend(args.decisions);
    opts.take_over_lock = args.take_over_lock;
    env.reporter.text(&format!(
        "drill {} · scenario {}: {}",
        rb.header.name, scenario.name, scenario.summary
    ));
    let outcome = crate::run::start(
        &rb,
        estate,
        params,
        Box::new(lab),
        Mode::Apply,
        Some(scenario.name.clone()),
        &opts,
        env.reporter.clone(),
    )?;
    if outcome.error.is_some() {
        return super::finish(outcome);
    }
    summarize(env, &outcome)
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
    let m = crate::drill::measure(&lab_json, &rb, scenario);
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
            "  RTO  {} simulated from the fault, target {} ({verdict})",
            duration(m.rto_seconds),
            duration(m.rto_target_seconds)
        );
        if m.recoveries.is_empty() {
            println!("  RPO  no database was recovered in this drill");
        }
        for r in &m.recoveries {
            println!(
                "  RPO  {} transactions, {:.1} minutes lost ({} on {})",
                r.transactions_lost, r.minutes_lost, r.database, r.instance
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
