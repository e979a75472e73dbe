//! The estate: sites, servers, SQL instances and pools, read from a TOML
//! estate file and checked against the design rules of the documentation
//! before anything uses it. A loaded `Estate` is known to be consistent:
//! every name it references exists.

use crate::error::{line_col, Error, Result};
use crate::op::unc_server;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The built-in lab estate, embedded so the binary works from any directory.
pub const BUILTIN_NAME: &str = "litware";
pub const BUILTIN_TOML: &str = include_str!("../estates/litware.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstateFile {
    pub estate: Info,
    pub sites: BTreeMap<String, Site>,
    #[serde(default)]
    pub servers: BTreeMap<String, Server>,
    #[serde(default)]
    pub sql: BTreeMap<String, SqlInstance>,
    #[serde(default)]
    pub persistent_chat: BTreeMap<String, PersistentChatPool>,
    /// How the live target reaches the estate's shell and shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<Live>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Info {
    pub name: String,
    pub domain: String,
    /// Where the lab clock starts (UTC, RFC 3339).
    #[serde(default = "default_lab_start")]
    pub lab_start: String,
}

fn default_lab_start() -> String {
    "2026-01-01T00:00:00Z".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    #[serde(default)]
    pub description: String,
    /// Where Lync Management Shell cmdlets run when this site is the one acting.
    pub management_host: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub site: String,
    pub role: String,
}

