//! The Backup Service cmdlets (§3.6, §3.7): Get-/Set-CsBackupServiceConfiguration,
//! Get-CsBackupServiceStatus, Invoke-CsBackupServiceSync and
//! Debug-CsInterPoolReplication, over the model in `lync/backup_service.rs`.

use crate::estate::{SYNC_INTERVAL_MAX, SYNC_INTERVAL_MIN};
use crate::lab::cmdlets::Call;
use crate::lab::lync::backup_service::{
    direction, module_named, CMS_MASTER, DATA_CONF, MODULES, PRESENCE_FOCUS,
};
use crate::lab::LabState;
use crate::lab::{ExportStatus, ImportStatus};
use crate::targets::OpError;
use crate::time::{format_hms, parse_hms};
use serde_json::{json, Map, Value};

/// Fixed values Get-CsBackupServiceConfiguration shows; only SyncInterval is modeled.
const MAX_CONCURRENT_CALLS: u64 = 20;
const MAX_BATCHES_PER_POOL_SYNC: u64 = 10000;
const MAX_DATACONF_PACKAGE_KB: u64 = 5120;

impl LabState {
    pub(in crate::lab) fn get_backup_config(&self, call: &Call) -> Result<Value, OpError> {
        if let Some(id) = call.text("Identity")? {
            if !id.eq_ignore_ascii_case("global") {
                return Err(call.error(format!(
                    "Cannot get \"{id}\" because it does not exist. The Backup Service has only the Global configuration."
                )));
            }
        }
        Ok(json!({
            "Identity": "Global",
            "SyncInterval": self.lync.backup_service.sync_interval,
            "MaxConcurrentCalls": MAX_CONCURRENT_CALLS,
            "MaxBatchesPerPoolSync": MAX_BATCHES_PER_POOL_SYNC,
            "MaxDataConfPackageSizeKB": MAX_DATACONF_PACKAGE_KB,
            "AuthorizedUniversalGroups": [],
        }))
    }

    pub(in crate::lab) fn set_backup_config(&mut self, call: &Call) -> Result<Value, OpError> {
        if let Some(id) = call.text("Identity")? {
            if !id.eq_ignore_ascii_case("global") {
                return Err(call.error(format!(
                    "Cannot set \"{id}\" because it does not exist. The Backup Service has only the Global configuration."
                )));
            }
        }
        // Only the interval is modeled: any other setting the cmdlet takes
        // (its parameter list is the spec table's) is refused as such.
        const MODELED: [&str; 3] = ["Identity", "SyncInterval", "Force"];
        let params = call.spec.params.iter();
        if let Some(other) = params
            .filter(|p| !MODELED.contains(p))
            .find(|p| call.has(p))
        {
            return Err(OpError::NotSimulated {
                message: format!("Set-CsBackupServiceConfiguration -{other}"),
            });
        }
        let Some(text) = call.text("SyncInterval")? else {
            return Ok(Value::Null);
        };
        let seconds = parse_hms(&text).ok_or_else(|| {
            call.error(format!(
                "Cannot bind parameter 'SyncInterval'. Cannot convert value \"{text}\" to type \"System.TimeSpan\"."
            ))
        })?;
        if !(SYNC_INTERVAL_MIN..=SYNC_INTERVAL_MAX).contains(&seconds) {
            return Err(call.error(format!(
                "Cannot validate argument on parameter 'SyncInterval'. The value {text} is out of range: it must be between 00:00:05 and 03:00:00."
            )));
        }
        self.lync.backup_service.sync_interval = format_hms(seconds);
        Ok(Value::Null)
    }

    /// The direction `pool` → its backup, as Get-CsBackupServiceStatus shows it.
    pub(in crate::lab) fn get_backup_status(&self, call: &Call) -> Result<Value, OpError> {
        let pool = self.fe_pool(call, &call.required("PoolFqdn")?)?;
        let backup = self.backup_of(call, &pool)?;
        let wanted: Vec<&str> = match call.choice("Category", &["CMS", "UserData"])?.as_deref() {
            Some("CMS") => vec![CMS_MASTER],
            Some(_) => vec![PRESENCE_FOCUS, DATA_CONF],
            None => MODULES.to_vec(),
        };
        let statuses = self
            .lync
            .backup_service
            .directions
            .get(&direction(&pool, &backup));
        let mut rows = Vec::new();
        let mut exports = Vec::new();
        let mut imports = Vec::new();
        for module in wanted {
            let Some(st) = statuses.and_then(|s| s.get(module)) else {
                continue;
            };
            let mut row = Map::new();
            row.insert("Identity".into(), json!(module));
            row.insert("ExportStatus".into(), json!(st.export));
            row.insert("ImportStatus".into(), json!(st.import));
            if let Some(t) = st.last_export_at {
                row.insert("LastExportTime".into(), json!(self.stamp(t)));
            }
            rows.push(Value::Object(row));
            exports.push(st.export);
            imports.push(st.import);
        }
        let overall_export = exports
            .iter()
            .copied()
            .filter(|e| *e != ExportStatus::NotInitialized)
            .max()
            .or_else(|| exports.first().copied())
            .unwrap_or(ExportStatus::NotInitialized);
        let overall_import = imports
            .iter()
            .copied()
            .max()
            .unwrap_or(ImportStatus::NormalState);
        Ok(json!({
            "PoolFqdn": pool,
            "BackupPoolFqdn": backup,
            "OverallExportStatus": overall_export,
            "OverallImportStatus": overall_import,
            "BackupModules": rows,
        }))
    }

