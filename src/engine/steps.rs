//! Steps and the other primitives that shape a run: `step`, `confirm`,
//! `manual`, `require`, `decide`, `abort`, `log`; and `perform`, the one road
//! from the script to the target.
//!
//! Checkpoint semantics: a step's start, ops and result are journaled. On
//! resume the script runs again from the top; a step the journal shows
//! completed returns its journaled result without running; a step that
//! started and did not finish is in doubt and runs again only if it is
//! declared idempotent, sent no change, or the operator says so.

use super::context::{ActiveStep, Mode, Prior, StepOutcome};
use super::Shared;
use crate::error::Error;
use crate::journal::Record;
use crate::op::Op;
use crate::report::Event;
use crate::targets::OpError;
use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext, Position};
use serde_json::Value;
use std::io::IsTerminal;
use std::time::Instant;

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// A catchable script error with a message.
pub fn script_error(message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message.into()),
        Position::NONE,
    ))
}

/// Stop the script for a reason the runbook cannot catch.
pub fn stop<T>(ctx: &Shared, reason: Error) -> RhaiResult<T> {
    let mut c = ctx.borrow_mut();
    if c.stop.is_none() {
        c.stop = Some(reason);
    }
    Err(terminated())
}

fn terminated() -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorTerminated(
        Dynamic::UNIT,
        Position::NONE,
    ))
}

fn check_not_stopped(ctx: &Shared) -> RhaiResult<()> {
    if ctx.borrow().stop.is_some() {
        Err(terminated())
    } else {
        Ok(())
    }
}

/// An op error as a script value: `#{kind, number, message, text, reason}`,
/// so a runbook can `catch (e)` and look at `e.number` or `e.reason` (a
/// refusal's code, `()` for other errors).
pub fn op_error(e: &OpError) -> Box<EvalAltResult> {
    let mut m = Map::new();
    let v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Value::Object(o) = v {
        for (k, v) in o {
            m.insert(
                k.into(),
                rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT),
            );
        }
    }
    m.insert("text".into(), e.to_string().into());
    m.entry("reason".into()).or_insert(Dynamic::UNIT);
    Box::new(EvalAltResult::ErrorRuntime(m.into(), Position::NONE))
}

/// A script error as one line for the journal and the operator.
pub fn describe(err: &EvalAltResult) -> String {
    match err {
        EvalAltResult::ErrorRuntime(v, pos) => {
            let msg = match v.read_lock::<Map>() {
                Some(m) => m
                    .get("text")
                    .or_else(|| m.get("message"))
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| v.to_string()),
                None => v.to_string(),
            };
            match pos.line() {
                Some(l) => format!("{msg} (line {l})"),
                None => msg,
            }
        }
        EvalAltResult::ErrorInFunctionCall(name, _, inner, _)
            if name.is_empty() || name.starts_with("anon$") =>
        {
            describe(inner)
        }
        EvalAltResult::ErrorInFunctionCall(name, _, inner, _) => {
            format!("{} (in {name})", describe(inner))
        }
        EvalAltResult::ErrorInModule(name, inner, _) => {
            format!("{} (in module {name})", describe(inner))
        }
        EvalAltResult::ErrorTooManyOperations(pos) => format!(
            "the runbook ran more than {} operations without finishing (a runaway loop?) — stopped by the sandbox (line {})",
            super::MAX_OPERATIONS,
            pos.line().unwrap_or(0)
        ),
        EvalAltResult::ErrorStackOverflow(pos) => {
            format!("calls nested too deeply (runaway recursion?) — stopped by the sandbox (line {})", pos.line().unwrap_or(0))
        }
        other => other.to_string(),
    }
}

pub fn to_value(d: &Dynamic) -> RhaiResult<Value> {
    rhai::serde::from_dynamic::<Value>(d).map_err(|e| {
        script_error(format!(
            "a step result must be plain data (maps, arrays, strings, numbers): {e}"
        ))
    })
}

pub fn to_dynamic(v: &Value) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

fn now() -> String {
    crate::time::rfc3339(crate::time::now_epoch())
}

/// Journal a record; a failure to write stops the run (nothing unrecorded happens).
fn journal(ctx: &Shared, record: Record) -> RhaiResult<()> {
    let res = ctx.borrow_mut().journal(record);
    match res {
        Ok(()) => Ok(()),
        Err(e) => stop(ctx, e),
    }
}

