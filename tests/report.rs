//! Drill reports: the summary kept in the journal (also for a failed
//! drill), `drillbook report` in every format, the HTML rendered by a real
//! browser (headless Chromium), and the RTO miss made visible.

mod common;

use common::Db;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A drill of the Persistent Chat failover with a missing log backup: a
/// decision, data lost, a dozen steps.
fn drilled(db: &Db) -> String {
    db.run(&[
        "--yes",
        "drill",
        "persistent-chat-failover",
        "--scenario",
        "missing-log-backup",
    ])
    .ok();
    db.last_run()
}

/// `report RUN --format html -o report.html`; the file's path.
fn html_report(db: &Db, run: &str) -> PathBuf {
    let path = db.path("report.html");
    db.run(&[
        "report",
        run,
        "--format",
        "html",
        "-o",
        path.to_str().unwrap(),
    ])
    .ok();
    path
}

fn summary_record(db: &Db, run: &str) -> Value {
    db.journal(run)
        .into_iter()
        .rev()
        .find(|r| r["type"] == "drill_summary")
        .expect("the journal holds the drill summary")
}

#[test]
fn the_drill_summary_is_kept_in_the_journal() {
    let db = Db::new();
    let run = drilled(&db);
    let s = summary_record(&db, &run);
    assert_eq!(s["status"], "succeeded");
    assert_eq!(s["steps"].as_array().unwrap().len(), 15);
    assert!(s["steps"][0]["sim_seconds"].as_u64().is_some());
    assert!(s["steps"][0]["wall_ms"].as_u64().is_some());
    assert_eq!(s["measurements"]["rto_target_seconds"], 600);
    let rpo = &s["measurements"]["recoveries"][0];
    assert_eq!(rpo["what"], "mgc on pcsql-dub1");
    assert!(rpo["lost"].as_u64().unwrap() > 0);
    let decision = &s["decisions"][0];
    assert_eq!(decision["key"], "log-chain-gap");
    assert_eq!(decision["choice"], "accept-data-loss");
    assert_eq!(decision["operator"], "test-operator");
    assert!(decision["at"].as_str().unwrap().ends_with('Z'));
    let changed: Vec<&str> = s["state_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pointer"].as_str().unwrap())
        .collect();
    assert!(
        changed.contains(&"/lync/persistent_chat/pchat.litwareinc.com/state"),
        "{changed:?}"
    );
}

#[test]
fn a_failed_drill_summarizes_where_it_stopped() {
    let db = Db::new();
    // Without the decision its scenario gives, the restore stops at the gap.
    let out = db.run(&[
        "--yes",
        "drill",
        "persistent-chat-failover",
        "--scenario",
        "missing-log-backup",
        "--decision",
        "log-chain-gap=",
    ]);
    out.code(3).stdout_has("drill summary");
    out.stdout_has("the drill waiting at step `restore unapplied log backups in LSN order`");
    let s = summary_record(&db, &db.last_run());
    assert_eq!(s["status"], "waiting");
    assert_eq!(
        s["stopped"]["step"],
        "restore unapplied log backups in LSN order"
    );
    let md = db.run(&["report", &db.last_run(), "--format", "md"]);
    md.ok()
        .stdout_has("The drill waiting at step “restore unapplied log backups in LSN order”");
}

#[test]
fn an_rto_miss_is_flagged_and_strict_rto_fails_the_drill() {
    let db = Db::new();
    // cms-failover misses its own 5-minute RTO in its own scenario.
    let out = db.run(&["--yes", "drill", "cms-failover"]);
    out.ok().stdout_has("target 5m 00s (MISSED)");
    let md = db.run(&["report", &db.last_run(), "--format", "md"]);
    md.ok().stdout_has("(MISSED)");
    let strict = db.run(&["--yes", "drill", "cms-failover", "--strict-rto"]);
    strict
        .code(1)
        .stderr_has("RTO 5m 21s simulated, target 5m 00s (MISSED)");
}

