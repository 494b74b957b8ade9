//! A byte ring with an explicit capacity limit.
//!
//! The send side keeps unacknowledged and unsent bytes here (offset 0 is `SND.UNA`); the
//! receive side keeps in-order bytes the application has not read yet and, past them,
//! out-of-order bytes at their final position (so reassembly never copies twice).
//!
//! The capacity is a limit, not an allocation: storage is allocated on first use and
//! grows by doubling (from [`MIN_STORAGE`]) only as far as the bytes held need. A
//! half-open connection in a SYN queue costs no buffer memory, and a request/response
//! connection moving a few hundred bytes costs a few KiB instead of two full-sized
//! buffers — allocating and zeroing 2 x 256 KiB per connection was most of the time a
//! new connection took in the kernel. Growing copies the held bytes once (amortised O(1)
//! per byte), keeping their positions relative to the head, out-of-order bytes included.
//!
//! Growth is fallible: when the allocator refuses (a kernel under memory pressure), the
//! storage stays as it is and writes take only what fits in it. The sender then queues
//! less and the receiver drops what it cannot store (counted; the peer retransmits):
//! a connection slows down instead of the kernel aborting.

use alloc::vec::Vec;

/// Smallest storage allocated (or the capacity, if smaller).
pub const MIN_STORAGE: usize = 512;

/// Ring buffer of bytes with a capacity limit and storage that grows on demand.
#[derive(Debug)]
pub struct Ring {
    storage: Vec<u8>,
    capacity: usize,
    head: usize,
    len: usize,
}

impl Ring {
    /// An empty ring that will hold at most `capacity` bytes.
    pub fn new(capacity: usize) -> Ring {
        Ring {
            storage: Vec::new(),
            capacity,
            head: 0,
            len: 0,
        }
    }

