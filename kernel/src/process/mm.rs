//! A process's memory: the region map (`halyard-vm`) and the page tables that follow it.
//!
//! Every change goes through one lock: a syscall (`mmap`, `munmap`, `mprotect`, `brk`,
//! `mremap`, `madvise`) asks the region map, which answers with the page-table work to
//! do ([`vm::Change`]), and that work is done before the lock is released. A page fault
//! asks the region map what the page should be ([`vm::Fault`]) and maps it. Copying to or
//! from user memory ([`super::usercopy`]) uses the same path as a fault, so it sees
//! exactly what the program would. A file page is looked up in the page cache with the
//! lock dropped and the fault then served afresh ([`super::file_map`]).
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;

use paging::PageTableFlags as F;
use vm::{Access, AddressSpace, Change, Fault, FileId, Perms, SegvCode};

use super::file_map::{self, MappedFile};
use crate::mm::user_tables::UserTables;
use crate::mm::{page_refs, phys_to_virt, MemError, PAGE_SIZE};
use crate::sync::Mutex;

/// The region map and the tables, changed together.
pub struct MmState {
    pub space: AddressSpace,
    pub tables: UserTables,
    /// The shared-memory objects this address space's regions name (claimed).
    shared: BTreeSet<u64>,
    /// The files this address space's regions name.
    files: BTreeMap<FileId, Arc<MappedFile>>,
}

impl MmState {
    /// The file behind regions of kind `vm::Kind::File { file, .. }`.
    pub fn mapped_file(&self, file: FileId) -> Option<&MappedFile> {
        self.files.get(&file).map(|f| &**f)
    }

    /// Keeps the shared objects and files the regions name, and lets go of the others.
    fn sync(&mut self) {
        self.sync_shared();
        if self.files.is_empty() {
            return;
        }
        let named: BTreeSet<FileId> = self
            .space
            .regions()
            .filter_map(|r| match r.kind {
                vm::Kind::File { file, .. } => Some(file),
                _ => None,
            })
            .collect();
        let (keep, unused) = core::mem::take(&mut self.files)
            .into_iter()
            .partition(|(id, _)| named.contains(id));
        self.files = keep;
        file_map::close_later(unused.into_values());
    }

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
        file_map::close_later(core::mem::take(&mut self.files).into_values());
    }
}

/// One address space; the threads of a process share it.
pub struct Mm {
    state: Mutex<MmState>,
    /// CR3 of the tables (constant for the life of the `Mm`).
    root: u64,
}

/// What `mmap` asks of the rest of the kernel: the descriptor ([`file_map::lookup`], done
/// before the memory lock is taken, handed over when the region map asks) and new
/// shared-memory objects ([`super::shared`]). `mmap(2)` and `execve`'s anonymous segments
/// both use it.
pub struct Backing {
    /// The descriptor's file, looked up in advance (`None`: `EBADF`).
    file: Option<(vm::FileRef, Option<Arc<MappedFile>>)>,
    /// The file a new region names, once the region map asked for it.
    named: Option<Arc<MappedFile>>,
}

impl Backing {
    /// For anonymous memory only.
    pub const fn anonymous() -> Backing {
        Backing {
            file: None,
            named: None,
        }
    }

    /// For a mapping of `file` (`execve`'s program), as [`file_map::describe`] found it.
    pub fn file(file: (vm::FileRef, Option<Arc<MappedFile>>)) -> Backing {
        Backing {
            file: Some(file),
            named: None,
        }
    }

    /// For `mmap(.., flags, fd, ..)`: looks `fd` up unless the mapping is anonymous.
    pub fn for_mmap(flags: u64, fd: u64) -> Backing {
        if flags & u64::from(linux_raw_sys::general::MAP_ANONYMOUS) != 0 {
            return Backing::anonymous();
        }
        Backing {
            file: file_map::lookup(fd),
            named: None,
        }
    }
}

impl Backing {
    /// Is the descriptor a file that can be mapped (so `ENODEV` can only be Halyard's
    /// refusal of a writable shared mapping)?
    pub fn maps_file(&self) -> bool {
        matches!(self.file, Some((_, Some(_))))
    }
}

impl vm::Backing for Backing {
    fn file(&mut self) -> Result<vm::FileRef, vm::Errno> {
        let (r, named) = self.file.take().ok_or(vm::Errno::EBADF)?;
        self.named = named;
        Ok(r)
    }
    fn new_shared(&mut self, _len: u64) -> Result<vm::SharedId, vm::Errno> {
        Ok(vm::SharedId(super::shared::create()))
    }
}

/// Most bytes [`Mm::with_pages`] lends at once (as Linux's socket calls copy at most
/// a 64 KiB piece per step).
pub const PIN_MAX: usize = 64 * 1024;
/// Most pages a range of [`PIN_MAX`] bytes touches (one more when not page-aligned).
pub const PIN_PAGES: usize = PIN_MAX / PAGE_SIZE as usize + 1;

