//! SQL Agent's sessions: each start of the agent is a new row of
//! `msdb.dbo.syssessions`, and `msdb.dbo.sysjobactivity` keeps the rows of
//! older sessions. A job that was running when the agent stopped or
//! crashed keeps a row with a start and no stop for ever, so a "job
//! running" check must read only the current session's rows. The
//! `stale-job-activity:ID` fault leaves such a row for the instance's
//! log-shipping restore job.

use crate::lab::LabState;

impl LabState {
    /// The `stale-job-activity:ID` fault.
    pub(in crate::lab) fn stale_job_activity(&mut self, id: &str) -> Result<String, String> {
        let Some(inst) = self.sql.get_mut(id) else {
            let known: Vec<&str> = self.sql.keys().map(String::as_str).collect();
            return Err(format!(
                "no SQL instance `{id}` (known: {})",
                known.join(", ")
            ));
        };
        let Some(job) = inst
            .msdb
            .log_shipping_secondary
            .values()
            .map(|s| s.restore_job.clone())
            .next()
        else {
            return Err(format!(
                "SQL instance {id} has no log-shipping restore job to leave a stale row for"
            ));
        };
        if !inst.msdb.stale_job_activity.contains(&job) {
            inst.msdb.stale_job_activity.push(job.clone());
        }
        Ok(format!(
            "msdb.dbo.sysjobactivity on {id} holds an older agent session's unfinished row for {job}"
        ))
    }

    /// The jobs with an older agent session's unfinished row on `id`.
    pub fn stale_job_activity_of(&self, id: &str) -> Vec<String> {
        self.sql
            .get(id)
            .map(|i| i.msdb.stale_job_activity.clone())
            .unwrap_or_default()
    }
}
