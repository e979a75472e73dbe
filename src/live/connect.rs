//! How to reach one SQL instance: the estate's `[sql.ID]` connection
//! settings (checked by `config`) resolved once (the password read into a `Secret`), and the
//! tiberius connection made from them.
//!
//! Messages name the instance, its address and the login — never the
//! password, which only `AuthMethod::sql_server` ever sees.

use super::answered::Watched;
use super::browser;
use super::config::{Encryption, SqlConnection};
use super::outcome::{self, Site};
use super::sql::Conn;
use crate::error::Error;
use crate::estate::{Estate, SqlInstance};
use crate::secret::Secret;
use crate::targets::OpError;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncWriteCompatExt;

const DEFAULT_CONNECT_TIMEOUT: u64 = 15;
const DEFAULT_COMMAND_TIMEOUT: u64 = 600;
const DEFAULT_BROWSER_PORT: u16 = 1434;

#[derive(Clone)]
pub enum Auth {
    Sql {
        login: String,
        password: Secret,
    },
    /// Windows integrated authentication (the process's own account).
    #[cfg(windows)]
    Integrated,
}

#[derive(Clone)]
pub enum Trust {
    /// Verify the certificate against the system's roots.
    System,
    /// Accept any certificate (a lab).
    Any,
    CaFile(String),
}

/// One SQL instance as the live target reaches it.
#[derive(Clone)]
pub struct Endpoint {
    pub id: String,
    /// `server\instance`, as SQL Server names itself.
    pub name: String,
    pub host: String,
    pub port: Option<u16>,
    pub instance: Option<String>,
    /// SQL Browser's UDP port, asked when `port` is not given.
    pub browser_port: u16,
    pub encryption: EncryptionLevel,
    pub trust: Trust,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub auth: Auth,
    /// Log in with ApplicationIntent=ReadOnly (a plan's sessions).
    pub read_only: bool,
}

fn setup(id: &str, message: impl Into<String>) -> Error {
    Error::LiveSetup {
        what: format!("sql.{id}"),
        message: message.into(),
    }
}

impl Endpoint {
    /// Resolve `[sql.ID]` (the instance, and its checked connection
    /// settings `c`); a missing password is an error now, before any op.
    pub fn from_estate(
        estate: &Estate,
        id: &str,
        inst: &SqlInstance,
        c: &SqlConnection,
    ) -> Result<Endpoint, Error> {
        let encryption = match c.encryption.unwrap_or_default() {
            Encryption::Required => EncryptionLevel::Required,
            Encryption::Off => EncryptionLevel::Off,
            Encryption::NotSupported => EncryptionLevel::NotSupported,
        };
        let trust = match (&c.ca_file, c.trust_cert) {
            (Some(ca), _) => Trust::CaFile(ca.clone()),
            (None, Some(true)) => Trust::Any,
            _ => Trust::System,
        };
        let auth = match &c.login {
            Some(login) => {
                let password = match (&c.password_env, &c.credentials_file) {
                    (Some(var), _) => Secret::from_env(var),
                    (None, Some(file)) => Secret::from_file(Path::new(file)),
                    (None, None) => {
                        return Err(setup(id, format!("login {login:?} has no password_env or credentials_file")))
                    }
                }
                .map_err(|e| setup(id, format!("the password of login {login:?}: {e}")))?;
                Auth::Sql {
                    login: login.clone(),
                    password,
                }
            }
            #[cfg(windows)]
            None => Auth::Integrated,
            #[cfg(not(windows))]
            None => {
                return Err(setup(
                    id,
                    "no login is given, and Windows integrated authentication is only available on Windows; \
                     set login and password_env (or credentials_file)",
                ))
            }
        };
        Ok(Endpoint {
            id: id.to_string(),
            name: estate
                .instance_name(id)
                .unwrap_or_else(|| inst.server.clone()),
            host: c.host.clone().unwrap_or_else(|| inst.server.clone()),
            port: c.port,
            instance: inst.instance.clone(),
            browser_port: c.browser_port.unwrap_or(DEFAULT_BROWSER_PORT),
            encryption,
            trust,
            connect_timeout: Duration::from_secs(
                c.connect_timeout_seconds.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            ),
            command_timeout: Duration::from_secs(
                c.command_timeout_seconds.unwrap_or(DEFAULT_COMMAND_TIMEOUT),
            ),
            auth,
            read_only: false,
        })
    }

