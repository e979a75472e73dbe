//! What a terminal shows must be what is sent: a value carrying a carriage
//! return, an escape sequence or a bidirectional override would make the
//! terminal draw something else (overwrite a line, recolor it, reverse the
//! order of what follows). Every human line drillbook prints goes through
//! [`visible`], which writes such characters as Rust-style escapes
//! (`\r`, `\u{1b}`, `\u{202e}`) and leaves everything else as it is. The
//! journal and `--json` already escape them as JSON does.

use std::borrow::Cow;

/// Characters a terminal does not show as themselves: C0 controls but
/// newline and tab, DEL, C1 controls, and the Unicode bidirectional
/// formatting characters (embeddings, overrides, isolates, marks).
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `text` as it may be printed to a terminal: every hidden character
/// escaped (`\r`, `\u{1b}`, `\u{202e}`), the rest untouched.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`visible`], but a colour sequence (`ESC [ digits;... m`, SGR) is
/// kept: for lines drillbook has coloured itself when colour is on. A colour
/// changes no text, so a value can still not rewrite what is shown.
pub fn visible_in_colour(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}' {
            if let Some(len) = sgr_len(rest) {
                out.push_str(&rest[..len]);
                rest = &rest[len..];
                continue;
            }
        }
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// The length of the SGR sequence `text` starts with, if it does.
fn sgr_len(text: &str) -> Option<usize> {
    let body = text.strip_prefix("\u{1b}[")?;
    let params = body.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
    body[params..].starts_with('m').then_some(2 + params + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped_newlines_and_text_are_not() {
        assert_eq!(visible("a\rb"), r"a\rb");
        assert_eq!(visible("\u{1b}[2J"), r"\u{1b}[2J");
        assert_eq!(visible("x\u{202E}y\u{2066}"), r"x\u{202e}y\u{2066}");
        assert_eq!(visible("\u{85}\u{9b}\u{7f}"), r"\u{85}\u{9b}\u{7f}");
        assert_eq!(
            visible("line\n  next\tcol — § ü"),
            "line\n  next\tcol — § ü"
        );
        assert!(matches!(visible("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn in_colour_only_colour_sequences_pass() {
        assert_eq!(
            visible_in_colour("\u{1b}[32mok\u{1b}[0m a\rb"),
            "\u{1b}[32mok\u{1b}[0m a\\rb"
        );
        assert_eq!(
            visible_in_colour("\u{1b}[2K\u{1b}[1;31"),
            r"\u{1b}[2K\u{1b}[1;31"
        );
    }
}
