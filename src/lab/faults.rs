//! Faults a drill injects and the repairs that undo them: sites, pools,
//! instances, witnesses, Edge pools and the links between sites going down
//! and coming back; shares becoming unreachable; log backups going missing
//! or bad. Each is recorded in the state with what it did, so a report can
//! say what the drill was up against.
//!
//! Every change of connectivity is where SQL Server mirroring reacts
//! (`Sql::reassess_mirroring`, in `sql/mirroring.rs`): a principal lost while its mirror and
//! the witness keep quorum fails over on its own; a partner that returns
//! rejoins as the mirror and resynchronizes.

use crate::error::{Error, Result};
use crate::lab::files::split_path;
use crate::lab::network::Network;
use crate::lab::CHAT_DATABASES;
use crate::lab::{link_key, LabState, MirrorRole};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRecord {
    pub fault: String,
    pub at: u64,
    pub effect: String,
}

/// The fault and repair kinds, as `lab fault --help` would list them.
pub const FAULT_KINDS: [&str; 24] = [
    "primary-site-down",
    "site-down:SITE",
    "instance-down:ID",
    "witness-down:ID",
    "pool-down:FQDN",
    "edge-down:FQDN",
    "link-down:SITE-SITE",
    "mirroring-off:POOL",
    "conference-content-lost:POOL",
    "log-shipping-off:CHAT_POOL",
    "share-unreachable[:UNC]",
    "log-backup-missing[:FILE]",
    "log-backup-damaged[:FILE]",
    "lsn-beyond-64-bits",
    "stale-job-activity:ID",
    "site-up:SITE",
    "instance-up:ID",
    "witness-up:ID",
    "pool-up:FQDN",
    "edge-up:FQDN",
    "link-up:SITE-SITE",
    "share-reachable[:UNC]",
    "cms-away-from:SITE",
    "advance:MINUTES",
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
        // A target naming an object of the estate: exact, or a short name
        // (`pool-red`) only one starts with. An unknown one goes on to the
        // fault's own message, which gains the nearest name (`hint`).
        let hint = std::cell::RefCell::new(String::new());
        let named = |what: &str, known: Vec<String>| -> std::result::Result<String, String> {
            let given = needs(what, known.clone())?;
            let keys: Vec<&str> = known.iter().map(String::as_str).collect();
            match crate::suggest::lookup(given, &keys) {
                crate::suggest::Lookup::Found(k) => Ok(k.to_string()),
                crate::suggest::Lookup::Unknown(_) => {
                    *hint.borrow_mut() = crate::suggest::did_you_mean(given, keys);
                    Ok(given.to_string())
                }
                ambiguous => Err(crate::suggest::explain(
                    &format!("target of {kind}"),
                    given,
                    &ambiguous,
                    &keys,
                )),
            }
        };
        let effect = match kind {
            "primary-site-down" => match target {
                Some(_) => Err(
                    "primary-site-down takes no target; use site-down:SITE for another site"
                        .to_string(),
                ),
                None => self.primary_site_down(),
            },
            "site-down" => {
                named("SITE", self.sites.keys().cloned().collect()).and_then(|s| self.site_down(&s))
            }
            "instance-down" => {
                named("ID", self.sql.keys().cloned().collect()).and_then(|i| self.instance_down(&i))
            }
            "witness-down" => named("ID", self.witnesses()).and_then(|i| self.witness_down(&i)),
            "pool-down" => named("FQDN", self.lync.pools.keys().cloned().collect())
                .and_then(|p| self.pool_updown(&p, false)),
            "edge-down" => named("FQDN", self.lync.edge_pools.keys().cloned().collect())
                .and_then(|p| self.edge_updown(&p, false)),
            "link-down" => needs("SITE-SITE", self.links.keys().cloned().collect())
                .and_then(|l| self.link_updown(l, false)),
            "mirroring-off" => named("POOL", self.lync.pools.keys().cloned().collect())
                .and_then(|p| self.mirroring_off(&p)),
            "conference-content-lost" => named("POOL", self.lync.pools.keys().cloned().collect())
                .and_then(|p| self.conference_content_lost(&p)),
            "log-shipping-off" => named(
                "CHAT_POOL",
                self.lync.persistent_chat.keys().cloned().collect(),
            )
            .and_then(|p| self.log_shipping_off(&p)),
            "site-up" => {
                named("SITE", self.sites.keys().cloned().collect()).and_then(|s| self.site_up(&s))
            }
            "instance-up" | "witness-up" => named("ID", self.sql.keys().cloned().collect())
                .and_then(|i| self.instance_up_again(&i)),
            "pool-up" => named("FQDN", self.lync.pools.keys().cloned().collect())
                .and_then(|p| self.pool_updown(&p, true)),
            "edge-up" => named("FQDN", self.lync.edge_pools.keys().cloned().collect())
                .and_then(|p| self.edge_updown(&p, true)),
            "link-up" => needs("SITE-SITE", self.links.keys().cloned().collect())
                .and_then(|l| self.link_updown(l, true)),
            "share-reachable" => self.share_reachable(target),
            "cms-away-from" => needs("SITE", self.sites.keys().cloned().collect())
                .and_then(|s| self.cms_away_from(s)),
            "advance" => needs("MINUTES", vec!["a number of minutes".to_string()])
                .and_then(|m| self.advance_minutes(m)),
            "share-unreachable" => self.share_unreachable(target),
            "log-backup-missing" => self.spoil_backup(target, Spoil::Missing),
            "log-backup-damaged" => self.spoil_backup(target, Spoil::Damaged),
            "lsn-beyond-64-bits" => self.lsn_beyond_64_bits(),
            "stale-job-activity" => named("ID", self.sql.keys().cloned().collect())
                .and_then(|i| self.stale_job_activity(&i)),
            _ => Err(format!(
                "unknown fault kind `{kind}`{}; the kinds are {}",
                crate::suggest::did_you_mean(
                    kind,
                    FAULT_KINDS
                        .iter()
                        .filter_map(|k| k.split([':', '[']).next())
                ),
                FAULT_KINDS.join(", ")
            )),
        }
        .map_err(|message| Error::Fault {
            fault: spec.to_string(),
            message: format!("{message}{}", hint.borrow()),
        })?;
        self.refresh();
        self.faults.push(FaultRecord {
            fault: spec.to_string(),
            at: self.elapsed(),
            effect: effect.clone(),
        });
        Ok(effect)
    }

    /// The pool's file store loses its conference content (§3.7).
    fn conference_content_lost(&mut self, pool: &str) -> Result<String, String> {
        let known: Vec<String> = self.lync.pools.keys().cloned().collect();
        let p = self.lync.pools.get_mut(pool).ok_or_else(|| {
            format!(
                "no Front End pool `{pool}` (known: {})",
                list_or_none(&known)
            )
        })?;
        p.conference_content.in_sync = false;
        Ok(format!("{pool} lost its conference content"))
    }

    /// Log shipping of a Persistent Chat pool's mgc and mgccomp was never set up (or was
    /// removed): no log-shipping primary, no secondary, no backup copy.
    fn log_shipping_off(&mut self, pool: &str) -> Result<String, String> {
        let known: Vec<String> = self.lync.persistent_chat.keys().cloned().collect();
        let p = self
            .lync
            .persistent_chat
            .get(pool)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "no Persistent Chat pool `{pool}` (known: {})",
                    list_or_none(&known)
                )
            })?;
        let t = &p.mgc;
        for id in [Some(&t.primary), t.mirror.as_ref()].into_iter().flatten() {
            if let Some(i) = self.sql.get_mut(id) {
                for database in CHAT_DATABASES {
                    i.msdb.log_shipping_primary.remove(database);
                }
            }
        }
        if let Some(b) = self.sql.get_mut(&t.backup) {
            for database in CHAT_DATABASES {
                b.msdb.log_shipping_secondary.remove(database);
                b.databases.remove(database);
            }
        }
        Ok(format!(
            "{pool}: log shipping of mgc removed; {} holds no copy of mgc",
            t.backup
        ))
    }

    /// Instances that witness a session or are a witness in the topology.
    fn witnesses(&self) -> Vec<String> {
        let mut w: Vec<String> = self
            .sql
            .values()
            .flat_map(|i| i.databases.values())
            .filter_map(|d| d.mirroring.as_ref().and_then(|m| m.witness.clone()))
            .chain(
                self.lync
                    .pools
                    .values()
                    .filter_map(|p| p.back_end.witness.clone()),
            )
            .chain(self.lync.persistent_chat.values().flat_map(|p| {
                [p.mgc.witness.clone(), p.mgc.backup_witness.clone()]
                    .into_iter()
                    .flatten()
            }))
            .collect();
        w.sort();
        w.dedup();
        w
    }

    fn witness_down(&mut self, id: &str) -> Result<String, String> {
        let known = self.witnesses();
        if !known.iter().any(|w| w == id) {
            return Err(format!(
                "`{id}` is not a witness (witnesses: {})",
                list_or_none(&known)
            ));
        }
        self.instance_down(id)
    }

    /// The pool's front ends down or up.
    fn pool_updown(&mut self, pool: &str, up: bool) -> Result<String, String> {
        let Some(p) = self.lync.pools.get(pool) else {
            let known: Vec<String> = self.lync.pools.keys().cloned().collect();
            return Err(format!(
                "no Front End pool `{pool}` (known: {})",
                list_or_none(&known)
            ));
        };
        let servers = p.front_ends.clone();
        self.servers_updown(&servers, up)?;
        let verb = if up { "up" } else { "down" };
        Ok(format!(
            "pool {pool} {verb}: front ends {}",
            servers.join(", ")
        ))
    }

    /// The Edge pool's servers down or up.
    fn edge_updown(&mut self, pool: &str, up: bool) -> Result<String, String> {
        let Some(e) = self.lync.edge_pools.get(pool) else {
            let known: Vec<String> = self.lync.edge_pools.keys().cloned().collect();
            return Err(format!(
                "no Edge pool `{pool}` (known: {})",
                list_or_none(&known)
            ));
        };
        let servers = e.servers.clone();
        self.servers_updown(&servers, up)?;
        let verb = if up { "up" } else { "down" };
        Ok(format!(
            "Edge pool {pool} {verb}: servers {}",
            servers.join(", ")
        ))
    }

    fn servers_updown(&mut self, servers: &[String], up: bool) -> Result<(), String> {
        if up {
            for s in servers {
                let site = self
                    .servers
                    .get(s)
                    .map(|x| x.site.clone())
                    .unwrap_or_default();
                if self.sites.get(&site).is_some_and(|x| !x.up) {
                    return Err(format!(
                        "site {site} of {s} is down: repair it with site-up:{site}"
                    ));
                }
            }
        }
        for s in servers {
            if let Some(server) = self.servers.get_mut(s) {
                server.up = up;
            }
        }
        Ok(())
    }

    /// The link named `a-b` (either order), as its key.
    fn link_named(&self, spec: &str) -> Result<String, String> {
        let sites: Vec<&String> = self.sites.keys().collect();
        for a in &sites {
            for b in &sites {
                if a != b && spec.eq_ignore_ascii_case(&format!("{a}-{b}")) {
                    return Ok(link_key(a, b));
                }
            }
        }
        let known: Vec<String> = self.links.keys().cloned().collect();
        Err(format!(
            "no link `{spec}` between two sites (known: {})",
            list_or_none(&known)
        ))
    }

    fn link_updown(&mut self, spec: &str, up: bool) -> Result<String, String> {
        let key = self.link_named(spec)?;
        self.links
            .entry(key.clone())
            .or_insert(crate::lab::LinkState {
                up,
                low_latency: false,
            })
            .up = up;
        let verb = if up { "up" } else { "down" };
        let effect = format!(
            "link {key} {verb}: mirroring, witness, Backup Service and log-shipping traffic between the sites {}",
            if up { "resumes" } else { "stops" }
        );
        Ok(self.after_losing_instances(effect))
    }

    fn site_up(&mut self, site: &str) -> Result<String, String> {
        let Some(s) = self.sites.get_mut(site) else {
            let known: Vec<&str> = self.sites.keys().map(String::as_str).collect();
            return Err(format!("no site `{site}` (known: {})", known.join(", ")));
        };
        s.up = true;
        let mut servers = Vec::new();
        for (fqdn, server) in self.servers.iter_mut().filter(|(_, s)| s.site == site) {
            server.up = true;
            servers.push(fqdn.clone());
        }
        let mut instances = Vec::new();
        for (id, inst) in self.sql.iter_mut().filter(|(_, i)| i.site == site) {
            inst.up = true;
            instances.push(id.clone());
        }
        let effect = format!(
            "site {site} up: servers {}; SQL instances {}",
            list_or_none(&servers),
            list_or_none(&instances)
        );
        Ok(self.after_losing_instances(effect))
    }

    /// An instance (and its server) back up.
    fn instance_up_again(&mut self, id: &str) -> Result<String, String> {
        let Some(inst) = self.sql.get(id) else {
            let known: Vec<&str> = self.sql.keys().map(String::as_str).collect();
            return Err(format!(
                "no SQL instance `{id}` (known: {})",
                known.join(", ")
            ));
        };
        let (site, server) = (inst.site.clone(), inst.server.clone());
        if self.sites.get(&site).is_some_and(|s| !s.up) {
            return Err(format!(
                "site {site} of {id} is down: repair it with site-up:{site}"
            ));
        }
        if let Some(s) = self.servers.get_mut(&server) {
            s.up = true;
        }
        let name = match self.sql.get_mut(id) {
            Some(inst) => {
                inst.up = true;
                inst.name()
            }
            None => id.to_string(),
        };
        Ok(self.after_losing_instances(format!("SQL instance {id} ({name}) up")))
    }

    /// The pool's Back End databases lose their mirror: mirroring removed,
    /// the mirror copies dropped (a pool whose mirror was never installed).
    fn mirroring_off(&mut self, pool: &str) -> Result<String, String> {
        let candidates = self.back_end_candidates(pool);
        if candidates.is_empty() {
            let known: Vec<String> = self.lync.pools.keys().cloned().collect();
            return Err(format!(
                "no Front End pool `{pool}` (known: {})",
                list_or_none(&known)
            ));
        }
        let mut dropped = Vec::new();
        for id in &candidates {
            let dbs: Vec<String> = self
                .sql
                .get(id)
                .map(|i| i.databases.keys().cloned().collect())
                .unwrap_or_default();
            for db in dbs {
                let Some(m) = self.sql.database(id, &db).and_then(|d| d.mirroring.clone()) else {
                    continue;
                };
                if m.role == MirrorRole::Mirror {
                    if let Some(i) = self.sql.get_mut(id) {
                        i.databases.remove(&db);
                    }
                    dropped.push(format!("{id}/{db}"));
                } else if let Some(d) = self.sql.database_mut(id, &db) {
                    d.mirroring = None;
                }
            }
        }
        if dropped.is_empty() {
            return Err(format!("the Back End of {pool} is not mirrored"));
        }
        Ok(format!(
            "mirroring removed from the Back End of {pool}; mirror copies dropped: {}",
            dropped.join(", ")
        ))
    }

    /// Time passes in normal operation (jobs, users' workload), as `lab
    /// advance` does: a scenario's way to let a fault last.
    fn advance_minutes(&mut self, minutes: &str) -> Result<String, String> {
        let m: u64 = minutes
            .parse()
            .ok()
            .filter(|m| (1..=7 * 24 * 60).contains(m))
            .ok_or_else(|| {
                format!(
                    "advance:MINUTES needs a number of minutes from 1 to 10080, not `{minutes}`"
                )
            })?;
        self.advance(m * 60);
        Ok(format!(
            "{m} minutes passed; the clock is now {}",
            self.clock.now
        ))
    }

    fn share_reachable(&mut self, target: Option<&str>) -> Result<String, String> {
        let folders: Vec<String> = match target {
            Some(path) => vec![self
                .folders
                .key(path)
                .ok_or_else(|| format!("no folder `{path}`"))?],
            None => self
                .folders
                .iter()
                .filter(|(_, f)| !f.reachable)
                .map(|(k, _)| k.clone())
                .collect(),
        };
        for key in &folders {
            if let Some(f) = self.folders.get_mut(key) {
                f.reachable = true;
            }
        }
        Ok(format!("reachable: {}", list_or_none(&folders)))
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

    /// `effect`, followed by what mirroring did about what changed.
    fn after_losing_instances(&mut self, mut effect: String) -> String {
        for event in self
            .sql
            .reassess_mirroring(&Network::new(&self.servers, &self.links))
        {
            effect.push_str("; ");
            effect.push_str(&event);
        }
        effect
    }

    fn share_unreachable(&mut self, target: Option<&str>) -> Result<String, String> {
        let folders: Vec<String> = match target {
            Some(path) => match self.folders.key(path) {
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
                    .filter_map(|p| self.folders.key(&p))
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
            let Some(key) = folder.files.find(&name).map(|(n, _)| n.clone()) else {
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

    /// The first log backup, by name, that some secondary has yet to restore
    /// (what `log-backup-missing` removes, and what a drill's
    /// `log-backup-pending` lead-in waits for).
    pub fn oldest_unrestored(&self) -> Option<String> {
        let mut oldest: Option<String> = None;
        for inst in self.sql.values() {
            for s in inst.msdb.log_shipping_secondary.values() {
                let restored = s.last_restored_file.as_deref().map(|f| split_path(f).1);
                for dir in [&s.backup_source_directory, &s.backup_destination_directory] {
                    let files = self
                        .folders
                        .folder(dir)
                        .map(|f| &f.files)
                        .into_iter()
                        .flatten();
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
mod tests;
