//! The journal writer. Every record is written to the file at once (so a
//! killed process loses none); `append` also makes it and every record
//! before it durable with one fdatasync, `write` leaves that to the next
//! `append` or `sync`. The run decides which records are durability
//! points (docs/architecture.md, "What is durable when").

use super::{Record, RunHeader, Torn};
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An open journal, appended to record by record.
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Records written since the last fdatasync.
    unsynced: bool,
    /// Bytes written through this handle (the run bounds them per step).
    written: u64,
}

impl Journal {
    pub fn runs_dir(home: &Path) -> PathBuf {
        home.join("runs")
    }

    pub fn path_for(home: &Path, run_id: &str) -> PathBuf {
        Journal::runs_dir(home).join(format!("{run_id}.jsonl"))
    }

    /// The journal of an existing run, or an error saying where to look.
    pub fn existing(home: &Path, run_id: &str) -> Result<PathBuf> {
        let path = Journal::path_for(home, run_id);
        if !path.exists() {
            return Err(Error::UnknownRun {
                run_id: run_id.to_string(),
                dir: Journal::runs_dir(home),
            });
        }
        Ok(path)
    }

    /// Start a new journal; refuses to overwrite one.
    pub fn create(home: &Path, header: RunHeader) -> Result<Journal> {
        let dir = Journal::runs_dir(home);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = Journal::path_for(home, &header.run_id);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut j = Journal {
            path,
            file,
            unsynced: false,
            written: 0,
        };
        j.append(&Record::Run(Box::new(header)))?;
        Ok(j)
    }

    /// Reopen for appending. A torn last line is cut off first so the next
    /// record starts on a line of its own.
    pub fn reopen(path: &Path, torn: Option<&Torn>) -> Result<Journal> {
        if let Some(t) = torn {
            let f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            f.set_len(t.offset).map_err(|e| Error::io(path, e))?;
            f.sync_all().map_err(|e| Error::io(path, e))?;
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            unsynced: false,
            written: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and fdatasync: once this returns, it and every
    /// record before it survive a crash, even a power loss.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        self.write(record)?;
        self.sync()
    }

    /// Append one record without waiting for the disk: it survives the
    /// process being killed, and is durable at the next `append` or `sync`.
    pub fn write(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_string(record).expect("journal records serialize");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| Error::io(&self.path, e))?;
        self.unsynced = true;
        self.written += line.len() as u64;
        Ok(())
    }

    /// Bytes written through this handle so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Make every record written so far durable (one fdatasync, none if
    /// nothing is pending).
    pub fn sync(&mut self) -> Result<()> {
        if !self.unsynced {
            return Ok(());
        }
        self.file
            .sync_data()
            .map_err(|e| Error::io(&self.path, e))?;
        self.unsynced = false;
        Ok(())
    }
}
