//! `drillbook resume RUN_ID`: continue a run from its journal.

use super::{Env, ResumeArgs};
use crate::error::Result;

pub fn run(env: &Env, args: ResumeArgs) -> Result<i32> {
    let mut opts = env.run_options();
    opts.decisions = args.decisions;
    opts.rerun_in_doubt = args.rerun_in_doubt;
    opts.allow_changed = args.allow_changed;
    opts.take_over_lock = args.take_over_lock;
    let outcome = crate::run::resume(&args.run_id, &opts, &env.frontend(), &|name, estate| {
        // The lab must still be the one built from the run's estate, as `run` checks.
        if name == "lab" && !args.allow_changed {
            let path = crate::run::lab_path(&env.home);
            let lab = crate::lab::Lab::open(&path)?;
            estate.check_lab(&lab.state.estate.sha256, &path)?;
            return Ok(Box::new(lab) as Box<dyn crate::targets::Target>);
        }
        super::target::open(&env.home, name, estate)
    })?;
    if outcome.scenario.is_some() {
        super::drill::summarize(env, &outcome)?;
    }
    super::finish(outcome)
}
