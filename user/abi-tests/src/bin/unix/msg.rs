//! `sendmsg`/`recvmsg` headers and iovecs as a hostile program writes them, and
//! `sendmmsg`/`recvmmsg`.

use crate::{bind, close, pair, recv, send, sock, Addr};
use abi_tests::errno::{cvt, Errno};
use abi_tests::fd::pipe;
use abi_tests::Transcript;
use core::ffi::c_int;
use core::mem::zeroed;

const UNMAPPED: usize = 0x1000;
const KERNEL: usize = 0xffff_8000_0000_0000;

fn iov(base: usize, len: usize) -> libc::iovec {
    libc::iovec {
        iov_base: base as *mut libc::c_void,
        iov_len: len,
    }
}

fn header(iovs: &mut [libc::iovec]) -> libc::msghdr {
    // SAFETY: msghdr is plain data.
    let mut m: libc::msghdr = unsafe { zeroed() };
    m.msg_iov = iovs.as_mut_ptr();
    m.msg_iovlen = iovs.len();
    m
}

fn sendmsg(fd: c_int, m: &libc::msghdr) -> Result<usize, Errno> {
    // SAFETY: the checks that call this pass headers whose bad parts the kernel must
    // refuse (or reach only through its own copies); the rest is live memory.
    cvt(unsafe { libc::sendmsg(fd, m, 0) }).map(|n| n as usize)
}

fn recvmsg(fd: c_int, m: &mut libc::msghdr, flags: c_int) -> Result<usize, Errno> {
    // SAFETY: as for `sendmsg`; writable buffers are live or meant to fault.
    cvt(unsafe { libc::recvmsg(fd, m, flags) }).map(|n| n as usize)
}

pub fn headers(t: &Transcript) {
    let Ok([a, b]) = pair(libc::SOCK_DGRAM) else {
        return;
    };
    // SAFETY: a null header: the kernel's copy fails.
    let r = cvt(unsafe { libc::sendmsg(a, core::ptr::null(), 0) });
    t.errno("sendmsg_null_header", r, libc::EFAULT);
    // SAFETY: as above.
    let r = cvt(unsafe { libc::recvmsg(a, core::ptr::null_mut(), 0) });
    t.errno("recvmsg_null_header", r, libc::EFAULT);
    let byte = [b'i'; 1];
    let mut many = vec![iov(byte.as_ptr() as usize, 1); 1025];
    let mut m = header(&mut many);
    t.errno("sendmsg_iovcnt_1025", sendmsg(a, &m), libc::EMSGSIZE);
    t.errno(
        "recvmsg_iovcnt_1025",
        recvmsg(b, &mut m, libc::MSG_DONTWAIT),
        libc::EMSGSIZE,
    );
    m.msg_iovlen = 1024;
    t.shows("sendmsg_iovcnt_1024", sendmsg(a, &m), 1024);
    t.shows("gathered_datagram", recv(b, 2048, 0).map(|r| r.0), 1024);
    let data = *b"named";
    let mut one = [iov(data.as_ptr() as usize, data.len())];
    let to = Addr::path("hn-r");
    let (Ok(r), Ok(s)) = (sock(libc::SOCK_DGRAM), sock(libc::SOCK_DGRAM)) else {
        return;
    };
    let _ = bind(r, &to);
    let _ = bind(s, &Addr::path("hn-s"));
    let mut m = header(&mut one);
    m.msg_name = (&raw const to.sun).cast_mut().cast();
    m.msg_namelen = u32::MAX;
    t.errno("msg_namelen_negative", sendmsg(s, &m), libc::EINVAL);
    m.msg_namelen = 200;
    t.errno("msg_namelen_200", sendmsg(s, &m), libc::EINVAL);
    m.msg_namelen = to.len;
    t.shows("sendmsg_to_name", sendmsg(s, &m), 5);
    m.msg_name = core::ptr::null_mut();
    m.msg_namelen = 50;
    t.errno("msg_name_null_is_no_name", sendmsg(s, &m), libc::ENOTCONN);
    // A short msg_name: the address is cut, msg_namelen says its full length.
    let mut buf = [0u8; 16];
    let mut into = [iov(buf.as_mut_ptr() as usize, 16)];
    let mut rm = header(&mut into);
    let mut name = [0u8; 16];
    rm.msg_name = name.as_mut_ptr().cast();
    rm.msg_namelen = 4;
    let n = recvmsg(r, &mut rm, 0);
    t.shows("recvmsg_data", n, 5);
    t.eq("recvmsg_namelen_full", rm.msg_namelen, 7);
    t.is(
        "recvmsg_name_cut",
        name[2..4] == *b"hn" && name[4..] == [0; 12],
    );
    t.eq("recvmsg_flags_clean", rm.msg_flags, 0);
    close(r);
    close(s);
    if let Ok([x, y]) = pair(libc::SOCK_STREAM) {
        let _ = send(x, b"st", 0);
        rm.msg_namelen = 16;
        let n = recvmsg(y, &mut rm, 0);
        t.shows("stream_recvmsg", n, 2);
        t.eq("stream_recvmsg_namelen", rm.msg_namelen, 0);
        let mut m = header(&mut one);
        m.msg_name = (&raw const to.sun).cast_mut().cast();
        m.msg_namelen = to.len;
        t.errno("stream_sendmsg_with_name", sendmsg(x, &m), libc::EISCONN);
        close(x);
        close(y);
    }
    if let Ok([p0, p1]) = pipe(libc::O_CLOEXEC) {
        t.errno(
            "sendmsg_not_socket",
            sendmsg(p1, &header(&mut one)),
            libc::ENOTSOCK,
        );
        close(p0);
        close(p1);
    }
    t.errno(
        "sendmsg_bad_fd",
        sendmsg(900, &header(&mut one)),
        libc::EBADF,
    );
    close(a);
    close(b);
}