#[test]
fn markdown_and_json_reports_tell_the_same_facts() {
    let db = Db::new();
    let run = drilled(&db);
    let json = db.run(&["report", &run, "--format", "json"]);
    json.ok();
    let s: Value = serde_json::from_str(&json.stdout).unwrap();
    let md = db.run(&["report", &run, "--format", "md"]);
    md.ok();
    let html = std::fs::read_to_string(html_report(&db, &run)).unwrap();
    for step in s["steps"].as_array().unwrap() {
        let name = step["name"].as_str().unwrap();
        assert!(md.stdout.contains(name), "md lacks step {name}");
        assert!(html.contains(name), "html lacks step {name}");
    }
    let rpo = &s["measurements"]["recoveries"][0];
    let lost = format!("{} transactions", rpo["lost"]);
    for text in [
        lost.as_str(),
        "mgc on pcsql-dub1",
        "accept-data-loss",
        "test-operator",
        "/lync/persistent_chat/pchat.litwareinc.com/state",
        "RTO 5m",
    ] {
        assert!(md.stdout.contains(text), "md lacks {text}:\n{}", md.stdout);
        assert!(html.contains(text), "html lacks {text}");
    }
}

#[test]
fn a_junit_report_of_a_drill_parses() {
    let db = Db::new();
    let run = drilled(&db);
    let out = db.run(&["report", &run, "--format", "junit"]);
    out.ok();
    let doc = roxmltree::Document::parse(&out.stdout).expect("JUnit XML parses");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    // 15 steps, 2 expectations, the RTO.
    assert_eq!(cases.len(), 18);
    assert!(doc.descendants().all(|n| !n.has_tag_name("failure")));
}

#[test]
fn report_of_a_run_that_is_not_a_drill_says_so() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    db.run(&["--yes", "run", "estate-check"]);
    let out = db.run(&["report", &db.last_run()]);
    out.code(2).stderr_has("has no drill summary");
}

/// Headless Chromium, if this machine has it; CI (`.ci/run`) installs it,
/// so there its absence is a failure.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must have chromium: .ci/run installs it"
    );
    eprintln!("chromium not found: skipping the browser test");
    None
}

fn browser(bin: &Path, profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium")
}

#[test]
fn the_html_report_renders_in_a_browser_with_one_bar_per_step() {
    let Some(bin) = chromium() else { return };
    let db = Db::new();
    let run = drilled(&db);
    let html = html_report(&db, &run);
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(!text.contains("<script"), "the report needs no JavaScript");
    assert!(
        !text.contains("http://") || text.matches("http://").count() == 1,
        "only the SVG namespace may name a URL"
    );
    let url = format!("file://{}", html.display());
    let profile = db.path("chromium-profile");

    // The DOM as the browser built it: one bar per step.
    let dom = browser(&bin, &profile, &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    let bars = dom.matches("class=\"step-bar\"").count();
    assert_eq!(bars, 15, "one bar per step in the rendered DOM");
    assert!(dom.contains("class=\"rto-target\""));
    assert!(dom.contains("class=\"op-change\""));
    assert!(dom.contains("class=\"op-read\""));
    assert!(dom.contains("class=\"decision\""));

    // The page as pixels: not blank.
    let png_path = db.path("report.png");
    let shot = browser(
        &bin,
        &profile,
        &[
            &format!("--screenshot={}", png_path.display()),
            "--window-size=1100,900",
            &url,
        ],
    );
    assert!(
        png_path.exists(),
        "chromium wrote no screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let decoder = png::Decoder::new(std::fs::File::open(&png_path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let pixels = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let luma: Vec<f64> = pixels
        .chunks(channels)
        .map(|p| p.iter().take(3).map(|&v| v as f64).sum::<f64>() / 3.0)
        .collect();
    let mean = luma.iter().sum::<f64>() / luma.len() as f64;
    let variance = luma.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / luma.len() as f64;
    let dark = luma.iter().filter(|v| **v < 128.0).count();
    assert!(
        variance > 100.0,
        "the screenshot is blank (variance {variance:.1})"
    );
    assert!(
        dark > 1000,
        "hardly any ink on the page ({dark} dark pixels)"
    );
}
