//! The change-run lock of one estate scope (`<home>/locks/<estate>.lock`):
//! it keeps two operators from failing over the same pool at once.
//!
//! The lock is an operating-system file lock (`flock` on Unix, `LockFileEx`
//! on Windows) held on that file for as long as the run lives, so exactly
//! one process holds it whatever the timing, and a process that dies loses
//! it. The file's content names the holder (operator, run id, pid, since)
//! for the message a refused run prints. The content outlives a crash: a
//! crashed run's lock is free at the OS level but still names its run, and
//! only a resume of that run (or `--take-over-lock`) may take it — unless
//! the dead run left nothing to resume (no journal, or a journal with no
//! change op started): then the next change run takes the lock over by
//! itself and says so ([`Lock::taken_over`]). Only the
//! holder ever clears the file, and it never deletes it (deleting a locked
//! file would let a second process lock a fresh file of the same name).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The change-run lock of one estate scope, held until dropped.
pub struct Lock {
    path: PathBuf,
    /// The open file carrying the OS lock; closing it releases the lock.
    file: File,
    /// Whether the file names this process (cleared on drop); a brief lock
    /// over a dead run's name leaves that name alone.
    named: bool,
    /// The dead holder this lock was taken over from by itself, and why
    /// that was safe (it left nothing to resume), for the new run to say.
    taken_over: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LockInfo {
    owner: String,
    run_id: String,
    since: String,
    pid: u32,
}

impl LockInfo {
    fn describe(&self) -> String {
        format!("{} (run {}, pid {})", self.owner, self.run_id, self.pid)
    }
}

/// The file name of a scope's lock: anything but `[A-Za-z0-9.-]` becomes `_`.
fn file_name(scope: &str) -> String {
    let safe: String = scope
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.lock")
}

/// Why the dead run `run_id` left nothing to resume, if it did not: it
/// has no journal (killed before it created one), or its journal records
/// no change op started. A journal that cannot be read counts as
/// something to resume (the operator decides).
fn nothing_to_resume(home: &Path, run_id: &str) -> Option<&'static str> {
    if run_id.contains(['/', '\\']) || run_id.starts_with('.') {
        return Some("it has no journal");
    }
    let path = super::Journal::path_for(home, run_id);
    if !path.exists() {
        return Some("it has no journal");
    }
    let loaded = super::read(&path).ok()?;
    let changed = loaded
        .records
        .iter()
        .any(|r| matches!(r, super::Record::OpStarted { change: true, .. }));
    (!changed).then_some("its journal shows no change sent")
}

