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
use crate::lab::sql::mirroring::{DbType, UNMODELED_DB_TYPES};
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
        match self.database(id, db).and_then(|d| d.mirroring.as_ref()) {
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
        let (target_name, other_name) = (self.instance_name(&target), self.instance_name(&other));
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
                .database(&target, db)
                .and_then(|d| d.mirroring.as_ref())
                .is_some_and(|m| m.partner == other);
            if !joined {
                return Err(call.error(format!(
                    "Database mirroring is not configured for database {db} between {other_name} and {target_name}: install the mirror first (Install-CsMirrorDatabase)."
                )));
            }
        }
        let reachable = self.connected(&target, &other);
        if reachable {
            for db in &todo {
                let m = self.database(&other, db).and_then(|d| d.mirroring.clone());
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
                self.switch_roles(&other, &target, db);
            }
        } else {
            if !call.switch("Force") {
                return Err(call.error(format!(
                    "The current principal {other_name} cannot be reached. Use -Force to fail the {} databases of pool \"{}\" over to {target_name} without it.",
                    kind.name(),
                    store.pool
                )));
            }
            for db in &todo {
                self.force_service(&target, db);
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
                        self.instance_name(id)
                    )));
                }
            }
            for db in &store.databases {
                if excluded.iter().any(|e| e.eq_ignore_ascii_case(db)) {
                    continue;
                }
                let online = self
                    .database(&store.primary, db)
                    .is_some_and(|d| d.is_principal_online());
                if !online {
                    return Err(call.error(format!(
                        "Database {db} on {} is not the online principal: it cannot be backed up to seed the mirror.",
                        self.instance_name(&store.primary)
                    )));
                }
                if self.database(&mirror, db).is_some()
                    && !call.switch("DropExistingDatabasesOnMirror")
                {
                    return Err(call.error(format!(
                        "Database {db} already exists on the mirror {}: use -DropExistingDatabasesOnMirror to replace it.",
                        self.instance_name(&mirror)
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
            self.establish_mirroring(&principal, &mirror, witness.as_deref(), db);
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
                c.iter()
                    .any(|id| self.database(id, db).is_some_and(|d| d.mirroring.is_some()))
            })
            .collect();
        if mirrored.is_empty() {
            return Err(call.error(format!(
                "The {} databases on {name} are not mirrored.",
                kind.name()
            )));
        }
        for db in &mirrored {
            let principal = self.principal_by_role(&c, db);
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
            let Some(principal) = self.principal_by_role(&c, db) else {
                continue;
            };
            let other = copies.iter().find(|id| **id != principal).cloned();
            self.remove_mirroring(&principal, db);
            if let Some(other) = other {
                if let Some(d) = self.database_mut(&other, db) {
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
mod tests {
    use super::*;
    use crate::lab::fixtures::*;
    use crate::lab::DbState;
    use crate::op::PsValue;

    const FE: &str = "fe-red1.litwareinc.com";
    const RED: &str = "pool-red.litwareinc.com";

    fn run(lab: &mut LabState, name: &str, args: &[(&str, PsValue)]) -> Result<Value, OpError> {
        run_on(lab, FE, name, args)
    }

    fn state(lab: &mut LabState, pool: &str, kind: &str) -> Result<Value, OpError> {
        run(
            lab,
            "Get-CsDatabaseMirrorState",
            &[("PoolFqdn", s(pool)), ("DatabaseType", s(kind))],
        )
    }

    fn failover(lab: &mut LabState, kind: &str, to: &str, force: bool) -> Result<Value, OpError> {
        let mut args = vec![
            ("PoolFqdn", s(RED)),
            ("DatabaseType", s(kind)),
            ("NewPrincipal", s(to)),
            ("Verbose", PsValue::Switch),
        ];
        if force {
            args.push(("Force", PsValue::Switch));
        }
        run(lab, "Invoke-CsDatabaseFailover", &args)
    }

    #[test]
    fn mirror_state_per_database_and_the_cms_type_names() {
        let mut lab = litware();
        let rows = state(&mut lab, RED, "User").unwrap();
        assert_eq!(
            rows[0],
            json!({
                "DatabaseName": "rtcxds",
                "StateOnPrimary": "Principal",
                "StateOnMirror": "Mirror",
                "MirroringStatusOnPrimary": "synchronized",
                "MirroringStatusOnMirror": "synchronized",
            })
        );
        assert_eq!(rows.as_array().unwrap().len(), 3);
        assert_eq!(
            state(&mut lab, RED, "CentralMgmt")
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            state(&mut lab, "pool-dub.litwareinc.com", "CentralMgmt").unwrap()[0]["DatabaseName"],
            "xds"
        );
        let cms = message(state(&mut lab, RED, "CMS"));
        assert!(
            cms.starts_with("Cannot validate argument on parameter 'DatabaseType'"),
            "{cms}"
        );
        let chat = state(&mut lab, "pchat.litwareinc.com", "PersistentChat").unwrap();
        assert_eq!(chat[0]["StateOnMirror"], "Mirror");
        lab.apply_fault("instance-down:besql-red2").unwrap();
        let rows = state(&mut lab, RED, "Application").unwrap();
        assert_eq!(rows[0]["StateOnMirror"], INACCESSIBLE);
        assert_eq!(rows[0]["MirroringStatusOnMirror"], Value::Null);
        assert_eq!(rows[0]["MirroringStatusOnPrimary"], "disconnected");
    }

    #[test]
    fn planned_failover_and_failback_of_the_user_databases() {
        let mut lab = litware();
        failover(&mut lab, "User", "mirror", false).unwrap();
        let rows = state(&mut lab, RED, "User").unwrap();
        assert_eq!(
            (
                rows[1]["StateOnPrimary"].as_str(),
                rows[1]["StateOnMirror"].as_str()
            ),
            (Some("Mirror"), Some("Principal"))
        );
        // Application databases did not move.
        assert_eq!(
            state(&mut lab, RED, "Application").unwrap()[0]["StateOnPrimary"],
            "Principal"
        );
        let msg = message(failover(&mut lab, "User", "mirror", false));
        assert!(msg.contains("already holds the principal role"), "{msg}");
        failover(&mut lab, "User", "primary", false).unwrap();
        assert_eq!(
            lab.lync.pools[RED].back_end.current_principal.as_deref(),
            Some("besql-red1")
        );
        // Excluding a database leaves it where it was.
        run(
            &mut lab,
            "Invoke-CsDatabaseFailover",
            &[
                ("PoolFqdn", s(RED)),
                ("DatabaseType", s("Application")),
                ("NewPrincipal", s("mirror")),
                ("ExcludeDatabaseList", PsValue::List(vec!["cpsdyn".into()])),
            ],
        )
        .unwrap();
        assert_eq!(
            lab.sql["besql-red1"].databases["cpsdyn"].state,
            DbState::Online
        );
        assert_eq!(
            lab.sql["besql-red2"].databases["rgsdyn"].state,
            DbState::Online
        );
    }

    #[test]
    fn failover_refusals() {
        let mut lab = litware();
        lab.apply_fault("witness-down:besql-redw").unwrap();
        lab.apply_fault("instance-down:besql-red1").unwrap();
        let msg = message(failover(&mut lab, "User", "mirror", false));
        assert!(msg.contains("Use -Force"), "{msg}");
        let msg = message(failover(&mut lab, "User", "primary", true));
        assert!(
            msg.starts_with("Cannot connect to the primary server"),
            "{msg}"
        );
        failover(&mut lab, "User", "mirror", true).unwrap();
        failover(&mut lab, "CentralMgmt", "mirror", true).unwrap();
        assert!(lab.lync.pools[RED].back_end.available);
        // The witness was dropped from the forced sessions.
        assert!(lab.sql["besql-red2"].databases["rtcxds"]
            .mirroring
            .as_ref()
            .unwrap()
            .witness
            .is_none());
        // Without a mirror in the topology.
        lab.lync.pools.get_mut(RED).unwrap().back_end.mirror = None;
        let msg = message(failover(&mut lab, "User", "mirror", false));
        assert!(msg.contains("mirroring is not configured"), "{msg}");
        let msg = message(state(&mut lab, "pool-x.litwareinc.com", "User"));
        assert!(msg.starts_with("Cannot find Front End pool"), "{msg}");
    }

    #[test]
    fn centralmgmt_only_on_the_cms_pools() {
        let mut lab = litware();
        lab.lync.cms.as_mut().unwrap().standby_pool = None;
        let msg = message(state(&mut lab, "pool-dub.litwareinc.com", "CentralMgmt"));
        assert!(
            msg.contains("does not host the Central Management Store"),
            "{msg}"
        );
    }

    #[test]
    fn uninstall_and_install_the_back_end_mirror() {
        let mut lab = litware();
        let base = [
            ("SqlServerFqdn", s("besql-red1.litwareinc.com")),
            ("SqlInstanceName", s("rtc")),
            ("DatabaseType", s("User")),
        ];
        run(&mut lab, "Uninstall-CsMirrorDatabase", &base).unwrap();
        assert!(lab.sql["besql-red1"].databases["rtcxds"]
            .mirroring
            .is_none());
        assert_eq!(
            lab.sql["besql-red2"].databases["rtcxds"].state,
            DbState::Restoring
        );
        let msg = message(run(&mut lab, "Uninstall-CsMirrorDatabase", &base));
        assert!(msg.contains("are not mirrored"), "{msg}");
        let mut install = base.to_vec();
        install.push(("FileShare", s("\\\\fs-dub1.litwareinc.com\\pchatlogs")));
        let msg = message(run(&mut lab, "Install-CsMirrorDatabase", &install));
        assert!(msg.contains("-DropExistingDatabasesOnMirror"), "{msg}");
        install.push(("DropExistingDatabasesOnMirror", PsValue::Switch));
        run(&mut lab, "Install-CsMirrorDatabase", &install).unwrap();
        let rows = state(&mut lab, RED, "User").unwrap();
        assert_eq!(rows[2]["MirroringStatusOnMirror"], "synchronized");
        let m = lab.sql["besql-red1"].databases["rtcab"]
            .mirroring
            .clone()
            .unwrap();
        assert_eq!(m.witness.as_deref(), Some("besql-redw"));
        // -ConfiguredDatabases after dropping every mirror copy.
        for kind in ["User", "Application", "CentralMgmt"] {
            let mut args = base.to_vec();
            args[2].1 = s(kind);
            args.push(("DropExistingDatabasesOnMirror", PsValue::Switch));
            run(&mut lab, "Uninstall-CsMirrorDatabase", &args).unwrap();
        }
        assert!(lab.sql["besql-red2"].databases.is_empty());
        run(
            &mut lab,
            "Install-CsMirrorDatabase",
            &[
                ("ConfiguredDatabases", PsValue::Switch),
                ("ForInstance", s("rtc")),
                ("SqlServerFqdn", s("besql-red1.litwareinc.com")),
                ("FileShare", s("\\\\fs-dub1.litwareinc.com\\pchatlogs")),
            ],
        )
        .unwrap();
        assert_eq!(lab.sql["besql-red2"].databases.len(), 8);
    }
}
