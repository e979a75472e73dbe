//! The lab: a deterministic simulation of a Lync Server 2013 / SQL Server
//! estate, built from an estate file and persisted to a JSON file after
//! every op, so a drill survives a crash and resumes like a live run.
//!
//! There is no wall clock and no randomness anywhere in it: the same estate
//! and the same sequence of calls give a byte-identical state file.
//!
//! It is made of parts that own their state and rules: `network` (sites,
//! links, servers: who reaches whom), `sql` (instances, databases,
//! mirroring, msdb and log shipping, full backups, T-SQL answers), `lync`
//! (Front End pools, the CMS, the Backup Service, Edge, Persistent Chat),
//! `files` (shares and backup files), `clock` and `workload` (time, jobs,
//! users). A part takes what it needs of another as an argument (most often a
//! `network::Network`). What follows in one part from a change in another
//! is in `derive.rs`, the one place those reactions live. `state` is the
//! whole (`LabState`) and sends each op to the part that answers it;
//! `cmdlets/` answers Lync cmdlets from one spec table whose entries carry
//! their handlers; `build` makes a lab from an estate; `faults` breaks and
//! repairs things on purpose; `effects` applies confirmed manual steps.

mod build;
mod clock;
mod cmdlets;
mod derive;
mod effects;
mod faults;
mod files;
mod keyed;
mod lync;
mod network;
mod sql;
mod state;
mod workload;

pub use clock::Clock;
pub use effects::{ManualRecord, EFFECT_KINDS};
pub use faults::{FaultRecord, FAULT_KINDS};
pub use files::{wildcard_match, BackupFile, Folder, Folders};
pub use lync::backup_service::{BackupServiceState, ExportStatus, ImportStatus, ModuleStatus};
pub use lync::cms::{Cms, Replica};
pub use lync::edge::{EdgePoolState, XmppRoute};
pub use lync::persistent_chat::{ChatPool, ChatTopology, CHAT_DATABASE};
pub use lync::pools::{BackEndState, ConferenceContent, DataCopy, FePool, PoolData, PoolUsers};
pub use lync::{Lync, PoolState};
pub use network::{link_key, LinkState, Links, ServerState, Servers, SiteState};
pub use sql::log_shipping::{LogShippingPrimary, LogShippingSecondary, Msdb, RestoreHistory};
pub use sql::{
    Database, DbState, MirrorRole, MirrorState, Mirroring, Safety, Session, Sql, SqlInstance,
    LSN_BASE, LSN_PER_TRANSACTION,
};
pub use state::*;
pub use workload::Workload;

use crate::error::{Error, Result};
use crate::op::Op;
use crate::targets::{Performed, Target};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A lab state and the file it lives in (none for a scratch copy).
#[derive(Debug, Clone)]
pub struct Lab {
    pub state: LabState,
    path: Option<PathBuf>,
}

impl Lab {
    /// Load a lab file.
    pub fn open(path: &Path) -> Result<Lab> {
        let text = match Error::read_text(path) {
            Ok(text) => text,
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::LabMissing {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => return Err(e),
        };
        let state = LabState::from_json(&text).map_err(|message| Error::LabState {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(Lab {
            state,
            path: Some(path.to_path_buf()),
        })
    }

    /// Start a lab file with `state`, creating its folder if needed.
    pub fn create(path: &Path, state: LabState) -> Result<Lab> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let lab = Lab {
            state,
            path: Some(path.to_path_buf()),
        };
        lab.save()?;
        Ok(lab)
    }

    /// A lab that is never saved: the dry run's scratch copy, and tests.
    pub fn in_memory(state: LabState) -> Lab {
        Lab { state, path: None }
    }

    /// The file this lab is saved to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Write the state atomically: a reader (or a crash) sees the old file
    /// or the new one, never half of one.
    pub fn save(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(self.state.to_json().as_bytes())?;
            file.sync_all()
        };
        write().map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        // Make the rename itself durable; not every platform can open a
        // directory, and the file is already safe if it cannot.
        #[cfg(unix)]
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

/// The lock file beside a lab file. The state file itself is replaced by
/// rename on every save, so the lock lives in a file that stays put.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Hold the lab's lock until the returned file is dropped. Every process
/// that changes a lab file — a run against the lab, `lab serve`'s twin, the
/// `lab pwsh` stand-in, `lab fault` — takes it around load, change and save.
pub fn lock(path: &Path) -> Result<fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let lock = lock_path(path);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| Error::io(&lock, e))?;
    file.lock().map_err(|e| Error::io(&lock, e))?;
    Ok(file)
}

impl Lab {
    /// Lock, load, change, save, unlock: one step on a lab file shared
    /// with other processes.
    pub fn update<T>(path: &Path, change: impl FnOnce(&mut LabState) -> Result<T>) -> Result<T> {
        let _lock = lock(path)?;
        let mut lab = Lab::open(path)?;
        let out = change(&mut lab.state)?;
        lab.save()?;
        Ok(out)
    }

    /// Perform one op on the lab file at `path`, under its lock.
    pub fn perform_at(path: &Path, op: &Op) -> Result<Performed> {
        Lab::update(path, |state| Ok(state.perform(op)))
    }

    /// Answer a read on the lab file at `path` and save nothing: not even
    /// the time the read takes passes. What a plan's reads of the twin use,
    /// so a plan leaves the twin's lab as it found it. A change is refused.
    pub fn read_at(path: &Path, op: &Op) -> Result<Performed> {
        if op.is_change() {
            return Ok(Performed {
                result: Err(crate::targets::OpError::NotSimulated {
                    message: format!(
                        "a read-only session cannot change anything: {}",
                        op.render().unwrap_or_default()
                    ),
                }),
                sim_seconds: 0,
            });
        }
        let _lock = lock(path)?;
        Ok(Lab::open(path)?.state.perform(op))
    }
}

impl Target for Lab {
    fn name(&self) -> String {
        "lab".to_string()
    }

    /// A lab file is re-read under its lock before each op, so a twin or a
    /// `lab fault` that changed it meanwhile is seen, and nothing is lost.
    fn perform(&mut self, op: &Op) -> Result<Performed> {
        let Some(path) = self.path.clone() else {
            return Ok(self.state.perform(op));
        };
        let _lock = lock(&path)?;
        self.state = Lab::open(&path)?.state;
        let performed = self.state.perform(op);
        self.save()?;
        Ok(performed)
    }

    fn clock(&self) -> Option<u64> {
        Some(self.state.elapsed())
    }

    fn now(&self) -> i64 {
        self.state.epoch_at(self.state.elapsed())
    }

    fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.state.notes)
    }

    fn scratch(&self) -> Option<Box<dyn Target>> {
        Some(Box::new(Lab::in_memory(self.state.clone())))
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
