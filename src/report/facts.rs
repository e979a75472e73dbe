//! The facts of a drill report, once: a headline and titled tables, which
//! the HTML and Markdown renderers lay out each in their own way, so both
//! formats say the same things.

use super::drill_summary::DrillSummary;
use super::duration;

/// One titled table.
pub struct Section {
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The report's title line: runbook, scenario, how it ended.
pub fn title(d: &DrillSummary) -> String {
    format!(
        "Drill {} {} · scenario {}: {}",
        d.runbook, d.version, d.scenario, d.status
    )
}

/// The verdict lines, most important first: where a failed run stopped,
/// the RTO against its target, the end state.
pub fn headline(d: &DrillSummary) -> Vec<String> {
    let mut out = Vec::new();
    if !d.scenario_summary.is_empty() {
        out.push(format!("Scenario: {}", d.scenario_summary));
    }
    if let Some(stop) = &d.stopped {
        let at = if stop.step.is_empty() {
            "before its first step".to_string()
        } else {
            format!("at step \u{201c}{}\u{201d}", stop.step)
        };
        out.push(format!("The drill {} {at}: {}", d.status, stop.message));
    }
    out.push(d.rto_line());
    let m = &d.measurements;
    let holds = m.expectations.iter().filter(|e| e.holds).count();
    out.push(format!(
        "End state: {holds} of {} expectations hold",
        m.expectations.len()
    ));
    out.push(format!("Run {}", d.run_id));
    out
}

/// The tables: steps, RPO per database, expectations, decisions, manual
/// steps, state before and after.
pub fn sections(d: &DrillSummary) -> Vec<Section> {
    let m = &d.measurements;
    let starts = d.step_starts();
    let mut out = vec![Section {
        title: "Steps",
        columns: vec![
            "#",
            "step",
            "status",
            "starts at",
            "simulated",
            "wall",
            "ops",
            "changes",
        ],
        rows: d
            .steps
            .iter()
            .zip(&starts)
            .map(|(s, start)| {
                vec![
                    (s.index + 1).to_string(),
                    s.name.clone(),
                    serde_json::to_value(s.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    duration(*start),
                    duration(s.sim_seconds),
                    format!("{} ms", s.wall_ms),
                    s.ops.to_string(),
                    s.changes.to_string(),
                ]
            })
            .collect(),
    }];
    out.push(Section {
        title: "RPO: data lost per database and pool",
        columns: vec!["recovered", "lost", "minutes lost"],
        rows: if m.recoveries.is_empty() {
            vec![vec![
                "nothing was recovered or failed over".into(),
                "0".into(),
                "0.0".into(),
            ]]
        } else {
            m.recoveries
                .iter()
                .map(|r| {
                    vec![
                        r.what.clone(),
                        format!("{} {}", r.lost, r.unit),
                        format!("{:.1}", r.minutes_lost),
                    ]
                })
                .collect()
        },
    });
    out.push(Section {
        title: "Expectations on the end state",
        columns: vec!["state", "expected", "found", "holds"],
        rows: m
            .expectations
            .iter()
            .map(|e| {
                vec![
                    e.pointer.clone(),
                    e.expected.to_string(),
                    e.actual.to_string(),
                    if e.holds { "yes" } else { "NO" }.into(),
                ]
            })
            .collect(),
    });
    out.push(Section {
        title: "Decisions",
        columns: vec!["step", "question", "choice", "by", "at"],
        rows: d
            .decisions
            .iter()
            .map(|c| {
                vec![
                    step_name(d, c.step),
                    c.key.clone(),
                    c.choice.clone(),
                    c.operator.clone(),
                    c.at.clone(),
                ]
            })
            .collect(),
    });
    out.push(Section {
        title: "Manual steps and confirmations",
        columns: vec!["step", "what", "confirmed by", "at"],
        rows: d
            .confirmations
            .iter()
            .map(|c| {
                vec![
                    step_name(d, c.step),
                    c.message.clone(),
                    c.operator.clone(),
                    c.at.clone(),
                ]
            })
            .collect(),
    });
    out.push(Section {
        title: "Estate state: before and after the run",
        columns: vec!["state", "before", "after"],
        rows: d
            .state_changes
            .iter()
            .map(|c| vec![c.pointer.clone(), c.before.to_string(), c.after.to_string()])
            .collect(),
    });
    out
}

fn step_name(d: &DrillSummary, index: usize) -> String {
    d.steps
        .iter()
        .find(|s| s.index == index)
        .map_or_else(|| format!("step {}", index + 1), |s| s.name.clone())
}
