//! The lab state: everything the simulation knows about the estate, as plain
//! data that serializes to the lab file.
//!
//! Every map is a `BTreeMap` and every list keeps insertion order, so the same
//! estate and the same sequence of calls always give byte-identical JSON. The
//! file may be edited by hand: nothing here assumes that a name it holds
//! resolves, and unknown names surface as op errors, never as panics.

use crate::estate::Estate;
use crate::lab::files::Folder;
use crate::op::{unc_server, Op};
use crate::targets::{OpError, Performed};
use crate::time;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The first LSN of every Persistent Chat database the lab creates: a value
/// of the size SQL Server shows, so runbooks see realistic numbers.
pub const LSN_BASE: i64 = 34_000_000_010_000_001;
/// Each committed transaction moves the log this far.
pub const LSN_PER_TRANSACTION: i64 = 10;
/// How long a cmdlet takes to refuse (a Cmdlet error), at most.
pub const REFUSAL_SECONDS: u64 = 5;
/// The one Persistent Chat database the lab fails over; mgccomp never is.
pub const CHAT_DATABASE: &str = "mgc";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabState {
    pub estate: EstateRef,
    pub clock: Clock,
    pub sites: BTreeMap<String, SiteState>,
    /// The network between two sites, keyed `a-b` with the names in order.
    #[serde(default)]
    pub links: BTreeMap<String, LinkState>,
    pub servers: BTreeMap<String, ServerState>,
    pub sql: BTreeMap<String, SqlInstance>,
    pub folders: BTreeMap<String, Folder>,
    pub lync: Lync,
    pub workload: BTreeMap<String, Workload>,
    pub faults: Vec<FaultRecord>,
    pub measurements: Measurements,
    /// Manual steps whose documented effect the lab applied, in order.
    #[serde(default)]
    pub manual_effects: Vec<ManualRecord>,
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
pub struct LinkState {
    pub up: bool,
}

/// The key of the link between two sites: `a-b`, names in order.
pub fn link_key(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a}-{b}")
    } else {
        format!("{b}-{a}")
    }
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

impl LogShippingPrimary {
    /// mgc backing its log up to `share` every `every_minutes`, the chain
    /// starting at `lsn` (the full backup the secondary was initialized from).
    pub fn chat(share: &str, every_minutes: u64, lsn: i64) -> Self {
        LogShippingPrimary {
            backup_directory: share.to_string(),
            backup_job: format!("LSBackup_{CHAT_DATABASE}"),
            every_minutes,
            last_backup_file: None,
            last_backup_lsn: lsn,
        }
    }
}

