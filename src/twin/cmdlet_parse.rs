//! PowerShell → `Op::Cmdlet`: the stand-in reads back the cmdlet line of
//! the script the live target feeds the shell (`pwsh_script` finds it).
//!
//! The cmdlet line is the generic `Verb-Noun -Name value` syntax
//! `op::render_cmdlet` writes: single-quoted strings (the typographic single
//! quotes PowerShell also accepts are delimiters too, and a doubled quote is
//! one quote), strings joined from such strings and UTF-16 code units
//! (`('Z'+[char]0x00FC+'rich')`, how `quote::ps_literal` keeps the script
//! ASCII), switches, `-Name:$true|$false`, integers, `$null`, lists
//! `'a','b'` / `@('a')` / `@()`, and tables `@{Key=value;...}`. Anything else
//! is a parse error, as it would be a ParserError in PowerShell.

use crate::op::{CmdletArg, PsValue};
use crate::quote;

const QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

struct P {
    chars: Vec<char>,
    i: usize,
}

impl P {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.i + n).copied()
    }

    fn rest_starts_with(&self, s: &str) -> bool {
        (self.i..)
            .zip(s.chars())
            .all(|(j, c)| self.chars.get(j) == Some(&c))
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest_starts_with(s) {
            self.i += s.chars().count();
            true
        } else {
            false
        }
    }

    fn eat_ci(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        let got: String = self.chars.iter().skip(self.i).take(n).collect();
        if got.eq_ignore_ascii_case(s) {
            self.i += n;
            true
        } else {
            false
        }
    }

    /// Spaces and tabs: a line break outside quotes ends the statement.
    fn blanks(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.i += 1;
        }
        self.i > start
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("ParserError: at character {}: {what}", self.i + 1))
    }

    fn name(&mut self) -> Result<String, String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.i += 1;
        }
        let name: String = self.chars[start..self.i].iter().collect();
        match quote::ps_name(&name) {
            Ok(_) => Ok(name),
            Err(_) => self.err("expected a name"),
        }
    }

    fn quoted(&mut self) -> Result<String, String> {
        self.i += 1; // the opening quote
        let mut s = String::new();
        loop {
            let Some(c) = self.peek() else {
                return self.err("the string is missing its terminator");
            };
            self.i += 1;
            if QUOTES.contains(&c) {
                if self.peek().is_some_and(|n| QUOTES.contains(&n)) {
                    s.push(c);
                    self.i += 1;
                } else {
                    return Ok(s);
                }
            } else {
                s.push(c);
            }
        }
    }

    /// `('Z'+[char]0x00FC+'rich')`: a quoted string, then quoted strings
    /// and UTF-16 code units joined by `+`, as `quote::ps_literal` writes
    /// what is not printable ASCII.
    fn joined(&mut self) -> Result<String, String> {
        self.i += 1; // the opening parenthesis
        if !self.at_quote() {
            return self.err("expected a quoted string after '('");
        }
        let mut units: Vec<u16> = self.quoted()?.encode_utf16().collect();
        while self.eat("+") {
            if self.at_quote() {
                units.extend(self.quoted()?.encode_utf16());
            } else if self.eat_ci("[char]0x") {
                let hex: String = self.chars.iter().skip(self.i).take(4).collect();
                let Some(unit) = (hex.len() == 4)
                    .then(|| u16::from_str_radix(&hex, 16).ok())
                    .flatten()
                else {
                    return self.err("expected four hex digits after [char]0x");
                };
                self.i += 4;
                units.push(unit);
            } else {
                return self.err("expected a quoted string or [char]0x.... after '+'");
            }
        }
        if !self.eat(")") {
            return self.err("expected '+' or ')'");
        }
        String::from_utf16(&units).or_else(|_| self.err("a lone UTF-16 surrogate is not simulated"))
    }

    fn at_quote(&self) -> bool {
        self.peek().is_some_and(|c| QUOTES.contains(&c))
    }

    /// A string: quoted, or joined from pieces.
    fn string(&mut self, context: &str) -> Result<String, String> {
        match self.peek() {
            Some('(') => self.joined(),
            _ if self.at_quote() => self.quoted(),
            _ => self.err(&format!("expected a quoted string {context}")),
        }
    }

    fn int(&mut self) -> Result<i64, String> {
        let start = self.i;
        if self.peek() == Some('-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let text: String = self.chars[start..self.i].iter().collect();
        text.parse()
            .or_else(|_| self.err(&format!("{text:?} is not an integer")))
    }

    /// Comma-separated strings after the first.
    fn more_strings(&mut self, first: String) -> Result<PsValue, String> {
        let mut items = vec![first];
        while self.peek() == Some(',') {
            self.i += 1;
            items.push(self.string("after ','")?);
        }
        Ok(if items.len() == 1 {
            PsValue::Str(items.remove(0))
        } else {
            PsValue::List(items)
        })
    }

    fn value(&mut self) -> Result<PsValue, String> {
        match self.peek() {
            _ if self.peek() == Some('(') || self.at_quote() => {
                let first = self.string("")?;
                self.more_strings(first)
            }
            Some('@') if self.peek_at(1) == Some('(') => {
                self.i += 2;
                let mut items = Vec::new();
                while self.peek() != Some(')') {
                    if !items.is_empty() && !self.eat(",") {
                        return self.err("expected ',' or ')' in @( )");
                    }
                    items.push(self.string("in @( )")?);
                }
                self.i += 1;
                Ok(PsValue::List(items))
            }
            Some('@') if self.peek_at(1) == Some('{') => {
                self.i += 2;
                let mut entries = Vec::new();
                while self.peek() != Some('}') {
                    if !entries.is_empty() && !self.eat(";") {
                        return self.err("expected ';' or '}' in @{ }");
                    }
                    let key = self.name()?;
                    if !self.eat("=") {
                        return self.err("expected '=' after a table key");
                    }
                    let v = self.value()?;
                    entries.push((key, v));
                }
                self.i += 1;
                Ok(PsValue::Table(entries))
            }
            Some('$') => {
                if self.eat_ci("$null") {
                    Ok(PsValue::Null)
                } else if self.eat_ci("$true") {
                    Ok(PsValue::Bool(true))
                } else if self.eat_ci("$false") {
                    Ok(PsValue::Bool(false))
                } else {
                    self.err("variables other than $null, $true and $false are not simulated")
                }
            }
            Some(c) if c.is_ascii_digit() || c == '-' => Ok(PsValue::Int(self.int()?)),
            _ => self.err("expected a value"),
        }
    }

    /// The end of the line outside quotes: the end, a pipe or a line break.
    fn at_end(&self) -> bool {
        matches!(self.peek(), None | Some('|' | '\n' | '\r'))
    }

    /// Is the next thing a parameter name (`-Letter...`)?
    fn at_parameter(&self) -> bool {
        self.peek() == Some('-') && self.peek_at(1).is_some_and(|c| c.is_ascii_alphabetic())
    }
}

