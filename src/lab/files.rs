//! Folders and the log backup files in them: the log-shipping share and the
//! copy folder, and the `ListFiles` / `CopyFiles` ops.
//!
//! Windows paths are case-insensitive and a trailing backslash does not make
//! another folder, so every lookup here normalizes both; the state keeps the
//! spelling the estate used. A folder is usable while it is reachable and
//! its server is up, which `Folders` asks of the `Network` it is given.

use crate::lab::file_index::Files;
use crate::lab::keyed::keyed_part;
use crate::lab::network::Network;
use crate::lab::LabState;
use crate::op::{join_path, Op};
use crate::targets::OpError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Folder {
    /// The UNC host: when it is down, so is the folder.
    pub server: String,
    pub reachable: bool,
    pub files: Files,
}

impl Folder {
    pub fn empty(server: String) -> Folder {
        Folder {
            server,
            reachable: true,
            files: Files::default(),
        }
    }
}

/// A log backup, with what `RESTORE HEADERONLY` would read from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupFile {
    pub database: String,
    /// 2 = transaction log, as in `RESTORE HEADERONLY`.
    pub backup_type: i64,
    #[serde(with = "crate::lab::sql::lsn")]
    pub first_lsn: crate::lab::sql::Lsn,
    /// The next LSN after the backup.
    #[serde(with = "crate::lab::sql::lsn")]
    pub last_lsn: crate::lab::sql::Lsn,
    pub transactions: u64,
    pub last_transaction_at: u64,
    pub size: u64,
    pub damaged: bool,
    /// Elapsed seconds when the backup finished.
    pub finished_at: u64,
}

/// Why a file could not be opened, with the Windows error SQL Server quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileError {
    NetworkPath,
    NotFound,
}

impl FileError {
    pub fn os_code(self) -> u32 {
        match self {
            FileError::NetworkPath => 53,
            FileError::NotFound => 2,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            FileError::NetworkPath => "The network path was not found.",
            FileError::NotFound => "The system cannot find the file specified.",
        }
    }
}

/// `folder\name` split at the last backslash.
pub fn split_path(path: &str) -> (&str, &str) {
    path.rsplit_once('\\').unwrap_or(("", path))
}

fn same_path(a: &str, b: &str) -> bool {
    a.trim_end_matches('\\')
        .eq_ignore_ascii_case(b.trim_end_matches('\\'))
}

// The pattern rule of `Op::ListFiles`, which every target shares.
pub use crate::op::wildcard_match;

keyed_part!(
    /// Folders by UNC path, spelled as the estate spells them.
    Folders,
    Folder
);

impl Folders {
    /// The state's key for a folder path, if the lab knows the folder.
    pub(in crate::lab) fn key(&self, path: &str) -> Option<String> {
        if self.contains_key(path) {
            return Some(path.to_string());
        }
        self.keys().find(|k| same_path(k, path)).cloned()
    }

    pub(in crate::lab) fn folder(&self, path: &str) -> Option<&Folder> {
        self.get(&self.key(path)?)
    }

    /// A folder can be read and written: it exists, is reachable and its server is up.
    pub(in crate::lab) fn reachable(&self, path: &str, net: &Network) -> bool {
        self.folder(path)
            .is_some_and(|f| f.reachable && net.server_up(&f.server))
    }

    /// A folder a client in `site` can use: reachable, and in a site `site`
    /// can reach (a cut link stops log-shipping traffic).
    pub(in crate::lab) fn reachable_from(
        &self,
        site: Option<&str>,
        path: &str,
        net: &Network,
    ) -> bool {
        let folder_site = self.folder(path).and_then(|f| net.site_of(&f.server));
        self.reachable(path, net)
            && match (site, folder_site) {
                (Some(a), Some(b)) => net.sites_linked(a, b),
                _ => true,
            }
    }

