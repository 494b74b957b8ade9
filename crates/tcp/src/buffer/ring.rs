//! A byte ring with an explicit capacity limit.
//!
//! The send side keeps unacknowledged and unsent bytes here (offset 0 is `SND.UNA`); the
//! receive side keeps in-order bytes the application has not read yet and, past them,
//! out-of-order bytes at their final position (so reassembly never copies twice). The
//! storage is allocated on first use, so a half-open connection in a SYN queue costs no
//! buffer memory.

use alloc::vec::Vec;

/// Fixed-capacity ring buffer of bytes.
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

    fn storage(&mut self) -> &mut [u8] {
        if self.storage.len() != self.capacity {
            self.storage.resize(self.capacity, 0);
        }
        &mut self.storage
    }

    /// Copies `src` into the uncommitted area `offset` bytes past the committed end,
    /// truncated to the room there. Returns the bytes copied. Does not commit them.
    pub fn write_at(&mut self, offset: usize, src: &[u8]) -> usize {
        if offset >= self.free() {
            return 0;
        }
        let n = src.len().min(self.free() - offset);
        let cap = self.capacity;
        let start = (self.head + self.len + offset) % cap;
        let first = n.min(cap - start);
        let st = self.storage();
        st[start..start + first].copy_from_slice(&src[..first]);
        st[..n - first].copy_from_slice(&src[first..n]);
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
        let cap = self.capacity;
        let start = (self.head + offset) % cap;
        let first = n.min(cap - start);
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
        self.head = (self.head + n) % self.capacity;
    }

    /// Frees the storage when nothing is held (it is allocated again on next use). Only
    /// for a ring that holds no uncommitted (out-of-order) bytes either.
    pub fn release_if_empty(&mut self) {
        if self.len == 0 {
            self.storage = Vec::new();
            self.head = 0;
        }
    }

    /// Bytes of storage currently allocated.
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
}
