//! `drillbook lab pwsh`: the Lync Server Management Shell stand-in. It reads
//! the script the live target writes on stdin, parses the cmdlet line back
//! into an op, performs it on the lab file under its lock, and answers as
//! `pwsh -Command -` would: ConvertTo-Json output on stdout (nothing for
//! `$null`, a lone object unwrapped from its array), errors on stderr with
//! exit code 1.

use super::cmdlet_parse::parse_script;
use super::{stall, stalls};
use crate::lab::Lab;
use crate::targets::OpError;
use crate::wire::REMOTING_FAILED;
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// What ConvertTo-Json prints for a value piped into it, compressed.
pub fn convert_to_json(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) if items.len() == 1 => convert_to_json(&items[0]),
        other => Some(other.to_string()),
    }
}

/// Run one script; the process's exit code.
pub fn run(lab_path: &Path, host: &str) -> i32 {
    let mut script = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut script) {
        eprintln!("cannot read the script on stdin: {e}");
        return 1;
    }
    let op = match parse_script(&script, host) {
        Ok(op) => op,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let line = script.lines().nth(1).unwrap_or_default();
    if let Some(d) = stalls(&stall(), line) {
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
        Err(e) => {
            eprintln!("the lab behind the stand-in: {e}");
            return 1;
        }
    };
    match done.result {
        Ok(v) => {
            if let Some(text) = convert_to_json(&v) {
                println!("{text}");
            }
            0
        }
        Err(OpError::Cmdlet {
            cmdlet, message, ..
        }) => {
            eprintln!("{cmdlet}: {message}");
            1
        }
        Err(OpError::Unreachable { host, message }) => {
            eprintln!(
                "{REMOTING_FAILED} {host} failed with the following error message : {message}"
            );
            1
        }
        Err(OpError::NotSimulated { message }) => {
            eprintln!("not simulated by the lab: {message}");
            1
        }
        Err(other) => {
            eprintln!("{other}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn output_is_shaped_like_convert_to_json() {
        assert_eq!(convert_to_json(&Value::Null), None);
        assert_eq!(convert_to_json(&json!([])), None);
        assert_eq!(
            convert_to_json(&json!([{"a": [1]}])).as_deref(),
            Some("{\"a\":[1]}")
        );
        assert_eq!(convert_to_json(&json!([1, 2])).as_deref(), Some("[1,2]"));
    }
}
