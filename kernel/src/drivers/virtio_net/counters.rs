//! The driver's counters, lock-free so the hardirq handler, the poller and the monitor
//! can all touch them. `NET_RX_USED_IDX` (the device's used index, read live) against
//! `NET_RX_LAST_USED_IDX` (the last one the driver processed) shows at a glance whether
//! received packets are waiting unprocessed.
use core::sync::atomic::{AtomicU64, Ordering};

/// Every counter, by its `NAME` in the `counters` listing.
pub struct NetCounters {
    pub rx_packets: AtomicU64,
    pub rx_bytes: AtomicU64,
    pub tx_packets: AtomicU64,
    pub tx_bytes: AtomicU64,
    /// RX queue interrupts, TX queue interrupts (suppressed: should stay ~0), config changes.
    pub rx_irqs: AtomicU64,
    pub tx_irqs: AtomicU64,
    pub config_irqs: AtomicU64,
    /// Calls of the registered RX notifier from the hardirq handler.
    pub rx_notifies: AtomicU64,
    /// `poll_rx` calls, and those that used their whole budget.
    pub rx_polls: AtomicU64,
    pub rx_budget_exhausted: AtomicU64,
    /// `enable_rx_interrupts` calls, and those that found work already waiting.
    pub rx_irq_enables: AtomicU64,
    pub rx_irq_enable_races: AtomicU64,
    /// The last used index the driver processed.
    pub rx_last_used_idx: AtomicU64,
    /// Used receive buffers taken (a frame may span several; with the entries naming no
    /// buffer, they account for every step of the used index).
    pub rx_buffers: AtomicU64,
    /// Received frames dropped: shorter than the virtio-net header or empty; longer than
    /// the buffer or the largest frame (a lying device); continuation buffers of a frame
    /// dropped part-way; used-ring entries naming no posted buffer; `num_buffers` 0 or
    /// beyond the ring; GSO with `gso_size` 0, with a type not negotiated or not TCPv4, or
    /// not exactly one IPv4/TCP datagram; `NEEDS_CSUM` with `csum_start` beyond the frame.
    pub rx_drop_short: AtomicU64,
    pub rx_drop_too_long: AtomicU64,
    pub rx_drop_continuation: AtomicU64,
    pub rx_drop_bad_used: AtomicU64,
    pub rx_drop_num_buffers: AtomicU64,
    pub rx_drop_gso_size: AtomicU64,
    pub rx_drop_gso_type: AtomicU64,
    pub rx_drop_gso_ip_length: AtomicU64,
    pub rx_drop_csum_start: AtomicU64,
    /// Frames that spanned several buffers (`MRG_RXBUF`), and those of them that had to be
    /// copied to be contiguous (their buffers were not adjacent).
    pub rx_multi_buffer: AtomicU64,
    pub rx_assembled_copies: AtomicU64,
    /// GSO frames received (TCPv4, `GUEST_TSO4`), their bytes, and the sender's segments
    /// they carry (`gso_size` pieces of their payload).
    pub rx_gso_frames: AtomicU64,
    pub rx_gso_bytes: AtomicU64,
    pub rx_gso_segments: AtomicU64,
    /// Frames by checksum handling: `NEEDS_CSUM` (partial, accepted), `DATA_VALID`
    /// (checked by the device), verified in software.
    pub rx_csum_partial: AtomicU64,
    pub rx_csum_valid: AtomicU64,
    pub rx_csum_software: AtomicU64,
    /// A receive buffer could not be reposted (the ring shrinks by one).
    pub rx_refill_failed: AtomicU64,
    /// Frames refused: no run of free TX slots; larger than 64 KB; asking for an offload
    /// not negotiated (or naming fields the frame lacks).
    pub tx_drop_full: AtomicU64,
    pub tx_drop_too_large: AtomicU64,
    pub tx_drop_offload: AtomicU64,
    pub tx_reclaimed: AtomicU64,
    /// Frames sent with `NEEDS_CSUM` (the device completes the transport checksum), TSO
    /// frames (`HOST_TSO4`) and the segments they carry.
    pub tx_csum_offloaded: AtomicU64,
    pub tx_tso_frames: AtomicU64,
    pub tx_tso_segments: AtomicU64,
    /// Device kicks, and kicks EVENT_IDX showed to be unnecessary.
    pub rx_kicks: AtomicU64,
    pub rx_kicks_suppressed: AtomicU64,
    pub tx_kicks: AtomicU64,
    pub tx_kicks_suppressed: AtomicU64,
    /// Control-queue commands (`offload rx on|off`): sent, acknowledged, answered with an
    /// error, left unanswered past the wait.
    pub ctrl_sent: AtomicU64,
    pub ctrl_acked: AtomicU64,
    pub ctrl_failed: AtomicU64,
    pub ctrl_timeouts: AtomicU64,
}

