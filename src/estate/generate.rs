//! Generated estates: `drillbook lab generate --seed N` draws a valid estate
//! from the documented topology space (PROCEDURES.md §1), the same one for
//! the same seed, so drills can be tried on many shapes, not on litware
//! alone. The space: 2–4 sites; Enterprise Edition pools of 1–12 Front Ends
//! and Standard Edition pools; paired (like with like, across sites) and
//! unpaired pools; Back Ends mirrored with or without a witness, or not at
//! all, on named and default SQL instances, SQL Server 2008 R2 / 2012 /
//! 2014; the CMS in any pool; 1–3 Edge pools with federation and the XMPP
//! route on any; a stretched Persistent Chat pool of 2–8 servers over two
//! sites, mgc with or without a mirror and witness, a backup with or
//! without its own, the log-shipping share in either data center; varied
//! Backup Service intervals and log-shipping schedules.
//!
//! Every estate drawn loads (`validate.rs`) and breaks no design rule
//! (`design.rs`): an estate `estate-check` would refuse is never drawn.
//! Randomness is a splitmix64 stream seeded by N: no crate, no clock.

use super::file::*;
use std::collections::BTreeMap;

/// A splitmix64 stream: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `num/den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.next() as usize % (i + 1);
            items.swap(i, j);
        }
    }
}

const SITE_NAMES: [&str; 8] = [
    "oslo", "lima", "kyoto", "perth", "quito", "dakar", "minsk", "hanoi",
];
const SQL_VERSIONS: [&str; 3] = ["2008 R2", "2012", "2014"];
const OSES: [&str; 3] = [
    "Windows Server 2008 R2",
    "Windows Server 2012",
    "Windows Server 2012 R2",
];
const SYNC_INTERVALS: [&str; 6] = [
    "00:00:30", "00:01:00", "00:02:00", "00:05:00", "00:15:00", "01:00:00",
];
const LOG_BACKUP_MINUTES: [u64; 6] = [1, 2, 5, 10, 15, 30];
const COPY_RESTORE_MINUTES: [u64; 5] = [5, 10, 15, 30, 60];

/// The estate drawn for `seed`.
pub fn generate(seed: u64) -> EstateFile {
    let mut g = Gen {
        rng: Rng(seed),
        domain: format!("seed{seed}.example.com"),
        f: EstateFile {
            estate: Info {
                name: format!("seed-{seed}"),
                domain: format!("seed{seed}.example.com"),
                lab_start: String::new(),
                xmpp_route_parameter: XmppRouteParameter::default(),
            },
            sites: BTreeMap::new(),
            servers: BTreeMap::new(),
            sql: BTreeMap::new(),
            persistent_chat: BTreeMap::new(),
            pools: BTreeMap::new(),
            edge_pools: BTreeMap::new(),
            backup_service: BackupService::default(),
            dns: Vec::new(),
            live: None,
        },
    };
    let day = g.rng.range(1, 28);
    let hour = g.rng.range(0, 23);
    g.f.estate.lab_start = format!("2026-{:02}-{day:02}T{hour:02}:00:00Z", g.rng.range(1, 12));
    let mut names = SITE_NAMES.to_vec();
    g.rng.shuffle(&mut names);
    let sites: Vec<String> = names[..g.rng.range(2, 4) as usize]
        .iter()
        .map(|s| s.to_string())
        .collect();
    g.pools(&sites);
    g.edges(&sites);
    g.chat(&sites);
    g.f.backup_service.sync_interval = g.rng.pick(&SYNC_INTERVALS).to_string();
    // Drawn last, so every draw before it, and so the rest of each seed's
    // estate, is what it was before the setting existed.
    if g.rng.chance(1, 2) {
        g.f.estate.xmpp_route_parameter = XmppRouteParameter::XmppExternalFederationRoute;
    }
    g.f
}

struct Gen {
    rng: Rng,
    domain: String,
    f: EstateFile,
}

/// A Front End pool before its pairing: where it is and what edition.
struct Slot {
    site: String,
    fqdn: String,
    edition: Edition,
}

impl Gen {
    fn fqdn(&self, host: &str) -> String {
        format!("{host}.{}", self.domain)
    }

    fn server(&mut self, host: &str, site: &str, role: Role) -> String {
        let fqdn = self.fqdn(host);
        self.f.servers.insert(
            fqdn.clone(),
            Server {
                site: site.to_string(),
                role,
            },
        );
        fqdn
    }

