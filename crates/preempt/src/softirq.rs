//! Softirq numbers and sets of them.
//!
//! A softirq is deferred interrupt work that runs in bottom-half context: after the hardirq
//! that raised it, with interrupts enabled, before returning to the interrupted thread (or in
//! `ksoftirqd` when there is too much of it). The number is also the priority: the run loop
//! serves pending softirqs from the lowest number up, as Linux does, so the order of the
//! variants below is the order of service.

/// A softirq. The discriminant is its bit in a [`SoftirqSet`] and its service order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Softirq {
    /// Timer wheel expiry (TCP retransmission, delayed ACK, TIME_WAIT, sleeps).
    Timer = 0,
    /// Transmit completion: reclaim sent buffers, restart stopped queues.
    NetTx = 1,
    /// Receive: the NAPI-style budgeted poll of the network devices.
    NetRx = 2,
    /// Generic deferred work items queued from interrupt context.
    Tasklet = 3,
    /// Scheduler load balancing.
    Sched = 4,
}

impl Softirq {
    /// Every softirq, in service order.
    pub const ALL: [Softirq; 5] = [
        Softirq::Timer,
        Softirq::NetTx,
        Softirq::NetRx,
        Softirq::Tasklet,
        Softirq::Sched,
    ];

    /// How many softirqs there are (the length of per-softirq tables).
    pub const COUNT: usize = Self::ALL.len();

    /// The index into per-softirq tables (equal to the bit number).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The softirq with bit number `n`, if there is one (bad input gives `None`).
    pub const fn from_index(n: usize) -> Option<Softirq> {
        if n < Self::COUNT {
            Some(Self::ALL[n])
        } else {
            None
        }
    }

    /// The name used on the serial console (Linux's `/proc/softirqs` spelling).
    pub const fn name(self) -> &'static str {
        match self {
            Softirq::Timer => "TIMER",
            Softirq::NetTx => "NET_TX",
            Softirq::NetRx => "NET_RX",
            Softirq::Tasklet => "TASKLET",
            Softirq::Sched => "SCHED",
        }
    }

    pub(crate) const fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// A set of softirqs (a bitmask), as taken from the pending word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SoftirqSet(u32);

impl SoftirqSet {
    /// No softirq.
    pub const EMPTY: SoftirqSet = SoftirqSet(0);

    /// The set of raw bits `bits`; bits that name no softirq are dropped.
    pub const fn from_bits_truncate(bits: u32) -> Self {
        SoftirqSet(bits & ((1 << Softirq::COUNT) - 1))
    }

    /// The raw bitmask.
    pub const fn bits(self) -> u32 {
        self.0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn contains(self, softirq: Softirq) -> bool {
        self.0 & softirq.bit() != 0
    }

    /// This set plus `softirq`.
    #[must_use]
    pub const fn with(self, softirq: Softirq) -> Self {
        SoftirqSet(self.0 | softirq.bit())
    }

    /// The members, in service order.
    pub fn iter(self) -> impl Iterator<Item = Softirq> {
        Softirq::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Softirq> for SoftirqSet {
    fn from_iter<I: IntoIterator<Item = Softirq>>(iter: I) -> Self {
        iter.into_iter().fold(SoftirqSet::EMPTY, SoftirqSet::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_round_trip_and_bad_index_is_none() {
        for (i, s) in Softirq::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
            assert_eq!(Softirq::from_index(i), Some(*s));
        }
        assert_eq!(Softirq::from_index(Softirq::COUNT), None);
    }

    #[test]
    fn set_iterates_in_service_order() {
        let set: SoftirqSet = [Softirq::NetRx, Softirq::Timer, Softirq::NetTx]
            .into_iter()
            .collect();
        let order: [Option<Softirq>; 3] = {
            let mut it = set.iter();
            [it.next(), it.next(), it.next()]
        };
        assert_eq!(
            order,
            [
                Some(Softirq::Timer),
                Some(Softirq::NetTx),
                Some(Softirq::NetRx)
            ]
        );
        assert!(set.contains(Softirq::NetRx) && !set.contains(Softirq::Sched));
    }

    #[test]
    fn unknown_bits_are_dropped() {
        let set = SoftirqSet::from_bits_truncate(u32::MAX);
        assert_eq!(set.iter().count(), Softirq::COUNT);
        assert!(SoftirqSet::from_bits_truncate(1 << 31).is_empty());
    }

    #[test]
    fn names_are_console_spelling() {
        assert_eq!(Softirq::NetRx.name(), "NET_RX");
        assert_eq!(Softirq::NetTx.name(), "NET_TX");
        assert_eq!(Softirq::Timer.name(), "TIMER");
    }
}
