//! Control messages: `SCM_RIGHTS` on stream, datagram and seqpacket sockets (files in
//! flight outlive the sender's descriptors and die with an unread queue; a short control
//! buffer gets `MSG_CTRUNC` and the rest closed), their limits and malformed headers, and
//! `SCM_CREDENTIALS` with `SO_PASSCRED`.

use crate::{bind, close, int_opt, pair, recv, send, set_int_opt, sock, Addr};
use abi_tests::errno::{cvt, Errno};
use abi_tests::fd::{c, open, pipe, read, write};
use abi_tests::Transcript;
use core::ffi::c_int;
use core::mem::zeroed;

/// `CMSG_SPACE` and `CMSG_LEN` of `n` bytes of data.
fn space(n: usize) -> usize {
    // SAFETY: pure arithmetic.
    unsafe { libc::CMSG_SPACE(n as u32) as usize }
}
fn cmsg_len(n: usize) -> usize {
    // SAFETY: pure arithmetic.
    unsafe { libc::CMSG_LEN(n as u32) as usize }
}

/// A control buffer holding one control message of `level`/`ty` with `data`, with
/// `cmsg_len` replaced by `len` if given.
fn control(level: c_int, ty: c_int, data: &[u8], len: Option<usize>) -> Vec<u64> {
    let mut buf = vec![0u64; space(data.len()).div_ceil(8)];
    let bytes = buf.as_mut_ptr().cast::<u8>();
    let h = libc::cmsghdr {
        cmsg_len: len.unwrap_or(cmsg_len(data.len())),
        cmsg_level: level,
        cmsg_type: ty,
    };
    // SAFETY: `buf` has room for the header and the data (CMSG_SPACE); u64 storage keeps
    // the header aligned.
    unsafe {
        bytes.cast::<libc::cmsghdr>().write(h);
        core::ptr::copy_nonoverlapping(data.as_ptr(), bytes.add(cmsg_len(0)), data.len());
    }
    buf
}

fn fd_bytes(fds: &[c_int]) -> Vec<u8> {
    fds.iter().flat_map(|f| f.to_ne_bytes()).collect()
}

/// `sendmsg` of `data` with a control buffer of `controllen` bytes (`ctl` may be
/// shorter: the kernel must refuse before reading past it) and an optional address.
fn send_ctl(
    fd: c_int,
    data: &[u8],
    ctl: &mut [u64],
    controllen: usize,
    to: Option<&Addr>,
) -> Result<usize, Errno> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr().cast_mut().cast(),
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data.
    let mut m: libc::msghdr = unsafe { zeroed() };
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl.as_mut_ptr().cast();
    m.msg_controllen = controllen;
    if let Some(a) = to {
        m.msg_name = (&raw const a.sun).cast_mut().cast();
        m.msg_namelen = a.len;
    }
    // SAFETY: every pointer in `m` is to live memory of the length given.
    cvt(unsafe { libc::sendmsg(fd, &m, 0) }).map(|n| n as usize)
}

/// Sends `data` with `fds` in `SCM_RIGHTS`.
pub fn send_fds(fd: c_int, data: &[u8], fds: &[c_int], to: Option<&Addr>) -> Result<usize, Errno> {
    let mut ctl = control(libc::SOL_SOCKET, libc::SCM_RIGHTS, &fd_bytes(fds), None);
    let len = cmsg_len(fds.len() * 4);
    send_ctl(fd, data, &mut ctl, len, to)
}

/// What a `recvmsg` with a control buffer got.
#[derive(Default)]
pub struct Got {
    pub data: Vec<u8>,
    pub fds: Vec<c_int>,
    pub flags: c_int,
    pub controllen: usize,
    /// `cmsg_len` of the first control message, and its type.
    pub first: Option<(usize, c_int)>,
    pub cred: Option<libc::ucred>,
}

