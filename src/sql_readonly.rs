//! Is a runbook-written T-SQL text a single read-only statement?
//!
//! `sql::query` promises a read; against a live estate a dry run sends reads
//! for real, so this check must be conservative: one `SELECT` (or a `WITH`
//! common table expression ending in one), and none of the keywords that
//! write, execute code, or change session state anywhere outside string
//! literals, quoted identifiers and comments. Anything else is refused, with
//! the reason, and can be sent with `sql::exec` (always a change).

/// Keywords that make a statement something other than a plain read.
const FORBIDDEN: [&str; 34] = [
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "INTO",
    "EXEC",
    "EXECUTE",
    "DROP",
    "ALTER",
    "CREATE",
    "GRANT",
    "DENY",
    "REVOKE",
    "TRUNCATE",
    "BACKUP",
    "RESTORE",
    "KILL",
    "SHUTDOWN",
    "DBCC",
    "RECONFIGURE",
    "USE",
    "SET",
    "DECLARE",
    "OPENROWSET",
    "OPENQUERY",
    "OPENDATASOURCE",
    "OPENXML",
    "WAITFOR",
    "BULK",
    "GO",
    "NEXT",
    "CHECKPOINT",
    "RAISERROR",
    "THROW",
];

/// Upper-cased words and single-character symbols; literals and quoted
/// identifiers become placeholders, so nothing inside them counts.
fn tokens(text: &str) -> Result<Vec<String>, String> {
    use crate::tsql::Tok;
    Ok(crate::tsql::lex(text)?
        .into_iter()
        .map(|t| match t {
            Tok::Word(w) | Tok::Var(w) | Tok::Num(w) => w.to_uppercase(),
            Tok::Quoted(_) => "[ident]".to_string(),
            Tok::Str(_) => "'literal'".to_string(),
            Tok::Punct(c) => c.to_string(),
        })
        .collect())
}

/// `Ok(())` if `text` is one read-only statement; otherwise why not.
pub fn check(text: &str) -> Result<(), String> {
    let mut toks = tokens(text)?;
    while toks.last().is_some_and(|t| t == ";") {
        toks.pop();
    }
    if toks.iter().any(|t| t == ";") {
        return Err("it holds more than one statement".into());
    }
    match toks.first().map(String::as_str) {
        Some("SELECT") | Some("WITH") => {}
        Some(other) => return Err(format!("it starts with {other}, not SELECT or WITH")),
        None => return Err("it is empty".into()),
    }
    if toks.first().is_some_and(|t| t == "WITH") && !toks.iter().any(|t| t == "SELECT") {
        return Err("the WITH clause is not followed by a SELECT".into());
    }
    if let Some(bad) = toks.iter().find(|t| FORBIDDEN.contains(&t.as_str())) {
        return Err(format!("it contains {bad}, which is not a read"));
    }
    if let Some(proc) = toks
        .iter()
        .find(|t| t.starts_with("SP_") || t.starts_with("XP_"))
    {
        return Err(format!("it calls {proc}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn plain_selects_pass() {
        assert!(check("SELECT name, state_desc FROM sys.databases WHERE name = N'mgc';").is_ok());
        assert!(check("with x as (select 1 as a) select a from x").is_ok());
        assert!(check("SELECT [update] FROM t -- delete everything\n").is_ok());
        assert!(check("SELECT 'DROP TABLE x; --' AS s").is_ok());
    }

    #[test]
    fn writes_and_batches_are_refused() {
        assert!(check("SELECT 1; DROP TABLE x")
            .unwrap_err()
            .contains("more than one statement"));
        assert!(check("SELECT * INTO t2 FROM t")
            .unwrap_err()
            .contains("INTO"));
        assert!(check("DELETE FROM t")
            .unwrap_err()
            .contains("starts with DELETE"));
        assert!(check("EXEC sp_who2").is_err());
        assert!(check("SELECT * FROM OPENROWSET('x')").is_err());
        assert!(check("SELECT NEXT VALUE FOR seq").is_err());
        assert!(check("WITH x AS (SELECT 1) DELETE FROM t").is_err());
    }

    #[test]
    fn unclosed_quotes_and_comments_are_refused() {
        assert!(check("SELECT 'abc").is_err());
        assert!(check("SELECT [abc").is_err());
        assert!(check("SELECT 1 /* x").is_err());
        assert!(check("SELECT 1 /* a /* b */ ; DROP x */").is_ok());
    }
}