/// Run one step with checkpointing. `body` is the step's work.
pub fn run_step(
    ctx: &Shared,
    name: &str,
    idempotent: bool,
    body: impl FnOnce() -> RhaiResult<Dynamic>,
) -> RhaiResult<Dynamic> {
    check_not_stopped(ctx)?;
    if let Some(a) = &ctx.borrow().active {
        return Err(script_error(format!(
            "step `{name}` was called inside step `{}`: steps cannot nest",
            a.name
        )));
    }
    let (index, prior, run_id, rerun_flag) = {
        let mut c = ctx.borrow_mut();
        let i = c.next_index;
        c.next_index += 1;
        (
            i,
            c.replay.steps.get(&i).cloned(),
            c.run_id.clone(),
            c.rerun_in_doubt,
        )
    };
    if let Some(p) = prior {
        if p.name != name {
            return stop(
                ctx,
                Error::Diverged {
                    run_id,
                    index: index + 1,
                    journaled: p.name,
                    found: name.to_string(),
                },
            );
        }
        match p.prior {
            Prior::Completed(v) => {
                let c = ctx.borrow();
                c.reporter.event(&Event::StepReplayed {
                    index,
                    name: name.to_string(),
                });
                drop(c);
                ctx.borrow_mut().outcomes.push(StepOutcome {
                    index,
                    name: name.to_string(),
                    status: "replayed".into(),
                    sim_seconds: 0,
                    wall_ms: 0,
                    ops: 0,
                    changes: 0,
                });
                return Ok(to_dynamic(&v));
            }
            // A step that may have sent a change runs again only if it is
            // idempotent or the operator says so.
            prior => {
                if let Some((true, last_op)) = prior.doubt() {
                    if !idempotent && !rerun_flag {
                        return stop(
                            ctx,
                            Error::InDoubt {
                                run_id,
                                step: name.to_string(),
                                last_op,
                            },
                        );
                    }
                }
            }
        }
    }
    journal(
        ctx,
        Record::StepStarted {
            index,
            name: name.to_string(),
            idempotent,
            at: now(),
        },
    )?;
    let clock0 = {
        let mut c = ctx.borrow_mut();
        c.reporter.event(&Event::StepStarted {
            index,
            name: name.to_string(),
        });
        c.active = Some(ActiveStep {
            index,
            name: name.to_string(),
            idempotent,
            changes: 0,
            ops: 0,
            sim_seconds: 0,
        });
        c.target.clock()
    };
    let wall = Instant::now();
    let result = body();
    let wall_ms = wall.elapsed().as_millis() as u64;
    let (active, clock1) = {
        let mut c = ctx.borrow_mut();
        (c.active.take(), c.target.clock())
    };
    let active = active.unwrap_or(ActiveStep {
        index,
        name: name.to_string(),
        idempotent,
        changes: 0,
        ops: 0,
        sim_seconds: 0,
    });
    let sim_seconds = match (clock0, clock1) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => active.sim_seconds,
    };
    let outcome = |status: &str| StepOutcome {
        index,
        name: name.to_string(),
        status: status.into(),
        sim_seconds,
        wall_ms,
        ops: active.ops,
        changes: active.changes,
    };
    match result.and_then(|v| to_value(&v).map(|j| (v, j))) {
        Ok((v, json)) => {
            journal(
                ctx,
                Record::StepCompleted {
                    index,
                    name: name.to_string(),
                    result: json,
                    wall_ms,
                    sim_seconds,
                },
            )?;
            let mut c = ctx.borrow_mut();
            c.reporter.event(&Event::StepCompleted {
                index,
                name: name.to_string(),
                sim_seconds,
                wall_ms,
            });
            c.outcomes.push(outcome("completed"));
            Ok(v)
        }
        Err(e) => {
            if ctx.borrow().stop.is_some() {
                let waiting = matches!(
                    ctx.borrow().stop,
                    Some(Error::WaitingForDecision { .. } | Error::ConfirmationNeeded { .. })
                );
                ctx.borrow_mut().outcomes.push(outcome(if waiting {
                    "waiting"
                } else {
                    "stopped"
                }));
                return Err(terminated());
            }
            let message = describe(&e);
            journal(
                ctx,
                Record::StepFailed {
                    index,
                    name: name.to_string(),
                    error: message.clone(),
                },
            )?;
            {
                let mut c = ctx.borrow_mut();
                c.reporter.event(&Event::StepFailed {
                    index,
                    name: name.to_string(),
                    error: message.clone(),
                });
                c.outcomes.push(outcome("failed"));
            }
            stop(
                ctx,
                Error::StepFailed {
                    run_id,
                    step: name.to_string(),
                    message,
                },
            )
        }
    }
}

