//! The bit-level operations on a frame bitmap (one bit per frame).
//!
//! Operations work a 64-bit word at a time, so scanning a fully used stretch of memory
//! costs one comparison per 256 KiB.

use core::ops::Range;

use crate::FRAME_SIZE;

/// Number of `u64` words of storage the allocator needs for a span of `span_bytes`
/// (rounded up to whole frames): two bitmaps of one bit per frame, i.e. 64 KiB per GiB.
pub fn bitmap_words_needed(span_bytes: u64) -> usize {
    2 * words_per_bitmap(span_bytes.div_ceil(FRAME_SIZE))
}

/// Number of words one bitmap of `frames` bits takes.
pub(crate) fn words_per_bitmap(frames: u64) -> usize {
    frames.div_ceil(64) as usize
}

/// A bitmap over borrowed words.
pub(crate) struct Bitmap<'a> {
    words: &'a mut [u64],
}

/// The mask of bits `lo..hi` within one word (`hi <= 64`).
fn mask(lo: u64, hi: u64) -> u64 {
    let upper = if hi == 64 { u64::MAX } else { (1u64 << hi) - 1 };
    upper & !((1u64 << lo) - 1)
}

impl<'a> Bitmap<'a> {
    /// Wraps `words`; callers guarantee every index they pass is below `words.len() * 64`.
    pub fn new(words: &'a mut [u64]) -> Self {
        Bitmap { words }
    }

    /// Number of words.
    pub fn word_count(&self) -> usize {
        self.words.len()
    }

    /// The word at `index`.
    pub fn word(&self, index: usize) -> u64 {
        self.words[index]
    }

    /// Sets (`true`) or clears every bit.
    pub fn fill(&mut self, value: bool) {
        self.words.fill(if value { u64::MAX } else { 0 });
    }

    /// True if bit `bit` is set.
    pub fn get(&self, bit: u64) -> bool {
        self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0
    }

    /// Calls `f(word_index, mask)` for the part of `bits` in each word, in order, until
    /// `f` returns false.
    fn for_each_word(bits: Range<u64>, mut f: impl FnMut(usize, u64) -> bool) {
        let mut bit = bits.start;
        while bit < bits.end {
            let word_start = bit / 64 * 64;
            let end = bits.end.min(word_start + 64);
            if !f(
                (bit / 64) as usize,
                mask(bit - word_start, end - word_start),
            ) {
                return;
            }
            bit = end;
        }
    }

    /// Number of set bits in `bits`.
    pub fn count_set(&self, bits: Range<u64>) -> u64 {
        let mut n = 0;
        Self::for_each_word(bits, |w, m| {
            n += u64::from((self.words[w] & m).count_ones());
            true
        });
        n
    }

    /// Sets or clears every bit in `bits`.
    pub fn assign(&mut self, bits: Range<u64>, value: bool) {
        Self::for_each_word(bits, |w, m| {
            if value {
                self.words[w] |= m;
            } else {
                self.words[w] &= !m;
            }
            true
        });
    }

    /// The first bit in `bits` equal to `value`, if any.
    pub fn first(&self, bits: Range<u64>, value: bool) -> Option<u64> {
        let mut found = None;
        Self::for_each_word(bits, |w, m| {
            let word = if value { self.words[w] } else { !self.words[w] };
            let hit = word & m;
            if hit != 0 {
                found = Some(w as u64 * 64 + u64::from(hit.trailing_zeros()));
            }
            hit == 0
        });
        found
    }
}
