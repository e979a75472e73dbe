//! The runbook header: the literal map of the first statement,
//! `runbook(#{name, version, summary, rto_minutes, source, params,
//! scenarios})`, read without running the script. The drill scenarios a
//! runbook ships are parsed here too (the drill room owns their meaning).

use super::params::{parse_param, ParamSpec};
use crate::error::{Error, Result};
use rhai::{Dynamic, Map, AST};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

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

/// A named drill: faults after a lead-in of normal operation, pre-answered
/// operator decisions, and the end state expected (JSON pointer → value in
/// `lab show --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub name: String,
    pub summary: String,
    pub lead_in_minutes: i64,
    pub faults: Vec<String>,
    /// Actions before the faults: `advance:MINUTES`, `fault:SPEC`,
    /// `run:RUNBOOK [name=value ...]` (a runbook run first, e.g. a failover
    /// before its failback).
    pub setup: Vec<String>,
    pub params: BTreeMap<String, String>,
    pub decisions: BTreeMap<String, String>,
    pub expect: BTreeMap<String, Value>,
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
            scenarios.push(parse_scenario(sname.as_str(), spec)?);
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

fn parse_scenario(name: &str, spec: Dynamic) -> std::result::Result<Scenario, String> {
    let at = format!("scenarios.{name}: ");
    let spec = spec.try_cast::<Map>().ok_or(format!("{at}must be a map"))?;
    const FIELDS: [&str; 7] = [
        "summary",
        "lead_in_minutes",
        "faults",
        "setup",
        "params",
        "decisions",
        "expect",
    ];
    if let Some(k) = spec.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "{at}unknown field `{k}` (fields: {})",
            FIELDS.join(", ")
        ));
    }
    let summary = get_str(&spec, "summary")?.unwrap_or_default();
    let lead_in_minutes = match spec.get("lead_in_minutes") {
        None => 0,
        Some(v) => v.as_int().ok().filter(|m| *m >= 0).ok_or(format!(
            "{at}`lead_in_minutes` must be a non-negative integer"
        ))?,
    };
    let strings = |key: &str| -> std::result::Result<Vec<String>, String> {
        match spec.get(key) {
            None => Ok(Vec::new()),
            Some(v) => rhai::serde::from_dynamic::<Vec<String>>(v)
                .map_err(|_| format!("{at}`{key}` must be an array of strings")),
        }
    };
    let string_map = |key: &str| -> std::result::Result<BTreeMap<String, String>, String> {
        match spec.get(key) {
            None => Ok(BTreeMap::new()),
            Some(v) => rhai::serde::from_dynamic(v)
                .map_err(|_| format!("{at}`{key}` must be a map of strings")),
        }
    };
    let expect: BTreeMap<String, Value> = match spec.get("expect") {
        None => BTreeMap::new(),
        Some(v) => rhai::serde::from_dynamic(v)
            .map_err(|_| format!("{at}`expect` must be a map of JSON pointer: value"))?,
    };
    for k in expect.keys() {
        if !k.starts_with('/') {
            return Err(format!(
                "{at}expect key `{k}` must be a JSON pointer starting with '/'"
            ));
        }
    }
    let setup = strings("setup")?;
    if let Some(bad) = setup.iter().find(|a| {
        !["advance:", "fault:", "run:"]
            .iter()
            .any(|p| a.starts_with(p))
    }) {
        return Err(format!("{at}setup action `{bad}` must be advance:MINUTES, fault:SPEC or run:RUNBOOK [name=value ...]"));
    }
    Ok(Scenario {
        name: name.to_string(),
        summary,
        lead_in_minutes,
        faults: strings("faults")?,
        setup,
        params: string_map("params")?,
        decisions: string_map("decisions")?,
        expect,
    })
}
