//! The column names a statement's result has, read from its select list as
//! SQL Server names them: `x AS alias` is `alias`, `t.col` is `col`, a bare
//! column is itself, an expression without an alias has no name. Only what
//! an empty result needs: its COLMETADATA still lists the columns.

/// The names of the first top-level `SELECT`'s columns (none when the
/// statement has no SELECT outside parentheses and quotes).
pub fn names(statement: &str) -> Vec<String> {
    let items = top_level(statement);
    let Some(start) = items.iter().position(|w| w.eq_ignore_ascii_case("SELECT")) else {
        return Vec::new();
    };
    let mut rest = &items[start + 1..];
    // SELECT TOP (n) / TOP n / DISTINCT
    while let Some(first) = rest.first() {
        if first.eq_ignore_ascii_case("DISTINCT") {
            rest = &rest[1..];
        } else if first.eq_ignore_ascii_case("TOP") {
            rest = &rest[rest.len().min(2)..];
        } else {
            break;
        }
    }
    let end = rest
        .iter()
        .position(|w| w.eq_ignore_ascii_case("FROM") || w == ";")
        .unwrap_or(rest.len());
    rest[..end].split(|w| w == ",").map(column_name).collect()
}

/// The name of one select-list item, given as top-level words.
fn column_name(item: &[String]) -> String {
    let name = match item {
        [.., as_, alias] if as_.eq_ignore_ascii_case("AS") => alias.as_str(),
        [one] => one.rsplit('.').next().unwrap_or(one),
        _ => "",
    };
    let name = name.trim_matches(|c| c == '[' || c == ']');
    if name.starts_with('@') || name.contains('(') || name.contains('\'') {
        String::new()
    } else {
        name.to_string()
    }
}

/// The statement's words outside parentheses (a parenthesized group is one
/// word with what precedes it, e.g. `RTRIM(x)`), commas and semicolons as
/// words of their own; quoted text stays inside its word.
fn top_level(statement: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in statement.chars() {
        if let Some(q) = quote {
            word.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                word.push(c);
            }
            '[' => {
                quote = Some(']');
                word.push(c);
            }
            '(' => {
                depth += 1;
                word.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                word.push(c);
            }
            _ if depth > 0 => word.push(c),
            ',' | ';' => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                words.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_select_drillbook_sends_names_its_columns() {
        for op in super::super::parse::sentinel_ops() {
            let (text, _) = op.render_parameterized().unwrap();
            let names = names(&text);
            let reads = text.contains("SELECT");
            assert_eq!(!names.is_empty(), reads, "{text}: {names:?}");
            assert!(names.iter().all(|n| !n.is_empty()), "{text}: {names:?}");
        }
    }

    #[test]
    fn aliases_qualified_and_nested_selects() {
        assert_eq!(
            names("SELECT j.name FROM a WHERE x = (SELECT TOP (1) session_id FROM s);"),
            ["name"]
        );
        assert_eq!(
            names("SELECT spid AS session_id, RTRIM(loginame) AS login_name, [x y] FROM t"),
            ["session_id", "login_name", "x y"]
        );
        assert_eq!(
            names("DECLARE @rc int; EXEC @rc = p @a = @P1; SELECT @rc AS return_value;"),
            ["return_value"]
        );
        assert_eq!(names("SELECT 'a, b', COUNT(*)"), ["", ""]);
        assert!(names("RESTORE LOG [mgc] FROM DISK = @P1;").is_empty());
    }
}
