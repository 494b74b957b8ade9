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
//!
//! ```
//! use frames::{bitmap_words_needed, FrameAllocator, FRAME_SIZE};
//!
//! let span = 64 << 20; // physical addresses 0 .. 64 MiB
//! let mut storage = vec![0u64; bitmap_words_needed(span)]; // `&'static mut` in the kernel
//! let usable = [0x10_0000..0x20_0000, 0x40_0000..span];
//! let mut frames = FrameAllocator::new(&mut storage, 0, span, &usable).unwrap();
//! let page = frames.alloc().unwrap();
//! assert_eq!(page, 0x10_0000);
//! let block = frames.alloc_contiguous(512, 512).unwrap(); // 2 MiB, 2 MiB aligned
//! assert_eq!(block % (512 * FRAME_SIZE), 0);
//! frames.free(page).unwrap();
//! assert!(frames.free(page).is_err()); // double free
//! frames.free_contiguous(block, 512).unwrap();
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod allocator;
mod bitmap;
mod error;

pub use allocator::{FrameAllocator, FrameStats};
pub use bitmap::bitmap_words_needed;
pub use error::FrameError;

/// Size of a frame in bytes.
pub const FRAME_SIZE: u64 = 4096;
