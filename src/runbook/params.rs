//! Parameters: the schema a header declares (`params: #{name: #{kind,
//! help, required, default}}`), and the values given on the command line,
//! validated against it and against the estate before the first op.

use super::header::req_str;
use super::Runbook;
use crate::error::{Error, Result};
use crate::estate::{is_fqdn, Estate};
use crate::suggest::Lookup;
use rhai::{Dynamic, Map};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct ParamSpec {
    pub name: String,
    pub kind: ParamKind,
    pub help: String,
    pub required: bool,
    pub default: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    String,
    Int,
    Bool,
    Fqdn,
    FqdnList,
    /// Names an object of the estate; defaults to the only one, if there is one.
    PersistentChatPool,
    /// A Front End pool of the estate.
    Pool,
    EdgePool,
    SqlInstance,
    Site,
    Server,
}

const KINDS: [(&str, ParamKind); 11] = [
    ("string", ParamKind::String),
    ("int", ParamKind::Int),
    ("bool", ParamKind::Bool),
    ("fqdn", ParamKind::Fqdn),
    ("fqdn_list", ParamKind::FqdnList),
    ("persistent_chat_pool", ParamKind::PersistentChatPool),
    ("pool", ParamKind::Pool),
    ("edge_pool", ParamKind::EdgePool),
    ("sql_instance", ParamKind::SqlInstance),
    ("site", ParamKind::Site),
    ("server", ParamKind::Server),
];

pub(super) fn parse_param(name: &str, spec: Dynamic) -> std::result::Result<ParamSpec, String> {
    let at = format!("params.{name}: ");
    let spec = spec
        .try_cast::<Map>()
        .ok_or(format!("{at}must be a map #{{kind, help, ...}}"))?;
    let kind_name = req_str(&spec, "kind", &at)?;
    let kind = KINDS
        .iter()
        .find(|(k, _)| *k == kind_name)
        .map(|(_, k)| *k)
        .ok_or_else(|| {
            format!(
                "{at}kind `{kind_name}` is not one of {}",
                KINDS.map(|(k, _)| k).join(", ")
            )
        })?;
    let help = req_str(&spec, "help", &at)?;
    let required = match spec.get("required") {
        None => false,
        Some(v) => v
            .as_bool()
            .map_err(|_| format!("{at}`required` must be true or false"))?,
    };
    let default = match spec.get("default") {
        None => None,
        Some(v) => {
            Some(rhai::serde::from_dynamic::<Value>(v).map_err(|e| format!("{at}default: {e}"))?)
        }
    };
    Ok(ParamSpec {
        name: name.to_string(),
        kind,
        help,
        required,
        default,
    })
}

