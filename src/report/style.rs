//! Colour for status words at a terminal: done (green), failed (red),
//! waiting (yellow), a change (yellow, bold) against a read (dim). The rule
//! for when (`use_colour`) is one pure function: `--color always` or
//! `never` decides; `auto` colours only a terminal, and never under
//! `NO_COLOR` (https://no-color.org).

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Colour or not: `always`/`never` as said; `auto` when the output is a
/// terminal and `NO_COLOR` is unset or empty.
pub fn use_colour(choice: ColorChoice, no_color: Option<&str>, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && no_color.is_none_or(str::is_empty),
    }
}

/// Paints status words, or leaves them plain.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn done(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn failed(&self, text: &str) -> String {
        self.paint("1;31", text)
    }
    pub fn waiting(&self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn change(&self, text: &str) -> String {
        self.paint("1;33", text)
    }
    pub fn read(&self, text: &str) -> String {
        self.paint("2", text)
    }
    /// A run's or step's status word in its colour.
    pub fn status(&self, status: &str) -> String {
        match status {
            "succeeded" | "completed" | "passed" | "ok" => self.done(status),
            "failed" | "aborted" | "FAILED" | "STOPPED" => self.failed(status),
            "waiting" | "WAITING" | "stopped" => self.waiting(status),
            _ => status.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_colour_rule() {
        use ColorChoice::*;
        assert!(use_colour(Auto, None, true));
        assert!(!use_colour(Auto, Some("1"), true));
        assert!(use_colour(Auto, Some(""), true));
        assert!(!use_colour(Auto, None, false));
        assert!(use_colour(Always, Some("1"), false));
        assert!(!use_colour(Never, None, true));
        assert_eq!(Style { on: false }.failed("x"), "x");
        assert_eq!(Style { on: true }.failed("x"), "\x1b[1;31mx\x1b[0m");
    }
}
