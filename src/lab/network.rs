//! The network: sites, the links between them, and the servers in them.
//!
//! Who can reach whom is decided here and nowhere else: a server is
//! reachable while it is up (the faults that take a site down take its
//! servers down with it), and two sites talk while the link between them is
//! up; a pair of sites with no link on record is taken to be linked, so a lab
//! file from before links were modeled still loads and behaves as it did.
//! Other parts ask through [`Network`], a borrowed view they take as an
//! argument, never by reading the maps themselves.

use crate::lab::keyed::keyed_part;
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
    /// The estate marks it low-latency, high-bandwidth (`low_latency_to`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub low_latency: bool,
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

keyed_part!(
    /// Servers by FQDN.
    Servers,
    ServerState
);

keyed_part!(
    /// The network between two sites, keyed `a-b` with the names in order.
    Links,
    LinkState
);

/// Who can reach whom: what every other part needs to know of the network.
#[derive(Clone, Copy)]
pub(in crate::lab) struct Network<'a> {
    servers: &'a Servers,
    links: &'a Links,
}

impl<'a> Network<'a> {
    pub(in crate::lab) fn new(servers: &'a Servers, links: &'a Links) -> Self {
        Network { servers, links }
    }

    pub(in crate::lab) fn server_up(&self, fqdn: &str) -> bool {
        self.servers.get(fqdn).is_some_and(|s| s.up)
    }

    /// The site a server is in, if the lab knows the server.
    pub(in crate::lab) fn site_of(&self, fqdn: &str) -> Option<&'a str> {
        self.servers.get(fqdn).map(|s| s.site.as_str())
    }

    /// The same site, or a link the estate marks low-latency, high-bandwidth
    /// (where active Persistent Chat servers may also sit).
    pub(in crate::lab) fn low_latency(&self, a: &str, b: &str) -> bool {
        a == b
            || self
                .links
                .get(&link_key(a, b))
                .is_some_and(|l| l.low_latency)
    }

    /// Sites can talk: the same site, or the link between them is up.
    pub(in crate::lab) fn sites_linked(&self, a: &str, b: &str) -> bool {
        a == b || self.links.get(&link_key(a, b)).is_none_or(|l| l.up)
    }
}

impl LabState {
    /// The network as the other parts see it.
    pub(in crate::lab) fn network(&self) -> Network<'_> {
        Network::new(&self.servers, &self.links)
    }

    pub(in crate::lab) fn server_up(&self, fqdn: &str) -> bool {
        self.network().server_up(fqdn)
    }

    pub(in crate::lab) fn sites_linked(&self, a: &str, b: &str) -> bool {
        self.network().sites_linked(a, b)
    }
}
