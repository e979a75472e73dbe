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
}
