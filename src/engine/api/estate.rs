//! `estate` — read access to the estate file from scripts. It hands out plain
//! maps (database references, pools) that the other namespaces take.

use crate::engine::steps::{script_error, RhaiResult};
use crate::estate::Estate;
use crate::suggest::Lookup;
use rhai::{Array, Dynamic, Engine, Map};
use std::rc::Rc;

/// The `estate` script value.
#[derive(Clone)]
pub struct EstateView(pub Rc<Estate>);

pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<EstateView>("Estate");
    rhai::FuncRegistration::new_getter("name")
        .with_volatility(true)
        .with_params_info(["estate: Estate", "string"])
        .with_comments(["/// The estate's name (estate.name in the estate file)."])
        .register_into_engine(engine, |e: &mut EstateView| e.0.file.estate.name.clone());
    rhai::FuncRegistration::new_getter("domain")
        .with_volatility(true)
        .with_params_info(["estate: Estate", "string"])
        .with_comments(["/// The estate's SIP domain."])
        .register_into_engine(engine, |e: &mut EstateView| e.0.file.estate.domain.clone());
    global!(
        engine,
        "pools",
        ["estate: Estate", "array"],
        "The FQDNs of the Front End pools.",
        |e: &mut EstateView| names(&e.0.file.pools)
    );
    global!(
        engine,
        "pool",
        ["estate: Estate", "fqdn: string", "map"],
        "A Front End pool (see `pool` in the objects); a short name (`pool-red`) resolves when one pool starts with it.",
        |e: &mut EstateView, fqdn: &str| pool(&e.0, fqdn)
    );
    global!(
        engine,
        "cms_pool",
        ["estate: Estate", "any"],
        "The FQDN of the pool hosting the Central Management Store, or ().",
        |e: &mut EstateView| -> Dynamic {
            e.0.file
                .pools
                .iter()
                .find(|(_, p)| p.hosts_cms)
                .map_or(Dynamic::UNIT, |(k, _)| k.clone().into())
        }
    );
    global!(
        engine,
        "persistent_chat_pools",
        ["estate: Estate", "array"],
        "The FQDNs of the Persistent Chat pools.",
        |e: &mut EstateView| names(&e.0.file.persistent_chat)
    );
    global!(
        engine,
        "persistent_chat_pool",
        ["estate: Estate", "fqdn: string", "map"],
        "A Persistent Chat pool (see `persistent_chat_pool` in the objects).",
        |e: &mut EstateView, fqdn: &str| persistent_chat_pool(&e.0, fqdn)
    );
    global!(
        engine,
        "edge_pools",
        ["estate: Estate", "array"],
        "The FQDNs of the Edge pools.",
        |e: &mut EstateView| names(&e.0.file.edge_pools)
    );
    global!(
        engine,
        "edge_pool",
        ["estate: Estate", "fqdn: string", "map"],
        "An Edge pool (see `edge_pool` in the objects).",
        |e: &mut EstateView, fqdn: &str| edge_pool(&e.0, fqdn)
    );
    global!(
        engine,
        "instances",
        ["estate: Estate", "array"],
        "The ids of the SQL Server instances.",
        |e: &mut EstateView| names(&e.0.file.sql)
    );
    global!(
        engine,
        "instance",
        ["estate: Estate", "id: string", "map"],
        "A SQL Server instance (see `instance` in the objects).",
        |e: &mut EstateView, id: &str| -> RhaiResult<Map> {
            let id = known(&e.0.file.sql, id, "SQL instance")?;
            Ok(instance_ref(&e.0, &id).cast::<Map>())
        }
    );
    global!(
        engine,
        "sites",
        ["estate: Estate", "array"],
        "The names of the sites (data centers).",
        |e: &mut EstateView| names(&e.0.file.sites)
    );
    global!(
        engine,
        "site",
        ["estate: Estate", "name: string", "map"],
        "A site (see `site` in the objects).",
        |e: &mut EstateView, name: &str| site(&e.0, name)
    );
    global!(
        engine,
        "findings",
        ["estate: Estate", "array"],
        "The estate's design findings (see `finding` in the objects): what its design breaks of the documented rules.",
        |e: &mut EstateView| -> Array {
            e.0.design_findings()
                .into_iter()
                .map(|f| {
                    let mut m = Map::new();
                    m.insert("rule".into(), f.rule.into());
                    m.insert(
                        "objects".into(),
                        f.objects
                            .into_iter()
                            .map(Dynamic::from)
                            .collect::<Array>()
                            .into(),
                    );
                    m.insert("message".into(), f.message.into());
                    Dynamic::from(m)
                })
                .collect()
        }
    );
    global!(
        engine,
        "site_of",
        ["estate: Estate", "server: string", "string"],
        "The site of a server (an error if it is not one of the estate's).",
        |e: &mut EstateView, server: &str| -> RhaiResult<String> {
            e.0.site_of_server(server)
                .map(str::to_string)
                .ok_or_else(|| script_error(format!("{server:?} is not a server of the estate")))
        }
    );
    global!(
        engine,
        "management_host",
        ["estate: Estate", "site: string", "string"],
        "Where Lync Management Shell cmdlets run when `site` is the one acting.",
        |e: &mut EstateView, site: &str| -> RhaiResult<String> {
            let site = known(&e.0.file.sites, site, "site")?;
            Ok(e.0.file.sites[&site].management_host.clone())
        }
    );
}

