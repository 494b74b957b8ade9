//! Wire formats: zero-copy views over byte slices, one file per protocol.
//!
//! Each protocol has a `Packet<T: AsRef<[u8]>>` (or `Frame`) view whose `new_checked`
//! validates everything the accessors rely on, so accessors never index out of bounds, and
//! a `Repr` — the parsed, owned meaning of a header — with `parse` and `emit`. Parsing
//! errors are the [`DropReason`](crate::DropReason) the interface counts, so "why was this
//! frame dropped" is decided in exactly one place. No logic (state, timers) lives here.

/// Declares a zero-copy view type `$name<T: AsRef<[u8]>>` over a buffer. Its
/// `new_checked` constructor lives with each protocol, since validation is the part
/// that differs.
macro_rules! packet_view {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// The underlying buffer.
            pub fn into_inner(self) -> T {
                self.buffer
            }
        }
    };
}

pub mod arp;
pub mod dhcp;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod tcp;
pub mod udp;

/// Result of parsing: the error is the reason the packet would be dropped.
pub type Result<T> = core::result::Result<T, crate::DropReason>;

/// [`DropReason::TooShort`](crate::DropReason::TooShort) unless `b` holds `min` bytes.
pub(crate) fn check_len(b: &[u8], min: usize) -> Result<()> {
    if b.len() < min {
        Err(crate::DropReason::TooShort)
    } else {
        Ok(())
    }
}

/// Reads a big-endian `u16` at `at` (callers have checked the length).
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads a big-endian `u32` at `at` (callers have checked the length).
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads an IPv4 address at `at` (callers have checked the length).
pub(crate) fn addr(b: &[u8], at: usize) -> core::net::Ipv4Addr {
    core::net::Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}
