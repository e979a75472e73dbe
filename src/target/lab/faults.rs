//! Faults a drill injects: sites and instances going down, shares becoming
//! unreachable, log backups going missing or bad. Each is recorded in the
//! state with what it did, so a report can say what the drill was up against.
//!
//! Losing an instance is also where SQL Server mirroring reacts: a principal
//! lost while its mirror and the witness keep quorum fails over on its own.

use super::files::split_path;
use super::state::{desc, DbState, FaultRecord, LabState, MirrorRole, MirrorState, Safety};
use crate::error::{Error, Result};

/// The fault kinds, as `lab fault --help` would list them.
pub const FAULT_KINDS: [&str; 6] = [
    "primary-site-down",
    "site-down:SITE",
    "instance-down:ID",
    "share-unreachable[:UNC]",
    "log-backup-missing[:FILE]",
    "log-backup-damaged[:FILE]",
];

impl LabState {
    /// Inject a fault `KIND` or `KIND:TARGET`; returns one line saying what it did.
    pub fn apply_fault(&mut self, spec: &str) -> Result<String> {
        let (kind, target) = match spec.split_once(':') {
            Some((k, t)) => (k.trim(), Some(t.trim()).filter(|t| !t.is_empty())),
            None => (spec.trim(), None),
        };
        let needs = |what: &str, known: Vec<String>| {
            target.ok_or_else(|| {
                format!(
                    "{kind} needs a target: {kind}:{what} (known: {})",
                    known.join(", ")
                )
            })
        };
        let effect =
            match kind {
                "primary-site-down" => match target {
                    Some(_) => Err(
                        "primary-site-down takes no target; use site-down:SITE for another site"
                            .to_string(),
                    ),
                    None => self.primary_site_down(),
                },
                "site-down" => needs("SITE", self.sites.keys().cloned().collect())
                    .and_then(|s| self.site_down(s)),
                "instance-down" => needs("ID", self.sql.keys().cloned().collect())
                    .and_then(|i| self.instance_down(i)),
                "share-unreachable" => self.share_unreachable(target),
                "log-backup-missing" => self.spoil_backup(target, Spoil::Missing),
                "log-backup-damaged" => self.spoil_backup(target, Spoil::Damaged),
                _ => Err(format!(
                    "unknown fault kind `{kind}`; the kinds are {}",
                    FAULT_KINDS.join(", ")
                )),
            }
            .map_err(|message| Error::Fault {
                fault: spec.to_string(),
                message,
            })?;
        self.faults.push(FaultRecord {
            fault: spec.to_string(),
            at: self.elapsed(),
            effect: effect.clone(),
        });
        Ok(effect)
    }

    fn primary_site_down(&mut self) -> Result<String, String> {
        let Some(pool) = self.lync.persistent_chat.values().next() else {
            return Err(
                "the estate has no Persistent Chat pool, so no primary mgc site".to_string(),
            );
        };
        let primary = pool.mgc.primary.clone();
        let Some(site) = self.sql.get(&primary).map(|i| i.site.clone()) else {
            return Err(format!(
                "the primary mgc instance `{primary}` is not in the lab"
            ));
        };
        self.site_down(&site)
    }

    fn site_down(&mut self, site: &str) -> Result<String, String> {
        let Some(s) = self.sites.get_mut(site) else {
            let known: Vec<&str> = self.sites.keys().map(String::as_str).collect();
            return Err(format!("no site `{site}` (known: {})", known.join(", ")));
        };
        s.up = false;
        let mut servers = Vec::new();
        for (fqdn, server) in self.servers.iter_mut().filter(|(_, s)| s.site == site) {
            server.up = false;
            servers.push(fqdn.clone());
        }
        let mut instances = Vec::new();
        for (id, inst) in self
            .sql
            .iter_mut()
            .filter(|(_, i)| i.site == site || servers.contains(&i.server))
        {
            inst.up = false;
            instances.push(id.clone());
        }
        let effect = format!(
            "site {site} down: servers {}; SQL instances {}",
            list_or_none(&servers),
            list_or_none(&instances)
        );
        Ok(self.after_losing_instances(effect))
    }

    fn instance_down(&mut self, id: &str) -> Result<String, String> {
        let Some(inst) = self.sql.get_mut(id) else {
            let known: Vec<&str> = self.sql.keys().map(String::as_str).collect();
            return Err(format!(
                "no SQL instance `{id}` (known: {})",
                known.join(", ")
            ));
        };
        inst.up = false;
        let effect = format!("SQL instance {id} ({}) down", inst.name());
        Ok(self.after_losing_instances(effect))
    }

