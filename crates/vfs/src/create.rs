//! Making names: `mkdirat`, `mknodat`, `symlinkat`, `linkat` (Linux's `filename_create`,
//! `may_create`, `vfs_mkdir`, `vfs_mknod`, `vfs_symlink`, `vfs_link`).
//!
//! The last component must be an ordinary name (`/`, `.` and `..` exist: `EEXIST`) that
//! does not exist yet (`EEXIST`); a trailing slash is allowed for `mkdir` only (else
//! `ENOENT`). Then the directory must be alive (`ENOENT` after `rmdir`) and writable and
//! searchable (`EACCES`). New files belong to the caller's fsuid and to its fsgid, or to
//! the directory's group if the directory is set-group-ID (a new directory inherits the
//! bit); the umask applies.

use alloc::vec::Vec;

use linux_raw_sys::general::{
    AT_EMPTY_PATH, AT_SYMLINK_FOLLOW, PATH_MAX, S_IFDIR, S_IFMT, S_ISGID, S_ISUID, S_ISVTX,
};

use crate::cred::{Cred, MAY_EXEC, MAY_READ, MAY_WRITE};
use crate::node::{Attr, FileType, NewNode, NodeRef};
use crate::vfs::{Ctx, Vfs};
use crate::walk::{Follow, LastKind};
use crate::Errno;

/// Permission bits a `mkdir` mode keeps (`S_IRWXUGO | S_ISVTX`).
const MKDIR_BITS: u32 = 0o777 | S_ISVTX;

impl Vfs {
    /// Linux's `filename_create`: the directory and the new name, which must not exist.
    pub(crate) fn create_parent(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        want_dir: bool,
    ) -> Result<(NodeRef, Vec<u8>), Errno> {
        let parent = self.walk_parent(cx, dir, path, &mut 0)?;
        if parent.kind != LastKind::Normal {
            return Err(Errno::EEXIST);
        }
        match self.lookup_name(parent.dir, &parent.name) {
            Ok(_) => return Err(Errno::EEXIST),
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(e),
        }
        if parent.trailing_slash && !want_dir {
            return Err(Errno::ENOENT);
        }
        Ok((parent.dir, parent.name))
    }

    /// Linux's `may_create` for a name known not to exist: the directory is alive and
    /// the caller may write and search it.
    pub(crate) fn may_create(&self, cred: &Cred, dir: NodeRef) -> Result<Attr, Errno> {
        let attr = self.getattr(dir)?;
        if attr.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        cred.permission(&attr, MAY_WRITE | MAY_EXEC)?;
        Ok(attr)
    }

    /// Creates the inode `node` describes in `dir`, owned as Linux's `inode_init_owner`
    /// and `mode_strip_sgid` decide (the `uid`/`gid` given are replaced); `node.perm`
    /// already has the umask applied.
    pub(crate) fn make_node(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        name: &[u8],
        mut node: NewNode<'_>,
    ) -> Result<NodeRef, Errno> {
        let dir_attr = self.getattr(dir)?;
        node.uid = cx.cred.fsuid;
        node.gid = cx.cred.fsgid;
        if dir_attr.perm & S_ISGID != 0 {
            node.gid = dir_attr.gid;
            let exec_sgid = node.perm & (S_ISGID | 0o010) == S_ISGID | 0o010;
            if node.kind == FileType::Directory {
                node.perm |= S_ISGID;
            } else if exec_sgid && !cx.cred.in_group(dir_attr.gid) && !cx.cred.privileged() {
                node.perm &= !S_ISGID;
            }
        }
        let ino = self.fs_mut(dir.fs)?.create(dir.ino, name, node, cx.now)?;
        Ok(NodeRef { fs: dir.fs, ino })
    }

    /// `mkdirat(2)`.
    pub fn mkdirat(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        mode: u32,
    ) -> Result<NodeRef, Errno> {
        let (dir, name) = self.create_parent(cx, dir, path, true)?;
        self.may_create(cx.cred, dir)?;
        let perm = mode & MKDIR_BITS & !cx.umask;
        self.make_node(
            cx,
            dir,
            &name,
            NewNode {
                kind: FileType::Directory,
                perm,
                uid: 0,
                gid: 0,
                rdev: 0,
                target: &[],
            },
        )
    }

