//! The run journal: one JSON object per line, fsynced record by record, so a
//! run can be resumed after a crash and audited afterwards. Also the lock that
//! keeps two change runs off the same estate.
//!
//! A crash can tear only the last line; reading tolerates that and reports it.
//! Any other damage is an error naming the file and line.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What the journal pins about the runbook: identity is name, version and text hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookId {
    pub name: String,
    pub version: String,
    pub sha256: String,
    /// `shipped` or the path of a local file.
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    pub run_id: String,
    pub runbook: RunbookId,
    pub params: serde_json::Map<String, Value>,
    pub target: String,
    pub mode: String,
    pub operator: String,
    pub estate: EstateId,
    pub started_at: String,
    /// Set when the run is a drill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The target's simulated clock when the run started (lab only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_start: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstateId {
    pub source: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Run(Box<RunHeader>),
    Resumed {
        at: String,
        operator: String,
        allow_changed: bool,
    },
    StepStarted {
        index: usize,
        name: String,
        idempotent: bool,
        at: String,
    },
    OpStarted {
        step: usize,
        seq: usize,
        op: Value,
        change: bool,
        text: String,
    },
    OpDone {
        step: usize,
        seq: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<Value>,
        sim_seconds: u64,
    },
    Log {
        step: Option<usize>,
        message: String,
    },
    StepCompleted {
        index: usize,
        name: String,
        result: Value,
        wall_ms: u64,
        sim_seconds: u64,
    },
    StepFailed {
        index: usize,
        name: String,
        error: String,
    },
    DecisionNeeded {
        step: usize,
        key: String,
        question: String,
        choices: Vec<String>,
    },
    Decision {
        step: usize,
        key: String,
        choice: String,
        operator: String,
        at: String,
    },
    Confirmed {
        step: usize,
        message: String,
        operator: String,
        at: String,
    },
    RunFinished {
        status: RunStatus,
        at: String,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    Failed,
    Waiting,
    Aborted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Waiting => "waiting",
            RunStatus::Aborted => "aborted",
        }
    }
}

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

/// A last line cut short by a crash.
#[derive(Debug, Clone, PartialEq)]
pub struct Torn {
    pub line: usize,
    /// Byte offset where the torn line starts.
    pub offset: u64,
}

/// A journal read back.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub header: RunHeader,
    pub records: Vec<Record>,
    pub torn: Option<Torn>,
}

pub fn read(path: &Path) -> Result<Loaded> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<Loaded> {
    let mut records = Vec::new();
    let mut torn = None;
    let mut offset = 0u64;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (i, raw) in lines.iter().enumerate() {
        let line_no = i + 1;
        let is_last = i + 1 == lines.len();
        let body = raw.trim_end_matches('\n');
        let complete = raw.ends_with('\n');
        match serde_json::from_str::<Record>(body) {
            Ok(r) if complete || !is_last => records.push(r),
            // A complete-looking record without its newline was still cut mid-write.
            Ok(_) | Err(_) if is_last && !complete => {
                torn = Some(Torn {
                    line: line_no,
                    offset,
                })
            }
            Ok(_) => unreachable!(),
            Err(e) => {
                return Err(Error::Journal {
                    path: path.to_path_buf(),
                    line: line_no,
                    message: format!(
                        "{e}; the journal is damaged: restore it from a copy or start a new run"
                    ),
                })
            }
        }
        offset += raw.len() as u64;
    }
    let header = match records.first() {
        Some(Record::Run(h)) => h.clone(),
        _ => {
            return Err(Error::Journal {
                path: path.to_path_buf(),
                line: 1,
                message: "the first record is not a run header".into(),
            })
        }
    };
    Ok(Loaded {
        header: *header,
        records,
        torn,
    })
}

/// All runs under `home`, oldest first.
pub fn list(home: &Path) -> Result<Vec<PathBuf>> {
    let dir = Journal::runs_dir(home);
    let mut out = Vec::new();
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            for e in entries {
                let e = e.map_err(|err| Error::io(&dir, err))?;
                let p = e.path();
                if p.extension().is_some_and(|x| x == "jsonl") {
                    out.push(p);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&dir, e)),
    }
    out.sort();
    Ok(out)
}

/// The last status a journal recorded, or `None` if the run never finished
/// (crashed, or still running).
pub fn last_status(records: &[Record]) -> Option<RunStatus> {
    records
        .iter()
        .rev()
        .find_map(|r| match r {
            Record::RunFinished { status, .. } => Some(Some(*status)),
            // Resumed after its last finish: that attempt never finished.
            Record::Resumed { .. } => Some(None),
            _ => None,
        })
        .flatten()
}

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

    fn header() -> RunHeader {
        RunHeader {
            run_id: "r1".into(),
            runbook: RunbookId {
                name: "x".into(),
                version: "1.0.0".into(),
                sha256: "ab".into(),
                origin: "shipped".into(),
            },
            params: Default::default(),
            target: "lab".into(),
            mode: "apply".into(),
            operator: "me".into(),
            estate: EstateId {
                source: "e".into(),
                sha256: "cd".into(),
            },
            started_at: "t".into(),
            scenario: None,
            sim_start: None,
        }
    }

    #[test]
    fn torn_last_line_is_tolerated_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::create(dir.path(), header()).unwrap();
        j.append(&Record::Log {
            step: None,
            message: "hi".into(),
        })
        .unwrap();
        let path = j.path().to_path_buf();
        drop(j);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"type\":\"step_sta");
        std::fs::write(&path, &text).unwrap();
        let loaded = read(&path).unwrap();
        assert_eq!(loaded.records.len(), 2);
        assert_eq!(loaded.torn.as_ref().unwrap().line, 3);
        let mut j = Journal::reopen(&path, loaded.torn.as_ref()).unwrap();
        j.append(&Record::Log {
            step: None,
            message: "after".into(),
        })
        .unwrap();
        let again = read(&path).unwrap();
        assert_eq!(again.records.len(), 3);
        assert!(again.torn.is_none());
    }

    #[test]
    fn damage_before_the_last_line_names_the_line() {
        let text = format!(
            "{}\nnot json\n{{}}\n",
            serde_json::to_string(&Record::Run(Box::new(header()))).unwrap()
        );
        let err = parse(Path::new("j.jsonl"), &text).unwrap_err().to_string();
        assert!(err.starts_with("j.jsonl:2: journal:"), "{err}");
    }

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
