//! `lync::` — any Lync Management Shell cmdlet, for the procedures and for
//! teams writing their own. Arguments are data (`#{PoolFqdn: p, Force: true}`
//! or `[["PoolFqdn", p], ["Force", true]]` to keep their order) and are
//! rendered only through `quote::ps_literal`. A cmdlet reads if its verb is
//! Get/Test/Debug/Measure (or it has -WhatIf), otherwise it changes.

use super::call;
use crate::engine::steps::{script_error, RhaiResult};
use crate::engine::Shared;
use crate::op::{CmdletArg, Op, PsValue};
use rhai::{Array, Dynamic, Map, Module};
use serde_json::Value;

pub fn module(ctx: &Shared) -> Module {
    let mut m = Module::new();
    let c = ctx.clone();
    reg!(m, "cmdlet", ["host: string", "name: string", "args: any"], "Run any cmdlet on `host`: a read if its verb is Get/Test/Debug/Measure (or -WhatIf), else a change. Args: #{Name: value} or [[name, value], ...].",
        move |host: &str, name: &str, args: Dynamic| -> RhaiResult<Dynamic> {
            let args = cmdlet_args(name, args)?;
            let v = call(
                &c,
                Op::Cmdlet {
                    host: host.to_string(),
                    cmdlet: name.to_string(),
                    args,
                },
            )?;
            Ok(crate::engine::steps::to_dynamic(&v))
        },
    );
    let c = ctx.clone();
    reg!(m, "cmdlet", ["host: string", "name: string"], "Run any cmdlet on `host`: a read if its verb is Get/Test/Debug/Measure (or -WhatIf), else a change. Args: #{Name: value} or [[name, value], ...].",
        move |host: &str, name: &str| -> RhaiResult<Dynamic> {
            let v = call(
                &c,
                Op::Cmdlet {
                    host: host.to_string(),
                    cmdlet: name.to_string(),
                    args: vec![],
                },
            )?;
            Ok(crate::engine::steps::to_dynamic(&v))
        },
    );
    let c = ctx.clone();
    reg!(
        m,
        "parameters",
        ["host: string", "name: string"],
        "The parameter names a cmdlet has on this shell (Get-Command).",
        move |host: &str, name: &str| -> RhaiResult<Array> { parameters(&c, host, name) },
    );
    let c = ctx.clone();
    reg!(
        m,
        "has_parameter",
        ["host: string", "name: string", "param: string"],
        "Does the cmdlet have this parameter? For the source conflicts of PROCEDURES.md §4.",
        move |host: &str, name: &str, param: &str| -> RhaiResult<bool> {
            Ok(parameters(&c, host, name)?
                .iter()
                .any(|p| p.to_string().eq_ignore_ascii_case(param)))
        },
    );
    m
}

/// The parameters a cmdlet has on this shell: `(Get-Command X).Parameters`,
/// the way PROCEDURES.md §4 settles which of two documented forms exists.
fn parameters(ctx: &Shared, host: &str, name: &str) -> RhaiResult<Array> {
    let v = call(
        ctx,
        Op::Cmdlet {
            host: host.to_string(),
            cmdlet: "Get-Command".into(),
            args: vec![CmdletArg::new("Name", PsValue::Str(name.to_string()))],
        },
    )?;
    let params = match &v {
        Value::Object(o) => o.get("Parameters").cloned(),
        Value::Array(a) => a.first().and_then(|x| x.get("Parameters")).cloned(),
        _ => None,
    };
    Ok(match params {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|p| p.as_str().map(|s| Dynamic::from(s.to_string())))
            .collect(),
        // ConvertTo-Json of a Parameters dictionary gives an object keyed by name.
        Some(Value::Object(o)) => o.keys().map(|k| Dynamic::from(k.clone())).collect(),
        _ => Array::new(),
    })
}

/// Script arguments to cmdlet arguments.
fn cmdlet_args(cmdlet: &str, args: Dynamic) -> RhaiResult<Vec<CmdletArg>> {
    let pairs: Vec<(String, Dynamic)> = if args.is_map() {
        args.cast::<Map>()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    } else if args.is_array() {
        let mut out = Vec::new();
        for item in args.cast::<Array>() {
            let pair = item
                .try_cast::<Array>()
                .filter(|p| p.len() == 2)
                .ok_or_else(|| {
                    script_error(format!(
                        "{cmdlet}: arguments as an array must be [name, value] pairs"
                    ))
                })?;
            out.push((pair[0].to_string(), pair[1].clone()));
        }
        out
    } else if args.is_unit() {
        Vec::new()
    } else {
        return Err(script_error(format!(
            "{cmdlet}: arguments must be a map #{{Name: value}} or [[name, value], ...]"
        )));
    };
    pairs
        .into_iter()
        .map(|(name, v)| Ok(CmdletArg::new(&name, ps_value(cmdlet, &name, v)?)))
        .collect()
}

/// `true` is a switch, `false` renders `-Name:$false`, `()` is `$null`,
/// arrays are lists of strings, maps are hashtables (`@{Replace=...}`).
fn ps_value(cmdlet: &str, name: &str, v: Dynamic) -> RhaiResult<PsValue> {
    if v.is_unit() {
        return Ok(PsValue::Null);
    }
    if let Ok(b) = v.as_bool() {
        return Ok(if b {
            PsValue::Switch
        } else {
            PsValue::Bool(false)
        });
    }
    if let Ok(i) = v.as_int() {
        return Ok(PsValue::Int(i));
    }
    if v.is_string() {
        return Ok(PsValue::Str(v.to_string()));
    }
    if v.is_array() {
        return Ok(PsValue::List(
            v.cast::<Array>()
                .into_iter()
                .map(|x| x.to_string())
                .collect(),
        ));
    }
    if v.is_map() {
        let mut entries = Vec::new();
        for (k, x) in v.cast::<Map>() {
            let inner = ps_value(cmdlet, name, x)?;
            entries.push((
                k.to_string(),
                if inner == PsValue::Switch {
                    PsValue::Bool(true)
                } else {
                    inner
                },
            ));
        }
        return Ok(PsValue::Table(entries));
    }
    Err(script_error(format!(
        "{cmdlet} -{name}: a {} cannot be passed to PowerShell",
        v.type_name()
    )))
}
