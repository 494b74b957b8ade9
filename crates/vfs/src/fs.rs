//! The interface every file system implements, so that the walker, `stat` and
//! `getdents64` work the same on tmpfs and on the kernel's devfs and procfs.
//!
//! The [`crate::Vfs`] does every generic check (permissions, types, trailing slashes,
//! mount points) in Linux's order before it calls a file system, as Linux's VFS does
//! before it calls an `inode_operations` method; a file system only stores. Mutations
//! default to the errno Linux gives when a file system lacks the operation: `EACCES` to
//! create a regular file (`vfs_create` without `->create`), `EPERM` for every other
//! namespace change and for `setattr`, `EINVAL` for contents (reading or writing a file
//! that has no such operation).

use alloc::borrow::Cow;

use crate::node::{Attr, DirEntry, FileType, NewNode, SetAttr, Timespec};
use crate::Errno;

/// What `statfs` reports for one file system (the [`crate::Vfs`] adds `f_fsid`,
/// `f_namelen`, `f_frsize`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FsStat {
    /// `f_type`: the file system's magic number (`TMPFS_MAGIC`, `PROC_SUPER_MAGIC`, ...).
    pub magic: u64,
    /// `f_bsize`: the block size.
    pub block_size: u64,
    /// `f_blocks`: total blocks (0: no limit).
    pub blocks: u64,
    /// `f_bfree` and `f_bavail`: free blocks.
    pub blocks_free: u64,
    /// `f_files`: total inodes (0: no limit).
    pub files: u64,
    /// `f_ffree`: free inodes.
    pub files_free: u64,
}

/// A file system: inodes named by number, directories mapping names to inodes.
///
/// Inode numbers are the file system's own; the root is [`FileSystem::root`]. Lookups of
/// `.` and `..` never reach a file system (the walker handles them with
/// [`FileSystem::parent`]), and neither do names longer than 255 bytes.
pub trait FileSystem {
    /// The root directory's inode number.
    fn root(&self) -> u64;

    /// The metadata of `ino` (`ENOENT` for an inode that no longer exists).
    fn getattr(&self, ino: u64) -> Result<Attr, Errno>;

    /// The inode that `name` names in directory `dir` (`ENOENT` if none).
    fn lookup(&self, dir: u64, name: &[u8]) -> Result<u64, Errno>;

    /// The parent of directory `dir`; the root is its own parent.
    fn parent(&self, dir: u64) -> Result<u64, Errno>;

    /// A symlink's target (`EINVAL` for anything else).
    fn readlink(&self, ino: u64) -> Result<Cow<'_, [u8]>, Errno>;

    /// Calls `emit` for the entries of `dir` from position `pos` (at least 2: the
    /// [`crate::Vfs`] reports `.` and `..` at positions 0 and 1) in order, until `emit`
    /// returns `false` or the directory ends. Each entry carries the position after it.
    fn readdir(
        &self,
        dir: u64,
        pos: u64,
        emit: &mut dyn FnMut(DirEntry<'_>) -> bool,
    ) -> Result<(), Errno>;

    /// Usage figures for `statfs`.
    fn statfs(&self) -> FsStat;

    /// Creates `name` in `dir` (which the caller checked is a live directory without that
    /// name) and returns its inode number.
    fn create(
        &mut self,
        dir: u64,
        name: &[u8],
        node: NewNode<'_>,
        now: Timespec,
    ) -> Result<u64, Errno> {
        let _ = (dir, name, now);
        Err(if node.kind == FileType::Regular {
            Errno::EACCES
        } else {
            Errno::EPERM
        })
    }

    /// Adds the name `name` in `dir` for the existing non-directory `ino`.
    fn link(&mut self, dir: u64, name: &[u8], ino: u64, now: Timespec) -> Result<(), Errno> {
        let _ = (dir, name, ino, now);
        Err(Errno::EPERM)
    }

    /// Removes `name` from `dir`: a non-directory, or a directory that must be empty
    /// (`ENOTEMPTY`).
    fn unlink(&mut self, dir: u64, name: &[u8], now: Timespec) -> Result<(), Errno> {
        let _ = (dir, name, now);
        Err(Errno::EPERM)
    }

    /// Moves `old_name` in `old_dir` to `new_name` in `new_dir`, replacing what is there
    /// (a directory target must be empty: `ENOTEMPTY`), or swaps the two if `exchange`.
    /// The caller checked types, permissions and loops.
    fn rename(
        &mut self,
        old_dir: u64,
        old_name: &[u8],
        new_dir: u64,
        new_name: &[u8],
        exchange: bool,
        now: Timespec,
    ) -> Result<(), Errno> {
        let _ = (old_dir, old_name, new_dir, new_name, exchange, now);
        Err(Errno::EPERM)
    }

    /// Changes metadata; the caller checked permissions.
    fn setattr(&mut self, ino: u64, attr: &SetAttr) -> Result<(), Errno> {
        let _ = (ino, attr);
        Err(Errno::EPERM)
    }

    /// Reads a regular file's bytes at `off` into `buf`; returns how many (0 at the end).
    fn read_at(
        &mut self,
        ino: u64,
        off: u64,
        buf: &mut [u8],
        now: Timespec,
    ) -> Result<usize, Errno> {
        let _ = (ino, off, buf, now);
        Err(Errno::EINVAL)
    }

    /// Writes `data` into a regular file at `off`, extending it (a gap reads as zeros);
    /// returns how many bytes were written.
    fn write_at(&mut self, ino: u64, off: u64, data: &[u8], now: Timespec) -> Result<usize, Errno> {
        let _ = (ino, off, data, now);
        Err(Errno::EINVAL)
    }

    /// Sets a regular file's size; `touch` says whether `mtime`/`ctime` change even if
    /// the size does not (`O_TRUNC`).
    fn truncate(&mut self, ino: u64, size: u64, touch: bool, now: Timespec) -> Result<(), Errno> {
        let _ = (ino, size, touch, now);
        Err(Errno::EINVAL)
    }

    /// Records an access (a directory listed, a symlink read) for `atime`.
    fn accessed(&mut self, ino: u64, now: Timespec) {
        let _ = (ino, now);
    }

    /// Takes a reference that keeps `ino` alive after its last name is gone (an open
    /// file description, a working directory).
    fn hold(&mut self, ino: u64) {
        let _ = ino;
    }

    /// Drops a reference taken by [`FileSystem::hold`]; an inode without names and
    /// references is freed.
    fn release(&mut self, ino: u64) {
        let _ = ino;
    }

    /// Whether any inode is held (`umount` without `MNT_DETACH` is then `EBUSY`).
    fn busy(&self) -> bool {
        false
    }
}