pub static COUNTERS: NetCounters = NetCounters {
    rx_packets: AtomicU64::new(0),
    rx_bytes: AtomicU64::new(0),
    tx_packets: AtomicU64::new(0),
    tx_bytes: AtomicU64::new(0),
    rx_irqs: AtomicU64::new(0),
    tx_irqs: AtomicU64::new(0),
    config_irqs: AtomicU64::new(0),
    rx_notifies: AtomicU64::new(0),
    rx_polls: AtomicU64::new(0),
    rx_budget_exhausted: AtomicU64::new(0),
    rx_irq_enables: AtomicU64::new(0),
    rx_irq_enable_races: AtomicU64::new(0),
    rx_last_used_idx: AtomicU64::new(0),
    rx_buffers: AtomicU64::new(0),
    rx_drop_short: AtomicU64::new(0),
    rx_drop_too_long: AtomicU64::new(0),
    rx_drop_continuation: AtomicU64::new(0),
    rx_drop_bad_used: AtomicU64::new(0),
    rx_drop_num_buffers: AtomicU64::new(0),
    rx_drop_gso_size: AtomicU64::new(0),
    rx_drop_gso_type: AtomicU64::new(0),
    rx_drop_gso_ip_length: AtomicU64::new(0),
    rx_drop_csum_start: AtomicU64::new(0),
    rx_multi_buffer: AtomicU64::new(0),
    rx_assembled_copies: AtomicU64::new(0),
    rx_gso_frames: AtomicU64::new(0),
    rx_gso_bytes: AtomicU64::new(0),
    rx_gso_segments: AtomicU64::new(0),
    rx_csum_partial: AtomicU64::new(0),
    rx_csum_valid: AtomicU64::new(0),
    rx_csum_software: AtomicU64::new(0),
    rx_refill_failed: AtomicU64::new(0),
    tx_drop_full: AtomicU64::new(0),
    tx_drop_too_large: AtomicU64::new(0),
    tx_drop_offload: AtomicU64::new(0),
    tx_reclaimed: AtomicU64::new(0),
    tx_csum_offloaded: AtomicU64::new(0),
    tx_tso_frames: AtomicU64::new(0),
    tx_tso_segments: AtomicU64::new(0),
    rx_kicks: AtomicU64::new(0),
    rx_kicks_suppressed: AtomicU64::new(0),
    tx_kicks: AtomicU64::new(0),
    tx_kicks_suppressed: AtomicU64::new(0),
    ctrl_sent: AtomicU64::new(0),
    ctrl_acked: AtomicU64::new(0),
    ctrl_failed: AtomicU64::new(0),
    ctrl_timeouts: AtomicU64::new(0),
};

/// Adds `n` to a counter.
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Entries of [`NetCounters::snapshot`].
pub const SNAPSHOT_LEN: usize = 49;

