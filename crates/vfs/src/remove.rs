//! Removing and moving names: `unlinkat` (with and without `AT_REMOVEDIR`) and
//! `renameat2` (Linux's `do_unlinkat`, `do_rmdir`, `do_renameat2`, `may_delete`,
//! `vfs_rename`).
//!
//! Removing a name needs write and search permission on its directory, and in a sticky
//! directory (`S_ISVTX`, as `/tmp`) ownership of the file or of the directory (`EPERM`).
//! A mount point cannot be removed or renamed (`EBUSY`); neither can `/`, `.` or `..`.
//! A directory cannot move into its own subtree (`EINVAL`), and a directory replaced by
//! a rename must be empty (`ENOTEMPTY`).

use linux_raw_sys::general::{
    AT_REMOVEDIR, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, S_ISVTX,
};

use crate::cred::{Cred, MAY_EXEC, MAY_WRITE};
use crate::node::{Attr, FileType, NodeRef};
use crate::vfs::{Ctx, Vfs};
use crate::walk::LastKind;
use crate::Errno;

impl Vfs {
    /// Linux's `may_delete`: may the caller remove `victim` from `dir`, which must be
    /// (`is_dir`) or must not be a directory?
    fn may_delete(
        &self,
        cred: &Cred,
        dir: NodeRef,
        victim: NodeRef,
        is_dir: bool,
    ) -> Result<(), Errno> {
        let dir_attr = self.getattr(dir)?;
        let attr = self.getattr(victim)?;
        cred.permission(&dir_attr, MAY_WRITE | MAY_EXEC)?;
        if dir_attr.perm & S_ISVTX != 0
            && cred.fsuid != attr.uid
            && cred.fsuid != dir_attr.uid
            && !cred.privileged()
        {
            return Err(Errno::EPERM);
        }
        let victim_is_dir = attr.kind == FileType::Directory;
        if is_dir {
            if !victim_is_dir {
                return Err(Errno::ENOTDIR);
            }
            if victim == self.fs_root(victim.fs) {
                return Err(Errno::EBUSY);
            }
        } else if victim_is_dir {
            return Err(Errno::EISDIR);
        }
        if dir_attr.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        Ok(())
    }

    fn is_dir(&self, node: NodeRef) -> Result<bool, Errno> {
        Ok(self.getattr(node)?.kind == FileType::Directory)
    }

    /// `unlinkat(2)`; with `AT_REMOVEDIR` it is `rmdir`.
    pub fn unlinkat(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !AT_REMOVEDIR != 0 {
            return Err(Errno::EINVAL);
        }
        let remove_dir = flags & AT_REMOVEDIR != 0;
        let parent = self.walk_parent(cx, dir, path, &mut 0)?;
        match (parent.kind, remove_dir) {
            (LastKind::Normal, _) => {}
            (LastKind::DotDot, true) => return Err(Errno::ENOTEMPTY),
            (LastKind::Dot, true) => return Err(Errno::EINVAL),
            (LastKind::Root, true) => return Err(Errno::EBUSY),
            (_, false) => return Err(Errno::EISDIR),
        }
        let victim = self.lookup_name(parent.dir, &parent.name)?;
        if parent.trailing_slash && !remove_dir {
            return Err(if self.is_dir(victim)? {
                Errno::EISDIR
            } else {
                Errno::ENOTDIR
            });
        }
        self.may_delete(cx.cred, parent.dir, victim, remove_dir)?;
        if self.is_mountpoint(victim) {
            return Err(Errno::EBUSY);
        }
        self.fs_mut(parent.dir.fs)?
            .unlink(parent.dir.ino, &parent.name, cx.now)
    }

    /// Whether `ancestor` is `node` or one of its parents (in one file system).
    fn is_ancestor(&self, ancestor: NodeRef, mut node: NodeRef) -> Result<bool, Errno> {
        let fs = self.fs(node.fs)?;
        loop {
            if node == ancestor {
                return Ok(true);
            }
            let parent = fs.parent(node.ino)?;
            if parent == node.ino {
                return Ok(false);
            }
            node.ino = parent;
        }
    }

