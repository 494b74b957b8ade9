//! The frame allocator proper: two bitmaps over `[base, base + frames * 4096)`.
//!
//! `used` has a bit set for every frame not available for allocation right now;
//! `usable` has a bit set for every frame the allocator may ever hand out. The second
//! bitmap is what lets `free` refuse a frame that was never allocatable (firmware, MMIO,
//! a reserved range) instead of quietly adding it to the pool.
//!
//! Fast path: `next_word` is the index of the first bitmap word that may still have a
//! free bit (every word before it is full). Single-frame allocation scans forward from
//! there a word at a time, and a free below it moves it back, so the common
//! allocate-after-free case is O(1) and a full scan only happens when memory is nearly
//! exhausted.

use core::ops::Range;

use crate::bitmap::{bitmap_words_needed, words_per_bitmap, Bitmap};
use crate::{FrameError, FRAME_SIZE};

/// Frame counts, for boot logs and leak checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameStats {
    /// Frames the allocator may hand out (usable at start, minus later reservations).
    pub total: u64,
    /// Frames currently free.
    pub free: u64,
}

/// A bitmap allocator for 4 KiB physical frames.
pub struct FrameAllocator<'a> {
    /// Set: allocated or never allocatable.
    used: Bitmap<'a>,
    /// Set: may be handed out (usable at start and not reserved since).
    usable: Bitmap<'a>,
    /// Physical address of frame 0 (frame aligned).
    base: u64,
    /// Number of frames in the span.
    frames: u64,
    /// First word that may contain a free bit.
    next_word: usize,
    total: u64,
    free: u64,
}

impl<'a> FrameAllocator<'a> {
    /// Creates an allocator for the span `[base, base + span_bytes)` (`base` frame
    /// aligned; the end rounded up to a whole frame and clamped to the address space),
    /// storing its bitmaps in `storage` (at least [`bitmap_words_needed`]`(span_bytes)`
    /// words; its previous contents are ignored). Only frames wholly inside one of
    /// `usable` start free; the rest of the span is in use for good. `usable` may be
    /// unsorted and overlapping and may reach outside the span.
    pub fn new(
        storage: &'a mut [u64],
        base: u64,
        span_bytes: u64,
        usable: &[Range<u64>],
    ) -> Result<Self, FrameError> {
        if !base.is_multiple_of(FRAME_SIZE) {
            return Err(FrameError::NotAligned(base));
        }
        let base_frame = base / FRAME_SIZE;
        let frames = span_bytes
            .div_ceil(FRAME_SIZE)
            .min((u64::MAX - base) / FRAME_SIZE);
        let end = base + frames * FRAME_SIZE;
        let needed = bitmap_words_needed(frames * FRAME_SIZE);
        if storage.len() < needed {
            return Err(FrameError::BitmapTooSmall {
                needed,
                provided: storage.len(),
            });
        }
        let (used, usable_bits) = storage[..needed].split_at_mut(words_per_bitmap(frames));
        let (mut used, mut usable_bits) = (Bitmap::new(used), Bitmap::new(usable_bits));
        used.fill(true);
        usable_bits.fill(false);
        for r in usable {
            let first = r.start.max(base).div_ceil(FRAME_SIZE);
            let last = r.end.min(end) / FRAME_SIZE;
            if first < last {
                used.assign(first - base_frame..last - base_frame, false);
                usable_bits.assign(first - base_frame..last - base_frame, true);
            }
        }
        let free = frames - used.count_set(0..frames);
        Ok(FrameAllocator {
            used,
            usable: usable_bits,
            base,
            frames,
            next_word: 0,
            total: free,
            free,
        })
    }

    /// Current counts.
    pub fn stats(&self) -> FrameStats {
        FrameStats {
            total: self.total,
            free: self.free,
        }
    }

    /// The managed span of physical addresses.
    pub fn span(&self) -> Range<u64> {
        self.base..self.base + self.frames * FRAME_SIZE
    }

    /// Allocates one frame and returns its physical address, or `None` if none is free.
    /// The frame's contents are whatever was there before.
    pub fn alloc(&mut self) -> Option<u64> {
        let word =
            (self.next_word..self.used.word_count()).find(|&w| self.used.word(w) != u64::MAX);
        let Some(word) = word else {
            self.next_word = self.used.word_count();
            return None;
        };
        self.next_word = word;
        // Bits past the end of the span are permanently set, so a clear bit is a frame.
        let index = word as u64 * 64 + u64::from(self.used.word(word).trailing_ones());
        self.used.assign(index..index + 1, true);
        self.free -= 1;
        Some(self.addr(index))
    }

