//! The users' side of the estate.

use serde::{Deserialize, Serialize};

/// The users' side of a pool: what they were told was committed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    pub committed: u64,
    pub last_commit_at: u64,
    /// Transactions per minute accrue per second; this is the remainder
    /// (in transaction-sixtieths) not yet committed.
    pub carry: u64,
}
