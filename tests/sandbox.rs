//! The Rhai sandbox: runaway scripts stop, `eval` does not exist, and imports
//! resolve only from the stdlib.

mod common;
use common::Db;

#[test]
fn runaway_loop_is_stopped_by_the_operation_limit() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.local_runbook("spin", "step(\"spin\", || { loop { } });");
    db.run(&["run", &rb]).code(1).stderr_has("runaway loop");
}

#[test]
fn runaway_recursion_is_stopped_by_the_call_depth_limit() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.local_runbook("deep", "fn f(n) { f(n + 1) }\nstep(\"deep\", || f(0));");
    db.run(&["run", &rb]).code(1).stderr_has("deep");
}

#[test]
fn eval_is_disabled() {
    let db = Db::new();
    let rb = db.local_runbook("ev", "step(\"x\", || eval(\"1 + 1\"));");
    db.run(&["check", &rb])
        .code(2)
        .stderr_has("'eval' is disabled");
}

#[test]
fn imports_resolve_only_from_the_stdlib() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    db.write("secret.rhai", "fn leak() { 42 }\n");
    let rb = db.local_runbook(
        "imp",
        "import \"../secret\" as s;\nstep(\"x\", || s::leak());",
    );
    db.run(&["run", &rb])
        .code(1)
        .stderr_has("Module not found: ../secret");
    let ok = db.local_runbook(
        "imp2",
        "import \"checks\" as c;\nstep(\"x\", || c::same_set([1], [1]));",
    );
    db.run(&["run", &ok]).ok();
}

#[test]
fn local_runbooks_import_their_own_stdlib_folder() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    db.write("mine/stdlib/greet.rhai", "fn hello() { \"hello\" }\n");
    db.write("mine/hi.rhai", "runbook(#{ name: \"hi\", version: \"1.0.0\", summary: \"s\", rto_minutes: 1 });\nimport \"greet\" as g;\nstep(\"greet\", || log(g::hello()));\n");
    db.run(&["--runbooks", "mine", "run", "hi"])
        .ok()
        .stdout_has("hello");
}

#[test]
fn an_import_cycle_is_named_on_run_and_plan() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    db.write(
        "mine/stdlib/selfish.rhai",
        "import \"selfish\" as me;\nfn f() { 1 }\n",
    );
    db.write(
        "mine/stdlib/ping.rhai",
        "import \"pong\" as p;\nfn f() { 1 }\n",
    );
    db.write(
        "mine/stdlib/pong.rhai",
        "import \"ping\" as p;\nfn g() { 1 }\n",
    );
    let header =
        "runbook(#{ name: \"cyc\", version: \"1.0.0\", summary: \"s\", rto_minutes: 1 });\n";
    db.write(
        "mine/cyc.rhai",
        &format!("{header}import \"selfish\" as s;\nstep(\"x\", || s::f());\n"),
    );
    db.write(
        "mine/cyc2.rhai",
        &format!("{header}import \"ping\" as s;\nstep(\"x\", || s::f());\n"),
    );
    for cmd in ["run", "plan"] {
        db.run(&["--runbooks", "mine", cmd, "cyc"])
            .code(1)
            .stderr_has("import cycle: selfish -> selfish");
        db.run(&["--runbooks", "mine", cmd, "cyc2"])
            .code(1)
            .stderr_has("import cycle: ping -> pong -> ping");
    }
}

#[test]
fn waits_and_lab_advances_are_bounded_with_a_clear_error() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let before = db.lab_bytes();
    let rb = db.local_runbook("sleepy", "step(\"nap\", || wait(9223372036854775807));");
    db.run(&["run", &rb])
        .code(1)
        .stderr_has("at most 86400 seconds");
    db.run(&["lab", "advance", "5256000"])
        .code(2)
        .stderr_has("at most 10080 minutes");
    // Past its last completed step nothing changed: the lab is as it was.
    assert!(db.lab_bytes() == before);
}

#[test]
fn wait_until_is_bounded_like_one_wait() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.local_runbook(
        "patient",
        "step(\"wait\", || wait_until(\"never\", 172800, 86400, || false));",
    );
    db.run(&["run", &rb])
        .code(1)
        .stderr_has("the timeout is at most 86400 seconds");
}

#[test]
fn one_steps_journal_is_bounded_a_loop_of_reads_fails_the_step() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.local_runbook(
        "reader",
        "step(\"first\", || log(\"fine\"));\n\
         step(\"reads\", || { for i in 0..4000 { sql::reachable(\"pcsql-dub1\"); } });\n\
         step(\"never\", || log(\"not reached\"));",
    );
    let limit = 100_000;
    db.run_env(
        &["run", &rb],
        &[("DRILLBOOK_STEP_JOURNAL_MAX_BYTES", &limit.to_string())],
    )
    .code(1)
    .stderr_has("step `reads` failed: it journaled more than 100000 bytes")
    .stderr_has("before it fills the disk");
    let run_id = db.last_run();
    let path = db.home().join("runs").join(format!("{run_id}.jsonl"));
    let size = std::fs::metadata(path).unwrap().len();
    assert!(size < 2 * limit, "journal of {size} bytes");
    let journal = db.journal(&run_id);
    let failed = journal
        .iter()
        .find(|r| r["type"] == "step_failed")
        .expect("the step is journaled as failed");
    assert_eq!(failed["name"], "reads");
    assert!(!journal.iter().any(|r| r["name"] == "never"));
}
