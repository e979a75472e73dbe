//! A T-SQL lexer: words, quoted identifiers, string literals, variables,
//! numbers and punctuation, with comments skipped. One lexer serves both
//! readers of T-SQL text — the read-only check of `sql::query` and the lab
//! twin reading back what drillbook renders — so the two agree on what a
//! literal, an identifier or a comment is.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Word(String),
    /// `[name]` (or `"name"`), unescaped.
    Quoted(String),
    /// `N'text'` or `'text'`, unescaped.
    Str(String),
    /// `@name` or `@@name`.
    Var(String),
    Num(String),
    Punct(char),
}

/// May this character stand in a word (a keyword or a bare name)?
pub fn word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '#' || c == '$'
}

/// Split T-SQL into tokens; an unterminated string, identifier or comment
/// is an error saying which.
pub fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    // `close` ends a delimited token; doubling it escapes it.
    let delimited = |i: &mut usize, close: char, what: &str| -> Result<String, String> {
        let mut s = String::new();
        loop {
            let c = *chars
                .get(*i)
                .ok_or_else(|| format!("{what} is not closed"))?;
            *i += 1;
            if c == close {
                if chars.get(*i) == Some(&close) {
                    s.push(close);
                    *i += 1;
                } else {
                    return Ok(s);
                }
            } else {
                s.push(c);
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // T-SQL block comments nest.
            let mut depth = 0;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (Some('/'), Some('*')) => {
                        depth += 1;
                        i += 2;
                    }
                    (Some('*'), Some('/')) => {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    }
                    (Some(_), _) => i += 1,
                    (None, _) => return Err("a /* comment */ is not closed".into()),
                }
            }
        } else if c == '[' {
            i += 1;
            out.push(Tok::Quoted(delimited(&mut i, ']', "a quoted identifier")?));
        } else if c == '"' {
            i += 1;
            out.push(Tok::Quoted(delimited(&mut i, '"', "a quoted identifier")?));
        } else if c == '\'' {
            i += 1;
            out.push(Tok::Str(delimited(&mut i, '\'', "a string literal")?));
        } else if (c == 'N' || c == 'n') && next == Some('\'') {
            i += 2;
            out.push(Tok::Str(delimited(&mut i, '\'', "a string literal")?));
        } else if c == '@' {
            let start = i;
            i += 1;
            if chars.get(i) == Some(&'@') {
                i += 1;
            }
            while i < chars.len() && word_char(chars[i]) {
                i += 1;
            }
            out.push(Tok::Var(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else if word_char(c) {
            let start = i;
            while i < chars.len() && word_char(chars[i]) {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_identifiers_and_comments() {
        let toks = lex("SELECT [a]]b], N'it''s' -- x\n/* a /* b */ c */ FROM t WHERE @@SPID = -1;")
            .unwrap();
        assert_eq!(
            toks,
            vec![
                Tok::Word("SELECT".into()),
                Tok::Quoted("a]b".into()),
                Tok::Punct(','),
                Tok::Str("it's".into()),
                Tok::Word("FROM".into()),
                Tok::Word("t".into()),
                Tok::Word("WHERE".into()),
                Tok::Var("@@SPID".into()),
                Tok::Punct('='),
                Tok::Num("-1".into()),
                Tok::Punct(';'),
            ]
        );
    }

    #[test]
    fn unterminated_text_is_an_error_saying_what() {
        assert_eq!(
            lex("SELECT 'abc").unwrap_err(),
            "a string literal is not closed"
        );
        assert_eq!(
            lex("SELECT [abc").unwrap_err(),
            "a quoted identifier is not closed"
        );
        assert!(lex("SELECT 1 /* x").unwrap_err().contains("comment"));
    }
}
