//! What the terminal shows is what is sent: carriage returns, escape
//! sequences, C1 controls and bidirectional overrides inside values are
//! printed escaped in human output (plan, run, errors, journal), never raw.

mod common;
use common::{Db, Out};

// The value is the runbook's own (a parameter or estate value holding a
// control character is refused at load): it reaches the terminal the way a
// lab or server answer would, inside a value.
const RB: &str = r#"const NOTE = "ok\rEVIL\x1b[2K\u202Eexe.txt\u2066\u0085end";
step("say", || {
    log(`note: ${NOTE}`);
    lync::cmdlet("fe-dub1.litwareinc.com", "Set-CsDisplayTest", #{ Identity: NOTE });
});"#;

/// A value that, printed raw, would rewrite the line and reverse its tail.
const VALUE: &str = "ok\rEVIL\u{1b}[2K\u{202E}exe.txt\u{2066}\u{85}end";
const SHOWN: &str = r"ok\rEVIL\u{1b}[2K\u{202e}exe.txt\u{2066}\u{85}end";

fn runbook(db: &Db) -> String {
    let header =
        r#"runbook(#{ name: "display", version: "1.0.0", summary: "s", rto_minutes: 1 });"#;
    db.write("display.rhai", &format!("{header}\n{RB}\n"))
        .to_str()
        .unwrap()
        .to_string()
}

fn nothing_raw(out: &Out) {
    for raw in ['\r', '\u{1b}', '\u{202E}', '\u{2066}', '\u{85}'] {
        assert!(
            !out.stdout.contains(raw) && !out.stderr.contains(raw),
            "{raw:?} printed raw: {out:#?}"
        );
    }
}

#[test]
fn plan_prints_control_and_bidi_characters_in_values_escaped() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = runbook(&db);
    let out = db.run(&["plan", &rb]);
    // The lab does not simulate the cmdlet: the plan stops after showing it.
    out.code(1)
        .stdout_has(&format!("note: {SHOWN}"))
        // The cmdlet line carries them as char codes (`quote::ps_literal`).
        .stdout_has(
            "Set-CsDisplayTest -Identity ('ok'+[char]0x000D+'EVIL'+[char]0x001B+'[2K'\
             +[char]0x202E+'exe.txt'+[char]0x2066+[char]0x0085+'end')",
        );
    nothing_raw(&out);
}

#[test]
fn run_errors_and_journal_print_them_escaped_while_the_journal_keeps_them() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = runbook(&db);
    let out = db.run(&["run", &rb]);
    out.stdout_has(&format!("note: {SHOWN}"));
    nothing_raw(&out);
    let run_id = db.last_run();
    let shown = db.run(&["journal", &run_id]);
    shown.ok().stdout_has(&format!("note: {SHOWN}"));
    nothing_raw(&shown);
    // The journal holds the value as it was (JSON-escaped on disk).
    let logged = db
        .journal(&run_id)
        .into_iter()
        .any(|r| r["type"] == "log" && r["message"] == format!("note: {VALUE}"));
    assert!(logged);
}
