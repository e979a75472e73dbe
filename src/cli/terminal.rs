//! The operator at the terminal: the one place a run's questions reach a
//! person. A confirmation or a decision is asked on stdin when it is a
//! terminal (the progress display hidden meanwhile); without one the run
//! waits (exit 3) for `resume --yes` or `resume --decision`, and a decision
//! given as `--decision` is on the command line the journal records. At a
//! confirmation only `y`/`yes` goes on and only `abort` ends the run for
//! good: Enter, `n` or anything else pauses it (exit 3, resumable), so a
//! slip of the finger never loses a run.

use crate::report::style::Style;
use crate::report::{visible, Reporter};
use crate::run::{Confirmation, Operator};
use std::io::IsTerminal;
use std::rc::Rc;

pub struct Terminal {
    pub reporter: Rc<dyn Reporter>,
    pub style: Style,
}

/// The choice an answer names: its number (1-based) or its name.
fn pick(answer: &str, choices: &[String]) -> Option<String> {
    let answer = answer.trim();
    if let Ok(n) = answer.parse::<usize>() {
        return choices.get(n.checked_sub(1)?).cloned();
    }
    choices.iter().find(|c| c.as_str() == answer).cloned()
}

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

fn read_line() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}

impl Operator for Terminal {
    fn confirm(&self, message: &str) -> Confirmation {
        if !std::io::stdin().is_terminal() {
            return Confirmation::Unavailable;
        }
        let mut answered = Confirmation::Pause;
        self.reporter.suspend(&mut || {
            eprint!("{}\n{PROMPT}", visible(message));
            answered = read_line().map_or(Confirmation::Pause, |l| answer(&l));
        });
        answered
    }

    /// Ask once: the question and its choices (with their costs), then a
    /// prompt until the answer names one. End of input leaves it unanswered.
    fn choose(&self, key: &str, question: &str, choices: &[String]) -> Option<String> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        let mut chosen = None;
        self.reporter.suspend(&mut || {
            eprintln!(
                "{}",
                visible(&decision_text(&self.style, key, question, choices, ""))
            );
            loop {
                eprint!(
                    "choose 1-{} or a name [{}]: ",
                    choices.len(),
                    choices.join("|")
                );
                let Some(line) = read_line() else { return };
                if let Some(c) = pick(&line, choices) {
                    chosen = Some(c);
                    return;
                }
                let names = choices.iter().map(String::as_str);
                eprintln!(
                    "`{}` is not one of the choices{}",
                    line.trim(),
                    crate::suggest::did_you_mean(line.trim(), names)
                );
            }
        });
        chosen
    }

    fn show(&self, text: &str) {
        eprintln!("{}", visible(text));
    }
}

/// A decision as the operator reads it, once: the question, then the
/// choices — with what each costs when the runbook says — one a line.
pub fn decision_text(
    style: &Style,
    key: &str,
    question: &str,
    choices: &[String],
    indent: &str,
) -> String {
    let mut lines = question.lines();
    let mut out = format!(
        "{indent}{} ({key}): {}",
        style.waiting("DECISION NEEDED"),
        lines.next().unwrap_or("")
    );
    let rest: Vec<&str> = lines.collect();
    if rest.is_empty() {
        for c in choices {
            out.push_str(&format!("\n{indent}  - {c}"));
        }
    }
    for l in rest {
        out.push_str(&format!("\n{indent}  {l}"));
    }
    out
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

    #[test]
    fn an_answer_is_a_number_or_a_name() {
        let c = vec!["abort".to_string(), "accept-data-loss".to_string()];
        assert_eq!(pick("2\n", &c).as_deref(), Some("accept-data-loss"));
        assert_eq!(pick(" abort ", &c).as_deref(), Some("abort"));
        assert_eq!(pick("0", &c), None);
        assert_eq!(pick("3", &c), None);
        assert_eq!(pick("accept", &c), None);
    }
}
