//! Lync Server 2013 as the lab simulates it.

pub(in crate::lab) mod backup_service;
pub(in crate::lab) mod cms;
pub(in crate::lab) mod edge;
pub(in crate::lab) mod persistent_chat;
pub(in crate::lab) mod pools;

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
