//! `drillbook test [RUNBOOK|FILE...]`: every drill scenario of the chosen
//! runbooks (all shipped and local ones by default) drilled as a test, each
//! in a home of its own under `<home>/test/`, so its journal and lab stay
//! for `report` and `lab show` afterwards. One line per scenario with a
//! known total, one summary line, JUnit XML for CI, exit 1 on any failure.
//!
//! A scenario passes when its run ends as the scenario expects: by default
//! succeeded with its end state as expected; with `expect_exit`,
//! `expect_error` or `expect_decision`, the documented refusal.

use super::drill::Setting;
use super::{load_estate, Env};
use crate::drill::roles::resolve_scenario;
use crate::error::{Error, Result};
use crate::report::junit::{self, Case, Verdict};
use crate::report::quiet::Quiet;
use crate::run::Frontend;
use crate::runbook::{scenario::Outcome, Runbook};
use clap::Args;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Runbooks to test: shipped or local ids, or .rhai files [default: all]
    #[arg(value_name = "RUNBOOK|FILE")]
    pub names: Vec<String>,
    /// Estate file [default: the built-in litware estate]; scenarios that
    /// name what it lacks are not applicable
    #[arg(long, value_name = "FILE")]
    pub estate: Option<PathBuf>,
    /// Also write the results as JUnit XML
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// A scenario whose simulated RTO misses the runbook's target fails
    #[arg(long)]
    pub strict_rto: bool,
}

pub fn run(env: &Env, args: TestArgs) -> Result<i32> {
    let runbooks = if args.names.is_empty() {
        crate::runbook::all(env.runbooks.as_deref())?
    } else {
        args.names
            .iter()
            .map(|spec| Runbook::find(spec, env.runbooks.as_deref()))
            .collect::<Result<_>>()?
    };
    for rb in &runbooks {
        rb.refuse_shadowing(env.override_shipped)?;
    }
    let estate = load_estate(args.estate.as_ref())?;
    let cases: Vec<(&Runbook, &crate::runbook::Scenario)> = runbooks
        .iter()
        .flat_map(|rb| rb.header.scenarios.iter().map(move |s| (rb, s)))
        .collect();
    let total = cases.len();
    let width = total.to_string().len();
    println!(
        "testing {total} scenario(s) of {} runbook(s)",
        runbooks.len()
    );
    let started = Instant::now();
    let mut results = Vec::new();
    for (n, (rb, scenario)) in cases.iter().enumerate() {
        let home = env
            .home
            .join("test")
            .join(&rb.header.name)
            .join(&scenario.name);
        let _ = std::fs::remove_dir_all(&home);
        let mut opts = env.run_options();
        opts.home = home;
        opts.yes = true;
        let frontend = Frontend {
            reporter: Rc::new(Quiet),
            ..env.frontend()
        };
        let setting = Setting {
            runbooks: env.runbooks.as_deref(),
            opts: &opts,
            frontend: &frontend,
            strict_rto: args.strict_rto,
        };
        let clock = Instant::now();
        let verdict = match resolve_scenario(rb, scenario, &estate, &[])? {
            Err(na) => Verdict::Skipped(format!("not applicable: {}", na.0)),
            Ok((resolved, _)) => {
                let ended = setting.drill(rb, &resolved, estate.clone(), &[], Vec::new());
                judge(&scenario.outcome, &ended, args.estate.is_some())
            }
        };
        let seconds = clock.elapsed().as_secs_f64();
        let label = match &verdict {
            Verdict::Passed => "PASS",
            Verdict::Failed(_) => "FAIL",
            Verdict::Skipped(_) => "N/A ",
        };
        println!(
            "[{:>width$}/{total}] {label} [{seconds:>7.3}s] {} · {}",
            n + 1,
            rb.header.name,
            scenario.name
        );
        match &verdict {
            Verdict::Failed(why) | Verdict::Skipped(why) => {
                for line in why.lines() {
                    println!("        {line}");
                }
            }
            Verdict::Passed => {}
        }
        results.push(Case {
            class: rb.header.name.clone(),
            name: scenario.name.clone(),
            seconds,
            verdict,
        });
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, junit::render("drillbook test", &results))
            .map_err(|e| Error::io(path, e))?;
    }
    let count = |f: fn(&Verdict) -> bool| results.iter().filter(|c| f(&c.verdict)).count();
    let passed = count(|v| matches!(v, Verdict::Passed));
    let failed = count(|v| matches!(v, Verdict::Failed(_)));
    let skipped = count(|v| matches!(v, Verdict::Skipped(_)));
    println!(
        "{total} scenario(s) run in {:.3}s: {passed} passed, {failed} failed, {skipped} not applicable",
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        return Err(Error::TestsFailed {
            total,
            failures: results
                .iter()
                .filter_map(|c| match &c.verdict {
                    Verdict::Failed(why) => Some(format!(
                        "{} · {}: {}",
                        c.class,
                        c.name,
                        why.lines().next().unwrap_or("")
                    )),
                    _ => None,
                })
                .collect(),
        });
    }
    Ok(0)
}

/// Whether a drill ended as its scenario expects. With another estate
/// than the built-in one, a scenario naming an object or fault target the
/// estate lacks is not applicable rather than failed.
fn judge(expected: &Outcome, ended: &Result<i32>, other_estate: bool) -> Verdict {
    let (code, message, decision) = match ended {
        Ok(code) => (*code, String::new(), None),
        Err(e @ (Error::Param { .. } | Error::Fault { .. })) if other_estate => {
            return Verdict::Skipped(e.to_string())
        }
        Err(e) => (
            e.exit_code(),
            e.to_string(),
            match e {
                Error::WaitingForDecision { key, .. } => Some(key.clone()),
                _ => None,
            },
        ),
    };
    let mut wrong = Vec::new();
    if code != expected.exit_code() {
        wrong.push(format!(
            "expected exit {}, the drill exited {code}",
            expected.exit_code()
        ));
    }
    if let Some(text) = &expected.error {
        if !message.contains(text.as_str()) {
            wrong.push(format!("expected an error containing {text:?}"));
        }
    }
    if let Some(key) = &expected.decision {
        if decision.as_deref() != Some(key.as_str()) {
            wrong.push(format!("expected the run to wait for decision `{key}`"));
        }
    }
    if wrong.is_empty() {
        return Verdict::Passed;
    }
    if !message.is_empty() {
        wrong.push(message);
    }
    Verdict::Failed(wrong.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(key: &str) -> Result<i32> {
        Err(Error::WaitingForDecision {
            run_id: "r".into(),
            step: "s".into(),
            key: key.into(),
            question: "q".into(),
            choices: vec![],
        })
    }

    #[test]
    fn a_documented_refusal_passes_and_success_does_not() {
        let expected = Outcome {
            decision: Some("log-chain-gap".into()),
            ..Default::default()
        };
        assert_eq!(
            judge(&expected, &waiting("log-chain-gap"), false),
            Verdict::Passed
        );
        assert!(matches!(
            judge(&expected, &waiting("other"), false),
            Verdict::Failed(_)
        ));
        assert!(matches!(
            judge(&expected, &Ok(0), false),
            Verdict::Failed(_)
        ));
        assert_eq!(judge(&Outcome::default(), &Ok(0), false), Verdict::Passed);
    }
}
