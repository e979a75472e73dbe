//! The `Op`: one operation on the estate, as data.
//!
//! Everything a runbook does to the world is an op. An op knows where it runs,
//! whether it only reads or changes something, how it renders (the exact
//! T-SQL or PowerShell line a live target sends and a plan shows) and how long
//! it takes in the lab. Targets perform ops; nothing else touches the world.

mod lab_time;
mod path;

use path::check_path;
pub use path::{join_path, unc_server, wildcard_match};

use crate::quote::{self, QuoteError};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One operation. SQL ops name a SQL instance by its estate id; the target
/// resolves it to a server and instance name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Connect and ask the server its name: is the instance reachable?
    SqlPing { instance: String },
    /// `sys.databases` row of one database.
    DatabaseState { instance: String, database: String },
    /// `sys.database_mirroring` row of one database.
    MirroringState { instance: String, database: String },
    /// The log-shipping secondary configuration of one database, from msdb.
    LogShippingSecondary { instance: String, database: String },
    /// SQL Agent jobs executing now, from msdb.
    RunningJobs { instance: String },
    /// `RESTORE HEADERONLY` of one backup file.
    RestoreHeaderOnly { instance: String, file: String },
    /// `sys.master_files.redo_start_lsn` of a database being restored.
    RedoStartLsn { instance: String, database: String },
    /// User sessions connected to one database.
    DatabaseSessions { instance: String, database: String },
    /// Remove a database from log shipping as a secondary.
    DeleteLogShippingSecondary { instance: String, database: String },
    /// Apply one log backup, leaving the database restoring.
    RestoreLog {
        instance: String,
        database: String,
        file: String,
    },
    /// End one session.
    KillSession { instance: String, session_id: i64 },
    /// Bring a restoring database online.
    RecoverDatabase { instance: String, database: String },
    /// Planned mirroring switch, run on the principal (in-flight transactions roll back).
    MirrorFailover { instance: String, database: String },
    /// Disaster: bring the mirror into service, accepting the loss of unsent log.
    MirrorForceService { instance: String, database: String },
    /// Remove mirroring from a database (either partner).
    MirrorOff { instance: String, database: String },
    /// Full backup of a database to a file (UNC path).
    BackupDatabase {
        instance: String,
        database: String,
        file: String,
    },
    /// Restore a full backup over a database and bring it online.
    RestoreDatabase {
        instance: String,
        database: String,
        file: String,
    },
    /// A read-only statement a runbook wrote (`sql::query`); refused unless read-only.
    Query { instance: String, text: String },
    /// A statement a runbook wrote (`sql::exec`); always treated as a change.
    Exec { instance: String, text: String },
    /// List the files of a folder (UNC path) matching a wildcard pattern.
    ListFiles { folder: String, pattern: String },
    /// Copy a batch of files between folders (UNC paths), each verified
    /// against its size; all or nothing, durable when it answers (a single
    /// file is a batch of one). Journals of earlier versions hold the
    /// one-file `copy_file`; `Op::from_journal` reads it as a batch of one.
    CopyFiles {
        from_folder: String,
        to_folder: String,
        files: Vec<String>,
    },
    /// Let time pass (polling for a replication to settle); the lab's clock
    /// moves, a live target sleeps.
    Wait { seconds: u64 },
    /// What a person does by hand (Topology Builder, DNS, firewall), once
    /// confirmed. The lab applies `effect`, its documented outcome; against a
    /// live estate the person has already made the change.
    Manual {
        instructions: String,
        effect: serde_json::Value,
    },
    /// A Lync Server Management Shell cmdlet, run on a management host.
    Cmdlet {
        host: String,
        cmdlet: String,
        args: Vec<CmdletArg>,
    },
}

/// One named cmdlet parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CmdletArg {
    pub name: String,
    pub value: PsValue,
}

impl CmdletArg {
    pub fn new(name: &str, value: PsValue) -> Self {
        CmdletArg {
            name: name.to_string(),
            value,
        }
    }
}

