//! Errors returned by the socket-style API.

/// Why an operation on a connection or listener failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// Nothing to read, or no room to write, right now.
    WouldBlock,
    /// The handle does not name a live connection or listener.
    InvalidHandle,
    /// The operation does not fit the connection's state (e.g. send after close).
    InvalidState,
    /// The peer reset the connection.
    Reset,
    /// The peer refused the connection (RST in reply to our SYN).
    Refused,
    /// Retransmissions or keepalive probes went unanswered.
    TimedOut,
    /// The connection was aborted locally.
    Aborted,
    /// No free ephemeral port for this destination.
    NoPorts,
    /// The endpoint's connection limit is reached.
    TooManyConnections,
    /// A listener already uses this address.
    AddrInUse,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

impl core::error::Error for Error {}
