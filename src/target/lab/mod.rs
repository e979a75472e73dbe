//! The lab: a simulated estate.
