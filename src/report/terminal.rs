//! Human output: one line per step (change ops indented below it) with an
//! indicatif progress bar on a terminal, a drill's measurements as a table,
//! and one summary line at the end of a run.

use super::summary::StepStatus;
use super::DrillSummary;
use super::{Event, Reporter};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::{Cell, RefCell};
use std::io::IsTerminal;

/// Renders events for a person at a terminal.
pub struct Human {
    verbose: bool,
    total: Cell<usize>,
    bar: RefCell<Option<ProgressBar>>,
    files: RefCell<Option<ProgressBar>>,
}

impl Human {
    pub fn new(verbose: bool) -> Human {
        Human {
            verbose,
            total: Cell::new(0),
            bar: RefCell::new(None),
            files: RefCell::new(None),
        }
    }

    fn println(&self, line: &str) {
        let line = super::visible(line);
        match self.bar.borrow().as_ref() {
            Some(bar) if !bar.is_hidden() => bar.suspend(|| println!("{line}")),
            _ => println!("{line}"),
        }
    }

    /// The drill's summary as a table: steps with their simulated and wall
    /// time, then RTO, RPO, the end state, and where a failed run stopped.
    fn drill_summary(&self, d: &DrillSummary) {
        let m = &d.measurements;
        self.println(&format!("drill summary ({} · {})", d.runbook, d.scenario));
        let w = d
            .steps
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        self.println(&format!(
            "  {:w$}  {:>10}  {:>9}",
            "step", "simulated", "wall"
        ));
        for s in &d.steps {
            let mark = match s.status {
                StepStatus::Completed | StepStatus::Replayed => "",
                StepStatus::Failed => "  FAILED",
                StepStatus::Waiting => "  WAITING",
                StepStatus::Stopped => "  STOPPED",
            };
            self.println(&format!(
                "  {:w$}  {:>10}  {:>6} ms{mark}",
                s.name,
                duration(s.sim_seconds),
                s.wall_ms
            ));
        }
        self.println(&format!("  {}", d.rto_line()));
        if m.recoveries.is_empty() {
            self.println("  RPO  no data was lost or recovered in this drill");
        }
        for r in &m.recoveries {
            self.println(&format!(
                "  RPO  {} {}, {:.1} minutes lost ({})",
                r.lost, r.unit, r.minutes_lost, r.what
            ));
        }
        for c in &d.decisions {
            self.println(&format!(
                "  decision {}: {} (by {} at {})",
                c.key, c.choice, c.operator, c.at
            ));
        }
        let holds = m.expectations.iter().filter(|e| e.holds).count();
        self.println(&format!(
            "  end state: {holds} of {} expectations hold",
            m.expectations.len()
        ));
        if let Some(stop) = &d.stopped {
            let at = if stop.step.is_empty() {
                "before its first step".to_string()
            } else {
                format!("at step `{}`", stop.step)
            };
            self.println(&format!("  the drill {} {at}: {}", d.status, stop.message));
        }
        self.println(&format!(
            "  report: drillbook report {} --format html -o report.html",
            d.run_id
        ));
    }

    fn step_label(&self, index: usize) -> String {
        let total = self.total.get();
        if total > 0 && index < total {
            format!("[{}/{total}]", index + 1)
        } else {
            format!("[{}]", index + 1)
        }
    }
}

fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

pub fn duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s:02}s"),
        _ => format!("{h}h {m:02}m {s:02}s"),
    }
}

impl Reporter for Human {
    fn event(&self, e: &Event) {
        match e {
            Event::RunStarted {
                run_id,
                runbook,
                version,
                target: t,
                mode,
                steps_total,
                resumed,
            } => {
                self.total.set(*steps_total);
                let verb = if *resumed { "resuming" } else { "run" };
                self.println(&format!(
                    "{verb} {run_id}: {runbook} {version} on {t} ({mode})"
                ));
                let bar = ProgressBar::with_draw_target(Some(*steps_total as u64), target());
                bar.set_style(
                    ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                *self.bar.borrow_mut() = Some(bar);
            }
            Event::StepStarted { index, name } => {
                if let Some(bar) = self.bar.borrow().as_ref() {
                    bar.set_message(super::visible(name).into_owned());
                }
                self.println(&format!("{} {name}", self.step_label(*index)));
            }
            Event::StepReplayed { index, name } => {
                self.println(&format!(
                    "{} {name} (done earlier; result from the journal)",
                    self.step_label(*index)
                ));
                if let Some(bar) = self.bar.borrow().as_ref() {
                    bar.inc(1);
                }
            }
            Event::StepCompleted { sim_seconds, .. } => {
                if let Some(bar) = self.bar.borrow().as_ref() {
                    bar.inc(1);
                }
                if let Some(files) = self.files.borrow_mut().take() {
                    files.finish_and_clear();
                }
                if self.verbose {
                    self.println(&format!("      ok ({} simulated)", duration(*sim_seconds)));
                }
            }
            Event::StepFailed { error, .. } => {
                self.println(&format!("      FAILED: {error}"));
            }
            Event::Op {
                host,
                change,
                planned,
                text,
                ok,
                error,
                ..
            } => {
                if *change || self.verbose {
                    let verb = match (change, planned) {
                        (true, true) => "would change",
                        (true, false) => "change",
                        (false, _) => "read",
                    };
                    self.println(&format!("      {verb} on {host}: {text}"));
                }
                if !ok && (*change || self.verbose) {
                    if let Some(err) = error {
                        self.println(&format!("        -> {err}"));
                    }
                }
            }
            Event::Log { message, .. } => self.println(&format!("      {message}")),
            Event::Progress {
                label, done, total, ..
            } => {
                let mut files = self.files.borrow_mut();
                let bar = files.get_or_insert_with(|| {
                    let b = ProgressBar::with_draw_target(Some(*total), target());
                    b.set_style(
                        ProgressStyle::with_template("      {bar:30} {pos}/{len} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    b
                });
                bar.set_length(*total);
                bar.set_position(*done);
                bar.set_message(super::visible(label).into_owned());
            }
            Event::DecisionNeeded {
                question, choices, ..
            } => {
                self.println(&format!(
                    "      DECISION NEEDED: {question} (choices: {})",
                    choices.join(", ")
                ));
            }
            Event::Confirmed {
                message, operator, ..
            } => {
                self.println(&format!("      confirmed by {operator}: {message}"));
            }
            Event::DrillSummary(d) => self.drill_summary(d),
            Event::DrillNotApplicable {
                runbook,
                scenario,
                reason,
            } => self.println(&format!(
                "drill {runbook} · scenario {scenario}: not applicable: {reason}"
            )),
            Event::RunFinished {
                run_id,
                status,
                message,
                steps,
                ops,
                changes,
                sim_seconds,
                wall_ms,
            } => {
                if let Some(bar) = self.bar.borrow_mut().take() {
                    bar.finish_and_clear();
                }
                let sim = sim_seconds
                    .map(|s| format!(", {} simulated", duration(s)))
                    .unwrap_or_default();
                let tail = if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                };
                let line = format!(
                    "{run_id} {status}: {steps} steps, {ops} ops ({changes} changes){sim}, {:.1}s wall{tail}",
                    *wall_ms as f64 / 1000.0
                );
                println!("{}", super::visible(&line));
            }
        }
    }

    fn text(&self, line: &str) {
        self.println(line);
    }
}
