//! The live target's settings, typed and checked: how to connect to each SQL
//! instance (`[sql.ID]`'s `host`, `port`, `browser_port`, `encryption`, `trust_cert`,
//! `ca_file`, timeouts, `login`, `password_env`, `credentials_file`) and how
//! to reach the Management Shell and the shares (`[live]`).
//!
//! They sit in the estate file beside what the estate describes, but only
//! the live target reads them: the estate carries them unread with their
//! place in the file (`estate::Settings`), and this module gives them types.
//! A misspelt key or a value of the wrong kind is an error at its
//! `file:line:col`, like any other estate syntax error; settings that do not
//! fit together (a login without a password source, `trust_cert` with a
//! `ca_file`) are refused by name. No secret is read here: `connect.rs`
//! reads the password when the target opens.

use crate::error::Result;
use crate::estate::{Estate, Settings};
use crate::op::unc_server;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the live target connects to one SQL instance; none of it matters to the lab.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlConnection {
    /// Host name or address to connect to [default: the instance's `server`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// TCP port; without it a named instance is found through SQL Browser,
    /// and a default instance listens on 1433.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// SQL Browser's UDP port, asked for a named instance's port when
    /// `port` is not given [default: 1434].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// Trust the server's certificate without checking it (a lab, never production).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_cert: Option<bool>,
    /// A PEM or DER file with the CA that signed the server's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_timeout_seconds: Option<u64>,
    /// SQL login; without it, Windows integrated authentication (Windows only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// The environment variable holding the login's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// A file (mode 600) whose first line is the login's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

/// The encryption levels an estate may ask for, as tiberius names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encryption {
    /// TLS for the whole session (the default).
    #[default]
    Required,
    /// Only the login is encrypted.
    Off,
    NotSupported,
}

/// Where the Management Shell finds the Lync Server cmdlets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShellSession {
    /// `Import-Module Lync` on the machine drillbook runs on (a Front End
    /// or a machine with the Lync Server administrative tools).
    #[default]
    Local,
    /// Lync's remote endpoint on each op's management host:
    /// `New-PSSession -ConnectionUri https://<host>/OcsPowershell
    /// -Authentication NegotiateWithImplicitCredential`, then
    /// `Import-PSSession`, as the account drillbook runs as.
    Remote,
}

/// `[live]`: how the live target runs the Lync Management Shell and reaches shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveSettings {
    /// The command that runs Windows PowerShell and reads a script on stdin.
    #[serde(default = "default_shell")]
    pub shell: Vec<String>,
    /// Where the cmdlets come from: `local` (the default) or `remote`.
    #[serde(default)]
    pub session: ShellSession,
    #[serde(default = "default_shell_timeout")]
    pub shell_timeout_seconds: u64,
    /// UNC prefix → local directory where that share is mounted.
    #[serde(default)]
    pub mounts: BTreeMap<String, String>,
    /// Answer file ops from this lab state file instead of mounts: written
    /// by `drillbook lab serve`, whose twin has no SMB server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab_files: Option<String>,
}

pub fn default_shell() -> Vec<String> {
    // Lync Server 2013's module runs on Windows PowerShell (3.0 to 5.1), not pwsh.
    [
        "powershell.exe",
        "-NoProfile",
        "-NonInteractive",
        "-Command",
        "-",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn default_shell_timeout() -> u64 {
    600
}

impl Default for LiveSettings {
    fn default() -> LiveSettings {
        LiveSettings {
            shell: default_shell(),
            session: ShellSession::Local,
            shell_timeout_seconds: default_shell_timeout(),
            mounts: BTreeMap::new(),
            lab_files: None,
        }
    }
}

/// Every live setting of an estate, typed and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveConfig {
    /// By SQL instance id; every instance of the estate has an entry.
    pub sql: BTreeMap<String, SqlConnection>,
    pub live: LiveSettings,
}

impl LiveConfig {
    /// Read the estate's live settings: a bad key or value is an error at
    /// its line and column; then every rule the settings break, by name.
    pub fn from_estate(estate: &Estate) -> Result<LiveConfig> {
        let mut sql = BTreeMap::new();
        for (id, inst) in &estate.file.sql {
            let conn = typed(estate, &format!("sql.{id}"), &inst.connection)?;
            sql.insert(id.clone(), conn);
        }
        let live = match &estate.file.live {
            Some(settings) => typed(estate, "live", settings)?,
            None => LiveSettings::default(),
        };
        let config = LiveConfig { sql, live };
        estate.refuse(config.problems())?;
        Ok(config)
    }

    /// Every rule the settings break, each naming its key.
    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        for (id, conn) in &self.sql {
            conn.check(id, &mut p);
        }
        let live = &self.live;
        if live.shell.first().is_none_or(|program| program.is_empty()) {
            p.push("live.shell must name a program, like [\"powershell.exe\", \"-NoProfile\", \"-NonInteractive\", \"-Command\", \"-\"]".to_string());
        }
        if live.shell.iter().any(|a| a.contains("{host}")) {
            p.push("live.shell: {host} is not replaced; to run each cmdlet on its op's management host, set live.session = \"remote\" (https://<host>/OcsPowershell)".to_string());
        }
        if live.shell_timeout_seconds == 0 {
            p.push("live.shell_timeout_seconds must be at least 1".to_string());
        }
        for unc in live.mounts.keys() {
            if unc_server(unc).is_none() {
                p.push(format!(
                    "live.mounts: {unc:?} is not a UNC path like \\\\server\\share"
                ));
            }
        }
        p
    }
}

