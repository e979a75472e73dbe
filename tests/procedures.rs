//! Every shipped runbook: each scenario drills to its expected end state,
//! `plan` leaves the lab byte-identical, and a crash after any op followed
//! by `resume` reaches the same end state as an uninterrupted run.

mod common;
use common::{without_clock, Db};
use serde_json::Value;

/// Every shipped runbook; `every_shipped_runbook_is_covered` keeps it complete.
const RUNBOOKS: [&str; 16] = [
    "backup-service-config-monitor",
    "be-mirror-failback",
    "be-mirror-failover",
    "be-mirror-install",
    "cms-failover",
    "conference-content-restore",
    "edge-federation-failback",
    "edge-sip-federation-failover",
    "edge-xmpp-failover",
    "estate-check",
    "fe-edge-association-change",
    "persistent-chat-failback",
    "persistent-chat-failover",
    "persistent-chat-logshipping-setup",
    "pool-failback",
    "pool-failover",
];

fn header(db: &Db, rb: &str) -> Value {
    let out = db.run(&["--json", "show", rb]);
    out.ok();
    serde_json::from_str::<Value>(&out.stdout).unwrap()["header"].clone()
}

/// `-p k=v` and `--decision k=v` arguments of a scenario, for `run` and `plan`.
fn scenario_args(scenario: &Value) -> Vec<String> {
    let mut args = Vec::new();
    for (k, v) in scenario["params"].as_object().into_iter().flatten() {
        args.push("-p".to_string());
        args.push(format!("{k}={}", v.as_str().unwrap()));
    }
    for (k, v) in scenario["decisions"].as_object().into_iter().flatten() {
        args.push("--decision".to_string());
        args.push(format!("{k}={}", v.as_str().unwrap()));
    }
    args
}

fn default_scenario(h: &Value) -> Value {
    let all = h["scenarios"].as_array().unwrap();
    all.iter()
        .find(|s| s["name"] == "default")
        .unwrap_or(&all[0])
        .clone()
}

fn prepare(db: &Db, rb: &str, scenario: &Value) {
    db.run(&[
        "drill",
        rb,
        "--scenario",
        scenario["name"].as_str().unwrap(),
        "--prepare",
    ])
    .ok();
}

/// The newest run of this runbook (setup runs of other runbooks aside).
fn last_run_of(db: &Db, rb: &str) -> String {
    db.runs()
        .into_iter()
        .rfind(|r| r.contains(&format!("-{rb}")))
        .expect("a run of the runbook")
}

fn run_main(db: &Db, rb: &str, args: &[String], env: &[(&str, &str)]) -> common::Out {
    let mut full: Vec<&str> = vec!["--yes", "run", rb];
    full.extend(args.iter().map(String::as_str));
    db.run_env(&full, env)
}

