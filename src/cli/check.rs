//! `drillbook check RUNBOOK|FILE`: compile, header, parameters, lint.

use super::Env;
use crate::error::{Error, Result};
use crate::runbook::Runbook;

pub fn run(env: &Env, spec: &str) -> Result<i32> {
    let rb = Runbook::find(spec, env.runbooks.as_deref())?;
    let problems = rb.lint();
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
