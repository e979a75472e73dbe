//! Bad input stops before the first op, with a message that names what is wrong.

mod common;
use common::Db;

const RB: &str = "persistent-chat-failover";

/// Assert the command failed with exit 2 and performed no op.
fn refused(db: &Db, args: &[&str], needle: &str) {
    let before = std::fs::read(db.lab_path()).ok();
    let out = db.run(args);
    out.code(2).stderr_has(needle);
    assert_eq!(std::fs::read(db.lab_path()).ok(), before, "the lab changed");
    for run in db.runs() {
        assert!(
            !db.journal(&run).iter().any(|r| r["type"] == "op_started"),
            "an op was sent"
        );
    }
}

/// A run of the chat failover after a disaster with `param` is refused
/// before any op, saying `needle`.
fn param_refused(param: &str, needle: &str) {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    refused(&db, &["run", RB, "-p", param], needle);
}

#[test]
fn unknown_runbook() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    refused(
        &db,
        &["run", "pc-failover"],
        "no runbook named `pc-failover`",
    );
}

#[test]
fn unknown_parameter() {
    param_refused("pol=pchat.litwareinc.com", "the runbook has no such parameter; did you mean `pool`? (it takes: active_servers, mirror_share, pool)");
}

#[test]
fn invalid_parameter_value() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    refused(
        &db,
        &["run", RB, "-p", "pool=chat.example.com"],
        "\"chat.example.com\" is not a Persistent Chat pool",
    );
    refused(
        &db,
        &["run", RB, "-p", "active_servers=not a host"],
        "\"not a host\" is not a fully qualified domain name",
    );
}

#[test]
fn missing_parameter_when_the_estate_has_several_pools() {
    let db = Db::new();
    let text = common::builtin_estate();
    let second = text[text
        .find("[persistent_chat.\"pchat.litwareinc.com\"]")
        .unwrap()..]
        .replace("pchat.litwareinc.com\"", "pchat2.litwareinc.com\"");
    let estate = db.write("two-pools.toml", &format!("{text}\n{second}"));
    db.run(&["lab", "init", "--estate", estate.to_str().unwrap()])
        .ok();
    refused(
        &db,
        &["run", RB, "--estate", estate.to_str().unwrap()],
        "parameter `pool` of runbook `persistent-chat-failover`: it is required",
    );
}

#[test]
fn active_servers_outside_the_new_primary_site_are_refused_before_any_op() {
    param_refused(
        "active_servers=pchat-red1.litwareinc.com,pchat-dub1.litwareinc.com",
        "pchat-red1.litwareinc.com (redmond)",
    );
}

#[test]
fn estate_syntax_error_names_file_line_and_column() {
    let db = Db::new();
    let text = common::builtin_estate().replace(
        "transactions_per_minute = 120",
        "transactions_per_minute = = 120",
    );
    let line = text.lines().position(|l| l.contains("= = 120")).unwrap() + 1;
    let p = db.write("bad.toml", &text);
    let out = db.run(&["drill", RB, "--estate", p.to_str().unwrap()]);
    out.code(2).stderr_has(&format!("bad.toml:{line}:"));
}

/// The XMPP route parameter the lab's shell takes is one of the two
/// documented forms; anything else stops the load at its line.
#[test]
fn estate_with_an_unknown_xmpp_route_parameter_is_refused_at_its_line() {
    let db = Db::new();
    let (estate, place) = estate_with(
        &db,
        "xmpp.toml",
        "lab_start = ",
        "xmpp_route_parameter = \"EdgeServer\"\nlab_start = ",
    );
    db.run(&["lab", "init", "--estate", &estate])
        .code(2)
        .stderr_has(&place)
        .stderr_has("unknown variant `EdgeServer`, expected `XmppFederationRoute` or `XmppExternalFederationRoute`");
    assert!(!db.lab_path().exists());
}

#[test]
fn estate_breaking_the_same_data_center_rule_is_refused() {
    let db = Db::new();
    let text = common::builtin_estate().replace(
        "active_servers = [\"pchat-red1.litwareinc.com\", \"pchat-red2.litwareinc.com\"]",
        "active_servers = [\"pchat-red1.litwareinc.com\", \"pchat-dub1.litwareinc.com\"]",
    );
    let p = db.write("split.toml", &text);
    db.run(&["drill", RB, "--estate", p.to_str().unwrap()])
        .code(2)
        .stderr_has("split.toml")
        .stderr_has("pchat-dub1.litwareinc.com (dublin) is not in site \"redmond\"");
    assert!(!db.lab_path().exists());
}

