//! The documented effects of manual steps (Topology Builder, DNS, firewall,
//! SSMS wizards), applied when the operator confirms one in the lab. The
//! effect is a JSON object with a `kind`; each returns the simulated seconds
//! the person took, which pass on the clock (jobs run, no user workload).
//! `docs/lab-cmdlets.md` lists them.

use crate::error::{Error, Result};
use crate::estate::{is_dns_name, DnsRecord, DnsType};
use crate::lab::{
    DbState, LabState, LogShippingPrimary, LogShippingSecondary, CHAT_DATABASE, CHAT_DATABASES,
};
use crate::op::unc_server;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A manual step's effect as the lab applied it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualRecord {
    pub at: u64,
    pub effect: Value,
    pub seconds: u64,
}

/// Every effect kind with the fields it takes (`?` = optional) and its duration.
pub const EFFECT_KINDS: [(&str, &str, u64); 10] = [
    ("edge-next-hop", "edge_pool, next_hop", 300),
    ("edge-federation", "edge_pool, enabled", 300),
    ("fe-edge-association", "pool, edge_pool", 300),
    ("dns", "name, type, target, port?, priority?, add?", 300),
    ("firewall", "port, open", 300),
    ("edge-setup", "edge_pool", 900),
    ("restore-lis", "pool", 600),
    ("logship-setup", "pool", 1200),
    ("reinstall-chat-databases", "pool", 900),
    ("publish-topology", "", 120),
];

fn bad(message: String) -> Error {
    Error::Usage {
        message: format!("manual effect: {message}"),
    }
}

/// The fields of one effect object.
struct Fields<'a> {
    kind: &'a str,
    map: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn text(&self, name: &str) -> Result<String> {
        match self.map.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Some(other) => Err(bad(format!(
                "`{}` field `{name}` must be a non-empty string, not {other}",
                self.kind
            ))),
            None => Err(bad(format!("`{}` needs the field `{name}`", self.kind))),
        }
    }

    fn boolean(&self, name: &str) -> Result<bool> {
        match self.map.get(name) {
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(bad(format!(
                "`{}` field `{name}` must be true or false, not {other}",
                self.kind
            ))),
            None => Err(bad(format!("`{}` needs the field `{name}`", self.kind))),
        }
    }

    fn number(&self, name: &str) -> Result<Option<u16>> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    bad(format!(
                        "`{}` field `{name}` must be a number from 0 to 65535, not {v}",
                        self.kind
                    ))
                }),
        }
    }

    /// No field outside `known` (and `kind`).
    fn only(&self, known: &[&str]) -> Result<()> {
        match self
            .map
            .keys()
            .find(|k| k.as_str() != "kind" && !known.contains(&k.as_str()))
        {
            Some(k) => Err(bad(format!(
                "`{}` takes no field `{k}` (its fields: {})",
                self.kind,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))),
            None => Ok(()),
        }
    }
}

impl LabState {
    /// Apply one manual effect; returns the simulated seconds it took.
    /// Nothing changes when the effect is refused.
    pub fn manual_effect(&mut self, effect: &Value) -> Result<u64> {
        let Some(map) = effect.as_object() else {
            return Err(bad(format!(
                "an effect is an object with a `kind`, not {effect}"
            )));
        };
        let kind = match map.get("kind") {
            Some(Value::String(k)) => k.as_str(),
            _ => {
                return Err(bad(format!(
                    "the effect needs a `kind`: one of {}",
                    kinds()
                )))
            }
        };
        let Some((_, _, seconds)) = EFFECT_KINDS.iter().find(|(k, _, _)| *k == kind) else {
            return Err(bad(format!(
                "unknown kind `{kind}`: use one of {}",
                kinds()
            )));
        };
        let f = Fields { kind, map };
        let mut next = self.clone();
        next.apply_effect(&f)?;
        *self = next;
        self.refresh();
        self.manual_effects.push(ManualRecord {
            at: self.elapsed(),
            effect: effect.clone(),
            seconds: *seconds,
        });
        self.pass_quietly(*seconds);
        Ok(*seconds)
    }

