//! The Persistent Chat cmdlets: pool state and active servers, and
//! Install-CsMirrorDatabase for the Persistent Chat store. The pool's own
//! rules are in `lync/persistent_chat.rs`; the cmdlet machinery (parameter
//! binding, Get-Command) is in `cmdlets`.

use crate::lab::cmdlets::{as_list, strip_prefix_ci, Call};
use crate::lab::{desc, ChatPool, DbState, LabState, PoolState, CHAT_DATABASE};
use crate::op::{unc_server, PsValue};
use crate::targets::OpError;
use serde_json::{json, Value};

pub(in crate::lab) fn identity_of(pool: &str) -> String {
    format!("PersistentChatServer:{pool}")
}

impl LabState {
    /// Accepts `service:<pool>`, `PersistentChatServer:<pool>`, both, or the bare FQDN.
    pub(in crate::lab) fn pool_by_identity(
        &self,
        call: &Call,
        identity: &str,
    ) -> Result<String, OpError> {
        let mut rest = identity.trim();
        rest = strip_prefix_ci(rest, "service:").unwrap_or(rest);
        rest = strip_prefix_ci(rest, "PersistentChatServer:").unwrap_or(rest);
        let found = self
            .lync
            .persistent_chat
            .keys()
            .find(|p| p.eq_ignore_ascii_case(rest));
        found.cloned().ok_or_else(|| {
            let known: Vec<String> = self.lync.persistent_chat.keys().map(|p| identity_of(p)).collect();
            call.error(format!(
                "Cannot find \"{identity}\": it is not a Persistent Chat service of the topology (known: {}).",
                known.join(", ")
            ))
        })
    }

    /// Get-CsService rows of the Persistent Chat pools.
    pub(in crate::lab) fn chat_service_rows(
        &self,
        call: &Call,
        identity: Option<&str>,
        fqdn: Option<&str>,
    ) -> Result<Vec<Value>, OpError> {
        let only = identity
            .map(|i| self.pool_by_identity(call, i))
            .transpose()?;
        Ok(crate::lab::cmdlets::service_rows(
            self.lync.persistent_chat.iter(),
            only,
            fqdn,
            |name, p| {
                let site = self
                    .sql
                    .get(&p.mgc.primary)
                    .map(|i| i.site.clone())
                    .unwrap_or_default();
                json!({"Identity": identity_of(name), "PoolFqdn": name, "SiteId": format!("Site:{site}")})
            },
        ))
    }

    pub(in crate::lab) fn get_chat_state(&self, call: &Call) -> Result<Value, OpError> {
        let pool = self.pool_by_identity(call, &call.required("Identity")?)?;
        let state = self.lync.persistent_chat.get(&pool).map(|p| desc(&p.state));
        Ok(json!({"Identity": identity_of(&pool), "PoolState": state}))
    }

    pub(in crate::lab) fn set_chat_state(&mut self, call: &Call) -> Result<Value, OpError> {
        let pool = self.pool_by_identity(call, &call.required("Identity")?)?;
        let wanted = call.required("PoolState")?;
        let state = [PoolState::Normal, PoolState::FailedOver]
            .into_iter()
            .find(|s| desc(s).eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| {
                call.error(format!(
                    "Cannot bind parameter 'PoolState'. Cannot convert value \"{wanted}\": the possible values are \"Normal, FailedOver\"."
                ))
            })?;
        if let Some(p) = self.lync.persistent_chat.get_mut(&pool) {
            p.set_state(state);
        }
        Ok(Value::Null)
    }

    /// The pool an active-server collection Identity names. Lync 2013 keeps
    /// one collection per pool, so "global" names the only one.
    fn collection_pool(&self, call: &Call, identity: &str) -> Result<String, OpError> {
        let only = self
            .lync
            .persistent_chat
            .keys()
            .next()
            .filter(|_| self.lync.persistent_chat.len() == 1);
        match only {
            Some(pool) if identity.eq_ignore_ascii_case("global") => Ok(pool.clone()),
            _ => self.pool_by_identity(call, identity),
        }
    }

    pub(in crate::lab) fn get_active_servers(&self, call: &Call) -> Result<Value, OpError> {
        let row = |name: &String, p: &ChatPool| json!({"Identity": identity_of(name), "ActiveServers": p.active_servers});
        match call.text("Identity")? {
            Some(identity) => {
                let pool = self.collection_pool(call, &identity)?;
                let found = self.lync.persistent_chat.get_key_value(&pool);
                Ok(found.map_or(Value::Null, |(name, p)| row(name, p)))
            }
            None => Ok(Value::Array(
                self.lync
                    .persistent_chat
                    .iter()
                    .map(|(n, p)| row(n, p))
                    .collect(),
            )),
        }
    }

