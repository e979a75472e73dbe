//! `estate` — read access to the estate file from scripts. It hands out plain
//! maps (database references, pools) that the other namespaces take.

use crate::engine::steps::{script_error, RhaiResult};
use crate::estate::Estate;
use rhai::{Array, Dynamic, Engine, Map};
use std::rc::Rc;

/// The `estate` script value.
#[derive(Clone)]
pub struct EstateView(pub Rc<Estate>);

pub fn register(engine: &mut Engine, estate: Rc<Estate>) {
    let _ = estate;
    engine.register_type_with_name::<EstateView>("Estate");
    engine.register_get("name", |e: &mut EstateView| e.0.file.estate.name.clone());
    engine.register_get("domain", |e: &mut EstateView| {
        e.0.file.estate.domain.clone()
    });
    engine.register_fn("persistent_chat_pool", |e: &mut EstateView, fqdn: &str| {
        persistent_chat_pool(&e.0, fqdn)
    });
    engine.register_fn(
        "site_of",
        |e: &mut EstateView, server: &str| -> RhaiResult<String> {
            e.0.site_of_server(server)
                .map(str::to_string)
                .ok_or_else(|| script_error(format!("{server:?} is not a server of the estate")))
        },
    );
    engine.register_fn(
        "management_host",
        |e: &mut EstateView, site: &str| -> RhaiResult<String> {
            e.0.file
                .sites
                .get(site)
                .map(|s| s.management_host.clone())
                .ok_or_else(|| script_error(format!("{site:?} is not a site of the estate")))
        },
    );
}

/// `#{instance, database, site, server, sql_instance, sql_name}`.
fn db_ref(estate: &Estate, instance: &str, database: &str) -> Dynamic {
    let Some(inst) = estate.file.sql.get(instance) else {
        return Dynamic::UNIT;
    };
    let mut m = Map::new();
    m.insert("instance".into(), instance.into());
    m.insert("database".into(), database.into());
    m.insert(
        "site".into(),
        estate.site_of_instance(instance).unwrap_or("").into(),
    );
    m.insert("server".into(), inst.server.clone().into());
    m.insert(
        "sql_instance".into(),
        inst.instance.clone().map_or(Dynamic::UNIT, Dynamic::from),
    );
    m.insert(
        "sql_name".into(),
        estate.instance_name(instance).unwrap_or_default().into(),
    );
    m.into()
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
    let pc = estate.file.persistent_chat.get(fqdn).ok_or_else(|| {
        let known: Vec<&String> = estate.file.persistent_chat.keys().collect();
        script_error(format!(
            "{fqdn:?} is not a Persistent Chat pool of the estate (known: {known:?})"
        ))
    })?;
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
    let mut mgc = Map::new();
    mgc.insert("primary".into(), db_ref(estate, &db.primary, "mgc"));
    mgc.insert("mirror".into(), opt_db(estate, db.mirror.as_ref(), "mgc"));
    mgc.insert("witness".into(), opt_str(db.witness.as_ref()));
    mgc.insert("backup".into(), db_ref(estate, &db.backup, "mgc"));
    mgc.insert(
        "backup_mirror".into(),
        opt_db(estate, db.backup_mirror.as_ref(), "mgc"),
    );
    mgc.insert("backup_witness".into(), opt_str(db.backup_witness.as_ref()));
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
    m.insert("mgc".into(), mgc.into());
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
