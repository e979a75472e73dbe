//! The `lab pwsh` stand-in is as strict as Windows PowerShell 5.1 under
//! `-NoProfile -Command -`: each safeguard of the live target's script
//! (`wire::script`), taken out, brings back what that shell really does.
//! The live runs through it are in `tests/live.rs`.

mod common;
use common::{Db, Out};
use drillbook::quote;
use drillbook::wire::{script, Session, FORCE_UTF8, IMPORT_LYNC, NORMALIZE};
use serde_json::Value;
use std::path::Path;

const FE: &str = "fe-dub1.litwareinc.com";

fn remote() -> Session {
    Session::Remote {
        uri_literal: quote::ps_connection_uri(FE).unwrap(),
    }
}

fn stand_in(db: &Db, script: &str) -> Out {
    let bin = Path::new(env!("CARGO_BIN_EXE_drillbook"));
    db.run_bin(
        bin,
        db.dir.path(),
        &["lab", "pwsh", "--host", FE],
        &[],
        script,
    )
}

fn lab() -> Db {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    db
}

/// The script without the lines for which `drop` is true.
fn without(script: &str, drop: impl Fn(&str) -> bool) -> String {
    let kept: Vec<&str> = script.lines().filter(|l| !drop(l)).collect();
    kept.join("\n") + "\n\n"
}

/// The answer after the sentinel: (log lines, result).
fn answer(out: &Out) -> (Value, Value) {
    let (_, after) = out
        .stdout
        .split_once("#drillbook-answer\n")
        .expect("a sentinel");
    let mut lines = after.lines();
    let logs = serde_json::from_str(lines.next().unwrap()).unwrap();
    let result = lines
        .next()
        .map_or(Value::Null, |l| serde_json::from_str(l).unwrap());
    (logs, result)
}

#[test]
fn the_live_script_is_answered_after_its_sentinel_with_normalized_types() {
    let db = lab();
    let out = stand_in(&db, &script("Get-CsBackupServiceConfiguration", &remote()));
    out.ok();
    let (logs, config) = answer(&out);
    assert_eq!(logs, serde_json::json!([]));
    assert_eq!(config["SyncInterval"], "00:02:00", "{config}");
    // Without the normalization: the TimeSpan object ConvertTo-Json prints.
    let raw = without(
        &script("Get-CsBackupServiceConfiguration", &remote()),
        |l| l == NORMALIZE,
    );
    let out = stand_in(&db, &raw);
    out.ok();
    let (_, config) = answer(&out);
    assert_eq!(config["SyncInterval"]["TotalSeconds"], 120, "{config}");
    assert_eq!(config["SyncInterval"]["Ticks"], 1_200_000_000i64);
}

#[test]
fn verbose_lines_are_collected_unless_the_script_redirects_nothing() {
    let db = lab();
    let line = "Get-CsPoolFabricState -PoolFqdn 'pool-dub.litwareinc.com' -Verbose";
    let out = stand_in(&db, &script(line, &remote()));
    out.ok();
    assert!(
        out.stdout.starts_with("#drillbook-answer\n"),
        "{}",
        out.stdout
    );
    let (logs, _) = answer(&out);
    assert!(logs[0].as_str().unwrap().starts_with("VERBOSE: "), "{logs}");
    // The script as drillbook sent it before: VERBOSE on stdout, no Lync
    // module (-NoProfile), so not even the cmdlet.
    let bare =
        format!("$ErrorActionPreference = 'Stop'\n{line} | ConvertTo-Json -Depth 5 -Compress\n");
    stand_in(&db, &bare)
        .code(1)
        .stderr_has("The term 'Get-CsPoolFabricState' is not recognized");
    let unredirected = script(line, &remote()).replace("} 3>&1 4>&1 |", "} |");
    let out = stand_in(&db, &unredirected);
    out.ok();
    assert!(
        out.stdout.starts_with("VERBOSE: Performing"),
        "{}",
        out.stdout
    );
}

#[test]
fn without_import_module_lync_no_lync_cmdlet_exists() {
    let db = lab();
    let local = script("Get-CsBackupServiceConfiguration", &Session::Local);
    stand_in(&db, &local).ok();
    stand_in(&db, &without(&local, |l| l == IMPORT_LYNC))
        .code(1)
        .stderr_has("The term 'Get-CsBackupServiceConfiguration' is not recognized");
}

#[test]
fn output_is_in_the_oem_code_page_unless_the_script_sets_utf8() {
    let db = lab();
    let line = format!(
        "Get-CsPoolFabricState -PoolFqdn {}",
        quote::ps_literal("café.litwareinc.com").unwrap()
    );
    let out = stand_in(&db, &script(&line, &remote()));
    out.code(1).stderr_has("café");
    let oem = without(&script(&line, &remote()), |l| l == FORCE_UTF8);
    let out = stand_in(&db, &oem);
    // 'é' as code page 437 writes it is not UTF-8.
    out.code(1);
    assert!(
        !out.stderr.contains("café") && out.stderr.contains("caf\u{FFFD}"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_script_powershell_cannot_parse_runs_nothing_and_exits_0() {
    let db = lab();
    let before = db.lab_bytes();
    let broken = script(
        "Set-CsBackupServiceConfiguration -Identity 'global' -SyncInterval '00:05:00' ;x",
        &remote(),
    );
    let out = stand_in(&db, &broken);
    out.ok().stderr_has("ParserError");
    assert!(!out.stdout.contains("#drillbook-answer"), "{}", out.stdout);
    assert!(
        db.lab_bytes() == before,
        "a script that did not parse changed the lab"
    );
}

/// Windows PowerShell reads the script on stdin in the OEM code page, even
/// one that sets UTF-8 (that is for output): a value sent as UTF-8 bytes
/// arrives mangled; rendered through `quote::ps_literal` it is ASCII and
/// arrives intact, and comes back intact in the JSON answer.
#[test]
fn the_script_on_stdin_is_read_in_the_oem_code_page_so_only_ascii_arrives_as_sent() {
    let db = Db::new();
    let estate = common::estate_with_zurich(&db);
    db.run(&["lab", "init", "--estate", &estate]).ok();
    let raw = script("Get-CsSite -Identity 'zürich'", &remote());
    stand_in(&db, &raw)
        .code(1)
        .stderr_has("Cannot find site \"z├╝rich\"");
    let line = format!(
        "Get-CsSite -Identity {}",
        quote::ps_literal("zürich").unwrap()
    );
    assert!(line.is_ascii(), "{line}");
    let out = stand_in(&db, &script(&line, &remote()));
    out.ok();
    let (_, site) = answer(&out);
    assert_eq!(site["Identity"], "Site:zürich", "{site}");
    // The answer without forced UTF-8: code page 437's 0x81 for 'ü'.
    let oem = stand_in(
        &db,
        &without(&script(&line, &remote()), |l| l == FORCE_UTF8),
    );
    oem.ok().stdout_has("Site:z\u{FFFD}rich");
}
