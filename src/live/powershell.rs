//! Live cmdlets: each `Op::Cmdlet` becomes a script fed on stdin to the
//! command the estate names for the Lync Server Management Shell
//! (`[live] shell`, by default Windows PowerShell:
//! `powershell.exe -NoProfile -NonInteractive -Command -`).
//!
//! The script is `crate::wire::script`, which the twin's stand-in reads
//! back: UTF-8 out, the Lync cmdlets from `Import-Module Lync` or, with
//! `[live] session = "remote"`, from the op's host's
//! `https://<host>/OcsPowershell` endpoint; the cmdlet line (every argument
//! through `quote::ps_literal`, which keeps the script printable ASCII:
//! Windows PowerShell reads stdin in the OEM code page) with its verbose
//! and warning streams collected apart; the answer after a sentinel line
//! (`shell_answer`), its types normalized; explicit exit codes from a try/catch. The log lines
//! come back with the result and are journaled. A non-zero exit is the
//! cmdlet's error; a shell that outlives `shell_timeout_seconds` is killed
//! and the op reported as timed out.
//!
//! The shell starts with a minimal environment: only the variables in
//! [`PASSED_THROUGH`] (what Windows and PowerShell need to start and find
//! their modules), never the rest of drillbook's — so no SQL password
//! variable reaches it. A plan's shell also gets [`READ_ONLY_ENV`].

use super::config::ShellSession;
use super::shell_answer;
use crate::op::Op;
use crate::quote;
use crate::targets::OpError;
use crate::wire::{script, Session, REMOTING_FAILED};
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
    /// Program and arguments, as given.
    pub command: Vec<String>,
    /// Where the Lync cmdlets come from: this machine or the op's host.
    pub session: ShellSession,
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

/// The log lines of an op and its result.
pub type Logged = (Result<Value, OpError>, Vec<String>);

impl Shell {
    /// The script for `op`'s rendered cmdlet line, in this shell's session mode.
    pub fn script(&self, op: &Op) -> Result<String, quote::QuoteError> {
        let line = op.render()?;
        let session = match self.session {
            ShellSession::Local => Session::Local,
            ShellSession::Remote => Session::Remote {
                uri_literal: quote::ps_connection_uri(&op.host())?,
            },
        };
        Ok(script(&line, &session))
    }

    /// Perform one cmdlet; the log lines the shell printed come back too.
    pub fn perform(&self, op: &Op) -> Logged {
        let mut logs = Vec::new();
        let result = self.run(op, &mut logs);
        (result, logs)
    }

