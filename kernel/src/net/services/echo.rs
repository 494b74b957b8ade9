//! The echo service (port 7, RFC 862) as one event-loop thread: the listener and every
//! connection are non-blocking, and one [`poll`] call waits for whichever is ready. A
//! connection's data is read only when what it sent before has been written back, so
//! each connection holds at most one buffer of data and a slow reader slows only its
//! own connection (TCP flow control reaches its sender).
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::net::socket::{
    poll, Interest, PollEntry, Pollable, SocketError, TcpListener, TcpStream,
};

/// Bytes read from a connection at a time.
const CHUNK: usize = 16 * 1024;

struct Client {
    stream: TcpStream,
    /// Read but not yet written back.
    pending: Vec<u8>,
    written: usize,
}

impl Client {
    fn interest(&self) -> Interest {
        if self.written < self.pending.len() {
            Interest::WRITABLE
        } else {
            Interest::READABLE
        }
    }

    /// Moves what it can (write back pending data, then read and echo more) without
    /// blocking. False once the connection is finished with.
    fn progress(&mut self, buf: &mut [u8]) -> bool {
        loop {
            while self.written < self.pending.len() {
                match self.stream.write(&self.pending[self.written..]) {
                    Ok(n) => self.written += n,
                    Err(SocketError::WouldBlock) => return true,
                    Err(_) => return false,
                }
            }
            self.pending.clear();
            self.written = 0;
            match self.stream.read(buf) {
                Ok(0) => {
                    let _ = self.stream.shutdown();
                    return false;
                }
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(SocketError::WouldBlock) => return true,
                Err(_) => return false,
            }
        }
    }
}

/// Serves echo on `listener` forever; counts accepted connections in `served`.
pub fn serve(listener: TcpListener, served: &AtomicU64) {
    listener.set_nonblocking(true);
    let mut clients: Vec<Client> = Vec::new();
    let mut buf = alloc::vec![0u8; CHUNK];
    let mut ready = Vec::new();
    loop {
        {
            let mut entries = Vec::with_capacity(clients.len() + 1);
            entries.push(PollEntry::new(
                Pollable::Listener(&listener),
                Interest::READABLE,
            ));
            entries.extend(
                clients
                    .iter()
                    .map(|c| PollEntry::new(Pollable::Stream(&c.stream), c.interest())),
            );
            if let Err(e) = poll(&mut entries, None) {
                crate::warn!("echo: poll failed: {e}");
                crate::sched::sleep_ns(100_000_000);
                continue;
            }
            ready.clear();
            ready.extend(entries.iter().map(|e| e.ready));
        }
        let mut i = 0;
        clients.retain_mut(|c| {
            i += 1;
            ready[i].is_empty() || c.progress(&mut buf)
        });
        if ready[0].contains(Interest::READABLE) {
            while let Ok(stream) = listener.accept() {
                served.fetch_add(1, Ordering::Relaxed);
                stream.set_nonblocking(true);
                let _ = stream.set_nodelay(true);
                let mut c = Client {
                    stream,
                    pending: Vec::new(),
                    written: 0,
                };
                if c.progress(&mut buf) {
                    clients.push(c);
                }
            }
        }
    }
}