impl SqlConnection {
    fn check(&self, id: &str, p: &mut Vec<String>) {
        if self.trust_cert == Some(true) && self.ca_file.is_some() {
            p.push(format!("sql.{id}: give trust_cert or ca_file, not both"));
        }
        for (key, v) in [("port", self.port), ("browser_port", self.browser_port)] {
            if v == Some(0) {
                p.push(format!("sql.{id}.{key} must be between 1 and 65535"));
            }
        }
        for (key, v) in [
            ("connect_timeout_seconds", self.connect_timeout_seconds),
            ("command_timeout_seconds", self.command_timeout_seconds),
        ] {
            if v == Some(0) {
                p.push(format!("sql.{id}.{key} must be at least 1"));
            }
        }
        match (&self.login, &self.password_env, &self.credentials_file) {
            (_, Some(_), Some(_)) => p.push(format!(
                "sql.{id}: give password_env or credentials_file, not both"
            )),
            (None, Some(_), _) | (None, _, Some(_)) => p.push(format!(
                "sql.{id}: a password source is given but no login"
            )),
            (Some(_), None, None) => p.push(format!(
                "sql.{id}: login is set but neither password_env nor credentials_file says where its password is"
            )),
            _ => {}
        }
    }

    /// As the estate carries it, for an estate file a program writes.
    pub fn to_settings(&self) -> Settings {
        settings_of(self)
    }
}

impl LiveSettings {
    /// As the estate carries it, for an estate file a program writes.
    pub fn to_settings(&self) -> Settings {
        settings_of(self)
    }
}

fn settings_of<T: Serialize>(value: &T) -> Settings {
    Settings::from_table(toml::Table::try_from(value).expect("settings serialize as a table"))
}