    /// The file `name` in `folder`, with its name as stored.
    pub(in crate::lab) fn open_file(
        &self,
        folder: &str,
        name: &str,
        net: &Network,
    ) -> Result<(String, &BackupFile), FileError> {
        if !self.reachable(folder, net) {
            return Err(FileError::NetworkPath);
        }
        let files = &self.folder(folder).ok_or(FileError::NetworkPath)?.files;
        files
            .find(name)
            .map(|(n, f)| (n.clone(), f))
            .ok_or(FileError::NotFound)
    }

    /// `open_file` for a full path `folder\name`.
    pub(in crate::lab) fn open_path(
        &self,
        path: &str,
        net: &Network,
    ) -> Result<(String, &BackupFile), FileError> {
        let (folder, name) = split_path(path);
        self.open_file(folder, name, net)
    }

    /// Size of a file if it can be read; 0 otherwise (an op that fails fast).
    pub(in crate::lab) fn file_size(&self, folder: &str, name: &str, net: &Network) -> u64 {
        self.open_file(folder, name, net).map_or(0, |(_, f)| f.size)
    }

    pub(in crate::lab) fn file_size_at(&self, path: &str, net: &Network) -> u64 {
        self.open_path(path, net).map_or(0, |(_, f)| f.size)
    }

    /// Store a file in a known folder, replacing one of the same name.
    pub(in crate::lab) fn put_file(&mut self, folder: &str, name: &str, file: BackupFile) {
        let Some(key) = self.key(folder) else {
            return;
        };
        if let Some(f) = self.get_mut(&key) {
            f.files.insert(name, file);
        }
    }

    /// A log-shipping job's cleanup of `folder` (`Files::expire`).
    pub(in crate::lab) fn expire(
        &mut self,
        folder: &str,
        database: &str,
        before: u64,
        up_to: Option<&str>,
    ) {
        if let Some(f) = self.key(folder).and_then(|k| self.get_mut(&k)) {
            f.files.expire(database, before, up_to);
        }
    }

