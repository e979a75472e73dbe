//! `drillbook check RUNBOOK|FILE`: compile, header, parameters, lint.

use super::Env;
use crate::error::{Error, Result};
use crate::runbook::Runbook;

pub fn run(env: &Env, spec: &str) -> Result<i32> {
    let rb = Runbook::find(spec, env.runbooks.as_deref()).map_err(located)?;
    let mut problems = rb.lint();
    problems.extend(rb.deep_check());
    if !problems.is_empty() {
        return Err(Error::RunbookHeader {
            file: rb.file.clone(),
            message: format!(
                "{} problem(s):\n  {}",
                problems.len(),
                problems.join("\n  ")
            ),
        });
    }
    if env.json {
        env.print_json(&serde_json::json!({"ok": true, "name": rb.header.name, "version": rb.header.version, "steps": rb.static_steps().len()}));
    } else {
        println!(
            "{}: ok ({} {}, {} steps, {} parameters, {} scenarios)",
            rb.file,
            rb.header.name,
            rb.header.version,
            rb.static_steps().len(),
            rb.header.params.len(),
            rb.header.scenarios.len()
        );
    }
    Ok(0)
}

/// A header error (a fault or setup action that does not parse) with the
/// line and column of the value it names, when the file has it quoted.
fn located(e: Error) -> Error {
    let Error::RunbookHeader { file, message } = e else {
        return e;
    };
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let at = message
        .split('`')
        .skip(1)
        .step_by(2)
        .find_map(|value| text.find(&format!("\"{value}\"")));
    match at {
        Some(i) => {
            let (line, col) = crate::error::line_col(&text, i + 1);
            Error::RunbookHeader {
                file: format!("{file}:{line}:{col}"),
                message,
            }
        }
        None => Error::RunbookHeader { file, message },
    }
}
