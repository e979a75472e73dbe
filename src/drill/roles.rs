//! Roles: how a scenario names the estate objects it breaks and checks, so
//! that it travels to any estate. A scenario's `params`, `faults`, `setup`
//! and `expect` (keys and values) may hold placeholders `{ROLE}` or
//! `{ROLE.ATTR...}`, resolved against the estate the drill runs on and the
//! run's parameters: `fault: "instance-down:{pool.principal}"`,
//! `"/lync/pools/{pool}/users/served_by": "{pool.backup}"`.
//!
//! A role names an object: a Front End pool, an Edge pool, the Persistent
//! Chat pool, a site, a SQL instance, a server, or a list of servers. It is
//! a parameter of the run (`pool`, `edge_pool`, ...: its value, once a
//! scenario's own `params` are resolved), or one of the estate's roles
//! (`ROLES`); attributes lead from an object to another (`ATTRIBUTES`).
//! When a role does not exist in the estate (no witness anywhere, no Edge
//! pool in another site), the scenario does not apply there: resolution
//! says why, and the drill reports "not applicable" instead of failing. A
//! placeholder ending in `?` (`{chat_pool.mgc_backup_mirror?}`) is optional:
//! the entry holding it (a fault, a setup action, an expectation) is left
//! out when the role does not exist.

use crate::estate::file::{BackEndHa, EstateFile, Role};
use crate::estate::Estate;
use crate::runbook::{Scenario, Setup};
use serde_json::Value;
use std::collections::BTreeMap;

/// The estate's roles, with what each names (README: "Drills on any estate").
pub const ROLES: [(&str, &str); 9] = [
    (
        "cms_pool",
        "the Front End pool hosting the Central Management Store",
    ),
    ("chat_pool", "the estate's (first) Persistent Chat pool"),
    (
        "federation_edge",
        "the Edge pool with federation (5061) enabled",
    ),
    (
        "xmpp_edge",
        "the Edge pool the XMPP federation route goes through",
    ),
    (
        "witness_pool",
        "the first pool whose mirrored Back End has a witness",
    ),
    (
        "manual_pool",
        "the first pool whose mirrored Back End has no witness",
    ),
    ("mirrored_pool", "the first pool with a mirrored Back End"),
    (
        "paired_pool",
        "the first paired pool that does not host the CMS",
    ),
    (
        "sync_interval",
        "the estate's Backup Service sync interval (hh:mm:ss)",
    ),
];

/// Attributes, by the kind of object they apply to.
pub const ATTRIBUTES: [(&str, &str); 6] = [
    ("pool", "site, backup (its paired pool), principal, mirror, witness (SQL instances), edge (its media Edge pool), next_hop_edge (the first Edge pool whose next hop it is)"),
    ("edge pool", "site, next_hop, pool (the first Front End pool of its site using it for media), fallback (the first Edge pool in another site)"),
    ("chat pool", "primary_site, backup_site, mgc_primary, mgc_mirror, mgc_witness, mgc_backup, mgc_backup_mirror, mgc_backup_witness, active_servers, primary_servers and backup_servers (its servers in the primary or backup site, at most 4)"),
    ("site", "file_server (a file server in the site, else the estate's first)"),
    ("SQL instance", "site"),
    ("server", "site"),
];

/// Why a scenario cannot be drilled on an estate: it is not a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotApplicable(pub String);

impl std::fmt::Display for NotApplicable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not applicable: {}", self.0)
    }
}

/// An object a role names.
#[derive(Debug, Clone, PartialEq)]
enum Obj {
    Pool(String),
    Edge(String),
    Chat(String),
    Site(String),
    Sql(String),
    Server(String),
    List(Vec<String>),
    Text(String),
}

impl Obj {
    fn text(&self) -> String {
        match self {
            Obj::Pool(s)
            | Obj::Edge(s)
            | Obj::Chat(s)
            | Obj::Site(s)
            | Obj::Sql(s)
            | Obj::Server(s)
            | Obj::Text(s) => s.clone(),
            Obj::List(l) => l.join(","),
        }
    }
}

/// The estate and the run's parameters roles are resolved against.
pub struct Roles<'a> {
    f: &'a EstateFile,
    params: BTreeMap<String, String>,
}

type Found = std::result::Result<Obj, String>;

