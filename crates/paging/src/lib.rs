//! x86_64 four-level page tables: entry encoding, address arithmetic and a mapper.
//!
//! The mapper never dereferences a physical address itself: it reaches page tables
//! through [`TableAccess`] and gets new table frames from [`FrameSource`]. In the kernel
//! those are the direct map and the frame allocator; in host tests they are a simulated
//! physical memory, so the whole map/unmap/translate logic (including huge pages and the
//! error cases) is tested with `cargo test` instead of by triple-faulting a VM.
//!
//! The mapper does not flush the TLB: the caller knows whether the address space is live
//! and on which CPUs, and flushes (`invlpg` or a CR3 reload) after `unmap` and
//! `update_flags`.
//!
//! ```
//! use paging::{FrameSource, Mapper, PageSize, PageTableFlags as F, TableAccess};
//! use std::collections::HashMap;
//!
//! /// Page tables in a map (the kernel uses its direct map instead).
//! #[derive(Default)]
//! struct Sim(HashMap<u64, Box<[u64; 512]>>);
//! // SAFETY: each frame is a separate allocation, borrowed through `&mut self`.
//! unsafe impl TableAccess for Sim {
//!     fn table(&mut self, paddr: u64) -> &mut [u64; 512] {
//!         self.0.entry(paddr).or_insert_with(|| Box::new([0; 512]))
//!     }
//! }
//! /// New tables from a bump pointer (the kernel uses its frame allocator and zeroes).
//! struct Bump(u64);
//! impl FrameSource for Bump {
//!     fn alloc_zeroed_frame(&mut self) -> Option<u64> {
//!         self.0 += 4096;
//!         Some(self.0)
//!     }
//! }
//!
//! let (mut mem, mut frames) = (Sim::default(), Bump(0x100_0000));
//! let space = Mapper::new(0x1000);
//! let kernel = F::PRESENT | F::WRITABLE | F::GLOBAL;
//! // 1 GiB of direct map: a single 1 GiB page.
//! space.map_range(0xffff_8000_0000_0000, 0, 1 << 30, kernel, &mut mem, &mut frames).unwrap();
//! space.map(0x40_0000, 0x7000, PageSize::Size4K, F::USER, &mut mem, &mut frames).unwrap();
//! assert_eq!(space.translate(0xffff_8000_1234_5678, &mut mem).unwrap().0, 0x1234_5678);
//! assert_eq!(space.unmap(0x40_0000, &mut mem), Ok((0x7000, PageSize::Size4K)));
//! ```
#![no_std]
#![warn(missing_docs)]

mod access;
mod addr;
mod entry;
mod error;
mod flags;
mod mapper;
mod walk;

pub use access::{FrameSource, TableAccess};
pub use addr::{
    is_canonical, page_offset, pd_index, pdpt_index, pml4_index, pt_index, table_index, PageSize,
};
pub use entry::{PageTableEntry, ADDR_MASK};
pub use error::MapError;
pub use flags::PageTableFlags;
pub use mapper::Mapper;
pub use walk::USER_PML4_ENTRIES;

/// Number of entries in every page table.
pub const ENTRIES: usize = 512;