    /// Changes the limit (at least the bytes held, and at least 1). Storage already
    /// allocated beyond a smaller limit is kept until released.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(self.len).max(1);
    }

    /// Bytes held (committed).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maximum bytes held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Room left after the committed bytes.
    pub fn free(&self) -> usize {
        self.capacity - self.len
    }

    /// Makes the first `end` bytes after the head addressable (`end <= capacity`),
    /// growing the storage to the next power of two (at most the capacity). Returns how
    /// many bytes after the head are addressable: fewer than `end` when the allocator
    /// refused to grow the storage.
    fn reserve(&mut self, end: usize) -> usize {
        if end <= self.storage.len() {
            return end;
        }
        let want = end.max(MIN_STORAGE).next_power_of_two().min(self.capacity);
        let mut grown = Vec::new();
        if grown.try_reserve_exact(want).is_err() {
            return self.storage.len();
        }
        grown.extend_from_slice(&self.storage[self.head..]);
        grown.extend_from_slice(&self.storage[..self.head]);
        grown.resize(want, 0);
        self.storage = grown;
        self.head = 0;
        end
    }

    /// Copies `src` into the uncommitted area `offset` bytes past the committed end,
    /// truncated to the room there (and to the storage the allocator could provide).
    /// Returns the bytes copied. Does not commit them.
    pub fn write_at(&mut self, offset: usize, src: &[u8]) -> usize {
        if offset >= self.free() {
            return 0;
        }
        let want = src.len().min(self.free() - offset);
        let room = self.reserve(self.len + offset + want);
        let n = want.min(room.saturating_sub(self.len + offset));
        if n == 0 {
            return 0;
        }
        let size = self.storage.len();
        let start = (self.head + self.len + offset) % size;
        let first = n.min(size - start);
        self.storage[start..start + first].copy_from_slice(&src[..first]);
        self.storage[..n - first].copy_from_slice(&src[first..n]);
        n
    }

    /// Marks `n` more bytes after the committed end as held.
    pub fn commit(&mut self, n: usize) {
        debug_assert!(n <= self.free());
        self.len += n.min(self.free());
    }

    /// Appends as much of `src` as fits; returns the bytes taken.
    pub fn push(&mut self, src: &[u8]) -> usize {
        let n = self.write_at(0, src);
        self.commit(n);
        n
    }

    /// Copies committed bytes starting `offset` bytes from the head into `dst`, without
    /// removing them. Returns the bytes copied.
    pub fn peek_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        if offset >= self.len {
            return 0;
        }
        let n = dst.len().min(self.len - offset);
        let size = self.storage.len();
        let start = (self.head + offset) % size;
        let first = n.min(size - start);
        dst[..first].copy_from_slice(&self.storage[start..start + first]);
        dst[first..n].copy_from_slice(&self.storage[..n - first]);
        n
    }

    /// Removes `n` bytes from the head.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.len -= n;
        // The head is not reset when the ring empties: out-of-order bytes may already sit
        // at positions relative to it.
        if n > 0 {
            self.head = (self.head + n) % self.storage.len();
        }
    }

    /// Frees the storage when nothing is held (it is allocated again on next use). Only
    /// for a ring that holds no uncommitted (out-of-order) bytes either.
    pub fn release_if_empty(&mut self) {
        if self.len == 0 {
            self.storage = Vec::new();
            self.head = 0;
        }
    }

    /// Bytes of storage currently allocated (at most the capacity).
    pub fn allocated(&self) -> usize {
        self.storage.len()
    }

    /// Moves committed bytes out into `dst`; returns the bytes moved.
    pub fn pop(&mut self, dst: &mut [u8]) -> usize {
        let n = self.peek_at(0, dst);
        self.consume(n);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_respects_capacity() {
        let mut r = Ring::new(8);
        assert_eq!(r.push(b"abcdef"), 6);
        let mut out = [0u8; 4];
        assert_eq!(r.pop(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(r.push(b"ghijklmn"), 6); // only 6 free
        assert_eq!(r.len(), 8);
        let mut all = [0u8; 8];
        assert_eq!(r.peek_at(0, &mut all), 8);
        assert_eq!(&all, b"efghijkl");
        assert_eq!(r.peek_at(6, &mut all), 2);
        assert_eq!(&all[..2], b"kl");
        r.consume(8);
        assert!(r.is_empty());
    }

    #[test]
    fn storage_is_lazy_and_released_when_empty() {
        let mut r = Ring::new(16);
        assert_eq!(r.allocated(), 0);
        r.push(b"abc");
        r.release_if_empty();
        assert_eq!(r.allocated(), 16, "kept while holding data");
        r.consume(3);
        r.release_if_empty();
        assert_eq!(r.allocated(), 0);
        assert_eq!(r.push(b"xyz"), 3);
        let mut out = [0u8; 3];
        assert_eq!(r.pop(&mut out), 3);
        assert_eq!(&out, b"xyz");
    }

    #[test]
    fn write_at_leaves_holes_until_commit() {
        let mut r = Ring::new(10);
        r.push(b"xyzxyz");
        r.consume(6);
        assert_eq!(r.write_at(3, b"DEF"), 3);
        assert_eq!(r.write_at(0, b"ABC"), 3);
        assert_eq!(r.write_at(9, b"Z"), 1);
        assert_eq!(r.write_at(10, b"Q"), 0);
        r.commit(6);
        let mut out = [0u8; 10];
        assert_eq!(r.pop(&mut out), 6);
        assert_eq!(&out[..6], b"ABCDEF");
    }

    #[test]
    fn storage_grows_only_as_far_as_needed() {
        let mut r = Ring::new(256 * 1024);
        r.push(&[7; 16]);
        assert_eq!(r.allocated(), MIN_STORAGE);
        r.push(&[7; MIN_STORAGE]);
        assert_eq!(r.allocated(), 2 * MIN_STORAGE);
        r.push(&alloc::vec![7; 256 * 1024]);
        assert_eq!(r.allocated(), 256 * 1024);
        assert_eq!(r.len(), 256 * 1024);
        assert_eq!(r.free(), 0);
    }

    #[test]
    fn growing_keeps_wrapped_and_out_of_order_bytes_in_place() {
        // Capacity not a power of two: the last step stops at the capacity.
        let mut r = Ring::new(3 * MIN_STORAGE);
        r.push(&alloc::vec![0; MIN_STORAGE - 10]);
        r.consume(MIN_STORAGE - 10);
        // Wraps inside the first allocation.
        assert_eq!(r.push(b"0123456789abcdef"), 16);
        assert_eq!(r.allocated(), MIN_STORAGE);
        // An out-of-order write far past the end forces growth.
        assert_eq!(r.write_at(2 * MIN_STORAGE, b"XYZ"), 3);
        assert_eq!(r.allocated(), 3 * MIN_STORAGE);
        let filler = alloc::vec![b'.'; 2 * MIN_STORAGE];
        assert_eq!(r.write_at(0, &filler), filler.len());
        r.commit(2 * MIN_STORAGE + 3);
        let mut out = alloc::vec![0; 2 * MIN_STORAGE + 19];
        assert_eq!(r.pop(&mut out), out.len());
        assert_eq!(&out[..16], b"0123456789abcdef");
        assert!(out[16..16 + 2 * MIN_STORAGE].iter().all(|&b| b == b'.'));
        assert_eq!(&out[16 + 2 * MIN_STORAGE..], b"XYZ");
    }

    #[test]
    fn behaves_like_a_queue_under_random_operations() {
        let mut model = alloc::collections::VecDeque::new();
        let mut r = Ring::new(20_000);
        let mut rng = test_rng::TestRng::new(12345);
        let mut rnd = |m: usize| rng.index(m);
        let mut next = 0u8;
        for _ in 0..5_000 {
            if rnd(2) == 0 {
                let data: Vec<u8> = (0..rnd(3000))
                    .map(|_| {
                        next = next.wrapping_add(1);
                        next
                    })
                    .collect();
                let n = r.push(&data);
                assert_eq!(n, data.len().min(20_000 - model.len()));
                model.extend(&data[..n]);
                next = next.wrapping_sub((data.len() - n) as u8);
            } else {
                let mut out = alloc::vec![0; rnd(3000)];
                let n = r.pop(&mut out);
                assert_eq!(n, out.len().min(model.len()));
                for b in &out[..n] {
                    assert_eq!(Some(*b), model.pop_front());
                }
            }
            if rnd(50) == 0 {
                r.release_if_empty();
            }
            assert_eq!(r.len(), model.len());
            assert!(r.allocated() <= 20_000);
        }
    }
}