/// Perform one op through the target, journaled before and after.
///
/// The outer `Err` stops or fails the script; the inner result is the
/// estate's answer, for the API function to interpret.
pub fn perform(ctx: &Shared, op: Op) -> RhaiResult<Result<Value, OpError>> {
    check_not_stopped(ctx)?;
    let active = match ctx.borrow().active.clone() {
        Some(a) => a,
        None => return Err(script_error("ops must run inside a step, so that resume can replay their results; wrap this call in step(\"...\", || ...)")),
    };
    let text = match op.render() {
        Ok(t) => t,
        Err(q) => return stop(ctx, Error::Quote(q)),
    };
    let change = op.is_change();
    let seq = active.ops;
    let op_json = serde_json::to_value(&op).unwrap_or(Value::Null);
    journal(
        ctx,
        Record::OpStarted {
            step: active.index,
            seq,
            op: op_json,
            change,
            text: text.clone(),
        },
    )?;
    let performed = {
        let mut c = ctx.borrow_mut();
        c.target.perform(&op)
    };
    let performed = match performed {
        Ok(p) => p,
        Err(e) => return stop(ctx, e),
    };
    let apply_mode = {
        let mut c = ctx.borrow_mut();
        c.ops_performed += 1;
        if c.mode == Mode::Apply && c.abort_after_ops == Some(c.ops_performed) {
            eprintln!(
                "DRILLBOOK_ABORT_AFTER_OPS: aborting after op {}",
                c.ops_performed
            );
            std::process::abort();
        }
        c.mode == Mode::Apply
    };
    let (result, error) = match &performed.result {
        Ok(v) => (Some(v.clone()), None),
        Err(e) => (None, Some(serde_json::to_value(e).unwrap_or(Value::Null))),
    };
    journal(
        ctx,
        Record::OpDone {
            step: active.index,
            seq,
            result,
            error,
            sim_seconds: performed.sim_seconds,
        },
    )?;
    let mut c = ctx.borrow_mut();
    if let Some(a) = c.active.as_mut() {
        a.ops += 1;
        a.changes += usize::from(change);
        a.sim_seconds += performed.sim_seconds;
    }
    let planned = !apply_mode && change;
    if planned {
        c.plan.push(super::context::PlannedOp {
            step: active.name.clone(),
            host: op.host(),
            language: op.language().into(),
            text: text.clone(),
        });
    }
    c.reporter.event(&Event::Op {
        step: active.index,
        host: op.host(),
        change,
        planned,
        text,
        ok: performed.result.is_ok(),
        error: performed.result.as_ref().err().map(|e| e.to_string()),
        sim_seconds: performed.sim_seconds,
    });
    Ok(performed.result)
}

/// Report progress of a loop inside the current step.
pub fn progress(ctx: &Shared, label: &str, done: u64, total: u64) {
    let c = ctx.borrow();
    let step = c.active.as_ref().map_or(0, |a| a.index);
    c.reporter.event(&Event::Progress {
        step,
        label: label.to_string(),
        done,
        total,
    });
}

pub fn log(ctx: &Shared, message: &str) -> RhaiResult<()> {
    let step = ctx.borrow().active.as_ref().map(|a| a.index);
    journal(
        ctx,
        Record::Log {
            step,
            message: message.to_string(),
        },
    )?;
    ctx.borrow().reporter.event(&Event::Log {
        step,
        message: message.to_string(),
    });
    Ok(())
}