/// Parse one cmdlet line up to its end, a pipe or a line break outside
/// quotes; the index where it stopped comes back too.
pub fn parse_line(line: &str) -> Result<(String, Vec<CmdletArg>, usize), String> {
    let mut p = P {
        chars: line.chars().collect(),
        i: 0,
    };
    let cmdlet = p.name()?;
    let mut args = Vec::new();
    loop {
        let spaced = p.blanks();
        if p.at_end() {
            return Ok((cmdlet, args, p.i));
        }
        if !spaced || !p.at_parameter() {
            return p.err("expected a parameter like -Name");
        }
        p.i += 1;
        let name = p.name()?;
        if p.eat(":") {
            let value = match p.value()? {
                b @ PsValue::Bool(_) => b,
                _ => return p.err("only $true or $false may follow '-Name:'"),
            };
            args.push(CmdletArg::new(&name, value));
            continue;
        }
        let before = p.i;
        p.blanks();
        if p.at_end() || p.at_parameter() {
            p.i = before;
            args.push(CmdletArg::new(&name, PsValue::Switch));
            continue;
        }
        if p.i == before {
            return p.err("expected a space after the parameter name");
        }
        let value = p.value()?;
        args.push(CmdletArg::new(&name, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::render_cmdlet;

    fn round_trip(args: Vec<CmdletArg>) {
        let line = render_cmdlet("Set-CsThing", &args).unwrap();
        let (cmdlet, back, end) = parse_line(&format!("{line}\n}}")).unwrap();
        assert_eq!((cmdlet.as_str(), back), ("Set-CsThing", args), "{line}");
        assert_eq!(end, line.chars().count(), "{line}");
    }

    #[test]
    fn every_value_form_reads_back() {
        round_trip(vec![
            CmdletArg::new("Identity", PsValue::Str("service:p.x".into())),
            CmdletArg::new("Verbose", PsValue::Switch),
            CmdletArg::new("Confirm", PsValue::Bool(false)),
            CmdletArg::new("Count", PsValue::Int(-5)),
            CmdletArg::new("Servers", PsValue::List(vec!["a".into(), "b".into()])),
            CmdletArg::new("One", PsValue::List(vec!["a".into()])),
            CmdletArg::new("Sites", PsValue::List(vec!["Zürich".into(), "é".into()])),
            CmdletArg::new("Site", PsValue::List(vec!["Zürich".into()])),
            CmdletArg::new("None", PsValue::List(vec![])),
            CmdletArg::new("Nothing", PsValue::Null),
            CmdletArg::new(
                "Table",
                PsValue::Table(vec![
                    (
                        "Replace".into(),
                        PsValue::List(vec!["x".into(), "y".into()]),
                    ),
                    (
                        "Deep".into(),
                        PsValue::Table(vec![("n".into(), PsValue::Int(1))]),
                    ),
                    ("Flag".into(), PsValue::Bool(true)),
                    ("Name".into(), PsValue::Str("Genève".into())),
                ]),
            ),
            CmdletArg::new("Last", PsValue::Switch),
        ]);
    }

    #[test]
    fn hostile_strings_read_back_verbatim() {
        for s in [
            "it's",
            "$(rm -r /)",
            "`n`$x",
            "a;b | c",
            "line\nbreak",
            "\u{2019}\u{2018}'",
            "-Name",
            "' | ConvertTo-Json -Depth 5 -Compress",
            "Zürich",
            "\\\\fs\\Données",
            "中文🦀e\u{301}",
            "\t'\r\n",
        ] {
            round_trip(vec![CmdletArg::new("X", PsValue::Str(s.into()))]);
        }
    }
}
