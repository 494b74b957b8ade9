//! Message calls on sockets: `sendto`, `recvfrom`, `sendmsg`, `recvmsg`, `sendmmsg`,
//! `recvmmsg` (Linux's `net/socket.c`: `__sys_sendto`, `____sys_sendmsg`,
//! `____sys_recvmsg`, `do_recvmmsg`, `__sys_sendmmsg`; `net/core/scm.c` for control
//! messages).
//!
//! This file reads a `msghdr` (typed, `linux_raw_sys::net::msghdr`), its iovecs and its
//! control messages from user memory in Linux's order, hands the socket a [`UserIov`]
//! (the data stays in user memory until the socket copies it, outside its locks), and
//! writes back what the socket received: the source address, `SCM_CREDENTIALS` and
//! `SCM_RIGHTS` (new descriptors in the receiver's table), `msg_flags` with `MSG_TRUNC` and
//! `MSG_CTRUNC`. Hostile input gets Linux's errnos: an iovec count beyond `UIO_MAXIOV`
//! is `EMSGSIZE`, a negative length `EINVAL`, a buffer outside the user half or unmapped
//! `EFAULT`, a negative `msg_namelen` `EINVAL` (a longer one is cut to a
//! `sockaddr_storage`), a malformed control message `EINVAL`, a closed descriptor in
//! `SCM_RIGHTS` `EBADF`, more than 253 descriptors `EINVAL`.
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::errno as e;
use linux_raw_sys::general::{iovec, UIO_MAXIOV};
use linux_raw_sys::net::{
    cmsghdr, mmsghdr, msghdr, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_OOB,
    MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SCM_CREDENTIALS, SCM_RIGHTS, SOL_SOCKET,
};

use super::io::{access_ok, nofile, MAX_RW_COUNT};
use super::net::{read_addr, with_socket, write_addr};
use super::{Errno, SysResult};
use crate::fs::file::OpenFile;
use crate::fs::socket::{
    MsgSink, MsgSource, Received, RecvBuf, RecvFlags, SendBuf, SendMsg, Socket, Ucred,
};
use crate::process::mm::Mm;
use crate::process::usercopy::{self, UserAddr, UserRef};

/// Linux's `MSG_WAITFORONE` and `MSG_CMSG_COMPAT` (`include/linux/socket.h`), which
/// `linux-raw-sys` lacks.
const MSG_WAITFORONE: u32 = 0x1_0000;
const MSG_CMSG_COMPAT: u32 = 0x8000_0000;
/// Linux's `SCM_MAX_FD`: descriptors in one message at most.
const SCM_MAX_FD: usize = 253;
/// Linux's `net.core.optmem_max`: the largest control buffer `sendmsg` copies.
const OPTMEM_MAX: usize = 131_072;
/// `sizeof(struct sockaddr_storage)`.
const SOCKADDR_STORAGE: usize = 128;
const CMSGHDR: usize = core::mem::size_of::<cmsghdr>();

// SAFETY: `msghdr`, `mmsghdr`, `cmsghdr` and `iovec` are integers and raw pointers
// (any bit pattern is a valid value); their padding is never read.
unsafe impl usercopy::Pod for msghdr {}
// SAFETY: as above.
unsafe impl usercopy::Pod for mmsghdr {}
// SAFETY: as above.
unsafe impl usercopy::Pod for cmsghdr {}
// SAFETY: as above.
unsafe impl usercopy::Pod for iovec {}

fn mm() -> Arc<Mm> {
    crate::process::current().process.mm()
}

/// `CMSG_ALIGN`: control messages are aligned to `size_t`.
fn cmsg_align(len: usize) -> usize {
    len.next_multiple_of(core::mem::size_of::<usize>())
}

/// A caller's buffers (one, or a `msghdr`'s iovecs), read or written in order.
pub struct UserIov {
    mm: Arc<Mm>,
    segs: Vec<(u64, usize)>,
    seg: usize,
    off: usize,
    left: usize,
}

impl UserIov {
    /// One buffer (`sendto`, `recvfrom`: Linux's `import_ubuf`): `EFAULT` outside the user
    /// half; the length is cut to `MAX_RW_COUNT`.
    pub fn single(buf: u64, len: u64) -> Result<UserIov, Errno> {
        let len = len.min(MAX_RW_COUNT);
        access_ok(buf, len)?;
        Ok(UserIov::new(Vec::from([(buf, len as usize)])))
    }

