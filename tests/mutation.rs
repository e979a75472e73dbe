//! Mutation tests (issue 11): seeded mutations of the four inputs drillbook
//! reads — the estate TOML, a runbook, a journal and the lab state — must
//! never panic; each is loaded or refused as bad input (exit 2) with a
//! message naming its file; a refused input changes nothing.
//!
//! The bulk runs in process through the library's own loaders (`Estate::load`,
//! `Runbook::from_file`, `journal::reader::read`, `Lab::open`); a sample goes
//! through the binary. CI runs `PER_KIND` mutants of each kind;
//! `scripts/mutate` runs the long version (`DRILLBOOK_MUTATIONS=N` per kind)
//! and prints the figures this test prints.

mod common;
use common::{Db, Rng};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

const RB: &str = "persistent-chat-failover";
const PER_KIND: usize = 2000;
const THROUGH_THE_BINARY: usize = 15;

/// What hostile or careless edits put into files.
const SPLICES: &[&[u8]] = &[
    b"\"",
    b"'",
    b"\\",
    b"\0",
    b"[",
    b"]",
    b"{",
    b"}",
    b"=",
    b"\n",
    b"\r\n",
    b",",
    b"#",
    b"\xff",
    b"\xc2",
    "§".as_bytes(),
    "—".as_bytes(),
    "\u{202e}".as_bytes(),
    b"\x1b[2J",
    b"99999999999999999999",
    b"-1",
    b"18446744073709551615",
    b"1e309",
    b"null",
    b"true",
    b"[[",
    b"]]",
    b"\"\"\"",
    b"\\\\fs\\x",
    b"\t",
];

/// One to three edits: flip, delete, duplicate, splice, truncate, swap lines.
fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(3) {
        let len = out.len().max(1);
        let at = rng.below(len);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let (i, bit) = (at.min(out.len() - 1), rng.below(8));
                out[i] ^= 1 << bit;
            }
            1 => {
                let end = (at + 1 + rng.below(40)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let end = (at + 1 + rng.below(80)).min(out.len());
                let piece = out[at.min(end)..end].to_vec();
                out.splice(at..at, piece);
            }
            3 => {
                let s = SPLICES[rng.below(SPLICES.len())];
                out.splice(at.min(out.len())..at.min(out.len()), s.iter().copied());
            }
            4 => out.truncate(at),
            _ => {
                let mut lines: Vec<Vec<u8>> =
                    out.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
                let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                lines.swap(a, b);
                out = lines.join(&b'\n');
            }
        }
    }
    out
}

#[derive(Default)]
struct Figures {
    inputs: usize,
    loaded: usize,
    refused: usize,
    failed: Vec<String>,
    panics: usize,
}

impl Figures {
    fn print(&self, kind: &str) {
        println!(
            "mutation {kind}: inputs {}, loaded {}, refused {}, failed {}, panics {}",
            self.inputs,
            self.loaded,
            self.refused,
            self.failed.len(),
            self.panics
        );
    }
}

