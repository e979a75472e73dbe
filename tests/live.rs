//! The live target end to end, against the lab served as a protocol twin:
//! `lab serve` answers TDS for every lab SQL instance and writes a live
//! estate whose shell is the `lab pwsh` stand-in, so `run --target live`
//! drives tiberius and the PowerShell runner for real.

mod common;
use common::{without_clock, Db, Out, TWIN_PASSWORD};
use serde_json::Value;
use std::time::{Duration, Instant};

const RB: &str = "persistent-chat-failover";

/// Every shipped runbook (`drillbook --json list`), so later ones are covered too.
fn shipped_runbooks() -> Vec<String> {
    let db = Db::new();
    let out = db.run(&["--json", "list"]);
    out.ok();
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["origin"] == "shipped")
        .filter_map(|v| v["name"].as_str().map(str::to_string))
        .collect()
}

/// A runbook's default drill scenario, as `drill` picks it.
struct Scenario {
    runbook: String,
    name: String,
    /// `-p k=v` and `--decision k=v`, for `run`.
    args: Vec<String>,
}

fn default_scenario(runbook: &str) -> Scenario {
    let db = Db::new();
    let out = db.run(&["--json", "show", runbook]);
    out.ok();
    let show: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let scenarios = show["header"]["scenarios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let s = scenarios
        .iter()
        .find(|s| s["name"] == "default")
        .or_else(|| scenarios.first())
        .unwrap_or_else(|| panic!("{runbook} ships no drill scenario"))
        .clone();
    let mut args = Vec::new();
    for (k, v) in s["params"].as_object().into_iter().flatten() {
        args.push("-p".into());
        args.push(format!("{k}={}", v.as_str().unwrap_or_default()));
    }
    for (k, v) in s["decisions"].as_object().into_iter().flatten() {
        args.push("--decision".into());
        args.push(format!("{k}={}", v.as_str().unwrap_or_default()));
    }
    Scenario {
        runbook: runbook.to_string(),
        name: s["name"].as_str().unwrap_or("default").to_string(),
        args,
    }
}

/// Prepare the lab as the scenario does (lead-in, setup runs, faults).
fn prepare(db: &Db, s: &Scenario) {
    db.run(&[
        "--yes",
        "drill",
        &s.runbook,
        "--scenario",
        &s.name,
        "--prepare",
    ])
    .ok();
}

fn run_args<'a>(runbook: &'a str, s: &'a Scenario) -> Vec<&'a str> {
    let mut args = vec!["--yes", "run", runbook];
    args.extend(s.args.iter().map(String::as_str));
    args
}

/// The end state `--target lab` reaches from the scenario.
fn lab_end_state(runbook: &str, s: &Scenario) -> Value {
    let db = Db::new();
    prepare(&db, s);
    db.run(&run_args(runbook, s)).ok();
    db.lab()
}

/// Run `runbook`'s default scenario live against a twin served with
/// `serve_args`, and check it ends where `--target lab` does.
fn same_end_state_live(runbook: &str, serve_args: &[&str]) -> Vec<serde_json::Value> {
    let s = default_scenario(runbook);
    let expected = lab_end_state(runbook, &s);
    let db = Db::new();
    prepare(&db, &s);
    let twin = db.serve(serve_args, &[]);
    let out = db.run_live(&twin, &run_args(runbook, &s), &[]);
    out.ok().stdout_has("on live (apply)");
    // The same ops in the same order: the lab clock agrees too.
    assert_eq!(
        db.lab(),
        expected,
        "{runbook}: live and lab end states differ ({serve_args:?})"
    );
    let run = db
        .runs()
        .into_iter()
        .rfind(|r| r.contains(&format!("-{runbook}")))
        .unwrap();
    let journal = db.journal(&run);
    assert_eq!(journal[0]["target"], "live", "{}", journal[0]);
    twin.stop();
    journal
}

/// With TLS on for the whole session, as a server that forces encryption
/// does; the twin's certificate is trusted through the estate's ca_file.
#[test]
fn every_shipped_runbook_reaches_the_same_end_state_live_over_tls_as_in_the_lab() {
    let runbooks = shipped_runbooks();
    assert!(runbooks.contains(&RB.to_string()), "{runbooks:?}");
    // The stand-in is as strict as Windows PowerShell 5.1 (tests/strict_pwsh.rs):
    // a cmdlet sent with -Verbose answers with VERBOSE lines, journaled as logs.
    let mut verbose_logged = Vec::new();
    for runbook in &runbooks {
        let journal = same_end_state_live(runbook, &["--encryption", "required"]);
        if journal.iter().any(|r| {
            r["type"] == "log"
                && r["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(": VERBOSE: Performing the operation"))
        }) {
            verbose_logged.push(runbook.clone());
        }
    }
    assert!(
        verbose_logged.contains(&"pool-failover".to_string()),
        "{verbose_logged:?}"
    );
}

/// TLS around the login only (`encryption = "off"`), then clear, as TDS
/// does with a server that has a certificate and does not force it.
#[test]
fn a_run_with_login_only_tls_reaches_the_same_end_state_as_in_the_lab() {
    same_end_state_live(RB, &["--encryption", "off"]);
}

/// Without TLS at all (`not_supported`).
#[test]
fn a_run_without_tls_reaches_the_same_end_state_as_in_the_lab() {
    same_end_state_live(RB, &[]);
}

#[test]
fn the_twins_certificate_is_trusted_through_ca_file_never_silently() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let twin = db.serve(&["--encryption", "required"], &[]);
    let text = std::fs::read_to_string(&twin.estate).unwrap();
    let ca = twin.estate.with_extension("ca.pem");
    assert!(
        text.contains(&format!("ca_file = {:?}", ca.display().to_string())),
        "{text}"
    );
    assert!(std::fs::read_to_string(&ca)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(!text.contains("trust_cert"), "{text}");
    let before = db.lab_bytes();
    // Without ca_file the twin's certificate is checked against the
    // system's roots, and refused.
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("ca_file ="))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&twin.estate, without).unwrap();
    let out = db.run_live(&twin, &["--yes", "run", "estate-check"], &[]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    out.stderr_has("TLS failed").stderr_has("set ca_file");
    assert_eq!(
        db.lab_bytes(),
        before,
        "a refused connection changed the lab"
    );
    twin.stop();
}

#[test]
fn a_plan_over_live_reads_for_real_and_changes_nothing() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&[], &[]);
    let before = db.lab_bytes();
    let out = db.run_live(&twin, &["plan", RB], &[]);
    // Changes are modeled, reads are real: the plan lists the changes up to
    // the first step that reads back a change that was never made.
    out.stdout_has("on dry-run(live) (plan)")
        .stdout_has("would change on pcsql-dub1: DECLARE @rc int; EXEC @rc = master.dbo.sp_delete_log_shipping_secondary_database")
        .stdout_has("would change on pcsql-dub1: KILL 61;");
    // Reads went to the twin, read-only: not even its clock moved.
    assert!(db.lab_bytes() == before, "the plan changed the twin's lab");
}

