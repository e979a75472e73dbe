//! `logship::` — the log-shipping secondary: read its msdb configuration,
//! remove it, copy the log backups not yet copied, and restore the ones not
//! yet applied, in LSN order (PROCEDURES.md §3.12 steps 1–3).
//!
//! Ordering is by LSN, never by file name alone: names are only reportedly
//! UTC, while `FirstLSN`/`LastLSN` from `RESTORE HEADERONLY` are the truth.

use super::{call, db_ref, field, opt_str, rows};
use crate::engine::api::sql::{lsn, lsn_dynamic, redo_start_lsn};
use crate::engine::steps::{
    decide, halt, log, op_error, perform, progress, script_error, RhaiResult,
};
use crate::engine::Shared;
use crate::op::{join_path, Op};
use crate::targets::OpError;
use rhai::{Array, Dynamic, Map, Module};
use serde_json::Value;

/// The decision key and choices offered when the log chain has a gap.
pub const GAP_KEY: &str = "log-chain-gap";
pub const ABORT: &str = "abort";
pub const ACCEPT: &str = "accept-data-loss";

pub fn module(ctx: &Shared) -> Module {
    let mut m = Module::new();
    let c = ctx.clone();
    reg!(
        m,
        "secondary",
        ["db: map"],
        "The msdb log-shipping secondary row of a database, or ().",
        move |db: Map| -> RhaiResult<Dynamic> {
            let (instance, database) = db_ref(&db)?;
            let rows = rows(call(&c, Op::LogShippingSecondary { instance, database })?);
            Ok(rows
                .into_iter()
                .next()
                .map_or(Dynamic::UNIT, |r| super::row_to_map(r).into()))
        }
    );
    let c = ctx.clone();
    reg!(
        m,
        "remove_secondary",
        ["db: map"],
        "Remove the log-shipping secondary if msdb still has it; true if it did.",
        move |db: Map| remove_secondary(&c, &db)
    );
    let c = ctx.clone();
    reg!(m, "copy_pending", ["db: map", "snapshot: map"], "Copy log backups newer than the snapshot's last copied one that are missing or of another size.", move |db: Map, snapshot: Map| {
        copy_pending(&c, &db, &snapshot)
    });
    let c = ctx.clone();
    reg!(
        m,
        "restore_pending",
        ["db: map", "snapshot: map"],
        "Restore unapplied log backups WITH NORECOVERY in LSN order; a gap asks the operator.",
        move |db: Map, snapshot: Map| { restore_pending(&c, &db, &snapshot) }
    );
    m
}

/// Guarded: removes the secondary only if msdb still has it. Returns whether it did.
fn remove_secondary(ctx: &Shared, db: &Map) -> RhaiResult<bool> {
    let (instance, database) = db_ref(db)?;
    let present = !rows(call(
        ctx,
        Op::LogShippingSecondary {
            instance: instance.clone(),
            database: database.clone(),
        },
    )?)
    .is_empty();
    if !present {
        log(
            ctx,
            &format!(
                "{database} on {instance} is no longer a log-shipping secondary; nothing to remove"
            ),
        )?;
        return Ok(false);
    }
    let answer = rows(call(
        ctx,
        Op::DeleteLogShippingSecondary { instance, database },
    )?);
    let rc = answer
        .first()
        .and_then(|r| r.get("return_value"))
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    if rc != 0 {
        return Err(script_error(format!(
            "sp_delete_log_shipping_secondary_database returned {rc} (failure)"
        )));
    }
    Ok(true)
}

/// The file part of a path from msdb (`\\host\share\mgc_2026....trn`).
fn base_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// `<db>_yyyymmddhhmmss.trn`: the fixed-width names log shipping writes.
fn is_log_backup_name(name: &str, database: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let prefix = format!("{}_", database.to_ascii_lowercase());
    lower
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(".trn"))
        .is_some_and(|stamp| stamp.len() == 14 && stamp.chars().all(|c| c.is_ascii_digit()))
}

fn snapshot_dir(snapshot: &Map, key: &str) -> RhaiResult<String> {
    field(snapshot, key, "log-shipping snapshot")
}

fn snapshot_file(snapshot: &Map, key: &str) -> String {
    snapshot
        .get(key)
        .filter(|v| v.is_string())
        .map(|v| base_name(&v.to_string()).to_string())
        .unwrap_or_default()
}

