//! Ports: the two things the live target takes from whoever opens it
//! instead of deciding them itself — where file ops go, and where waits and
//! a person's confirmed work happen.
//!
//! Against a real estate the answers are the live target's own (shares
//! through local mounts; the wall clock; the person already did it). Behind
//! the lab twin they are the lab file's, so a live run ends where a lab run
//! does. They are named here, beside `Target`, so that the live target and
//! the twin can both speak of them without either importing the other;
//! `cli::target`, where a run's target is opened, wires one to the other.

use super::{OpError, Performed};
use crate::error::Result;
use crate::op::Op;
use serde_json::Value;

/// Where `ListFiles` and `CopyFiles` ops go. A store that cannot be used
/// answers with `OpError::File`, which a runbook can catch.
pub trait FileStore {
    fn perform(&mut self, op: &Op) -> std::result::Result<Value, OpError>;
}

/// Where `Wait` and `Manual` ops happen: time passing, and what a person
/// did by hand once they confirmed it. `Err` is drillbook's own failure.
pub trait Clock {
    fn perform(&mut self, op: &Op) -> Result<Performed>;
}

/// The ports a live target is opened with.
pub struct Ports {
    pub files: Box<dyn FileStore>,
    pub clock: Box<dyn Clock>,
}
