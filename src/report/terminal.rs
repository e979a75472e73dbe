//! Human output: one line per step (change ops indented below it) with an
//! indicatif progress bar on a terminal, a drill's measurements as a table,
//! and one summary line at the end of a run.

use super::style::Style;
use super::summary::StepStatus;
use super::DrillSummary;
use super::{Event, Reporter};
use crate::time::duration;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::{Cell, RefCell};
use std::io::IsTerminal;

/// Renders events for a person at a terminal. Lines go to stdout; one
/// progress bar (steps done, the running step, and a loop's progress inside
/// it) to stderr, at a terminal only. Every printed line suspends the bar,
/// the bar fits the terminal's width (`wide_msg`), and it is cleared when
/// the run ends: nothing stale is left in the scrollback. (One bar, not
/// two: two independent bars on one terminal draw over each other.)
pub struct Human {
    verbose: bool,
    style: Style,
    total: Cell<usize>,
    bar: RefCell<Option<ProgressBar>>,
    /// The running step's name, the bar's message between loop updates.
    step: RefCell<String>,
}

impl Human {
    pub fn new(verbose: bool, style: Style) -> Human {
        Human {
            verbose,
            style,
            total: Cell::new(0),
            bar: RefCell::new(None),
            step: RefCell::new(String::new()),
        }
    }

    fn println(&self, line: &str) {
        let line = if self.style.on {
            super::visible::visible_in_colour(line)
        } else {
            super::visible(line)
        };
        match self.bar.borrow().as_ref() {
            Some(bar) if !bar.is_hidden() => bar.suspend(|| println!("{line}")),
            _ => println!("{line}"),
        }
    }

    /// The bar's message back to the step's name (its loop is over).
    fn clear_files(&self) {
        if let Some(bar) = self.bar.borrow().as_ref() {
            bar.set_message(self.step.borrow().clone());
        }
    }

    fn clear_bars(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
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
                StepStatus::Completed | StepStatus::Replayed => String::new(),
                StepStatus::Failed => format!("  {}", self.style.failed("FAILED")),
                StepStatus::Waiting => format!("  {}", self.style.waiting("WAITING")),
                StepStatus::Stopped => format!("  {}", self.style.failed("STOPPED")),
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
            // Why follows as the run's error, said once.
            self.println(&format!(
                "  the drill {} {at} (the error follows)",
                d.status
            ));
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
                self.clear_bars();
                let bar = ProgressBar::with_draw_target(Some(*steps_total as u64), target());
                bar.set_style(
                    ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                *self.bar.borrow_mut() = Some(bar);
            }
            Event::StepStarted { index, name } => {
                *self.step.borrow_mut() = name.clone();
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
                self.clear_files();
                if self.verbose {
                    self.println(&format!(
                        "      {} ({} simulated)",
                        self.style.done("ok"),
                        duration(*sim_seconds)
                    ));
                }
            }
            Event::StepFailed { error, .. } => {
                self.clear_files();
                self.println(&format!("      {}: {error}", self.style.failed("FAILED")));
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
                        (true, true) => self.style.change("would change"),
                        (true, false) => self.style.change("change"),
                        (false, _) => self.style.read("read"),
                    };
                    self.println(&format!("      {verb} on {host}: {text}"));
                }
                if !ok && (*change || self.verbose) {
                    if let Some(err) = error {
                        self.println(&format!("        -> {}", self.style.failed(err)));
                    }
                }
            }
            Event::Log { message, .. } => self.println(&format!("      {message}")),
            Event::Progress {
                label, done, total, ..
            } => {
                if let Some(bar) = self.bar.borrow().as_ref() {
                    bar.set_message(format!("{}  ({done}/{total} {label})", self.step.borrow()));
                }
            }
            // The question itself is said once, by the error the waiting
            // run ends with (or by the operator's prompt at a terminal).
            Event::DecisionNeeded { key, .. } => self.println(&format!(
                "      {} for the operator's decision `{key}`",
                self.style.waiting("waiting")
            )),
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
            // Why a run did not succeed follows as its error (`error: ...`),
            // so the summary line does not say it too.
            Event::RunFinished {
                run_id,
                status,
                steps,
                ops,
                changes,
                sim_seconds,
                wall_ms,
                ..
            } => {
                self.clear_bars();
                let sim = sim_seconds
                    .map(|s| format!(", {} simulated", duration(s)))
                    .unwrap_or_default();
                self.println(&format!(
                    "{run_id} {}: {steps} steps, {ops} ops ({changes} changes){sim}, {:.1}s wall",
                    self.style.status(status),
                    *wall_ms as f64 / 1000.0
                ));
            }
        }
    }

    fn text(&self, line: &str) {
        self.println(line);
    }

    fn detail(&self, line: &str) {
        if self.verbose {
            self.println(line);
        }
    }

    fn suspend(&self, f: &mut dyn FnMut()) {
        match self.bar.borrow().as_ref() {
            Some(bar) if !bar.is_hidden() => bar.suspend(f),
            _ => f(),
        }
    }
}