    /// Copy `names`, all or nothing: every source is found before any is
    /// copied; the first one missing is named with its error. Each copied
    /// file's stored name and size. The caller has checked both folders
    /// are reachable.
    pub(in crate::lab) fn copy_files(
        &mut self,
        from: &str,
        to: &str,
        names: &[String],
        net: &Network,
    ) -> Result<Vec<(String, u64)>, (String, FileError)> {
        let found = names
            .iter()
            .map(|name| {
                self.open_file(from, name, net)
                    .map(|(stored, file)| (stored, file.clone()))
                    .map_err(|e| (name.clone(), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(found
            .into_iter()
            .map(|(stored, file)| {
                let size = file.size;
                self.put_file(to, &stored, file);
                (stored, size)
            })
            .collect())
    }
}

impl LabState {
    /// A folder an instance can use: reachable, and in a site the
    /// instance's site can reach.
    pub(in crate::lab) fn folder_reachable_from(&self, instance: &str, path: &str) -> bool {
        let site = self.sql.get(instance).map(|i| i.site.as_str());
        self.folders.reachable_from(site, path, &self.network())
    }

    pub(in crate::lab) fn file_op(&mut self, op: &Op) -> Result<Value, OpError> {
        let unreachable = |path: &str| OpError::File {
            path: path.to_string(),
            message: FileError::NetworkPath.text().to_string(),
        };
        match op {
            Op::ListFiles { folder, pattern } => {
                if !self.folders.reachable(folder, &self.network()) {
                    return Err(unreachable(folder));
                }
                let files = self.folders.folder(folder).map(|f| &f.files);
                let rows = files
                    .into_iter()
                    .flatten()
                    .filter(|(name, _)| wildcard_match(pattern, name))
                    .map(|(name, f)| json!({"name": name, "size": f.size}))
                    .collect();
                Ok(Value::Array(rows))
            }
            Op::CopyFiles {
                from_folder,
                to_folder,
                files,
            } => {
                for folder in [from_folder, to_folder] {
                    if !self.folders.reachable(folder, &self.network()) {
                        return Err(unreachable(folder));
                    }
                }
                let net = Network::new(&self.servers, &self.links);
                match self.folders.copy_files(from_folder, to_folder, files, &net) {
                    Ok(copied) => Ok(copied
                        .into_iter()
                        .map(|(name, size)| json!({"name": name, "size": size}))
                        .collect()),
                    Err((file, e)) => Err(OpError::File {
                        path: join_path(from_folder, &file),
                        message: e.text().to_string(),
                    }),
                }
            }
            _ => Err(OpError::NotSimulated {
                message: "not a file op".to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::*;

    #[test]
    fn wildcard_matches_stars_and_question_marks_ignoring_case() {
        assert!(wildcard_match("mgc_*.trn", "MGC_20260314010500.TRN"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("m?c_*", "mgc_x"));
        assert!(wildcard_match("*a*b*", "xxaxxbxx"));
        assert!(!wildcard_match("mgc_*.trn", "mgccomp_1.bak"));
        assert!(!wildcard_match("?", ""));
        assert!(!wildcard_match("a*b", "acbd"));
    }

    #[test]
    fn list_files_filters_sorts_and_ignores_trailing_backslash() {
        let mut lab = litware_at(12);
        let op = Op::ListFiles {
            folder: format!("{}\\", SHARE.to_uppercase()),
            pattern: "MGC_*.trn".into(),
        };
        let rows = lab.perform(&op).result.unwrap();
        assert_eq!(
            rows,
            json!([
                {"name": "mgc_20260314010500.trn", "size": 1024 * 1024 + 4096 * 600},
                {"name": "mgc_20260314011000.trn", "size": 1024 * 1024 + 4096 * 600},
            ])
        );
    }

    #[test]
    fn list_files_on_an_unreachable_share_is_a_network_path_error() {
        let mut lab = litware_at(1);
        lab.apply_fault("site-down:dublin").unwrap();
        let op = Op::ListFiles {
            folder: SHARE.into(),
            pattern: "*".into(),
        };
        let err = lab.perform(&op).result.unwrap_err();
        assert_eq!(
            err,
            OpError::File {
                path: SHARE.into(),
                message: "The network path was not found.".into()
            }
        );
        let unknown = Op::ListFiles {
            folder: "\\\\nowhere\\x".into(),
            pattern: "*".into(),
        };
        assert!(matches!(
            lab.perform(&unknown).result,
            Err(OpError::File { .. })
        ));
    }

    fn copy(files: &[&str]) -> Op {
        Op::CopyFiles {
            from_folder: SHARE.into(),
            to_folder: COPY.into(),
            files: files.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn copy_files_copies_every_entry_in_its_modeled_time() {
        let mut lab = litware_at(12);
        let (a, b) = (trn(5), trn(10));
        let done = lab.perform(&copy(&[&a, &b.to_uppercase()]));
        let size = 1024 * 1024 + 4096 * 600;
        assert_eq!(
            done.result.unwrap(),
            json!([{"name": a, "size": size}, {"name": b, "size": size}])
        );
        // 2 s a file, as when each was copied alone.
        assert_eq!(done.sim_seconds, 4);
        for name in [&a, &b] {
            assert_eq!(
                lab.folders[COPY].files[name],
                lab.folders[SHARE].files[name]
            );
        }
    }

    #[test]
    fn a_batch_with_a_missing_source_copies_nothing_and_names_it() {
        let mut lab = litware_at(12);
        let before = lab.folders[COPY].clone();
        assert!(before.files.find(&trn(5)).is_none());
        let err = lab
            .perform(&copy(&[&trn(5), "nope.trn", &trn(10)]))
            .result
            .unwrap_err();
        assert_eq!(
            err,
            OpError::File {
                path: format!("{SHARE}\\nope.trn"),
                message: "The system cannot find the file specified.".into()
            }
        );
        assert_eq!(lab.folders[COPY], before);
    }
}
