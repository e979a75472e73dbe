//! The twin's TLS, as SQL Server does it in TDS 7.x: PRELOGIN's ENCRYPTION
//! option decides whether there is TLS, and for how long; the handshake's
//! records travel inside PRELOGIN packets; then either the whole session is
//! TLS (`required`, or a client that asks for it) or only the LOGIN7 record
//! is, and the rest is clear again (a client that asks `off`: MS-TDS
//! 2.2.6.5 and 3.3.5.1).
//!
//! The certificate is made at start (rcgen): a CA of its own signs the
//! server's certificate for `127.0.0.1` and `localhost`, and `lab serve`
//! writes that CA beside the live estate for its `ca_file`, so the live
//! client trusts the twin through a setting, never by skipping the check.
//!
//! `Offer::Tls10Only` answers a TLS 1.2/1.3 ClientHello with a TLS 1.0
//! ServerHello (TLS_RSA_WITH_AES_128_CBC_SHA), as SQL Server 2008 R2 and
//! 2012 do on Windows without the TLS 1.2 update: what a client meets there.

use super::tds;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

/// PRELOGIN ENCRYPTION values (MS-TDS 2.2.6.5).
pub const ENCRYPT_OFF: u8 = 0x00;
pub const ENCRYPT_ON: u8 = 0x01;
pub const ENCRYPT_NOT_SUP: u8 = 0x02;
pub const ENCRYPT_REQ: u8 = 0x03;

/// What the twin offers (`lab serve --encryption`, `--tls10-only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// No certificate: PRELOGIN answers ENCRYPT_NOT_SUP.
    None,
    /// A certificate, encryption not forced: the login only for a client
    /// that asks ENCRYPT_OFF, the whole session for one that asks for it.
    Available,
    /// Force Encryption: the whole session, whatever the client asks; a
    /// client that cannot do TLS is refused.
    Forced,
    /// As `Available`, but the server speaks TLS 1.0 only.
    Tls10Only,
}

/// What a connection does after PRELOGIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// No TLS at all.
    Clear,
    /// TLS around LOGIN7, then clear.
    LoginOnly,
    /// TLS for the whole session.
    Whole,
    /// The client cannot do what the server demands: close after the reply.
    Refuse,
}

/// The ENCRYPTION byte the twin answers to the client's, and what follows.
pub fn negotiate(offer: Offer, client: Option<u8>) -> (u8, Plan) {
    let client = client.unwrap_or(ENCRYPT_OFF);
    match (offer, client) {
        (Offer::None, _) => (ENCRYPT_NOT_SUP, Plan::Clear),
        (Offer::Forced, ENCRYPT_NOT_SUP) => (ENCRYPT_REQ, Plan::Refuse),
        (Offer::Forced, _) => (ENCRYPT_REQ, Plan::Whole),
        (_, ENCRYPT_NOT_SUP) => (ENCRYPT_NOT_SUP, Plan::Clear),
        (_, ENCRYPT_OFF) => (ENCRYPT_OFF, Plan::LoginOnly),
        (_, _) => (ENCRYPT_ON, Plan::Whole),
    }
}

/// The twin's TLS side: what it offers and, when it offers TLS, its config.
pub struct Server {
    pub offer: Offer,
    config: Option<Arc<ServerConfig>>,
}

/// The server's certificate chain and key, and the CA (PEM) a client trusts.
fn certificate() -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String), String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let e = |e: rcgen::Error| format!("cannot make the twin's certificate: {e}");
    let ca_key = KeyPair::generate().map_err(e)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "drillbook lab twin CA");
    let ca_cert = ca.self_signed(&ca_key).map_err(e)?;
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().map_err(e)?;
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .map_err(e)?;
    leaf.distinguished_name
        .push(DnType::CommonName, "drillbook lab twin");
    let cert = leaf.signed_by(&key, &issuer).map_err(e)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((vec![cert.der().clone()], key, ca_cert.pem()))
}

impl Server {
    /// The TLS side for `offer`, and the CA's PEM when there is a certificate.
    pub fn new(offer: Offer) -> Result<(Server, Option<String>), String> {
        if offer == Offer::None {
            return Ok((
                Server {
                    offer,
                    config: None,
                },
                None,
            ));
        }
        let (chain, key, ca) = certificate()?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| format!("cannot set up the twin's TLS: {e}"))?;
        // No TLS 1.3 session tickets: they would follow the handshake
        // outside the PRELOGIN packets, where a TDS client does not read them.
        config.send_tls13_tickets = 0;
        Ok((
            Server {
                offer,
                config: Some(Arc::new(config)),
            },
            Some(ca),
        ))
    }

    /// The handshake, carried in PRELOGIN packets, on a connection whose
    /// PRELOGIN asked for TLS.
    pub fn accept(&self, mut tcp: TcpStream) -> io::Result<Link> {
        let Some(config) = self.config.clone() else {
            return Err(bad("TLS without a certificate"));
        };
        if self.offer == Offer::Tls10Only {
            refuse_tls12(&mut tcp)?;
            return Err(bad("the client does not speak TLS 1.0"));
        }
        let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
        loop {
            flush_wrapped(&mut conn, &mut tcp)?;
            if !conn.is_handshaking() {
                return Ok(Link::Tls(Box::new(StreamOwned::new(conn, tcp))));
            }
            let payload = read_prelogin(&mut tcp)?;
            let mut rd = &payload[..];
            while !rd.is_empty() {
                conn.read_tls(&mut rd)?;
                if let Err(e) = conn.process_new_packets() {
                    // The alert that says why, then the end.
                    let _ = flush_wrapped(&mut conn, &mut tcp);
                    return Err(io::Error::other(e));
                }
            }
        }
    }
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

