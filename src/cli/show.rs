//! `drillbook show RUNBOOK [--estate FILE]`: header, parameters, scenarios
//! (their roles resolved against the estate, by default the built-in one),
//! steps in order.

use super::{load_estate, Env};
use crate::drill::roles::resolve_scenario;
use crate::error::Result;
use crate::runbook::Runbook;
use serde_json::json;
use std::path::PathBuf;

pub fn run(env: &Env, spec: &str, estate: Option<&PathBuf>) -> Result<i32> {
    let rb = Runbook::find(spec, env.runbooks.as_deref())?;
    let steps = rb.static_steps();
    let estate = load_estate(estate)?;
    // Scenarios as they would drill on the estate: roles resolved.
    let mut h = rb.header.clone();
    let mut not_applicable = serde_json::Map::new();
    for s in h.scenarios.iter_mut() {
        match resolve_scenario(&rb, s, &estate, &[])? {
            Ok((resolved, _)) => *s = resolved,
            Err(na) => {
                not_applicable.insert(s.name.clone(), na.0.into());
            }
        }
    }
    let h = &h;
    if env.json {
        env.print_json(
            &json!({"header": h, "sha256": rb.sha256, "origin": rb.origin,
            "estate": estate.source, "not_applicable": not_applicable, "steps": steps}),
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
        if let Some(why) = not_applicable.get(&s.name).and_then(|w| w.as_str()) {
            println!("      not applicable on {}: {why}", estate.source);
            continue;
        }
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
