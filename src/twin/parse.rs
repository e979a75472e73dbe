//! T-SQL → `Op`: the twin reads back exactly the statements drillbook's ops
//! render, with values inline (`render`) or as RPC parameters
//! (`render_parameterized`).
//!
//! The patterns are not written by hand: each is the op itself rendered
//! with sentinel values, so a change to `Op::render_parameterized` changes
//! what the twin accepts in the same commit, and `render → parse` gives the
//! op back by construction (the property test in tests/ checks it with
//! hostile values). Keywords match without regard to case or spacing; a
//! statement that matches no op is a runbook's own `Query` or `Exec`, which
//! the lab answers "not simulated".

use crate::op::Op;
use crate::tsql::Tok;
use crate::wire::{progress_query, session_running_query, SPID_QUERY};
use serde_json::Value;
use std::sync::OnceLock;

/// What a statement asks of the twin.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// An op, performed on the lab.
    Op(Op),
    /// `SELECT @@SPID`: the live target's own bookkeeping, no op.
    Spid,
    /// A progress poll of `sys.dm_exec_requests` for one session, no op.
    Progress { session_id: i64 },
    /// Whether a session still runs a request (`sys.sysprocesses`), no op.
    SessionRunning { session_id: i64, login_time: String },
}

/// The statement's tokens, a final `;` or two aside; `None` if it does not lex.
fn lex(text: &str) -> Option<Vec<Tok>> {
    let mut out = crate::tsql::lex(text).ok()?;
    // A statement may or may not end with `;`.
    while out.last() == Some(&Tok::Punct(';')) {
        out.pop();
    }
    Some(out)
}

/// Sentinel values: private-use characters no real name contains.
const S_DATABASE: &str = "\u{E000}database";
const S_FILE: &str = "\u{E000}file";
const S_SESSION: i64 = 7_321_654_987_123;
const S_LOGIN: &str = "\u{E000}login";

