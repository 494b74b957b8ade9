//! A process's memory: the region map (`halyard-vm`) and the page tables that follow it.
//!
//! Every change goes through one lock: a syscall (`mmap`, `munmap`, `mprotect`, `brk`,
//! `mremap`, `madvise`) asks the region map, which answers with the page-table work to
//! do ([`vm::Change`]), and that work is done before the lock is released. A page fault
//! asks the region map what the page should be ([`vm::Fault`]) and maps it. Copying to or
//! from user memory ([`super::usercopy`]) uses the same path as a fault, so it sees
//! exactly what the program would.
use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use paging::PageTableFlags as F;
use vm::{Access, AddressSpace, Change, Fault, Perms, SegvCode};

use crate::mm::user_tables::UserTables;
use crate::mm::{page_refs, phys_to_virt, MemError, PAGE_SIZE};
use crate::sync::Mutex;

/// The region map and the tables, changed together.
pub struct MmState {
    pub space: AddressSpace,
    pub tables: UserTables,
    /// The shared-memory objects this address space's regions name (claimed).
    shared: BTreeSet<u64>,
}

impl MmState {
    /// Claims the shared objects the regions name now and lets go of the others.
    fn sync_shared(&mut self) {
        let now: BTreeSet<u64> = self
            .space
            .regions()
            .filter_map(|r| match r.kind {
                vm::Kind::Shared { object, .. } => Some(object.0),
                _ => None,
            })
            .collect();
        if now != self.shared {
            super::shared::sync(&mut self.shared, now);
        }
    }
}

impl Drop for MmState {
    fn drop(&mut self) {
        super::shared::sync(&mut self.shared, BTreeSet::new());
    }
}

/// One address space; the threads of a process share it.
pub struct Mm {
    state: Mutex<MmState>,
    /// CR3 of the tables (constant for the life of the `Mm`).
    root: u64,
}

/// What `mmap` asks of the rest of the kernel: descriptors (file mappings are not
/// implemented yet: `EBADF`) and new shared-memory objects ([`super::shared`]). `mmap(2)`
/// and `execve`'s anonymous segments both use it.
pub struct Backing;

impl vm::Backing for Backing {
    fn file(&mut self) -> Result<vm::FileRef, vm::Errno> {
        Err(vm::Errno::EBADF)
    }
    fn new_shared(&mut self, _len: u64) -> Result<vm::SharedId, vm::Errno> {
        Ok(vm::SharedId(super::shared::create()))
    }
}

/// Why a page could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    /// The program may not touch it: `SIGSEGV` with this code (or `EFAULT` in a syscall).
    Segv(SegvCode),
    /// No memory for the page or its tables: the process is killed (Linux's OOM kill).
    OutOfMemory,
    /// A kind of memory this kernel does not map yet (`SIGBUS`).
    Unsupported,
}

impl From<MemError> for PageError {
    fn from(_: MemError) -> PageError {
        PageError::OutOfMemory
    }
}

/// Page-table flags for a page with `perms` (never both writable and executable:
/// `halyard-vm` refuses such regions unless the program asked for them, and even then a
/// page is mapped writable only until it is executed — Halyard maps it without execute).
pub fn pte_flags(perms: Perms) -> F {
    if !perms.any() {
        // PROT_NONE: held, not present (`UserTables::protect`).
        return F::HELD;
    }
    let mut f = F::PRESENT | F::USER;
    if perms.write {
        f |= F::WRITABLE;
    }
    if !perms.exec {
        f |= F::NO_EXECUTE;
    }
    f
}

impl Mm {
    /// A new, empty address space with `space`'s layout.
    pub fn new(space: AddressSpace) -> Result<Mm, MemError> {
        let tables = UserTables::new()?;
        let root = tables.root();
        let mut state = MmState {
            space,
            tables,
            shared: BTreeSet::new(),
        };
        state.sync_shared();
        Ok(Mm {
            state: Mutex::new(state),
            root,
        })
    }

    /// The address space of a process that has ended (no regions; shared by all zombies).
    pub fn empty() -> alloc::sync::Arc<Mm> {
        static EMPTY: spin::Once<alloc::sync::Arc<Mm>> = spin::Once::new();
        EMPTY
            .call_once(|| {
                let space = AddressSpace::new(vm::Layout::default());
                alloc::sync::Arc::new(Mm::new(space).expect("no frame for the empty address space"))
            })
            .clone()
    }

    /// The CR3 value of these tables.
    pub fn root(&self) -> u64 {
        self.root
    }

    /// Runs `f` on the locked state, then applies the page-table changes it pushed.
    pub fn with<R>(&self, f: impl FnOnce(&mut AddressSpace, &mut Vec<Change>) -> R) -> R {
        let mut state = self.state.lock();
        let mut changes = Vec::new();
        let r = f(&mut state.space, &mut changes);
        apply(&mut state.tables, &changes);
        state.sync_shared();
        r
    }

