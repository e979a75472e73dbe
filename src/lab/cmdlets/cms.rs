//! The Central Management Store cmdlets: Get-CsManagementStoreReplicationStatus
//! and Invoke-CsManagementServerFailover (§3.3), whose -WhatIf is how the
//! documentation finds the CMS pool and its backup.

use crate::lab::cmdlets::Call;
use crate::lab::lync::CMS_DATABASES;
use crate::lab::LabState;
use crate::targets::OpError;
use serde_json::{json, Value};

impl LabState {
    fn cms_or_error(&self, call: &Call) -> Result<crate::lab::Cms, OpError> {
        self.lync
            .cms
            .clone()
            .ok_or_else(|| call.error("The topology has no Central Management Store."))
    }

    /// `server` and instance name of an instance id, as Lync reports them.
    fn sql_names(&self, id: Option<&String>) -> (Value, Value) {
        match id.and_then(|i| self.sql.get(i)) {
            Some(i) => (json!(i.server), json!(i.instance)),
            None => (Value::Null, Value::Null),
        }
    }

    /// Invoke-CsManagementServerFailover -WhatIf: where the CMS is, its
    /// backup pool and that pool's Back End servers (topology primary and
    /// mirror). Changes nothing.
    pub(in crate::lab) fn cms_failover_whatif(&self, call: &Call) -> Result<Value, OpError> {
        let cms = self.cms_or_error(call)?;
        let backup = cms
            .standby_pool
            .as_ref()
            .and_then(|b| self.lync.pools.get(b));
        let (pf, pi) = self.sql_names(backup.map(|b| &b.back_end.principal));
        let (mf, mi) = self.sql_names(backup.and_then(|b| b.back_end.mirror.as_ref()));
        Ok(json!({
            "CentralManagementStorePool": cms.active_pool,
            "BackupPool": cms.standby_pool,
            "PrincipalSqlServerFqdn": pf,
            "PrincipalSqlInstanceName": pi,
            "MirrorSqlServerFqdn": mf,
            "MirrorSqlInstanceName": mi,
        }))
    }

    pub(in crate::lab) fn get_cms_replication(&self, call: &Call) -> Result<Value, OpError> {
        let cms = self.cms_or_error(call)?;
        if call.switch("CentralManagementStoreStatus") {
            let available = self.cms_available();
            return Ok(json!({
                "ActiveMasterFqdn": available.then_some(cms.active_pool.clone()),
                "ActiveFileTransferAgents": if available { vec![cms.active_pool.clone()] } else { vec![] },
            }));
        }
        let only = call.text("ReplicaFqdn")?;
        let now = self.elapsed();
        let rows = cms
            .replicas
            .iter()
            .filter(|(fqdn, _)| only.as_ref().is_none_or(|o| o.eq_ignore_ascii_case(fqdn)))
            .map(|(fqdn, r)| {
                let at = if r.up_to_date {
                    now
                } else {
                    r.stale_since.unwrap_or(now)
                };
                json!({"ReplicaFqdn": fqdn, "UpToDate": r.up_to_date, "LastStatusReport": self.stamp(at)})
            });
        Ok(Value::Array(rows.collect()))
    }

