//! Reading journals back: for resume, `drillbook journal` and drill
//! summaries. A crash can tear only the last line; reading tolerates that
//! and reports it. Any other damage is an error naming the file and line.

use super::{Journal, Record, RunHeader, RunStatus};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

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
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_bytes(path, &bytes)
}

pub fn parse(path: &Path, text: &str) -> Result<Loaded> {
    parse_bytes(path, text.as_bytes())
}

/// Lines are split on bytes: a crash can cut the last line anywhere, even
/// inside a multi-byte character (manual steps carry `§` and `—`), and that
/// torn line is dropped whatever its bytes. A complete line must be UTF-8.
pub fn parse_bytes(path: &Path, text: &[u8]) -> Result<Loaded> {
    let mut records = Vec::new();
    let mut torn = None;
    let mut offset = 0u64;
    let lines: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
    for (i, raw) in lines.iter().enumerate() {
        let line_no = i + 1;
        let is_last = i + 1 == lines.len();
        let complete = raw.ends_with(b"\n");
        let body = raw.strip_suffix(b"\n").unwrap_or(raw);
        match serde_json::from_slice::<Record>(body) {
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

#[cfg(test)]
mod tests {
    use super::super::test_support::header;
    use super::*;

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
}

#[cfg(test)]
mod torn_bytes {
    use super::super::test_support::header;
    use super::*;

    #[test]
    fn a_last_line_cut_inside_a_character_is_torn_not_an_error() {
        let mut text = serde_json::to_vec(&Record::Run(Box::new(header()))).unwrap();
        text.push(b'\n');
        let whole = text.len();
        text.extend_from_slice("{\"type\":\"log\",\"message\":\"§".as_bytes());
        text.pop();
        let loaded = parse_bytes(Path::new("j.jsonl"), &text).unwrap();
        assert_eq!(loaded.torn.unwrap().offset, whole as u64);
    }
}
