//! Quoting for the two command languages drillbook speaks: T-SQL and PowerShell.
//!
//! Every user-supplied identifier or value that ends up inside a rendered
//! command goes through exactly one of these functions. Nothing else in the
//! code base may splice a value into T-SQL or PowerShell text, so an audit of
//! injection safety is an audit of this file.

use std::fmt;

/// A value that cannot be quoted safely in the language asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteError {
    pub language: &'static str,
    pub kind: &'static str,
    pub value: String,
    pub reason: &'static str,
}

impl fmt::Display for QuoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot quote {:?} as a {} {}: {}",
            self.value, self.language, self.kind, self.reason
        )
    }
}

impl std::error::Error for QuoteError {}

fn refuse(
    language: &'static str,
    kind: &'static str,
    value: &str,
    reason: &'static str,
) -> QuoteError {
    QuoteError {
        language,
        kind,
        value: value.to_string(),
        reason,
    }
}

/// SQL Server's limit for a regular identifier (sysname).
const SQL_IDENT_MAX_CHARS: usize = 128;

/// Quote a T-SQL identifier as `[name]`, doubling any `]`.
///
/// Control characters are refused: SQL Server would accept some of them inside
/// brackets, but no database an admin means to name contains one, and a
/// newline in a rendered plan would hide what is really sent.
pub fn sql_ident(name: &str) -> Result<String, QuoteError> {
    if name.is_empty() {
        return Err(refuse("T-SQL", "identifier", name, "it is empty"));
    }
    if name.chars().count() > SQL_IDENT_MAX_CHARS {
        return Err(refuse(
            "T-SQL",
            "identifier",
            name,
            "it is longer than 128 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(refuse(
            "T-SQL",
            "identifier",
            name,
            "it contains a control character",
        ));
    }
    Ok(format!("[{}]", name.replace(']', "]]")))
}

/// Quote a T-SQL Unicode string literal as `N'value'`, doubling any `'`.
pub fn sql_literal(value: &str) -> Result<String, QuoteError> {
    if value.contains('\0') {
        return Err(refuse(
            "T-SQL",
            "string literal",
            value,
            "it contains a NUL character",
        ));
    }
    Ok(format!("N'{}'", value.replace('\'', "''")))
}

/// PowerShell treats these as single quotes too; each must be doubled.
const PS_SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// Quote a PowerShell argument as a verbatim single-quoted string.
///
/// Inside single quotes PowerShell expands nothing (`$`, backticks and `()`
/// are literal); the only escape is a doubled quote, and PowerShell also
/// accepts the typographic single quotes as delimiters, so those are doubled
/// as well.
pub fn ps_literal(value: &str) -> Result<String, QuoteError> {
    if value.contains('\0') {
        return Err(refuse(
            "PowerShell",
            "string",
            value,
            "it contains a NUL character",
        ));
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if PS_SINGLE_QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Ok(out)
}

/// Check that a PowerShell parameter or hashtable key is a bare word.
///
/// Parameter names are never user data, but they are checked all the same so
/// that a runbook's `lync::cmdlet()` cannot smuggle code through one.
pub fn ps_name(name: &str) -> Result<&str, QuoteError> {
    let ok = !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(name)
    } else {
        Err(refuse(
            "PowerShell",
            "name",
            name,
            "only letters, digits, '-' and '_' are allowed",
        ))
    }
}

/// The literal for Lync's remote PowerShell endpoint on `host`:
/// `'https://<host>/OcsPowershell'`. The host must be a DNS name or an
/// address (letters, digits, `-`, `.`), so nothing of it can change what
/// the URI names.
pub fn ps_connection_uri(host: &str) -> Result<String, QuoteError> {
    let ok = !host.is_empty()
        && host.len() <= 253
        && !host.starts_with(['-', '.'])
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !ok {
        return Err(refuse(
            "PowerShell",
            "remote host",
            host,
            "a host name may hold only letters, digits, '-' and '.'",
        ));
    }
    ps_literal(&format!("https://{host}/OcsPowershell"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_ident_doubles_closing_bracket() {
        assert_eq!(sql_ident("a]b").unwrap(), "[a]]b]");
        assert_eq!(sql_ident("mgc").unwrap(), "[mgc]");
    }

    #[test]
    fn sql_ident_refuses_empty_long_and_control() {
        assert!(sql_ident("").is_err());
        assert!(sql_ident(&"x".repeat(129)).is_err());
        assert!(sql_ident("a\nb").is_err());
    }

    #[test]
    fn sql_literal_doubles_quote_and_refuses_nul() {
        assert_eq!(sql_literal("O'Brien; --").unwrap(), "N'O''Brien; --'");
        assert!(sql_literal("a\0").is_err());
    }

    #[test]
    fn ps_literal_keeps_dollar_and_backtick_verbatim() {
        assert_eq!(ps_literal("$(rm -r /)`n").unwrap(), "'$(rm -r /)`n'");
        assert_eq!(ps_literal("it's").unwrap(), "'it''s'");
        assert_eq!(ps_literal("a\u{2019}b").unwrap(), "'a\u{2019}\u{2019}b'");
    }

    #[test]
    fn ps_connection_uri_names_the_endpoint_or_refuses() {
        assert_eq!(
            ps_connection_uri("fe-dub1.litwareinc.com").unwrap(),
            "'https://fe-dub1.litwareinc.com/OcsPowershell'"
        );
        for bad in ["", "x/y", "a'b", "evil.com?x=", "h:1", "-x", "a b"] {
            assert!(ps_connection_uri(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ps_name_refuses_code() {
        assert!(ps_name("PoolState").is_ok());
        assert!(ps_name("x;rm").is_err());
        assert!(ps_name("").is_err());
    }
}
