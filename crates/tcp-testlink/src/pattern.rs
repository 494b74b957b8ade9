//! The bytes a test transfers: a position-dependent keyed stream, so a receiver can verify
//! every byte without storing the data, and any duplication, reordering, corruption or
//! truncation shows up as a mismatch at a known offset.

use test_rng::mix;

/// Fills `buf` with the stream `seed` starting at byte `offset`.
pub fn fill(seed: u64, offset: u64, buf: &mut [u8]) {
    let mut pos = offset;
    let mut i = 0;
    while i < buf.len() {
        let word = mix(seed ^ (pos / 8).wrapping_mul(0x2545_f491_4f6c_dd1d)).to_le_bytes();
        let start = (pos % 8) as usize;
        let n = (8 - start).min(buf.len() - i);
        buf[i..i + n].copy_from_slice(&word[start..start + n]);
        i += n;
        pos += n as u64;
    }
}

/// Reusable buffer for generated chunks (not shown in debug output).
#[derive(Clone, Default)]
pub struct Scratch(Vec<u8>);

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("..")
    }
}

/// Sending and receiving side of one application stream, with verification.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// Seed of what we send, and how much.
    pub send_seed: u64,
    pub send_total: u64,
    pub sent: u64,
    /// We closed our direction after sending everything.
    pub closed: bool,
    /// Seed of what we expect to receive, and how much.
    pub recv_seed: u64,
    pub recv_expect: u64,
    pub received: u64,
    /// End of stream seen.
    pub eof: bool,
    /// First offset where received data differed from the expected stream.
    pub mismatch: Option<u64>,
    #[doc(hidden)]
    pub scratch: Scratch,
    #[doc(hidden)]
    pub expect: Scratch,
}

impl Stream {
    pub fn new(send_seed: u64, send_total: u64, recv_seed: u64, recv_expect: u64) -> Stream {
        Stream {
            send_seed,
            send_total,
            recv_seed,
            recv_expect,
            ..Stream::default()
        }
    }

    /// The next bytes to send (at most `max`).
    pub fn next_chunk(&mut self, max: usize) -> &[u8] {
        let n = (self.send_total - self.sent).min(max as u64) as usize;
        self.scratch.0.resize(n, 0);
        fill(self.send_seed, self.sent, &mut self.scratch.0);
        &self.scratch.0
    }

    /// Records that `n` bytes of the last chunk were accepted.
    pub fn advance(&mut self, n: usize) {
        self.sent += n as u64;
    }

    /// True when everything was handed to the transport.
    pub fn all_sent(&self) -> bool {
        self.sent == self.send_total
    }

    /// Verifies received bytes.
    pub fn on_data(&mut self, data: &[u8]) {
        if self.mismatch.is_none() {
            let expect = &mut self.expect.0;
            expect.resize(data.len(), 0);
            fill(self.recv_seed, self.received, expect);
            if let Some(i) = data.iter().zip(expect.iter()).position(|(a, b)| a != b) {
                self.mismatch = Some(self.received + i as u64);
            }
        }
        self.received += data.len() as u64;
    }

    /// True when everything expected arrived intact, followed by end of stream.
    pub fn complete(&self) -> bool {
        self.eof && self.mismatch.is_none() && self.received == self.recv_expect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any split of the stream gives the same bytes, and bytes depend on position.
    #[test]
    fn fill_is_position_dependent_and_split_invariant() {
        let mut whole = [0u8; 100];
        fill(9, 3, &mut whole);
        for split in 0..100 {
            let mut parts = [0u8; 100];
            fill(9, 3, &mut parts[..split]);
            fill(9, 3 + split as u64, &mut parts[split..]);
            assert_eq!(parts, whole);
        }
        let mut shifted = [0u8; 100];
        fill(9, 4, &mut shifted);
        assert_ne!(shifted, whole);
    }
}