/// Why a page could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    /// The program may not touch it: `SIGSEGV` with this code (or `EFAULT` in a syscall).
    Segv(SegvCode),
    /// No memory for the page or its tables: the process is killed (Linux's OOM kill).
    OutOfMemory,
    /// A file mapping's page wholly past the end of its file (`SIGBUS`, `BUS_ADRERR`).
    PastEof,
}

/// Why [`serve`] stopped short.
enum Miss {
    Failed(PageError),
    /// The page is this file's at this offset: read it without the lock, then serve again.
    Read(Arc<MappedFile>, u64),
}

impl From<PageError> for Miss {
    fn from(e: PageError) -> Miss {
        Miss::Failed(e)
    }
}

impl From<MemError> for Miss {
    fn from(_: MemError) -> Miss {
        Miss::Failed(PageError::OutOfMemory)
    }
}

/// A file page read without the lock: its frame until a fault maps it (else freed).
struct ReadPage {
    file: FileId,
    offset: u64,
    frame: Option<u64>,
}

impl ReadPage {
    fn read(file: &MappedFile, offset: u64) -> Result<ReadPage, PageError> {
        Ok(ReadPage {
            file: file_map::id_of(file),
            offset,
            frame: Some(file_map::read_page(file, offset)?),
        })
    }
}

impl Drop for ReadPage {
    fn drop(&mut self) {
        if let Some(frame) = self.frame {
            page_refs::release(frame);
        }
    }
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
            files: BTreeMap::new(),
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
        state.sync();
        r
    }

    /// `mmap(2)` with `backing`; a new file region's file is kept while regions name it.
    pub fn mmap(&self, args: vm::MmapArgs, mut backing: Backing) -> Result<vm::Mapped, vm::Errno> {
        let mut state = self.state.lock();
        let mut changes = Vec::new();
        let r = state.space.mmap(args, &mut backing, &mut changes);
        apply(&mut state.tables, &changes);
        if let (Ok(_), Some(file)) = (&r, backing.named.take()) {
            state.files.entry(file_map::id_of(&file)).or_insert(file);
        }
        state.sync();
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
            cs.files = state.files.clone();
            cs.sync();
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

    /// Does `[addr, addr + len)` hold a shared mapping of a file open for writing (which
    /// Linux would let `mprotect` make writable)?
    pub fn has_shared_writable_file(&self, addr: u64, len: u64) -> bool {
        let state = self.state.lock();
        let found = state.space.regions().any(|r| {
            r.start < addr.saturating_add(len)
                && r.end > addr
                && matches!(r.kind, vm::Kind::File { file, shared: true, .. }
                    if state.mapped_file(file).is_some_and(|f| f.writable))
        });
        found
    }

    /// Pages mapped in this address space (its resident set).
    pub fn resident_pages(&self) -> u64 {
        self.state.lock().tables.resident()
    }

    /// Serves a fault at `addr`; on success the page is mapped and allows `access`.
    pub fn fault(&self, addr: u64, access: Access, present: bool) -> Result<(), PageError> {
        let mut read = None;
        loop {
            let mut state = self.state.lock();
            match serve(&mut state, addr, access, present, &mut read) {
                Ok(()) => return Ok(()),
                Err(Miss::Failed(e)) => return Err(e),
                Err(Miss::Read(file, offset)) => {
                    drop(state);
                    read = Some(ReadPage::read(&file, offset)?);
                }
            }
        }
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
        let mut read = None;
        // At most: read the file page, map it, break copy-on-write, then find it.
        for _ in 0..4 {
            let mut state = self.state.lock();
            let present = match state.tables.translate(page) {
                Some((frame, flags)) if allows(flags, access) => {
                    return Ok(f(phys_to_virt(frame & !(PAGE_SIZE - 1)) as *mut u8));
                }
                found => found.is_some(),
            };
            match serve(&mut state, page, access, present, &mut read) {
                Ok(()) => {}
                Err(Miss::Failed(e)) => return Err(e),
                Err(Miss::Read(file, offset)) => {
                    drop(state);
                    read = Some(ReadPage::read(&file, offset)?);
                }
            }
        }
        Err(PageError::Segv(SegvCode::AccErr))
    }

    /// Runs `f` on user range `[addr, addr + len)` (at most [`PIN_MAX`] bytes of it),
    /// every page made present and allowing `access` as [`Mm::with_page`] does, with the
    /// pieces' direct-map addresses and lengths in order (one per page touched), all under
    /// one hold of the lock: no page can be unmapped or replaced while `f` runs (Linux's
    /// `pin_user_pages` for the length of one copy). So `f` must not sleep, nor take this
    /// lock; it may take spin locks (the memory lock comes first in that order).
    ///
    /// The pieces cover a prefix of the range, ending before the first page that cannot be
    /// had (`f`'s flag then says so: the caller decides what a copy cut there means) and,
    /// for a write, before a page whose frame is already among them (a frame mapped
    /// twice: the pieces never overlap). `Err` only when the first page cannot be had.
    /// `len` is not 0.
    pub fn with_pages<R>(
        &self,
        addr: u64,
        len: usize,
        access: Access,
        f: impl FnOnce(&[(*mut u8, usize)], bool) -> R,
    ) -> Result<R, PageError> {
        let len = len.min(PIN_MAX);
        let first = addr & !(PAGE_SIZE - 1);
        let mut pages = (addr + len as u64 - first).div_ceil(PAGE_SIZE) as usize;
        let mut frames = [0u64; PIN_PAGES];
        let mut read = None;
        // The pieces stop before a page that cannot be had.
        let mut faulted = false;
        // As `with_page`'s four tries per page: read a file page, map it, break
        // copy-on-write, find it.
        let mut tries = 4 * pages;
        'lock: loop {
            let mut state = self.state.lock();
            let mut have = 0;
            while have < pages {
                let page = first + (have as u64) * PAGE_SIZE;
                let present = match state.tables.translate(page) {
                    Some((frame, flags)) if allows(flags, access) => {
                        let frame = frame & !(PAGE_SIZE - 1);
                        if access == Access::Write && frames[..have].contains(&frame) {
                            break;
                        }
                        frames[have] = frame;
                        have += 1;
                        continue;
                    }
                    found => found.is_some(),
                };
                let failed = if tries == 0 {
                    PageError::Segv(SegvCode::AccErr)
                } else {
                    tries -= 1;
                    match serve(&mut state, page, access, present, &mut read) {
                        Ok(()) => continue,
                        Err(Miss::Failed(e)) => e,
                        Err(Miss::Read(file, offset)) => {
                            drop(state);
                            match ReadPage::read(&file, offset) {
                                Ok(r) => read = Some(r),
                                Err(e) if have == 0 => return Err(e),
                                // Lend the pages before it.
                                Err(_) => {
                                    pages = have;
                                    faulted = true;
                                }
                            }
                            continue 'lock;
                        }
                    }
                };
                if have == 0 {
                    return Err(failed);
                }
                faulted = true;
                break;
            }
            let mut pieces = [(core::ptr::null_mut(), 0); PIN_PAGES];
            let mut at = addr;
            let end = addr + len as u64;
            for (piece, &frame) in pieces.iter_mut().zip(&frames[..have]) {
                let in_page = at & (PAGE_SIZE - 1);
                let n = (PAGE_SIZE - in_page).min(end - at);
                *piece = ((phys_to_virt(frame) + in_page) as *mut u8, n as usize);
                at += n;
            }
            return Ok(f(&pieces[..have], faulted));
        }
    }
}