#[test]
fn a_plan_of_every_shipped_runbook_leaves_the_twin_byte_identical() {
    // Waits (pool-failback waits for the Backup Service) are modeled, never
    // sent; reads log in with ApplicationIntent=ReadOnly and move nothing.
    for runbook in shipped_runbooks() {
        let s = default_scenario(&runbook);
        let db = Db::new();
        prepare(&db, &s);
        let twin = db.serve(&[], &[]);
        let before = db.lab_bytes();
        let mut args = run_args(&runbook, &s);
        args[1] = "plan";
        let out = db.run_live(&twin, &args, &[]);
        assert!(out.code == 0 || out.code == 1, "{runbook}: {out:?}");
        assert!(
            db.lab_bytes() == before,
            "{runbook}: the plan changed the twin's lab: {:?}",
            common::differences(
                &serde_json::from_slice::<Value>(&before).unwrap(),
                &db.lab()
            )
        );
        twin.stop();
    }
}

fn failed_step(out: &Out, step: &str) {
    out.code(1).stderr_has(&format!("step `{step}` failed"));
}

#[test]
fn a_wrong_password_names_the_instance_and_login_never_the_password() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&[], &[]);
    let wrong = "Wr0ng-pa55word";
    let out = db.run_live(
        &twin,
        &["run", RB],
        &[("DRILLBOOK_LAB_SQL_PASSWORD", wrong)],
    );
    // The lost primary site refuses connections; the backup refuses the login.
    failed_step(&out, "check: mgc is RESTORING on the backup instance");
    out.stderr_has("18456")
        .stderr_has("Login failed for user 'drillbook'")
        .stderr_has("pcsql-dub1.litwareinc.com\\pchat")
        .stderr_has("login drillbook");
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(wrong) && !text.contains(TWIN_PASSWORD));
    }
    // A missing password stops before the first op, naming where it should be.
    let out = db.run_env(
        &["run", RB, "--target", "live", "--estate", twin.estate_arg()],
        &[],
    );
    out.code(2)
        .stderr_has("DRILLBOOK_LAB_SQL_PASSWORD is not set")
        .stderr_has("login \"drillbook\"");
}

