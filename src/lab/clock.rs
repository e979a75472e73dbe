//! Simulated time: when the SQL Agent jobs of log shipping, the Backup Service's
//! syncs, the users' workload (chat transactions on each Persistent Chat
//! pool, user-data changes on each Front End pool), and the moments users
//! enter resiliency mode.
//!
//! Jobs fire at fixed times from t=0 (a backup every `every` minutes, a copy
//! one minute and a restore two minutes after each multiple of their own
//! period, a Backup Service sync every sync interval), so when something
//! happens never depends on how the time was cut into `advance` calls or
//! ops. Ties run backup, then copy, then restore, then the Backup Service.
//! The derived state is refreshed (`derive.rs`) at every such second and at
//! every resiliency deadline.

use crate::lab::LabState;
use crate::time;
use serde::{Deserialize, Serialize};

/// `now` is derived from `start + elapsed_seconds`; it is stored so that a
/// person reading the file sees the simulated time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clock {
    pub start: String,
    pub elapsed_seconds: u64,
    pub now: String,
}

impl LabState {
    pub fn elapsed(&self) -> u64 {
        self.clock.elapsed_seconds
    }

    pub(in crate::lab) fn set_elapsed(&mut self, seconds: u64) {
        self.clock.elapsed_seconds = seconds;
        self.clock.now = self.stamp(seconds);
    }

    /// The simulated epoch second at `elapsed` seconds into the lab.
    pub(in crate::lab) fn epoch_at(&self, elapsed: u64) -> i64 {
        let start = time::parse_rfc3339(&self.clock.start).unwrap_or(0);
        start.saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX))
    }

    /// RFC 3339 of the simulated clock at `elapsed`: how msdb shows times.
    pub(in crate::lab) fn stamp(&self, elapsed: u64) -> String {
        time::rfc3339(self.epoch_at(elapsed))
    }
}

/// Backup file sizes are modeled in these units.
pub(in crate::lab) const MIB: u64 = 1024 * 1024;
pub(in crate::lab) const KIB: u64 = 1024;

/// What kind of job; the order is the order of jobs due at the same second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum JobKind {
    Backup,
    Copy,
    Restore,
    BackupServiceSync,
}

/// One scheduled job of one database on one instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Job {
    kind: JobKind,
    instance: String,
    database: String,
}

/// A schedule `k * period + offset` seconds, k ≥ 1. A zero period (a
/// hand-edited file) never fires.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    period: u64,
    offset: u64,
}

impl Schedule {
    fn every_minutes(minutes: u64, offset: u64) -> Schedule {
        Schedule::every_seconds(minutes.saturating_mul(60), offset)
    }

    fn every_seconds(period: u64, offset: u64) -> Schedule {
        Schedule { period, offset }
    }

    fn first(self) -> Option<u64> {
        (self.period > 0)
            .then(|| self.period.checked_add(self.offset))
            .flatten()
    }

    /// The first firing strictly after `now`.
    fn next_after(self, now: u64) -> Option<u64> {
        let first = self.first()?;
        if now < first {
            return Some(first);
        }
        let k = (now - self.offset) / self.period + 1;
        k.checked_mul(self.period)?.checked_add(self.offset)
    }

    fn fires_at(self, t: u64) -> bool {
        self.first()
            .is_some_and(|first| t >= first && (t - self.offset).is_multiple_of(self.period))
    }
}

impl LabState {
    /// Normal operation for `seconds`: jobs run and users commit.
    pub fn advance(&mut self, seconds: u64) {
        self.run_for(seconds, true);
    }

    /// Time an op takes: jobs run, but nobody commits meanwhile.
    pub(in crate::lab) fn pass(&mut self, seconds: u64) {
        self.run_for(seconds, false);
    }

    /// Procedure time: the clock moves (the RTO counts it) but the estate's
    /// scheduled activity does not run. Background jobs, replication and
    /// users act in `advance`, scenario lead-ins and explicit waits, so a
    /// drill's end state does not depend on how long its steps took — a
    /// crash and resume, which repeats in-doubt steps, ends where an
    /// uninterrupted run ends.
    ///
    /// The state must be refreshed since its last change (every change
    /// refreshes at once), so only what time changes is derived again.
    pub(in crate::lab) fn pass_quietly(&mut self, seconds: u64) {
        if seconds == 0 {
            return;
        }
        let end = self.elapsed().saturating_add(seconds);
        self.set_elapsed(end);
        self.refresh_time();
    }

