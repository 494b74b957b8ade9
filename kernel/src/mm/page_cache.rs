//! The page cache: one frame per cached page of a file, shared by every mapping of it.
//!
//! Linux maps a file's pages from its page cache, so a program's text is the same frames
//! in every process and after every `execve`: nothing is read or copied again, and an
//! emulator that translates code per physical page (QEMU's TCG) keeps its translations.
//! Halyard does the same for tmpfs files, whose contents live in the file system's own
//! buffers: a page is copied from them into a frame the first time it is mapped, and later
//! faults of any process map that frame. `halyard-page-cache` keeps the bookkeeping: an
//! entry is good for one version of the file's contents (`Attr::data_version`, bumped by
//! every write or truncate), so a changed file's old copies are never mapped again; they
//! go when the file is next looked up, or when a periodic sweep finds them stale or their
//! file gone.
//!
//! The cache holds one reference to each frame ([`super::page_refs`]). A private mapping
//! maps it write-protected, so a write copies it (the reference count is above one);
//! a shared mapping (never writable) maps it as it is. Entries that nothing maps are
//! reclaimable: they are dropped, least recently used first, when user memory reaches the
//! kernel's reserve (before the OOM killer picks a victim: [`super::page_refs`]), and when
//! the cache grows past a quarter of RAM.
//!
//! The lock is taken under the VFS lock (lookups read the file under it, so the version
//! cannot change meanwhile) and under any lock a user-frame allocation happens under
//! (reclaim): it is a leaf, and no frame is allocated while it is held.
use halyard_vfs::{NodeRef, Timespec, Vfs};
use page_cache::{Frames, PageCache};

use super::{frames, page_refs, PAGE_SIZE};
use crate::sync::{IrqLock, LockClass};

static CACHE_CLASS: LockClass = LockClass::new("mm.page_cache");
static CACHE: IrqLock<Cache> = IrqLock::new(
    Cache {
        pages: PageCache::new(),
        inserts: 0,
    },
    &CACHE_CLASS,
);

struct Cache {
    pages: PageCache<NodeRef>,
    /// Inserts since the last sweep for stale files.
    inserts: u32,
}

/// Inserts between two sweeps of the cached files for stale or gone ones.
const SWEEP_EVERY: u32 = 256;

/// Entries dropped at most per reclaim when memory is low (1 MiB).
const RECLAIM_BATCH: usize = 256;

/// The frames' reference counts, as the cache sees them.
struct Refs;

impl Frames for Refs {
    fn unused(&self, frame: u64) -> bool {
        page_refs::count(frame) == 1
    }
    fn release(&mut self, frame: u64) {
        page_refs::release(frame);
    }
}

/// The most entries the cache keeps while unused ones can go: a quarter of RAM.
fn limit() -> usize {
    (frames::stats().total / 4) as usize
}

/// The frame of page `index` of file `node` at contents `version` (current: the caller
/// holds the VFS lock, `v`), with one more reference for the caller; on a miss the page is
/// read from the file into a new frame (zeros past the end), which the cache keeps. `None`
/// when no frame can be had.
pub fn page(v: &mut Vfs, node: NodeRef, version: u64, index: u64, now: Timespec) -> Option<u64> {
    {
        let mut c = CACHE.lock();
        if let Some(frame) = c.pages.get(node, version, index, &mut Refs) {
            page_refs::share(frame);
            return Some(frame);
        }
    }
    let frame = page_refs::alloc_filled(|page| {
        // A held node of a regular file always reads; a short read leaves zeros.
        let _ = v.read_at(node, index * PAGE_SIZE, page, now);
    })?;
    page_refs::share(frame); // the cache's reference
    let mut c = CACHE.lock();
    c.pages.insert(node, version, index, frame, &mut Refs);
    c.pages.trim_to(limit(), &mut Refs);
    c.inserts += 1;
    if c.inserts >= SWEEP_EVERY {
        c.inserts = 0;
        let current =
            |n: NodeRef, version: u64| v.getattr(n).is_ok_and(|a| a.data_version == version);
        c.pages.retain_nodes(current, &mut Refs);
    }
    Some(frame)
}

/// Drops up to a batch of entries that nothing maps (memory is low); how many went.
pub fn reclaim() -> usize {
    CACHE.lock().pages.reclaim(RECLAIM_BATCH, &mut Refs)
}

/// Pages held (`/proc/meminfo`'s `Cached`).
pub fn pages() -> u64 {
    CACHE.lock().pages.len() as u64
}
