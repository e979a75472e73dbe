//! What each SQL Server version's catalog lacks, so the twin refuses a
//! statement a real server of that version refuses: `sys.dm_exec_sessions`
//! has `database_id` only from SQL Server 2012, and a 2008 R2 instance
//! answers error 207 "Invalid column name". The instance's version is the
//! estate's `version` (none: 2012).

/// SQL Server's number for "Invalid column name".
pub const INVALID_COLUMN: i32 = 207;

/// Columns a catalog view gains in a later version: (view, column, first
/// major version that has it).
const ADDED: [(&str, &str, u32); 3] = [
    ("dm_exec_sessions", "database_id", 11),
    ("dm_exec_sessions", "open_transaction_count", 11),
    ("dm_exec_sessions", "authenticating_database_id", 11),
];

/// The major version (10 for 2008 / 2008 R2, 11 for 2012, 12 for 2014, ...)
/// of an estate's `version`.
pub fn major(version: Option<&str>) -> u32 {
    match version.unwrap_or("2012") {
        v if v.contains("2008") => 10,
        v if v.contains("2014") => 12,
        v if v.contains("2016") => 13,
        _ => 11,
    }
}

/// The error message a server of `major` gives `statement`, if its catalog
/// lacks a column the statement reads.
pub fn invalid_column(major: u32, statement: &str) -> Option<String> {
    let lower = statement.to_ascii_lowercase();
    ADDED
        .iter()
        .find(|(view, column, since)| {
            major < *since && lower.contains(view) && has_word(&lower, column)
        })
        .map(|(_, column, _)| format!("Invalid column name '{column}'."))
}

fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2008_r2_catalog_refuses_dm_exec_sessions_database_id() {
        let q = "SELECT session_id FROM sys.dm_exec_sessions WHERE database_id = DB_ID(@P1);";
        assert_eq!(
            invalid_column(major(Some("2008 R2")), q).as_deref(),
            Some("Invalid column name 'database_id'.")
        );
        assert_eq!(invalid_column(major(Some("2012")), q), None);
        assert_eq!(invalid_column(major(None), q), None);
        assert_eq!(
            invalid_column(10, "SELECT my_database_id FROM sys.dm_exec_sessions"),
            None
        );
    }

    /// Every T-SQL op drillbook sends reads only what SQL Server 2008 R2 has.
    #[test]
    fn every_op_renders_t_sql_a_2008_r2_server_accepts() {
        for op in super::super::parse::sentinel_ops() {
            let (text, _) = op.render_parameterized().unwrap();
            assert_eq!(invalid_column(10, &text), None, "{text}");
        }
    }
}
