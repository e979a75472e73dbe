//! The estate file's schema: what a TOML estate file may say, as serde types.
//!
//! Closed choices (server roles, pool editions and platforms, Back End HA,
//! mirroring modes, DNS record types) are enums spelled as the file spells
//! them, so a value outside the list is a TOML error at its line and column,
//! before any rule runs. Unknown keys are errors too (`deny_unknown_fields`).
//!
//! The live target's settings (`[sql.ID]`'s connection keys and `[live]`)
//! are carried here as `Settings`, keys and values with their place in the
//! file, without being read: `live::config` gives them types and checks
//! them, so the estate knows nothing of TLS or shells and the lab, which is
//! built from the estate, never depends on the live target.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use toml::Spanned;

/// A closed choice of the estate file: an enum whose variants serialize as
/// the file spells them, with the spellings at hand for messages.
macro_rules! choice {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every choice, in the order the documentation lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling the estate file uses.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The choice spelled exactly `text`.
            pub fn from_name(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|c| c.as_str() == text)
            }

            /// The spellings as `a, b`, for messages.
            pub fn names() -> String {
                Self::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstateFile {
    pub estate: Info,
    pub sites: BTreeMap<String, Site>,
    #[serde(default)]
    pub servers: BTreeMap<String, Server>,
    #[serde(default)]
    pub sql: BTreeMap<String, SqlInstance>,
    #[serde(default)]
    pub persistent_chat: BTreeMap<String, PersistentChatPool>,
    /// Front End pools, by pool FQDN.
    #[serde(default)]
    pub pools: BTreeMap<String, FrontEndPool>,
    /// Edge pools, by pool FQDN.
    #[serde(default)]
    pub edge_pools: BTreeMap<String, EdgePool>,
    #[serde(default)]
    pub backup_service: BackupService,
    /// DNS records the procedures change (A and SRV), one per name and type.
    #[serde(default)]
    pub dns: Vec<DnsRecord>,
    /// `[live]`: how the live target reaches the estate's shell and shares
    /// (read by `live::config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<Settings>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Info {
    pub name: String,
    pub domain: String,
    /// Where the lab clock starts (UTC, RFC 3339).
    #[serde(default = "default_lab_start")]
    pub lab_start: String,
    /// Which of the two documented Set-CsSite parameters for the XMPP route
    /// the deployment's Management Shell takes (PROCEDURES.md §4). The lab
    /// answers in that form; runbooks probe the shell (`lync::has_parameter`),
    /// so the live target never reads it.
    #[serde(default, skip_serializing_if = "XmppRouteParameter::is_reference")]
    pub xmpp_route_parameter: XmppRouteParameter,
}

choice! {
    /// The Set-CsSite parameter that sets a site's XMPP federation route.
    #[derive(Default)]
    XmppRouteParameter {
        /// The cmdlet reference's `-XmppFederationRoute EdgeServer:<Edge pool>`.
        #[default]
        XmppFederationRoute = "XmppFederationRoute",
        /// The DR topic's (JJ688065) `-XmppExternalFederationRoute <Edge server FQDN>`.
        XmppExternalFederationRoute = "XmppExternalFederationRoute",
    }
}

impl XmppRouteParameter {
    /// The cmdlet reference's form, the default.
    pub fn is_reference(&self) -> bool {
        *self == XmppRouteParameter::XmppFederationRoute
    }
}

fn default_lab_start() -> String {
    "2026-01-01T00:00:00Z".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    #[serde(default)]
    pub description: String,
    /// Where Lync Management Shell cmdlets run when this site is the one acting.
    pub management_host: String,
    /// The Edge pool (FQDN) the site routes XMPP federation through; one
    /// site of the estate holds the route.
    #[serde(default)]
    pub xmpp_federation_route: Option<String>,
    /// Sites this one has a low-latency, high-bandwidth connection to:
    /// active Persistent Chat servers may sit there as well as in the
    /// primary database's data center (Failing over Persistent Chat, step 7).
    /// Either side naming the other marks the link.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub low_latency_to: Vec<String>,
}

impl EstateFile {
    /// The same site, or a link either site marks low-latency.
    pub fn low_latency(&self, a: &str, b: &str) -> bool {
        let marks = |x: &str, y: &str| {
            self.sites
                .get(x)
                .is_some_and(|s| s.low_latency_to.iter().any(|t| t == y))
        };
        a == b || marks(a, b) || marks(b, a)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub site: String,
    pub role: Role,
}

choice! {
    /// What a server of the estate is.
    Role {
        FrontEnd = "front-end",
        PersistentChat = "persistent-chat",
        Sql = "sql",
        FileServer = "file-server",
        Edge = "edge",
    }
}

/// One SQL Server instance: where it runs and what it is. The keys the live
/// target connects with (`host`, `port`, `encryption`, `login`, ...) share
/// the table and are kept, unread, in `connection`.
#[derive(Debug, Clone)]
pub struct SqlInstance {
    pub server: String,
    /// Named instance; absent for the default instance.
    pub instance: Option<String>,
    /// SQL Server version, e.g. "2012" or "2008 R2".
    pub version: Option<String>,
    /// SQL Server edition, e.g. "Enterprise".
    pub edition: Option<String>,
    /// Every other key of `[sql.ID]`: the connection settings `live::config` reads.
    pub connection: Settings,
}

impl<'de> Deserialize<'de> for SqlInstance {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = SqlInstance;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a SQL instance table")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SqlInstance, A::Error> {
                let mut server = None;
                let (mut instance, mut version, mut edition) = (None, None, None);
                let mut connection = Settings::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    match key.get_ref().as_str() {
                        "server" => server = Some(map.next_value()?),
                        "instance" => instance = map.next_value()?,
                        "version" => version = map.next_value()?,
                        "edition" => edition = map.next_value()?,
                        _ => connection.0.push((key, map.next_value()?)),
                    }
                }
                Ok(SqlInstance {
                    server: server.ok_or_else(|| serde::de::Error::missing_field("server"))?,
                    instance,
                    version,
                    edition,
                    connection,
                })
            }
        }
        d.deserialize_map(Fields)
    }
}

