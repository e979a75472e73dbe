//! The twin's SQL Browser (MS-SQLR): one UDP responder per lab server, as
//! each Windows host runs one, answering CLNT_UCAST_INST (one instance) and
//! CLNT_UCAST_EX (all of the host's) with SVR_RESP, so a live estate that
//! names an instance without its port finds it as against a real server.
//!
//! An instance that is down in the lab is left out, and a request for it
//! gets no answer, as from a host that is down.

use super::Twin;
use std::net::UdpSocket;
use std::sync::Arc;

const CLNT_UCAST_EX: u8 = 0x03;
const CLNT_UCAST_INST: u8 = 0x04;
const SVR_RESP: u8 = 0x05;

/// One named instance as its host's SQL Browser lists it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The lab's id for it.
    pub id: String,
    /// The computer name (the server's first DNS label, upper case).
    pub computer: String,
    /// The instance name.
    pub instance: String,
    /// `11.0.3128.0` and the like.
    pub version: String,
    pub port: u16,
}

/// The version string SQL Browser reports for an estate's `version`.
pub fn version(estate_version: Option<&str>) -> String {
    match estate_version {
        Some(v) if v.contains("2008") => "10.50.6000.34",
        Some(v) if v.contains("2014") => "12.0.6024.0",
        _ => "11.0.7001.0",
    }
    .to_string()
}

fn record(l: &Listed) -> String {
    format!(
        "ServerName;{};InstanceName;{};IsClustered;No;Version;{};tcp;{};;",
        l.computer, l.instance, l.version, l.port
    )
}

/// The answer to one request, given the instances that are up; `None`
/// when SQL Browser says nothing (an unknown request or instance).
pub fn answer(request: &[u8], up: &[Listed]) -> Option<Vec<u8>> {
    let (&op, rest) = request.split_first()?;
    let text = match op {
        CLNT_UCAST_EX => up.iter().map(record).collect::<String>(),
        CLNT_UCAST_INST => {
            let name = rest.split(|&b| b == 0).next()?;
            let name = std::str::from_utf8(name).ok()?;
            record(up.iter().find(|l| l.instance.eq_ignore_ascii_case(name))?)
        }
        _ => return None,
    };
    if text.is_empty() || text.len() > u16::MAX as usize {
        return None;
    }
    let mut r = vec![SVR_RESP];
    r.extend((text.len() as u16).to_le_bytes());
    r.extend(text.as_bytes());
    Some(r)
}

/// Answer on `socket` for `host`'s instances until the process ends.
pub fn respond(twin: Arc<Twin>, socket: UdpSocket, host: Vec<Listed>) {
    let mut buf = [0u8; 1024];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let up: Vec<Listed> = host
            .iter()
            .filter(|l| !super::endpoint::is_down(&twin, &l.id))
            .cloned()
            .collect();
        if let Some(reply) = answer(&buf[..n], &up) {
            let _ = socket.send_to(&reply, from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(instance: &str, port: u16) -> Listed {
        Listed {
            id: instance.to_lowercase(),
            computer: "PCSQL-RED1".into(),
            instance: instance.into(),
            version: version(Some("2012")),
            port,
        }
    }

    #[test]
    fn a_named_instance_is_answered_with_its_port_and_an_unknown_one_not_at_all() {
        let up = [listed("pchat", 50001), listed("rtc", 50002)];
        let r = answer(b"\x04PCHAT\x00", &up).unwrap();
        assert_eq!(r[0], SVR_RESP);
        assert_eq!(u16::from_le_bytes([r[1], r[2]]) as usize, r.len() - 3);
        let text = String::from_utf8(r[3..].to_vec()).unwrap();
        assert!(
            text.contains("InstanceName;pchat;") && text.ends_with("tcp;50001;;"),
            "{text}"
        );
        assert_eq!(answer(b"\x04nosuch\x00", &up), None);
        assert_eq!(answer(b"\x04pchat\x00", &[]), None);
        let all = answer(b"\x03", &up).unwrap();
        assert!(String::from_utf8_lossy(&all).contains("tcp;50002;;"));
        assert_eq!(answer(b"", &up), None);
        assert_eq!(answer(b"\x07", &up), None);
    }
}
