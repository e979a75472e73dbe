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
pub const BUILTIN_TOML: &str = include_str!("../../estates/litware.toml");

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
    /// Front End pools, by pool FQDN.
    #[serde(default)]
    pub pools: BTreeMap<String, FrontEndPool>,
    /// Edge pools, by pool FQDN.
    #[serde(default)]
    pub edge_pools: BTreeMap<String, EdgePool>,
    #[serde(default)]
    pub backup_service: BackupService,
    /// DNS records the procedures change (A and SRV), one per name and type.
    #[serde(default)]
    pub dns: Vec<DnsRecord>,
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
    /// The Edge pool (FQDN) the site routes XMPP federation through; one
    /// site of the estate holds the route.
    #[serde(default)]
    pub xmpp_federation_route: Option<String>,
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
    /// SQL Server version, e.g. "2012" or "2008 R2".
    #[serde(default)]
    pub version: Option<String>,
    /// SQL Server edition, e.g. "Enterprise".
    #[serde(default)]
    pub edition: Option<String>,

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// A Front End pool: where users are homed, its back end, its pairing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontEndPool {
    pub site: String,
    /// `enterprise` or `standard`.
    pub edition: String,
    /// `physical` or `virtual`.
    pub platform: String,
    pub os: String,
    /// The paired pool (set only in Topology Builder); pairing is mutual.
    #[serde(default)]
    pub backup_pool: Option<String>,
    /// Exactly one pool of an estate with pools hosts the Central Management Store.
    #[serde(default)]
    pub hosts_cms: bool,
    /// "Associate Edge Pool (for media components)".
    #[serde(default)]
    pub edge_pool: Option<String>,
    /// Servers with role front-end, in the pool's site.
    pub front_ends: Vec<String>,
    /// Users homed on the pool.
    #[serde(default)]
    pub users: u64,
    /// User-data changes (contacts, presence) per minute that the Backup Service replicates.
    #[serde(default)]
    pub changes_per_minute: u64,
    pub back_end: BackEnd,
}

/// A pool's Back End SQL: principal, optional mirror and witness, by SQL instance id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackEnd {
    /// `mirroring`, `cluster` or `none`.
    pub ha: String,
    /// `synchronous` or `asynchronous` (the latter is not supported; estate-check reports it).
    #[serde(default)]
    pub mirroring: Option<String>,
    pub principal: String,
    #[serde(default)]
    pub mirror: Option<String>,
    #[serde(default)]
    pub witness: Option<String>,
}

impl BackEnd {
    /// The mirroring mode in effect: synchronous unless the file says otherwise.
    pub fn mirroring_mode(&self) -> &str {
        self.mirroring.as_deref().unwrap_or("synchronous")
    }
}

pub const POOL_EDITIONS: [&str; 2] = ["enterprise", "standard"];
pub const POOL_PLATFORMS: [&str; 2] = ["physical", "virtual"];
pub const BACK_END_HA: [&str; 3] = ["mirroring", "cluster", "none"];
pub const MIRRORING_MODES: [&str; 2] = ["synchronous", "asynchronous"];

/// An Edge pool: its servers, the federation (5061) flag and its next-hop pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgePool {
    pub site: String,
    /// Servers with role edge, in the pool's site.
    pub servers: Vec<String>,
    /// "Enable federation for this Edge pool (Port 5061)".
    #[serde(default)]
    pub federation: bool,
    /// The Front End pool the Edge pool sends traffic to.
    pub next_hop: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupService {
    /// `hh:mm:ss`, between 00:00:05 and 03:00:00.
    #[serde(default = "default_sync_interval")]
    pub sync_interval: String,
}

impl Default for BackupService {
    fn default() -> Self {
        BackupService {
            sync_interval: default_sync_interval(),
        }
    }
}

fn default_sync_interval() -> String {
    "00:02:00".to_string()
}

/// The Backup Service's sync interval bounds, in seconds.
pub const SYNC_INTERVAL_MIN: u64 = 5;
pub const SYNC_INTERVAL_MAX: u64 = 3 * 3600;

