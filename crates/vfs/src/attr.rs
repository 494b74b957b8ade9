//! Changing and checking metadata, and file contents: `fchmodat2`, `fchownat`,
//! `utimensat`, `truncate`, `faccessat2`, `readlinkat`, and the reads and writes of open
//! files (Linux's `chmod_common`, `chown_common`, `vfs_utimes`, `setattr_prepare`,
//! `notify_change`, `do_faccessat`, `do_readlinkat`, `file_remove_privs`).
//!
//! Each `*at` call resolves its path and then calls the `*_node` form, which the kernel
//! calls directly for the `f*` variants (`fchmod`, `fchown`, `futimens`, `ftruncate`).
//! Set-user-ID is cleared by `chown` of a non-directory (even by root) and by writes and
//! truncation from an unprivileged caller; set-group-ID likewise when group-executable,
//! or when the caller is not in the file's group.

use linux_raw_sys::general::{
    __kernel_timespec, AT_EACCESS, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, S_ISGID, S_ISUID, UTIME_NOW,
    UTIME_OMIT,
};

use crate::cred::{Cred, MAY_WRITE};
use crate::node::{Attr, FileType, NodeRef, SetAttr, Timespec};
use crate::vfs::{Ctx, Vfs};
use crate::walk::Follow;
use crate::Errno;

/// The `AT_SYMLINK_NOFOLLOW` bit of `flags`, as a [`Follow`].
pub(crate) fn follow_flag(flags: u32) -> Follow {
    if flags & AT_SYMLINK_NOFOLLOW != 0 {
        Follow::No
    } else {
        Follow::Yes
    }
}

/// Linux's `setattr_should_drop_sgid`: set-group-ID goes if group-executable, or if the
/// caller is neither in the file's group nor privileged.
fn should_drop_sgid(cred: &Cred, attr: &Attr) -> bool {
    attr.perm & S_ISGID != 0
        && (attr.perm & 0o010 != 0 || (!cred.in_group(attr.gid) && !cred.privileged()))
}

/// A `utimensat` time argument: `None` for `UTIME_OMIT`, `now` for `UTIME_NOW`.
fn time_arg(t: &__kernel_timespec, now: Timespec) -> Result<Option<Timespec>, Errno> {
    match t.tv_nsec {
        n if n == i64::from(UTIME_OMIT) => Ok(None),
        n if n == i64::from(UTIME_NOW) => Ok(Some(now)),
        n @ 0..=999_999_999 => Ok(Some(Timespec {
            sec: t.tv_sec,
            nsec: n as u32,
        })),
        _ => Err(Errno::EINVAL),
    }
}

impl Vfs {
    /// `fchmodat2(2)` (`fchmodat` is `flags` 0).
    pub fn fchmodat(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        mode: u32,
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let node = self.resolve_at(
            cx,
            dir,
            path,
            follow_flag(flags),
            flags & AT_EMPTY_PATH != 0,
        )?;
        self.chmod_node(cx, node, mode)
    }

    /// `fchmod(2)` on `node`: the owner (or a privileged caller) sets the permission
    /// bits; set-group-ID is dropped for a caller outside the file's group. A symlink's
    /// mode cannot change (`EOPNOTSUPP`).
    pub fn chmod_node(&mut self, cx: &Ctx<'_>, node: NodeRef, mode: u32) -> Result<(), Errno> {
        let attr = self.getattr(node)?;
        if attr.kind == FileType::Symlink {
            return Err(Errno::EOPNOTSUPP);
        }
        if !cx.cred.owns(&attr) {
            return Err(Errno::EPERM);
        }
        let mut perm = mode & 0o7777;
        if !cx.cred.in_group(attr.gid) && !cx.cred.privileged() {
            perm &= !S_ISGID;
        }
        let change = SetAttr {
            perm: Some(perm),
            ctime: Some(cx.now),
            ..SetAttr::default()
        };
        self.fs_mut(node.fs)?.setattr(node.ino, &change)
    }

    /// `fchownat(2)`; `u32::MAX` (-1) leaves an id alone.
    pub fn fchownat(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        uid: u32,
        gid: u32,
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let node = self.resolve_at(
            cx,
            dir,
            path,
            follow_flag(flags),
            flags & AT_EMPTY_PATH != 0,
        )?;
        self.chown_node(cx, node, uid, gid)
    }

