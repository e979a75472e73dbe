//! How the lab answers Lync Server Management Shell cmdlets: the parameter
//! lists, PowerShell's parameter binding, dispatch to the module that
//! simulates each cmdlet, and the Get-Command probe runbooks use to settle
//! the documentation's parameter conflicts (PROCEDURES.md §4).
//!
//! Parameters are checked against each cmdlet's parameter list, as
//! PowerShell's binder does, so a runbook written against the wrong source
//! fails in the lab the way it would on a real server. `docs/lab-cmdlets.md`
//! documents every cmdlet here.

use crate::lab::LabState;

pub(in crate::lab) mod backup_service;
pub(in crate::lab) mod cms;
pub(in crate::lab) mod edge;
pub(in crate::lab) mod mirror_database;
pub(in crate::lab) mod persistent_chat;
pub(in crate::lab) mod pools;
use crate::op::{CmdletArg, PsValue};
use crate::targets::OpError;
use serde_json::{json, Value};

/// What PowerShell remoting reports when the management host does not answer.
const WINRM_FAILED: &str = "Connecting to remote server failed: WinRM cannot complete the operation. \
     Verify that the specified computer name is valid, that the computer is accessible over the network";

pub(in crate::lab) struct CmdletSpec {
    pub name: &'static str,
    params: &'static [&'static str],
    /// Supports -WhatIf / -Confirm.
    changes: bool,
}

const fn spec(name: &'static str, params: &'static [&'static str], changes: bool) -> CmdletSpec {
    CmdletSpec {
        name,
        params,
        changes,
    }
}

const CMDLETS: &[CmdletSpec] = &[
    spec(
        "Get-CsService",
        &[
            "Identity",
            "Filter",
            "LocalStore",
            "PoolFqdn",
            "PersistentChatServer",
            "Registrar",
            "UserServer",
            "WebServer",
            "EdgeServer",
            "CentralManagement",
        ],
        false,
    ),
    spec("Get-CsPersistentChatState", &["Identity"], false),
    spec(
        "Set-CsPersistentChatState",
        &["Identity", "PoolState", "Force"],
        true,
    ),
    spec(
        "Get-CsPersistentChatActiveServer",
        &["Identity", "Filter", "LocalStore"],
        false,
    ),
    spec(
        "Set-CsPersistentChatActiveServer",
        &["Identity", "ActiveServers", "Force", "Instance"],
        true,
    ),
    spec(
        "Install-CsMirrorDatabase",
        &[
            "ConfiguredDatabases",
            "DatabaseType",
            "DatabasePathMap",
            "DropExistingDatabasesOnMirror",
            "ExcludeDatabaseList",
            "FileShare",
            "ForDefaultInstance",
            "ForInstance",
            "Report",
            "SqlInstanceName",
            "SqlServerFqdn",
            "Update",
            "UseDefaultSqlPaths",
        ],
        true,
    ),
    spec(
        "Uninstall-CsMirrorDatabase",
        &[
            "SqlServerFqdn",
            "SqlInstanceName",
            "DatabaseType",
            "DropExistingDatabasesOnMirror",
            "Report",
        ],
        true,
    ),
    spec(
        "Get-CsDatabaseMirrorState",
        &["PoolFqdn", "DatabaseType"],
        false,
    ),
    spec(
        "Invoke-CsDatabaseFailover",
        &[
            "PoolFqdn",
            "DatabaseType",
            "NewPrincipal",
            "Force",
            "ExcludeDatabaseList",
            "LocalStore",
            "Report",
        ],
        true,
    ),
    spec("Get-CsPoolBackupRelationship", &["PoolFqdn"], false),
    spec(
        "Get-CsManagementStoreReplicationStatus",
        &["CentralManagementStoreStatus", "ReplicaFqdn"],
        false,
    ),
    spec(
        "Invoke-CsManagementServerFailover",
        &[
            "BackupSqlServerFqdn",
            "BackupSqlInstanceName",
            "BackupMirrorSqlServerFqdn",
            "BackupMirrorSqlInstanceName",
            "Force",
        ],
        true,
    ),
    spec(
        "Invoke-CsPoolFailOver",
        &[
            "PoolFqdn",
            "DisasterMode",
            "Force",
            "WaitTime",
            "FlushStorageService",
        ],
        true,
    ),
    spec(
        "Invoke-CsPoolFailBack",
        &["PoolFqdn", "DisasterMode", "Force", "WaitTime"],
        true,
    ),
    spec(
        "Get-CsBackupServiceConfiguration",
        &["Identity", "Filter", "LocalStore"],
        false,
    ),
    spec(
        "Set-CsBackupServiceConfiguration",
        &[
            "Identity",
            "SyncInterval",
            "AuthorizedUniversalGroups",
            "MaxConcurrentCalls",
            "MaxBatchesPerPoolSync",
            "MaxBatchesPerModuleSync",
            "MaxDataConfPackageSizeKB",
            "Instance",
            "Force",
        ],
        true,
    ),
    spec(
        "Get-CsBackupServiceStatus",
        &["PoolFqdn", "Category"],
        false,
    ),
    spec(
        "Invoke-CsBackupServiceSync",
        &["PoolFqdn", "BackupModule"],
        true,
    ),
    spec("Debug-CsInterPoolReplication", &["PoolFqdn"], false),
    spec("Get-CsPoolFabricState", &["PoolFqdn", "Type"], false),
    spec(
        "Set-CsEdgeServer",
        &[
            "Identity",
            "Registrar",
            "Force",
            "Instance",
            "AccessEdgeExternalSipPort",
            "DependentServiceList",
        ],
        true,
    ),
    spec("Get-CsSite", &["Identity", "Filter", "LocalStore"], false),
    spec(
        "Set-CsSite",
        &[
            "Identity",
            "XmppFederationRoute",
            "FederationRoute",
            "Description",
            "DisplayName",
            "Instance",
            "Force",
        ],
        true,
    ),
    spec(
        "Stop-CsWindowsService",
        &[
            "Name",
            "ComputerName",
            "Force",
            "NoWait",
            "Graceful",
            "Report",
        ],
        true,
    ),
    spec(
        "Start-CsWindowsService",
        &["Name", "ComputerName", "Force", "NoWait", "Report"],
        true,
    ),
    spec(
        "Get-Command",
        &["Name", "Module", "Noun", "Verb", "CommandType", "Syntax"],
        false,
    ),
];

/// PowerShell's common parameters, accepted by every cmdlet.
const COMMON: &[&str] = &[
    "Verbose",
    "Debug",
    "ErrorAction",
    "WarningAction",
    "InformationAction",
    "ErrorVariable",
    "WarningVariable",
    "InformationVariable",
    "OutVariable",
    "OutBuffer",
    "PipelineVariable",
];
const SHOULD_PROCESS: &[&str] = &["WhatIf", "Confirm"];

/// Get-CsService role switches the lab knows but does not simulate.
const OTHER_SERVICES: &[&str] = &["UserServer", "WebServer", "CentralManagement"];

impl CmdletSpec {
    pub fn parameters(&self) -> Vec<&'static str> {
        let extra = if self.changes { SHOULD_PROCESS } else { &[] };
        self.params
            .iter()
            .chain(extra)
            .chain(COMMON)
            .copied()
            .collect()
    }
}

