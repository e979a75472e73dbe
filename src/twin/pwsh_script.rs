//! The script the live target feeds the shell (`wire::script`), read back
//! as Windows PowerShell 5.1 would take it: which of its safeguards it
//! carries decides how the stand-in answers (`pwsh.rs`).
//!
//! The cmdlet line follows the `$out = & {` line (or, in the bare form
//! `<PROLOGUE>` / `<line> | ConvertTo-Json -Depth 5 -Compress`, the first
//! line). Each safeguard is a line of `wire::script`'s, found or not:
//! `Import-Module Lync` or a remote session (else no Lync cmdlet exists),
//! forced UTF-8 output (else the OEM code page), the type normalization
//! (else ConvertTo-Json's own shapes), the verbose/warning redirection
//! (else those lines go to stdout), and the sentinel answer.

use super::cmdlet_parse::parse_line;
use crate::op::Op;
use crate::wire::{
    CMDLET_OPEN, FORCE_UTF8, IMPORT_LYNC, NORMALIZE, PROLOGUE, REMOTE_OPEN, SENTINEL,
};

/// What ends the cmdlet line in the bare form.
pub const BARE_EPILOGUE: &str = "| ConvertTo-Json -Depth 5 -Compress";

/// The safeguards a script carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Safeguards {
    /// `Import-Module Lync` or a remote session: the Lync cmdlets exist.
    pub lync: bool,
    pub utf8: bool,
    pub normalized: bool,
    /// Verbose and warning records are collected, not written to the host.
    pub redirected: bool,
    /// The answer is printed after the sentinel, with the log lines.
    pub sentinel: bool,
}

/// One script, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub op: Op,
    pub safeguards: Safeguards,
}

/// The host of `'https://<host>/OcsPowershell'` on a remote session line.
fn remote_host(line: &str) -> Option<String> {
    let rest = line.strip_prefix(REMOTE_OPEN)?;
    let rest = rest.strip_prefix("'https://")?;
    let (host, _) = rest.split_once("/OcsPowershell'")?;
    Some(host.to_string())
}

/// Read a script; `local_host` is the host a local session runs on.
/// An error is what PowerShell's parser would say.
pub fn read_script(script: &str, local_host: Option<&str>) -> Result<Script, String> {
    let text = script.trim_start_matches('\u{FEFF}');
    let Some(after_prologue) = text.strip_prefix(PROLOGUE) else {
        return Err(format!(
            "the lab's PowerShell stand-in expects scripts that start with {PROLOGUE:?}"
        ));
    };
    let open = format!("\n{CMDLET_OPEN}");
    let (head, line_on, framed) = match after_prologue.find(&open) {
        Some(at) => (
            &after_prologue[..at],
            &after_prologue[at + open.len()..],
            true,
        ),
        None => match after_prologue.strip_prefix('\n') {
            Some(rest) => ("", rest, false),
            None => {
                return Err("expected a line break after the $ErrorActionPreference line".into())
            }
        },
    };
    let head_has = |wanted: &str| head.lines().any(|l| l.trim() == wanted);
    let remote = head.lines().find_map(remote_host);
    let (cmdlet, args, end) = parse_line(line_on)?;
    let tail: String = line_on.chars().skip(end).collect();
    let redirected = tail.starts_with("\n} 3>&1 4>&1 |");
    let well_ended = if framed {
        tail.starts_with("\n}")
    } else {
        tail.trim() == BARE_EPILOGUE
    };
    if !well_ended {
        return Err(format!(
            "ParserError: unexpected text after the cmdlet: {:?}",
            tail.chars().take(60).collect::<String>()
        ));
    }
    let host = match (&remote, local_host) {
        (Some(h), _) => h.clone(),
        (None, Some(h)) => h.to_string(),
        (None, None) => {
            return Err(
                "a local session needs the stand-in's --host (the machine it runs on)".into(),
            )
        }
    };
    Ok(Script {
        op: Op::Cmdlet { host, cmdlet, args },
        safeguards: Safeguards {
            lync: remote.is_some() || head_has(IMPORT_LYNC),
            utf8: head_has(FORCE_UTF8),
            normalized: head_has(NORMALIZE),
            redirected,
            sentinel: tail.contains(&format!("[Console]::Out.WriteLine('{SENTINEL}')")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{CmdletArg, PsValue};
    use crate::wire::{script, Session};

    #[test]
    fn the_live_script_carries_every_safeguard_and_names_its_host() {
        let line = "Get-CsPool -Identity 'p.x'";
        let remote = Session::Remote {
            uri_literal: "'https://fe.x/OcsPowershell'".into(),
        };
        let s = read_script(&script(line, &remote), None).unwrap();
        assert_eq!(
            s.op,
            Op::Cmdlet {
                host: "fe.x".into(),
                cmdlet: "Get-CsPool".into(),
                args: vec![CmdletArg::new("Identity", PsValue::Str("p.x".into()))],
            }
        );
        let all = Safeguards {
            lync: true,
            utf8: true,
            normalized: true,
            redirected: true,
            sentinel: true,
        };
        assert_eq!(s.safeguards, all);
        let local = read_script(&script(line, &Session::Local), Some("h")).unwrap();
        assert_eq!(local.safeguards, all);
        assert!(read_script(&script(line, &Session::Local), None).is_err());
        let bare = format!("{PROLOGUE}\n{line} {BARE_EPILOGUE}\n");
        assert_eq!(
            read_script(&bare, Some("h")).unwrap().safeguards,
            Safeguards::default()
        );
    }

    #[test]
    fn other_scripts_are_refused() {
        assert!(read_script("Get-Process | ConvertTo-Json", Some("h")).is_err());
        for line in [
            "Get-CsService; Remove-Item x",
            "Get-CsService -Identity $env:X",
        ] {
            assert!(read_script(&script(line, &Session::Local), Some("h")).is_err());
        }
    }
}
