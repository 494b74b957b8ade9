//! `AF_UNIX` socket pairs: `socketpair`, `sendto`, `recvfrom`, end of file and `EPIPE`
//! after a close, and the errnos of a bad domain, type, protocol or pointer.
//!
//! `SOCK_STREAM` and `SOCK_SEQPACKET` pairs only, and nothing that depends on
//! `SOCK_SEQPACKET` keeping message boundaries: Halyard serves both as byte streams and
//! has no `SOCK_DGRAM` pairs (docs/userspace.md, known gaps).

use crate::{close, next_fd, outcome, read, write, BAD_PTR};
use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::process::run;
use abi_tests::signal::{set_action, Action};
use abi_tests::Transcript;
use core::ffi::c_int;

/// `socketpair(AF_UNIX, ty, protocol)`.
fn pair_of(domain: c_int, ty: c_int, protocol: c_int) -> Result<[c_int; 2], Errno> {
    let mut sv = [-1; 2];
    // SAFETY: `sv` has room for the two descriptors.
    cvt(unsafe { libc::socketpair(domain, ty, protocol, sv.as_mut_ptr()) })?;
    Ok(sv)
}

fn unix_pair(ty: c_int) -> Result<[c_int; 2], Errno> {
    pair_of(libc::AF_UNIX, ty, 0)
}

fn send(fd: c_int, data: &[u8], flags: c_int) -> Result<isize, Errno> {
    // SAFETY: `data` is a live buffer of its length; no address.
    cvt(unsafe {
        libc::sendto(
            fd,
            data.as_ptr().cast(),
            data.len(),
            flags,
            core::ptr::null(),
            0,
        )
    })
}

/// `recvfrom` with room for an address; returns the bytes and the address length the
/// kernel wrote back.
fn recv(fd: c_int, len: usize, flags: c_int) -> Result<(Vec<u8>, libc::socklen_t), Errno> {
    let mut buf = vec![0u8; len];
    // SAFETY: sockaddr_storage is plain data.
    let mut from: libc::sockaddr_storage = unsafe { core::mem::zeroed() };
    let mut from_len = core::mem::size_of_val(&from) as libc::socklen_t;
    // SAFETY: every pointer is to a live, writable object of the size given.
    let n = cvt(unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr().cast(),
            len,
            flags,
            (&raw mut from).cast(),
            &mut from_len,
        )
    })?;
    buf.truncate(n as usize);
    Ok((buf, from_len))
}

fn fd_flags(fd: c_int, cmd: c_int) -> c_int {
    // SAFETY: F_GETFD/F_GETFL take no argument.
    unsafe { libc::fcntl(fd, cmd) }
}

pub fn pairs(t: &Transcript) {
    let Some([a, b]) = t.ok("socketpair_stream", unix_pair(libc::SOCK_STREAM)) else {
        return;
    };
    // SAFETY: stat is plain data.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: a writable stat.
    let stat = cvt(unsafe { libc::fstat(a, &mut st) });
    t.is(
        "socketpair_fstat_is_socket",
        stat.is_ok() && st.st_mode & libc::S_IFMT == libc::S_IFSOCK,
    );
    t.is("socketpair_fds_differ", a != b);
    let _ = write(a, b"ping");
    t.is("socketpair_a_to_b", read(b, 64).as_deref() == Ok(b"ping"));
    let _ = write(b, b"pong!");
    t.is("socketpair_b_to_a", read(a, 64).as_deref() == Ok(b"pong!"));
    t.eq(
        "socketpair_is_read_write",
        fd_flags(a, libc::F_GETFL) & libc::O_ACCMODE,
        libc::O_RDWR,
    );
    t.eq("socketpair_no_cloexec", fd_flags(a, libc::F_GETFD), 0);
    close(a);
    t.shows(
        "socketpair_eof_after_close",
        read(b, 64).map(|d| d.len()),
        0,
    );
    let nosignal = send(b, b"x", libc::MSG_NOSIGNAL);
    t.errno("send_after_peer_closed_epipe", nosignal, libc::EPIPE);
    // Rust's start-up ignores SIGPIPE: the child puts the default action back.
    let killed = run(|| {
        let _ = set_action(libc::SIGPIPE, Action::Default, 0);
        write(b, b"x").map_or(1, |_| 2)
    });
    t.shows("write_after_peer_closed_sigpipe", killed, "killed(SIGPIPE)");
    close(b);

    let flags = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    if let Some([a, b]) = t.ok("socketpair_nonblock_cloexec", unix_pair(flags)) {
        t.eq(
            "socketpair_cloexec_set",
            fd_flags(a, libc::F_GETFD),
            libc::FD_CLOEXEC,
        );
        t.is(
            "socketpair_nonblock_set",
            fd_flags(b, libc::F_GETFL) & libc::O_NONBLOCK != 0,
        );
        t.errno("socketpair_nonblock_read_eagain", read(a, 8), libc::EAGAIN);
        close(a);
        close(b);
    }
    if let Some([a, b]) = t.ok("socketpair_seqpacket", unix_pair(libc::SOCK_SEQPACKET)) {
        let _ = write(a, b"one message");
        t.is(
            "seqpacket_message_read",
            read(b, 64).as_deref() == Ok(b"one message"),
        );
        close(a);
        t.shows("seqpacket_eof_after_close", read(b, 64).map(|d| d.len()), 0);
        close(b);
    }
    let unix_protocol = pair_of(libc::AF_UNIX, libc::SOCK_STREAM, libc::PF_UNIX);
    t.eq(
        "socketpair_protocol_pf_unix",
        outcome(unix_protocol.map(|[a, b]| {
            close(a);
            close(b);
        })),
        "ok".to_string(),
    );
}

