//! File-system system calls: paths, metadata, directories, mounts and `execve`'s file.
//!
//! The checks are `halyard-vfs`'s ([`crate::fs::vfs`]); this file reads paths and
//! structures from user memory in Linux's order, turns descriptors into nodes and opens
//! the right kind of file for a node.
use alloc::sync::Arc;
use alloc::vec::Vec;

use halyard_vfs::{FileType, NodeRef};
use linux_raw_sys::general as g;

use super::io::{file, nofile};
use super::{Errno, SysResult};
use crate::fs::file::OpenFile;
use crate::fs::vfs::{now, with, with_ctx};
use crate::process::current;
use crate::process::usercopy::{self, UserAddr, UserRef};

/// Longest path, with its NUL (`PATH_MAX`).
const PATH_MAX: usize = 4096;
/// `AT_FDCWD` as the register holds it.
const AT_FDCWD: i32 = g::AT_FDCWD;

fn mm() -> Arc<crate::process::mm::Mm> {
    current().process.mm()
}

/// Reads a path argument: `EFAULT`, or `ENAMETOOLONG` beyond `PATH_MAX`.
pub fn path(addr: u64) -> Result<Vec<u8>, Errno> {
    usercopy::read_cstr(&mm(), UserAddr(addr), PATH_MAX - 1)
}

/// The directory a relative path starts from: the working directory for `AT_FDCWD`, else
/// the node of `dirfd` (`EBADF` if none; `ENOTDIR` is the walker's, for a relative path).
fn start_dir(dirfd: u64, path: &[u8]) -> Result<NodeRef, Errno> {
    let task = current();
    if dirfd as i32 == AT_FDCWD || path.first() == Some(&b'/') {
        return Ok(task.process.fs.lock().cwd);
    }
    let f = task.process.files.lock().get(dirfd as i32)?;
    let node = f.ops.node().ok_or(Errno::ENOTDIR)?;
    if !path.is_empty() && with(|v| v.getattr(node)).map(|a| a.kind) != Ok(FileType::Directory) {
        return Err(Errno::ENOTDIR);
    }
    Ok(node)
}

/// Opens the node an `open` resolved to, as the file its type calls for (`path`: a regular
/// file's canonical path). `O_NOCTTY` matters to terminals only and is not kept.
fn open_node(node: NodeRef, path: Option<Vec<u8>>, flags: u32) -> Result<Arc<OpenFile>, Errno> {
    let attr = with(|v| v.getattr(node)).map_err(Errno::from)?;
    match attr.kind {
        FileType::CharDevice if flags & g::O_PATH == 0 => {
            crate::fs::devices::open(node, attr.rdev, flags)
        }
        FileType::Fifo | FileType::Socket if flags & g::O_PATH == 0 => Err(Errno::ENXIO),
        kind => {
            with(|v| v.hold(node));
            Ok(crate::fs::node_file::open(
                node,
                kind,
                path,
                flags & !g::O_NOCTTY,
            ))
        }
    }
}

/// `openat(dirfd, path, flags, mode)`.
pub fn openat(dirfd: u64, path_addr: u64, flags: u64, mode: u64) -> SysResult {
    let p = path(path_addr)?;
    let dir = start_dir(dirfd, &p)?;
    let flags = flags as u32 & !(g::O_LARGEFILE);
    let (opened, canonical) = with_ctx(|v, cx, _| {
        let opened = v.open(cx, dir, &p, flags, mode as u32 & 0o7777)?;
        // Linux's `f_path`: a regular file keeps the path it was opened by, resolved, for
        // `/proc/PID/fd` and `/proc/PID/maps` (tmpfs knows no parent of a file).
        let regular = v.getattr(opened.node).map(|a| a.kind) == Ok(FileType::Regular);
        let canonical = regular
            .then(|| canonical_path(v, cx, dir, &p).ok())
            .flatten();
        Ok((opened, canonical))
    })?;
    let f = open_node(
        opened.node,
        canonical,
        flags & !(g::O_CREAT | g::O_EXCL | g::O_TRUNC),
    )?;
    let fd = current()
        .process
        .files
        .lock()
        .install(f, flags & g::O_CLOEXEC != 0, nofile())?;
    Ok(fd as u64)
}