/// `recvmsg` of up to `len` bytes with a control buffer of `room` bytes (none if 0).
pub fn recv_ctl(fd: c_int, len: usize, room: usize, flags: c_int) -> Result<Got, Errno> {
    let mut buf = vec![0u8; len];
    let mut ctl = vec![0u64; room.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: len,
    };
    // SAFETY: msghdr is plain data.
    let mut m: libc::msghdr = unsafe { zeroed() };
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    if room > 0 {
        m.msg_control = ctl.as_mut_ptr().cast();
        m.msg_controllen = room;
    }
    // SAFETY: every pointer in `m` is to live, writable memory of the length given.
    let n = cvt(unsafe { libc::recvmsg(fd, &mut m, flags) })? as usize;
    buf.truncate(n.min(len));
    let mut got = Got {
        data: buf,
        flags: m.msg_flags,
        controllen: m.msg_controllen,
        ..Got::default()
    };
    // SAFETY: the kernel filled `m`'s control buffer with well-formed headers within
    // msg_controllen; the CMSG_* walk stays inside it.
    unsafe {
        let mut h = libc::CMSG_FIRSTHDR(&m);
        while !h.is_null() {
            let hdr = h.read_unaligned();
            got.first.get_or_insert((hdr.cmsg_len, hdr.cmsg_type));
            let data = libc::CMSG_DATA(h);
            let body = hdr.cmsg_len - cmsg_len(0);
            match (hdr.cmsg_level, hdr.cmsg_type) {
                (libc::SOL_SOCKET, libc::SCM_RIGHTS) => {
                    for i in 0..body / 4 {
                        got.fds
                            .push(data.add(4 * i).cast::<c_int>().read_unaligned());
                    }
                }
                (libc::SOL_SOCKET, libc::SCM_CREDENTIALS) if body >= 12 => {
                    got.cred = Some(data.cast::<libc::ucred>().read_unaligned());
                }
                _ => {}
            }
            h = libc::CMSG_NXTHDR(&m, h);
        }
    }
    Ok(got)
}

fn cloexec(fd: c_int) -> bool {
    // SAFETY: F_GETFD takes no argument.
    unsafe { libc::fcntl(fd, libc::F_GETFD) & libc::FD_CLOEXEC != 0 }
}

fn same_file(fd: c_int, path: &str) -> bool {
    // SAFETY: stat is plain data.
    let (mut a, mut b): (libc::stat, libc::stat) = unsafe { (zeroed(), zeroed()) };
    // SAFETY: writable stats, a valid C string.
    let ok = unsafe { libc::fstat(fd, &mut a) == 0 && libc::stat(c(path).as_ptr(), &mut b) == 0 };
    ok && a.st_ino == b.st_ino && a.st_dev == b.st_dev
}

/// Reads `path`'s content through `fd` from the start.
fn content(fd: c_int) -> Vec<u8> {
    let mut buf = [0u8; 16];
    // SAFETY: `buf` is writable.
    let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), 16, 0) };
    buf[..n.max(0) as usize].to_vec()
}

pub fn rights(t: &Transcript) {
    if let Ok(fd) = open("passed", libc::O_CREAT | libc::O_WRONLY, 0o644) {
        let _ = write(fd, b"hello");
        close(fd);
    }
    let Ok([a, b]) = pair(libc::SOCK_STREAM) else {
        return;
    };
    let Ok(f) = open("passed", libc::O_RDONLY, 0) else {
        return;
    };
    t.shows("stream_send_rights", send_fds(a, b"F", &[f], None), 1);
    close(f);
    if let Some(got) = t.ok("stream_recv_rights", recv_ctl(b, 10, space(4), 0)) {
        t.eq("rights_count", got.fds.len(), 1);
        t.is(
            "rights_cmsg",
            got.first == Some((cmsg_len(4), libc::SCM_RIGHTS)),
        );
        t.eq("rights_controllen", got.controllen, space(4));
        t.eq("rights_no_ctrunc", got.flags & libc::MSG_CTRUNC, 0);
        if let Some(&fd) = got.fds.first() {
            t.is("inflight_survives_close", content(fd) == b"hello");
            t.is("received_same_file", same_file(fd, "passed"));
            t.is("received_not_cloexec", !cloexec(fd));
            close(fd);
        }
    }
    if let Ok(f) = open("passed", libc::O_RDONLY, 0) {
        let _ = send_fds(a, b"G", &[f], None);
        close(f);
        let got = recv_ctl(b, 10, space(4), libc::MSG_CMSG_CLOEXEC);
        t.is(
            "cmsg_cloexec",
            got.as_ref()
                .is_ok_and(|g| g.fds.first().is_some_and(|&f| cloexec(f))),
        );
        if let Ok(g) = got {
            t.value(
                "recv_flags_keep_cmsg_cloexec",
                g.flags & libc::MSG_CMSG_CLOEXEC != 0,
            );
            g.fds.iter().for_each(|&f| close(f));
        }
        // Files end a stream read: the segment that carried them is the last one read.
        let _ = send_fds(a, b"ab", &[a], None);
        let _ = send(a, b"cd", 0);
        let got = recv_ctl(b, 10, space(4), 0);
        t.is(
            "rights_end_stream_read",
            got.as_ref()
                .is_ok_and(|g| g.data == b"ab" && g.fds.len() == 1),
        );
        if let Ok(g) = got {
            g.fds.iter().for_each(|&f| close(f));
        }
        t.is(
            "stream_read_after_rights",
            recv(b, 10, 0).is_ok_and(|r| r.1 == b"cd"),
        );
    }
    // A short control buffer: one descriptor arrives, the others are closed.
    if let Ok([r, w]) = pipe(libc::O_CLOEXEC | libc::O_NONBLOCK) {
        let _ = send_fds(a, b"3", &[w, w, w], None);
        close(w);
        let got = recv_ctl(b, 10, space(4), 0);
        t.shows(
            "ctrunc_fds_that_fit",
            got.as_ref().map(|g| g.fds.len()).map_err(|e| *e),
            2,
        );
        t.is(
            "ctrunc_flag",
            got.as_ref().is_ok_and(|g| g.flags & libc::MSG_CTRUNC != 0),
        );
        t.shows(
            "ctrunc_controllen",
            got.as_ref().map(|g| g.controllen).map_err(|e| *e),
            space(4),
        );
        if let Ok(g) = &got {
            g.fds.iter().for_each(|&f| close(f));
        }
        t.shows("ctrunc_extra_fds_closed", read(r, 4).map(|d| d.len()), 0);
        close(r);
    }
    if let Ok([r, w]) = pipe(libc::O_CLOEXEC | libc::O_NONBLOCK) {
        let _ = send_fds(a, b"n", &[w], None);
        close(w);
        let got = recv_ctl(b, 10, 0, 0);
        t.is(
            "no_control_ctrunc",
            got.is_ok_and(|g| g.fds.is_empty() && g.flags & libc::MSG_CTRUNC != 0),
        );
        t.shows("no_control_fd_closed", read(r, 4).map(|d| d.len()), 0);
        close(r);
    }
    // In flight when the receiver closes: the files are closed with the queue.
    if let Ok([r, w]) = pipe(libc::O_CLOEXEC | libc::O_NONBLOCK) {
        let _ = send_fds(a, b"q", &[w], None);
        close(w);
        t.errno("inflight_keeps_pipe_open", read(r, 4), libc::EAGAIN);
        close(b);
        t.shows("inflight_closed_with_queue", read(r, 4).map(|d| d.len()), 0);
        close(r);
    } else {
        close(b);
    }
    close(a);
    other_types(t);
    chain(t);
}

