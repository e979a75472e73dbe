//! Runs that wait for an operator: a run that stopped for a decision, a
//! confirmation or a step in doubt is not over, and a second run of the
//! same runbook on the same estate would work against it (and fail on the
//! state it left). `run` asks here first, under the estate's lock, and
//! refuses naming the `resume` command that finishes the waiting one.

use super::{last_status, list, read, Record, RunHeader, RunStatus};
use std::io::BufRead;
use std::path::Path;

/// A run that waits, and what for (the first line of its stop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub run_id: String,
    pub why: String,
}

/// The header of a journal: its first line only, so a long journal of
/// another runbook is not read whole.
fn header(path: &Path) -> Option<RunHeader> {
    let file = std::fs::File::open(path).ok()?;
    let mut first = String::new();
    std::io::BufReader::new(file).read_line(&mut first).ok()?;
    match serde_json::from_str(&first).ok()? {
        Record::Run(h) => Some(*h),
        _ => None,
    }
}

/// The newest run under `home` of the runbook `runbook` on the estate
/// `estate_source` and target `target` whose last attempt stopped to wait
/// for an operator. Damaged journals are skipped (`journal` reports them).
pub fn waiting_run(
    home: &Path,
    runbook: &str,
    estate_source: &str,
    target: &str,
) -> Option<Waiting> {
    let paths = list(home).ok()?;
    paths.iter().rev().find_map(|path| {
        let h = header(path)?;
        if h.runbook.name != runbook || h.estate.source != estate_source || h.target != target {
            return None;
        }
        let loaded = read(path).ok()?;
        if last_status(&loaded.records) != Some(RunStatus::Waiting) {
            return None;
        }
        let why = loaded.records.iter().rev().find_map(|r| match r {
            Record::RunFinished { message, .. } => Some(message.clone()),
            _ => None,
        });
        Some(Waiting {
            run_id: h.run_id,
            why: why.unwrap_or_default(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::header as test_header;
    use super::super::Journal;
    use super::*;

    #[test]
    fn only_a_waiting_run_of_the_same_runbook_estate_and_target_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::create(dir.path(), test_header()).unwrap();
        assert_eq!(
            waiting_run(dir.path(), "x", "e", "lab"),
            None,
            "still running"
        );
        j.append(&Record::RunFinished {
            status: RunStatus::Waiting,
            at: "t".into(),
            message: "step `s` needs an operator decision".into(),
        })
        .unwrap();
        let w = waiting_run(dir.path(), "x", "e", "lab").unwrap();
        assert_eq!(w.run_id, "r1");
        assert!(w.why.contains("decision"));
        for (rb, estate, target) in [("y", "e", "lab"), ("x", "f", "lab"), ("x", "e", "live")] {
            assert_eq!(waiting_run(dir.path(), rb, estate, target), None);
        }
        j.append(&Record::RunFinished {
            status: RunStatus::Succeeded,
            at: "t".into(),
            message: String::new(),
        })
        .unwrap();
        assert_eq!(waiting_run(dir.path(), "x", "e", "lab"), None, "finished");
    }
}
