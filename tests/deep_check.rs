//! `drillbook check` finds what a run or a drill would hit, each at
//! file:line:col: unknown functions (with the nearest name), undeclared
//! parameters, fault targets and setup runs that do not exist, expectation
//! pointers outside the lab's state, decisions nothing asks, imports that do
//! not resolve or import themselves. Every shipped runbook checks clean.

mod common;

use common::Db;

fn header(scenario: &str) -> String {
    format!(
        "runbook(#{{\n    name: \"team-x\",\n    version: \"1.0.0\",\n    summary: \"s\",\n    rto_minutes: 1,\n    params: #{{ pool: #{{ kind: \"persistent_chat_pool\", help: \"h\" }} }},\n    scenarios: #{{ \"default\": #{{ {scenario} }} }},\n}});\n"
    )
}

fn check(db: &Db, text: &str) -> common::Out {
    let file = db.write("team/team-x.rhai", text);
    db.run(&["check", file.to_str().unwrap()])
}

#[test]
fn every_shipped_runbook_checks_clean() {
    let db = Db::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/runbooks");
    for e in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "rhai") {
            continue;
        }
        let id = p.file_stem().unwrap().to_string_lossy().to_string();
        db.run(&["check", &id]).ok();
    }
}

#[test]
fn a_call_to_a_function_that_does_not_exist_suggests_the_nearest() {
    let db = Db::new();
    let text = header("") + "step(\"a\", || sql::reachabel(\"pcsql-red1\"));\nlgo(\"x\");\n";
    check(&db, &text)
        .code(2)
        .stderr_has("team-x.rhai:9:19: no function `sql::reachabel`; did you mean `reachable`?")
        .stderr_has("team-x.rhai:10:1: no function `lgo`; did you mean `log`?");
}

#[test]
fn an_undeclared_parameter_is_named() {
    let db = Db::new();
    let text = header("") + "let p = params.pool;\nlet q = params.pol;\n";
    check(&db, &text)
        .code(2)
        .stderr_has("team-x.rhai:10:16: `params.pol` is not a declared parameter (declared: pool); did you mean `pool`?");
}

#[test]
fn a_fault_on_something_the_estate_lacks_is_found() {
    let db = Db::new();
    let text = header("faults: [\"instance-down:besql-nowhere\"]") + "log(\"x\");\n";
    check(&db, &text)
        .code(2)
        .stderr_has("team-x.rhai:7:43: scenario `default`: fault `instance-down:besql-nowhere`: no SQL instance `besql-nowhere`");
}

#[test]
fn a_fault_spec_that_does_not_parse_is_named() {
    let db = Db::new();
    let text = header("faults: [\"site-dwn:redmond\"]") + "log(\"x\");\n";
    check(&db, &text)
        .code(2)
        .stderr_has("team-x.rhai:7:43: runbook header: scenarios.default: fault `site-dwn:redmond`: unknown fault kind `site-dwn`");
}

#[test]
fn a_setup_run_of_a_runbook_that_does_not_exist_is_found() {
    let db = Db::new();
    let text = header("setup: [\"run:pool-failovr\"]") + "log(\"x\");\n";
    check(&db, &text)
        .code(2)
        .stderr_has("team-x.rhai:7:42: scenario `default`: setup `run:pool-failovr`: no runbook named `pool-failovr`");
}

#[test]
fn an_expectation_outside_the_lab_state_is_found() {
    let db = Db::new();
    let text =
        header("expect: #{ \"/lync/persistent_chat/pchat.litwareinc.com/stat\": \"Normal\" }")
            + "log(\"x\");\n";
    check(&db, &text)
        .code(2)
        .stderr_has("team-x.rhai:7:45: scenario `default`: expect `/lync/persistent_chat/pchat.litwareinc.com/stat`: `/lync/persistent_chat/pchat.litwareinc.com` has no `stat`; did you mean `state`?");
}

#[test]
fn a_decision_nothing_asks_is_found() {
    let db = Db::new();
    let text = header("decisions: #{ \"log-chain-gab\": \"abort\" }") + "log(\"x\");\n";
    check(&db, &text)
        .code(2)
        .stderr_has("team-x.rhai:7:48: scenario `default`: decision `log-chain-gab` is never asked")
        .stderr_has("did you mean `log-chain-gap`?");
    let asked = header("decisions: #{ \"mine\": \"go\" }")
        + "step(\"a\", || decide(\"mine\", \"go on?\", [\"go\", \"stop\"]));\n";
    check(&db, &asked).ok();
}

#[test]
fn imports_that_do_not_resolve_or_import_themselves_are_found() {
    let db = Db::new();
    let text = header("") + "import \"pols\" as pools;\n";
    check(&db, &text)
        .code(2)
        .stderr_has("team-x.rhai:9:1: import \"pols\" does not resolve")
        .stderr_has("did you mean `pools`?");
    db.write(
        "team/stdlib/loop.rhai",
        "import \"loop\" as me;\nfn f() { 1 }\n",
    );
    let text = header("") + "import \"loop\" as l;\n";
    check(&db, &text)
        .code(2)
        .stderr_has("loop.rhai:1:1: module \"loop\" imports itself (imported at ")
        .stderr_has("team-x.rhai:9:1)");
}
