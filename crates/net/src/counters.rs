//! Statistics: packets and bytes per layer, and every drop **by reason**.
//!
//! A network stack that silently loses packets is impossible to debug, so each received
//! frame ends in exactly one *outcome* — either a [`Delivery`] (it was used) or a
//! [`DropReason`] (it was thrown away, and why). The counters for both are plain arrays
//! indexed by the enum, so counting costs one add and the monitor can list everything as
//! `NAME=VALUE` lines through [`Counters::iter`] without a hand-maintained table.

/// Declares a fieldless enum together with its `ALL` list and a stable snake_case name for
/// each variant; the names are what the monitor prints.
macro_rules! named_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every variant, in declaration order (the order of the counter listing).
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// Stable snake_case name used in counter listings.
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }
    };
}

named_enum! {
    /// Why an incoming frame (or a queued outgoing packet) was discarded.
    pub enum DropReason {
        /// Shorter than the fixed header of its layer.
        TooShort => "drop_too_short",
        /// A length field disagrees with the bytes present.
        BadLength => "drop_bad_length",
        /// IPv4, ICMP or UDP checksum did not verify.
        BadChecksum => "drop_bad_checksum",
        /// IPv4 version field is not 4.
        BadVersion => "drop_bad_version",
        /// IPv4 header length below 5 words or beyond the packet.
        BadHeaderLength => "drop_bad_header_length",
        /// Reserved flag set, or fragment fields that cannot describe a valid datagram.
        BadFragment => "drop_bad_fragment",
        /// Source address that no host may use (broadcast, multicast, our own address).
        BadSourceAddress => "drop_bad_source_address",
        /// 802.1Q tagged frame: VLANs are not configured on this interface.
        VlanTagged => "drop_vlan_tagged",
        /// EtherType we do not speak.
        UnknownEthertype => "drop_unknown_ethertype",
        /// Ethernet or IPv4 destination is neither us nor a broadcast address.
        NotForUs => "drop_not_for_us",
        /// The interface has no IPv4 address yet.
        NotConfigured => "drop_not_configured",
        /// IPv4 datagram arrived with a TTL of zero.
        TtlExpired => "drop_ttl_expired",
        /// IPv4 protocol number without a handler (protocol unreachable sent).
        UnknownProtocol => "drop_unknown_protocol",
        /// ARP packet for another hardware/protocol type or with an unknown opcode.
        ArpMalformed => "drop_arp_malformed",
        /// ARP packet whose target is not our address.
        ArpNotForUs => "drop_arp_not_for_us",
        /// Queued packet pushed out of the full ARP pending queue.
        ArpPendingOverflow => "drop_arp_pending_overflow",
        /// Queued packet whose next hop never answered ARP.
        ArpUnresolved => "drop_arp_unresolved",
        /// Fragments of a datagram that did not complete in time.
        ReassemblyTimeout => "drop_reassembly_timeout",
        /// Fragment refused because the reassembly memory limit was reached.
        ReassemblyOverflow => "drop_reassembly_overflow",
        /// Fragment overlapping another one: the whole datagram is discarded (RFC 5722).
        ReassemblyOverlap => "drop_reassembly_overlap",
        /// Exact duplicate of a fragment already held (ignored, the datagram survives).
        ReassemblyDuplicate => "drop_reassembly_duplicate",
        /// ICMP message type or code we do not handle.
        IcmpUnsupported => "drop_icmp_unsupported",
        /// Echo request sent to a broadcast address (smurf protection).
        IcmpBroadcastEcho => "drop_icmp_broadcast_echo",
        /// Echo reply matching no outstanding ping.
        IcmpUnmatchedReply => "drop_icmp_unmatched_reply",
        /// UDP datagram for a port with no socket (port unreachable sent).
        UdpNoSocket => "drop_udp_no_socket",
        /// UDP socket receive queue full.
        UdpQueueFull => "drop_udp_queue_full",
        /// DHCP message that did not parse or does not belong to our exchange.
        DhcpIgnored => "drop_dhcp_ignored",
        /// Outgoing frame refused because the transmit queue is full.
        TxQueueFull => "drop_tx_queue_full",
        /// Event discarded because the caller did not drain the event queue.
        EventQueueFull => "drop_event_queue_full",
    }
}

impl DropReason {
    /// True for reasons that are the outcome of a received frame; false for the drops that
    /// happen later or on the send side (queued packets, timers, full queues), which are
    /// counted in addition to the outcome of whatever frame triggered them.
    pub const fn is_receive_outcome(self) -> bool {
        !matches!(
            self,
            DropReason::ArpPendingOverflow
                | DropReason::ArpUnresolved
                | DropReason::ReassemblyTimeout
                | DropReason::TxQueueFull
                | DropReason::EventQueueFull
        )
    }
}