impl Serialize for SqlInstance {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("server", &self.server)?;
        for (key, value) in [
            ("instance", &self.instance),
            ("version", &self.version),
            ("edition", &self.edition),
        ] {
            if let Some(v) = value {
                map.serialize_entry(key, v)?;
            }
        }
        for (key, value) in &self.connection.0 {
            map.serialize_entry(key.get_ref(), value.get_ref())?;
        }
        map.end()
    }
}

/// Keys of a table the estate carries for another part to read, each with
/// its span in the file so that part's errors can name line and column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings(pub Vec<(Spanned<String>, Spanned<toml::Value>)>);

impl Settings {
    /// Settings made by a program rather than read from a file (no spans).
    pub fn from_table(table: toml::Table) -> Settings {
        Settings(
            table
                .into_iter()
                .map(|(k, v)| (Spanned::new(0..0, k), Spanned::new(0..0, v)))
                .collect(),
        )
    }
}

impl<'de> Deserialize<'de> for Settings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Settings;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Settings, A::Error> {
                let mut out = Settings::default();
                while let Some(entry) = map.next_entry()? {
                    out.0.push(entry);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Entries)
    }
}

impl Serialize for Settings {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key.get_ref(), value.get_ref())?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersistentChatPool {
    pub servers: Vec<String>,
    pub active_servers: Vec<String>,
    #[serde(default = "default_tx_per_minute")]
    pub transactions_per_minute: u64,
    pub mgc: ChatDatabase,
    pub log_shipping: LogShipping,
}

fn default_tx_per_minute() -> u64 {
    60
}

