//! Physical frame allocation for 4 KiB frames.
//!
//! The kernel needs frames before it has a heap (page tables, the heap itself), so the
//! allocator owns no memory of its own: the caller hands it a bitmap slice, typically
//! carved out of the first usable RAM range and sized with [`bitmap_words_needed`]. One
//! bit per frame (set = in use) costs 32 KiB per GiB and makes double frees detectable,
//! which a free list cannot do cheaply.
//!
//! Everything outside the usable ranges given at initialisation starts (and stays) in use,
//! so firmware, MMIO holes and the kernel image can never be handed out.
#![no_std]

mod allocator;
mod bitmap;
mod error;

pub use allocator::{FrameAllocator, FrameStats};
pub use bitmap::bitmap_words_needed;
pub use error::FrameError;

/// Size of a frame in bytes.
pub const FRAME_SIZE: u64 = 4096;
