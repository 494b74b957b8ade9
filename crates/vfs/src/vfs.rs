//! The [`Vfs`]: the file systems, the mount table, and the per-call context.
//!
//! Each file system is added once and numbered ([`FsId`]); mounting attaches it to a
//! directory of another one. Linux keeps a tree of mounts and allows one file system in
//! many places (bind mounts); Halyard mounts each file system at most once, so a
//! [`NodeRef`] names a file without a mount beside it. A file system stays in the table
//! after `umount`: open files and working directories inside keep working, as after a
//! lazy unmount on Linux.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::cred::Cred;
use crate::fs::FileSystem;
use crate::node::{Attr, FsId, NodeRef, Timespec};
use crate::Errno;

/// What every path operation needs to know about the calling process.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// The caller's credentials.
    pub cred: &'a Cred,
    /// The process root (`chroot`): absolute paths start here and `..` stops here.
    pub root: NodeRef,
    /// The file-mode creation mask, applied to new files and directories.
    pub umask: u32,
    /// The current time, for timestamps.
    pub now: Timespec,
}

/// The file systems and how they are mounted.
pub struct Vfs {
    fss: Vec<Box<dyn FileSystem>>,
    /// Mount point → the file system mounted there.
    mounts: BTreeMap<NodeRef, FsId>,
    /// Mounted file system → its mount point.
    mounted_on: BTreeMap<FsId, NodeRef>,
}

impl Vfs {
    /// A VFS whose root is `root_fs`'s root directory (it becomes `FsId(0)`).
    pub fn new(root_fs: Box<dyn FileSystem>) -> Self {
        Self {
            fss: alloc::vec![root_fs],
            mounts: BTreeMap::new(),
            mounted_on: BTreeMap::new(),
        }
    }

    /// The root directory of the root file system: the first process's root and cwd.
    pub fn root(&self) -> NodeRef {
        self.fs_root(FsId(0))
    }

    /// Adds a file system, not yet mounted; [`Vfs::mount`] attaches it.
    pub fn add(&mut self, fs: Box<dyn FileSystem>) -> FsId {
        self.fss.push(fs);
        FsId(self.fss.len() as u32 - 1)
    }

    /// The root directory of file system `fs`.
    pub fn fs_root(&self, fs: FsId) -> NodeRef {
        NodeRef {
            fs,
            ino: self.fss.get(fs.0 as usize).map_or(0, |f| f.root()),
        }
    }

    /// The file system `id`, for the kernel's own calls (device and proc files).
    pub fn fs(&self, id: FsId) -> Result<&dyn FileSystem, Errno> {
        self.fss
            .get(id.0 as usize)
            .map(|fs| &**fs)
            .ok_or(Errno::ENOENT)
    }

    /// Mutable access to file system `id`.
    pub fn fs_mut(&mut self, id: FsId) -> Result<&mut dyn FileSystem, Errno> {
        match self.fss.get_mut(id.0 as usize) {
            Some(fs) => Ok(&mut **fs),
            None => Err(Errno::ENOENT),
        }
    }

    /// The metadata of `node`.
    pub fn getattr(&self, node: NodeRef) -> Result<Attr, Errno> {
        self.fs(node.fs)?.getattr(node.ino)
    }

    /// Takes a reference that keeps `node` alive without names (an open file
    /// description, a working directory or root).
    pub fn hold(&mut self, node: NodeRef) {
        if let Ok(fs) = self.fs_mut(node.fs) {
            fs.hold(node.ino);
        }
    }

    /// Drops a reference taken by [`Vfs::hold`].
    pub fn release(&mut self, node: NodeRef) {
        if let Ok(fs) = self.fs_mut(node.fs) {
            fs.release(node.ino);
        }
    }

    /// The root of what is mounted on `node`, repeatedly (mounts stack), or `node`.
    pub(crate) fn follow_mounts(&self, mut node: NodeRef) -> NodeRef {
        while let Some(&fs) = self.mounts.get(&node) {
            node = self.fs_root(fs);
        }
        node
    }

    /// Where file system `fs` is mounted, if it is.
    pub(crate) fn mountpoint_of(&self, fs: FsId) -> Option<NodeRef> {
        self.mounted_on.get(&fs).copied()
    }

    /// Whether something is mounted on `node`.
    pub(crate) fn is_mountpoint(&self, node: NodeRef) -> bool {
        self.mounts.contains_key(&node)
    }

    /// Whether other file systems are mounted on directories of `fs`.
    pub(crate) fn has_mounts_below(&self, fs: FsId) -> bool {
        self.mounted_on.values().any(|on| on.fs == fs)
    }

    /// Records that `fs` is mounted on `on`.
    pub(crate) fn attach(&mut self, on: NodeRef, fs: FsId) {
        self.mounts.insert(on, fs);
        self.mounted_on.insert(fs, on);
    }

    /// Removes `fs` from the mount table; returns the file systems mounted below it,
    /// which a lazy unmount detaches as well.
    pub(crate) fn detach(&mut self, fs: FsId) -> Vec<FsId> {
        if let Some(on) = self.mounted_on.remove(&fs) {
            self.mounts.remove(&on);
        }
        self.mounted_on
            .iter()
            .filter(|(_, on)| on.fs == fs)
            .map(|(&child, _)| child)
            .collect()
    }
}
