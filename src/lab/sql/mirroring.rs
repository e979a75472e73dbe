//! SQL Server database mirroring, for every mirrored database the lab holds:
//! Persistent Chat's mgc and the Front End pools' Back End databases.
//!
//! A session is two records, one per partner (`sys.database_mirroring`), and
//! an optional witness. Connectivity decides everything: two instances are
//! connected when both are up and their sites' link is up. After every fault
//! or repair `reassess_mirroring` applies SQL Server's rules to every session
//! at once: a principal lost while the mirror and the witness keep quorum
//! fails over automatically; without a witness, or without quorum, nothing
//! happens; a returning partner rejoins as the mirror and resynchronizes.
//! The T-SQL mirroring statements (SET PARTNER FAILOVER / FORCE_SERVICE_ALLOW
//! _DATA_LOSS / OFF) are answered here too, with SQL Server's error numbers.
//!
//! Everything here is a method of `Sql` that takes the `Network`: SQL Server
//! mirroring knows nothing of Lync, and the Lync mirroring cmdlets
//! (`cmdlets/mirror_database.rs`) act on sessions only through it.

use crate::lab::network::Network;
use crate::lab::{DbState, MirrorRole, MirrorState, Mirroring, Safety, Sql};
use crate::targets::OpError;
use serde_json::{json, Value};

fn sql_err(number: i32, message: String) -> OpError {
    OpError::sql(number, 16, message)
}

impl Sql {
    fn site_of_instance(&self, id: &str) -> Option<&str> {
        self.get(id).map(|i| i.site.as_str())
    }

    /// Two instances can exchange mirroring traffic: both up, sites linked.
    pub(in crate::lab) fn connected(&self, a: &str, b: &str, net: &Network) -> bool {
        match (self.site_of_instance(a), self.site_of_instance(b)) {
            (Some(sa), Some(sb)) => {
                self.instance_up(a, net) && self.instance_up(b, net) && net.sites_linked(sa, sb)
            }
            _ => false,
        }
    }

    /// A principal copy keeps quorum: no witness is configured, or it sees
    /// its partner or the witness.
    pub(in crate::lab) fn has_quorum(&self, id: &str, database: &str, net: &Network) -> bool {
        let Some(m) = self
            .database(id, database)
            .and_then(|d| d.mirroring.as_ref())
        else {
            return true;
        };
        match &m.witness {
            None => true,
            Some(w) => self.connected(id, &m.partner, net) || self.connected(id, w, net),
        }
    }

    /// Clients can use this copy: principal and online, up, with quorum.
    pub(in crate::lab) fn serving(&self, id: &str, database: &str, net: &Network) -> bool {
        self.instance_up(id, net)
            && self
                .database(id, database)
                .is_some_and(|d| d.is_principal_online())
            && self.has_quorum(id, database, net)
    }

    /// The first candidate that serves `database`.
    pub(in crate::lab) fn serving_copy(
        &self,
        candidates: &[&str],
        database: &str,
        net: &Network,
    ) -> Option<String> {
        candidates
            .iter()
            .find(|id| self.serving(id, database, net))
            .map(|id| id.to_string())
    }

    /// The first candidate whose copy is principal and online by its own
    /// record, reachable or not.
    pub(in crate::lab) fn principal_by_role(
        &self,
        candidates: &[&str],
        database: &str,
    ) -> Option<String> {
        candidates
            .iter()
            .find(|id| {
                self.database(id, database)
                    .is_some_and(|d| d.is_principal_online())
            })
            .map(|id| id.to_string())
    }

    /// Seed `mirror` from `principal` and join them in a session, as
    /// Install-CsMirrorDatabase does. Missing instances are left alone.
    pub(in crate::lab) fn establish_mirroring(
        &mut self,
        principal: &str,
        mirror: &str,
        witness: Option<&str>,
        database: &str,
    ) {
        self.establish_mirroring_with(principal, mirror, witness, database, Safety::Full);
    }

