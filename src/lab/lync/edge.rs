//! Edge pools and federation: each Edge pool's servers, services, the
//! federation (5061) flag and next-hop pool; the one site's XMPP route.
//! Whether an Edge pool runs is derived in `derive.rs`; the Edge cmdlets
//! (§3.8–3.11) are in `cmdlets/edge.rs`.

use crate::lab::network::Network;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// The Edge server the route names, where the shell's parameter takes
    /// a server (`-XmppExternalFederationRoute`); Get-CsSite shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_server: Option<String>,
}

impl EdgePoolState {
    /// `server` is up with none of its services stopped.
    pub(in crate::lab) fn server_running(&self, server: &str, net: &Network) -> bool {
        net.server_up(server) && self.services_stopped.get(server).is_none_or(Vec::is_empty)
    }

    /// Some server of the pool is up with its services running.
    pub(in crate::lab) fn running(&self, net: &Network) -> bool {
        self.servers.iter().any(|s| self.server_running(s, net))
    }
}
