//! The drill report as one self-contained HTML file: inline CSS, the
//! timeline as inline SVG (`timeline.rs`), no script and nothing fetched
//! from the network, so it reads the same mailed, archived or offline.

use super::drill_summary::DrillSummary;
use super::facts::{headline, sections, title};
use super::junit::escape;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;background:#fff}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}\
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f0f0f0}.missed,.no{color:#c62828;font-weight:bold}.legend span{margin-right:1.2em}\
ul.headline li{margin:.2em 0}";

pub fn render(d: &DrillSummary) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{0}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{0}</h1>\n<ul class=\"headline\">\n",
        escape(&title(d))
    );
    for line in headline(d) {
        let class = if line.contains("MISSED") || line.starts_with("The drill") {
            " class=\"missed\""
        } else {
            ""
        };
        out.push_str(&format!("<li{class}>{}</li>\n", escape(&line)));
    }
    out.push_str("</ul>\n<h2>Timeline (simulated time)</h2>\n");
    out.push_str(&super::timeline::svg(d));
    out.push_str(
        "<p class=\"legend\"><span>&#9646; step</span><span>| tall dark tick: change op</span>\
         <span>| short pale tick: read op</span><span>&#9670; decision</span>\
         <span>&#9679; manual step</span><span>- - red line: RTO target</span></p>\n",
    );
    for s in sections(d) {
        out.push_str(&format!("<h2>{}</h2>\n", escape(s.title)));
        if s.rows.is_empty() {
            out.push_str("<p>None.</p>\n");
            continue;
        }
        out.push_str("<table>\n<tr>");
        for c in &s.columns {
            out.push_str(&format!("<th>{}</th>", escape(c)));
        }
        out.push_str("</tr>\n");
        for row in &s.rows {
            out.push_str("<tr>");
            for c in row {
                let class = if c == "NO" || c == "failed" {
                    " class=\"no\""
                } else {
                    ""
                };
                out.push_str(&format!("<td{class}>{}</td>", escape(c)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}