    fn run_for(&mut self, seconds: u64, workload: bool) {
        let end = self.elapsed().saturating_add(seconds);
        loop {
            let now = self.elapsed();
            let next_job = self
                .jobs()
                .into_iter()
                .filter_map(|(_, s)| s.next_after(now))
                .min();
            let deadline = self.resiliency_deadlines().into_iter().min();
            let next = next_job
                .into_iter()
                .chain(deadline)
                .min()
                .filter(|&t| t <= end);
            let until = next.unwrap_or(end);
            if workload {
                self.accrue(now, until);
            }
            self.set_elapsed(until);
            let Some(t) = next else {
                self.refresh();
                break;
            };
            let mut due: Vec<Job> = self
                .jobs()
                .into_iter()
                .filter(|(_, s)| s.fires_at(t))
                .map(|(j, _)| j)
                .collect();
            due.sort();
            for job in due {
                match job.kind {
                    JobKind::Backup => self.backup_job(&job.instance, &job.database, t),
                    JobKind::Copy => self.copy_job(&job.instance, &job.database, t),
                    JobKind::Restore => self.restore_job(&job.instance, &job.database, t),
                    JobKind::BackupServiceSync => self.backup_sync_job(t),
                }
            }
            self.refresh();
        }
    }

    /// Every job configured in msdb now, with its schedule.
    fn jobs(&self) -> Vec<(Job, Schedule)> {
        let mut jobs = Vec::new();
        for (id, inst) in &self.sql {
            let job = |kind, database: &String| Job {
                kind,
                instance: id.clone(),
                database: database.clone(),
            };
            for (db, p) in &inst.msdb.log_shipping_primary {
                jobs.push((
                    job(JobKind::Backup, db),
                    Schedule::every_minutes(p.every_minutes, 0),
                ));
            }
            for (db, s) in &inst.msdb.log_shipping_secondary {
                jobs.push((
                    job(JobKind::Copy, db),
                    Schedule::every_minutes(s.copy_every_minutes, 60),
                ));
                jobs.push((
                    job(JobKind::Restore, db),
                    Schedule::every_minutes(s.restore_every_minutes, 120),
                ));
            }
        }
        if !self.backup_directions().is_empty() {
            jobs.push((
                Job {
                    kind: JobKind::BackupServiceSync,
                    instance: String::new(),
                    database: String::new(),
                },
                Schedule::every_seconds(self.sync_interval_seconds(), 0),
            ));
        }
        jobs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::*;
    use crate::lab::DbState;
    use crate::lab::LSN_BASE;
    use crate::op::Op;

    /// The mgc files in `folder` (mgccomp ships beside them, on the same
    /// schedule: `mgccomp_is_shipped_beside_mgc` checks it).
    fn names(lab: &LabState, folder: &str) -> Vec<String> {
        of(lab, folder, "mgc")
    }

    fn of(lab: &LabState, folder: &str, database: &str) -> Vec<String> {
        let prefix = format!("{database}_");
        lab.folders[folder]
            .files
            .keys()
            .filter(|n| n.starts_with(&prefix))
            .cloned()
            .collect()
    }

    fn trns(minutes: &[u64]) -> Vec<String> {
        minutes.iter().map(|&m| trn(m)).collect()
    }

    /// `pass_quietly` derives again only what time changes; in every
    /// situation, across the resiliency deadline and the Backup Service's
    /// interval, it must leave the state exactly as a full refresh would.
    #[test]
    fn a_quiet_pass_derives_the_state_a_full_refresh_derives() {
        use crate::lab::lync::pools::RESILIENCY_AFTER;
        let faults: &[&[&str]] = &[
            &[],
            &["instance-down:besql-dub1"],
            &["instance-down:besql-red1", "instance-down:besql-red2"],
            &["pool-down:pool-dub.litwareinc.com"],
            &["link-down:dublin-redmond"],
            &["site-down:dublin"],
            &["edge-down:edge-red.litwareinc.com"],
            &["cms-away-from:redmond"],
            &["primary-site-down"],
        ];
        for applied in faults {
            let mut lab = litware_at(2);
            for f in *applied {
                lab.apply_fault(f).unwrap();
            }
            for seconds in [
                1,
                3,
                119,
                121,
                600,
                RESILIENCY_AFTER,
                RESILIENCY_AFTER + 7,
                7200,
            ] {
                let mut quiet = lab.clone();
                quiet.pass_quietly(seconds);
                let mut full = lab.clone();
                full.set_elapsed(lab.elapsed() + seconds);
                full.refresh();
                assert!(
                    quiet == full,
                    "after {applied:?} and {seconds} s, a quiet pass and a full refresh differ"
                );
            }
        }
    }

    #[test]
    fn schedule_fires_at_multiples_plus_offset() {
        let copy = Schedule::every_minutes(15, 60);
        assert_eq!(copy.next_after(0), Some(960));
        assert_eq!(copy.next_after(960), Some(1860));
        assert!(copy.fires_at(1860) && !copy.fires_at(60));
        assert_eq!(Schedule::every_minutes(0, 60).next_after(0), None);
    }

    #[test]
    fn mgccomp_is_shipped_beside_mgc() {
        let lab = litware_at(44);
        let comp: Vec<String> = of(&lab, SHARE, "mgccomp")
            .iter()
            .map(|n| n.replacen("mgccomp_", "mgc_", 1))
            .collect();
        assert_eq!(comp, names(&lab, SHARE));
        assert_eq!(of(&lab, COPY, "mgccomp").len(), names(&lab, COPY).len());
        let secondary = &lab.sql["pcsql-dub1"].msdb.log_shipping_secondary["mgccomp"];
        // No user writes to mgccomp in the lab: its log backups hold no
        // transaction, so the restore job has nothing to apply.
        let last = format!("{COPY}\\{}", trn(30).replacen("mgc_", "mgccomp_", 1));
        assert_eq!(secondary.last_copied_file, Some(last));
    }

    #[test]
    fn advance_44_minutes_backs_up_copies_and_restores_on_schedule() {
        let lab = litware_at(44);
        assert_eq!(names(&lab, SHARE), trns(&[5, 10, 15, 20, 25, 30, 35, 40]));
        // Copies at 01:16 and 01:31, restores at 01:17 and 01:32.
        assert_eq!(names(&lab, COPY), trns(&[5, 10, 15, 20, 25, 30]));
        let secondary = &lab.sql["pcsql-dub1"].msdb.log_shipping_secondary["mgc"];
        let last = Some(format!("{COPY}\\{}", trn(30)));
        assert_eq!(secondary.last_copied_file, last);
        assert_eq!(
            secondary.last_copied_at.as_deref(),
            Some("2026-03-14T01:31:00Z")
        );
        assert_eq!(secondary.last_restored_file, last);
        assert_eq!(
            secondary.last_restored_at.as_deref(),
            Some("2026-03-14T01:32:00Z")
        );
        let mgc_restores = lab.sql["pcsql-dub1"]
            .msdb
            .restore_history
            .iter()
            .filter(|r| r.database == "mgc")
            .count();
        assert_eq!(mgc_restores, 6);

        // 120 transactions a minute, each moving the LSN by 10, mirrored synchronously.
        let primary = &lab.sql["pcsql-red1"].databases["mgc"];
        assert_eq!(
            (primary.transactions, primary.lsn),
            (44 * 120, LSN_BASE + 44 * 120 * 10)
        );
        let mirror = &lab.sql["pcsql-red2"].databases["mgc"];
        assert_eq!(
            (mirror.lsn, mirror.transactions, mirror.state),
            (primary.lsn, primary.transactions, DbState::Restoring)
        );
        let backup = &lab.sql["pcsql-dub1"].databases["mgc"];
        assert_eq!(
            (backup.transactions, backup.last_transaction_at),
            (30 * 120, 30 * 60)
        );
        assert_eq!(lab.workload[POOL].committed, 44 * 120);
        assert_eq!(lab.clock.now, "2026-03-14T01:44:00Z");

        let first = &lab.folders[SHARE].files[&trn(5)];
        assert_eq!(
            (first.first_lsn, first.last_lsn, first.size),
            (LSN_BASE, LSN_BASE + 6000, MIB + 600 * 4 * KIB)
        );
    }

    #[test]
    fn advancing_in_pieces_equals_advancing_at_once() {
        let whole = litware_at(47);
        let mut pieces = litware();
        for s in [1, 59, 240, 3, 897, 1, 1, 1600, 18] {
            pieces.advance(s);
        }
        assert_eq!(pieces.to_json(), whole.to_json());
    }

    #[test]
    fn uneven_rates_carry_their_remainder() {
        let mut lab = litware();
        lab.lync
            .persistent_chat
            .get_mut(POOL)
            .unwrap()
            .transactions_per_minute = 7;
        lab.advance(10);
        // 70 sixtieths: one transaction, committed in the 9th second.
        let w = &lab.workload[POOL];
        assert_eq!((w.committed, w.last_commit_at, w.carry), (1, 9, 10));
        lab.advance(50);
        assert_eq!(lab.workload[POOL].committed, 7);
    }

    #[test]
    fn ops_take_procedure_time_and_waits_run_the_estate() {
        let mut lab = litware();
        lab.advance(299);
        let op = Op::SqlPing {
            instance: "pcsql-red1".into(),
        };
        assert_eq!(lab.perform(&op).sim_seconds, 1);
        assert_eq!(lab.elapsed(), 300);
        // No job ran in the op's second, and no user committed anything.
        assert!(names(&lab, SHARE).is_empty());
        assert_eq!(lab.workload[POOL].committed, 598);
        // A wait is time in normal operation: the 5-minute backup has run
        // (it came due during the op, and runs at the next chance).
        lab.perform(&Op::Wait { seconds: 300 });
        assert_eq!(names(&lab, SHARE), trns(&[10]));
        assert_eq!(lab.workload[POOL].committed, 598);
    }

    #[test]
    fn restore_job_stops_at_a_gap_and_at_a_damaged_file() {
        let mut lab = litware_at(14);
        lab.apply_fault(&format!("log-backup-missing:{}", trn(5)))
            .unwrap();
        lab.advance(4 * 60);
        assert!(lab.sql["pcsql-dub1"].msdb.restore_history.is_empty());

        let mut lab = litware_at(14);
        lab.apply_fault(&format!("log-backup-damaged:{}", trn(10)))
            .unwrap();
        lab.advance(4 * 60);
        let restored: Vec<&str> = lab.sql["pcsql-dub1"]
            .msdb
            .restore_history
            .iter()
            .map(|r| r.file.as_str())
            .collect();
        assert_eq!(restored, vec![format!("{COPY}\\{}", trn(5))]);
    }

    /// The backup job deletes backups past `backup_retention_period` from
    /// the share, copied or not; the restore job deletes restored ones past
    /// `file_retention_period` from the copy folder and keeps what it has
    /// not restored, however old. So a secondary down longer than the
    /// retention finds a gap, as on a real server.
    #[test]
    fn the_jobs_delete_backups_past_their_retention() {
        let retention = |lab: &mut LabState, minutes: u64| {
            for inst in lab.sql.values_mut() {
                for p in inst.msdb.log_shipping_primary.values_mut() {
                    p.retention_minutes = minutes;
                }
                for s in inst.msdb.log_shipping_secondary.values_mut() {
                    s.file_retention_minutes = minutes;
                }
            }
        };
        let mut lab = litware_at(44);
        retention(&mut lab, 60);
        lab.advance(76 * 60);
        // 03:00: the share keeps the last hour (the 03:00 backup deleted
        // what was older); the last restore (02:47) what it restored
        // before 01:47.
        assert_eq!(names(&lab, SHARE).first(), Some(&trn(60)));
        assert_eq!(names(&lab, SHARE).last(), Some(&trn(120)));
        assert_eq!(names(&lab, COPY).first(), Some(&trn(50)));
        lab.advance(20 * 60);
        assert_eq!(names(&lab, SHARE).first(), Some(&trn(80)));
        assert_eq!(names(&lab, COPY).first(), Some(&trn(80)));
        let comp = of(&lab, COPY, "mgccomp");
        assert_eq!(comp.first(), Some(&trn(80).replacen("mgc_", "mgccomp_", 1)));

        // The secondary down for two hours: what it never restored stays.
        lab.apply_fault("instance-down:pcsql-dub1").unwrap();
        let copied = names(&lab, COPY);
        lab.advance(120 * 60);
        assert_eq!(names(&lab, SHARE).first(), Some(&trn(200)));
        assert_eq!(names(&lab, COPY), copied);
    }

    #[test]
    fn msdb_keeps_restore_history_for_the_history_retention() {
        let lab = litware_at(100 * 60);
        let history = &lab.sql["pcsql-dub1"].msdb.restore_history;
        // The last restore ran at 100 h less 13 min (every 15 min from 01:02);
        // it dropped the rows of restores more than 96 h before it.
        let last = history.last().unwrap();
        assert_eq!(last.at, "2026-03-18T04:47:00Z");
        assert_eq!(history[0].at, "2026-03-14T04:47:00Z");
        // A row for each backup restored (every 5 min) in those 96 hours.
        assert_eq!(history.len(), 96 * 12 + 3);
    }

    #[test]
    fn an_unreachable_share_stops_backups_and_copies() {
        let mut lab = litware_at(6);
        lab.apply_fault("share-unreachable").unwrap();
        lab.advance(30 * 60);
        assert_eq!(names(&lab, SHARE), trns(&[5]));
        assert!(names(&lab, COPY).is_empty());
    }
}
