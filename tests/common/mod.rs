//! Drives the real `drillbook` binary in a temporary home, like a person at
//! a terminal would (no TTY: confirmations need --yes).

#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Db {
    pub dir: tempfile::TempDir,
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }
}

impl Db {
    pub fn new() -> Db {
        Db {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn run(&self, args: &[&str]) -> Out {
        self.run_env(args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        self.run_in(self.dir.path(), args, env)
    }

    pub fn run_in(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
        self.run_bin(
            Path::new(env!("CARGO_BIN_EXE_drillbook")),
            cwd,
            args,
            env,
            "",
        )
    }

    /// Start drillbook without waiting for it (see [`finish`]).
    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
        self.command(
            Path::new(env!("CARGO_BIN_EXE_drillbook")),
            self.dir.path(),
            args,
            env,
        )
        .stdin(Stdio::null())
        .spawn()
        .expect("run drillbook")
    }

    /// `bin` with `args` in this home, the testing aids cleared unless `env` sets them.
    fn command(&self, bin: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("DRILLBOOK_HOME", self.home())
            .env("DRILLBOOK_OPERATOR", "test-operator")
            .env_remove("DRILLBOOK_ABORT_AFTER_OPS")
            .env_remove("DRILLBOOK_OP_DELAY_MS")
            .env_remove("DRILLBOOK_STEP_JOURNAL_MAX_BYTES")
            .env_remove("DRILLBOOK_LAB_STALL")
            .env_remove("DRILLBOOK_LAB_SQL_PASSWORD")
            .current_dir(cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run another build of drillbook (`bin`) the same way, `stdin` on its input.
    pub fn run_bin(
        &self,
        bin: &Path,
        cwd: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: &str,
    ) -> Out {
        let mut child = self
            .command(bin, cwd, args, env)
            .stdin(if stdin.is_empty() {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .spawn()
            .expect("run drillbook");
        if let Some(mut input) = child.stdin.take() {
            use std::io::Write;
            // Dropping it closes the input, as a pipe from a file would.
            let _ = input.write_all(stdin.as_bytes());
        }
        finish(child)
    }

    pub fn lab_path(&self) -> PathBuf {
        self.home().join("lab").join("state.json")
    }

    pub fn lab_bytes(&self) -> Vec<u8> {
        std::fs::read(self.lab_path()).expect("lab state exists")
    }

    pub fn lab(&self) -> Value {
        let out = self.run(&["lab", "show", "--json"]);
        out.ok();
        serde_json::from_str(&out.stdout).expect("lab show --json is JSON")
    }

    /// A built-in lab after `minutes` of normal operation, then `faults`.
    pub fn lab_at(&self, minutes: u64, faults: &[&str]) {
        self.run(&["lab", "init"]).ok();
        if minutes > 0 {
            self.run(&["lab", "advance", &minutes.to_string()]).ok();
        }
        if !faults.is_empty() {
            let mut args = vec!["lab", "fault"];
            args.extend_from_slice(faults);
            self.run(&args).ok();
        }
    }

    /// A lab at the moment the primary data center is lost, 44 minutes in.
    /// The CMS, in that data center too, was failed over to Dublin first (the
    /// chat runbooks write through it and stop while it is down).
    pub fn lab_after_disaster(&self, extra_faults: &[&str]) {
        self.run(&["lab", "init"]).ok();
        self.run(&["lab", "advance", "44"]).ok();
        let mut args = vec!["lab", "fault", "cms-away-from:redmond", "primary-site-down"];
        args.extend_from_slice(extra_faults);
        self.run(&args).ok();
    }

    /// The run ids, oldest first.
    pub fn runs(&self) -> Vec<String> {
        let dir = self.home().join("runs");
        let mut ids: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| e.path().file_stem().unwrap().to_string_lossy().into_owned())
                .collect(),
            Err(_) => vec![],
        };
        ids.sort();
        ids
    }

    pub fn last_run(&self) -> String {
        self.runs().pop().expect("a run was journaled")
    }

    pub fn journal(&self, run_id: &str) -> Vec<Value> {
        let text =
            std::fs::read_to_string(self.home().join("runs").join(format!("{run_id}.jsonl")))
                .unwrap();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// Wait for a process [`Db::spawn`] started.
pub fn finish(child: std::process::Child) -> Out {
    let out = child.wait_with_output().expect("run drillbook");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The lab state with the clock and every time-derived field removed.
pub fn without_clock(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    // Time stamps, and the lab's history of manual effects (a
                    // repeated manual step is applied, and recorded, again).
                    !(k.as_str() == "clock"
                        || k.as_str() == "at"
                        || k.as_str() == "manual_effects"
                        || k.ends_with("_at")
                        || k.ends_with("_since")
                        || k.ends_with("_date"))
                })
                .map(|(k, v)| (k.clone(), without_clock(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_clock).collect()),
        Value::String(s) if looks_like_time(s) => Value::Null,
        other => other.clone(),
    }
}

fn looks_like_time(s: &str) -> bool {
    s.len() == 20 && s.ends_with('Z') && s.as_bytes().get(10) == Some(&b'T')
}

pub fn builtin_estate() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("estates/litware.toml"))
        .unwrap()
}

/// The built-in estate with Dublin renamed Zürich (a non-ASCII site name),
/// written in `db`'s folder; its path.
pub fn estate_with_zurich(db: &Db) -> String {
    let text = builtin_estate()
        .replace("[sites.dublin]", "[sites.\"zürich\"]")
        .replace("site = \"dublin\"", "site = \"zürich\"");
    assert!(!text.contains("dublin\""), "a site still named dublin");
    db.write("estate-zurich.toml", &text)
        .to_str()
        .unwrap()
        .to_string()
}

pub fn shipped_runbook(id: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("runbooks/{id}.rhai")),
    )
    .unwrap()
}

/// The password `lab serve` accepts in the tests, and `run` sends.
pub const TWIN_PASSWORD: &str = "twin-pa55word";

/// A `drillbook lab serve` process; stopped when dropped.
pub struct Twin {
    child: std::process::Child,
    pub estate: PathBuf,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Twin {
    pub fn estate_arg(&self) -> &str {
        self.estate.to_str().expect("utf-8 temp path")
    }

    /// Stop it the way an operator can: delete the estate file it wrote.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let _ = std::fs::remove_file(&self.estate);
        for _ in 0..250 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The serve process's id (for /proc/PID/status).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The 127.0.0.1 port of SQL instance `id`, as `lab serve` announced it.
    pub fn port(&self, id: &str) -> u16 {
        let served = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        let prefix = format!("{id}: 127.0.0.1:");
        served
            .lines()
            .find_map(|l| l.strip_prefix(&prefix)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("lab serve announced no port for {id}:\n{served}"))
    }

    /// Kill it outright, as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.shut_down();
        }
    }
}

