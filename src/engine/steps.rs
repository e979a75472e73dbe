//! The step primitives a runbook calls — `step`, `confirm`, `manual`,
//! `require`, `reject`, `decide`, `abort`, `log`, `wait`, `wait_until` —
//! and `perform`, the one road from the script to the target, bound to
//! Rhai. What they mean for a run (checkpoints, the journal, the operator)
//! is the host's business (`src/run/`): here script values become plain data
//! and host answers become script values or errors.
//!
//! Checkpoint semantics (decided by `run::checkpoint`): a step's start, ops
//! and result are journaled. On resume the script runs again from the top; a
//! step the journal shows completed returns its journaled result without
//! running; a step that started and did not finish is in doubt and runs
//! again only if it is declared idempotent, sent no change, or the operator
//! says so.

use super::host::{Begun, Halt};
use super::Shared;
use crate::op::Op;
use crate::targets::OpError;
use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext, Position};
use serde_json::Value;

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// A catchable script error with a message.
pub fn script_error(message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message.into()),
        Position::NONE,
    ))
}

/// A host's refusal as a script error: catchable, or the uncatchable end of the script.
pub fn halt(h: Halt) -> Box<EvalAltResult> {
    match h {
        Halt::Script(message) => script_error(message),
        Halt::Stop => Box::new(EvalAltResult::ErrorTerminated(
            Dynamic::UNIT,
            Position::NONE,
        )),
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

/// Run one step with checkpointing. `body` is the step's work.
pub fn run_step(
    host: &Shared,
    name: &str,
    idempotent: bool,
    body: impl FnOnce() -> RhaiResult<Dynamic>,
) -> RhaiResult<Dynamic> {
    match host.begin_step(name, idempotent).map_err(halt)? {
        Begun::Replayed(v) => Ok(to_dynamic(&v)),
        Begun::Running => match body().and_then(|v| to_value(&v).map(|j| (v, j))) {
            Ok((v, json)) => host.end_step(Ok(json)).map(|()| v).map_err(halt),
            Err(e) => Err(halt(
                host.end_step(Err(describe(&e))).err().unwrap_or(Halt::Stop),
            )),
        },
    }
}

/// Perform one op through the host, journaled before and after.
///
/// The outer `Err` stops or fails the script; the inner result is the
/// estate's answer, for the API function to interpret.
pub fn perform(host: &Shared, op: Op) -> RhaiResult<Result<Value, OpError>> {
    host.perform(op).map_err(halt)
}

/// Report progress of a loop inside the current step.
pub fn progress(host: &Shared, label: &str, done: u64, total: u64) {
    host.progress(label, done, total);
}

pub fn log(host: &Shared, message: &str) -> RhaiResult<()> {
    host.log(message).map_err(halt)
}

/// Ask the operator to choose; the answer is journaled, and the run stops
/// (exit 3) until it is given.
pub fn decide(host: &Shared, key: &str, question: &str, choices: &[String]) -> RhaiResult<String> {
    if choices.is_empty() {
        return Err(script_error(format!(
            "decide({key:?}): no choices to offer; give the operator at least one"
        )));
    }
    host.decide(key, question, choices).map_err(halt)
}

/// The longest one `wait` may be: a runbook that must wait longer is
/// better stopped and resumed.
pub const MAX_WAIT_SECONDS: u64 = 24 * 60 * 60;

/// Let `seconds` pass, as an op (the lab's clock moves; live sleeps).
pub fn wait(host: &Shared, seconds: i64) -> RhaiResult<()> {
    let seconds =
        u64::try_from(seconds).map_err(|_| script_error("wait: seconds must not be negative"))?;
    if seconds > MAX_WAIT_SECONDS {
        return Err(script_error(format!(
            "wait({seconds}): at most {MAX_WAIT_SECONDS} seconds (a day) in one wait"
        )));
    }
    perform(host, Op::Wait { seconds })?
        .map(|_| ())
        .map_err(|e| op_error(&e))
}

/// Ask the operator to confirm; `--yes` or an earlier journaled confirmation answers.
pub fn confirm(host: &Shared, message: &str) -> RhaiResult<bool> {
    host.confirm(message).map_err(halt)
}

pub fn register(engine: &mut Engine, host: &Shared) {
    let c = host.clone();
    global!(
        engine,
        "step",
        ["name: string", "body: Fn", "any"],
        "A checkpointed step: runs `body` once; on resume a completed step returns its journaled result without running.",
        move |nctx: NativeCallContext, name: &str, f: FnPtr| -> RhaiResult<Dynamic> {
            run_step(&c, name, false, || {
                f.call_within_context::<Dynamic>(&nctx, ())
            })
        }
    );
    let c = host.clone();
    global!(
        engine,
        "step",
        ["name: string", "opts: map", "body: Fn", "any"],
        "A checkpointed step with options: #{idempotent: true} lets a step in doubt after a crash run again.",
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
        }
    );
    let c = host.clone();
    global!(
        engine,
        "confirm",
        ["message: string", "bool"],
        "Ask the operator to confirm; --yes or an earlier journaled answer confirms, else the run waits (exit 3).",
        move |message: &str| -> RhaiResult<bool> { confirm(&c, message) }
    );
    let manual_doc = "A person's step: the instructions are shown and confirmed (journaled with who and when); in the lab its documented effect (a map, or a list of them) is applied.";
    let c = host.clone();
    global!(
        engine,
        "manual",
        ["name: string", "instructions: string", "any"],
        manual_doc,
        move |name: &str, instructions: &str| -> RhaiResult<Dynamic> {
            manual(&c, name, instructions, Dynamic::UNIT)
        }
    );
    let c = host.clone();
    global!(
        engine,
        "manual",
        ["name: string", "instructions: string", "effect: map", "any"],
        manual_doc,
        move |name: &str, instructions: &str, effect: Map| -> RhaiResult<Dynamic> {
            manual(&c, name, instructions, Dynamic::from(effect))
        }
    );
    let c = host.clone();
    global!(
        engine,
        "manual",
        [
            "name: string",
            "instructions: string",
            "effects: array",
            "any"
        ],
        manual_doc,
        move |name: &str, instructions: &str, effects: Array| -> RhaiResult<Dynamic> {
            manual(&c, name, instructions, Dynamic::from(effects))
        }
    );
    let c = host.clone();
    global!(
        engine,
        "wait",
        ["seconds: int", "()"],
        "Let `seconds` pass (at most a day): the lab's clock moves, live sleeps.",
        move |seconds: i64| -> RhaiResult<()> { wait(&c, seconds) }
    );
    let c = host.clone();
    global!(
        engine,
        "wait_until",
        ["what: string", "timeout: int", "every: int", "condition: Fn", "()"],
        "Call `condition` every `every` seconds until it returns true; an error after `timeout` seconds naming `what`.",
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
            if timeout as u64 > MAX_WAIT_SECONDS {
                return Err(script_error(format!(
                    "wait_until({what:?}, {timeout}, ...): the timeout is at most {MAX_WAIT_SECONDS} \
                     seconds (a day), like one wait"
                )));
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
                waited = waited.saturating_add(every);
            }
        }
    );
    global!(
        engine,
        "require",
        ["condition: bool", "message: string", "()"],
        "A precondition: a catchable error `precondition failed: message` when `condition` is false.",
        |cond: bool, message: &str| -> RhaiResult<()> {
            if cond {
                Ok(())
            } else {
                Err(script_error(format!("precondition failed: {message}")))
            }
        }
    );
    let c = host.clone();
    global!(
        engine,
        "reject",
        ["param: string", "message: string", "()"],
        "Stop the run: the parameter `param` cannot be used (a bad-input error, exit 2), before anything is changed.",
        move |param: &str, message: &str| -> RhaiResult<()> { Err(halt(c.reject(param, message))) }
    );
    let c = host.clone();
    global!(
        engine,
        "log",
        ["message: string", "()"],
        "A line for the operator and the journal.",
        move |message: &str| -> RhaiResult<()> { log(&c, message) }
    );
    let c = host.clone();
    global!(
        engine,
        "decide",
        ["key: string", "question: string", "choices: array", "string"],
        "Ask the operator to choose (choices are names, or #{name, cost} maps saying what each costs); the answer is journaled, and the run waits (exit 3) until it is given.",
        move |key: &str, question: &str, choices: Array| -> RhaiResult<String> {
            let (names, question) = choices_with_costs(key, question, choices)?;
            decide(&c, key, &question, &names)
        }
    );
    let c = host.clone();
    global!(
        engine,
        "now",
        ["int"],
        "Seconds since the Unix epoch on the target's clock: simulated in the lab and drills, real live. `now() - t0` is a duration in seconds.",
        move || -> RhaiResult<i64> { c.now().map_err(halt) }
    );
    global!(
        engine,
        "duration",
        ["seconds: int", "string"],
        "A duration as a person reads it: 45s, 5m 21s, 1h 02m 03s.",
        |seconds: i64| crate::time::duration(seconds.max(0) as u64)
    );
    global!(
        engine,
        "timestamp",
        ["epoch: int", "string"],
        "An epoch second (from now()) as UTC RFC 3339: 2026-03-14T01:00:00Z.",
        |epoch: i64| crate::time::rfc3339(epoch)
    );
    let c = host.clone();
    global!(
        engine,
        "abort",
        ["reason: string", "()"],
        "Stop the run as aborted, with the reason.",
        move |reason: &str| -> RhaiResult<()> { Err(halt(c.abort(reason))) }
    );
}