    /// The iovec array of a `msghdr` (Linux's `__import_iovec`): `EFAULT` reading it,
    /// `EINVAL` for a negative length; the total is cut to `MAX_RW_COUNT`, and a buffer
    /// that, so cut, reaches past the user half is `EFAULT`. The count was checked by the
    /// caller.
    pub fn import(iov: u64, count: usize) -> Result<UserIov, Errno> {
        let mm = mm();
        let mut raw = Vec::with_capacity(count);
        for i in 0..count {
            let at = iov + (i * core::mem::size_of::<iovec>()) as u64;
            let v: iovec = usercopy::read(&mm, UserRef::new(at))?;
            if (v.iov_len as i64) < 0 {
                return Err(Errno::EINVAL);
            }
            raw.push((v.iov_base as u64, v.iov_len as u64));
        }
        let mut total = 0u64;
        let mut segs = Vec::with_capacity(count);
        for (base, len) in raw {
            let len = len.min(MAX_RW_COUNT - total);
            access_ok(base, len)?;
            total += len;
            segs.push((base, len as usize));
        }
        Ok(UserIov::new(segs))
    }

    fn new(segs: Vec<(u64, usize)>) -> UserIov {
        let left = segs.iter().map(|s| s.1).sum();
        UserIov {
            mm: mm(),
            segs,
            seg: 0,
            off: 0,
            left,
        }
    }

    /// Walks the next `n` bytes segment by segment: `f(user address, offset, count)`.
    fn walk(
        &mut self,
        n: usize,
        mut f: impl FnMut(&Mm, u64, usize, usize) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let mut done = 0;
        while done < n {
            let (base, len) = self.segs[self.seg];
            let k = (len - self.off).min(n - done);
            if k > 0 {
                f(&self.mm, base + self.off as u64, done, k)?;
            }
            done += k;
            self.off += k;
            self.left -= k;
            if self.off == len {
                self.seg += 1;
                self.off = 0;
            }
        }
        Ok(())
    }

    /// The next segment's unread part (`None` when all was read).
    fn next_piece(&mut self) -> Option<(u64, usize)> {
        while self.seg < self.segs.len() {
            let (base, len) = self.segs[self.seg];
            if self.off < len {
                return Some((base + self.off as u64, len - self.off));
            }
            self.seg += 1;
            self.off = 0;
        }
        None
    }

    /// Counts `n` bytes of the current segment as done (after a lent piece).
    fn advance(&mut self, n: usize) {
        self.off += n;
        self.left -= n;
    }
}

/// A segment is lent a piece at a time (`usercopy::with_user`: at most 64 KiB, the
/// memory lock held while the socket copies from it), only whole.
impl SendBuf for UserIov {
    fn remaining(&self) -> usize {
        self.left
    }

    fn lend(&mut self, f: &mut dyn FnMut(&[&[u8]]) -> usize) -> bool {
        let Some((addr, len)) = self.next_piece() else {
            return false;
        };
        let whole = |bufs: &[&[u8]], cut: bool| (!cut).then(|| f(bufs));
        match usercopy::with_user(&self.mm, UserAddr(addr), len, whole) {
            Ok(Some(n)) => {
                self.advance(n);
                true
            }
            Ok(None) | Err(_) => false,
        }
    }
}

/// As [`SendBuf`] for `UserIov`, the other way (`usercopy::with_user_mut`); a piece cut
/// by a bad address is lent as far as it goes, with the flag that says so.
impl RecvBuf for UserIov {
    fn room(&self) -> usize {
        self.left
    }

    fn lend(&mut self, f: &mut dyn FnMut(&mut [&mut [u8]], bool) -> usize) -> bool {
        let Some((addr, len)) = self.next_piece() else {
            return false;
        };
        match usercopy::with_user_mut(&self.mm, UserAddr(addr), len, f) {
            Ok(n) => {
                self.advance(n);
                true
            }
            Err(_) => false,
        }
    }
}

impl MsgSource for UserIov {
    fn read_into(&mut self, out: &mut [u8]) -> Result<usize, Errno> {
        let n = out.len().min(self.left);
        self.walk(n, |mm, addr, at, k| {
            usercopy::read_bytes(mm, UserAddr(addr), &mut out[at..at + k])
        })?;
        Ok(n)
    }
}

