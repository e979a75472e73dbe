//! Persistent Chat pools: where mgc lives by topology (primary, mirror,
//! backup, backup mirror), which copy is principal now and who users write
//! to. A pool's state and active servers change only through `set_state` and
//! `set_active_servers`, the latter only after `active_servers_from` checked
//! the documentation's rules (servers of the pool, at most four active, all
//! in the primary mgc's data center); the Persistent Chat cmdlets in
//! `cmdlets/persistent_chat.rs` are their only callers.

use crate::estate::PC_MAX_ACTIVE;
use crate::lab::network::Network;
use crate::lab::{Database, PoolState, Sql};
use serde::{Deserialize, Serialize};

/// The Persistent Chat database the lab fails over with log recovery.
pub const CHAT_DATABASE: &str = "mgc";

/// The compliance database: laid out like mgc (on the same instances in the
/// lab, unmirrored) and log shipped with it, but never recovered from logs.
pub const COMPLIANCE_DATABASE: &str = "mgccomp";

/// A pool's databases, in the order the procedures handle them.
pub const CHAT_DATABASES: [&str; 2] = [CHAT_DATABASE, COMPLIANCE_DATABASE];

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

impl ChatPool {
    /// The instance whose mgc is the pool's current principal by role and
    /// state, whether or not it is reachable.
    pub(in crate::lab) fn principal(&self, sql: &Sql) -> Option<String> {
        principal_among(self.mgc.candidates(self.state), sql)
    }

    /// The site the pool's primary mgc is in now: the principal's for the
    /// pool state; else any copy that is principal (during failback, §3.13,
    /// the restored primary is live before the pool returns to Normal, and
    /// its servers are made active first); else the designated primary's.
    pub(in crate::lab) fn primary_site(&self, sql: &Sql) -> String {
        let any_principal = || {
            let all = [PoolState::Normal, PoolState::FailedOver]
                .into_iter()
                .flat_map(|s| self.mgc.candidates(s));
            principal_among(all, sql)
        };
        let id = self
            .principal(sql)
            .or_else(any_principal)
            .unwrap_or_else(|| match self.state {
                PoolState::Normal => self.mgc.primary.clone(),
                PoolState::FailedOver => self.mgc.backup.clone(),
            });
        sql.get(&id).map(|i| i.site.clone()).unwrap_or_default()
    }

    /// The instance users' writes go to, if they can write at all: the
    /// principal is reachable, keeps quorum, and an active server is up.
    pub(in crate::lab) fn writer(&self, sql: &Sql, net: &Network) -> Option<String> {
        let id = self.principal(sql)?;
        if !sql.instance_up(&id, net) || !self.active_servers.iter().any(|s| net.server_up(s)) {
            return None;
        }
        // With a witness configured, a principal that sees neither its
        // partner nor the witness has lost quorum and stops serving.
        if !sql.has_quorum(&id, CHAT_DATABASE, net) {
            return None;
        }
        Some(id)
    }

    /// Set-CsPersistentChatState: the one way the pool's state changes.
    pub(in crate::lab) fn set_state(&mut self, state: PoolState) {
        self.state = state;
    }

    /// The active servers `wanted` would make, spelled as the topology
    /// spells them and each once, or why they cannot be: every one a server
    /// of this pool, at most [`PC_MAX_ACTIVE`], all in the site of the
    /// primary mgc (`site_of` answers where a server is).
    pub(in crate::lab) fn active_servers_from(
        &self,
        pool: &str,
        wanted: &[String],
        primary_site: &str,
        site_of: impl Fn(&str) -> Option<String>,
        low_latency: impl Fn(&str, &str) -> bool,
    ) -> Result<Vec<String>, String> {
        let mut servers: Vec<String> = Vec::new();
        let mut strangers = Vec::new();
        for name in wanted {
            match self.servers.iter().find(|s| s.eq_ignore_ascii_case(name)) {
                Some(s) if !servers.contains(s) => servers.push(s.clone()),
                Some(_) => {}
                None => strangers.push(name.clone()),
            }
        }
        if !strangers.is_empty() {
            let verb = if strangers.len() == 1 { "is" } else { "are" };
            return Err(format!(
                "{} {verb} not a server of Persistent Chat pool {pool} (its servers: {}).",
                strangers.join(", "),
                self.servers.join(", ")
            ));
        }
        if servers.len() > PC_MAX_ACTIVE {
            return Err(format!(
                "At most {PC_MAX_ACTIVE} Persistent Chat servers can be active; {} were given: {}.",
                servers.len(),
                servers.join(", ")
            ));
        }
        let strays: Vec<String> = servers
            .iter()
            .filter_map(|s| {
                let at = site_of(s).unwrap_or_else(|| "an unknown site".to_string());
                (!low_latency(&at, primary_site)).then(|| format!("{s} is in {at}"))
            })
            .collect();
        if !strays.is_empty() {
            return Err(format!(
                "Active servers must be in the same data center as the primary Persistent Chat database (site {primary_site}), or in one with a low-latency, high-bandwidth connection to it: {}.",
                strays.join(", ")
            ));
        }
        Ok(servers)
    }

    /// Set-CsPersistentChatActiveServer, once `active_servers_from` agreed.
    pub(in crate::lab) fn set_active_servers(&mut self, servers: Vec<String>) {
        self.active_servers = servers;
    }
}

/// The first of `ids` whose mgc is principal and online by its own record.
fn principal_among<'a>(ids: impl IntoIterator<Item = &'a str>, sql: &Sql) -> Option<String> {
    ids.into_iter()
        .find(|id| {
            sql.database(id, CHAT_DATABASE)
                .is_some_and(Database::is_principal_online)
        })
        .map(str::to_string)
}
