//! A reporter that tells nobody: `drillbook test` drills scenarios through
//! it, and prints one line per scenario itself.

use super::{Event, Reporter};

pub struct Quiet;

impl Reporter for Quiet {
    fn event(&self, _e: &Event) {}
    fn text(&self, _line: &str) {}
}
