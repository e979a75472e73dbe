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

/// After [`PROLOGUE`]: UTF-8 out, without a BOM (Windows PowerShell writes
/// the OEM code page otherwise), also to native commands (`$OutputEncoding`).
pub const FORCE_UTF8: &str =
    "[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false";
/// The whole script is one statement, `& { try { ... } catch { ... } }`:
/// under `-Command -` PowerShell parses and runs stdin statement by
/// statement and exits with the last one's status, so a parse error would
/// exit 0. As one statement, a parse error runs nothing and prints no
/// [`SENTINEL`]; every other ending is an explicit `exit`.
pub const OPEN: &str = "& {\ntry {\n";

/// Local mode: `-NoProfile` does not load the Lync Server module.
pub const IMPORT_LYNC: &str = "Import-Module Lync";

/// The first line of the type normalization every answer goes through:
/// TimeSpan as `c` (`hh:mm:ss`), dates as ISO 8601 UTC, enums by name —
/// not ConvertTo-Json's TimeSpan objects, `/Date(ms)/` and enum numbers.
pub const NORMALIZE: &str = "function ConvertTo-DrillbookValue($v, $depth) {";
const NORMALIZE_BODY: &str = "  if ($null -eq $v) { return $null }\n\
  if ($v -is [TimeSpan]) { return $v.ToString('c') }\n\
  if ($v -is [DateTime]) { return $v.ToUniversalTime().ToString(\"yyyy-MM-dd'T'HH:mm:ss'Z'\", [Globalization.CultureInfo]::InvariantCulture) }\n\
  if ($v -is [DateTimeOffset]) { return $v.UtcDateTime.ToString(\"yyyy-MM-dd'T'HH:mm:ss'Z'\", [Globalization.CultureInfo]::InvariantCulture) }\n\
  if ($v -is [Enum]) { return $v.ToString() }\n\
  if ($v -is [string] -or $v -is [ValueType]) { return $v }\n\
  if ($depth -ge 5) { return [string]$v }\n\
  if ($v -is [Collections.IDictionary]) { $h = [ordered]@{}; foreach ($k in $v.Keys) { $h[[string]$k] = ConvertTo-DrillbookValue $v[$k] ($depth + 1) }; return $h }\n\
  if ($v -is [Collections.IEnumerable]) { return ,@($v | ForEach-Object { ConvertTo-DrillbookValue $_ ($depth + 1) }) }\n\
  $h = [ordered]@{}\n\
  foreach ($p in $v.PSObject.Properties) { $h[$p.Name] = ConvertTo-DrillbookValue $p.Value ($depth + 1) }\n\
  return [pscustomobject]$h\n\
}\n";

/// The line before the cmdlet line: its output is collected, its verbose
/// (4) and warning (3) streams too, apart, as log lines. (The information
/// stream, 6, is left alone: `6>&1` is a parse error on PowerShell 3.0 and
/// 4.0; what it prints lands before the [`SENTINEL`] and is kept as a log.)
pub const CMDLET_OPEN: &str = "$logs = New-Object System.Collections.ArrayList\n$out = & {\n";
/// What follows the cmdlet line, up to the end of the script.
pub const CMDLET_CLOSE: &str = "} 3>&1 4>&1 | ForEach-Object {\n\
  if ($_ -is [System.Management.Automation.VerboseRecord]) { [void]$logs.Add('VERBOSE: ' + $_.Message) }\n\
  elseif ($_ -is [System.Management.Automation.WarningRecord]) { [void]$logs.Add('WARNING: ' + $_.Message) }\n\
  else { ConvertTo-DrillbookValue $_ 0 }\n\
}\n";
/// The line of stdout the answer follows: one line of JSON with the log
/// lines (an array of strings), then the result as one line of JSON
/// (nothing for `$null`). Anything printed before it (a profile, a banner,
/// the information stream) is not the answer.
pub const SENTINEL: &str = "#drillbook-answer";

/// Where the Lync Server cmdlets of a script come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    /// `Import-Module Lync` on the machine the shell runs on.
    Local,
    /// Lync's remote endpoint: the quoted `https://<host>/OcsPowershell`
    /// (`quote::ps_connection_uri`), with the caller's Windows credentials.
    Remote { uri_literal: String },
}

/// The lines that open a remote session, before and after the quoted URI.
pub const REMOTE_OPEN: &str = "$s = New-PSSession -ConnectionUri ";
pub const REMOTE_AUTH: &str = " -Authentication NegotiateWithImplicitCredential\n\
$null = Import-PSSession -Session $s -AllowClobber -DisableNameChecking\n";
/// Ends a remote session's script: the endpoint allows few sessions per user.
const REMOTE_CLOSE: &str = " finally {\nif ($s) { Remove-PSSession $s }\n}";

/// The script for one rendered cmdlet line.
pub fn script(line: &str, session: &Session) -> String {
    let (open, close) = match session {
        Session::Local => (format!("{IMPORT_LYNC}\n"), ""),
        Session::Remote { uri_literal } => (
            format!("{REMOTE_OPEN}{uri_literal}{REMOTE_AUTH}"),
            REMOTE_CLOSE,
        ),
    };
    // The blank line ends the statement for `-Command -`.
    format!(
        "{PROLOGUE}\n\
         $ProgressPreference = 'SilentlyContinue'\n\
         {FORCE_UTF8}\n\
         $OutputEncoding = [Console]::OutputEncoding\n\
         {OPEN}{open}{NORMALIZE}\n{NORMALIZE_BODY}{CMDLET_OPEN}{line}\n{CMDLET_CLOSE}\
         [Console]::Out.WriteLine('{SENTINEL}')\n\
         [Console]::Out.WriteLine((ConvertTo-Json -InputObject @($logs) -Compress))\n\
         if ($null -ne $out) {{ [Console]::Out.WriteLine(($out | ConvertTo-Json -Depth 5 -Compress)) }}\n\
         exit 0\n\
         }} catch {{\n\
         [Console]::Error.WriteLine($_.Exception.Message)\n\
         exit 1\n\
         }}{close}\n}}\n\n"
    )
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
