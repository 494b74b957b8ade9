//! Bytes waiting for the (blocking) socket. They are written in pieces, and only when `poll`
//! reports the socket writable, between reads: a side never sits in a long blocking write
//! while its peer is itself blocked writing to it (bulk data both ways through small socket
//! buffers would otherwise deadlock the two ends).

use std::io::{self, Write};
use std::net::TcpStream;

/// Largest single write.
const PIECE: usize = 16 * 1024;

/// Pending output for one socket.
#[derive(Default)]
pub struct Outbox {
    buf: Vec<u8>,
}

impl Outbox {
    /// Appends bytes to send.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Writes one piece (call when the socket polled writable).
    pub fn write_some(&mut self, mut sock: &TcpStream) -> io::Result<()> {
        let n = sock.write(&self.buf[..self.buf.len().min(PIECE)])?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        self.buf.drain(..n);
        Ok(())
    }

    /// Writes everything (when the session ends).
    pub fn flush_all(&mut self, mut sock: &TcpStream) -> io::Result<()> {
        sock.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}
