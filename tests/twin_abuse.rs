//! Hostile TDS clients against `lab serve` (issue 11, finding 9 and the TDS
//! abuse harness): truncated headers, lying lengths, floods before login,
//! slowloris and many half-open connections, on loopback only and bounded.
//! The twin closes each abusive connection, stays up, stays bounded in
//! memory (VmRSS before and after), and a live run afterwards succeeds.
//!
//! CI runs one round of the mixed abuse; `scripts/tds-abuse` runs the long
//! version (`DRILLBOOK_ROUNDS=N` rounds against one twin) and prints the
//! figures the test prints: rounds, twin survived, max RSS, live run after.

mod common;
use common::Db;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const RB: &str = "persistent-chat-failover";
/// An instance that is up after the disaster: the backup mgc.
const UP: &str = "pcsql-dub1";

/// A TDS packet header: type, status (1 = end of message), length.
fn header(kind: u8, eom: bool, len: u16) -> [u8; 8] {
    let l = len.to_be_bytes();
    [kind, u8::from(eom), l[0], l[1], 0, 0, 1, 0]
}

const PRELOGIN: u8 = 0x12;

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the twin");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Did the twin close the connection (end of stream or reset), rather than
/// leave it open for 30 s?
fn closed_by_twin(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a reply to something sent before: read on
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// Send up to `total` bytes of PRELOGIN packets that never end the message;
/// how many were accepted before the twin closed the connection.
fn flood(s: &mut TcpStream, total: usize) -> usize {
    let body = vec![0x41u8; 65535 - 8];
    let mut sent = 0;
    while sent < total {
        let mut packet = header(PRELOGIN, false, 65535).to_vec();
        packet.extend_from_slice(&body);
        if s.write_all(&packet).is_err() {
            break;
        }
        sent += packet.len();
    }
    sent
}

/// Slowloris: a 200-byte PRELOGIN a byte every 100 ms (20 s for the
/// message, far past a login timeout); whether a write failed (cut off).
fn trickle(s: &mut TcpStream) -> bool {
    let mut packet = header(PRELOGIN, true, 200).to_vec();
    packet.resize(200, 0);
    for b in packet {
        if s.write_all(&[b]).is_err() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The twin's resident memory, or None once it is gone.
fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Rounds of the mixed abuse: `DRILLBOOK_ROUNDS` (the long version), else 1.
fn rounds() -> usize {
    std::env::var("DRILLBOOK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

#[test]
fn a_pre_login_message_over_64_kib_closes_the_connection() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&[], &[]);
    let mut s = connect(twin.port(UP));
    let sent = flood(&mut s, 4 * 1024 * 1024);
    assert!(
        sent < 4 * 1024 * 1024 || closed_by_twin(&mut s),
        "the twin read 4 MiB before login"
    );
    let _ = closed_by_twin(&mut s);
    twin.stop();
}

#[test]
fn connections_beyond_the_limit_are_closed_and_the_endpoint_goes_on() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&["--max-connections", "4"], &[]);
    let port = twin.port(UP);
    let held: Vec<TcpStream> = (0..4).map(|_| connect(port)).collect();
    let mut extra = connect(port);
    assert!(closed_by_twin(&mut extra), "a fifth connection was kept");
    drop(held);
    // The places come back: a live run gets its connections.
    db.run_live(&twin, &["--yes", "run", RB], &[]).ok();
    twin.stop();
}

#[test]
fn a_client_trickling_its_login_is_cut_off_at_the_login_timeout() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&["--login-timeout-seconds", "1"], &[]);
    let mut s = connect(twin.port(UP));
    let cut = trickle(&mut s);
    assert!(
        cut || closed_by_twin(&mut s),
        "the trickling client was never cut off"
    );
    twin.stop();
}

/// One round of every abuse at once on `port`: truncated headers and lying
/// lengths (each must be closed), 40 floods before login, 20 half-open
/// connections and 4 slowloris clients. How many floods were cut short.
fn abuse_round(port: u16) -> usize {
    let shapes: [&[u8]; 5] = [
        &[PRELOGIN, 1, 0],
        &header(PRELOGIN, true, 4),
        &header(PRELOGIN, true, 65535),
        &header(0x10, true, 9),
        &[0xFF; 64],
    ];
    for shape in shapes {
        let mut s = connect(port);
        let _ = s.write_all(shape);
        let _ = s.shutdown(std::net::Shutdown::Write);
        assert!(closed_by_twin(&mut s), "{shape:?} left the connection open");
    }
    let half_open: Vec<TcpStream> = (0..20).map(|_| connect(port)).collect();
    // Slowloris: a byte every 100 ms until cut off (or 200 bytes sent).
    let slow: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                trickle(&mut connect(port));
            })
        })
        .collect();
    let floods: Vec<_> = (0..40)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = connect(port);
                flood(&mut s, 2 * 1024 * 1024)
            })
        })
        .collect();
    let cut = floods
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|sent| *sent < 2 * 1024 * 1024)
        .count();
    for t in slow {
        t.join().unwrap();
    }
    drop(half_open);
    cut
}

#[test]
fn abuse_leaves_the_twin_up_bounded_in_memory_and_a_live_run_succeeds() {
    let db = Db::new();
    db.lab_after_disaster(&[]);
    let twin = db.serve(&["--login-timeout-seconds", "2"], &[]);
    let port = twin.port(UP);
    let pid = twin.pid();
    let before = vm_rss_kib(pid).expect("the twin is up");
    let (rounds, mut survived, mut max_rss, mut cut) = (rounds(), 0, before, 0);
    for _ in 0..rounds {
        cut += abuse_round(port);
        let Some(rss) = vm_rss_kib(pid) else { break };
        survived += 1;
        max_rss = max_rss.max(rss);
    }
    // Still up, and it still serves a whole run.
    let live = db.run_live(&twin, &["--yes", "run", RB], &[]);
    println!(
        "tds abuse: rounds {rounds}, twin survived {survived}, RSS before {before} KiB, \
         max RSS {max_rss} KiB, floods cut short {cut} of {}, live run after {}",
        40 * rounds,
        if live.code == 0 { "ok" } else { "FAILED" }
    );
    assert_eq!(survived, rounds, "the twin died under abuse");
    assert!(
        max_rss.saturating_sub(before) < 32 * 1024,
        "the twin grew by {} KiB under pre-login floods",
        max_rss - before
    );
    live.ok();
    twin.stop();
}