/// A PowerShell argument value, rendered only through `quote::ps_literal`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum PsValue {
    /// `-Name` on its own.
    Switch,
    /// `-Name:$true` / `-Name:$false`.
    Bool(bool),
    Str(String),
    Int(i64),
    /// `'a','b'`.
    List(Vec<String>),
    Null,
    /// `@{Key='a','b'}`, as used by `-ActiveServers @{Replace=...}`.
    Table(Vec<(String, PsValue)>),
}

/// A value sent as an RPC parameter (`@P1`, ...) rather than inside the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlParam {
    /// `nvarchar`.
    Text(String),
}

/// Read ops leave the world as it was; change ops do not, and are what a plan lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Read,
    Change,
}

/// Cmdlet verbs that only read.
const READ_VERBS: [&str; 4] = ["Get", "Test", "Debug", "Measure"];

/// Is this cmdlet a read (by its verb) or a change?
pub fn cmdlet_effect(cmdlet: &str, args: &[CmdletArg]) -> Effect {
    let verb = cmdlet.split('-').next().unwrap_or("");
    let what_if = args.iter().any(|a| a.name.eq_ignore_ascii_case("WhatIf"));
    if READ_VERBS.iter().any(|v| v.eq_ignore_ascii_case(verb)) || what_if {
        Effect::Read
    } else {
        Effect::Change
    }
}

impl Op {
    pub fn effect(&self) -> Effect {
        use Op::*;
        match self {
            SqlPing { .. }
            | DatabaseState { .. }
            | MirroringState { .. }
            | LogShippingSecondary { .. }
            | RunningJobs { .. }
            | RestoreHeaderOnly { .. }
            | RedoStartLsn { .. }
            | DatabaseSessions { .. }
            | Query { .. }
            | Wait { .. }
            | ListFiles { .. } => Effect::Read,
            DeleteLogShippingSecondary { .. }
            | RestoreLog { .. }
            | KillSession { .. }
            | RecoverDatabase { .. }
            | MirrorFailover { .. }
            | MirrorForceService { .. }
            | MirrorOff { .. }
            | BackupDatabase { .. }
            | RestoreDatabase { .. }
            | Exec { .. }
            | Manual { .. }
            | CopyFiles { .. } => Effect::Change,
            Cmdlet { cmdlet, args, .. } => cmdlet_effect(cmdlet, args),
        }
    }

    pub fn is_change(&self) -> bool {
        self.effect() == Effect::Change
    }

    /// Where the op runs: a SQL instance id, a folder's server, or a management host.
    pub fn host(&self) -> String {
        use Op::*;
        match self {
            SqlPing { instance }
            | DatabaseState { instance, .. }
            | MirroringState { instance, .. }
            | LogShippingSecondary { instance, .. }
            | RunningJobs { instance }
            | RestoreHeaderOnly { instance, .. }
            | RedoStartLsn { instance, .. }
            | DatabaseSessions { instance, .. }
            | DeleteLogShippingSecondary { instance, .. }
            | RestoreLog { instance, .. }
            | KillSession { instance, .. }
            | RecoverDatabase { instance, .. }
            | MirrorFailover { instance, .. }
            | MirrorForceService { instance, .. }
            | MirrorOff { instance, .. }
            | BackupDatabase { instance, .. }
            | RestoreDatabase { instance, .. }
            | Query { instance, .. }
            | Exec { instance, .. } => instance.clone(),
            ListFiles { folder, .. } => unc_server(folder).unwrap_or(folder).to_string(),
            CopyFiles { to_folder, .. } => unc_server(to_folder).unwrap_or(to_folder).to_string(),
            Cmdlet { host, .. } => host.clone(),
            Wait { .. } => "drillbook".to_string(),
            Manual { .. } => "operator".to_string(),
        }
    }

