//! Live cmdlets: each `Op::Cmdlet` becomes a script fed on stdin to the
//! command the estate names for the Lync Server Management Shell
//! (`[live] shell`, by default `pwsh -NoProfile -NonInteractive -Command -`):
//!
//! ```text
//! $ErrorActionPreference = 'Stop'
//! <the rendered cmdlet line> | ConvertTo-Json -Depth 5 -Compress
//! ```
//!
//! That framing is `crate::wire`'s, which the twin's stand-in reads back.
//! Every argument went through `quote::ps_literal` when the line was
//! rendered. Output is JSON (nothing at all for `$null`); a non-zero exit is
//! the cmdlet's error; a shell that outlives `shell_timeout_seconds` is
//! killed and the op reported as timed out.
//!
//! The shell starts with a minimal environment: only the variables in
//! [`PASSED_THROUGH`] (what Windows and PowerShell need to start and find
//! their modules), never the rest of drillbook's — so no SQL password
//! variable reaches it. A plan's shell also gets [`READ_ONLY_ENV`].

use crate::op::Op;
use crate::targets::OpError;
use crate::wire::{script, REMOTING_FAILED};
use serde_json::Value;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The variables the shell inherits, when set; every other one is dropped.
pub const PASSED_THROUGH: &[&str] = &[
    "PATH",
    "PATHEXT",
    "SystemRoot",
    "SystemDrive",
    "windir",
    "ComSpec",
    "TEMP",
    "TMP",
    "HOME",
    "USERPROFILE",
    "USERNAME",
    "USERDOMAIN",
    "COMPUTERNAME",
    "APPDATA",
    "LOCALAPPDATA",
    "ProgramData",
    "ProgramFiles",
    "ProgramFiles(x86)",
    "PSModulePath",
    "LANG",
    "LC_ALL",
    "TZ",
];

/// Set (to `1`) for the shell of a plan: it may only read. The lab twin's
/// stand-in then leaves its lab untouched; a real shell ignores it.
pub use crate::wire::READ_ONLY_ENV;

/// Longest error text kept from the shell's stderr.
const MAX_MESSAGE: usize = 4000;

#[derive(Debug, Clone)]
pub struct Shell {
    /// Program and arguments; `{host}` in an argument becomes the op's host.
    pub command: Vec<String>,
    pub timeout: Duration,
    /// A plan's shell: only reads are sent, and it is told so.
    pub read_only: bool,
}

/// The command for `program`, its environment cut down to [`PASSED_THROUGH`].
fn minimal_command(program: &str, read_only: bool) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear();
    for name in PASSED_THROUGH {
        if let Some(v) = std::env::var_os(name) {
            cmd.env(name, v);
        }
    }
    // The twin's stall testing aid reaches the stand-in in test builds only.
    #[cfg(feature = "test-hooks")]
    if let Some(v) = std::env::var_os("DRILLBOOK_LAB_STALL") {
        cmd.env("DRILLBOOK_LAB_STALL", v);
    }
    if read_only {
        cmd.env(READ_ONLY_ENV, "1");
    }
    cmd
}

/// Read a pipe to the end on a thread, so neither pipe can fill and stall the shell.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// What ConvertTo-Json printed: the whole output, or its last JSON line
/// if the shell also printed something else (a profile, a banner).
fn parse_output(stdout: &str) -> Option<Value> {
    let text = stdout.trim();
    if text.is_empty() {
        return Some(Value::Null);
    }
    if let Ok(v) = serde_json::from_str(text) {
        return Some(v);
    }
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .and_then(|l| serde_json::from_str(l).ok())
}