/// 300 socket pairs, each in flight in the next one's queue, a pipe's write end at the
/// bottom: closing the last pair closes them all, and the pipe reads end of file.
fn chain(t: &Transcript) {
    let Ok([r, w]) = pipe(libc::O_CLOEXEC | libc::O_NONBLOCK) else {
        return;
    };
    let mut carry = vec![w];
    for _ in 0..300 {
        let Ok([a, b]) = pair(libc::SOCK_STREAM) else {
            break;
        };
        let _ = send_fds(a, b"c", &carry, None);
        carry.iter().for_each(|&f| close(f));
        carry = vec![a, b];
    }
    t.errno("inflight_chain_keeps_pipe", read(r, 4), libc::EAGAIN);
    carry.iter().for_each(|&f| close(f));
    t.shows("inflight_chain_closed", read(r, 4).map(|d| d.len()), 0);
    close(r);
}

fn other_types(t: &Transcript) {
    if let (Ok(r), Ok(s), Ok(f)) = (
        sock(libc::SOCK_DGRAM),
        sock(libc::SOCK_DGRAM),
        open("passed", libc::O_RDONLY, 0),
    ) {
        let to = Addr::path("rights-d");
        let _ = bind(r, &to);
        t.shows("dgram_send_rights", send_fds(s, b"D", &[f], Some(&to)), 1);
        close(f);
        let got = recv_ctl(r, 10, space(4), 0);
        t.is(
            "dgram_recv_rights",
            got.as_ref()
                .is_ok_and(|g| g.fds.len() == 1 && content(g.fds[0]) == b"hello"),
        );
        if let Ok(g) = got {
            g.fds.iter().for_each(|&f| close(f));
        }
        close(r);
        close(s);
    }
    if let (Ok([a, b]), Ok(f)) = (
        pair(libc::SOCK_SEQPACKET),
        open("passed", libc::O_RDONLY, 0),
    ) {
        t.shows("seqpacket_send_rights", send_fds(a, b"S", &[f], None), 1);
        close(f);
        let peeked = recv_ctl(b, 10, space(4), libc::MSG_PEEK);
        t.is(
            "peek_rights",
            peeked.as_ref().is_ok_and(|g| g.fds.len() == 1),
        );
        let got = recv_ctl(b, 10, space(4), 0);
        t.is(
            "read_after_peek_rights",
            got.as_ref().is_ok_and(|g| g.fds.len() == 1),
        );
        if let (Ok(p), Ok(g)) = (peeked, got) {
            t.is(
                "peek_and_read_same_file",
                same_file(p.fds[0], "passed") && same_file(g.fds[0], "passed"),
            );
            p.fds.iter().chain(&g.fds).for_each(|&f| close(f));
        }
        close(a);
        close(b);
    }
}

