//! `drillbook journal [RUN_ID]`: the runs, or one run's steps and ops.

use super::Env;
use crate::error::Result;
use crate::journal::{self, Journal, Record};
use crate::report::visible;

pub fn run(env: &Env, run_id: Option<&str>) -> Result<i32> {
    match run_id {
        None => list(env),
        Some(id) => show(env, id),
    }
}

fn list(env: &Env) -> Result<i32> {
    let paths = journal::list(&env.home)?;
    for p in &paths {
        // One damaged journal is listed as such; the others still are.
        let loaded = match journal::read(p) {
            Ok(loaded) => loaded,
            Err(e) => {
                let id = p.file_stem().unwrap_or_default().to_string_lossy();
                if env.json {
                    env.print_json(&serde_json::json!({"run_id": id, "status": "damaged", "error": e.to_string()}));
                } else {
                    println!("{id}  damaged: {e}");
                }
                continue;
            }
        };
        let h = &loaded.header;
        let status = journal::last_status(&loaded.records).map_or("unfinished", |s| s.as_str());
        if env.json {
            env.print_json(&serde_json::json!({"run_id": h.run_id, "runbook": h.runbook.name, "version": h.runbook.version,
                "target": h.target, "operator": h.operator, "started_at": h.started_at, "status": status}));
        } else {
            println!(
                "{}  {} {}  {}  {}  {}",
                h.run_id, h.runbook.name, h.runbook.version, h.target, h.started_at, status
            );
        }
    }
    if !env.json {
        println!(
            "{} runs in {}",
            paths.len(),
            Journal::runs_dir(&env.home).display()
        );
    }
    Ok(0)
}

fn show(env: &Env, id: &str) -> Result<i32> {
    let path = Journal::existing(&env.home, id)?;
    let loaded = journal::read(&path)?;
    if env.json {
        for r in &loaded.records {
            env.print_json(&serde_json::to_value(r).unwrap_or_default());
        }
        return Ok(0);
    }
    let h = &loaded.header;
    let head = format!(
        "run {}: {} {} (sha256 {}), target {}, {} by {}",
        h.run_id,
        h.runbook.name,
        h.runbook.version,
        &h.runbook.sha256[..12.min(h.runbook.sha256.len())],
        h.target,
        h.mode,
        h.operator
    );
    println!("{}", visible(&head));
    for r in &loaded.records {
        let line = match r {
            Record::StepStarted { index, name, .. } => format!("[{}] {name}", index + 1),
            Record::OpStarted { text, change, .. } => {
                format!("      {} {text}", if *change { "change" } else { "read  " })
            }
            Record::OpDone { error: Some(e), .. } => format!("        -> error {e}"),
            Record::StepCompleted { sim_seconds, .. } => format!(
                "      completed ({} simulated)",
                crate::report::duration(*sim_seconds)
            ),
            Record::StepFailed { error, .. } => format!("      failed: {error}"),
            Record::DecisionNeeded { question, .. } => {
                format!("      decision needed: {question}")
            }
            Record::Decision {
                choice,
                operator,
                at,
                ..
            } => format!("      decision: {choice} by {operator} at {at}"),
            Record::Confirmed {
                message,
                operator,
                at,
                ..
            } => format!("      confirmed by {operator} at {at}: {message}"),
            Record::Log { message, .. } => format!("      {message}"),
            Record::Resumed { at, operator, .. } => format!("-- resumed by {operator} at {at}"),
            Record::RunFinished {
                status, message, ..
            } => format!(
                "-- {}{}",
                status.as_str(),
                if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                }
            ),
            _ => continue,
        };
        // Values in a journal are printed as the terminal must show them.
        println!("{}", visible(&line));
    }
    if let Some(t) = &loaded.torn {
        println!("note: line {} was cut short by a crash", t.line);
    }
    Ok(0)
}
