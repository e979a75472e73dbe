//! Drills: a fresh lab from the estate, a scenario's lead-in, setup and
//! faults (`stage.rs`), the runbook run on it, and a measured summary
//! (`measure.rs`) — simulated RTO against the runbook's target, RPO
//! (transactions and changes lost), and whether the end state is what the
//! scenario expects — told through the reporter as one `drill_summary` event.
//! Scenarios are read with the runbook's header (`runbook/scenario.rs`).

pub mod measure;
pub mod roles;
pub mod stage;
pub mod summary;

pub use measure::measure;
pub use roles::{NotApplicable, Roles};

use crate::error::{Error, Result};
use crate::journal::{self, Journal, Record, RunbookId};
use crate::lab::Lab;
use crate::report::{DrillSummary, Event};
use crate::run::{Frontend, Options, Outcome};
use crate::runbook::{pick, Runbook};
use serde_json::Value;
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

    /// Where `stage` keeps the lab state as staged, for the summary's
    /// before/after.
    fn staged_path(&self) -> PathBuf {
        self.lab_path().with_file_name("staged.json")
    }

    /// Measure a drill run that ended (succeeded or not), store its summary
    /// in the run's journal and report it. An error if the run succeeded but
    /// the end state is not the one the scenario expects (or, with
    /// `strict_rto`, the RTO was missed).
    pub fn summarize(&self, outcome: &Outcome, strict_rto: bool) -> Result<DrillSummary> {
        let name = outcome.scenario.clone().unwrap_or_default();
        let path = Journal::path_for(&self.opts.home, &outcome.run_id);
        let loaded = journal::read(&path)?;
        let rb = runbook_of(&loaded.header.runbook)?;
        let estate = crate::run::journaled_estate(&loaded.header.estate)?;
        let scenario = Roles::new(&estate, &loaded.header.params)
            .scenario(pick(&rb, Some(&name))?)
            .map_err(|na| Error::DrillSetup {
                scenario: name.clone(),
                action: "roles".to_string(),
                message: na.to_string(),
            })?;
        let lab = Lab::open(&self.lab_path())?;
        let measurements = measure(&lab.state, &rb, &scenario, loaded.header.sim_start);
        let before: Option<Value> = std::fs::read(self.staged_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let after = serde_json::to_value(&lab.state).unwrap_or_default();
        let s = summary::build(
            &loaded,
            &rb.header.version,
            &scenario.summary,
            measurements,
            before.as_ref(),
            &after,
        );
        Journal::reopen(&path, loaded.torn.as_ref())?
            .append(&Record::DrillSummary(Box::new(s.clone())))?;
        self.frontend
            .reporter
            .event(&Event::DrillSummary(Box::new(s.clone())));
        let failures = s.failures(strict_rto);
        if outcome.error.is_none() && !failures.is_empty() {
            return Err(Error::DrillExpectation {
                scenario: name,
                failures,
            });
        }
        Ok(s)
    }
}

/// The runbook a journal names: a shipped one by name, a local one by the
/// path it was read from.
pub fn runbook_of(id: &RunbookId) -> Result<Runbook> {
    if id.origin == "shipped" {
        Runbook::find(&id.name, None)
    } else {
        Runbook::from_file(&id.name, Path::new(&id.origin))
    }
}
