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
#![no_std]

mod access;
mod addr;
mod entry;
mod error;
mod flags;
mod mapper;

pub use access::{FrameSource, TableAccess};
pub use addr::{
    is_canonical, page_offset, pd_index, pdpt_index, pml4_index, pt_index, table_index, PageSize,
};
pub use entry::{PageTableEntry, ADDR_MASK};
pub use error::MapError;
pub use flags::PageTableFlags;
pub use mapper::Mapper;

/// Number of entries in every page table.
pub const ENTRIES: usize = 512;
