//! Names a person mistyped: the nearest known names ("did you mean"), and
//! short names (`pool-red` for `pool-red.litware.com`) resolved when only
//! one name starts with them. One rule for every error that names a
//! runbook, fault, parameter, pool or function.

/// The nearest of `candidates` to `name`, if one is near enough to be a typo.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(name, c), c))
        .filter(|(d, c)| *d <= 3.max(name.len() / 4) && *d < name.len().max(c.len()))
        .min()
        .map(|(_, c)| c)
}

/// `; did you mean `x`?` for the nearest candidate, or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(name, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// How a name matched the known ones.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The name itself, or the one name whose first DNS label it is.
    Found(&'a str),
    /// A short name more than one name starts with.
    Ambiguous(Vec<&'a str>),
    /// No such name; the nearest, if one is near.
    Unknown(Option<&'a str>),
}

/// Find `name` among `candidates`: exactly, else as the first label of one
/// FQDN (`pool-red` for `pool-red.litware.com`).
pub fn lookup<'a>(name: &str, candidates: &[&'a str]) -> Lookup<'a> {
    if let Some(c) = candidates.iter().find(|c| **c == name) {
        return Lookup::Found(c);
    }
    let short: Vec<&'a str> = candidates
        .iter()
        .copied()
        .filter(|c| {
            c.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .collect();
    match short.len() {
        1 => Lookup::Found(short[0]),
        0 => Lookup::Unknown(nearest(name, candidates.iter().copied())),
        _ => Lookup::Ambiguous(short),
    }
}

/// The one line an error adds for an unknown or ambiguous name.
pub fn explain(what: &str, name: &str, found: &Lookup, known: &[&str]) -> String {
    match found {
        Lookup::Found(c) => format!("{name:?} is {c}"),
        Lookup::Ambiguous(c) => format!(
            "{name:?} is ambiguous: it could be any of {} (give the full name)",
            c.join(", ")
        ),
        Lookup::Unknown(Some(n)) => {
            format!(
                "{name:?} is not a {what}; did you mean `{n}`? (known: {})",
                known.join(", ")
            )
        }
        Lookup::Unknown(None) => format!("{name:?} is not a {what} (known: {})", known.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_resolve_only_when_unambiguous() {
        let pools = [
            "pool-red.litware.com",
            "pool-blue.litware.com",
            "pool-red.fabrikam.com",
        ];
        assert_eq!(
            lookup("pool-blue", &pools),
            Lookup::Found("pool-blue.litware.com")
        );
        assert_eq!(
            lookup("pool-red", &pools),
            Lookup::Ambiguous(vec!["pool-red.litware.com", "pool-red.fabrikam.com"])
        );
        assert_eq!(
            lookup("pool-bleu.litware.com", &pools),
            Lookup::Unknown(Some("pool-blue.litware.com"))
        );
        assert_eq!(lookup("pool", &pools), Lookup::Unknown(None));
    }
}