fn read_info(file: &mut File) -> Option<LockInfo> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// Open the scope's lock file and take its OS lock, or refuse naming the
/// live process that holds it. A holder's name is written just after it
/// locks and cleared just before it unlocks: while the file is locked and
/// names nobody, the lock is tried again, so a holder that is just leaving
/// (a `lab fault` holds it for milliseconds) does not turn us away unnamed.
fn lock_file(home: &Path, scope: &str) -> Result<(PathBuf, File)> {
    let dir = home.join("locks");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(file_name(scope));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    for _ in 0..50 {
        match file.try_lock() {
            Ok(()) => return Ok((path, file)),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        if let Some(h) = read_info(&mut file) {
            return Err(Error::LockHeld {
                path,
                owner: format!("{}, which is running", h.describe()),
                since: h.since,
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Err(Error::LockHeld {
        path,
        owner: "a running process that has not named itself yet".into(),
        since: "just now".into(),
    })
}

impl Lock {
    /// Take the lock of `scope` for `run_id`. Refused with
    /// [`Error::LockHeld`] (exit 4) when a live process holds it, or when a
    /// crashed run other than `run_id` left it with something to resume and
    /// `take_over` is not set. A crashed run that left nothing to resume is
    /// taken over by itself ([`Lock::taken_over`] says from whom).
    pub fn acquire(
        home: &Path,
        scope: &str,
        owner: &str,
        run_id: &str,
        take_over: bool,
    ) -> Result<Lock> {
        let (path, mut file) = lock_file(home, scope)?;
        // Ours at the OS level; a name left in the file is a dead holder's.
        let mut taken_over = None;
        if let Some(left) = read_info(&mut file).filter(|l| l.run_id != run_id) {
            if let Some(why) = nothing_to_resume(home, &left.run_id) {
                taken_over = Some(format!(
                    "took over the estate lock from {}, which is no longer running \
                     and left nothing to resume ({why})",
                    left.describe()
                ));
            } else if !take_over {
                return Err(Error::LockHeld {
                    path,
                    owner: format!(
                        "{}, which is no longer running (it crashed or was killed)",
                        left.describe()
                    ),
                    since: left.since,
                });
            }
        }
        let mut lock = Lock {
            path,
            file,
            named: true,
            taken_over,
        };
        lock.write_info(owner, run_id)?;
        Ok(lock)
    }

    /// Take the lock of `scope` for a short change outside any run (`lab
    /// init`, `lab advance`, `lab fault`, as `what`): refused with
    /// [`Error::LockHeld`] (exit 4) when a live process holds it. A crashed
    /// run's name is left in the file (its resume still finds it).
    pub fn acquire_brief(home: &Path, scope: &str, owner: &str, what: &str) -> Result<Lock> {
        let (path, mut file) = lock_file(home, scope)?;
        let named = read_info(&mut file).is_none();
        let mut lock = Lock {
            path,
            file,
            named,
            taken_over: None,
        };
        if named {
            lock.write_info(owner, what)?;
        }
        Ok(lock)
    }

    /// The dead holder this lock was taken over from by itself (it left
    /// nothing to resume), as a line for the new run to report and journal.
    pub fn taken_over(&self) -> Option<&str> {
        self.taken_over.as_deref()
    }

    /// Name another run id as the holder (the run id was settled after the
    /// lock was taken).
    pub fn rename(&mut self, owner: &str, run_id: &str) -> Result<()> {
        self.named = true;
        self.write_info(owner, run_id)
    }

    fn write_info(&mut self, owner: &str, run_id: &str) -> Result<()> {
        let info = LockInfo {
            owner: owner.to_string(),
            run_id: run_id.to_string(),
            since: crate::time::rfc3339(crate::time::now_epoch()),
            pid: std::process::id(),
        };
        let body = serde_json::to_string(&info).expect("lock info serializes");
        let path = &self.path;
        self.file
            .set_len(0)
            .and_then(|_| self.file.seek(SeekFrom::Start(0)))
            .and_then(|_| self.file.write_all(body.as_bytes()))
            .and_then(|_| self.file.sync_all())
            .map_err(|e| Error::io(path, e))
    }
}

impl Drop for Lock {
    /// Only the holder gets here: clear its name, then close (which unlocks).
    fn drop(&mut self) {
        if self.named {
            let _ = self.file.set_len(0);
            let _ = self.file.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_while_the_first_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let a = Lock::acquire(dir.path(), "litware", "alice", "r1", false).unwrap();
        // Neither the same run id nor --take-over-lock takes a live lock.
        for (id, take_over) in [("r2", false), ("r1", false), ("r2", true)] {
            let err = Lock::acquire(dir.path(), "litware", "bob", id, take_over)
                .err()
                .unwrap();
            assert!(err.to_string().contains("alice (run r1, pid"), "{err}");
        }
        drop(a);
        assert!(Lock::acquire(dir.path(), "litware", "bob", "r2", false).is_ok());
    }

    /// A lock file left by a dead `alice` of run `r1`, whose journal
    /// records `ops` (change or not) when given.
    fn dead_holder(home: &Path, ops: Option<&[bool]>) -> (PathBuf, &'static str) {
        let path = home.join("locks").join("litware.lock");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let dead = r#"{"owner":"alice","run_id":"r1","since":"t","pid":1}"#;
        std::fs::write(&path, dead).unwrap();
        if let Some(ops) = ops {
            let mut j =
                super::super::Journal::create(home, super::super::test_support::header()).unwrap();
            for (seq, change) in ops.iter().enumerate() {
                j.append(&super::super::Record::OpStarted {
                    step: 0,
                    seq,
                    op: serde_json::Value::Null,
                    change: *change,
                    text: String::new(),
                })
                .unwrap();
            }
        }
        (path, dead)
    }

    #[test]
    fn a_dead_runs_lock_is_taken_by_its_resume_or_by_take_over() {
        let dir = tempfile::tempdir().unwrap();
        let (path, dead) = dead_holder(dir.path(), Some(&[false, true]));
        let err = Lock::acquire(dir.path(), "litware", "bob", "r2", false)
            .err()
            .unwrap();
        assert!(err.to_string().contains("no longer running"), "{err}");
        // A refusal leaves the dead run's name in place.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), dead);
        drop(Lock::acquire(dir.path(), "litware", "alice", "r1", false).unwrap());
        std::fs::write(&path, dead).unwrap();
        let lock = Lock::acquire(dir.path(), "litware", "bob", "r2", true).unwrap();
        assert_eq!(lock.taken_over(), None, "taken over on request");
        drop(lock);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }

    #[test]
    fn a_dead_run_that_left_nothing_to_resume_is_taken_over_by_itself() {
        for (ops, why) in [
            (None, "it has no journal"),
            (Some(&[][..]), "no change sent"),
            (Some(&[false, false][..]), "no change sent"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let (path, _) = dead_holder(dir.path(), ops);
            let lock = Lock::acquire(dir.path(), "litware", "bob", "r2", false).unwrap();
            let said = lock.taken_over().expect("taken over").to_string();
            assert!(said.contains("alice (run r1, pid 1)"), "{said}");
            assert!(said.contains(why), "{said}");
            assert!(std::fs::read_to_string(&path).unwrap().contains("\"r2\""));
        }
    }
}