    pub(in crate::lab) fn establish_mirroring_with(
        &mut self,
        principal: &str,
        mirror: &str,
        witness: Option<&str>,
        database: &str,
        safety: Safety,
    ) {
        let Some(source) = self.database(principal, database).cloned() else {
            return;
        };
        let record = |role, partner: &str| Mirroring {
            role,
            partner: partner.to_string(),
            witness: witness.map(str::to_string),
            state: MirrorState::Synchronized,
            safety,
        };
        let mut seeded = source;
        seeded.state = DbState::Restoring;
        seeded.sessions = Vec::new();
        seeded.mirroring = Some(record(MirrorRole::Mirror, principal));
        let Some(target) = self.get_mut(mirror) else {
            return;
        };
        target.databases.insert(database.to_string(), seeded);
        if let Some(db) = self.database_mut(principal, database) {
            db.mirroring = Some(record(MirrorRole::Principal, mirror));
        }
    }

    /// Apply SQL Server's rules to every session after something changed:
    /// sessions that lost their partner, then partners that came back.
    /// Returns what happened, one line per session.
    pub(in crate::lab) fn reassess_mirroring(&mut self, net: &Network) -> Vec<String> {
        let mut events = self.lose_sessions(net);
        events.extend(self.rejoin_sessions(net));
        events
    }

