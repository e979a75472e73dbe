//! Staging a drill: a fresh lab from the estate, the scenario's lead-in of
//! normal operation, its setup actions in order (time passing, faults, whole
//! runbooks run first, such as the failover before a failback), then its
//! faults. What the stage did is told through the reporter, line by line.
//! `drill --prepare` stops here, leaving the lab for `plan` and `run`.
//! The estate's lock is taken before the lab is touched ([`Drill::lock`]):
//! a drill never rebuilds a lab under a run that holds it.

use super::Drill;
use crate::error::{Error, Result};
use crate::estate::Estate;
use crate::journal::Lock;
use crate::lab::{Lab, LabState};
use crate::run::{Mode, RunSpec};
use crate::runbook::{resolve_params, Runbook};
use crate::runbook::{LeadIn, Scenario, Setup, SetupAction};

/// How long a lead-in waits for its event before the drill gives up.
const LEAD_IN_MAX_MINUTES: u64 = 48 * 60;

/// Normal operation, a minute at a time, until `event` holds: the minutes
/// it took, or `None` if it did not happen within `LEAD_IN_MAX_MINUTES`.
fn wait_for(state: &mut LabState, event: LeadIn) -> Option<u64> {
    let since = state.elapsed().max(1);
    for minute in 0..=LEAD_IN_MAX_MINUTES {
        let holds = match event {
            LeadIn::LogBackupPending => state.oldest_unrestored().is_some(),
            // A sync at the lead-in's last second counts; the lab's start is no sync.
            LeadIn::BackupSynced => state.backup_synced_since(since),
        };
        if holds {
            return Some(minute);
        }
        state.advance(60);
    }
    None
}

impl Drill<'_> {
    /// The estate's change lock, for a drill of `runbook`: taken before
    /// staging, held through the drill's run. Refused (exit 4) while
    /// another process holds it, or a crashed run's name is in it.
    pub fn lock(&self, estate: &Estate, runbook: &str) -> Result<Lock> {
        Lock::acquire(
            &self.opts.home,
            &estate.file.estate.name,
            &self.opts.operator,
            &format!("staging a drill of {runbook}"),
            self.opts.take_over_lock,
        )
    }

    /// Build the scenario's lab at the drill's lab path, under the estate's
    /// `lock`; it is saved, and returned open for the run.
    pub fn stage(&self, scenario: &Scenario, estate: &Estate, lock: &mut Lock) -> Result<Lab> {
        let path = self.lab_path();
        let mut state = LabState::from_estate(estate);
        state.advance(scenario.lead_in_minutes as u64 * 60);
        if let Some(event) = scenario.lead_in {
            let waited = wait_for(&mut state, event).ok_or_else(|| Error::DrillSetup {
                scenario: scenario.name.clone(),
                action: format!("lead_in: {}", event.as_str()),
                message: format!(
                    "it did not happen within {} simulated hours of normal operation",
                    LEAD_IN_MAX_MINUTES / 60
                ),
            })?;
            if waited > 0 {
                self.frontend.reporter.text(&format!(
                    "lead-in: {waited} more minutes of normal operation until {}",
                    event.as_str()
                ));
            }
        }
        Lab::create(&path, state)?;
        for setup in &scenario.setup {
            self.setup(scenario, setup, estate, lock)?;
        }
        let mut lab = Lab::open(&path)?;
        for f in &scenario.faults {
            let what = lab.state.apply_fault(f)?;
            crate::report::brief::report_fault(self.frontend.reporter.as_ref(), f, &what);
        }
        lab.save()?;
        let staged = self.staged_path();
        let bytes = serde_json::to_vec(&lab.state).expect("lab state serializes");
        std::fs::write(&staged, bytes).map_err(|e| Error::io(&staged, e))?;
        Ok(lab)
    }

    /// One setup action, on the lab file.
    fn setup(
        &self,
        scenario: &Scenario,
        setup: &Setup,
        estate: &Estate,
        lock: &mut Lock,
    ) -> Result<()> {
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
                let outcome = crate::run::start_locked(spec, lock, &opts, self.frontend)?;
                if let Some(e) = outcome.error {
                    return Err(fail(e.to_string()));
                }
            }
        }
        Ok(())
    }
}
