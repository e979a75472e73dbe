//! The dry run: the same script, changes shown and never performed.
//!
//! Over a target that can make a scratch copy (the lab), every op runs on the
//! copy, so the plan's later steps see the state the earlier changes would
//! leave and the plan shows the predicted end state; nothing is saved. Over
//! one that cannot (live), reads go through and changes are answered with
//! the op's modeled success result; so is a wait, which would let the
//! estate's time pass.

use super::{Performed, Target};
use crate::error::Result;
use crate::op::Op;

pub struct DryRun {
    inner: Box<dyn Target>,
    scratch: Option<Box<dyn Target>>,
}

impl DryRun {
    pub fn new(inner: Box<dyn Target>) -> DryRun {
        let scratch = inner.scratch();
        DryRun { inner, scratch }
    }
}

impl Target for DryRun {
    fn name(&self) -> String {
        format!("dry-run({})", self.inner.name())
    }

    fn perform(&mut self, op: &Op) -> Result<Performed> {
        if let Some(scratch) = self.scratch.as_mut() {
            return scratch.perform(op);
        }
        // Letting time pass changes a live estate (schedules run, data
        // replicates): a plan models a wait and never sends it.
        if op.is_change() || matches!(op, Op::Wait { .. }) {
            Ok(Performed {
                result: Ok(op.modeled_result()),
                sim_seconds: 0,
                logs: Vec::new(),
            })
        } else {
            self.inner.perform(op)
        }
    }

    fn clock(&self) -> Option<u64> {
        self.scratch.as_ref().and_then(|s| s.clock())
    }

    fn waits(&self) -> bool {
        self.scratch
            .as_ref()
            .map_or_else(|| self.inner.waits(), |s| s.waits())
    }

    fn take_notes(&mut self) -> Vec<String> {
        match self.scratch.as_mut() {
            Some(s) => s.take_notes(),
            None => self.inner.take_notes(),
        }
    }

    fn now(&self) -> i64 {
        self.scratch
            .as_ref()
            .map_or_else(|| self.inner.now(), |s| s.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::OpError;

    /// A target that fails the test if it is asked to change anything.
    struct NoChanges;

    impl Target for NoChanges {
        fn name(&self) -> String {
            "live".into()
        }
        fn perform(&mut self, op: &Op) -> Result<Performed> {
            assert!(!op.is_change(), "dry run sent a change: {op:?}");
            Ok(Performed {
                result: Err(OpError::NotSimulated {
                    message: "read".into(),
                }),
                sim_seconds: 0,
                logs: Vec::new(),
            })
        }
    }

    #[test]
    fn changes_never_reach_a_target_without_scratch() {
        let mut d = DryRun::new(Box::new(NoChanges));
        let change = Op::RecoverDatabase {
            instance: "i".into(),
            database: "mgc".into(),
        };
        assert_eq!(
            d.perform(&change).unwrap().result,
            Ok(serde_json::json!([]))
        );
        let read = Op::SqlPing {
            instance: "i".into(),
        };
        assert!(d.perform(&read).unwrap().result.is_err());
    }
}