    pub(in crate::lab) fn set_active_servers(&mut self, call: &Call) -> Result<Value, OpError> {
        let identity = match call.text("Identity")? {
            Some(i) => i,
            None if self.lync.persistent_chat.len() == 1 => "global".to_string(),
            None => {
                return Err(call.error(
                    "Identity is required: the topology has several Persistent Chat pools.",
                ))
            }
        };
        let pool = self.collection_pool(call, &identity)?;
        let Some(p) = self.lync.persistent_chat.get(&pool) else {
            return Ok(Value::Null);
        };
        let Some(value) = call.value("ActiveServers") else {
            return Err(call.error("Cannot process command because of one or more missing mandatory parameters: ActiveServers."));
        };
        let bad_value = || {
            call.error("ActiveServers must be a list of server FQDNs, $null, or @{Replace|Add|Remove=...}.")
        };
        let mut wanted = p.active_servers.clone();
        match value {
            PsValue::Table(entries) => {
                for (key, v) in entries {
                    let list = as_list(v).ok_or_else(bad_value)?;
                    if key.eq_ignore_ascii_case("Replace") {
                        wanted = list;
                    } else if key.eq_ignore_ascii_case("Add") {
                        wanted.extend(list);
                    } else if key.eq_ignore_ascii_case("Remove") {
                        wanted.retain(|s| !list.iter().any(|r| r.eq_ignore_ascii_case(s)));
                    } else {
                        return Err(bad_value());
                    }
                }
            }
            other => wanted = as_list(other).ok_or_else(bad_value)?,
        }
        let net = self.network();
        let servers = p
            .active_servers_from(
                &pool,
                &wanted,
                &p.primary_site(&self.sql),
                |s| self.servers.get(s).map(|srv| srv.site.clone()),
                |a, b| net.low_latency(a, b),
            )
            .map_err(|message| call.error(message))?;
        if let Some(p) = self.lync.persistent_chat.get_mut(&pool) {
            p.set_active_servers(servers);
        }
        Ok(Value::Null)
    }