pub const SERVER_ROLES: [&str; 5] = ["front-end", "persistent-chat", "sql", "file-server", "edge"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlInstance {
    pub server: String,
    /// Named instance; absent for the default instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,

    // How the live target connects; none of it matters to the lab.
    /// Host name or address to connect to [default: `server`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// TCP port; without it a named instance is found through SQL Browser,
    /// and a default instance listens on 1433.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `required` (default), `off` (only the login is encrypted) or `not_supported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<String>,
    /// Trust the server's certificate without checking it (a lab, never production).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_cert: Option<bool>,
    /// A PEM or DER file with the CA that signed the server's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_timeout_seconds: Option<u64>,
    /// SQL login; without it, Windows integrated authentication (Windows only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// The environment variable holding the login's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// A file (mode 600) whose first line is the login's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

/// Encryption levels an estate may ask for, as tiberius names them.
pub const SQL_ENCRYPTION: [&str; 3] = ["required", "off", "not_supported"];

/// `[live]`: how the live target runs the Lync Management Shell and reaches shares.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Live {
    /// The command that runs the Lync Management Shell and reads a script on
    /// stdin; `{host}` in an argument becomes the op's management host.
    #[serde(default = "default_shell")]
    pub shell: Vec<String>,
    #[serde(default = "default_shell_timeout")]
    pub shell_timeout_seconds: u64,
    /// UNC prefix → local directory where that share is mounted.
    #[serde(default)]
    pub mounts: BTreeMap<String, String>,
    /// Answer file ops from this lab state file instead of mounts: written
    /// by `drillbook lab serve`, whose twin has no SMB server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab_files: Option<String>,
}

pub fn default_shell() -> Vec<String> {
    ["pwsh", "-NoProfile", "-NonInteractive", "-Command", "-"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn default_shell_timeout() -> u64 {
    600
}

impl Default for Live {
    fn default() -> Live {
        Live {
            shell: default_shell(),
            shell_timeout_seconds: default_shell_timeout(),
            mounts: BTreeMap::new(),
            lab_files: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersistentChatPool {
    pub servers: Vec<String>,
    pub active_servers: Vec<String>,
    #[serde(default = "default_tx_per_minute")]
    pub transactions_per_minute: u64,
    pub mgc: ChatDatabase,
    pub log_shipping: LogShipping,
}

fn default_tx_per_minute() -> u64 {
    60
}

/// Where one Persistent Chat database lives: the stretched-pool layout.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatDatabase {
    pub primary: String,
    #[serde(default)]
    pub mirror: Option<String>,
    #[serde(default)]
    pub witness: Option<String>,
    pub backup: String,
    #[serde(default)]
    pub backup_mirror: Option<String>,
    #[serde(default)]
    pub backup_witness: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogShipping {
    /// UNC path the primary backs its log up to.
    pub share: String,
    /// UNC path the secondary copies to and restores from.
    pub copy_folder: String,
    pub backup_every_minutes: u64,
    pub copy_every_minutes: u64,
    pub restore_every_minutes: u64,
}

/// Persistent Chat pools hold at most this many servers, this many active.
pub const PC_MAX_SERVERS: usize = 8;
pub const PC_MAX_ACTIVE: usize = 4;

/// A loaded, validated estate.
#[derive(Debug, Clone)]
pub struct Estate {
    pub file: EstateFile,
    /// Where it came from, for messages: a path or `<built-in litware>`.
    pub source: String,
    /// The file's absolute path, so a resumed run finds it from anywhere.
    pub path: Option<std::path::PathBuf>,
    pub sha256: String,
}

impl Estate {
    pub fn builtin() -> Result<Estate> {
        Estate::parse(BUILTIN_TOML, &format!("<built-in {BUILTIN_NAME}>"))
    }

    pub fn load(path: &std::path::Path) -> Result<Estate> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut estate = Estate::parse(&text, &path.display().to_string())?;
        estate.path = Some(std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?);
        Ok(estate)
    }

    pub fn parse(text: &str, source: &str) -> Result<Estate> {
        let file: EstateFile = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            Error::EstateSyntax {
                file: source.to_string(),
                line,
                col,
                message: e.message().to_string(),
            }
        })?;
        let problems = validate(&file);
        if !problems.is_empty() {
            return Err(Error::Estate {
                file: source.to_string(),
                message: format!(
                    "the estate breaks {} rule{}:\n  {}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    problems.join("\n  ")
                ),
            });
        }
        Ok(Estate {
            file,
            source: source.to_string(),
            path: None,
            sha256: sha256_hex(text.as_bytes()),
        })
    }

    pub fn site_of_server(&self, fqdn: &str) -> Option<&str> {
        self.file.servers.get(fqdn).map(|s| s.site.as_str())
    }

    pub fn site_of_instance(&self, id: &str) -> Option<&str> {
        self.file
            .sql
            .get(id)
            .and_then(|i| self.site_of_server(&i.server))
    }

    /// `server\instance`, as SQL Server names it.
    pub fn instance_name(&self, id: &str) -> Option<String> {
        self.file.sql.get(id).map(|i| match &i.instance {
            Some(n) => format!("{}\\{}", i.server, n),
            None => i.server.clone(),
        })
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Is `name` a syntactically valid fully qualified domain name?
pub fn is_fqdn(name: &str) -> bool {
    name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Every rule the estate breaks, each naming the objects involved.
pub fn validate(f: &EstateFile) -> Vec<String> {
    let mut p = Vec::new();
    if crate::time::parse_rfc3339(&f.estate.lab_start).is_none() {
        p.push(format!(
            "estate.lab_start = {:?} is not a UTC time like \"2026-03-14T01:00:00Z\"",
            f.estate.lab_start
        ));
    }
    for (name, site) in &f.sites {
        match f.servers.get(&site.management_host) {
            None => p.push(format!(
                "sites.{name}.management_host = {:?} is not a server of the estate",
                site.management_host
            )),
            Some(s) if &s.site != name => p.push(format!(
                "sites.{name}.management_host = {:?} is in site {:?}, not {name:?}",
                site.management_host, s.site
            )),
            _ => {}
        }
    }
    for (fqdn, server) in &f.servers {
        if !is_fqdn(fqdn) {
            p.push(format!(
                "servers.{fqdn:?} is not a fully qualified domain name"
            ));
        }
        if !f.sites.contains_key(&server.site) {
            p.push(format!(
                "servers.{fqdn:?}.site = {:?} is not a site of the estate",
                server.site
            ));
        }
        if !SERVER_ROLES.contains(&server.role.as_str()) {
            p.push(format!(
                "servers.{fqdn:?}.role = {:?} is not one of {}",
                server.role,
                SERVER_ROLES.join(", ")
            ));
        }
    }
    for (id, inst) in &f.sql {
        if !f.servers.contains_key(&inst.server) {
            p.push(format!(
                "sql.{id}.server = {:?} is not a server of the estate",
                inst.server
            ));
        }
        if let Some(n) = &inst.instance {
            if n.is_empty()
                || n.len() > 16
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            {
                p.push(format!(
                    "sql.{id}.instance = {n:?} is not a valid SQL Server instance name"
                ));
            }
        }
    }
    for (id, inst) in &f.sql {
        validate_connection(id, inst, &mut p);
    }
    if let Some(live) = &f.live {
        if live.shell.is_empty() || live.shell[0].is_empty() {
            p.push("live.shell must name a program, like [\"pwsh\", \"-NoProfile\", \"-NonInteractive\", \"-Command\", \"-\"]".to_string());
        }
        if live.shell_timeout_seconds == 0 {
            p.push("live.shell_timeout_seconds must be at least 1".to_string());
        }
        for unc in live.mounts.keys() {
            if unc_server(unc).is_none() {
                p.push(format!(
                    "live.mounts: {unc:?} is not a UNC path like \\\\server\\share"
                ));
            }
        }
    }
    for (pool, pc) in &f.persistent_chat {
        validate_chat_pool(f, pool, pc, &mut p);
    }
    p
}

/// The live connection settings of one SQL instance.
fn validate_connection(id: &str, inst: &SqlInstance, p: &mut Vec<String>) {
    if let Some(e) = &inst.encryption {
        if !SQL_ENCRYPTION.contains(&e.as_str()) {
            p.push(format!(
                "sql.{id}.encryption = {e:?} is not one of {}",
                SQL_ENCRYPTION.join(", ")
            ));
        }
    }
    if inst.trust_cert == Some(true) && inst.ca_file.is_some() {
        p.push(format!("sql.{id}: give trust_cert or ca_file, not both"));
    }
    if inst.port == Some(0) {
        p.push(format!("sql.{id}.port must be between 1 and 65535"));
    }
    for (key, v) in [
        ("connect_timeout_seconds", inst.connect_timeout_seconds),
        ("command_timeout_seconds", inst.command_timeout_seconds),
    ] {
        if v == Some(0) {
            p.push(format!("sql.{id}.{key} must be at least 1"));
        }
    }
    match (&inst.login, &inst.password_env, &inst.credentials_file) {
        (_, Some(_), Some(_)) => p.push(format!(
            "sql.{id}: give password_env or credentials_file, not both"
        )),
        (None, Some(_), _) | (None, _, Some(_)) => p.push(format!(
            "sql.{id}: a password source is given but no login"
        )),
        (Some(_), None, None) => p.push(format!(
            "sql.{id}: login is set but neither password_env nor credentials_file says where its password is"
        )),
        _ => {}
    }
}

fn validate_chat_pool(f: &EstateFile, pool: &str, pc: &PersistentChatPool, p: &mut Vec<String>) {
    let at = format!("persistent_chat.{pool:?}");
    if !is_fqdn(pool) {
        p.push(format!("{at} is not a fully qualified domain name"));
    }
    if pc.servers.len() > PC_MAX_SERVERS {
        p.push(format!(
            "{at}.servers lists {} servers; a pool holds at most {PC_MAX_SERVERS}",
            pc.servers.len()
        ));
    }
    for s in &pc.servers {
        match f.servers.get(s) {
            None => p.push(format!("{at}.servers: {s:?} is not a server of the estate")),
            Some(srv) if srv.role != "persistent-chat" => p.push(format!(
                "{at}.servers: {s:?} has role {:?}, not \"persistent-chat\"",
                srv.role
            )),
            _ => {}
        }
    }
    if pc.active_servers.len() > PC_MAX_ACTIVE {
        p.push(format!(
            "{at}.active_servers lists {} servers; at most {PC_MAX_ACTIVE} may be active",
            pc.active_servers.len()
        ));
    }
    for s in &pc.active_servers {
        if !pc.servers.contains(s) {
            p.push(format!(
                "{at}.active_servers: {s:?} is not one of the pool's servers"
            ));
        }
    }
    let db = &pc.mgc;
    let roles = [
        ("primary", Some(&db.primary)),
        ("mirror", db.mirror.as_ref()),
        ("witness", db.witness.as_ref()),
        ("backup", Some(&db.backup)),
        ("backup_mirror", db.backup_mirror.as_ref()),
        ("backup_witness", db.backup_witness.as_ref()),
    ];
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (role, inst) in roles {
        let Some(inst) = inst else { continue };
        if !f.sql.contains_key(inst) {
            p.push(format!(
                "{at}.mgc.{role} = {inst:?} is not a SQL instance of the estate (sql.*)"
            ));
        }
        if let Some(other) = seen.insert(inst, role) {
            if !(role.ends_with("witness") && other.ends_with("witness")) {
                p.push(format!("{at}.mgc: {inst:?} is both {other} and {role}"));
            }
        }
    }
    if db.witness.is_some() && db.mirror.is_none() {
        p.push(format!(
            "{at}.mgc.witness is set but there is no mirror for it to serve"
        ));
    }
    if db.backup_witness.is_some() && db.backup_mirror.is_none() {
        p.push(format!(
            "{at}.mgc.backup_witness is set but there is no backup_mirror for it to serve"
        ));
    }
    // The same-data-center rule: active servers sit with the current primary mgc.
    let primary_site = f
        .sql
        .get(&db.primary)
        .and_then(|i| f.servers.get(&i.server))
        .map(|s| s.site.as_str());
    if let Some(primary_site) = primary_site {
        let strays: Vec<String> = pc
            .active_servers
            .iter()
            .filter_map(|s| {
                f.servers
                    .get(s)
                    .filter(|srv| srv.site != primary_site)
                    .map(|srv| format!("{s} ({})", srv.site))
            })
            .collect();
        if !strays.is_empty() {
            let verb = if strays.len() == 1 { "is" } else { "are" };
            p.push(format!(
                "{at}.active_servers: {} {verb} not in site {primary_site:?} of the primary mgc ({}); \
                 active Persistent Chat servers must be in the data center of the primary database",
                strays.join(", "),
                db.primary
            ));
        }
    }
    let ls = &pc.log_shipping;
    for (key, path) in [("share", &ls.share), ("copy_folder", &ls.copy_folder)] {
        match unc_server(path) {
            None => p.push(format!("{at}.log_shipping.{key} = {path:?} is not a UNC path like \\\\server\\share")),
            Some(server) if !f.servers.contains_key(server) => p.push(format!(
                "{at}.log_shipping.{key} = {path:?}: server {server:?} is not a server of the estate"
            )),
            _ => {}
        }
    }
    for (key, minutes) in [
        ("backup_every_minutes", ls.backup_every_minutes),
        ("copy_every_minutes", ls.copy_every_minutes),
        ("restore_every_minutes", ls.restore_every_minutes),
    ] {
        if !(1..=1440).contains(&minutes) {
            p.push(format!(
                "{at}.log_shipping.{key} = {minutes} must be between 1 and 1440"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_estate_is_valid() {
        let e = Estate::builtin().unwrap();
        assert_eq!(e.site_of_instance("pcsql-dub1"), Some("dublin"));
        assert_eq!(
            e.instance_name("pcsql-dub1").unwrap(),
            "pcsql-dub1.litwareinc.com\\pchat"
        );
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let err = Estate::parse("[estate]\nname = \"x\"\ndomain = \n", "e.toml").unwrap_err();
        match err {
            Error::EstateSyntax { line, .. } => assert_eq!(line, 3),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn active_server_outside_primary_site_is_refused() {
        let text = BUILTIN_TOML.replace(
            "active_servers = [\"pchat-red1.litwareinc.com\", \"pchat-red2.litwareinc.com\"]",
            "active_servers = [\"pchat-red1.litwareinc.com\", \"pchat-dub1.litwareinc.com\"]",
        );
        let msg = Estate::parse(&text, "x.toml").unwrap_err().to_string();
        assert!(
            msg.contains("pchat-dub1.litwareinc.com (dublin) is not in site \"redmond\""),
            "{msg}"
        );
    }

    #[test]
    fn live_connection_settings_are_checked() {
        let text = BUILTIN_TOML.replace(
            "[sql.pcsql-dub1]\nserver = \"pcsql-dub1.litwareinc.com\"\ninstance = \"pchat\"",
            "[sql.pcsql-dub1]\nserver = \"pcsql-dub1.litwareinc.com\"\ninstance = \"pchat\"\n\
             encryption = \"maybe\"\nport = 0\ntrust_cert = true\nca_file = \"ca.pem\"\n\
             password_env = \"X\"\ncommand_timeout_seconds = 0",
        ) + "\n[live]\nshell = []\n[live.mounts]\n'D:\\x' = '/mnt/x'\n";
        let msg = Estate::parse(&text, "x.toml").unwrap_err().to_string();
        for expected in [
            "sql.pcsql-dub1.encryption = \"maybe\" is not one of required, off, not_supported",
            "sql.pcsql-dub1: give trust_cert or ca_file, not both",
            "sql.pcsql-dub1.port must be between 1 and 65535",
            "sql.pcsql-dub1.command_timeout_seconds must be at least 1",
            "sql.pcsql-dub1: a password source is given but no login",
            "live.shell must name a program",
            "live.mounts: \"D:\\\\x\" is not a UNC path",
        ] {
            assert!(msg.contains(expected), "{expected}\n{msg}");
        }
    }

    #[test]
    fn fqdn_check() {
        assert!(is_fqdn("pchat.litwareinc.com"));
        assert!(!is_fqdn("pchat"));
        assert!(!is_fqdn("a..b"));
        assert!(!is_fqdn("a;b.c"));
    }
}
