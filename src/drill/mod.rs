//! Drills: a fresh lab from the estate, a scenario's lead-in, setup and
//! faults (`stage.rs`), the runbook run on it, and a measured summary
//! (`measure.rs`) — simulated RTO against the runbook's target, RPO
//! (transactions and changes lost), and whether the end state is what the
//! scenario expects — told through the reporter as one `drill_summary` event.
//! Scenarios are read with the runbook's header (`runbook/scenario.rs`).

pub mod measure;
pub mod roles;
pub mod stage;

pub use measure::measure;
pub use roles::{NotApplicable, Roles};

use crate::error::{Error, Result};
use crate::journal::{self, Journal};
use crate::lab::Lab;
use crate::report::Event;
use crate::run::{Frontend, Options, Outcome};
use crate::runbook::{pick, Runbook};
use std::path::{Path, PathBuf};

/// Where a drill stages and runs, and who hears about it.
pub struct Drill<'a> {
    /// The run options; `home` holds the lab file and the journals.
    pub opts: &'a Options,
    /// A folder of local runbooks, for setup runs and the summary.
    pub runbooks: Option<&'a Path>,
    /// Who hears about the drill (and answers for its setup runs).
    pub frontend: &'a Frontend,
}

impl Drill<'_> {
    fn lab_path(&self) -> PathBuf {
        crate::run::lab_path(&self.opts.home)
    }

    /// Measure a finished drill run and report its summary; an error if the
    /// end state is not the one the scenario expects.
    pub fn summarize(&self, outcome: &Outcome) -> Result<()> {
        let name = outcome.scenario.clone().unwrap_or_default();
        let header = journal::read(&Journal::path_for(&self.opts.home, &outcome.run_id))?.header;
        let rb = Runbook::find(&header.runbook.name, self.runbooks)?;
        let estate = crate::run::journaled_estate(&header.estate)?;
        let scenario = Roles::new(&estate, &header.params)
            .scenario(pick(&rb, Some(&name))?)
            .map_err(|na| Error::DrillSetup {
                scenario: name.clone(),
                action: "roles".to_string(),
                message: na.to_string(),
            })?;
        let lab = Lab::open(&self.lab_path())?;
        let measurements = measure(&lab.state, &rb, &scenario, header.sim_start);
        let failures = measurements.failures();
        self.frontend.reporter.event(&Event::DrillSummary {
            run_id: outcome.run_id.clone(),
            runbook: rb.header.name.clone(),
            scenario: name.clone(),
            steps: outcome.steps.clone(),
            measurements,
        });
        if !failures.is_empty() {
            return Err(Error::DrillExpectation {
                scenario: name,
                failures,
            });
        }
        Ok(())
    }
}