// SAFETY: `stat`, `statx` and `statfs` are plain C structs of integers.
unsafe impl usercopy::Pod for halyard_vfs::Stat {}
// SAFETY: as above.
unsafe impl usercopy::Pod for halyard_vfs::Statx {}
// SAFETY: as above.
unsafe impl usercopy::Pod for halyard_vfs::StatFs {}

/// `stat` of an open file: its node's, or what the file says of itself.
fn stat_file(f: &OpenFile) -> Result<halyard_vfs::Stat, Errno> {
    if let Some(node) = f.ops.node() {
        return with(|v| v.stat_node(node)).map_err(Errno::from);
    }
    let s = f.ops.stat();
    // SAFETY: all-zero is a valid `stat`.
    let mut st: halyard_vfs::Stat = unsafe { core::mem::zeroed() };
    st.st_mode = s.mode;
    st.st_rdev = s.rdev;
    st.st_size = s.size as i64;
    st.st_ino = s.ino;
    st.st_nlink = 1;
    st.st_blksize = 4096;
    // Pipes and anonymous files live on Linux's pipefs (device 0:12).
    st.st_dev = 12;
    Ok(st)
}

/// `newfstatat(dirfd, path, statbuf, flags)` (and `stat`/`lstat` through it).
pub fn newfstatat(dirfd: u64, path_addr: u64, buf: u64, flags: u64) -> SysResult {
    let p = path(path_addr)?;
    let st = if p.is_empty() && flags & u64::from(g::AT_EMPTY_PATH) != 0 {
        if dirfd as i32 == AT_FDCWD {
            let cwd = current().process.fs.lock().cwd;
            with(|v| v.stat_node(cwd)).map_err(Errno::from)?
        } else {
            stat_file(&*file(dirfd)?)?
        }
    } else {
        let dir = start_dir(dirfd, &p)?;
        with_ctx(|v, cx, _| v.fstatat(cx, dir, &p, flags as u32))?
    };
    usercopy::write(&mm(), UserRef::new(buf), &st)?;
    Ok(0)
}

/// `fstat(fd, statbuf)`.
pub fn fstat(fd: u64, buf: u64) -> SysResult {
    let st = stat_file(&*file(fd)?)?;
    usercopy::write(&mm(), UserRef::new(buf), &st)?;
    Ok(0)
}

/// `statx(dirfd, path, flags, mask, buf)`.
pub fn statx(dirfd: u64, path_addr: u64, flags: u64, mask: u64, buf: u64) -> SysResult {
    let p = path(path_addr)?;
    let sx = if p.is_empty() && flags & u64::from(g::AT_EMPTY_PATH) != 0 && dirfd as i32 != AT_FDCWD
    {
        let f = file(dirfd)?;
        let node = f.ops.node().ok_or(Errno::EINVAL)?;
        with(|v| v.statx_node(node)).map_err(Errno::from)?
    } else {
        let dir = start_dir(dirfd, &p)?;
        with_ctx(|v, cx, _| v.statx(cx, dir, &p, flags as u32, mask as u32))?
    };
    usercopy::write(&mm(), UserRef::new(buf), &sx)?;
    Ok(0)
}

/// `getdents64(fd, buf, count)`.
pub fn getdents64(fd: u64, buf: u64, count: u64) -> SysResult {
    let f = file(fd)?;
    let node = f.ops.node().ok_or(Errno::ENOTDIR)?;
    let mut kbuf = alloc::vec![0u8; (count as usize).min(64 * 1024)];
    let mut pos = f.pos.lock();
    let (n, next) = with(|v| v.getdents(node, *pos, &mut kbuf, now())).map_err(Errno::from)?;
    usercopy::write_bytes(&mm(), UserAddr(buf), &kbuf[..n])?;
    *pos = next;
    Ok(n as u64)
}

