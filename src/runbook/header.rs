//! The runbook header: the literal map of the first statement,
//! `runbook(#{name, version, summary, rto_minutes, source, params,
//! scenarios})`, read without running the script. The drill scenarios a
//! runbook ships are parsed here too (the drill room owns their meaning).

use super::params::{parse_param, ParamSpec};
use super::scenario::{self, Scenario};
use crate::error::{Error, Result};
use rhai::{Map, AST};
use serde::Serialize;

/// The longest recovery time objective a runbook may state: a week.
pub const RTO_MAX_MINUTES: i64 = 7 * 24 * 60;

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

/// Evaluate only the first statement, which must be `runbook(#{...})`.
pub(super) fn read_header(ast: &AST, file: &str) -> Result<Header> {
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
    parse_header(&map).map_err(herr)
}

pub(super) fn get_str(map: &Map, key: &str) -> std::result::Result<Option<String>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(v) if v.is_string() => Ok(Some(v.clone().into_string().unwrap_or_default())),
        Some(v) => Err(format!("`{key}` must be a string, not {}", v.type_name())),
    }
}

pub(super) fn req_str(map: &Map, key: &str, at: &str) -> std::result::Result<String, String> {
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
            .filter(|m| (1..=RTO_MAX_MINUTES).contains(m))
            .ok_or(format!(
                "`rto_minutes` must be an integer between 1 and {RTO_MAX_MINUTES} (a week)"
            ))?,
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