    /// `mknodat(2)`: a regular file, device node, FIFO or socket; `dev` is the device
    /// number in the `new_encode_dev` form `mknod` takes. Device nodes need privilege,
    /// except the character device 0:0 (a whiteout).
    pub fn mknodat(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        mode: u32,
        dev: u32,
    ) -> Result<NodeRef, Errno> {
        let kind = match mode & S_IFMT {
            0 => FileType::Regular,
            S_IFDIR => return Err(Errno::EPERM),
            t => FileType::from_mode(t).ok_or(Errno::EINVAL)?,
        };
        let (dir, name) = self.create_parent(cx, dir, path, false)?;
        self.may_create(cx.cred, dir)?;
        let is_device = matches!(kind, FileType::CharDevice | FileType::BlockDevice);
        // A character device 0:0 is an overlayfs "whiteout": anyone may make one.
        let whiteout = kind == FileType::CharDevice && dev == 0;
        if is_device && !whiteout && !cx.cred.privileged() {
            return Err(Errno::EPERM);
        }
        let rdev = if is_device { u64::from(dev) } else { 0 };
        let perm = mode & 0o7777 & !cx.umask;
        self.make_node(
            cx,
            dir,
            &name,
            NewNode {
                kind,
                perm,
                uid: 0,
                gid: 0,
                rdev,
                target: &[],
            },
        )
    }

    /// `symlinkat(2)`: `path` becomes a symlink to `target`.
    pub fn symlinkat(
        &mut self,
        cx: &Ctx<'_>,
        target: &[u8],
        dir: NodeRef,
        path: &[u8],
    ) -> Result<NodeRef, Errno> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= PATH_MAX as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        let (dir, name) = self.create_parent(cx, dir, path, false)?;
        self.may_create(cx.cred, dir)?;
        self.make_node(
            cx,
            dir,
            &name,
            NewNode {
                kind: FileType::Symlink,
                perm: 0o777,
                uid: 0,
                gid: 0,
                rdev: 0,
                target,
            },
        )
    }

    /// `linkat(2)`: `new_path` becomes another name of what `old_path` names.
    ///
    /// With `AT_EMPTY_PATH` and an empty `old_path`, `old_dir` itself is linked; the
    /// kernel first refuses (`ENOENT`) a descriptor opened under other credentials
    /// unless the caller is privileged, as Linux 6.10+ does. Hard links are
    /// protected as with `fs.protected_hardlinks = 1` (Debian's default): someone who is
    /// not the owner may link only a regular file they can read and write, without
    /// set-user-ID or executable set-group-ID.
    pub fn linkat(
        &mut self,
        cx: &Ctx<'_>,
        old_dir: NodeRef,
        old_path: &[u8],
        new_dir: NodeRef,
        new_path: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let empty = flags & AT_EMPTY_PATH != 0;
        let follow = if flags & AT_SYMLINK_FOLLOW != 0 {
            Follow::Yes
        } else {
            Follow::No
        };
        let old = self.resolve_at(cx, old_dir, old_path, follow, empty)?;
        let (dir, name) = self.create_parent(cx, new_dir, new_path, false)?;
        if old.fs != dir.fs {
            return Err(Errno::EXDEV);
        }
        let attr = self.getattr(old)?;
        if !cx.cred.owns(&attr) && !safe_hardlink_source(cx.cred, &attr) {
            return Err(Errno::EPERM);
        }
        self.may_create(cx.cred, dir)?;
        if attr.kind == FileType::Directory {
            return Err(Errno::EPERM);
        }
        if attr.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        self.fs_mut(dir.fs)?.link(dir.ino, &name, old.ino, cx.now)
    }
}

/// Linux's `safe_hardlink_source`.
fn safe_hardlink_source(cred: &Cred, attr: &Attr) -> bool {
    attr.kind == FileType::Regular
        && attr.perm & S_ISUID == 0
        && attr.perm & (S_ISGID | 0o010) != (S_ISGID | 0o010)
        && cred.permission(attr, MAY_READ | MAY_WRITE).is_ok()
}
