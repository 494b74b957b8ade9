//! File mappings: which open files an address space maps, and their pages.
//!
//! Linux's VMA holds a reference to its `struct file`; here each address space keeps one
//! [`MappedFile`] per [`vm::FileId`] its regions name ([`super::mm::MmState`]), so a
//! mapping outlives `close` of its descriptor and `fork` shares it. The id is the address
//! of the open file description, which cannot be reused while a region names it.
//!
//! A page is mapped when it is first touched (Linux's `filemap_fault`), from the page
//! cache ([`crate::mm::page_cache`]), which reads it from the file on a miss: a private
//! mapping maps the cached frame write-protected, so its first write copies it (or, when
//! the fault is a write, gets the copy at once: Linux's `do_cow_fault`); a shared mapping
//! (never writable, see `halyard-vm`) maps the cached frame. The part of the last page
//! past the end of the file reads as zeros; a page wholly past the end is `SIGBUS`
//! (`BUS_ADRERR`), as on Linux. The cache is read without the memory lock held: the VFS
//! lock is taken before the memory lock elsewhere (`/proc/PID/maps` is generated under
//! the VFS lock), so the memory lock is never held while the VFS lock is taken.
//!
//! For the same reason the last reference to a mapped file (whose release takes the VFS
//! lock) is never dropped where the memory or VFS lock may be held: [`close_later`]
//! queues it and [`close_deferred`] drops it on a thread's way back to user mode, as
//! Linux defers `fput` to `task_work`.
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use halyard_vfs::NodeRef;
use linux_raw_sys::general::{O_PATH, S_IFMT, S_IFREG, TMPFS_MAGIC};

use super::mm::PageError;
use crate::fs::file::OpenFile;
use crate::fs::vfs;
use crate::mm::{page_cache, PAGE_SIZE};
use crate::sync::{IrqLock, LockClass};

/// An open regular file that regions of an address space map.
pub struct MappedFile {
    /// Held for as long as a region names it.
    file: Arc<OpenFile>,
    node: NodeRef,
    /// `/proc/PID/maps`: device (major, minor), inode and path, as at `mmap` time.
    pub dev: (u32, u32),
    pub ino: u64,
    pub path: Vec<u8>,
    /// Open for writing: a shared mapping of it is refused write only by Halyard.
    pub writable: bool,
}

/// The region map's name for the open file description `file`.
fn id(file: &Arc<OpenFile>) -> vm::FileId {
    vm::FileId(Arc::as_ptr(file) as *const () as u64)
}

/// Looks up descriptor `fd` for `mmap` (before the memory lock is taken): what the region
/// map checks, and the file a new region will name (`None` when it cannot be mapped).
/// `None` for a bad descriptor (`EBADF`), an `O_PATH` one included (Linux's `fget` skips
/// them).
pub fn lookup(fd: u64) -> Option<(vm::FileRef, Option<Arc<MappedFile>>)> {
    let file = super::current().process.files.lock().get(fd as i32).ok()?;
    if file.flags() & O_PATH != 0 {
        return None;
    }
    Some(describe(file))
}

/// What the region map checks of open file `file`, and the file a new region of it will
/// name (`None` when it cannot be mapped). `execve` maps its program through it too.
pub fn describe(file: Arc<OpenFile>) -> (vm::FileRef, Option<Arc<MappedFile>>) {
    // Regular files of tmpfs (the root, devtmpfs's `/dev/shm`) are mappable; pipes,
    // sockets, devices, directories and `/proc` files have no `mmap` (`ENODEV`).
    let stat = file.ops.node().and_then(|node| {
        vfs::with(|v| {
            let st = v.stat_node(node).ok()?;
            let tmpfs = v.statfs_node(node).ok()?.f_type == i64::from(TMPFS_MAGIC);
            (tmpfs && st.st_mode & S_IFMT == S_IFREG).then_some((node, st))
        })
    });
    let mapped = stat.map(|(node, st)| {
        Arc::new(MappedFile {
            node,
            dev: halyard_vfs::decode_dev(st.st_dev),
            ino: st.st_ino,
            path: crate::fs::describe(&file),
            writable: file.writable(),
            file: file.clone(),
        })
    });
    let r = vm::FileRef {
        file: id(&file),
        readable: file.readable(),
        writable: file.writable(),
        mappable: mapped.is_some(),
    };
    (r, mapped)
}

/// The id of the file a [`lookup`] found.
pub fn id_of(mapped: &MappedFile) -> vm::FileId {
    id(&mapped.file)
}

/// The page-cache frame of the page at byte `offset` of `file`, with one reference for the
/// caller (to be mapped write-protected, or copied): the bytes past the end of the file
/// are zero, a page wholly past it is [`PageError::PastEof`]. Called without the memory
/// lock.
pub fn read_page(file: &MappedFile, offset: u64) -> Result<u64, PageError> {
    vfs::with(|v| {
        let Ok(attr) = v.getattr(file.node) else {
            return Err(PageError::PastEof);
        };
        if offset / PAGE_SIZE >= attr.size.div_ceil(PAGE_SIZE) {
            return Err(PageError::PastEof);
        }
        page_cache::page(
            v,
            file.node,
            attr.data_version,
            offset / PAGE_SIZE,
            vfs::now(),
        )
        .ok_or(PageError::OutOfMemory)
    })
}

static CLOSING_CLASS: LockClass = LockClass::new("process.file_map.closing");
/// Mapped files no region names any more, to be dropped without locks held.
static CLOSING: IrqLock<Vec<Arc<MappedFile>>> = IrqLock::new(Vec::new(), &CLOSING_CLASS);
static ANY_CLOSING: AtomicBool = AtomicBool::new(false);

/// Queues `files` for [`close_deferred`] (callable with any lock held).
pub fn close_later(files: impl IntoIterator<Item = Arc<MappedFile>>) {
    let mut q = CLOSING.lock();
    q.extend(files);
    if !q.is_empty() {
        ANY_CLOSING.store(true, Ordering::Release);
    }
}

/// Drops the queued files (a thread on its way back to user mode, no lock held).
pub fn close_deferred() {
    // A plain load first: the swap is a locked instruction, paid only when needed.
    if ANY_CLOSING.load(Ordering::Relaxed) && ANY_CLOSING.swap(false, Ordering::Acquire) {
        let files = core::mem::take(&mut *CLOSING.lock());
        drop(files);
    }
}
