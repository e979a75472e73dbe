//! The estate: sites, servers, SQL instances and pools, read from a TOML
//! estate file and checked before anything uses it. A loaded `Estate` is
//! known to be consistent: every name it references exists.
//!
//! `file.rs` is the schema (closed choices are enums), `validate.rs` the
//! referential rules a file must keep to load, `design.rs` the
//! documentation's design rules `estate-check` reports, `names.rs` the FQDN
//! and DNS name checks. The live target's settings ride along unread
//! (`file::Settings`); `live::config` reads them.

pub mod design;
pub mod file;
pub mod generate;
pub mod names;
pub mod places;
pub mod quoted;
pub mod validate;

pub use design::{Finding, DESIGN_RULES};
pub use file::{
    BackEnd, BackEndHa, BackupService, ChatDatabase, DnsRecord, DnsType, EdgePool, Edition,
    EstateFile, FrontEndPool, Info, LogShipping, MirroringMode, PersistentChatPool, Platform, Role,
    Server, Settings, Site, SqlInstance, XmppRouteParameter,
};
pub use names::{is_dns_name, is_fqdn};
pub use validate::{
    out_of_range, CHANGES_PER_MINUTE_MAX, PC_MAX_ACTIVE, PC_MAX_SERVERS, SYNC_INTERVAL_MAX,
    SYNC_INTERVAL_MIN, TX_PER_MINUTE_MAX, USERS_MAX,
};