fn allows(flags: F, access: Access) -> bool {
    match access {
        Access::Read => true,
        Access::Write => flags.contains(F::WRITABLE),
        Access::Execute => !flags.contains(F::NO_EXECUTE),
    }
}

/// Maps the page a fault at `addr` needs. A file page is taken from `read` when that holds
/// it; otherwise the caller is asked to read it ([`Miss::Read`]) and call again.
fn serve(
    state: &mut MmState,
    addr: u64,
    access: Access,
    present: bool,
    read: &mut Option<ReadPage>,
) -> Result<(), Miss> {
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
            let new = copy_frame(old).ok_or(PageError::OutOfMemory)?;
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
        Fault::File {
            page,
            perms,
            file,
            offset,
        } => {
            if state.tables.translate(page).is_some() {
                return Ok(());
            }
            let frame = match read.as_mut() {
                Some(r) if r.file == file && r.offset == offset => r.frame.take(),
                _ => None,
            };
            let Some(cached) = frame else {
                let mapped = state.files.get(&file).ok_or(PageError::PastEof)?;
                return Err(Miss::Read(mapped.clone(), offset));
            };
            // The page cache's frame, write-protected (a private mapping's first write
            // copies it; a shared one is never writable). A write fault gets the private
            // copy at once.
            let (frame, flags) = if access == Access::Write {
                let copy = copy_frame(cached);
                page_refs::release(cached);
                (copy.ok_or(PageError::OutOfMemory)?, pte_flags(perms))
            } else {
                (cached, pte_flags(perms).without(F::WRITABLE))
            };
            if let Err(e) = state.tables.map(page, frame, flags) {
                page_refs::release(frame);
                return Err(e.into());
            }
            Ok(())
        }
        Fault::Segv(code) => Err(PageError::Segv(code).into()),
    }
}

/// A new frame (one reference) with the contents of `old`, a frame mapped read-only
/// everywhere (copy-on-write, or the page cache's); `None` without memory.
fn copy_frame(old: u64) -> Option<u64> {
    let new = page_refs::alloc()?;
    // SAFETY: both frames are RAM in the direct map; `new` is ours alone and `old` is
    // mapped read-only everywhere (copy-on-write or cached), so nobody writes it now.
    unsafe {
        core::ptr::copy_nonoverlapping(
            phys_to_virt(old) as *const u8,
            phys_to_virt(new) as *mut u8,
            PAGE_SIZE as usize,
        );
    }
    Some(new)
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
