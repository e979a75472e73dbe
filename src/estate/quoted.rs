//! Values a run will quote, checked when the estate loads: no key or string
//! of the file may hold a control character, and every UNC path must be
//! well formed (`\\host\share\folder...`). A run that would stop at the
//! quoting of a value (`quote.rs`, `op::check_path`) after it already changed
//! the estate never starts (issue 11, finding 11).

use super::places::{show_path, strings, Node};

/// Windows' limit for a path (MAX_PATH), which the log-shipping jobs keep to.
pub const UNC_MAX_CHARS: usize = 260;

/// Every key and string value holding a control character, by key path.
pub fn control_characters(root: &Node) -> Vec<String> {
    strings(root)
        .into_iter()
        .filter_map(|(path, _, text)| {
            let c = text.chars().find(|c| c.is_control())?;
            Some(format!(
                "{} = {text:?} contains a control character (U+{:04X}); no name or path of an estate may hold one",
                show_path(&path),
                c as u32
            ))
        })
        .collect()
}

/// What is wrong with `path` as a UNC path `\\host\share[\folder...]`, if anything.
pub fn unc_problem(path: &str) -> Option<String> {
    let Some(rest) = path.strip_prefix("\\\\") else {
        return Some("it does not start with \\\\ (a UNC path like \\\\server\\share)".into());
    };
    if path.chars().count() > UNC_MAX_CHARS {
        return Some(format!("it is longer than {UNC_MAX_CHARS} characters"));
    }
    let rest = rest.strip_suffix('\\').unwrap_or(rest);
    let mut parts = rest.split('\\');
    let host = parts.next().unwrap_or("");
    let netbios = !host.is_empty()
        && host.len() <= 15
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !(super::is_fqdn(host) || netbios) {
        return Some(format!("its server {host:?} is not a host name"));
    }
    let share = parts.next().unwrap_or("");
    if share.is_empty() {
        return Some("it names no share (\\\\server\\share)".into());
    }
    for part in std::iter::once(share).chain(parts) {
        if part.is_empty() {
            return Some("it has an empty folder name (\\\\ inside the path)".into());
        }
        if part == "." || part == ".." {
            return Some(format!("it has a {part:?} folder; write the folder itself"));
        }
        if let Some(c) = part
            .chars()
            .find(|c| c.is_control() || matches!(c, '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        {
            return Some(format!(
                "{part:?} holds {c:?}, which Windows refuses in a file name"
            ));
        }
        if part.ends_with(' ') || part.ends_with('.') {
            return Some(format!(
                "{part:?} ends with a space or a dot, which Windows drops"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unc_paths_are_checked_for_shape() {
        for good in [
            "\\\\fs-dub1.litwareinc.com\\pchatlogs",
            "\\\\fs1\\logs\\mgc\\",
            "\\\\fs1.example.com\\logs$\\a b",
        ] {
            assert_eq!(unc_problem(good), None, "{good}");
        }
        for bad in [
            "D:\\logs",
            "\\\\fs1",
            "\\\\fs1\\",
            "\\\\fs1\\logs\\\\x",
            "\\\\fs1\\logs\\..",
            "\\\\fs1\\lo\u{7}gs",
            "\\\\fs1\\a:b",
            "\\\\f;s\\logs",
            "\\\\fs1\\logs\\x.",
        ] {
            assert!(unc_problem(bad).is_some(), "{bad}");
        }
    }
}
