//! tmpfs: files that live in memory, Linux's `shmem` file system.
//!
//! Inodes sit in an arena keyed by inode number (numbers are never reused). An inode is
//! freed when its last name is gone and nobody holds it: open file descriptions and
//! working directories call [`FileSystem::hold`]/[`FileSystem::release`], so an unlinked
//! file stays readable while open, as on Linux. A removed directory that is still held
//! keeps its parent alive too, so `..` from it still leads somewhere.
//!
//! The figures follow Linux's shmem: a directory's size is 20 bytes (`BOGO_DIRENT_SIZE`)
//! per entry plus 40, `st_blocks` counts written pages (8 per 4 KiB page), a symlink
//! target longer than 127 bytes takes a page, `atime` follows `relatime`.

mod dir;
mod pages;

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;

use linux_raw_sys::general::TMPFS_MAGIC;

use crate::fs::{FileSystem, FsStat};
use crate::node::{Attr, DirEntry, FileType, NewNode, SetAttr, Timespec};
use crate::Errno;
use dir::Dir;
use pages::{Pages, MAX_FILE_SIZE, PAGE_SIZE};

/// Linux's `BOGO_DIRENT_SIZE`: what each entry adds to a tmpfs directory's size.
const DIRENT_SIZE: u64 = 20;
/// Linux's `SHORT_SYMLINK_LEN`: targets up to this length (with the NUL) need no page.
const SHORT_SYMLINK_LEN: usize = 128;
/// `relatime` refreshes an access time older than this, in seconds.
const RELATIME_PERIOD: i64 = 24 * 60 * 60;
/// 512-byte blocks per page, for `st_blocks`.
const BLOCKS_PER_PAGE: u64 = PAGE_SIZE / 512;

/// The root's inode number.
const ROOT_INO: u64 = 1;

#[derive(Debug)]
enum Data {
    File(Pages),
    Dir(Dir),
    Symlink(Box<[u8]>),
    /// Device nodes, FIFOs and sockets: metadata only.
    Special,
}

#[derive(Debug)]
struct Inode {
    kind: FileType,
    perm: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    rdev: u64,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    btime: Timespec,
    holds: u32,
    /// A removed directory still held keeps a hold on its old parent.
    holds_parent: bool,
    /// [`Attr::data_version`]: bumped by every change of a file's contents.
    data_version: u64,
    data: Data,
}

impl Inode {
    fn pages(&self) -> u64 {
        match &self.data {
            Data::File(pages) => pages.allocated(),
            Data::Symlink(target) => u64::from(target.len() >= SHORT_SYMLINK_LEN),
            _ => 0,
        }
    }
}

/// A tmpfs instance.
#[derive(Debug)]
pub struct Tmpfs {
    inodes: BTreeMap<u64, Inode>,
    next_ino: u64,
    max_pages: u64,
    used_pages: u64,
}

impl Tmpfs {
    /// An empty tmpfs whose root has permission bits `perm` and owner `uid`:`gid`;
    /// `max_pages` bounds the pages its files may use (0: no bound, the `size=0` option).
    pub fn new(perm: u32, uid: u32, gid: u32, max_pages: u64, now: Timespec) -> Self {
        let root = Inode {
            kind: FileType::Directory,
            perm: perm & 0o7777,
            uid,
            gid,
            nlink: 2,
            rdev: 0,
            atime: now,
            mtime: now,
            ctime: now,
            btime: now,
            holds: 0,
            holds_parent: false,
            data_version: 0,
            data: Data::Dir(Dir::new(ROOT_INO)),
        };
        let inodes = BTreeMap::from([(ROOT_INO, root)]);
        Self {
            inodes,
            next_ino: ROOT_INO + 1,
            max_pages,
            used_pages: 0,
        }
    }

    fn inode(&self, ino: u64) -> Result<&Inode, Errno> {
        self.inodes.get(&ino).ok_or(Errno::ENOENT)
    }

