//! The documentation's design rules (PROCEDURES.md §1, the deployment
//! topics it cites): recommendations an estate may break and still load and
//! run in the lab. The `estate-check` runbook reports each breach as a
//! finding naming the rule and the objects involved; the rules that make an
//! estate unsafe to act on are load errors instead (`validate.rs`).

use super::file::{BackEndHa, Edition, EstateFile, MirroringMode};
use super::Estate;
use serde::Serialize;

/// One breach of a design rule of the documentation: the estate loads and
/// the lab runs it, but the `estate-check` runbook reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's id, one of `DESIGN_RULES`.
    pub rule: &'static str,
    /// The estate objects involved: pool FQDNs, SQL instance ids, site names.
    pub objects: Vec<String>,
    pub message: String,
}

/// The design rules `design_findings` checks: id and what the documentation says.
pub const DESIGN_RULES: [(&str, &str); 12] = [
    ("pair-edition", "paired pools have the same edition: Enterprise with Enterprise, Standard with Standard [D:JJ204697]"),
    ("pair-platform", "paired pools are both physical or both virtual [D:JJ204697]"),
    ("pair-os", "paired pools run the same operating system [D:JJ204697]"),
    ("pair-back-end-ha", "paired pools use the same Back End high-availability type, never mirroring with clustering [S0]"),
    ("backup-pool-site", "a pool's backup pool is in another site [S1][D:JJ205293]"),
    ("standard-edition-back-end-ha", "Back End high availability is for Enterprise Edition pools only [D:JJ204697]"),
    ("synchronous-mirroring", "Back End mirroring is synchronous; asynchronous mirroring is not supported [S0]"),
    ("sql-version", "principal, mirror and witness run the same SQL Server version [D:JJ204992]"),
    ("sql-edition", "principal and mirror run the same SQL Server edition [D:JJ204992]"),
    ("one-federation-edge-pool", "one Edge pool has \"Enable federation (5061)\" [D:JJ204678]"),
    ("one-xmpp-route", "one site holds the XMPP federation route [D:JJ204678]"),
    ("chat-stretched-layout", "mgc's mirror and witness sit with its primary; the log-shipped backup and its mirror sit in the other data center [S3][D:JJ205211]"),
];

