//! Bytes a connection still has to write, kept only while the peer is slow to take
//! them: an idle connection holds no buffer.
use alloc::vec::Vec;

use crate::net::socket::{SocketError, TcpStream};

/// Bytes accepted for a connection but not yet taken by its socket.
#[derive(Default)]
pub struct Output {
    bytes: Vec<u8>,
    written: usize,
}

/// Why output could not be kept.
pub enum OutputError {
    /// The connection failed (or was reset).
    Socket,
    /// No memory to keep what the socket did not take.
    NoMemory,
}

impl Output {
    /// Writes what is pending: `Ok(true)` once nothing is left, `Ok(false)` when the
    /// socket would block with bytes still pending.
    pub fn flush(&mut self, stream: &TcpStream) -> Result<bool, OutputError> {
        while self.written < self.bytes.len() {
            match stream.write(&self.bytes[self.written..]) {
                Ok(n) => self.written += n,
                Err(SocketError::WouldBlock) => return Ok(false),
                Err(_) => return Err(OutputError::Socket),
            }
        }
        // Give the memory back: an idle connection keeps nothing.
        self.bytes = Vec::new();
        self.written = 0;
        Ok(true)
    }

    /// For a protocol's `progress`: writes what is pending, then `None` if nothing is
    /// left (go on reading), else what `progress` must return (true: wait until
    /// writable; false: the connection failed).
    pub fn drain(&mut self, stream: &TcpStream) -> Option<bool> {
        match self.flush(stream) {
            Ok(true) => None,
            Ok(false) => Some(true),
            Err(_) => Some(false),
        }
    }

    /// Writes `data` after anything pending; what the socket does not take now is kept
    /// (and written by later [`Output::flush`] calls). `Ok(true)` when all of it went.
    pub fn send(&mut self, stream: &TcpStream, data: &[u8]) -> Result<bool, OutputError> {
        let mut data = data;
        if self.is_empty() {
            while !data.is_empty() {
                match stream.write(data) {
                    Ok(n) => data = &data[n..],
                    Err(SocketError::WouldBlock) => break,
                    Err(_) => return Err(OutputError::Socket),
                }
            }
            if data.is_empty() {
                return Ok(true);
            }
        }
        self.bytes
            .try_reserve_exact(data.len())
            .map_err(|_| OutputError::NoMemory)?;
        self.bytes.extend_from_slice(data);
        Ok(false)
    }

    /// True when nothing waits to be written.
    pub fn is_empty(&self) -> bool {
        self.written >= self.bytes.len()
    }
}
