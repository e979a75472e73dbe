//! How the lab answers Lync Server Management Shell cmdlets: the parameter
//! lists, PowerShell's parameter binding, dispatch, and the Get-Command probe
//! runbooks use to settle the documentation's parameter conflicts
//! (PROCEDURES.md §4).
//!
//! `CMDLETS` is both the list and the dispatch: each entry carries the
//! handler that answers it, so a cmdlet cannot be listed without being
//! simulated, and whether it reads or changes the lab decides whether it
//! takes -WhatIf/-Confirm. Parameters are checked against each cmdlet's list,
//! as PowerShell's binder does, so a runbook written against the wrong source
//! fails in the lab the way it would on a real server. `docs/lab-cmdlets.md`
//! documents every cmdlet here.

use crate::lab::LabState;

pub(in crate::lab) mod backup_service;
pub(in crate::lab) mod cms;
pub(in crate::lab) mod edge;
pub(in crate::lab) mod mirror_database;
pub(in crate::lab) mod not_simulated;
pub(in crate::lab) mod persistent_chat;
pub(in crate::lab) mod pools;
use crate::op::{CmdletArg, PsValue};
use crate::targets::OpError;
use serde_json::{json, Value};

/// What PowerShell remoting reports when the management host does not answer.
const WINRM_FAILED: &str = "Connecting to remote server failed: WinRM cannot complete the operation. \
     Verify that the specified computer name is valid, that the computer is accessible over the network";

/// A cmdlet that reads the lab.
type Read = fn(&LabState, &Call) -> Result<Value, OpError>;
/// A cmdlet that changes the lab.
type Change = fn(&mut LabState, &Call) -> Result<Value, OpError>;

/// What a cmdlet does to the lab. Only changing cmdlets take -WhatIf and
/// -Confirm, as PowerShell's ShouldProcess does.
enum Handler {
    Reads(Read),
    Changes {
        run: Change,
        /// A -WhatIf that answers something other than "changes nothing".
        what_if: Option<Read>,
    },
}

pub(in crate::lab) struct CmdletSpec {
    pub name: &'static str,
    params: &'static [&'static str],
    /// Parameters named differently by the sources (PROCEDURES.md §4), in
    /// the form the lab's estate says its shell takes: the cmdlet takes
    /// these and Get-Command lists them, the other form is unknown.
    shell_params: Option<ShellParams>,
    /// It writes through the CMS: while the CMS cannot be reached it fails
    /// as Lync's does (`LabState::cms_write_refused`), before its handler.
    through_cms: bool,
    handler: Handler,
}

/// The parameters a cmdlet has on this lab's shell, beyond its fixed list.
type ShellParams = fn(&LabState) -> &'static [&'static str];