fn every_scenario_drills(rb: &str) {
    let db = Db::new();
    let h = header(&db, rb);
    let scenarios = h["scenarios"].as_array().unwrap();
    assert!(!scenarios.is_empty(), "{rb} ships no scenario");
    for s in scenarios {
        let db = Db::new();
        let name = s["name"].as_str().unwrap();
        let out = db.run(&["--yes", "drill", rb, "--scenario", name]);
        assert_eq!(
            out.code, 0,
            "{rb} · {name} failed\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        );
    }
}

fn plan_changes_nothing(rb: &str) {
    let db = Db::new();
    let s = default_scenario(&header(&db, rb));
    prepare(&db, rb, &s);
    let before = db.lab_bytes();
    let runs_before = db.runs();
    let mut args: Vec<String> = vec!["plan".into(), rb.into()];
    args.extend(scenario_args(&s));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = db.run(&args);
    assert_eq!(out.code, 0, "plan {rb}:\n{}\n{}", out.stdout, out.stderr);
    assert_eq!(db.lab_bytes(), before, "plan {rb} changed the lab");
    assert_eq!(db.runs(), runs_before, "plan {rb} wrote a journal");
}

/// The lab state the clock aside: time stamps, and the Backup Service's
/// per-direction status, which is derived from the time since the last sync
/// (a resumed run that repeated a step has simply taken longer).
fn settled(lab: &Value) -> Value {
    let mut v = without_clock(lab);
    if let Some(bs) = v.pointer_mut("/lync/backup_service") {
        if let Some(o) = bs.as_object_mut() {
            o.remove("directions");
        }
    }
    v
}

fn crash_anywhere_then_resume(rb: &str) {
    let reference = Db::new();
    let s = default_scenario(&header(&reference, rb));
    let args = scenario_args(&s);
    prepare(&reference, rb, &s);
    run_main(&reference, rb, &args, &[]).ok();
    let expected = settled(&reference.lab());
    let run_id = last_run_of(&reference, rb);
    let total = reference
        .journal(&run_id)
        .iter()
        .filter(|r| r["type"] == "op_done")
        .count();
    for n in 1..=total {
        let db = Db::new();
        prepare(&db, rb, &s);
        let crashed = run_main(
            &db,
            rb,
            &args,
            &[("DRILLBOOK_ABORT_AFTER_OPS", &n.to_string())],
        );
        assert_ne!(crashed.code, 0, "{rb}: no abort after op {n}");
        let run_id = last_run_of(&db, rb);
        let mut resume: Vec<String> = vec!["--yes".into(), "resume".into(), run_id.clone()];
        for (k, v) in s["decisions"].as_object().into_iter().flatten() {
            resume.push("--decision".into());
            resume.push(format!("{k}={}", v.as_str().unwrap()));
        }
        let resume: Vec<&str> = resume.iter().map(String::as_str).collect();
        let out = db.run(&resume);
        assert_eq!(
            out.code, 0,
            "{rb}: resume after op {n} failed\n{}\n{}",
            out.stdout, out.stderr
        );
        let diff = common::differences(&settled(&db.lab()), &expected);
        assert!(
            diff.is_empty(),
            "{rb}: end state differs after a crash at op {n} (resumed vs uninterrupted):\n{}",
            diff.join("\n")
        );
        let records = db.journal(&run_id);
        let mut completed = std::collections::BTreeSet::new();
        for r in &records {
            match r["type"].as_str().unwrap() {
                "step_completed" => {
                    completed.insert(r["index"].as_u64().unwrap());
                }
                "step_started" => assert!(
                    !completed.contains(&r["index"].as_u64().unwrap()),
                    "{rb}: step ran twice after op {n}: {r}"
                ),
                _ => {}
            }
        }
    }
}

macro_rules! procedure_tests {
    ($($module:ident => $rb:literal),* $(,)?) => {
        $(
            mod $module {
                #[test]
                fn every_scenario_drills() {
                    super::every_scenario_drills($rb);
                }
                #[test]
                fn plan_changes_nothing() {
                    super::plan_changes_nothing($rb);
                }
                #[test]
                fn crash_anywhere_then_resume() {
                    super::crash_anywhere_then_resume($rb);
                }
            }
        )*
    };
}

procedure_tests! {
    backup_service_config_monitor => "backup-service-config-monitor",
    be_mirror_failback => "be-mirror-failback",
    be_mirror_failover => "be-mirror-failover",
    be_mirror_install => "be-mirror-install",
    cms_failover => "cms-failover",
    conference_content_restore => "conference-content-restore",
    edge_federation_failback => "edge-federation-failback",
    edge_sip_federation_failover => "edge-sip-federation-failover",
    edge_xmpp_failover => "edge-xmpp-failover",
    estate_check => "estate-check",
    fe_edge_association_change => "fe-edge-association-change",
    persistent_chat_failback => "persistent-chat-failback",
    persistent_chat_failover => "persistent-chat-failover",
    persistent_chat_logshipping_setup => "persistent-chat-logshipping-setup",
    pool_failback => "pool-failback",
    pool_failover => "pool-failover",
}

#[test]
fn every_shipped_runbook_is_covered() {
    let db = Db::new();
    let out = db.run(&["--json", "list"]);
    out.ok();
    let mut names: Vec<String> = out
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        RUNBOOKS.to_vec(),
        "tests/procedures.rs must list every shipped runbook"
    );
    for rb in RUNBOOKS {
        db.run(&["check", rb]).ok();
    }
}