/// `settings` read as `T`. Each key is read alone first, so an error points
/// at that key (a misspelt one) or its value (one of the wrong kind).
fn typed<T: DeserializeOwned>(estate: &Estate, at: &str, settings: &Settings) -> Result<T> {
    let table = |entries: &mut dyn Iterator<Item = (String, toml::Value)>| {
        toml::Value::Table(entries.collect()).try_into::<T>()
    };
    for (key, value) in &settings.0 {
        let one = (key.get_ref().clone(), value.get_ref().clone());
        if let Err(e) = table(&mut std::iter::once(one)) {
            let message = e.message().trim().to_string();
            let span = if message.starts_with("unknown field") {
                key.span()
            } else {
                value.span()
            };
            return Err(estate.syntax_error(span, format!("{at}.{}: {message}", key.get_ref())));
        }
    }
    let mut all = settings
        .0
        .iter()
        .map(|(k, v)| (k.get_ref().clone(), v.get_ref().clone()));
    table(&mut all).map_err(|e| {
        let span = settings.0.first().map_or(0..0, |(k, _)| k.span());
        estate.syntax_error(span, format!("{at}: {}", e.message().trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::estate::BUILTIN_TOML;

    const PCSQL: &str =
        "[sql.pcsql-dub1]\nserver = \"pcsql-dub1.litwareinc.com\"\ninstance = \"pchat\"";

    fn config(text: &str) -> Result<LiveConfig> {
        LiveConfig::from_estate(&Estate::parse(text, "x.toml")?)
    }

    #[test]
    fn the_builtin_estate_has_default_settings() {
        let c = config(BUILTIN_TOML).unwrap();
        assert_eq!(c.live, LiveSettings::default());
        assert_eq!(c.sql["pcsql-dub1"], SqlConnection::default());
    }

    #[test]
    fn settings_that_do_not_fit_together_are_refused_by_name() {
        let text = BUILTIN_TOML.replace(
            PCSQL,
            &format!(
                "{PCSQL}\nport = 0\ntrust_cert = true\nca_file = \"ca.pem\"\n\
                 password_env = \"X\"\ncommand_timeout_seconds = 0"
            ),
        ) + "\n[live]\nshell = []\n[live.mounts]\n'D:\\x' = '/mnt/x'\n";
        let msg = config(&text).unwrap_err().to_string();
        for expected in [
            "sql.pcsql-dub1: give trust_cert or ca_file, not both",
            "sql.pcsql-dub1.port must be between 1 and 65535",
            "sql.pcsql-dub1.command_timeout_seconds must be at least 1",
            "sql.pcsql-dub1: a password source is given but no login",
            "live.shell must name a program",
            "live.mounts: \"D:\\\\x\" is not a UNC path",
        ] {
            assert!(msg.contains(expected), "{expected}\n{msg}");
        }
    }

    #[test]
    fn the_remote_endpoint_is_a_session_mode_not_a_host_placeholder() {
        let text = format!("{BUILTIN_TOML}\n[live]\nsession = \"remote\"\n");
        assert_eq!(config(&text).unwrap().live.session, ShellSession::Remote);
        let text =
            format!("{BUILTIN_TOML}\n[live]\nshell = [\"ssh\", \"{{host}}\", \"powershell\"]\n");
        let msg = config(&text).unwrap_err().to_string();
        assert!(msg.contains("live.session = \"remote\""), "{msg}");
        let text = format!("{BUILTIN_TOML}\n[live]\nsession = \"ssh\"\n");
        let msg = config(&text).unwrap_err().to_string();
        assert!(msg.contains("unknown variant `ssh`"), "{msg}");
    }

    #[test]
    fn a_bad_key_or_value_is_an_error_at_its_line_and_column() {
        for (added, needle, expected) in [
            ("prot = 1433", "prot", "unknown field `prot`"),
            (
                "encryption = \"maybe\"",
                "\"maybe\"",
                "unknown variant `maybe`",
            ),
            ("port = \"x\"", "\"x\"", "invalid type"),
        ] {
            let text = BUILTIN_TOML.replace(PCSQL, &format!("{PCSQL}\n{added}"));
            let offset = text.find(added).unwrap() + added.find(needle).unwrap();
            let (line, col) = crate::error::line_col(&text, offset);
            match config(&text).unwrap_err() {
                Error::EstateSyntax {
                    line: l,
                    col: c,
                    message,
                    ..
                } => {
                    assert_eq!((l, c), (line, col), "{added}: {message}");
                    assert!(message.starts_with("sql.pcsql-dub1."), "{message}");
                    assert!(message.contains(expected), "{expected}\n{message}");
                }
                other => panic!("{added}: unexpected {other}"),
            }
        }
        let text = format!("{BUILTIN_TOML}\n[live]\nshel = [\"pwsh\"]\n");
        let msg = config(&text).unwrap_err().to_string();
        assert!(msg.contains("live.shel: unknown field `shel`"), "{msg}");
    }

    #[test]
    fn settings_written_by_a_program_read_back() {
        let conn = SqlConnection {
            host: Some("127.0.0.1".into()),
            port: Some(14330),
            encryption: Some(Encryption::NotSupported),
            login: Some("drillbook".into()),
            password_env: Some("PW".into()),
            ..SqlConnection::default()
        };
        let mut estate = Estate::builtin().unwrap();
        for inst in estate.file.sql.values_mut() {
            inst.connection = conn.to_settings();
        }
        estate.file.live = Some(LiveSettings::default().to_settings());
        let text = toml::to_string(&estate.file).unwrap();
        let c = config(&text).unwrap();
        assert_eq!(c.sql["pcsql-dub1"], conn);
        assert_eq!(c.live, LiveSettings::default());
    }
}