pub fn limits(t: &Transcript) {
    let Ok([a, b]) = pair(libc::SOCK_STREAM) else {
        return;
    };
    let Ok(f) = open("passed", libc::O_RDONLY | libc::O_CLOEXEC, 0) else {
        return;
    };
    t.errno(
        "rights_closed_fd",
        send_fds(a, b"x", &[900], None),
        libc::EBADF,
    );
    t.errno(
        "rights_negative_fd",
        send_fds(a, b"x", &[-1], None),
        libc::EBADF,
    );
    t.shows("rights_253", send_fds(a, b"x", &[f; 253], None), 1);
    let got = recv_ctl(b, 10, space(253 * 4), 0);
    t.is(
        "rights_253_received",
        got.as_ref().is_ok_and(|g| g.fds.len() == 253),
    );
    if let Ok(g) = got {
        g.fds.iter().for_each(|&f| close(f));
    }
    t.errno(
        "rights_254",
        send_fds(a, b"x", &[f; 254], None),
        libc::EINVAL,
    );
    let bad = |len: usize, level: c_int, ty: c_int| {
        let mut ctl = control(level, ty, &fd_bytes(&[f]), Some(len));
        let controllen = space(4);
        send_ctl(a, b"x", &mut ctl, controllen, None)
    };
    t.errno(
        "cmsg_len_past_buffer",
        bad(space(4) + 8, libc::SOL_SOCKET, libc::SCM_RIGHTS),
        libc::EINVAL,
    );
    t.errno(
        "cmsg_len_short",
        bad(8, libc::SOL_SOCKET, libc::SCM_RIGHTS),
        libc::EINVAL,
    );
    t.errno(
        "cmsg_unknown_type",
        bad(cmsg_len(4), libc::SOL_SOCKET, 99),
        libc::EINVAL,
    );
    t.shows(
        "cmsg_other_level_ignored",
        bad(cmsg_len(4), libc::IPPROTO_IP, 1),
        1,
    );
    let mut ctl = control(libc::SOL_SOCKET, libc::SCM_RIGHTS, &fd_bytes(&[f]), None);
    t.shows(
        "controllen_below_header",
        send_ctl(a, b"x", &mut ctl, 8, None),
        1,
    );
    t.errno(
        "controllen_huge",
        send_ctl(a, b"x", &mut ctl, 1 << 31, None),
        libc::ENOBUFS,
    );
    let mut cred = control(libc::SOL_SOCKET, libc::SCM_CREDENTIALS, &[0; 8], None);
    let len = cmsg_len(8);
    t.errno(
        "creds_wrong_size",
        send_ctl(a, b"x", &mut cred, len, None),
        libc::EINVAL,
    );
    close(f);
    close(a);
    close(b);
}

pub fn credentials(t: &Transcript) {
    let Ok([a, b]) = pair(libc::SOCK_STREAM) else {
        return;
    };
    t.shows("passcred_default", int_opt(b, libc::SO_PASSCRED), 0);
    t.ok("passcred_set", set_int_opt(b, libc::SO_PASSCRED, 1));
    t.shows("passcred_get", int_opt(b, libc::SO_PASSCRED), 1);
    // SAFETY: no arguments.
    let me = unsafe { (libc::getpid(), libc::getuid(), libc::getgid()) };
    let _ = send(a, b"c", 0);
    let got = recv_ctl(b, 10, 64, 0);
    t.is(
        "passcred_cmsg_is_self",
        got.is_ok_and(|g| g.cred.is_some_and(|c| (c.pid, c.uid, c.gid) == me)),
    );
    let cred = libc::ucred {
        pid: me.0,
        uid: me.1,
        gid: me.2,
    };
    // SAFETY: ucred is 12 bytes of plain data.
    let bytes: [u8; 12] = unsafe { core::mem::transmute(cred) };
    let mut ctl = control(libc::SOL_SOCKET, libc::SCM_CREDENTIALS, &bytes, None);
    let len = cmsg_len(12);
    t.shows(
        "send_explicit_creds",
        send_ctl(a, b"e", &mut ctl, len, None),
        1,
    );
    let got = recv_ctl(b, 10, 64, 0);
    t.is(
        "explicit_creds_received",
        got.is_ok_and(|g| g.cred.is_some_and(|c| (c.pid, c.uid, c.gid) == me)),
    );
    t.ok("passcred_off", set_int_opt(b, libc::SO_PASSCRED, 0));
    let _ = send(a, b"n", 0);
    t.shows(
        "no_creds_without_passcred",
        recv_ctl(b, 10, 64, 0).map(|g| g.controllen),
        0,
    );
    close(a);
    close(b);
}
