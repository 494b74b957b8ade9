//! Path resolution: Linux's `link_path_walk` and `path_lookupat`.
//!
//! A path is resolved from the process root (absolute) or a start directory (the working
//! directory or a `dirfd`), one component at a time. Before each component the caller
//! needs search permission on the directory it is in (`may_lookup`); `.` stays, `..`
//! stops at the process root and climbs out of a mounted file system's root onto its
//! mount point; every other name is looked up and followed into whatever is mounted on
//! it. Symlinks in the middle are always followed, the last one when asked or when a
//! trailing slash follows it; 40 symlinks per resolution at most (`MAXSYMLINKS`), then
//! `ELOOP`. A trailing slash demands a directory (`ENOTDIR`).
//!
//! The operations that create or remove names resolve the parent and keep the last
//! component ([`Parent`]), as Linux's `filename_parentat` does, and decide themselves
//! what a trailing slash, `.`, `..` or `/` means for them.

use alloc::vec::Vec;

use linux_raw_sys::general::{NAME_MAX, PATH_MAX};

use crate::cred::MAY_EXEC;
use crate::node::{FileType, NodeRef};
use crate::vfs::{Ctx, Vfs};
use crate::Errno;

/// Linux's `MAXSYMLINKS`: symlinks one resolution may follow.
pub const MAX_SYMLINKS: u32 = 40;

/// What the last component of a path is (Linux's `LAST_NORM`, `LAST_DOT`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LastKind {
    Normal,
    Dot,
    DotDot,
    /// The path is `/` (any number of slashes).
    Root,
}

/// A path resolved up to its last component.
#[derive(Clone, Debug)]
pub(crate) struct Parent {
    /// The directory holding the last component.
    pub dir: NodeRef,
    /// The last component (empty for [`LastKind::Root`]).
    pub name: Vec<u8>,
    pub kind: LastKind,
    /// Whether slashes followed the last component.
    pub trailing_slash: bool,
}

/// How the last component of a path is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Follow a final symlink (`stat`, `open` without `O_NOFOLLOW`).
    Yes,
    /// Return a final symlink itself (`lstat`, `AT_SYMLINK_NOFOLLOW`).
    No,
}

impl Vfs {
    /// Search permission on directory `dir` (Linux's `may_lookup`).
    fn may_lookup(&self, cx: &Ctx<'_>, dir: NodeRef) -> Result<(), Errno> {
        cx.cred.permission(&self.getattr(dir)?, MAY_EXEC)
    }

    fn kind(&self, node: NodeRef) -> Result<FileType, Errno> {
        Ok(self.getattr(node)?.kind)
    }

    /// Looks `name` up in `dir` (no `.` or `..`), staying in `dir`'s file system: the
    /// node a name change acts on.
    pub(crate) fn lookup_name(&self, dir: NodeRef, name: &[u8]) -> Result<NodeRef, Errno> {
        if name.len() > NAME_MAX as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        let ino = self.fs(dir.fs)?.lookup(dir.ino, name)?;
        Ok(NodeRef { fs: dir.fs, ino })
    }

    /// [`Vfs::lookup_name`], then into whatever is mounted there.
    pub(crate) fn lookup_child(&self, dir: NodeRef, name: &[u8]) -> Result<NodeRef, Errno> {
        Ok(self.follow_mounts(self.lookup_name(dir, name)?))
    }

    /// `..` from `dir`: Linux's `follow_dotdot`.
    pub(crate) fn dotdot(&self, cx: &Ctx<'_>, mut dir: NodeRef) -> Result<NodeRef, Errno> {
        loop {
            if dir == cx.root {
                return Ok(dir);
            }
            if dir != self.fs_root(dir.fs) {
                break;
            }
            match self.mountpoint_of(dir.fs) {
                Some(on) => dir = on,
                None => return Ok(dir),
            }
        }
        let parent = self.fs(dir.fs)?.parent(dir.ino)?;
        Ok(self.follow_mounts(NodeRef {
            fs: dir.fs,
            ino: parent,
        }))
    }