pub fn iovecs(t: &Transcript) {
    let Ok([a, b]) = pair(libc::SOCK_DGRAM) else {
        return;
    };
    let data = *b"abcdefgh";
    let d = data.as_ptr() as usize;
    // A huge length is cut to `MAX_RW_COUNT` (2 GiB) before the range is checked: from a
    // heap buffer, far below the top of user memory, it fits, and the datagram is too
    // big (from the stack, ASLR decides: Linux's answer varies).
    let heap = Box::new([0u8; 8]);
    let send_iov = |iovs: &mut [libc::iovec]| sendmsg(a, &header(iovs));
    t.errno(
        "iov_len_negative",
        send_iov(&mut [iov(d, usize::MAX)]),
        libc::EINVAL,
    );
    t.errno(
        "iov_len_huge",
        send_iov(&mut [iov(heap.as_ptr() as usize, isize::MAX as usize)]),
        libc::EMSGSIZE,
    );
    t.errno(
        "iov_unmapped",
        send_iov(&mut [iov(UNMAPPED, 4)]),
        libc::EFAULT,
    );
    t.errno("iov_kernel", send_iov(&mut [iov(KERNEL, 4)]), libc::EFAULT);
    t.errno(
        "iov_second_unmapped",
        send_iov(&mut [iov(d, 4), iov(UNMAPPED, 4)]),
        libc::EFAULT,
    );
    t.errno(
        "recv_nothing_after_faults",
        recv(b, 16, libc::MSG_DONTWAIT),
        libc::EAGAIN,
    );
    t.shows(
        "iov_gather",
        send_iov(&mut [iov(d, 2), iov(d, 0), iov(d + 2, 2)]),
        4,
    );
    t.is(
        "iov_gathered_one_datagram",
        recv(b, 16, 0).is_ok_and(|r| r.1 == b"abcd"),
    );
    t.shows("iov_none", send_iov(&mut []), 0);
    t.shows("iov_none_received", recv(b, 16, 0).map(|r| r.0), 0);
    let _ = send(a, &data, 0);
    let mut m = header(&mut [iov(UNMAPPED, 8)]);
    t.errno("recv_iov_unmapped", recvmsg(b, &mut m, 0), libc::EFAULT);
    let mut neg = [iov(d, usize::MAX)];
    t.errno(
        "recv_iov_negative",
        recvmsg(b, &mut header(&mut neg), 0),
        libc::EINVAL,
    );
    // Overlapping buffers: the later bytes land last.
    let _ = send(a, &data, 0);
    let mut buf = [0u8; 4];
    let p = buf.as_mut_ptr() as usize;
    let n = recvmsg(b, &mut header(&mut [iov(p, 4), iov(p, 4)]), 0);
    t.shows("iov_overlapping", n, 8);
    t.is("iov_overlapping_last_wins", buf == *b"efgh");
    // An iovec array the data overwrites: the kernel works from its own copy.
    let msg = *b"0123456789abcdefghijklmnopqrstuv";
    let _ = send(a, &msg, 0);
    let mut tail = [0u8; 16];
    let mut cyclic = [iov(0, 16), iov(tail.as_mut_ptr() as usize, 16)];
    cyclic[0].iov_base = cyclic.as_mut_ptr().cast();
    let mut m = header(&mut cyclic);
    let n = recvmsg(b, &mut m, 0);
    t.shows("iov_cyclic", n, 32);
    // SAFETY: the array's first 16 bytes are plain memory the kernel wrote.
    let head: [u8; 16] = unsafe { core::ptr::read(cyclic.as_ptr().cast()) };
    t.is("iov_cyclic_data", head == msg[..16] && tail == msg[16..]);
    close(a);
    close(b);
    // A stream read that faults half-way fails and leaves the data queued.
    if let Ok([x, y]) = pair(libc::SOCK_STREAM) {
        let _ = send(x, &data, 0);
        let mut first = [0u8; 4];
        let f = first.as_mut_ptr() as usize;
        let r = recvmsg(y, &mut header(&mut [iov(f, 4), iov(UNMAPPED, 4)]), 0);
        t.errno("stream_partial_fault", r, libc::EFAULT);
        t.is(
            "stream_fault_keeps_data",
            recv(y, 16, 0).is_ok_and(|r| r.1 == data),
        );
        close(x);
        close(y);
    }
}