#[test]
fn connection_refused_fails_the_step_and_the_run_resumes_once_the_twin_is_back() {
    let expected = lab_end_state(RB, &default_scenario(RB));
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&[], &[]);
    let estate = twin.estate.clone();
    let live_toml = std::fs::read_to_string(&estate).unwrap();
    twin.kill();
    // The twin is gone but its estate file is still there: every port refuses.
    std::fs::write(&estate, &live_toml).unwrap();
    let out = db.run_env(
        &[
            "run",
            RB,
            "--target",
            "live",
            "--estate",
            estate.to_str().unwrap(),
        ],
        &[("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)],
    );
    failed_step(&out, "check: mgc is RESTORING on the backup instance");
    out.stderr_has("does not answer");
    let run_id = db.last_run();
    let refused = db
        .journal(&run_id)
        .into_iter()
        .find(|r| r["type"] == "op_done" && r["error"]["kind"] == "unreachable")
        .expect("an unreachable op");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot connect to 127.0.0.1:"),
        "{refused}"
    );

    // The new twin listens on new ports: its estate file changed, and a
    // resume says so until the operator allows it.
    let twin = db.serve(&[], &[]);
    let env = [("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)];
    db.run_env(&["resume", &run_id], &env)
        .code(2)
        .stderr_has("changed since the run started");
    let out = db.run_env(&["resume", &run_id, "--allow-changed"], &env);
    out.ok();
    assert_eq!(without_clock(&db.lab()), without_clock(&expected));
    twin.stop();
}

#[test]
fn a_command_timeout_fails_the_step_and_the_run_resumes_once_the_twin_answers() {
    let expected = lab_end_state(RB, &default_scenario(RB));
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(
        &["--command-timeout-seconds", "3"],
        // A hung server: a read that never answers (no progress to show).
        &[("DRILLBOOK_LAB_STALL", "RESTORE HEADERONLY:60")],
    );
    let started = Instant::now();
    let out = db.run_live(&twin, &["run", RB], &[]);
    assert!(started.elapsed() < Duration::from_secs(30));
    failed_step(&out, "restore unapplied log backups in LSN order");
    out.stderr_has("no answer within 3 s");
    let run_id = db.last_run();
    // The stalled twin never performed the restore; a fresh one will.
    twin.kill();
    // New ports, so a changed estate file: the operator allows it.
    let twin = db.serve(&[], &[]);
    db.run_env(
        &["resume", &run_id, "--allow-changed"],
        &[("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)],
    )
    .ok();
    assert_eq!(without_clock(&db.lab()), without_clock(&expected));
    twin.stop();
}

#[test]
fn a_stalled_cmdlet_is_killed_at_the_timeout_and_the_run_resumes() {
    let expected = lab_end_state(RB, &default_scenario(RB));
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&["--shell-timeout-seconds", "3"], &[]);
    let started = Instant::now();
    let out = db.run_live(
        &twin,
        &["run", RB],
        &[("DRILLBOOK_LAB_STALL", "Set-CsPersistentChatState:60")],
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the stalled stand-in was not killed: {:?}",
        started.elapsed()
    );
    failed_step(&out, "fail Persistent Chat over");
    out.stderr_has("Set-CsPersistentChatState failed: timed out after 3 s")
        .stderr_has("was killed");
    assert_eq!(
        db.lab()["lync"]["persistent_chat"]["pchat.litwareinc.com"]["state"],
        "Normal"
    );
    db.run_env(
        &["resume", &db.last_run()],
        &[("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)],
    )
    .ok();
    assert_eq!(without_clock(&db.lab()), without_clock(&expected));
    twin.stop();
}

#[test]
fn a_value_that_cannot_be_quoted_is_refused_before_any_op_reaches_the_twin() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&[], &[]);
    let rb = db.write(
        "nul.rhai",
        "runbook(#{ name: \"nul\", version: \"1.0.0\", summary: \"s\", rto_minutes: 1 });\n\
         step(\"read\", || sql::database_state(#{ instance: \"pcsql-dub1\", database: \"mgc\\x00; DROP DATABASE mgc\" }));\n",
    );
    let before = db.lab_bytes();
    db.run_live(&twin, &["run", rb.to_str().unwrap()], &[])
        .code(2)
        .stderr_has("NUL character")
        .stderr_has("nothing was sent");
    assert_eq!(db.lab_bytes(), before, "an op reached the twin");
}

#[test]
fn lab_serve_stops_when_its_estate_file_is_deleted() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let twin = db.serve(&[], &[]);
    let served = std::fs::read_to_string(&twin.stdout).unwrap();
    assert!(served.contains("pcsql-dub1: 127.0.0.1:"), "{served}");
    let started = Instant::now();
    twin.stop();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_slow_restore_shows_progress_polled_on_a_second_connection() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&[], &[("DRILLBOOK_LAB_STALL", "RESTORE LOG:1.5")]);
    let out = db.run_live(&twin, &["--yes", "run", RB], &[]);
    // No terminal: the progress the poller read is logged on stderr.
    out.ok().stderr_has(
        "% RESTORE LOG [mgc] FROM DISK = N'\\\\pcsql-dub1.litwareinc.com\\lscopy\\mgc_",
    );
    twin.stop();
}

#[test]
fn an_estate_path_with_a_newline_stays_inside_the_generated_comment() {
    let db = Db::new();
    let estate = db.write("odd\nmalicious = 1\n.toml", &common::builtin_estate());
    let estate = estate.to_str().unwrap();
    db.run(&["lab", "init", "--estate", estate]).ok();
    let twin = db.serve(&["--estate", estate], &[]);
    let text = std::fs::read_to_string(&twin.estate).unwrap();
    assert!(
        !text.lines().any(|l| l.starts_with("malicious")),
        "the path became TOML:\n{text}"
    );
    db.run_live(&twin, &["plan", RB], &[])
        .stdout_has("on dry-run(live)");
    twin.stop();
}

#[test]
fn a_resume_right_after_kill_waits_for_the_dead_runs_statement_still_on_the_server() {
    let expected = lab_end_state(RB, &default_scenario(RB));
    let db = Db::new();
    db.lab_after_disaster(&[]);
    // The twin takes 15 s over removing log shipping, as a busy server might
    // (long enough that a resume started on a loaded machine still meets it).
    let twin = db.serve(
        &[],
        &[(
            "DRILLBOOK_LAB_STALL",
            "DECLARE @rc int; EXEC @rc = master.dbo.sp_delete_log_shipping_secondary_database:15",
        )],
    );
    let mut child = db.spawn(
        &["run", RB, "--target", "live", "--estate", twin.estate_arg()],
        &[("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)],
    );
    // Kill it once the change is on its way: its session is journaled.
    let started = Instant::now();
    let run_id = loop {
        let sent = db
            .runs()
            .into_iter()
            .find(|r| db.journal(r).iter().any(|rec| rec["type"] == "op_session"));
        if let Some(run) = sent {
            break run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no change was sent"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let session = db
        .journal(&run_id)
        .into_iter()
        .find(|r| r["type"] == "op_session")
        .unwrap();
    assert_eq!(session["session"]["instance"], "pcsql-dub1", "{session}");
    // Resume at once, while the dead run's statement still runs.
    db.run_env(
        &["resume", &run_id],
        &[("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)],
    )
    .ok();
    let spid = session["session"]["spid"].as_i64().unwrap();
    let told = format!("session {spid} on pcsql-dub1, which the interrupted attempt sent its change on, is still running");
    assert!(
        db.journal(&run_id)
            .iter()
            .any(|r| r["type"] == "log"
                && r["message"].as_str().is_some_and(|m| m.starts_with(&told))),
        "the wait was not journaled"
    );
    assert_eq!(without_clock(&db.lab()), without_clock(&expected));
    twin.stop();
}

/// `lab serve --browser`: named instances without a port, found through
/// the twin's SQL Browser (SSRP over UDP) as against a real server.
#[test]
fn named_instances_without_a_port_are_found_through_sql_browser() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let twin = db.serve(&["--browser", "--encryption", "required"], &[]);
    let text = std::fs::read_to_string(&twin.estate).unwrap();
    let red1 = text
        .split("[sql.pcsql-red1]")
        .nth(1)
        .and_then(|t| t.split("\n[").next())
        .unwrap()
        .to_string();
    assert!(red1.contains("browser_port = "), "{red1}");
    assert!(!red1.contains("\nport = "), "{red1}");
    let out = db.run_live(&twin, &["--yes", "run", "estate-check"], &[]);
    out.ok().stdout_has("succeeded");

    // A SQL Browser that does not answer is not a lost server: the
    // instance is unchecked, and the run says which setting to give.
    let before = db.lab_bytes();
    let closed = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let edited: String = text
        .lines()
        .map(|l| match l.starts_with("browser_port = ") {
            true => format!("browser_port = {closed}\n"),
            false => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&twin.estate, edited).unwrap();
    let out = db.run_live(&twin, &["--yes", "run", "estate-check"], &[]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    out.stderr_has("the SQL Browser lookup failed")
        .stderr_has(&format!("via SQL Browser on UDP {closed}"))
        .stderr_has("set port in [sql.");
    assert_eq!(db.lab_bytes(), before);
    twin.stop();
}

/// The built-in estate with the Dublin Persistent Chat backup on SQL
/// Server 2008 R2, whose catalog has no `sys.dm_exec_sessions.database_id`.
fn estate_with_2008_r2_backup(db: &Db) -> String {
    let text = common::builtin_estate().replace(
        "[sql.pcsql-dub1]\n",
        "[sql.pcsql-dub1]\nversion = \"2008 R2\"\n",
    );
    assert!(text.contains("version = \"2008 R2\""));
    db.write("estate-2008r2.toml", &text)
        .to_str()
        .unwrap()
        .to_string()
}

/// Ending the connections to mgc on a 2008 R2 backup: the same end state
/// live as in the lab (the twin refuses what a 2008 R2 server refuses).
#[test]
fn a_failover_to_a_sql_2008_r2_backup_ends_its_sessions_as_in_the_lab() {
    let lab_run = |db: &Db, estate: &str| {
        db.run(&["lab", "init", "--estate", estate]).ok();
        db.run(&["lab", "advance", "44"]).ok();
        // The CMS fails over first, as every chat failover needs (PROCEDURES.md §2).
        db.run(&["lab", "fault", "cms-away-from:redmond", "primary-site-down"])
            .ok();
    };
    let lab = Db::new();
    let estate = estate_with_2008_r2_backup(&lab);
    lab_run(&lab, &estate);
    lab.run(&["--yes", "run", RB, "--estate", &estate]).ok();

    let db = Db::new();
    let estate = estate_with_2008_r2_backup(&db);
    lab_run(&db, &estate);
    let twin = db.serve(&["--estate", &estate], &[]);
    let out = db.run_live(&twin, &["--yes", "run", RB], &[]);
    out.ok().stdout_has("end connections to mgc");
    assert_eq!(without_clock(&db.lab()), without_clock(&lab.lab()));
    twin.stop();
}

/// A pooled connection the server dropped (here: after each answer, with
/// `DRILLBOOK_LAB_DROP_AFTER=1`) is not a lost server: a read is asked again
/// once on a new connection, and the plan reads what it would have read.
#[test]
fn a_read_on_a_dropped_pooled_connection_is_asked_again_once() {
    let plan = |drop: &[(&str, &str)]| {
        let db = Db::new();
        db.lab_after_disaster(&[]);
        let twin = db.serve(&[], drop);
        let before = db.lab_bytes();
        // A plan stops where the runbook reads back a change it did not
        // make; what it read until then is what matters here.
        let out = db.run_live(&twin, &["plan", RB], &[]);
        assert_eq!(db.lab_bytes(), before, "the plan changed the twin");
        twin.stop();
        out.stdout
            .lines()
            .filter(|l| !l.contains(" wall") && !l.starts_with("run ") && !l.contains("KILL"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(plan(&[("DRILLBOOK_LAB_DROP_AFTER", "1")]), plan(&[]));
}

/// A RESTORE longer than command_timeout_seconds is not a lost server while
/// it says how far it is: sent WITH STATS, its "N percent processed." INFO
/// messages keep the connection alive, and the run ends as in the lab.
#[test]
fn a_restore_longer_than_the_command_timeout_is_judged_by_its_progress() {
    let expected = lab_end_state(RB, &default_scenario(RB));
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(
        &["--command-timeout-seconds", "2"],
        &[("DRILLBOOK_LAB_STALL", "RESTORE LOG:5")],
    );
    let out = db.run_live(&twin, &["--yes", "run", RB], &[]);
    out.ok();
    assert_eq!(without_clock(&db.lab()), without_clock(&expected));
    twin.stop();
}

/// Windows PowerShell reads a script on stdin in the OEM code page (the
/// stand-in: code page 437): `Set-CsSite -Identity 'zürich'` sent as UTF-8
/// would name a site `z├╝rich`. Rendered as `('z'+[char]0x00FC+'rich')`,
/// the name arrives intact, and comes back intact in Get-CsSite's JSON.
#[test]
fn a_non_ascii_site_name_reaches_the_shell_and_comes_back_intact() {
    let db = Db::new();
    let estate = common::estate_with_zurich(&db);
    let rb = "edge-xmpp-failover";
    db.run(&[
        "--yes",
        "drill",
        rb,
        "--scenario",
        "default",
        "--prepare",
        "--estate",
        &estate,
    ])
    .ok();
    let twin = db.serve(&["--estate", &estate], &[]);
    let out = db.run_live(
        &twin,
        &[
            "--yes",
            "run",
            rb,
            "-p",
            "edge_pool=edge-dub.litwareinc.com",
        ],
        &[],
    );
    out.ok()
        .stdout_has("Set-CsSite -Identity ('z'+[char]0x00FC+'rich')");
    assert_eq!(
        db.lab()["lync"]["xmpp_route"],
        serde_json::json!({"site": "zürich", "edge_pool": "edge-dub.litwareinc.com"})
    );
    let run = db.runs().into_iter().rfind(|r| r.ends_with(rb)).unwrap();
    let sites: Vec<Value> = db
        .journal(&run)
        .into_iter()
        .filter(|r| r["type"] == "op_done")
        .filter_map(|r| r["result"]["Identity"].as_str().map(Value::from))
        .collect();
    assert!(
        !sites.is_empty() && sites.iter().all(|s| s == "Site:zürich"),
        "{sites:?}"
    );
    twin.stop();
}

/// Before an op that may wait is sent, what the run journaled before it is
/// in the journal file (docs/architecture.md, "What is durable when"): a
/// run killed while a live read hangs keeps the step's start and the read
/// it was waiting on, so the journal shows where it stood.
#[test]
fn a_run_killed_while_a_live_read_hangs_keeps_that_read_in_its_journal() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&[], &[("DRILLBOOK_LAB_STALL", "RESTORE HEADERONLY:60")]);
    let mut child = db.spawn_live(&twin, &["--yes", "run", RB], &[]);
    let hanging = |r: &Value| {
        r["type"] == "op_started"
            && r["text"]
                .as_str()
                .is_some_and(|t| t.contains("RESTORE HEADERONLY"))
    };
    let started = Instant::now();
    let mut journal = Vec::new();
    while started.elapsed() < Duration::from_secs(40) {
        if let Some(run) = db.runs().into_iter().rfind(|r| r.ends_with(RB)) {
            journal = db.journal(&run);
            if journal.iter().any(hanging) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    twin.kill();
    let at = journal.iter().position(hanging);
    assert!(
        at.is_some(),
        "the hanging read is not in the journal: {journal:#?}"
    );
    assert!(
        journal[..at.unwrap()]
            .iter()
            .rev()
            .find(|r| r["type"] == "step_started")
            .is_some_and(|r| r["name"] == "restore unapplied log backups in LSN order"),
        "the read's step start is not in the journal before it"
    );
}
