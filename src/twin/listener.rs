//! A down instance refuses connections, as a stopped SQL Server or a dead
//! host does: its endpoint lets go of its port while the lab says the
//! instance is down, and binds the same port again once it is up. A client
//! meets "connection refused" (unreachable), not a server that accepts and
//! then hangs up.
//!
//! One watcher per twin reads the lab every [`WATCH_EVERY`] and says which
//! instances are down; each endpoint's accept loop follows its flag. A
//! blocking `accept` is woken for the change by a connection of the
//! watcher's own, closed unread.

use super::Twin;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often the watcher reads the lab (and a down endpoint looks at its flag).
pub const WATCH_EVERY: Duration = Duration::from_millis(25);

/// Each instance's "down now" flag and port, by id.
#[derive(Default)]
pub struct Watched {
    pub down: BTreeMap<String, (Arc<AtomicBool>, u16)>,
}

/// Which of `ids` the lab says are down now (nothing moves, nothing is saved).
fn down_now(twin: &Twin, ids: &[String]) -> Option<Vec<bool>> {
    let mut lab = twin.lab.lock().ok()?;
    lab.refresh().ok()?;
    Some(ids.iter().map(|id| lab.state.unreachable(id)).collect())
}

/// Watch the lab until the process ends, raising and lowering the flags.
pub fn watch(twin: Arc<Twin>, watched: Watched) {
    let ids: Vec<String> = watched.down.keys().cloned().collect();
    loop {
        if let Some(now) = down_now(&twin, &ids) {
            for (id, down) in ids.iter().zip(now) {
                let (flag, port) = &watched.down[id];
                if flag.swap(down, Ordering::SeqCst) != down && down {
                    // Wake the endpoint's accept so it lets go of the port.
                    let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, *port));
                }
            }
        }
        std::thread::sleep(WATCH_EVERY);
    }
}

/// The listener to accept on now: none while the instance is down (the
/// port refuses), the same port bound again once it is up.
pub fn follow(listening: &mut Option<TcpListener>, down: &AtomicBool, port: u16) {
    loop {
        if down.load(Ordering::SeqCst) {
            *listening = None;
        } else if listening.is_none() {
            *listening = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).ok();
        }
        if listening.is_some() {
            return;
        }
        std::thread::sleep(WATCH_EVERY);
    }
}
