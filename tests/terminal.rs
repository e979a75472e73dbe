//! The terminal at 3 a.m.: colour, progress bars, readable fault messages,
//! decisions asked once, plans that never point at a run that does not
//! exist, completions and a man page, and "did you mean" for every name.
//! Where a terminal is needed the binary runs in a pseudo-terminal (python3's
//! `pty` module), and what it wrote is replayed on a small screen model.

mod common;

use common::Db;
use std::process::{Command, Stdio};

/// Runs argv[3:] in a pty of `argv[1]` columns, writes `argv[2]` to it,
/// prints everything the program wrote, exits with its code.
const PTY: &str = r#"
import os, pty, sys, struct, fcntl, termios
cols, feed, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 50, cols, 0, 0))
    os.execvp(argv[0], argv)
if feed:
    os.write(fd, feed.encode())
out = b''
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

struct Tty {
    code: i32,
    raw: String,
}

/// drillbook in a pseudo-terminal `cols` wide, `feed` typed at it.
/// `DRILLBOOK_PTY_BIN` runs another build instead (to see these tests fail
/// on a build from before their fix).
fn in_pty(db: &Db, cols: u16, feed: &str, args: &[&str], env: &[(&str, &str)]) -> Tty {
    let bin = std::env::var("DRILLBOOK_PTY_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_drillbook").to_string());
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(PTY)
        .arg(cols.to_string())
        .arg(feed)
        .arg(bin)
        .args(args)
        .current_dir(db.dir.path())
        .env("DRILLBOOK_HOME", db.home())
        .env("DRILLBOOK_OPERATOR", "test-operator")
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("python3 runs (it provides the pty)");
    Tty {
        code: out.status.code().unwrap_or(-1),
        raw: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// What a terminal `cols` wide shows after `raw` was written to it: the
/// scrollback and the screen, as lines. Enough of a VT100 for what
/// drillbook and indicatif write: text with wrapping, CR, LF, cursor up and
/// to a column, erase line and erase below; colours are dropped.
fn screen(raw: &str, cols: usize) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
                if row == lines.len() {
                    lines.push(Vec::new());
                }
            }
            '\x1b' => {
                if chars.peek() != Some(&'[') {
                    chars.next();
                    continue;
                }
                chars.next();
                let mut params = String::new();
                let mut end = ' ';
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        end = c;
                        break;
                    }
                    params.push(c);
                }
                let n: usize = params.trim_start_matches('?').parse().unwrap_or(0);
                match end {
                    'A' => row = row.saturating_sub(n.max(1)),
                    'B' => {
                        row += n.max(1);
                        while lines.len() <= row {
                            lines.push(Vec::new());
                        }
                    }
                    'G' => col = n.max(1) - 1,
                    'K' => match n {
                        0 => lines[row].truncate(col),
                        1 => (0..col.min(lines[row].len())).for_each(|i| lines[row][i] = ' '),
                        _ => lines[row].clear(),
                    },
                    'J' => {
                        lines[row].truncate(col);
                        lines.truncate(row + 1);
                    }
                    _ => {}
                }
            }
            c if (c as u32) < 0x20 => {}
            c => {
                if col >= cols {
                    row += 1;
                    col = 0;
                    if row == lines.len() {
                        lines.push(Vec::new());
                    }
                }
                let line = &mut lines[row];
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
    }
    lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .collect()
}

fn write_runbook(db: &Db, name: &str, body: &str) -> String {
    let text = format!(
        "runbook(#{{ name: \"{name}\", version: \"1.0.0\", summary: \"s\", rto_minutes: 1, params: #{{}}, scenarios: #{{ \"default\": #{{}} }} }});\n{body}"
    );
    db.write(&format!("team/{name}.rhai"), &text)
        .to_str()
        .unwrap()
        .to_string()
}

/// Does `s` set a colour (an SGR sequence, `ESC [ ... m`)? Cursor
/// movement and erasing (a progress bar's) are not colour.
fn coloured(s: &str) -> bool {
    s.split("\x1b[").skip(1).any(|rest| {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == ';'));
        end.is_some_and(|i| rest[i..].starts_with('m'))
    })
}

