//! SQL Browser (MS-SQLR, SSRP): a named instance's TCP port, asked over UDP
//! of the server's SQL Browser (port 1434, or the estate's `browser_port`).
//! One datagram out (CLNT_UCAST_INST: 0x04, the instance name), one back
//! (SVR_RESP: 0x05, a little-endian length, then `key;value;` pairs ending
//! `;;`, among them `tcp;PORT`).
//!
//! Pure encoding and decoding, and one async exchange around them.

use std::time::Duration;
use tokio::net::UdpSocket;

/// CLNT_UCAST_INST (MS-SQLR 2.2.4).
const CLNT_UCAST_INST: u8 = 0x04;
/// SVR_RESP (MS-SQLR 2.2.5).
const SVR_RESP: u8 = 0x05;
/// How long SQL Browser gets to answer: its answers are immediate, and a
/// silent one is a host that is down, a firewall, or no such instance.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The CLNT_UCAST_INST request for `instance`.
pub fn request(instance: &str) -> Vec<u8> {
    let mut r = vec![CLNT_UCAST_INST];
    r.extend(instance.as_bytes());
    r.push(0);
    r
}

/// The `tcp` port of `instance` in a SVR_RESP datagram.
pub fn port(reply: &[u8], instance: &str) -> Result<u16, String> {
    let [SVR_RESP, lo, hi, data @ ..] = reply else {
        return Err("the answer is not a SQL Browser response (SVR_RESP)".into());
    };
    let size = u16::from_le_bytes([*lo, *hi]) as usize;
    let data = data
        .get(..size)
        .ok_or("the SQL Browser response is shorter than it says")?;
    let text = String::from_utf8_lossy(data);
    // One instance per `...;;` record; `key;value` pairs within it.
    for record in text.split(";;") {
        let fields: Vec<&str> = record.split(';').collect();
        let value = |key: &str| {
            fields
                .chunks(2)
                .find(|kv| kv[0].eq_ignore_ascii_case(key))
                .and_then(|kv| kv.get(1))
                .copied()
        };
        if value("InstanceName").is_some_and(|n| n.eq_ignore_ascii_case(instance)) {
            return match value("tcp") {
                Some(p) => p
                    .parse::<u16>()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| format!("SQL Browser gives {instance} the TCP port {p:?}")),
                None => Err(format!(
                    "SQL Browser knows {instance} but gives it no TCP port (TCP/IP is disabled for it)"
                )),
            };
        }
    }
    Err(format!(
        "SQL Browser answered without the instance {instance}"
    ))
}

/// Ask the SQL Browser at `host:browser_port` for `instance`'s TCP port.
pub async fn lookup(host: &str, browser_port: u16, instance: &str) -> Result<u16, String> {
    let exchange = async {
        let socket = UdpSocket::bind(if host.contains(':') {
            "[::]:0"
        } else {
            "0.0.0.0:0"
        })
        .await
        .map_err(|e| e.to_string())?;
        socket
            .connect((host, browser_port))
            .await
            .map_err(|e| format!("cannot reach {host}: {e}"))?;
        socket
            .send(&request(instance))
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 4096];
        let n = socket.recv(&mut buf).await.map_err(|e| e.to_string())?;
        port(&buf[..n], instance)
    };
    match tokio::time::timeout(TIMEOUT, exchange).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no answer from SQL Browser on {host} UDP {browser_port} within {} s (the host is down, \
             UDP {browser_port} is blocked, SQL Browser is stopped, or there is no instance {instance})",
            TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(text: &str) -> Vec<u8> {
        let mut r = vec![SVR_RESP];
        r.extend((text.len() as u16).to_le_bytes());
        r.extend(text.as_bytes());
        r
    }

    #[test]
    fn the_port_is_read_from_the_named_instances_record() {
        let r = resp(
            "ServerName;PCSQL1;InstanceName;OTHER;IsClustered;No;Version;11.0.3128.0;tcp;1500;;\
             ServerName;PCSQL1;InstanceName;PCHAT;IsClustered;No;Version;11.0.3128.0;tcp;50123;;",
        );
        assert_eq!(port(&r, "pchat"), Ok(50123));
        assert!(port(&r, "rtc")
            .unwrap_err()
            .contains("without the instance rtc"));
        let no_tcp = resp("ServerName;S;InstanceName;PCHAT;IsClustered;No;np;\\\\S\\pipe\\sql;;");
        assert!(port(&no_tcp, "PCHAT").unwrap_err().contains("no TCP port"));
        for bad in [&[][..], &[0x05, 0xFF, 0x00, b'x'], &[0x04, 0, 0]] {
            assert!(port(bad, "PCHAT").is_err());
        }
        assert_eq!(request("pchat"), b"\x04pchat\x00");
    }
}