fn list(
    ctx: &Shared,
    folder: &str,
    database: &str,
) -> RhaiResult<Result<Vec<(String, i64)>, OpError>> {
    let res = perform(
        ctx,
        Op::ListFiles {
            folder: folder.to_string(),
            pattern: format!("{database}_*.trn"),
        },
    )?;
    Ok(res.map(|v| {
        let mut files: Vec<(String, i64)> = rows(v)
            .into_iter()
            .filter_map(|r| {
                Some((
                    opt_str(r.get("name"))?,
                    r.get("size").and_then(|s| s.as_i64()).unwrap_or(0),
                ))
            })
            .filter(|(n, _)| is_log_backup_name(n, database))
            .collect();
        files.sort();
        files
    }))
}

/// The most log backups one `CopyFiles` op copies. A batch pays its syncs
/// together (every file's data synced, then the renames, then one sync of
/// the folder) instead of two per file, which is what brings a copy of
/// thousands of small log backups near the disk's speed; the bound keeps
/// the op's journal record and plan line readable, the redo after a crash
/// (a batch is all or nothing) short, and the files a batch holds open few.
pub const COPY_BATCH: usize = 100;

/// Copy every log backup newer than the last copied one that is missing, or
/// of another size, in the copy folder. An unreachable share is not fatal:
/// the files already copied are restored, and what stayed behind is lost.
fn copy_pending(ctx: &Shared, db: &Map, snapshot: &Map) -> RhaiResult<Map> {
    let (_, database) = db_ref(db)?;
    let share = snapshot_dir(snapshot, "backup_source_directory")?;
    let dest = snapshot_dir(snapshot, "backup_destination_directory")?;
    let last_copied = snapshot_file(snapshot, "last_copied_file");
    let mut out = Map::new();
    let source = match list(ctx, &share, &database)? {
        Ok(files) => files,
        Err(e) => {
            log(ctx, &format!(
                "the log-backup share {share} cannot be read ({e}); continuing with the files already copied — \
                 log backups still on the share are lost to this recovery"
            ))?;
            out.insert("share_reachable".into(), false.into());
            out.insert("copied".into(), Array::new().into());
            return Ok(out);
        }
    };
    let present: std::collections::HashSet<(String, i64)> = list(ctx, &dest, &database)?
        .map_err(|e| op_error(&e))?
        .into_iter()
        .collect();
    let todo: Vec<&(String, i64)> = source
        .iter()
        .filter(|f| f.0.as_str() > last_copied.as_str() && !present.contains(*f))
        .collect();
    let mut copied = Array::new();
    for batch in todo.chunks(COPY_BATCH) {
        let files: Vec<String> = batch.iter().map(|f| f.0.clone()).collect();
        let what = match files.as_slice() {
            [one] => one.clone(),
            [first, .., last] => format!("{} files, {first} .. {last}", files.len()),
            [] => continue,
        };
        let total = todo.len() as u64;
        progress(ctx, &format!("copy {what}"), copied.len() as u64, total);
        call(
            ctx,
            Op::CopyFiles {
                from_folder: share.clone(),
                to_folder: dest.clone(),
                files: files.clone(),
            },
        )?;
        copied.extend(files.into_iter().map(Into::into));
    }
    progress(ctx, "copied", todo.len() as u64, todo.len() as u64);
    out.insert("share_reachable".into(), true.into());
    out.insert(
        "already_copied".into(),
        ((source.len() - todo.len()) as i64).into(),
    );
    out.insert("copied".into(), copied.into());
    Ok(out)
}

#[derive(Debug, Clone)]
struct Header {
    file: String,
    first: u128,
    last: u128,
}

/// A RESTORE HEADERONLY row of a log backup (BackupType 2) of `database`.
/// LSNs are numeric(25,0): beyond 64 bits they arrive as digits, and such a
/// backup is ordered and applied like any other, never skipped.
fn log_header(file: &str, r: &serde_json::Map<String, Value>, database: &str) -> Option<Header> {
    let backup_type = r.get("BackupType").and_then(Value::as_i64);
    let db = opt_str(r.get("DatabaseName")).unwrap_or_default();
    let (first, last) = (lsn(r.get("FirstLSN"))?, lsn(r.get("LastLSN"))?);
    (backup_type == Some(2) && db.eq_ignore_ascii_case(database)).then(|| Header {
        file: file.to_string(),
        first,
        last,
    })
}

