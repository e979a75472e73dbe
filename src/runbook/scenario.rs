//! A runbook's drill scenarios, read once with its header: the lead-in of
//! normal operation, the `setup` actions (`advance:MINUTES`, `fault:SPEC`,
//! `run:RUNBOOK name=value ...`), the faults, the parameters and pre-answered
//! decisions, and the end state expected. Everything is parsed here into
//! typed values, so a malformed action is a header error naming the runbook
//! file and the bad value (`drillbook check` reports it), never a surprise
//! half-way through staging a drill.

use super::{split_assignment, Runbook};
use crate::error::{Error, Result};
use crate::lab::FAULT_KINDS;
use rhai::{Dynamic, Map};
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// The scenario `drill RUNBOOK` runs when none is named.
pub const DEFAULT_SCENARIO: &str = "default";

/// A named drill: faults after a lead-in of normal operation, pre-answered
/// operator decisions, and the end state expected (JSON pointer → value in
/// `lab show --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub name: String,
    pub summary: String,
    pub lead_in_minutes: i64,
    /// After `lead_in_minutes`, normal operation goes on until this holds.
    pub lead_in: Option<LeadIn>,
    /// Fault specs for `LabState::apply_fault`, each of a known kind.
    pub faults: Vec<String>,
    /// Actions before the faults, in order.
    pub setup: Vec<Setup>,
    pub params: BTreeMap<String, String>,
    pub decisions: BTreeMap<String, String>,
    pub expect: BTreeMap<String, Value>,
    /// What the drill's run is expected to end with, when it is a documented
    /// refusal rather than a recovery (`drillbook test` checks it).
    #[serde(skip_serializing_if = "Outcome::is_success")]
    pub outcome: Outcome,
}

/// How a scenario's run is expected to end: by default it succeeds; a
/// scenario documenting a refusal expects an exit code, an error text, or
/// the decision the run stops to ask for.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcome {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        self == &Outcome::default()
    }

    /// The exit code the run must end with: the one given, else 3 when a
    /// decision is expected, else 1 when an error is, else 0.
    pub fn exit_code(&self) -> i32 {
        match (self.exit, &self.decision, &self.error) {
            (Some(code), _, _) => code,
            (None, Some(_), _) => crate::error::exit::WAITING_FOR_OPERATOR,
            (None, None, Some(_)) => crate::error::exit::RUNBOOK_FAILED,
            _ => crate::error::exit::OK,
        }
    }
}

/// An event a lead-in waits for, rather than a minute count tuned to one
/// estate's schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeadIn {
    /// A log backup is on the share or in the copy folder, not yet restored
    /// on the log-shipping secondary.
    LogBackupPending,
    /// Every direction of every pool pair has synced through the Backup Service.
    BackupSynced,
}

impl LeadIn {
    pub const ALL: [(&'static str, LeadIn); 2] = [
        ("log-backup-pending", LeadIn::LogBackupPending),
        ("backup-synced", LeadIn::BackupSynced),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, l)| *l == self)
            .map_or("", |(n, _)| n)
    }
}

/// One `setup` entry: its text as the runbook wrote it (for messages and
/// `show`), and what it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub text: String,
    pub action: SetupAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetupAction {
    /// `advance:MINUTES` of normal operation.
    Advance { minutes: u64 },
    /// `fault:SPEC`, as `lab fault SPEC` would apply it.
    Fault { spec: String },
    /// `run:RUNBOOK name=value ...`: a runbook run first (a failover before
    /// its failback), its manual steps taken as done.
    Run {
        runbook: String,
        params: Vec<(String, String)>,
    },
}