    /// A SQL instance on its own server: a default instance or a named one.
    fn sql(&mut self, id: &str, site: &str, named: &str, version: &str, edition: &str) -> String {
        let server = self.server(id, site, Role::Sql);
        let instance = self.rng.chance(1, 2).then(|| named.to_string());
        self.f.sql.insert(
            id.to_string(),
            SqlInstance {
                server,
                instance,
                version: Some(version.to_string()),
                edition: Some(edition.to_string()),
                connection: Settings::default(),
            },
        );
        id.to_string()
    }

    fn pools(&mut self, sites: &[String]) {
        let mut slots = Vec::new();
        for site in sites {
            for k in 1..=self.rng.range(1, 2) {
                let edition = if self.rng.chance(3, 4) {
                    Edition::Enterprise
                } else {
                    Edition::Standard
                };
                slots.push(Slot {
                    site: site.clone(),
                    fqdn: self.fqdn(&format!("pool-{site}{k}")),
                    edition,
                });
            }
        }
        // Pair like with like across sites, in a drawn order.
        let mut order: Vec<usize> = (0..slots.len()).collect();
        self.rng.shuffle(&mut order);
        let mut partner: Vec<Option<usize>> = vec![None; slots.len()];
        for (n, &i) in order.iter().enumerate() {
            if partner[i].is_some() || !self.rng.chance(3, 4) {
                continue;
            }
            let j = order[n + 1..].iter().copied().find(|&j| {
                partner[j].is_none()
                    && slots[j].site != slots[i].site
                    && slots[j].edition == slots[i].edition
            });
            if let Some(j) = j {
                partner[i] = Some(j);
                partner[j] = Some(i);
            }
        }
        // What a pair shares is drawn once, for its first pool.
        let mut shared: BTreeMap<usize, (Platform, String, BackEndHa)> = BTreeMap::new();
        let cms = self.rng.range(0, slots.len() as u64 - 1) as usize;
        for (i, slot) in slots.iter().enumerate() {
            let (platform, os, ha) = match partner[i].and_then(|j| shared.get(&j)) {
                Some(s) => s.clone(),
                None => {
                    let platform = *self.rng.pick(&[Platform::Physical, Platform::Virtual]);
                    let os = self.rng.pick(&OSES).to_string();
                    let ha = if slot.edition == Edition::Standard || self.rng.chance(1, 6) {
                        BackEndHa::None
                    } else {
                        BackEndHa::Mirroring
                    };
                    (platform, os, ha)
                }
            };
            shared.insert(i, (platform, os.clone(), ha));
            let host = slot.fqdn.split('.').next().unwrap_or_default().to_string();
            let front_ends: Vec<String> = match slot.edition {
                Edition::Enterprise => 1..=self.rng.range(1, 12),
                Edition::Standard => 1..=1,
            }
            .map(|k| self.server(&format!("fe-{host}-{k}"), &slot.site, Role::FrontEnd))
            .collect();
            let version = *self.rng.pick(&SQL_VERSIONS);
            let edition = match slot.edition {
                Edition::Enterprise => "Enterprise",
                Edition::Standard => "Standard",
            };
            let principal = self.sql(&format!("be-{host}-1"), &slot.site, "rtc", version, edition);
            let (mirror, witness) = if ha == BackEndHa::Mirroring {
                let m = self.sql(&format!("be-{host}-2"), &slot.site, "rtc", version, edition);
                let w = self.rng.chance(1, 2).then(|| {
                    self.sql(
                        &format!("be-{host}-w"),
                        &slot.site,
                        "rtc",
                        version,
                        "Standard",
                    )
                });
                (Some(m), w)
            } else {
                (None, None)
            };
            let users = self.rng.range(1, 40) * 1000;
            self.f.pools.insert(
                slot.fqdn.clone(),
                FrontEndPool {
                    site: slot.site.clone(),
                    edition: slot.edition,
                    platform,
                    os,
                    backup_pool: partner[i].map(|j| slots[j].fqdn.clone()),
                    hosts_cms: i == cms,
                    edge_pool: None,
                    front_ends,
                    users,
                    changes_per_minute: users / 100,
                    back_end: BackEnd {
                        ha,
                        mirroring: None,
                        principal,
                        mirror,
                        witness,
                    },
                },
            );
            self.f
                .sites
                .entry(slot.site.clone())
                .or_insert_with(|| Site {
                    description: String::new(),
                    management_host: self.f.pools[&slot.fqdn].front_ends[0].clone(),
                    xmpp_federation_route: None,
                    low_latency_to: Vec::new(),
                });
        }
    }

