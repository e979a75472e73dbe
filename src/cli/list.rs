//! `drillbook list`: shipped and local runbooks.

use super::Env;
use crate::error::Result;
use serde_json::json;

pub fn run(env: &Env) -> Result<i32> {
    let all = crate::runbook::all(env.runbooks.as_deref())?;
    if env.json {
        for rb in &all {
            env.print_json(&json!({"name": rb.header.name, "version": rb.header.version, "summary": rb.header.summary,
                "rto_minutes": rb.header.rto_minutes, "origin": rb.origin}));
        }
        return Ok(0);
    }
    let width = all.iter().map(|r| r.header.name.len()).max().unwrap_or(0);
    for rb in &all {
        let local = if rb.origin == "shipped" {
            String::new()
        } else {
            format!("  ({})", rb.origin)
        };
        println!(
            "{:width$}  {:8}  {}{local}",
            rb.header.name, rb.header.version, rb.header.summary
        );
    }
    println!("{} runbooks", all.len());
    Ok(0)
}
