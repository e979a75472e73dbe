//! The journal writer: a record is appended and fsynced before the run goes
//! on, so whatever a crash interrupts, every record before it survives.

use super::{Record, RunHeader, Torn};
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An open journal, appended to record by record.
pub struct Journal {
    path: PathBuf,
    file: File,
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
        let mut j = Journal { path, file };
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
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and fsync it: once this returns, the record survives a crash.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_string(record).expect("journal records serialize");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| Error::io(&self.path, e))?;
        self.file.sync_data().map_err(|e| Error::io(&self.path, e))
    }
}
