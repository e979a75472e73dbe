//! The lab's time model: how long each op takes in simulated seconds.
//!
//! Drills measure RTO on the lab's clock, so these durations are what a
//! drill's RTO is made of: each is the order of magnitude the documented
//! procedure or a measured estate gives, kept here in one table beside the
//! op so a reader can check a drill's arithmetic.

use super::{cmdlet_effect, Effect, Op};

impl Op {
    /// Modeled duration in the lab, in simulated seconds. `sizes` are the
    /// sizes in bytes of the files the op moves or applies, one per file
    /// (0 for one that cannot be read), where it has any.
    pub fn lab_seconds(&self, sizes: &[u64]) -> u64 {
        use Op::*;
        const MB: u64 = 1024 * 1024;
        let size: u64 = sizes.iter().sum();
        match self {
            SqlPing { .. } => 1,
            DatabaseState { .. } | MirroringState { .. } | RedoStartLsn { .. } => 1,
            LogShippingSecondary { .. } | RunningJobs { .. } | DatabaseSessions { .. } => 1,
            ListFiles { .. } => 1,
            RestoreHeaderOnly { .. } => 2,
            KillSession { .. } => 1,
            DeleteLogShippingSecondary { .. } => 5,
            // A WAN copy at about 10 MB/s, a log restore at about 40 MB/s.
            // Each file of a batch costs what it would alone.
            CopyFiles { .. } => sizes.iter().map(|s| 2 + s / (10 * MB)).sum(),
            RestoreLog { .. } => 3 + size / (40 * MB),
            RecoverDatabase { .. } => 30,
            MirrorFailover { .. } | MirrorForceService { .. } => 10,
            MirrorOff { .. } => 5,
            Query { .. } => 1,
            Exec { .. } => 5,
            // Full backups and restores: about 50 MB/s.
            BackupDatabase { .. } | RestoreDatabase { .. } => 10 + size / (50 * MB),
            Cmdlet { cmdlet, args, .. } => match cmdlet_effect(cmdlet, args) {
                Effect::Read => 3,
                Effect::Change => cmdlet_seconds(cmdlet),
            },
            Wait { seconds } => *seconds,
            // A person at a console: Topology Builder, publishing, DNS.
            Manual { .. } => 300,
        }
    }
}

/// Modeled duration of a changing cmdlet (reads take 3 s). Pool failover
/// and failback carry most of their documented RTO [D:JJ205079][D:JJ204945].
fn cmdlet_seconds(cmdlet: &str) -> u64 {
    match cmdlet {
        "Install-CsMirrorDatabase" => 180,
        "Uninstall-CsMirrorDatabase" => 60,
        "Invoke-CsDatabaseFailover" => 60,
        "Invoke-CsManagementServerFailover" => 300,
        "Invoke-CsPoolFailOver" => 600,
        "Invoke-CsPoolFailBack" => 900,
        "Invoke-CsBackupServiceSync" => 60,
        "Stop-CsWindowsService" | "Start-CsWindowsService" => 30,
        "Set-CsPersistentChatState" => 15,
        "Set-CsPersistentChatActiveServer" => 20,
        _ => 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_batch_takes_the_time_of_its_files_copied_one_by_one() {
        const MB: u64 = 1024 * 1024;
        let copy = |n: usize| Op::CopyFiles {
            from_folder: "\\\\fs\\s".into(),
            to_folder: "\\\\sql\\c".into(),
            files: (0..n).map(|i| format!("{i}.trn")).collect(),
        };
        let sizes = [4 * MB, 25 * MB, 0];
        let alone: u64 = sizes.iter().map(|s| copy(1).lab_seconds(&[*s])).sum();
        assert_eq!(copy(3).lab_seconds(&sizes), alone);
        assert_eq!(alone, 2 + (2 + 2) + 2);
    }
}