/// The next handshake message: a PRELOGIN packet's payload.
fn read_prelogin(tcp: &mut TcpStream) -> io::Result<Vec<u8>> {
    match tds::read_message(tcp)? {
        Some((tds::PKT_PRELOGIN, payload)) => Ok(payload),
        Some(_) => Err(bad("expected a PRELOGIN packet during the TLS handshake")),
        None => Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
    }
}

/// Send what TLS has to say, wrapped in a PRELOGIN message.
fn flush_wrapped(conn: &mut ServerConnection, tcp: &mut TcpStream) -> io::Result<()> {
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out)?;
    }
    if out.is_empty() {
        return Ok(());
    }
    tds::write_message(tcp, tds::PKT_PRELOGIN, &out)
}

/// Read the ClientHello and answer it as a TLS 1.0-only Schannel does:
/// a ServerHello for TLS 1.0 with a CBC suite. A TLS 1.2+ client gives up.
fn refuse_tls12(tcp: &mut TcpStream) -> io::Result<()> {
    read_prelogin(tcp)?;
    tds::write_message(tcp, tds::PKT_PRELOGIN, &server_hello_tls10())?;
    // Wait for the client's alert or its close, so it reads the hello first.
    let _ = read_prelogin(tcp);
    Ok(())
}

/// A TLS record with a TLS 1.0 ServerHello, TLS_RSA_WITH_AES_128_CBC_SHA.
fn server_hello_tls10() -> Vec<u8> {
    let mut hello = vec![0x03, 0x01]; // TLS 1.0
    hello.extend([0x5A; 32]); // random
    hello.push(0); // no session id
    hello.extend([0x00, 0x2F]); // TLS_RSA_WITH_AES_128_CBC_SHA
    hello.push(0); // no compression
    let mut handshake = vec![0x02, 0x00, 0x00, hello.len() as u8]; // ServerHello
    handshake.extend(hello);
    let mut record = vec![0x16, 0x03, 0x01]; // handshake, TLS 1.0
    record.extend((handshake.len() as u16).to_be_bytes());
    record.extend(handshake);
    record
}

/// A connection after PRELOGIN: clear, or TLS.
pub enum Link {
    Clear(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Link {
    /// Back to clear after a login-only TLS: the client drops TLS once
    /// LOGIN7 is sent, without a close_notify.
    pub fn end_tls(self) -> Link {
        match self {
            Link::Tls(s) => Link::Clear(s.sock),
            clear => clear,
        }
    }
}

impl super::guard::Timed for Link {
    fn socket(&self) -> &TcpStream {
        match self {
            Link::Clear(s) => s,
            Link::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Link::Clear(s) => s.read(buf),
            Link::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Link::Clear(s) => s.write(buf),
            Link::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Link::Clear(s) => s.flush(),
            Link::Tls(s) => s.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelogin_encryption_is_negotiated_as_sql_server_does() {
        let cases = [
            (Offer::None, ENCRYPT_REQ, ENCRYPT_NOT_SUP, Plan::Clear),
            (Offer::Available, ENCRYPT_OFF, ENCRYPT_OFF, Plan::LoginOnly),
            (Offer::Available, ENCRYPT_REQ, ENCRYPT_ON, Plan::Whole),
            (
                Offer::Available,
                ENCRYPT_NOT_SUP,
                ENCRYPT_NOT_SUP,
                Plan::Clear,
            ),
            (Offer::Forced, ENCRYPT_OFF, ENCRYPT_REQ, Plan::Whole),
            (Offer::Forced, ENCRYPT_NOT_SUP, ENCRYPT_REQ, Plan::Refuse),
        ];
        for (offer, client, byte, plan) in cases {
            assert_eq!(
                negotiate(offer, Some(client)),
                (byte, plan),
                "{offer:?} {client}"
            );
        }
    }

    #[test]
    fn the_tls10_server_hello_is_one_well_formed_record() {
        let r = server_hello_tls10();
        assert_eq!(&r[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(u16::from_be_bytes([r[3], r[4]]) as usize, r.len() - 5);
        assert_eq!(r[5], 0x02);
        assert_eq!(r[8] as usize, r.len() - 9);
    }
}
