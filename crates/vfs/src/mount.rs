//! `mount` and `umount2` on the mount table (the kernel creates the file system from
//! `mount(2)`'s source, type and data, adds it to the [`Vfs`], then calls
//! [`Vfs::mount`]).
//!
//! Mounting needs privilege (`EPERM`) and a directory (`ENOTDIR`); mounting on a mount
//! root stacks, as on Linux. `umount2` accepts Linux's flags (`EINVAL` for others) and a
//! path that names the root of a mounted file system (`EINVAL` otherwise); it is `EBUSY`
//! while files are held open inside or other file systems are mounted below, unless
//! `MNT_DETACH` (lazy) detaches the whole subtree at once.

use alloc::vec;

use linux_raw_sys::general::{MNT_DETACH, MNT_EXPIRE, MNT_FORCE, UMOUNT_NOFOLLOW};

use crate::node::{FileType, FsId, NodeRef};
use crate::vfs::{Ctx, Vfs};
use crate::walk::Follow;
use crate::Errno;

impl Vfs {
    /// Mounts file system `fs` (added with [`Vfs::add`], not mounted yet) on the
    /// directory `path` names.
    pub fn mount(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        fs: FsId,
    ) -> Result<(), Errno> {
        if !cx.cred.privileged() {
            return Err(Errno::EPERM);
        }
        let on = self.resolve(cx, dir, path, Follow::Yes)?;
        if self.getattr(on)?.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        self.fs(fs).map_err(|_| Errno::EINVAL)?;
        if fs == FsId(0) || self.mountpoint_of(fs).is_some() {
            return Err(Errno::EBUSY);
        }
        self.attach(on, fs);
        Ok(())
    }

    /// `umount2(2)`: detaches the file system whose root `path` names.
    pub fn umount(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & MNT_EXPIRE != 0 && flags & (MNT_FORCE | MNT_DETACH) != 0 {
            return Err(Errno::EINVAL);
        }
        if !cx.cred.privileged() {
            return Err(Errno::EPERM);
        }
        let follow = if flags & UMOUNT_NOFOLLOW != 0 {
            Follow::No
        } else {
            Follow::Yes
        };
        let node = self.resolve(cx, dir, path, follow)?;
        if node != self.fs_root(node.fs) || self.mountpoint_of(node.fs).is_none() {
            return Err(Errno::EINVAL);
        }
        let fs = node.fs;
        if flags & MNT_DETACH == 0 {
            let has_children = self.has_mounts_below(fs);
            if has_children || self.fs(fs)?.busy() {
                return Err(Errno::EBUSY);
            }
        }
        let mut pending = vec![fs];
        while let Some(fs) = pending.pop() {
            pending.extend(self.detach(fs));
        }
        Ok(())
    }
}