    /// Install-CsMirrorDatabase -DatabaseType PersistentChat.
    pub(in crate::lab) fn install_chat_mirror(&mut self, call: &Call) -> Result<Value, OpError> {
        let fqdn = call.required("SqlServerFqdn")?;
        let instance = call.text("SqlInstanceName")?;
        let share = call.required("FileShare")?;
        let named = |id: &String| {
            self.sql.get(id).is_some_and(|i| {
                i.server.eq_ignore_ascii_case(&fqdn)
                    && match (&i.instance, &instance) {
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                        (None, None) => true,
                        _ => false,
                    }
            })
        };
        // The store named is a primary or a backup store; the topology says
        // which instance mirrors it and which one witnesses.
        let roles = self.lync.persistent_chat.values().find_map(|p| {
            let t = &p.mgc;
            if named(&t.primary) {
                Some((t.primary.clone(), t.mirror.clone(), t.witness.clone()))
            } else if named(&t.backup) {
                Some((
                    t.backup.clone(),
                    t.backup_mirror.clone(),
                    t.backup_witness.clone(),
                ))
            } else {
                None
            }
        });
        let store = match &instance {
            Some(i) => format!("{fqdn}\\{i}"),
            None => fqdn.clone(),
        };
        let Some((principal, mirror, witness)) = roles else {
            return Err(call.error(format!(
                "No Persistent Chat database store on {store} in the published topology."
            )));
        };
        let Some(mirror) = mirror else {
            return Err(call.error(format!(
                "The topology defines no mirror for the Persistent Chat store on {store}."
            )));
        };
        for id in [&principal, &mirror] {
            if !self.instance_up(id) {
                return Err(call.error(format!(
                    "Cannot connect to SQL Server {}.",
                    self.sql.name(id)
                )));
            }
        }
        let online = self
            .sql
            .database(&principal, CHAT_DATABASE)
            .is_some_and(|d| d.state == DbState::Online);
        if !online {
            return Err(call.error(format!(
                "Database {CHAT_DATABASE} on {} is not online: it cannot be backed up to seed the mirror.",
                self.sql.name(&principal)
            )));
        }
        // Both partners' SQL services read and write the share: a folder the
        // lab knows must be reachable from both (a share in a lost data
        // center, or behind a cut link, is not).
        let share_usable = if self.folders.key(&share).is_some() {
            [&principal, &mirror]
                .iter()
                .all(|id| self.folder_reachable_from(id, &share))
        } else {
            self.server_up(unc_server(&share).unwrap_or_default())
        };
        if !share_usable {
            return Err(call.error(format!("The file share {share} is not accessible.")));
        }
        if self.sql.database(&mirror, CHAT_DATABASE).is_some()
            && !call.switch("DropExistingDatabasesOnMirror")
        {
            return Err(call.error(format!(
                "Database {CHAT_DATABASE} already exists on the mirror {}: use -DropExistingDatabasesOnMirror to replace it.",
                self.sql.name(&mirror)
            )));
        }
        self.sql
            .establish_mirroring(&principal, &mirror, witness.as_deref(), CHAT_DATABASE);
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::*;
    use crate::op::Op;

    const FE: &str = "fe-red1.litwareinc.com";

    fn run(lab: &mut LabState, name: &str, args: &[(&str, PsValue)]) -> Result<Value, OpError> {
        run_on(lab, FE, name, args)
    }

    fn replace(servers: &[&str]) -> PsValue {
        PsValue::Table(vec![(
            "Replace".into(),
            PsValue::List(servers.iter().map(|s| s.to_string()).collect()),
        )])
    }

    #[test]
    fn every_documented_identity_form_names_the_pool() {
        let mut lab = litware();
        for identity in [
            POOL.to_string(),
            format!("service:{POOL}"),
            format!("PersistentChatServer:{POOL}"),
            format!("Service:PersistentChatServer:{}", POOL.to_uppercase()),
        ] {
            let state = run(
                &mut lab,
                "get-cspersistentchatstate",
                &[("Identity", s(&identity))],
            )
            .unwrap();
            assert_eq!(
                state,
                json!({"Identity": format!("PersistentChatServer:{POOL}"), "PoolState": "Normal"})
            );
        }
        let unknown = message(run(
            &mut lab,
            "Get-CsPersistentChatState",
            &[("Identity", s("service:other.litwareinc.com"))],
        ));
        assert!(
            unknown.starts_with("Cannot find \"service:other.litwareinc.com\""),
            "{unknown}"
        );
        let services = run(
            &mut lab,
            "Get-CsService",
            &[("PersistentChatServer", PsValue::Switch)],
        )
        .unwrap();
        assert_eq!(
            services,
            json!([{"Identity": format!("PersistentChatServer:{POOL}"), "PoolFqdn": POOL, "SiteId": "Site:redmond"}])
        );
    }

    #[test]
    fn set_state_switches_the_pool_and_refuses_other_values() {
        let mut lab = litware();
        let set = |v: &str| [("Identity", s(POOL)), ("PoolState", s(v))];
        assert_eq!(
            run(&mut lab, "Set-CsPersistentChatState", &set("failedover")).unwrap(),
            Value::Null
        );
        assert_eq!(lab.lync.persistent_chat[POOL].state, PoolState::FailedOver);
        assert!(
            message(run(&mut lab, "Set-CsPersistentChatState", &set("Broken")))
                .contains("Normal, FailedOver")
        );
        let missing = message(run(
            &mut lab,
            "Set-CsPersistentChatState",
            &[("Identity", s(POOL))],
        ));
        assert!(
            missing.ends_with("missing mandatory parameters: PoolState."),
            "{missing}"
        );
    }

    #[test]
    fn active_servers_must_sit_with_the_primary_database() {
        let mut lab = litware();
        let set = |v: PsValue| {
            [
                ("Identity", s(&format!("service:{POOL}"))),
                ("ActiveServers", v),
            ]
        };
        let err = message(run(
            &mut lab,
            "Set-CsPersistentChatActiveServer",
            &set(replace(&[
                "pchat-red1.litwareinc.com",
                "pchat-dub1.litwareinc.com",
            ])),
        ));
        assert_eq!(
            err,
            "Active servers must be in the same data center as the primary Persistent Chat database (site redmond), \
             or in one with a low-latency, high-bandwidth connection to it: pchat-dub1.litwareinc.com is in dublin."
        );
        let stranger = message(run(
            &mut lab,
            "Set-CsPersistentChatActiveServer",
            &set(PsValue::Str("fe-red1.litwareinc.com".into())),
        ));
        assert!(
            stranger.starts_with("fe-red1.litwareinc.com is not a server of Persistent Chat pool"),
            "{stranger}"
        );
        assert_eq!(
            lab.lync.persistent_chat[POOL].active_servers,
            vec!["pchat-red1.litwareinc.com", "pchat-red2.litwareinc.com"]
        );

        run(
            &mut lab,
            "Set-CsPersistentChatActiveServer",
            &set(PsValue::Null),
        )
        .unwrap();
        assert!(lab.lync.persistent_chat[POOL].active_servers.is_empty());
        let add = PsValue::Table(vec![(
            "Add".into(),
            PsValue::Str("PCHAT-RED2.litwareinc.com".into()),
        )]);
        run(&mut lab, "Set-CsPersistentChatActiveServer", &set(add)).unwrap();
        let got = run(&mut lab, "Get-CsPersistentChatActiveServer", &[]).unwrap();
        assert_eq!(
            got,
            json!([{"Identity": format!("PersistentChatServer:{POOL}"), "ActiveServers": ["pchat-red2.litwareinc.com"]}])
        );
    }

    #[test]
    fn active_servers_follow_an_automatic_mirror_failover_but_stay_in_site() {
        let mut lab = litware();
        lab.apply_fault("instance-down:pcsql-red1").unwrap();
        let set = [("ActiveServers", replace(&["pchat-red1.litwareinc.com"]))];
        assert_eq!(
            run(&mut lab, "Set-CsPersistentChatActiveServer", &set).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn install_mirror_seeds_the_backup_mirror_once() {
        let mut lab = litware();
        let args = |instance: &str| {
            vec![
                ("DatabaseType", s("PersistentChat")),
                ("SqlServerFqdn", s("pcsql-dub1.litwareinc.com")),
                ("SqlInstanceName", s(instance)),
                ("FileShare", s(SHARE)),
            ]
        };
        // The backup mgc is still restoring: nothing to back up and seed from.
        assert!(
            message(run(&mut lab, "Install-CsMirrorDatabase", &args("pchat")))
                .contains("is not online")
        );
        lab.sql
            .get_mut("pcsql-dub1")
            .unwrap()
            .databases
            .get_mut("mgc")
            .unwrap()
            .state = DbState::Online;
        assert!(
            message(run(&mut lab, "Install-CsMirrorDatabase", &args("other")))
                .starts_with("No Persistent Chat database store")
        );
        run(&mut lab, "Install-CsMirrorDatabase", &args("pchat")).unwrap();
        let mirror = &lab.sql["pcsql-dub2"].databases["mgc"];
        assert_eq!(
            mirror.mirroring.as_ref().map(|m| m.partner.as_str()),
            Some("pcsql-dub1")
        );
        assert!(
            message(run(&mut lab, "Install-CsMirrorDatabase", &args("pchat")))
                .contains("-DropExistingDatabasesOnMirror")
        );
        let mut again = args("pchat");
        again.push(("DropExistingDatabasesOnMirror", PsValue::Switch));
        run(&mut lab, "Install-CsMirrorDatabase", &again).unwrap();

        let mut other = args("pchat");
        other[0].1 = s("User");
        assert!(message(run(&mut lab, "Install-CsMirrorDatabase", &other))
            .contains("is not the primary Back End server of a Front End pool"));
    }

    #[test]
    fn whatif_checks_and_changes_nothing() {
        let mut lab = litware();
        let before = lab.lync.clone();
        let args = [
            ("Identity", s(POOL)),
            ("PoolState", s("FailedOver")),
            ("WhatIf", PsValue::Switch),
        ];
        assert_eq!(
            run(&mut lab, "Set-CsPersistentChatState", &args).unwrap(),
            Value::Null
        );
        assert_eq!(lab.lync, before);
    }

    #[test]
    fn parameters_are_bound_like_powershell_and_probed_with_get_command() {
        let mut lab = litware();
        let wrong = message(run(
            &mut lab,
            "Set-CsPersistentChatState",
            &[("Identity", s(POOL)), ("State", s("Normal"))],
        ));
        assert_eq!(
            wrong,
            "A parameter cannot be found that matches parameter name 'State'."
        );
        let probe = run(
            &mut lab,
            "Get-Command",
            &[("Name", s("set-cspersistentchatactiveserver"))],
        )
        .unwrap();
        assert_eq!(probe["Name"], "Set-CsPersistentChatActiveServer");
        assert!(probe["Parameters"]
            .as_array()
            .unwrap()
            .contains(&json!("ActiveServers")));
        let missing = message(run(
            &mut lab,
            "Get-Command",
            &[("Name", s("Set-CsNothing"))],
        ));
        assert!(
            missing.starts_with("The term 'Set-CsNothing' is not recognized"),
            "{missing}"
        );
        let unsimulated = run(&mut lab, "Move-CsUser", &[]).unwrap_err();
        assert_eq!(
            unsimulated,
            OpError::NotSimulated {
                message: "the lab does not simulate Move-CsUser".into()
            }
        );
    }

    #[test]
    fn cmdlets_need_a_known_host_that_is_up() {
        let mut lab = litware();
        let unknown = lab
            .perform(&cmdlet("nowhere", "Get-CsService", &[]))
            .result
            .unwrap_err();
        assert!(matches!(unknown, OpError::NotSimulated { .. }));
        lab.apply_fault("cms-away-from:redmond").unwrap();
        lab.apply_fault("primary-site-down").unwrap();
        let down = lab
            .perform(&cmdlet(FE, "Get-CsService", &[]))
            .result
            .unwrap_err();
        assert!(matches!(down, OpError::Unreachable { ref host, .. } if host == FE));
        let op = Op::Cmdlet {
            host: "fe-dub1.litwareinc.com".into(),
            cmdlet: "Get-CsPersistentChatState".into(),
            args: vec![],
        };
        assert_eq!(lab.perform(&op).sim_seconds, 3);
    }
}
