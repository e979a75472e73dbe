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

/// Quote a PowerShell argument so that the script text stays printable ASCII.
///
/// A value of printable ASCII (space to `~`) becomes a verbatim
/// single-quoted string, `'value'`: inside single quotes PowerShell expands
/// nothing (`$`, backticks and `()` are literal); the only escape is a
/// doubled quote.
///
/// Any other character (non-ASCII, a line break, a tab) is written as its
/// UTF-16 code unit, `[char]0x00FC`, in a parenthesized concatenation that
/// starts with a string: `Zürich` → `('Z'+[char]0x00FC+'rich')`, `中` →
/// `(''+[char]0x4E2D)`, a character beyond the BMP as its two surrogates.
/// Windows PowerShell reads a script on stdin (`-Command -`) in the
/// console's OEM code page, so a non-ASCII byte would arrive mangled; ASCII
/// reads the same in every code page. A line break kept out of the text
/// also keeps `-Command -`, which reads stdin line by line, from ending the
/// statement inside a string. The typographic single quotes PowerShell also
/// takes as delimiters (U+2018..U+201B) are non-ASCII, so they never appear
/// as text either.
pub fn ps_literal(value: &str) -> Result<String, QuoteError> {
    if value.contains('\0') {
        return Err(refuse(
            "PowerShell",
            "string",
            value,
            "it contains a NUL character",
        ));
    }
    let printable = |c: char| matches!(c, ' '..='~');
    let verbatim = |run: &str| format!("'{}'", run.replace('\'', "''"));
    if value.chars().all(printable) {
        return Ok(verbatim(value));
    }
    let mut pieces: Vec<String> = Vec::new();
    let mut run = String::new();
    let mut units = [0u16; 2];
    for c in value.chars() {
        if printable(c) {
            run.push(c);
            continue;
        }
        // A string first, so `+` joins text rather than adds char codes.
        if !run.is_empty() || pieces.is_empty() {
            pieces.push(verbatim(&run));
            run.clear();
        }
        for unit in c.encode_utf16(&mut units) {
            pieces.push(format!("[char]0x{unit:04X}"));
        }
    }
    if !run.is_empty() {
        pieces.push(verbatim(&run));
    }
    Ok(format!("({})", pieces.join("+")))
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
    }

    #[test]
    fn ps_literal_writes_what_is_not_printable_ascii_as_char_codes() {
        assert_eq!(ps_literal("Zürich").unwrap(), "('Z'+[char]0x00FC+'rich')");
        assert_eq!(ps_literal("é").unwrap(), "(''+[char]0x00E9)");
        assert_eq!(
            ps_literal("a\u{2019}'b").unwrap(),
            "('a'+[char]0x2019+'''b')"
        );
        // Beyond the BMP: the two UTF-16 surrogates; a line break too.
        assert_eq!(
            ps_literal("🦀\n").unwrap(),
            "(''+[char]0xD83E+[char]0xDD80+[char]0x000A)"
        );
        // A combining mark is a character of its own.
        assert_eq!(ps_literal("e\u{301}x").unwrap(), "('e'+[char]0x0301+'x')");
        assert!(ps_literal("a\0").is_err());
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
