//! How a lab lives on disk: a snapshot (`state.json`, the pretty JSON of
//! the state, replaced atomically) and beside it an append-only log of the
//! events since (`state.json.log`). The lab is deterministic, so replaying
//! the events on the snapshot gives the state; a change costs one appended
//! line, not a rewrite of the whole state.
//!
//! The log's first line names the snapshot it continues (the SHA-256 of its
//! bytes). A log that names another snapshot is stale — the snapshot was
//! rewritten since, by a checkpoint, `lab init`, a drill's staging or a
//! hand edit — and is ignored, so a crash between writing a snapshot and
//! removing the old log cannot apply an event twice. A last line cut short
//! by a crash is ignored, and cut off before the next append.

use crate::error::{Error, Result};
use crate::estate::sha256_hex;
use crate::lab::log_file::{file_id, Durable, LogFile};
use crate::lab::LabState;
use crate::op::Op;
use crate::targets::Performed;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One change to a lab, as its log records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LabEvent {
    /// An op, with the modeled time it took.
    Op(Op),
    /// `lab advance`: normal operation for this many seconds.
    Advance(u64),
    /// `lab fault`: these faults, all or nothing.
    Faults(Vec<String>),
}

/// What applying an event gave.
#[derive(Debug)]
pub enum Applied {
    Performed(Performed),
    Advanced,
    /// Per fault: the fault, and what it did.
    Faulted(Vec<(String, String)>),
}

impl LabEvent {
    /// Apply the event; the one definition of what it does, for the first
    /// time and on replay alike. A failing event changes nothing.
    pub fn apply(&self, state: &mut LabState) -> Result<Applied> {
        match self {
            LabEvent::Op(op) => Ok(Applied::Performed(state.perform(op))),
            LabEvent::Advance(seconds) => {
                state.advance(*seconds);
                Ok(Applied::Advanced)
            }
            LabEvent::Faults(faults) => {
                let mut next = state.clone();
                let mut done = Vec::new();
                for f in faults {
                    done.push((f.clone(), next.apply_fault(f)?));
                }
                *state = next;
                Ok(Applied::Faulted(done))
            }
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogHeader {
    snapshot_sha256: String,
}

/// The log beside a lab file.
pub fn log_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".log");
    PathBuf::from(p)
}

/// Where a process stands in a lab file: the snapshot it started from, and
/// how much of that snapshot's log it has applied.
#[derive(Debug)]
pub(in crate::lab) struct Store {
    pub path: PathBuf,
    /// SHA-256 of the snapshot's bytes.
    snapshot: String,
    snapshot_len: u64,
    /// Bytes of the log applied, header included; 0 when the log on disk
    /// does not continue this snapshot (and the next append starts it).
    applied: u64,
    /// Which file the log was when we read it (a checkpoint replaces it).
    log_id: u64,
    /// That file, held open: while it is, its inode cannot be reused by a
    /// new log, so a different `log_id` at the path always means a new log.
    held: Option<Arc<LogFile>>,
    /// The lock file, opened once; never shared with a clone (a lock is
    /// per open file, so a clone that shared it would not exclude us).
    lock_file: Option<Arc<fs::File>>,
    /// The snapshot file we read or wrote, held open (its inode cannot be
    /// reused while we do) with its inode: the same inode at the path is
    /// the same snapshot, known without reading it.
    held_snapshot: Option<Held>,
    /// Events this process appended since its last checkpoint.
    pub appended: u64,
}

impl Clone for Store {
    /// A clone has its own handles: the log is reopened at its next
    /// catch-up, the lock file at its next lock.
    fn clone(&self) -> Store {
        Store {
            path: self.path.clone(),
            snapshot: self.snapshot.clone(),
            snapshot_len: self.snapshot_len,
            applied: self.applied,
            log_id: self.log_id,
            held: self.held.clone(),
            held_snapshot: self.held_snapshot.clone(),
            lock_file: None,
            appended: self.appended,
        }
    }
}

/// The lab's lock, held until dropped.
pub(in crate::lab) struct Locked(Arc<fs::File>);

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::LabMissing {
            path: path.to_path_buf(),
        },
        _ => Error::io(path, e),
    })
}

/// A file held open, with its inode.
type Held = (Arc<fs::File>, u64);

/// Open a file and keep it, with its inode.
fn hold(path: &Path) -> Option<Held> {
    let file = fs::File::open(path).ok()?;
    let id = file_id(&file.metadata().ok()?);
    Some((Arc::new(file), id))
}

/// A snapshot's bytes, and the file they were read from, held.
fn read_held(path: &Path) -> Result<(Vec<u8>, Option<Held>)> {
    use std::io::Read;
    let missing = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => Error::LabMissing {
            path: path.to_path_buf(),
        },
        _ => Error::io(path, e),
    };
    let mut file = fs::File::open(path).map_err(missing)?;
    let id = file_id(&file.metadata().map_err(missing)?);
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(missing)?;
    Ok((bytes, Some((Arc::new(file), id))))
}

