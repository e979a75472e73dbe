//! The Lync cmdlets over database mirroring (§3.1, §3.2): Get-CsDatabase
//! MirrorState, Invoke-CsDatabaseFailover, Install-CsMirrorDatabase and
//! Uninstall-CsMirrorDatabase, for the Back End database types (User,
//! Application, CentralMgmt) and the Persistent Chat store.
//!
//! "Primary" and "mirror" are the topology's servers: for a Front End pool
//! its Back End's principal and mirror as published; for Persistent Chat the
//! primary store and its mirror, or the backup store and its mirror while the
//! pool is failed over.

use crate::lab::cmdlets::Call;
use crate::lab::lync::{DbType, UNMODELED_DB_TYPES};
use crate::lab::network::Network;
use crate::lab::{desc, LabState, MirrorRole, PoolState, Safety};
use crate::op::unc_server;
use crate::targets::OpError;
use serde_json::{json, Value};

/// Where the databases of one type of one pool live.
struct Store {
    pool: String,
    kind: DbType,
    primary: String,
    mirror: Option<String>,
    witness: Option<String>,
    databases: Vec<&'static str>,
}

const INACCESSIBLE: &str = "DatabaseInaccessibleOrMirroringNotEnabled";

impl LabState {
    /// `-DatabaseType` as the cmdlet's ValidateSet binds it.
    fn db_type(&self, call: &Call) -> Result<DbType, OpError> {
        let mut allowed: Vec<&str> = DbType::ALL.iter().map(|t| t.name()).collect();
        allowed.extend(UNMODELED_DB_TYPES);
        let name = call.choice("DatabaseType", &allowed)?.ok_or_else(|| {
            call.error("Cannot process command because of one or more missing mandatory parameters: DatabaseType.")
        })?;
        let kind = DbType::parse(&name).ok_or_else(|| OpError::NotSimulated {
            message: format!(
                "{} -DatabaseType {name}: the lab holds no such databases",
                call.spec.name
            ),
        })?;
        if kind == DbType::PersistentChatCompliance {
            return Err(OpError::NotSimulated {
                message: format!(
                    "{} -DatabaseType PersistentChatCompliance: the lab does not model mgccomp",
                    call.spec.name
                ),
            });
        }
        Ok(kind)
    }

    /// The pools holding the CMS databases: the active master's and the standby's.
    fn cms_pools(&self) -> Vec<String> {
        self.lync
            .cms
            .iter()
            .flat_map(|c| std::iter::once(c.active_pool.clone()).chain(c.standby_pool.clone()))
            .collect()
    }

    fn store_for(&self, call: &Call, pool: &str, kind: DbType) -> Result<Store, OpError> {
        if kind == DbType::PersistentChat {
            let name = self.pool_by_identity(call, pool)?;
            let Some(p) = self.lync.persistent_chat.get(&name) else {
                return Err(call.error(format!("Cannot find pool \"{pool}\".")));
            };
            let t = &p.mgc;
            let (primary, mirror, witness) = match p.state {
                PoolState::Normal => (t.primary.clone(), t.mirror.clone(), t.witness.clone()),
                PoolState::FailedOver => (
                    t.backup.clone(),
                    t.backup_mirror.clone(),
                    t.backup_witness.clone(),
                ),
            };
            return Ok(Store {
                pool: name,
                kind,
                primary,
                mirror,
                witness,
                databases: kind.databases().to_vec(),
            });
        }
        let name = self.fe_pool(call, pool)?;
        if kind == DbType::CentralMgmt && !self.cms_pools().contains(&name) {
            return Err(call.error(format!(
                "Pool \"{name}\" does not host the Central Management Store (neither its active master nor its standby copy): it has no CentralMgmt databases."
            )));
        }
        let Some(p) = self.lync.pools.get(&name) else {
            return Err(call.error(format!("Cannot find pool \"{pool}\".")));
        };
        Ok(Store {
            pool: name.clone(),
            kind,
            primary: p.back_end.principal.clone(),
            mirror: p.back_end.mirror.clone(),
            witness: p.back_end.witness.clone(),
            databases: kind.databases().to_vec(),
        })
    }

    /// (StateOn…, MirroringStatusOn…) of one copy.
    fn copy_state(&self, id: Option<&String>, db: &str) -> (Value, Value) {
        let inaccessible = (json!(INACCESSIBLE), Value::Null);
        let Some(id) = id.filter(|i| self.instance_up(i)) else {
            return inaccessible;
        };
        match self.sql.database(id, db).and_then(|d| d.mirroring.as_ref()) {
            None => inaccessible,
            Some(m) => {
                let role = match m.role {
                    MirrorRole::Principal => "Principal",
                    MirrorRole::Mirror => "Mirror",
                };
                (json!(role), json!(desc(&m.state).to_ascii_lowercase()))
            }
        }
    }

