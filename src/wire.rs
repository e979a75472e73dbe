//! The wire: the strings the live target and the lab twin must agree on,
//! byte for byte, beyond the ops' own rendering (`op.rs`).
//!
//! The live target writes these and the twin reads them back: the script it
//! feeds the Management Shell, the bookkeeping queries it sends SQL Server
//! for progress, the words PowerShell remoting uses for a host it cannot
//! reach. Both sides import them from here, so neither reaches into the
//! other, and a change to one side cannot silently leave the other behind.
//! Nothing here does I/O.

/// The first line of every script the live target feeds the shell.
pub const PROLOGUE: &str = "$ErrorActionPreference = 'Stop'";
/// What follows the cmdlet on its line: the result as one line of JSON.
pub const EPILOGUE: &str = "| ConvertTo-Json -Depth 5 -Compress";

/// The script for one rendered cmdlet line.
pub fn script(line: &str) -> String {
    format!("{PROLOGUE}\n{line} {EPILOGUE}\n")
}

/// PowerShell remoting's words for a host it cannot reach: an error that
/// starts with them makes the op unreachable rather than failed.
pub const REMOTING_FAILED: &str = "Connecting to remote server";

/// Set (to `1`) in the environment of a plan's Management Shell: the
/// session only reads (the stand-in then saves nothing).
pub const READ_ONLY_ENV: &str = "DRILLBOOK_READ_ONLY";

/// The session id of a connection (for progress polls) and when it logged
/// in (with the id, what names the session in the journal: ids are reused).
/// `sys.sysprocesses` answers on SQL Server 2008 R2 and 2012 alike.
pub const SPID_QUERY: &str =
    "SELECT @@SPID AS spid, CONVERT(varchar(23), login_time, 126) AS login_time \
     FROM sys.sysprocesses WHERE spid = @@SPID;";

/// The request session `spid` (logged in at `login_time`) is running, if it
/// runs one: no row when it is idle or gone. `None` if `login_time` cannot
/// be quoted.
pub fn session_running_query(spid: i64, login_time: &str) -> Option<String> {
    let login_time = crate::quote::sql_literal(login_time).ok()?;
    Some(format!(
        "SELECT RTRIM(cmd) AS cmd, RTRIM(status) AS status FROM sys.sysprocesses \
         WHERE spid = {spid} AND CONVERT(varchar(23), login_time, 126) = {login_time} \
         AND cmd <> 'AWAITING COMMAND';"
    ))
}

/// How far one session's current request is.
pub fn progress_query(session_id: i64) -> String {
    format!("SELECT percent_complete FROM sys.dm_exec_requests WHERE session_id = {session_id};")
}
