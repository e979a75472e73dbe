//! Lync Server 2013 as the lab simulates it: Front End pools (`pools`), the
//! Central Management Store (`cms`), the Backup Service between paired pools
//! (`backup_service`), Edge pools and the XMPP route (`edge`) and Persistent
//! Chat (`persistent_chat`). Each part holds its state and the rules that
//! belong to it alone; the cmdlets that change them are in `cmdlets/`, and
//! what follows from other parts (pool health, resiliency, replica and
//! Backup Service statuses) in `derive.rs`.
//!
//! The database types below are Lync's view of SQL Server: which databases
//! Lync installs on a Back End for each type, and so which mirroring
//! sessions a Lync mirroring cmdlet acts on.

pub(in crate::lab) mod backup_service;
pub(in crate::lab) mod cms;
pub(in crate::lab) mod edge;
pub(in crate::lab) mod persistent_chat;
pub(in crate::lab) mod pools;

use crate::lab::CHAT_DATABASE;
use crate::lab::{BackupServiceState, ChatPool, Cms, EdgePoolState, FePool, XmppRoute};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// The Set-CsSite parameter that sets it on this estate's shell (the
    /// estate's `xmpp_route_parameter`, PROCEDURES.md §4).
    #[serde(default)]
    pub xmpp_route_parameter: crate::estate::XmppRouteParameter,
    #[serde(default)]
    pub dns: Vec<crate::estate::DnsRecord>,
    /// Firewall ports as the operator reported them (`firewall` manual effect).
    #[serde(default)]
    pub firewall: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolState {
    Normal,
    FailedOver,
}

/// The databases of each Back End database type, as Lync 2013 installs them.
pub const USER_DATABASES: [&str; 3] = ["rtcxds", "rtcshared", "rtcab"];
pub const APPLICATION_DATABASES: [&str; 3] = ["rgsconfig", "rgsdyn", "cpsdyn"];
pub const CMS_DATABASES: [&str; 2] = ["xds", "lis"];

/// A `-DatabaseType` the lab holds databases of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbType {
    User,
    Application,
    CentralMgmt,
    PersistentChat,
    PersistentChatCompliance,
}

impl DbType {
    pub const ALL: [DbType; 5] = [
        DbType::User,
        DbType::Application,
        DbType::CentralMgmt,
        DbType::PersistentChat,
        DbType::PersistentChatCompliance,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DbType::User => "User",
            DbType::Application => "Application",
            DbType::CentralMgmt => "CentralMgmt",
            DbType::PersistentChat => "PersistentChat",
            DbType::PersistentChatCompliance => "PersistentChatCompliance",
        }
    }

    pub fn parse(text: &str) -> Option<DbType> {
        DbType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(text.trim()))
    }

    /// The databases of the type the lab models (it does not model mgccomp).
    pub fn databases(self) -> &'static [&'static str] {
        match self {
            DbType::User => &USER_DATABASES,
            DbType::Application => &APPLICATION_DATABASES,
            DbType::CentralMgmt => &CMS_DATABASES,
            DbType::PersistentChat => &[CHAT_DATABASE],
            DbType::PersistentChatCompliance => &[],
        }
    }
}

/// Database types Lync knows that hold no database in the lab.
pub const UNMODELED_DB_TYPES: [&str; 4] = ["Archiving", "Monitoring", "Edge", "Registrar"];
