//! Passwords never leave the `Secret` they are read into: a run of every
//! shipped runbook against the lab twin with a canary password — and a run
//! with a wrong canary password — leaves the canaries in no journal, log,
//! lab file, estate file, standard output or error output.

mod common;
use common::{Db, Out};
use serde_json::Value;
use std::path::Path;

const CANARY: &str = "CANARY-7f3a9c1e-pa55";
const WRONG_CANARY: &str = "CANARY-wrong-0b2d44";

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let text = String::from_utf8_lossy(&bytes);
                if text.contains(needle) {
                    hits.push(path.display().to_string());
                }
            }
        }
    }
    hits
}

fn clean(out: &Out, what: &str) {
    for canary in [CANARY, WRONG_CANARY] {
        assert!(
            !out.stdout.contains(canary) && !out.stderr.contains(canary),
            "{what} printed a password:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn a_canary_password_appears_in_no_journal_log_lab_file_or_output() {
    let db = Db::new();
    let list = db.run(&["--json", "list"]);
    let runbooks: Vec<String> = list
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["origin"] == "shipped")
        .filter_map(|v| v["name"].as_str().map(str::to_string))
        .collect();
    assert!(!runbooks.is_empty());
    let mut outputs = Vec::new();
    for runbook in &runbooks {
        let scenario = db.prepare_default(runbook);
        let twin = db.serve(&[], &[("DRILLBOOK_LAB_SQL_PASSWORD", CANARY)]);
        let live = ["--target", "live", "--estate", twin.estate_arg()];
        let with = |args: &[&str], pw: &str| {
            let mut all = args.to_vec();
            all.extend(scenario.iter().map(String::as_str));
            all.extend(live);
            db.run_env(&all, &[("DRILLBOOK_LAB_SQL_PASSWORD", pw)])
        };
        // Runbooks whose first op is SQL fail at the login; the others fail
        // later or not at all. Either way the password must not show.
        let wrong = with(&["--json", "--yes", "run", runbook], WRONG_CANARY);
        if runbook == "persistent-chat-failover" {
            wrong.code(1).stdout_has("18456");
        }
        outputs.push((format!("{runbook} with a wrong password"), wrong));
        db.prepare_default(runbook);
        let plan = with(&["plan", runbook], CANARY);
        outputs.push((format!("plan {runbook}"), plan));
        let run = with(&["--yes", "--verbose", "run", runbook], CANARY);
        run.ok();
        outputs.push((format!("run {runbook}"), run));
        let journal = db.run(&["journal", &db.last_run()]);
        outputs.push(("journal".into(), journal));
        twin.stop();
    }
    outputs.push(("lab show".into(), db.run(&["lab", "show", "--json"])));
    for (what, out) in &outputs {
        clean(out, what);
    }
    // Journals, locks, the lab file, the live estate, the twin's own output.
    for canary in [CANARY, WRONG_CANARY] {
        assert_eq!(
            files_containing(db.dir.path(), canary),
            Vec::<String>::new(),
            "files hold a password"
        );
    }
}

#[test]
fn a_credentials_file_others_can_read_is_refused_before_any_op() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&[], &[("DRILLBOOK_LAB_SQL_PASSWORD", CANARY)]);
    let pw = db.write("sql.pw", &format!("{CANARY}\n"));
    let estate = std::fs::read_to_string(&twin.estate).unwrap().replace(
        "password_env = \"DRILLBOOK_LAB_SQL_PASSWORD\"",
        &format!("credentials_file = {:?}", pw.to_str().unwrap()),
    );
    let estate_path = db.write("from-file.toml", &estate);
    let estate_arg = estate_path.to_str().unwrap();
    #[cfg(unix)]
    {
        let args = [
            "run",
            "persistent-chat-failover",
            "--target",
            "live",
            "--estate",
            estate_arg,
        ];
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
        let before = db.lab_bytes();
        let out = db.run(&args);
        out.code(2).stderr_has("mode 0644").stderr_has("chmod 600");
        clean(&out, "a refused credentials file");
        assert_eq!(db.lab_bytes(), before);
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = db.run(&[
        "--yes",
        "run",
        "persistent-chat-failover",
        "--target",
        "live",
        "--estate",
        estate_arg,
    ]);
    out.ok();
    clean(&out, "a run with a credentials file");
}

#[cfg(unix)]
#[test]
fn the_management_shell_starts_without_the_sql_password_variable() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&[], &[("DRILLBOOK_LAB_SQL_PASSWORD", CANARY)]);
    // The shell: a wrapper that records its environment, then the stand-in.
    let dump = db.path("shell-env.txt");
    let wrapper = format!("env >> {:?}; exec \"$@\"", dump.to_str().unwrap());
    let estate = std::fs::read_to_string(&twin.estate).unwrap().replacen(
        "shell = [",
        &format!("shell = [\"sh\", \"-c\", {wrapper:?}, \"sh\", "),
        1,
    );
    let estate_path = db.write("wrapped.toml", &estate);
    let out = db.run_env(
        &[
            "--yes",
            "run",
            "persistent-chat-failover",
            "--target",
            "live",
            "--estate",
            estate_path.to_str().unwrap(),
        ],
        &[
            ("DRILLBOOK_LAB_SQL_PASSWORD", CANARY),
            ("SOME_OTHER_SECRET", CANARY),
        ],
    );
    out.ok();
    let env = std::fs::read_to_string(&dump).expect("the shell ran");
    assert!(env.contains("PATH="), "{env}");
    assert!(
        !env.contains(CANARY),
        "the shell inherited a secret:\n{env}"
    );
    assert!(!env.contains("DRILLBOOK_LAB_SQL_PASSWORD"), "{env}");
}
