//! What the tests of every lab module start from: the built-in estate's
//! lab, at a given minute, and cmdlet calls as a runbook would make them.

use super::LabState;
use crate::estate::Estate;
use crate::op::{CmdletArg, Op, PsValue};

pub const POOL: &str = "pchat.litwareinc.com";
pub const SHARE: &str = "\\\\fs-dub1.litwareinc.com\\pchatlogs";
pub const COPY: &str = "\\\\pcsql-dub1.litwareinc.com\\lscopy";

pub fn litware() -> LabState {
    LabState::from_estate(&Estate::builtin().expect("the built-in estate is valid"))
}

/// The built-in estate with `from` replaced by `to` (once): a lab test's
/// variation on it.
pub fn litware_estate_with(from: &str, to: &str) -> Estate {
    let text = crate::estate::BUILTIN_TOML.replacen(from, to, 1);
    assert!(
        text != crate::estate::BUILTIN_TOML,
        "`{from}` is not in the built-in estate"
    );
    Estate::parse(&text, "edited.toml").expect("the edited estate is valid")
}

/// The built-in lab after `minutes` of normal operation.
pub fn litware_at(minutes: u64) -> LabState {
    let mut lab = litware();
    lab.advance(minutes * 60);
    lab
}

/// A log backup's name at `minutes` past the lab start (01:00).
pub fn trn(minutes: u64) -> String {
    format!("mgc_202603140{}{:02}00.trn", 1 + minutes / 60, minutes % 60)
}

pub fn cmdlet(host: &str, cmdlet: &str, args: &[(&str, PsValue)]) -> Op {
    Op::Cmdlet {
        host: host.to_string(),
        cmdlet: cmdlet.to_string(),
        args: args
            .iter()
            .map(|(n, v)| CmdletArg::new(n, v.clone()))
            .collect(),
    }
}

pub fn s(text: &str) -> PsValue {
    PsValue::Str(text.to_string())
}

/// Perform a cmdlet on `host`; the estate's answer.
pub fn run_on(
    lab: &mut LabState,
    host: &str,
    name: &str,
    args: &[(&str, PsValue)],
) -> Result<serde_json::Value, crate::targets::OpError> {
    lab.perform(&cmdlet(host, name, args)).result
}

/// The message of a cmdlet error; any other outcome fails the test.
pub fn message(result: Result<serde_json::Value, crate::targets::OpError>) -> String {
    match result {
        Err(crate::targets::OpError::Cmdlet { message, .. }) => message,
        other => panic!("expected a cmdlet error, got {other:?}"),
    }
}