    /// Invoke-CsManagementServerFailover: the DR parameter set ([R]) names
    /// the backup pool's current Back End principal and needs -Force; the
    /// parameterless set moves the CMS only while both pools run.
    pub(in crate::lab) fn invoke_cms_failover(&mut self, call: &Call) -> Result<Value, OpError> {
        let cms = self.cms_or_error(call)?;
        let primary_set = call.has("BackupSqlServerFqdn") || call.has("BackupSqlInstanceName");
        let mirror_set =
            call.has("BackupMirrorSqlServerFqdn") || call.has("BackupMirrorSqlInstanceName");
        if primary_set && mirror_set {
            return Err(call
                .error("Parameter set cannot be resolved using the specified named parameters."));
        }
        let Some(standby) = cms.standby_pool.clone() else {
            return Err(call.error(format!(
                "The Central Management Store pool \"{}\" has no backup pool: there is no standby copy to fail over to.",
                cms.active_pool
            )));
        };
        let Some(backup) = self.lync.pools.get(&standby).cloned() else {
            return Err(call.error(format!(
                "Cannot find Front End pool \"{standby}\" in the topology."
            )));
        };
        if primary_set || mirror_set {
            let (fqdn_param, inst_param, role, id) = if primary_set {
                (
                    "BackupSqlServerFqdn",
                    "BackupSqlInstanceName",
                    "primary",
                    Some(backup.back_end.principal.clone()),
                )
            } else {
                (
                    "BackupMirrorSqlServerFqdn",
                    "BackupMirrorSqlInstanceName",
                    "mirror",
                    backup.back_end.mirror.clone(),
                )
            };
            let fqdn = call.required(fqdn_param)?;
            let instance = call.text(inst_param)?;
            if !call.switch("Force") {
                return Err(call.error(
                    "Cannot process command because of one or more missing mandatory parameters: Force.",
                ));
            }
            let named = |id: &String| {
                self.sql.get(id).is_some_and(|i| {
                    i.server.eq_ignore_ascii_case(&fqdn)
                        && match (&i.instance, &instance) {
                            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                            (None, None) => true,
                            _ => false,
                        }
                })
            };
            let given = match &instance {
                Some(i) => format!("{fqdn}\\{i}"),
                None => fqdn.clone(),
            };
            let Some(id) = id.filter(named) else {
                return Err(call.error(format!(
                    "{given} is not the {role} Back End server of the backup pool \"{standby}\"."
                )));
            };
            if !CMS_DATABASES
                .iter()
                .all(|db| self.sql.serving(&id, db, &self.network()))
            {
                return Err(call.error(format!(
                    "{given} is not the principal of the Central Management Store databases of pool \"{standby}\": \
                     check Get-CsDatabaseMirrorState -PoolFqdn {standby} -DatabaseType CentralMgmt and name the server that is."
                )));
            }
            if !backup.up {
                return Err(call.error(format!(
                    "The backup pool \"{standby}\" is not available: the Central Management Server cannot start there."
                )));
            }
        } else {
            let both = self.cms_available()
                && backup.up
                && self.pool_serves(&standby, &CMS_DATABASES)
                && self
                    .lync
                    .pools
                    .get(&cms.active_pool)
                    .is_some_and(|p| self.sites_linked(&p.site, &backup.site));
            if !both {
                return Err(call.error(format!(
                    "A planned move of the Central Management Store needs both \"{}\" and \"{standby}\" running and connected. \
                     To recover from a disaster, name the backup pool's Back End with -BackupSqlServerFqdn/-BackupSqlInstanceName \
                     (or -BackupMirrorSqlServerFqdn/-BackupMirrorSqlInstanceName) and -Force.",
                    cms.active_pool
                )));
            }
        }
        self.cms_move_to_standby();
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::*;
    use crate::op::PsValue;

    const FE_DUB: &str = "fe-dub1.litwareinc.com";

    fn run(lab: &mut LabState, name: &str, args: &[(&str, PsValue)]) -> Result<Value, OpError> {
        run_on(lab, FE_DUB, name, args)
    }

    fn dr(server: &str, force: bool) -> Vec<(&'static str, PsValue)> {
        let mut args = vec![
            ("BackupSqlServerFqdn", s(server)),
            ("BackupSqlInstanceName", s("rtc")),
        ];
        if force {
            args.push(("Force", PsValue::Switch));
        }
        args
    }

    #[test]
    fn whatif_finds_the_cms_pool_and_its_backup_and_changes_nothing() {
        let mut lab = litware();
        let before = lab.lync.clone();
        let info = run(
            &mut lab,
            "Invoke-CsManagementServerFailover",
            &[("WhatIf", PsValue::Switch)],
        )
        .unwrap();
        assert_eq!(
            info,
            json!({
                "CentralManagementStorePool": "pool-red.litwareinc.com",
                "BackupPool": "pool-dub.litwareinc.com",
                "PrincipalSqlServerFqdn": "besql-dub1.litwareinc.com",
                "PrincipalSqlInstanceName": "rtc",
                "MirrorSqlServerFqdn": "besql-dub2.litwareinc.com",
                "MirrorSqlInstanceName": "rtc",
            })
        );
        assert_eq!(lab.lync, before);
        let status = run(
            &mut lab,
            "Get-CsManagementStoreReplicationStatus",
            &[("CentralManagementStoreStatus", PsValue::Switch)],
        )
        .unwrap();
        assert_eq!(
            status,
            json!({"ActiveMasterFqdn": "pool-red.litwareinc.com", "ActiveFileTransferAgents": ["pool-red.litwareinc.com"]})
        );
    }

    #[test]
    fn cms_failover_after_losing_its_site() {
        let mut lab = litware_at(3);
        lab.apply_fault("site-down:redmond").unwrap();
        let status = run(
            &mut lab,
            "Get-CsManagementStoreReplicationStatus",
            &[("CentralManagementStoreStatus", PsValue::Switch)],
        )
        .unwrap();
        assert_eq!(
            status,
            json!({"ActiveMasterFqdn": null, "ActiveFileTransferAgents": []})
        );
        let replicas = run(&mut lab, "Get-CsManagementStoreReplicationStatus", &[]).unwrap();
        assert!(replicas
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["UpToDate"] == false));
        assert_eq!(replicas[0]["LastStatusReport"], "2026-03-14T01:03:00Z");

        // -Force is mandatory; the doc's -MirrorSQLServerFqdn is unknown.
        let msg = message(run(
            &mut lab,
            "Invoke-CsManagementServerFailover",
            &dr("besql-dub1.litwareinc.com", false),
        ));
        assert!(
            msg.ends_with("missing mandatory parameters: Force."),
            "{msg}"
        );
        let msg = message(run(
            &mut lab,
            "Invoke-CsManagementServerFailover",
            &[("MirrorSQLServerFqdn", s("besql-dub2.litwareinc.com"))],
        ));
        assert_eq!(
            msg,
            "A parameter cannot be found that matches parameter name 'MirrorSQLServerFqdn'."
        );
        // The mirror is not the principal; the planned form needs both pools.
        let msg = message(run(
            &mut lab,
            "Invoke-CsManagementServerFailover",
            &[
                ("BackupMirrorSqlServerFqdn", s("besql-dub2.litwareinc.com")),
                ("BackupMirrorSqlInstanceName", s("rtc")),
                ("Force", PsValue::Switch),
            ],
        ));
        assert!(msg.contains("is not the principal"), "{msg}");
        let msg = message(run(&mut lab, "Invoke-CsManagementServerFailover", &[]));
        assert!(msg.starts_with("A planned move"), "{msg}");

        run(
            &mut lab,
            "Invoke-CsManagementServerFailover",
            &dr("besql-dub1.litwareinc.com", true),
        )
        .unwrap();
        let cms = lab.lync.cms.clone().unwrap();
        assert_eq!(
            (cms.active_pool.as_str(), cms.standby_pool.as_deref()),
            ("pool-dub.litwareinc.com", Some("pool-red.litwareinc.com"))
        );
        assert!(lab.lync.pools["pool-dub.litwareinc.com"].hosts_cms);
        let status = run(
            &mut lab,
            "Get-CsManagementStoreReplicationStatus",
            &[("CentralManagementStoreStatus", PsValue::Switch)],
        )
        .unwrap();
        assert_eq!(status["ActiveMasterFqdn"], "pool-dub.litwareinc.com");
        // Dublin's replicas are up to date; Redmond's servers are down.
        let replicas = run(&mut lab, "Get-CsManagementStoreReplicationStatus", &[]).unwrap();
        for r in replicas.as_array().unwrap() {
            let dublin = r["ReplicaFqdn"].as_str().unwrap().contains("dub");
            assert_eq!(r["UpToDate"], dublin, "{r}");
        }
    }

