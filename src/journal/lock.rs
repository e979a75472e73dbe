//! The change-run lock of one estate scope (`<home>/locks/<estate>.lock`,
//! created with O_EXCL): it keeps two operators from failing over the same
//! pool at once. The same run id may retake its own lock on resume;
//! `--take-over-lock` takes a dead run's.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The change-run lock of one estate scope: a file holding owner and time.
pub struct Lock {
    path: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct LockInfo {
    owner: String,
    run_id: String,
    since: String,
    pid: u32,
}

impl Lock {
    pub fn acquire(
        home: &Path,
        scope: &str,
        owner: &str,
        run_id: &str,
        take_over: bool,
    ) -> Result<Lock> {
        let dir = home.join("locks");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
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
        let path = dir.join(format!("{safe}.lock"));
        let info = LockInfo {
            owner: owner.to_string(),
            run_id: run_id.to_string(),
            since: crate::time::rfc3339(crate::time::now_epoch()),
            pid: std::process::id(),
        };
        let body = serde_json::to_string(&info).expect("lock info serializes");
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    f.write_all(body.as_bytes())
                        .and_then(|_| f.sync_all())
                        .map_err(|e| Error::io(&path, e))?;
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| serde_json::from_str::<LockInfo>(&t).ok());
                    if take_over || held.as_ref().is_some_and(|h| h.run_id == run_id) {
                        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                        continue;
                    }
                    let (owner, since) = held.map_or_else(
                        || {
                            (
                                "an unreadable lock file".to_string(),
                                "an unknown time".to_string(),
                            )
                        },
                        |h| {
                            (
                                format!("{} (run {}, pid {})", h.owner, h.run_id, h.pid),
                                h.since,
                            )
                        },
                    );
                    return Err(Error::LockHeld { path, owner, since });
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let _a = Lock::acquire(dir.path(), "litware", "alice", "r1", false).unwrap();
        let err = Lock::acquire(dir.path(), "litware", "bob", "r2", false)
            .err()
            .unwrap();
        assert!(err.to_string().contains("alice"), "{err}");
        assert!(Lock::acquire(dir.path(), "litware", "bob", "r2", true).is_ok());
    }
}