/// What a `recvmmsg` got: the count, each `msg_len`, and the data.
type Many = (usize, Vec<u32>, Vec<Vec<u8>>);

/// `recvmmsg` into `n` buffers of 16 bytes.
fn recv_many(
    fd: c_int,
    n: usize,
    flags: c_int,
    timeout: Option<*mut libc::timespec>,
) -> Result<Many, Errno> {
    let mut bufs = vec![[0u8; 16]; n];
    let mut iovs: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|b| iov(b.as_mut_ptr() as usize, 16))
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|v| libc::mmsghdr {
            msg_hdr: header(core::slice::from_mut(v)),
            msg_len: 0,
        })
        .collect();
    let t = timeout.unwrap_or(core::ptr::null_mut());
    // SAFETY: `msgs` holds `n` headers over live buffers; `t` is null or live.
    let got = cvt(unsafe { libc::recvmmsg(fd, msgs.as_mut_ptr(), n as u32, flags, t) })? as usize;
    let lens: Vec<u32> = msgs[..got].iter().map(|m| m.msg_len).collect();
    let data = lens
        .iter()
        .zip(&bufs)
        .map(|(&l, b)| b[..l as usize].to_vec())
        .collect();
    Ok((got, lens, data))
}

pub fn multiple(t: &Transcript) {
    let Ok([a, b]) = pair(libc::SOCK_DGRAM) else {
        return;
    };
    let parts: [&[u8]; 3] = [b"m1", b"m22", b"m333"];
    let mut iovs: Vec<libc::iovec> = parts
        .iter()
        .map(|p| iov(p.as_ptr() as usize, p.len()))
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|v| libc::mmsghdr {
            msg_hdr: header(core::slice::from_mut(v)),
            msg_len: 0,
        })
        .collect();
    // SAFETY: three headers over live buffers.
    let sent = cvt(unsafe { libc::sendmmsg(a, msgs.as_mut_ptr(), 3, 0) });
    t.shows("sendmmsg", sent, 3);
    t.is(
        "sendmmsg_lens",
        msgs.iter().map(|m| m.msg_len).eq([2, 3, 4]),
    );
    let got = recv_many(b, 5, libc::MSG_DONTWAIT, None);
    t.shows(
        "recvmmsg_dontwait",
        got.as_ref().map(|g| g.0).map_err(|e| *e),
        3,
    );
    t.is(
        "recvmmsg_lens",
        got.as_ref().is_ok_and(|g| g.1 == [2, 3, 4]),
    );
    t.is(
        "recvmmsg_data",
        got.is_ok_and(|g| g.2.iter().map(Vec::as_slice).eq(parts)),
    );
    t.errno(
        "recvmmsg_empty",
        recv_many(b, 5, libc::MSG_DONTWAIT, None),
        libc::EAGAIN,
    );
    let _ = send(a, b"w1", 0);
    let _ = send(a, b"w2", 0);
    t.shows(
        "recvmmsg_waitforone",
        recv_many(b, 5, libc::MSG_WAITFORONE, None).map(|g| g.0),
        2,
    );
    for p in parts {
        let _ = send(a, p, 0);
    }
    let mut zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    t.shows(
        "recvmmsg_zero_timeout",
        recv_many(b, 5, 0, Some(&mut zero)).map(|g| g.0),
        1,
    );
    t.is(
        "recvmmsg_timeout_left",
        zero.tv_sec == 0 && zero.tv_nsec == 0,
    );
    t.shows(
        "recvmmsg_rest",
        recv_many(b, 5, libc::MSG_DONTWAIT, None).map(|g| g.0),
        2,
    );
    let mut bad = libc::timespec {
        tv_sec: 0,
        tv_nsec: 2_000_000_000,
    };
    t.errno(
        "recvmmsg_bad_timeout",
        recv_many(b, 5, 0, Some(&mut bad)),
        libc::EINVAL,
    );
    let bad_ptr = UNMAPPED as *mut libc::timespec;
    t.errno(
        "recvmmsg_timeout_unmapped",
        recv_many(b, 5, 0, Some(bad_ptr)),
        libc::EFAULT,
    );
    // SAFETY: no headers are read for a count of 0.
    let none = cvt(unsafe { libc::sendmmsg(a, msgs.as_mut_ptr(), 0, 0) });
    t.shows("sendmmsg_zero", none, 0);
    msgs[1].msg_hdr.msg_iovlen = 2000;
    // SAFETY: as above; the second header's count is refused.
    let partial = cvt(unsafe { libc::sendmmsg(a, msgs.as_mut_ptr(), 3, 0) });
    t.shows("sendmmsg_stops_at_bad", partial, 1);
    // SAFETY: as above, from the bad header.
    let first_bad = cvt(unsafe { libc::sendmmsg(a, msgs.as_mut_ptr().add(1), 2, 0) });
    t.errno("sendmmsg_first_bad", first_bad, libc::EMSGSIZE);
    let _ = recv(b, 16, libc::MSG_DONTWAIT);
    if let Ok([p0, p1]) = pipe(libc::O_CLOEXEC) {
        t.errno(
            "recvmmsg_not_socket",
            recv_many(p0, 1, libc::MSG_DONTWAIT, None),
            libc::ENOTSOCK,
        );
        close(p0);
        close(p1);
    }
    close(a);
    close(b);
}
