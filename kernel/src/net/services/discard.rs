//! The discard service (port 9, RFC 863): reads and drops everything; closes after the
//! peer's end of stream. A connection keeps no state of its own.
use alloc::vec::Vec;

use super::event_loop::Protocol;
use crate::net::socket::{SocketError, TcpStream};

pub struct Discard {
    /// Where every connection's bytes are read to and forgotten.
    sink: Vec<u8>,
}

impl Discard {
    pub fn new() -> Discard {
        Discard {
            sink: alloc::vec![0u8; 64 * 1024],
        }
    }
}

impl Protocol for Discard {
    const NODELAY: bool = false;
    type Conn = ();

    fn progress(&mut self, _: &mut (), stream: &TcpStream) -> bool {
        loop {
            match stream.read(&mut self.sink) {
                Ok(0) => {
                    let _ = stream.shutdown();
                    return false;
                }
                Ok(_) => {}
                Err(SocketError::WouldBlock) => return true,
                Err(_) => return false,
            }
        }
    }
}
