//! IPv4 fragment reassembly with hard memory and time limits.
//!
//! Fragments are the classic way to make a host hoard memory, so every limit is explicit:
//! the bytes held over *all* datagrams (`max_bytes`), the number of datagrams in progress,
//! and how long a datagram may stay incomplete (`timeout`). Any overlap between fragments
//! discards the whole datagram, as RFC 5722 requires for IPv6 and modern IPv4 stacks do too:
//! overlapping fragments have no legitimate use and are how filters get evaded. An exact
//! duplicate (same offset and length, as produced by link-layer retransmission) is ignored.

use crate::time::Instant;
use crate::DropReason;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::time::Duration;

/// Tunables of the reassembler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Bytes of fragment data held at most, over all datagrams.
    pub max_bytes: usize,
    /// Datagrams in progress at most.
    pub max_datagrams: usize,
    /// Time from the first fragment until an incomplete datagram is dropped.
    pub timeout: Duration,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_bytes: 64 * 1024,
            max_datagrams: 16,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Identifies the datagram a fragment belongs to (RFC 791).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FragmentKey {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ident: u16,
}

/// Each fragment is charged at least this many bytes, so empty fragments are not free.
const MIN_CHARGE: usize = 8;

#[derive(Debug)]
struct Datagram {
    key: FragmentKey,
    expires: Instant,
    /// (offset, data), sorted by offset, never overlapping.
    fragments: Vec<(usize, Vec<u8>)>,
    /// Payload length, known once the last fragment (MF clear) arrived.
    total_len: Option<usize>,
    charged: usize,
}

impl Datagram {
    fn received(&self) -> usize {
        self.fragments.iter().map(|(_, d)| d.len()).sum()
    }
}

/// What happened to a fragment.
#[derive(Debug, PartialEq, Eq)]
pub enum Reassembled {
    /// Stored; the datagram is not complete yet.
    Held,
    /// The datagram is complete: its payload.
    Complete(Vec<u8>),
}

/// The reassembly buffer.
#[derive(Debug, Default)]
pub struct Reassembler {
    cfg: ReassemblyConfig,
    datagrams: Vec<Datagram>,
    charged: usize,
}

impl Reassembler {
    pub fn new(cfg: ReassemblyConfig) -> Reassembler {
        Reassembler {
            cfg,
            ..Reassembler::default()
        }
    }

    /// Bytes currently charged against `max_bytes`.
    pub fn bytes_held(&self) -> usize {
        self.charged
    }

    /// Datagrams currently in progress.
    pub fn datagrams_held(&self) -> usize {
        self.datagrams.len()
    }

    fn remove(&mut self, index: usize) -> Datagram {
        let d = self.datagrams.swap_remove(index);
        self.charged -= d.charged;
        d
    }

    /// Adds one fragment (`offset` in bytes, `more` = the MF flag). On error the fragment
    /// is dropped for the returned reason and, except for [`DropReason::ReassemblyDuplicate`],
    /// so is everything held for its datagram.
    pub fn add(
        &mut self,
        key: FragmentKey,
        offset: usize,
        more: bool,
        data: &[u8],
        now: Instant,
    ) -> Result<Reassembled, DropReason> {
        let index = match self.datagrams.iter().position(|d| d.key == key) {
            Some(i) => i,
            None => {
                if self.datagrams.len() >= self.cfg.max_datagrams {
                    return Err(DropReason::ReassemblyOverflow);
                }
                let expires = now + self.cfg.timeout;
                self.datagrams.push(Datagram {
                    key,
                    expires,
                    fragments: Vec::new(),
                    total_len: None,
                    charged: 0,
                });
                self.datagrams.len() - 1
            }
        };
        let end = offset + data.len();
        let d = &self.datagrams[index];
        let inconsistent = match (more, d.total_len) {
            (false, Some(total)) => total != end,
            (false, None) => d.fragments.last().is_some_and(|(o, f)| o + f.len() > end),
            (true, Some(total)) => end > total,
            (true, None) => false,
        };
        if inconsistent {
            self.remove(index);
            return Err(DropReason::BadFragment);
        }
        let slot = d.fragments.partition_point(|(o, _)| *o < offset);
        if d.fragments
            .get(slot)
            .is_some_and(|(o, f)| *o == offset && f.len() == data.len())
        {
            return Err(DropReason::ReassemblyDuplicate);
        }
        let overlaps_prev = slot > 0 && {
            let (o, f) = &d.fragments[slot - 1];
            o + f.len() > offset
        };
        let overlaps_next = d.fragments.get(slot).is_some_and(|(o, _)| *o < end);
        if overlaps_prev || overlaps_next {
            self.remove(index);
            return Err(DropReason::ReassemblyOverlap);
        }
        let charge = data.len().max(MIN_CHARGE);
        if self.charged + charge > self.cfg.max_bytes {
            self.remove(index);
            return Err(DropReason::ReassemblyOverflow);
        }
        self.charged += charge;
        let d = &mut self.datagrams[index];
        d.charged += charge;
        d.fragments.insert(slot, (offset, data.to_vec()));
        if !more {
            d.total_len = Some(end);
        }
        if d.total_len != Some(d.received()) {
            return Ok(Reassembled::Held);
        }
        let d = self.remove(index);
        let mut payload = Vec::with_capacity(d.received());
        for (_, f) in d.fragments {
            payload.extend_from_slice(&f);
        }
        Ok(Reassembled::Complete(payload))
    }