    /// Invoke-CsBackupServiceSync -PoolFqdn P [-BackupModule M]: replicate
    /// P → its backup now. DataConf restores the backup pool's conference
    /// content from P (§3.7).
    pub(in crate::lab) fn invoke_backup_sync(&mut self, call: &Call) -> Result<Value, OpError> {
        let pool = self.fe_pool(call, &call.required("PoolFqdn")?)?;
        let backup = self.backup_of(call, &pool)?;
        let modules: Vec<&str> = match call.text("BackupModule")? {
            None => MODULES.to_vec(),
            Some(m) if m.eq_ignore_ascii_case("all") => MODULES.to_vec(),
            Some(m) => vec![module_named(&m).ok_or_else(|| {
                call.error(format!(
                    "\"{m}\" is not a Backup Service module: use one of {}.",
                    MODULES.join(", ")
                ))
            })?],
        };
        if !self.direction_reachable(&pool, &backup) {
            return Err(call.error(format!(
                "The Backup Service cannot synchronize \"{pool}\" with \"{backup}\": one of the pools, its Back End, or the network between their sites is down."
            )));
        }
        let now = self.elapsed();
        let master = self
            .lync
            .cms
            .as_ref()
            .is_some_and(|c| c.active_pool == pool);
        for module in modules {
            match module {
                PRESENCE_FOCUS => self.replicate(&pool, &backup),
                DATA_CONF => {
                    if let Some(b) = self.lync.pools.get_mut(&backup) {
                        b.conference_content.in_sync = true;
                    }
                }
                _ if !master => continue,
                _ => {}
            }
            self.module_status_mut(&pool, &backup, module)
                .last_export_at = Some(now);
        }
        Ok(Value::Null)
    }

