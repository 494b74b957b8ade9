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
    /// Received buffers dropped: shorter than the virtio-net header or empty; longer than
    /// the buffer (a lying device); spanning several buffers (MRG_RXBUF, not reassembled);
    /// used-ring entries naming no posted buffer.
    pub rx_drop_short: AtomicU64,
    pub rx_drop_too_long: AtomicU64,
    pub rx_drop_merged: AtomicU64,
    pub rx_drop_bad_used: AtomicU64,
    /// A receive buffer could not be reposted (the ring shrinks by one).
    pub rx_refill_failed: AtomicU64,
    /// Frames refused: no free TX slot; larger than a TX buffer.
    pub tx_drop_full: AtomicU64,
    pub tx_drop_too_large: AtomicU64,
    pub tx_reclaimed: AtomicU64,
    /// Device kicks, and kicks EVENT_IDX showed to be unnecessary.
    pub rx_kicks: AtomicU64,
    pub rx_kicks_suppressed: AtomicU64,
    pub tx_kicks: AtomicU64,
    pub tx_kicks_suppressed: AtomicU64,
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
    rx_drop_short: AtomicU64::new(0),
    rx_drop_too_long: AtomicU64::new(0),
    rx_drop_merged: AtomicU64::new(0),
    rx_drop_bad_used: AtomicU64::new(0),
    rx_refill_failed: AtomicU64::new(0),
    tx_drop_full: AtomicU64::new(0),
    tx_drop_too_large: AtomicU64::new(0),
    tx_reclaimed: AtomicU64::new(0),
    rx_kicks: AtomicU64::new(0),
    rx_kicks_suppressed: AtomicU64::new(0),
    tx_kicks: AtomicU64::new(0),
    tx_kicks_suppressed: AtomicU64::new(0),
};

/// Adds `n` to a counter.
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl NetCounters {
    /// `(NAME, value)` of every counter, `rx_used_idx` being the device's used index.
    pub fn snapshot(&self, rx_used_idx: u64) -> [(&'static str, u64); 26] {
        let v = |c: &AtomicU64| c.load(Ordering::Relaxed);
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
            ("NET_RX_DROP_SHORT", v(&self.rx_drop_short)),
            ("NET_RX_DROP_TOO_LONG", v(&self.rx_drop_too_long)),
            ("NET_RX_DROP_MERGED", v(&self.rx_drop_merged)),
            ("NET_RX_DROP_BAD_USED", v(&self.rx_drop_bad_used)),
            ("NET_RX_REFILL_FAILED", v(&self.rx_refill_failed)),
            ("NET_TX_DROP_FULL", v(&self.tx_drop_full)),
            ("NET_TX_DROP_TOO_LARGE", v(&self.tx_drop_too_large)),
            ("NET_TX_RECLAIMED", v(&self.tx_reclaimed)),
            ("NET_RX_KICKS", v(&self.rx_kicks)),
            ("NET_RX_KICKS_SUPPRESSED", v(&self.rx_kicks_suppressed)),
            ("NET_TX_KICKS", v(&self.tx_kicks)),
            ("NET_TX_KICKS_SUPPRESSED", v(&self.tx_kicks_suppressed)),
        ]
    }
}
