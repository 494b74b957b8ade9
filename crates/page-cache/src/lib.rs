//! The bookkeeping of a page cache as pure logic: which frame holds page `index` of file
//! `node`, for which version of the file's contents, and which entries to let go of.
//!
//! Linux keeps each file's cached pages in its `address_space` (`filemap_get_folio`,
//! `filemap_add_folio`) and maps them into every process that maps the file, so a
//! program's text is the same frames in every process and every `execve`. Halyard does the
//! same for files of tmpfs, whose contents live in the file system's own buffers: the cache
//! holds copies of them, one frame per page, and a copy is good only for the version of the
//! contents it was taken from (`halyard_vfs::Attr::data_version`). A lookup or an insert at
//! a newer version drops all of the node's older entries at once, so a write or truncate
//! makes the old copies stale without the file system knowing about the cache.
//!
//! Frames are reference counted by the kernel; the cache holds one reference per entry
//! and tells the kernel through [`Frames`] when it lets go of one. An entry whose frame
//! has no other reference (nothing maps it) is reclaimable: [`PageCache::reclaim`] drops
//! such entries, least recently used first, when memory is low (Linux's `shrink_folio_list`
//! on clean file pages) and [`PageCache::trim_to`] keeps the cache under a bound.
//! [`PageCache::retain_nodes`] drops the entries of files that are gone or changed.
//!
//! The kernel takes its own reference to a frame [`PageCache::get`] returns before it lets
//! go of the lock around the cache, so a frame cannot be freed between the two.
#![no_std]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// The kernel's side of the frames: reference counts.
pub trait Frames {
    /// Does the cache hold the only reference to `frame` (nothing maps it)?
    fn unused(&self, frame: u64) -> bool;
    /// The cache lets go of its reference to `frame`.
    fn release(&mut self, frame: u64);
}

/// What the cache knows of one file.
#[derive(Clone, Copy, Debug)]
struct NodeState {
    /// The version of the contents its entries were read at.
    version: u64,
    /// How many entries it has (the state goes with the last one).
    pages: usize,
}

/// One cached page.
#[derive(Clone, Copy, Debug)]
struct Page {
    frame: u64,
    /// When it was last looked up or inserted (the cache's own clock).
    used: u64,
}

/// The cache: `N` names a file (its node), pages are numbered from 0.
#[derive(Debug)]
pub struct PageCache<N> {
    nodes: BTreeMap<N, NodeState>,
    pages: BTreeMap<(N, u64), Page>,
    clock: u64,
}

impl<N: Ord + Copy> Default for PageCache<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<N: Ord + Copy> PageCache<N> {
    /// An empty cache.
    pub const fn new() -> Self {
        Self {
            nodes: BTreeMap::new(),
            pages: BTreeMap::new(),
            clock: 0,
        }
    }

    /// Entries (frames) held.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Does the cache hold nothing?
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Files with entries.
    pub fn files(&self) -> usize {
        self.nodes.len()
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The frame of page `index` of `node` at contents `version`, if cached. Entries of
    /// the node at another version are stale: they are dropped.
    pub fn get(
        &mut self,
        node: N,
        version: u64,
        index: u64,
        frames: &mut impl Frames,
    ) -> Option<u64> {
        let state = *self.nodes.get(&node)?;
        if state.version != version {
            self.forget(node, frames);
            return None;
        }
        let now = self.tick();
        let page = self.pages.get_mut(&(node, index))?;
        page.used = now;
        Some(page.frame)
    }

    /// Caches `frame` (whose reference the cache now holds) as page `index` of `node` at
    /// contents `version`. The node's entries at another version are dropped, and so is a
    /// frame already cached for that page.
    pub fn insert(
        &mut self,
        node: N,
        version: u64,
        index: u64,
        frame: u64,
        frames: &mut impl Frames,
    ) {
        if self.nodes.get(&node).is_some_and(|s| s.version != version) {
            self.forget(node, frames);
        }
        let used = self.tick();
        let state = self
            .nodes
            .entry(node)
            .or_insert(NodeState { version, pages: 0 });
        match self.pages.insert((node, index), Page { frame, used }) {
            Some(old) => frames.release(old.frame),
            None => state.pages += 1,
        }
    }

    /// Drops every entry of `node`.
    pub fn forget(&mut self, node: N, frames: &mut impl Frames) {
        if self.nodes.remove(&node).is_none() {
            return;
        }
        let keys: Vec<(N, u64)> = self
            .pages
            .range((node, 0)..=(node, u64::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            if let Some(page) = self.pages.remove(&key) {
                frames.release(page.frame);
            }
        }
    }

    /// Drops the entries of every file for which `current(node, version)` is false (the
    /// file is gone, or its contents changed since the entries were read).
    pub fn retain_nodes(
        &mut self,
        mut current: impl FnMut(N, u64) -> bool,
        frames: &mut impl Frames,
    ) {
        let stale: Vec<N> = self
            .nodes
            .iter()
            .filter(|(n, s)| !current(**n, s.version))
            .map(|(n, _)| *n)
            .collect();
        for node in stale {
            self.forget(node, frames);
        }
    }

    /// Drops up to `want` entries whose frames nothing else uses, least recently used
    /// first; returns how many were dropped.
    pub fn reclaim(&mut self, want: usize, frames: &mut impl Frames) -> usize {
        if want == 0 {
            return 0;
        }
        let mut idle: Vec<(u64, (N, u64))> = self
            .pages
            .iter()
            .filter(|(_, p)| frames.unused(p.frame))
            .map(|(k, p)| (p.used, *k))
            .collect();
        idle.sort_unstable_by_key(|(used, _)| *used);
        idle.truncate(want);
        for (_, key) in &idle {
            self.remove(*key, frames);
        }
        idle.len()
    }

    /// Keeps the cache at `limit` entries or fewer when it can: over the limit, unused
    /// entries are reclaimed down to seven eighths of it (so the scan is not repeated on
    /// every insert). Entries that are mapped stay, whatever the limit.
    pub fn trim_to(&mut self, limit: usize, frames: &mut impl Frames) -> usize {
        if self.len() <= limit {
            return 0;
        }
        self.reclaim(self.len() - (limit - limit / 8), frames)
    }

    fn remove(&mut self, key: (N, u64), frames: &mut impl Frames) {
        let Some(page) = self.pages.remove(&key) else {
            return;
        };
        frames.release(page.frame);
        if let Some(state) = self.nodes.get_mut(&key.0) {
            state.pages -= 1;
            if state.pages == 0 {
                self.nodes.remove(&key.0);
            }
        }
    }
}

#[cfg(test)]
mod tests;