/// The complete lines of `bytes` and how many bytes they span.
fn complete_lines(bytes: &[u8]) -> (Vec<&[u8]>, u64) {
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let lines = bytes[..end]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    (lines, end as u64)
}

impl Store {
    /// Load the snapshot at `path` and the events of its log.
    pub fn load(path: &Path) -> Result<(LabState, Store)> {
        let (bytes, held_snapshot) = read_held(path)?;
        let text = String::from_utf8_lossy(&bytes);
        let mut state = LabState::from_json(&text).map_err(|message| Error::LabState {
            path: path.to_path_buf(),
            message,
        })?;
        let mut store = Store {
            path: path.to_path_buf(),
            snapshot: sha256_hex(&bytes),
            snapshot_len: bytes.len() as u64,
            applied: 0,
            log_id: 0,
            held: None,
            held_snapshot,
            lock_file: None,
            appended: 0,
        };
        store.catch_up(&mut state)?;
        Ok((state, store))
    }

    /// Take the lab's lock (see `crate::lab::lock`), through a lock file
    /// opened once for the life of this store.
    pub fn lock(&mut self) -> Result<Locked> {
        let file = match &self.lock_file {
            Some(f) => f.clone(),
            None => {
                let lock = crate::lab::lock(&self.path)?;
                let file = Arc::new(lock);
                self.lock_file = Some(file.clone());
                return Ok(Locked(file));
            }
        };
        file.lock()
            .map_err(|e| Error::io(crate::lab::lock_path(&self.path), e))?;
        Ok(Locked(file))
    }

    /// Apply what other processes appended to the log since; reload when
    /// the snapshot itself was rewritten. Cheap when nothing changed: one
    /// `stat` of the log.
    pub fn catch_up(&mut self, state: &mut LabState) -> Result<()> {
        let log = log_path(&self.path);
        let meta = match fs::metadata(&log) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return match self.applied {
                    0 => self.check_snapshot(state),
                    _ => self.reload(state),
                };
            }
            Err(e) => return Err(Error::io(&log, e)),
        };
        let (len, id) = (meta.len(), file_id(&meta));
        let ours = self.held.clone().filter(|_| id == self.log_id);
        if self.applied > 0 {
            // Another process may have checkpointed and started a new log:
            // its inode differs from the one we hold open (which cannot be
            // reused while we hold it).
            let Some(_) = &ours else {
                return self.reload(state);
            };
            if len < self.applied {
                return self.reload(state);
            }
            if len == self.applied {
                return Ok(());
            }
        }
        let file = match ours {
            Some(f) => f,
            None => Arc::new(LogFile::open(&log).map_err(|e| Error::io(&log, e))?),
        };
        // Belt and braces, for file systems that reuse inodes anyway: the
        // header says which snapshot the log continues.
        if !self.continues(&file) {
            return match self.applied {
                0 => self.check_snapshot(state),
                _ => self.reload(state),
            };
        }
        let from = self.applied;
        let bytes = file.read_from(from)?;
        let (lines, end) = complete_lines(&bytes);
        let mut lines = lines.into_iter();
        if from == 0 {
            lines.next();
        }
        for line in lines {
            let event: LabEvent = serde_json::from_slice(line).map_err(|e| Error::LabState {
                path: log.clone(),
                message: format!("an event in the log cannot be read: {e}"),
            })?;
            // An event was logged only once it applied, so it applies again.
            let _ = event.apply(state);
        }
        self.applied = from + end;
        self.log_id = file.id().map_err(|e| Error::io(&log, e))?;
        self.held = Some(file);
        Ok(())
    }

    /// Whether the log's header names our snapshot.
    fn continues(&self, file: &LogFile) -> bool {
        serde_json::from_slice::<LogHeader>(&file.head())
            .is_ok_and(|h| h.snapshot_sha256 == self.snapshot)
    }

    fn reload(&mut self, state: &mut LabState) -> Result<()> {
        let (fresh, store) = Store::load(&self.path)?;
        *state = fresh;
        *self = store;
        Ok(())
    }

    /// With no log continuing our snapshot: reload if the snapshot on disk
    /// is no longer the one we hold.
    fn check_snapshot(&mut self, state: &mut LabState) -> Result<()> {
        let on_disk = fs::metadata(&self.path).map(|m| file_id(&m)).ok();
        if on_disk.is_some() && self.held_snapshot.as_ref().map(|h| h.1) == on_disk {
            self.applied = 0;
            return Ok(());
        }
        let bytes = read_bytes(&self.path)?;
        if sha256_hex(&bytes) == self.snapshot {
            self.applied = 0;
            return Ok(());
        }
        self.reload(state)
    }

    /// Append one event (the caller holds the lab lock and has caught up).
    /// It is durable once the returned ticket is waited on.
    pub fn append(&mut self, event: &LabEvent) -> Result<Durable> {
        let log = log_path(&self.path);
        let mut line = serde_json::to_vec(event).expect("lab events serialize");
        line.push(b'\n');
        let held = self.held.clone().filter(|_| self.applied > 0);
        let durable = match held {
            Some(file) => file.append(self.applied, &line)?,
            None => {
                // Start the log of this snapshot, whole or not at all.
                let header = LogHeader {
                    snapshot_sha256: self.snapshot.clone(),
                };
                let mut bytes = serde_json::to_vec(&header).expect("headers serialize");
                bytes.push(b'\n');
                let header_len = bytes.len() as u64;
                bytes.extend_from_slice(&line);
                write_atomically(&log, &bytes)?;
                let file = LogFile::open(&log).map_err(|e| Error::io(&log, e))?;
                file.synced_up_to(bytes.len() as u64);
                self.log_id = file.id().map_err(|e| Error::io(&log, e))?;
                self.held = Some(Arc::new(file));
                self.applied = header_len;
                Durable::default()
            }
        };
        self.applied += line.len() as u64;
        self.appended += 1;
        Ok(durable)
    }

    /// Whether the log has outgrown its snapshot enough to fold it in.
    pub fn wants_checkpoint(&self) -> bool {
        self.applied > self.snapshot_len.max(1 << 20)
    }

    /// Write `state` as the new snapshot; the log becomes stale and goes.
    pub fn checkpoint(&mut self, state: &LabState) -> Result<()> {
        let text = state.to_json();
        write_atomically(&self.path, text.as_bytes())?;
        self.held_snapshot = hold(&self.path);
        self.snapshot = sha256_hex(text.as_bytes());
        self.snapshot_len = text.len() as u64;
        self.applied = 0;
        self.appended = 0;
        let log = log_path(&self.path);
        match fs::remove_file(&log) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&log, e)),
            _ => Ok(()),
        }
    }
}