/// Read the headers of the candidates; a file whose header cannot be read is
/// left out (and named), which shows as a gap where it belonged.
fn headers(
    ctx: &Shared,
    instance: &str,
    database: &str,
    dest: &str,
    names: &[String],
) -> RhaiResult<(Vec<Header>, Vec<String>)> {
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    for (i, name) in names.iter().enumerate() {
        progress(
            ctx,
            &format!("read header {name}"),
            i as u64,
            names.len() as u64,
        );
        let path = join_path(dest, name);
        match perform(
            ctx,
            Op::RestoreHeaderOnly {
                instance: instance.to_string(),
                file: path,
            },
        )? {
            Ok(v) => {
                out.extend(rows(v).iter().filter_map(|r| log_header(name, r, database)));
            }
            Err(
                e @ OpError::Sql {
                    number: 3201 | 3241 | 3013,
                    ..
                },
            ) => {
                log(ctx, &format!("cannot read {name}: {e}"))?;
                unreadable.push(name.clone());
            }
            Err(e) => return Err(op_error(&e)),
        }
    }
    out.sort_by_key(|h| (h.first, h.last));
    Ok((out, unreadable))
}

/// The gap question, naming the file and LSN expected.
fn gap_question(
    database: &str,
    after: &str,
    expected: u128,
    next: Option<&Header>,
    unreadable: &[String],
) -> String {
    let next_part = match next {
        Some(h) => format!(
            "the next available backup, {}, begins at LSN {}",
            h.file, h.first
        ),
        None => "no later backup is available".to_string(),
    };
    let unreadable_part = if unreadable.is_empty() {
        String::new()
    } else {
        format!(" Unreadable: {}.", unreadable.join(", "))
    };
    format!(
        "log chain gap on {database}: after {after} the next log backup must contain LSN {expected}, but {next_part}; \
         a log backup is missing or damaged.{unreadable_part} Abort, or accept the data loss and recover {database} as of LSN {expected}?"
    )
}

/// Apply, with NORECOVERY and in LSN order, the log backups the database has
/// not applied yet. A gap stops for an operator decision (abort, or accept
/// the loss and stop applying at the gap).
fn restore_pending(ctx: &Shared, db: &Map, snapshot: &Map) -> RhaiResult<Map> {
    let (instance, database) = db_ref(db)?;
    let dest = snapshot_dir(snapshot, "backup_destination_directory")?;
    let last_restored = snapshot_file(snapshot, "last_restored_file");
    let names: Vec<String> = list(ctx, &dest, &database)?
        .map_err(|e| op_error(&e))?
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.as_str() > last_restored.as_str())
        .collect();
    let (hdrs, unreadable) = headers(ctx, &instance, &database, &dest, &names)?;
    let Some(redo) = redo_start_lsn(ctx, instance.clone(), database.clone())? else {
        return Err(script_error(format!("{database} on {instance} is not restoring (redo_start_lsn is NULL): no log can be applied")));
    };

    // Walk the chain from the redo point: skip what is applied, take what
    // continues it, stop at the first gap.
    let mut expected = redo;
    let mut after = if last_restored.is_empty() {
        "the last restored backup".to_string()
    } else {
        last_restored.clone()
    };
    let mut to_apply = Vec::new();
    let mut skipped = Array::new();
    let mut gap: Option<(String, u128, Option<Header>)> = None;
    for h in &hdrs {
        if h.last <= expected {
            skipped.push(h.file.clone().into());
        } else if h.first <= expected {
            to_apply.push(h.clone());
            expected = h.last;
            after = h.file.clone();
        } else {
            gap = Some((after.clone(), expected, Some(h.clone())));
            break;
        }
    }
    if gap.is_none()
        && !unreadable.is_empty()
        && unreadable.iter().any(|u| u.as_str() > after.as_str())
    {
        gap = Some((after.clone(), expected, None));
    }
    let mut accepted = false;
    if let Some((after, expected, next)) = &gap {
        let question = gap_question(&database, after, *expected, next.as_ref(), &unreadable);
        if choose(ctx, &question)? {
            accepted = true;
        }
    }

    let mut applied = Array::new();
    let mut through = redo;
    for (i, h) in to_apply.iter().enumerate() {
        progress(
            ctx,
            &format!("restore {}", h.file),
            i as u64,
            to_apply.len() as u64,
        );
        let file = join_path(&dest, &h.file);
        match perform(
            ctx,
            Op::RestoreLog {
                instance: instance.clone(),
                database: database.clone(),
                file,
            },
        )? {
            Ok(_) => {
                applied.push(h.file.clone().into());
                through = h.last;
            }
            Err(e) if is_too_early(&e) => {
                log(
                    ctx,
                    &format!("{} is already applied (Msg 4326); skipped", h.file),
                )?;
                skipped.push(h.file.clone().into());
            }
            Err(e) if is_too_recent(&e) => {
                let question = gap_question(&database, &h.file, through, Some(h), &unreadable);
                choose(ctx, &question)?;
                accepted = true;
                break;
            }
            Err(e) => return Err(op_error(&e)),
        }
    }
    progress(
        ctx,
        "restored",
        to_apply.len() as u64,
        to_apply.len() as u64,
    );
    let mut out = Map::new();
    out.insert("applied".into(), applied.into());
    out.insert("skipped".into(), skipped.into());
    out.insert("restored_through_lsn".into(), lsn_dynamic(through));
    out.insert("data_loss_accepted".into(), accepted.into());
    out.insert(
        "unreadable".into(),
        unreadable
            .into_iter()
            .map(Dynamic::from)
            .collect::<Array>()
            .into(),
    );
    Ok(out)
}

