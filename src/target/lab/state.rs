//! The lab state: everything the simulation knows about the estate, as plain
//! data that serializes to the lab file.
//!
//! Every map is a `BTreeMap` and every list keeps insertion order, so the same
//! estate and the same sequence of calls always give byte-identical JSON. The
//! file may be edited by hand: nothing here assumes that a name it holds
//! resolves, and unknown names surface as op errors, never as panics.

use super::files::Folder;
use crate::estate::Estate;
use crate::op::{unc_server, Op};
use crate::target::{OpError, Performed};
use crate::time;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The first LSN of every Persistent Chat database the lab creates: a value
/// of the size SQL Server shows, so runbooks see realistic numbers.
pub const LSN_BASE: i64 = 34_000_000_010_000_001;
/// Each committed transaction moves the log this far.
pub const LSN_PER_TRANSACTION: i64 = 10;
/// The one Persistent Chat database the lab fails over; mgccomp never is.
pub const CHAT_DATABASE: &str = "mgc";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabState {
    pub estate: EstateRef,
    pub clock: Clock,
    pub sites: BTreeMap<String, SiteState>,
    pub servers: BTreeMap<String, ServerState>,
    pub sql: BTreeMap<String, SqlInstance>,
    pub folders: BTreeMap<String, Folder>,
    pub lync: Lync,
    pub workload: BTreeMap<String, Workload>,
    pub faults: Vec<FaultRecord>,
    pub measurements: Measurements,
}

/// Which estate file the lab was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstateRef {
    pub name: String,
    pub sha256: String,
}