    fn run(&self, op: &Op, logs: &mut Vec<String>) -> Result<Value, OpError> {
        let Op::Cmdlet { host, cmdlet, .. } = op else {
            return Err(OpError::NotSimulated {
                message: "not a cmdlet".into(),
            });
        };
        let failed = |message: String| OpError::cmdlet(cmdlet, message);
        let text = self.script(op).map_err(|q| failed(q.to_string()))?;
        let Some((program, args)) = self.command.split_first() else {
            return Err(failed("live.shell is empty".into()));
        };
        let mut child = minimal_command(program, self.read_only)
            .args(args)
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
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        if status.success() {
            return match shell_answer::read(&stdout, &stderr) {
                Ok(answer) => {
                    logs.extend(answer.logs);
                    Ok(answer.result)
                }
                Err(e) => {
                    logs.extend(e.logs);
                    Err(failed(e.message))
                }
            };
        }
        logs.extend(shell_answer::noise(&stdout));
        let stderr = shell_answer::noise(&stderr).join("\n");
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
        Err(failed(message))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::op::{CmdletArg, PsValue};

    fn op() -> Op {
        Op::Cmdlet {
            host: "fe.x".into(),
            cmdlet: "Set-CsThing".into(),
            args: vec![
                CmdletArg::new("Identity", PsValue::Str("it's".into())),
                CmdletArg::new("Verbose", PsValue::Switch),
            ],
        }
    }

    fn sh(script: &str, timeout_ms: u64) -> Shell {
        Shell {
            command: vec!["sh".into(), "-c".into(), script.into()],
            session: ShellSession::Local,
            timeout: Duration::from_millis(timeout_ms),
            read_only: false,
        }
    }

    /// What Windows PowerShell 5.1 does with a script that has none of the
    /// safeguards: no Lync cmdlets without `Import-Module Lync`, VERBOSE
    /// lines on stdout, the answer only if the script prints it.
    const WINDOWS_POWERSHELL: &str = r#"s=$(cat)
case "$s" in *"Import-Module Lync"*) ;; *) echo "The term 'Set-CsThing' is not recognized" >&2; exit 1;; esac
echo 'VERBOSE: Performing the operation "Set-CsThing" on target "fe.x".'
case "$s" in *"WriteLine('#drillbook-answer')"*) printf '#drillbook-answer\r\n["WARNING: slow"]\r\n';; esac"#;

    #[test]
    fn a_verbose_change_that_prints_nothing_succeeds_and_its_lines_are_logs() {
        let (result, logs) = sh(WINDOWS_POWERSHELL, 5000).perform(&op());
        assert_eq!(result, Ok(Value::Null));
        assert_eq!(
            logs,
            [
                "VERBOSE: Performing the operation \"Set-CsThing\" on target \"fe.x\".",
                "WARNING: slow"
            ]
        );
        let json = sh(
            "cat >/dev/null; echo banner; printf '#drillbook-answer\\n[]\\n{\"Host\":\"fe.x\"}\\n'",
            5000,
        );
        assert_eq!(
            json.perform(&op()),
            (
                Ok(serde_json::json!({"Host": "fe.x"})),
                vec!["banner".into()]
            )
        );
    }

    #[test]
    fn a_parse_error_that_exits_0_fails_the_op() {
        let (result, _) = sh(
            "cat >/dev/null; echo \"ParserError: Missing closing '}'\" >&2; exit 0",
            5000,
        )
        .perform(&op());
        let err = result.unwrap_err();
        assert!(
            matches!(&err, OpError::Cmdlet { message, .. } if message.contains("without an answer") && message.contains("ParserError")),
            "{err:?}"
        );
        // A shell that just echoes the script is not a PowerShell either.
        assert!(sh("cat", 5000).perform(&op()).0.is_err());
    }

    #[test]
    fn an_answer_in_the_oem_code_page_is_refused_not_misread() {
        // "é" as code page 437 writes it (0x82).
        let (result, _) = sh(
            "cat >/dev/null; printf '#drillbook-answer\\n[]\\n{\"Name\":\"caf\\202\"}\\n'",
            5000,
        )
        .perform(&op());
        let err = result.unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn the_script_forces_utf8_imports_lync_normalizes_types_and_exits_explicitly() {
        let text = sh("", 1).script(&op()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for wanted in [
            "$ErrorActionPreference = 'Stop'",
            "[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false",
            "$OutputEncoding = [Console]::OutputEncoding",
            "Import-Module Lync",
            "if ($v -is [TimeSpan]) { return $v.ToString('c') }",
            "} 3>&1 4>&1 | ForEach-Object {",
            "[Console]::Out.WriteLine('#drillbook-answer')",
            "exit 0",
            "} catch {",
            "exit 1",
            "Set-CsThing -Identity 'it''s' -Verbose",
        ] {
            assert!(lines.contains(&wanted), "{wanted}\n{text}");
        }
        assert!(
            text.contains("ToUniversalTime().ToString(\"yyyy-MM-dd'T'HH:mm:ss'Z'\""),
            "{text}"
        );
        // One statement for `-Command -`, ended by a blank line.
        assert_eq!(lines[4], "& {", "{text}");
        assert!(text.ends_with("\n}\n\n"), "{text}");
        assert!(!text.contains("New-PSSession"));
    }

    #[test]
    fn a_remote_session_opens_the_ops_host_endpoint_through_quote() {
        let mut remote = sh("", 1);
        remote.session = ShellSession::Remote;
        let text = remote.script(&op()).unwrap();
        assert!(
            text.lines().any(|l| l
                == "$s = New-PSSession -ConnectionUri 'https://fe.x/OcsPowershell' -Authentication NegotiateWithImplicitCredential"),
            "{text}"
        );
        assert!(text.lines().any(
            |l| l == "$null = Import-PSSession -Session $s -AllowClobber -DisableNameChecking"
        ));
        assert!(text.contains("} finally {\nif ($s) { Remove-PSSession $s }\n}"));
        assert!(!text.lines().any(|l| l == "Import-Module Lync"), "{text}");
        let Op::Cmdlet { cmdlet, args, .. } = op() else {
            unreachable!()
        };
        let odd = Op::Cmdlet {
            host: "fe.x/x'; Remove-Item C:\\ -Recurse; '".into(),
            cmdlet,
            args,
        };
        let err = remote.script(&odd).unwrap_err();
        assert_eq!(err.kind, "remote host");
        // Nothing is started for a host that cannot be quoted.
        let (result, _) = remote.perform(&odd);
        assert!(result.unwrap_err().to_string().contains("remote host"));
    }

    #[test]
    fn errors_name_the_cmdlet_and_a_stall_is_killed() {
        let failing = sh(
            "cat >/dev/null; echo 'VERBOSE: trying'; echo 'Set-CsThing: no such pool' >&2; exit 1",
            5000,
        );
        assert_eq!(
            failing.perform(&op()),
            (
                Err(OpError::Cmdlet {
                    cmdlet: "Set-CsThing".into(),
                    message: "Set-CsThing: no such pool".into(),
                    reason: None,
                }),
                vec!["VERBOSE: trying".into()]
            )
        );
        let started = Instant::now();
        let (stalled, _) = sh("sleep 30", 300).perform(&op());
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            matches!(&stalled, Err(OpError::Cmdlet { message, .. }) if message.contains("timed out")),
            "{stalled:?}"
        );
        let missing = Shell {
            command: vec!["/nonexistent/powershell.exe".into()],
            ..sh("", 1000)
        };
        assert!(matches!(
            missing.perform(&op()).0,
            Err(OpError::Unreachable { .. })
        ));
    }
}
