//! `sql::` — database state, sessions, recovery. Database references are the
//! maps `estate.persistent_chat_pool(...)` hands out: `#{instance, database, ...}`.

use super::{call, db_ref, row_to_map, rows, rows_to_array};
use crate::engine::steps::{decide, halt, log, op_error, perform, script_error, RhaiResult};
use crate::engine::Shared;
use crate::op::Op;
use crate::targets::OpError;
use rhai::{Array, Dynamic, Map, Module};

pub fn module(ctx: &Shared) -> Module {
    let mut m = Module::new();
    let c = ctx.clone();
    reg!(
        m,
        "reachable",
        ["instance: string"],
        "Does the instance answer? (false when unreachable, an error for anything else)",
        move |instance: &str| reachable(&c, instance)
    );
    let c = ctx.clone();
    reg!(
        m,
        "reachable",
        ["db: map"],
        "Does the instance answer? (false when unreachable, an error for anything else)",
        move |db: Map| {
            let (instance, _) = db_ref(&db)?;
            reachable(&c, &instance)
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "lost",
        ["db: map"],
        "Is the instance lost? true only when unreachable (refused, timed out, reset before answering); \
         false when it answers. When it answered but could not be checked (TLS, login, protocol), \
         the run stops for the operator's decision `lost-unconfirmed:ID` (abort | treat-as-lost).",
        move |db: Map| {
            let (instance, _) = db_ref(&db)?;
            lost(&c, &instance)
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "lost",
        ["instance: string"],
        "Is the instance lost? (see lost(db))",
        move |instance: &str| lost(&c, instance)
    );
    reg!(
        m,
        "same_instance",
        ["reported: string", "db: map"],
        "Does a name SQL Server reported (@@SERVERNAME, mirroring_partner_instance: COMPUTER\\INSTANCE) \
         name this instance? Computer and instance compared case-insensitively, not as the estate's FQDN.",
        move |reported: &str, db: Map| -> RhaiResult<bool> {
            let text = |k: &str| db.get(k).and_then(|v| v.clone().into_string().ok());
            let server = text("server").unwrap_or_default();
            Ok(crate::estate::names::same_sql_instance(
                reported,
                &server,
                text("sql_instance").as_deref(),
            ))
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "database_state",
        ["db: map"],
        "state_desc from sys.databases, or () if there is no such database.",
        move |db: Map| -> RhaiResult<Dynamic> {
            let (instance, database) = db_ref(&db)?;
            let rows = rows(call(&c, Op::DatabaseState { instance, database })?);
            Ok(rows
                .first()
                .and_then(|r| r.get("state_desc"))
                .and_then(|v| v.as_str())
                .map_or(Dynamic::UNIT, |s| s.into()))
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "mirroring",
        ["db: map"],
        "The sys.database_mirroring row of the database, or ().",
        move |db: Map| -> RhaiResult<Dynamic> {
            let (instance, database) = db_ref(&db)?;
            let rows = rows(call(&c, Op::MirroringState { instance, database })?);
            Ok(rows
                .into_iter()
                .next()
                .map_or(Dynamic::UNIT, |r| row_to_map(r).into()))
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "sessions",
        ["db: map"],
        "User sessions in the database (sys.sysprocesses: SQL Server 2008 R2 and later), ours excluded.",
        move |db: Map| -> RhaiResult<Array> {
            let (instance, database) = db_ref(&db)?;
            Ok(rows_to_array(call(
                &c,
                Op::DatabaseSessions { instance, database },
            )?))
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "kill",
        ["db: map", "session_id: int"],
        "KILL one session.",
        move |db: Map, session_id: i64| -> RhaiResult<()> {
            let (instance, _) = db_ref(&db)?;
            call(
                &c,
                Op::KillSession {
                    instance,
                    session_id,
                },
            )
            .map(|_| ())
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "kill_connections",
        ["db: map"],
        "End every session in the database but ours; how many.",
        move |db: Map| kill_connections(&c, &db)
    );
    let c = ctx.clone();
    reg!(
        m,
        "recover",
        ["db: map"],
        "RESTORE DATABASE ... WITH RECOVERY.",
        move |db: Map| -> RhaiResult<()> {
            let (instance, database) = db_ref(&db)?;
            call(&c, Op::RecoverDatabase { instance, database }).map(|_| ())
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "running_jobs",
        ["instance: string"],
        "Names of SQL Agent jobs running now: in the current agent session (msdb.dbo.syssessions), \
         so a row a stopped agent left unfinished does not count.",
        move |instance: &str| -> RhaiResult<Array> {
            let rows = rows(call(
                &c,
                Op::RunningJobs {
                    instance: instance.to_string(),
                },
            )?);
            Ok(rows
                .into_iter()
                .filter_map(|r| {
                    r.get("name")
                        .and_then(|v| v.as_str())
                        .map(|s| Dynamic::from(s.to_string()))
                })
                .collect())
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "redo_start_lsn",
        ["db: map"],
        "sys.master_files.redo_start_lsn of a restoring database, or ().",
        move |db: Map| -> RhaiResult<Dynamic> {
            let (instance, database) = db_ref(&db)?;
            redo_start_lsn(&c, instance, database).map(|l| l.map_or(Dynamic::UNIT, lsn_dynamic))
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "query",
        ["instance: any", "text: string"],
        "Rows of one read-only SELECT (refused otherwise, before it is sent).",
        move |instance: Dynamic, text: &str| -> RhaiResult<Array> {
            let instance = instance_of(&instance)?;
            if let Err(why) = crate::sql_readonly::check(text) {
                return Err(script_error(format!(
                "sql::query refuses this text because {why}; it must be one read-only SELECT (use sql::exec for anything else): {text}"
            )));
            }
            Ok(rows_to_array(call(
                &c,
                Op::Query {
                    instance,
                    text: text.to_string(),
                },
            )?))
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "exec",
        ["instance: any", "text: string"],
        "Run a statement the runbook wrote; always a change.",
        move |instance: Dynamic, text: &str| -> RhaiResult<Array> {
            let instance = instance_of(&instance)?;
            Ok(rows_to_array(call(
                &c,
                Op::Exec {
                    instance,
                    text: text.to_string(),
                },
            )?))
        },
    );
    reg!(
        m,
        "literal",
        ["value: string"],
        "Quote a value as a T-SQL literal N'...'.",
        |value: &str| -> RhaiResult<String> {
            crate::quote::sql_literal(value).map_err(|e| script_error(e.to_string()))
        }
    );
    reg!(
        m,
        "ident",
        ["name: string"],
        "Quote a name as a T-SQL identifier [...].",
        |name: &str| -> RhaiResult<String> {
            crate::quote::sql_ident(name).map_err(|e| script_error(e.to_string()))
        }
    );
    for (name, make) in MIRROR_OPS {
        let c = ctx.clone();
        reg!(
            m,
            name,
            ["db: map"],
            "ALTER DATABASE ... SET PARTNER FAILOVER | FORCE_SERVICE_ALLOW_DATA_LOSS | OFF.",
            move |db: Map| -> RhaiResult<()> {
                let (instance, database) = db_ref(&db)?;
                call(&c, make(instance, database)).map(|_| ())
            }
        );
    }
    let c = ctx.clone();
    reg!(
        m,
        "backup",
        ["db: map", "file: string"],
        "BACKUP DATABASE ... TO DISK = file WITH INIT.",
        move |db: Map, file: &str| -> RhaiResult<()> {
            let (instance, database) = db_ref(&db)?;
            call(
                &c,
                Op::BackupDatabase {
                    instance,
                    database,
                    file: file.to_string(),
                },
            )
            .map(|_| ())
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "restore_replace",
        ["db: map", "file: string"],
        "RESTORE DATABASE ... FROM DISK = file WITH REPLACE, RECOVERY.",
        move |db: Map, file: &str| -> RhaiResult<()> {
            let (instance, database) = db_ref(&db)?;
            call(
                &c,
                Op::RestoreDatabase {
                    instance,
                    database,
                    file: file.to_string(),
                },
            )
            .map(|_| ())
        },
    );
    m
}

type MakeOp = fn(String, String) -> Op;

/// Mirroring statements that take just the database (PROCEDURES.md §3.1, §3.13).
const MIRROR_OPS: [(&str, MakeOp); 3] = [
    ("mirror_failover", |instance, database| Op::MirrorFailover {
        instance,
        database,
    }),
    ("mirror_force_service", |instance, database| {
        Op::MirrorForceService { instance, database }
    }),
    ("mirror_off", |instance, database| Op::MirrorOff {
        instance,
        database,
    }),
];

/// An instance id, or a database reference's instance.
fn instance_of(v: &Dynamic) -> RhaiResult<String> {
    if v.is_string() {
        return Ok(v.to_string());
    }
    match v.read_lock::<Map>() {
        Some(m) => Ok(db_ref(&m)?.0),
        None => Err(script_error(format!(
            "expected a SQL instance id or a database reference, not {}",
            v.type_name()
        ))),
    }
}

/// Can we connect? Unreachable is an answer here, not an error.
fn reachable(ctx: &Shared, instance: &str) -> RhaiResult<bool> {
    match perform(
        ctx,
        Op::SqlPing {
            instance: instance.to_string(),
        },
    )? {
        Ok(_) => Ok(true),
        Err(OpError::Unreachable { .. }) => Ok(false),
        Err(e) => Err(op_error(&e)),
    }
}

/// The decision asked when a server that must be lost cannot be checked.
pub const LOST_KEY: &str = "lost-unconfirmed";
pub const TREAT_AS_LOST: &str = "treat-as-lost";
const ABORT: &str = "abort";

/// Fail closed: only an unreachable instance is lost. One that answered but
/// could not be checked may be a running primary behind a wrong setting;
/// taking it for lost makes a split brain, so the operator decides.
fn lost(ctx: &Shared, instance: &str) -> RhaiResult<bool> {
    let e = match perform(
        ctx,
        Op::SqlPing {
            instance: instance.to_string(),
        },
    )? {
        Ok(_) => return Ok(false),
        Err(OpError::Unreachable { .. }) => return Ok(true),
        Err(e @ OpError::Unchecked { .. }) => e,
        Err(e) => return Err(op_error(&e)),
    };
    let key = format!("{LOST_KEY}:{instance}");
    let question = format!(
        "cannot confirm that {instance} is lost: {e}. It may be running: treat it as lost only if you \
         know it is down (else two primaries follow); otherwise abort, fix the setting and run again"
    );
    let choice = decide(
        ctx,
        &key,
        &question,
        &[ABORT.to_string(), TREAT_AS_LOST.to_string()],
    )?;
    if choice == ABORT {
        return Err(halt(ctx.abort(&format!(
            "the operator chose to abort: {instance} could not be checked ({e})"
        ))));
    }
    log(
        ctx,
        &format!("the operator treats {instance} as lost although it could not be checked"),
    )?;
    Ok(true)
}

/// End every session on the database except our own; returns how many.
fn kill_connections(ctx: &Shared, db: &Map) -> RhaiResult<i64> {
    let (instance, database) = db_ref(db)?;
    let sessions = rows(call(
        ctx,
        Op::DatabaseSessions {
            instance: instance.clone(),
            database,
        },
    )?);
    let mut killed = 0;
    for s in sessions {
        let Some(id) = s.get("session_id").and_then(|v| v.as_i64()) else {
            continue;
        };
        match perform(
            ctx,
            Op::KillSession {
                instance: instance.clone(),
                session_id: id,
            },
        )? {
            Ok(_) => killed += 1,
            // Gone by itself between the read and the kill: fine.
            Err(e) if e.sql_number() == Some(6106) => {}
            Err(e) => return Err(op_error(&e)),
        }
    }
    Ok(killed)
}

pub(crate) fn redo_start_lsn(
    ctx: &Shared,
    instance: String,
    database: String,
) -> RhaiResult<Option<u128>> {
    let rows = rows(call(ctx, Op::RedoStartLsn { instance, database })?);
    Ok(lsn(rows.first().and_then(|r| r.get("redo_start_lsn"))))
}

/// An LSN as a target answers it: numeric(25,0), so up to 25 digits — a
/// JSON integer while it fits in 64 bits, its digits in a string beyond.
pub(crate) fn lsn(v: Option<&serde_json::Value>) -> Option<u128> {
    match v? {
        serde_json::Value::Number(n) => n.as_u64().map(u128::from),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An LSN for a script: an integer while it fits, else its digits.
pub(crate) fn lsn_dynamic(lsn: u128) -> Dynamic {
    i64::try_from(lsn).map_or_else(|_| lsn.to_string().into(), Dynamic::from)
}

#[cfg(test)]
mod tests {
    use crate::op::Op;

    /// sysjobactivity keeps the rows of every agent session; a job the
    /// agent was running when it stopped never gets its stop date.
    #[test]
    fn running_jobs_reads_only_the_current_agent_session() {
        let (text, _) = Op::RunningJobs {
            instance: "i".into(),
        }
        .render_parameterized()
        .unwrap();
        let squeezed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            squeezed.contains(
                "a.session_id = (SELECT TOP (1) session_id FROM msdb.dbo.syssessions ORDER BY agent_start_date DESC)"
            ),
            "{squeezed}"
        );
    }
}