    /// Follows symlink `link`, found in directory `dir`, to what its target names.
    fn follow_link(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        link: NodeRef,
        links: &mut u32,
    ) -> Result<NodeRef, Errno> {
        if *links >= MAX_SYMLINKS {
            return Err(Errno::ELOOP);
        }
        *links += 1;
        let target = self.fs(link.fs)?.readlink(link.ino)?.into_owned();
        // Following a symlink reads it: Linux updates its atime (`pick_link`).
        self.fs_mut(link.fs)?.accessed(link.ino, cx.now);
        self.resolve_counted(cx, dir, &target, Follow::Yes, links)
    }

    /// Resolves `path` up to its last component; `dir` is where a relative path starts.
    pub(crate) fn walk_parent(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        links: &mut u32,
    ) -> Result<Parent, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        if path.len() >= PATH_MAX as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut cur = if path[0] == b'/' { cx.root } else { dir };
        let trailing_slash = path.ends_with(b"/");
        let mut components = path
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .peekable();
        if components.peek().is_none() {
            return Ok(Parent {
                dir: cur,
                name: Vec::new(),
                kind: LastKind::Root,
                trailing_slash,
            });
        }
        if self.kind(cur)? != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        loop {
            self.may_lookup(cx, cur)?;
            let Some(name) = components.next() else {
                return Err(Errno::ENOENT);
            };
            if components.peek().is_none() {
                let kind = match name {
                    b"." => LastKind::Dot,
                    b".." => LastKind::DotDot,
                    _ => LastKind::Normal,
                };
                return Ok(Parent {
                    dir: cur,
                    name: name.into(),
                    kind,
                    trailing_slash,
                });
            }
            let mut next = match name {
                b"." => cur,
                b".." => self.dotdot(cx, cur)?,
                _ => self.lookup_child(cur, name)?,
            };
            if self.kind(next)? == FileType::Symlink {
                next = self.follow_link(cx, cur, next, links)?;
            }
            if self.kind(next)? != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
            cur = next;
        }
    }

    /// The node the last component of `parent` names (`ENOENT` if none), with a final
    /// symlink followed if `follow` says so or a trailing slash demands it.
    pub(crate) fn lookup_last(
        &mut self,
        cx: &Ctx<'_>,
        parent: &Parent,
        follow: Follow,
        links: &mut u32,
    ) -> Result<NodeRef, Errno> {
        let mut node = match parent.kind {
            LastKind::Root | LastKind::Dot => parent.dir,
            LastKind::DotDot => self.dotdot(cx, parent.dir)?,
            LastKind::Normal => self.lookup_child(parent.dir, &parent.name)?,
        };
        if (follow == Follow::Yes || parent.trailing_slash) && self.kind(node)? == FileType::Symlink
        {
            node = self.follow_link(cx, parent.dir, node, links)?;
        }
        if parent.trailing_slash && self.kind(node)? != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(node)
    }

    fn resolve_counted(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        follow: Follow,
        links: &mut u32,
    ) -> Result<NodeRef, Errno> {
        let parent = self.walk_parent(cx, dir, path, links)?;
        self.lookup_last(cx, &parent, follow, links)
    }

    /// Resolves `path` from `dir` to the node it names.
    pub(crate) fn resolve(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        follow: Follow,
    ) -> Result<NodeRef, Errno> {
        self.resolve_counted(cx, dir, path, follow, &mut 0)
    }

    /// [`Vfs::resolve`] for the `*at` calls that take `AT_EMPTY_PATH`: with `empty_path`
    /// an empty path names `dir` itself.
    pub(crate) fn resolve_at(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        follow: Follow,
        empty_path: bool,
    ) -> Result<NodeRef, Errno> {
        if path.is_empty() && empty_path {
            self.getattr(dir)?;
            return Ok(dir);
        }
        self.resolve(cx, dir, path, follow)
    }
}