    fn apply_effect(&mut self, f: &Fields) -> Result<()> {
        match f.kind {
            "edge-next-hop" => {
                f.only(&["edge_pool", "next_hop"])?;
                let edge = self.effect_edge(f)?;
                let hop = self.effect_pool(f, "next_hop")?;
                if let Some(e) = self.lync.edge_pools.get_mut(&edge) {
                    e.next_hop = hop;
                }
            }
            "edge-federation" => {
                f.only(&["edge_pool", "enabled"])?;
                let edge = self.effect_edge(f)?;
                let enabled = f.boolean("enabled")?;
                if let Some(e) = self.lync.edge_pools.get_mut(&edge) {
                    e.federation = enabled;
                }
            }
            "fe-edge-association" => {
                f.only(&["pool", "edge_pool"])?;
                let pool = self.effect_pool(f, "pool")?;
                let edge = self.effect_edge(f)?;
                if let Some(p) = self.lync.pools.get_mut(&pool) {
                    p.edge_pool = Some(edge);
                }
            }
            "dns" => {
                f.only(&["name", "type", "target", "port", "priority", "add"])?;
                // `add`: beside the records of that name and type (several A
                // records for the servers of a pool), not in their place.
                let add = match f.map.get("add") {
                    None => false,
                    Some(_) => f.boolean("add")?,
                };
                let name = f.text("name")?;
                let kind = f.text("type")?.to_ascii_uppercase();
                let target = f.text("target")?;
                let (port, priority) = (f.number("port")?, f.number("priority")?);
                for (field, value) in [("name", &name), ("target", &target)] {
                    if !is_dns_name(value) {
                        return Err(bad(format!(
                            "`dns` field `{field}` = {value:?} is not a DNS name"
                        )));
                    }
                }
                let record = DnsRecord {
                    name,
                    kind: DnsType::from_name(&kind).ok_or_else(|| {
                        bad(format!(
                            "`dns` field `type` = {kind:?} is not one of {}",
                            DnsType::names()
                        ))
                    })?,
                    target,
                    port,
                    priority,
                };
                if record.kind == DnsType::Srv && record.port.is_none() {
                    return Err(bad(
                        "`dns` field `port` is required for an SRV record".to_string()
                    ));
                }
                if record.kind == DnsType::A && (record.port.is_some() || record.priority.is_some())
                {
                    return Err(bad(
                        "`dns` fields `port` and `priority` are for SRV records only".to_string(),
                    ));
                }
                let same = |r: &DnsRecord| {
                    r.name.eq_ignore_ascii_case(&record.name) && r.kind == record.kind
                };
                if add {
                    if !self.lync.dns.contains(&record) {
                        self.lync.dns.push(record);
                    }
                } else {
                    // In the place of the first record it replaces.
                    let at = self.lync.dns.iter().position(same);
                    self.lync.dns.retain(|r| !same(r));
                    let at = at.unwrap_or(self.lync.dns.len());
                    self.lync.dns.insert(at, record);
                }
            }
            "firewall" => {
                f.only(&["port", "open"])?;
                let port = f
                    .number("port")?
                    .ok_or_else(|| bad("`firewall` needs the field `port`".to_string()))?;
                let open = f.boolean("open")?;
                self.lync.firewall.insert(port.to_string(), open);
            }
            "edge-setup" => {
                f.only(&["edge_pool"])?;
                let edge = self.effect_edge(f)?;
                if let Some(e) = self.lync.edge_pools.get_mut(&edge) {
                    e.federation_applied = e.federation;
                }
            }
            "restore-lis" => {
                f.only(&["pool"])?;
                let pool = self.effect_pool(f, "pool")?;
                if let Some(p) = self.lync.pools.get_mut(&pool) {
                    p.lis_restored = true;
                }
            }
            "logship-setup" => {
                f.only(&["pool"])?;
                let pool = self.effect_chat_pool(f)?;
                self.logship_setup(&pool)?;
            }
            "reinstall-chat-databases" => {
                f.only(&["pool"])?;
                let pool = self.effect_chat_pool(f)?;
                self.reinstall_chat_databases(&pool)?;
            }
            "publish-topology" => f.only(&[])?,
            _ => unreachable!("kinds are checked against EFFECT_KINDS"),
        }
        Ok(())
    }

