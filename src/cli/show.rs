//! `drillbook show RUNBOOK`: header, parameters, scenarios, steps in order.

use super::Env;
use crate::error::Result;
use crate::runbook::Runbook;
use serde_json::json;

pub fn run(env: &Env, spec: &str) -> Result<i32> {
    let rb = Runbook::find(spec, env.runbooks.as_deref())?;
    let steps = rb.static_steps();
    let h = &rb.header;
    if env.json {
        env.print_json(
            &json!({"header": h, "sha256": rb.sha256, "origin": rb.origin, "steps": steps}),
        );
        return Ok(0);
    }
    println!("{} {}  ({})", h.name, h.version, rb.origin);
    println!("  {}", h.summary);
    println!("  RTO target: {} minutes", h.rto_minutes);
    if !h.source.is_empty() {
        println!("  source: {}", h.source);
    }
    println!("  sha256: {}", rb.sha256);
    println!("parameters:");
    if h.params.is_empty() {
        println!("  (none)");
    }
    for p in &h.params {
        let kind = serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let req = if p.required { ", required" } else { "" };
        let def = p
            .default
            .as_ref()
            .map(|d| format!(", default {d}"))
            .unwrap_or_default();
        println!("  {} ({kind}{req}{def}): {}", p.name, p.help);
    }
    println!("scenarios:");
    for s in &h.scenarios {
        println!("  {}: {}", s.name, s.summary);
        let mut stage = vec![format!("{} min lead-in", s.lead_in_minutes)];
        stage.extend(s.setup.iter().map(ToString::to_string));
        stage.extend(s.faults.iter().map(|f| format!("fault:{f}")));
        println!("      {}", stage.join(" → "));
    }
    println!("steps:");
    for (i, s) in steps.iter().enumerate() {
        println!("  {:2}. {}", i + 1, s.name);
    }
    Ok(0)
}