    /// `effect`, followed by what mirroring did about the instances now down.
    fn after_losing_instances(&mut self, mut effect: String) -> String {
        for event in self.lose_instances() {
            effect.push_str("; ");
            effect.push_str(&event);
        }
        effect
    }

    /// Mirroring's reaction once instances are gone, all of them at once (so
    /// a site losing principal and mirror together does not fail over
    /// between them). Returns what happened, one line per session.
    fn lose_instances(&mut self) -> Vec<String> {
        let mut events = Vec::new();
        let lost: Vec<(String, String)> = self
            .sql
            .iter()
            .filter(|(id, _)| !self.instance_up(id))
            .flat_map(|(id, inst)| {
                inst.databases
                    .iter()
                    .filter(|(_, d)| {
                        d.mirroring
                            .as_ref()
                            .is_some_and(|m| m.state != MirrorState::Disconnected)
                    })
                    .map(move |(db, _)| (id.clone(), db.clone()))
            })
            .collect();
        for (id, db) in lost {
            // An earlier session's handling may have changed this record.
            let Some(m) = self.database(&id, &db).and_then(|d| d.mirroring.clone()) else {
                continue;
            };
            if m.state == MirrorState::Disconnected {
                continue;
            }
            let partner_joined = self
                .database(&m.partner, &db)
                .and_then(|d| d.mirroring.as_ref())
                .is_some_and(|pm| pm.partner == id);
            let partner_up = self.instance_up(&m.partner);
            let witness_up = m.witness.as_deref().is_some_and(|w| self.instance_up(w));
            let quorum = partner_joined && partner_up && witness_up;
            let automatic = m.role == MirrorRole::Principal
                && quorum
                && m.state == MirrorState::Synchronized
                && m.safety == Safety::Full;
            self.disconnect(&id, &db, automatic);
            if partner_joined {
                self.disconnect(&m.partner, &db, false);
            }
            events.push(match (m.role, automatic) {
                (MirrorRole::Principal, true) => {
                    if let Some(d) = self.database_mut(&m.partner, &db) {
                        d.state = DbState::Online;
                        if let Some(pm) = d.mirroring.as_mut() {
                            pm.role = MirrorRole::Principal;
                        }
                    }
                    format!(
                        "{db}: automatic failover from {id} to {} (witness {} kept quorum)",
                        m.partner,
                        m.witness.as_deref().unwrap_or_default()
                    )
                }
                (MirrorRole::Principal, false) => {
                    let why = if m.witness.is_none() {
                        "no witness is configured".to_string()
                    } else if !partner_joined {
                        format!("{} holds no matching mirror session", m.partner)
                    } else if !partner_up {
                        format!("mirror {} is down too", m.partner)
                    } else if !witness_up {
                        format!(
                            "witness {} is down too",
                            m.witness.as_deref().unwrap_or_default()
                        )
                    } else {
                        format!("the session was {}", desc(&m.state))
                    };
                    format!("{db}: principal {id} lost, no automatic failover: {why}")
                }
                (MirrorRole::Mirror, _) if partner_up => {
                    format!(
                        "{db}: mirror {id} lost; principal {} runs unprotected",
                        m.partner
                    )
                }
                (MirrorRole::Mirror, _) => {
                    format!(
                        "{db}: mirror {id} and principal {} both lost, no automatic failover",
                        m.partner
                    )
                }
            });
        }
        events
    }

    /// Mark one side of a session disconnected; `demote` turns a lost
    /// principal into the mirror it will be when it returns.
    fn disconnect(&mut self, id: &str, db: &str, demote: bool) {
        let Some(d) = self.database_mut(id, db) else {
            return;
        };
        if let Some(m) = d.mirroring.as_mut() {
            m.state = MirrorState::Disconnected;
            if demote {
                m.role = MirrorRole::Mirror;
            }
        }
        if demote {
            d.state = DbState::Restoring;
        }
    }