impl std::fmt::Display for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Setup {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl Setup {
    /// One `setup` entry, or what is wrong with it.
    pub fn parse(text: &str) -> std::result::Result<Setup, String> {
        let bad = |why: String| format!("setup action `{text}`: {why}");
        let action = match text.split_once(':') {
            Some(("advance", minutes)) => SetupAction::Advance {
                minutes: minutes
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("{minutes:?} is not a number of minutes")))?,
            },
            Some(("fault", spec)) => SetupAction::Fault {
                spec: known_fault(spec.trim()).map_err(bad)?,
            },
            Some(("run", call)) => {
                let mut words = call.split_whitespace();
                let runbook = words
                    .next()
                    .ok_or_else(|| bad("names no runbook".into()))?
                    .to_string();
                let params = words
                    .map(|w| split_assignment(w).map_err(|_| bad(format!("{w:?} is not name=value"))))
                    .collect::<std::result::Result<_, _>>()?;
                SetupAction::Run { runbook, params }
            }
            _ => {
                return Err(format!(
                    "setup action `{text}` must be advance:MINUTES, fault:SPEC or run:RUNBOOK [name=value ...]"
                ))
            }
        };
        Ok(Setup {
            text: text.to_string(),
            action,
        })
    }
}

/// A fault spec whose kind the lab knows (its target is checked against the
/// estate when the drill applies it). An empty spec passes: `check` lints it.
fn known_fault(spec: &str) -> std::result::Result<String, String> {
    let kind = spec.split(':').next().unwrap_or("").trim();
    let kinds = FAULT_KINDS.map(|k| k.split([':', '[']).next().unwrap_or(k));
    if kind.is_empty() || kinds.contains(&kind) {
        Ok(spec.to_string())
    } else {
        Err(format!(
            "unknown fault kind `{kind}`; the kinds are {}",
            FAULT_KINDS.join(", ")
        ))
    }
}

/// `scenarios.NAME` of a runbook header.
pub fn parse(name: &str, spec: Dynamic) -> std::result::Result<Scenario, String> {
    let at = format!("scenarios.{name}: ");
    let spec = spec.try_cast::<Map>().ok_or(format!("{at}must be a map"))?;
    const FIELDS: [&str; 11] = [
        "summary",
        "expect_exit",
        "expect_error",
        "expect_decision",
        "lead_in_minutes",
        "lead_in",
        "faults",
        "setup",
        "params",
        "decisions",
        "expect",
    ];
    if let Some(k) = spec.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "{at}unknown field `{k}` (fields: {})",
            FIELDS.join(", ")
        ));
    }
    let summary = match spec.get("summary") {
        None => String::new(),
        Some(v) => v
            .clone()
            .into_string()
            .map_err(|t| format!("`summary` must be a string, not {t}"))?,
    };
    let lead_in_minutes = match spec.get("lead_in_minutes") {
        None => 0,
        Some(v) => v.as_int().ok().filter(|m| *m >= 0).ok_or(format!(
            "{at}`lead_in_minutes` must be a non-negative integer"
        ))?,
    };
    let lead_in = match spec.get("lead_in") {
        None => None,
        Some(v) => {
            let name = v.clone().into_string().unwrap_or_default();
            let known = LeadIn::ALL.map(|(n, _)| n);
            Some(
                LeadIn::ALL
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, l)| *l)
                    .ok_or(format!("{at}`lead_in` must be one of {}", known.join(", ")))?,
            )
        }
    };
    let strings = |key: &str| -> std::result::Result<Vec<String>, String> {
        match spec.get(key) {
            None => Ok(Vec::new()),
            Some(v) => rhai::serde::from_dynamic::<Vec<String>>(v)
                .map_err(|_| format!("{at}`{key}` must be an array of strings")),
        }
    };
    let string_map = |key: &str| -> std::result::Result<BTreeMap<String, String>, String> {
        match spec.get(key) {
            None => Ok(BTreeMap::new()),
            Some(v) => rhai::serde::from_dynamic(v)
                .map_err(|_| format!("{at}`{key}` must be a map of strings")),
        }
    };
    let expect: BTreeMap<String, Value> = match spec.get("expect") {
        None => BTreeMap::new(),
        Some(v) => rhai::serde::from_dynamic(v)
            .map_err(|_| format!("{at}`expect` must be a map of JSON pointer: value"))?,
    };
    if let Some(k) = expect.keys().find(|k| !k.starts_with('/')) {
        return Err(format!(
            "{at}expect key `{k}` must be a JSON pointer starting with '/'"
        ));
    }
    let setup = strings("setup")?
        .iter()
        .map(|a| Setup::parse(a).map_err(|e| format!("{at}{e}")))
        .collect::<std::result::Result<_, _>>()?;
    let faults = strings("faults")?
        .iter()
        .map(|f| known_fault(f).map_err(|e| format!("{at}fault `{f}`: {e}")))
        .collect::<std::result::Result<_, _>>()?;
    let text = |key: &str| -> std::result::Result<Option<String>, String> {
        spec.get(key)
            .map(|v| {
                v.clone()
                    .into_string()
                    .map_err(|t| format!("{at}`{key}` must be a string, not {t}"))
            })
            .transpose()
    };
    let outcome = Outcome {
        exit: spec
            .get("expect_exit")
            .map(|v| {
                v.as_int()
                    .ok()
                    .filter(|c| (0..=5).contains(c))
                    .map(|c| c as i32)
                    .ok_or(format!("{at}`expect_exit` must be an exit code (0 to 5)"))
            })
            .transpose()?,
        error: text("expect_error")?,
        decision: text("expect_decision")?,
    };
    Ok(Scenario {
        outcome,
        name: name.to_string(),
        summary,
        lead_in_minutes,
        lead_in,
        faults,
        setup,
        params: string_map("params")?,
        decisions: string_map("decisions")?,
        expect,
    })
}

