//! The one error type of the protocol core.
//!
//! Every malformed, truncated, oversized or unexpected input maps to a variant here and ends
//! the session (SSH has no way to resynchronise a byte stream); nothing in the core panics on
//! peer input. The `&'static str` details are meant for the one log line per session.

use core::fmt;

/// Why a session cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A field or message ended before its declared end.
    Truncated(&'static str),
    /// A length field exceeded the limit this implementation accepts.
    Oversized(&'static str),
    /// Well-formed bytes that break a rule of the protocol.
    Protocol(&'static str),
    /// A message type not allowed at this point.
    Unexpected(u8),
    /// The two sides share no algorithm of this kind.
    NoCommonAlgorithm(&'static str),
    /// A packet failed its integrity check (MAC/Poly1305 tag).
    BadMac,
    /// A signature did not verify.
    BadSignature(&'static str),
    /// A key or key file could not be used.
    BadKey(&'static str),
    /// The peer said goodbye with SSH_MSG_DISCONNECT.
    PeerDisconnected { reason: u32 },
    /// The user's (client's) or the known-hosts check refused to go on.
    Refused(&'static str),
    /// The operating system's random source failed.
    Random,
    /// A socket, pipe or process operation of the program around the core failed.
    Io(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated(w) => write!(f, "truncated {w}"),
            Error::Oversized(w) => write!(f, "oversized {w}"),
            Error::Protocol(w) => write!(f, "protocol error: {w}"),
            Error::Unexpected(m) => write!(f, "unexpected message type {m}"),
            Error::NoCommonAlgorithm(w) => write!(f, "no common {w} algorithm"),
            Error::BadMac => write!(f, "packet integrity check failed"),
            Error::BadSignature(w) => write!(f, "bad signature: {w}"),
            Error::BadKey(w) => write!(f, "bad key: {w}"),
            Error::PeerDisconnected { reason } => write!(f, "peer disconnected (reason {reason})"),
            Error::Refused(w) => write!(f, "refused: {w}"),
            Error::Random => write!(f, "random source failed"),
            Error::Io(w) => write!(f, "I/O error: {w}"),
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Fills `buf` from the operating system's random source.
pub fn random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|_| Error::Random)
}
