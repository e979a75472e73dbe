//! Runbooks: finding them, reading their header, validating parameters, and
//! listing their steps without running them.
//!
//! A runbook is a `.rhai` file whose first statement is `runbook(#{...});`.
//! Its identity is (name, version, sha256 of the text): the journal pins all
//! three, so a resumed run knows it runs the text it started with.

use crate::drill::scenario::{self, Scenario};
use crate::engine;
use crate::error::{Error, Result};
use crate::estate::{is_fqdn, sha256_hex, Estate};
use rhai::{Dynamic, Map, AST};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Shipped runbooks as (id, text).
pub fn shipped() -> &'static [(&'static str, &'static str)] {
    embedded::RUNBOOKS
}

/// Shipped stdlib modules as (name, text).
pub fn stdlib() -> &'static [(&'static str, &'static str)] {
    embedded::STDLIB
}

#[derive(Debug, Clone)]
pub struct Runbook {
    /// What the user typed, or the id of a shipped runbook.
    pub id: String,
    /// `shipped` or the path it was read from.
    pub origin: String,
    /// For messages: `runbooks/<id>.rhai` or the path.
    pub file: String,
    pub text: String,
    pub sha256: String,
    pub header: Header,
    pub ast: AST,
    /// `stdlib/` beside a local runbook: its own modules, importable too.
    pub local_stdlib: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Header {
    pub name: String,
    pub version: String,
    pub summary: String,
    pub rto_minutes: i64,
    pub source: String,
    pub params: Vec<ParamSpec>,
    pub scenarios: Vec<Scenario>,
}

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

/// A step the runbook names with a string literal, in source order.
#[derive(Debug, Clone, Serialize)]
pub struct StaticStep {
    pub name: String,
    pub line: usize,
}

impl Runbook {
    /// Find a runbook by shipped id, local folder, or path.
    pub fn find(spec: &str, local_dir: Option<&Path>) -> Result<Runbook> {
        let path = Path::new(spec);
        if spec.ends_with(".rhai") || path.components().count() > 1 {
            return Runbook::from_file(spec, path);
        }
        if let Some(dir) = local_dir {
            let p = dir.join(format!("{spec}.rhai"));
            if p.exists() {
                return Runbook::from_file(spec, &p);
            }
        }
        if let Some((id, text)) = shipped().iter().find(|(id, _)| *id == spec) {
            return Runbook::from_text(
                id,
                "shipped",
                &format!("runbooks/{id}.rhai"),
                text.to_string(),
            );
        }
        let mut known: Vec<String> = shipped().iter().map(|(id, _)| id.to_string()).collect();
        if let Some(dir) = local_dir {
            known.extend(local_ids(dir)?);
        }
        Err(Error::UnknownRunbook {
            name: spec.to_string(),
            known,
        })
    }

    /// A local runbook file; its origin is the absolute path, so a resumed
    /// run finds it from any directory.
    pub fn from_file(id: &str, path: &Path) -> Result<Runbook> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let abs = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
        let mut rb = Runbook::from_text(
            id,
            &abs.display().to_string(),
            &path.display().to_string(),
            text,
        )?;
        rb.local_stdlib = abs.parent().map(|d| d.join("stdlib"));
        Ok(rb)
    }

    pub fn from_text(id: &str, origin: &str, file: &str, text: String) -> Result<Runbook> {
        let engine = engine::sandboxed_engine(None);
        let ast = engine.compile(&text).map_err(|e| {
            let pos = e.position();
            Error::RunbookSyntax {
                file: file.to_string(),
                line: pos.line().unwrap_or(1),
                col: pos.position().unwrap_or(1),
                message: e.err_type().to_string(),
            }
        })?;
        let header = read_header(&engine, &ast, file)?;
        Ok(Runbook {
            id: id.to_string(),
            origin: origin.to_string(),
            file: file.to_string(),
            sha256: sha256_hex(text.as_bytes()),
            text,
            header,
            ast,
            local_stdlib: None,
        })
    }

