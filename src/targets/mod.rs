//! Targets perform ops. `Lab` simulates the estate; `Live` performs them on
//! the real one; `DryRun` wraps another target so that changes are shown and
//! modeled, never performed.

pub mod dry_run;
pub mod ports;

use crate::op::Op;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Why an op did not succeed, as the estate reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpError {
    /// SQL Server answered with an error (number, severity class, message).
    Sql {
        number: i32,
        class: u8,
        message: String,
    },
    /// The host could not be reached (down, or the network to it is).
    Unreachable { host: String, message: String },
    /// A cmdlet wrote an error.
    Cmdlet { cmdlet: String, message: String },
    /// A file operation failed.
    File { path: String, message: String },
    /// The lab does not model this op.
    NotSimulated { message: String },
}

impl OpError {
    pub fn sql(number: i32, class: u8, message: impl Into<String>) -> Self {
        OpError::Sql {
            number,
            class,
            message: message.into(),
        }
    }

    /// The SQL Server error number, if this is a SQL error.
    pub fn sql_number(&self) -> Option<i32> {
        match self {
            OpError::Sql { number, .. } => Some(*number),
            _ => None,
        }
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpError::Sql {
                number,
                class,
                message,
            } => write!(f, "SQL Server error {number} (severity {class}): {message}"),
            OpError::Unreachable { host, message } => write!(f, "{host} is unreachable: {message}"),
            OpError::Cmdlet { cmdlet, message } => write!(f, "{cmdlet} failed: {message}"),
            OpError::File { path, message } => write!(f, "{path}: {message}"),
            OpError::NotSimulated { message } => write!(f, "not simulated by the lab: {message}"),
        }
    }
}

/// The rows of a SQL op's result: an array of row objects keyed by column
/// name, as every target answers SQL ops. Anything else holds no rows.
pub fn rows(v: Value) -> Vec<serde_json::Map<String, Value>> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|r| match r {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The outcome of one op: its result value and the simulated seconds it took
/// (zero outside the lab).
#[derive(Debug, Clone, PartialEq)]
pub struct Performed {
    pub result: Result<Value, OpError>,
    pub sim_seconds: u64,
}

pub trait Target {
    /// `lab`, `live`, or `dry-run(lab)`.
    fn name(&self) -> String;
    /// Perform one op. Errors of the estate are in `Performed::result`;
    /// `Err` here is drillbook's own failure (the lab state could not be saved).
    fn perform(&mut self, op: &Op) -> crate::error::Result<Performed>;
    /// Simulated seconds since the lab started, if this target has a clock.
    fn clock(&self) -> Option<u64> {
        None
    }
    /// A copy that performs ops without persisting anything, for a dry run
    /// that predicts the end state. `None` if the target cannot provide one.
    fn scratch(&self) -> Option<Box<dyn Target>> {
        None
    }
}
