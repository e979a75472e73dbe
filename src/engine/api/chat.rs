//! `chat::` — the Persistent Chat pool through the Lync Management Shell:
//! its service identity, pool state, active servers, and mirroring of a
//! Persistent Chat database. Cmdlets run on `pc.shell_host`.

use super::{call, field};
use crate::engine::steps::{script_error, to_dynamic, RhaiResult};
use crate::engine::Shared;
use crate::op::{CmdletArg, Op, PsValue};
use rhai::{Array, Map, Module};
use serde_json::Value;

pub fn module(ctx: &Shared) -> Module {
    let mut m = Module::new();
    let c = ctx.clone();
    reg!(
        m,
        "service_identity",
        ["pc: map"],
        "The pool's service Identity, discovered with Get-CsService -PersistentChatServer.",
        move |pc: Map| service_identity(&c, &pc)
    );
    let c = ctx.clone();
    reg!(
        m,
        "state",
        ["pc: map"],
        "The pool's PoolState: Normal or FailedOver.",
        move |pc: Map| -> RhaiResult<String> {
            let v = cmdlet(
                &c,
                &pc,
                "Get-CsPersistentChatState",
                vec![identity_arg(&c, &pc)?],
            )?;
            first_object(&v)
                .and_then(|o| o.get("PoolState"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    script_error(format!(
                        "Get-CsPersistentChatState gave no PoolState for {}",
                        pc_name(&pc)
                    ))
                })
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "set_state",
        ["pc: map", "state: string"],
        "Set-CsPersistentChatState -PoolState Normal|FailedOver.",
        move |pc: Map, state: &str| -> RhaiResult<()> {
            if state != "Normal" && state != "FailedOver" {
                return Err(script_error(format!(
                    "chat::set_state: PoolState must be Normal or FailedOver, not {state:?}"
                )));
            }
            let args = vec![
                identity_arg(&c, &pc)?,
                CmdletArg::new("PoolState", PsValue::Str(state.to_string())),
            ];
            cmdlet(&c, &pc, "Set-CsPersistentChatState", args).map(|_| ())
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "active_servers",
        ["pc: map"],
        "The pool's active servers.",
        move |pc: Map| -> RhaiResult<Array> {
            let v = cmdlet(
                &c,
                &pc,
                "Get-CsPersistentChatActiveServer",
                vec![identity_arg(&c, &pc)?],
            )?;
            let servers = first_object(&v)
                .and_then(|o| o.get("ActiveServers"))
                .cloned()
                .unwrap_or(Value::Array(vec![]));
            Ok(to_dynamic(&servers).try_cast::<Array>().unwrap_or_default())
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "set_active_servers",
        ["pc: map", "servers: array"],
        "Replace the active servers (an empty list clears them).",
        move |pc: Map, servers: Array| -> RhaiResult<()> {
            let names: Vec<String> = servers.into_iter().map(|d| d.to_string()).collect();
            let value = if names.is_empty() {
                PsValue::Null
            } else {
                PsValue::Table(vec![("Replace".into(), PsValue::List(names))])
            };
            let args = vec![
                identity_arg(&c, &pc)?,
                CmdletArg::new("ActiveServers", value),
            ];
            cmdlet(&c, &pc, "Set-CsPersistentChatActiveServer", args).map(|_| ())
        },
    );
    let c = ctx.clone();
    reg!(m, "install_mirror", ["pc: map", "db: map"], "Install-CsMirrorDatabase for the pool's mgc on `db` (the topology names the mirror); opts: #{drop_existing, share}.", move |pc: Map, db: Map| {
        install_mirror(&c, &pc, &db, &Map::new())
    });
    let c = ctx.clone();
    reg!(m, "install_mirror", ["pc: map", "db: map", "opts: map"], "Install-CsMirrorDatabase for the pool's mgc on `db` (the topology names the mirror); opts: #{drop_existing, share}.", move |pc: Map, db: Map, opts: Map| {
        install_mirror(&c, &pc, &db, &opts)
    });
    m
}

fn pc_name(pc: &Map) -> String {
    pc.get("fqdn")
        .map(|v| v.to_string())
        .unwrap_or_else(|| "the pool".into())
}

fn cmdlet(ctx: &Shared, pc: &Map, name: &str, args: Vec<CmdletArg>) -> RhaiResult<Value> {
    let host = field(pc, "shell_host", "Persistent Chat pool")?;
    call(
        ctx,
        Op::Cmdlet {
            host,
            cmdlet: name.to_string(),
            args,
        },
    )
}

fn first_object(v: &Value) -> Option<&serde_json::Map<String, Value>> {
    match v {
        Value::Object(o) => Some(o),
        Value::Array(a) => a.iter().find_map(|x| x.as_object()),
        _ => None,
    }
}

/// The pool's service Identity as Lync names it. Sources disagree on the form
/// (`service:<fqdn>` vs `PersistentChatServer:<fqdn>`, PROCEDURES.md §4), so
/// it is discovered with `Get-CsService -PersistentChatServer`.
fn service_identity(ctx: &Shared, pc: &Map) -> RhaiResult<String> {
    let fqdn = field(pc, "fqdn", "Persistent Chat pool")?;
    let v = cmdlet(
        ctx,
        pc,
        "Get-CsService",
        vec![CmdletArg::new("PersistentChatServer", PsValue::Switch)],
    )?;
    let services: Vec<&serde_json::Map<String, Value>> = match &v {
        Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
        Value::Object(o) => vec![o],
        _ => vec![],
    };
    services
        .iter()
        .find(|s| {
            s.get("PoolFqdn")
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case(&fqdn))
        })
        .and_then(|s| s.get("Identity").and_then(Value::as_str))
        .map(str::to_string)
        .ok_or_else(|| {
            script_error(format!(
                "Get-CsService -PersistentChatServer lists no service for pool {fqdn}"
            ))
        })
}

/// `-Identity` from `pc.identity` when the runbook has discovered it, else discovered now.
fn identity_arg(ctx: &Shared, pc: &Map) -> RhaiResult<CmdletArg> {
    let id = match pc.get("identity").filter(|v| v.is_string()) {
        Some(v) => v.to_string(),
        None => service_identity(ctx, pc)?,
    };
    Ok(CmdletArg::new("Identity", PsValue::Str(id)))
}

/// Install-CsMirrorDatabase for the Persistent Chat database `db` (as
/// principal); the mirror is the one the topology defines for that store.
/// `opts.share` is the -FileShare (default: the log-shipping share);
/// `opts.drop_existing` adds -DropExistingDatabasesOnMirror.
fn install_mirror(ctx: &Shared, pc: &Map, db: &Map, opts: &Map) -> RhaiResult<()> {
    let server = field(db, "server", "database reference")?;
    let share = match opts.get("share").filter(|v| v.is_string()) {
        Some(v) => v.to_string(),
        None => field(pc, "share", "Persistent Chat pool")?,
    };
    let drop_existing = opts
        .get("drop_existing")
        .and_then(|v| v.as_bool().ok())
        .unwrap_or(false);
    let mut args = vec![
        CmdletArg::new("DatabaseType", PsValue::Str("PersistentChat".into())),
        CmdletArg::new("SqlServerFqdn", PsValue::Str(server)),
    ];
    if let Some(inst) = db.get("sql_instance").filter(|v| v.is_string()) {
        args.push(CmdletArg::new(
            "SqlInstanceName",
            PsValue::Str(inst.to_string()),
        ));
    }
    args.push(CmdletArg::new("FileShare", PsValue::Str(share)));
    if drop_existing {
        args.push(CmdletArg::new(
            "DropExistingDatabasesOnMirror",
            PsValue::Switch,
        ));
    }
    // It prompts Y/A/N otherwise (PROCEDURES.md §3.2).
    args.push(CmdletArg::new("Confirm", PsValue::Bool(false)));
    args.push(CmdletArg::new("Verbose", PsValue::Switch));
    cmdlet(ctx, pc, "Install-CsMirrorDatabase", args).map(|_| ())
}