/// Write a file so that a reader (or a crash) sees the old one or the new
/// one, never half of one: a synced temporary file renamed into place.
pub(in crate::lab) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    // Make the rename itself durable; the file is already safe if the
    // directory cannot be synced.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = crate::durable::sync_dir(dir);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::litware;
    use crate::lab::Lab;
    use crate::targets::Target;

    fn ping() -> Op {
        Op::SqlPing {
            instance: "pcsql-dub1".into(),
        }
    }

    /// A lab with `n` pings logged and not checkpointed (as after a kill -9).
    fn logged(n: usize) -> (tempfile::TempDir, PathBuf, LabState) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut lab = Lab::create(&path, litware()).unwrap();
        for _ in 0..n {
            lab.perform(&ping()).unwrap();
        }
        let state = lab.state.clone();
        std::mem::forget(lab);
        (dir, path, state)
    }

    #[test]
    fn a_killed_process_leaves_a_log_that_the_next_open_replays() {
        let (_dir, path, state) = logged(3);
        assert_ne!(fs::read_to_string(&path).unwrap(), state.to_json());
        assert_eq!(Lab::open(&path).unwrap().state, state);
    }

    #[test]
    fn a_torn_last_line_is_ignored_then_cut_off() {
        let (_dir, path, state) = logged(2);
        let log = log_path(&path);
        let mut f = fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"{\"op\":{\"kind\":\"sql_pi").unwrap();
        let mut lab = Lab::open(&path).unwrap();
        assert_eq!(lab.state, state);
        lab.perform(&ping()).unwrap();
        let state = lab.state.clone();
        std::mem::forget(lab);
        assert_eq!(Lab::open(&path).unwrap().state, state);
        assert_eq!(state.elapsed(), 3);
    }

    #[test]
    fn a_log_of_another_snapshot_is_stale_and_ignored() {
        let (_dir, path, _) = logged(2);
        // A hand edit (or a crash between a checkpoint and removing the log).
        let mut other = litware();
        other.advance(60);
        let edited = other.to_json();
        fs::write(&path, &edited).unwrap();
        let lab = Lab::open(&path).unwrap();
        assert_eq!(lab.state.to_json(), edited);
    }

    #[test]
    fn a_long_lived_lab_sees_another_process_change_and_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut server = Lab::create(&path, litware()).unwrap();
        server.perform(&ping()).unwrap();
        // Another process: one op logged, then one that checkpoints on close.
        Lab::open(&path).unwrap().perform(&ping()).unwrap();
        server.perform(&ping()).unwrap();
        assert_eq!(server.state.elapsed(), 3);
        let mut other = Lab::open(&path).unwrap();
        other.perform(&ping()).unwrap();
        other.checkpoint().unwrap();
        server.refresh().unwrap();
        assert_eq!(server.state, other.state);
        assert_eq!(server.state.elapsed(), 4);
    }
}