/// The key of an estate section `name` means (exactly, or a short name
/// only one key starts with), or an error naming the nearest.
fn known<T>(
    section: &std::collections::BTreeMap<String, T>,
    name: &str,
    what: &str,
) -> RhaiResult<String> {
    let keys: Vec<&str> = section.keys().map(String::as_str).collect();
    match crate::suggest::lookup(name, &keys) {
        Lookup::Found(k) => Ok(k.to_string()),
        other => Err(script_error(crate::suggest::explain(
            &format!("{what} of the estate"),
            name,
            &other,
            &keys,
        ))),
    }
}

/// A site as a map: name, management host, XMPP route, low-latency links.
fn site(estate: &Estate, name: &str) -> RhaiResult<Map> {
    let name = known(&estate.file.sites, name, "site")?;
    let s = &estate.file.sites[&name];
    let mut m = Map::new();
    m.insert("name".into(), name.clone().into());
    m.insert("description".into(), s.description.clone().into());
    m.insert("management_host".into(), s.management_host.clone().into());
    m.insert(
        "xmpp_federation_route".into(),
        opt_str(s.xmpp_federation_route.as_ref()),
    );
    m.insert("low_latency_to".into(), strings(&s.low_latency_to));
    Ok(m)
}

/// `#{instance, database, site, server, sql_instance, sql_name}`.
fn db_ref(estate: &Estate, instance: &str, database: &str) -> Dynamic {
    let r = instance_ref(estate, instance);
    match r.try_cast::<Map>() {
        Some(mut m) => {
            m.insert("database".into(), database.into());
            m.into()
        }
        None => Dynamic::UNIT,
    }
}

fn opt_db(estate: &Estate, instance: Option<&String>, database: &str) -> Dynamic {
    instance.map_or(Dynamic::UNIT, |i| db_ref(estate, i, database))
}

fn opt_str(v: Option<&String>) -> Dynamic {
    v.map_or(Dynamic::UNIT, |s| s.clone().into())
}

/// The pool as a map: servers with their sites, the mgc layout (primary,
/// mirror, backup, backup mirror, witnesses), the log-shipping folders, and
/// `shell_host`, the management host in the backup database's site (where a
/// failover acts from; a runbook may set another).
fn persistent_chat_pool(estate: &Estate, fqdn: &str) -> RhaiResult<Map> {
    let fqdn = &known(&estate.file.persistent_chat, fqdn, "Persistent Chat pool")?;
    let pc = &estate.file.persistent_chat[fqdn];
    let servers: Array = pc
        .servers
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("fqdn".into(), s.clone().into());
            m.insert("site".into(), estate.site_of_server(s).unwrap_or("").into());
            Dynamic::from(m)
        })
        .collect();
    let db = &pc.mgc;
    let layout = |name: &str| {
        let mut l = Map::new();
        l.insert("primary".into(), db_ref(estate, &db.primary, name));
        l.insert("mirror".into(), opt_db(estate, db.mirror.as_ref(), name));
        l.insert("witness".into(), opt_str(db.witness.as_ref()));
        l.insert("backup".into(), db_ref(estate, &db.backup, name));
        l.insert(
            "backup_mirror".into(),
            opt_db(estate, db.backup_mirror.as_ref(), name),
        );
        l.insert("backup_witness".into(), opt_str(db.backup_witness.as_ref()));
        l
    };
    let backup_site = estate.site_of_instance(&db.backup).unwrap_or("");
    let primary_site = estate.site_of_instance(&db.primary).unwrap_or("");
    let mut m = Map::new();
    m.insert("fqdn".into(), fqdn.into());
    m.insert("servers".into(), servers.into());
    m.insert(
        "active_servers".into(),
        pc.active_servers
            .iter()
            .map(|s| Dynamic::from(s.clone()))
            .collect::<Array>()
            .into(),
    );
    m.insert("mgc".into(), layout("mgc").into());
    // mgccomp is laid out the same way, on the same instances.
    m.insert("mgccomp".into(), layout("mgccomp").into());
    // Site -> the sites with a low-latency link to it (low_latency_to).
    let mut near = Map::new();
    for a in estate.file.sites.keys() {
        let linked: Array = estate
            .file
            .sites
            .keys()
            .filter(|b| *b != a && estate.file.low_latency(a, b))
            .map(|b| Dynamic::from(b.clone()))
            .collect();
        near.insert(a.as_str().into(), linked.into());
    }
    m.insert("low_latency".into(), near.into());
    m.insert("primary_site".into(), primary_site.into());
    m.insert("backup_site".into(), backup_site.into());
    m.insert("share".into(), pc.log_shipping.share.clone().into());
    m.insert(
        "copy_folder".into(),
        pc.log_shipping.copy_folder.clone().into(),
    );
    let shell = estate
        .file
        .sites
        .get(backup_site)
        .map(|s| s.management_host.clone())
        .unwrap_or_default();
    m.insert("shell_host".into(), shell.into());
    Ok(m)
}