    #[test]
    fn cms_failover_to_the_mirror_when_it_is_the_principal() {
        let mut lab = litware();
        lab.apply_fault("instance-down:besql-dub1").unwrap();
        // Dublin has no witness: an operator brings the mirror into service.
        run(
            &mut lab,
            "Invoke-CsDatabaseFailover",
            &[
                ("PoolFqdn", s("pool-dub.litwareinc.com")),
                ("DatabaseType", s("CentralMgmt")),
                ("NewPrincipal", s("mirror")),
                ("Force", PsValue::Switch),
            ],
        )
        .unwrap();
        let msg = message(run(
            &mut lab,
            "Invoke-CsManagementServerFailover",
            &dr("besql-dub1.litwareinc.com", true),
        ));
        assert!(msg.contains("is not the principal"), "{msg}");
        run(
            &mut lab,
            "Invoke-CsManagementServerFailover",
            &[
                ("BackupMirrorSqlServerFqdn", s("besql-dub2.litwareinc.com")),
                ("BackupMirrorSqlInstanceName", s("rtc")),
                ("Force", PsValue::Switch),
            ],
        )
        .unwrap();
        assert_eq!(
            lab.lync.cms.as_ref().unwrap().active_pool,
            "pool-dub.litwareinc.com"
        );
        // A planned move back, both pools running.
        run(&mut lab, "Invoke-CsManagementServerFailover", &[]).unwrap();
        assert_eq!(
            lab.lync.cms.as_ref().unwrap().active_pool,
            "pool-red.litwareinc.com"
        );
    }
}