    /// `fchown(2)` on `node`: only a privileged caller gives a file away; the owner may
    /// change the group to one of its own groups.
    pub fn chown_node(
        &mut self,
        cx: &Ctx<'_>,
        node: NodeRef,
        uid: u32,
        gid: u32,
    ) -> Result<(), Errno> {
        let attr = self.getattr(node)?;
        let cred = cx.cred;
        let (uid, gid) = (
            (uid != u32::MAX).then_some(uid),
            (gid != u32::MAX).then_some(gid),
        );
        if let Some(uid) = uid {
            if !(cred.privileged() || cred.fsuid == attr.uid && uid == attr.uid) {
                return Err(Errno::EPERM);
            }
        }
        if let Some(gid) = gid {
            if !(cred.fsuid == attr.uid && (gid == attr.gid || cred.in_group(gid)))
                && !cred.privileged()
            {
                return Err(Errno::EPERM);
            }
        }
        let mut perm = attr.perm;
        if attr.kind != FileType::Directory {
            if should_drop_sgid(cred, &attr) {
                perm &= !S_ISGID;
            }
            perm &= !S_ISUID;
        }
        // Clearing the bits is a mode change, which only the owner may make.
        if perm != attr.perm && !cred.owns(&attr) {
            return Err(Errno::EPERM);
        }
        let change = SetAttr {
            perm: Some(perm),
            uid,
            gid,
            ctime: Some(cx.now),
            ..SetAttr::default()
        };
        self.fs_mut(node.fs)?.setattr(node.ino, &change)
    }

    /// `utimensat(2)` with a path; `times` is the user's pair (access, modification), or
    /// `None` for "now".
    pub fn utimensat(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        times: Option<&[__kernel_timespec; 2]>,
        flags: u32,
    ) -> Result<(), Errno> {
        let omit = i64::from(UTIME_OMIT);
        if times.is_some_and(|t| t[0].tv_nsec == omit && t[1].tv_nsec == omit) {
            return Ok(());
        }
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let node = self.resolve_at(
            cx,
            dir,
            path,
            follow_flag(flags),
            flags & AT_EMPTY_PATH != 0,
        )?;
        self.utimens_node(cx, node, times)
    }

    /// `futimens(2)` on `node`. Setting both times to now needs ownership or write
    /// permission (`EACCES`); any other setting needs ownership (`EPERM`).
    pub fn utimens_node(
        &mut self,
        cx: &Ctx<'_>,
        node: NodeRef,
        times: Option<&[__kernel_timespec; 2]>,
    ) -> Result<(), Errno> {
        let now_both =
            |t: &[__kernel_timespec; 2]| t.iter().all(|t| t.tv_nsec == i64::from(UTIME_NOW));
        let times = times.filter(|t| !now_both(t));
        let (atime, mtime) = match times {
            Some(t) => (time_arg(&t[0], cx.now)?, time_arg(&t[1], cx.now)?),
            None => (Some(cx.now), Some(cx.now)),
        };
        let attr = self.getattr(node)?;
        if !cx.cred.owns(&attr) {
            if times.is_some() {
                return Err(Errno::EPERM);
            }
            cx.cred.permission(&attr, MAY_WRITE)?;
        }
        let change = SetAttr {
            atime,
            mtime,
            ctime: Some(cx.now),
            ..SetAttr::default()
        };
        self.fs_mut(node.fs)?.setattr(node.ino, &change)
    }

    /// `truncate(2)`: `path` (from `dir`, the working directory) must name a regular file
    /// the caller may write.
    pub fn truncate(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        len: i64,
    ) -> Result<(), Errno> {
        let len = u64::try_from(len).map_err(|_| Errno::EINVAL)?;
        let node = self.resolve(cx, dir, path, Follow::Yes)?;
        let attr = self.getattr(node)?;
        match attr.kind {
            FileType::Directory => return Err(Errno::EISDIR),
            FileType::Regular => {}
            _ => return Err(Errno::EINVAL),
        }
        cx.cred.permission(&attr, MAY_WRITE)?;
        self.truncate_file(cx, node, len, false)
    }

