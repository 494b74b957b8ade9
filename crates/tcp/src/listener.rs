//! A listening socket: its address, the count of half-open connections it owns (the
//! bounded SYN queue) and the bounded queue of established connections awaiting
//! `accept`. Connections themselves live in the endpoint's table.

use alloc::collections::VecDeque;
use core::net::SocketAddrV4;

use crate::config::Config;

/// One listener.
#[derive(Debug)]
pub(crate) struct Listener {
    pub addr: SocketAddrV4,
    /// Connections in SYN-RECEIVED created by this listener.
    pub syn_count: usize,
    /// Slot indices of established connections not yet accepted.
    pub accept_queue: VecDeque<u32>,
    /// An `Acceptable` event is queued and not yet polled.
    pub notified: bool,
    /// Configuration of the connections it accepts (socket options set on the
    /// listener are inherited, as with BSD sockets).
    pub cfg: Config,
}

impl Listener {
    pub fn new(addr: SocketAddrV4, backlog: usize, cfg: Config) -> Listener {
        Listener {
            addr,
            syn_count: 0,
            accept_queue: VecDeque::with_capacity(backlog),
            notified: false,
            cfg,
        }
    }
}
