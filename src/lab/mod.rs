//! The lab: a deterministic simulation of a Lync Server 2013 / SQL Server
//! estate, built from an estate file and persisted op by op (a snapshot and
//! a log of events since, `store.rs`), so a drill survives a crash and
//! resumes like a live run.
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
mod file_index;
mod files;
mod keyed;
mod log_file;
mod lync;
mod network;
mod sql;
mod state;
mod store;
mod workload;

pub use clock::Clock;
pub use effects::{ManualRecord, EFFECT_KINDS};
pub use faults::{FaultRecord, FAULT_KINDS};
pub use file_index::Files;
pub use files::{wildcard_match, BackupFile, Folder, Folders};
pub use log_file::Durable;
pub use lync::backup_service::{BackupServiceState, ExportStatus, ImportStatus, ModuleStatus};
pub use lync::cms::{Cms, Replica};
pub use lync::edge::{EdgePoolState, XmppRoute};
pub use lync::persistent_chat::{
    ChatPool, ChatTopology, CHAT_DATABASE, CHAT_DATABASES, COMPLIANCE_DATABASE,
};
pub use lync::pools::{BackEndState, ConferenceContent, DataCopy, FePool, PoolData, PoolUsers};
pub use lync::{Lync, PoolState};
pub use network::{link_key, LinkState, Links, ServerState, Servers, SiteState};
pub use sql::log_shipping::{LogShippingPrimary, LogShippingSecondary, Msdb, RestoreHistory};
pub use sql::{
    Database, DbState, MirrorRole, MirrorState, Mirroring, Safety, Session, Sql, SqlInstance,
    LSN_BASE, LSN_PER_TRANSACTION,
};
pub use state::*;
use store::Store;
pub use store::{log_path, Applied, LabEvent};
pub use workload::Workload;

use crate::error::{Error, Result};
use crate::op::Op;
use crate::targets::{Performed, Target};
use std::fs;
use std::path::{Path, PathBuf};

/// A lab state and the files it lives in (none for a scratch copy). The
/// state stays in memory for the life of the process; changes are appended
/// to the lab's log (`store.rs`) and folded into the snapshot now and then.
#[derive(Debug, Clone)]
pub struct Lab {
    pub state: LabState,
    store: Option<Store>,
}

impl Lab {
    /// Load a lab file: its snapshot and the events logged since.
    pub fn open(path: &Path) -> Result<Lab> {
        let (state, store) = Store::load(path)?;
        Ok(Lab {
            state,
            store: Some(store),
        })
    }

    /// Start a lab file with `state`, creating its folder if needed.
    pub fn create(path: &Path, state: LabState) -> Result<Lab> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        store::write_atomically(path, state.to_json().as_bytes())?;
        // The old log is stale now (it names another snapshot); tidy it away.
        let _ = fs::remove_file(log_path(path));
        Lab::open(path)
    }

    /// A lab that is never saved: the dry run's scratch copy, and tests.
    pub fn in_memory(state: LabState) -> Lab {
        Lab { state, store: None }
    }

    /// The file this lab is saved to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.store.as_ref().map(|s| s.path.as_path())
    }

    /// Write the whole state as the snapshot, atomically (a reader or a
    /// crash sees the old file or the new one); the log starts afresh.
    pub fn save(&mut self) -> Result<()> {
        match &mut self.store {
            Some(store) => store.checkpoint(&self.state),
            None => Ok(()),
        }
    }

    /// Under the lab's lock: take in what other processes did, apply
    /// `event`, and log it (synced when `durable`). A failing event changes
    /// nothing and is not logged.
    pub fn record(&mut self, event: LabEvent, durable: bool) -> Result<Applied> {
        let (applied, ticket) = self.record_deferred(event)?;
        if durable {
            ticket.wait()?;
        }
        Ok(applied)
    }

    /// `record`, with the sync left to the caller: the returned ticket
    /// makes the event durable when waited on, so a server can let the
    /// next client in while this one waits (and share the fdatasync).
    pub fn record_deferred(&mut self, event: LabEvent) -> Result<(Applied, Durable)> {
        let Some(store) = &mut self.store else {
            return Ok((event.apply(&mut self.state)?, Durable::default()));
        };
        let _lock = store.lock()?;
        store.catch_up(&mut self.state)?;
        let applied = event.apply(&mut self.state)?;
        let mut ticket = store.append(&event)?;
        if store.wants_checkpoint() {
            // The snapshot is synced: the event is durable with it.
            store.checkpoint(&self.state)?;
            ticket = Durable::default();
        }
        Ok((applied, ticket))
    }

    /// Perform `op` (as `Target::perform`), its durability left to the
    /// caller: what the twin uses, waiting outside its lock.
    pub fn perform_deferred(&mut self, op: &Op) -> Result<(Performed, Durable)> {
        match self.record_deferred(LabEvent::Op(op.clone()))? {
            (Applied::Performed(p), ticket) => Ok((p, ticket)),
            _ => unreachable!("an op event is performed"),
        }
    }

    /// Under the lab's lock: take in what other processes did. What a
    /// reader that lives on (`lab serve`) calls before it answers.
    pub fn refresh(&mut self) -> Result<()> {
        let Some(store) = &mut self.store else {
            return Ok(());
        };
        let _lock = store.lock()?;
        store.catch_up(&mut self.state)
    }

    /// Fold this process's logged events into the snapshot, so the lab
    /// file reads as the state again. Nothing to do when it logged none.
    pub fn checkpoint(&mut self) -> Result<()> {
        let Some(store) = &mut self.store else {
            return Ok(());
        };
        if store.appended == 0 {
            return Ok(());
        }
        let _lock = store.lock()?;
        store.catch_up(&mut self.state)?;
        store.checkpoint(&self.state)
    }
}

