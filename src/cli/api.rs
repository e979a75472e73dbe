//! `drillbook api`: the reference of what runbooks can call, generated from
//! the engine's own registrations and the stdlib sources, so it cannot drift.

use super::Env;
use crate::error::Result;
use std::rc::Rc;

/// Rust type names as a runbook author knows them.
fn plain(sig: &str) -> String {
    let mut s = sig.to_string();
    // `-> Result<T, Box<EvalAltResult>>` is `-> T` to a script (errors are thrown).
    if let Some(start) = s.find("-> core::result::Result<") {
        let inner = &s[start + "-> core::result::Result<".len()..];
        let ok = inner
            .rsplit_once(",alloc::boxed::Box<")
            .map_or(inner, |(ok, _)| ok);
        s = format!("{}-> {ok}", &s[..start]);
    }
    for (from, to) in [
        ("alloc::collections::btree::map::BTreeMap<smartstring::SmartString<smartstring::config::LazyCompact>,rhai::types::dynamic::Dynamic>", "map"),
        ("alloc::string::String", "string"),
        ("rhai::types::dynamic::Dynamic", "any"),
        ("types::dynamic::Dynamic", "any"),
        ("&mut Estate", "estate"),
        ("-> ()", ""),
        ("_: ", ""),
        ("get$", "estate."),
    ] {
        s = s.replace(from, to);
    }
    s.trim_end().to_string()
}

/// Every native function: its signature (namespaced) and doc line.
fn native_functions(engine: &rhai::Engine) -> Vec<(String, String)> {
    let json: serde_json::Value = engine
        .gen_fn_metadata_to_json(false)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut add = |prefix: &str, fns: Option<&serde_json::Value>| {
        for f in fns.and_then(|f| f.as_array()).into_iter().flatten() {
            let sig = f["signature"].as_str().unwrap_or_default();
            if sig.starts_with("runbook(") {
                continue;
            }
            let doc: Vec<String> = f["docComments"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str())
                .flat_map(|c| c.lines())
                .map(|l| l.trim().trim_start_matches('/').trim().to_string())
                .collect();
            out.push((format!("{prefix}{}", plain(sig)), doc.join(" ")));
        }
    };
    add("", json.get("functions"));
    if let Some(mods) = json.get("modules").and_then(|m| m.as_object()) {
        for (name, m) in mods {
            add(&format!("{name}::"), m.get("functions"));
        }
    }
    out.sort();
    out.dedup();
    out
}

pub fn run(env: &Env) -> Result<i32> {
    let estate = Rc::new(crate::estate::Estate::builtin()?);
    let engine = crate::engine::listing_engine(estate);
    let natives = native_functions(&engine);
    let mut modules = Vec::new();
    for (name, text) in crate::engine::stdlib() {
        let ast = engine
            .compile(text)
            .map_err(|e| crate::error::Error::RunbookSyntax {
                file: format!("stdlib/{name}.rhai"),
                line: e.position().line().unwrap_or(1),
                col: e.position().position().unwrap_or(1),
                message: e.err_type().to_string(),
            })?;
        for f in ast.iter_functions() {
            let doc: Vec<String> = f
                .comments
                .iter()
                .flat_map(|c| c.lines())
                .map(|l| l.trim().trim_start_matches('/').trim().to_string())
                .collect();
            modules.push((
                format!("{name}::{}({})", f.name, f.params.join(", ")),
                doc.join(" "),
            ));
        }
    }
    if env.json {
        env.print_json(&serde_json::json!({
            "native": natives.iter().map(|(s, d)| serde_json::json!({"signature": s, "doc": d})).collect::<Vec<_>>(),
            "stdlib": modules.iter().map(|(s, d)| serde_json::json!({"signature": s, "doc": d})).collect::<Vec<_>>(),
        }));
        return Ok(0);
    }
    println!("Native functions (primitives, sql::, logship::, chat::, lync::, estate methods):");
    for (s, d) in &natives {
        if d.is_empty() {
            println!("  {s}");
        } else {
            println!("  {s}\n      {d}");
        }
    }
    println!("\nStdlib modules (import \"NAME\" as NAME;):");
    for (s, d) in &modules {
        if d.is_empty() {
            println!("  {s}");
        } else {
            println!("  {s}\n      {d}");
        }
    }
    Ok(0)
}