    /// `renameat2(2)` with `RENAME_NOREPLACE` and `RENAME_EXCHANGE` (`RENAME_WHITEOUT`,
    /// for overlay file systems, is `EINVAL` as on a file system without whiteouts).
    pub fn renameat2(
        &mut self,
        cx: &Ctx<'_>,
        old_dir: NodeRef,
        old_path: &[u8],
        new_dir: NodeRef,
        new_path: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0 {
            return Err(Errno::EINVAL);
        }
        let (noreplace, exchange) = (flags & RENAME_NOREPLACE != 0, flags & RENAME_EXCHANGE != 0);
        if exchange && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0 {
            return Err(Errno::EINVAL);
        }
        let old = self.walk_parent(cx, old_dir, old_path, &mut 0)?;
        let new = self.walk_parent(cx, new_dir, new_path, &mut 0)?;
        if old.dir.fs != new.dir.fs {
            return Err(Errno::EXDEV);
        }
        if old.kind != LastKind::Normal {
            return Err(Errno::EBUSY);
        }
        if new.kind != LastKind::Normal {
            return Err(if noreplace {
                Errno::EEXIST
            } else {
                Errno::EBUSY
            });
        }
        if flags & RENAME_WHITEOUT != 0 {
            return Err(Errno::EINVAL);
        }
        let source = self.lookup_name(old.dir, &old.name)?;
        let target = match self.lookup_name(new.dir, &new.name) {
            Ok(_) if noreplace => return Err(Errno::EEXIST),
            Ok(node) => Some(node),
            Err(Errno::ENOENT) if !exchange => None,
            Err(e) => return Err(e),
        };
        let source_is_dir = self.is_dir(source)?;
        let target_is_dir = match target {
            Some(t) => self.is_dir(t)?,
            None => false,
        };
        if exchange && !target_is_dir && new.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        if !source_is_dir && (old.trailing_slash || (!exchange && new.trailing_slash)) {
            return Err(Errno::ENOTDIR);
        }
        if old.dir != new.dir {
            if self.is_ancestor(source, new.dir)? {
                return Err(Errno::EINVAL);
            }
            if let Some(target) = target {
                if self.is_ancestor(target, old.dir)? {
                    return Err(if exchange {
                        Errno::EINVAL
                    } else {
                        Errno::ENOTEMPTY
                    });
                }
            }
        }
        if target == Some(source) {
            return Ok(());
        }
        self.may_delete(cx.cred, old.dir, source, source_is_dir)?;
        match target {
            None => {
                self.may_create(cx.cred, new.dir)?;
            }
            Some(target) => {
                let must_be_dir = if exchange {
                    target_is_dir
                } else {
                    source_is_dir
                };
                self.may_delete(cx.cred, new.dir, target, must_be_dir)?;
            }
        }
        if old.dir != new.dir {
            // The moved directory's `..` changes: it must be writable.
            self.may_write_dir(cx.cred, source, source_is_dir)?;
            if exchange {
                if let Some(target) = target {
                    self.may_write_dir(cx.cred, target, target_is_dir)?;
                }
            }
        }
        if self.is_mountpoint(source) || target.is_some_and(|t| self.is_mountpoint(t)) {
            return Err(Errno::EBUSY);
        }
        self.fs_mut(old.dir.fs)?.rename(
            old.dir.ino,
            &old.name,
            new.dir.ino,
            &new.name,
            exchange,
            cx.now,
        )
    }

    fn may_write_dir(&self, cred: &Cred, node: NodeRef, is_dir: bool) -> Result<(), Errno> {
        if is_dir {
            let attr: Attr = self.getattr(node)?;
            cred.permission(&attr, MAY_WRITE)?;
        }
        Ok(())
    }
}