/// Ask the operator to choose; the answer is journaled, and the run stops
/// (exit 3) until it is given.
pub fn decide(ctx: &Shared, key: &str, question: &str, choices: &[String]) -> RhaiResult<String> {
    check_not_stopped(ctx)?;
    let active = ctx
        .borrow()
        .active
        .clone()
        .ok_or_else(|| script_error("decide() must be called inside a step"))?;
    let (given, journaled) = {
        let c = ctx.borrow();
        (
            c.decision(key),
            c.replay.decisions.contains_key(key) && !c.fresh_decisions.contains_key(key),
        )
    };
    if let Some(choice) = given {
        if !choices.contains(&choice) {
            return stop(
                ctx,
                Error::Usage {
                    message: format!(
                        "decision `{choice}` for `{key}` is not one of: {}",
                        choices.join(", ")
                    ),
                },
            );
        }
        if !journaled {
            let operator = ctx.borrow().operator.clone();
            journal(
                ctx,
                Record::Decision {
                    step: active.index,
                    key: key.to_string(),
                    choice: choice.clone(),
                    operator,
                    at: now(),
                },
            )?;
        }
        log(ctx, &format!("operator decision for {key}: {choice}"))?;
        return Ok(choice);
    }
    if !active.idempotent && active.changes > 0 {
        return Err(script_error(format!(
            "step `{}` asks for a decision after sending a change; a step that can stop for a decision must be declared idempotent",
            active.name
        )));
    }
    journal(
        ctx,
        Record::DecisionNeeded {
            step: active.index,
            key: key.to_string(),
            question: question.to_string(),
            choices: choices.to_vec(),
        },
    )?;
    let run_id = {
        let c = ctx.borrow();
        c.reporter.event(&Event::DecisionNeeded {
            step: active.index,
            key: key.to_string(),
            question: question.to_string(),
            choices: choices.to_vec(),
        });
        c.run_id.clone()
    };
    stop(
        ctx,
        Error::WaitingForDecision {
            run_id,
            step: active.name,
            key: key.to_string(),
            question: question.to_string(),
            choices: choices.to_vec(),
        },
    )
}

/// Let `seconds` pass, as an op (the lab's clock moves; live sleeps).
pub fn wait(ctx: &Shared, seconds: i64) -> RhaiResult<()> {
    let seconds =
        u64::try_from(seconds).map_err(|_| script_error("wait: seconds must not be negative"))?;
    perform(ctx, Op::Wait { seconds })?
        .map(|_| ())
        .map_err(|e| op_error(&e))
}

/// Ask the operator to confirm; `--yes` or an earlier journaled confirmation answers.
pub fn confirm(ctx: &Shared, message: &str) -> RhaiResult<bool> {
    check_not_stopped(ctx)?;
    let active = ctx
        .borrow()
        .active
        .clone()
        .ok_or_else(|| script_error("confirm() must be called inside a step"))?;
    let (mode, yes, done, operator, run_id) = {
        let c = ctx.borrow();
        (
            c.mode,
            c.yes,
            c.replay
                .confirmed
                .contains(&(active.index, message.to_string())),
            c.operator.clone(),
            c.run_id.clone(),
        )
    };
    if mode == Mode::Plan {
        log(
            ctx,
            &format!("would ask the operator to confirm: {message}"),
        )?;
        return Ok(true);
    }
    if done {
        return Ok(true);
    }
    let confirmed = yes || (std::io::stdin().is_terminal() && ask_terminal(message));
    if !confirmed {
        if std::io::stdin().is_terminal() {
            return stop(
                ctx,
                Error::Aborted {
                    run_id,
                    step: active.name,
                    reason: format!("the operator declined: {message}"),
                },
            );
        }
        return stop(
            ctx,
            Error::ConfirmationNeeded {
                run_id,
                step: active.name,
                message: message.to_string(),
            },
        );
    }
    journal(
        ctx,
        Record::Confirmed {
            step: active.index,
            message: message.to_string(),
            operator: operator.clone(),
            at: now(),
        },
    )?;
    ctx.borrow().reporter.event(&Event::Confirmed {
        step: active.index,
        message: message.to_string(),
        operator,
    });
    Ok(true)
}