    fn effect_edge(&self, f: &Fields) -> Result<String> {
        let name = f.text("edge_pool")?;
        self.lync
            .edge_pools
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&name))
            .cloned()
            .ok_or_else(|| {
                bad(format!(
                    "`{}` field `edge_pool` = {name:?} is not an Edge pool (known: {})",
                    f.kind,
                    self.lync
                        .edge_pools
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    fn effect_pool(&self, f: &Fields, field: &str) -> Result<String> {
        let name = f.text(field)?;
        self.lync
            .pools
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&name))
            .cloned()
            .ok_or_else(|| {
                bad(format!(
                    "`{}` field `{field}` = {name:?} is not a Front End pool (known: {})",
                    f.kind,
                    self.lync
                        .pools
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    fn effect_chat_pool(&self, f: &Fields) -> Result<String> {
        let name = f.text("pool")?;
        self.lync
            .persistent_chat
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&name))
            .cloned()
            .ok_or_else(|| {
                bad(format!(
                    "`{}` field `pool` = {name:?} is not a Persistent Chat pool (known: {})",
                    f.kind,
                    self.lync
                        .persistent_chat
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// §3.14: log shipping from the pool's current primary mgc (and its
    /// mirror) to the backup instance, initialized from a full backup; the
    /// backup side's mirroring is removed.
    fn logship_setup(&mut self, pool: &str) -> Result<()> {
        let Some(p) = self.lync.persistent_chat.get(pool).cloned() else {
            return Ok(());
        };
        let Some(ls) = p.log_shipping.clone() else {
            return Err(bad(format!(
                "`logship-setup`: the lab has no log-shipping configuration for {pool}"
            )));
        };
        // §3.13 re-creates log shipping while the pool is still FailedOver,
        // once mgc is restored on the primary: what matters is below, that a
        // primary-side copy is online. mgccomp is laid out the same way.
        for database in CHAT_DATABASES {
            self.logship_database(pool, &p.mgc, &ls, database)?;
        }
        Ok(())
    }

    /// `logship_setup` for one of the pool's databases.
    fn logship_database(
        &mut self,
        pool: &str,
        t: &crate::lab::ChatTopology,
        ls: &crate::estate::LogShipping,
        database: &str,
    ) -> Result<()> {
        let candidates: Vec<&str> = std::iter::once(t.primary.as_str())
            .chain(t.mirror.as_deref())
            .collect();
        let Some(principal) = self.sql.principal_by_role(&candidates, database) else {
            return Err(bad(format!(
                "`logship-setup`: no primary {database} of {pool} is online on {}",
                candidates.join(" or ")
            )));
        };
        if !self.instance_up(&principal) || !self.instance_up(&t.backup) {
            return Err(bad(format!(
                "`logship-setup`: {principal} and {} must both be running",
                t.backup
            )));
        }
        let Some(source) = self.sql.database(&principal, database).cloned() else {
            return Ok(());
        };
        // The backup side: its mirroring gone, a fresh copy restoring.
        for id in std::iter::once(&t.backup).chain(&t.backup_mirror) {
            if let Some(i) = self.sql.get_mut(id) {
                i.databases.remove(database);
            }
        }
        let mut copy = source.clone();
        copy.state = DbState::Restoring;
        copy.mirroring = None;
        copy.sessions = Vec::new();
        let principal_name = self.sql.name(&principal);
        let share_server = unc_server(&ls.share).unwrap_or_default().to_string();
        let copy_server = unc_server(&ls.copy_folder).unwrap_or_default().to_string();
        for (path, server) in [(&ls.share, share_server), (&ls.copy_folder, copy_server)] {
            self.folders
                .entry(path.clone())
                .or_insert_with(|| crate::lab::files::Folder::empty(server));
        }
        if let Some(b) = self.sql.get_mut(&t.backup) {
            b.databases.insert(database.to_string(), copy);
            b.msdb.log_shipping_secondary.insert(
                database.to_string(),
                LogShippingSecondary::initialized(
                    database,
                    &principal,
                    &principal_name,
                    (&ls.share, &ls.copy_folder),
                    (
                        ls.copy_every_minutes,
                        ls.restore_every_minutes,
                        ls.file_retention_minutes,
                    ),
                ),
            );
        }
        if let Some(bm) = t.backup_mirror.as_ref().and_then(|id| self.sql.get_mut(id)) {
            bm.msdb.log_shipping_secondary.remove(database);
        }
        // Initialized from a full backup: log backups already in the share
        // belong to an older lineage; the jobs start after the newest one.
        let newest = self.folders.folder(&ls.share).and_then(|f| {
            f.files
                .iter()
                .filter(|(_, b)| b.backup_type == 2 && b.database == database)
                .map(|(n, _)| n.clone())
                .next_back()
        });
        if let Some(s) = self
            .sql
            .get_mut(&t.backup)
            .and_then(|b| b.msdb.log_shipping_secondary.get_mut(database))
        {
            s.last_copied_file = newest
                .as_ref()
                .map(|n| crate::op::join_path(&ls.copy_folder, n));
            s.last_restored_file = s.last_copied_file.clone();
        }
        // The backup instance no longer ships logs of its own.
        if let Some(b) = self.sql.get_mut(&t.backup) {
            b.msdb.log_shipping_primary.remove(database);
        }
        // Only mgc is mirrored, so only mgc ships from the mirror too.
        let mirror = t.mirror.as_ref().filter(|_| database == CHAT_DATABASE);
        for id in std::iter::once(&t.primary).chain(mirror) {
            if let Some(i) = self.sql.get_mut(id) {
                i.msdb.log_shipping_primary.insert(
                    database.to_string(),
                    LogShippingPrimary::chat(
                        database,
                        &ls.share,
                        (ls.backup_every_minutes, ls.backup_retention_minutes),
                        source.lsn,
                    ),
                );
            }
        }
        Ok(())
    }

    /// §3.13 pre: Topology Builder reinstalled mgc and mgccomp on the rebuilt primary
    /// data center: empty ONLINE databases on the primary instance, unmirrored;
    /// the mirror instance holds none.
    fn reinstall_chat_databases(&mut self, pool: &str) -> Result<()> {
        let Some(p) = self.lync.persistent_chat.get(pool).cloned() else {
            return Ok(());
        };
        let t = &p.mgc;
        if !self.instance_up(&t.primary) {
            return Err(bad(format!(
                "`reinstall-chat-databases`: the primary instance {} is down",
                t.primary
            )));
        }
        for database in CHAT_DATABASES {
            if let Some(m) = t.mirror.as_ref().and_then(|id| self.sql.get_mut(id)) {
                m.databases.remove(database);
            }
            if let Some(i) = self.sql.get_mut(&t.primary) {
                i.databases.insert(
                    database.to_string(),
                    crate::lab::Database {
                        state: DbState::Online,
                        mirroring: None,
                        lsn: crate::lab::LSN_BASE,
                        transactions: 0,
                        last_transaction_at: 0,
                        sessions: Vec::new(),
                    },
                );
            }
        }
        Ok(())
    }
}

fn kinds() -> String {
    EFFECT_KINDS
        .iter()
        .map(|(k, _, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
