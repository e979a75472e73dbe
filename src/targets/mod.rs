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
    /// The host could not be reached (down, or the network to it is): the
    /// connection was refused, timed out, or reset before any answer.
    Unreachable { host: String, message: String },
    /// The host answered, but could not be checked: TLS, the login or the
    /// protocol failed. Never "unreachable": a check that decides a server
    /// is lost cannot take it for an answer. `message` says what to fix.
    Unchecked {
        host: String,
        failed: Failed,
        message: String,
    },
    /// A cmdlet wrote an error; `reason` says which refusal it is, if it
    /// is one a runbook acts on (`OpError::cmdlet` classifies the message).
    Cmdlet {
        cmdlet: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
    /// A file operation failed.
    File { path: String, message: String },
    /// The lab does not model this op.
    NotSimulated { message: String },
}

/// What failed on a host that answered but could not be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failed {
    /// The host name did not resolve.
    NameResolution,
    /// SQL Browser did not give the named instance's port.
    SqlBrowser,
    /// Encryption: the levels do not match, the handshake or the certificate failed.
    Tls,
    /// The login was refused (18456 and friends).
    Login,
    /// The answer was not what SQL Server (or the shell) answers.
    Protocol,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Failed::NameResolution => "name resolution",
            Failed::SqlBrowser => "the SQL Browser lookup",
            Failed::Tls => "TLS",
            Failed::Login => "the login",
            Failed::Protocol => "the protocol",
        })
    }
}

/// A refusal a runbook branches on, as a stable code (`e.reason` in Rhai,
/// kebab-case), so that runbooks never match the wording of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Invoke-CsPoolFailOver: the pool is already failed over.
    AlreadyFailedOver,
    /// Invoke-CsPoolFailBack: the pool is not failed over.
    NotFailedOver,
    /// Invoke-CsPoolFailOver: the pool serves the users of another pool that
    /// failed over to it (fail that one back first).
    PoolIntegrity,
    /// Invoke-CsPoolFailOver: an Edge pool uses the pool as its next hop.
    EdgeNextHop,
    /// Invoke-CsPoolFailOver: the pool hosts the Central Management Store,
    /// which cannot be reached (fail the CMS over first).
    CmsUnavailable,
}

impl Reason {
    /// The code of a cmdlet's error text, if it is a refusal runbooks act
    /// on. The one classifier for the lab's cmdlet errors and the Lync
    /// Management Shell's (through the live target), so a real server's
    /// message gets the same code as the lab's.
    pub fn of_cmdlet_error(message: &str) -> Option<Reason> {
        let m = message.to_ascii_lowercase();
        let has = |s: &str| m.contains(s);
        if has("integrity") || has("serves the users") || has("serving the users") {
            Some(Reason::PoolIntegrity)
        } else if has("already failed over") {
            Some(Reason::AlreadyFailedOver)
        } else if has("not failed over") {
            Some(Reason::NotFailedOver)
        } else if has("next hop") {
            Some(Reason::EdgeNextHop)
        } else if has("central management")
            && (has("cannot be reached") || has("unavailable") || has("not available"))
        {
            Some(Reason::CmsUnavailable)
        } else {
            None
        }
    }
}

impl OpError {
    /// A cmdlet's error, its refusal reason classified from the message.
    pub fn cmdlet(cmdlet: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        OpError::Cmdlet {
            cmdlet: cmdlet.into(),
            reason: Reason::of_cmdlet_error(&message),
            message,
        }
    }

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
            OpError::Unchecked {
                host,
                failed,
                message,
            } => write!(
                f,
                "{host} answered but could not be checked: {failed} failed: {message}"
            ),
            OpError::Cmdlet {
                cmdlet, message, ..
            } => write!(f, "{cmdlet} failed: {message}"),
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

/// The outcome of one op: its result value, the simulated seconds it took
/// (zero outside the lab), and what the target printed beside the answer
/// (the Management Shell's verbose and warning lines), journaled as logs.
#[derive(Debug, Clone, PartialEq)]
pub struct Performed {
    pub result: Result<Value, OpError>,
    pub sim_seconds: u64,
    pub logs: Vec<String>,
}

/// The server session a live SQL change is sent on, journaled before it is
/// sent, so a resume can tell whether the interrupted run's statement is
/// still running there (issue 11, finding 7). `login_time` tells a reused
/// session id from the one the run had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlSession {
    pub instance: String,
    pub spid: i64,
    pub login_time: String,
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
    /// Seconds since the Unix epoch on this target's clock: the lab's
    /// simulated one, else the real one (`now()` in a runbook).
    fn now(&self) -> i64 {
        crate::time::now_epoch()
    }
    /// What the target said of the ops it performed since last asked,
    /// beyond their results: the lab's `not simulated: ...` lines.
    fn take_notes(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// A copy that performs ops without persisting anything, for a dry run
    /// that predicts the end state. `None` if the target cannot provide one.
    fn scratch(&self) -> Option<Box<dyn Target>> {
        None
    }
    /// Open the connection `op` will be sent on and name its server
    /// session, if this target has sessions (a live SQL op); else `None`.
    fn session(&mut self, _op: &Op) -> Option<SqlSession> {
        None
    }
    /// What `session` is running now, if a request of it still runs
    /// (`Ok(None)`: it finished or is gone).
    fn still_running(&mut self, _session: &SqlSession) -> Result<Option<String>, OpError> {
        Ok(None)
    }
    /// Whether an op may wait on something outside this process (a server,
    /// a shell, a share): the run writes its journal out before such an op.
    fn waits(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_get_their_reason_code_from_the_lab_or_a_shell() {
        let cases = [
            ("Pool \"p\" is already failed over to \"q\". Fail it back with Invoke-CsPoolFailBack -PoolFqdn p.", Some(Reason::AlreadyFailedOver)),
            ("Pool \"p\" is not failed over: its users are served by it. There is nothing to fail back.", Some(Reason::NotFailedOver)),
            ("Pool integrity check failed: pool \"p\" is serving the users of pool \"q\", which is failed over to it.", Some(Reason::PoolIntegrity)),
            ("This Front-end pool \"p\" is specified in topology as the next hop for the Edge server.", Some(Reason::EdgeNextHop)),
            ("Pool \"p\" hosts the active Central Management Store, which cannot be reached.", Some(Reason::CmsUnavailable)),
            ("The topology has no Central Management Store.", None),
            ("timed out after 3 s (live.shell_timeout_seconds)", None),
        ];
        for (message, reason) in cases {
            assert_eq!(Reason::of_cmdlet_error(message), reason, "{message}");
            // What the live target reads from the shell's stderr.
            let shell = format!("Invoke-CsPoolFailOver : {message}");
            assert_eq!(
                OpError::cmdlet("Invoke-CsPoolFailOver", shell.as_str()),
                OpError::Cmdlet {
                    cmdlet: "Invoke-CsPoolFailOver".into(),
                    message: shell.clone(),
                    reason,
                }
            );
        }
        let json =
            serde_json::to_value(OpError::cmdlet("X", "Pool \"p\" is not failed over")).unwrap();
        assert_eq!(json["reason"], "not-failed-over");
        // Journals written before reason codes still read.
        let old: OpError = serde_json::from_value(
            serde_json::json!({"kind": "cmdlet", "cmdlet": "X", "message": "m"}),
        )
        .unwrap();
        assert_eq!(
            old,
            OpError::Cmdlet {
                cmdlet: "X".into(),
                message: "m".into(),
                reason: None
            }
        );
    }
}
