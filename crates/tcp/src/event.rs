//! Socket events reported to the application.

use core::ops::{BitOr, BitOrAssign};

use crate::endpoint::{ConnId, ListenerId};

/// What became true of a connection since it was last reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Readiness(pub u8);

impl Readiness {
    /// The handshake completed.
    pub const CONNECTED: Readiness = Readiness(1);
    /// Data (or end of stream, or an error) can be read.
    pub const READABLE: Readiness = Readiness(2);
    /// Send-buffer space freed.
    pub const WRITABLE: Readiness = Readiness(4);
    /// The connection ended (or entered TIME-WAIT): no more data will flow.
    pub const CLOSED: Readiness = Readiness(8);

    pub const fn empty() -> Readiness {
        Readiness(0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn contains(self, other: Readiness) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Readiness {
    type Output = Readiness;
    fn bitor(self, rhs: Readiness) -> Readiness {
        Readiness(self.0 | rhs.0)
    }
}

impl BitOrAssign for Readiness {
    fn bitor_assign(&mut self, rhs: Readiness) {
        self.0 |= rhs.0;
    }
}

/// One event from [`Endpoint::poll_event`](crate::Endpoint::poll_event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Something changed on a connection.
    Conn(ConnId, Readiness),
    /// A listener has a connection ready for `accept`.
    Acceptable(ListenerId),
}
