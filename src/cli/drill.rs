//! `drillbook drill RUNBOOK [--scenario NAME]`: wire the runbook, estate and
//! options to a drill (`crate::drill`), stage it, run it, summarize it.
//! `drillbook test` drills scenarios through the same road (`scenario`).

use super::{load_estate, DrillArgs, Env};
use crate::drill::roles::resolve_scenario;
use crate::drill::{Drill, NotApplicable};
use crate::error::Result;
use crate::estate::Estate;
use crate::report::Event;
use crate::run::{Frontend, Mode, Options, RunSpec};
use crate::runbook::{pick, Runbook, Scenario};
use crate::runbook::{resolve_params, split_assignment};

pub fn run(env: &Env, args: DrillArgs) -> Result<i32> {
    let rb = env.runbook(&args.runbook)?;
    let scenario = pick(&rb, args.scenario.as_deref())?.clone();
    let estate = load_estate(args.estate.as_ref())?;
    let mut extra = Vec::new();
    for p in &args.params {
        extra.push(split_assignment(p)?);
    }
    let scenario = match resolve_scenario(&rb, &scenario, &estate, &extra)? {
        Ok((resolved, _)) => resolved,
        Err(na) => return Ok(not_applicable(env, &rb, &scenario, na)),
    };
    let mut opts = env.run_options();
    opts.take_over_lock = args.take_over_lock;
    let frontend = env.frontend();
    let setting = Setting {
        runbooks: env.runbooks.as_deref(),
        opts: &opts,
        frontend: &frontend,
        strict_rto: args.strict_rto,
    };
    if args.prepare {
        setting.prepare(&rb, &scenario, &estate, &args.params)?;
        return Ok(0);
    }
    setting.drill(&rb, &scenario, estate, &args.params, args.decisions)
}

/// Report a scenario that cannot apply to the estate: not a failure.
pub fn not_applicable(env: &Env, rb: &Runbook, scenario: &Scenario, na: NotApplicable) -> i32 {
    env.reporter.event(&Event::DrillNotApplicable {
        runbook: rb.header.name.clone(),
        scenario: scenario.name.clone(),
        reason: na.0,
    });
    0
}

/// Where and how a drill runs: the home in `opts`, who hears of it.
pub struct Setting<'a> {
    pub runbooks: Option<&'a std::path::Path>,
    pub opts: &'a Options,
    pub frontend: &'a Frontend,
    pub strict_rto: bool,
}

impl Setting<'_> {
    fn driller(&self) -> Drill<'_> {
        Drill {
            opts: self.opts,
            runbooks: self.runbooks,
            frontend: self.frontend,
        }
    }

    /// The scenario's parameters, with the command line's on top.
    fn params(
        rb: &Runbook,
        scenario: &Scenario,
        estate: &Estate,
        extra: &[String],
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut given: Vec<(String, String)> = scenario
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for p in extra {
            given.push(split_assignment(p)?);
        }
        resolve_params(rb, &given, estate)
    }

    /// `drill --prepare`: set the stage and say how to run on it.
    fn prepare(
        &self,
        rb: &Runbook,
        scenario: &Scenario,
        estate: &Estate,
        extra: &[String],
    ) -> Result<()> {
        Self::params(rb, scenario, estate, extra)?;
        let driller = self.driller();
        let mut lock = driller.lock(estate, &rb.header.name)?;
        driller.stage(scenario, estate, &mut lock)?;
        let mut command = format!("drillbook run {}", rb.header.name);
        for (k, v) in &scenario.params {
            command.push_str(&format!(" -p {k}={v}"));
        }
        for (k, v) in &scenario.decisions {
            command.push_str(&format!(" --decision {k}={v}"));
        }
        self.frontend.reporter.text(&format!(
            "lab prepared for {} · scenario {}: plan or run it with `{command}`",
            rb.header.name, scenario.name
        ));
        Ok(())
    }

    /// Stage the scenario, run the runbook on it, summarize: the run's own
    /// error if it failed, else the drill's verdict.
    pub fn drill(
        &self,
        rb: &Runbook,
        scenario: &Scenario,
        estate: Estate,
        extra_params: &[String],
        extra_decisions: Vec<String>,
    ) -> Result<i32> {
        let params = Self::params(rb, scenario, &estate, extra_params)?;
        let mut opts = self.opts.clone();
        opts.decisions = scenario
            .decisions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        opts.decisions.extend(extra_decisions);
        let drill = Drill {
            opts: &opts,
            ..self.driller()
        };
        let mut lock = drill.lock(&estate, &rb.header.name)?;
        let lab = drill.stage(scenario, &estate, &mut lock)?;
        let about = match scenario.summary.as_str() {
            "" => String::new(),
            s => format!(": {s}"),
        };
        self.frontend.reporter.text(&format!(
            "drill {} · scenario {}{about}",
            rb.header.name, scenario.name
        ));
        let spec = RunSpec {
            runbook: rb,
            estate,
            params,
            target: Box::new(lab),
            mode: Mode::Apply,
            scenario: Some(scenario.name.clone()),
        };
        let outcome = crate::run::start_locked(spec, &mut lock, &opts, self.frontend)?;
        drill.summarize(&outcome, self.strict_rto)?;
        super::finish(outcome)
    }
}

/// Summarize a drill that was resumed and ended.
pub fn summarize(env: &Env, outcome: &crate::run::Outcome) -> Result<()> {
    let opts = env.run_options();
    let frontend = env.frontend();
    Drill {
        opts: &opts,
        runbooks: env.runbooks.as_deref(),
        frontend: &frontend,
    }
    .summarize(outcome, false)?;
    Ok(())
}