/// `hh:mm:ss` in seconds; `None` unless it is exactly that form.
pub fn parse_hms(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    let num = |p: &str| {
        (!p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
            .then(|| p.parse::<u64>().ok())
            .flatten()
    };
    let (h, m, s) = (num(h)?, num(m)?, num(s)?);
    (m < 60 && s < 60).then_some(h * 3600 + m * 60 + s)
}

/// Seconds as `hh:mm:ss`.
pub fn format_hms(seconds: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// One DNS record: `A` (target = the host it resolves to) or `SRV`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
    /// SRV only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// SRV only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u16>,
}

pub const DNS_TYPES: [&str; 2] = ["A", "SRV"];

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
    for (name, site) in &f.sites {
        if let Some(route) = &site.xmpp_federation_route {
            if !f.edge_pools.contains_key(route) {
                p.push(format!(
                    "sites.{name}.xmpp_federation_route = {route:?} is not an Edge pool of the estate (edge_pools.*)"
                ));
            }
        }
    }
    for (id, inst) in &f.sql {
        for (key, value) in [("version", &inst.version), ("edition", &inst.edition)] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                p.push(format!(
                    "sql.{id}.{key} = \"\" must name a SQL Server {key} or be left out"
                ));
            }
        }
    }
    validate_pools(f, &mut p);
    for (name, edge) in &f.edge_pools {
        validate_edge_pool(f, name, edge, &mut p);
    }
    let interval = &f.backup_service.sync_interval;
    match parse_hms(interval) {
        None => p.push(format!(
            "backup_service.sync_interval = {interval:?} is not a time span like \"00:02:00\" (hh:mm:ss)"
        )),
        Some(s) if !(SYNC_INTERVAL_MIN..=SYNC_INTERVAL_MAX).contains(&s) => p.push(format!(
            "backup_service.sync_interval = {interval:?} must be between 00:00:05 and 03:00:00"
        )),
        _ => {}
    }
    validate_dns(f, &mut p);
    p
}

/// Is `name` a DNS name: an FQDN whose labels may start with `_` (SRV owners).
pub fn is_dns_name(name: &str) -> bool {
    let plain = name
        .split('.')
        .map(|l| l.strip_prefix('_').unwrap_or(l))
        .collect::<Vec<_>>()
        .join(".");
    is_fqdn(&plain)
}

/// The servers a list names that are not servers of `role` in `site`.
fn check_members(
    f: &EstateFile,
    at: &str,
    servers: &[String],
    role: &str,
    site: &str,
    p: &mut Vec<String>,
) {
    if servers.is_empty() {
        p.push(format!(
            "{at} is empty; list at least one server with role {role:?}"
        ));
    }
    for s in servers {
        match f.servers.get(s) {
            None => p.push(format!("{at}: {s:?} is not a server of the estate")),
            Some(srv) if srv.role != role => {
                p.push(format!("{at}: {s:?} has role {:?}, not {role:?}", srv.role))
            }
            Some(srv) if srv.site != site => p.push(format!(
                "{at}: {s:?} is in site {:?}, not the pool's site {site:?}",
                srv.site
            )),
            _ => {}
        }
    }
}