fn ask_terminal(message: &str) -> bool {
    eprint!("{message}\nconfirm? [y/N] ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}

pub fn register(engine: &mut Engine, ctx: &Shared) {
    let c = ctx.clone();
    engine.register_fn(
        "step",
        move |nctx: NativeCallContext, name: &str, f: FnPtr| -> RhaiResult<Dynamic> {
            run_step(&c, name, false, || {
                f.call_within_context::<Dynamic>(&nctx, ())
            })
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "step",
        move |nctx: NativeCallContext, name: &str, opts: Map, f: FnPtr| -> RhaiResult<Dynamic> {
            for k in opts.keys() {
                if k.as_str() != "idempotent" {
                    return Err(script_error(format!(
                        "step `{name}`: unknown option `{k}` (options: idempotent)"
                    )));
                }
            }
            let idempotent = opts
                .get("idempotent")
                .map(|v| v.as_bool().unwrap_or(false))
                .unwrap_or(false);
            run_step(&c, name, idempotent, || {
                f.call_within_context::<Dynamic>(&nctx, ())
            })
        },
    );
    let c = ctx.clone();
    engine.register_fn("confirm", move |message: &str| -> RhaiResult<bool> {
        confirm(&c, message)
    });
    let c = ctx.clone();
    engine.register_fn(
        "manual",
        move |name: &str, instructions: &str| -> RhaiResult<Dynamic> {
            manual(&c, name, instructions, Dynamic::UNIT)
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "manual",
        move |name: &str, instructions: &str, effect: Map| -> RhaiResult<Dynamic> {
            manual(&c, name, instructions, Dynamic::from(effect))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "manual",
        move |name: &str, instructions: &str, effects: Array| -> RhaiResult<Dynamic> {
            manual(&c, name, instructions, Dynamic::from(effects))
        },
    );
    let c = ctx.clone();
    engine.register_fn("wait", move |seconds: i64| -> RhaiResult<()> {
        wait(&c, seconds)
    });
    let c = ctx.clone();
    engine.register_fn(
        "wait_until",
        move |nctx: NativeCallContext,
              what: &str,
              timeout: i64,
              every: i64,
              f: FnPtr|
              -> RhaiResult<()> {
            if every <= 0 || timeout < 0 {
                return Err(script_error(
                    "wait_until: the interval must be positive and the timeout not negative",
                ));
            }
            let mut waited = 0;
            loop {
                if f.call_within_context::<bool>(&nctx, ())? {
                    return Ok(());
                }
                if waited >= timeout {
                    return Err(script_error(format!(
                        "timed out after {waited} s waiting until {what}"
                    )));
                }
                wait(&c, every)?;
                waited += every;
            }
        },
    );
    engine.register_fn("require", |cond: bool, message: &str| -> RhaiResult<()> {
        if cond {
            Ok(())
        } else {
            Err(script_error(format!("precondition failed: {message}")))
        }
    });
    let c = ctx.clone();
    engine.register_fn(
        "reject",
        move |param: &str, message: &str| -> RhaiResult<()> {
            let runbook = c.borrow().runbook.clone();
            stop(
                &c,
                Error::Param {
                    runbook,
                    param: param.to_string(),
                    message: message.to_string(),
                },
            )
        },
    );
    let c = ctx.clone();
    engine.register_fn("log", move |message: &str| -> RhaiResult<()> {
        log(&c, message)
    });
    let c = ctx.clone();
    engine.register_fn(
        "decide",
        move |key: &str, question: &str, choices: Array| -> RhaiResult<String> {
            let choices: Vec<String> = choices.into_iter().map(|d| d.to_string()).collect();
            decide(&c, key, question, &choices)
        },
    );
    let c = ctx.clone();
    engine.register_fn("abort", move |reason: &str| -> RhaiResult<()> {
        let (run_id, step) = {
            let b = c.borrow();
            (
                b.run_id.clone(),
                b.active
                    .as_ref()
                    .map_or_else(|| "(before the first step)".to_string(), |a| a.name.clone()),
            )
        };
        stop(
            &c,
            Error::Aborted {
                run_id,
                step,
                reason: reason.to_string(),
            },
        )
    });
}

/// A person's step: shown, confirmed (journaled with who and when), and in
/// the lab its documented effect is applied.
fn manual(ctx: &Shared, name: &str, instructions: &str, effect: Dynamic) -> RhaiResult<Dynamic> {
    let effect = to_value(&effect)?;
    // Idempotent: after a crash the operator is asked again, and the lab's
    // documented effects set values, so applying one twice changes nothing.
    run_step(ctx, name, true, || {
        log(ctx, &format!("MANUAL: {instructions}"))?;
        confirm(ctx, &format!("done: {name}?"))?;
        let op = Op::Manual {
            instructions: instructions.to_string(),
            effect: effect.clone(),
        };
        perform(ctx, op)?.map_err(|e| op_error(&e))?;
        Ok(Dynamic::UNIT)
    })
}