impl MsgSink for UserIov {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Errno> {
        self.walk(bytes.len(), |mm, addr, at, k| {
            usercopy::write_bytes(mm, UserAddr(addr), &bytes[at..at + k])
        })
    }
}

/// A `msghdr` as the kernel uses it.
struct Header {
    /// `msg_name` and its length (0 without a name; at most a `sockaddr_storage`).
    name: u64,
    namelen: usize,
    iov: u64,
    iovlen: usize,
    control: u64,
    controllen: usize,
}

/// Reads the `msghdr` at `addr` (Linux's `__copy_msghdr`): `EFAULT`, a negative
/// `msg_namelen` `EINVAL` (a longer one than a `sockaddr_storage` is cut), a count beyond
/// `UIO_MAXIOV` `EMSGSIZE`. The iovecs come after the name ([`UserIov::import`]).
fn read_header(addr: u64) -> Result<Header, Errno> {
    let m: msghdr = usercopy::read(&mm(), UserRef::new(addr))?;
    let name = m.msg_name as u64;
    let namelen = if name == 0 { 0 } else { m.msg_namelen };
    if namelen < 0 {
        return Err(Errno::EINVAL);
    }
    if m.msg_iovlen > UIO_MAXIOV as usize {
        return Err(Errno(e::EMSGSIZE));
    }
    Ok(Header {
        name,
        namelen: (namelen as usize).min(SOCKADDR_STORAGE),
        iov: m.msg_iov as u64,
        iovlen: m.msg_iovlen,
        control: m.msg_control as u64,
        controllen: m.msg_controllen,
    })
}

/// What a `sendmsg`'s control messages carry.
#[derive(Default)]
struct Control {
    rights: Vec<Arc<OpenFile>>,
    cred: Option<Ucred>,
}

/// Parses `AF_UNIX` control messages (Linux's `__scm_send`): each must be at least a
/// `cmsghdr` and fit in the buffer (`EINVAL`); `SOL_SOCKET` ones must be `SCM_RIGHTS`
/// (each descriptor open, else `EBADF`; at most 253 in all, else `EINVAL`) or
/// `SCM_CREDENTIALS` (exactly a `ucred` with ids the sender may claim, `EPERM`); other
/// levels are skipped.
fn parse_control(buf: &[u8]) -> Result<Control, Errno> {
    let mut out = Control::default();
    let mut at = 0;
    while buf.len() >= at + CMSGHDR {
        let word = |o: usize| u32::from_ne_bytes([buf[o], buf[o + 1], buf[o + 2], buf[o + 3]]);
        let len = u64::from(word(at)) | (u64::from(word(at + 4)) << 32);
        let (level, ty) = (word(at + 8), word(at + 12));
        if len < CMSGHDR as u64 || len > (buf.len() - at) as u64 {
            return Err(Errno::EINVAL);
        }
        let len = len as usize;
        let data = &buf[at + CMSGHDR..at + len];
        if level == SOL_SOCKET {
            match ty {
                SCM_RIGHTS => {
                    let count = data.len() / 4;
                    if out.rights.len() + count > SCM_MAX_FD {
                        return Err(Errno::EINVAL);
                    }
                    for c in data.chunks_exact(4) {
                        let fd = i32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
                        if fd < 0 {
                            return Err(Errno::EBADF);
                        }
                        out.rights.push(super::io::file(fd as u64)?);
                    }
                }
                SCM_CREDENTIALS if data.len() == 12 => {
                    let w = |i: usize| {
                        u32::from_ne_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]])
                    };
                    let c = Ucred {
                        pid: w(0),
                        uid: w(4),
                        gid: w(8),
                    };
                    check_creds(&c)?;
                    out.cred = Some(c);
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        at += cmsg_align(len);
    }
    Ok(out)
}

