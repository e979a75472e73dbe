//! What a run tells the person at the terminal, or a program reading `--json`.
//!
//! The run and the drill emit `Event`s (`event.rs`); a `Reporter` renders
//! them: `terminal::Human` for people, `json::Json` for programs, one JSON
//! object per line on stdout. Every human line is printed through
//! `visible::visible`, so a value cannot steer the terminal.

pub mod brief;
pub mod drill_summary;
pub mod event;
pub mod facts;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod quiet;
pub mod style;
pub mod summary;
pub mod terminal;
pub mod timeline;
pub mod visible;

pub use crate::time::duration;
pub use drill_summary::DrillSummary;
pub use event::{Event, Reporter};
pub use json::Json;
pub use summary::{DataLoss, Expectation, Scorecard, StepOutcome, StepStatus};
pub use terminal::Human;
pub use visible::visible;