/// Where one Persistent Chat database lives: the stretched-pool layout.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatDatabase {
    pub primary: String,
    #[serde(default)]
    pub mirror: Option<String>,
    #[serde(default)]
    pub witness: Option<String>,
    pub backup: String,
    #[serde(default)]
    pub backup_mirror: Option<String>,
    #[serde(default)]
    pub backup_witness: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogShipping {
    /// UNC path the primary backs its log up to.
    pub share: String,
    /// UNC path the secondary copies to and restores from.
    pub copy_folder: String,
    pub backup_every_minutes: u64,
    pub copy_every_minutes: u64,
    pub restore_every_minutes: u64,
    /// How long the backup job keeps a log backup in the share before it
    /// deletes it, copied or not (`backup_retention_period`).
    #[serde(default = "default_retention_minutes")]
    pub backup_retention_minutes: u64,
    /// How long the restore job keeps a restored backup in the copy folder
    /// (`file_retention_period`).
    #[serde(default = "default_retention_minutes")]
    pub file_retention_minutes: u64,
}

/// SQL Server Management Studio's default for both: 72 hours.
pub fn default_retention_minutes() -> u64 {
    72 * 60
}

/// A Front End pool: where users are homed, its back end, its pairing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontEndPool {
    pub site: String,
    pub edition: Edition,
    pub platform: Platform,
    pub os: String,
    /// The paired pool (set only in Topology Builder); pairing is mutual.
    #[serde(default)]
    pub backup_pool: Option<String>,
    /// Exactly one pool of an estate with pools hosts the Central Management Store.
    #[serde(default)]
    pub hosts_cms: bool,
    /// "Associate Edge Pool (for media components)".
    #[serde(default)]
    pub edge_pool: Option<String>,
    /// Servers with role front-end, in the pool's site.
    pub front_ends: Vec<String>,
    /// Users homed on the pool.
    #[serde(default)]
    pub users: u64,
    /// User-data changes (contacts, presence) per minute that the Backup Service replicates.
    #[serde(default)]
    pub changes_per_minute: u64,
    pub back_end: BackEnd,
}

choice! {
    /// A Front End pool's Lync Server edition.
    Edition {
        Enterprise = "enterprise",
        Standard = "standard",
    }
}

choice! {
    /// Whether a pool's servers are physical or virtual machines.
    Platform {
        Physical = "physical",
        Virtual = "virtual",
    }
}

/// A pool's Back End SQL: principal, optional mirror and witness, by SQL instance id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackEnd {
    pub ha: BackEndHa,
    /// Synchronous unless the file says otherwise (asynchronous is not
    /// supported; estate-check reports it).
    #[serde(default)]
    pub mirroring: Option<MirroringMode>,
    pub principal: String,
    #[serde(default)]
    pub mirror: Option<String>,
    #[serde(default)]
    pub witness: Option<String>,
}

impl BackEnd {
    /// The mirroring mode in effect: synchronous unless the file says otherwise.
    pub fn mirroring_mode(&self) -> MirroringMode {
        self.mirroring.unwrap_or(MirroringMode::Synchronous)
    }
}

choice! {
    /// How a pool's Back End is made highly available.
    BackEndHa {
        Mirroring = "mirroring",
        Cluster = "cluster",
        None = "none",
    }
}

choice! {
    /// SQL Server mirroring's transaction safety.
    MirroringMode {
        Synchronous = "synchronous",
        Asynchronous = "asynchronous",
    }
}

/// An Edge pool: its servers, the federation (5061) flag and its next-hop pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgePool {
    pub site: String,
    /// Servers with role edge, in the pool's site.
    pub servers: Vec<String>,
    /// "Enable federation for this Edge pool (Port 5061)".
    #[serde(default)]
    pub federation: bool,
    /// The Front End pool the Edge pool sends traffic to.
    pub next_hop: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupService {
    /// `hh:mm:ss`, between 00:00:05 and 03:00:00.
    #[serde(default = "default_sync_interval")]
    pub sync_interval: String,
}

impl Default for BackupService {
    fn default() -> Self {
        BackupService {
            sync_interval: default_sync_interval(),
        }
    }
}

fn default_sync_interval() -> String {
    "00:02:00".to_string()
}

/// One DNS record: `A` (target = the host it resolves to) or `SRV`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: DnsType,
    pub target: String,
    /// SRV only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// SRV only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u16>,
}

choice! {
    /// The DNS record types the procedures change.
    DnsType {
        A = "A",
        Srv = "SRV",
    }
}