    /// The steps named by literal strings, in source order.
    pub fn static_steps(&self) -> Vec<StaticStep> {
        let mut steps = Vec::new();
        self.ast.walk(&mut |path| {
            if let Some(rhai::ASTNode::Expr(rhai::Expr::FnCall(call, pos))) = path.last() {
                collect_step(call, *pos, &mut steps);
            }
            if let Some(rhai::ASTNode::Stmt(rhai::Stmt::FnCall(call, pos))) = path.last() {
                collect_step(call, *pos, &mut steps);
            }
            true
        });
        steps
    }

    /// Everything `drillbook check` verifies beyond compiling and the header.
    pub fn lint(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = BTreeMap::new();
        for s in self.static_steps() {
            if let Some(first) = seen.insert(s.name.clone(), s.line) {
                problems.push(format!(
                    "{}:{}: step `{}` is also named at line {first}; step names must be unique",
                    self.file, s.line, s.name
                ));
            }
        }
        if self.origin == "shipped" && self.header.name != self.id {
            problems.push(format!(
                "{}: header name `{}` differs from the file name",
                self.file, self.header.name
            ));
        }
        for sc in &self.header.scenarios {
            for f in &sc.faults {
                if f.trim().is_empty() {
                    problems.push(format!(
                        "{}: scenario `{}` has an empty fault",
                        self.file, sc.name
                    ));
                }
            }
        }
        problems
    }
}

fn collect_step(call: &rhai::FnCallExpr, pos: rhai::Position, steps: &mut Vec<StaticStep>) {
    // Manual steps are steps too: they checkpoint and show in the list.
    if !matches!(call.name.as_str(), "step" | "manual") || !call.namespace.is_empty() {
        return;
    }
    if let Some(rhai::Expr::StringConstant(name, _)) = call.args.first() {
        steps.push(StaticStep {
            name: name.to_string(),
            line: pos.line().unwrap_or(0),
        });
    }
}

fn local_ids(dir: &Path) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return Err(Error::io(dir, e)),
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "rhai") {
            if let Some(stem) = p.file_stem() {
                ids.push(stem.to_string_lossy().to_string());
            }
        }
    }
    ids.sort();
    Ok(ids)
}

/// All runbooks: shipped, then those in `local_dir`.
pub fn all(local_dir: Option<&Path>) -> Result<Vec<Runbook>> {
    let mut out = Vec::new();
    for (id, text) in shipped() {
        out.push(Runbook::from_text(
            id,
            "shipped",
            &format!("runbooks/{id}.rhai"),
            text.to_string(),
        )?);
    }
    if let Some(dir) = local_dir {
        for id in local_ids(dir)? {
            let p: PathBuf = dir.join(format!("{id}.rhai"));
            out.push(Runbook::from_file(&id, &p)?);
        }
    }
    Ok(out)
}

/// Evaluate only the first statement, which must be `runbook(#{...})`.
fn read_header(engine: &rhai::Engine, ast: &AST, file: &str) -> Result<Header> {
    let herr = |message: String| Error::RunbookHeader {
        file: file.to_string(),
        message,
    };
    let first = ast.statements().first();
    let is_header = match first {
        Some(rhai::Stmt::FnCall(call, _)) => {
            call.name.as_str() == "runbook" && call.args.len() == 1
        }
        Some(rhai::Stmt::Expr(e)) => {
            matches!(e.as_ref(), rhai::Expr::FnCall(call, _) if call.name.as_str() == "runbook" && call.args.len() == 1)
        }
        _ => false,
    };
    if !is_header {
        return Err(herr(
            "the first statement must be `runbook(#{ name: ..., version: ..., ... });`".into(),
        ));
    }
    let arg = match first {
        Some(rhai::Stmt::FnCall(call, _)) => call.args[0].clone(),
        Some(rhai::Stmt::Expr(e)) => match e.as_ref() {
            rhai::Expr::FnCall(call, _) => call.args[0].clone(),
            _ => unreachable!("checked above"),
        },
        _ => unreachable!("checked above"),
    };
    let value = arg.get_literal_value(None).ok_or_else(|| {
        herr("the header must be a literal map (no variables or calls inside it)".into())
    })?;
    let map = value
        .try_cast::<Map>()
        .ok_or_else(|| herr("the header must be a map `#{...}`".into()))?;
    let _ = engine;
    parse_header(&map).map_err(herr)
}