    /// Allocates `count` physically contiguous frames whose first frame number is a
    /// multiple of `align_frames` (e.g. 512 for a 2 MiB-aligned block), returning the
    /// first frame's address. `None` if `count` or `align_frames` is 0 or no such run is
    /// free. First fit, O(span) in the worst case.
    pub fn alloc_contiguous(&mut self, count: u64, align_frames: u64) -> Option<u64> {
        if count == 0 || align_frames == 0 || count > self.free {
            return None;
        }
        let base_frame = self.base / FRAME_SIZE;
        // Index of the first frame at or after `from` whose frame number is aligned.
        let aligned = |from: u64| -> Option<u64> {
            let number = (base_frame + from).checked_next_multiple_of(align_frames)?;
            Some(number - base_frame)
        };
        let mut start = aligned(self.next_word as u64 * 64)?;
        while let Some(end) = start.checked_add(count).filter(|&e| e <= self.frames) {
            match self.used.first(start..end, true) {
                None => {
                    self.used.assign(start..end, true);
                    self.free -= count;
                    return Some(self.addr(start));
                }
                Some(used) => start = aligned(used + 1)?,
            }
        }
        None
    }

    /// Returns one frame. Fails (changing nothing) if `paddr` is unaligned, outside the
    /// span, never allocatable, or not currently allocated.
    pub fn free(&mut self, paddr: u64) -> Result<(), FrameError> {
        self.free_contiguous(paddr, 1)
    }

    /// Returns `count` contiguous frames starting at `paddr`. Fails (changing nothing)
    /// if any of them is outside the span, never allocatable, or not currently allocated.
    pub fn free_contiguous(&mut self, paddr: u64, count: u64) -> Result<(), FrameError> {
        let frames = self.checked_frames(paddr, count)?;
        if let Some(index) = self.usable.first(frames.clone(), false) {
            return Err(FrameError::NotUsable(self.addr(index)));
        }
        if let Some(index) = self.used.first(frames.clone(), false) {
            return Err(FrameError::NotAllocated(self.addr(index)));
        }
        self.used.assign(frames.clone(), false);
        self.free += count;
        self.next_word = self.next_word.min((frames.start / 64) as usize);
        Ok(())
    }

    /// Marks every frame overlapping `range` as never allocatable (e.g. memory the kernel
    /// claimed after building the allocator). Returns how many free frames left the pool.
    /// Frames in the range that are currently allocated can no longer be freed. Parts of
    /// `range` outside the span are ignored.
    pub fn reserve(&mut self, range: Range<u64>) -> u64 {
        let span = self.span();
        let (start, end) = (range.start.max(span.start), range.end.min(span.end));
        if start >= end {
            return 0;
        }
        let first = (start - self.base) / FRAME_SIZE;
        let last = (end - self.base).div_ceil(FRAME_SIZE);
        let taken = (last - first) - self.used.count_set(first..last);
        self.total -= self.usable.count_set(first..last);
        self.free -= taken;
        self.used.assign(first..last, true);
        self.usable.assign(first..last, false);
        taken
    }

    /// `Some(true)` if the frame at `paddr` is free, `Some(false)` if in use, `None` if
    /// `paddr` is outside the span.
    pub fn is_free(&self, paddr: u64) -> Option<bool> {
        let index = self
            .checked_frames(paddr / FRAME_SIZE * FRAME_SIZE, 1)
            .ok()?
            .start;
        Some(!self.used.get(index))
    }

    /// The bitmap indices of `count` frames from `paddr`, if aligned and in the span.
    fn checked_frames(&self, paddr: u64, count: u64) -> Result<Range<u64>, FrameError> {
        if !paddr.is_multiple_of(FRAME_SIZE) {
            return Err(FrameError::NotAligned(paddr));
        }
        let first = paddr
            .checked_sub(self.base)
            .ok_or(FrameError::OutOfRange(paddr))?
            / FRAME_SIZE;
        let last = first.checked_add(count).filter(|&l| l <= self.frames);
        let last = last.ok_or(FrameError::OutOfRange(paddr))?;
        Ok(first..last)
    }

    /// Physical address of bitmap index `index`.
    fn addr(&self, index: u64) -> u64 {
        self.base + index * FRAME_SIZE
    }
}

#[cfg(test)]
mod tests;
