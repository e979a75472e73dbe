//! A drill's summary, built from its journal (every attempt: a resumed
//! drill summarizes all of it), its measurements and the lab state before
//! and after the run. The journal is the source, so the summary is the same
//! whether it is written right after the run or rebuilt later.

use crate::journal::{Loaded, Record};
use crate::report::drill_summary::{Confirmation, Decision, OpTick, StateChange, Stopped};
use crate::report::{DrillSummary, Scorecard, StepOutcome, StepStatus};
use serde_json::Value;
use std::collections::BTreeMap;

/// The summary of the run in `loaded`, measured as `measurements`;
/// `before`/`after` are the lab state as staged and as the run left it.
pub fn build(
    loaded: &Loaded,
    version: &str,
    scenario_summary: &str,
    measurements: Scorecard,
    before: Option<&Value>,
    after: &Value,
) -> DrillSummary {
    let h = &loaded.header;
    let steps = steps(&loaded.records);
    let status = crate::journal::last_status(&loaded.records)
        .map_or("stopped", |s| s.as_str())
        .to_string();
    let stopped = (status != "succeeded").then(|| stopped(&loaded.records, &steps));
    let mut summary = DrillSummary {
        run_id: h.run_id.clone(),
        runbook: h.runbook.name.clone(),
        version: version.to_string(),
        scenario: h.scenario.clone().unwrap_or_default(),
        scenario_summary: scenario_summary.to_string(),
        status,
        stopped,
        steps,
        measurements,
        decisions: Vec::new(),
        confirmations: Vec::new(),
        state_changes: before.map(|b| changes(b, after)).unwrap_or_default(),
        ops: Vec::new(),
    };
    summary.ops = ops(&loaded.records, &summary.step_starts(), &summary.steps);
    for r in &loaded.records {
        match r {
            Record::Decision {
                step,
                key,
                choice,
                operator,
                at,
            } => summary.decisions.push(Decision {
                step: *step,
                key: key.clone(),
                choice: choice.clone(),
                operator: operator.clone(),
                at: at.clone(),
            }),
            Record::Confirmed {
                step,
                message,
                operator,
                at,
            } => summary.confirmations.push(Confirmation {
                step: *step,
                message: message.clone(),
                operator: operator.clone(),
                at: at.clone(),
            }),
            _ => {}
        }
    }
    summary
}

/// Each step the journal names, as it last ended, with its ops counted.
fn steps(records: &[Record]) -> Vec<StepOutcome> {
    let mut by_index: BTreeMap<usize, StepOutcome> = BTreeMap::new();
    for r in records {
        match r {
            Record::StepStarted { index, name, .. } => {
                let mut s = StepOutcome::replayed(*index, name);
                s.status = StepStatus::Stopped;
                by_index.insert(*index, s);
            }
            Record::OpStarted { step, change, .. } => {
                if let Some(s) = by_index.get_mut(step) {
                    s.ops += 1;
                    s.changes += usize::from(*change);
                }
            }
            Record::OpDone {
                step, sim_seconds, ..
            } => {
                if let Some(s) = by_index.get_mut(step) {
                    s.sim_seconds += sim_seconds;
                }
            }
            Record::StepCompleted {
                index,
                wall_ms,
                sim_seconds,
                ..
            } => {
                if let Some(s) = by_index.get_mut(index) {
                    s.status = StepStatus::Completed;
                    s.wall_ms = *wall_ms;
                    s.sim_seconds = *sim_seconds;
                }
            }
            Record::StepFailed { index, .. } => {
                if let Some(s) = by_index.get_mut(index) {
                    s.status = StepStatus::Failed;
                }
            }
            Record::DecisionNeeded { step, .. } => {
                if let Some(s) = by_index.get_mut(step) {
                    s.status = StepStatus::Waiting;
                }
            }
            _ => {}
        }
    }
    by_index.into_values().collect()
}

/// Where a run that did not succeed stopped: its last step not completed,
/// and the run's last message.
fn stopped(records: &[Record], steps: &[StepOutcome]) -> Stopped {
    let message = records
        .iter()
        .rev()
        .find_map(|r| match r {
            Record::RunFinished { message, .. } => Some(message.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "the run did not finish (crashed, or still running)".into());
    let step = steps
        .iter()
        .rev()
        .find(|s| s.status != StepStatus::Completed)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    Stopped { step, message }
}

/// The ops on the simulated time axis: each step's ops one after another
/// from the step's start.
fn ops(records: &[Record], starts: &[u64], steps: &[StepOutcome]) -> Vec<OpTick> {
    let position: BTreeMap<usize, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.index, i))
        .collect();
    let mut elapsed: BTreeMap<usize, u64> = BTreeMap::new();
    let mut started: BTreeMap<(usize, usize), (bool, String, String)> = BTreeMap::new();
    let mut out = Vec::new();
    for r in records {
        match r {
            Record::OpStarted {
                step,
                seq,
                op,
                change,
                text,
            } => {
                let host = crate::op::Op::from_journal(op)
                    .map(|o| o.host())
                    .unwrap_or_default();
                started.insert((*step, *seq), (*change, host, text.clone()));
            }
            Record::OpDone {
                step,
                seq,
                sim_seconds,
                error,
                ..
            } => {
                let Some((change, host, text)) = started.remove(&(*step, *seq)) else {
                    continue;
                };
                let Some(i) = position.get(step) else {
                    continue;
                };
                let in_step = elapsed.entry(*step).or_default();
                out.push(OpTick {
                    step: *step,
                    at: starts[*i] + *in_step,
                    sim_seconds: *sim_seconds,
                    change,
                    host,
                    text,
                    ok: error.is_none(),
                });
                *in_step += sim_seconds;
            }
            Record::Resumed { .. } => elapsed.clear(),
            _ => {}
        }
    }
    out
}

/// Keys that change with time alone, not with what the run did.
fn time_derived(key: &str) -> bool {
    matches!(
        key,
        "clock" | "at" | "measurements" | "manual_effects" | "workload"
    ) || key.ends_with("_at")
        || key.ends_with("_since")
        || key.ends_with("_date")
        || key.ends_with("_lsn")
        || key.starts_with("last_")
}

/// The values that differ between two lab states, leaf by leaf, leaving out
/// what changes with time alone.
pub fn changes(before: &Value, after: &Value) -> Vec<StateChange> {
    fn walk(a: &Value, b: &Value, at: String, out: &mut Vec<StateChange>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys.into_iter().filter(|k| !time_derived(k)) {
                    let (p, q) = (
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                    );
                    walk(p, q, format!("{at}/{}", escape(k)), out);
                }
            }
            _ if a != b => out.push(StateChange {
                pointer: at,
                before: a.clone(),
                after: b.clone(),
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(before, after, String::new(), &mut out);
    out
}

/// A key as a JSON pointer token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_are_leaves_without_time() {
        let a = json!({"sql": {"i1": {"up": true, "started_at": 1}}, "clock": {"t": 1}});
        let b = json!({"sql": {"i1": {"up": false, "started_at": 9}}, "clock": {"t": 2}});
        let c = changes(&a, &b);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].pointer, "/sql/i1/up");
        assert_eq!(c[0].before, json!(true));
        assert_eq!(c[0].after, json!(false));
    }
}