fn get_str(map: &Map, key: &str) -> std::result::Result<Option<String>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(v) if v.is_string() => Ok(Some(v.clone().into_string().unwrap_or_default())),
        Some(v) => Err(format!("`{key}` must be a string, not {}", v.type_name())),
    }
}

fn req_str(map: &Map, key: &str, at: &str) -> std::result::Result<String, String> {
    get_str(map, key)?.ok_or_else(|| format!("{at}`{key}` is missing"))
}

fn parse_header(map: &Map) -> std::result::Result<Header, String> {
    for k in map.keys() {
        if ![
            "name",
            "version",
            "summary",
            "rto_minutes",
            "source",
            "params",
            "scenarios",
        ]
        .contains(&k.as_str())
        {
            return Err(format!("unknown field `{k}` (fields: name, version, summary, rto_minutes, source, params, scenarios)"));
        }
    }
    let name = req_str(map, "name", "")?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "name `{name}` must be lowercase letters, digits and '-'"
        ));
    }
    let version = req_str(map, "version", "")?;
    if !is_semver(&version) {
        return Err(format!(
            "version `{version}` is not a semantic version like 1.0.0"
        ));
    }
    let summary = req_str(map, "summary", "")?;
    let rto_minutes = match map.get("rto_minutes") {
        Some(v) => v
            .as_int()
            .ok()
            .filter(|m| *m > 0)
            .ok_or("`rto_minutes` must be a positive integer")?,
        None => return Err("`rto_minutes` is missing".into()),
    };
    let source = get_str(map, "source")?.unwrap_or_default();
    let mut params = Vec::new();
    if let Some(p) = map.get("params") {
        let p = p
            .clone()
            .try_cast::<Map>()
            .ok_or("`params` must be a map of name: #{kind, help, ...}")?;
        for (pname, spec) in p {
            params.push(parse_param(pname.as_str(), spec)?);
        }
    }
    let mut scenarios = Vec::new();
    if let Some(s) = map.get("scenarios") {
        let s = s
            .clone()
            .try_cast::<Map>()
            .ok_or("`scenarios` must be a map of name: #{...}")?;
        for (sname, spec) in s {
            scenarios.push(scenario::parse(sname.as_str(), spec)?);
        }
    }
    Ok(Header {
        name,
        version,
        summary,
        rto_minutes,
        source,
        params,
        scenarios,
    })
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

fn parse_param(name: &str, spec: Dynamic) -> std::result::Result<ParamSpec, String> {
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
                    "the runbook has no such parameter (it takes: {})",
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
    let one_of = |what: &str, keys: Vec<&String>| {
        format!(
            "{raw:?} is not a {what} of estate {} (known: {})",
            estate.source,
            keys.iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
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
        ParamKind::Pool => {
            if !f.pools.contains_key(raw) {
                return Err(one_of("Front End pool", f.pools.keys().collect()));
            }
            Value::String(raw.to_string())
        }
        ParamKind::EdgePool => {
            if !f.edge_pools.contains_key(raw) {
                return Err(one_of("Edge pool", f.edge_pools.keys().collect()));
            }
            Value::String(raw.to_string())
        }
        ParamKind::PersistentChatPool => {
            if !f.persistent_chat.contains_key(raw) {
                return Err(one_of(
                    "Persistent Chat pool",
                    f.persistent_chat.keys().collect(),
                ));
            }
            Value::String(raw.to_string())
        }
        ParamKind::SqlInstance => {
            if !f.sql.contains_key(raw) {
                return Err(one_of("SQL instance", f.sql.keys().collect()));
            }
            Value::String(raw.to_string())
        }
        ParamKind::Site => {
            if !f.sites.contains_key(raw) {
                return Err(one_of("site", f.sites.keys().collect()));
            }
            Value::String(raw.to_string())
        }
        ParamKind::Server => {
            if !f.servers.contains_key(raw) {
                return Err(one_of("server", f.servers.keys().collect()));
            }
            Value::String(raw.to_string())
        }
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