impl NetCounters {
    /// `(NAME, value)` of every counter, `rx_used_idx` being the device's used index.
    /// `NET_RX_GSO_AVG_BYTES` is derived: the average size of a GSO frame.
    pub fn snapshot(&self, rx_used_idx: u64) -> [(&'static str, u64); SNAPSHOT_LEN] {
        let v = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let gso_avg = v(&self.rx_gso_bytes)
            .checked_div(v(&self.rx_gso_frames))
            .unwrap_or(0);
        [
            ("NET_RX_PACKETS", v(&self.rx_packets)),
            ("NET_RX_BYTES", v(&self.rx_bytes)),
            ("NET_TX_PACKETS", v(&self.tx_packets)),
            ("NET_TX_BYTES", v(&self.tx_bytes)),
            ("NET_RX_IRQS", v(&self.rx_irqs)),
            ("NET_TX_IRQS", v(&self.tx_irqs)),
            ("NET_CONFIG_IRQS", v(&self.config_irqs)),
            ("NET_RX_NOTIFIES", v(&self.rx_notifies)),
            ("NET_RX_POLLS", v(&self.rx_polls)),
            ("NET_RX_BUDGET_EXHAUSTED", v(&self.rx_budget_exhausted)),
            ("NET_RX_IRQ_ENABLES", v(&self.rx_irq_enables)),
            ("NET_RX_IRQ_ENABLE_RACES", v(&self.rx_irq_enable_races)),
            ("NET_RX_USED_IDX", rx_used_idx),
            ("NET_RX_LAST_USED_IDX", v(&self.rx_last_used_idx)),
            ("NET_RX_BUFFERS", v(&self.rx_buffers)),
            ("NET_RX_DROP_SHORT", v(&self.rx_drop_short)),
            ("NET_RX_DROP_TOO_LONG", v(&self.rx_drop_too_long)),
            ("NET_RX_DROP_CONTINUATION", v(&self.rx_drop_continuation)),
            ("NET_RX_DROP_BAD_USED", v(&self.rx_drop_bad_used)),
            ("NET_RX_DROP_NUM_BUFFERS", v(&self.rx_drop_num_buffers)),
            ("NET_RX_DROP_GSO_SIZE", v(&self.rx_drop_gso_size)),
            ("NET_RX_DROP_GSO_TYPE", v(&self.rx_drop_gso_type)),
            ("NET_RX_DROP_GSO_IP_LENGTH", v(&self.rx_drop_gso_ip_length)),
            ("NET_RX_DROP_CSUM_START", v(&self.rx_drop_csum_start)),
            ("NET_RX_MULTI_BUFFER", v(&self.rx_multi_buffer)),
            ("NET_RX_ASSEMBLED_COPIES", v(&self.rx_assembled_copies)),
            ("NET_RX_GSO_FRAMES", v(&self.rx_gso_frames)),
            ("NET_RX_GSO_BYTES", v(&self.rx_gso_bytes)),
            ("NET_RX_GSO_SEGMENTS", v(&self.rx_gso_segments)),
            ("NET_RX_GSO_AVG_BYTES", gso_avg),
            ("NET_RX_CSUM_PARTIAL", v(&self.rx_csum_partial)),
            ("NET_RX_CSUM_VALID", v(&self.rx_csum_valid)),
            ("NET_RX_CSUM_SOFTWARE", v(&self.rx_csum_software)),
            ("NET_RX_REFILL_FAILED", v(&self.rx_refill_failed)),
            ("NET_TX_DROP_FULL", v(&self.tx_drop_full)),
            ("NET_TX_DROP_TOO_LARGE", v(&self.tx_drop_too_large)),
            ("NET_TX_DROP_OFFLOAD", v(&self.tx_drop_offload)),
            ("NET_TX_RECLAIMED", v(&self.tx_reclaimed)),
            ("NET_TX_CSUM_OFFLOADED", v(&self.tx_csum_offloaded)),
            ("NET_TX_TSO_FRAMES", v(&self.tx_tso_frames)),
            ("NET_TX_TSO_SEGMENTS", v(&self.tx_tso_segments)),
            ("NET_RX_KICKS", v(&self.rx_kicks)),
            ("NET_RX_KICKS_SUPPRESSED", v(&self.rx_kicks_suppressed)),
            ("NET_TX_KICKS", v(&self.tx_kicks)),
            ("NET_TX_KICKS_SUPPRESSED", v(&self.tx_kicks_suppressed)),
            ("NET_CTRL_SENT", v(&self.ctrl_sent)),
            ("NET_CTRL_ACKED", v(&self.ctrl_acked)),
            ("NET_CTRL_FAILED", v(&self.ctrl_failed)),
            ("NET_CTRL_TIMEOUTS", v(&self.ctrl_timeouts)),
        ]
    }
}