    /// Every (instance, database) whose mirroring record matches `pred`.
    fn records(&self, pred: impl Fn(&str, &Mirroring) -> bool) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (id, inst) in self.iter() {
            for (db, d) in &inst.databases {
                if d.mirroring.as_ref().is_some_and(|m| pred(id, m)) {
                    out.push((id.clone(), db.clone()));
                }
            }
        }
        out
    }

    /// Does `partner`'s copy of `database` hold a session with `id`?
    fn joined(&self, partner: &str, database: &str, id: &str) -> bool {
        self.database(partner, database)
            .and_then(|d| d.mirroring.as_ref())
            .is_some_and(|m| m.partner == id)
    }

    /// Sessions whose partners can no longer see each other, all judged at
    /// once (so a site losing principal and mirror together does not fail
    /// over between them).
    fn lose_sessions(&mut self, net: &Network) -> Vec<String> {
        let mut events = Vec::new();
        let lost = self.records(|id, m| {
            m.state != MirrorState::Disconnected && !self.connected(id, &m.partner, net)
        });
        for (id, db) in lost {
            let Some(m) = self.database(&id, &db).and_then(|d| d.mirroring.clone()) else {
                continue;
            };
            if m.state == MirrorState::Disconnected {
                continue;
            }
            // Judge each session from its principal's side.
            let partner_principal = self
                .database(&m.partner, &db)
                .and_then(|d| d.mirroring.as_ref())
                .is_some_and(|pm| pm.partner == id && pm.role == MirrorRole::Principal);
            match m.role {
                MirrorRole::Principal => events.push(self.lose_session(&id, &db, net)),
                MirrorRole::Mirror if partner_principal => {
                    let partner = m.partner.clone();
                    events.push(self.lose_session(&partner, &db, net));
                }
                MirrorRole::Mirror => {
                    self.disconnect(&id, &db, false);
                    events.push(format!(
                        "{db}: mirror {id} lost its partner {}, which holds no matching session",
                        m.partner
                    ));
                }
            }
        }
        events
    }

    /// One session whose principal `p` no longer sees its mirror.
    fn lose_session(&mut self, p: &str, db: &str, net: &Network) -> String {
        let Some(m) = self.database(p, db).and_then(|d| d.mirroring.clone()) else {
            return String::new();
        };
        let mi = m.partner.clone();
        let partner_joined = self.joined(&mi, db, p);
        let (p_up, m_up) = (self.instance_up(p, net), self.instance_up(&mi, net));
        let witness = m.witness.clone();
        let w_m = witness
            .as_deref()
            .is_some_and(|w| self.connected(&mi, w, net));
        let w_p = witness
            .as_deref()
            .is_some_and(|w| self.connected(p, w, net));
        let automatic = partner_joined
            && m_up
            && w_m
            && !w_p
            && m.state == MirrorState::Synchronized
            && m.safety == Safety::Full;
        self.disconnect(p, db, automatic);
        if partner_joined {
            self.disconnect(&mi, db, false);
        }
        let w = witness.as_deref().unwrap_or_default();
        if automatic {
            self.promote(&mi, db);
            return format!("{db}: automatic failover from {p} to {mi} (witness {w} kept quorum)");
        }
        if !p_up {
            let why = if witness.is_none() {
                "no witness is configured".to_string()
            } else if !partner_joined {
                format!("{mi} holds no matching mirror session")
            } else if !m_up {
                format!("mirror {mi} is down too")
            } else if !w_m {
                if self.instance_up(w, net) {
                    format!("witness {w} is cut off from mirror {mi}")
                } else {
                    format!("witness {w} is down too")
                }
            } else if m.safety != Safety::Full {
                "safety is OFF (asynchronous mirroring)".to_string()
            } else {
                format!("the session was {}", crate::lab::desc(&m.state))
            };
            return format!("{db}: principal {p} lost, no automatic failover: {why}");
        }
        if !m_up {
            return if witness.is_some() && !w_p {
                format!("{db}: mirror {mi} lost and witness {w} unreachable: principal {p} lost quorum and stops serving")
            } else {
                format!("{db}: mirror {mi} lost; principal {p} runs unprotected")
            };
        }
        // Both up, the network between them is not.
        if witness.is_none() {
            format!("{db}: principal {p} cut off from mirror {mi}; it runs unprotected")
        } else if w_p {
            format!("{db}: principal {p} cut off from mirror {mi}; it keeps quorum with witness {w} and runs unprotected")
        } else {
            format!("{db}: principal {p} cut off from mirror {mi} and witness {w}: it lost quorum, no automatic failover")
        }
    }

    /// Partners that see each other again resume their session; a mirror
    /// that finds its witness again without its principal fails over.
    fn rejoin_sessions(&mut self, net: &Network) -> Vec<String> {
        let mut events = Vec::new();
        let waiting =
            self.records(|id, m| m.state == MirrorState::Disconnected && self.instance_up(id, net));
        for (id, db) in waiting {
            let Some(m) = self.database(&id, &db).and_then(|d| d.mirroring.clone()) else {
                continue;
            };
            if m.state != MirrorState::Disconnected {
                continue;
            }
            if self.connected(&id, &m.partner, net) {
                if !self.joined(&m.partner, &db, &id) {
                    if let Some(d) = self.database_mut(&id, &db) {
                        d.mirroring = None;
                    }
                    events.push(format!(
                        "{db}: {id} found no session on {}; its mirroring was removed",
                        m.partner
                    ));
                    continue;
                }
                let partner_role = self
                    .database(&m.partner, &db)
                    .and_then(|d| d.mirroring.as_ref())
                    .map(|pm| pm.role);
                let (p, mi) = match (m.role, partner_role) {
                    (MirrorRole::Principal, Some(MirrorRole::Mirror)) => (id.clone(), m.partner),
                    (MirrorRole::Mirror, Some(MirrorRole::Principal)) => (m.partner, id.clone()),
                    _ => continue,
                };
                self.resynchronize(&p, &mi, &db);
                events.push(format!(
                    "{db}: {mi} rejoined as the mirror of {p} and resynchronized"
                ));
                continue;
            }
            // The principal is still gone: a caught-up mirror that sees the
            // witness again, while the principal does not, takes over.
            let Some(w) = m.witness.clone() else { continue };
            let caught_up = match (self.database(&id, &db), self.database(&m.partner, &db)) {
                (Some(mine), Some(theirs)) => mine.lsn >= theirs.lsn,
                (Some(_), None) => true,
                _ => false,
            };
            let partner_principal = self
                .database(&m.partner, &db)
                .and_then(|d| d.mirroring.as_ref())
                .is_some_and(|pm| pm.partner == id && pm.role == MirrorRole::Principal);
            if m.role == MirrorRole::Mirror
                && m.safety == Safety::Full
                && self.connected(&id, &w, net)
                && !self.connected(&m.partner, &w, net)
                && caught_up
                && partner_principal
            {
                self.disconnect(&m.partner, &db, true);
                self.promote(&id, &db);
                events.push(format!(
                    "{db}: automatic failover from {} to {id} (witness {w} returned)",
                    m.partner
                ));
            }
        }
        events
    }

    /// Mark one side of a session disconnected; `demote` turns a lost
    /// principal into the mirror it will be when it returns.
    pub(in crate::lab) fn disconnect(&mut self, id: &str, db: &str, demote: bool) {
        let Some(d) = self.database_mut(id, db) else {
            return;
        };
        if let Some(m) = d.mirroring.as_mut() {
            m.state = MirrorState::Disconnected;
            if demote {
                m.role = MirrorRole::Mirror;
            }
        }
        if demote {
            d.state = DbState::Restoring;
        }
    }

    /// This copy becomes the principal and comes online.
    fn promote(&mut self, id: &str, db: &str) {
        if let Some(d) = self.database_mut(id, db) {
            d.state = DbState::Online;
            if let Some(m) = d.mirroring.as_mut() {
                m.role = MirrorRole::Principal;
            }
        }
    }

    /// The mirror catches up with the principal; the session is synchronized.
    fn resynchronize(&mut self, p: &str, mi: &str, db: &str) {
        let Some(source) = self.database(p, db).cloned() else {
            return;
        };
        if let Some(d) = self.database_mut(mi, db) {
            d.lsn = source.lsn;
            d.transactions = source.transactions;
            d.last_transaction_at = source.last_transaction_at;
            d.state = DbState::Restoring;
            if let Some(m) = d.mirroring.as_mut() {
                m.state = MirrorState::Synchronized;
            }
        }
        if let Some(m) = self.database_mut(p, db).and_then(|d| d.mirroring.as_mut()) {
            m.state = MirrorState::Synchronized;
        }
    }

    /// A planned role switch, both partners connected and synchronized: the
    /// mirror becomes principal, the principal its mirror.
    pub(in crate::lab) fn switch_roles(&mut self, p: &str, mi: &str, db: &str) {
        if let Some(d) = self.database_mut(p, db) {
            d.state = DbState::Restoring;
            d.sessions.clear();
            if let Some(m) = d.mirroring.as_mut() {
                m.role = MirrorRole::Mirror;
            }
        }
        self.promote(mi, db);
    }

    /// Forced service on `mi`: it becomes the principal now, its lost
    /// partner's record is demoted so that it rejoins as the mirror, and a
    /// witness it cannot see is removed from the session (SET WITNESS OFF).
    pub(in crate::lab) fn force_service(&mut self, mi: &str, db: &str, net: &Network) {
        let Some(m) = self.database(mi, db).and_then(|d| d.mirroring.clone()) else {
            return;
        };
        let drop_witness = m
            .witness
            .as_deref()
            .is_some_and(|w| !self.connected(mi, w, net));
        let partner = m.partner.clone();
        if self.joined(&partner, db, mi) {
            self.disconnect(&partner, db, true);
            if drop_witness {
                if let Some(pm) = self
                    .database_mut(&partner, db)
                    .and_then(|d| d.mirroring.as_mut())
                {
                    pm.witness = None;
                }
            }
        }
        self.disconnect(mi, db, false);
        self.promote(mi, db);
        if drop_witness {
            if let Some(mm) = self.database_mut(mi, db).and_then(|d| d.mirroring.as_mut()) {
                mm.witness = None;
            }
        }
    }

    /// Remove the session as `SET PARTNER OFF` on `id` does: both records
    /// if the partner is reachable (else the partner drops its own when it
    /// returns). Copies keep their state: a mirror stays RESTORING.
    pub(in crate::lab) fn remove_mirroring(&mut self, id: &str, db: &str, net: &Network) {
        let Some(m) = self.database(id, db).and_then(|d| d.mirroring.clone()) else {
            return;
        };
        if self.connected(id, &m.partner, net) && self.joined(&m.partner, db, id) {
            if let Some(d) = self.database_mut(&m.partner, db) {
                d.mirroring = None;
            }
        }
        if let Some(d) = self.database_mut(id, db) {
            d.mirroring = None;
        }
    }

    /// `ALTER DATABASE db SET PARTNER FAILOVER`, on the principal.
    pub(in crate::lab) fn mirror_failover(
        &mut self,
        id: &str,
        database: &str,
        net: &Network,
    ) -> Result<Value, OpError> {
        let (key, m) = self.mirrored(id, database)?;
        if m.role != MirrorRole::Principal {
            return Err(sql_err(
                1470,
                format!("The alter database for this partner config values may only be initiated on the current principal server for database \"{key}\"."),
            ));
        }
        if m.safety != Safety::Full {
            return Err(sql_err(
                1477,
                format!("The database mirroring safety level must be FULL to manually failover database \"{key}\". Set safety level to FULL and retry."),
            ));
        }
        if !self.connected(id, &m.partner, net) || m.state == MirrorState::Disconnected {
            return Err(sql_err(
                1404,
                "The command failed because the database mirror is busy. Reissue the command later.".to_string(),
            ));
        }
        if m.state != MirrorState::Synchronized {
            return Err(sql_err(
                1422,
                format!("The mirror server instance is not caught up to the recent changes to database \"{key}\". Unable to fail over."),
            ));
        }
        self.switch_roles(id, &m.partner, &key);
        Ok(json!([]))
    }

    /// The one rule for forcing service on `id` ([SQL]; PROCEDURES.md §2),
    /// kept by `SET PARTNER FORCE_SERVICE_ALLOW_DATA_LOSS` and by
    /// Invoke-CsDatabaseFailover -Force, which runs it: `id` is the mirror,
    /// the principal is gone, and the witness is off or connected to `id`.
    /// The database's stored name, or Msg 1455.
    pub(in crate::lab) fn force_service_allowed(
        &self,
        id: &str,
        database: &str,
        net: &Network,
    ) -> Result<String, OpError> {
        let (key, m) = self.mirrored(id, database)?;
        let witness_lost = m
            .witness
            .as_deref()
            .is_some_and(|w| !self.connected(id, w, net));
        if m.role != MirrorRole::Mirror || self.connected(id, &m.partner, net) || witness_lost {
            return Err(sql_err(
                1455,
                format!("The database mirroring service cannot be forced for database \"{key}\" because the database is not in the correct state to become the principal database."),
            ));
        }
        Ok(key)
    }

    /// `ALTER DATABASE db SET PARTNER FORCE_SERVICE_ALLOW_DATA_LOSS`, on the
    /// mirror, when the principal is gone and the witness is off or sees it.
    pub(in crate::lab) fn mirror_force_service(
        &mut self,
        id: &str,
        database: &str,
        net: &Network,
    ) -> Result<Value, OpError> {
        let key = self.force_service_allowed(id, database, net)?;
        self.force_service(id, &key, net);
        Ok(json!([]))
    }

    /// `ALTER DATABASE db SET PARTNER OFF`, on either partner.
    pub(in crate::lab) fn mirror_off(
        &mut self,
        id: &str,
        database: &str,
        net: &Network,
    ) -> Result<Value, OpError> {
        let (key, _) = self.mirrored(id, database)?;
        self.remove_mirroring(id, &key, net);
        Ok(json!([]))
    }

    /// The stored name and mirroring record of a mirrored database.
    fn mirrored(&self, id: &str, database: &str) -> Result<(String, Mirroring), OpError> {
        let key = self
            .get(id)
            .and_then(|i| crate::lab::sql::answers::key_ci(&i.databases, database))
            .ok_or_else(|| {
                sql_err(
                    911,
                    format!("Database '{database}' does not exist. Make sure that the name is entered correctly."),
                )
            })?;
        let m = self
            .database(id, &key)
            .and_then(|d| d.mirroring.clone())
            .ok_or_else(|| {
                sql_err(
                    1416,
                    format!("Database \"{key}\" is not configured for database mirroring."),
                )
            })?;
        Ok((key, m))
    }
}

#[cfg(test)]
mod tests;
