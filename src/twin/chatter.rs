//! What common clients send that is not an op, answered as SQL Server does:
//! FreeTDS `tsql`, pytds, SqlClient and SSMS set options, ask the version,
//! and some send `sp_executesql` as a batch rather than an RPC. Without
//! these a third-party client cannot log in to the twin and read it.
//! (pytds' transaction-manager requests are a packet type: `tds::transaction`.)

use super::tds::Request;
use crate::tsql::{lex, Tok};
use serde_json::Value;

/// What `SELECT @@VERSION` answers: the SQL Server 2012 the login ack names.
pub const VERSION: &str = "Microsoft SQL Server 2012 (SP1) - 11.0.3128.0 (X64) \n\
     \tDec 28 2012 20:23:12 \n\tCopyright (c) Microsoft Corporation\n\
     \tEnterprise Edition (64-bit) on Windows NT 6.2 <X64> (Build 9200: ) (Hypervisor)\n";

#[derive(Debug, Clone, PartialEq)]
pub enum Chatter {
    /// `SET` options (one or more): done, no rows.
    Set,
    /// `SELECT @@VERSION`.
    Version,
    /// `EXEC sp_executesql N'...', N'@P1 ...', @P1 = ...` as a batch: the
    /// request inside it, as if it came as an RPC.
    ExecuteSql(Request),
}

fn is_word(t: &Tok, w: &str) -> bool {
    matches!(t, Tok::Word(x) if x.eq_ignore_ascii_case(w))
}

/// The client chatter `statement` is, if it is any.
pub fn recognize(statement: &str) -> Option<Chatter> {
    let toks = lex(statement).ok()?;
    if is_word(toks.first()?, "set") && only_set_options(&toks) {
        return Some(Chatter::Set);
    }
    match toks.as_slice() {
        [select, Tok::Var(v)] | [select, Tok::Var(v), Tok::Punct(';')]
            if is_word(select, "select") && v.eq_ignore_ascii_case("@@version") =>
        {
            Some(Chatter::Version)
        }
        [exec, name, rest @ ..]
            if (is_word(exec, "exec") || is_word(exec, "execute"))
                && matches!(name, Tok::Word(n) if n.eq_ignore_ascii_case("sp_executesql")) =>
        {
            execute_sql(rest).map(Chatter::ExecuteSql)
        }
        _ => None,
    }
}

/// Words that start a statement other than an option.
const STATEMENTS: [&str; 12] = [
    "select", "insert", "update", "delete", "drop", "exec", "execute", "create", "alter", "kill",
    "restore", "backup",
];

/// `SET option value` statements only, with or without `;` between them:
/// each SET is followed by one to five words, numbers or strings (`SET
/// TRANSACTION ISOLATION LEVEL READ COMMITTED`), none a statement keyword.
fn only_set_options(toks: &[Tok]) -> bool {
    let mut len = 0;
    for t in toks {
        match t {
            Tok::Punct(';') => {}
            _ if is_word(t, "set") => {
                if len == 1 {
                    return false;
                }
                len = 1;
            }
            Tok::Word(w) if STATEMENTS.iter().any(|s| w.eq_ignore_ascii_case(s)) => return false,
            Tok::Word(_) | Tok::Num(_) | Tok::Str(_) | Tok::Punct('=') | Tok::Punct('-')
                if (1..=6).contains(&len) =>
            {
                len += 1
            }
            _ => return false,
        }
    }
    len > 1
}

/// `N'stmt' [, N'decl' [, @P1 = value ...]]`.
fn execute_sql(rest: &[Tok]) -> Option<Request> {
    let rest: Vec<&Tok> = rest.iter().filter(|t| **t != Tok::Punct(';')).collect();
    let mut parts = rest.split(|t| **t == Tok::Punct(','));
    let statement = match parts.next()? {
        [Tok::Str(s)] => s.clone(),
        _ => return None,
    };
    let _declaration = parts.next();
    let mut params = Vec::new();
    for p in parts {
        let (name, value) = match p {
            [Tok::Var(n), Tok::Punct('='), Tok::Str(s)] => (n.clone(), Value::String(s.clone())),
            [Tok::Var(n), Tok::Punct('='), Tok::Num(x)] => {
                (n.clone(), x.parse::<i64>().ok()?.into())
            }
            _ => return None,
        };
        params.push((name, value));
    }
    Some(Request { statement, params })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_chatter_of_common_clients_is_recognized() {
        assert_eq!(recognize("SET TEXTSIZE 2147483647"), Some(Chatter::Set));
        assert_eq!(
            recognize("set ansi_nulls on; SET QUOTED_IDENTIFIER ON;\nSET ARITHABORT ON"),
            Some(Chatter::Set)
        );
        assert_eq!(recognize("select @@VERSION"), Some(Chatter::Version));
        assert_eq!(recognize("SELECT @@SERVERNAME"), None);
        assert_eq!(recognize("SET X ON; DROP TABLE t"), None);
        assert_eq!(recognize("SET X ON DROP TABLE t"), None);
        assert_eq!(recognize("SET"), None);
        let Some(Chatter::ExecuteSql(r)) = recognize(
            "EXEC sp_executesql N'SELECT name FROM sys.databases WHERE name = @P1;', N'@P1 nvarchar(4000)', @P1 = N'mg''c'",
        ) else {
            panic!("not recognized");
        };
        assert_eq!(
            r.statement,
            "SELECT name FROM sys.databases WHERE name = @P1;"
        );
        assert_eq!(
            r.params,
            vec![("@P1".to_string(), Value::String("mg'c".into()))]
        );
    }
}