    /// Runs `f` with both halves locked (exec fills a new address space, fork copies one).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut MmState) -> R) -> R {
        f(&mut self.state.lock())
    }

    /// `fork`: a copy of this address space. Private pages are shared copy-on-write
    /// (write-protected on both sides), shared ones shared, `MADV_WIPEONFORK` ones left
    /// out, `MADV_DONTFORK` regions not copied (all as `halyard-vm`'s fork says).
    pub fn fork(&self) -> Result<Mm, MemError> {
        let mut state = self.state.lock();
        let (space, inherit) = state.space.fork();
        let child = Mm::new(space)?;
        {
            let mut cs = child.state.lock();
            for (range, how) in inherit {
                match how {
                    vm::Inherit::CopyOnWrite => {
                        state.tables.share_into(&mut cs.tables, range, true)?
                    }
                    vm::Inherit::Shared => state.tables.share_into(&mut cs.tables, range, false)?,
                    vm::Inherit::Empty => {}
                }
            }
        }
        Ok(child)
    }

    /// Pages mapped in this address space (its resident set).
    pub fn resident_pages(&self) -> u64 {
        self.state.lock().tables.resident()
    }

    /// Serves a fault at `addr`; on success the page is mapped and allows `access`.
    pub fn fault(&self, addr: u64, access: Access, present: bool) -> Result<(), PageError> {
        let mut state = self.state.lock();
        serve(&mut state, addr, access, present)
    }

    /// The frame behind user page `page`, made present and allowing `access` the way a
    /// fault by the program would (copy-on-write broken for a write), with `f` run on its
    /// direct-map address under the lock (so the page cannot go away meanwhile).
    pub fn with_page<R>(
        &self,
        page: u64,
        access: Access,
        f: impl FnOnce(*mut u8) -> R,
    ) -> Result<R, PageError> {
        let mut state = self.state.lock();
        for _ in 0..3 {
            if let Some((frame, flags)) = state.tables.translate(page) {
                if allows(flags, access) {
                    return Ok(f(phys_to_virt(frame & !(PAGE_SIZE - 1)) as *mut u8));
                }
                serve(&mut state, page, access, true)?;
            } else {
                serve(&mut state, page, access, false)?;
            }
        }
        Err(PageError::Segv(SegvCode::AccErr))
    }
}

fn allows(flags: F, access: Access) -> bool {
    match access {
        Access::Read => true,
        Access::Write => flags.contains(F::WRITABLE),
        Access::Execute => !flags.contains(F::NO_EXECUTE),
    }
}

fn serve(state: &mut MmState, addr: u64, access: Access, present: bool) -> Result<(), PageError> {
    match state.space.fault(addr, access, present) {
        Fault::ZeroFill { page, perms } | Fault::GrowStack { page, perms } => {
            if state.tables.translate(page).is_some() {
                return Ok(()); // another thread mapped it first
            }
            let frame = page_refs::alloc_zeroed().ok_or(PageError::OutOfMemory)?;
            if let Err(e) = state.tables.map(page, frame, pte_flags(perms)) {
                page_refs::release(frame);
                return Err(e.into());
            }
            Ok(())
        }
        Fault::CopyOnWrite { page, perms } => {
            let Some((old, _)) = state.tables.translate(page) else {
                return Ok(()); // unmapped meanwhile: the retry faults afresh
            };
            let old = old & !(PAGE_SIZE - 1);
            if page_refs::count(old) == 1 {
                state.tables.replace(page, old, pte_flags(perms));
                return Ok(());
            }
            let new = page_refs::alloc().ok_or(PageError::OutOfMemory)?;
            // SAFETY: both frames are RAM in the direct map; `new` is ours alone and `old`
            // is mapped read-only everywhere (copy-on-write), so nobody writes it now.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    phys_to_virt(old) as *const u8,
                    phys_to_virt(new) as *mut u8,
                    PAGE_SIZE as usize,
                );
            }
            if let Some(prev) = state.tables.replace(page, new, pte_flags(perms)) {
                page_refs::release(prev);
            }
            Ok(())
        }
        Fault::Shared {
            page,
            perms,
            object,
            offset,
        } => {
            if state.tables.translate(page).is_some() {
                return Ok(());
            }
            let frame = super::shared::page(object.0, offset).ok_or(PageError::OutOfMemory)?;
            if let Err(e) = state.tables.map(page, frame, pte_flags(perms)) {
                page_refs::release(frame);
                return Err(e.into());
            }
            Ok(())
        }
        Fault::File { .. } => Err(PageError::Unsupported),
        Fault::Segv(code) => Err(PageError::Segv(code)),
    }
}

/// Does the page-table work of a region-map call.
fn apply(tables: &mut UserTables, changes: &[Change]) {
    for change in changes {
        match change {
            Change::Unmap(range) => tables.unmap(range.clone()),
            Change::Protect(range, perms) => {
                let flags = pte_flags(*perms);
                tables.protect(range.clone(), |frame| {
                    // A page shared copy-on-write stays write-protected.
                    if page_refs::count(frame) > 1 {
                        flags.without(F::WRITABLE)
                    } else {
                        flags
                    }
                });
            }
            Change::Move { from, to, len } => {
                if tables.move_range(*from, *to, *len).is_err() {
                    crate::warn!("mremap: out of memory for page tables; pages dropped");
                }
            }
        }
    }
}
