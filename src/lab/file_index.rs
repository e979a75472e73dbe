//! The files of one folder, by name, with Windows' case-insensitive lookup
//! in O(log n): a month-long outage leaves ten thousand log backups in a
//! share, and every copy and restore looks one of them up.
//!
//! It serializes as the bare map of stored names (the lab file keeps its
//! shape); the index from folded name to stored name is rebuilt on load and
//! kept in step by the only two ways to add or remove a file, `insert` and
//! `remove`.

use crate::lab::BackupFile;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::ops::Bound;

#[derive(Debug, Clone, Default)]
pub struct Files {
    by_name: BTreeMap<String, BackupFile>,
    /// ASCII-lowercased name → the name as stored.
    folded: BTreeMap<String, String>,
}

fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl Files {
    /// The stored name and file for `name`, ignoring ASCII case.
    pub fn find(&self, name: &str) -> Option<(&String, &BackupFile)> {
        if let Some(hit) = self.by_name.get_key_value(name) {
            return Some(hit);
        }
        self.by_name.get_key_value(self.folded.get(&fold(name))?)
    }

    /// Store `file` as `name`, replacing a file whose name differs only in case.
    pub fn insert(&mut self, name: &str, file: BackupFile) {
        if let Some(old) = self.folded.insert(fold(name), name.to_string()) {
            if old != name {
                self.by_name.remove(&old);
            }
        }
        self.by_name.insert(name.to_string(), file);
    }

    /// Remove the file stored as `name` (its exact stored name).
    pub fn remove(&mut self, name: &str) -> Option<BackupFile> {
        let file = self.by_name.remove(name)?;
        let key = fold(name);
        if self.folded.get(&key).is_some_and(|n| n == name) {
            self.folded.remove(&key);
        }
        Some(file)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut BackupFile> {
        self.by_name.get_mut(name)
    }

    /// Delete the log backups of `database` finished before `before` (and,
    /// with `up_to`, only those that sort at or before that name): a
    /// log-shipping job's cleanup. A database's backups are named
    /// `<database>_<yyyymmddhhmmss>.trn`, so they sort by time and the
    /// scan stops at the first one to keep: the cost is what it deletes.
    pub fn expire(&mut self, database: &str, before: u64, up_to: Option<&str>) -> usize {
        let prefix = format!("{database}_");
        let old: Vec<String> = self
            .by_name
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(|(n, f)| {
                n.starts_with(&prefix)
                    && f.finished_at < before
                    && up_to.is_none_or(|last| n.as_str() <= last)
            })
            .filter(|(_, f)| f.database == database && f.backup_type == 2)
            .map(|(n, _)| n.clone())
            .collect();
        for name in &old {
            self.remove(name);
        }
        old.len()
    }

    /// The files whose stored name sorts after `name` (all of them for none):
    /// where a copy or restore job takes up again.
    pub fn after<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> impl DoubleEndedIterator<Item = (&'a String, &'a BackupFile)> + 'a {
        let start = name.map_or(Bound::Unbounded, Bound::Excluded);
        self.by_name.range::<str, _>((start, Bound::Unbounded))
    }
}

impl std::ops::Deref for Files {
    type Target = BTreeMap<String, BackupFile>;
    fn deref(&self) -> &Self::Target {
        &self.by_name
    }
}

impl<'a> IntoIterator for &'a Files {
    type Item = (&'a String, &'a BackupFile);
    type IntoIter = std::collections::btree_map::Iter<'a, String, BackupFile>;
    fn into_iter(self) -> Self::IntoIter {
        self.by_name.iter()
    }
}

impl FromIterator<(String, BackupFile)> for Files {
    fn from_iter<I: IntoIterator<Item = (String, BackupFile)>>(items: I) -> Self {
        let mut files = Files::default();
        for (name, file) in items {
            files.insert(&name, file);
        }
        files
    }
}

impl PartialEq for Files {
    fn eq(&self, other: &Self) -> bool {
        self.by_name == other.by_name
    }
}

impl Serialize for Files {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.by_name.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Files {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let by_name = BTreeMap::<String, BackupFile>::deserialize(d)?;
        let folded = by_name.keys().map(|n| (fold(n), n.clone())).collect();
        Ok(Files { by_name, folded })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64) -> BackupFile {
        BackupFile {
            database: "mgc".into(),
            backup_type: 2,
            first_lsn: 0,
            last_lsn: 0,
            transactions: 0,
            last_transaction_at: 0,
            size,
            damaged: false,
            finished_at: 0,
        }
    }

    #[test]
    fn finds_any_case_and_replaces_a_case_variant() {
        let mut files = Files::default();
        files.insert("MGC_1.trn", file(1));
        assert_eq!(
            files.find("mgc_1.TRN").map(|(n, _)| n.as_str()),
            Some("MGC_1.trn")
        );
        files.insert("mgc_1.trn", file(2));
        assert_eq!(files.keys().collect::<Vec<_>>(), ["mgc_1.trn"]);
        assert_eq!(files.find("MGC_1.TRN").map(|(_, f)| f.size), Some(2));
        assert!(files.remove("mgc_1.trn").is_some());
        assert!(files.find("mgc_1.trn").is_none() && files.is_empty());
    }

    #[test]
    fn after_starts_past_the_given_name_and_reloads_with_its_index() {
        let files: Files = ["a", "b", "c"]
            .iter()
            .map(|n| (n.to_string(), file(1)))
            .collect();
        let names = |it: Vec<(&String, &BackupFile)>| {
            it.into_iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()
        };
        assert_eq!(names(files.after(Some("a")).collect()), ["b", "c"]);
        assert_eq!(names(files.after(None).collect()), ["a", "b", "c"]);
        let json = serde_json::to_string(&files).unwrap();
        let back: Files = serde_json::from_str(&json).unwrap();
        assert_eq!(back.find("C").map(|(n, _)| n.as_str()), Some("c"));
    }
}
