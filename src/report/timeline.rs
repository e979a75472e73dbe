//! The drill's timeline as SVG, readable without JavaScript: one row per
//! step with a bar on the simulated time axis (coloured by how the step
//! ended), its ops as ticks (changes tall and dark, reads short and pale),
//! decisions and manual steps marked, and the RTO target as a vertical line.
//! Every mark carries a `<title>`, which browsers show on hover.

use super::drill_summary::DrillSummary;
use super::junit::escape;
use super::summary::StepStatus;
use std::fmt::Write as _;

const LABEL: f64 = 300.0;
const PLOT: f64 = 620.0;
const ROW: f64 = 26.0;
const TOP: f64 = 30.0;

/// The SVG element (no XML prolog: it is embedded in the HTML report).
pub fn svg(d: &DrillSummary) -> String {
    let starts = d.step_starts();
    let end = starts
        .last()
        .zip(d.steps.last())
        .map_or(0, |(s, step)| s + step.sim_seconds);
    let m = &d.measurements;
    let span = end.max(m.rto_target_seconds).max(m.rto_seconds).max(60) as f64 * 1.05;
    let x = |t: u64| LABEL + PLOT * t as f64 / span;
    let rows = d.steps.len() as f64;
    let height = TOP + ROW * rows + 40.0;
    let width = LABEL + PLOT + 40.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"drill timeline\">"
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width:.0}\" height=\"{height:.0}\" fill=\"#ffffff\"/>"
    );
    axis(&mut out, span, height, &x);
    for (i, (s, start)) in d.steps.iter().zip(&starts).enumerate() {
        let y = TOP + ROW * i as f64;
        let (fill, word) = match s.status {
            StepStatus::Completed | StepStatus::Replayed => ("#3b7dd8", "completed"),
            StepStatus::Failed => ("#c62828", "failed"),
            StepStatus::Waiting => ("#ef8f00", "waiting"),
            StepStatus::Stopped => ("#8d6e63", "stopped"),
        };
        let w = (x(start + s.sim_seconds) - x(*start)).max(2.0);
        let name = escape(&s.name);
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">{}</text>",
            LABEL - 8.0,
            y + 16.0,
            escape(&short(&s.name, 44))
        );
        let _ = writeln!(
            out,
            "<rect class=\"step-bar\" data-status=\"{word}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"16\" rx=\"2\" fill=\"{fill}\"><title>{name}: {word}, {} simulated, from {}</title></rect>",
            x(*start),
            y + 4.0,
            super::duration(s.sim_seconds),
            super::duration(*start)
        );
        for op in d.ops.iter().filter(|o| o.step == s.index) {
            let (class, top, len, colour) = if op.change {
                ("op-change", y + 1.0, 22.0, "#111111")
            } else {
                ("op-read", y + 14.0, 8.0, "#9e9e9e")
            };
            let _ = writeln!(
                out,
                "<line class=\"{class}\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top:.1}\" y2=\"{1:.1}\" stroke=\"{colour}\" stroke-width=\"1.5\"><title>{2} on {3}: {4}</title></line>",
                x(op.at),
                top + len,
                if op.change { "change" } else { "read" },
                escape(&op.host),
                escape(&op.text)
            );
        }
        for c in d.decisions.iter().filter(|c| c.step == s.index) {
            let cx = x(start + s.sim_seconds);
            let _ = writeln!(
                out,
                "<path class=\"decision\" d=\"M{cx:.1} {0:.1} l6 6 l-6 6 l-6 -6 z\" fill=\"#ef8f00\" stroke=\"#222\"><title>decision {1}: {2} (by {3} at {4})</title></path>",
                y + 2.0,
                escape(&c.key),
                escape(&c.choice),
                escape(&c.operator),
                escape(&c.at)
            );
        }
        for c in d.confirmations.iter().filter(|c| c.step == s.index) {
            let _ = writeln!(
                out,
                "<circle class=\"manual\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#6a1b9a\"><title>manual, confirmed by {} at {}: {}</title></circle>",
                x(*start),
                y + 12.0,
                escape(&c.operator),
                escape(&c.at),
                escape(&c.message)
            );
        }
    }
    let rx = x(m.rto_target_seconds);
    let _ = writeln!(
        out,
        "<line class=\"rto-target\" x1=\"{rx:.1}\" x2=\"{rx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#c62828\" stroke-width=\"2\" stroke-dasharray=\"6 4\"><title>RTO target {}</title></line>",
        TOP - 12.0,
        TOP + ROW * rows,
        super::duration(m.rto_target_seconds)
    );
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#c62828\">RTO target {}</text>",
        rx - 4.0,
        TOP - 14.0,
        super::duration(m.rto_target_seconds)
    );
    out.push_str("</svg>\n");
    out
}

/// Minute ticks along the bottom.
fn axis(out: &mut String, span: f64, height: f64, x: &dyn Fn(u64) -> f64) {
    let y = height - 30.0;
    let _ = writeln!(
        out,
        "<line x1=\"{LABEL}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#444\"/>",
        LABEL + PLOT
    );
    let minutes = (span / 60.0).ceil() as u64;
    let every = [1, 2, 5, 10, 15, 30, 60, 120]
        .into_iter()
        .find(|e| minutes / e <= 12)
        .unwrap_or(240);
    for m in (0..=minutes).step_by(every as usize) {
        let tx = x(m * 60);
        if tx > LABEL + PLOT {
            break;
        }
        let _ = writeln!(
            out,
            "<line x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{y:.1}\" y2=\"{:.1}\" stroke=\"#444\"/><text x=\"{tx:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#444\">{m} min</text>",
            y + 5.0,
            y + 18.0
        );
    }
}

/// A label cut to `max` characters.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}