/// `now` is derived from `start + elapsed_seconds`; it is stored so that a
/// person reading the file sees the simulated time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clock {
    pub start: String,
    pub elapsed_seconds: u64,
    pub now: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteState {
    pub up: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerState {
    pub site: String,
    pub role: String,
    pub up: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlInstance {
    pub server: String,
    pub instance: Option<String>,
    pub site: String,
    pub up: bool,
    pub databases: BTreeMap<String, Database>,
    pub msdb: Msdb,
}

impl SqlInstance {
    /// `server\instance`, as SQL Server names itself.
    pub fn name(&self) -> String {
        match &self.instance {
            Some(i) => format!("{}\\{}", self.server, i),
            None => self.server.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub state: DbState,
    pub mirroring: Option<Mirroring>,
    /// The next LSN: where redo would start.
    pub lsn: i64,
    pub transactions: u64,
    /// Elapsed seconds when the last transaction this copy holds was committed.
    pub last_transaction_at: u64,
    pub sessions: Vec<Session>,
}

impl Database {
    /// Can this copy take writes as far as its own role goes?
    pub fn is_principal_online(&self) -> bool {
        self.state == DbState::Online
            && self
                .mirroring
                .as_ref()
                .is_none_or(|m| m.role == MirrorRole::Principal)
    }
}

/// `sys.databases.state_desc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DbState {
    Online,
    Restoring,
    Recovering,
    RecoveryPending,
    Suspect,
    Emergency,
    Offline,
}

/// One side's record of a mirroring session (`sys.database_mirroring`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mirroring {
    pub role: MirrorRole,
    /// The partner's instance id.
    pub partner: String,
    /// The witness's instance id.
    pub witness: Option<String>,
    pub state: MirrorState,
    pub safety: Safety,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MirrorRole {
    Principal,
    Mirror,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MirrorState {
    Synchronized,
    Synchronizing,
    Suspended,
    Disconnected,
    PendingFailover,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Safety {
    Full,
    Off,
}

/// The serialized name of a unit enum variant: what SQL Server prints as `*_desc`.
pub fn desc<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The enums print as SQL Server and Lync print them: `ONLINE`, `FailedOver`.
macro_rules! display_as_desc {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&desc(self))
            }
        }
    )*};
}
display_as_desc!(DbState, MirrorRole, MirrorState, Safety, PoolState);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub session_id: i64,
    pub login_name: String,
    pub host_name: String,
    pub program_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Msdb {
    pub log_shipping_primary: BTreeMap<String, LogShippingPrimary>,
    pub log_shipping_secondary: BTreeMap<String, LogShippingSecondary>,
    pub restore_history: Vec<RestoreHistory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogShippingPrimary {
    pub backup_directory: String,
    pub backup_job: String,
    pub every_minutes: u64,
    pub last_backup_file: Option<String>,
    pub last_backup_lsn: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogShippingSecondary {
    pub primary_instance: String,
    pub primary_database: String,
    pub backup_source_directory: String,
    pub backup_destination_directory: String,
    pub copy_job: String,
    pub restore_job: String,
    pub copy_every_minutes: u64,
    pub restore_every_minutes: u64,
    pub last_copied_file: Option<String>,
    pub last_copied_at: Option<String>,
    pub last_restored_file: Option<String>,
    pub last_restored_at: Option<String>,
    pub restore_mode: i64,
    pub restore_delay: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreHistory {
    pub database: String,
    pub file: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lync {
    pub persistent_chat: BTreeMap<String, ChatPool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatPool {
    pub state: PoolState,
    pub active_servers: Vec<String>,
    pub servers: Vec<String>,
    pub mgc: ChatTopology,
    pub transactions_per_minute: u64,
}

/// Where the pool's mgc lives: the topology as published, by instance id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatTopology {
    pub primary: String,
    pub mirror: Option<String>,
    pub witness: Option<String>,
    pub backup: String,
    pub backup_mirror: Option<String>,
    pub backup_witness: Option<String>,
}

impl ChatTopology {
    /// The instances that hold mgc while the pool is in `state`, the
    /// designated principal first.
    pub fn candidates(&self, state: PoolState) -> Vec<&str> {
        let (first, second) = match state {
            PoolState::Normal => (&self.primary, &self.mirror),
            PoolState::FailedOver => (&self.backup, &self.backup_mirror),
        };
        std::iter::once(first.as_str())
            .chain(second.as_deref())
            .collect()
    }

    pub fn holds(&self, instance: &str) -> bool {
        [
            Some(&self.primary),
            self.mirror.as_ref(),
            Some(&self.backup),
            self.backup_mirror.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|i| i == instance)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolState {
    Normal,
    FailedOver,
}

/// The users' side of a pool: what they were told was committed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    pub committed: u64,
    pub last_commit_at: u64,
    /// Transactions per minute accrue per second; this is the remainder
    /// (in transaction-sixtieths) not yet committed.
    pub carry: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRecord {
    pub fault: String,
    pub at: u64,
    pub effect: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurements {
    pub recoveries: Vec<Recovery>,
}

/// The RPO of one recovery: what the users had committed that the recovered
/// copy does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    pub at: u64,
    pub pool: String,
    pub instance: String,
    pub database: String,
    pub transactions_lost: u64,
    pub minutes_lost: f64,
}

impl LabState {
    /// Everything up, mgc mirrored and log-shipped as the estate describes, at t=0.
    pub fn from_estate(estate: &Estate) -> LabState {
        let f = &estate.file;
        let site_of = |server: &str| {
            f.servers
                .get(server)
                .map(|s| s.site.clone())
                .unwrap_or_default()
        };
        let mut state = LabState {
            estate: EstateRef {
                name: f.estate.name.clone(),
                sha256: estate.sha256.clone(),
            },
            clock: Clock {
                start: f.estate.lab_start.clone(),
                elapsed_seconds: 0,
                now: f.estate.lab_start.clone(),
            },
            sites: f
                .sites
                .keys()
                .map(|s| (s.clone(), SiteState { up: true }))
                .collect(),
            servers: f
                .servers
                .iter()
                .map(|(fqdn, s)| {
                    (
                        fqdn.clone(),
                        ServerState {
                            site: s.site.clone(),
                            role: s.role.clone(),
                            up: true,
                        },
                    )
                })
                .collect(),
            sql: f
                .sql
                .iter()
                .map(|(id, i)| {
                    let instance = SqlInstance {
                        server: i.server.clone(),
                        instance: i.instance.clone(),
                        site: site_of(&i.server),
                        up: true,
                        databases: BTreeMap::new(),
                        msdb: Msdb::default(),
                    };
                    (id.clone(), instance)
                })
                .collect(),
            folders: BTreeMap::new(),
            lync: Lync {
                persistent_chat: BTreeMap::new(),
            },
            workload: BTreeMap::new(),
            faults: Vec::new(),
            measurements: Measurements::default(),
        };
        for (pool, pc) in &f.persistent_chat {
            state.add_chat_pool(pool, pc);
        }
        state.set_elapsed(0);
        state
    }

    fn add_chat_pool(&mut self, pool: &str, pc: &crate::estate::PersistentChatPool) {
        let db = &pc.mgc;
        let ls = &pc.log_shipping;
        let fresh = |state| Database {
            state,
            mirroring: None,
            lsn: LSN_BASE,
            transactions: 0,
            last_transaction_at: 0,
            sessions: Vec::new(),
        };
        if let Some(primary) = self.sql.get_mut(&db.primary) {
            primary
                .databases
                .insert(CHAT_DATABASE.to_string(), fresh(DbState::Online));
        }
        if let Some(mirror) = &db.mirror {
            self.establish_mirroring(&db.primary, mirror, db.witness.as_deref(), CHAT_DATABASE);
        }
        // The doc configures the primary's mirror as a log-shipping primary
        // too, so shipping survives a mirror failover.
        for id in std::iter::once(&db.primary).chain(&db.mirror) {
            if let Some(instance) = self.sql.get_mut(id) {
                instance.msdb.log_shipping_primary.insert(
                    CHAT_DATABASE.to_string(),
                    LogShippingPrimary {
                        backup_directory: ls.share.clone(),
                        backup_job: format!("LSBackup_{CHAT_DATABASE}"),
                        every_minutes: ls.backup_every_minutes,
                        last_backup_file: None,
                        last_backup_lsn: LSN_BASE,
                    },
                );
            }
        }
        let primary_name = self.instance_name(&db.primary);
        if let Some(backup) = self.sql.get_mut(&db.backup) {
            // Initialized from a full backup at t=0, and an admin's SSMS
            // window left open on it: the procedure must end that session.
            let mut copy = fresh(DbState::Restoring);
            copy.sessions.push(Session {
                session_id: 61,
                login_name: "LITWARE\\sqladmin".to_string(),
                host_name: "ADMIN-WS07".to_string(),
                program_name: "Microsoft SQL Server Management Studio".to_string(),
            });
            backup.databases.insert(CHAT_DATABASE.to_string(), copy);
            backup.msdb.log_shipping_secondary.insert(
                CHAT_DATABASE.to_string(),
                LogShippingSecondary {
                    primary_instance: db.primary.clone(),
                    primary_database: CHAT_DATABASE.to_string(),
                    backup_source_directory: ls.share.clone(),
                    backup_destination_directory: ls.copy_folder.clone(),
                    copy_job: format!("LSCopy_{primary_name}_{CHAT_DATABASE}"),
                    restore_job: format!("LSRestore_{primary_name}_{CHAT_DATABASE}"),
                    copy_every_minutes: ls.copy_every_minutes,
                    restore_every_minutes: ls.restore_every_minutes,
                    last_copied_file: None,
                    last_copied_at: None,
                    last_restored_file: None,
                    last_restored_at: None,
                    restore_mode: 0,
                    restore_delay: 0,
                },
            );
        }
        for path in [&ls.share, &ls.copy_folder] {
            let server = unc_server(path).unwrap_or_default().to_string();
            self.folders
                .entry(path.clone())
                .or_insert_with(|| Folder::empty(server));
        }
        self.lync.persistent_chat.insert(
            pool.to_string(),
            ChatPool {
                state: PoolState::Normal,
                active_servers: pc.active_servers.clone(),
                servers: pc.servers.clone(),
                mgc: ChatTopology {
                    primary: db.primary.clone(),
                    mirror: db.mirror.clone(),
                    witness: db.witness.clone(),
                    backup: db.backup.clone(),
                    backup_mirror: db.backup_mirror.clone(),
                    backup_witness: db.backup_witness.clone(),
                },
                transactions_per_minute: pc.transactions_per_minute,
            },
        );
        self.workload.insert(pool.to_string(), Workload::default());
    }

    /// Seed `mirror` from `principal` and join them in a synchronous session,
    /// as Install-CsMirrorDatabase does. Missing instances are left alone.
    pub(super) fn establish_mirroring(
        &mut self,
        principal: &str,
        mirror: &str,
        witness: Option<&str>,
        database: &str,
    ) {
        let Some(source) = self
            .sql
            .get(principal)
            .and_then(|i| i.databases.get(database))
        else {
            return;
        };
        let seeded = Database {
            state: DbState::Restoring,
            mirroring: Some(Mirroring {
                role: MirrorRole::Mirror,
                partner: principal.to_string(),
                witness: witness.map(str::to_string),
                state: MirrorState::Synchronized,
                safety: Safety::Full,
            }),
            lsn: source.lsn,
            transactions: source.transactions,
            last_transaction_at: source.last_transaction_at,
            sessions: Vec::new(),
        };
        let Some(target) = self.sql.get_mut(mirror) else {
            return;
        };
        target.databases.insert(database.to_string(), seeded);
        if let Some(db) = self
            .sql
            .get_mut(principal)
            .and_then(|i| i.databases.get_mut(database))
        {
            db.mirroring = Some(Mirroring {
                role: MirrorRole::Principal,
                partner: mirror.to_string(),
                witness: witness.map(str::to_string),
                state: MirrorState::Synchronized,
                safety: Safety::Full,
            });
        }
    }

    /// Pretty JSON with a trailing newline: the lab file, and `lab show --json`.
    pub fn to_json(&self) -> String {
        // Cannot fail: every map key is a string and no float is computed
        // from anything but integers.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parse a lab file; the message names the line and column of a problem.
    pub fn from_json(text: &str) -> Result<LabState, String> {
        let state: LabState = serde_json::from_str(text).map_err(|e| {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = full.strip_suffix(&suffix).unwrap_or(&full);
            format!("line {}, column {}: {message}", e.line(), e.column())
        })?;
        if time::parse_rfc3339(&state.clock.start).is_none() {
            return Err(format!(
                "clock.start = {:?} is not a UTC time like \"2026-03-14T01:00:00Z\"",
                state.clock.start
            ));
        }
        Ok(state)
    }

    pub fn elapsed(&self) -> u64 {
        self.clock.elapsed_seconds
    }

    pub(super) fn set_elapsed(&mut self, seconds: u64) {
        self.clock.elapsed_seconds = seconds;
        self.clock.now = self.stamp(seconds);
    }

    /// The simulated epoch second at `elapsed` seconds into the lab.
    pub(super) fn epoch_at(&self, elapsed: u64) -> i64 {
        let start = time::parse_rfc3339(&self.clock.start).unwrap_or(0);
        start.saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX))
    }

    /// RFC 3339 of the simulated clock at `elapsed`: how msdb shows times.
    pub(super) fn stamp(&self, elapsed: u64) -> String {
        time::rfc3339(self.epoch_at(elapsed))
    }

    pub(super) fn server_up(&self, fqdn: &str) -> bool {
        self.servers.get(fqdn).is_some_and(|s| s.up)
    }

    /// Up, on a server that is up: something a client can connect to.
    pub(super) fn instance_up(&self, id: &str) -> bool {
        self.sql
            .get(id)
            .is_some_and(|i| i.up && self.server_up(&i.server))
    }

    /// `server\instance` of an instance id; the id itself if it is unknown.
    pub(super) fn instance_name(&self, id: &str) -> String {
        self.sql
            .get(id)
            .map_or_else(|| id.to_string(), SqlInstance::name)
    }

    pub(super) fn database(&self, instance: &str, database: &str) -> Option<&Database> {
        self.sql.get(instance)?.databases.get(database)
    }

    pub(super) fn database_mut(&mut self, instance: &str, database: &str) -> Option<&mut Database> {
        self.sql.get_mut(instance)?.databases.get_mut(database)
    }

    /// The instance whose mgc is the pool's current principal by role and
    /// state, whether or not it is reachable.
    pub(super) fn principal_of(&self, pool: &ChatPool) -> Option<String> {
        pool.mgc
            .candidates(pool.state)
            .into_iter()
            .find(|id| {
                self.database(id, CHAT_DATABASE)
                    .is_some_and(Database::is_principal_online)
            })
            .map(str::to_string)
    }

    /// The site the pool's primary mgc is in now: the principal's, or the
    /// designated primary's while no copy is principal.
    pub(super) fn primary_site(&self, pool: &ChatPool) -> String {
        let id = self.principal_of(pool).unwrap_or_else(|| match pool.state {
            PoolState::Normal => pool.mgc.primary.clone(),
            PoolState::FailedOver => pool.mgc.backup.clone(),
        });
        self.sql
            .get(&id)
            .map(|i| i.site.clone())
            .unwrap_or_default()
    }

    /// The instance users' writes go to, if they can write at all: the
    /// principal is reachable, keeps quorum, and an active server is up.
    pub(super) fn writer_of(&self, pool: &ChatPool) -> Option<String> {
        let id = self.principal_of(pool)?;
        if !self.instance_up(&id) || !pool.active_servers.iter().any(|s| self.server_up(s)) {
            return None;
        }
        // With a witness configured, a principal that sees neither its
        // partner nor the witness has lost quorum and stops serving.
        if let Some(m) = self
            .database(&id, CHAT_DATABASE)
            .and_then(|d| d.mirroring.as_ref())
        {
            if let Some(witness) = &m.witness {
                if !self.instance_up(&m.partner) && !self.instance_up(witness) {
                    return None;
                }
            }
        }
        Some(id)
    }

    /// Perform one op at the current time, then let its modeled duration
    /// pass: scheduled jobs run, users' workload does not.
    pub fn perform(&mut self, op: &Op) -> Performed {
        let size = match op {
            Op::CopyFile {
                from_folder, file, ..
            } => self.file_size(from_folder, file),
            Op::RestoreLog { file, .. } => self.file_size_at(file),
            _ => 0,
        };
        let result = match op {
            Op::ListFiles { .. } | Op::CopyFile { .. } => self.file_op(op),
            Op::Cmdlet { host, cmdlet, args } => self.cmdlet(host, cmdlet, args),
            Op::Wait { .. } => Ok(serde_json::Value::Null),
            // Manual effects are applied by the lab's effects model.
            Op::Manual { .. } => Ok(serde_json::Value::Null),
            _ => self.sql_op(op),
        };
        let sim_seconds = op.lab_seconds(size);
        self.pass(sim_seconds);
        Performed {
            result,
            sim_seconds,
        }
    }

    /// The error for a name the lab does not know.
    pub(super) fn not_simulated(
        what: &str,
        name: &str,
        known: impl Iterator<Item = String>,
    ) -> OpError {
        let known: Vec<String> = known.collect();
        OpError::NotSimulated {
            message: format!(
                "{what} `{name}` is not part of the lab estate (known: {})",
                known.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn from_estate_lays_out_mgc_as_the_stretched_pool_documents() {
        let lab = litware();
        assert_eq!(lab.clock.now, "2026-03-14T01:00:00Z");
        assert!(
            lab.sites.values().all(|s| s.up)
                && lab.servers.values().all(|s| s.up)
                && lab.sql.values().all(|i| i.up)
        );

        let mgc = |id: &str| lab.sql[id].databases.get("mgc");
        let primary = mgc("pcsql-red1").unwrap();
        let mirror = mgc("pcsql-red2").unwrap();
        let session = |role, partner: &str| Mirroring {
            role,
            partner: partner.into(),
            witness: Some("pcsql-redw".into()),
            state: MirrorState::Synchronized,
            safety: Safety::Full,
        };
        assert_eq!(
            (primary.state, primary.lsn, primary.transactions),
            (DbState::Online, LSN_BASE, 0)
        );
        assert_eq!(
            primary.mirroring,
            Some(session(MirrorRole::Principal, "pcsql-red2"))
        );
        assert_eq!((mirror.state, mirror.lsn), (DbState::Restoring, LSN_BASE));
        assert_eq!(
            mirror.mirroring,
            Some(session(MirrorRole::Mirror, "pcsql-red1"))
        );

        let backup = mgc("pcsql-dub1").unwrap();
        assert_eq!(
            (backup.state, backup.lsn, backup.mirroring.is_none()),
            (DbState::Restoring, LSN_BASE, true)
        );
        assert_eq!(
            backup
                .sessions
                .iter()
                .map(|s| s.session_id)
                .collect::<Vec<_>>(),
            vec![61]
        );
        assert!(mgc("pcsql-dub2").is_none());

        for id in ["pcsql-red1", "pcsql-red2"] {
            let p = &lab.sql[id].msdb.log_shipping_primary["mgc"];
            assert_eq!(
                (
                    p.backup_directory.as_str(),
                    p.backup_job.as_str(),
                    p.every_minutes
                ),
                (SHARE, "LSBackup_mgc", 5)
            );
        }
        let s = &lab.sql["pcsql-dub1"].msdb.log_shipping_secondary["mgc"];
        assert_eq!(s.copy_job, "LSCopy_pcsql-red1.litwareinc.com\\pchat_mgc");
        assert_eq!(
            (
                s.backup_destination_directory.as_str(),
                s.restore_mode,
                s.restore_delay
            ),
            (COPY, 0, 0)
        );
        assert_eq!(lab.folders[SHARE].server, "fs-dub1.litwareinc.com");
        assert!(lab
            .folders
            .values()
            .all(|f| f.reachable && f.files.is_empty()));

        let pool = &lab.lync.persistent_chat[POOL];
        assert_eq!(
            (pool.state, pool.transactions_per_minute),
            (PoolState::Normal, 120)
        );
        assert_eq!(lab.workload[POOL], Workload::default());
    }

    #[test]
    fn enums_print_as_sql_server_and_lync_do() {
        assert_eq!(DbState::RecoveryPending.to_string(), "RECOVERY_PENDING");
        assert_eq!(MirrorState::Synchronized.to_string(), "SYNCHRONIZED");
        assert_eq!(PoolState::FailedOver.to_string(), "FailedOver");
    }
}