    fn edges(&mut self, sites: &[String]) {
        let mut at: Vec<&String> = sites.iter().collect();
        self.rng.shuffle(&mut at);
        at.truncate(self.rng.range(1, 3) as usize);
        let mut edges = Vec::new();
        for site in at {
            let fqdn = self.fqdn(&format!("edge-{site}"));
            let servers: Vec<String> = (1..=self.rng.range(1, 2))
                .map(|k| self.server(&format!("edge-{site}{k}"), site, Role::Edge))
                .collect();
            let next_hop = self
                .f
                .pools
                .iter()
                .find(|(_, p)| &p.site == site)
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            self.f.edge_pools.insert(
                fqdn.clone(),
                EdgePool {
                    site: site.clone(),
                    servers,
                    federation: false,
                    next_hop,
                },
            );
            edges.push(fqdn);
        }
        let federation = self.rng.pick(&edges).clone();
        let xmpp = self.rng.pick(&edges).clone();
        let xmpp_site = self.rng.pick(sites).clone();
        if let Some(e) = self.f.edge_pools.get_mut(&federation) {
            e.federation = true;
        }
        if let Some(s) = self.f.sites.get_mut(&xmpp_site) {
            s.xmpp_federation_route = Some(xmpp.clone());
        }
        // Media: the site's own Edge pool, else any, and now and then none.
        let pools: Vec<String> = self.f.pools.keys().cloned().collect();
        for p in pools {
            let site = self.f.pools[&p].site.clone();
            let own = self.f.edge_pools.iter().find(|(_, e)| e.site == site);
            let edge = match own {
                Some((n, _)) => Some(n.clone()),
                None => self.rng.chance(3, 4).then(|| self.rng.pick(&edges).clone()),
            };
            if let Some(pool) = self.f.pools.get_mut(&p) {
                pool.edge_pool = edge;
            }
        }
        let domain = self.domain.clone();
        let first = |e: &str| self.f.edge_pools[e].servers[0].clone();
        let (sip, xmpp_host) = (first(&federation), first(&xmpp));
        for (name, target, port) in [
            (
                format!("_sipfederationtls._tcp.{domain}"),
                format!("sip.{domain}"),
                5061,
            ),
            (
                format!("_xmpp-server._tcp.{domain}"),
                format!("xmpp.{domain}"),
                5269,
            ),
        ] {
            self.f.dns.push(DnsRecord {
                name,
                kind: DnsType::Srv,
                target,
                port: Some(port),
                priority: Some(10),
            });
        }
        for (name, target) in [
            (format!("sip.{domain}"), sip),
            (format!("xmpp.{domain}"), xmpp_host),
        ] {
            self.f.dns.push(DnsRecord {
                name,
                kind: DnsType::A,
                target,
                port: None,
                priority: None,
            });
        }
    }

