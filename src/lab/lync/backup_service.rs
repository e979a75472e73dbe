//! The Backup Service between paired pools (§3.6, §3.7): every sync
//! interval, each direction P→Q replicates the user data P serves whose
//! other copy is at Q (P's own users while P serves them; Q's users while
//! they are failed over to P), if both pools run with their Back Ends and
//! the link between their sites is up. Status is per direction and module.

use crate::estate::{format_hms, parse_hms, SYNC_INTERVAL_MAX, SYNC_INTERVAL_MIN};
use crate::lab::cmdlets::Call;
use crate::lab::{LabState, PoolState};
use crate::targets::OpError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupServiceState {
    /// `hh:mm:ss`.
    pub sync_interval: String,
    /// `P1->P2` → module identity → status of that direction.
    pub directions: BTreeMap<String, BTreeMap<String, ModuleStatus>>,
}

impl Default for BackupServiceState {
    fn default() -> Self {
        BackupServiceState {
            sync_interval: "00:02:00".to_string(),
            directions: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleStatus {
    pub export: ExportStatus,
    pub import: ImportStatus,
    /// When this module last exported successfully in this direction.
    pub last_export_at: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ExportStatus {
    FinalState,
    SteadyState,
    NotInitialized,
    NonSteadyState,
    ErrorState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ImportStatus {
    NormalState,
    ErrorState,
}

pub const PRESENCE_FOCUS: &str = "UserServices.PresenceFocus";
pub const DATA_CONF: &str = "ConfServices.DataConf";
pub const CMS_MASTER: &str = "CentralMgmt.CMSMaster";
pub const MODULES: [&str; 3] = [PRESENCE_FOCUS, DATA_CONF, CMS_MASTER];

/// Fixed values Get-CsBackupServiceConfiguration shows; only SyncInterval is modeled.
const MAX_CONCURRENT_CALLS: u64 = 20;
const MAX_BATCHES_PER_POOL_SYNC: u64 = 10000;
const MAX_DATACONF_PACKAGE_KB: u64 = 5120;

/// `P1->P2`.
pub fn direction(from: &str, to: &str) -> String {
    format!("{from}->{to}")
}

/// A module's dotted name from a dotted or short one, ignoring case.
fn module_named(name: &str) -> Option<&'static str> {
    MODULES.into_iter().find(|m| {
        m.eq_ignore_ascii_case(name)
            || m.split('.')
                .nth(1)
                .is_some_and(|short| short.eq_ignore_ascii_case(name))
    })
}

impl LabState {
    pub(in crate::lab) fn sync_interval_seconds(&self) -> u64 {
        parse_hms(&self.lync.backup_service.sync_interval)
            .unwrap_or(120)
            .max(1)
    }

    /// Every (pool, its backup) pair, each direction once.
    pub(in crate::lab) fn backup_directions(&self) -> Vec<(String, String)> {
        self.lync
            .pools
            .iter()
            .filter_map(|(n, p)| {
                let b = p.backup_pool.as_ref()?;
                self.lync
                    .pools
                    .contains_key(b)
                    .then(|| (n.clone(), b.clone()))
            })
            .collect()
    }

    /// The Backup Service can replicate from `from` to `to` now.
    pub(in crate::lab) fn direction_reachable(&self, from: &str, to: &str) -> bool {
        match (self.lync.pools.get(from), self.lync.pools.get(to)) {
            (Some(a), Some(b)) => {
                self.pool_working(from)
                    && self.pool_working(to)
                    && self.sites_linked(&a.site, &b.site)
            }
            _ => false,
        }
    }

    /// The pools whose users' data `from` exports to `to`, with whether
    /// the source copy is the home copy.
    fn exported_data(&self, from: &str, to: &str) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        if let Some(p) = self.lync.pools.get(from) {
            if p.backup_pool.as_deref() == Some(to) && p.users.served_by == from {
                out.push((from.to_string(), true));
            }
        }
        if let Some(p) = self.lync.pools.get(to) {
            if p.backup_pool.as_deref() == Some(from)
                && p.state == PoolState::FailedOver
                && p.users.served_by == from
            {
                out.push((to.to_string(), false));
            }
        }
        out
    }

    /// Changes `from` holds that `to` does not yet.
    pub(in crate::lab) fn pending(&self, from: &str, to: &str) -> u64 {
        self.exported_data(from, to)
            .iter()
            .filter_map(|(pool, home)| {
                let d = &self.lync.pools.get(pool)?.data;
                let (src, dst) = if *home {
                    (&d.home_copy, &d.backup_copy)
                } else {
                    (&d.backup_copy, &d.home_copy)
                };
                Some(src.changes.saturating_sub(dst.changes))
            })
            .sum()
    }

    /// Copy the user data `from` exports to `to`.
    fn replicate(&mut self, from: &str, to: &str) {
        for (pool, home) in self.exported_data(from, to) {
            if let Some(p) = self.lync.pools.get_mut(&pool) {
                let d = &mut p.data;
                if home {
                    d.backup_copy = d.home_copy.clone();
                } else {
                    d.home_copy = d.backup_copy.clone();
                }
            }
        }
    }

    fn module_status_mut(&mut self, from: &str, to: &str, module: &str) -> &mut ModuleStatus {
        self.lync
            .backup_service
            .directions
            .entry(direction(from, to))
            .or_default()
            .entry(module.to_string())
            .or_insert(ModuleStatus {
                export: ExportStatus::SteadyState,
                import: ImportStatus::NormalState,
                last_export_at: None,
            })
    }

    /// `from`'s user modules (and CMSMaster, if it is the master) exported at `at`.
    pub(in crate::lab) fn mark_exported(&mut self, from: &str, to: &str, at: u64) {
        let master = self
            .lync
            .cms
            .as_ref()
            .is_some_and(|c| c.active_pool == from);
        for module in MODULES {
            if module != CMS_MASTER || master {
                self.module_status_mut(from, to, module).last_export_at = Some(at);
            }
        }
    }

    /// The scheduled sync: every reachable direction replicates.
    pub(in crate::lab) fn backup_sync_job(&mut self, at: u64) {
        for (from, to) in self.backup_directions() {
            if self.direction_reachable(&from, &to) {
                self.replicate(&from, &to);
                self.mark_exported(&from, &to, at);
            }
        }
    }

    /// Recompute every direction's module statuses.
    pub(in crate::lab) fn refresh_backup_service(&mut self) {
        let now = self.elapsed();
        let interval = self.sync_interval_seconds();
        let master = self.lync.cms.as_ref().map(|c| c.active_pool.clone());
        let mut directions = BTreeMap::new();
        for (from, to) in self.backup_directions() {
            let key = direction(&from, &to);
            let reachable = self.direction_reachable(&from, &to);
            let pending = self.pending(&from, &to);
            let read_only = self.lync.pools.get(&from).is_some_and(|p| p.read_only);
            let old = self.lync.backup_service.directions.get(&key);
            let mut modules = BTreeMap::new();
            for module in MODULES {
                let last = match old.and_then(|o| o.get(module)) {
                    Some(s) => s.last_export_at,
                    // A new pairing starts in steady state.
                    None => reachable.then_some(now),
                };
                let recent = last.is_some_and(|t| now.saturating_sub(t) <= interval);
                let (export, import) = if !reachable {
                    (ExportStatus::ErrorState, ImportStatus::ErrorState)
                } else if module == CMS_MASTER && master.as_deref() != Some(from.as_str()) {
                    (ExportStatus::NotInitialized, ImportStatus::NormalState)
                } else if module == CMS_MASTER {
                    let e = if recent {
                        ExportStatus::SteadyState
                    } else {
                        ExportStatus::NonSteadyState
                    };
                    (e, ImportStatus::NormalState)
                } else {
                    let backlog = if module == PRESENCE_FOCUS { pending } else { 0 };
                    let e = if read_only && backlog == 0 {
                        ExportStatus::FinalState
                    } else if recent {
                        ExportStatus::SteadyState
                    } else {
                        ExportStatus::NonSteadyState
                    };
                    (e, ImportStatus::NormalState)
                };
                modules.insert(
                    module.to_string(),
                    ModuleStatus {
                        export,
                        import,
                        last_export_at: last,
                    },
                );
            }
            directions.insert(key, modules);
        }
        self.lync.backup_service.directions = directions;
    }

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
        for other in [
            "AuthorizedUniversalGroups",
            "MaxConcurrentCalls",
            "MaxBatchesPerPoolSync",
            "MaxBatchesPerModuleSync",
            "MaxDataConfPackageSizeKB",
            "Instance",
        ] {
            if call.has(other) {
                return Err(OpError::NotSimulated {
                    message: format!("Set-CsBackupServiceConfiguration -{other}"),
                });
            }
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