pub fn transfer(t: &Transcript) {
    let Ok([a, b]) = unix_pair(libc::SOCK_STREAM) else {
        return t.fail("sendto_count", "a socket pair", Errno::last());
    };
    t.shows("sendto_count", send(a, b"hello", 0), 5);
    let got = recv(b, 64, 0);
    t.is(
        "recvfrom_data",
        got.as_ref().is_ok_and(|(d, _)| d == b"hello"),
    );
    t.shows("recvfrom_unnamed_peer_addrlen", got.map(|(_, l)| l), 0);
    let _ = send(a, b"abcdef", 0);
    t.is(
        "recvfrom_short_buffer",
        recv(b, 4, 0).is_ok_and(|(d, _)| d == b"abcd"),
    );
    t.is(
        "recvfrom_rest",
        recv(b, 64, 0).is_ok_and(|(d, _)| d == b"ef"),
    );
    t.errno(
        "recvfrom_dontwait_empty_eagain",
        recv(b, 8, libc::MSG_DONTWAIT),
        libc::EAGAIN,
    );
    // SAFETY: sockaddr_un is plain data.
    let mut to: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    to.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let size = core::mem::size_of_val(&to) as libc::socklen_t;
    // SAFETY: a live buffer and a valid address of `size` bytes.
    let addressed =
        cvt(unsafe { libc::sendto(a, b"x".as_ptr().cast(), 1, 0, (&raw const to).cast(), size) });
    t.errno(
        "sendto_address_on_connected_eisconn",
        addressed,
        libc::EISCONN,
    );
    t.shows("sendto_zero_bytes", send(a, b"", 0), 0);
    // SAFETY: the buffer pointer is bad on purpose: the kernel must fail, not fault.
    let fault = unsafe { raw(libc::SYS_sendto, [a as usize, BAD_PTR, 4, 0, 0, 0]) };
    t.errno("sendto_bad_buffer_efault", fault, libc::EFAULT);
    let _ = send(a, b"zz", 0);
    // SAFETY: as above.
    let fault = unsafe { raw(libc::SYS_recvfrom, [b as usize, BAD_PTR, 4, 0, 0, 0]) };
    t.errno("recvfrom_bad_buffer_efault", fault, libc::EFAULT);
    close(a);
    close(b);
    let Ok([r, w]) = crate::pipe(0) else {
        return;
    };
    t.errno("sendto_on_pipe_enotsock", send(w, b"x", 0), libc::ENOTSOCK);
    t.errno("recvfrom_on_pipe_enotsock", recv(r, 8, 0), libc::ENOTSOCK);
    close(r);
    close(w);
    t.errno("sendto_bad_fd_ebadf", send(-1, b"x", 0), libc::EBADF);
}

pub fn errors(t: &Transcript) {
    let free = next_fd();
    t.errno(
        "socketpair_unknown_domain_eafnosupport",
        pair_of(1000, libc::SOCK_STREAM, 0),
        libc::EAFNOSUPPORT,
    );
    t.errno(
        "socketpair_bad_protocol_eprotonosupport",
        pair_of(libc::AF_UNIX, libc::SOCK_STREAM, 2),
        libc::EPROTONOSUPPORT,
    );
    t.errno(
        "socketpair_bad_protocol_before_type",
        pair_of(libc::AF_UNIX, libc::SOCK_RDM, 2),
        libc::EPROTONOSUPPORT,
    );
    t.errno(
        "socketpair_rdm_esocktnosupport",
        unix_pair(libc::SOCK_RDM),
        libc::ESOCKTNOSUPPORT,
    );
    t.errno(
        "socketpair_type_0_esocktnosupport",
        unix_pair(0),
        libc::ESOCKTNOSUPPORT,
    );
    t.errno(
        "socketpair_type_out_of_range_einval",
        unix_pair(11),
        libc::EINVAL,
    );
    t.errno(
        "socketpair_unknown_type_flag_einval",
        unix_pair(libc::SOCK_STREAM | 0x100),
        libc::EINVAL,
    );
    t.errno(
        "socketpair_flag_before_domain",
        pair_of(1000, libc::SOCK_STREAM | 0x100, 0),
        libc::EINVAL,
    );
    let unix = libc::AF_UNIX as usize;
    let stream = libc::SOCK_STREAM as usize;
    // SAFETY: the result pointer is bad on purpose: the kernel must fail, not fault.
    let fault = unsafe { raw(libc::SYS_socketpair, [unix, stream, 0, BAD_PTR, 0, 0]) };
    t.errno("socketpair_bad_pointer_efault", fault, libc::EFAULT);
    t.is("socketpair_failures_leak_no_fd", next_fd() == free);
}