impl Shell {
    pub fn perform(&self, op: &Op) -> Result<Value, OpError> {
        let Op::Cmdlet { host, cmdlet, .. } = op else {
            return Err(OpError::NotSimulated {
                message: "not a cmdlet".into(),
            });
        };
        let failed = |message: String| OpError::cmdlet(cmdlet, message);
        let line = op.render().map_err(|q| failed(q.to_string()))?;
        let Some((program, args)) = self.command.split_first() else {
            return Err(failed("live.shell is empty".into()));
        };
        let args: Vec<String> = args.iter().map(|a| a.replace("{host}", host)).collect();
        let mut child = minimal_command(program, self.read_only)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| OpError::Unreachable {
                host: host.clone(),
                message: format!("cannot start the shell {program:?} (live.shell): {e}"),
            })?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed(
                "the shell's standard streams could not be opened".into(),
            ));
        };
        let text = script(&line);
        let feeder = thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
            // Dropping stdin closes it: the shell reads to the end and runs.
        });
        let (out, err) = (drain(stdout), drain(stderr));
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() >= self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    // The readers end when the pipes close; not waited for,
                    // in case a grandchild holds them open.
                    return Err(failed(format!(
                        "timed out after {} s (live.shell_timeout_seconds); the shell (pid {}) was killed",
                        self.timeout.as_secs(),
                        child.id()
                    )));
                }
                Ok(None) => thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(failed(format!("waiting for the shell: {e}"))),
            }
        };
        let _ = feeder.join();
        let stdout = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
        let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
        if !status.success() {
            let mut message: String = stderr.trim().chars().take(MAX_MESSAGE).collect();
            if message.is_empty() {
                message = format!("the shell exited with {status} and wrote no error");
            }
            if message.contains(REMOTING_FAILED) {
                return Err(OpError::Unreachable {
                    host: host.clone(),
                    message,
                });
            }
            return Err(failed(message));
        }
        parse_output(&stdout).ok_or_else(|| {
            failed(format!(
                "the output is not JSON from ConvertTo-Json: {}",
                stdout.trim().chars().take(200).collect::<String>()
            ))
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::op::{CmdletArg, PsValue};

    fn op() -> Op {
        Op::Cmdlet {
            host: "fe.x".into(),
            cmdlet: "Get-CsThing".into(),
            args: vec![CmdletArg::new("Identity", PsValue::Str("it's".into()))],
        }
    }

    fn sh(script: &str, timeout_ms: u64) -> Shell {
        Shell {
            command: vec![
                "sh".into(),
                "-c".into(),
                script.into(),
                "sh".into(),
                "{host}".into(),
            ],
            timeout: Duration::from_millis(timeout_ms),
            read_only: false,
        }
    }

    #[test]
    fn the_script_reaches_stdin_and_json_comes_back() {
        let shell = sh("cat > /dev/null; echo '{\"Host\":\"'$1'\"}'", 5000);
        assert_eq!(
            shell.perform(&op()).unwrap(),
            serde_json::json!({"Host": "fe.x"})
        );
        let echo = sh("cat", 5000);
        // The script itself is not JSON: the op fails and says so.
        let err = echo.perform(&op()).unwrap_err();
        assert!(matches!(err, OpError::Cmdlet { .. }), "{err:?}");
        assert_eq!(
            sh("cat >/dev/null", 5000).perform(&op()).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn errors_name_the_cmdlet_and_a_stall_is_killed() {
        let failing = sh(
            "cat >/dev/null; echo 'Get-CsThing: no such pool' >&2; exit 1",
            5000,
        );
        assert_eq!(
            failing.perform(&op()).unwrap_err(),
            OpError::Cmdlet {
                cmdlet: "Get-CsThing".into(),
                message: "Get-CsThing: no such pool".into(),
                reason: None,
            }
        );
        let started = Instant::now();
        let stalled = sh("sleep 30", 300).perform(&op()).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            matches!(&stalled, OpError::Cmdlet { message, .. } if message.contains("timed out")),
            "{stalled:?}"
        );
        let missing = Shell {
            command: vec!["/nonexistent/pwsh".into()],
            timeout: Duration::from_secs(1),
            read_only: false,
        };
        assert!(matches!(
            missing.perform(&op()),
            Err(OpError::Unreachable { .. })
        ));
    }
}
