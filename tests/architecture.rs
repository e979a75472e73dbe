//! The house's arrows, checked on the source itself (docs/architecture.md,
//! "Rooms and arrows"): code that talks to production servers never knows
//! the simulator, the simulator never knows who drives it, the engine never
//! touches the terminal or the process, and no two rooms import each other.
//!
//! A room is a top-level module of `src/` (`src/lab/` or `src/op.rs`). An
//! import is any `crate::ROOM` path outside a comment, in `use` lines and in
//! expressions alike, so a fully qualified call cannot slip past.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Room → rooms it must never import, and why.
const FORBIDDEN: &[(&str, &[&str], &str)] = &[
    (
        "live",
        &["lab", "twin", "cli", "run", "drill"],
        "the code that talks to production servers must not depend on the simulator or on who drives it",
    ),
    (
        "lab",
        &["live", "twin", "cli", "run", "engine", "drill", "report"],
        "the simulator is driven through ops; it knows nothing of its drivers",
    ),
    (
        "twin",
        &["cli", "live", "run", "engine"],
        "the twin serves the lab over the wire; it shares only the wire module with the live client",
    ),
    (
        "engine",
        &["cli", "lab", "live", "twin", "drill"],
        "the engine hosts Rhai and builds ops; targets are injected",
    ),
    (
        "targets",
        &["cli", "lab", "live", "twin", "run", "engine"],
        "the Target trait is what every target implements; it depends on none of them",
    ),
    (
        "op",
        &["cli", "lab", "live", "twin", "run", "engine", "targets", "journal"],
        "an op is plain data, rendered once",
    ),
    (
        "journal",
        &["cli", "lab", "live", "twin", "run", "engine"],
        "the journal records what runs did; it does not run anything",
    ),
    (
        "estate",
        &["cli", "lab", "live", "twin", "run", "engine", "drill"],
        "the estate is a description; everything reads it, it reads nothing",
    ),
];

/// What a room that must not touch the terminal or the process may not contain.
const NO_TERMINAL: &[(&str, &[&str])] = &[(
    "engine",
    &[
        "std::io::stdin",
        "io::stdin",
        "std::io::stdout",
        "io::stdout",
        "println!",
        "print!(",
        "eprintln!",
        "eprint!(",
        "std::process",
        "process::exit",
        "process::abort",
    ],
)];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The room a file under `src/` belongs to; the crate root files belong to none.
fn room_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let room = first.trim_end_matches(".rs").to_string();
    (room != "lib" && room != "main").then_some(room)
}

/// Source lines with comments removed (line comments and doc comments; the
/// code base has no block comments worth the trouble).
fn code_lines(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            let code = match l.find("//") {
                // A `//` inside a string ("https://") is rare in imports; we
                // only lose precision on such lines, never gain false hits.
                Some(at) => &l[..at],
                None => l,
            };
            (i + 1, code.to_string())
        })
        .filter(|(_, l)| !l.trim().is_empty())
        .collect()
}

/// Every room a file imports, with the first line it does so on. Covers
/// `crate::room::...` paths and grouped imports `use crate::{a, b::c}`.
fn imports(text: &str) -> BTreeMap<String, usize> {
    let mut found = BTreeMap::new();
    let lines = code_lines(text);
    let mut note = |room: &str, line: usize| {
        found.entry(room.to_string()).or_insert(line);
    };
    for (line, code) in &lines {
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                for part in group.split(['}', ',']) {
                    let name: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name.chars().next().is_some_and(|c| c.is_lowercase()) {
                        note(&name, *line);
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name.chars().next().is_some_and(|c| c.is_lowercase()) {
                    note(&name, *line);
                }
            }
        }
    }
    // A grouped import over several lines: `use crate::{\n a,\n b::c,\n};`
    let joined: String = lines
        .iter()
        .map(|(_, l)| l.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut rest = joined.as_str();
    while let Some(at) = rest.find("crate::{") {
        rest = &rest[at + "crate::{".len()..];
        let end = rest.find('}').unwrap_or(rest.len());
        for part in rest[..end].split(',') {
            let name: String = part
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                let line = lines
                    .iter()
                    .find(|(_, l)| l.contains(&name))
                    .map_or(0, |(n, _)| *n);
                note(&name, line);
            }
        }
    }
    found
}

