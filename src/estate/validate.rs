//! The estate's referential rules, checked on load: every name an estate
//! file uses points at something the file defines, in the right site and
//! with the right role; pairing is mutual; one pool holds the Central
//! Management Store; Persistent Chat keeps its limits and the same-data-center
//! rule (PROCEDURES.md §1). An estate that breaks one is refused before any
//! op, with every breach named by its key and value.
//!
//! Closed choices (roles, editions, ...) are not checked here: they are enums
//! of the schema (`file.rs`), refused by the TOML reader at their line.

use super::file::{BackEndHa, DnsType, EdgePool, EstateFile, PersistentChatPool, Role};
use super::names::{is_dns_name, is_fqdn};
use crate::op::unc_server;
use crate::time::parse_hms;
use std::collections::BTreeMap;

/// The Backup Service's sync interval bounds, in seconds.
pub const SYNC_INTERVAL_MIN: u64 = 5;
pub const SYNC_INTERVAL_MAX: u64 = 3 * 3600;

/// The workload an estate may declare, per pool: far above any real pool
/// (a Lync pool homes at most 80,000 users), low enough that no count or
/// measurement can overflow (issue 11, finding 14).
pub const TX_PER_MINUTE_MAX: u64 = 1_000_000;
pub const CHANGES_PER_MINUTE_MAX: u64 = 1_000_000;
pub const USERS_MAX: u64 = 1_000_000;

/// Persistent Chat pools hold at most this many servers, this many active.
pub const PC_MAX_SERVERS: usize = 8;
pub const PC_MAX_ACTIVE: usize = 4;

/// Can `name` be a file name on every system drillbook runs on?
fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Every rule the estate breaks, each naming the objects involved.
pub fn validate(f: &EstateFile) -> Vec<String> {
    let mut p = Vec::new();
    if !is_file_name(&f.estate.name) {
        p.push(format!(
            "estate.name = {:?} must be a file name (letters, digits, `-`, `_`, `.`; not starting with `.`; \
             at most 64 characters): it names the estate's lock file",
            f.estate.name
        ));
    }
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
        for other in &site.low_latency_to {
            if other == name || !f.sites.contains_key(other) {
                p.push(format!(
                    "sites.{name}.low_latency_to: {other:?} is not another site of the estate"
                ));
            }
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
    for (pool, pc) in &f.persistent_chat {
        validate_chat_pool(f, pool, pc, &mut p);
        let at = format!("persistent_chat.{pool:?}.transactions_per_minute");
        p.extend(out_of_range(
            &at,
            pc.transactions_per_minute,
            TX_PER_MINUTE_MAX,
        ));
    }
    for (fqdn, pool) in &f.pools {
        let at = format!("pools.{fqdn:?}");
        p.extend(out_of_range(&format!("{at}.users"), pool.users, USERS_MAX));
        p.extend(out_of_range(
            &format!("{at}.changes_per_minute"),
            pool.changes_per_minute,
            CHANGES_PER_MINUTE_MAX,
        ));
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

/// `at = value` outside 0..=max, as a problem naming the allowed range.
pub fn out_of_range(at: &str, value: u64, max: u64) -> Option<String> {
    (value > max).then(|| format!("{at} = {value} is out of range: it must be between 0 and {max}"))
}

/// The servers a list names that are not servers of `role` in `site`.
fn check_members(
    f: &EstateFile,
    at: &str,
    servers: &[String],
    role: Role,
    site: &str,
    p: &mut Vec<String>,
) {
    if servers.is_empty() {
        p.push(format!(
            "{at} is empty; list at least one server with role {:?}",
            role.as_str()
        ));
    }
    for s in servers {
        match f.servers.get(s) {
            None => p.push(format!("{at}: {s:?} is not a server of the estate")),
            Some(srv) if srv.role != role => p.push(format!(
                "{at}: {s:?} has role {:?}, not {:?}",
                srv.role.as_str(),
                role.as_str()
            )),
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
        if pool.os.trim().is_empty() {
            p.push(format!("{at}.os = \"\" must name the operating system"));
        }
        check_members(
            f,
            &format!("{at}.front_ends"),
            &pool.front_ends,
            Role::FrontEnd,
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
        match (be.ha, &be.mirror) {
            (BackEndHa::Mirroring, None) => {
                p.push(format!("{at_be}.ha = \"mirroring\" but no mirror is set"))
            }
            (BackEndHa::Cluster | BackEndHa::None, Some(m)) => p.push(format!(
                "{at_be}.mirror = {m:?} is set but ha = {:?}; use ha = \"mirroring\"",
                be.ha.as_str()
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
        Role::Edge,
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
    let mut seen: BTreeMap<(String, DnsType), usize> = BTreeMap::new();
    for (i, r) in f.dns.iter().enumerate() {
        let at = format!("dns[{i}]");
        if !is_dns_name(&r.name) {
            p.push(format!("{at}.name = {:?} is not a DNS name", r.name));
        }
        if !is_dns_name(&r.target) {
            p.push(format!("{at}.target = {:?} is not a DNS name", r.target));
        }
        match r.kind {
            DnsType::Srv if r.port.is_none() => p.push(format!(
                "{at}.port is required for an SRV record ({})",
                r.name
            )),
            DnsType::A => {
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
        if let Some(first) = seen.insert((r.name.to_ascii_lowercase(), r.kind), i) {
            p.push(format!(
                "{at}: {} {} is already dns[{first}]; keep one record per name and type",
                r.kind, r.name
            ));
        }
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
            Some(srv) if srv.role != Role::PersistentChat => p.push(format!(
                "{at}.servers: {s:?} has role {:?}, not \"persistent-chat\"",
                srv.role.as_str()
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
                    .filter(|srv| !f.low_latency(&srv.site, primary_site))
                    .map(|srv| format!("{s} ({})", srv.site))
            })
            .collect();
        if !strays.is_empty() {
            let verb = if strays.len() == 1 { "is" } else { "are" };
            p.push(format!(
                "{at}.active_servers: {} {verb} not in site {primary_site:?} of the primary mgc ({}); \
                 active Persistent Chat servers must be in the data center of the primary database \
                 or in one with a low-latency link to it (sites.SITE.low_latency_to)",
                strays.join(", "),
                db.primary
            ));
        }
    }
    let ls = &pc.log_shipping;
    for (key, path) in [("share", &ls.share), ("copy_folder", &ls.copy_folder)] {
        if path.chars().any(char::is_control) {
            continue; // reported by quoted::control_characters, at its place
        }
        if let Some(problem) = super::quoted::unc_problem(path) {
            p.push(format!(
                "{at}.log_shipping.{key} = {path:?} is not a usable UNC path: {problem}"
            ));
            continue;
        }
        match unc_server(path) {
            None => {}
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
    for (key, minutes) in [
        ("backup_retention_minutes", ls.backup_retention_minutes),
        ("file_retention_minutes", ls.file_retention_minutes),
    ] {
        if !(RETENTION_MIN..=RETENTION_MAX).contains(&minutes) {
            p.push(format!(
                "{at}.log_shipping.{key} = {minutes} must be between {RETENTION_MIN} (an hour) \
                 and {RETENTION_MAX} (a year): a backup deleted before it is copied and restored \
                 breaks the log chain"
            ));
        }
    }
}

/// Log-shipping retention bounds, in minutes.
const RETENTION_MIN: u64 = 60;
const RETENTION_MAX: u64 = 366 * 24 * 60;