    fn inode_mut(&mut self, ino: u64) -> Result<&mut Inode, Errno> {
        self.inodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    fn dir(&self, ino: u64) -> Result<&Dir, Errno> {
        match &self.inode(ino)?.data {
            Data::Dir(dir) => Ok(dir),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn dir_mut(&mut self, ino: u64) -> Result<&mut Dir, Errno> {
        match &mut self.inode_mut(ino)?.data {
            Data::Dir(dir) => Ok(dir),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn file_mut(&mut self, ino: u64) -> Result<&mut Inode, Errno> {
        let inode = self.inode_mut(ino)?;
        match inode.data {
            Data::File(_) => Ok(inode),
            Data::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Whether one more page fits under the size limit (and counts it if so).
    fn take_page(used_pages: &mut u64, max_pages: u64) -> bool {
        if max_pages != 0 && *used_pages >= max_pages {
            return false;
        }
        *used_pages += 1;
        true
    }

    /// Sets a directory's `mtime` and `ctime` after its entries changed.
    fn touch_dir(&mut self, dir: u64, now: Timespec) {
        if let Some(inode) = self.inodes.get_mut(&dir) {
            inode.mtime = now;
            inode.ctime = now;
        }
    }

    fn add_nlink(&mut self, ino: u64, delta: i32) {
        if let Some(inode) = self.inodes.get_mut(&ino) {
            inode.nlink = inode.nlink.saturating_add_signed(delta);
        }
    }

    /// Takes `ino` out of its directory's link count bookkeeping once it has no name:
    /// a directory drops to 0 links and its parent loses the `..` link.
    fn drop_link(&mut self, parent: u64, ino: u64, now: Timespec) {
        let Some(inode) = self.inodes.get_mut(&ino) else {
            return;
        };
        inode.ctime = now;
        if inode.kind == FileType::Directory {
            inode.nlink = 0;
            if inode.holds > 0 {
                inode.holds_parent = true;
                self.hold(parent);
            }
            self.add_nlink(parent, -1);
        } else {
            inode.nlink = inode.nlink.saturating_sub(1);
        }
        self.free_if_unused(ino);
    }

    fn free_if_unused(&mut self, ino: u64) {
        let unused = self
            .inodes
            .get(&ino)
            .is_some_and(|i| i.nlink == 0 && i.holds == 0 && ino != ROOT_INO);
        if !unused {
            return;
        }
        if let Some(inode) = self.inodes.remove(&ino) {
            self.used_pages -= inode.pages();
            if let (true, Data::Dir(dir)) = (inode.holds_parent, &inode.data) {
                self.release(dir.parent);
            }
        }
    }

    /// Fails with `ENOTEMPTY` if `ino` is a directory with entries.
    fn check_empty(&self, ino: u64) -> Result<(), Errno> {
        match &self.inode(ino)?.data {
            Data::Dir(dir) if !dir.is_empty() => Err(Errno::ENOTEMPTY),
            _ => Ok(()),
        }
    }

    /// Moves directory `ino` from `old_dir` to `new_dir`: its `..` and both link counts.
    fn reparent(&mut self, ino: u64, old_dir: u64, new_dir: u64) {
        if old_dir == new_dir {
            return;
        }
        if let Ok(dir) = self.dir_mut(ino) {
            dir.parent = new_dir;
            self.add_nlink(old_dir, -1);
            self.add_nlink(new_dir, 1);
        }
    }
}

impl FileSystem for Tmpfs {
    fn root(&self) -> u64 {
        ROOT_INO
    }

    fn getattr(&self, ino: u64) -> Result<Attr, Errno> {
        let inode = self.inode(ino)?;
        let size = match &inode.data {
            Data::File(pages) => pages.size(),
            Data::Dir(dir) => 2 * DIRENT_SIZE + DIRENT_SIZE * dir.len() as u64,
            Data::Symlink(target) => target.len() as u64,
            Data::Special => 0,
        };
        Ok(Attr {
            ino,
            kind: inode.kind,
            perm: inode.perm,
            nlink: inode.nlink,
            uid: inode.uid,
            gid: inode.gid,
            rdev: inode.rdev,
            size,
            blocks: inode.pages() * BLOCKS_PER_PAGE,
            atime: inode.atime,
            mtime: inode.mtime,
            ctime: inode.ctime,
            btime: inode.btime,
            data_version: inode.data_version,
        })
    }

    fn lookup(&self, dir: u64, name: &[u8]) -> Result<u64, Errno> {
        self.dir(dir)?.get(name).ok_or(Errno::ENOENT)
    }

    fn parent(&self, dir: u64) -> Result<u64, Errno> {
        Ok(self.dir(dir)?.parent)
    }

    fn readlink(&self, ino: u64) -> Result<Cow<'_, [u8]>, Errno> {
        match &self.inode(ino)?.data {
            Data::Symlink(target) => Ok(Cow::Borrowed(target)),
            _ => Err(Errno::EINVAL),
        }
    }

    fn readdir(
        &self,
        dir: u64,
        pos: u64,
        emit: &mut dyn FnMut(DirEntry<'_>) -> bool,
    ) -> Result<(), Errno> {
        for (position, name, ino) in self.dir(dir)?.from(pos) {
            let kind = self.inode(ino)?.kind;
            if !emit(DirEntry {
                ino,
                kind,
                name,
                next: position + 1,
            }) {
                break;
            }
        }
        Ok(())
    }

    fn statfs(&self) -> FsStat {
        FsStat {
            magic: u64::from(TMPFS_MAGIC),
            block_size: PAGE_SIZE,
            blocks: self.max_pages,
            blocks_free: self.max_pages.saturating_sub(self.used_pages),
            files: 0,
            files_free: 0,
        }
    }

    fn create(
        &mut self,
        dir: u64,
        name: &[u8],
        node: NewNode<'_>,
        now: Timespec,
    ) -> Result<u64, Errno> {
        self.dir(dir)?;
        let data = match node.kind {
            FileType::Regular => Data::File(Pages::default()),
            FileType::Directory => Data::Dir(Dir::new(dir)),
            FileType::Symlink => {
                if node.target.len() >= SHORT_SYMLINK_LEN
                    && !Self::take_page(&mut self.used_pages, self.max_pages)
                {
                    return Err(Errno::ENOSPC);
                }
                Data::Symlink(node.target.into())
            }
            _ => Data::Special,
        };
        let is_dir = node.kind == FileType::Directory;
        let ino = self.next_ino;
        self.next_ino += 1;
        let inode = Inode {
            kind: node.kind,
            perm: node.perm & 0o7777,
            uid: node.uid,
            gid: node.gid,
            nlink: if is_dir { 2 } else { 1 },
            rdev: node.rdev,
            atime: now,
            mtime: now,
            ctime: now,
            btime: now,
            holds: 0,
            holds_parent: false,
            data_version: 0,
            data,
        };
        self.inodes.insert(ino, inode);
        self.dir_mut(dir)?.insert(name, ino);
        if is_dir {
            self.add_nlink(dir, 1);
        }
        self.touch_dir(dir, now);
        Ok(ino)
    }

    fn link(&mut self, dir: u64, name: &[u8], ino: u64, now: Timespec) -> Result<(), Errno> {
        self.dir(dir)?;
        let inode = self.inode_mut(ino)?;
        inode.nlink += 1;
        inode.ctime = now;
        self.dir_mut(dir)?.insert(name, ino);
        self.touch_dir(dir, now);
        Ok(())
    }

    fn unlink(&mut self, dir: u64, name: &[u8], now: Timespec) -> Result<(), Errno> {
        let ino = self.lookup(dir, name)?;
        self.check_empty(ino)?;
        self.dir_mut(dir)?.remove(name);
        self.touch_dir(dir, now);
        self.drop_link(dir, ino, now);
        Ok(())
    }

    fn rename(
        &mut self,
        old_dir: u64,
        old_name: &[u8],
        new_dir: u64,
        new_name: &[u8],
        exchange: bool,
        now: Timespec,
    ) -> Result<(), Errno> {
        let source = self.lookup(old_dir, old_name)?;
        let target = self.dir(new_dir)?.get(new_name);
        if exchange {
            let target = target.ok_or(Errno::ENOENT)?;
            self.dir_mut(old_dir)?.set(old_name, target);
            self.dir_mut(new_dir)?.set(new_name, source);
            self.reparent(source, old_dir, new_dir);
            self.reparent(target, new_dir, old_dir);
            self.inode_mut(target)?.ctime = now;
        } else {
            if let Some(target) = target {
                self.check_empty(target)?;
            }
            self.dir_mut(old_dir)?.remove(old_name);
            self.dir_mut(new_dir)?.insert(new_name, source);
            if let Some(target) = target {
                self.drop_link(new_dir, target, now);
            }
            self.reparent(source, old_dir, new_dir);
        }
        self.inode_mut(source)?.ctime = now;
        self.touch_dir(old_dir, now);
        self.touch_dir(new_dir, now);
        Ok(())
    }

    fn setattr(&mut self, ino: u64, attr: &SetAttr) -> Result<(), Errno> {
        let inode = self.inode_mut(ino)?;
        if let Some(perm) = attr.perm {
            inode.perm = perm & 0o7777;
        }
        inode.uid = attr.uid.unwrap_or(inode.uid);
        inode.gid = attr.gid.unwrap_or(inode.gid);
        inode.atime = attr.atime.unwrap_or(inode.atime);
        inode.mtime = attr.mtime.unwrap_or(inode.mtime);
        inode.ctime = attr.ctime.unwrap_or(inode.ctime);
        Ok(())
    }

    fn read_at(
        &mut self,
        ino: u64,
        off: u64,
        buf: &mut [u8],
        now: Timespec,
    ) -> Result<usize, Errno> {
        let inode = self.file_mut(ino)?;
        let Data::File(pages) = &inode.data else {
            return Err(Errno::EINVAL);
        };
        let n = pages.read(off, buf);
        self.accessed(ino, now);
        Ok(n)
    }

    fn write_at(&mut self, ino: u64, off: u64, data: &[u8], now: Timespec) -> Result<usize, Errno> {
        let (used_pages, max_pages) = (&mut self.used_pages, self.max_pages);
        let inode = self.inodes.get_mut(&ino).ok_or(Errno::ENOENT)?;
        let Data::File(pages) = &mut inode.data else {
            return Err(if inode.kind == FileType::Directory {
                Errno::EISDIR
            } else {
                Errno::EINVAL
            });
        };
        if off > MAX_FILE_SIZE {
            return Err(Errno::EINVAL);
        }
        if data.is_empty() {
            return Ok(0);
        }
        if off == MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let len = (data.len() as u64).min(MAX_FILE_SIZE - off) as usize;
        let n = pages.write(off, &data[..len], &mut || {
            Self::take_page(used_pages, max_pages)
        });
        if n == 0 {
            return Err(Errno::ENOSPC);
        }
        inode.mtime = now;
        inode.ctime = now;
        inode.data_version += 1;
        Ok(n)
    }

    fn truncate(&mut self, ino: u64, size: u64, touch: bool, now: Timespec) -> Result<(), Errno> {
        if size > MAX_FILE_SIZE {
            return Err(Errno::EINVAL);
        }
        let inode = self.file_mut(ino)?;
        let Data::File(pages) = &mut inode.data else {
            return Err(Errno::EINVAL);
        };
        let changed = pages.size() != size;
        let freed = pages.truncate(size);
        if changed {
            inode.data_version += 1;
        }
        if changed || touch {
            inode.mtime = now;
            inode.ctime = now;
        }
        self.used_pages -= freed;
        Ok(())
    }

    fn accessed(&mut self, ino: u64, now: Timespec) {
        if let Some(inode) = self.inodes.get_mut(&ino) {
            let stale = inode.atime <= inode.mtime
                || inode.atime <= inode.ctime
                || now.sec.saturating_sub(inode.atime.sec) >= RELATIME_PERIOD;
            if stale && inode.atime != now {
                inode.atime = now;
            }
        }
    }

    fn hold(&mut self, ino: u64) {
        if let Some(inode) = self.inodes.get_mut(&ino) {
            inode.holds += 1;
        }
    }

    fn release(&mut self, ino: u64) {
        if let Some(inode) = self.inodes.get_mut(&ino) {
            inode.holds = inode.holds.saturating_sub(1);
            self.free_if_unused(ino);
        }
    }

    fn busy(&self) -> bool {
        self.inodes.values().any(|inode| inode.holds > 0)
    }
}

#[cfg(test)]
mod tests;