impl<'a> Roles<'a> {
    /// Roles over `estate`, with the run's parameter values (strings; a
    /// list is joined with commas).
    pub fn new(estate: &'a Estate, params: &serde_json::Map<String, Value>) -> Roles<'a> {
        let params = params
            .iter()
            .filter_map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => return None,
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                Some((k.clone(), text))
            })
            .collect();
        Roles {
            f: &estate.file,
            params,
        }
    }

    /// A scenario's own `params`, placeholders resolved (a parameter may
    /// name another: `from_edge: "{edge_pool.fallback}"`).
    pub fn scenario_params(
        estate: &'a Estate,
        scenario: &Scenario,
    ) -> std::result::Result<BTreeMap<String, String>, NotApplicable> {
        let mut roles = Roles {
            f: &estate.file,
            params: BTreeMap::new(),
        };
        let mut pending: Vec<(&String, &String)> = scenario.params.iter().collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut last = None;
            pending.retain(|(name, raw)| {
                let waits = heads(raw)
                    .iter()
                    .any(|h| scenario.params.contains_key(h) && !roles.params.contains_key(h));
                if waits {
                    return true;
                }
                match roles.fill(raw) {
                    Ok(Some(v)) => {
                        roles.params.insert((*name).clone(), v);
                        false
                    }
                    Ok(None) => false,
                    Err(e) => {
                        last = Some(e);
                        false
                    }
                }
            });
            if let Some(e) = last {
                return Err(e);
            }
            if pending.len() == before {
                let names: Vec<&str> = pending.iter().map(|(n, _)| n.as_str()).collect();
                return Err(NotApplicable(format!(
                    "scenario parameters {} name each other",
                    names.join(", ")
                )));
            }
        }
        Ok(roles.params)
    }

    /// The scenario with its faults, setup and expectations resolved.
    pub fn scenario(&self, s: &Scenario) -> std::result::Result<Scenario, NotApplicable> {
        let mut out = s.clone();
        out.summary = self
            .fill(&s.summary)
            .ok()
            .flatten()
            .unwrap_or_else(|| s.summary.clone());
        out.faults = self.texts(&s.faults)?;
        let setup: Vec<String> = s.setup.iter().map(|a| a.text.clone()).collect();
        out.setup = self
            .texts(&setup)?
            .iter()
            .map(|t| Setup::parse(t).map_err(NotApplicable))
            .collect::<std::result::Result<_, _>>()?;
        out.expect = BTreeMap::new();
        for (key, value) in &s.expect {
            let (Some(key), Some(value)) = (self.fill(key)?, self.value(value)?) else {
                continue;
            };
            out.expect.insert(key, value);
        }
        let staged = out.setup.iter().filter_map(|a| match &a.action {
            crate::runbook::SetupAction::Fault { spec } => Some(spec),
            _ => None,
        });
        for spec in out.faults.iter().chain(staged) {
            if let Some(site) = spec.strip_prefix("cms-away-from:") {
                self.cms_can_leave(site.trim())?;
            }
        }
        Ok(out)
    }

    /// A scenario that loses the CMS's site stages its failover first
    /// (`cms-away-from:SITE`); without a backup pool elsewhere the CMS
    /// cannot leave, no topology or configuration change can be written,
    /// and the scenario does not apply.
    fn cms_can_leave(&self, site: &str) -> std::result::Result<(), NotApplicable> {
        let Some((fqdn, cms)) = self.f.pools.iter().find(|(_, p)| p.hosts_cms) else {
            return Ok(());
        };
        let backup_site = cms
            .backup_pool
            .as_ref()
            .and_then(|b| self.f.pools.get(b))
            .map(|b| b.site.as_str());
        if cms.site != site || backup_site.is_some_and(|b| b != site) {
            return Ok(());
        }
        Err(NotApplicable(format!(
            "the CMS pool {fqdn} is in {site}, which the scenario loses, and has no backup pool elsewhere: \
             the CMS cannot be failed over, so no topology or configuration change can be written"
        )))
    }

    fn texts(&self, list: &[String]) -> std::result::Result<Vec<String>, NotApplicable> {
        let mut out = Vec::new();
        for t in list {
            out.extend(self.fill(t)?);
        }
        Ok(out)
    }

    /// An expected value: strings filled; a string that is one placeholder
    /// naming a list becomes a JSON array.
    fn value(&self, v: &Value) -> std::result::Result<Option<Value>, NotApplicable> {
        Ok(match v {
            Value::String(s) => {
                let whole = s.strip_prefix('{').and_then(|r| r.strip_suffix('}'));
                match whole.filter(|w| !w.contains(['{', '}'])) {
                    Some(path) => {
                        let (path, optional) = strip_optional(path);
                        match self.lookup(path) {
                            Ok(Obj::List(l)) => Some(Value::from(l)),
                            Ok(o) => Some(Value::String(o.text())),
                            Err(_) if optional => None,
                            Err(why) => return Err(NotApplicable(why)),
                        }
                    }
                    None => self.fill(s)?.map(Value::String),
                }
            }
            Value::Array(items) => {
                let mut out = Vec::new();
                for i in items {
                    match self.value(i)? {
                        Some(v) => out.push(v),
                        None => return Ok(None),
                    }
                }
                Some(Value::Array(out))
            }
            other => Some(other.clone()),
        })
    }

    /// `text` with every placeholder replaced; `None` when an optional one
    /// names nothing in this estate.
    pub fn fill(&self, text: &str) -> std::result::Result<Option<String>, NotApplicable> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let Some(len) = rest[open..].find('}') else {
                break;
            };
            out.push_str(&rest[..open]);
            let (path, optional) = strip_optional(&rest[open + 1..open + len]);
            match self.lookup(path) {
                Ok(o) => out.push_str(&o.text()),
                Err(_) if optional => return Ok(None),
                Err(why) => return Err(NotApplicable(why)),
            }
            rest = &rest[open + len + 1..];
        }
        out.push_str(rest);
        Ok(Some(out))
    }

    fn lookup(&self, path: &str) -> Found {
        let mut parts = path.split('.');
        let head = parts.next().unwrap_or_default().trim();
        let mut obj = self.head(head)?;
        for attr in parts {
            obj = self.attr(&obj, attr.trim(), path)?;
        }
        Ok(obj)
    }

    fn head(&self, name: &str) -> Found {
        let f = self.f;
        if let Some(v) = self.params.get(name) {
            return Ok(self.object(v));
        }
        let first_pool = |what: &str, pick: &dyn Fn(&crate::estate::file::FrontEndPool) -> bool| {
            f.pools
                .iter()
                .find(|(_, p)| pick(p))
                .map(|(n, _)| Obj::Pool(n.clone()))
                .ok_or_else(|| format!("the estate has no {what}"))
        };
        let mirrored = |p: &crate::estate::file::FrontEndPool| {
            p.back_end.ha == BackEndHa::Mirroring && p.back_end.mirror.is_some()
        };
        match name {
            "cms_pool" => first_pool("pool hosting the CMS", &|p| p.hosts_cms),
            "witness_pool" => first_pool("mirrored Back End with a witness", &|p| {
                mirrored(p) && p.back_end.witness.is_some()
            }),
            "manual_pool" => first_pool("mirrored Back End without a witness", &|p| {
                mirrored(p) && p.back_end.witness.is_none()
            }),
            "mirrored_pool" => first_pool("mirrored Back End", &mirrored),
            "paired_pool" => first_pool("paired pool that does not host the CMS", &|p| {
                p.backup_pool.is_some() && !p.hosts_cms
            }),
            "backup_sync_interval" => Ok(Obj::Text(f.backup_service.sync_interval.clone())),
            "chat_pool" => f
                .persistent_chat
                .keys()
                .next()
                .map(|n| Obj::Chat(n.clone()))
                .ok_or_else(|| "the estate has no Persistent Chat pool".to_string()),
            "federation_edge" => f
                .edge_pools
                .iter()
                .find(|(_, e)| e.federation)
                .map(|(n, _)| Obj::Edge(n.clone()))
                .ok_or_else(|| "no Edge pool has federation enabled".to_string()),
            "xmpp_edge" => f
                .sites
                .values()
                .find_map(|s| s.xmpp_federation_route.clone())
                .map(Obj::Edge)
                .ok_or_else(|| "no site holds an XMPP federation route".to_string()),
            _ => Err(format!(
                "`{{{name}}}` is neither a parameter of the run nor a role ({})",
                ROLES.map(|(r, _)| r).join(", ")
            )),
        }
    }

    /// A parameter's value as the object of the estate it names.
    fn object(&self, v: &str) -> Obj {
        let f = self.f;
        if f.pools.contains_key(v) {
            Obj::Pool(v.into())
        } else if f.edge_pools.contains_key(v) {
            Obj::Edge(v.into())
        } else if f.persistent_chat.contains_key(v) {
            Obj::Chat(v.into())
        } else if f.sites.contains_key(v) {
            Obj::Site(v.into())
        } else if f.sql.contains_key(v) {
            Obj::Sql(v.into())
        } else if f.servers.contains_key(v) {
            Obj::Server(v.into())
        } else {
            Obj::Text(v.into())
        }
    }

    fn attr(&self, obj: &Obj, attr: &str, path: &str) -> Found {
        let f = self.f;
        let none = |what: String| Err(what);
        let sql = |id: &Option<String>, what: &str, of: &str| match id {
            Some(id) => Ok(Obj::Sql(id.clone())),
            None => none(format!("{of} has no {what}")),
        };
        match (obj, attr) {
            (Obj::Pool(p), _) => {
                let pool = &f.pools[p];
                let be = &pool.back_end;
                match attr {
                    "site" => Ok(Obj::Site(pool.site.clone())),
                    "backup" => match &pool.backup_pool {
                        Some(b) => Ok(Obj::Pool(b.clone())),
                        None => none(format!("pool {p} is not paired with a backup pool")),
                    },
                    "principal" => Ok(Obj::Sql(be.principal.clone())),
                    "mirror" => sql(&be.mirror, "Back End mirror", &format!("pool {p}")),
                    "witness" => sql(&be.witness, "Back End witness", &format!("pool {p}")),
                    "next_hop_edge" => f
                        .edge_pools
                        .iter()
                        .find(|(_, e)| &e.next_hop == p)
                        .map(|(n, _)| Obj::Edge(n.clone()))
                        .ok_or_else(|| format!("no Edge pool has pool {p} as its next hop")),
                    "edge" => match &pool.edge_pool {
                        Some(e) => Ok(Obj::Edge(e.clone())),
                        None => none(format!("pool {p} has no associated Edge pool")),
                    },
                    _ => self.unknown(obj, attr, path),
                }
            }
            (Obj::Edge(e), _) => {
                let edge = &f.edge_pools[e];
                match attr {
                    "site" => Ok(Obj::Site(edge.site.clone())),
                    "next_hop" => Ok(Obj::Pool(edge.next_hop.clone())),
                    "pool" => f
                        .pools
                        .iter()
                        .find(|(_, p)| {
                            p.site == edge.site && p.edge_pool.as_deref() == Some(e.as_str())
                        })
                        .map(|(n, _)| Obj::Pool(n.clone()))
                        .ok_or_else(|| {
                            format!(
                                "no Front End pool in site {} uses Edge pool {e} for media",
                                edge.site
                            )
                        }),
                    "fallback" => f
                        .edge_pools
                        .iter()
                        .find(|(_, o)| o.site != edge.site)
                        .map(|(n, _)| Obj::Edge(n.clone()))
                        .ok_or_else(|| {
                            format!(
                                "no Edge pool outside site {} to take over from {e}",
                                edge.site
                            )
                        }),
                    _ => self.unknown(obj, attr, path),
                }
            }
            (Obj::Chat(c), _) => {
                let pc = &f.persistent_chat[c];
                let db = &pc.mgc;
                let of = format!("Persistent Chat pool {c}'s mgc");
                let site_of = |id: &String| {
                    f.sql
                        .get(id)
                        .and_then(|i| f.servers.get(&i.server))
                        .map(|s| Obj::Site(s.site.clone()))
                        .ok_or_else(|| format!("SQL instance {id} has no site"))
                };
                match attr {
                    "primary_site" => site_of(&db.primary),
                    "backup_site" => site_of(&db.backup),
                    "mgc_primary" => Ok(Obj::Sql(db.primary.clone())),
                    "mgc_mirror" => sql(&db.mirror, "mirror", &of),
                    "mgc_witness" => sql(&db.witness, "witness", &of),
                    "mgc_backup" => Ok(Obj::Sql(db.backup.clone())),
                    "mgc_backup_mirror" => sql(&db.backup_mirror, "backup mirror", &of),
                    "mgc_backup_witness" => sql(&db.backup_witness, "backup witness", &of),
                    "active_servers" => Ok(Obj::List(pc.active_servers.clone())),
                    "primary_servers" | "backup_servers" => {
                        let db_site = if attr == "primary_servers" {
                            &db.primary
                        } else {
                            &db.backup
                        };
                        let Obj::Site(site) = site_of(db_site)? else {
                            unreachable!("site_of gives a site")
                        };
                        let servers: Vec<String> = pc
                            .servers
                            .iter()
                            .filter(|s| f.servers.get(*s).is_some_and(|srv| srv.site == site))
                            .take(crate::estate::PC_MAX_ACTIVE)
                            .cloned()
                            .collect();
                        if servers.is_empty() {
                            return none(format!(
                                "Persistent Chat pool {c} has no server in site {site}"
                            ));
                        }
                        Ok(Obj::List(servers))
                    }
                    _ => self.unknown(obj, attr, path),
                }
            }
            (Obj::Site(site), "file_server") => {
                let file_servers = || f.servers.iter().filter(|(_, s)| s.role == Role::FileServer);
                file_servers()
                    .find(|(_, s)| &s.site == site)
                    .or_else(|| file_servers().next())
                    .map(|(n, _)| Obj::Server(n.clone()))
                    .ok_or_else(|| "the estate has no file server".to_string())
            }
            (Obj::Sql(id), "site") => f
                .sql
                .get(id)
                .and_then(|i| f.servers.get(&i.server))
                .map(|s| Obj::Site(s.site.clone()))
                .ok_or_else(|| format!("SQL instance {id} has no site")),
            (Obj::Server(s), "site") => Ok(Obj::Site(f.servers[s].site.clone())),
            _ => self.unknown(obj, attr, path),
        }
    }

    fn unknown(&self, obj: &Obj, attr: &str, path: &str) -> Found {
        Err(format!(
            "`{{{path}}}`: {} has no attribute `{attr}` (attributes: {})",
            obj.text(),
            ATTRIBUTES
                .iter()
                .map(|(k, a)| format!("{k}: {a}"))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

/// A scenario resolved with the run's parameters, or why it does not apply.
pub type Applies = std::result::Result<(Scenario, serde_json::Map<String, Value>), NotApplicable>;

/// A scenario as it runs on `estate`: its own parameters resolved, then
/// `extra` (`-p name=value`) over them, the runbook's defaults filled in,
/// and its faults, setup and expectations resolved with those values.
/// The outer error is bad input (a parameter the runbook refuses); the
/// inner one, a scenario that does not apply to the estate.
pub fn resolve_scenario(
    rb: &crate::runbook::Runbook,
    scenario: &Scenario,
    estate: &Estate,
    extra: &[(String, String)],
) -> crate::error::Result<Applies> {
    let own = match Roles::scenario_params(estate, scenario) {
        Ok(p) => p,
        Err(na) => return Ok(Err(na)),
    };
    let mut given: Vec<(String, String)> = own.clone().into_iter().collect();
    given.extend(extra.iter().cloned());
    let params = crate::runbook::resolve_params(rb, &given, estate)?;
    Ok(Roles::new(estate, &params)
        .scenario(scenario)
        .map(|s| (Scenario { params: own, ..s }, params)))
}

fn strip_optional(path: &str) -> (&str, bool) {
    match path.strip_suffix('?') {
        Some(p) => (p, true),
        None => (path, false),
    }
}

/// The role names at the head of each placeholder of `text`.
fn heads(text: &str) -> Vec<String> {
    text.split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}'))
        .map(|(inside, _)| {
            let inside = strip_optional(inside).0;
            inside.split('.').next().unwrap_or_default().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn litware() -> Estate {
        Estate::builtin().unwrap()
    }

    #[test]
    fn roles_and_attributes_resolve_against_the_estate() {
        let e = litware();
        let mut params = serde_json::Map::new();
        params.insert("pool".into(), "pool-red.litwareinc.com".into());
        let r = Roles::new(&e, &params);
        let fill = |t: &str| r.fill(t).unwrap().unwrap();
        assert_eq!(
            fill("instance-down:{pool.principal}"),
            "instance-down:besql-red1"
        );
        assert_eq!(
            fill("link-down:{cms_pool.site}-{cms_pool.backup.site}"),
            "link-down:redmond-dublin"
        );
        assert_eq!(
            fill("{federation_edge.fallback}"),
            "edge-dub.litwareinc.com"
        );
        assert_eq!(fill("{chat_pool.mgc_backup}"), "pcsql-dub1");
        assert_eq!(fill("{manual_pool}"), "pool-dub.litwareinc.com");
        assert_eq!(
            fill("\\\\{pool.backup.site.file_server}\\m"),
            "\\\\fs-dub1.litwareinc.com\\m"
        );
    }

    #[test]
    fn a_missing_role_is_not_applicable_unless_optional() {
        let e = litware();
        let r = Roles::new(&e, &serde_json::Map::new());
        let why = r.fill("{chat_pool.mgc_backup_witness}").unwrap_err();
        assert!(why.0.contains("has no backup witness"), "{why}");
        assert_eq!(r.fill("x {chat_pool.mgc_backup_witness?}").unwrap(), None);
        let why = r.fill("{nonsense}").unwrap_err();
        assert!(why.0.contains("neither a parameter"), "{why}");
    }
}