    /// Sets a regular file's size without a permission check (`ftruncate` on a file open
    /// for writing, `O_TRUNC`); `touch` updates `mtime`/`ctime` even if the size stays.
    pub fn truncate_file(
        &mut self,
        cx: &Ctx<'_>,
        node: NodeRef,
        len: u64,
        touch: bool,
    ) -> Result<(), Errno> {
        self.remove_privs(cx.cred, node, cx.now)?;
        self.fs_mut(node.fs)?.truncate(node.ino, len, touch, cx.now)
    }

    /// Linux's `file_remove_privs`: an unprivileged writer clears set-user-ID and
    /// set-group-ID (see [`should_drop_sgid`]) of a regular file.
    fn remove_privs(&mut self, cred: &Cred, node: NodeRef, now: Timespec) -> Result<(), Errno> {
        let attr = self.getattr(node)?;
        let mut perm = attr.perm;
        if attr.kind != FileType::Regular || cred.privileged() {
            return Ok(());
        }
        if should_drop_sgid(cred, &attr) {
            perm &= !S_ISGID;
        }
        perm &= !S_ISUID;
        if perm == attr.perm {
            return Ok(());
        }
        let change = SetAttr {
            perm: Some(perm),
            ctime: Some(now),
            ..SetAttr::default()
        };
        self.fs_mut(node.fs)?.setattr(node.ino, &change)
    }

    /// Reads from an open regular file at `off` (`pread`; `read` with the kernel's
    /// offset). `EISDIR` for a directory, `EINVAL` for other non-regular files.
    pub fn read_at(
        &mut self,
        node: NodeRef,
        off: u64,
        buf: &mut [u8],
        now: Timespec,
    ) -> Result<usize, Errno> {
        self.fs_mut(node.fs)?.read_at(node.ino, off, buf, now)
    }

    /// Writes to an open regular file at `off`, extending it with zeros past its end;
    /// clears set-user-ID/set-group-ID as [`Vfs::truncate_file`] does. `EFBIG` at the
    /// largest offset, `ENOSPC` when the file system is full.
    pub fn write_at(
        &mut self,
        cred: &Cred,
        node: NodeRef,
        off: u64,
        data: &[u8],
        now: Timespec,
    ) -> Result<usize, Errno> {
        if !data.is_empty() {
            self.remove_privs(cred, node, now)?;
        }
        self.fs_mut(node.fs)?.write_at(node.ino, off, data, now)
    }

    /// `faccessat2(2)`: may the caller access `path` as `mode` (`R_OK`/`W_OK`/`X_OK`
    /// bits, 0 for existence)? Without `AT_EACCESS` the real ids stand in for the fs ids.
    pub fn faccessat(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        mode: u32,
        flags: u32,
    ) -> Result<(), Errno> {
        if mode & !0o7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let real;
        let cred = if flags & AT_EACCESS != 0 {
            cx.cred
        } else {
            real = Cred {
                fsuid: cx.cred.uid,
                fsgid: cx.cred.gid,
                ..cx.cred.clone()
            };
            &real
        };
        let cx = Ctx { cred, ..*cx };
        let node = self.resolve_at(
            &cx,
            dir,
            path,
            follow_flag(flags),
            flags & AT_EMPTY_PATH != 0,
        )?;
        if mode == 0 {
            return Ok(());
        }
        cred.permission(&self.getattr(node)?, mode)
    }

    /// `readlinkat(2)`: copies the target of the symlink `path` names into `buf` (no NUL;
    /// truncated to `buf`) and returns its length. An empty path reads `dir` itself, the
    /// symlink an `O_PATH|O_NOFOLLOW` descriptor holds (anything else: `ENOENT`).
    pub fn readlinkat(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        buf: &mut [u8],
    ) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Err(Errno::EINVAL);
        }
        let node = self.resolve_at(cx, dir, path, Follow::No, true)?;
        if path.is_empty() && self.getattr(node)?.kind != FileType::Symlink {
            return Err(Errno::ENOENT);
        }
        let fs = self.fs_mut(node.fs)?;
        let n = {
            let target = fs.readlink(node.ino)?;
            let n = target.len().min(buf.len());
            buf[..n].copy_from_slice(&target[..n]);
            n
        };
        fs.accessed(node.ino, cx.now);
        Ok(n)
    }
}
