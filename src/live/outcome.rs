//! How a connection attempt to SQL Server ended, as an `OpError`.
//!
//! *Unreachable* is only a server that is not there: the TCP connection
//! refused, timed out, or reset before any TDS answer (and the host or
//! network down). Everything else — the name does not resolve, SQL Browser
//! has no such instance, TLS or the certificate fails, the login is refused,
//! the answer is not TDS — is a server that may well be there and running:
//! `OpError::Unchecked`, saying what failed and which setting to fix. A check
//! that decides "the primary is lost" stops on it (`sql::lost`).
//!
//! Pure functions of the error and what is known of the endpoint; the
//! shell around them (`connect`) does the I/O.

use crate::targets::{Failed, OpError};
use std::io::ErrorKind;

/// What the classifier needs to know of the endpoint, for its messages.
pub struct Site<'a> {
    /// `server\instance`, as SQL Server names itself.
    pub host: &'a str,
    /// `[sql.ID]`, the estate table to fix.
    pub table: &'a str,
    /// `host:port` or the SQL Browser lookup.
    pub address: &'a str,
    /// `login drillbook`, or Windows integrated authentication.
    pub login: &'a str,
    /// The `encryption` setting asked for (`required`, `off`, `not_supported`).
    pub encryption: &'a str,
    /// The port comes from SQL Browser.
    pub browser: bool,
}

impl Site<'_> {
    fn unreachable(&self, message: String) -> OpError {
        OpError::Unreachable {
            host: self.host.to_string(),
            message,
        }
    }

    fn unchecked(&self, failed: Failed, message: String) -> OpError {
        OpError::Unchecked {
            host: self.host.to_string(),
            failed,
            message,
        }
    }

    fn tls_fix(&self) -> String {
        format!(
            "{table} asks for encryption = \"{enc}\". If the server has no certificate or does not force \
             encryption, set encryption = \"off\" (only the login is encrypted) or \"not_supported\"; if its \
             certificate is not trusted here, set ca_file (trust_cert = true only in a lab); SQL Server \
             2008 R2/2012 without the TLS 1.2 update offers TLS 1.0 only: build drillbook with \
             --no-default-features --features native-tls or install the update (README, live section)",
            table = self.table,
            enc = self.encryption
        )
    }
}