    fn share_unreachable(&mut self, target: Option<&str>) -> Result<String, String> {
        let folders: Vec<String> = match target {
            Some(path) => match self.folder_key(path) {
                Some(key) => vec![key],
                None => {
                    let known: Vec<&str> = self.folders.keys().map(String::as_str).collect();
                    return Err(format!("no folder `{path}` (known: {})", known.join(", ")));
                }
            },
            None => {
                let mut shares: Vec<String> = self
                    .sql
                    .values()
                    .flat_map(|i| {
                        let primaries = i
                            .msdb
                            .log_shipping_primary
                            .values()
                            .map(|p| p.backup_directory.clone());
                        let secondaries = i
                            .msdb
                            .log_shipping_secondary
                            .values()
                            .map(|s| s.backup_source_directory.clone());
                        primaries.chain(secondaries)
                    })
                    .filter_map(|p| self.folder_key(&p))
                    .collect();
                shares.sort();
                shares.dedup();
                if shares.is_empty() {
                    return Err("no log-shipping share is configured".to_string());
                }
                shares
            }
        };
        for key in &folders {
            if let Some(f) = self.folders.get_mut(key) {
                f.reachable = false;
            }
        }
        Ok(format!("unreachable: {}", folders.join(", ")))
    }

    /// Remove or damage one log backup in every folder that holds it.
    fn spoil_backup(&mut self, target: Option<&str>, how: Spoil) -> Result<String, String> {
        let name = match target {
            Some(t) => split_path(t).1.to_string(),
            None => self
                .oldest_unrestored()
                .ok_or("no log backup is waiting to be restored on a secondary")?,
        };
        let mut hit = Vec::new();
        for (path, folder) in self.folders.iter_mut() {
            let Some(key) = folder
                .files
                .keys()
                .find(|n| n.eq_ignore_ascii_case(&name))
                .cloned()
            else {
                continue;
            };
            match how {
                Spoil::Missing => {
                    folder.files.remove(&key);
                }
                Spoil::Damaged => {
                    if let Some(f) = folder.files.get_mut(&key) {
                        f.damaged = true;
                    }
                }
            }
            hit.push(path.clone());
        }
        if hit.is_empty() {
            return Err(format!("no folder holds a file named `{name}`"));
        }
        let verb = match how {
            Spoil::Missing => "removed",
            Spoil::Damaged => "damaged",
        };
        Ok(format!("{name} {verb} in {}", hit.join(", ")))
    }

    /// The first log backup, by name, that some secondary has yet to restore.
    fn oldest_unrestored(&self) -> Option<String> {
        let mut oldest: Option<String> = None;
        for inst in self.sql.values() {
            for s in inst.msdb.log_shipping_secondary.values() {
                let restored = s.last_restored_file.as_deref().map(|f| split_path(f).1);
                for dir in [&s.backup_source_directory, &s.backup_destination_directory] {
                    let files = self.folder(dir).map(|f| &f.files).into_iter().flatten();
                    let first = files
                        .filter(|(n, f)| {
                            f.database == s.primary_database
                                && restored.is_none_or(|r| n.as_str() > r)
                        })
                        .map(|(n, _)| n)
                        .next();
                    if let Some(n) = first {
                        if oldest.as_ref().is_none_or(|o| n < o) {
                            oldest = Some(n.clone());
                        }
                    }
                }
            }
        }
        oldest
    }
}

#[derive(Debug, Clone, Copy)]
enum Spoil {
    Missing,
    Damaged,
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    fn mirroring(lab: &LabState, id: &str) -> (DbState, MirrorRole, MirrorState) {
        let db = &lab.sql[id].databases["mgc"];
        let m = db.mirroring.as_ref().expect("mirrored");
        (db.state, m.role, m.state)
    }

    #[test]
    fn primary_site_down_takes_principal_mirror_and_witness_without_failover() {
        let mut lab = litware_at(10);
        let effect = lab.apply_fault("primary-site-down").unwrap();
        for id in ["pcsql-red1", "pcsql-red2", "pcsql-redw"] {
            assert!(!lab.sql[id].up, "{id}");
        }
        assert!(
            lab.sql["pcsql-dub1"].up
                && !lab.sites["redmond"].up
                && !lab.servers["pchat-red1.litwareinc.com"].up
        );
        assert!(
            effect.contains("no automatic failover: mirror pcsql-red2 is down too"),
            "{effect}"
        );
        assert_eq!(
            mirroring(&lab, "pcsql-red1"),
            (
                DbState::Online,
                MirrorRole::Principal,
                MirrorState::Disconnected
            )
        );
        assert_eq!(
            mirroring(&lab, "pcsql-red2"),
            (
                DbState::Restoring,
                MirrorRole::Mirror,
                MirrorState::Disconnected
            )
        );
        assert_eq!(
            lab.faults,
            vec![FaultRecord {
                fault: "primary-site-down".into(),
                at: 600,
                effect
            }]
        );

        // Nobody can write: the users' commits stop where the site went.
        lab.advance(600);
        assert_eq!(lab.workload[POOL].committed, 10 * 120);
    }

