//! What the Management Shell answered, read from its stdout: the script
//! (`wire::script`) prints [`SENTINEL`] on a line of its own, then the log
//! lines as one JSON array of strings, then the result as one line of JSON
//! (nothing for `$null`). Everything before the sentinel — a banner, a
//! profile, `Write-Host`, VERBOSE lines PowerShell wrote to the host — is
//! not the answer; it is kept as log lines.
//!
//! The last sentinel line counts: no JSON line can equal it. An answer that
//! is not UTF-8 (an OEM code page) is refused rather than misread, and a
//! shell that exits 0 without a sentinel did not run the script (a
//! PowerShell parse error under `-Command -` exits 0): that is a failure.

use crate::wire::SENTINEL;
use serde_json::Value;

/// What one run of the shell gave back.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub result: Value,
    /// Verbose and warning records, and whatever came before the sentinel.
    pub logs: Vec<String>,
}

/// Why an answer could not be read; the op failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub message: String,
    /// What was printed before the failure was seen.
    pub logs: Vec<String>,
}

/// A UTF-8 BOM some encodings write before the first line.
const BOM: &str = "\u{FEFF}";

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(|l| l.trim_end_matches('\r'))
}

/// The non-empty lines of text printed outside the answer.
pub fn noise(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    lines(text.trim_start_matches(BOM))
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Read a successful (exit 0) shell's stdout.
pub fn read(stdout: &[u8], stderr: &[u8]) -> Result<Answer, Unreadable> {
    let at = sentinel_at(stdout);
    let Some((start, end)) = at else {
        let mut logs = noise(stdout);
        let err = noise(stderr).join("\n");
        let message = if err.is_empty() {
            "the shell exited 0 without an answer: the script did not run to its end".to_string()
        } else {
            format!("the shell exited 0 without an answer (the script did not run): {err}")
        };
        logs.truncate(50);
        return Err(Unreadable { message, logs });
    };
    let mut logs = noise(&stdout[..start]);
    let unreadable = |message: String, logs: &Vec<String>| Unreadable {
        message,
        logs: logs.clone(),
    };
    let answer = std::str::from_utf8(&stdout[end..]).map_err(|_| {
        unreadable(
            "the shell's answer is not UTF-8: it wrote in a code page \
             (the script sets [Console]::OutputEncoding; is live.shell a PowerShell?)"
                .into(),
            &logs,
        )
    })?;
    let mut rest = lines(answer).filter(|l| !l.trim().is_empty());
    let recorded: Vec<String> = match rest.next() {
        Some(l) => serde_json::from_str(l).map_err(|e| {
            unreadable(
                format!(
                    "the shell's log line after {SENTINEL} is not a JSON array of strings: {e}"
                ),
                &logs,
            )
        })?,
        None => {
            return Err(unreadable(
                format!("the shell printed {SENTINEL} and then nothing"),
                &logs,
            ))
        }
    };
    logs.extend(recorded);
    let result = match rest.next() {
        None => Value::Null,
        Some(l) => serde_json::from_str(l).map_err(|_| {
            unreadable(
                format!(
                    "the output is not JSON from ConvertTo-Json: {}",
                    l.chars().take(200).collect::<String>()
                ),
                &logs,
            )
        })?,
    };
    if let Some(extra) = rest.next() {
        return Err(unreadable(
            format!(
                "the shell printed more after its answer: {}",
                extra.chars().take(200).collect::<String>()
            ),
            &logs,
        ));
    }
    Ok(Answer { result, logs })
}

/// The byte range of the last line that is exactly the sentinel.
fn sentinel_at(stdout: &[u8]) -> Option<(usize, usize)> {
    let mut found = None;
    let mut start = 0;
    for line in stdout.split_inclusive(|b| *b == b'\n') {
        let end = start + line.len();
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let text = text.strip_prefix(BOM.as_bytes()).unwrap_or(text);
        if text == SENTINEL.as_bytes() {
            found = Some((start, end));
        }
        start = end;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verbose_lines_before_the_sentinel_are_logs_not_the_answer() {
        let out =
            b"VERBOSE: Performing the operation.\r\n#drillbook-answer\r\n[\"WARNING: slow\"]\r\n";
        assert_eq!(
            read(out, b"").unwrap(),
            Answer {
                result: Value::Null,
                logs: vec![
                    "VERBOSE: Performing the operation.".into(),
                    "WARNING: slow".into()
                ],
            }
        );
        let out = "\u{FEFF}#drillbook-answer\n[]\n{\"Name\":\"é\"}\n";
        assert_eq!(
            read(out.as_bytes(), b"").unwrap().result,
            json!({"Name": "é"})
        );
    }

    #[test]
    fn no_sentinel_or_a_code_page_answer_is_a_failure() {
        let e = read(b"", b"ParserError: Missing closing '}'").unwrap_err();
        assert!(e.message.contains("ParserError"), "{e:?}");
        // "é" in CP437 is 0x82: not UTF-8.
        let e = read(b"#drillbook-answer\n[]\n{\"Name\":\"\x82\"}\n", b"").unwrap_err();
        assert!(e.message.contains("not UTF-8"), "{e:?}");
        let e = read(b"#drillbook-answer\n[]\n{}\n{}\n", b"").unwrap_err();
        assert!(e.message.contains("more after"), "{e:?}");
    }
}
