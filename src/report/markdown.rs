//! The drill report as Markdown, for a ticket or a wiki: the same facts as
//! the HTML report (`facts.rs`), as a heading, a list and tables.

use super::drill_summary::DrillSummary;
use super::facts::{headline, sections, title};

pub fn render(d: &DrillSummary) -> String {
    let mut out = format!("# {}\n\n", title(d));
    for line in headline(d) {
        out.push_str(&format!("- {}\n", cell(&line)));
    }
    for s in sections(d) {
        out.push_str(&format!("\n## {}\n\n", s.title));
        if s.rows.is_empty() {
            out.push_str("None.\n");
            continue;
        }
        out.push_str(&format!("| {} |\n", s.columns.join(" | ")));
        out.push_str(&format!("|{}\n", "---|".repeat(s.columns.len())));
        for row in &s.rows {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    }
    out
}

/// Text safe in a table cell: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
