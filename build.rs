//! Embeds the shipped runbooks and stdlib modules, so `drillbook` works from
//! any directory and a shipped runbook's text (and hash) is fixed at build.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    // One file per folder: the runbooks are included by `runbook/`, the
    // stdlib by `engine/`, and neither module needs the other's.
    for (konst, dir) in [("RUNBOOKS", "runbooks"), ("STDLIB", "stdlib")] {
        let mut out = String::new();
        let path = Path::new(&root).join(dir);
        println!("cargo:rerun-if-changed={}", path.display());
        let mut files: Vec<_> = std::fs::read_dir(&path)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|x| x == "rhai"));
        files.sort();
        writeln!(out, "pub const {konst}: &[(&str, &str)] = &[").unwrap();
        for f in files {
            println!("cargo:rerun-if-changed={}", f.display());
            let stem = f.file_stem().unwrap().to_string_lossy().to_string();
            writeln!(
                out,
                "    ({stem:?}, include_str!({:?})),",
                f.display().to_string()
            )
            .unwrap();
        }
        writeln!(out, "];").unwrap();
        let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
            .join(format!("{dir}.rs"));
        std::fs::write(dest, out).expect("write the embedded file list");
    }
}