/// One cmdlet invocation: its spec and the arguments as given.
pub(in crate::lab) struct Call<'a> {
    pub spec: &'static CmdletSpec,
    pub args: &'a [CmdletArg],
    /// The server the cmdlet runs on.
    pub host: &'a str,
}

impl Call<'_> {
    pub fn error(&self, message: impl Into<String>) -> OpError {
        OpError::Cmdlet {
            cmdlet: self.spec.name.to_string(),
            message: message.into(),
        }
    }

    fn check_parameters(&self) -> Result<(), OpError> {
        let known = self.spec.parameters();
        match self
            .args
            .iter()
            .find(|a| !known.iter().any(|k| k.eq_ignore_ascii_case(&a.name)))
        {
            Some(a) => Err(self.error(format!(
                "A parameter cannot be found that matches parameter name '{}'.",
                a.name
            ))),
            None => Ok(()),
        }
    }

    pub fn value(&self, name: &str) -> Option<&PsValue> {
        self.args
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
            .map(|a| &a.value)
    }

    pub fn has(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    pub fn switch(&self, name: &str) -> bool {
        matches!(
            self.value(name),
            Some(PsValue::Switch | PsValue::Bool(true))
        )
    }

    /// A parameter bound as a string, if given.
    pub fn text(&self, name: &str) -> Result<Option<String>, OpError> {
        match self.value(name) {
            None => Ok(None),
            Some(PsValue::Str(s)) => Ok(Some(s.clone())),
            Some(PsValue::Int(i)) => Ok(Some(i.to_string())),
            Some(PsValue::List(l)) if l.len() == 1 => Ok(Some(l[0].clone())),
            Some(other) => Err(self.error(format!(
                "Cannot bind parameter '{name}': {other:?} is not a string."
            ))),
        }
    }

    pub fn required(&self, name: &str) -> Result<String, OpError> {
        self.text(name)?.ok_or_else(|| {
            self.error(format!(
                "Cannot process command because of one or more missing mandatory parameters: {name}."
            ))
        })
    }

    /// A parameter bound as a list of strings (`'a','b'`, `'a,b'` or `'a'`).
    pub fn list(&self, name: &str) -> Result<Vec<String>, OpError> {
        match self.value(name) {
            None => Ok(Vec::new()),
            Some(v) => as_list(v)
                .map(|items| {
                    items
                        .iter()
                        .flat_map(|i| i.split(','))
                        .map(|i| i.trim().to_string())
                        .filter(|i| !i.is_empty())
                        .collect()
                })
                .ok_or_else(|| {
                    self.error(format!(
                        "Cannot bind parameter '{name}': {v:?} is not a list of strings."
                    ))
                }),
        }
    }

    /// A value from a fixed set, as PowerShell's ValidateSet binds it.
    pub fn choice(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, OpError> {
        let Some(given) = self.text(name)? else {
            return Ok(None);
        };
        match allowed.iter().find(|a| a.eq_ignore_ascii_case(given.trim())) {
            Some(a) => Ok(Some(a.to_string())),
            None => Err(self.error(format!(
                "Cannot validate argument on parameter '{name}'. The argument \"{given}\" does not belong to the set \"{}\" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.",
                allowed.join(",")
            ))),
        }
    }
}

/// `s` without `prefix`, ignoring ASCII case.
pub(in crate::lab) fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// A PowerShell value as a list of strings: `'a','b'`, `'a'` or `$null`.
pub(in crate::lab) fn as_list(value: &PsValue) -> Option<Vec<String>> {
    match value {
        PsValue::Null => Some(Vec::new()),
        PsValue::Str(s) => Some(vec![s.clone()]),
        PsValue::List(l) => Some(l.clone()),
        _ => None,
    }
}

impl LabState {
    pub(in crate::lab) fn cmdlet(
        &mut self,
        host: &str,
        cmdlet: &str,
        args: &[CmdletArg],
    ) -> Result<Value, OpError> {
        if !self.servers.contains_key(host) {
            return Err(Self::not_simulated(
                "host",
                host,
                self.servers.keys().cloned(),
            ));
        }
        if !self.server_up(host) {
            return Err(OpError::Unreachable {
                host: host.to_string(),
                message: WINRM_FAILED.to_string(),
            });
        }
        let Some(spec) = CMDLETS.iter().find(|c| c.name.eq_ignore_ascii_case(cmdlet)) else {
            return Err(OpError::NotSimulated {
                message: format!("the lab does not simulate {cmdlet}"),
            });
        };
        let call = Call { spec, args, host };
        call.check_parameters()?;
        if spec.changes && call.switch("WhatIf") {
            if spec.name == "Invoke-CsManagementServerFailover" {
                // Its -WhatIf is how the documentation finds the CMS pool.
                return self.cms_failover_whatif(&call);
            }
            // -WhatIf checks everything and changes nothing.
            return self.clone().run(&call).map(|_| Value::Null);
        }
        self.run(&call)
    }

    fn run(&mut self, call: &Call) -> Result<Value, OpError> {
        match call.spec.name {
            "Get-CsService" => self.get_service(call),
            "Get-CsPersistentChatState" => self.get_chat_state(call),
            "Set-CsPersistentChatState" => self.set_state(call),
            "Get-CsPersistentChatActiveServer" => self.get_active_servers(call),
            "Set-CsPersistentChatActiveServer" => self.set_active_servers(call),
            "Install-CsMirrorDatabase" => self.install_mirror(call),
            "Uninstall-CsMirrorDatabase" => self.uninstall_mirror(call),
            "Get-CsDatabaseMirrorState" => self.get_mirror_state(call),
            "Invoke-CsDatabaseFailover" => self.invoke_database_failover(call),
            "Get-CsPoolBackupRelationship" => self.get_backup_relationship(call),
            "Get-CsManagementStoreReplicationStatus" => self.get_cms_replication(call),
            "Invoke-CsManagementServerFailover" => self.invoke_cms_failover(call),
            "Invoke-CsPoolFailOver" => self.invoke_pool_failover(call),
            "Invoke-CsPoolFailBack" => self.invoke_pool_failback(call),
            "Get-CsBackupServiceConfiguration" => self.get_backup_config(call),
            "Set-CsBackupServiceConfiguration" => self.set_backup_config(call),
            "Get-CsBackupServiceStatus" => self.get_backup_status(call),
            "Invoke-CsBackupServiceSync" => self.invoke_backup_sync(call),
            "Debug-CsInterPoolReplication" => self.debug_replication(call),
            "Get-CsPoolFabricState" => self.get_fabric_state(call),
            "Set-CsEdgeServer" => self.set_edge_server(call),
            "Get-CsSite" => self.get_site(call),
            "Set-CsSite" => self.set_site(call),
            "Stop-CsWindowsService" => self.windows_service(call, false),
            "Start-CsWindowsService" => self.windows_service(call, true),
            "Get-Command" => Self::get_command(call),
            other => Err(OpError::NotSimulated {
                message: format!("the lab does not simulate {other}"),
            }),
        }
    }

    /// Get-CsService: Persistent Chat, Registrar (Front End pools) and
    /// Edge services, by role switch, Identity prefix or pool.
    fn get_service(&self, call: &Call) -> Result<Value, OpError> {
        if let Some(role) = OTHER_SERVICES.iter().find(|r| call.has(r)) {
            return Err(OpError::NotSimulated {
                message: format!("the lab does not simulate Get-CsService -{role}"),
            });
        }
        let identity = call.text("Identity")?;
        let fqdn = call.text("PoolFqdn")?;
        let role_of = |id: &str| {
            if strip_prefix_ci(id, "Registrar:").is_some() {
                "Registrar"
            } else if strip_prefix_ci(id, "EdgeServer:").is_some() {
                "EdgeServer"
            } else {
                "PersistentChatServer"
            }
        };
        let mut roles: Vec<&str> = ["PersistentChatServer", "Registrar", "EdgeServer"]
            .into_iter()
            .filter(|r| call.switch(r))
            .collect();
        if let Some(id) = &identity {
            let role = role_of(id);
            if !roles.is_empty() && !roles.contains(&role) {
                return Ok(json!([]));
            }
            roles = vec![role];
        }
        if roles.is_empty() {
            if fqdn.is_none() {
                return Err(OpError::NotSimulated {
                    message: "the lab simulates Get-CsService for Persistent Chat (-PersistentChatServer), \
                              Registrar (-Registrar) and Edge (-EdgeServer) services"
                        .to_string(),
                });
            }
            roles = vec!["PersistentChatServer", "Registrar", "EdgeServer"];
        }
        let mut rows = Vec::new();
        for role in roles {
            let found = match role {
                "Registrar" => self.registrar_rows(call, identity.as_deref(), fqdn.as_deref())?,
                "EdgeServer" => {
                    self.edge_service_rows(call, identity.as_deref(), fqdn.as_deref())?
                }
                _ => self.chat_service_rows(call, identity.as_deref(), fqdn.as_deref())?,
            };
            rows.extend(found);
        }
        Ok(Value::Array(rows))
    }

    fn get_command(call: &Call) -> Result<Value, OpError> {
        let describe = |c: &CmdletSpec| json!({"Name": c.name, "Parameters": c.parameters()});
        let Some(name) = call.text("Name")? else {
            return Ok(Value::Array(CMDLETS.iter().map(describe).collect()));
        };
        match CMDLETS.iter().find(|c| c.name.eq_ignore_ascii_case(&name)) {
            Some(c) => Ok(describe(c)),
            None => Err(call.error(format!(
                "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program."
            ))),
        }
    }
}

/// Get-CsService rows of one service kind: every pool of `pools`, narrowed to
/// the one `-Identity` named (`only`, resolved by the caller) and to the one
/// `-PoolFqdn` names.
pub(in crate::lab) fn service_rows<'a, T: 'a>(
    pools: impl Iterator<Item = (&'a String, &'a T)>,
    only: Option<String>,
    fqdn: Option<&str>,
    row: impl Fn(&str, &T) -> Value,
) -> Vec<Value> {
    pools
        .filter(|(n, _)| only.as_ref().is_none_or(|o| o == *n))
        .filter(|(n, _)| fqdn.is_none_or(|f| f.eq_ignore_ascii_case(n)))
        .map(|(n, p)| row(n, p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/lab-cmdlets.md documents every simulated cmdlet.
    #[test]
    fn every_cmdlet_is_documented() {
        let doc = include_str!("../../../docs/lab-cmdlets.md");
        for c in CMDLETS {
            assert!(
                doc.contains(&format!("### {}", c.name)),
                "{} is not documented",
                c.name
            );
        }
        for (kind, _, _) in crate::lab::EFFECT_KINDS {
            assert!(
                doc.contains(&format!("`{kind}`")),
                "effect {kind} is not documented"
            );
        }
        for kind in crate::lab::FAULT_KINDS {
            assert!(
                doc.contains(&format!("`{kind}`")),
                "fault {kind} is not documented"
            );
        }
    }
}
