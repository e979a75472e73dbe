//! The SQL Agent "job running" read as SQL Server answers it. drillbook's
//! read keeps only the current agent session's `msdb.dbo.sysjobactivity`
//! rows (the latest `msdb.dbo.syssessions`); the same read without that
//! filter also sees rows older agent sessions left unfinished (the lab's
//! `stale-job-activity` fault), as a real server's msdb keeps them. So a
//! check that forgets the filter meets, against the twin, the stale row
//! that would block it for ever on a real server.

use serde_json::{Map, Value};

fn normalized(text: &str) -> String {
    let words: Vec<String> = text
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    words.join(" ")
}

/// Is this the running-jobs read (`SELECT j.name FROM msdb.dbo.sysjobactivity
/// ...` of rows started and not stopped)? `Some(true)` when it keeps only
/// the current agent session (it reads `msdb.dbo.syssessions`),
/// `Some(false)` when it reads every session's rows.
pub fn running_jobs_read(statement: &str) -> Option<bool> {
    let s = normalized(statement);
    let shape = s.starts_with("select j.name from msdb.dbo.sysjobactivity")
        && s.contains("stop_execution_date is null");
    shape.then(|| s.contains("msdb.dbo.syssessions"))
}

/// The rows older agent sessions left for these jobs, as `j.name` reads them.
pub fn stale_rows(jobs: &[String]) -> Vec<Map<String, Value>> {
    jobs.iter()
        .map(|job| {
            let mut row = Map::new();
            row.insert("name".into(), Value::String(job.clone()));
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_read_without_the_session_filter_sees_every_session() {
        let old = "SELECT j.name FROM msdb.dbo.sysjobactivity AS a \
                   JOIN msdb.dbo.sysjobs AS j ON j.job_id = a.job_id \
                   WHERE a.start_execution_date IS NOT NULL AND a.stop_execution_date IS NULL;";
        assert_eq!(running_jobs_read(old), Some(false));
        let (current, _) = crate::op::Op::RunningJobs {
            instance: "x".into(),
        }
        .render_parameterized()
        .unwrap();
        assert_eq!(running_jobs_read(&current), Some(true));
        assert_eq!(running_jobs_read("SELECT 1"), None);
    }
}
