//! The journal writer. A record is added to the journal's buffer; `flush`
//! writes what is buffered to the file in one write (a killed process loses
//! nothing flushed), `sync` flushes and makes it and every record before it
//! durable with one fdatasync, `append` adds a record and syncs. The run
//! decides which records are durability points and what is flushed before
//! it waits on anything (docs/architecture.md, "What is durable when").

use super::{Record, RunHeader, Torn};
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An open journal: records added to a buffer, written and synced when the
/// run says.
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Records added and not yet written to the file.
    pending: Vec<u8>,
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
            pending: Vec::new(),
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
            pending: Vec::new(),
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

    /// Add one record: it reaches the file at the next `flush`, `sync` or
    /// `append` (or when the journal is dropped), in one write with the
    /// records added before it.
    pub fn write(&mut self, record: &Record) -> Result<()> {
        let before = self.pending.len();
        serde_json::to_writer(&mut self.pending, record).expect("journal records serialize");
        self.pending.push(b'\n');
        self.written += (self.pending.len() - before) as u64;
        Ok(())
    }

    /// Write every record added so far to the file (one write; none if
    /// nothing is buffered): a killed process loses none of them.
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let written = self.file.write_all(&self.pending);
        self.pending.clear();
        written.map_err(|e| Error::io(&self.path, e))?;
        self.unsynced = true;
        Ok(())
    }

    /// Bytes written through this handle so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Make every record added so far durable (one write and one
    /// fdatasync, none if nothing is pending).
    pub fn sync(&mut self) -> Result<()> {
        self.flush()?;
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

/// A journal closed on any path, an early error's included, leaves every
/// record it was given in the file.
impl Drop for Journal {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::test_support::header;

    fn log(message: &str) -> Record {
        Record::Log {
            step: None,
            message: message.into(),
        }
    }

    #[test]
    fn records_reach_the_file_at_a_flush_a_sync_or_a_drop_in_one_write() {
        let home = tempfile::tempdir().unwrap();
        let mut j = Journal::create(home.path(), header()).unwrap();
        let path = j.path().to_path_buf();
        let lines = || std::fs::read_to_string(&path).unwrap().lines().count();
        assert_eq!(lines(), 1, "the header is appended durably");
        j.write(&log("a")).unwrap();
        j.write(&log("b")).unwrap();
        assert_eq!(lines(), 1, "added records wait in the buffer");
        j.flush().unwrap();
        assert_eq!(lines(), 3);
        j.write(&log("c")).unwrap();
        j.sync().unwrap();
        assert_eq!(lines(), 4);
        j.write(&log("d")).unwrap();
        drop(j);
        assert_eq!(
            lines(),
            5,
            "a dropped journal leaves every record in the file"
        );
    }
}