/// The TLS client and the server share no protocol version or cipher suite
/// (rustls' and OpenSSL's words for it).
fn is_tls_mismatch(message: &str) -> bool {
    [
        "ServerDoesNotSupportTls12Or13",
        "ProtocolVersion",
        "HandshakeFailure",
        "InsufficientSecurity",
        "NoCipherSuitesInCommon",
        "unsupported protocol",
        "wrong version number",
        "no protocols available",
        "no shared cipher",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// What a protocol or cipher mismatch means, and the two ways out.
fn tls_mismatch(site: &Site, message: &str, at: &str) -> OpError {
    let ours = if cfg!(feature = "native-tls") {
        "This build's TLS is the system's (native-tls): enable TLS 1.0 or the server's protocol in its configuration"
    } else {
        "This build's TLS (rustls) speaks TLS 1.2 and 1.3 with AEAD cipher suites only; SQL Server 2008 R2 and \
         2012 without the TLS 1.2 update speak TLS 1.0, and Windows Server 2008 R2/2012 offer CBC suites by default"
    };
    site.unchecked(
        Failed::Tls,
        format!(
            "no TLS protocol version or cipher suite in common with the server: {message} ({at}). {ours}. \
             Two ways out: (1) install the TLS 1.2 update for SQL Server and enable TLS 1.2 (with a GCM suite) in \
             the server's Schannel; or (2) build drillbook with native-tls: `cargo build --release \
             --no-default-features --features native-tls` (README, live section: which encryption setting \
             works on which SQL Server version). {} asks for encryption = \"{}\"",
            site.table, site.encryption
        ),
    )
}

/// A connection that goes down before a byte came back is a host that is not there.
fn is_gone(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::TimedOut
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable
            | ErrorKind::NotConnected
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof
    )
}

/// The TCP connection (with the SQL Browser lookup when the port is not given) failed.
pub fn tcp(site: &Site, e: tiberius::error::Error) -> OpError {
    use tiberius::error::Error as E;
    match e {
        E::Io { kind, message } if is_gone(kind) => {
            site.unreachable(format!("cannot connect to {}: {message}", site.address))
        }
        E::Io { message, .. } if message.contains("lookup") || message.contains("resolve") => site
            .unchecked(
                Failed::NameResolution,
                format!(
                    "{}: {message}; check host (or the instance's server name) in {}",
                    site.address, site.table
                ),
            ),
        other if site.browser => site.unchecked(
            Failed::SqlBrowser,
            format!(
                "{}: {other}; set port in {} to the instance's TCP port, or check the instance name",
                site.address, site.table
            ),
        ),
        other => site.unchecked(
            Failed::Protocol,
            format!("cannot connect to {}: {other}; check host and port in {}", site.address, site.table),
        ),
    }
}

/// SQL Browser did not give the named instance's port: it may be a host
/// that is down, or one whose UDP 1434 is blocked; which, it cannot tell.
pub fn browser(site: &Site, message: &str) -> OpError {
    site.unchecked(
        Failed::SqlBrowser,
        format!(
            "{}: {message}; set port in {} to the instance's TCP port (or browser_port to where SQL Browser \
             answers), or check the instance name",
            site.address, site.table
        ),
    )
}

/// The PRELOGIN, TLS handshake or LOGIN7 failed; `answered` if the server
/// had sent anything by then.
pub fn login(site: &Site, answered: bool, e: tiberius::error::Error) -> OpError {
    use tiberius::error::Error as E;
    let at = format!(
        "connecting to {} at {} with {}",
        site.host, site.address, site.login
    );
    match e {
        E::Io { kind, message } if !answered && is_gone(kind) => site.unreachable(format!(
            "{at}: the connection ended before the server answered: {message}"
        )),
        E::Server(t) => site.unchecked(
            Failed::Login,
            format!(
                "error {}: {} ({at}); check login and its password (password_env or credentials_file) in {}, \
                 and that the login exists and is enabled on the instance",
                t.code(),
                t.message(),
                site.table
            ),
        ),
        E::Tls(message) | E::Io { message, .. } if is_tls_mismatch(&message) => tls_mismatch(site, &message, &at),
        E::Tls(message) => site.unchecked(Failed::Tls, format!("{message} ({at}). {}", site.tls_fix())),
        E::Protocol(message) if message.contains("encryption") => {
            site.unchecked(Failed::Tls, format!("{message} ({at}). {}", site.tls_fix()))
        }
        E::Io { message, .. } if site.encryption != "not_supported" => site.unchecked(
            Failed::Tls,
            format!("the server answered, then ended the connection: {message} ({at}). {}", site.tls_fix()),
        ),
        other => site.unchecked(
            Failed::Protocol,
            format!(
                "the server did not answer as SQL Server does: {other} ({at}); check that host and port in {} \
                 point at this SQL Server instance",
                site.table
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiberius::error::Error as E;

    fn site(encryption: &str) -> Site<'static> {
        Site {
            host: "sql1\\pchat",
            table: "[sql.sql1]",
            address: "10.0.0.5:1433",
            login: "login drillbook",
            encryption: Box::leak(encryption.to_string().into_boxed_str()),
            browser: false,
        }
    }

    fn io(kind: ErrorKind) -> E {
        E::Io {
            kind,
            message: format!("{kind:?}"),
        }
    }

    fn io_message(message: &str) -> E {
        E::Io {
            kind: ErrorKind::InvalidData,
            message: message.into(),
        }
    }

    fn kind(e: &OpError) -> String {
        match e {
            OpError::Unreachable { .. } => "unreachable".into(),
            OpError::Unchecked { failed, .. } => format!("{failed:?}"),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn only_a_server_that_never_answered_is_unreachable() {
        let s = site("required");
        for k in [
            ErrorKind::ConnectionRefused,
            ErrorKind::TimedOut,
            ErrorKind::HostUnreachable,
        ] {
            assert_eq!(kind(&tcp(&s, io(k))), "unreachable", "{k:?}");
        }
        assert_eq!(
            kind(&login(&s, false, io(ErrorKind::ConnectionReset))),
            "unreachable"
        );
        // The same reset after the server answered is a handshake it cut off.
        assert_eq!(
            kind(&login(&s, true, io(ErrorKind::ConnectionReset))),
            "Tls"
        );
        assert_eq!(
            kind(&login(
                &site("not_supported"),
                true,
                io(ErrorKind::UnexpectedEof)
            )),
            "Protocol"
        );
        let lookup = E::Io {
            kind: ErrorKind::Other,
            message: "failed to lookup address information".into(),
        };
        assert_eq!(kind(&tcp(&s, lookup)), "NameResolution");
    }

    #[test]
    fn tls_login_and_protocol_failures_say_what_to_fix() {
        let s = site("required");
        let level = login(
            &s,
            true,
            E::Protocol("Server does not allow the requested encryption level.".into()),
        );
        assert_eq!(kind(&level), "Tls");
        let text = level.to_string();
        assert!(
            text.contains("answered but could not be checked: TLS failed"),
            "{text}"
        );
        assert!(
            text.contains("[sql.sql1] asks for encryption = \"required\""),
            "{text}"
        );
        assert!(text.contains("native-tls"), "{text}");
        assert_eq!(
            kind(&login(&s, true, E::Tls("bad certificate".into()))),
            "Tls"
        );
        let tls10 = login(
            &s,
            true,
            io_message("peer is incompatible: ServerDoesNotSupportTls12Or13"),
        );
        assert_eq!(kind(&tls10), "Tls");
        let text = tls10.to_string();
        assert!(
            text.contains("no TLS protocol version or cipher suite in common"),
            "{text}"
        );
        assert!(text.contains("install the TLS 1.2 update"), "{text}");
        assert!(
            text.contains("--no-default-features --features native-tls"),
            "{text}"
        );
        let junk = login(&s, true, E::Protocol("invalid token type 0x6A".into()));
        assert_eq!(kind(&junk), "Protocol");
        assert!(junk
            .to_string()
            .contains("check that host and port in [sql.sql1]"));
    }
}
