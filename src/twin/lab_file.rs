//! The lab file as the live target's file store and clock, behind the twin.
//!
//! The twin serves TDS and a PowerShell stand-in but no SMB, and its time
//! and manual effects are the lab's: so the live estate `lab serve` writes
//! names the lab file (`[live] lab_files`), and a live run against it sends
//! its file ops, waits and confirmed manual steps here — to the same state
//! machine under the same lock as every other op — so it ends where a lab
//! run ends, byte for byte. `cli::target` wires this in; the live
//! target only sees the ports.

use crate::error::Result;
use crate::lab::Lab;
use crate::op::Op;
use crate::targets::ports::{Clock, FileStore, Ports};
use crate::targets::{OpError, Performed, Target};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The lab state file behind a twin, opened at its first op and kept open
/// (its state in memory, its log appended to) for the life of the run.
#[derive(Debug, Clone)]
pub struct LabFile {
    pub path: PathBuf,
    /// A plan's: reads leave the lab file untouched, clock included.
    pub read_only: bool,
    lab: Option<Lab>,
}

impl LabFile {
    /// The ports of a live estate written by `lab serve`: its `[live]
    /// lab_files`, the lab file at `path`.
    pub fn ports(path: &Path, read_only: bool) -> Ports {
        let lab = LabFile {
            path: path.to_path_buf(),
            read_only,
            lab: None,
        };
        Ports {
            files: Box::new(lab.clone()),
            clock: Box::new(lab),
        }
    }
}

impl LabFile {
    fn perform_op(&mut self, op: &Op) -> Result<Performed> {
        let lab = match &mut self.lab {
            Some(lab) => lab,
            none => none.insert(Lab::open(&self.path)?),
        };
        if self.read_only {
            lab.read(op)
        } else {
            lab.perform(op)
        }
    }
}

impl FileStore for LabFile {
    fn perform(&mut self, op: &Op) -> std::result::Result<Value, OpError> {
        match self.perform_op(op) {
            Ok(done) => done.result,
            Err(e) => Err(OpError::File {
                path: op.host(),
                message: format!("the lab behind the twin: {e}"),
            }),
        }
    }
}

impl Clock for LabFile {
    /// The lab's clock moves and a manual step's documented effect is
    /// applied, as under `--target lab`.
    fn perform(&mut self, op: &Op) -> Result<Performed> {
        self.perform_op(op)
    }
}
