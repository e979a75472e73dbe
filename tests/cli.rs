//! list, show, check, journal and lab commands.

mod common;
use common::Db;

const RB: &str = "persistent-chat-failover";

#[test]
fn list_shows_shipped_runbooks_with_versions_from_any_directory() {
    let db = Db::new();
    let out = db.run(&["list"]);
    out.ok().stdout_has("16 runbooks");
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("persistent-chat-failover "))
        .expect("listed");
    assert!(line.contains(" 1.3.0 "), "{line}");
}

#[test]
fn list_includes_local_runbooks() {
    let db = Db::new();
    db.write("mine/hello.rhai", "runbook(#{ name: \"hello\", version: \"0.1.0\", summary: \"says hello\", rto_minutes: 1 });\nstep(\"greet\", || log(\"hello\"));\n");
    db.run(&["--runbooks", "mine", "list"])
        .ok()
        .stdout_has("hello")
        .stdout_has("0.1.0");
}

#[test]
fn show_lists_parameters_scenarios_and_steps_in_order() {
    let db = Db::new();
    let out = db.run(&["show", RB]);
    out.ok()
        .stdout_has("pool (persistent_chat_pool)")
        .stdout_has("missing-log-backup");
    let i = out
        .stdout
        .find("remove log shipping from the backup mgc")
        .unwrap();
    let j = out.stdout.find("bring mgc online").unwrap();
    assert!(i < j);
}

#[test]
fn check_passes_on_shipped_runbooks() {
    let db = Db::new();
    db.run(&["check", RB]).ok().stdout_has("ok");
}

#[test]
fn check_reports_duplicate_step_names() {
    let db = Db::new();
    let p = db.write("dup.rhai", "runbook(#{ name: \"dup\", version: \"1.0.0\", summary: \"s\", rto_minutes: 1 });\nstep(\"a\", || 1);\nstep(\"a\", || 2);\n");
    db.run(&["check", p.to_str().unwrap()])
        .code(2)
        .stderr_has("dup.rhai:3: step `a` is also named at line 2");
}

#[test]
fn journal_lists_runs_and_shows_ops() {
    let db = Db::new();
    db.run(&["drill", RB]).ok();
    let run_id = db.last_run();
    db.run(&["journal"])
        .ok()
        .stdout_has(&run_id)
        .stdout_has("succeeded");
    db.run(&["journal", &run_id])
        .ok()
        .stdout_has("RESTORE DATABASE [mgc] WITH RECOVERY;")
        .stdout_has("by test-operator");
}

#[test]
fn lab_show_json_has_the_documented_shape() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let lab = db.lab();
    assert!(lab["clock"].is_object());
    assert_eq!(lab["sql"]["pcsql-red1"]["site"], "redmond");
    assert_eq!(lab["sql"]["pcsql-red1"]["up"], true);
    assert_eq!(
        lab["sql"]["pcsql-red1"]["databases"]["mgc"]["state"],
        "ONLINE"
    );
    assert_eq!(
        lab["sql"]["pcsql-red1"]["databases"]["mgc"]["mirroring"]["role"],
        "PRINCIPAL"
    );
    assert_eq!(
        lab["sql"]["pcsql-red1"]["databases"]["mgc"]["mirroring"]["witness"],
        "pcsql-redw"
    );
    assert_eq!(
        lab["sql"]["pcsql-dub1"]["databases"]["mgc"]["state"],
        "RESTORING"
    );
    assert!(lab["sql"]["pcsql-dub1"]["databases"]["mgc"]["mirroring"].is_null());
    assert_eq!(
        lab["lync"]["persistent_chat"]["pchat.litwareinc.com"]["state"],
        "Normal"
    );
    assert_eq!(
        lab["servers"]["pchat-dub1.litwareinc.com"]["site"],
        "dublin"
    );
}

#[test]
fn lab_fault_is_all_or_nothing() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let before = db.lab_bytes();
    db.run(&[
        "lab",
        "fault",
        "instance-down:pcsql-red1",
        "instance-down:nosuch",
    ])
    .code(2);
    assert_eq!(db.lab_bytes(), before);
}

#[test]
fn json_errors_are_one_event_line() {
    let db = Db::new();
    let out = db.run(&["--json", "run", "nope"]);
    out.code(2);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["event"], "error");
    assert_eq!(v["kind"], "unknown_runbook");
    assert_eq!(v["exit_code"], 2);
}

#[test]
fn runbook_index_lists_every_shipped_runbook_with_its_version() {
    let db = Db::new();
    let index = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/README.md"),
    )
    .unwrap();
    let out = db.run(&["--json", "list"]);
    out.ok();
    for line in out.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let row = format!(
            "| [{0}]({0}.rhai) | {1} |",
            v["name"].as_str().unwrap(),
            v["version"].as_str().unwrap()
        );
        assert!(index.contains(&row), "runbooks/README.md lacks {row}");
    }
}

#[test]
fn api_reference_lists_primitives_namespaces_and_stdlib() {
    let db = Db::new();
    db.run(&["api"])
        .ok()
        .stdout_has("step(name: string, opts: map, body: Fn) -> any")
        .stdout_has("sql::query(")
        .stdout_has("lync::cmdlet(")
        .stdout_has("checks::active_servers_for(pc, site, requested)");
}

/// Every command that prints, with its stdout a pipe nobody reads any more:
/// it ends quietly (exit 0), never with a panic.
#[test]
fn no_command_panics_on_a_closed_pipe() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    for args in [
        vec!["lab", "show", "--json"],
        vec!["lab", "show"],
        vec!["api"],
        vec!["list"],
        vec!["show", "pool-failover"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_drillbook"))
            .args(&args)
            .env("DRILLBOOK_HOME", db.home())
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