/// Ask about a gap: `true` if the operator accepts the loss; abort stops the run.
fn choose(ctx: &Shared, question: &str) -> RhaiResult<bool> {
    let choice = decide(
        ctx,
        GAP_KEY,
        question,
        &[ABORT.to_string(), ACCEPT.to_string()],
    )?;
    if choice == ABORT {
        return Err(halt(ctx.abort(&format!(
            "the operator chose to abort at the log chain gap: {question}"
        ))));
    }
    log(
        ctx,
        "the operator accepted the data loss: applying the log chain up to the gap only",
    )?;
    Ok(true)
}

/// Msg 4326, matched on the text too: one source prints it under 4305.
fn is_too_early(e: &OpError) -> bool {
    matches!(e, OpError::Sql { number, message, .. } if *number == 4326 || message.contains("too early"))
}

/// Msg 4305: the backup begins after the database's redo point.
fn is_too_recent(e: &OpError) -> bool {
    matches!(e, OpError::Sql { number, message, .. } if (*number == 4305 && !message.contains("too early")) || message.contains("too recent"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_log_shipping_file_names() {
        assert!(is_log_backup_name("mgc_20260314014000.trn", "mgc"));
        assert!(!is_log_backup_name("mgccomp_20260314014000.trn", "mgc"));
        assert!(!is_log_backup_name("mgc_2026.trn", "mgc"));
    }

    #[test]
    fn log_backups_with_lsns_beyond_64_bits_are_read_not_skipped() {
        let row = |first: Value, last: Value| {
            crate::targets::rows(serde_json::json!([{
                "BackupType": 2, "DatabaseName": "mgc", "FirstLSN": first, "LastLSN": last
            }]))
            .remove(0)
        };
        // 2^64 and beyond, as the live target hands numeric(25,0) over.
        let big = row(
            "18446744073709551616".into(),
            "9999999999999999999999999".into(),
        );
        let h = log_header("mgc_1.trn", &big, "MGC").expect("read, not skipped");
        assert_eq!(h.first, 1u128 << 64);
        assert_eq!(h.last, 9_999_999_999_999_999_999_999_999);
        let small = row(
            34_000_000_010_000_001i64.into(),
            34_000_000_020_000_001i64.into(),
        );
        assert_eq!(
            log_header("mgc_0.trn", &small, "mgc").unwrap().first,
            34_000_000_010_000_001
        );
        assert!(log_header("x.trn", &row(Value::Null, 5.into()), "mgc").is_none());
        assert_eq!(
            lsn_dynamic(1u128 << 64).into_string().unwrap(),
            "18446744073709551616"
        );
        assert_eq!(lsn_dynamic(42).as_int().unwrap(), 42);
    }

    #[test]
    fn too_early_text_wins_over_the_number() {
        let e = OpError::sql(
            4305,
            16,
            "The log in this backup set terminates at LSN 9, which is too early to apply",
        );
        assert!(is_too_early(&e));
        assert!(!is_too_recent(&e));
    }
}