#[test]
fn estate_without_a_server_in_the_backup_site_is_refused_before_any_op() {
    let db = Db::new();
    let text = common::builtin_estate().replace(
        "  \"pchat-dub1.litwareinc.com\",\n  \"pchat-dub2.litwareinc.com\",\n",
        "",
    );
    let p = db.write("nobackup.toml", &text);
    db.run(&["lab", "init", "--estate", p.to_str().unwrap()])
        .ok();
    db.run(&["lab", "fault", "primary-site-down"]).ok();
    refused(
        &db,
        &["run", RB, "--estate", p.to_str().unwrap()],
        "has no Persistent Chat server in site dublin",
    );
}

#[test]
fn runbook_syntax_error_names_file_line_and_column() {
    let db = Db::new();
    let text = common::shipped_runbook(RB).replace(
        "let primary = pc.mgc.primary;",
        "let primary = pc.mgc.primary",
    );
    let line = text
        .lines()
        .position(|l| l == "let primary = pc.mgc.primary")
        .unwrap()
        + 2;
    let p = db.write("broken.rhai", &text);
    let out = db.run(&["check", p.to_str().unwrap()]);
    out.code(2).stderr_has(&format!("broken.rhai:{line}:"));
    db.run(&["run", p.to_str().unwrap()])
        .code(2)
        .stderr_has("syntax error");
}

#[test]
fn runbook_without_a_header_is_refused() {
    let db = Db::new();
    let p = db.write("nohdr.rhai", "step(\"x\", || 1);\n");
    db.run(&["check", p.to_str().unwrap()])
        .code(2)
        .stderr_has("the first statement must be `runbook(#{");
}

#[test]
fn run_without_a_lab_says_how_to_make_one() {
    let db = Db::new();
    db.run(&["run", RB])
        .code(2)
        .stderr_has("drillbook lab init");
}

#[test]
fn unknown_fault_lists_the_known_ones() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    refused(&db, &["lab", "fault", "site-down:atlantis"], "redmond");
    refused(&db, &["lab", "fault", "meteor"], "site-down");
}

#[test]
fn damaged_lab_state_is_reported_with_its_path() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    std::fs::write(db.lab_path(), "{ not json").unwrap();
    db.run(&["lab", "show"]).code(2).stderr_has("state.json");
}

#[test]
fn ops_outside_a_step_are_refused() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let p = db.write(
        "loose.rhai",
        "runbook(#{ name: \"loose\", version: \"1.0.0\", summary: \"s\", rto_minutes: 1 });\nsql::reachable(\"pcsql-dub1\");\n",
    );
    db.run(&["run", p.to_str().unwrap()])
        .code(1)
        .stderr_has("ops must run inside a step");
}

#[test]
fn input_files_that_are_not_utf8_are_bad_input() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let mut estate = common::builtin_estate().into_bytes();
    estate.extend_from_slice(b"\n# caf\xE9 in Latin-1\n");
    let path = db.path("latin1.toml");
    std::fs::write(&path, &estate).unwrap();
    refused(
        &db,
        &["run", RB, "--estate", path.to_str().unwrap()],
        "not UTF-8 text",
    );
    let rb = db.path("latin1.rhai");
    std::fs::write(&rb, b"// caf\xE9\nstep(\"x\", || 1);\n").unwrap();
    refused(&db, &["run", rb.to_str().unwrap()], "not UTF-8 text");
}

#[test]
fn an_estate_name_that_cannot_be_a_file_name_is_refused_at_load() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    for bad in ["../up", "a/b", ".hidden", "tab\there"] {
        let text =
            common::builtin_estate().replacen("name = \"litware\"", &format!("name = {bad:?}"), 1);
        let path = db.write("named.toml", &text);
        refused(
            &db,
            &["run", RB, "--estate", path.to_str().unwrap()],
            "must be a file name",
        );
    }
}

#[test]
fn decide_with_no_choices_is_a_runbook_error() {
    let db = Db::new();
    db.run(&["lab", "init"]).ok();
    let rb = db.local_runbook(
        "nochoice",
        "step(\"ask\", || decide(\"k\", \"which?\", []));",
    );
    db.run(&["run", &rb])
        .code(1)
        .stderr_has("no choices to offer");
}