    #[test]
    fn losing_the_principal_alone_fails_over_to_the_mirror() {
        let mut lab = litware_at(7);
        let effect = lab.apply_fault("instance-down:pcsql-red1").unwrap();
        assert!(
            effect.contains("automatic failover from pcsql-red1 to pcsql-red2"),
            "{effect}"
        );
        assert_eq!(
            mirroring(&lab, "pcsql-red2"),
            (
                DbState::Online,
                MirrorRole::Principal,
                MirrorState::Disconnected
            )
        );
        assert_eq!(
            mirroring(&lab, "pcsql-red1"),
            (
                DbState::Restoring,
                MirrorRole::Mirror,
                MirrorState::Disconnected
            )
        );

        // Users carry on against the new principal, and so does log shipping:
        // its backups continue the chain the old principal started.
        lab.advance(30 * 60);
        assert_eq!(lab.workload[POOL].committed, 37 * 120);
        assert_eq!(
            lab.sql["pcsql-red2"].databases["mgc"].transactions,
            37 * 120
        );
        let backup = &lab.sql["pcsql-dub1"].databases["mgc"];
        assert_eq!(backup.transactions, 30 * 120);
        let restored = lab.sql["pcsql-dub1"].msdb.restore_history.len();
        assert_eq!(restored, 6);
    }

    #[test]
    fn losing_the_principal_without_witness_quorum_changes_nothing() {
        let mut lab = litware_at(1);
        lab.apply_fault("instance-down:pcsql-redw").unwrap();
        let effect = lab.apply_fault("instance-down:pcsql-red1").unwrap();
        assert!(
            effect.contains("witness pcsql-redw is down too"),
            "{effect}"
        );
        assert_eq!(mirroring(&lab, "pcsql-red2").1, MirrorRole::Mirror);
    }

    #[test]
    fn a_principal_that_loses_mirror_and_witness_stops_serving() {
        let mut lab = litware_at(1);
        lab.apply_fault("instance-down:pcsql-red2").unwrap();
        lab.advance(60);
        assert_eq!(lab.workload[POOL].committed, 240);
        lab.apply_fault("instance-down:pcsql-redw").unwrap();
        lab.advance(60);
        assert_eq!(lab.workload[POOL].committed, 240);
    }

    #[test]
    fn log_backup_missing_takes_the_oldest_unrestored_file() {
        let mut lab = litware_at(44);
        let effect = lab.apply_fault("log-backup-missing").unwrap();
        assert_eq!(effect, format!("{} removed in {SHARE}", trn(35)));
        assert!(!lab.folders[SHARE].files.contains_key(&trn(35)));
        let named = lab
            .apply_fault(&format!("log-backup-missing:{}", trn(30)))
            .unwrap();
        assert_eq!(named, format!("{} removed in {SHARE}, {COPY}", trn(30)));
        let gone = lab
            .apply_fault(&format!("log-backup-missing:{}", trn(30)))
            .unwrap_err();
        assert!(gone.to_string().contains("no folder holds"), "{gone}");
    }

    #[test]
    fn bad_fault_specs_list_what_is_known() {
        let mut lab = litware();
        let cases = [
            ("meteor", "the kinds are primary-site-down, site-down:SITE"),
            ("site-down:mars", "known: dublin, redmond"),
            (
                "site-down",
                "site-down needs a target: site-down:SITE (known: dublin, redmond)",
            ),
            (
                "instance-down:pcsql-x",
                "pcsql-dub1, pcsql-dub2, pcsql-red1, pcsql-red2, pcsql-redw",
            ),
            ("share-unreachable:\\\\x\\y", "no folder"),
            ("primary-site-down:dublin", "takes no target"),
        ];
        for (spec, expected) in cases {
            match lab.apply_fault(spec) {
                Err(Error::Fault { fault, message }) => {
                    assert_eq!(fault, spec);
                    assert!(message.contains(expected), "{spec}: {message}");
                }
                other => panic!("{spec}: unexpected {other:?}"),
            }
        }
        assert!(lab.faults.is_empty());
        let mut empty = litware();
        empty.lync.persistent_chat.clear();
        assert!(empty.apply_fault("primary-site-down").is_err());
    }
}
