//! The Edge and federation cmdlets (§3.8–3.11): Get-CsService -EdgeServer,
//! Set-CsEdgeServer, Get-CsSite, Set-CsSite, Stop-/Start-CsWindowsService.
//!
//! The sources disagree on Set-CsSite's XMPP route parameter (§4): the
//! reference's `-XmppFederationRoute EdgeServer:<Edge pool>` or the DR
//! topic's `-XmppExternalFederationRoute <Edge server FQDN>`. The lab's shell
//! takes the one its estate names (`xmpp_route_parameter`), never both.

use crate::estate::XmppRouteParameter;
use crate::lab::cmdlets::{strip_prefix_ci, Call};
use crate::lab::LabState;
use crate::lab::XmppRoute;
use crate::op::PsValue;
use crate::targets::OpError;
use serde_json::{json, Value};

impl LabState {
    /// The Edge pool an Identity names: `EdgeServer:<pool>`, the pool FQDN,
    /// or one of its servers.
    pub(in crate::lab) fn edge_pool_named(
        &self,
        call: &Call,
        identity: &str,
    ) -> Result<String, OpError> {
        let bare = strip_prefix_ci(identity.trim(), "EdgeServer:").unwrap_or(identity.trim());
        let by_pool = self
            .lync
            .edge_pools
            .keys()
            .find(|p| p.eq_ignore_ascii_case(bare));
        let by_server = || {
            self.lync
                .edge_pools
                .iter()
                .find(|(_, e)| e.servers.iter().any(|s| s.eq_ignore_ascii_case(bare)))
                .map(|(n, _)| n)
        };
        by_pool.or_else(by_server).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.lync.edge_pools.keys().map(String::as_str).collect();
            call.error(format!(
                "Cannot find Edge pool \"{identity}\" in the topology (known: {}).",
                known.join(", ")
            ))
        })
    }

    /// The Edge server an FQDN names, and its pool: what the DR topic's
    /// `-XmppExternalFederationRoute` takes. An Edge pool's FQDN is refused,
    /// naming its servers.
    fn edge_server_named(&self, call: &Call, fqdn: &str) -> Result<(String, String), OpError> {
        let bare = fqdn.trim();
        let found = self.lync.edge_pools.iter().find_map(|(pool, e)| {
            e.servers
                .iter()
                .find(|s| s.eq_ignore_ascii_case(bare))
                .map(|s| (pool.clone(), s.clone()))
        });
        found.ok_or_else(|| {
            let pool = strip_prefix_ci(bare, "EdgeServer:").unwrap_or(bare);
            let message = match self
                .lync
                .edge_pools
                .iter()
                .find(|(p, _)| p.eq_ignore_ascii_case(pool))
            {
                Some((p, e)) => format!(
                    "Cannot find Edge server \"{fqdn}\" in the topology: {p} is an Edge pool; \
                     name one of its servers ({}).",
                    e.servers.join(", ")
                ),
                None => {
                    let known: Vec<&str> = self
                        .lync
                        .edge_pools
                        .values()
                        .flat_map(|e| e.servers.iter().map(String::as_str))
                        .collect();
                    format!(
                        "Cannot find Edge server \"{fqdn}\" in the topology (known: {}).",
                        known.join(", ")
                    )
                }
            };
            call.error(message)
        })
    }

    /// Get-CsService -EdgeServer rows.
    pub(in crate::lab) fn edge_service_rows(
        &self,
        call: &Call,
        identity: Option<&str>,
        fqdn: Option<&str>,
    ) -> Result<Vec<Value>, OpError> {
        let only = identity
            .map(|i| self.edge_pool_named(call, i))
            .transpose()?;
        Ok(crate::lab::cmdlets::service_rows(
            self.lync.edge_pools.iter(),
            only,
            fqdn,
            |n, e| {
                json!({
                    "Identity": format!("EdgeServer:{n}"),
                    "PoolFqdn": n,
                    "SiteId": format!("Site:{}", e.site),
                    "Registrar": format!("Registrar:{}", e.next_hop),
                    "FederationEnabled": e.federation,
                })
            },
        ))
    }

    /// Set-CsEdgeServer -Identity EdgeServer:<edge pool> -Registrar Registrar:<pool>.
    pub(in crate::lab) fn set_edge_server(&mut self, call: &Call) -> Result<Value, OpError> {
        for other in [
            "AccessEdgeExternalSipPort",
            "DependentServiceList",
            "Instance",
        ] {
            if call.has(other) {
                return Err(OpError::NotSimulated {
                    message: format!("Set-CsEdgeServer -{other}"),
                });
            }
        }
        let edge = self.edge_pool_named(call, &call.required("Identity")?)?;
        let Some(registrar) = call.text("Registrar")? else {
            return Ok(Value::Null);
        };
        let pool = self.fe_pool(call, &registrar)?;
        if let Some(e) = self.lync.edge_pools.get_mut(&edge) {
            e.next_hop = pool;
        }
        Ok(Value::Null)
    }

    /// The site an Identity names: `Site:<name>` or the name.
    fn site_named(&self, call: &Call, identity: &str) -> Result<String, OpError> {
        let bare = strip_prefix_ci(identity.trim(), "Site:").unwrap_or(identity.trim());
        self.sites
            .keys()
            .find(|s| s.eq_ignore_ascii_case(bare))
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = self.sites.keys().map(String::as_str).collect();
                call.error(format!(
                    "Cannot find site \"{identity}\" in the topology (known: {}).",
                    known.join(", ")
                ))
            })
    }

    pub(in crate::lab) fn get_site(&self, call: &Call) -> Result<Value, OpError> {
        let only = call
            .text("Identity")?
            .map(|i| self.site_named(call, &i))
            .transpose()?;
        let rows = self
            .sites
            .keys()
            .enumerate()
            .filter(|(_, s)| only.as_ref().is_none_or(|o| o == *s))
            .map(|(i, s)| {
                let route = self
                    .lync
                    .xmpp_route
                    .as_ref()
                    .filter(|r| &r.site == s)
                    .map(|r| r.edge_server.as_ref().unwrap_or(&r.edge_pool).clone());
                json!({
                    "Identity": format!("Site:{s}"),
                    "SiteId": i + 1,
                    "XmppExternalFederationRoute": route,
                })
            });
        Ok(Value::Array(rows.collect()))
    }

    /// Set-CsSite -Identity <site> -XmppFederationRoute EdgeServer:<edge pool>
    /// ([R]), or, on a shell that takes the DR topic's form,
    /// -XmppExternalFederationRoute <Edge server>; the route moves to this
    /// site ($null clears it).
    pub(in crate::lab) fn set_site(&mut self, call: &Call) -> Result<Value, OpError> {
        for other in ["FederationRoute", "Description", "DisplayName", "Instance"] {
            if call.has(other) {
                return Err(OpError::NotSimulated {
                    message: format!("Set-CsSite -{other}"),
                });
            }
        }
        let site = self.site_named(call, &call.required("Identity")?)?;
        let param = self.lync.xmpp_route_parameter.as_str();
        match call.value(param) {
            None => {}
            Some(PsValue::Null)
                if self
                    .lync
                    .xmpp_route
                    .as_ref()
                    .is_some_and(|r| r.site == site) =>
            {
                self.lync.xmpp_route = None;
            }
            Some(PsValue::Null) => {}
            Some(_) => {
                let given = call.required(param)?;
                let (edge_pool, edge_server) = match self.lync.xmpp_route_parameter {
                    XmppRouteParameter::XmppFederationRoute => {
                        (self.edge_pool_named(call, &given)?, None)
                    }
                    XmppRouteParameter::XmppExternalFederationRoute => {
                        let (pool, server) = self.edge_server_named(call, &given)?;
                        (pool, Some(server))
                    }
                };
                self.lync.xmpp_route = Some(XmppRoute {
                    site,
                    edge_pool,
                    edge_server,
                });
            }
        }
        Ok(Value::Null)
    }

    /// Stop-CsWindowsService / Start-CsWindowsService [-Name n] [-ComputerName c]
    /// on an Edge server.
    pub(in crate::lab) fn windows_service(
        &mut self,
        call: &Call,
        start: bool,
    ) -> Result<Value, OpError> {
        let computer = call
            .text("ComputerName")?
            .unwrap_or_else(|| call.host.to_string());
        let Some(server) = self
            .servers
            .keys()
            .find(|s| s.eq_ignore_ascii_case(computer.trim()))
            .cloned()
        else {
            return Err(call.error(format!("Cannot find computer \"{computer}\".")));
        };
        let Some(edge) = self
            .lync
            .edge_pools
            .iter()
            .find(|(_, e)| e.servers.contains(&server))
            .map(|(n, _)| n.clone())
        else {
            // Front End services are restarted after a mirroring change (§1):
            // the lab checks the server answers and models no outage.
            let front_end = self
                .servers
                .get(&server)
                .is_some_and(|s| s.role == "front-end");
            if front_end {
                if !self.server_up(&server) {
                    return Err(call.error(format!(
                        "Cannot open Service Control Manager on computer '{server}'. This operation might require other privileges."
                    )));
                }
                return Ok(Value::Null);
            }
            return Err(OpError::NotSimulated {
                message: format!(
                    "{} on {server}: the lab models the services of Edge and Front End servers only",
                    call.spec.name
                ),
            });
        };
        if !self.server_up(&server) {
            return Err(call.error(format!(
                "Cannot open Service Control Manager on computer '{server}'. This operation might require other privileges."
            )));
        }
        let name = call.text("Name")?;
        if let Some(e) = self.lync.edge_pools.get_mut(&edge) {
            let stopped = e.services_stopped.entry(server.clone()).or_default();
            match (start, name) {
                (true, None) => stopped.clear(),
                (true, Some(n)) => stopped.retain(|s| !s.eq_ignore_ascii_case(&n)),
                (false, n) => {
                    let n = n.unwrap_or_else(|| "*".to_string());
                    if !stopped.iter().any(|s| s.eq_ignore_ascii_case(&n)) {
                        stopped.push(n);
                    }
                }
            }
            if stopped.is_empty() {
                e.services_stopped.remove(&server);
            }
        }
        Ok(Value::Null)
    }
}