    pub(in crate::lab) fn debug_replication(&self, call: &Call) -> Result<Value, OpError> {
        let pool = self.fe_pool(call, &call.required("PoolFqdn")?)?;
        let backup = self.backup_of(call, &pool)?;
        let pending = self.pending(&pool, &backup);
        Ok(json!({
            "PoolFqdn": pool,
            "BackupPoolFqdn": backup,
            "Consistent": pending == 0,
            "PendingChanges": pending,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::*;
    use crate::op::PsValue;

    const RED: &str = "pool-red.litwareinc.com";
    const DUB: &str = "pool-dub.litwareinc.com";
    const FE: &str = "fe-dub1.litwareinc.com";

    fn run(lab: &mut LabState, name: &str, args: &[(&str, PsValue)]) -> Result<Value, OpError> {
        run_on(lab, FE, name, args)
    }

    fn status(lab: &mut LabState, pool: &str) -> Value {
        run(lab, "Get-CsBackupServiceStatus", &[("PoolFqdn", s(pool))]).unwrap()
    }

    fn export(v: &Value, module: &str) -> String {
        v["BackupModules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Identity"] == module)
            .map(|m| m["ExportStatus"].as_str().unwrap().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn steady_state_both_ways_and_cms_master_only_from_the_master() {
        let mut lab = litware_at(5);
        let red = status(&mut lab, RED);
        assert_eq!(red["BackupPoolFqdn"], DUB);
        assert_eq!(red["OverallExportStatus"], "SteadyState");
        assert_eq!(red["OverallImportStatus"], "NormalState");
        assert_eq!(export(&red, CMS_MASTER), "SteadyState");
        let dub = status(&mut lab, DUB);
        assert_eq!(export(&dub, CMS_MASTER), "NotInitialized");
        assert_eq!(export(&dub, PRESENCE_FOCUS), "SteadyState");
        assert_eq!(dub["OverallExportStatus"], "SteadyState");
        assert_eq!(
            dub["BackupModules"][0]["LastExportTime"],
            "2026-03-14T01:04:00Z"
        );
        let cms_only = run(
            &mut lab,
            "Get-CsBackupServiceStatus",
            &[("PoolFqdn", s(RED)), ("Category", s("CMS"))],
        )
        .unwrap();
        assert_eq!(cms_only["BackupModules"].as_array().unwrap().len(), 1);
        // -BackupModule is not a parameter of Get-CsBackupServiceStatus ([R]).
        let err = run(
            &mut lab,
            "Get-CsBackupServiceStatus",
            &[("PoolFqdn", s(RED)), ("BackupModule", s(DATA_CONF))],
        )
        .unwrap_err();
        assert!(err.to_string().contains("'BackupModule'"), "{err}");
    }

    #[test]
    fn a_cut_link_is_an_error_then_a_backlog_until_the_next_sync() {
        let mut lab = litware_at(5);
        lab.apply_fault("link-down:dublin-redmond").unwrap();
        lab.advance(5 * 60);
        let red = status(&mut lab, RED);
        assert_eq!(red["OverallExportStatus"], "ErrorState");
        assert_eq!(red["OverallImportStatus"], "ErrorState");
        let debug = run(
            &mut lab,
            "Debug-CsInterPoolReplication",
            &[("PoolFqdn", s(RED))],
        )
        .unwrap();
        assert_eq!(debug["Consistent"], false);
        // Last sync at 4:00, now 10:00 (ops take time but make no changes).
        assert_eq!(debug["PendingChanges"], 6 * 200);
        lab.apply_fault("link-up:dublin-redmond").unwrap();
        assert_eq!(
            export(&status(&mut lab, RED), PRESENCE_FOCUS),
            "NonSteadyState"
        );
        lab.advance(2 * 60);
        assert_eq!(
            export(&status(&mut lab, RED), PRESENCE_FOCUS),
            "SteadyState"
        );
        // A forced sync replicates at once.
        lab.apply_fault("link-down:dublin-redmond").unwrap();
        lab.advance(60);
        lab.apply_fault("link-up:dublin-redmond").unwrap();
        run(
            &mut lab,
            "Invoke-CsBackupServiceSync",
            &[("PoolFqdn", s(RED))],
        )
        .unwrap();
        let debug = run(
            &mut lab,
            "Debug-CsInterPoolReplication",
            &[("PoolFqdn", s(RED))],
        )
        .unwrap();
        assert_eq!(debug["PendingChanges"], 0);
        assert_eq!(
            export(&status(&mut lab, RED), PRESENCE_FOCUS),
            "SteadyState"
        );
    }

    #[test]
    fn a_planned_failover_reaches_final_state() {
        let mut lab = litware_at(5);
        run(
            &mut lab,
            "Set-CsEdgeServer",
            &[
                ("Identity", s("EdgeServer:edge-dub.litwareinc.com")),
                ("Registrar", s(&format!("Registrar:{RED}"))),
            ],
        )
        .unwrap();
        lab.perform(&cmdlet(
            "fe-red1.litwareinc.com",
            "Invoke-CsPoolFailOver",
            &[("PoolFqdn", s(DUB))],
        ))
        .result
        .unwrap();
        let dub = status(&mut lab, DUB);
        assert_eq!(export(&dub, PRESENCE_FOCUS), "FinalState");
        assert_eq!(export(&dub, DATA_CONF), "FinalState");
    }

    #[test]
    fn conference_content_is_restored_by_a_dataconf_sync_from_the_backup_pool() {
        let mut lab = litware_at(5);
        lab.lync
            .pools
            .get_mut(RED)
            .unwrap()
            .conference_content
            .in_sync = false;
        run(
            &mut lab,
            "Invoke-CsBackupServiceSync",
            &[
                ("PoolFqdn", s(DUB)),
                ("BackupModule", s("ConfServices.DataConf")),
            ],
        )
        .unwrap();
        assert!(lab.lync.pools[RED].conference_content.in_sync);
        let err = run(
            &mut lab,
            "Invoke-CsBackupServiceSync",
            &[("PoolFqdn", s(DUB)), ("BackupModule", s("Nope"))],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("is not a Backup Service module"),
            "{err}"
        );
        // Short names work too.
        run(
            &mut lab,
            "Invoke-CsBackupServiceSync",
            &[("PoolFqdn", s(DUB)), ("BackupModule", s("DataConf"))],
        )
        .unwrap();
    }

    #[test]
    fn sync_interval_is_read_and_set_within_its_range() {
        let mut lab = litware();
        let config = run(&mut lab, "Get-CsBackupServiceConfiguration", &[]).unwrap();
        assert_eq!(
            (config["Identity"].as_str(), config["SyncInterval"].as_str()),
            (Some("Global"), Some("00:02:00"))
        );
        let set = |v: &str| [("Identity", s("global")), ("SyncInterval", s(v))];
        run(
            &mut lab,
            "Set-CsBackupServiceConfiguration",
            &set("00:03:00"),
        )
        .unwrap();
        assert_eq!(lab.lync.backup_service.sync_interval, "00:03:00");
        for bad in ["00:00:04", "03:00:01", "soon"] {
            let err = run(&mut lab, "Set-CsBackupServiceConfiguration", &set(bad)).unwrap_err();
            assert!(matches!(err, OpError::Cmdlet { .. }), "{bad}: {err}");
        }
        // Syncs now every 3 minutes: at 3:00 and 6:00.
        lab.advance(5 * 60);
        let st = &lab.lync.backup_service.directions[&direction(RED, DUB)][PRESENCE_FOCUS];
        assert_eq!(st.last_export_at, Some(180));
    }
}
