//! The run journal: one JSON object per line, written before drillbook waits
//! on anything and fdatasynced at the durability points (docs/architecture.md,
//! "What is durable when"), so a run can be resumed after a crash and
//! audited afterwards. Also the lock that
//! keeps two change runs off the same estate.
//!
//! `records` is the file format, `writer` appends, `reader` reads back
//! (tolerating a torn last line), `replay` says what the journal tells a
//! resume about each step, `lock` guards an estate scope, and `waiting`
//! finds runs that wait for an operator.

mod lock;
mod reader;
mod records;
mod replay;
mod waiting;
mod writer;

pub use lock::Lock;
pub use reader::{last_status, list, parse, parse_bytes, read, Loaded, Torn};
pub use records::{EstateId, Mode, Record, RunHeader, RunStatus, RunbookId};
pub use replay::{Prior, PriorStep, Replay};
pub use waiting::{waiting_run, Waiting};
pub use writer::Journal;

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub fn header() -> RunHeader {
        RunHeader {
            run_id: "r1".into(),
            runbook: RunbookId {
                name: "x".into(),
                version: "1.0.0".into(),
                sha256: "ab".into(),
                origin: "shipped".into(),
            },
            params: Default::default(),
            target: "lab".into(),
            mode: Mode::Apply,
            operator: "me".into(),
            estate: EstateId {
                source: "e".into(),
                sha256: "cd".into(),
            },
            started_at: "t".into(),
            scenario: None,
            sim_start: None,
        }
    }
}