    /// The language of the rendered text.
    pub fn language(&self) -> &'static str {
        match self {
            Op::ListFiles { .. } | Op::CopyFiles { .. } => "file",
            Op::Cmdlet { .. } => "powershell",
            Op::Wait { .. } => "wait",
            Op::Manual { .. } => "manual",
            _ => "t-sql",
        }
    }

    /// The exact text a live target sends (T-SQL is run in `master`), with
    /// values inline: what plans and journals show. A T-SQL op's text is its
    /// `render_parameterized` statement with each parameter substituted as a
    /// literal (`quote::sql_literal`), so the two cannot disagree.
    ///
    /// Fails only when a value cannot be quoted safely; callers render every
    /// op before performing it, so such a value stops the run before the op.
    pub fn render(&self) -> Result<String, QuoteError> {
        use Op::*;
        Ok(match self {
            ListFiles { folder, pattern } => {
                check_path(folder)?;
                check_path(pattern)?;
                format!("list {}", join_path(folder, pattern))
            }
            CopyFiles {
                from_folder,
                to_folder,
                files,
            } => {
                check_path(from_folder)?;
                check_path(to_folder)?;
                if files.is_empty() {
                    return Err(QuoteError {
                        language: "file",
                        kind: "file list",
                        value: String::new(),
                        reason: "a copy names no file",
                    });
                }
                for file in files {
                    check_path(file)?;
                }
                let count = match files.len() {
                    1 => "1 file".to_string(),
                    n => format!("{n} files"),
                };
                format!(
                    "copy {count} {} -> {}: {}",
                    from_folder.trim_end_matches('\\'),
                    to_folder.trim_end_matches('\\'),
                    files.join(", ")
                )
            }
            Cmdlet { cmdlet, args, .. } => render_cmdlet(cmdlet, args)?,
            Wait { seconds } => format!("wait {seconds}s"),
            Manual { instructions, .. } => format!("manual: {instructions}"),
            _ => {
                let (text, params) = self.render_parameterized()?;
                inline(&text, &params)?
            }
        })
    }

    /// The T-SQL a live target sends over TDS, written once for each op:
    /// values as RPC parameters (`@P1`, ...) wherever T-SQL accepts a
    /// variable; identifiers quoted inline (T-SQL takes no variable for most
    /// of them); `KILL` takes only a literal integer. For ops that are not
    /// T-SQL, their `render` text and no parameters.
    pub fn render_parameterized(&self) -> Result<(String, Vec<SqlParam>), QuoteError> {
        use quote::sql_ident as id;
        use Op::*;
        // A value is checked by the quoting function here, so a value that
        // cannot be shown inline is refused before anything is sent.
        let p = |v: &str| -> Result<Vec<SqlParam>, QuoteError> {
            quote::sql_literal(v)?;
            Ok(vec![SqlParam::Text(v.to_string())])
        };
        let fixed = |text: &str| (text.to_string(), Vec::new());
        Ok(match self {
            SqlPing { .. } => fixed("SELECT @@SERVERNAME AS server_name;"),
            DatabaseState { database, .. } => (
                "SELECT name, state_desc FROM sys.databases WHERE name = @P1;".to_string(),
                p(database)?,
            ),
            MirroringState { database, .. } => (
                "SELECT d.name, m.mirroring_role_desc, m.mirroring_state_desc, \
                 m.mirroring_safety_level_desc, m.mirroring_partner_instance, \
                 m.mirroring_witness_name, m.mirroring_witness_state_desc \
                 FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id \
                 WHERE d.name = @P1;"
                    .to_string(),
                p(database)?,
            ),
            LogShippingSecondary { database, .. } => (
                "SELECT s.primary_server, s.primary_database, s.backup_source_directory, \
                 s.backup_destination_directory, s.last_copied_file, s.last_copied_date, \
                 d.last_restored_file, d.last_restored_date, d.restore_mode, d.restore_delay, \
                 cj.name AS copy_job, rj.name AS restore_job \
                 FROM msdb.dbo.log_shipping_secondary_databases AS d \
                 JOIN msdb.dbo.log_shipping_secondary AS s ON s.secondary_id = d.secondary_id \
                 LEFT JOIN msdb.dbo.sysjobs AS cj ON cj.job_id = s.copy_job_id \
                 LEFT JOIN msdb.dbo.sysjobs AS rj ON rj.job_id = s.restore_job_id \
                 WHERE d.secondary_database = @P1;"
                    .to_string(),
                p(database)?,
            ),
            // Only the current SQL Agent session's rows: a row a stopped
            // or crashed agent left unfinished is not a running job.
            RunningJobs { .. } => fixed(
                "SELECT j.name FROM msdb.dbo.sysjobactivity AS a \
                 JOIN msdb.dbo.sysjobs AS j ON j.job_id = a.job_id \
                 WHERE a.session_id = (SELECT TOP (1) session_id FROM msdb.dbo.syssessions ORDER BY agent_start_date DESC) \
                 AND a.start_execution_date IS NOT NULL AND a.stop_execution_date IS NULL;",
            ),
            RestoreHeaderOnly { file, .. } => (
                "RESTORE HEADERONLY FROM DISK = @P1;".to_string(),
                p(file)?,
            ),
            RedoStartLsn { database, .. } => (
                "SELECT redo_start_lsn FROM sys.master_files WHERE database_id = DB_ID(@P1) AND file_id = 1;"
                    .to_string(),
                p(database)?,
            ),
            // sys.sysprocesses, not sys.dm_exec_sessions: its database_id
            // exists only from SQL Server 2012. One row per session
            // (ecid 0), user sessions only (spid > 50), ours excluded.
            DatabaseSessions { database, .. } => (
                "SELECT spid AS session_id, RTRIM(loginame) AS login_name, RTRIM(hostname) AS host_name, \
                 RTRIM(program_name) AS program_name FROM sys.sysprocesses \
                 WHERE dbid = DB_ID(@P1) AND ecid = 0 AND spid > 50 AND spid <> @@SPID;"
                    .to_string(),
                p(database)?,
            ),
            // The procedure's return code (0 success, 1 failure) comes back as a row.
            DeleteLogShippingSecondary { database, .. } => (
                "DECLARE @rc int; EXEC @rc = master.dbo.sp_delete_log_shipping_secondary_database \
                 @secondary_database = @P1; SELECT @rc AS return_value;"
                    .to_string(),
                p(database)?,
            ),
            RestoreLog { database, file, .. } => (
                format!("RESTORE LOG {} FROM DISK = @P1 WITH NORECOVERY, STATS = 1;", id(database)?),
                p(file)?,
            ),
            KillSession { session_id, .. } => (format!("KILL {session_id};"), Vec::new()),
            RecoverDatabase { database, .. } => (
                format!("RESTORE DATABASE {} WITH RECOVERY;", id(database)?),
                Vec::new(),
            ),
            MirrorFailover { database, .. } => (
                format!("ALTER DATABASE {} SET PARTNER FAILOVER;", id(database)?),
                Vec::new(),
            ),
            MirrorForceService { database, .. } => (
                format!(
                    "ALTER DATABASE {} SET PARTNER FORCE_SERVICE_ALLOW_DATA_LOSS;",
                    id(database)?
                ),
                Vec::new(),
            ),
            MirrorOff { database, .. } => (
                format!("ALTER DATABASE {} SET PARTNER OFF;", id(database)?),
                Vec::new(),
            ),
            BackupDatabase { database, file, .. } => (
                format!("BACKUP DATABASE {} TO DISK = @P1 WITH INIT, STATS = 1;", id(database)?),
                p(file)?,
            ),
            RestoreDatabase { database, file, .. } => (
                format!(
                    "RESTORE DATABASE {} FROM DISK = @P1 WITH REPLACE, RECOVERY, STATS = 1;",
                    id(database)?
                ),
                p(file)?,
            ),
            // Runbook-written text is sent as written; values inside it are the
            // runbook's to quote, with sql::literal() / sql::ident().
            Query { text, .. } | Exec { text, .. } => {
                if text.contains('\0') {
                    return Err(QuoteError {
                        language: "T-SQL",
                        kind: "statement",
                        value: text.clone(),
                        reason: "it contains a NUL character",
                    });
                }
                (text.clone(), Vec::new())
            }
            ListFiles { .. } | CopyFiles { .. } | Cmdlet { .. } | Wait { .. } | Manual { .. } => {
                (self.render()?, Vec::new())
            }
        })
    }

    /// An op as a journal's `op_started` record holds it. Journals written
    /// before copies were batched hold the one-file `copy_file`
    /// (`from_folder`, `to_folder`, `file`): it reads as a batch of one.
    pub fn from_journal(value: &serde_json::Value) -> Option<Op> {
        let mut value = value.clone();
        if let Some(m) = value.as_object_mut() {
            if m.get("op").and_then(|o| o.as_str()) == Some("copy_file") {
                let file = m.remove("file")?;
                m.insert("files".into(), serde_json::Value::Array(vec![file]));
                m.insert("op".into(), "copy_files".into());
            }
        }
        serde_json::from_value(value).ok()
    }

    /// What a dry run answers for a change it does not perform, when it has
    /// no scratch lab to predict with: what the live target returns on success.
    pub fn modeled_result(&self) -> serde_json::Value {
        match self {
            Op::Cmdlet { .. } => serde_json::Value::Null,
            Op::DeleteLogShippingSecondary { .. } => serde_json::json!([{ "return_value": 0 }]),
            _ => serde_json::json!([]),
        }
    }
}

