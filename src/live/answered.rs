//! A TCP stream that remembers whether the server said anything.
//!
//! The one fact that tells "unreachable" from "answered but could not be
//! checked": a connection refused, timed out, or reset before a single byte
//! came back is a server that is not there; the same failure after the
//! server answered (a TLS handshake it cut off, a login it refused, bytes
//! that are not TDS) is a server that is there, which a check deciding
//! "the primary is lost" must never take for lost.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// `inner`, flagging `answered` at the first byte read.
pub struct Watched {
    inner: TcpStream,
    answered: Arc<AtomicBool>,
}

impl Watched {
    pub fn new(inner: TcpStream) -> (Watched, Arc<AtomicBool>) {
        let answered = Arc::new(AtomicBool::new(false));
        (
            Watched {
                inner,
                answered: answered.clone(),
            },
            answered,
        )
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.answered.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