/// `mkdirat(dirfd, path, mode)`.
pub fn mkdirat(dirfd: u64, path_addr: u64, mode: u64) -> SysResult {
    let p = path(path_addr)?;
    let dir = start_dir(dirfd, &p)?;
    with_ctx(|v, cx, _| v.mkdirat(cx, dir, &p, mode as u32))?;
    Ok(0)
}

/// `mknodat(dirfd, path, mode, dev)`.
pub fn mknodat(dirfd: u64, path_addr: u64, mode: u64, dev: u64) -> SysResult {
    let p = path(path_addr)?;
    let dir = start_dir(dirfd, &p)?;
    with_ctx(|v, cx, _| v.mknodat(cx, dir, &p, mode as u32, dev as u32))?;
    Ok(0)
}

/// `unlinkat(dirfd, path, flags)`.
pub fn unlinkat(dirfd: u64, path_addr: u64, flags: u64) -> SysResult {
    let p = path(path_addr)?;
    let dir = start_dir(dirfd, &p)?;
    with_ctx(|v, cx, _| v.unlinkat(cx, dir, &p, flags as u32))?;
    Ok(0)
}

/// `renameat2(olddirfd, old, newdirfd, new, flags)`.
pub fn renameat2(od: u64, old: u64, nd: u64, new: u64, flags: u64) -> SysResult {
    let (op, np) = (path(old)?, path(new)?);
    let (odir, ndir) = (start_dir(od, &op)?, start_dir(nd, &np)?);
    with_ctx(|v, cx, _| v.renameat2(cx, odir, &op, ndir, &np, flags as u32))?;
    Ok(0)
}

/// `linkat(olddirfd, old, newdirfd, new, flags)`.
pub fn linkat(od: u64, old: u64, nd: u64, new: u64, flags: u64) -> SysResult {
    let (op, np) = (path(old)?, path(new)?);
    let (odir, ndir) = (start_dir(od, &op)?, start_dir(nd, &np)?);
    with_ctx(|v, cx, _| v.linkat(cx, odir, &op, ndir, &np, flags as u32))?;
    Ok(0)
}

/// `symlinkat(target, newdirfd, linkpath)`.
pub fn symlinkat(target: u64, nd: u64, link: u64) -> SysResult {
    let (t, l) = (path(target)?, path(link)?);
    let dir = start_dir(nd, &l)?;
    with_ctx(|v, cx, _| v.symlinkat(cx, &t, dir, &l))?;
    Ok(0)
}