/// The names (keys) of an estate section, in order.
fn names<T>(section: &std::collections::BTreeMap<String, T>) -> Array {
    section.keys().map(|k| Dynamic::from(k.clone())).collect()
}

/// `#{instance, server, sql_instance, sql_name, site}` of a SQL instance id.
fn instance_ref(estate: &Estate, id: &str) -> Dynamic {
    let Some(inst) = estate.file.sql.get(id) else {
        return Dynamic::UNIT;
    };
    let mut m = Map::new();
    m.insert("instance".into(), id.into());
    m.insert("server".into(), inst.server.clone().into());
    m.insert(
        "sql_instance".into(),
        inst.instance.clone().map_or(Dynamic::UNIT, Dynamic::from),
    );
    m.insert(
        "sql_name".into(),
        estate.instance_name(id).unwrap_or_default().into(),
    );
    m.insert(
        "site".into(),
        estate.site_of_instance(id).unwrap_or("").into(),
    );
    m.into()
}

fn strings(items: &[String]) -> Dynamic {
    items
        .iter()
        .map(|s| Dynamic::from(s.clone()))
        .collect::<Array>()
        .into()
}

/// A Front End pool as a map: site, pairing, CMS, Edge association, front
/// ends, and its back end as instance references.
fn pool(estate: &Estate, fqdn: &str) -> RhaiResult<Map> {
    let fqdn = &known(&estate.file.pools, fqdn, "Front End pool")?;
    let p = &estate.file.pools[fqdn];
    let mut be = Map::new();
    be.insert("ha".into(), p.back_end.ha.to_string().into());
    be.insert(
        "mirroring".into(),
        p.back_end.mirroring_mode().to_string().into(),
    );
    be.insert(
        "principal".into(),
        instance_ref(estate, &p.back_end.principal),
    );
    be.insert(
        "mirror".into(),
        p.back_end
            .mirror
            .as_deref()
            .map_or(Dynamic::UNIT, |m| instance_ref(estate, m)),
    );
    be.insert("witness".into(), opt_str(p.back_end.witness.as_ref()));
    let mut m = Map::new();
    m.insert("fqdn".into(), fqdn.into());
    m.insert("site".into(), p.site.clone().into());
    m.insert("edition".into(), p.edition.to_string().into());
    m.insert("backup_pool".into(), opt_str(p.backup_pool.as_ref()));
    m.insert("hosts_cms".into(), p.hosts_cms.into());
    m.insert("edge_pool".into(), opt_str(p.edge_pool.as_ref()));
    m.insert("front_ends".into(), strings(&p.front_ends));
    m.insert("users".into(), (p.users as i64).into());
    m.insert("back_end".into(), be.into());
    Ok(m)
}

/// An Edge pool as a map: site, servers, federation flag, next hop.
fn edge_pool(estate: &Estate, fqdn: &str) -> RhaiResult<Map> {
    let fqdn = &known(&estate.file.edge_pools, fqdn, "Edge pool")?;
    let e = &estate.file.edge_pools[fqdn];
    let mut m = Map::new();
    m.insert("fqdn".into(), fqdn.into());
    m.insert("site".into(), e.site.clone().into());
    m.insert("servers".into(), strings(&e.servers));
    m.insert("federation".into(), e.federation.into());
    m.insert("next_hop".into(), e.next_hop.clone().into());
    Ok(m)
}
