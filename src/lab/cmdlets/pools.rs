//! The Front End pool cmdlets (PROCEDURES.md §2, §3.4, §3.5):
//! Get-CsPoolBackupRelationship, Get-CsPoolFabricState, Get-CsService
//! -Registrar, Invoke-CsPoolFailOver and Invoke-CsPoolFailBack. A failover
//! coordinates several parts (the pools, the Backup Service's copies, the
//! RPO measurement), and does it here, in the handler.

use crate::lab::cmdlets::{strip_prefix_ci, Call};
use crate::lab::lync::pools::minutes_tenths;
use crate::lab::{LabState, PoolFailover, PoolState};
use crate::targets::OpError;
use serde_json::{json, Value};

impl LabState {
    /// The pool a `-PoolFqdn` names, spelled as the topology spells it.
    pub(in crate::lab) fn fe_pool(&self, call: &Call, fqdn: &str) -> Result<String, OpError> {
        let bare = strip_prefix_ci(fqdn.trim(), "Registrar:").unwrap_or(fqdn.trim());
        self.lync
            .pools
            .keys()
            .find(|p| p.eq_ignore_ascii_case(bare))
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = self.lync.pools.keys().map(String::as_str).collect();
                call.error(format!(
                    "Cannot find Front End pool \"{fqdn}\" in the topology (known: {}).",
                    known.join(", ")
                ))
            })
    }

    /// The pool's backup pool, or the cmdlet error a pool without one gets.
    pub(in crate::lab) fn backup_of(&self, call: &Call, pool: &str) -> Result<String, OpError> {
        self.lync
            .pools
            .get(pool)
            .and_then(|p| p.backup_pool.clone())
            .ok_or_else(|| {
                call.error(format!(
                    "Pool \"{pool}\" has no backup pool in the topology. Pair it with a pool in another site in Topology Builder and publish the topology."
                ))
            })
    }

    pub(in crate::lab) fn get_backup_relationship(&self, call: &Call) -> Result<Value, OpError> {
        let pool = self.fe_pool(call, &call.required("PoolFqdn")?)?;
        let backup = self.backup_of(call, &pool)?;
        Ok(json!({"PoolFqdn": pool, "BackupPoolFqdn": backup}))
    }

    pub(in crate::lab) fn get_fabric_state(&self, call: &Call) -> Result<Value, OpError> {
        let pool = self.fe_pool(call, &call.required("PoolFqdn")?)?;
        let healthy = self.lync.pools.get(&pool).is_some_and(|p| p.up);
        Ok(json!({"PoolFqdn": pool, "Healthy": healthy}))
    }

    /// Get-CsService -Registrar rows: the Front End pools.
    pub(in crate::lab) fn registrar_rows(
        &self,
        call: &Call,
        identity: Option<&str>,
        fqdn: Option<&str>,
    ) -> Result<Vec<Value>, OpError> {
        let only = identity.map(|i| self.fe_pool(call, i)).transpose()?;
        Ok(crate::lab::cmdlets::service_rows(
            self.lync.pools.iter(),
            only,
            fqdn,
            |n, p| {
                json!({
                    "Identity": format!("Registrar:{n}"),
                    "PoolFqdn": n,
                    "SiteId": format!("Site:{}", p.site),
                })
            },
        ))
    }

    /// Invoke-CsPoolFailOver -PoolFqdn P1 [-DisasterMode]: P1's users are
    /// served by its backup pool. Every refusal changes nothing.
    pub(in crate::lab) fn invoke_pool_failover(&mut self, call: &Call) -> Result<Value, OpError> {
        let p1 = self.fe_pool(call, &call.required("PoolFqdn")?)?;
        let disaster = call.switch("DisasterMode");
        let p2 = self.backup_of(call, &p1)?;
        let Some(pool) = self.lync.pools.get(&p1).cloned() else {
            return Ok(Value::Null);
        };
        if pool.state == PoolState::FailedOver {
            return Err(call.error(format!(
                "Pool \"{p1}\" is already failed over to \"{}\". Fail it back with Invoke-CsPoolFailBack -PoolFqdn {p1}.",
                pool.users.served_by
            )));
        }
        // The failback-before-failover rule (§3.4).
        let guests: Vec<String> = self
            .lync
            .pools
            .iter()
            .filter(|(n, p)| {
                *n != &p1 && p.state == PoolState::FailedOver && p.users.served_by == p1
            })
            .map(|(n, _)| n.clone())
            .collect();
        if let Some(other) = guests.first() {
            return Err(call.error(format!(
                "Pool integrity check failed: pool \"{p1}\" is serving the users of pool \"{other}\", which is failed over to it. \
                 Fail back \"{other}\" first (Invoke-CsPoolFailBack -PoolFqdn {other}), then fail over \"{p1}\" (Invoke-CsPoolFailOver -PoolFqdn {p1})."
            )));
        }
        if !self.lync.pools.get(&p2).is_some_and(|p| p.up) {
            return Err(call.error(format!(
                "The backup pool \"{p2}\" is not available: none of its Front End servers responds. A pool can fail over only to a running backup pool."
            )));
        }
        if !self.pool_working(&p2) {
            return Err(call.error(format!(
                "The Back End of the backup pool \"{p2}\" is unavailable: it cannot take the users of \"{p1}\"."
            )));
        }
        let cms_here = self.lync.cms.as_ref().is_some_and(|c| c.active_pool == p1);
        if cms_here && (!pool.up || !self.cms_available()) {
            return Err(call.error(format!(
                "Pool \"{p1}\" hosts the active Central Management Store, which cannot be reached. \
                 Fail over the Central Management Store first (Invoke-CsManagementServerFailover), then fail over the pool."
            )));
        }
        if let Some(edge) = self
            .lync
            .edge_pools
            .iter()
            .find(|(_, e)| e.next_hop == p1 && e.running(&self.network()))
            .map(|(n, _)| n.clone())
        {
            return Err(call.error(format!(
                "This Front-end pool \"{p1}\" is specified in topology as the next hop for the Edge server. \
                 Change the next hop of Edge pool \"{edge}\" to another Front End pool (Topology Builder, or \
                 Set-CsEdgeServer -Identity EdgeServer:{edge} -Registrar Registrar:<pool> for an Edge pool in another site), \
                 publish the topology, and run Invoke-CsPoolFailOver again."
            )));
        }
        let reachable = pool.up && pool.back_end.available;
        if !reachable && !disaster {
            return Err(call.error(format!(
                "Pool \"{p1}\" cannot be reached ({}). To fail over a pool that is down, or whose Back End is down, use -DisasterMode.",
                if pool.up { "its Back End is unavailable" } else { "its Front End servers do not respond" }
            )));
        }
        let planned = reachable && !disaster;
        if planned && !self.direction_reachable(&p1, &p2) {
            return Err(call.error(format!(
                "The Backup Service cannot replicate the data of \"{p1}\" to \"{p2}\", so a planned failover cannot finish its final synchronization. \
                 Restore the connection, or fail over with -DisasterMode and lose the changes not yet replicated."
            )));
        }
        let now = self.elapsed();
        let (lost, minutes) = {
            let Some(p) = self.lync.pools.get_mut(&p1) else {
                return Ok(Value::Null);
            };
            let d = &mut p.data;
            if planned {
                // Read-only, a final sync: nothing is lost.
                d.backup_copy = d.home_copy.clone();
                p.read_only = true;
            }
            let lost = d.changes.saturating_sub(d.backup_copy.changes);
            let minutes = minutes_tenths(
                d.last_change_at
                    .saturating_sub(d.backup_copy.last_change_at),
            );
            // What the backup copy holds is what the users have from now on.
            d.changes = d.backup_copy.changes;
            d.last_change_at = d.backup_copy.last_change_at;
            p.state = PoolState::FailedOver;
            p.users.served_by = p2.clone();
            (lost, if lost == 0 { 0.0 } else { minutes })
        };
        if planned {
            self.mark_exported(&p1, &p2, now);
        }
        if let Some(b) = self.lync.pools.get_mut(&p2) {
            // LIS is not replicated: it has to be restored for these users.
            b.lis_restored = false;
        }
        self.measurements.pool_failovers.push(PoolFailover {
            at: now,
            pool: p1,
            to: p2,
            kind: "failover".to_string(),
            disaster_mode: !planned,
            changes_lost: lost,
            minutes_lost: minutes,
        });
        Ok(Value::Null)
    }

    /// Invoke-CsPoolFailBack -PoolFqdn P1 [-DisasterMode]: P1 serves its
    /// users again; without -DisasterMode the backup pool's changes sync back.
    pub(in crate::lab) fn invoke_pool_failback(&mut self, call: &Call) -> Result<Value, OpError> {
        let p1 = self.fe_pool(call, &call.required("PoolFqdn")?)?;
        let disaster = call.switch("DisasterMode");
        let Some(pool) = self.lync.pools.get(&p1).cloned() else {
            return Ok(Value::Null);
        };
        if pool.state != PoolState::FailedOver {
            return Err(call.error(format!(
                "Pool \"{p1}\" is not failed over: its users are served by it. There is nothing to fail back."
            )));
        }
        if !pool.up || !pool.back_end.available {
            return Err(call.error(format!(
                "Pool \"{p1}\" is not ready to take its users back: {}. Bring it back online first.",
                if pool.up { "its Back End is unavailable" } else { "none of its Front End servers responds" }
            )));
        }
        let p2 = pool.users.served_by.clone();
        let reachable = self.pool_working(&p2) && self.direction_reachable(&p2, &p1);
        if !disaster && !reachable {
            return Err(call.error(format!(
                "The backup pool \"{p2}\" cannot be reached, so the changes its users made there cannot be synchronized back to \"{p1}\". \
                 Restore it, or fail back with -DisasterMode and lose those changes."
            )));
        }
        let now = self.elapsed();
        let (lost, minutes) = {
            let Some(p) = self.lync.pools.get_mut(&p1) else {
                return Ok(Value::Null);
            };
            let d = &mut p.data;
            if !disaster {
                d.home_copy = d.backup_copy.clone();
            }
            let lost = d.changes.saturating_sub(d.home_copy.changes);
            let minutes =
                minutes_tenths(d.last_change_at.saturating_sub(d.home_copy.last_change_at));
            d.changes = d.home_copy.changes;
            d.last_change_at = d.home_copy.last_change_at;
            p.state = PoolState::Normal;
            p.users.served_by = p1.clone();
            p.read_only = false;
            // Conference content must be copied back (§3.7).
            p.conference_content.in_sync = false;
            (lost, if lost == 0 { 0.0 } else { minutes })
        };
        if !disaster {
            self.mark_exported(&p2, &p1, now);
        }
        self.measurements.pool_failovers.push(PoolFailover {
            at: now,
            pool: p1.clone(),
            to: p1,
            kind: "failback".to_string(),
            disaster_mode: disaster,
            changes_lost: lost,
            minutes_lost: minutes,
        });
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::*;
    use crate::lab::lync::pools::RESILIENCY_AFTER;
    use crate::op::PsValue;

    const RED: &str = "pool-red.litwareinc.com";
    const DUB: &str = "pool-dub.litwareinc.com";
    const FE_DUB: &str = "fe-dub1.litwareinc.com";
    const FE_RED: &str = "fe-red1.litwareinc.com";

    fn run(
        lab: &mut LabState,
        host: &str,
        name: &str,
        args: &[(&str, PsValue)],
    ) -> Result<Value, OpError> {
        lab.perform(&cmdlet(host, name, args)).result
    }

    /// Invoke-CsPoolFailOver or -FailBack of `pool`, in disaster mode or not.
    fn pool_switch(
        lab: &mut LabState,
        host: &str,
        cmdlet: &str,
        pool: &str,
        disaster: bool,
    ) -> Result<Value, OpError> {
        let mut args = vec![("PoolFqdn", s(pool))];
        if disaster {
            args.push(("DisasterMode", PsValue::Switch));
        }
        run(lab, host, cmdlet, &args)
    }

    fn failover(
        lab: &mut LabState,
        host: &str,
        pool: &str,
        disaster: bool,
    ) -> Result<Value, OpError> {
        pool_switch(lab, host, "Invoke-CsPoolFailOver", pool, disaster)
    }

    fn failback(
        lab: &mut LabState,
        host: &str,
        pool: &str,
        disaster: bool,
    ) -> Result<Value, OpError> {
        pool_switch(lab, host, "Invoke-CsPoolFailBack", pool, disaster)
    }

    /// Who serves whom, and the next hops: what a refusal must not change.
    fn topology(lab: &LabState) -> Vec<String> {
        let pools = lab.lync.pools.iter().map(|(n, p)| {
            format!(
                "{n} {} {} {} {}",
                p.state, p.users.served_by, p.read_only, p.lis_restored
            )
        });
        let edges = lab
            .lync
            .edge_pools
            .iter()
            .map(|(n, e)| format!("{n} -> {}", e.next_hop));
        let cms = lab
            .lync
            .cms
            .iter()
            .map(|c| format!("cms {}", c.active_pool));
        pools.chain(edges).chain(cms).collect()
    }

    fn repoint(lab: &mut LabState, edge: &str, to: &str) {
        let host = if lab.server_up(FE_DUB) {
            FE_DUB
        } else {
            FE_RED
        };
        run(
            lab,
            host,
            "Set-CsEdgeServer",
            &[
                ("Identity", s(&format!("EdgeServer:{edge}"))),
                ("Registrar", s(&format!("Registrar:{to}"))),
            ],
        )
        .unwrap();
    }

    #[test]
    fn pools_are_laid_out_from_the_estate() {
        let lab = litware();
        let red = &lab.lync.pools[RED];
        assert_eq!(
            (
                red.site.as_str(),
                red.backup_pool.as_deref(),
                red.state,
                red.up,
                red.hosts_cms
            ),
            ("redmond", Some(DUB), PoolState::Normal, true, true)
        );
        assert_eq!(red.users.served_by, RED);
        assert!(red.back_end.available && !red.users.resiliency_mode);
        assert!(!lab.lync.pools[DUB].hosts_cms);
        let cms = lab.lync.cms.as_ref().unwrap();
        assert_eq!(
            (cms.active_pool.as_str(), cms.standby_pool.as_deref()),
            (RED, Some(DUB))
        );
        assert!(cms.replicas.values().all(|r| r.up_to_date));
        assert_eq!(cms.replicas.len(), 6);
    }

    #[test]
    fn users_enter_resiliency_mode_thirty_minutes_after_the_back_end_goes() {
        let mut lab = litware_at(2);
        // Dublin's back end has no witness: nothing fails over by itself.
        lab.apply_fault("instance-down:besql-dub1").unwrap();
        let since = lab.elapsed();
        assert_eq!(lab.lync.pools[DUB].back_end.unavailable_since, Some(since));
        lab.advance(RESILIENCY_AFTER - 1);
        assert!(!lab.lync.pools[DUB].users.resiliency_mode);
        lab.advance(1);
        assert!(lab.lync.pools[DUB].users.resiliency_mode);
        assert_eq!(
            lab.lync.pools[DUB].users.resiliency_since,
            Some(since + RESILIENCY_AFTER)
        );
        // The operator fails the Back End over: service returns at once.
        run(
            &mut lab,
            FE_DUB,
            "Invoke-CsDatabaseFailover",
            &[
                ("PoolFqdn", s(DUB)),
                ("DatabaseType", s("User")),
                ("NewPrincipal", s("mirror")),
                ("Force", PsValue::Switch),
            ],
        )
        .unwrap();
        assert!(lab.lync.pools[DUB].back_end.available);
        assert!(!lab.lync.pools[DUB].users.resiliency_mode);
    }

    #[test]
    fn resiliency_begins_at_the_right_second_when_time_passes_through_ops() {
        let mut lab = litware();
        // Dublin has no witness: losing the principal stops the back end.
        lab.apply_fault("instance-down:besql-dub1").unwrap();
        // Reads of 3 simulated seconds each, across the deadline.
        let read = cmdlet(FE_RED, "Get-CsPoolFabricState", &[("PoolFqdn", s(DUB))]);
        while lab.elapsed() + 3 < RESILIENCY_AFTER {
            lab.perform(&read);
        }
        assert_eq!(lab.elapsed(), RESILIENCY_AFTER - 3);
        assert!(!lab.lync.pools[DUB].users.resiliency_mode);
        lab.perform(&read);
        assert!(lab.lync.pools[DUB].users.resiliency_mode);
        assert_eq!(
            lab.lync.pools[DUB].users.resiliency_since,
            Some(RESILIENCY_AFTER)
        );
    }

    #[test]
    fn a_pool_down_puts_its_users_in_resiliency_mode_at_once_until_failover() {
        let mut lab = litware_at(10);
        lab.apply_fault("pool-down:pool-red.litwareinc.com")
            .unwrap();
        let red = &lab.lync.pools[RED];
        assert!(!red.up && red.users.resiliency_mode);
        assert!(red.back_end.available);
        // The CMS is in the pool that is down: fail it over first (the
        // next-hop change writes through it too).
        let refused = message(failover(&mut lab, FE_DUB, RED, true));
        assert!(refused.contains("Central Management Store"), "{refused}");
        run(
            &mut lab,
            FE_DUB,
            "Invoke-CsManagementServerFailover",
            &[
                ("BackupSqlServerFqdn", s("besql-dub1.litwareinc.com")),
                ("BackupSqlInstanceName", s("rtc")),
                ("Force", PsValue::Switch),
            ],
        )
        .unwrap();
        repoint(&mut lab, "edge-red.litwareinc.com", DUB);
        failover(&mut lab, FE_DUB, RED, true).unwrap();
        let red = &lab.lync.pools[RED];
        assert_eq!(
            (red.state, red.users.served_by.as_str()),
            (PoolState::FailedOver, DUB)
        );
        assert!(!red.users.resiliency_mode);
        lab.apply_fault("pool-up:pool-red.litwareinc.com").unwrap();
        failback(&mut lab, FE_RED, RED, false).unwrap();
        let red = &lab.lync.pools[RED];
        assert_eq!(
            (red.state, red.users.served_by.as_str()),
            (PoolState::Normal, RED)
        );
        assert!(!red.conference_content.in_sync);
    }

    #[test]
    fn pool_failover_refusals_change_nothing() {
        let mut lab = litware_at(10);
        // Planned failover is refused while Dublin's Edge uses it as next hop.
        let before = topology(&lab);
        let msg = message(failover(&mut lab, FE_RED, DUB, false));
        assert!(
            msg.starts_with(
                "This Front-end pool \"pool-dub.litwareinc.com\" is specified in topology as the next hop for the Edge server."
            ),
            "{msg}"
        );
        assert_eq!(topology(&lab), before);
        assert!(lab.measurements.pool_failovers.is_empty());
        // A pool that is down needs -DisasterMode.
        lab.apply_fault("pool-down:pool-dub.litwareinc.com")
            .unwrap();
        lab.apply_fault("edge-down:edge-dub.litwareinc.com")
            .unwrap();
        let msg = message(failover(&mut lab, FE_RED, DUB, false));
        assert!(msg.contains("use -DisasterMode"), "{msg}");
        // The backup pool down.
        lab.apply_fault("pool-up:pool-dub.litwareinc.com").unwrap();
        lab.apply_fault("pool-down:pool-red.litwareinc.com")
            .unwrap();
        let msg = message(failover(
            &mut lab,
            FE_RED.replace("red1", "dub1").as_str(),
            DUB,
            true,
        ));
        assert!(
            msg.contains("backup pool \"pool-red.litwareinc.com\" is not available"),
            "{msg}"
        );
        // An unknown pool, and a pool without a backup.
        lab.lync.pools.get_mut(DUB).unwrap().backup_pool = None;
        let msg = message(failover(&mut lab, FE_DUB, DUB, true));
        assert!(msg.contains("has no backup pool"), "{msg}");
        let msg = message(failover(&mut lab, FE_DUB, "pool-x.litwareinc.com", true));
        assert!(msg.starts_with("Cannot find Front End pool"), "{msg}");
    }

    #[test]
    fn the_failback_before_failover_rule() {
        let mut lab = litware_at(10);
        repoint(&mut lab, "edge-dub.litwareinc.com", RED);
        // Planned: Dublin's users to Redmond.
        failover(&mut lab, FE_RED, DUB, false).unwrap();
        assert!(lab.lync.pools[DUB].read_only);
        // Redmond now serves Dublin's users: it cannot fail over to Dublin.
        repoint(&mut lab, "edge-red.litwareinc.com", DUB);
        let before = topology(&lab);
        let msg = message(failover(&mut lab, FE_DUB, RED, false));
        assert!(msg.starts_with("Pool integrity check failed"), "{msg}");
        assert!(
            msg.contains("Fail back \"pool-dub.litwareinc.com\" first (Invoke-CsPoolFailBack -PoolFqdn pool-dub.litwareinc.com)"),
            "{msg}"
        );
        assert_eq!(topology(&lab), before);
        failback(&mut lab, FE_DUB, DUB, false).unwrap();
        repoint(&mut lab, "edge-dub.litwareinc.com", DUB);
        failover(&mut lab, FE_DUB, RED, false).unwrap();
        assert_eq!(lab.lync.pools[RED].users.served_by, DUB);
        let msg = message(failover(&mut lab, FE_DUB, RED, false));
        assert!(msg.contains("already failed over"), "{msg}");
    }

    #[test]
    fn disaster_mode_loses_what_the_backup_service_had_not_replicated() {
        // Syncs every 2 minutes: at 10:00 the last one; the pool fails at 11:30.
        let mut lab = litware_at(10);
        lab.advance(90);
        lab.apply_fault("pool-down:pool-dub.litwareinc.com")
            .unwrap();
        lab.advance(600);
        let d = &lab.lync.pools[DUB].data;
        assert_eq!((d.changes, d.backup_copy.changes), (1725, 1500));
        repoint(&mut lab, "edge-dub.litwareinc.com", RED);
        failover(&mut lab, FE_RED, DUB, true).unwrap();
        let m = lab.measurements.pool_failovers.last().unwrap().clone();
        assert_eq!(
            (
                m.pool.as_str(),
                m.to.as_str(),
                m.disaster_mode,
                m.changes_lost,
                m.minutes_lost
            ),
            (DUB, RED, true, 225, 1.5)
        );
        // Dublin's users carry on in Redmond, from what the copy held.
        lab.advance(60);
        let d = &lab.lync.pools[DUB].data;
        assert_eq!((d.changes, d.backup_copy.changes), (1650, 1650));

        // A planned failover loses nothing.
        let mut lab = litware_at(10);
        lab.advance(90);
        repoint(&mut lab, "edge-dub.litwareinc.com", RED);
        failover(&mut lab, FE_RED, DUB, false).unwrap();
        let m = lab.measurements.pool_failovers.last().unwrap();
        assert_eq!(
            (m.disaster_mode, m.changes_lost, m.minutes_lost),
            (false, 0, 0.0)
        );
    }

    #[test]
    fn failback_in_disaster_mode_loses_the_changes_made_on_the_backup_pool() {
        let mut lab = litware_at(10);
        repoint(&mut lab, "edge-dub.litwareinc.com", RED);
        failover(&mut lab, FE_RED, DUB, false).unwrap();
        lab.advance(300);
        lab.apply_fault("link-down:dublin-redmond").unwrap();
        lab.advance(300);
        // Redmond is cut off: a normal failback cannot sync back.
        let msg = message(failback(&mut lab, FE_DUB, DUB, false));
        assert!(
            msg.contains("use -DisasterMode") || msg.contains("with -DisasterMode"),
            "{msg}"
        );
        failback(&mut lab, FE_DUB, DUB, true).unwrap();
        let m = lab.measurements.pool_failovers.last().unwrap();
        assert_eq!((m.kind.as_str(), m.disaster_mode), ("failback", true));
        // Failed over at 10:10 (after the 10 s Set-CsEdgeServer), taking
        // 10 minutes; synced back to Dublin last at 24:00; the link cut at
        // 25:10, the refused failback took 5 s: the changes from 24:00 to
        // 30:10 are lost, 370 s at 150 a minute.
        assert_eq!(m.changes_lost, 925);
        assert_eq!(m.minutes_lost, 6.2);
        assert_eq!(lab.lync.pools[DUB].users.served_by, DUB);
    }

    #[test]
    fn minutes_round_to_tenths() {
        assert_eq!(minutes_tenths(150), 2.5);
        assert_eq!(minutes_tenths(0), 0.0);
    }
}