/// Parameter values as given on the command line (`-p name=value`), validated
/// against the runbook's schema and the estate, with defaults filled in.
pub fn resolve_params(
    rb: &Runbook,
    given: &[(String, String)],
    estate: &Estate,
) -> Result<serde_json::Map<String, Value>> {
    let perr = |param: &str, message: String| Error::Param {
        runbook: rb.header.name.clone(),
        param: param.to_string(),
        message,
    };
    let mut out = serde_json::Map::new();
    for (name, _) in given {
        if !rb.header.params.iter().any(|p| &p.name == name) {
            let known: Vec<&str> = rb.header.params.iter().map(|p| p.name.as_str()).collect();
            return Err(perr(
                name,
                format!(
                    "the runbook has no such parameter{} (it takes: {})",
                    crate::suggest::did_you_mean(name, known.iter().copied()),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
    }
    for spec in &rb.header.params {
        let raw = given
            .iter()
            .rev()
            .find(|(n, _)| n == &spec.name)
            .map(|(_, v)| v.as_str());
        let value = match raw {
            Some(raw) => parse_value(spec, raw, estate).map_err(|m| perr(&spec.name, m))?,
            None => match (&spec.default, sole_object(spec.kind, estate)) {
                (Some(d), _) => d.clone(),
                (None, Some(only)) => Value::String(only),
                (None, None) if spec.required || is_estate_kind(spec.kind) => {
                    return Err(perr(
                        &spec.name,
                        format!(
                            "it is required ({}); pass -p {}=<{}>",
                            spec.help,
                            spec.name,
                            kind_name(spec.kind)
                        ),
                    ))
                }
                (None, None) => Value::Null,
            },
        };
        out.insert(spec.name.clone(), value);
    }
    Ok(out)
}

/// Parameters naming an estate object cannot be left empty: the runbook
/// would have nothing to act on.
fn is_estate_kind(kind: ParamKind) -> bool {
    matches!(
        kind,
        ParamKind::PersistentChatPool
            | ParamKind::Pool
            | ParamKind::EdgePool
            | ParamKind::SqlInstance
            | ParamKind::Site
            | ParamKind::Server
    )
}

fn kind_name(kind: ParamKind) -> &'static str {
    KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("value", |(n, _)| n)
}

/// The only object of an estate kind, used when a parameter is omitted.
fn sole_object(kind: ParamKind, estate: &Estate) -> Option<String> {
    let names: Vec<&String> = match kind {
        ParamKind::PersistentChatPool => estate.file.persistent_chat.keys().collect(),
        ParamKind::Pool => estate.file.pools.keys().collect(),
        ParamKind::EdgePool => estate.file.edge_pools.keys().collect(),
        _ => return None,
    };
    (names.len() == 1).then(|| names[0].clone())
}

fn parse_value(spec: &ParamSpec, raw: &str, estate: &Estate) -> std::result::Result<Value, String> {
    let f = &estate.file;
    // A name of the estate: exact, or a short name (`pool-red`) only one
    // name starts with; else the nearest names.
    let resolve = |what: &str, keys: Vec<&String>| {
        let keys: Vec<&str> = keys.into_iter().map(String::as_str).collect();
        match crate::suggest::lookup(raw, &keys) {
            Lookup::Found(k) => Ok(Value::String(k.to_string())),
            other => Err(format!(
                "{} (estate {})",
                crate::suggest::explain(what, raw, &other, &keys),
                estate.source
            )),
        }
    };
    // Every value a run quotes is checked before the first op (issue 11, finding 11).
    if let Some(c) = raw.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{raw:?} contains a control character (U+{:04X}); a value a runbook sends may not hold one",
            c as u32
        ));
    }
    Ok(match spec.kind {
        ParamKind::String => Value::String(raw.to_string()),
        ParamKind::Int => Value::from(
            raw.parse::<i64>()
                .map_err(|_| format!("{raw:?} is not an integer"))?,
        ),
        ParamKind::Bool => Value::Bool(match raw {
            "true" | "yes" => true,
            "false" | "no" => false,
            _ => return Err(format!("{raw:?} is not true or false")),
        }),
        ParamKind::Fqdn => {
            if !is_fqdn(raw) {
                return Err(format!("{raw:?} is not a fully qualified domain name"));
            }
            Value::String(raw.to_string())
        }
        ParamKind::FqdnList => {
            let mut items = Vec::new();
            for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !is_fqdn(item) {
                    return Err(format!("{item:?} is not a fully qualified domain name"));
                }
                items.push(Value::String(item.to_string()));
            }
            Value::Array(items)
        }
        ParamKind::Pool => resolve("Front End pool", f.pools.keys().collect())?,
        ParamKind::EdgePool => resolve("Edge pool", f.edge_pools.keys().collect())?,
        ParamKind::PersistentChatPool => {
            resolve("Persistent Chat pool", f.persistent_chat.keys().collect())?
        }
        ParamKind::SqlInstance => resolve("SQL instance", f.sql.keys().collect())?,
        ParamKind::Site => resolve("site", f.sites.keys().collect())?,
        ParamKind::Server => resolve("server", f.servers.keys().collect())?,
    })
}

/// Split `name=value`.
pub fn split_assignment(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((n, v)) if !n.trim().is_empty() => Ok((n.trim().to_string(), v.to_string())),
        _ => Err(Error::Usage {
            message: format!("-p takes name=value, not {s:?}"),
        }),
    }
}