    pub(in crate::lab) fn get_mirror_state(&self, call: &Call) -> Result<Value, OpError> {
        let kind = self.db_type(call)?;
        let store = self.store_for(call, &call.required("PoolFqdn")?, kind)?;
        let rows = store.databases.iter().map(|db| {
            let (sp, mp) = self.copy_state(Some(&store.primary), db);
            let (sm, mm) = self.copy_state(store.mirror.as_ref(), db);
            json!({
                "DatabaseName": db,
                "StateOnPrimary": sp,
                "StateOnMirror": sm,
                "MirroringStatusOnPrimary": mp,
                "MirroringStatusOnMirror": mm,
            })
        });
        Ok(Value::Array(rows.collect()))
    }

    /// Invoke-CsDatabaseFailover: make the named server principal for every
    /// database of the type (minus -ExcludeDatabaseList). All checks run
    /// before anything changes.
    pub(in crate::lab) fn invoke_database_failover(
        &mut self,
        call: &Call,
    ) -> Result<Value, OpError> {
        let kind = self.db_type(call)?;
        let store = self.store_for(call, &call.required("PoolFqdn")?, kind)?;
        let new = call
            .choice("NewPrincipal", &["primary", "mirror"])?
            .ok_or_else(|| call.error("Cannot process command because of one or more missing mandatory parameters: NewPrincipal."))?;
        let Some(mirror) = store.mirror.clone() else {
            return Err(call.error(format!(
                "Database mirroring is not configured for the {} databases of pool \"{}\": there is no mirror to fail over to.",
                kind.name(),
                store.pool
            )));
        };
        let (target, other) = if new == "mirror" {
            (mirror, store.primary.clone())
        } else {
            (store.primary.clone(), mirror)
        };
        let excluded = call.list("ExcludeDatabaseList")?;
        let databases: Vec<&str> = store
            .databases
            .iter()
            .copied()
            .filter(|db| !excluded.iter().any(|e| e.eq_ignore_ascii_case(db)))
            .collect();
        let (target_name, other_name) = (self.sql.name(&target), self.sql.name(&other));
        if !self.instance_up(&target) {
            return Err(call.error(format!(
                "Cannot connect to the {new} server {target_name}: it must be running to become the principal."
            )));
        }
        let todo: Vec<&str> = databases
            .iter()
            .copied()
            .filter(|db| {
                !self
                    .sql
                    .database(&target, db)
                    .is_some_and(|d| d.is_principal_online())
            })
            .collect();
        if todo.is_empty() {
            return Err(call.error(format!(
                "{target_name} already holds the principal role for the {} databases of pool \"{}\": there is nothing to fail over.",
                kind.name(),
                store.pool
            )));
        }
        for db in &todo {
            let joined = self
                .sql
                .database(&target, db)
                .and_then(|d| d.mirroring.as_ref())
                .is_some_and(|m| m.partner == other);
            if !joined {
                return Err(call.error(format!(
                    "Database mirroring is not configured for database {db} between {other_name} and {target_name}: install the mirror first (Install-CsMirrorDatabase)."
                )));
            }
        }
        let reachable = self.sql.connected(&target, &other, &self.network());
        if reachable {
            for db in &todo {
                let m = self
                    .sql
                    .database(&other, db)
                    .and_then(|d| d.mirroring.clone());
                let synchronized = m.as_ref().is_some_and(|m| {
                    m.role == MirrorRole::Principal
                        && m.state == crate::lab::MirrorState::Synchronized
                        && m.safety == Safety::Full
                });
                if !synchronized {
                    let why = match &m {
                        None => "no session".to_string(),
                        Some(m) if m.role != MirrorRole::Principal => {
                            format!("{other_name} is not its principal")
                        }
                        Some(m) if m.safety != Safety::Full => {
                            format!("{}, safety {}", desc(&m.state), desc(&m.safety))
                        }
                        Some(m) => desc(&m.state),
                    };
                    return Err(call.error(format!(
                        "Database {db} is not synchronized between {other_name} and {target_name} ({why}): it cannot fail over now."
                    )));
                }
            }
            for db in &todo {
                self.sql.switch_roles(&other, &target, db);
            }
        } else {
            if !call.switch("Force") {
                return Err(call.error(format!(
                    "The current principal {other_name} cannot be reached. Use -Force to fail the {} databases of pool \"{}\" over to {target_name} without it.",
                    kind.name(),
                    store.pool
                )));
            }
            // -Force runs FORCE_SERVICE_ALLOW_DATA_LOSS, and can do no more
            // than it: every database is checked before any is forced.
            let net = Network::new(&self.servers, &self.links);
            for db in &todo {
                if let Err(refused) = self.sql.force_service_allowed(&target, db, &net) {
                    let witness = store.witness.as_ref().map(|w| self.sql.name(w));
                    return Err(call.error(format!(
                        "Cannot force the {} databases of pool \"{}\" over to {target_name}: {}. \
                         The principal {other_name} cannot be reached{}: the mirror alone has no quorum. \
                         Bring the principal or the witness back, then run the command again.",
                        kind.name(),
                        store.pool,
                        refused.to_string().trim_end_matches('.'),
                        witness.map_or(String::new(), |w| format!(", nor can the witness {w}")),
                    )));
                }
            }
            for db in &todo {
                self.sql.force_service(&target, db, &net);
            }
        }
        Ok(Value::Null)
    }

