//! Staging a drill: a fresh lab from the estate, the scenario's lead-in of
//! normal operation, its setup actions in order (time passing, faults, whole
//! runbooks run first, such as the failover before a failback), then its
//! faults. What the stage did is told through the reporter, line by line.
//! `drill --prepare` stops here, leaving the lab for `plan` and `run`.

use super::Drill;
use crate::error::{Error, Result};
use crate::estate::Estate;
use crate::lab::{Lab, LabState};
use crate::run::{Mode, RunSpec};
use crate::runbook::{resolve_params, Runbook};
use crate::runbook::{Scenario, Setup, SetupAction};

impl Drill<'_> {
    /// Build the scenario's lab at the drill's lab path; it is saved, and
    /// returned open for the run.
    pub fn stage(&self, scenario: &Scenario, estate: &Estate) -> Result<Lab> {
        let path = self.lab_path();
        let mut state = LabState::from_estate(estate);
        state.advance(scenario.lead_in_minutes as u64 * 60);
        Lab::create(&path, state)?;
        for setup in &scenario.setup {
            self.setup(scenario, setup, estate)?;
        }
        let mut lab = Lab::open(&path)?;
        for f in &scenario.faults {
            let what = lab.state.apply_fault(f)?;
            self.frontend.reporter.text(&format!("fault {f}: {what}"));
        }
        lab.save()?;
        let staged = self.staged_path();
        let bytes = serde_json::to_vec(&lab.state).expect("lab state serializes");
        std::fs::write(&staged, bytes).map_err(|e| Error::io(&staged, e))?;
        Ok(lab)
    }

    /// One setup action, on the lab file.
    fn setup(&self, scenario: &Scenario, setup: &Setup, estate: &Estate) -> Result<()> {
        let fail = |message: String| Error::DrillSetup {
            scenario: scenario.name.clone(),
            action: setup.text.clone(),
            message,
        };
        let path = self.lab_path();
        match &setup.action {
            SetupAction::Advance { minutes } => {
                let mut lab = Lab::open(&path)?;
                lab.state.advance(minutes * 60);
                lab.save()?;
                self.frontend
                    .reporter
                    .text(&format!("setup: {minutes} minutes of normal operation"));
            }
            SetupAction::Fault { spec } => {
                let mut lab = Lab::open(&path)?;
                let what = lab
                    .state
                    .apply_fault(spec)
                    .map_err(|e| fail(e.to_string()))?;
                lab.save()?;
                self.frontend
                    .reporter
                    .text(&format!("setup: fault {spec}: {what}"));
            }
            SetupAction::Run { runbook, params } => {
                let rb = Runbook::find(runbook, self.runbooks)?;
                let params = resolve_params(&rb, params, estate)?;
                let mut opts = self.opts.clone();
                // A setup run is scaffolding: its manual steps are taken as done.
                opts.yes = true;
                let call = setup.text.strip_prefix("run:").unwrap_or(&setup.text);
                self.frontend.reporter.text(&format!("setup: run {call}"));
                let spec = RunSpec {
                    runbook: &rb,
                    estate: estate.clone(),
                    params,
                    target: Box::new(Lab::open(&path)?),
                    mode: Mode::Apply,
                    scenario: None,
                };
                let outcome = crate::run::start(spec, &opts, self.frontend)?;
                if let Some(e) = outcome.error {
                    return Err(fail(e.to_string()));
                }
            }
        }
        Ok(())
    }
}
