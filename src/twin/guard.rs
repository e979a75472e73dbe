//! What one TDS connection may cost the twin: bytes buffered per message,
//! time, and a place among a bounded number of connections (issue 11,
//! finding 9). A connection that breaks a bound is closed, and only it.
//!
//! Before login a client has sent nothing it was asked for: its PRELOGIN and
//! LOGIN7 are small (a LOGIN7 is a few hundred bytes), so each may be at most
//! `LOGIN_MESSAGE_MAX`, and both must arrive within the login timeout, as a
//! whole, so a client trickling a byte at a time (slowloris) is cut off too.
//! After login a message may be at most `SESSION_MESSAGE_MAX` (nothing
//! drillbook sends comes near), and a session silent for the idle timeout
//! is closed, as SQL Server's remote-login timeout would.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most a PRELOGIN or LOGIN7 message may hold.
pub const LOGIN_MESSAGE_MAX: usize = 64 * 1024;
/// The most one request of a logged-in session may hold.
pub const SESSION_MESSAGE_MAX: usize = 1024 * 1024;

/// The bounds `lab serve` keeps, per endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once; more are closed unanswered.
    pub max_connections: usize,
    /// From accept to a finished LOGIN7.
    pub login_timeout: Duration,
    /// A logged-in session's silence before it is closed.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 64,
            login_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(600),
        }
    }
}

/// A place among an endpoint's open connections, given back on drop.
pub struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// A place if fewer than `max` connections hold one.
    pub fn take(open: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .ok()
        .map(|_| Slot(open.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A stream whose reads can be given a timeout: the socket under it.
pub trait Timed {
    fn socket(&self) -> &TcpStream;
}

impl Timed for TcpStream {
    fn socket(&self) -> &TcpStream {
        self
    }
}

/// A connection with a byte budget and a deadline for the message being
/// read (writes pass through).
pub struct Guarded<S> {
    stream: S,
    budget: usize,
    deadline: Instant,
}

fn refused(kind: io::ErrorKind, message: String) -> io::Error {
    io::Error::new(kind, message)
}

impl<S: Read + Timed> Guarded<S> {
    pub fn new(stream: S) -> Guarded<S> {
        Guarded {
            stream,
            budget: 0,
            deadline: Instant::now(),
        }
    }

    /// The next reads may take `budget` bytes until `deadline`.
    pub fn allow(&mut self, budget: usize, deadline: Instant) {
        self.budget = budget;
        self.deadline = deadline;
    }

    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: Write> Write for Guarded<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl<S: Read + Timed> Read for Guarded<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(refused(
                io::ErrorKind::TimedOut,
                "the connection's time is up".into(),
            ));
        }
        if self.budget == 0 {
            return Err(refused(
                io::ErrorKind::InvalidData,
                "the message is larger than the twin accepts here".into(),
            ));
        }
        self.stream.socket().set_read_timeout(Some(left))?;
        let n = buf.len().min(self.budget);
        let got = self.stream.read(&mut buf[..n])?;
        self.budget -= got;
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_given_back() {
        let open = Arc::new(AtomicUsize::new(0));
        let a = Slot::take(&open, 2).unwrap();
        let _b = Slot::take(&open, 2).unwrap();
        assert!(Slot::take(&open, 2).is_none());
        drop(a);
        assert!(Slot::take(&open, 2).is_some());
    }
}