    fn chat(&mut self, sites: &[String]) {
        let mut two: Vec<&String> = sites.iter().collect();
        self.rng.shuffle(&mut two);
        let (primary, backup) = (two[0].clone(), two[1].clone());
        let total = self.rng.range(2, 8);
        let in_primary = self.rng.range(1, total - 1);
        let servers: Vec<String> = (1..=total)
            .map(|k| {
                let site = if k <= in_primary { &primary } else { &backup };
                self.server(&format!("pchat-{k}"), site, Role::PersistentChat)
            })
            .collect();
        let active = servers[..self.rng.range(1, in_primary.min(4)) as usize].to_vec();
        let version = *self.rng.pick(&SQL_VERSIONS);
        let inst = |g: &mut Gen, id: &str, site: &str, edition: &str| {
            g.sql(id, site, "pchat", version, edition)
        };
        let mgc_primary = inst(self, "pcsql-p1", &primary, "Enterprise");
        let mirror = self
            .rng
            .chance(1, 2)
            .then(|| inst(self, "pcsql-p2", &primary, "Enterprise"));
        let witness = (mirror.is_some() && self.rng.chance(1, 2))
            .then(|| inst(self, "pcsql-pw", &primary, "Standard"));
        let mgc_backup = inst(self, "pcsql-b1", &backup, "Enterprise");
        let backup_mirror = self
            .rng
            .chance(1, 2)
            .then(|| inst(self, "pcsql-b2", &backup, "Enterprise"));
        let backup_witness = (backup_mirror.is_some() && self.rng.chance(1, 2))
            .then(|| inst(self, "pcsql-bw", &backup, "Standard"));
        let share_site = if self.rng.chance(1, 2) {
            &primary
        } else {
            &backup
        };
        let file_server = self.server(&format!("fs-{share_site}"), share_site, Role::FileServer);
        let backup_server = self.f.sql[&mgc_backup].server.clone();
        let backup_every = *self.rng.pick(&LOG_BACKUP_MINUTES);
        let copy_every = *self.rng.pick(&COPY_RESTORE_MINUTES);
        let restore_every = *self.rng.pick(&COPY_RESTORE_MINUTES);
        self.f.persistent_chat.insert(
            self.fqdn("pchat"),
            PersistentChatPool {
                servers,
                active_servers: active,
                transactions_per_minute: self.rng.range(10, 200),
                mgc: ChatDatabase {
                    primary: mgc_primary,
                    mirror,
                    witness,
                    backup: mgc_backup,
                    backup_mirror,
                    backup_witness,
                },
                log_shipping: LogShipping {
                    share: format!("\\\\{file_server}\\pchatlogs"),
                    copy_folder: format!("\\\\{backup_server}\\lscopy"),
                    backup_every_minutes: backup_every,
                    copy_every_minutes: copy_every,
                    restore_every_minutes: restore_every,
                    backup_retention_minutes: crate::estate::file::default_retention_minutes(),
                    file_retention_minutes: crate::estate::file::default_retention_minutes(),
                },
            },
        );
    }
}

/// The estate drawn for `seed`, as TOML.
pub fn generate_toml(seed: u64) -> String {
    let text = toml::to_string(&generate(seed)).unwrap_or_default();
    format!("# drillbook lab generate --seed {seed}\n{text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::Estate;

    #[test]
    fn every_generated_estate_loads_and_breaks_no_design_rule() {
        for seed in 0..500 {
            let text = generate_toml(seed);
            let estate = Estate::parse(&text, &format!("seed {seed}"))
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
            let findings = estate.design_findings();
            assert!(findings.is_empty(), "seed {seed}: {findings:?}\n{text}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_estate() {
        assert_eq!(generate_toml(7), generate_toml(7));
        assert_ne!(generate_toml(7), generate_toml(8));
    }

    #[test]
    fn generated_estates_cover_the_documented_space() {
        let all: Vec<EstateFile> = (0..200).map(generate).collect();
        let any = |f: &dyn Fn(&EstateFile) -> bool| all.iter().any(f);
        for n in 2..=4 {
            assert!(any(&|e| e.sites.len() == n), "{n} sites");
        }
        assert!(any(&|e| e.pools.values().any(|p| p.front_ends.len() == 12)));
        assert!(any(&|e| e
            .pools
            .values()
            .any(|p| p.edition == Edition::Standard)));
        assert!(any(&|e| e.pools.values().any(|p| p.backup_pool.is_none())));
        assert!(any(&|e| e.sql.values().any(|i| i.instance.is_none())));
        for v in SQL_VERSIONS {
            assert!(any(&|e| e
                .sql
                .values()
                .any(|i| i.version.as_deref() == Some(v))));
        }
        for n in 1..=3 {
            assert!(any(&|e| e.edge_pools.len() == n), "{n} Edge pools");
        }
        let chat = |e: &EstateFile| e.persistent_chat.values().next().cloned().unwrap();
        for n in 2..=8 {
            assert!(any(&|e| chat(e).servers.len() == n), "{n} chat servers");
        }
        assert!(any(&|e| chat(e).mgc.backup_witness.is_some()));
        assert!(any(&|e| chat(e).mgc.mirror.is_none()));
        let share_with_primary = |e: &EstateFile| {
            let c = chat(e);
            let share = crate::op::unc_server(&c.log_shipping.share)
                .unwrap()
                .to_string();
            e.servers[&share].site == e.servers[&e.sql[&c.mgc.primary].server].site
        };
        assert!(any(&share_with_primary));
        assert!(any(&|e| !share_with_primary(e)));
    }
}