/// `readlinkat(dirfd, path, buf, size)`.
pub fn readlinkat(dirfd: u64, path_addr: u64, buf: u64, size: u64) -> SysResult {
    let p = path(path_addr)?;
    if (size as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    let dir = start_dir(dirfd, &p)?;
    let mut kbuf = alloc::vec![0u8; (size as usize).min(PATH_MAX)];
    let n = with_ctx(|v, cx, _| v.readlinkat(cx, dir, &p, &mut kbuf))?;
    usercopy::write_bytes(&mm(), UserAddr(buf), &kbuf[..n])?;
    Ok(n as u64)
}

/// `fchmodat(dirfd, path, mode, flags)` (`fchmodat2`'s flags; `fchmodat` passes 0).
pub fn fchmodat(dirfd: u64, path_addr: u64, mode: u64, flags: u64) -> SysResult {
    let p = path(path_addr)?;
    let dir = start_dir(dirfd, &p)?;
    with_ctx(|v, cx, _| v.fchmodat(cx, dir, &p, mode as u32, flags as u32))?;
    Ok(0)
}

/// `fchmod(fd, mode)`.
pub fn fchmod(fd: u64, mode: u64) -> SysResult {
    let node = file(fd)?.ops.node().ok_or(Errno::EBADF)?;
    with_ctx(|v, cx, _| v.chmod_node(cx, node, mode as u32))?;
    Ok(0)
}

/// `fchownat(dirfd, path, uid, gid, flags)`.
pub fn fchownat(dirfd: u64, path_addr: u64, uid: u64, gid: u64, flags: u64) -> SysResult {
    let p = path(path_addr)?;
    let dir = start_dir(dirfd, &p)?;
    with_ctx(|v, cx, _| v.fchownat(cx, dir, &p, uid as u32, gid as u32, flags as u32))?;
    Ok(0)
}

/// `fchown(fd, uid, gid)`.
pub fn fchown(fd: u64, uid: u64, gid: u64) -> SysResult {
    let node = file(fd)?.ops.node().ok_or(Errno::EBADF)?;
    with_ctx(|v, cx, _| v.chown_node(cx, node, uid as u32, gid as u32))?;
    Ok(0)
}

/// `utimensat(dirfd, path, times, flags)`; a NULL path means `dirfd` itself.
pub fn utimensat(dirfd: u64, path_addr: u64, times: u64, flags: u64) -> SysResult {
    let t: Option<[g::__kernel_timespec; 2]> = if times != 0 {
        let raw: [[i64; 2]; 2] = usercopy::read(&mm(), UserRef::new(times))?;
        Some(raw.map(|[s, n]| g::__kernel_timespec {
            tv_sec: s,
            tv_nsec: n,
        }))
    } else {
        None
    };
    if path_addr == 0 {
        let node = file(dirfd)?.ops.node().ok_or(Errno::EBADF)?;
        with_ctx(|v, cx, _| v.utimens_node(cx, node, t.as_ref()))?;
        return Ok(0);
    }
    let p = path(path_addr)?;
    let dir = start_dir(dirfd, &p)?;
    with_ctx(|v, cx, _| v.utimensat(cx, dir, &p, t.as_ref(), flags as u32))?;
    Ok(0)
}

/// `truncate(path, len)`.
pub fn truncate(path_addr: u64, len: u64) -> SysResult {
    let p = path(path_addr)?;
    let dir = start_dir(AT_FDCWD as u64, &p)?;
    with_ctx(|v, cx, _| v.truncate(cx, dir, &p, len as i64))?;
    Ok(0)
}

/// `ftruncate(fd, len)`: `EINVAL` for a file not open for writing or not regular.
pub fn ftruncate(fd: u64, len: u64) -> SysResult {
    let f = file(fd)?;
    if (len as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let node = f.ops.node().ok_or(Errno::EINVAL)?;
    if !f.writable() {
        return Err(Errno::EINVAL);
    }
    if with(|v| v.getattr(node)).map(|a| a.kind) != Ok(FileType::Regular) {
        return Err(Errno::EINVAL);
    }
    with_ctx(|v, cx, _| v.truncate_file(cx, node, len, true))?;
    Ok(0)
}

/// `fsync(fd)`/`fdatasync(fd)`: everything is in memory already.
pub fn fsync(fd: u64) -> SysResult {
    file(fd)?;
    Ok(0)
}

/// `faccessat2(dirfd, path, mode, flags)`.
pub fn faccessat2(dirfd: u64, path_addr: u64, mode: u64, flags: u64) -> SysResult {
    let p = path(path_addr)?;
    let dir = start_dir(dirfd, &p)?;
    with_ctx(|v, cx, _| v.faccessat(cx, dir, &p, mode as u32, flags as u32))?;
    Ok(0)
}

/// `getcwd(buf, size)`: the length with the NUL; `ERANGE` if it does not fit.
pub fn getcwd(buf: u64, size: u64) -> SysResult {
    let mut p = with_ctx(|v, cx, cwd| v.path_of(cx, cwd))?;
    p.push(0);
    if p.len() as u64 > size {
        return Err(Errno::ERANGE);
    }
    usercopy::write_bytes(&mm(), UserAddr(buf), &p)?;
    Ok(p.len() as u64)
}

/// `chdir(path)`.
pub fn chdir(path_addr: u64) -> SysResult {
    let p = path(path_addr)?;
    let node = with_ctx(|v, cx, cwd| v.resolve_dir(cx, cwd, &p))?;
    current().process.fs.lock().cwd = node;
    Ok(0)
}

/// `fchdir(fd)`.
pub fn fchdir(fd: u64) -> SysResult {
    let node = file(fd)?.ops.node().ok_or(Errno::ENOTDIR)?;
    let node = with_ctx(|v, cx, _| v.resolve_dir(cx, node, b"."))?;
    current().process.fs.lock().cwd = node;
    Ok(0)
}

/// `statfs(path, buf)`.
pub fn statfs(path_addr: u64, buf: u64) -> SysResult {
    let p = path(path_addr)?;
    let s = with_ctx(|v, cx, cwd| v.statfs(cx, cwd, &p))?;
    usercopy::write(&mm(), UserRef::new(buf), &s)?;
    Ok(0)
}

/// `fstatfs(fd, buf)`.
pub fn fstatfs(fd: u64, buf: u64) -> SysResult {
    let f = file(fd)?;
    let s = match f.ops.node() {
        Some(node) => with(|v| v.statfs_node(node)).map_err(Errno::from)?,
        None => {
            // SAFETY: all-zero is a valid `statfs`.
            let mut s: halyard_vfs::StatFs = unsafe { core::mem::zeroed() };
            s.f_type = 0x5049_5045; // PIPEFS_MAGIC
            s.f_bsize = 4096;
            s
        }
    };
    usercopy::write(&mm(), UserRef::new(buf), &s)?;
    Ok(0)
}

/// What `mount` and `umount2` share, in Linux's order (`path_mount`, `can_umount`): the
/// target resolved to a directory (`ENOENT`, `ENOTDIR`), then privilege (`may_mount`:
/// `CAP_SYS_ADMIN`, which follows the effective ids, [`super::cred::capable`]), then `op`
/// on the VFS with the target's path relative to the caller. Returns the absolute path
/// `/proc/mounts` shows.
fn at_mount_point(
    t: &[u8],
    op: impl FnOnce(
        &mut halyard_vfs::Vfs,
        &halyard_vfs::Ctx<'_>,
        NodeRef,
    ) -> Result<(), halyard_vfs::Errno>,
) -> Result<Vec<u8>, Errno> {
    // Asked before the VFS lock is taken: it reads the process table.
    let privileged = super::cred::capable();
    with_ctx(|v, cx, cwd| {
        let dir = v.resolve_dir(cx, cwd, t)?;
        if !privileged {
            return Err(halyard_vfs::Errno::EPERM);
        }
        let at = v.path_of(cx, dir)?;
        op(v, cx, cwd)?;
        Ok(at)
    })
}

/// `mount(source, target, fstype, flags, data)`: `proc`, `tmpfs`, `devtmpfs` and `devpts`
/// (every mount shows the one set of PTYs; options are ignored); other
/// types are `ENODEV`; `MS_REMOUNT` and `MS_BIND` are `EINVAL` (not implemented). The
/// checks come in Linux's order (`do_mount`, `path_mount`, `do_new_mount`): the target's
/// path (`ENOENT`, `ENOTDIR`), then privilege (`may_mount`: `EPERM`), then the type.
pub fn mount(_source: u64, target: u64, fstype: u64, flags: u64, _data: u64) -> SysResult {
    let t = path(target)?;
    let kind = usercopy::read_cstr(&mm(), UserAddr(fstype), 255)?;
    if flags & u64::from(g::MS_REMOUNT | g::MS_BIND | g::MS_MOVE) != 0 {
        return Err(Errno::EINVAL);
    }
    let at = at_mount_point(&t, |v, cx, cwd| {
        let fs = match kind.as_slice() {
            b"proc" => v.add(alloc::boxed::Box::new(crate::fs::procfs::ProcFs)),
            b"tmpfs" => v.add(alloc::boxed::Box::new(halyard_vfs::Tmpfs::new(
                0o1777, 0, 0, 0, cx.now,
            ))),
            b"devtmpfs" => crate::fs::devtmpfs(v, cx.now),
            b"devpts" => v.add(alloc::boxed::Box::new(crate::fs::devpts::DevPts)),
            _ => return Err(halyard_vfs::Errno::new(Errno::ENODEV.0)),
        };
        v.mount(cx, cwd, &t, fs)
    })?;
    crate::fs::record_mount(&at, &kind);
    Ok(0)
}

/// The `umount2` flags Linux knows; other bits are `EINVAL` before the path is looked at.
const UMOUNT_FLAGS: u32 = g::MNT_FORCE | g::MNT_DETACH | g::MNT_EXPIRE | g::UMOUNT_NOFOLLOW;

/// `umount2(target, flags)`: unknown flags `EINVAL`, then the path (`ENOENT`), then
/// privilege (`EPERM`), as Linux's `ksys_umount` and `can_umount`.
pub fn umount2(target: u64, flags: u64) -> SysResult {
    let t = path(target)?;
    if flags & !u64::from(UMOUNT_FLAGS) != 0 {
        return Err(Errno::EINVAL);
    }
    let at = at_mount_point(&t, |v, cx, cwd| v.umount(cx, cwd, &t, flags as u32))?;
    crate::fs::forget_mount(&at);
    Ok(0)
}

/// `sendfile(out_fd, in_fd, offset, count)`, with Linux's checks in Linux's order
/// (`sendfile64` and `do_sendfile`): the offset is read first (`EFAULT`); then the source
/// (`EBADF`; `ESPIPE` for an offset on a pipe or socket, which have no position; `EINVAL`
/// for a negative offset), the destination (`EBADF`; `EINVAL` for `O_APPEND` unless it
/// is a pipe), and a pipe as source is `EINVAL` (pipes cannot be spliced from).
///
/// Into a pipe, one read of the input (`splice_file_to_pipe`); into anything else, the
/// input must be a regular file or a block device (`EINVAL` otherwise:
/// `splice_direct_to_actor` wants a seekable input), read until `count` or its end. So a
/// terminal's input is never read twice in one call, which would swallow an end of file
/// (^D) typed after a line; busybox `cat` falls back to `read` on `EINVAL`.
pub fn sendfile(out_fd: u64, in_fd: u64, offset: u64, count: u64) -> SysResult {
    let mm = mm();
    let mut off = if offset != 0 {
        Some(usercopy::read::<i64>(&mm, UserRef::new(offset))?)
    } else {
        None
    };
    let inp = file(in_fd)?;
    if !inp.readable() {
        return Err(Errno::EBADF);
    }
    let kind = |f: &OpenFile| f.ops.stat().mode & g::S_IFMT;
    let source = kind(&inp);
    if off.is_some() && (source == g::S_IFIFO || source == g::S_IFSOCK) {
        return Err(Errno::ESPIPE);
    }
    if off.is_some_and(|o| o < 0) {
        return Err(Errno::EINVAL);
    }
    let out = file(out_fd)?;
    if !out.writable() {
        return Err(Errno::EBADF);
    }
    let into_pipe = kind(&out) == g::S_IFIFO;
    let seekable_source = source == g::S_IFREG || source == g::S_IFBLK;
    if (!into_pipe && out.flags() & g::O_APPEND != 0)
        || source == g::S_IFIFO
        || (!into_pipe && !seekable_source)
    {
        return Err(Errno::EINVAL);
    }
    let mut done = 0u64;
    let mut buf = alloc::vec![0u8; 64 * 1024];
    while done < count {
        let want = ((count - done) as usize).min(buf.len());
        let n = match &mut off {
            Some(o) => {
                let mut p = *o as u64;
                let n = inp.ops.read(&inp, &mut buf[..want], &mut p)?;
                *o = p as i64;
                n
            }
            None => inp.ops.read(&inp, &mut buf[..want], &mut inp.pos.lock())?,
        };
        if n == 0 {
            break;
        }
        let w = match out.ops.write(&out, &buf[..n], &mut out.pos.lock()) {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += w as u64;
        if w < n || into_pipe {
            break;
        }
    }
    if let Some(o) = off {
        usercopy::write(&mm, UserRef::new(offset), &o)?;
    }
    Ok(done)
}

/// A program `execve` opened: the beginning of the file (a page at most: enough for a `#!`
/// line and the ELF file header), its size, the file open for reading (it stays open while
/// the new image maps it) and its canonical path (`/proc/PID/exe`, `/proc/PID/maps`).
pub struct Executable {
    pub head: Vec<u8>,
    pub size: u64,
    pub file: Arc<OpenFile>,
    pub path: Vec<u8>,
}

impl Executable {
    /// Opens `path` for `execve`: search permission on the way, execute permission on the
    /// file, which must be a regular file (`EACCES`), as the calling process.
    pub fn open(path: &[u8]) -> Result<Executable, Errno> {
        with_ctx(|v, cx, cwd| Executable::open_in(v, cx, cwd, path))
    }

    /// Opens absolute `path` as root (the kernel starting init).
    pub fn open_as_root(path: &[u8]) -> Result<Executable, Errno> {
        let root = halyard_vfs::Cred::root();
        with(|v| {
            let cx = halyard_vfs::Ctx {
                cred: &root,
                root: v.root(),
                umask: 0,
                now: now(),
            };
            Executable::open_in(v, &cx, cx.root, path)
        })
        .map_err(Errno::from)
    }

    fn open_in(
        v: &mut halyard_vfs::Vfs,
        cx: &halyard_vfs::Ctx<'_>,
        cwd: NodeRef,
        path: &[u8],
    ) -> Result<Executable, halyard_vfs::Errno> {
        v.faccessat(cx, cwd, path, 1, g::AT_EACCESS)?;
        let opened = v.open(cx, cwd, path, g::O_RDONLY, 0)?;
        let attr = v.getattr(opened.node)?;
        if attr.kind != FileType::Regular {
            return Err(halyard_vfs::Errno::EACCES);
        }
        let mut head = alloc::vec![0u8; attr.size.min(crate::mm::PAGE_SIZE) as usize];
        let n = v.read_at(opened.node, 0, &mut head, cx.now)?;
        head.truncate(n);
        let canonical = canonical_path(v, cx, cwd, path)?;
        v.hold(opened.node);
        let file = crate::fs::node_file::open(
            opened.node,
            FileType::Regular,
            Some(canonical.clone()),
            g::O_RDONLY,
        );
        Ok(Executable {
            head,
            size: attr.size,
            file,
            path: canonical,
        })
    }

    /// Reads `len` bytes at `offset` (fewer where the file ends).
    pub fn read(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut buf = alloc::vec![0u8; len];
        let n = self.file.ops.node().map_or(0, |node| {
            with(|v| v.read_at(node, offset, &mut buf, now())).unwrap_or(0)
        });
        buf.truncate(n);
        buf
    }
}

/// The absolute path of `path` with every symbolic link resolved (`realpath`).
fn canonical_path(
    v: &mut halyard_vfs::Vfs,
    cx: &halyard_vfs::Ctx<'_>,
    cwd: NodeRef,
    path: &[u8],
) -> Result<Vec<u8>, halyard_vfs::Errno> {
    let mut p = path.to_vec();
    for _ in 0..halyard_vfs::MAX_SYMLINKS {
        let (dir, name) = match p.iter().rposition(|&b| b == b'/') {
            Some(0) => (&b"/"[..], &p[1..]),
            Some(i) => (&p[..i], &p[i + 1..]),
            None => (&b"."[..], &p[..]),
        };
        let dir_node = v.resolve_dir(cx, cwd, dir)?;
        let st = v.fstatat(cx, dir_node, name, g::AT_SYMLINK_NOFOLLOW)?;
        if st.st_mode & g::S_IFMT != g::S_IFLNK {
            let mut out = v.path_of(cx, dir_node)?;
            if out.last() != Some(&b'/') {
                out.push(b'/');
            }
            out.extend_from_slice(name);
            return Ok(out);
        }
        let mut target = alloc::vec![0u8; PATH_MAX];
        let n = v.readlinkat(cx, dir_node, name, &mut target)?;
        target.truncate(n);
        p = if target.first() == Some(&b'/') {
            target
        } else {
            let mut joined = dir.to_vec();
            joined.push(b'/');
            joined.extend_from_slice(&target);
            joined
        };
    }
    Err(halyard_vfs::Errno::ELOOP)
}
