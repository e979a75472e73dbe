//! JUnit XML, the format CI systems read test results in: one
//! `<testsuite>` of `<testcase>`s, a failure or a skip (not applicable)
//! with its reason. `drillbook test --junit` writes one testcase per
//! scenario; `drillbook report --format junit` one per step, expectation
//! and the RTO of a drill.

use std::fmt::Write as _;

/// How one test case ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Passed,
    Failed(String),
    /// Not applicable: skipped, with why.
    Skipped(String),
}

/// One test case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The group it belongs to (a runbook).
    pub class: String,
    pub name: String,
    pub seconds: f64,
    pub verdict: Verdict,
}

/// The XML document for a suite of cases.
pub fn render(suite: &str, cases: &[Case]) -> String {
    let failures = cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Failed(_)))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Skipped(_)))
        .count();
    let total: f64 = cases.iter().map(|c| c.seconds).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{0}\" tests=\"{1}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{total:.3}\">",
        escape(suite),
        cases.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{0}\" tests=\"{1}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{total:.3}\">",
        escape(suite),
        cases.len()
    );
    for c in cases {
        let open = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            escape(&c.class),
            escape(&c.name),
            c.seconds
        );
        match &c.verdict {
            Verdict::Passed => {
                let _ = writeln!(out, "{open}/>");
            }
            Verdict::Failed(why) => {
                let first = why.lines().next().unwrap_or("");
                let _ = writeln!(
                    out,
                    "{open}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    escape(first),
                    escape(why)
                );
            }
            Verdict::Skipped(why) => {
                let _ = writeln!(
                    out,
                    "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                    escape(why)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// A drill as test cases: each step, each expectation on the end state,
/// and the RTO against its target.
pub fn drill_cases(d: &super::DrillSummary) -> Vec<Case> {
    use super::StepStatus;
    let class = format!("{}.{}", d.runbook, d.scenario);
    let mut out: Vec<Case> = d
        .steps
        .iter()
        .map(|s| Case {
            class: class.clone(),
            name: format!("step {}: {}", s.index + 1, s.name),
            seconds: s.wall_ms as f64 / 1000.0,
            verdict: match (s.status, &d.stopped) {
                (StepStatus::Completed | StepStatus::Replayed, _) => Verdict::Passed,
                (_, Some(stop)) if stop.step == s.name => Verdict::Failed(stop.message.clone()),
                (status, _) => Verdict::Failed(format!("{status:?}").to_lowercase()),
            },
        })
        .collect();
    out.extend(d.measurements.expectations.iter().map(|e| Case {
        class: class.clone(),
        name: format!("expect {}", e.pointer),
        seconds: 0.0,
        verdict: if e.holds {
            Verdict::Passed
        } else {
            Verdict::Failed(format!("expected {}, found {}", e.expected, e.actual))
        },
    }));
    out.push(Case {
        class,
        name: "RTO".into(),
        seconds: d.measurements.rto_seconds as f64,
        verdict: if d.measurements.rto_met {
            Verdict::Passed
        } else {
            Verdict::Failed(d.rto_line())
        },
    });
    out
}

/// Text as XML character data or an attribute value; characters XML 1.0
/// cannot carry (control characters) are dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(ch),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_xml_needs() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
