//! `--json`: each event as one JSON object per line on stdout, tagged by
//! `event`. That stream is the machine interface; free text is for humans
//! only and is dropped here.

use super::{Event, Reporter};

/// Renders events as JSON lines.
pub struct Json;

impl Reporter for Json {
    fn event(&self, e: &Event) {
        println!("{}", serde_json::to_string(e).expect("events serialize"));
    }
    fn text(&self, _line: &str) {}
}