impl Db {
    /// `lab serve` on this home's lab, its estate written to `live.toml`.
    pub fn serve(&self, args: &[&str], env: &[(&str, &str)]) -> Twin {
        let estate = self.path("live.toml");
        let _ = std::fs::remove_file(&estate);
        let n = std::fs::read_dir(self.dir.path()).map_or(0, |d| d.count());
        let stdout = self.path(&format!("serve-{n}.out"));
        let stderr = self.path(&format!("serve-{n}.err"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_drillbook"));
        cmd.args(["lab", "serve", "--estate-out"])
            .arg(&estate)
            .args(["--for-seconds", "600"])
            .args(args)
            .env("DRILLBOOK_HOME", self.home())
            .env("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)
            .env_remove("DRILLBOOK_LAB_STALL")
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start lab serve");
        for _ in 0..1500 {
            if estate.exists() {
                return Twin {
                    child,
                    estate,
                    stdout,
                    stderr,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "lab serve exited with {status}: {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        panic!("lab serve wrote no estate file within 30 s");
    }

    /// Run against the twin: `run ... --target live --estate live.toml`.
    pub fn run_live(&self, twin: &Twin, args: &[&str], env: &[(&str, &str)]) -> Out {
        let (all, e) = live_args(twin, args, env);
        self.run_env(&all, &e)
    }

    /// Start a run against the twin without waiting for it (see [`finish`]).
    pub fn spawn_live(
        &self,
        twin: &Twin,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> std::process::Child {
        let (all, e) = live_args(twin, args, env);
        self.spawn(&all, &e)
    }
}

/// The JSON pointers where two documents differ, with both values (for
/// readable failures on large lab states).
pub fn differences(a: &Value, b: &Value) -> Vec<String> {
    fn walk(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    walk(
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                        format!("{at}/{k}"),
                        out,
                    );
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(p, q, format!("{at}/{i}"), out);
                }
            }
            _ if a != b => out.push(format!("{at}: {a} vs {b}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(a, b, String::new(), &mut out);
    out
}

/// A runbook's default drill scenario: its name and the `-p`/`--decision`
/// arguments a `run` of it needs.
pub fn default_scenario(db: &Db, runbook: &str) -> (String, Vec<String>) {
    let out = db.run(&["--json", "show", runbook]);
    out.ok();
    let show: Value = serde_json::from_str(out.stdout.trim()).expect("show --json is JSON");
    let all = show["header"]["scenarios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let s = all
        .iter()
        .find(|s| s["name"] == "default")
        .or(all.first())
        .expect("a scenario")
        .clone();
    let mut args = Vec::new();
    for (k, v) in s["params"].as_object().into_iter().flatten() {
        args.push("-p".to_string());
        args.push(format!("{k}={}", v.as_str().unwrap_or_default()));
    }
    for (k, v) in s["decisions"].as_object().into_iter().flatten() {
        args.push("--decision".to_string());
        args.push(format!("{k}={}", v.as_str().unwrap_or_default()));
    }
    (s["name"].as_str().unwrap_or("default").to_string(), args)
}

impl Db {
    /// Set the lab up as the runbook's default scenario does; returns the
    /// arguments a `run` of it needs.
    pub fn prepare_default(&self, runbook: &str) -> Vec<String> {
        let (name, args) = default_scenario(self, runbook);
        self.run(&["--yes", "drill", runbook, "--scenario", &name, "--prepare"])
            .ok();
        args
    }
}

impl Db {
    /// Write a local runbook `NAME.rhai` with a minimal header and `body`;
    /// returns its path.
    pub fn local_runbook(&self, name: &str, body: &str) -> String {
        let text = format!(
            "runbook(#{{ name: \"{name}\", version: \"1.0.0\", summary: \"s\", rto_minutes: 1 }});\n{body}\n"
        );
        self.write(&format!("{name}.rhai"), &text)
            .to_str()
            .unwrap()
            .to_string()
    }
}

impl Db {
    /// Run drillbook on a pseudo-terminal (python3's `pty`), typing
    /// `answers` in turn at its `confirm?` prompts ("" is Enter). The
    /// terminal merges stderr into stdout.
    pub fn on_terminal(&self, args: &[&str], answers: &[&str]) -> Out {
        let file = self.write("answers.txt", &answers.join("\n"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/on_terminal.py");
        let mut all = vec![
            script.to_str().unwrap(),
            file.to_str().unwrap(),
            env!("CARGO_BIN_EXE_drillbook"),
        ];
        all.extend_from_slice(args);
        let child = self
            .command(Path::new("python3"), self.dir.path(), &all, &[])
            .stdin(Stdio::null())
            .spawn()
            .expect("run python3");
        finish(child)
    }
}

/// A seeded xorshift generator: the same sequence for the same seed, so a
/// failing trial names the seed that reproduces it.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// FreeTDS `tsql` logged in to the twin's instance on `port` as drillbook
/// (TDS 7.4), naming no database; the caller sets stdin and runs it.
pub fn tsql(port: u16) -> Command {
    let mut cmd = Command::new("tsql");
    cmd.args([
        "-H",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-U",
        "drillbook",
    ])
    .args(["-P", TWIN_PASSWORD])
    .env("TDSVER", "7.4");
    cmd
}

/// `args` aimed at the twin (`--target live --estate live.toml`), and `env`
/// with the twin's SQL password.
fn live_args<'a>(
    twin: &'a Twin,
    args: &[&'a str],
    env: &[(&'a str, &'a str)],
) -> (Vec<&'a str>, Vec<(&'a str, &'a str)>) {
    let mut all = args.to_vec();
    all.extend(["--target", "live", "--estate", twin.estate_arg()]);
    let mut e = vec![("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)];
    e.extend_from_slice(env);
    (all, e)
}
