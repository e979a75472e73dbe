//! A lab message a person can read at a glance. What a fault did is one
//! long `; `-separated line (`site redmond down: servers a, b, c; SQL
//! instances x, y; cpsdyn: principal ... lost; lis: principal ... lost`,
//! 1,223 characters for the main drill); the brief says what went down
//! with counts, and the databases that fared alike once; the detail, one
//! effect a line, is for `--verbose`.

/// Longest message shown as it is.
pub const MAX: usize = 160;

/// `servers a.x, b.x, c.x` as `3 servers`; any other text as it is.
fn count(list: &str) -> String {
    let items: Vec<&str> = list.split(", ").collect();
    let words: Vec<&str> = items[0].split(' ').collect();
    if items.len() < 2 || words.len() < 2 {
        return list.to_string();
    }
    format!("{} {}", items.len(), words[..words.len() - 1].join(" "))
}

/// The brief of a long message, or `None` when it is short enough as it is.
pub fn brief(message: &str) -> Option<String> {
    if message.len() <= MAX {
        return None;
    }
    let mut parts = message.split("; ");
    let first = parts.next()?;
    let (head, list) = first.split_once(": ").unwrap_or((first, ""));
    let mut out: Vec<String> = Vec::new();
    let mut counts: Vec<String> = Vec::new();
    if !list.is_empty() {
        counts.push(count(list));
    }
    // `name: what happened`, grouped by what happened, in order of first sight.
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for p in parts {
        match p.split_once(": ") {
            Some((name, what)) if !name.contains(' ') => {
                match groups.iter_mut().find(|(w, _)| *w == what) {
                    Some((_, names)) => names.push(name),
                    None => groups.push((what, vec![name])),
                }
            }
            _ => counts.push(count(p)),
        }
    }
    out.push(if counts.is_empty() {
        head.to_string()
    } else {
        format!("{head}: {}", counts.join(", "))
    });
    for (what, names) in groups {
        out.push(format!("{}: {what}", names.join(", ")));
    }
    Some(format!("{} (--verbose: the detail)", out.join("; ")))
}

/// The detail of a long message, one effect a line.
pub fn detail(message: &str) -> Vec<&str> {
    message.split("; ").collect()
}

/// Say what fault `fault` did (`what`): briefly, with the detail one effect
/// a line for `--verbose`. One form for a drill's faults and `lab fault`.
pub fn report_fault(reporter: &dyn super::event::Reporter, fault: &str, what: &str) {
    match brief(what) {
        None => reporter.text(&format!("fault {fault}: {what}")),
        Some(brief) => {
            reporter.text(&format!("fault {fault}: {brief}"));
            for line in detail(what) {
                reporter.detail(&format!("  {line}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_loss_reads_as_what_went_down() {
        let servers: Vec<String> = (1..=11).map(|i| format!("srv{i}.litwareinc.com")).collect();
        let mut m = format!(
            "site redmond down: servers {}; SQL instances a, b, c",
            servers.join(", ")
        );
        for db in ["cpsdyn", "lis", "xds"] {
            m.push_str(&format!("; {db}: principal a lost, no automatic failover"));
        }
        m.push_str("; mgc: principal c lost, no automatic failover");
        assert_eq!(
            brief(&m).unwrap(),
            "site redmond down: 11 servers, 3 SQL instances; cpsdyn, lis, xds: principal a lost, \
             no automatic failover; mgc: principal c lost, no automatic failover (--verbose: the detail)"
        );
        assert_eq!(brief("pool p down"), None);
    }
}