named_enum! {
    /// What happened to a received frame that was *not* dropped.
    pub enum Delivery {
        /// ARP request for our address (answered) or reply for us (cache updated).
        Arp => "rx_arp_handled",
        /// ICMP echo request answered.
        IcmpEchoRequest => "rx_icmp_echo_request",
        /// ICMP echo reply matched to an outstanding ping.
        IcmpEchoReply => "rx_icmp_echo_reply",
        /// ICMP destination unreachable reported as an event.
        IcmpUnreachable => "rx_icmp_unreachable",
        /// UDP datagram queued on a socket.
        Udp => "rx_udp_delivered",
        /// DHCP message consumed by the DHCP client.
        Dhcp => "rx_dhcp_handled",
        /// TCP segment handed to the caller.
        Tcp => "rx_tcp_handed_up",
        /// Fragment stored, waiting for the rest of its datagram.
        FragmentHeld => "rx_fragment_held",
    }
}

/// Packets and bytes through one layer in each direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerCounters {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
}

impl LayerCounters {
    pub(crate) fn rx(&mut self, bytes: usize) {
        self.rx_packets += 1;
        self.rx_bytes += bytes as u64;
    }

    pub(crate) fn tx(&mut self, bytes: usize) {
        self.tx_packets += 1;
        self.tx_bytes += bytes as u64;
    }
}

/// The layers with their own [`LayerCounters`], in listing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Ethernet,
    Arp,
    Ipv4,
    Icmp,
    Udp,
    Tcp,
}

const LAYER_NAMES: [[&str; 4]; 6] = [
    [
        "eth_rx_packets",
        "eth_rx_bytes",
        "eth_tx_packets",
        "eth_tx_bytes",
    ],
    [
        "arp_rx_packets",
        "arp_rx_bytes",
        "arp_tx_packets",
        "arp_tx_bytes",
    ],
    [
        "ipv4_rx_packets",
        "ipv4_rx_bytes",
        "ipv4_tx_packets",
        "ipv4_tx_bytes",
    ],
    [
        "icmp_rx_packets",
        "icmp_rx_bytes",
        "icmp_tx_packets",
        "icmp_tx_bytes",
    ],
    [
        "udp_rx_packets",
        "udp_rx_bytes",
        "udp_tx_packets",
        "udp_tx_bytes",
    ],
    [
        "tcp_rx_packets",
        "tcp_rx_bytes",
        "tcp_tx_packets",
        "tcp_tx_bytes",
    ],
];

/// All statistics of one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    layers: [LayerCounters; 6],
    drops: [u64; DropReason::ALL.len()],
    deliveries: [u64; Delivery::ALL.len()],
    /// ICMP errors not sent because of the rate limit.
    pub icmp_errors_rate_limited: u64,
    /// Partial transport checksums completed in software (the device does not offload
    /// checksums, or the datagram was fragmented).
    pub tx_checksums_completed: u64,
}

impl Counters {
    /// Per-layer packet and byte counts.
    pub fn layer(&self, layer: Layer) -> &LayerCounters {
        &self.layers[layer as usize]
    }

    pub(crate) fn layer_mut(&mut self, layer: Layer) -> &mut LayerCounters {
        &mut self.layers[layer as usize]
    }

    /// How many packets were dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.drops[reason as usize]
    }

    /// How many received frames ended in `delivery`.
    pub fn delivered(&self, delivery: Delivery) -> u64 {
        self.deliveries[delivery as usize]
    }

    /// Sum of all drop counters.
    pub fn total_dropped(&self) -> u64 {
        self.drops.iter().sum()
    }

    /// Sum of all delivery counters.
    pub fn total_delivered(&self) -> u64 {
        self.deliveries.iter().sum()
    }

    pub(crate) fn drop(&mut self, reason: DropReason) {
        self.drops[reason as usize] += 1;
    }

    pub(crate) fn deliver(&mut self, delivery: Delivery) {
        self.deliveries[delivery as usize] += 1;
    }

    /// Every counter as a `(NAME, VALUE)` pair, for a `NAME=VALUE` monitor listing.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let layers = self
            .layers
            .iter()
            .zip(LAYER_NAMES.iter())
            .flat_map(|(c, n)| {
                [
                    (n[0], c.rx_packets),
                    (n[1], c.rx_bytes),
                    (n[2], c.tx_packets),
                    (n[3], c.tx_bytes),
                ]
            });
        let deliveries = Delivery::ALL.iter().map(|d| (d.name(), self.delivered(*d)));
        let drops = DropReason::ALL.iter().map(|r| (r.name(), self.dropped(*r)));
        let extra = [
            ("icmp_errors_rate_limited", self.icmp_errors_rate_limited),
            ("tx_checksums_completed", self.tx_checksums_completed),
        ];
        layers.chain(deliveries).chain(drops).chain(extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_listing_is_complete() {
        let c = Counters::default();
        let names: BTreeSet<_> = c.iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), c.iter().count());
        assert_eq!(
            names.len(),
            24 + Delivery::ALL.len() + DropReason::ALL.len() + 2
        );
    }

    #[test]
    fn counting_shows_in_listing() {
        let mut c = Counters::default();
        c.drop(DropReason::BadChecksum);
        c.drop(DropReason::BadChecksum);
        c.deliver(Delivery::Tcp);
        c.layer_mut(Layer::Udp).rx(100);
        let get = |name: &str| c.iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(get("drop_bad_checksum"), 2);
        assert_eq!(get("rx_tcp_handed_up"), 1);
        assert_eq!(get("udp_rx_bytes"), 100);
        assert_eq!(c.total_dropped(), 2);
        assert_eq!(c.total_delivered(), 1);
    }
}
