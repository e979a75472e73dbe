//! drillbook: versioned, journaled, resumable runbooks for the high-availability
//! and disaster-recovery procedures of Lync Server 2013, drilled against a
//! simulated estate before they are run against the real one.

pub mod cli;
pub mod drill;
pub mod durable;
pub mod engine;
pub mod error;
pub mod estate;
pub mod journal;
pub mod lab;
pub mod live;
pub mod op;
pub mod quote;
pub mod report;
pub mod run;
pub mod runbook;
pub mod secret;
pub mod sql_readonly;
pub mod suggest;
pub mod targets;
pub mod time;
pub mod tsql;
pub mod twin;
pub mod wire;
