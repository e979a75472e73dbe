//! SQL Server as the lab simulates it.

pub(in crate::lab) mod answers;
pub(in crate::lab) mod full_backup;
pub(in crate::lab) mod mirroring;
pub(in crate::lab) mod statements;
