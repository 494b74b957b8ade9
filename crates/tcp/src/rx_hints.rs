//! What the receiving device tells the engine about a segment (virtio-net's receive
//! offloads, Linux's `skb->ip_summed` and `skb_shinfo(skb)->gso_size`).
//!
//! A device that coalesces segments (GSO/GRO, `VIRTIO_NET_F_GUEST_TSO4`) hands up one
//! segment of up to 64 KB made of the sender's MSS-sized segments. The engine needs no
//! special path for it: it acknowledges by bytes received (an ACK at least every two
//! receive-MSS of new data), holds out-of-order data and reports SACK blocks by sequence
//! ranges, and trims whatever exceeds the window. Only the receive-MSS estimate would be
//! wrong, because the segment's length is no longer the sender's segment size: the device
//! reports that size in `gso_size`, which the estimate takes instead (Linux's
//! `tcp_measure_rcv_mss`).

/// Hints for one received segment; the default (nothing known) is what
/// [`Endpoint::receive`](crate::Endpoint::receive) assumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RxHints {
    /// The device verified the checksum, or the segment came from the host's own stack
    /// with only a partial one: do not verify it.
    pub checksum_trusted: bool,
    /// The sender's segment size when the device joined several segments into this one.
    pub gso_size: Option<u16>,
}
