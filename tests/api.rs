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

/// A latency check needs no side channel: `now()` reads the lab's simulated
/// clock, so a wait of 90 simulated seconds measures 90 seconds.
#[test]
fn now_reads_the_targets_clock_simulated_in_the_lab() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let start = db.lab()["clock"]["now"].as_str().unwrap().to_string();
    let file = db.write(
        "team/clock-check.rhai",
        r#"runbook(#{
    name: "clock-check",
    version: "1.0.0",
    summary: "s",
    rto_minutes: 1,
    params: #{},
    scenarios: #{ "default": #{} },
});
step("measure", || {
    let t0 = now();
    log(`started ${timestamp(t0)}`);
    wait(90);
    log(`waited ${now() - t0} s (${duration(now() - t0)})`);
});
"#,
    );
    db.run(&["run", file.to_str().unwrap(), "-v"])
        .ok()
        .stdout_has(&format!("started {start}"))
        .stdout_has("waited 90 s (1m 30s)");
}

/// What the lab does not simulate it says, in the run's log, rather than
/// accepting it silently: a Front End service restart has no effect there.
#[test]
fn the_lab_says_what_it_does_not_simulate() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let file = db.write(
        "team/fe-restart.rhai",
        r#"runbook(#{
    name: "fe-restart",
    version: "1.0.0",
    summary: "s",
    rto_minutes: 1,
    params: #{},
    scenarios: #{ "default": #{} },
});
step("restart", || {
    let pool = estate.pool(estate.pools()[0]);
    let host = estate.management_host(pool.site);
    lync::cmdlet(host, "Stop-CsWindowsService", #{ ComputerName: pool.front_ends[0], NoWait: true });
    lync::cmdlet(host, "Start-CsWindowsService", #{ ComputerName: pool.front_ends[0] });
});
"#,
    );
    let out = db.run(&["run", file.to_str().unwrap()]);
    out.ok()
        .stdout_has("not simulated: Stop-CsWindowsService on a Front End services: accepted when the server answers; no outage is modeled")
        .stdout_has("not simulated: Stop-CsWindowsService -NoWait: ignored")
        .stdout_has("not simulated: Start-CsWindowsService on a Front End services");
    let journal = db.journal(&db.last_run());
    assert!(
        journal.iter().any(|r| r["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("not simulated: Stop-CsWindowsService"))),
        "the journal keeps the line: {journal:?}"
    );
}