/// The scenario named, or the runbook's default (else its first).
pub fn pick<'a>(rb: &'a Runbook, name: Option<&str>) -> Result<&'a Scenario> {
    let scenarios = &rb.header.scenarios;
    let known = || {
        scenarios
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => scenarios
            .iter()
            .find(|s| s.name == n)
            .ok_or_else(|| Error::Usage {
                message: format!(
                    "runbook `{}` has no scenario `{n}` (it has: {})",
                    rb.header.name,
                    known()
                ),
            }),
        None => scenarios
            .iter()
            .find(|s| s.name == DEFAULT_SCENARIO)
            .or_else(|| scenarios.first())
            .ok_or_else(|| Error::Usage {
                message: format!("runbook `{}` ships no drill scenario", rb.header.name),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_actions_are_typed_when_read() {
        assert_eq!(
            Setup::parse("advance:30").unwrap().action,
            SetupAction::Advance { minutes: 30 }
        );
        assert_eq!(
            Setup::parse("fault:site-down:redmond").unwrap().action,
            SetupAction::Fault {
                spec: "site-down:redmond".into()
            }
        );
        assert_eq!(
            Setup::parse("run:pool-failover pool=a.b.c  to=d.e.f")
                .unwrap()
                .action,
            SetupAction::Run {
                runbook: "pool-failover".into(),
                params: vec![
                    ("pool".into(), "a.b.c".into()),
                    ("to".into(), "d.e.f".into())
                ]
            }
        );
    }

    #[test]
    fn a_bad_setup_action_names_the_value() {
        for (text, expected) in [
            ("advance:soon", "\"soon\" is not a number of minutes"),
            ("fault:site-dwn:redmond", "unknown fault kind `site-dwn`"),
            ("run:", "names no runbook"),
            ("run:x pool", "\"pool\" is not name=value"),
            (
                "wait:5",
                "must be advance:MINUTES, fault:SPEC or run:RUNBOOK",
            ),
        ] {
            let err = Setup::parse(text).unwrap_err();
            assert!(err.contains(text), "{err}");
            assert!(err.contains(expected), "{expected}\n{err}");
        }
    }
}
