//! Building a lab from an estate: everything up, the topology as published,
//! mgc mirrored and log-shipped and the Back Ends mirrored as the estate
//! says, at t=0. Kept apart from the parts because it is the one place that
//! reads the estate file; after it, the lab knows only its own state.

use crate::estate::Estate;
use crate::estate::{EstateFile, FrontEndPool, MirroringMode, XmppRouteParameter};
use crate::lab::lync::{APPLICATION_DATABASES, CMS_DATABASES, USER_DATABASES};
use crate::lab::*;
use crate::op::unc_server;
use std::collections::BTreeMap;

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
                            role: s.role.to_string(),
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
            links: Links::default(),
            folders: Folders::default(),
            lync: Lync::default(),
            workload: BTreeMap::new(),
            faults: Vec::new(),
            measurements: Measurements::default(),
            manual_effects: Vec::new(),
            notes: Vec::new(),
        };
        let sites: Vec<&String> = f.sites.keys().collect();
        for (i, a) in sites.iter().enumerate() {
            for b in &sites[i + 1..] {
                let low_latency = f.low_latency(a, b);
                state.links.insert(
                    link_key(a, b),
                    LinkState {
                        up: true,
                        low_latency,
                    },
                );
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
            for name in CHAT_DATABASES {
                primary
                    .databases
                    .insert(name.to_string(), fresh(DbState::Online));
            }
        }
        // mgc is mirrored; the lab leaves mgccomp unmirrored.
        if let Some(mirror) = &db.mirror {
            self.sql
                .establish_mirroring(&db.primary, mirror, db.witness.as_deref(), CHAT_DATABASE);
        }
        // Both databases are log shipped (laid out the same way). The doc
        // configures the primary's mirror as a log-shipping primary too, so
        // shipping survives a mirror failover.
        for name in CHAT_DATABASES {
            // Only mgc is mirrored, so only mgc ships from the mirror too.
            let mirror = db.mirror.as_ref().filter(|_| name == CHAT_DATABASE);
            for id in std::iter::once(&db.primary).chain(mirror) {
                if let Some(instance) = self.sql.get_mut(id) {
                    instance.msdb.log_shipping_primary.insert(
                        name.to_string(),
                        LogShippingPrimary::chat(
                            name,
                            &ls.share,
                            (ls.backup_every_minutes, ls.backup_retention_minutes),
                            LSN_BASE,
                        ),
                    );
                }
            }
        }
        let primary_name = self.sql.name(&db.primary);
        if let Some(backup) = self.sql.get_mut(&db.backup) {
            for name in CHAT_DATABASES {
                // Initialized from a full backup at t=0, and an admin's SSMS
                // window left open on mgc: the procedure must end that session.
                let mut copy = fresh(DbState::Restoring);
                if name == CHAT_DATABASE {
                    copy.sessions.push(Session {
                        session_id: 61,
                        login_name: "LITWARE\\sqladmin".to_string(),
                        host_name: "ADMIN-WS07".to_string(),
                        program_name: "Microsoft SQL Server Management Studio".to_string(),
                    });
                }
                backup.databases.insert(name.to_string(), copy);
                backup.msdb.log_shipping_secondary.insert(
                    name.to_string(),
                    LogShippingSecondary::initialized(
                        name,
                        &db.primary,
                        &primary_name,
                        (&ls.share, &ls.copy_folder),
                        (
                            ls.copy_every_minutes,
                            ls.restore_every_minutes,
                            ls.file_retention_minutes,
                        ),
                    ),
                );
            }
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
}

impl LabState {
    /// The Front End pools, their Back End databases and the CMS, from the
    /// estate; then the Edge pools, the XMPP route and DNS.
    pub(in crate::lab) fn add_lync_topology(&mut self, f: &EstateFile) {
        let cms_pool = f.pools.iter().find(|(_, p)| p.hosts_cms);
        for (name, pool) in &f.pools {
            let holds_cms = cms_pool
                .is_some_and(|(c, p)| c == name || p.backup_pool.as_deref() == Some(name.as_str()));
            self.add_front_end_pool(name, pool, holds_cms);
        }
        self.lync.cms = cms_pool.map(|(name, p)| Cms {
            active_pool: name.clone(),
            standby_pool: p.backup_pool.clone(),
            replicas: BTreeMap::new(),
        });
        self.lync.backup_service.sync_interval = f.backup_service.sync_interval.clone();
        self.add_edge_topology(f);
    }

    fn add_front_end_pool(&mut self, name: &str, pool: &FrontEndPool, holds_cms: bool) {
        let be = &pool.back_end;
        let mut databases: Vec<&str> = USER_DATABASES.to_vec();
        databases.extend(APPLICATION_DATABASES);
        if holds_cms {
            databases.extend(CMS_DATABASES);
        }
        if let Some(principal) = self.sql.get_mut(&be.principal) {
            for db in &databases {
                principal.databases.insert(
                    db.to_string(),
                    Database {
                        state: DbState::Online,
                        mirroring: None,
                        lsn: LSN_BASE,
                        transactions: 0,
                        last_transaction_at: 0,
                        sessions: Vec::new(),
                    },
                );
            }
        }
        if let (Some(mirror), "mirroring") = (&be.mirror, be.ha.as_str()) {
            let safety = if be.mirroring_mode() == MirroringMode::Asynchronous {
                Safety::Off
            } else {
                Safety::Full
            };
            for db in &databases {
                self.sql.establish_mirroring_with(
                    &be.principal,
                    mirror,
                    be.witness.as_deref(),
                    db,
                    safety,
                );
            }
        }
        self.lync.pools.insert(
            name.to_string(),
            FePool {
                site: pool.site.clone(),
                backup_pool: pool.backup_pool.clone(),
                state: PoolState::Normal,
                up: true,
                hosts_cms: pool.hosts_cms,
                read_only: false,
                back_end: BackEndState {
                    ha: be.ha.to_string(),
                    principal: be.principal.clone(),
                    mirror: be.mirror.clone(),
                    witness: be.witness.clone(),
                    current_principal: Some(be.principal.clone()),
                    available: true,
                    unavailable_since: None,
                },
                users: PoolUsers {
                    homed: pool.users,
                    served_by: name.to_string(),
                    resiliency_mode: false,
                    resiliency_since: None,
                },
                edge_pool: pool.edge_pool.clone(),
                lis_restored: false,
                conference_content: ConferenceContent { in_sync: true },
                data: PoolData {
                    changes_per_minute: pool.changes_per_minute,
                    ..PoolData::default()
                },
                front_ends: pool.front_ends.clone(),
                edition: pool.edition.to_string(),
            },
        );
    }
}

impl LabState {
    pub(in crate::lab) fn add_edge_topology(&mut self, f: &EstateFile) {
        for (name, e) in &f.edge_pools {
            self.lync.edge_pools.insert(
                name.clone(),
                EdgePoolState {
                    site: e.site.clone(),
                    up: true,
                    federation: e.federation,
                    next_hop: e.next_hop.clone(),
                    services_running: true,
                    servers: e.servers.clone(),
                    federation_applied: e.federation,
                    services_stopped: BTreeMap::new(),
                },
            );
        }
        let by_server =
            f.estate.xmpp_route_parameter == XmppRouteParameter::XmppExternalFederationRoute;
        self.lync.xmpp_route_parameter = f.estate.xmpp_route_parameter;
        self.lync.xmpp_route = f.sites.iter().find_map(|(site, s)| {
            s.xmpp_federation_route.as_ref().map(|edge| XmppRoute {
                site: site.clone(),
                edge_pool: edge.clone(),
                // The DR topic's parameter names the pool's (first) server.
                edge_server: by_server
                    .then(|| f.edge_pools.get(edge)?.servers.first().cloned())
                    .flatten(),
            })
        });
        self.lync.dns = f.dns.clone();
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
}