#[test]
fn colour_only_at_a_terminal_and_never_under_no_color() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = write_runbook(
        &db,
        "colours",
        r#"step("look", || { lync::cmdlet(estate.management_host("dublin"), "Get-CsSite", #{}); });"#,
    );
    let args = ["run", rb.as_str(), "-v"];
    let tty = in_pty(&db, 100, "", &args, &[]);
    assert_eq!(tty.code, 0, "{}", tty.raw);
    assert!(
        tty.raw.contains("\x1b[32msucceeded"),
        "green at a terminal:\n{:?}",
        tty.raw
    );
    assert!(
        tty.raw.contains("\x1b[2mread"),
        "a read is dim:\n{:?}",
        tty.raw
    );
    let no_color = in_pty(&db, 100, "", &args, &[("NO_COLOR", "1")]);
    assert!(!coloured(&no_color.raw), "NO_COLOR:\n{:?}", no_color.raw);
    let never = in_pty(&db, 100, "", &["--color", "never", "run", &rb, "-v"], &[]);
    assert!(!coloured(&never.raw), "--color never:\n{:?}", never.raw);
    let piped = db.run(&["run", &rb, "-v"]);
    assert!(!coloured(&piped.ok().stdout), "a pipe is not a terminal");
    let always = db.run_env(
        &["--color", "always", "run", &rb, "-v"],
        &[("NO_COLOR", "1")],
    );
    assert!(
        always.ok().stdout.contains("\x1b[32msucceeded"),
        "--color always wins"
    );
}

/// The drill with loop progress (log backups restored one by one) at three
/// widths: what remains on the terminal has every step line and no bar.
#[test]
fn progress_bars_leave_no_stale_lines_at_any_width() {
    for cols in [40u16, 80, 120, 160] {
        let db = Db::new();
        let tty = in_pty(&db, cols, "", &["drill", "persistent-chat-failover"], &[]);
        assert_eq!(tty.code, 0, "{}", tty.raw);
        let shown = screen(&tty.raw, cols as usize);
        let residue: Vec<&String> = shown
            .iter()
            .filter(|l| l.contains(" steps ") || l.contains('█') || l.contains('░'))
            .collect();
        assert!(
            residue.is_empty(),
            "{cols} columns: progress left behind: {residue:#?}\n{}",
            shown.join("\n")
        );
        assert!(
            shown.iter().any(|l| l.starts_with("[1/")),
            "{}",
            shown.join("\n")
        );
        assert!(
            shown.iter().any(|l| l.contains("succeeded")),
            "{}",
            shown.join("\n")
        );
    }
}

#[test]
fn a_fault_reads_as_what_went_down_with_the_detail_under_verbose() {
    let db = Db::new();
    let out = db.run(&["drill", "persistent-chat-failover"]);
    // The scenario fails the CMS over first (its own fault line), then the site.
    let first = out
        .ok()
        .stdout
        .lines()
        .find(|l| l.starts_with("fault primary-site-down"))
        .unwrap_or_else(|| panic!("no primary-site-down line:\n{}", out.stdout))
        .to_string();
    assert!(first.len() < 400, "{} characters: {first}", first.len());
    assert!(
        first.starts_with(
            "fault primary-site-down: site redmond down: 11 servers, 6 SQL instances;"
        ),
        "{first}"
    );
    assert!(
        !out.stdout.contains("\n  cpsdyn: principal"),
        "detail only under --verbose"
    );
    let verbose = db.run(&["drill", "persistent-chat-failover", "--verbose"]);
    verbose
        .ok()
        .stdout_has("\n  cpsdyn: principal besql-red1 lost, no automatic failover");
}

const DECIDE: &str = r#"step("ask", || {
    let c = decide("gap", "the log chain has a gap",
        [#{ name: "abort", cost: "nothing restored; chat stays down" },
         #{ name: "accept-data-loss", cost: "about 14 minutes of chat lost" }]);
    log(`chose ${c}`);
});"#;

