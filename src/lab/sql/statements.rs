//! Runbook-written T-SQL (`sql::query` / `sql::exec`): the lab answers a
//! statement when it is one drillbook's own ops render (recognized by
//! rendering the candidate op and comparing, ignoring case, whitespace and
//! a final `;`), or a plain `SELECT` of `name` / `state_desc` from
//! `sys.databases`, or `SELECT @@SERVERNAME`. Anything else is "not
//! simulated by the lab", with the first 60 characters of the statement.

use crate::lab::{desc, LabState};
use crate::op::Op;
use crate::targets::OpError;
use serde_json::{json, Map, Value};

/// Lower case, whitespace runs collapsed, no final `;`.
fn normalize(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.trim_end_matches(';').trim_end().to_ascii_lowercase()
}

fn not_simulated(text: &str) -> OpError {
    let head: String = text.trim().chars().take(60).collect();
    OpError::NotSimulated { message: head }
}

/// The first T-SQL string literal (`N'...'` or `'...'`), unescaped.
fn first_literal(text: &str) -> Option<String> {
    let start = text.find('\'')?;
    let mut out = String::new();
    let mut chars = text[start + 1..].chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
            } else {
                return Some(out);
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// The identifier after the keyword `after` (`[x]` or a bare word).
fn ident_after(text: &str, after: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find(&format!("{after} "))? + after.len() + 1;
    let rest = text[at..].trim_start();
    if let Some(inner) = rest.strip_prefix('[') {
        let mut out = String::new();
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ']' {
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push(']');
                } else {
                    return Some(out);
                }
            } else {
                out.push(c);
            }
        }
        None
    } else {
        let word: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ';')
            .collect();
        (!word.is_empty()).then_some(word)
    }
}

impl LabState {
    /// The ops a statement could be the rendering of.
    fn candidates(instance: &str, text: &str) -> Vec<Op> {
        let i = || instance.to_string();
        let mut ops = vec![
            Op::SqlPing { instance: i() },
            Op::RunningJobs { instance: i() },
        ];
        if let Some(lit) = first_literal(text) {
            ops.extend([
                Op::DatabaseState {
                    instance: i(),
                    database: lit.clone(),
                },
                Op::MirroringState {
                    instance: i(),
                    database: lit.clone(),
                },
                Op::LogShippingSecondary {
                    instance: i(),
                    database: lit.clone(),
                },
                Op::RedoStartLsn {
                    instance: i(),
                    database: lit.clone(),
                },
                Op::DatabaseSessions {
                    instance: i(),
                    database: lit.clone(),
                },
                Op::DeleteLogShippingSecondary {
                    instance: i(),
                    database: lit.clone(),
                },
                Op::RestoreHeaderOnly {
                    instance: i(),
                    file: lit.clone(),
                },
            ]);
        }
        let db = ident_after(text, "database").or_else(|| ident_after(text, "log"));
        if let Some(db) = db {
            ops.extend([
                Op::RecoverDatabase {
                    instance: i(),
                    database: db.clone(),
                },
                Op::MirrorFailover {
                    instance: i(),
                    database: db.clone(),
                },
                Op::MirrorForceService {
                    instance: i(),
                    database: db.clone(),
                },
                Op::MirrorOff {
                    instance: i(),
                    database: db.clone(),
                },
            ]);
            if let Some(file) = first_literal(text) {
                ops.extend([
                    Op::RestoreLog {
                        instance: i(),
                        database: db.clone(),
                        file: file.clone(),
                    },
                    Op::BackupDatabase {
                        instance: i(),
                        database: db.clone(),
                        file: file.clone(),
                    },
                    Op::RestoreDatabase {
                        instance: i(),
                        database: db.clone(),
                        file,
                    },
                ]);
            }
        }
        if let Some(n) = normalize(text)
            .strip_prefix("kill ")
            .and_then(|n| n.parse().ok())
        {
            ops.push(Op::KillSession {
                instance: i(),
                session_id: n,
            });
        }
        ops
    }

    /// The op whose rendering this statement is.
    fn recognize(instance: &str, text: &str) -> Option<Op> {
        let wanted = normalize(text);
        Self::candidates(instance, text)
            .into_iter()
            .find(|op| op.render().is_ok_and(|r| normalize(&r) == wanted))
    }

    /// `sql::query`: a read drillbook renders, or a plain catalog read.
    pub(in crate::lab) fn query(&mut self, id: &str, text: &str) -> Result<Value, OpError> {
        if let Some(op) = Self::recognize(id, text).filter(|op| !op.is_change()) {
            return self.sql_op(&op);
        }
        self.catalog_read(id, text)
            .ok_or_else(|| not_simulated(text))?
    }