fn per_kind() -> usize {
    std::env::var("DRILLBOOK_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(PER_KIND)
}

/// Load `per_kind()` mutants of `original` with `load` in process.
fn in_process<T>(
    kind: &str,
    seed: u64,
    original: &[u8],
    file: &Path,
    load: impl Fn(&Path) -> drillbook::error::Result<T>,
) -> Figures {
    let mut rng = Rng(seed);
    let mut f = Figures::default();
    let started = Instant::now();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    for i in 0..per_kind() {
        let mutant = mutate(original, &mut rng);
        std::fs::write(file, &mutant).unwrap();
        f.inputs += 1;
        match catch_unwind(AssertUnwindSafe(|| load(file))) {
            Err(_) => {
                f.panics += 1;
                f.failed.push(format!("{kind} mutant {i}: panic"));
            }
            Ok(Ok(_)) => f.loaded += 1,
            Ok(Err(e)) => {
                let (code, message) = (e.exit_code(), e.to_string());
                if code == 2 && message.contains(&name) {
                    f.refused += 1;
                } else {
                    f.failed
                        .push(format!("{kind} mutant {i}: exit {code}: {message}"));
                }
            }
        }
    }
    f.print(kind);
    println!("  ({kind}: {:.1} s)", started.elapsed().as_secs_f64());
    f
}

/// A journal of a run stopped midway, and the lab it left.
fn stopped_run(db: &Db) -> String {
    db.lab_after_disaster(&[]);
    db.run_env(&["run", RB], &[("DRILLBOOK_ABORT_AFTER_OPS", "12")]);
    db.last_run()
}

/// `in_process`, then fail with the first failures if there were any.
fn holds(f: Figures) {
    let shown: Vec<&str> = f.failed.iter().take(20).map(String::as_str).collect();
    assert!(f.failed.is_empty(), "{}", shown.join("\n"));
}

#[test]
fn mutated_estates_never_panic_and_load_or_are_refused_naming_the_file() {
    let scratch = Db::new();
    let estate = common::builtin_estate();
    holds(in_process(
        "estate",
        11,
        estate.as_bytes(),
        &scratch.path("estate.toml"),
        drillbook::estate::Estate::load,
    ));
}

#[test]
fn mutated_runbooks_never_panic_and_load_or_are_refused_naming_the_file() {
    let scratch = Db::new();
    let runbook = common::shipped_runbook(RB);
    holds(in_process(
        "runbook",
        12,
        runbook.as_bytes(),
        &scratch.path("runbook.rhai"),
        |p| drillbook::runbook::Runbook::from_file("runbook", p),
    ));
}

#[test]
fn mutated_journals_and_lab_states_never_panic_and_load_or_are_refused_naming_the_file() {
    let db = Db::new();
    let run = stopped_run(&db);
    let journal = std::fs::read(db.home().join("runs").join(format!("{run}.jsonl"))).unwrap();
    let scratch = Db::new();
    holds(in_process(
        "journal",
        13,
        &journal,
        &scratch.path("run.jsonl"),
        drillbook::journal::read,
    ));
    holds(in_process(
        "lab",
        14,
        &db.lab_bytes(),
        &scratch.path("state.json"),
        drillbook::lab::Lab::open,
    ));
}

/// Exit 0 (loaded) or 2 naming `name`; never a panic or another class.
fn judged(out: &common::Out, name: &str, what: &str) -> Result<bool, String> {
    if out.stderr.contains("panicked") || out.code == 101 {
        return Err(format!("{what}: panic: {}", out.stderr));
    }
    match out.code {
        0 => Ok(false),
        2 if out.stderr.contains(name) => Ok(true),
        code => Err(format!("{what}: exit {code}: {}", out.stderr)),
    }
}

#[test]
fn mutated_inputs_through_the_binary_are_refused_with_exit_2_and_change_nothing() {
    let mut rng = Rng(21);
    let mut failures = Vec::new();
    let mut refused = 0;
    let estate = common::builtin_estate();
    let runbook = common::shipped_runbook(RB);
    for i in 0..THROUGH_THE_BINARY {
        // The estate: a refused one makes no lab.
        let db = Db::new();
        let p = db.write("mutant.toml", "");
        std::fs::write(&p, mutate(estate.as_bytes(), &mut rng)).unwrap();
        let out = db.run(&["lab", "init", "--estate", p.to_str().unwrap()]);
        match judged(&out, "mutant.toml", &format!("estate {i}")) {
            Ok(true) if db.lab_path().exists() => {
                failures.push(format!("estate {i}: refused, but a lab was made"))
            }
            Ok(r) => refused += usize::from(r),
            Err(e) => failures.push(e),
        }
        // A runbook: checked, or refused at its place.
        let p = db.write("mutant.rhai", "");
        std::fs::write(&p, mutate(runbook.as_bytes(), &mut rng)).unwrap();
        match judged(
            &db.run(&["check", p.to_str().unwrap()]),
            "mutant.rhai",
            &format!("runbook {i}"),
        ) {
            Ok(r) => refused += usize::from(r),
            Err(e) => failures.push(e),
        }
    }
    for i in 0..THROUGH_THE_BINARY {
        let db = Db::new();
        let run = stopped_run(&db);
        // The lab state: a refused one stops a run before its first op.
        let lab = db.lab_bytes();
        let mutant = mutate(&lab, &mut rng);
        std::fs::write(db.lab_path(), &mutant).unwrap();
        let runs = db.runs();
        match judged(&db.run(&["lab", "show"]), "state.json", &format!("lab {i}")) {
            Ok(true) => {
                refused += 1;
                let out = db.run(&["run", RB]);
                if out.code != 2
                    || std::fs::read(db.lab_path()).unwrap() != mutant
                    || db.runs() != runs
                {
                    failures.push(format!(
                        "lab {i}: a refused lab state was changed or ran: exit {}",
                        out.code
                    ));
                }
            }
            Ok(false) => {}
            Err(e) => failures.push(e),
        }
        // The journal: listed and shown, or refused naming it.
        let path = db.home().join("runs").join(format!("{run}.jsonl"));
        let mutant = mutate(&std::fs::read(&path).unwrap(), &mut rng);
        std::fs::write(&path, &mutant).unwrap();
        let name = format!("{run}.jsonl");
        for args in [vec!["journal"], vec!["journal", run.as_str()]] {
            match judged(&db.run(&args), &name, &format!("journal {i} ({args:?})")) {
                Ok(r) => refused += usize::from(r),
                Err(e) => failures.push(e),
            }
        }
        if std::fs::read(&path).unwrap() != mutant {
            failures.push(format!("journal {i}: reading it changed it"));
        }
    }
    println!(
        "mutation through the binary: {} inputs, {refused} refused, {} failed",
        THROUGH_THE_BINARY * 4,
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
