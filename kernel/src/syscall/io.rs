//! Reading, writing and polling file descriptors; descriptor-table calls.
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as g;

use super::{Errno, SysResult};
use crate::fs::file::OpenFile;
use crate::process::usercopy::{self, UserAddr, UserRef};

/// Largest single transfer, as Linux's `MAX_RW_COUNT` (2 GiB minus a page).
pub(super) const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// Bytes moved through the kernel per step of a read or write.
const CHUNK: usize = 64 * 1024;
/// The calling process's soft `RLIMIT_NOFILE`: the bound on new descriptor numbers.
pub fn nofile() -> usize {
    let tid = crate::process::current().tid();
    crate::process::table::with(|p| p.table.getrlimit(tid, g::RLIMIT_NOFILE))
        .map_or(1024, |r| r.cur.min(1 << 20) as usize)
}

/// The open file behind `fd` of the calling process.
pub fn file(fd: u64) -> Result<Arc<OpenFile>, Errno> {
    crate::process::current()
        .process
        .files
        .lock()
        .get(fd as i32)
}

fn mm() -> Arc<crate::process::mm::Mm> {
    crate::process::current().process.mm()
}

/// Linux's `access_ok`: the whole buffer lies in the user half (checked before any byte
/// moves, so a huge length is `EFAULT` even when less would be transferred).
pub(super) fn access_ok(buf: u64, count: u64) -> Result<(), Errno> {
    match buf.checked_add(count) {
        Some(end) if end <= vm::TASK_SIZE => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// Reads up to `count` bytes into user `buf` with `get` (one call: a read returns what
/// one step of the file gives). `get` receives the kernel buffer and returns the count;
/// `commit` runs only when the bytes reached the user (a seekable file's position then
/// moves, as in Linux, where a failed copy leaves it).
fn read_with(
    buf: u64,
    count: u64,
    get: impl FnOnce(&mut [u8]) -> Result<usize, Errno>,
    commit: impl FnOnce(usize),
) -> SysResult {
    let count = count.min(MAX_RW_COUNT) as usize;
    access_ok(buf, count as u64)?;
    let mut kbuf = alloc::vec![0u8; count.min(CHUNK)];
    let n = get(&mut kbuf)?;
    usercopy::write_bytes(&mm(), UserAddr(buf), &kbuf[..n])?;
    commit(n);
    Ok(n as u64)
}

/// Writes `count` bytes of user `buf` with `put`, a chunk at a time, until done or a
/// short write; an error after some bytes were written returns their count.
fn write_with(
    buf: u64,
    count: u64,
    mut put: impl FnMut(&[u8]) -> Result<usize, Errno>,
) -> SysResult {
    let count = count.min(MAX_RW_COUNT) as usize;
    access_ok(buf, count as u64)?;
    let mm = mm();
    let mut done = 0usize;
    while done < count {
        let n = (count - done).min(CHUNK);
        let mut kbuf = alloc::vec![0u8; n];
        if let Err(e) = usercopy::read_bytes(&mm, UserAddr(buf + done as u64), &mut kbuf) {
            return if done > 0 { Ok(done as u64) } else { Err(e) };
        }
        match put(&kbuf) {
            Ok(w) => {
                done += w;
                if w < n {
                    break;
                }
            }
            Err(e) => return if done > 0 { Ok(done as u64) } else { Err(e) },
        }
    }
    Ok(done as u64)
}

/// Reads up to `count` bytes from `f` at `pos` into user `buf`.
fn read_into(f: &OpenFile, buf: u64, count: u64, pos: &mut u64) -> SysResult {
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    let local = core::cell::Cell::new(*pos);
    let get = |k: &mut [u8]| {
        let mut p = local.get();
        let n = f.ops.read(f, k, &mut p);
        local.set(p);
        n
    };
    read_with(buf, count, get, |_| *pos = local.get())
}

/// Writes `count` bytes of user `buf` to `f` at `pos`.
fn write_from(f: &OpenFile, buf: u64, count: u64, pos: &mut u64) -> SysResult {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    write_with(buf, count, |k| f.ops.write(f, k, pos))
}

/// Runs `op` with the file's position, Linux's `fdget_pos`: the position's lock is
/// taken only for files that have one (seekable), so a stream (a socket, an eventfd, a
/// terminal) can be read by one thread while another writes it.
fn with_pos(f: &OpenFile, op: impl FnOnce(&mut u64) -> SysResult) -> SysResult {
    if f.ops.size().is_err() {
        op(&mut 0)
    } else {
        op(&mut f.pos.lock())
    }
}

/// `read(fd, buf, count)`.
pub fn read(fd: u64, buf: u64, count: u64) -> SysResult {
    let f = file(fd)?;
    if let Some(sock) = f.ops.socket() {
        return super::msg::read_socket(&f, sock, super::msg::UserIov::single(buf, count)?);
    }
    with_pos(&f, |pos| read_into(&f, buf, count, pos))
}

/// `write(fd, buf, count)`.
pub fn write(fd: u64, buf: u64, count: u64) -> SysResult {
    let f = file(fd)?;
    if let Some(sock) = f.ops.socket() {
        return super::msg::write_socket(&f, sock, super::msg::UserIov::single(buf, count)?);
    }
    with_pos(&f, |pos| write_from(&f, buf, count, pos))
}

/// `pread64(fd, buf, count, offset)`.
pub fn pread64(fd: u64, buf: u64, count: u64, offset: u64) -> SysResult {
    let f = file(fd)?;
    if (offset as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    f.ops.size()?;
    let mut pos = offset;
    read_into(&f, buf, count, &mut pos)
}

/// `pwrite64(fd, buf, count, offset)`.
pub fn pwrite64(fd: u64, buf: u64, count: u64, offset: u64) -> SysResult {
    let f = file(fd)?;
    if (offset as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    f.ops.size()?;
    let mut pos = offset;
    write_from(&f, buf, count, &mut pos)
}

/// Reads the `iovec` array of `readv`/`writev`: `EINVAL` beyond `UIO_MAXIOV` (1024) or
/// when the lengths add up past `ssize_t`.
fn iovecs(iov: u64, iovcnt: u64) -> Result<Vec<(u64, u64)>, Errno> {
    if iovcnt > 1024 {
        return Err(Errno::EINVAL);
    }
    let mm = mm();
    let mut out = Vec::with_capacity(iovcnt as usize);
    let mut total = 0u64;
    for i in 0..iovcnt {
        let [base, len]: [u64; 2] = usercopy::read(&mm, UserRef::new(iov + i * 16))?;
        total = total
            .checked_add(len)
            .filter(|&t| t <= i64::MAX as u64)
            .ok_or(Errno::EINVAL)?;
        out.push((base, len));
    }
    Ok(out)
}

/// One `readv`/`writev`: `step` moves one buffer; the call stops at the first short step
/// and returns the total, or the first error if nothing moved.
fn vectored(
    fd: u64,
    iov: u64,
    iovcnt: u64,
    mut step: impl FnMut(&OpenFile, u64, u64, &mut u64) -> SysResult,
) -> SysResult {
    let f = file(fd)?;
    let vecs = iovecs(iov, iovcnt)?;
    with_pos(&f, |pos| {
        let mut total = 0;
        for (base, len) in vecs {
            if len == 0 {
                continue;
            }
            match step(&f, base, len, pos) {
                Ok(n) => {
                    total += n;
                    if n < len {
                        break;
                    }
                }
                Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
            }
        }
        Ok(total)
    })
}

/// The iovecs of `readv`/`writev` on a socket, for one message call: `EINVAL` beyond
/// `UIO_MAXIOV`.
fn socket_iov(iov: u64, iovcnt: u64) -> Result<super::msg::UserIov, Errno> {
    if iovcnt > u64::from(g::UIO_MAXIOV) {
        return Err(Errno::EINVAL);
    }
    super::msg::UserIov::import(iov, iovcnt as usize)
}

/// `readv(fd, iov, iovcnt)`.
pub fn readv(fd: u64, iov: u64, iovcnt: u64) -> SysResult {
    let f = file(fd)?;
    if let Some(sock) = f.ops.socket() {
        return super::msg::read_socket(&f, sock, socket_iov(iov, iovcnt)?);
    }
    vectored(fd, iov, iovcnt, read_into)
}

/// `writev(fd, iov, iovcnt)`.
pub fn writev(fd: u64, iov: u64, iovcnt: u64) -> SysResult {
    let f = file(fd)?;
    if let Some(sock) = f.ops.socket() {
        return super::msg::write_socket(&f, sock, socket_iov(iov, iovcnt)?);
    }
    vectored(fd, iov, iovcnt, write_from)
}

/// `close(fd)`.
pub fn close(fd: u64) -> SysResult {
    let removed = crate::process::current()
        .process
        .files
        .lock()
        .remove(fd as i32)?;
    drop(removed);
    Ok(0)
}

/// `close_range(first, last, flags)`.
pub fn close_range(first: u64, last: u64, flags: u64) -> SysResult {
    const CLOSE_RANGE_UNSHARE: u64 = 1 << 1;
    const CLOSE_RANGE_CLOEXEC: u64 = 1 << 2;
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first as u32 > last as u32 {
        return Err(Errno::EINVAL);
    }
    let removed = crate::process::current().process.files.lock().remove_range(
        first as u32 as usize,
        last as u32 as usize,
        flags & CLOSE_RANGE_CLOEXEC != 0,
    );
    drop(removed);
    Ok(0)
}

/// `dup(fd)`.
pub fn dup(fd: u64) -> SysResult {
    let files = &crate::process::current().process.files;
    let mut t = files.lock();
    let f = t.get(fd as i32)?;
    Ok(t.install(f, false, nofile())? as u64)
}

/// `dup3(old, new, flags)` (and `dup2`, which allows `old == new`).
pub fn dup3(old: u64, new: u64, flags: u64, dup2: bool) -> SysResult {
    if flags & !u64::from(g::O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let files = &crate::process::current().process.files;
    let replaced = {
        let mut t = files.lock();
        let f = t.get(old as i32)?;
        if old as i32 == new as i32 {
            return if dup2 {
                Ok(new as u32 as u64)
            } else {
                Err(Errno::EINVAL)
            };
        }
        t.install_at(new as i32, f, flags != 0, nofile())?
    };
    drop(replaced);
    Ok(new as u32 as u64)
}

/// `pipe2(fds, flags)`.
pub fn pipe2(fds: u64, flags: u64) -> SysResult {
    let allowed = g::O_CLOEXEC | g::O_NONBLOCK | g::O_DIRECT;
    if flags & !u64::from(allowed) != 0 {
        return Err(Errno::EINVAL);
    }
    let (r, w) = crate::fs::pipe::new(flags as u32 & g::O_NONBLOCK);
    let cloexec = flags & u64::from(g::O_CLOEXEC) != 0;
    let task = crate::process::current();
    let (a, b) = {
        let mut t = task.process.files.lock();
        let a = t.install(r, cloexec, nofile())?;
        let b = match t.install(w, cloexec, nofile()) {
            Ok(b) => b,
            Err(e) => {
                let _ = t.remove(a);
                return Err(e);
            }
        };
        (a, b)
    };
    if let Err(e) = usercopy::write(&task.process.mm(), UserRef::<[i32; 2]>::new(fds), &[a, b]) {
        let mut t = task.process.files.lock();
        let _ = t.remove(a);
        let _ = t.remove(b);
        return Err(e);
    }
    Ok(0)
}

/// `fcntl(fd, cmd, arg)`.
pub fn fcntl(fd: u64, cmd: u64, arg: u64) -> SysResult {
    let files = &crate::process::current().process.files;
    let cmd = cmd as u32;
    match cmd {
        g::F_DUPFD | g::F_DUPFD_CLOEXEC => {
            let mut t = files.lock();
            let f = t.get(fd as i32)?;
            let min = usize::try_from(arg as i32).map_err(|_| Errno::EINVAL)?;
            Ok(t.install_from(min, f, cmd == g::F_DUPFD_CLOEXEC, nofile())? as u64)
        }
        g::F_GETFD => Ok(u64::from(files.lock().entry(fd as i32)?.cloexec)),
        g::F_SETFD => {
            files
                .lock()
                .set_cloexec(fd as i32, arg & u64::from(g::FD_CLOEXEC) != 0)?;
            Ok(0)
        }
        g::F_GETFL => Ok(u64::from(files.lock().get(fd as i32)?.flags())),
        g::F_SETFL => {
            files.lock().get(fd as i32)?.set_status_flags(arg as u32);
            Ok(0)
        }
        g::F_GETPIPE_SZ => {
            let f = files.lock().get(fd as i32)?;
            let pipe = f.ops.pipe().ok_or(Errno::EBADF)?;
            Ok(pipe.capacity() as u64)
        }
        g::F_SETPIPE_SZ => {
            let f = files.lock().get(fd as i32)?;
            let pipe = f.ops.pipe().ok_or(Errno::EBADF)?;
            let privileged = crate::fs::vfs::cred().fsuid == 0;
            Ok(pipe.set_capacity(arg, privileged)? as u64)
        }
        // Record locks are accepted and not enforced: one writer per file is the
        // programs' own business on a single-user console system (issue 13: "locks
        // accepted").
        g::F_GETLK => {
            files.lock().get(fd as i32)?;
            let mm = mm();
            // l_type at offset 0 (a short): F_UNLCK, nothing conflicts.
            usercopy::write(&mm, UserRef::<u16>::new(arg), &(g::F_UNLCK as u16))?;
            Ok(0)
        }
        g::F_SETLK | g::F_SETLKW | g::F_OFD_SETLK | g::F_OFD_SETLKW | g::F_OFD_GETLK => {
            files.lock().get(fd as i32)?;
            Ok(0)
        }
        _ => {
            files.lock().get(fd as i32)?;
            Err(Errno::EINVAL)
        }
    }
}

/// `ioctl(fd, cmd, arg)`.
pub fn ioctl(fd: u64, cmd: u64, arg: u64) -> SysResult {
    let f = file(fd)?;
    match cmd as u32 {
        linux_raw_sys::ioctl::FIONBIO => {
            let on: i32 = usercopy::read(&mm(), UserRef::new(arg))?;
            let flags = if on != 0 {
                f.flags() | g::O_NONBLOCK
            } else {
                f.flags() & !g::O_NONBLOCK
            };
            f.set_status_flags(flags);
            Ok(0)
        }
        linux_raw_sys::ioctl::FIOCLEX | linux_raw_sys::ioctl::FIONCLEX => {
            let on = cmd as u32 == linux_raw_sys::ioctl::FIOCLEX;
            crate::process::current()
                .process
                .files
                .lock()
                .set_cloexec(fd as i32, on)?;
            Ok(0)
        }
        c if super::netdev::handles(c) && f.ops.stat().mode & g::S_IFMT == g::S_IFSOCK => {
            super::netdev::ioctl(&f, c, arg)
        }
        c => f.ops.ioctl(&f, c, arg),
    }
}

/// `lseek(fd, offset, whence)`.
pub fn lseek(fd: u64, offset: u64, whence: u64) -> SysResult {
    let f = file(fd)?;
    let size = f.ops.size()?;
    let mut pos = f.pos.lock();
    let base = match whence as u32 {
        g::SEEK_SET => 0,
        g::SEEK_CUR => *pos as i64,
        g::SEEK_END => size as i64,
        _ => return Err(Errno::EINVAL),
    };
    let new = base.checked_add(offset as i64).ok_or(Errno::EOVERFLOW)?;
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    *pos = new as u64;
    Ok(new as u64)
}

/// Linux's `SOCK_TYPE_MASK` and `SOCK_MAX` (`include/linux/net.h`), which
/// `linux-raw-sys` lacks.
const SOCK_TYPE_MASK: u32 = 0xf;
const SOCK_MAX: u32 = 11;

/// `socketpair(domain, type, protocol, sv)`: `AF_UNIX` stream, datagram and seqpacket
/// pairs ([`crate::fs::unix`]), with Linux's checks in Linux's order (`__sys_socketpair`,
/// `__sock_create`, `unix_create`): unknown flags in `type` `EINVAL`, a domain beyond
/// `AF_MAX` `EAFNOSUPPORT`, a type beyond `SOCK_MAX` `EINVAL`, a protocol other than 0 or
/// `PF_UNIX` `EPROTONOSUPPORT`, another type `ESOCKTNOSUPPORT`. Other domains are
/// `EAFNOSUPPORT` (Linux's are `EOPNOTSUPP` or their own errnos).
pub fn socketpair(domain: u64, ty: u64, protocol: u64, sv: u64) -> SysResult {
    use linux_raw_sys::errno::EAFNOSUPPORT;
    use linux_raw_sys::net::{AF_MAX, AF_UNIX};
    // Linux defines SOCK_CLOEXEC and SOCK_NONBLOCK as O_CLOEXEC and O_NONBLOCK.
    const SOCK_CLOEXEC: u32 = g::O_CLOEXEC;
    const SOCK_NONBLOCK: u32 = g::O_NONBLOCK;
    let flags = ty as u32 & !SOCK_TYPE_MASK;
    if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    if domain as u32 >= AF_MAX {
        return Err(Errno(EAFNOSUPPORT));
    }
    let kind = ty as u32 & SOCK_TYPE_MASK;
    if kind >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    if domain as u32 != AF_UNIX {
        return Err(Errno(EAFNOSUPPORT));
    }
    let kind = super::net::unix_kind(kind, protocol as u32)?;
    let (a, b) = crate::fs::unix::socketpair(kind, flags & SOCK_NONBLOCK);
    let cloexec = flags & SOCK_CLOEXEC != 0;
    let task = crate::process::current();
    let (x, y) = {
        let mut t = task.process.files.lock();
        let x = t.install(a, cloexec, nofile())?;
        let y = match t.install(b, cloexec, nofile()) {
            Ok(y) => y,
            Err(e) => {
                let _ = t.remove(x);
                return Err(e);
            }
        };
        (x, y)
    };
    if let Err(e) = usercopy::write(&task.process.mm(), UserRef::<[i32; 2]>::new(sv), &[x, y]) {
        let mut t = task.process.files.lock();
        let _ = t.remove(x);
        let _ = t.remove(y);
        return Err(e);
    }
    Ok(0)
}