    /// `sql::exec`: any statement drillbook renders, or what `query` answers.
    pub(in crate::lab) fn exec(&mut self, id: &str, text: &str) -> Result<Value, OpError> {
        if let Some(op) = Self::recognize(id, text) {
            return self.sql_op(&op);
        }
        self.catalog_read(id, text)
            .ok_or_else(|| not_simulated(text))?
    }

    /// `SELECT @@SERVERNAME [AS x]`; `SELECT name[, state_desc] | * FROM
    /// sys.databases [WHERE name = 'x']`.
    fn catalog_read(&self, id: &str, text: &str) -> Option<Result<Value, OpError>> {
        let n = normalize(text);
        let rest = n.strip_prefix("select ")?;
        if let Some(alias) = rest.strip_prefix("@@servername") {
            let alias = alias
                .trim()
                .strip_prefix("as ")
                .map(str::trim)
                .unwrap_or("");
            let column = if alias.is_empty() { "" } else { alias };
            return Some(Ok(json!([{ column: self.sql.name(id) }])));
        }
        let (columns, rest) = rest.split_once(" from sys.databases")?;
        let columns: Vec<&str> = columns.split(',').map(str::trim).collect();
        let columns: Vec<&str> = if columns == ["*"] {
            vec!["name", "state_desc"]
        } else {
            columns
        };
        if columns.iter().any(|c| !["name", "state_desc"].contains(c)) {
            return None;
        }
        let rest = rest.trim();
        let only = if rest.is_empty() {
            None
        } else {
            let cond = rest.strip_prefix("where ")?.replace(' ', "");
            if !cond.starts_with("name=") {
                return None;
            }
            Some(first_literal(text)?)
        };
        let inst = self.sql.get(id)?;
        let rows = inst
            .databases
            .iter()
            .filter(|(name, _)| only.as_ref().is_none_or(|o| o.eq_ignore_ascii_case(name)))
            .map(|(name, d)| {
                let mut row = Map::new();
                for c in &columns {
                    let v = if *c == "name" {
                        json!(name)
                    } else {
                        json!(desc(&d.state))
                    };
                    row.insert((*c).to_string(), v);
                }
                Value::Object(row)
            });
        Some(Ok(Value::Array(rows.collect())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::*;

    fn q(lab: &mut LabState, text: &str) -> Result<Value, OpError> {
        lab.perform(&Op::Query {
            instance: "pcsql-dub1".into(),
            text: text.into(),
        })
        .result
    }

    #[test]
    fn rendered_reads_and_catalog_reads_are_answered() {
        let mut lab = litware();
        assert_eq!(
            q(
                &mut lab,
                "select name, state_desc\n  FROM sys.databases WHERE name = N'mgc'"
            )
            .unwrap(),
            json!([{"name": "mgc", "state_desc": "RESTORING"}])
        );
        assert_eq!(
            q(&mut lab, "SELECT name FROM sys.databases").unwrap(),
            json!([{"name": "mgc"}, {"name": "mgccomp"}])
        );
        let rendered = Op::MirroringState {
            instance: "x".into(),
            database: "mgc".into(),
        }
        .render()
        .unwrap();
        let row = q(
            &mut lab,
            &rendered.to_uppercase().replace("N'MGC'", "N'mgc'"),
        )
        .unwrap();
        assert_eq!(row[0]["name"], "mgc");
        assert_eq!(
            q(&mut lab, "SELECT @@SERVERNAME AS server_name").unwrap(),
            json!([{"server_name": "pcsql-dub1.litwareinc.com\\pchat"}])
        );
    }

    #[test]
    fn rendered_changes_run_through_exec_and_the_rest_is_not_simulated() {
        let mut lab = litware();
        let off = lab.perform(&Op::Exec {
            instance: "besql-red1".into(),
            text: "alter database [rtcab] set partner off".into(),
        });
        off.result.unwrap();
        assert!(lab.sql["besql-red1"].databases["rtcab"].mirroring.is_none());
        // A change through query is not answered as a change.
        let err = q(&mut lab, "KILL 61").unwrap_err();
        assert!(matches!(err, OpError::NotSimulated { .. }));
        let long =
            "UPDATE dbo.something SET x = 1 WHERE y IN (SELECT z FROM dbo.other WHERE w = 2)";
        match q(&mut lab, long).unwrap_err() {
            OpError::NotSimulated { message } => {
                assert_eq!(message, long.chars().take(60).collect::<String>());
                assert!(OpError::NotSimulated { message }
                    .to_string()
                    .starts_with("not simulated by the lab: UPDATE"));
            }
            other => panic!("{other:?}"),
        }
    }
}