/// `text` with each `@Pn` placeholder replaced by its parameter as a T-SQL
/// literal. Placeholders are found only outside quoted identifiers and
/// string literals, so a database named `@P1` stays a name.
fn inline(text: &str, params: &[SqlParam]) -> Result<String, QuoteError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let quoted_until = match c {
            '[' => Some(']'),
            '\'' => Some('\''),
            _ => None,
        };
        if let Some(close) = quoted_until {
            // Up to the closing delimiter that is not doubled (an escape).
            let body = &rest[1..];
            let mut end = body.len();
            let mut i = 0;
            while let Some(at) = body[i..].find(close) {
                let at = i + at;
                if body[at + 1..].starts_with(close) {
                    i = at + 2;
                } else {
                    end = at + 1;
                    break;
                }
            }
            out.push_str(&rest[..1 + end]);
            rest = &rest[1 + end..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("@P") {
            let number = &after
                [..after.len() - after.trim_start_matches(|d: char| d.is_ascii_digit()).len()];
            let param = number
                .parse::<usize>()
                .ok()
                .and_then(|n| params.get(n.checked_sub(1)?));
            if let Some(SqlParam::Text(v)) = param {
                out.push_str(&quote::sql_literal(v)?);
                rest = &after[number.len()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

/// `Verb-Noun -Name value ...`, every value through `quote::ps_literal`.
pub fn render_cmdlet(cmdlet: &str, args: &[CmdletArg]) -> Result<String, QuoteError> {
    let mut out = quote::ps_name(cmdlet)?.to_string();
    for arg in args {
        let name = quote::ps_name(&arg.name)?;
        match &arg.value {
            PsValue::Switch => write!(out, " -{name}").unwrap(),
            PsValue::Bool(b) => write!(out, " -{name}:${b}").unwrap(),
            value => write!(out, " -{name} {}", render_ps_value(value)?).unwrap(),
        }
    }
    Ok(out)
}

fn render_ps_value(value: &PsValue) -> Result<String, QuoteError> {
    Ok(match value {
        PsValue::Switch | PsValue::Bool(true) => "$true".to_string(),
        PsValue::Bool(false) => "$false".to_string(),
        PsValue::Str(s) => quote::ps_literal(s)?,
        PsValue::Int(i) => i.to_string(),
        PsValue::Null => "$null".to_string(),
        PsValue::List(items) => {
            let quoted: Result<Vec<_>, _> = items.iter().map(|s| quote::ps_literal(s)).collect();
            let quoted = quoted?;
            // One element as `@('a')`, so it does not read back as a plain string.
            match quoted.len() {
                0 => "@()".to_string(),
                1 => format!("@({})", quoted[0]),
                _ => quoted.join(","),
            }
        }
        PsValue::Table(entries) => {
            let mut parts = Vec::with_capacity(entries.len());
            for (key, v) in entries {
                parts.push(format!("{}={}", quote::ps_name(key)?, render_ps_value(v)?));
            }
            format!("@{{{}}}", parts.join(";"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_log_quotes_database_and_file() {
        let op = Op::RestoreLog {
            instance: "sql2".into(),
            database: "mg]c".into(),
            file: "\\\\fs\\x\\it's.trn".into(),
        };
        assert_eq!(
            op.render().unwrap(),
            "RESTORE LOG [mg]]c] FROM DISK = N'\\\\fs\\x\\it''s.trn' WITH NORECOVERY, STATS = 1;"
        );
        assert!(op.is_change());
    }

    #[test]
    fn inline_text_is_the_parameterized_text_with_literals() {
        let op = Op::RestoreLog {
            instance: "sql2".into(),
            database: "@P1 ]'".into(),
            file: "@P1 it's".into(),
        };
        let (text, params) = op.render_parameterized().unwrap();
        assert_eq!(
            text,
            "RESTORE LOG [@P1 ]]'] FROM DISK = @P1 WITH NORECOVERY, STATS = 1;"
        );
        assert_eq!(params, vec![SqlParam::Text("@P1 it's".into())]);
        assert_eq!(
            op.render().unwrap(),
            "RESTORE LOG [@P1 ]]'] FROM DISK = N'@P1 it''s' WITH NORECOVERY, STATS = 1;"
        );
        // Runbook text has no parameters: it is shown as written.
        let text = "SELECT '@P1', [@P2] FROM t WHERE x = @P1 AND y = 'it''s";
        assert_eq!(inline(text, &[]).unwrap(), text);
    }

    #[test]
    fn cmdlet_renders_switches_lists_and_tables() {
        let op = Op::Cmdlet {
            host: "fe".into(),
            cmdlet: "Set-CsPersistentChatActiveServer".into(),
            args: vec![
                CmdletArg::new("Identity", PsValue::Str("PersistentChatServer:p.x".into())),
                CmdletArg::new(
                    "ActiveServers",
                    PsValue::Table(vec![(
                        "Replace".into(),
                        PsValue::List(vec!["a".into(), "b".into()]),
                    )]),
                ),
                CmdletArg::new("Confirm", PsValue::Bool(false)),
                CmdletArg::new("Verbose", PsValue::Switch),
            ],
        };
        assert_eq!(
            op.render().unwrap(),
            "Set-CsPersistentChatActiveServer -Identity 'PersistentChatServer:p.x' \
             -ActiveServers @{Replace='a','b'} -Confirm:$false -Verbose"
        );
    }

    #[test]
    fn cmdlet_effect_follows_the_verb_and_whatif() {
        assert_eq!(
            cmdlet_effect("Get-CsPersistentChatState", &[]),
            Effect::Read
        );
        assert_eq!(
            cmdlet_effect("Set-CsPersistentChatState", &[]),
            Effect::Change
        );
        let whatif = [CmdletArg::new("WhatIf", PsValue::Switch)];
        assert_eq!(
            cmdlet_effect("Invoke-CsManagementServerFailover", &whatif),
            Effect::Read
        );
    }

    #[test]
    fn a_copy_batch_renders_every_file_and_refuses_an_empty_one() {
        let copy = |files: &[&str]| Op::CopyFiles {
            from_folder: "\\\\fs\\share\\".into(),
            to_folder: "\\\\sql\\LSCopy".into(),
            files: files.iter().map(|f| f.to_string()).collect(),
        };
        assert_eq!(
            copy(&["mgc_1.trn", "mgc_2.trn", "mgc_3.trn"])
                .render()
                .unwrap(),
            "copy 3 files \\\\fs\\share -> \\\\sql\\LSCopy: mgc_1.trn, mgc_2.trn, mgc_3.trn"
        );
        assert_eq!(
            copy(&["mgc_1.trn"]).render().unwrap(),
            "copy 1 file \\\\fs\\share -> \\\\sql\\LSCopy: mgc_1.trn"
        );
        assert!(copy(&[]).render().is_err());
        assert!(copy(&["a.trn", "b\n.trn"]).render().is_err());
        assert_eq!(copy(&["a"]).host(), "sql");
        assert!(copy(&["a"]).is_change());
    }

    #[test]
    fn a_journaled_one_file_copy_reads_as_a_batch_of_one() {
        let old = serde_json::json!({
            "op": "copy_file", "from_folder": "\\\\fs\\s", "to_folder": "\\\\sql\\c", "file": "a.trn"
        });
        assert_eq!(
            Op::from_journal(&old),
            Some(Op::CopyFiles {
                from_folder: "\\\\fs\\s".into(),
                to_folder: "\\\\sql\\c".into(),
                files: vec!["a.trn".into()],
            })
        );
        let new = serde_json::to_value(Op::Wait { seconds: 5 }).unwrap();
        assert_eq!(Op::from_journal(&new), Some(Op::Wait { seconds: 5 }));
    }
}