impl Drop for Lab {
    /// A process that changed the lab leaves a snapshot that reads as the
    /// state. If this fails (or the process is killed first), the log
    /// still holds every change and the next open replays it.
    fn drop(&mut self) {
        let _ = self.checkpoint();
    }
}

/// The lock file beside a lab file. The state file itself is replaced by
/// rename on every checkpoint, so the lock lives in a file that stays put.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Hold the lab's lock until the returned file is dropped. Every process
/// that changes a lab file — a run against the lab, `lab serve`'s twin, the
/// `lab pwsh` stand-in, `lab fault` — takes it around catch-up, change and
/// append.
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
    /// Perform one op on the lab file at `path`: a process that performs
    /// a single op (`lab pwsh`).
    /// Nobody journals for it, so a change is synced before it answers.
    pub fn perform_at(path: &Path, op: &Op) -> Result<Performed> {
        let (performed, ticket) = Lab::open(path)?.perform_deferred(op)?;
        if op.is_change() {
            ticket.wait()?;
        }
        Ok(performed)
    }

    /// Answer a read on the lab file at `path` and save nothing.
    pub fn read_at(path: &Path, op: &Op) -> Result<Performed> {
        Lab::open(path)?.read(op)
    }

    /// Answer a read and save nothing: not even the time the read takes
    /// passes. What a plan's reads of the twin use, so a plan leaves the
    /// twin's lab as it found it. A change is refused.
    pub fn read(&mut self, op: &Op) -> Result<Performed> {
        if op.is_change() {
            return Ok(Performed {
                result: Err(crate::targets::OpError::NotSimulated {
                    message: format!(
                        "a read-only session cannot change anything: {}",
                        op.render().unwrap_or_default()
                    ),
                }),
                sim_seconds: 0,
                logs: Vec::new(),
            });
        }
        self.refresh()?;
        Ok(self.state.clone().perform(op))
    }
}

impl Target for Lab {
    fn name(&self) -> String {
        "lab".to_string()
    }

    /// Changes from a twin or a `lab fault` meanwhile are taken in first,
    /// so nothing is lost. The event is written to the lab's log at once
    /// (a killed process loses nothing) but not synced on its own: the
    /// run's journal is the lab's write-ahead log, and its durable record
    /// of the answer carries the lab's clock, so a resume refuses a lab
    /// that lost a change it holds as done (`run::check_not_behind`). The
    /// log reaches the disk with the next checkpoint, which is synced.
    fn perform(&mut self, op: &Op) -> Result<Performed> {
        let (performed, _unsynced) = self.perform_deferred(op)?;
        Ok(performed)
    }

    /// The lab answers in this process at once (at most after another
    /// process's short hold of its lock), so a step's records need not be
    /// written out before its ops: a read step writes its journal once.
    fn waits(&self) -> bool {
        false
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