impl LogShippingSecondary {
    /// A secondary just initialized from a full backup of `primary_instance`
    /// (`primary_name` is its SQL name, for the default job names): nothing
    /// copied or restored yet, restores WITH NORECOVERY and no delay.
    pub fn initialized(
        primary_instance: &str,
        primary_name: &str,
        (share, copy_folder): (&str, &str),
        (copy_every_minutes, restore_every_minutes): (u64, u64),
    ) -> Self {
        LogShippingSecondary {
            primary_instance: primary_instance.to_string(),
            primary_database: CHAT_DATABASE.to_string(),
            backup_source_directory: share.to_string(),
            backup_destination_directory: copy_folder.to_string(),
            copy_job: format!("LSCopy_{primary_name}_{CHAT_DATABASE}"),
            restore_job: format!("LSRestore_{primary_name}_{CHAT_DATABASE}"),
            copy_every_minutes,
            restore_every_minutes,
            last_copied_file: None,
            last_copied_at: None,
            last_restored_file: None,
            last_restored_at: None,
            restore_mode: 0,
            restore_delay: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreHistory {
    pub database: String,
    pub file: String,
    pub at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lync {
    pub persistent_chat: BTreeMap<String, ChatPool>,
    /// Front End pools by FQDN.
    #[serde(default)]
    pub pools: BTreeMap<String, FePool>,
    /// The Central Management Store; none in an estate without pools.
    #[serde(default)]
    pub cms: Option<Cms>,
    #[serde(default)]
    pub backup_service: BackupServiceState,
    #[serde(default)]
    pub edge_pools: BTreeMap<String, EdgePoolState>,
    /// The one site's XMPP federation route.
    #[serde(default)]
    pub xmpp_route: Option<XmppRoute>,
    #[serde(default)]
    pub dns: Vec<crate::estate::DnsRecord>,
    /// Firewall ports as the operator reported them (`firewall` manual effect).
    #[serde(default)]
    pub firewall: BTreeMap<String, bool>,
}

/// A Front End pool: topology, health, where its users are served, and
/// the state of their data between it and its backup pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FePool {
    pub site: String,
    pub backup_pool: Option<String>,
    /// Normal, or FailedOver: its users are served by the backup pool.
    pub state: PoolState,
    /// Some front end is up.
    pub up: bool,
    /// The active Central Management Store master is in this pool.
    pub hosts_cms: bool,
    /// A planned failover made the pool read-only until it fails back.
    pub read_only: bool,
    pub back_end: BackEndState,
    pub users: PoolUsers,
    /// "Associate Edge Pool (for media components)".
    pub edge_pool: Option<String>,
    /// The latest LIS backup was restored into this pool (§3.4 step 3).
    pub lis_restored: bool,
    pub conference_content: ConferenceContent,
    pub data: PoolData,
    pub front_ends: Vec<String>,
    pub edition: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackEndState {
    /// `mirroring`, `cluster` or `none`.
    pub ha: String,
    /// The topology's primary, mirror and witness (SQL instance ids).
    pub principal: String,
    pub mirror: Option<String>,
    pub witness: Option<String>,
    /// The instance whose User databases hold the principal role now.
    pub current_principal: Option<String>,
    /// Every User database is served: principal online, up, with quorum.
    pub available: bool,
    pub unavailable_since: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolUsers {
    pub homed: u64,
    /// The pool their sessions and data are served by now.
    pub served_by: String,
    pub resiliency_mode: bool,
    pub resiliency_since: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConferenceContent {
    pub in_sync: bool,
}

/// The pool's users' data (contacts, presence, conferences): what the users
/// made, and what each copy holds — the home pool's Back End and the backup
/// pool's — that the Backup Service replicates between.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolData {
    /// Changes users made, as they see them.
    pub changes: u64,
    pub last_change_at: u64,
    pub changes_per_minute: u64,
    pub home_copy: DataCopy,
    pub backup_copy: DataCopy,
    /// Changes-per-minute accrue per second; the remainder in sixtieths.
    pub carry: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCopy {
    pub changes: u64,
    /// When the last change this copy holds was made.
    pub last_change_at: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cms {
    /// The pool where the active master runs.
    pub active_pool: String,
    /// Its backup pool, where the standby copy lives.
    pub standby_pool: Option<String>,
    /// One replica per front end and Edge server.
    pub replicas: BTreeMap<String, Replica>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    pub up_to_date: bool,
    /// When it stopped being up to date; none while it is.
    pub stale_since: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupServiceState {
    /// `hh:mm:ss`.
    pub sync_interval: String,
    /// `P1->P2` → module identity → status of that direction.
    pub directions: BTreeMap<String, BTreeMap<String, ModuleStatus>>,
}

impl Default for BackupServiceState {
    fn default() -> Self {
        BackupServiceState {
            sync_interval: "00:02:00".to_string(),
            directions: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleStatus {
    pub export: ExportStatus,
    pub import: ImportStatus,
    /// When this module last exported successfully in this direction.
    pub last_export_at: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ExportStatus {
    FinalState,
    SteadyState,
    NotInitialized,
    NonSteadyState,
    ErrorState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ImportStatus {
    NormalState,
    ErrorState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgePoolState {
    pub site: String,
    /// Some server is up.
    pub up: bool,
    /// "Enable federation (5061)" as published in the topology.
    pub federation: bool,
    pub next_hop: String,
    /// Every server is up with all its services running.
    pub services_running: bool,
    pub servers: Vec<String>,
    /// The federation flag as the Edge servers apply it: set from the
    /// topology when setup runs again on them (`edge-setup`).
    pub federation_applied: bool,
    /// Services stopped per server (`*` = all of them).
    pub services_stopped: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XmppRoute {
    pub site: String,
    pub edge_pool: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatPool {
    pub state: PoolState,
    pub active_servers: Vec<String>,
    pub servers: Vec<String>,
    pub mgc: ChatTopology,
    pub transactions_per_minute: u64,
    /// The log-shipping configuration of the topology, for re-creating it.
    #[serde(default)]
    pub log_shipping: Option<crate::estate::LogShipping>,
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
    #[serde(default)]
    pub pool_failovers: Vec<PoolFailover>,
}

/// The RPO of one pool failover or failback: the users' changes the copy
/// that serves them from now on does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolFailover {
    pub at: u64,
    /// The pool whose users moved (the cmdlet's -PoolFqdn).
    pub pool: String,
    /// The pool serving them now.
    pub to: String,
    /// `failover` or `failback`.
    pub kind: String,
    pub disaster_mode: bool,
    pub changes_lost: u64,
    /// From the last change the new copy holds to the last change users made.
    pub minutes_lost: f64,
}

/// A manual step's effect as the lab applied it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualRecord {
    pub at: u64,
    pub effect: Value,
    pub seconds: u64,
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
            links: BTreeMap::new(),
            folders: BTreeMap::new(),
            lync: Lync::default(),
            workload: BTreeMap::new(),
            faults: Vec::new(),
            measurements: Measurements::default(),
            manual_effects: Vec::new(),
        };
        let sites: Vec<&String> = f.sites.keys().collect();
        for (i, a) in sites.iter().enumerate() {
            for b in &sites[i + 1..] {
                state.links.insert(link_key(a, b), LinkState { up: true });
            }
        }
        for (pool, pc) in &f.persistent_chat {
            state.add_chat_pool(pool, pc);
        }
        state.add_lync_topology(f);
        state.set_elapsed(0);
        state.refresh();
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
                    LogShippingPrimary::chat(&ls.share, ls.backup_every_minutes, LSN_BASE),
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
                LogShippingSecondary::initialized(
                    &db.primary,
                    &primary_name,
                    (&ls.share, &ls.copy_folder),
                    (ls.copy_every_minutes, ls.restore_every_minutes),
                ),
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
                log_shipping: Some(pc.log_shipping.clone()),
            },
        );
        self.workload.insert(pool.to_string(), Workload::default());
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

    pub(in crate::lab) fn server_up(&self, fqdn: &str) -> bool {
        self.servers.get(fqdn).is_some_and(|s| s.up)
    }

    /// Up, on a server that is up: something a client can connect to.
    pub(in crate::lab) fn instance_up(&self, id: &str) -> bool {
        self.sql
            .get(id)
            .is_some_and(|i| i.up && self.server_up(&i.server))
    }

    /// `server\instance` of an instance id; the id itself if it is unknown.
    pub(in crate::lab) fn instance_name(&self, id: &str) -> String {
        self.sql
            .get(id)
            .map_or_else(|| id.to_string(), SqlInstance::name)
    }

    pub(in crate::lab) fn database(&self, instance: &str, database: &str) -> Option<&Database> {
        self.sql.get(instance)?.databases.get(database)
    }

    pub(in crate::lab) fn database_mut(
        &mut self,
        instance: &str,
        database: &str,
    ) -> Option<&mut Database> {
        self.sql.get_mut(instance)?.databases.get_mut(database)
    }

    /// The instance whose mgc is the pool's current principal by role and
    /// state, whether or not it is reachable.
    pub(in crate::lab) fn principal_of(&self, pool: &ChatPool) -> Option<String> {
        pool.mgc
            .candidates(pool.state)
            .into_iter()
            .find(|id| {
                self.database(id, CHAT_DATABASE)
                    .is_some_and(Database::is_principal_online)
            })
            .map(str::to_string)
    }

    /// The site the pool's primary mgc is in now: the principal's for the
    /// pool state; else any copy that is principal (during failback, §3.13,
    /// the restored primary is live before the pool returns to Normal, and
    /// its servers are made active first); else the designated primary's.
    pub(in crate::lab) fn primary_site(&self, pool: &ChatPool) -> String {
        let any_principal = || {
            [PoolState::Normal, PoolState::FailedOver]
                .into_iter()
                .flat_map(|s| pool.mgc.candidates(s))
                .find(|id| {
                    self.database(id, CHAT_DATABASE)
                        .is_some_and(Database::is_principal_online)
                })
                .map(str::to_string)
        };
        let id = self
            .principal_of(pool)
            .or_else(any_principal)
            .unwrap_or_else(|| match pool.state {
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
    pub(in crate::lab) fn writer_of(&self, pool: &ChatPool) -> Option<String> {
        let id = self.principal_of(pool)?;
        if !self.instance_up(&id) || !pool.active_servers.iter().any(|s| self.server_up(s)) {
            return None;
        }
        // With a witness configured, a principal that sees neither its
        // partner nor the witness has lost quorum and stops serving.
        if !self.has_quorum(&id, CHAT_DATABASE) {
            return None;
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
            Op::RestoreLog { file, .. } | Op::RestoreDatabase { file, .. } => {
                self.file_size_at(file)
            }
            Op::BackupDatabase {
                instance, database, ..
            } => self.full_backup_size(instance, database),
            _ => 0,
        };
        let result = match op {
            Op::ListFiles { .. } | Op::CopyFile { .. } => self.file_op(op),
            Op::Cmdlet { host, cmdlet, args } => self.cmdlet(host, cmdlet, args),
            Op::Wait { .. } => Ok(serde_json::Value::Null),
            Op::Manual { effect, .. } if !effect.is_null() => {
                // Each effect lets its own modeled time pass.
                return match self.manual_effects(effect) {
                    Ok(seconds) => Performed {
                        result: Ok(serde_json::Value::Null),
                        sim_seconds: seconds,
                    },
                    Err(e) => Performed {
                        result: Err(OpError::NotSimulated {
                            message: e.to_string(),
                        }),
                        sim_seconds: 0,
                    },
                };
            }
            Op::Manual { .. } => Ok(serde_json::Value::Null),
            _ => self.sql_op(op),
        };
        // Derived state (pool health, resiliency, statuses) follows at once.
        self.refresh();
        // A cmdlet that refuses does so after its prechecks, not after the
        // work it would have done.
        let sim_seconds = match &result {
            Err(OpError::Cmdlet { .. }) => op.lab_seconds(size).min(REFUSAL_SECONDS),
            _ => op.lab_seconds(size),
        };
        // Waiting is time in normal operation; any other op is procedure time.
        if matches!(op, Op::Wait { .. }) {
            self.pass(sim_seconds);
        } else {
            self.pass_quietly(sim_seconds);
        }
        Performed {
            result,
            sim_seconds,
        }
    }

    /// A manual step's documented effect: one effect object, or a list of
    /// them applied in order (all or nothing).
    fn manual_effects(&mut self, effect: &serde_json::Value) -> crate::error::Result<u64> {
        let effects: Vec<&serde_json::Value> = match effect {
            serde_json::Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let mut next = self.clone();
        let mut seconds = 0;
        for e in effects {
            seconds += next.manual_effect(e)?;
        }
        *self = next;
        Ok(seconds)
    }

    /// The error for a name the lab does not know.
    pub(in crate::lab) fn not_simulated(
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
    use super::*;
    use crate::lab::fixtures::*;

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
