//! What the endpoint shows of the sockets it holds to `/proc/net/tcp` (Linux's
//! `tcp4_seq_show`): its listeners and the connections not detached (handshakes,
//! accept queues, connections finishing after their owner let go, TIME-WAIT records).

use core::net::SocketAddrV4;

use super::Endpoint;
use crate::conn::Details;

/// A listener as `/proc/net/tcp` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerDetails {
    pub addr: SocketAddrV4,
    /// Established connections waiting for `accept`, and how many may wait.
    pub accept_queue: usize,
    pub accept_backlog: usize,
}

impl Endpoint {
    /// Every listener.
    pub fn listener_details(&self) -> impl Iterator<Item = ListenerDetails> + '_ {
        self.listeners.iter().flatten().map(|l| ListenerDetails {
            addr: l.addr,
            accept_queue: l.accept_queue.len(),
            accept_backlog: self.cfg.accept_backlog,
        })
    }

    /// Every connection the endpoint still holds (detached ones are their owner's), then
    /// its TIME-WAIT records.
    pub fn connection_details(&self) -> impl Iterator<Item = Details> + '_ {
        self.slots
            .iter()
            .filter_map(|s| s.conn.as_ref())
            .map(|c| c.details())
            .chain(
                self.time_wait
                    .iter()
                    .map(|(t, tw)| Details::of_time_wait(t, tw)),
            )
    }
}
