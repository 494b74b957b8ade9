//! The source service (port 19): sends a repeating pattern of the 95 printable ASCII
//! characters until the peer goes away (like chargen, RFC 864, without its lines). A
//! connection keeps only its place in the pattern; what it reads is dropped.
use alloc::vec::Vec;

use super::event_loop::Protocol;
use crate::net::socket::{SocketError, TcpStream};

/// Length of the pattern's cycle.
const PERIOD: usize = 95;
/// Bytes offered to a socket per write.
const CHUNK: usize = 64 * 1024;

pub struct Source {
    /// `CHUNK + PERIOD` bytes of the pattern, so a write can start at any phase.
    pattern: Vec<u8>,
    /// Where what connections send is read to and forgotten.
    sink: [u8; 512],
}

impl Source {
    pub fn new() -> Source {
        Source {
            pattern: (0..CHUNK + PERIOD)
                .map(|i| b' ' + (i % PERIOD) as u8)
                .collect(),
            sink: [0; 512],
        }
    }
}

impl Protocol for Source {
    /// Phase in the pattern of the next byte.
    const NODELAY: bool = false;
    type Conn = u8;

    fn progress(&mut self, phase: &mut u8, stream: &TcpStream) -> bool {
        // Whatever the peer sends is dropped; its end of stream or a reset shows in the
        // write below.
        while let Ok(n) = stream.read(&mut self.sink) {
            if n == 0 {
                break;
            }
        }
        loop {
            let start = usize::from(*phase);
            match stream.write(&self.pattern[start..start + CHUNK]) {
                Ok(n) => *phase = ((start + n) % PERIOD) as u8,
                Err(SocketError::WouldBlock) => return true,
                Err(_) => return false,
            }
        }
    }
}
