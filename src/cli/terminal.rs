//! The operator at the terminal: the one place a run's questions reach a
//! person. A confirmation is asked on stdin when it is a terminal; without
//! one the run waits (exit 3) for `resume --yes`. Only `y`/`yes` goes on and
//! only `abort` ends the run for good: Enter, `n` or anything else pauses it
//! (exit 3, resumable), so a slip of the finger never loses a run. Decisions are not asked
//! interactively: they are given as `--decision` so they are on the command
//! line the journal's next attempt records, and an unanswered one stops the
//! run until `resume --decision`.

use crate::report::visible;
use crate::run::{Confirmation, Operator};
use std::io::IsTerminal;

pub struct Terminal;

/// The question after a confirmation's message: every answer it takes.
const PROMPT: &str =
    "confirm? [y = yes, go on · Enter or n = pause (resume later) · abort = abort the run] ";

/// What a typed line means.
fn answer(line: &str) -> Confirmation {
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Confirmation::Yes,
        "abort" => Confirmation::Abort,
        _ => Confirmation::Pause,
    }
}

impl Operator for Terminal {
    fn confirm(&self, message: &str) -> Confirmation {
        if !std::io::stdin().is_terminal() {
            return Confirmation::Unavailable;
        }
        eprint!("{}\n{PROMPT}", visible(message));
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).is_err() {
            return Confirmation::Pause;
        }
        answer(&line)
    }

    fn choose(&self, _key: &str, _question: &str, _choices: &[String]) -> Option<String> {
        None
    }

    fn show(&self, text: &str) {
        eprintln!("{}", visible(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_goes_on_and_only_abort_aborts() {
        for (line, expected) in [
            ("y\n", Confirmation::Yes),
            ("YES\n", Confirmation::Yes),
            ("abort\n", Confirmation::Abort),
            ("\n", Confirmation::Pause),
            ("n\n", Confirmation::Pause),
            ("no\n", Confirmation::Pause),
            ("", Confirmation::Pause),
        ] {
            assert_eq!(answer(line), expected, "{line:?}");
        }
    }
}
