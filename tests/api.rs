//! `drillbook api`: the reference a runbook author reads, and the Rhai
//! definitions file an editor reads, both checked against the engine's own
//! registrations.

mod common;

use common::Db;
use serde_json::Value;
use std::collections::BTreeSet;

#[test]
fn api_documents_every_function_and_the_estate_objects_fields() {
    let db = Db::new();
    db.run(&["api"])
        .ok()
        .stdout_has("wait_until(what: string, timeout: int, every: int, condition: Fn)")
        .stdout_has("estate.persistent_chat_pools() -> array")
        .stdout_has("estate.pool(fqdn: string) -> map")
        .stdout_has("Estate objects")
        .stdout_has("persistent_chat_pool: ")
        .stdout_has(".active_servers");
    let out = db.run(&["api", "--json"]);
    let v: Value = serde_json::from_str(out.ok().stdout.trim()).unwrap();
    let fns: Vec<&Value> = v["native"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["stdlib"].as_array().unwrap())
        .collect();
    for name in [
        "step",
        "require",
        "wait_until",
        "decide",
        "log",
        "pools",
        "persistent_chat_pools",
    ] {
        assert!(
            fns.iter().any(|f| f["name"] == name),
            "{name} not in the reference"
        );
    }
    let undocumented: Vec<&Value> = fns
        .iter()
        .filter(|f| f["doc"].as_str().unwrap_or("").is_empty())
        .map(|f| &f["signature"])
        .collect();
    assert!(undocumented.is_empty(), "no doc line: {undocumented:?}");
    let objects: BTreeSet<&str> = v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            for f in o["fields"].as_array().unwrap() {
                assert!(!f["type"].as_str().unwrap().is_empty(), "{o}");
            }
            o["name"].as_str().unwrap()
        })
        .collect();
    for o in [
        "pool",
        "instance",
        "persistent_chat_pool",
        "edge_pool",
        "site",
        "database",
    ] {
        assert!(objects.contains(o), "no object {o}: {objects:?}");
    }
}

/// `(module, function)` pairs a definitions file declares: `static` for
/// the global namespace; a getter `get name` as Rhai registers it, `get$name`.
fn declared(defs: &str) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let (mut modules, mut fns) = (BTreeSet::new(), BTreeSet::new());
    let mut module = String::new();
    for line in defs.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("module ") {
            module = m.trim_end_matches(['{', ';', ' ']).to_string();
            modules.insert(module.clone());
        } else if line == "}" {
            module = "static".into();
        } else if let Some(f) = line.strip_prefix("fn ") {
            let name = f.split('(').next().unwrap().trim().replace("get ", "get$");
            fns.insert((module.clone(), name));
        }
    }
    (modules, fns)
}

#[test]
fn rhai_definitions_declare_every_registered_function_and_module() {
    let db = Db::new();
    let out = db.run(&["api", "--format", "rhai-definitions"]);
    let (modules, fns) = declared(&out.ok().stdout);
    let engine = drillbook::engine::listing_engine();
    let registered: BTreeSet<(String, String)> = drillbook::engine::reference::natives(&engine)
        .into_iter()
        .map(|f| {
            let ns = if f.namespace.is_empty() {
                "static".into()
            } else {
                f.namespace
            };
            (ns, f.name)
        })
        .collect();
    let want_modules: BTreeSet<String> = registered.iter().map(|(m, _)| m.clone()).collect();
    assert_eq!(modules, want_modules);
    assert_eq!(fns, registered);
    assert!(
        out.stdout.contains("const estate: Estate;"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("const params: map;"), "{}", out.stdout);
}