    /// Drops datagrams whose time is up; returns how many.
    pub fn poll(&mut self, now: Instant) -> usize {
        let before = self.datagrams.len();
        let mut i = 0;
        while i < self.datagrams.len() {
            if self.datagrams[i].expires <= now {
                self.remove(i);
            } else {
                i += 1;
            }
        }
        before - self.datagrams.len()
    }

    /// The next expiry, if any datagram is in progress.
    pub fn poll_at(&self) -> Option<Instant> {
        self.datagrams.iter().map(|d| d.expires).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: FragmentKey = FragmentKey {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: Ipv4Addr::new(10, 0, 0, 2),
        protocol: 17,
        ident: 99,
    };

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    /// Splits `payload` into fragments of `size` bytes: (offset, more, bytes).
    fn split(payload: &[u8], size: usize) -> Vec<(usize, bool, Vec<u8>)> {
        payload
            .chunks(size)
            .enumerate()
            .map(|(i, c)| (i * size, (i + 1) * size < payload.len(), c.to_vec()))
            .collect()
    }

    fn feed(
        r: &mut Reassembler,
        frags: &[(usize, bool, Vec<u8>)],
    ) -> Vec<Result<Reassembled, DropReason>> {
        frags
            .iter()
            .map(|(o, m, d)| r.add(KEY, *o, *m, d, Instant::ZERO))
            .collect()
    }

    #[test]
    fn in_order_and_reversed() {
        let payload = data(3000);
        for reverse in [false, true] {
            let mut r = Reassembler::new(ReassemblyConfig::default());
            let mut frags = split(&payload, 1480);
            if reverse {
                frags.reverse();
            }
            let results = feed(&mut r, &frags);
            assert_eq!(results[0], Ok(Reassembled::Held));
            assert_eq!(results[1], Ok(Reassembled::Held));
            assert_eq!(results[2], Ok(Reassembled::Complete(payload.clone())));
            assert_eq!((r.bytes_held(), r.datagrams_held()), (0, 0));
        }
    }

    #[test]
    fn shuffled_small_fragments() {
        let payload = data(800);
        let mut frags = split(&payload, 16);
        // A fixed permutation: stride 7 over 50 fragments visits each once.
        let n = frags.len();
        frags = (0..n).map(|i| frags[(i * 7) % n].clone()).collect();
        let mut r = Reassembler::new(ReassemblyConfig::default());
        let results = feed(&mut r, &frags);
        assert!(results[..n - 1].iter().all(|x| *x == Ok(Reassembled::Held)));
        assert_eq!(results[n - 1], Ok(Reassembled::Complete(payload)));
    }

    #[test]
    fn overlap_drops_datagram_and_duplicate_is_ignored() {
        let mut r = Reassembler::new(ReassemblyConfig::default());
        assert_eq!(
            r.add(KEY, 0, true, &data(16), Instant::ZERO),
            Ok(Reassembled::Held)
        );
        assert_eq!(
            r.add(KEY, 0, true, &data(16), Instant::ZERO),
            Err(DropReason::ReassemblyDuplicate)
        );
        assert_eq!(r.datagrams_held(), 1);
        assert_eq!(
            r.add(KEY, 8, true, &data(16), Instant::ZERO),
            Err(DropReason::ReassemblyOverlap)
        );
        assert_eq!((r.bytes_held(), r.datagrams_held()), (0, 0));
        // Overlap with the following fragment.
        r.add(KEY, 16, true, &data(16), Instant::ZERO).unwrap();
        assert_eq!(
            r.add(KEY, 8, true, &data(16), Instant::ZERO),
            Err(DropReason::ReassemblyOverlap)
        );
        // A fragment after the end given by the last fragment, and two different ends.
        r.add(KEY, 16, false, &data(16), Instant::ZERO).unwrap();
        assert_eq!(
            r.add(KEY, 32, true, &data(16), Instant::ZERO),
            Err(DropReason::BadFragment)
        );
        r.add(KEY, 16, true, &data(16), Instant::ZERO).unwrap();
        r.add(KEY, 64, false, &data(8), Instant::ZERO).unwrap();
        assert_eq!(
            r.add(KEY, 80, false, &data(8), Instant::ZERO),
            Err(DropReason::BadFragment)
        );
        assert_eq!(r.datagrams_held(), 0);
    }

    #[test]
    fn timeout() {
        let mut r = Reassembler::new(ReassemblyConfig::default());
        r.add(KEY, 0, true, &data(16), Instant::from_secs(5))
            .unwrap();
        assert_eq!(r.poll_at(), Some(Instant::from_secs(35)));
        assert_eq!(r.poll(Instant::from_secs(34)), 0);
        assert_eq!(r.poll(Instant::from_secs(35)), 1);
        assert_eq!(
            (r.bytes_held(), r.datagrams_held(), r.poll_at()),
            (0, 0, None)
        );
        // The late tail starts a new datagram rather than completing the dropped one.
        assert_eq!(
            r.add(KEY, 16, false, &data(4), Instant::from_secs(36)),
            Ok(Reassembled::Held)
        );
    }

    #[test]
    fn memory_limit() {
        let cfg = ReassemblyConfig {
            max_bytes: 4096,
            ..ReassemblyConfig::default()
        };
        let mut r = Reassembler::new(cfg);
        let other = FragmentKey { ident: 1, ..KEY };
        r.add(other, 0, true, &data(2048), Instant::ZERO).unwrap();
        r.add(KEY, 0, true, &data(1024), Instant::ZERO).unwrap();
        assert_eq!(
            r.add(KEY, 1024, true, &data(1032), Instant::ZERO),
            Err(DropReason::ReassemblyOverflow)
        );
        // The offending datagram is released entirely; the other one is untouched.
        assert_eq!((r.bytes_held(), r.datagrams_held()), (2048, 1));
        // Many tiny fragments are charged at least MIN_CHARGE each: the first refused one
        // comes exactly when the charges reach the limit, and frees its datagram.
        let tiny = FragmentKey { ident: 2, ..KEY };
        let held = (0..1000)
            .take_while(|i| r.add(tiny, i * 8, true, &[], Instant::ZERO).is_ok())
            .count();
        assert_eq!(held, (4096 - 2048) / MIN_CHARGE);
        assert_eq!((r.bytes_held(), r.datagrams_held()), (2048, 1));
    }

    #[test]
    fn datagram_count_limit() {
        let mut r = Reassembler::new(ReassemblyConfig {
            max_datagrams: 2,
            ..ReassemblyConfig::default()
        });
        for ident in 0..2 {
            r.add(
                FragmentKey { ident, ..KEY },
                0,
                true,
                &data(8),
                Instant::ZERO,
            )
            .unwrap();
        }
        assert_eq!(
            r.add(
                FragmentKey { ident: 2, ..KEY },
                0,
                true,
                &data(8),
                Instant::ZERO
            ),
            Err(DropReason::ReassemblyOverflow)
        );
    }
}