    /// `host:port`, or `host\instance (SQL Browser)`.
    pub fn address(&self) -> String {
        match (self.port, &self.instance) {
            (Some(p), _) => format!("{}:{p}", self.host),
            (None, Some(i)) => format!(
                "{}\\{i} (via SQL Browser on UDP {})",
                self.host, self.browser_port
            ),
            (None, None) => format!("{}:1433", self.host),
        }
    }

    fn login(&self) -> String {
        match &self.auth {
            Auth::Sql { login, .. } => format!("login {login}"),
            #[cfg(windows)]
            Auth::Integrated => "Windows integrated authentication".to_string(),
        }
    }

    pub fn unreachable(&self, message: String) -> OpError {
        OpError::Unreachable {
            host: self.name.clone(),
            message,
        }
    }

    /// The tiberius config for the instance on `port`.
    fn config(&self, port: u16) -> Config {
        let mut c = Config::new();
        c.host(&self.host);
        c.port(port);
        c.encryption(self.encryption);
        match &self.trust {
            Trust::System => {}
            Trust::Any => c.trust_cert(),
            Trust::CaFile(path) => c.trust_cert_ca(path),
        }
        c.application_name("drillbook");
        // Not the login's default database, which may be offline or gone.
        c.database("master");
        c.readonly(self.read_only);
        c.handshake_timeout(Some(self.connect_timeout));
        c.command_timeout(Some(self.command_timeout));
        match &self.auth {
            Auth::Sql { login, password } => {
                c.authentication(AuthMethod::sql_server(login, password.expose()))
            }
            #[cfg(windows)]
            Auth::Integrated => c.authentication(AuthMethod::Integrated),
        }
        c
    }

    /// What the outcome classifier needs to name and advise.
    fn site(&self) -> (String, String, String, &'static str) {
        let encryption = match self.encryption {
            EncryptionLevel::Off => "off",
            EncryptionLevel::NotSupported => "not_supported",
            _ => "required",
        };
        (
            format!("[sql.{}]", self.id),
            self.address(),
            self.login(),
            encryption,
        )
    }

    /// Connect (to `master`) and log in. Only a server that never answered
    /// is unreachable; see `outcome`.
    pub async fn connect(&self) -> Result<Conn, OpError> {
        let (table, address, login, encryption) = self.site();
        let site = Site {
            host: &self.name,
            table: &table,
            address: &address,
            login: &login,
            encryption,
            browser: self.port.is_none() && self.instance.is_some(),
        };
        let port = match (self.port, &self.instance) {
            (Some(p), _) => p,
            // No port: SQL Browser finds the named instance's.
            (None, Some(i)) => browser::lookup(&self.host, self.browser_port, i)
                .await
                .map_err(|message| outcome::browser(&site, &message))?,
            (None, None) => 1433,
        };
        let config = self.config(port);
        let tcp = tokio::time::timeout(
            self.connect_timeout,
            TcpStream::connect((self.host.as_str(), port)),
        )
        .await
        .map_err(|_| {
            self.unreachable(format!(
                "no connection to {} within {} s (connect_timeout_seconds)",
                self.address(),
                self.connect_timeout.as_secs()
            ))
        })?
        .map_err(|e| outcome::tcp(&site, e.into()))?;
        let _ = tcp.set_nodelay(true);
        let (stream, answered) = Watched::new(tcp);
        Client::connect(config, stream.compat_write())
            .await
            .map_err(|e| outcome::login(&site, answered.load(Ordering::Relaxed), e))
    }
}