    /// The SQL instance `-SqlServerFqdn` [`-SqlInstanceName`] names, among `ids`.
    fn instance_named<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a String>,
        fqdn: &str,
        instance: Option<&str>,
    ) -> Option<String> {
        ids.into_iter()
            .find(|id| {
                self.sql.get(*id).is_some_and(|i| {
                    i.server.eq_ignore_ascii_case(fqdn)
                        && match (&i.instance, instance) {
                            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                            (None, None) => true,
                            _ => false,
                        }
                })
            })
            .cloned()
    }

    /// The Front End pool whose topology primary is `fqdn\instance`.
    fn pool_with_primary(&self, fqdn: &str, instance: Option<&str>) -> Option<String> {
        self.lync
            .pools
            .iter()
            .find(|(_, p)| {
                self.instance_named([&p.back_end.principal], fqdn, instance)
                    .is_some()
            })
            .map(|(n, _)| n.clone())
    }

    fn store_name(fqdn: &str, instance: Option<&str>) -> String {
        match instance {
            Some(i) => format!("{fqdn}\\{i}"),
            None => fqdn.to_string(),
        }
    }

    pub(in crate::lab) fn install_mirror(&mut self, call: &Call) -> Result<Value, OpError> {
        if call.switch("ConfiguredDatabases") {
            return self.install_configured(call);
        }
        let kind = self.db_type(call)?;
        if kind == DbType::PersistentChat {
            return self.install_chat_mirror(call);
        }
        let fqdn = call.required("SqlServerFqdn")?;
        let instance = call.text("SqlInstanceName")?;
        call.required("FileShare")?;
        let Some(pool) = self.pool_with_primary(&fqdn, instance.as_deref()) else {
            return Err(call.error(format!(
                "{} is not the primary Back End server of a Front End pool in the published topology.",
                Self::store_name(&fqdn, instance.as_deref())
            )));
        };
        let store = self.store_for(call, &pool, kind)?;
        self.install_back_end(call, &[store])
    }

    /// -ConfiguredDatabases: every database type the topology places on the
    /// named instance.
    fn install_configured(&mut self, call: &Call) -> Result<Value, OpError> {
        let fqdn = call.required("SqlServerFqdn")?;
        call.required("FileShare")?;
        let instance = call.text("ForInstance")?;
        if instance.is_none() && !call.switch("ForDefaultInstance") {
            return Err(call.error(
                "Parameter set cannot be resolved using the specified named parameters: -ConfiguredDatabases needs -ForInstance or -ForDefaultInstance.",
            ));
        }
        let Some(pool) = self.pool_with_primary(&fqdn, instance.as_deref()) else {
            return Err(call.error(format!(
                "No database is configured on {} in the published topology.",
                Self::store_name(&fqdn, instance.as_deref())
            )));
        };
        let mut stores = Vec::new();
        for kind in [DbType::User, DbType::Application, DbType::CentralMgmt] {
            if kind == DbType::CentralMgmt && !self.cms_pools().contains(&pool) {
                continue;
            }
            stores.push(self.store_for(call, &pool, kind)?);
        }
        self.install_back_end(call, &stores)
    }

    fn install_back_end(&mut self, call: &Call, stores: &[Store]) -> Result<Value, OpError> {
        let excluded = call.list("ExcludeDatabaseList")?;
        let share = call.required("FileShare")?;
        let mut work = Vec::new();
        for store in stores {
            let Some(mirror) = store.mirror.clone() else {
                return Err(call.error(format!(
                    "The topology defines no mirror for the {} databases of pool \"{}\".",
                    store.kind.name(),
                    store.pool
                )));
            };
            for id in [&store.primary, &mirror] {
                if !self.instance_up(id) {
                    return Err(call.error(format!(
                        "Cannot connect to SQL Server {}.",
                        self.sql.name(id)
                    )));
                }
            }
            for db in &store.databases {
                if excluded.iter().any(|e| e.eq_ignore_ascii_case(db)) {
                    continue;
                }
                let online = self
                    .sql
                    .database(&store.primary, db)
                    .is_some_and(|d| d.is_principal_online());
                if !online {
                    return Err(call.error(format!(
                        "Database {db} on {} is not the online principal: it cannot be backed up to seed the mirror.",
                        self.sql.name(&store.primary)
                    )));
                }
                if self.sql.database(&mirror, db).is_some()
                    && !call.switch("DropExistingDatabasesOnMirror")
                {
                    return Err(call.error(format!(
                        "Database {db} already exists on the mirror {}: use -DropExistingDatabasesOnMirror to replace it.",
                        self.sql.name(&mirror)
                    )));
                }
                work.push((
                    store.primary.clone(),
                    mirror.clone(),
                    store.witness.clone(),
                    *db,
                ));
            }
        }
        let share_server = unc_server(&share).unwrap_or_default();
        if !self.server_up(share_server) {
            return Err(call.error(format!("The file share {share} is not accessible.")));
        }
        for (principal, mirror, witness, db) in work {
            self.sql
                .establish_mirroring(&principal, &mirror, witness.as_deref(), db);
        }
        Ok(Value::Null)
    }

    /// Uninstall-CsMirrorDatabase -SqlServerFqdn F [-SqlInstanceName I]
    /// -DatabaseType T [-DropExistingDatabasesOnMirror]: the session is
    /// removed; the mirror copy stays RESTORING, or is dropped.
    pub(in crate::lab) fn uninstall_mirror(&mut self, call: &Call) -> Result<Value, OpError> {
        let kind = self.db_type(call)?;
        let fqdn = call.required("SqlServerFqdn")?;
        let instance = call.text("SqlInstanceName")?;
        let name = Self::store_name(&fqdn, instance.as_deref());
        let store = if kind == DbType::PersistentChat {
            let found = self.lync.persistent_chat.iter().find_map(|(pool, p)| {
                let t = &p.mgc;
                let (primary, mirror) = if self
                    .instance_named([&t.primary], &fqdn, instance.as_deref())
                    .is_some()
                {
                    (t.primary.clone(), t.mirror.clone())
                } else if self
                    .instance_named([&t.backup], &fqdn, instance.as_deref())
                    .is_some()
                {
                    (t.backup.clone(), t.backup_mirror.clone())
                } else {
                    return None;
                };
                Some(Store {
                    pool: pool.clone(),
                    kind,
                    primary,
                    mirror,
                    witness: None,
                    databases: kind.databases().to_vec(),
                })
            });
            found.ok_or_else(|| {
                call.error(format!(
                    "No Persistent Chat database store on {name} in the published topology."
                ))
            })?
        } else {
            let pool = self.pool_with_primary(&fqdn, instance.as_deref()).ok_or_else(|| {
                call.error(format!(
                    "{name} is not the primary Back End server of a Front End pool in the published topology."
                ))
            })?;
            self.store_for(call, &pool, kind)?
        };
        let copies: Vec<String> = std::iter::once(store.primary.clone())
            .chain(store.mirror.clone())
            .collect();
        let c: Vec<&str> = copies.iter().map(String::as_str).collect();
        let mirrored: Vec<&str> = store
            .databases
            .iter()
            .copied()
            .filter(|db| {
                c.iter().any(|id| {
                    self.sql
                        .database(id, db)
                        .is_some_and(|d| d.mirroring.is_some())
                })
            })
            .collect();
        if mirrored.is_empty() {
            return Err(call.error(format!(
                "The {} databases on {name} are not mirrored.",
                kind.name()
            )));
        }
        for db in &mirrored {
            let principal = self.sql.principal_by_role(&c, db);
            match &principal {
                Some(p) if self.instance_up(p) => {}
                _ => {
                    return Err(call.error(format!(
                        "Cannot connect to the principal of database {db}: mirroring can be removed only from a running principal."
                    )))
                }
            }
        }
        for db in mirrored {
            let Some(principal) = self.sql.principal_by_role(&c, db) else {
                continue;
            };
            let other = copies.iter().find(|id| **id != principal).cloned();
            self.sql
                .remove_mirroring(&principal, db, &Network::new(&self.servers, &self.links));
            if let Some(other) = other {
                if let Some(d) = self.sql.database_mut(&other, db) {
                    if d.mirroring.as_ref().is_some_and(|m| m.partner == principal) {
                        d.mirroring = None;
                    }
                }
                if call.switch("DropExistingDatabasesOnMirror") && self.instance_up(&other) {
                    if let Some(i) = self.sql.get_mut(&other) {
                        i.databases.remove(db);
                    }
                }
            }
        }
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests;