#[test]
fn a_decision_is_asked_at_a_terminal_once_with_what_each_choice_costs() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = write_runbook(&db, "gap", DECIDE);
    let tty = in_pty(&db, 120, "2\n", &["run", &rb], &[]);
    assert_eq!(tty.code, 0, "{}", tty.raw);
    assert_eq!(
        tty.raw.matches("the log chain has a gap").count(),
        1,
        "{}",
        tty.raw
    );
    assert!(
        tty.raw
            .contains("- accept-data-loss: about 14 minutes of chat lost"),
        "{}",
        tty.raw
    );
    assert!(tty.raw.contains("chose accept-data-loss"), "{}", tty.raw);
    let journal = db.journal(&db.last_run());
    assert!(
        journal.iter().any(|r| r["choice"] == "accept-data-loss"),
        "the choice is journaled: {journal:?}"
    );

    // Without a terminal the run waits, and says the question once.
    let out = db.run(&["run", &rb]);
    out.code(3);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(all.matches("the log chain has a gap").count(), 1, "{all}");
    assert!(
        all.contains("- abort: nothing restored; chat stays down"),
        "{all}"
    );
    assert!(all.contains("--decision <abort|accept-data-loss>"), "{all}");
}

#[test]
fn plans_never_suggest_resuming_a_plan() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let failing = write_runbook(
        &db,
        "breaks",
        r#"step("boom", || { require(false, "not ready"); });"#,
    );
    let out = db.run(&["plan", &failing]);
    out.code(1).stderr_has("plan again");
    assert!(!out.stderr.contains("resume plan-"), "{}", out.stderr);
    let waiting = write_runbook(&db, "gap", DECIDE);
    let out = db.run(&["plan", &waiting]);
    out.code(3).stderr_has("--decision gap=");
    assert!(!format!("{}{}", out.stdout, out.stderr).contains("resume plan-"));
}

#[test]
fn completions_man_page_and_version_with_the_runbook_set_hash() {
    let db = Db::new();
    for (shell, mark) in [
        ("bash", "complete -F _drillbook"),
        ("zsh", "#compdef drillbook"),
        ("fish", "complete -c drillbook"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = db.run(&["completions", shell]);
        out.ok().stdout_has(mark).stdout_has("drill");
    }
    db.run(&["completions", "tcsh"]).code(2);
    db.run(&["man"])
        .ok()
        .stdout_has(".TH drillbook 1")
        .stdout_has("completions");
    let hash = drillbook::runbook::set_hash();
    db.run(&["--version"]).ok().stdout_has(&format!(
        "drillbook {} (runbooks sha256:{})",
        env!("CARGO_PKG_VERSION"),
        &hash[..12]
    ));
}

#[test]
fn misspelled_names_get_the_nearest_and_short_pool_names_resolve() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    db.run(&["plan", "pool-failovr"])
        .code(2)
        .stderr_has("did you mean `pool-failover`?");
    db.run(&["lab", "fault", "pool-dwn:pool-red.litwareinc.com"])
        .code(2)
        .stderr_has("did you mean `pool-down`?");
    db.run(&["lab", "fault", "pool-down:pool-reed.litwareinc.com"])
        .code(2)
        .stderr_has("did you mean `pool-red.litwareinc.com`?");
    db.run(&["plan", "pool-failover", "-p", "pol=pool-red.litwareinc.com"])
        .code(2)
        .stderr_has("did you mean `pool`?");
    db.run(&[
        "plan",
        "pool-failover",
        "-p",
        "pool=pool-dubb.litwareinc.com",
    ])
    .code(2)
    .stderr_has("did you mean `pool-dub.litwareinc.com`?");
    // A short name is the one pool it starts.
    db.run(&["plan", "pool-failover", "-p", "pool=pool-red"])
        .ok()
        .stdout_has("Invoke-CsPoolFailOver -DisasterMode -PoolFqdn 'pool-red.litwareinc.com'");
    db.run(&["lab", "fault", "pool-down:pool-red"]).ok();
    let lab = db.lab();
    assert_eq!(lab["lync"]["pools"]["pool-red.litwareinc.com"]["up"], false);
}