#[derive(Debug, Clone, PartialEq)]
enum Pat {
    Fixed(Tok),
    /// An identifier slot, filling this op field.
    Ident(&'static str),
    /// A string value slot: a literal or an `@Pn` parameter.
    Value(&'static str),
    /// An integer literal slot.
    Int(&'static str),
}

#[derive(Debug, Clone)]
enum Yields {
    Op(Op),
    Spid,
    Progress,
    SessionRunning,
}

#[derive(Debug, Clone)]
struct Template {
    pats: Vec<Pat>,
    yields: Yields,
}

/// Every T-SQL op, each with sentinels in its fields. The exhaustive match
/// makes a new `Op` variant a compile error here until it is decided
/// whether the twin parses it.
pub fn sentinel_ops() -> Vec<Op> {
    let (i, db, file) = (
        || "i".to_string(),
        || S_DATABASE.to_string(),
        || S_FILE.to_string(),
    );
    let all = vec![
        Op::SqlPing { instance: i() },
        Op::DatabaseState {
            instance: i(),
            database: db(),
        },
        Op::MirroringState {
            instance: i(),
            database: db(),
        },
        Op::LogShippingSecondary {
            instance: i(),
            database: db(),
        },
        Op::RunningJobs { instance: i() },
        Op::RestoreHeaderOnly {
            instance: i(),
            file: file(),
        },
        Op::RedoStartLsn {
            instance: i(),
            database: db(),
        },
        Op::DatabaseSessions {
            instance: i(),
            database: db(),
        },
        Op::DeleteLogShippingSecondary {
            instance: i(),
            database: db(),
        },
        Op::RestoreLog {
            instance: i(),
            database: db(),
            file: file(),
        },
        Op::KillSession {
            instance: i(),
            session_id: S_SESSION,
        },
        Op::RecoverDatabase {
            instance: i(),
            database: db(),
        },
        Op::MirrorFailover {
            instance: i(),
            database: db(),
        },
        Op::MirrorForceService {
            instance: i(),
            database: db(),
        },
        Op::MirrorOff {
            instance: i(),
            database: db(),
        },
        Op::BackupDatabase {
            instance: i(),
            database: db(),
            file: file(),
        },
        Op::RestoreDatabase {
            instance: i(),
            database: db(),
            file: file(),
        },
    ];
    all.into_iter()
        .filter(|op| match op {
            Op::SqlPing { .. }
            | Op::DatabaseState { .. }
            | Op::MirroringState { .. }
            | Op::LogShippingSecondary { .. }
            | Op::RunningJobs { .. }
            | Op::RestoreHeaderOnly { .. }
            | Op::RedoStartLsn { .. }
            | Op::DatabaseSessions { .. }
            | Op::DeleteLogShippingSecondary { .. }
            | Op::RestoreLog { .. }
            | Op::KillSession { .. }
            | Op::RecoverDatabase { .. }
            | Op::MirrorFailover { .. }
            | Op::MirrorForceService { .. }
            | Op::MirrorOff { .. }
            | Op::BackupDatabase { .. }
            | Op::RestoreDatabase { .. } => true,
            // Runbook-written text, files and cmdlets are not templates.
            Op::Query { .. }
            | Op::Exec { .. }
            | Op::ListFiles { .. }
            | Op::CopyFiles { .. }
            | Op::Wait { .. }
            | Op::Manual { .. }
            | Op::Cmdlet { .. } => false,
        })
        .collect()
}

fn slot_of(value: &str) -> Option<&'static str> {
    match value {
        S_DATABASE => Some("database"),
        S_FILE => Some("file"),
        S_LOGIN => Some("login_time"),
        _ => None,
    }
}

fn template(text: &str, params: &[String], yields: Yields) -> Option<Template> {
    let pats = lex(text)?
        .into_iter()
        .map(|t| match &t {
            Tok::Quoted(s) => slot_of(s).map_or(Pat::Fixed(t.clone()), Pat::Ident),
            Tok::Str(s) => slot_of(s).map_or(Pat::Fixed(t.clone()), Pat::Value),
            Tok::Var(v) => param_index(v)
                .and_then(|n| params.get(n))
                .and_then(|p| slot_of(p))
                .map_or(Pat::Fixed(t.clone()), Pat::Value),
            Tok::Num(n) if n == &S_SESSION.to_string() => Pat::Int("session_id"),
            _ => Pat::Fixed(t),
        })
        .collect();
    Some(Template { pats, yields })
}

/// `@P3` → 2.
fn param_index(var: &str) -> Option<usize> {
    let n: usize = var
        .strip_prefix("@P")
        .or(var.strip_prefix("@p"))?
        .parse()
        .ok()?;
    n.checked_sub(1)
}

fn templates() -> &'static [Template] {
    static T: OnceLock<Vec<Template>> = OnceLock::new();
    T.get_or_init(|| {
        let mut out = Vec::new();
        for op in sentinel_ops() {
            // Sentinels always quote; a failure here would be a bug in render.
            if let Ok((text, params)) = op.render_parameterized() {
                let params: Vec<String> = params
                    .into_iter()
                    .map(|crate::op::SqlParam::Text(s)| s)
                    .collect();
                out.extend(template(&text, &params, Yields::Op(op)));
            }
        }
        out.extend(template(SPID_QUERY, &[], Yields::Spid));
        out.extend(template(&progress_query(S_SESSION), &[], Yields::Progress));
        if let Some(text) = session_running_query(S_SESSION, S_LOGIN) {
            out.extend(template(&text, &[], Yields::SessionRunning));
        }
        out
    })
}

fn same_word(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn matches_fixed(pat: &Tok, tok: &Tok) -> bool {
    match (pat, tok) {
        (Tok::Word(a), Tok::Word(b) | Tok::Quoted(b)) => same_word(a, b),
        (Tok::Var(a), Tok::Var(b)) => same_word(a, b),
        (Tok::Num(a), Tok::Num(b)) => a == b,
        (Tok::Punct(a), Tok::Punct(b)) => a == b,
        (a, b) => a == b,
    }
}

/// The fields a template's slots take from `toks`, if it matches.
fn bind(
    t: &Template,
    toks: &[Tok],
    params: &[(String, Value)],
) -> Option<Vec<(&'static str, Value)>> {
    if t.pats.len() != toks.len() {
        return None;
    }
    let mut fields: Vec<(&'static str, Value)> = Vec::new();
    for (pat, tok) in t.pats.iter().zip(toks) {
        let (field, value) = match pat {
            Pat::Fixed(f) if matches_fixed(f, tok) => continue,
            Pat::Fixed(_) => return None,
            Pat::Ident(field) => match tok {
                Tok::Quoted(s) | Tok::Word(s) => (*field, Value::String(s.clone())),
                _ => return None,
            },
            Pat::Value(field) => match tok {
                Tok::Str(s) => (*field, Value::String(s.clone())),
                Tok::Var(v) => {
                    let bound = params.iter().find(|(n, _)| same_word(n, v))?;
                    match &bound.1 {
                        Value::String(_) => (*field, bound.1.clone()),
                        _ => return None,
                    }
                }
                _ => return None,
            },
            Pat::Int(field) => match tok {
                Tok::Num(n) => (*field, Value::from(n.parse::<i64>().ok()?)),
                _ => return None,
            },
        };
        match fields.iter().find(|(f, _)| *f == field) {
            Some((_, earlier)) if *earlier != value => return None,
            Some(_) => {}
            None => fields.push((field, value)),
        }
    }
    Some(fields)
}

/// Read a statement sent to the endpoint of lab instance `instance`.
pub fn parse(instance: &str, text: &str, params: &[(String, Value)]) -> Statement {
    let toks = lex(text);
    if let Some(toks) = &toks {
        for t in templates() {
            let Some(fields) = bind(t, toks, params) else {
                continue;
            };
            match &t.yields {
                Yields::Spid => return Statement::Spid,
                Yields::Progress => {
                    let id = fields
                        .iter()
                        .find_map(|(_, v)| v.as_i64())
                        .unwrap_or_default();
                    return Statement::Progress { session_id: id };
                }
                Yields::SessionRunning => {
                    let field =
                        |name: &str| fields.iter().find(|(f, _)| *f == name).map(|(_, v)| v);
                    return Statement::SessionRunning {
                        session_id: field("session_id")
                            .and_then(Value::as_i64)
                            .unwrap_or_default(),
                        login_time: field("login_time")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    };
                }
                Yields::Op(op) => {
                    let mut json = serde_json::to_value(op).unwrap_or(Value::Null);
                    if let Value::Object(m) = &mut json {
                        m.insert("instance".into(), Value::String(instance.to_string()));
                        for (f, v) in fields {
                            m.insert(f.into(), v);
                        }
                    }
                    if let Ok(op) = serde_json::from_value::<Op>(json) {
                        return Statement::Op(op);
                    }
                }
            }
        }
    }
    // Not one of drillbook's ops: a runbook's own statement, a read if its
    // first word says so (even when the rest does not lex).
    let first: String = text
        .trim_start()
        .chars()
        .take_while(|c| crate::tsql::word_char(*c))
        .collect();
    let reads = same_word(&first, "SELECT") || same_word(&first, "WITH");
    let (instance, text) = (instance.to_string(), text.to_string());
    Statement::Op(if reads {
        Op::Query { instance, text }
    } else {
        Op::Exec { instance, text }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::SqlParam;

    fn params(p: Vec<SqlParam>) -> Vec<(String, Value)> {
        p.into_iter()
            .enumerate()
            .map(|(i, SqlParam::Text(s))| (format!("@P{}", i + 1), Value::String(s)))
            .collect()
    }

    #[test]
    fn every_template_op_reads_back_from_both_renderings() {
        for op in sentinel_ops() {
            let mut op = serde_json::to_value(&op).unwrap();
            let m = op.as_object_mut().unwrap();
            m.insert("instance".into(), "pcsql-dub1".into());
            for (k, v) in m.iter_mut() {
                if v == S_DATABASE {
                    *v = "mg]c'; --".into();
                } else if v == S_FILE {
                    *v = "\\\\fs\\it's [x].trn".into();
                } else if k == "session_id" {
                    *v = 61.into();
                }
            }
            let op: Op = serde_json::from_value(op).unwrap();
            let text = op.render().unwrap();
            assert_eq!(
                parse("pcsql-dub1", &text, &[]),
                Statement::Op(op.clone()),
                "{text}"
            );
            let (text, p) = op.render_parameterized().unwrap();
            assert_eq!(
                parse("pcsql-dub1", &text, &params(p)),
                Statement::Op(op.clone()),
                "{text}"
            );
        }
    }

    #[test]
    fn keywords_ignore_case_and_spacing_and_bare_names_work() {
        let got = parse(
            "x",
            "restore   log mgc\n from disk=N'a.trn' with norecovery,stats=1",
            &[],
        );
        assert_eq!(
            got,
            Statement::Op(Op::RestoreLog {
                instance: "x".into(),
                database: "mgc".into(),
                file: "a.trn".into()
            })
        );
    }

    #[test]
    fn anything_else_is_the_runbooks_own_statement() {
        assert_eq!(
            parse("x", "SELECT 1", &[]),
            Statement::Op(Op::Query {
                instance: "x".into(),
                text: "SELECT 1".into()
            })
        );
        assert!(matches!(
            parse("x", "DROP DATABASE [mgc]", &[]),
            Statement::Op(Op::Exec { .. })
        ));
        assert!(matches!(
            parse("x", "RESTORE LOG [mgc FROM", &[]),
            Statement::Op(Op::Exec { .. })
        ));
        // A parameter that is not a string does not fill a string slot.
        let p = vec![("@P1".to_string(), Value::from(5))];
        assert!(matches!(
            parse("x", "RESTORE HEADERONLY FROM DISK = @P1;", &p),
            Statement::Op(Op::Exec { .. })
        ));
    }

    #[test]
    fn bookkeeping_queries_are_not_ops() {
        assert_eq!(parse("x", SPID_QUERY, &[]), Statement::Spid);
        assert_eq!(
            parse(
                "x",
                &session_running_query(57, "2026-11-29T18:40:00.123").unwrap(),
                &[]
            ),
            Statement::SessionRunning {
                session_id: 57,
                login_time: "2026-11-29T18:40:00.123".into()
            }
        );
        assert_eq!(
            parse("x", &progress_query(57), &[]),
            Statement::Progress { session_id: 57 }
        );
    }
}