struct Import {
    from: String,
    to: String,
    file: PathBuf,
    line: usize,
}

fn all_imports() -> (Vec<Import>, BTreeSet<String>) {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let rooms: BTreeSet<String> = files.iter().filter_map(|f| room_of(f)).collect();
    let mut out = Vec::new();
    for file in files {
        let Some(from) = room_of(&file) else { continue };
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (to, line) in imports(&text) {
            if to != from && rooms.contains(&to) {
                out.push(Import {
                    from: from.clone(),
                    to,
                    file: file.clone(),
                    line,
                });
            }
        }
    }
    (out, rooms)
}

#[test]
fn no_room_imports_what_its_arrows_forbid() {
    let (imports, rooms) = all_imports();
    for (room, _, _) in FORBIDDEN {
        assert!(
            rooms.contains(*room),
            "the arrow rules name room `{room}`, which src/ does not have: update tests/architecture.rs"
        );
    }
    let mut bad = Vec::new();
    for i in &imports {
        for (room, never, why) in FORBIDDEN {
            if i.from == *room && never.contains(&i.to.as_str()) {
                bad.push(format!(
                    "{}:{}: `{}` imports `{}` ({why})",
                    i.file.display(),
                    i.line,
                    i.from,
                    i.to
                ));
            }
        }
    }
    assert!(bad.is_empty(), "forbidden imports:\n{}", bad.join("\n"));
}

#[test]
fn no_two_rooms_import_each_other_even_through_others() {
    let (imports, _) = all_imports();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for i in &imports {
        graph.entry(&i.from).or_default().insert(&i.to);
    }
    // Depth-first search with colours; report the first cycle found as a path.
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        state.insert(node, 1);
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next);
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, graph, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(node, 2);
        None
    }
    let mut state = BTreeMap::new();
    let nodes: Vec<&str> = graph.keys().copied().collect();
    for n in nodes {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(cycle) = visit(n, &graph, &mut state, &mut Vec::new()) {
                let hops: Vec<String> = cycle
                    .windows(2)
                    .map(|w| {
                        let i = imports
                            .iter()
                            .find(|i| i.from == w[0] && i.to == w[1])
                            .expect("edge exists");
                        format!("{} -> {} ({}:{})", w[0], w[1], i.file.display(), i.line)
                    })
                    .collect();
                panic!("import cycle between rooms:\n{}", hops.join("\n"));
            }
        }
    }
}

#[test]
fn the_engine_never_touches_the_terminal_or_the_process() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut bad = Vec::new();
    for file in files {
        let Some(room) = room_of(&file) else { continue };
        let Some((_, banned)) = NO_TERMINAL.iter().find(|(r, _)| *r == room) else {
            continue;
        };
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (line, code) in code_lines(&text) {
            if let Some(b) = banned.iter().find(|b| code.contains(**b)) {
                bad.push(format!("{}:{line}: `{b}`", file.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "the engine reaches the terminal or the process (go through the Reporter, the Operator or a hook the run provides):\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_source_file_is_over_700_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let big: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = fs::read_to_string(f).ok()?.lines().count();
            (n > 700).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(
        big.is_empty(),
        "split these along their concepts:\n{}",
        big.join("\n")
    );
}

/// The checker itself: a forbidden import written in each form it must see.
#[test]
fn the_import_reader_sees_every_form() {
    let text = "use crate::lab::Lab;\nuse crate::{op::Op, twin};\n// crate::cli is only named here\nfn f() { crate::live::Live::open(); }\nuse crate::{\n    journal::Journal,\n    report,\n};\n";
    let found: BTreeSet<String> = imports(text).into_keys().collect();
    let want: BTreeSet<String> = ["lab", "op", "twin", "live", "journal", "report"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, want);
}
