//! A process's virtual memory layout as pure logic, with Linux's semantics and errnos.
//!
//! The kernel keeps one [`AddressSpace`] per process (threads share it) and calls it for
//! `mmap`, `munmap`, `mprotect`, `madvise`, `mremap` and `brk`; each call updates the
//! sorted region map and lists the page-table work the kernel must do ([`Change`]):
//! pages to free, permissions to lower or raise, page-table entries to move. Page faults
//! go through [`AddressSpace::fault`], which says whether to zero-fill, read a file page,
//! map a shared object's page, break copy-on-write or grow the stack, or which `SIGSEGV`
//! to send. The crate never touches memory or page tables, so all of this is tested on
//! the host: unit tests per rule, a property test against a page-by-page model, and the
//! host Linux itself as the oracle (the same calls on a reserved window of the test
//! process, compared with `/proc/self/maps`).
//!
//! Linux is followed check by check (the order of checks decides the errno when several
//! things are wrong), from the 6.18 sources; where Halyard deviates the module saying so
//! explains why. The address space is the lower half, `[MMAP_MIN_ADDR, TASK_SIZE)` =
//! `[0x10000, 0x7fff_ffff_f000)`.
//!
//! ```
//! use linux_raw_sys::general::{MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE};
//! use vm::{Access, AddressSpace, Backing, Errno, Fault, FileRef, Layout, MmapArgs, SharedId};
//!
//! /// How the kernel answers the file-descriptor and shared-object questions.
//! struct NoFiles;
//! impl Backing for NoFiles {
//!     fn file(&mut self) -> Result<FileRef, Errno> { Err(Errno::EBADF) }
//!     fn new_shared(&mut self, _len: u64) -> Result<SharedId, Errno> { Ok(SharedId(1)) }
//! }
//!
//! let mut space = AddressSpace::new(Layout::default());
//! let mut changes = Vec::new();
//! let (rw, private) = ((PROT_READ | PROT_WRITE) as u64, (MAP_PRIVATE | MAP_ANONYMOUS) as u64);
//! let args = MmapArgs { len: 3 * 4096, prot: rw, flags: private, ..MmapArgs::default() };
//! let m = space.mmap(args, &mut NoFiles, &mut changes).unwrap();
//! assert!(matches!(space.fault(m.addr, Access::Write, false), Fault::ZeroFill { .. }));
//! space.mprotect(m.addr, 4096, PROT_READ as u64, &mut changes).unwrap();
//! assert_eq!(space.regions().count(), 2); // the first page split off
//! assert!(matches!(space.fault(m.addr, Access::Write, true), Fault::Segv(_)));
//! space.munmap(m.addr, 3 * 4096, &mut changes).unwrap();
//! assert_eq!(space.regions().count(), 0);
//! // The page-table work, in order: lower the first page's permissions, free all three.
//! assert_eq!(changes.len(), 2);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod brk;
mod errno;
mod fault;
mod layout;
mod madvise;
mod map;
mod mdwe;
mod mmap;
mod mprotect;
mod mremap;
mod munmap;
mod placement;
mod region;
mod space;

pub use errno::Errno;
pub use fault::{Access, Fault, SegvCode};
pub use layout::{
    Layout, Limits, DEFAULT_MAX_MAP_COUNT, MMAP_MIN_ADDR, PAGE_SIZE, RLIM_INFINITY,
    STACK_GUARD_GAP, TASK_SIZE,
};
pub use map::Usage;
pub use mmap::{Backing, FileRef, Mapped, MmapArgs};
pub use region::{Attrs, FileId, HugeAdvice, Kind, Perms, Readahead, Region, SharedId};
pub use space::{AddressSpace, Change, Inherit};
