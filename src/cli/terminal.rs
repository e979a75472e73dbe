//! The operator at the terminal: the one place a run's questions reach a
//! person. A confirmation is asked on stdin when it is a terminal; without
//! one the run waits (exit 3) for `resume --yes`. Decisions are not asked
//! interactively: they are given as `--decision` so they are on the command
//! line the journal's next attempt records, and an unanswered one stops the
//! run until `resume --decision`.

use crate::run::{Confirmation, Operator};
use std::io::IsTerminal;

pub struct Terminal;

impl Operator for Terminal {
    fn confirm(&self, message: &str) -> Confirmation {
        if !std::io::stdin().is_terminal() {
            return Confirmation::Unavailable;
        }
        eprint!("{message}\nconfirm? [y/N] ");
        let mut line = String::new();
        let yes = std::io::stdin().read_line(&mut line).is_ok()
            && matches!(line.trim(), "y" | "Y" | "yes");
        if yes {
            Confirmation::Yes
        } else {
            Confirmation::No
        }
    }

    fn choose(&self, _key: &str, _question: &str, _choices: &[String]) -> Option<String> {
        None
    }

    fn show(&self, text: &str) {
        eprintln!("{text}");
    }
}