/// The estate with `from` replaced by `to` (a `key = value` line, once),
/// written to `name`, and `name:line:col` of the value in it.
fn estate_with(db: &Db, name: &str, from: &str, to: &str) -> (String, String) {
    let base = common::builtin_estate();
    assert!(base.contains(from), "{from}");
    let text = base.replacen(from, to, 1);
    let offset = text.find(to).unwrap() + to.find(" = ").unwrap() + 3;
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').map_or(0, |n| n + 1) + 1;
    let path = db.write(name, &text);
    (
        path.to_str().unwrap().to_string(),
        format!("{name}:{line}:{col}: "),
    )
}

/// A drill on `estate` exits 2 naming `place` and `needle`, and makes no lab.
fn refused_at_load(db: &Db, estate: &str, place: &str, needle: &str) {
    db.run(&["drill", RB, "--estate", estate])
        .code(2)
        .stderr_has(place)
        .stderr_has(needle);
    assert!(!db.lab_path().exists(), "a lab was made from {estate}");
}

#[test]
fn a_unc_path_with_a_control_character_is_refused_at_load_with_its_place() {
    let db = Db::new();
    let (estate, place) = estate_with(
        &db,
        "bell.toml",
        "copy_folder = '\\\\pcsql-dub1.litwareinc.com\\lscopy'",
        "copy_folder = \"\\\\\\\\pcsql-dub1.litwareinc.com\\\\ls\\u0007copy\"",
    );
    let needle = "log_shipping.copy_folder = \"\\\\\\\\pcsql-dub1.litwareinc.com\\\\ls\\u{7}copy\" contains a control character (U+0007)";
    refused_at_load(&db, &estate, &place, needle);
}

#[test]
fn a_malformed_unc_path_is_refused_at_load_with_its_place() {
    let db = Db::new();
    for (i, bad) in [
        "'\\\\pcsql-dub1.litwareinc.com\\\\lscopy'",
        "'\\\\pcsql-dub1.litwareinc.com\\ls:copy'",
        "'\\\\pcsql-dub1.litwareinc.com'",
    ]
    .iter()
    .enumerate()
    {
        let (estate, place) = estate_with(
            &db,
            &format!("unc{i}.toml"),
            "copy_folder = '\\\\pcsql-dub1.litwareinc.com\\lscopy'",
            &format!("copy_folder = {bad}"),
        );
        refused_at_load(&db, &estate, &place, "is not a usable UNC path");
    }
}

#[test]
fn a_parameter_with_a_control_character_is_refused_before_any_op() {
    param_refused(
        "mirror_share=\\\\fs-dub1.litwareinc.com\\pc\u{1b}[2Jlogs",
        "contains a control character (U+001B)",
    );
}

#[test]
fn an_out_of_range_workload_is_refused_at_load_naming_the_allowed_range() {
    let db = Db::new();
    let (estate, place) = estate_with(
        &db,
        "busy.toml",
        "transactions_per_minute = 120",
        "transactions_per_minute = 1000000000000000000",
    );
    refused_at_load(
        &db,
        &estate,
        &place,
        "transactions_per_minute = 1000000000000000000 is out of range: it must be between 0 and 1000000",
    );
}

#[test]
fn an_out_of_range_workload_in_the_lab_state_is_refused() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let text = String::from_utf8(db.lab_bytes()).unwrap();
    assert!(text.contains("\"transactions_per_minute\": 120"));
    let text = text.replace(
        "\"transactions_per_minute\": 120",
        "\"transactions_per_minute\": 1000000000000000000",
    );
    std::fs::write(db.lab_path(), &text).unwrap();
    refused(
        &db,
        &["run", RB],
        "transactions_per_minute = 1000000000000000000 is out of range",
    );
}

#[test]
fn an_rto_beyond_a_week_is_a_header_error() {
    let db = Db::new();
    let shipped = common::shipped_runbook(RB);
    let text = shipped.replacen("rto_minutes: 10,", "rto_minutes: 9223372036854775807,", 1);
    assert_ne!(text, shipped);
    let path = db.write(
        "long-rto.rhai",
        &text.replacen(&format!("name: \"{RB}\""), "name: \"long-rto\"", 1),
    );
    db.run(&["drill", path.to_str().unwrap()])
        .code(2)
        .stderr_has("`rto_minutes` must be an integer between 1 and 10080 (a week)");
}