/// Set-CsSite's XMPP route parameter on `lab`'s shell.
pub(in crate::lab) fn xmpp_route_parameters(lab: &LabState) -> &'static [&'static str] {
    match lab.lync.xmpp_route_parameter {
        XmppRouteParameter::XmppFederationRoute => &["XmppFederationRoute"],
        XmppRouteParameter::XmppExternalFederationRoute => &["XmppExternalFederationRoute"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::*;

    const FE: &str = "fe-red1.litwareinc.com";
    const EDGE_RED: &str = "edge-red.litwareinc.com";
    const EDGE_DUB: &str = "edge-dub.litwareinc.com";

    fn run(lab: &mut LabState, name: &str, args: &[(&str, PsValue)]) -> Result<Value, OpError> {
        run_on(lab, FE, name, args)
    }

    /// Set-CsSite -Identity `site` -`param` `route`.
    fn set_site(
        lab: &mut LabState,
        site: &str,
        param: &str,
        route: &str,
    ) -> Result<Value, OpError> {
        run(
            lab,
            "Set-CsSite",
            &[("Identity", s(site)), (param, s(route))],
        )
    }

    #[test]
    fn edge_services_next_hop_and_federation_as_the_topology_has_them() {
        let mut lab = litware();
        let rows = run(
            &mut lab,
            "Get-CsService",
            &[("EdgeServer", PsValue::Switch)],
        )
        .unwrap();
        assert_eq!(
            rows,
            json!([
                {"Identity": "EdgeServer:edge-dub.litwareinc.com", "PoolFqdn": EDGE_DUB, "SiteId": "Site:dublin",
                 "Registrar": "Registrar:pool-dub.litwareinc.com", "FederationEnabled": false},
                {"Identity": "EdgeServer:edge-red.litwareinc.com", "PoolFqdn": EDGE_RED, "SiteId": "Site:redmond",
                 "Registrar": "Registrar:pool-red.litwareinc.com", "FederationEnabled": true},
            ])
        );
        let registrars = run(&mut lab, "Get-CsService", &[("Registrar", PsValue::Switch)]).unwrap();
        assert_eq!(
            registrars[1]["Identity"],
            "Registrar:pool-red.litwareinc.com"
        );
        run(
            &mut lab,
            "Set-CsEdgeServer",
            &[
                ("Identity", s("EdgeServer:edge-red.litwareinc.com")),
                ("Registrar", s("Registrar:pool-dub.litwareinc.com")),
            ],
        )
        .unwrap();
        assert_eq!(
            lab.lync.edge_pools[EDGE_RED].next_hop,
            "pool-dub.litwareinc.com"
        );
        let err = run(
            &mut lab,
            "Set-CsEdgeServer",
            &[
                ("Identity", s("EdgeServer:edge-red.litwareinc.com")),
                ("Registrar", s("Registrar:nope.x.com")),
            ],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("Cannot find Front End pool"),
            "{err}"
        );
    }

    #[test]
    fn xmpp_route_moves_with_set_cssite_in_the_reference_form_only() {
        let mut lab = litware();
        let sites = run(&mut lab, "Get-CsSite", &[]).unwrap();
        assert_eq!(
            sites,
            json!([
                {"Identity": "Site:dublin", "SiteId": 1, "XmppExternalFederationRoute": null},
                {"Identity": "Site:redmond", "SiteId": 2, "XmppExternalFederationRoute": EDGE_RED},
            ])
        );
        let doc_form = set_site(
            &mut lab,
            "dublin",
            "XmppExternalFederationRoute",
            "edge-dub1.litwareinc.com",
        )
        .unwrap_err();
        assert!(
            doc_form
                .to_string()
                .contains("'XmppExternalFederationRoute'"),
            "{doc_form}"
        );
        set_site(
            &mut lab,
            "Site:dublin",
            "XmppFederationRoute",
            "EdgeServer:edge-dub1.litwareinc.com",
        )
        .unwrap();
        assert_eq!(
            lab.lync.xmpp_route,
            Some(XmppRoute {
                site: "dublin".into(),
                edge_pool: EDGE_DUB.into(),
                edge_server: None,
            })
        );
        let red = run(&mut lab, "Get-CsSite", &[("Identity", s("redmond"))]).unwrap();
        assert_eq!(red[0]["XmppExternalFederationRoute"], Value::Null);
    }

    /// A shell that takes the DR topic's -XmppExternalFederationRoute: an
    /// Edge server, never an Edge pool; the reference's form is unknown.
    #[test]
    fn xmpp_route_moves_to_an_edge_server_on_a_shell_that_takes_the_dr_form() {
        let mut lab = LabState::from_estate(&litware_estate_with(
            "lab_start = ",
            "xmpp_route_parameter = \"XmppExternalFederationRoute\"\nlab_start = ",
        ));
        let red = run(&mut lab, "Get-CsSite", &[("Identity", s("redmond"))]).unwrap();
        assert_eq!(
            red[0]["XmppExternalFederationRoute"],
            "edge-red1.litwareinc.com"
        );
        let params = run(&mut lab, "Get-Command", &[("Name", s("Set-CsSite"))]).unwrap();
        let params = params["Parameters"].as_array().unwrap();
        assert!(params.contains(&json!("XmppExternalFederationRoute")));
        assert!(!params.contains(&json!("XmppFederationRoute")));
        let reference_form = message(set_site(
            &mut lab,
            "dublin",
            "XmppFederationRoute",
            "EdgeServer:edge-dub.litwareinc.com",
        ));
        assert!(
            reference_form.contains("'XmppFederationRoute'"),
            "{reference_form}"
        );
        for pool in [EDGE_DUB, "EdgeServer:edge-dub.litwareinc.com"] {
            let refused = message(set_site(
                &mut lab,
                "dublin",
                "XmppExternalFederationRoute",
                pool,
            ));
            assert_eq!(
                refused,
                format!(
                    "Cannot find Edge server \"{pool}\" in the topology: {EDGE_DUB} is an Edge pool; \
                     name one of its servers (edge-dub1.litwareinc.com)."
                )
            );
        }
        assert_eq!(lab.lync.xmpp_route.as_ref().unwrap().edge_pool, EDGE_RED);
        set_site(
            &mut lab,
            "Site:dublin",
            "XmppExternalFederationRoute",
            "EDGE-DUB1.litwareinc.com",
        )
        .unwrap();
        assert_eq!(
            lab.lync.xmpp_route,
            Some(XmppRoute {
                site: "dublin".into(),
                edge_pool: EDGE_DUB.into(),
                edge_server: Some("edge-dub1.litwareinc.com".into()),
            })
        );
        let dub = run(&mut lab, "Get-CsSite", &[("Identity", s("dublin"))]).unwrap();
        assert_eq!(
            dub[0]["XmppExternalFederationRoute"],
            "edge-dub1.litwareinc.com"
        );
    }

    #[test]
    fn services_run_only_when_every_server_runs_them() {
        let mut lab = litware();
        let stop = [("ComputerName", s("edge-dub1.litwareinc.com"))];
        run(&mut lab, "Stop-CsWindowsService", &stop).unwrap();
        assert!(!lab.lync.edge_pools[EDGE_DUB].services_running);
        assert!(lab.lync.edge_pools[EDGE_DUB].up);
        run(&mut lab, "Start-CsWindowsService", &stop).unwrap();
        assert!(lab.lync.edge_pools[EDGE_DUB].services_running);
        lab.apply_fault("edge-down:edge-dub.litwareinc.com")
            .unwrap();
        let e = &lab.lync.edge_pools[EDGE_DUB];
        assert!(!e.up && !e.services_running);
        let err = run(&mut lab, "Start-CsWindowsService", &stop).unwrap_err();
        assert!(matches!(err, OpError::Cmdlet { .. }), "{err}");
        // Front End services restart (after a mirroring change) with no modeled outage.
        run(
            &mut lab,
            "Stop-CsWindowsService",
            &[("ComputerName", s(FE))],
        )
        .unwrap();
        let fs = run(
            &mut lab,
            "Stop-CsWindowsService",
            &[("ComputerName", s("fs-dub1.litwareinc.com"))],
        )
        .unwrap_err();
        assert!(matches!(fs, OpError::NotSimulated { .. }));
    }
}