/// The names of `decide`'s choices, and the question with what each costs
/// when any says (one `- name: cost` line per choice), as the operator sees it.
fn choices_with_costs(
    key: &str,
    question: &str,
    choices: Array,
) -> RhaiResult<(Vec<String>, String)> {
    let mut names = Vec::new();
    let mut lines = Vec::new();
    let mut any_cost = false;
    for c in choices {
        let (name, cost) = if c.is_map() {
            let m = c.cast::<Map>();
            let name = m.get("name").map(|n| n.to_string()).ok_or_else(|| {
                script_error(format!(
                    "decide({key:?}): a choice map needs a `name` (and may have a `cost`)"
                ))
            })?;
            (name, m.get("cost").map(|c| c.to_string()))
        } else {
            (c.to_string(), None)
        };
        any_cost |= cost.is_some();
        lines.push(match &cost {
            Some(cost) => format!("- {name}: {cost}"),
            None => format!("- {name}"),
        });
        names.push(name);
    }
    let question = if any_cost {
        format!("{question}\n{}", lines.join("\n"))
    } else {
        question.to_string()
    };
    Ok((names, question))
}

/// A person's step: shown, confirmed (journaled with who and when), and in
/// the lab its documented effect is applied.
fn manual(host: &Shared, name: &str, instructions: &str, effect: Dynamic) -> RhaiResult<Dynamic> {
    let effect = to_value(&effect)?;
    // Idempotent: after a crash the operator is asked again, and the lab's
    // documented effects set values, so applying one twice changes nothing.
    run_step(host, name, true, || {
        log(host, &format!("MANUAL: {instructions}"))?;
        confirm(host, &format!("done: {name}?"))?;
        let op = Op::Manual {
            instructions: instructions.to_string(),
            effect: effect.clone(),
        };
        perform(host, op)?.map_err(|e| op_error(&e))?;
        Ok(Dynamic::UNIT)
    })
}
