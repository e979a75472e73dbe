//! The lab log a process holds open: read and appended through one file
//! handle, synced as a group. While it is held, its inode cannot be reused
//! by a newer log, so "another file at the path" reliably means "a new log".
//!
//! Group commit: an append returns a [`Durable`] ticket for the log's end;
//! waiting on it runs one fdatasync for every append made before it began,
//! so changes from many clients of `lab serve` share their syncs instead of
//! queueing behind each other's.

use crate::error::{Error, Result};
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A log file held open by this process.
#[derive(Debug)]
pub(in crate::lab) struct LogFile {
    path: PathBuf,
    file: fs::File,
    /// Where this process's last append ended.
    written: AtomicU64,
    /// Up to where the file is known synced.
    synced: Mutex<u64>,
}

/// A change appended to the log but perhaps not yet on disk: `wait` makes
/// it durable.
#[derive(Debug, Default)]
#[must_use = "an append is durable only once its ticket is waited on"]
pub struct Durable(Option<(Arc<LogFile>, u64)>);

impl Durable {
    /// Block until the append is on disk: one fdatasync covers every append
    /// made before it started, so concurrent waiters mostly find theirs done.
    pub fn wait(self) -> Result<()> {
        let Some((log, end)) = self.0 else {
            return Ok(());
        };
        let mut synced = log.synced.lock().unwrap_or_else(|e| e.into_inner());
        if *synced >= end {
            return Ok(());
        }
        let upto = log.written.load(Ordering::Acquire);
        log.file.sync_data().map_err(|e| Error::io(&log.path, e))?;
        *synced = (*synced).max(upto);
        Ok(())
    }
}

impl LogFile {
    /// Open the log at `path` for reading and appending.
    pub fn open(path: &Path) -> std::io::Result<LogFile> {
        let file = fs::OpenOptions::new().read(true).write(true).open(path)?;
        Ok(LogFile {
            path: path.to_path_buf(),
            file,
            written: AtomicU64::new(0),
            synced: Mutex::new(0),
        })
    }

    /// Its identity on disk (the inode on Unix).
    pub fn id(&self) -> std::io::Result<u64> {
        self.file.metadata().map(|m| file_id(&m))
    }

    /// Everything from `from` to the end.
    pub fn read_from(&self, from: u64) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let mut f = &self.file;
        f.seek(SeekFrom::Start(from))
            .and_then(|_| f.read_to_end(&mut bytes))
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(bytes)
    }

    /// The first line's bytes (at most 256).
    pub fn head(&self) -> Vec<u8> {
        let mut head = vec![0u8; 256];
        let mut f = &self.file;
        let n = f
            .seek(SeekFrom::Start(0))
            .and_then(|_| f.read(&mut head))
            .unwrap_or(0);
        head.truncate(n);
        head.split(|&b| b == b'\n')
            .next()
            .unwrap_or_default()
            .to_vec()
    }

    /// Write `line` at `at` (the end of what was applied; anything after it
    /// is a line a crash left half written, and is cut). Not synced: the
    /// ticket is, when it is waited on.
    pub fn append(self: &Arc<Self>, at: u64, line: &[u8]) -> Result<Durable> {
        let io = |e| Error::io(&self.path, e);
        let mut f = &self.file;
        if f.metadata().map_err(io)?.len() != at {
            f.set_len(at).map_err(io)?;
        }
        f.seek(SeekFrom::Start(at)).map_err(io)?;
        f.write_all(line).map_err(io)?;
        let end = at + line.len() as u64;
        self.written.fetch_max(end, Ordering::AcqRel);
        Ok(Durable(Some((self.clone(), end))))
    }

    /// A log just written whole and synced (its first append).
    pub fn synced_up_to(&self, end: u64) {
        self.written.fetch_max(end, Ordering::AcqRel);
        let mut synced = self.synced.lock().unwrap_or_else(|e| e.into_inner());
        *synced = (*synced).max(end);
    }
}

/// A file's identity on disk (its inode on Unix).
pub(in crate::lab) fn file_id(meta: &fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        std::os::unix::fs::MetadataExt::ino(meta)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0
    }
}