/// Linux's `scm_check_creds`: the caller's own pid and one of its real, effective or
/// saved ids, unless privileged.
fn check_creds(c: &Ucred) -> Result<(), Errno> {
    let task = crate::process::current();
    let ok = crate::process::table::with(|p| {
        p.table.creds(task.tid()).is_some_and(|k| {
            let root = k.euid == 0;
            let pid_ok = c.pid == task.process.pid || root;
            let uid_ok = [k.ruid, k.euid, k.suid].contains(&c.uid) || root;
            let gid_ok = [k.rgid, k.egid, k.sgid].contains(&c.gid) || root;
            pid_ok && uid_ok && gid_ok
        })
    });
    if ok {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// One `sendmsg` on `sock` with the data, destination and control messages read.
fn send_on(
    f: &OpenFile,
    sock: &dyn Socket,
    mut data: UserIov,
    addr: Option<&[u8]>,
    control: Control,
    flags: u32,
) -> Result<usize, Errno> {
    if flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    sock.send_msg(SendMsg {
        data: &mut data,
        addr,
        rights: control.rights,
        cred: control.cred,
        nonblocking: f.nonblocking() || flags & MSG_DONTWAIT != 0,
        nosignal: flags & MSG_NOSIGNAL != 0,
    })
}

fn recv_flags(f: &OpenFile, flags: u32) -> Result<RecvFlags, Errno> {
    if flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(RecvFlags {
        nonblocking: f.nonblocking() || flags & MSG_DONTWAIT != 0,
        peek: flags & MSG_PEEK != 0,
        wait_all: flags & MSG_WAITALL != 0,
        trunc: flags & MSG_TRUNC != 0,
    })
}

/// `sendto(fd, buf, len, flags, addr, addrlen)`: the buffer is checked before the
/// descriptor, as Linux's `__sys_sendto`.
pub fn sendto(fd: u64, buf: u64, len: u64, flags: u64, addr: u64, addrlen: u64) -> SysResult {
    let data = UserIov::single(buf, len)?;
    with_socket(fd, |f, sock| {
        let name = if addr != 0 {
            Some(read_addr(addr, addrlen)?)
        } else {
            None
        };
        let sent = send_on(
            f,
            sock,
            data,
            name.as_deref(),
            Control::default(),
            flags as u32,
        )?;
        Ok(sent as u64)
    })
}

/// `read`/`readv` on a socket (Linux's `sock_read_iter`): one `recvmsg` without flags
/// over all the buffers, so a datagram is read whole.
pub fn read_socket(f: &OpenFile, sock: &dyn Socket, mut data: UserIov) -> SysResult {
    Ok(sock.recv_msg(&mut data, recv_flags(f, 0)?)?.len as u64)
}

/// `write`/`writev` on a socket (Linux's `sock_write_iter`): one `sendmsg` without flags.
pub fn write_socket(f: &OpenFile, sock: &dyn Socket, data: UserIov) -> SysResult {
    Ok(send_on(f, sock, data, None, Control::default(), 0)? as u64)
}

/// `recvfrom(fd, buf, len, flags, addr, addrlen)`: files passed with the data are
/// closed (there is no room for them).
pub fn recvfrom(fd: u64, buf: u64, len: u64, flags: u64, addr: u64, addrlen: u64) -> SysResult {
    let mut data = UserIov::single(buf, len)?;
    with_socket(fd, |f, sock| {
        let got = sock.recv_msg(&mut data, recv_flags(f, flags as u32)?)?;
        if addr != 0 {
            write_addr(got.addr.as_deref().unwrap_or_default(), addr, addrlen)?;
        }
        Ok(got.len as u64)
    })
}

/// One `sendmsg` of the `msghdr` at `msg`: bytes sent, and bytes there were to send.
fn send_one(
    f: &OpenFile,
    sock: &dyn Socket,
    msg: u64,
    flags: u32,
) -> Result<(usize, usize), Errno> {
    let h = read_header(msg)?;
    let name = if h.namelen > 0 {
        Some(read_addr(h.name, h.namelen as u64)?)
    } else {
        None
    };
    let data = UserIov::import(h.iov, h.iovlen)?;
    if h.controllen > i32::MAX as usize || h.controllen > OPTMEM_MAX {
        return Err(Errno(e::ENOBUFS));
    }
    let control = if h.controllen > 0 {
        let mut buf = alloc::vec![0u8; h.controllen];
        usercopy::read_bytes(&mm(), UserAddr(h.control), &mut buf)?;
        if sock.inet().is_some() {
            // TCP leaves `SCM_RIGHTS` and `SCM_CREDENTIALS` to `AF_UNIX`.
            Control::default()
        } else {
            parse_control(&buf)?
        }
    } else {
        Control::default()
    };
    let want = data.remaining();
    Ok((
        send_on(f, sock, data, name.as_deref(), control, flags)?,
        want,
    ))
}

/// `sendmsg(fd, msg, flags)`.
pub fn sendmsg(fd: u64, msg: u64, flags: u64) -> SysResult {
    if flags as u32 & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    with_socket(fd, |f, sock| {
        Ok(send_one(f, sock, msg, flags as u32)?.0 as u64)
    })
}

/// Writes a control message into the caller's buffer (Linux's `put_cmsg`): without room
/// for a header, only `MSG_CTRUNC`; a short buffer gets what fits and `MSG_CTRUNC`.
struct ControlOut {
    mm: Arc<Mm>,
    addr: u64,
    room: usize,
    flags: u32,
}

impl ControlOut {
    fn header(&self, len: usize, ty: u32) -> Result<(), Errno> {
        let h = cmsghdr {
            cmsg_len: len,
            cmsg_level: SOL_SOCKET as i32,
            cmsg_type: ty as i32,
        };
        usercopy::write(&self.mm, UserRef::new(self.addr), &h)
    }

    fn advance(&mut self, space: usize) {
        let n = space.min(self.room);
        self.addr += n as u64;
        self.room -= n;
    }

    fn put(&mut self, ty: u32, data: &[u8]) -> Result<(), Errno> {
        if self.addr == 0 || self.room < CMSGHDR {
            self.flags |= MSG_CTRUNC;
            return Ok(());
        }
        let mut len = CMSGHDR + data.len();
        if self.room < len {
            self.flags |= MSG_CTRUNC;
            len = self.room;
        }
        self.header(len, ty)?;
        let body = UserAddr(self.addr + CMSGHDR as u64);
        usercopy::write_bytes(&self.mm, body, &data[..len - CMSGHDR])?;
        self.advance(cmsg_align(CMSGHDR + data.len()));
        Ok(())
    }

    /// `SCM_RIGHTS` (Linux's `scm_detach_fds`): as many descriptors as fit are
    /// installed, the rest closed with `MSG_CTRUNC`.
    fn put_rights(&mut self, files: Vec<Arc<OpenFile>>, cloexec: bool) -> Result<(), Errno> {
        let fit = if self.addr == 0 || self.room <= CMSGHDR {
            0
        } else {
            (self.room - CMSGHDR) / 4
        };
        let count = files.len();
        let task = crate::process::current();
        let mut installed = 0;
        for file in files.into_iter().take(fit) {
            let Ok(fd) = task.process.files.lock().install(file, cloexec, nofile()) else {
                break;
            };
            let at = UserRef::new(self.addr + (CMSGHDR + 4 * installed) as u64);
            if usercopy::write(&self.mm, at, &fd).is_err() {
                let _ = task.process.files.lock().remove(fd);
                break;
            }
            installed += 1;
        }
        if installed > 0 {
            self.header(CMSGHDR + 4 * installed, SCM_RIGHTS)?;
            self.advance(cmsg_align(CMSGHDR + 4 * installed));
        }
        if installed < count {
            self.flags |= MSG_CTRUNC;
        }
        Ok(())
    }
}

/// One `recvmsg` into the `msghdr` at `msg`: the result, with the header's name length,
/// control length and flags written back.
fn recv_one(f: &OpenFile, sock: &dyn Socket, msg: u64, flags: u32) -> Result<usize, Errno> {
    let h = read_header(msg)?;
    let mut data = UserIov::import(h.iov, h.iovlen)?;
    let got: Received = sock.recv_msg(&mut data, recv_flags(f, flags)?)?;
    let mm = mm();
    if h.name != 0 {
        let lenp = msg + core::mem::offset_of!(msghdr, msg_namelen) as u64;
        write_addr(got.addr.as_deref().unwrap_or_default(), h.name, lenp)?;
    }
    let mut out = ControlOut {
        mm: mm.clone(),
        addr: h.control,
        room: h.controllen,
        flags: flags & MSG_CMSG_CLOEXEC,
    };
    if let Some(c) = got.cred {
        let bytes: Vec<u8> = [c.pid, c.uid, c.gid]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        out.put(SCM_CREDENTIALS, &bytes)?;
    }
    if !got.rights.is_empty() {
        out.put_rights(got.rights, flags & MSG_CMSG_CLOEXEC != 0)?;
    }
    if got.truncated {
        out.flags |= MSG_TRUNC;
    }
    let field = |off: usize| msg + off as u64;
    usercopy::write(
        &mm,
        UserRef::new(field(core::mem::offset_of!(msghdr, msg_flags))),
        &out.flags,
    )?;
    let used = out.addr - h.control;
    usercopy::write(
        &mm,
        UserRef::new(field(core::mem::offset_of!(msghdr, msg_controllen))),
        &used,
    )?;
    Ok(got.len)
}

/// `recvmsg(fd, msg, flags)`.
pub fn recvmsg(fd: u64, msg: u64, flags: u64) -> SysResult {
    if flags as u32 & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    with_socket(fd, |f, sock| {
        Ok(recv_one(f, sock, msg, flags as u32)? as u64)
    })
}

/// The `msg_len` of the `i`th `mmsghdr` at `vec`.
fn msg_len_at(vec: u64, i: usize) -> UserRef<u32> {
    let at = i * core::mem::size_of::<mmsghdr>() + core::mem::offset_of!(mmsghdr, msg_len);
    UserRef::new(vec + at as u64)
}

/// `sendmmsg(fd, vec, vlen, flags)` (Linux's `__sys_sendmmsg`): at most `UIO_MAXIOV`
/// messages, stopping at the first error or short send; the error only if nothing was
/// sent.
pub fn sendmmsg(fd: u64, vec: u64, vlen: u64, flags: u64) -> SysResult {
    let flags = flags as u32;
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    with_socket(fd, |f, sock| {
        let vlen = (vlen as u32).min(UIO_MAXIOV) as usize;
        let mm = mm();
        let mut sent = 0;
        let mut last = Ok(());
        while sent < vlen {
            let entry = vec + (sent * core::mem::size_of::<mmsghdr>()) as u64;
            let r = send_one(f, sock, entry, flags).and_then(|(n, want)| {
                usercopy::write(&mm, msg_len_at(vec, sent), &(n as u32)).map(|()| (n, want))
            });
            match r {
                Ok((n, want)) => {
                    sent += 1;
                    if n < want {
                        break;
                    }
                }
                Err(err) => {
                    last = Err(err);
                    break;
                }
            }
        }
        match last {
            Err(err) if sent == 0 => Err(err),
            _ => Ok(sent as u64),
        }
    })
}

/// `recvmmsg(fd, vec, vlen, flags, timeout)` (Linux's `do_recvmmsg`): messages until
/// `vlen`, an error, or (`MSG_WAITFORONE`) none waiting after the first; the timeout is
/// looked at only after each message, as Linux does (a first `recvmsg` that blocks
/// blocks for good), and the time left written back. An error after some messages is
/// dropped, the count returned.
pub fn recvmmsg(fd: u64, vec: u64, vlen: u64, flags: u64, timeout: u64) -> SysResult {
    let mut flags = flags as u32;
    if flags & MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let end = if timeout != 0 {
        let t = super::time::read_timespec(timeout)?;
        Some(crate::time::now_ns().saturating_add(t))
    } else {
        None
    };
    let mut left = None;
    let count = with_socket(fd, |f, sock| {
        let mm = mm();
        let mut got = 0usize;
        while got < vlen as u32 as usize {
            let entry = vec + (got * core::mem::size_of::<mmsghdr>()) as u64;
            let r = recv_one(f, sock, entry, flags & !MSG_WAITFORONE)
                .and_then(|n| usercopy::write(&mm, msg_len_at(vec, got), &(n as u32)));
            if let Err(err) = r {
                return if got == 0 { Err(err) } else { Ok(got as u64) };
            }
            got += 1;
            if flags & MSG_WAITFORONE != 0 {
                flags |= MSG_DONTWAIT;
            }
            if let Some(end) = end {
                let rest = end.saturating_sub(crate::time::now_ns());
                left = Some(rest);
                if rest == 0 {
                    break;
                }
            }
        }
        Ok(got as u64)
    })?;
    if let (Some(rest), true) = (left, count > 0) {
        let ts = [(rest / 1_000_000_000) as i64, (rest % 1_000_000_000) as i64];
        usercopy::write(&mm(), UserRef::new(timeout), &ts)?;
    }
    Ok(count)
}
