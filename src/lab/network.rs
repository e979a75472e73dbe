//! The network: sites, the links between them, and the servers in them.
//! Who can reach whom is decided here and nowhere else: a server is
//! reachable when it is up (its site's state is applied to its servers by
//! the faults that take a site down), and two sites talk while their link is up.

use crate::lab::LabState;
use serde::{Deserialize, Serialize};

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

impl LabState {
    pub(in crate::lab) fn server_up(&self, fqdn: &str) -> bool {
        self.servers.get(fqdn).is_some_and(|s| s.up)
    }
}
