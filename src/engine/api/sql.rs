//! `sql::` — database state, sessions, recovery. Database references are the
//! maps `estate.persistent_chat_pool(...)` hands out: `#{instance, database, ...}`.

use super::{call, db_ref, row_to_map, rows, rows_to_array};
use crate::engine::steps::{op_error, perform, RhaiResult};
use crate::engine::Shared;
use crate::op::Op;
use crate::target::OpError;
use rhai::{Array, Dynamic, Map, Module};

pub fn module(ctx: &Shared) -> Module {
    let mut m = Module::new();
    let c = ctx.clone();
    m.set_native_fn("reachable", move |instance: &str| reachable(&c, instance));
    let c = ctx.clone();
    m.set_native_fn("reachable", move |db: Map| {
        let (instance, _) = db_ref(&db)?;
        reachable(&c, &instance)
    });
    let c = ctx.clone();
    m.set_native_fn("database_state", move |db: Map| -> RhaiResult<Dynamic> {
        let (instance, database) = db_ref(&db)?;
        let rows = rows(call(&c, Op::DatabaseState { instance, database })?);
        Ok(rows
            .first()
            .and_then(|r| r.get("state_desc"))
            .and_then(|v| v.as_str())
            .map_or(Dynamic::UNIT, |s| s.into()))
    });
    let c = ctx.clone();
    m.set_native_fn("mirroring", move |db: Map| -> RhaiResult<Dynamic> {
        let (instance, database) = db_ref(&db)?;
        let rows = rows(call(&c, Op::MirroringState { instance, database })?);
        Ok(rows
            .into_iter()
            .next()
            .map_or(Dynamic::UNIT, |r| row_to_map(r).into()))
    });
    let c = ctx.clone();
    m.set_native_fn("sessions", move |db: Map| -> RhaiResult<Array> {
        let (instance, database) = db_ref(&db)?;
        Ok(rows_to_array(call(
            &c,
            Op::DatabaseSessions { instance, database },
        )?))
    });
    let c = ctx.clone();
    m.set_native_fn("kill", move |db: Map, session_id: i64| -> RhaiResult<()> {
        let (instance, _) = db_ref(&db)?;
        call(
            &c,
            Op::KillSession {
                instance,
                session_id,
            },
        )
        .map(|_| ())
    });
    let c = ctx.clone();
    m.set_native_fn("kill_connections", move |db: Map| kill_connections(&c, &db));
    let c = ctx.clone();
    m.set_native_fn("recover", move |db: Map| -> RhaiResult<()> {
        let (instance, database) = db_ref(&db)?;
        call(&c, Op::RecoverDatabase { instance, database }).map(|_| ())
    });
    let c = ctx.clone();
    m.set_native_fn("running_jobs", move |instance: &str| -> RhaiResult<Array> {
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
    });
    let c = ctx.clone();
    m.set_native_fn("redo_start_lsn", move |db: Map| -> RhaiResult<Dynamic> {
        let (instance, database) = db_ref(&db)?;
        redo_start_lsn(&c, instance, database).map(|l| l.map_or(Dynamic::UNIT, Dynamic::from))
    });
    m
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
) -> RhaiResult<Option<i64>> {
    let rows = rows(call(ctx, Op::RedoStartLsn { instance, database })?);
    Ok(rows
        .first()
        .and_then(|r| r.get("redo_start_lsn"))
        .and_then(|v| v.as_i64()))
}
