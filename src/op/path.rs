//! Paths in ops: UNC paths as plans show them and every target reads them.
//! Windows paths are case-insensitive and may end in a backslash; these
//! helpers are the one place that says how a folder and a file name join,
//! which server a path is on, and how a `ListFiles` pattern matches.

use crate::quote::QuoteError;

/// The server part of a UNC path `\\server\share\...`.
pub fn unc_server(path: &str) -> Option<&str> {
    path.strip_prefix("\\\\")?
        .split('\\')
        .next()
        .filter(|s| !s.is_empty())
}

/// Does `name` match a `ListFiles` pattern (`*` and `?` wildcards), ignoring
/// ASCII case? Every target lists files by this one rule.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_lowercase()).collect();
    let n: Vec<char> = name.chars().map(|c| c.to_ascii_lowercase()).collect();
    // Greedy with one backtrack point: linear-ish, no recursion on hostile patterns.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// `folder\file`, without doubling a trailing backslash.
pub fn join_path(folder: &str, file: &str) -> String {
    format!("{}\\{}", folder.trim_end_matches('\\'), file)
}

/// Paths are shown verbatim in plans; control characters would make a plan lie.
pub(super) fn check_path(path: &str) -> Result<(), QuoteError> {
    if path.is_empty() || path.chars().any(char::is_control) {
        return Err(QuoteError {
            language: "file",
            kind: "path",
            value: path.to_string(),
            reason: "it is empty or contains a control character",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unc_server_takes_the_host() {
        assert_eq!(
            unc_server("\\\\fs2.litwareinc.com\\pclogs"),
            Some("fs2.litwareinc.com")
        );
        assert_eq!(unc_server("D:\\x"), None);
    }
}
