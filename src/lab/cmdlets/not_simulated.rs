//! What the lab accepts but does not model, per cmdlet: a parameter it
//! binds and ignores, or a target it answers without effect (a Front End
//! server's services). The lab says so in its answer — a `not simulated:`
//! line in the run's log — rather than accepting it silently, and
//! `docs/lab-cmdlets.md` lists this table (a test keeps the two equal).

use super::Call;
use crate::lab::LabState;

/// When an entry applies to a call.
pub(in crate::lab) enum When {
    /// The call gives this parameter.
    Param(&'static str),
    /// The call acts on a Front End server (`-ComputerName`, else the host).
    OnFrontEnd,
}

pub(in crate::lab) struct Unmodeled {
    pub cmdlet: &'static str,
    pub when: When,
    /// What the lab does instead.
    pub what: &'static str,
}

const fn param(cmdlet: &'static str, p: &'static str, what: &'static str) -> Unmodeled {
    Unmodeled {
        cmdlet,
        when: When::Param(p),
        what,
    }
}

pub(in crate::lab) const NOT_SIMULATED: &[Unmodeled] = &[
    Unmodeled {
        cmdlet: "Stop-CsWindowsService",
        when: When::OnFrontEnd,
        what: "Front End services: accepted when the server answers; no outage is modeled (its users stay served)",
    },
    Unmodeled {
        cmdlet: "Start-CsWindowsService",
        when: When::OnFrontEnd,
        what: "Front End services: accepted when the server answers, with no effect",
    },
    param("Stop-CsWindowsService", "NoWait", "ignored: the stop takes its modeled 30 s"),
    param("Stop-CsWindowsService", "Graceful", "ignored: the stop drains no calls"),
    param("Start-CsWindowsService", "NoWait", "ignored: the start takes its modeled 30 s"),
    param("Invoke-CsPoolFailOver", "WaitTime", "ignored: the failover takes its modeled 600 s"),
    param("Invoke-CsPoolFailOver", "FlushStorageService", "ignored: no Storage Service data is modeled"),
    param("Invoke-CsPoolFailBack", "WaitTime", "ignored: the failback takes its modeled 900 s"),
    param("Install-CsMirrorDatabase", "DatabasePathMap", "ignored: database file paths are not modeled"),
    param("Install-CsMirrorDatabase", "UseDefaultSqlPaths", "ignored: database file paths are not modeled"),
    param("Install-CsMirrorDatabase", "Update", "ignored: installs as without it"),
    param("Install-CsMirrorDatabase", "Report", "ignored: no report file is written"),
    param("Uninstall-CsMirrorDatabase", "Report", "ignored: no report file is written"),
    param("Invoke-CsDatabaseFailover", "Report", "ignored: no report file is written"),
    param("Invoke-CsDatabaseFailover", "LocalStore", "ignored: the lab has one topology store"),
    param("Get-CsPoolFabricState", "Type", "ignored: the fabric state of every type is the same"),
];

impl Unmodeled {
    /// The line the lab logs and the docs list.
    pub fn line(&self) -> String {
        match self.when {
            When::Param(p) => format!("not simulated: {} -{p}: {}", self.cmdlet, self.what),
            When::OnFrontEnd => format!("not simulated: {} on a {}", self.cmdlet, self.what),
        }
    }
}

/// The `not simulated:` lines a call that succeeded earns.
pub(in crate::lab) fn notes(lab: &LabState, call: &Call) -> Vec<String> {
    let on_front_end = || {
        let computer = call
            .text("ComputerName")
            .ok()
            .flatten()
            .unwrap_or_else(|| call.host.to_string());
        lab.servers
            .iter()
            .any(|(name, s)| name.eq_ignore_ascii_case(computer.trim()) && s.role == "front-end")
    };
    NOT_SIMULATED
        .iter()
        .filter(|u| u.cmdlet == call.spec.name)
        .filter(|u| match u.when {
            When::Param(p) => call.has(p),
            When::OnFrontEnd => on_front_end(),
        })
        .map(Unmodeled::line)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/lab-cmdlets.md lists exactly this table, under "Not simulated".
    #[test]
    fn the_docs_list_exactly_what_the_lab_does_not_simulate() {
        let doc = include_str!("../../../docs/lab-cmdlets.md");
        let section = doc
            .split("\n## Not simulated")
            .nth(1)
            .expect("docs/lab-cmdlets.md has a `## Not simulated` section");
        let section = section.split("\n## ").next().unwrap();
        let listed: Vec<&str> = section
            .lines()
            .filter_map(|l| l.strip_prefix("- "))
            .collect();
        let want: Vec<String> = NOT_SIMULATED.iter().map(Unmodeled::line).collect();
        assert_eq!(listed, want);
        for u in NOT_SIMULATED {
            let spec = super::super::CMDLETS
                .iter()
                .find(|c| c.name == u.cmdlet)
                .unwrap_or_else(|| panic!("{} is not a lab cmdlet", u.cmdlet));
            if let When::Param(p) = u.when {
                assert!(spec.params.contains(&p), "{} has no -{p}", u.cmdlet);
            }
        }
    }
}
