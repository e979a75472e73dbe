//! The answer to a good LOGIN7, as the SQL Server version of the instance
//! gives it: ENVCHANGE for the database (`master`), the collation and the
//! language, LOGINACK with TDS 7.3 (0x730B0003) for SQL Server 2008 R2 and
//! 7.4 (0x74000004) from 2012 on, and ENVCHANGE for the packet size.

use super::tds::{Reply, COLLATION, PACKET_SIZE};

/// The TDS version and the program version (major, minor, build) a server
/// of this major version acknowledges a login with.
pub fn versions(major: u32) -> (u32, [u8; 4]) {
    let build = |b: u16| b.to_be_bytes();
    match major {
        ..=10 => {
            let [hi, lo] = build(6000);
            (0x730B_0003, [10, 50, hi, lo])
        }
        11 => {
            let [hi, lo] = build(7001);
            (0x7400_0004, [11, 0, hi, lo])
        }
        m => {
            let [hi, lo] = build(6024);
            (0x7400_0004, [m.min(255) as u8, 0, hi, lo])
        }
    }
}

/// ENVCHANGE types (MS-TDS 2.2.7.9).
const ENV_DATABASE: u8 = 1;
const ENV_LANGUAGE: u8 = 2;
const ENV_PACKET_SIZE: u8 = 4;
const ENV_COLLATION: u8 = 7;

/// The reply to a login accepted by a server of `major`.
pub fn accepted(major: u32) -> Reply {
    let (tds, program) = versions(major);
    let mut r = Reply::default();
    r.env_change(ENV_DATABASE, "master", "");
    r.env_change_bytes(ENV_COLLATION, &COLLATION, &[]);
    r.env_change(ENV_LANGUAGE, "us_english", "");
    r.login_ack(tds, program);
    let size = PACKET_SIZE.to_string();
    r.env_change(ENV_PACKET_SIZE, &size, &size);
    r.done(false, false, None);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokens of a reply: (token, its body).
    fn tokens(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let t = bytes[at];
            if t == 0xFD {
                out.push((t, bytes[at + 1..at + 13].to_vec()));
                at += 13;
                continue;
            }
            let len = u16::from_le_bytes([bytes[at + 1], bytes[at + 2]]) as usize;
            out.push((t, bytes[at + 3..at + 3 + len].to_vec()));
            at += 3 + len;
        }
        out
    }

    #[test]
    fn a_2008_r2_login_is_acknowledged_with_tds_7_3_and_a_2012_one_with_7_4() {
        for (major, tds) in [(10, 0x730B_0003u32), (11, 0x7400_0004), (12, 0x7400_0004)] {
            let t = tokens(&accepted(major).into_bytes());
            let ack = t.iter().find(|(k, _)| *k == 0xAD).expect("LOGINACK");
            assert_eq!(
                u32::from_be_bytes(ack.1[1..5].try_into().unwrap()),
                tds,
                "{major}"
            );
            assert_eq!(ack.1[ack.1.len() - 4], major as u8);
            let envs: Vec<u8> = t
                .iter()
                .filter(|(k, _)| *k == 0xE3)
                .map(|(_, b)| b[0])
                .collect();
            assert_eq!(
                envs,
                vec![ENV_DATABASE, ENV_COLLATION, ENV_LANGUAGE, ENV_PACKET_SIZE]
            );
            assert_eq!(t.last().unwrap().0, 0xFD);
        }
    }
}