fn validate_pools(f: &EstateFile, p: &mut Vec<String>) {
    let mut front_ends: BTreeMap<&str, &str> = BTreeMap::new();
    for (fqdn, pool) in &f.pools {
        for fe in &pool.front_ends {
            if let Some(other) = front_ends.insert(fe, fqdn) {
                p.push(format!(
                    "pools.{fqdn:?}.front_ends: {fe:?} is also a front end of pools.{other:?}"
                ));
            }
        }
    }
    let mut owners: BTreeMap<&str, String> = BTreeMap::new();
    for pc in f.persistent_chat.values() {
        let db = &pc.mgc;
        for inst in [
            Some(&db.primary),
            db.mirror.as_ref(),
            Some(&db.backup),
            db.backup_mirror.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            owners.insert(inst, "Persistent Chat".to_string());
        }
    }
    for (fqdn, pool) in &f.pools {
        let at = format!("pools.{fqdn:?}");
        if !is_fqdn(fqdn) {
            p.push(format!("{at} is not a fully qualified domain name"));
        }
        if !f.sites.contains_key(&pool.site) {
            p.push(format!(
                "{at}.site = {:?} is not a site of the estate",
                pool.site
            ));
        }
        for (key, value, allowed) in [
            ("edition", &pool.edition, &POOL_EDITIONS[..]),
            ("platform", &pool.platform, &POOL_PLATFORMS[..]),
        ] {
            if !allowed.contains(&value.as_str()) {
                p.push(format!(
                    "{at}.{key} = {value:?} is not one of {}",
                    allowed.join(", ")
                ));
            }
        }
        if pool.os.trim().is_empty() {
            p.push(format!("{at}.os = \"\" must name the operating system"));
        }
        check_members(
            f,
            &format!("{at}.front_ends"),
            &pool.front_ends,
            "front-end",
            &pool.site,
            p,
        );
        if let Some(edge) = &pool.edge_pool {
            if !f.edge_pools.contains_key(edge) {
                p.push(format!(
                    "{at}.edge_pool = {edge:?} is not an Edge pool of the estate (edge_pools.*)"
                ));
            }
        }
        if let Some(backup) = &pool.backup_pool {
            match f.pools.get(backup) {
                None => p.push(format!("{at}.backup_pool = {backup:?} is not a Front End pool of the estate (pools.*)")),
                Some(_) if backup == fqdn => p.push(format!("{at}.backup_pool = {backup:?} is the pool itself")),
                Some(other) if other.backup_pool.as_deref() != Some(fqdn.as_str()) => p.push(format!(
                    "{at}.backup_pool = {backup:?}, but pools.{backup:?}.backup_pool = {:?}: pairing is mutual, \
                     each pool of a pair is the other's backup",
                    other.backup_pool.as_deref().unwrap_or("(none)")
                )),
                _ => {}
            }
        }
        let be = &pool.back_end;
        let at_be = format!("{at}.back_end");
        if !BACK_END_HA.contains(&be.ha.as_str()) {
            p.push(format!(
                "{at_be}.ha = {:?} is not one of {}",
                be.ha,
                BACK_END_HA.join(", ")
            ));
        }
        if let Some(mode) = &be.mirroring {
            if !MIRRORING_MODES.contains(&mode.as_str()) {
                p.push(format!(
                    "{at_be}.mirroring = {mode:?} is not one of {}",
                    MIRRORING_MODES.join(", ")
                ));
            }
        }
        match (be.ha.as_str(), &be.mirror) {
            ("mirroring", None) => {
                p.push(format!("{at_be}.ha = \"mirroring\" but no mirror is set"))
            }
            ("cluster" | "none", Some(m)) => p.push(format!(
                "{at_be}.mirror = {m:?} is set but ha = {:?}; use ha = \"mirroring\"",
                be.ha
            )),
            _ => {}
        }
        if be.witness.is_some() && be.mirror.is_none() {
            p.push(format!(
                "{at_be}.witness is set but there is no mirror for it to serve"
            ));
        }
        let roles = [
            ("principal", Some(&be.principal)),
            ("mirror", be.mirror.as_ref()),
            ("witness", be.witness.as_ref()),
        ];
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (role, inst) in roles {
            let Some(inst) = inst else { continue };
            if !f.sql.contains_key(inst) {
                p.push(format!(
                    "{at_be}.{role} = {inst:?} is not a SQL instance of the estate (sql.*)"
                ));
            }
            if let Some(other) = seen.insert(inst, role) {
                p.push(format!("{at_be}: {inst:?} is both {other} and {role}"));
            }
            // One witness may serve several pairs; partners belong to one pool.
            if role != "witness" {
                if let Some(owner) = owners.insert(inst, format!("pool {fqdn}")) {
                    p.push(format!(
                        "{at_be}.{role} = {inst:?} already holds the databases of {owner}"
                    ));
                }
            }
        }
    }
    let cms: Vec<&String> = f
        .pools
        .iter()
        .filter(|(_, p)| p.hosts_cms)
        .map(|(n, _)| n)
        .collect();
    if !f.pools.is_empty() && cms.len() != 1 {
        p.push(format!(
            "pools: exactly one pool hosts the Central Management Store (hosts_cms = true); found {}",
            if cms.is_empty() { "none".to_string() } else { cms.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ") }
        ));
    }
}

fn validate_edge_pool(f: &EstateFile, name: &str, edge: &EdgePool, p: &mut Vec<String>) {
    let at = format!("edge_pools.{name:?}");
    if !is_fqdn(name) {
        p.push(format!("{at} is not a fully qualified domain name"));
    }
    if !f.sites.contains_key(&edge.site) {
        p.push(format!(
            "{at}.site = {:?} is not a site of the estate",
            edge.site
        ));
    }
    check_members(
        f,
        &format!("{at}.servers"),
        &edge.servers,
        "edge",
        &edge.site,
        p,
    );
    if !f.pools.contains_key(&edge.next_hop) {
        p.push(format!(
            "{at}.next_hop = {:?} is not a Front End pool of the estate (pools.*)",
            edge.next_hop
        ));
    }
    for (other, e) in &f.edge_pools {
        if other.as_str() < name {
            for s in edge.servers.iter().filter(|s| e.servers.contains(s)) {
                p.push(format!(
                    "{at}.servers: {s:?} is also a server of edge_pools.{other:?}"
                ));
            }
        }
    }
}

fn validate_dns(f: &EstateFile, p: &mut Vec<String>) {
    let mut seen: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for (i, r) in f.dns.iter().enumerate() {
        let at = format!("dns[{i}]");
        if !is_dns_name(&r.name) {
            p.push(format!("{at}.name = {:?} is not a DNS name", r.name));
        }
        if !DNS_TYPES.contains(&r.kind.as_str()) {
            p.push(format!(
                "{at}.type = {:?} is not one of {}",
                r.kind,
                DNS_TYPES.join(", ")
            ));
        }
        if !is_dns_name(&r.target) {
            p.push(format!("{at}.target = {:?} is not a DNS name", r.target));
        }
        match r.kind.as_str() {
            "SRV" if r.port.is_none() => p.push(format!(
                "{at}.port is required for an SRV record ({})",
                r.name
            )),
            "A" => {
                for (key, set) in [
                    ("port", r.port.is_some()),
                    ("priority", r.priority.is_some()),
                ] {
                    if set {
                        p.push(format!(
                            "{at}.{key} is for SRV records only; {} is an A record",
                            r.name
                        ));
                    }
                }
            }
            _ => {}
        }
        if let Some(first) = seen.insert((r.name.to_ascii_lowercase(), r.kind.as_str()), i) {
            p.push(format!(
                "{at}: {} {} is already dns[{first}]; keep one record per name and type",
                r.kind, r.name
            ));
        }
    }
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

/// One breach of a design rule of the documentation: the estate loads and
/// the lab runs it, but the `estate-check` runbook reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's id, one of `DESIGN_RULES`.
    pub rule: &'static str,
    /// The estate objects involved: pool FQDNs, SQL instance ids, site names.
    pub objects: Vec<String>,
    pub message: String,
}

/// The design rules `design_findings` checks: id and what the documentation says.
pub const DESIGN_RULES: [(&str, &str); 12] = [
    ("pair-edition", "paired pools have the same edition: Enterprise with Enterprise, Standard with Standard [D:JJ204697]"),
    ("pair-platform", "paired pools are both physical or both virtual [D:JJ204697]"),
    ("pair-os", "paired pools run the same operating system [D:JJ204697]"),
    ("pair-back-end-ha", "paired pools use the same Back End high-availability type, never mirroring with clustering [S0]"),
    ("backup-pool-site", "a pool's backup pool is in another site [S1][D:JJ205293]"),
    ("standard-edition-back-end-ha", "Back End high availability is for Enterprise Edition pools only [D:JJ204697]"),
    ("synchronous-mirroring", "Back End mirroring is synchronous; asynchronous mirroring is not supported [S0]"),
    ("sql-version", "principal, mirror and witness run the same SQL Server version [D:JJ204992]"),
    ("sql-edition", "principal and mirror run the same SQL Server edition [D:JJ204992]"),
    ("one-federation-edge-pool", "one Edge pool has \"Enable federation (5061)\" [D:JJ204678]"),
    ("one-xmpp-route", "one site holds the XMPP federation route [D:JJ204678]"),
    ("chat-stretched-layout", "mgc's mirror and witness sit with its primary; the log-shipped backup and its mirror sit in the other data center [S3][D:JJ205211]"),
];

/// Every design rule the estate breaks, one finding per breach, in a stable order.
pub fn design_findings(f: &EstateFile) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |rule: &'static str, objects: Vec<String>, message: String| {
        out.push(Finding {
            rule,
            objects,
            message,
        })
    };
    for (name, pool) in &f.pools {
        let Some(backup) = pool.backup_pool.as_ref() else {
            continue;
        };
        let Some(other) = f.pools.get(backup) else {
            continue;
        };
        // Each pair once, from its first pool by name.
        if other.backup_pool.as_deref() == Some(name.as_str()) && backup.as_str() < name.as_str() {
            continue;
        }
        let pair = vec![name.clone(), backup.clone()];
        for (rule, what, a, b) in [
            ("pair-edition", "edition", &pool.edition, &other.edition),
            ("pair-platform", "platform", &pool.platform, &other.platform),
            ("pair-os", "operating system", &pool.os, &other.os),
            (
                "pair-back-end-ha",
                "Back End HA type",
                &pool.back_end.ha,
                &other.back_end.ha,
            ),
        ] {
            if a != b {
                push(
                    rule,
                    pair.clone(),
                    format!("paired pools {name} and {backup} differ in {what}: {a:?} and {b:?}"),
                );
            }
        }
        if pool.site == other.site {
            push(
                "backup-pool-site",
                vec![name.clone(), backup.clone(), pool.site.clone()],
                format!(
                    "paired pools {name} and {backup} are both in site {:?}; a backup pool belongs in another site",
                    pool.site
                ),
            );
        }
    }
    for (name, pool) in &f.pools {
        let be = &pool.back_end;
        if pool.edition == "standard" && be.ha != "none" {
            push(
                "standard-edition-back-end-ha",
                vec![name.clone()],
                format!(
                    "{name} is a Standard Edition pool with Back End HA {:?}; Back End HA is for Enterprise Edition pools",
                    be.ha
                ),
            );
        }
        if be.ha == "mirroring" && be.mirroring_mode() == "asynchronous" {
            let mut objects = vec![name.clone(), be.principal.clone()];
            objects.extend(be.mirror.clone());
            push(
                "synchronous-mirroring",
                objects,
                format!("{name} mirrors its Back End asynchronously; only synchronous mirroring is supported"),
            );
        }
        let version_of = |id: &String| f.sql.get(id).and_then(|i| i.version.clone());
        let edition_of = |id: &String| f.sql.get(id).and_then(|i| i.edition.clone());
        let members: Vec<&String> = [Some(&be.principal), be.mirror.as_ref(), be.witness.as_ref()]
            .into_iter()
            .flatten()
            .collect();
        let versions: Vec<(String, String)> = members
            .iter()
            .filter_map(|id| version_of(id).map(|v| ((*id).clone(), v)))
            .collect();
        if versions.windows(2).any(|w| w[0].1 != w[1].1) {
            push(
                "sql-version",
                versions.iter().map(|(id, _)| id.clone()).collect(),
                format!(
                    "the Back End of {name} mixes SQL Server versions: {}",
                    versions
                        .iter()
                        .map(|(id, v)| format!("{id} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if let Some(mirror) = &be.mirror {
            if let (Some(a), Some(b)) = (edition_of(&be.principal), edition_of(mirror)) {
                if a != b {
                    push(
                        "sql-edition",
                        vec![be.principal.clone(), mirror.clone()],
                        format!(
                            "the Back End of {name}: principal {} runs {a}, mirror {mirror} runs {b}; they must run the same edition",
                            be.principal
                        ),
                    );
                }
            }
        }
    }
    let federation: Vec<String> = f
        .edge_pools
        .iter()
        .filter(|(_, e)| e.federation)
        .map(|(n, _)| n.clone())
        .collect();
    if federation.len() > 1 {
        push(
            "one-federation-edge-pool",
            federation.clone(),
            format!(
                "{} Edge pools have federation (5061) enabled: {}; enable it on one",
                federation.len(),
                federation.join(", ")
            ),
        );
    }
    let routes: Vec<String> = f
        .sites
        .iter()
        .filter(|(_, s)| s.xmpp_federation_route.is_some())
        .map(|(n, _)| n.clone())
        .collect();
    if routes.len() > 1 {
        push(
            "one-xmpp-route",
            routes.clone(),
            format!(
                "{} sites hold an XMPP federation route: {}; one site holds it",
                routes.len(),
                routes.join(", ")
            ),
        );
    }
    out
}

/// The stretched Persistent Chat pool's database layout (PROCEDURES.md §1):
/// primary, mirror and witness in one data center, backup and backup mirror
/// (and its witness) in another.
pub fn chat_layout_findings(f: &EstateFile) -> Vec<Finding> {
    let site = |id: &String| {
        f.sql
            .get(id)
            .and_then(|i| f.servers.get(&i.server))
            .map(|s| s.site.clone())
    };
    let mut out = Vec::new();
    for (pool, pc) in &f.persistent_chat {
        let db = &pc.mgc;
        let (Some(primary_site), Some(backup_site)) = (site(&db.primary), site(&db.backup)) else {
            continue;
        };
        let mut misplaced = Vec::new();
        if primary_site == backup_site {
            misplaced.push(format!(
                "backup {} is in {backup_site}, the primary's data center",
                db.backup
            ));
        }
        for (role, inst) in [("mirror", &db.mirror), ("witness", &db.witness)] {
            if let Some(inst) = inst {
                if site(inst).as_deref() != Some(primary_site.as_str()) {
                    misplaced.push(format!(
                        "{role} {inst} is not in {primary_site} with the primary"
                    ));
                }
            }
        }
        for (role, inst) in [
            ("backup_mirror", &db.backup_mirror),
            ("backup_witness", &db.backup_witness),
        ] {
            if let Some(inst) = inst {
                if site(inst).as_deref() != Some(backup_site.as_str()) {
                    misplaced.push(format!(
                        "{role} {inst} is not in {backup_site} with the backup"
                    ));
                }
            }
        }
        if !misplaced.is_empty() {
            out.push(Finding {
                rule: "chat-stretched-layout",
                objects: vec![pool.clone()],
                message: format!("Persistent Chat pool {pool}: {}", misplaced.join("; ")),
            });
        }
    }
    out
}

impl Estate {
    /// Every design rule this estate breaks.
    pub fn design_findings(&self) -> Vec<Finding> {
        let mut all = design_findings(&self.file);
        all.extend(chat_layout_findings(&self.file));
        all
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

    fn load_error(text: &str) -> String {
        Estate::parse(text, "x.toml").unwrap_err().to_string()
    }

    fn findings(text: &str) -> Vec<Finding> {
        Estate::parse(text, "x.toml").unwrap().design_findings()
    }

    #[test]
    fn builtin_estate_has_paired_pools_and_breaks_no_design_rule() {
        let e = Estate::builtin().unwrap();
        let red = &e.file.pools["pool-red.litwareinc.com"];
        assert_eq!(red.backup_pool.as_deref(), Some("pool-dub.litwareinc.com"));
        assert!(red.hosts_cms && red.back_end.witness.as_deref() == Some("besql-redw"));
        assert_eq!(e.file.edge_pools.len(), 2);
        assert_eq!(e.file.dns.len(), 4);
        assert_eq!(parse_hms(&e.file.backup_service.sync_interval), Some(120));
        assert_eq!(e.design_findings(), vec![]);
    }

    #[test]
    fn referential_errors_stop_the_load_naming_key_and_value() {
        let cases = [
            (
                "backup_pool = \"pool-dub.litwareinc.com\"\nhosts_cms",
                "backup_pool = \"pool-x.litwareinc.com\"\nhosts_cms",
                "pools.\"pool-red.litwareinc.com\".backup_pool = \"pool-x.litwareinc.com\" is not a Front End pool",
            ),
            (
                "principal = \"besql-red1\"",
                "principal = \"besql-nope\"",
                "back_end.principal = \"besql-nope\" is not a SQL instance",
            ),
            (
                "front_ends = [\"fe-red1.litwareinc.com\", \"fe-red2.litwareinc.com\"]",
                "front_ends = [\"fe-red1.litwareinc.com\", \"fe-dub2.litwareinc.com\"]",
                "\"fe-dub2.litwareinc.com\" is in site \"dublin\", not the pool's site \"redmond\"",
            ),
            (
                "servers = [\"edge-red1.litwareinc.com\"]",
                "servers = [\"fe-red1.litwareinc.com\"]",
                "has role \"front-end\", not \"edge\"",
            ),
            (
                "next_hop = \"pool-red.litwareinc.com\"",
                "next_hop = \"pchat.litwareinc.com\"",
                "next_hop = \"pchat.litwareinc.com\" is not a Front End pool",
            ),
            (
                "xmpp_federation_route = \"edge-red.litwareinc.com\"",
                "xmpp_federation_route = \"edge-x.litwareinc.com\"",
                "sites.redmond.xmpp_federation_route = \"edge-x.litwareinc.com\" is not an Edge pool",
            ),
            (
                "sync_interval = \"00:02:00\"",
                "sync_interval = \"04:00:00\"",
                "backup_service.sync_interval = \"04:00:00\" must be between 00:00:05 and 03:00:00",
            ),
            (
                "edition = \"enterprise\"\nplatform = \"physical\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-dub",
                "edition = \"premium\"\nplatform = \"physical\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-dub",
                "pools.\"pool-red.litwareinc.com\".edition = \"premium\" is not one of enterprise, standard",
            ),
            (
                "hosts_cms = true",
                "hosts_cms = false",
                "exactly one pool hosts the Central Management Store (hosts_cms = true); found none",
            ),
            ("port = 5269\n", "", "dns[1].port is required for an SRV record"),
            (
                "type = \"A\"\ntarget = \"edge-red1.litwareinc.com\"\n\n[[dns]]\nname = \"xmpp",
                "type = \"MX\"\ntarget = \"edge-red1.litwareinc.com\"\n\n[[dns]]\nname = \"xmpp",
                "dns[2].type = \"MX\" is not one of A, SRV",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(BUILTIN_TOML.contains(from), "{from}");
            let msg = load_error(&BUILTIN_TOML.replacen(from, to, 1));
            assert!(msg.contains(expected), "{expected}\n{msg}");
        }
        // Pairing is mutual.
        let text = BUILTIN_TOML.replacen("backup_pool = \"pool-red.litwareinc.com\"\n", "", 1);
        assert!(load_error(&text).contains("pairing is mutual"));
    }

    #[test]
    fn each_design_rule_is_a_finding_not_a_load_error() {
        let dub = "os = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-red";
        let cases: [(&str, &str, &str, &[&str]); 10] = [
            (
                "edition = \"enterprise\"\nplatform = \"physical\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-red",
                "edition = \"standard\"\nplatform = \"physical\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-red",
                "pair-edition",
                &["pool-dub.litwareinc.com", "pool-red.litwareinc.com"],
            ),
            (
                "platform = \"physical\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-red",
                "platform = \"virtual\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-red",
                "pair-platform",
                &["pool-dub.litwareinc.com", "pool-red.litwareinc.com"],
            ),
            (dub, "os = \"Windows Server 2008 R2\"\nbackup_pool = \"pool-red", "pair-os", &["pool-dub.litwareinc.com", "pool-red.litwareinc.com"]),
            (
                "ha = \"mirroring\"\nmirroring = \"synchronous\"\nprincipal = \"besql-dub1\"\nmirror = \"besql-dub2\"\n",
                "ha = \"cluster\"\nprincipal = \"besql-dub1\"\n",
                "pair-back-end-ha",
                &["pool-dub.litwareinc.com", "pool-red.litwareinc.com"],
            ),
            (
                "site = \"dublin\"\nedition",
                "site = \"redmond\"\nedition",
                "backup-pool-site",
                &["pool-dub.litwareinc.com", "pool-red.litwareinc.com", "redmond"],
            ),
            (
                "mirroring = \"synchronous\"\nprincipal = \"besql-red1\"",
                "mirroring = \"asynchronous\"\nprincipal = \"besql-red1\"",
                "synchronous-mirroring",
                &["pool-red.litwareinc.com", "besql-red1", "besql-red2"],
            ),
            (
                "instance = \"rtc\"\nversion = \"2012\"\nedition = \"Standard\"",
                "instance = \"rtc\"\nversion = \"2008 R2\"\nedition = \"Standard\"",
                "sql-version",
                &["besql-red1", "besql-red2", "besql-redw"],
            ),
            (
                "server = \"besql-red2.litwareinc.com\"\ninstance = \"rtc\"\nversion = \"2012\"\nedition = \"Enterprise\"",
                "server = \"besql-red2.litwareinc.com\"\ninstance = \"rtc\"\nversion = \"2012\"\nedition = \"Standard\"",
                "sql-edition",
                &["besql-red1", "besql-red2"],
            ),
            (
                "federation = false",
                "federation = true",
                "one-federation-edge-pool",
                &["edge-dub.litwareinc.com", "edge-red.litwareinc.com"],
            ),
            (
                "management_host = \"fe-dub1.litwareinc.com\"\n",
                "management_host = \"fe-dub1.litwareinc.com\"\nxmpp_federation_route = \"edge-dub.litwareinc.com\"\n",
                "one-xmpp-route",
                &["dublin", "redmond"],
            ),
        ];
        // Dublin's pool moved to Redmond, with a Redmond front end.
        let same_site = BUILTIN_TOML
            .replacen(
                "front_ends = [\"fe-dub1.litwareinc.com\", \"fe-dub2.litwareinc.com\"]",
                "front_ends = [\"fe-red3.litwareinc.com\"]",
                1,
            )
            .replacen(
                "# --- SQL Server instances",
                "[servers.\"fe-red3.litwareinc.com\"]\nsite = \"redmond\"\nrole = \"front-end\"\n\n# --- SQL Server instances",
                1,
            );
        for (from, to, rule, objects) in cases {
            let base = if rule == "backup-pool-site" {
                &same_site
            } else {
                BUILTIN_TOML
            };
            assert!(base.contains(from), "{rule}: {from}");
            let found = findings(&base.replacen(from, to, 1));
            let of_rule: Vec<&Finding> = found.iter().filter(|f| f.rule == rule).collect();
            assert_eq!(of_rule.len(), 1, "{rule}: {found:?}");
            assert_eq!(of_rule[0].objects, objects, "{rule}");
            assert!(DESIGN_RULES.iter().any(|(id, _)| *id == rule));
        }
        // A Standard Edition pair mirroring its Back End.
        let se = BUILTIN_TOML.replacen("edition = \"enterprise\"", "edition = \"standard\"", 2);
        let found = findings(&se);
        assert_eq!(
            found.iter().map(|f| f.rule).collect::<Vec<_>>(),
            vec![
                "standard-edition-back-end-ha",
                "standard-edition-back-end-ha"
            ]
        );
    }

    #[test]
    fn hms_parses_and_formats() {
        assert_eq!(parse_hms("00:02:00"), Some(120));
        assert_eq!(parse_hms("03:00:00"), Some(10800));
        assert_eq!(parse_hms("0:0:5"), Some(5));
        for bad in ["", "120", "00:60:00", "00:02", "a:b:c", "00:02:00:00"] {
            assert_eq!(parse_hms(bad), None, "{bad}");
        }
        assert_eq!(format_hms(125), "00:02:05");
        assert!(is_dns_name("_xmpp-server._tcp.litwareinc.com"));
        assert!(!is_dns_name("_x"));
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