const fn read(name: &'static str, params: &'static [&'static str], run: Read) -> CmdletSpec {
    CmdletSpec {
        name,
        params,
        shell_params: None,
        through_cms: false,
        handler: Handler::Reads(run),
    }
}

const fn change(name: &'static str, params: &'static [&'static str], run: Change) -> CmdletSpec {
    CmdletSpec {
        name,
        params,
        shell_params: None,
        through_cms: false,
        handler: Handler::Changes { run, what_if: None },
    }
}

const fn change_with_what_if(
    name: &'static str,
    params: &'static [&'static str],
    run: Change,
    what_if: Read,
) -> CmdletSpec {
    CmdletSpec {
        name,
        params,
        shell_params: None,
        through_cms: false,
        handler: Handler::Changes {
            run,
            what_if: Some(what_if),
        },
    }
}

impl CmdletSpec {
    /// This cmdlet, with parameters that depend on the lab's shell.
    const fn with_shell_params(self, shell_params: ShellParams) -> CmdletSpec {
        CmdletSpec {
            shell_params: Some(shell_params),
            ..self
        }
    }

    /// This cmdlet, writing through the CMS.
    const fn through_cms(self) -> CmdletSpec {
        CmdletSpec {
            through_cms: true,
            ..self
        }
    }
}

/// Every cmdlet the lab simulates, with the handler that answers it: the
/// one list that both Get-Command and dispatch read, so a cmdlet cannot be
/// listed without being simulated.
static CMDLETS: &[CmdletSpec] = &[
    read(
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
        LabState::get_service,
    ),
    read(
        "Get-CsPersistentChatState",
        &["Identity"],
        LabState::get_chat_state,
    ),
    change(
        "Set-CsPersistentChatState",
        &["Identity", "PoolState", "Force"],
        LabState::set_chat_state,
    )
    .through_cms(),
    read(
        "Get-CsPersistentChatActiveServer",
        &["Identity", "Filter", "LocalStore"],
        LabState::get_active_servers,
    ),
    change(
        "Set-CsPersistentChatActiveServer",
        &["Identity", "ActiveServers", "Force", "Instance"],
        LabState::set_active_servers,
    )
    .through_cms(),
    change(
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
        LabState::install_mirror,
    )
    .through_cms(),
    change(
        "Uninstall-CsMirrorDatabase",
        &[
            "SqlServerFqdn",
            "SqlInstanceName",
            "DatabaseType",
            "DropExistingDatabasesOnMirror",
            "Report",
        ],
        LabState::uninstall_mirror,
    )
    .through_cms(),
    read(
        "Get-CsDatabaseMirrorState",
        &["PoolFqdn", "DatabaseType"],
        LabState::get_mirror_state,
    ),
    change(
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
        LabState::invoke_database_failover,
    ),
    read(
        "Get-CsPoolBackupRelationship",
        &["PoolFqdn"],
        LabState::get_backup_relationship,
    ),
    read(
        "Get-CsManagementStoreReplicationStatus",
        &["CentralManagementStoreStatus", "ReplicaFqdn"],
        LabState::get_cms_replication,
    ),
    change_with_what_if(
        "Invoke-CsManagementServerFailover",
        &[
            "BackupSqlServerFqdn",
            "BackupSqlInstanceName",
            "BackupMirrorSqlServerFqdn",
            "BackupMirrorSqlInstanceName",
            "Force",
        ],
        LabState::invoke_cms_failover,
        // Its -WhatIf is how the documentation finds the CMS pool.
        LabState::cms_failover_whatif,
    ),
    change(
        "Invoke-CsPoolFailOver",
        &[
            "PoolFqdn",
            "DisasterMode",
            "Force",
            "WaitTime",
            "FlushStorageService",
        ],
        LabState::invoke_pool_failover,
    ),
    change(
        "Invoke-CsPoolFailBack",
        &["PoolFqdn", "DisasterMode", "Force", "WaitTime"],
        LabState::invoke_pool_failback,
    ),
    read(
        "Get-CsBackupServiceConfiguration",
        &["Identity", "Filter", "LocalStore"],
        LabState::get_backup_config,
    ),
    change(
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
        LabState::set_backup_config,
    )
    .through_cms(),
    read(
        "Get-CsBackupServiceStatus",
        &["PoolFqdn", "Category"],
        LabState::get_backup_status,
    ),
    change(
        "Invoke-CsBackupServiceSync",
        &["PoolFqdn", "BackupModule"],
        LabState::invoke_backup_sync,
    ),
    read(
        "Debug-CsInterPoolReplication",
        &["PoolFqdn"],
        LabState::debug_replication,
    ),
    read(
        "Get-CsPoolFabricState",
        &["PoolFqdn", "Type"],
        LabState::get_fabric_state,
    ),
    change(
        "Set-CsEdgeServer",
        &[
            "Identity",
            "Registrar",
            "Force",
            "Instance",
            "AccessEdgeExternalSipPort",
            "DependentServiceList",
        ],
        LabState::set_edge_server,
    )
    .through_cms(),
    read(
        "Get-CsSite",
        &["Identity", "Filter", "LocalStore"],
        LabState::get_site,
    ),
    change(
        "Set-CsSite",
        &[
            "Identity",
            "FederationRoute",
            "Description",
            "DisplayName",
            "Instance",
            "Force",
        ],
        LabState::set_site,
    )
    .with_shell_params(edge::xmpp_route_parameters)
    .through_cms(),
    change(
        "Stop-CsWindowsService",
        &[
            "Name",
            "ComputerName",
            "Force",
            "NoWait",
            "Graceful",
            "Report",
        ],
        |lab, call| lab.windows_service(call, false),
    ),
    change(
        "Start-CsWindowsService",
        &["Name", "ComputerName", "Force", "NoWait", "Report"],
        |lab, call| lab.windows_service(call, true),
    ),
    read(
        "Get-Command",
        &["Name", "Module", "Noun", "Verb", "CommandType", "Syntax"],
        get_command,
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
    /// Its parameters on `lab`'s shell, with the common ones.
    pub fn parameters(&self, lab: &LabState) -> Vec<&'static str> {
        let extra = match self.handler {
            Handler::Changes { .. } => SHOULD_PROCESS,
            Handler::Reads(_) => &[],
        };
        let shell: &[&str] = self.shell_params.map_or(&[], |f| f(lab));
        self.params
            .iter()
            .chain(shell)
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
        OpError::cmdlet(self.spec.name, message)
    }

    fn check_parameters(&self, lab: &LabState) -> Result<(), OpError> {
        let known = self.spec.parameters(lab);
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
        call.check_parameters(self)?;
        if spec.through_cms {
            if let Some(refused) = self.cms_write_refused(spec.name) {
                return Err(refused);
            }
        }
        let answer = match spec.handler {
            Handler::Reads(read) => read(self, &call),
            Handler::Changes {
                what_if: Some(what_if),
                ..
            } if call.switch("WhatIf") => what_if(self, &call),
            // -WhatIf checks everything and changes nothing.
            Handler::Changes { run, .. } if call.switch("WhatIf") => {
                run(&mut self.clone(), &call).map(|_| Value::Null)
            }
            Handler::Changes { run, .. } => run(self, &call),
        }?;
        let notes = not_simulated::notes(self, &call);
        self.notes.extend(notes);
        Ok(answer)
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
}

/// Get-Command: the cmdlets and their parameters on this lab's shell, from
/// the spec table.
fn get_command(lab: &LabState, call: &Call) -> Result<Value, OpError> {
    let describe = |c: &CmdletSpec| json!({"Name": c.name, "Parameters": c.parameters(lab)});
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
