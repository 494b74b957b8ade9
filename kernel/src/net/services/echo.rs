//! The echo service (port 7, RFC 862). A connection's data is read only when what it
//! sent before has been written back, so each connection holds at most one read's worth
//! of data, and a slow reader slows only its own connection (TCP flow control reaches its
//! sender). An idle connection holds no buffer at all.
use alloc::vec::Vec;

use super::event_loop::Protocol;
use super::output::Output;
use crate::net::socket::{SocketError, TcpStream};

/// Bytes read from a connection at a time.
const CHUNK: usize = 16 * 1024;

pub struct Echo {
    /// Shared by every connection: data is copied out before the next one is served.
    buf: Vec<u8>,
}

impl Echo {
    pub fn new() -> Echo {
        Echo {
            buf: alloc::vec![0u8; CHUNK],
        }
    }
}

impl Protocol for Echo {
    const NODELAY: bool = true;
    /// Read but not yet written back.
    type Conn = Output;

    fn progress(&mut self, pending: &mut Output, stream: &TcpStream) -> bool {
        loop {
            if let Some(keep) = pending.drain(stream) {
                return keep;
            }
            match stream.read(&mut self.buf) {
                Ok(0) => {
                    let _ = stream.shutdown();
                    return false;
                }
                Ok(n) => {
                    if pending.send(stream, &self.buf[..n]).is_err() {
                        return false;
                    }
                }
                Err(SocketError::WouldBlock) => return true,
                Err(_) => return false,
            }
        }
    }
}
