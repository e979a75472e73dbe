//! `drillbook lab pwsh`: the Lync Server Management Shell stand-in, as
//! strict as Windows PowerShell 5.1 under `-NoProfile -Command -`. It reads
//! the script the live target writes on stdin (`pwsh_script`), performs
//! its cmdlet on the lab file under its lock, and answers as that shell
//! would, given which of the script's safeguards are there:
//!
//! - no Lync cmdlet exists unless the script ran `Import-Module Lync` or
//!   opened a remote session (whose URI names the host);
//! - `-Verbose` lines go to stdout, before any output, unless the script
//!   redirects stream 4 into its collector;
//! - the result is ConvertTo-Json's own shapes (TimeSpan objects,
//!   `"\/Date(ms)\/"`) unless the script normalizes types (`pwsh_shapes`);
//! - the script on stdin is read in code page 437 (a console's OEM code
//!   page), so only its ASCII arrives as sent; stdout is in code page 437
//!   unless the script sets UTF-8;
//! - a script PowerShell cannot parse runs nothing, prints the ParserError
//!   on stderr and exits 0 (the last statement's status under
//!   `-Command -`); a cmdlet's error is on stderr with exit code 1.

use super::pwsh_script::{read_script, Safeguards};
use super::pwsh_shapes::{oem_bytes, oem_text, raw_shapes, to_json};
use super::{stall, stalls};
use crate::lab::Lab;
use crate::op::{Op, PsValue};
use crate::targets::OpError;
use crate::wire::{REMOTING_FAILED, SENTINEL};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;

/// What ConvertTo-Json prints for a value piped into it, compressed.
pub fn convert_to_json(v: &Value, normalized: bool) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) if items.len() == 1 => convert_to_json(&items[0], normalized),
        other if normalized => Some(other.to_string()),
        other => Some(to_json(&raw_shapes(other))),
    }
}

/// What a script's run printed, and its exit code.
#[derive(Debug, Default, PartialEq)]
pub struct Printed {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// A cmdlet's error, as PowerShell ends the script on it.
fn failed(message: String) -> Printed {
    Printed {
        stderr: format!("{message}\n"),
        code: 1,
        ..Printed::default()
    }
}

/// A lab error as the Management Shell words it.
fn error_text(e: OpError) -> String {
    match e {
        OpError::Cmdlet {
            cmdlet, message, ..
        } => format!("{cmdlet}: {message}"),
        OpError::Unreachable { host, message } => {
            format!("{REMOTING_FAILED} {host} failed with the following error message : {message}")
        }
        OpError::NotSimulated { message } => format!("not simulated by the lab: {message}"),
        other => other.to_string(),
    }
}

/// The lines `-Verbose` makes a cmdlet write.
fn verbose_lines(op: &Op) -> Vec<String> {
    let Op::Cmdlet { host, cmdlet, args } = op else {
        return Vec::new();
    };
    let asked = args.iter().any(|a| {
        a.name.eq_ignore_ascii_case("Verbose")
            && matches!(a.value, PsValue::Switch | PsValue::Bool(true))
    });
    if !asked {
        return Vec::new();
    }
    vec![
        format!("VERBOSE: Performing the operation \"{cmdlet}\" on target \"{host}\"."),
        format!("VERBOSE: {cmdlet}: done."),
    ]
}

/// Perform what a script asks on the lab at `lab_path`.
pub fn answer(lab_path: &Path, script: &str, host: Option<&str>) -> Printed {
    let script = match read_script(script, host) {
        Ok(s) => s,
        // Nothing ran; `-Command -` exits with the status of the last
        // statement it ran, and there was none that failed.
        Err(e) => {
            return Printed {
                stderr: format!("{e}\n"),
                ..Printed::default()
            }
        }
    };
    let Safeguards {
        lync,
        normalized,
        redirected,
        sentinel,
        ..
    } = script.safeguards;
    let op = script.op;
    let Op::Cmdlet { cmdlet, .. } = &op else {
        unreachable!("a script reads back as a cmdlet")
    };
    if !lync {
        return failed(format!(
            "The term '{cmdlet}' is not recognized as the name of a cmdlet, function, script file, or operable program."
        ));
    }
    if let Some(d) = stalls(&stall(), cmdlet) {
        std::thread::sleep(d);
    }
    // A plan's shell only reads, and its reads leave the lab untouched.
    let done = if std::env::var_os(crate::wire::READ_ONLY_ENV).is_some() {
        Lab::read_at(lab_path, &op)
    } else {
        Lab::perform_at(lab_path, &op)
    };
    let done = match done {
        Ok(done) => done,
        Err(e) => return failed(format!("the lab behind the stand-in: {e}")),
    };
    let verbose = verbose_lines(&op);
    let mut stdout = String::new();
    if !redirected {
        for l in &verbose {
            stdout.push_str(l);
            stdout.push('\n');
        }
    }
    let result = match done.result {
        Ok(v) => v,
        Err(e) => {
            let mut p = failed(error_text(e));
            p.stdout = stdout;
            return p;
        }
    };
    let json = convert_to_json(&result, normalized);
    if sentinel {
        let logs: Vec<&String> = if redirected {
            verbose.iter().collect()
        } else {
            Vec::new()
        };
        stdout.push_str(&format!(
            "{SENTINEL}\n{}\n",
            Value::from(logs.iter().map(|s| s.as_str()).collect::<Vec<_>>())
        ));
    }
    if let Some(text) = json {
        stdout.push_str(&text);
        stdout.push('\n');
    }
    Printed {
        stdout,
        stderr: String::new(),
        code: 0,
    }
}

/// Run one script from stdin; the process's exit code.
pub fn run(lab_path: &Path, host: Option<&str>) -> i32 {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("cannot read the script on stdin: {e}");
        return 1;
    }
    // `-Command -` reads stdin in the OEM code page, whatever the script
    // sets later: only ASCII arrives as sent.
    let script = oem_text(&bytes);
    let printed = answer(lab_path, &script, host);
    let utf8 = read_script(&script, host).is_ok_and(|s| s.safeguards.utf8);
    let encode = |text: &str| {
        if utf8 {
            text.as_bytes().to_vec()
        } else {
            oem_bytes(text)
        }
    };
    let _ = std::io::stdout().write_all(&encode(&printed.stdout));
    let _ = std::io::stderr().write_all(&encode(&printed.stderr));
    printed.code
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn output_is_shaped_like_convert_to_json() {
        assert_eq!(convert_to_json(&Value::Null, true), None);
        assert_eq!(convert_to_json(&json!([]), true), None);
        assert_eq!(
            convert_to_json(&json!([{"a": [1]}]), true).as_deref(),
            Some("{\"a\":[1]}")
        );
        assert_eq!(
            convert_to_json(&json!([1, 2]), true).as_deref(),
            Some("[1,2]")
        );
        assert_eq!(
            convert_to_json(&json!({"I": "00:00:05"}), false).as_deref(),
            Some(raw_shapes(&json!({"I": "00:00:05"})).to_string().as_str())
        );
    }
}