/// Every design rule the estate breaks, one finding per breach, in a stable order.
pub fn design_findings(f: &EstateFile) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |rule: &'static str, objects: Vec<String>, message: String| {
        out.push(Finding {
            rule,
            objects,
            message,
        })
    };
    for (name, pool) in &f.pools {
        let Some(backup) = pool.backup_pool.as_ref() else {
            continue;
        };
        let Some(other) = f.pools.get(backup) else {
            continue;
        };
        // Each pair once, from its first pool by name.
        if other.backup_pool.as_deref() == Some(name.as_str()) && backup.as_str() < name.as_str() {
            continue;
        }
        let pair = vec![name.clone(), backup.clone()];
        for (rule, what, a, b) in [
            (
                "pair-edition",
                "edition",
                pool.edition.as_str(),
                other.edition.as_str(),
            ),
            (
                "pair-platform",
                "platform",
                pool.platform.as_str(),
                other.platform.as_str(),
            ),
            ("pair-os", "operating system", &pool.os, &other.os),
            (
                "pair-back-end-ha",
                "Back End HA type",
                pool.back_end.ha.as_str(),
                other.back_end.ha.as_str(),
            ),
        ] {
            if a != b {
                push(
                    rule,
                    pair.clone(),
                    format!("paired pools {name} and {backup} differ in {what}: {a:?} and {b:?}"),
                );
            }
        }
        if pool.site == other.site {
            push(
                "backup-pool-site",
                vec![name.clone(), backup.clone(), pool.site.clone()],
                format!(
                    "paired pools {name} and {backup} are both in site {:?}; a backup pool belongs in another site",
                    pool.site
                ),
            );
        }
    }
    for (name, pool) in &f.pools {
        let be = &pool.back_end;
        if pool.edition == Edition::Standard && be.ha != BackEndHa::None {
            push(
                "standard-edition-back-end-ha",
                vec![name.clone()],
                format!(
                    "{name} is a Standard Edition pool with Back End HA {:?}; Back End HA is for Enterprise Edition pools",
                    be.ha.as_str()
                ),
            );
        }
        if be.ha == BackEndHa::Mirroring && be.mirroring_mode() == MirroringMode::Asynchronous {
            let mut objects = vec![name.clone(), be.principal.clone()];
            objects.extend(be.mirror.clone());
            push(
                "synchronous-mirroring",
                objects,
                format!("{name} mirrors its Back End asynchronously; only synchronous mirroring is supported"),
            );
        }
        let version_of = |id: &String| f.sql.get(id).and_then(|i| i.version.clone());
        let edition_of = |id: &String| f.sql.get(id).and_then(|i| i.edition.clone());
        let members: Vec<&String> = [Some(&be.principal), be.mirror.as_ref(), be.witness.as_ref()]
            .into_iter()
            .flatten()
            .collect();
        let versions: Vec<(String, String)> = members
            .iter()
            .filter_map(|id| version_of(id).map(|v| ((*id).clone(), v)))
            .collect();
        if versions.windows(2).any(|w| w[0].1 != w[1].1) {
            push(
                "sql-version",
                versions.iter().map(|(id, _)| id.clone()).collect(),
                format!(
                    "the Back End of {name} mixes SQL Server versions: {}",
                    versions
                        .iter()
                        .map(|(id, v)| format!("{id} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if let Some(mirror) = &be.mirror {
            if let (Some(a), Some(b)) = (edition_of(&be.principal), edition_of(mirror)) {
                if a != b {
                    push(
                        "sql-edition",
                        vec![be.principal.clone(), mirror.clone()],
                        format!(
                            "the Back End of {name}: principal {} runs {a}, mirror {mirror} runs {b}; they must run the same edition",
                            be.principal
                        ),
                    );
                }
            }
        }
    }
    let federation: Vec<String> = f
        .edge_pools
        .iter()
        .filter(|(_, e)| e.federation)
        .map(|(n, _)| n.clone())
        .collect();
    if federation.len() > 1 {
        push(
            "one-federation-edge-pool",
            federation.clone(),
            format!(
                "{} Edge pools have federation (5061) enabled: {}; enable it on one",
                federation.len(),
                federation.join(", ")
            ),
        );
    }
    let routes: Vec<String> = f
        .sites
        .iter()
        .filter(|(_, s)| s.xmpp_federation_route.is_some())
        .map(|(n, _)| n.clone())
        .collect();
    if routes.len() > 1 {
        push(
            "one-xmpp-route",
            routes.clone(),
            format!(
                "{} sites hold an XMPP federation route: {}; one site holds it",
                routes.len(),
                routes.join(", ")
            ),
        );
    }
    out
}

/// The stretched Persistent Chat pool's database layout (PROCEDURES.md §1):
/// primary, mirror and witness in one data center, backup and backup mirror
/// (and its witness) in another.
pub fn chat_layout_findings(f: &EstateFile) -> Vec<Finding> {
    let site = |id: &String| {
        f.sql
            .get(id)
            .and_then(|i| f.servers.get(&i.server))
            .map(|s| s.site.clone())
    };
    let mut out = Vec::new();
    for (pool, pc) in &f.persistent_chat {
        let db = &pc.mgc;
        let (Some(primary_site), Some(backup_site)) = (site(&db.primary), site(&db.backup)) else {
            continue;
        };
        let mut misplaced = Vec::new();
        if primary_site == backup_site {
            misplaced.push(format!(
                "backup {} is in {backup_site}, the primary's data center",
                db.backup
            ));
        }
        for (role, inst) in [("mirror", &db.mirror), ("witness", &db.witness)] {
            if let Some(inst) = inst {
                if site(inst).as_deref() != Some(primary_site.as_str()) {
                    misplaced.push(format!(
                        "{role} {inst} is not in {primary_site} with the primary"
                    ));
                }
            }
        }
        for (role, inst) in [
            ("backup_mirror", &db.backup_mirror),
            ("backup_witness", &db.backup_witness),
        ] {
            if let Some(inst) = inst {
                if site(inst).as_deref() != Some(backup_site.as_str()) {
                    misplaced.push(format!(
                        "{role} {inst} is not in {backup_site} with the backup"
                    ));
                }
            }
        }
        if !misplaced.is_empty() {
            out.push(Finding {
                rule: "chat-stretched-layout",
                objects: vec![pool.clone()],
                message: format!("Persistent Chat pool {pool}: {}", misplaced.join("; ")),
            });
        }
    }
    out
}

impl Estate {
    /// Every design rule this estate breaks.
    pub fn design_findings(&self) -> Vec<Finding> {
        let mut all = design_findings(&self.file);
        all.extend(chat_layout_findings(&self.file));
        all
    }
}