use crate::error::{line_col, Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The built-in lab estate, embedded so the binary works from any directory.
pub const BUILTIN_NAME: &str = "litware";
pub const BUILTIN_TOML: &str = include_str!("../../estates/litware.toml");

/// A loaded, validated estate.
#[derive(Debug, Clone)]
pub struct Estate {
    pub file: EstateFile,
    /// Where it came from, for messages: a path or `<built-in litware>`.
    pub source: String,
    /// The file's absolute path, so a resumed run finds it from anywhere.
    pub path: Option<PathBuf>,
    pub sha256: String,
    /// The file's text, to turn the spans of carried settings into line:col.
    text: Arc<str>,
}

impl Estate {
    pub fn builtin() -> Result<Estate> {
        Estate::parse(BUILTIN_TOML, &format!("<built-in {BUILTIN_NAME}>"))
    }

    pub fn load(path: &Path) -> Result<Estate> {
        let text = Error::read_text(path)?;
        let mut estate = Estate::parse(&text, &path.display().to_string())?;
        estate.path = Some(std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?);
        Ok(estate)
    }

    pub fn parse(text: &str, source: &str) -> Result<Estate> {
        let file: EstateFile = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            Error::EstateSyntax {
                file: source.to_string(),
                line,
                col,
                message: e.message().to_string(),
            }
        })?;
        let estate = Estate {
            file,
            source: source.to_string(),
            path: None,
            sha256: sha256_hex(text.as_bytes()),
            text: Arc::from(text),
        };
        let mut problems = validate::validate(&estate.file);
        if let Ok(root) = toml::from_str::<places::Node>(text) {
            problems.extend(quoted::control_characters(&root));
        }
        estate.refuse(problems)?;
        Ok(estate)
    }

    /// An error at a place in the estate file (a span of carried `Settings`),
    /// as `file:line:col`, like the TOML reader's own.
    pub fn syntax_error(&self, span: std::ops::Range<usize>, message: String) -> Error {
        let (line, col) = line_col(&self.text, span.start);
        Error::EstateSyntax {
            file: self.source.clone(),
            line,
            col,
            message,
        }
    }

    /// Refuse the estate if it breaks any of `problems`, naming them all,
    /// each at the `file:line:col` of the key its message starts with.
    pub fn refuse(&self, problems: Vec<String>) -> Result<()> {
        if problems.is_empty() {
            return Ok(());
        }
        let root = toml::from_str::<places::Node>(&self.text).ok();
        let problems: Vec<String> = problems
            .into_iter()
            .map(|problem| {
                let at = root
                    .as_ref()
                    .and_then(|r| places::locate(r, &places::leading_path(&problem)));
                match at {
                    Some(offset) => {
                        let (line, col) = line_col(&self.text, offset);
                        format!("{}:{line}:{col}: {problem}", self.source)
                    }
                    None => problem,
                }
            })
            .collect();
        Err(Error::Estate {
            file: self.source.clone(),
            message: format!(
                "the estate breaks {} rule{}:\n  {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                problems.join("\n  ")
            ),
        })
    }

    /// A lab (its state file at `lab_path`, built from the estate with
    /// `lab_sha256`) may only be driven with the estate it was built from.
    pub fn check_lab(&self, lab_sha256: &str, lab_path: &Path) -> Result<()> {
        if !lab_sha256.is_empty() && lab_sha256 != self.sha256 {
            return Err(Error::LabState {
                path: lab_path.to_path_buf(),
                message: format!(
                    "it was built from another estate (sha256 {}…) than {} (sha256 {}…); pass the same --estate, or",
                    &lab_sha256[..lab_sha256.len().min(12)],
                    self.source,
                    &self.sha256[..12]
                ),
            });
        }
        Ok(())
    }

    pub fn site_of_server(&self, fqdn: &str) -> Option<&str> {
        self.file.servers.get(fqdn).map(|s| s.site.as_str())
    }

    pub fn site_of_instance(&self, id: &str) -> Option<&str> {
        self.file
            .sql
            .get(id)
            .and_then(|i| self.site_of_server(&i.server))
    }

    /// `server\instance`, as SQL Server names it.
    pub fn instance_name(&self, id: &str) -> Option<String> {
        self.file.sql.get(id).map(|i| match &i.instance {
            Some(n) => format!("{}\\{}", i.server, n),
            None => i.server.clone(),
        })
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_estate_is_valid() {
        let e = Estate::builtin().unwrap();
        assert_eq!(e.site_of_instance("pcsql-dub1"), Some("dublin"));
        assert_eq!(
            e.instance_name("pcsql-dub1").unwrap(),
            "pcsql-dub1.litwareinc.com\\pchat"
        );
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let err = Estate::parse("[estate]\nname = \"x\"\ndomain = \n", "e.toml").unwrap_err();
        match err {
            Error::EstateSyntax { line, .. } => assert_eq!(line, 3),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn active_server_outside_primary_site_is_refused() {
        let text = BUILTIN_TOML.replace(
            "active_servers = [\"pchat-red1.litwareinc.com\", \"pchat-red2.litwareinc.com\"]",
            "active_servers = [\"pchat-red1.litwareinc.com\", \"pchat-dub1.litwareinc.com\"]",
        );
        let msg = Estate::parse(&text, "x.toml").unwrap_err().to_string();
        assert!(
            msg.contains("pchat-dub1.litwareinc.com (dublin) is not in site \"redmond\""),
            "{msg}"
        );
    }

    #[test]
    fn an_unknown_choice_is_a_syntax_error_at_its_line() {
        let text = BUILTIN_TOML.replacen("role = \"front-end\"", "role = \"frontend\"", 1);
        let line = text[..text.find("\"frontend\"").unwrap()].lines().count();
        match Estate::parse(&text, "x.toml").unwrap_err() {
            Error::EstateSyntax {
                line: at, message, ..
            } => {
                assert_eq!(at, line);
                assert!(message.contains("unknown variant `frontend`"), "{message}");
                assert!(message.contains("`persistent-chat`"), "{message}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn connection_keys_are_carried_with_their_place() {
        let text = BUILTIN_TOML.replacen(
            "instance = \"pchat\"",
            "instance = \"pchat\"\nprot = 1433",
            1,
        );
        let e = Estate::parse(&text, "x.toml").unwrap();
        let (id, inst) = e
            .file
            .sql
            .iter()
            .find(|(_, i)| !i.connection.0.is_empty())
            .unwrap();
        let (key, value) = &inst.connection.0[0];
        assert_eq!(
            (key.get_ref().as_str(), value.get_ref().as_integer()),
            ("prot", Some(1433))
        );
        let err = e
            .syntax_error(key.span(), format!("sql.{id}: unknown key"))
            .to_string();
        let (line, col) = line_col(&text, text.find("prot").unwrap());
        assert!(err.starts_with(&format!("x.toml:{line}:{col}: ")), "{err}");
    }

    fn load_error(text: &str) -> String {
        Estate::parse(text, "x.toml").unwrap_err().to_string()
    }

    fn findings(text: &str) -> Vec<Finding> {
        Estate::parse(text, "x.toml").unwrap().design_findings()
    }

    #[test]
    fn builtin_estate_has_paired_pools_and_breaks_no_design_rule() {
        let e = Estate::builtin().unwrap();
        let red = &e.file.pools["pool-red.litwareinc.com"];
        assert_eq!(red.backup_pool.as_deref(), Some("pool-dub.litwareinc.com"));
        assert!(red.hosts_cms && red.back_end.witness.as_deref() == Some("besql-redw"));
        assert_eq!(e.file.edge_pools.len(), 2);
        assert_eq!(e.file.dns.len(), 4);
        assert_eq!(
            crate::time::parse_hms(&e.file.backup_service.sync_interval),
            Some(120)
        );
        assert_eq!(e.design_findings(), vec![]);
    }

    #[test]
    fn referential_errors_stop_the_load_naming_key_and_value() {
        let cases = [
            (
                "backup_pool = \"pool-dub.litwareinc.com\"\nhosts_cms",
                "backup_pool = \"pool-x.litwareinc.com\"\nhosts_cms",
                "pools.\"pool-red.litwareinc.com\".backup_pool = \"pool-x.litwareinc.com\" is not a Front End pool",
            ),
            (
                "principal = \"besql-red1\"",
                "principal = \"besql-nope\"",
                "back_end.principal = \"besql-nope\" is not a SQL instance",
            ),
            (
                "front_ends = [\"fe-red1.litwareinc.com\", \"fe-red2.litwareinc.com\"]",
                "front_ends = [\"fe-red1.litwareinc.com\", \"fe-dub2.litwareinc.com\"]",
                "\"fe-dub2.litwareinc.com\" is in site \"dublin\", not the pool's site \"redmond\"",
            ),
            (
                "servers = [\"edge-red1.litwareinc.com\"]",
                "servers = [\"fe-red1.litwareinc.com\"]",
                "has role \"front-end\", not \"edge\"",
            ),
            (
                "next_hop = \"pool-red.litwareinc.com\"",
                "next_hop = \"pchat.litwareinc.com\"",
                "next_hop = \"pchat.litwareinc.com\" is not a Front End pool",
            ),
            (
                "xmpp_federation_route = \"edge-red.litwareinc.com\"",
                "xmpp_federation_route = \"edge-x.litwareinc.com\"",
                "sites.redmond.xmpp_federation_route = \"edge-x.litwareinc.com\" is not an Edge pool",
            ),
            (
                "sync_interval = \"00:02:00\"",
                "sync_interval = \"04:00:00\"",
                "backup_service.sync_interval = \"04:00:00\" must be between 00:00:05 and 03:00:00",
            ),
            (
                "edition = \"enterprise\"\nplatform = \"physical\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-dub",
                "edition = \"premium\"\nplatform = \"physical\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-dub",
                "estate file syntax error: unknown variant `premium`, expected `enterprise` or `standard`",
            ),
            (
                "hosts_cms = true",
                "hosts_cms = false",
                "exactly one pool hosts the Central Management Store (hosts_cms = true); found none",
            ),
            ("port = 5269\n", "", "dns[1].port is required for an SRV record"),
            (
                "lab_start = ",
                "xmpp_route_parameter = \"XmppRoute\"\nlab_start = ",
                "estate file syntax error: unknown variant `XmppRoute`, expected `XmppFederationRoute` or `XmppExternalFederationRoute`",
            ),
            (
                "type = \"A\"\ntarget = \"edge-red1.litwareinc.com\"\n\n[[dns]]\nname = \"xmpp",
                "type = \"MX\"\ntarget = \"edge-red1.litwareinc.com\"\n\n[[dns]]\nname = \"xmpp",
                "estate file syntax error: unknown variant `MX`, expected `A` or `SRV`",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(BUILTIN_TOML.contains(from), "{from}");
            let msg = load_error(&BUILTIN_TOML.replacen(from, to, 1));
            assert!(msg.contains(expected), "{expected}\n{msg}");
        }
        // Pairing is mutual.
        let text = BUILTIN_TOML.replacen("backup_pool = \"pool-red.litwareinc.com\"\n", "", 1);
        assert!(load_error(&text).contains("pairing is mutual"));
    }

    #[test]
    fn each_design_rule_is_a_finding_not_a_load_error() {
        let dub = "os = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-red";
        let cases: [(&str, &str, &str, &[&str]); 10] = [
            (
                "edition = \"enterprise\"\nplatform = \"physical\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-red",
                "edition = \"standard\"\nplatform = \"physical\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-red",
                "pair-edition",
                &["pool-dub.litwareinc.com", "pool-red.litwareinc.com"],
            ),
            (
                "platform = \"physical\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-red",
                "platform = \"virtual\"\nos = \"Windows Server 2012 R2\"\nbackup_pool = \"pool-red",
                "pair-platform",
                &["pool-dub.litwareinc.com", "pool-red.litwareinc.com"],
            ),
            (dub, "os = \"Windows Server 2008 R2\"\nbackup_pool = \"pool-red", "pair-os", &["pool-dub.litwareinc.com", "pool-red.litwareinc.com"]),
            (
                "ha = \"mirroring\"\nmirroring = \"synchronous\"\nprincipal = \"besql-dub1\"\nmirror = \"besql-dub2\"\n",
                "ha = \"cluster\"\nprincipal = \"besql-dub1\"\n",
                "pair-back-end-ha",
                &["pool-dub.litwareinc.com", "pool-red.litwareinc.com"],
            ),
            (
                "site = \"dublin\"\nedition",
                "site = \"redmond\"\nedition",
                "backup-pool-site",
                &["pool-dub.litwareinc.com", "pool-red.litwareinc.com", "redmond"],
            ),
            (
                "mirroring = \"synchronous\"\nprincipal = \"besql-red1\"",
                "mirroring = \"asynchronous\"\nprincipal = \"besql-red1\"",
                "synchronous-mirroring",
                &["pool-red.litwareinc.com", "besql-red1", "besql-red2"],
            ),
            (
                "instance = \"rtc\"\nversion = \"2012\"\nedition = \"Standard\"",
                "instance = \"rtc\"\nversion = \"2008 R2\"\nedition = \"Standard\"",
                "sql-version",
                &["besql-red1", "besql-red2", "besql-redw"],
            ),
            (
                "server = \"besql-red2.litwareinc.com\"\ninstance = \"rtc\"\nversion = \"2012\"\nedition = \"Enterprise\"",
                "server = \"besql-red2.litwareinc.com\"\ninstance = \"rtc\"\nversion = \"2012\"\nedition = \"Standard\"",
                "sql-edition",
                &["besql-red1", "besql-red2"],
            ),
            (
                "federation = false",
                "federation = true",
                "one-federation-edge-pool",
                &["edge-dub.litwareinc.com", "edge-red.litwareinc.com"],
            ),
            (
                "management_host = \"fe-dub1.litwareinc.com\"\n",
                "management_host = \"fe-dub1.litwareinc.com\"\nxmpp_federation_route = \"edge-dub.litwareinc.com\"\n",
                "one-xmpp-route",
                &["dublin", "redmond"],
            ),
        ];
        // Dublin's pool moved to Redmond, with a Redmond front end.
        let same_site = BUILTIN_TOML
            .replacen(
                "front_ends = [\"fe-dub1.litwareinc.com\", \"fe-dub2.litwareinc.com\"]",
                "front_ends = [\"fe-red3.litwareinc.com\"]",
                1,
            )
            .replacen(
                "# --- SQL Server instances",
                "[servers.\"fe-red3.litwareinc.com\"]\nsite = \"redmond\"\nrole = \"front-end\"\n\n# --- SQL Server instances",
                1,
            );
        for (from, to, rule, objects) in cases {
            let base = if rule == "backup-pool-site" {
                &same_site
            } else {
                BUILTIN_TOML
            };
            assert!(base.contains(from), "{rule}: {from}");
            let found = findings(&base.replacen(from, to, 1));
            let of_rule: Vec<&Finding> = found.iter().filter(|f| f.rule == rule).collect();
            assert_eq!(of_rule.len(), 1, "{rule}: {found:?}");
            assert_eq!(of_rule[0].objects, objects, "{rule}");
            assert!(DESIGN_RULES.iter().any(|(id, _)| *id == rule));
        }
        // A Standard Edition pair mirroring its Back End.
        let se = BUILTIN_TOML.replacen("edition = \"enterprise\"", "edition = \"standard\"", 2);
        let found = findings(&se);
        assert_eq!(
            found.iter().map(|f| f.rule).collect::<Vec<_>>(),
            vec![
                "standard-edition-back-end-ha",
                "standard-edition-back-end-ha"
            ]
        );
    }
}
