//! Creating sockets, binding names (paths, abstract, autobind), connecting by name,
//! `listen`/`accept` with a backlog, and bad `sockaddr_un` lengths.

use crate::{
    accept, bind, close, connect, int_opt, listen, name_of, pid, poll_now, recv, send,
    set_nonblocking, sock, Addr,
};
use abi_tests::errno::{cvt, Errno};
use abi_tests::fd::{c, open};
use abi_tests::Transcript;
use core::ffi::c_int;
use core::mem::{size_of, zeroed};

pub fn creation(t: &Transcript) {
    for (name, ty) in [
        ("stream", libc::SOCK_STREAM),
        ("dgram", libc::SOCK_DGRAM),
        ("seqpacket", libc::SOCK_SEQPACKET),
        ("raw", libc::SOCK_RAW),
    ] {
        let Some(fd) = t.ok(&format!("socket_{name}"), sock(ty)) else {
            continue;
        };
        let want = if ty == libc::SOCK_RAW {
            libc::SOCK_DGRAM
        } else {
            ty
        };
        t.shows(
            &format!("socket_{name}_so_type"),
            int_opt(fd, libc::SO_TYPE),
            want,
        );
        close(fd);
    }
    // SAFETY: no pointers.
    let r = cvt(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 7) });
    t.errno("socket_bad_protocol", r, libc::EPROTONOSUPPORT);
    let Ok(fd) = sock(libc::SOCK_STREAM) else {
        return;
    };
    t.shows("so_domain", int_opt(fd, libc::SO_DOMAIN), libc::AF_UNIX);
    t.shows("so_acceptconn_fresh", int_opt(fd, libc::SO_ACCEPTCONN), 0);
    let unbound = name_of(fd, false);
    t.shows("getsockname_unbound_len", unbound.map(|n| n.1), 2);
    t.errno("getpeername_unconnected", name_of(fd, true), libc::ENOTCONN);
    t.errno(
        "recv_unconnected_stream",
        recv(fd, 4, libc::MSG_DONTWAIT),
        libc::EINVAL,
    );
    t.errno("send_unconnected_stream", send(fd, b"x", 0), libc::ENOTCONN);
    t.errno("listen_unbound", listen(fd, 1), libc::EINVAL);
    t.shows(
        "poll_fresh_stream",
        Ok::<_, Errno>(poll_now(fd, libc::POLLIN | libc::POLLOUT)),
        libc::POLLOUT | libc::POLLHUP,
    );
    close(fd);
}

/// `stat` of `path`: its type and permission bits.
fn mode_of(path: &str) -> Result<u32, Errno> {
    // SAFETY: stat is plain data.
    let mut st: libc::stat = unsafe { zeroed() };
    // SAFETY: a valid C string and a writable stat.
    cvt(unsafe { libc::stat(c(path).as_ptr(), &mut st) })?;
    Ok(st.st_mode)
}

pub fn paths(t: &Transcript) {
    let (Ok(a), Ok(b)) = (sock(libc::SOCK_STREAM), sock(libc::SOCK_STREAM)) else {
        return;
    };
    t.ok("bind_path", bind(a, &Addr::path("sock-a")));
    let mode = mode_of("sock-a");
    t.is(
        "bound_path_is_socket",
        mode.is_ok_and(|m| m & libc::S_IFMT == libc::S_IFSOCK),
    );
    t.shows(
        "bound_path_mode",
        mode.map(|m| format!("{:o}", m & 0o777)),
        "755",
    );
    let name = name_of(a, false);
    t.shows(
        "getsockname_path_len",
        name.as_ref().map(|n| n.1).map_err(|e| *e),
        2 + "sock-a".len() + 1,
    );
    t.is(
        "getsockname_path_bytes",
        name.is_ok_and(|n| n.0 == b"sock-a\0"),
    );
    t.errno(
        "bind_existing_path",
        bind(b, &Addr::path("sock-a")),
        libc::EADDRINUSE,
    );
    t.errno("bind_twice", bind(a, &Addr::path("sock-a2")), libc::EINVAL);
    t.errno(
        "bind_twice_leaves_no_inode",
        mode_of("sock-a2"),
        libc::ENOENT,
    );
    t.errno(
        "bind_missing_dir",
        bind(b, &Addr::path("no-dir/s")),
        libc::ENOENT,
    );
    t.errno(
        "connect_no_such_path",
        connect(b, &Addr::path("sock-none")),
        libc::ENOENT,
    );
    if let Ok(fd) = open("plain", libc::O_CREAT | libc::O_WRONLY, 0o644) {
        close(fd);
    }
    t.errno(
        "connect_regular_file",
        connect(b, &Addr::path("plain")),
        libc::ECONNREFUSED,
    );
    t.errno(
        "connect_not_listening",
        connect(b, &Addr::path("sock-a")),
        libc::ECONNREFUSED,
    );
    t.errno(
        "open_socket_inode",
        open("sock-a", libc::O_RDONLY, 0),
        libc::ENXIO,
    );
    if let Ok(d) = sock(libc::SOCK_DGRAM) {
        t.ok("bind_dgram_path", bind(d, &Addr::path("sock-d")));
        t.errno(
            "connect_wrong_type",
            connect(b, &Addr::path("sock-d")),
            libc::EPROTOTYPE,
        );
        t.errno("listen_dgram", listen(d, 1), libc::EOPNOTSUPP);
        close(d);
    }
    // A path of 108 bytes with no NUL: the name ends at the address's end.
    let long = "L".repeat(108);
    if let Ok(fd) = sock(libc::SOCK_STREAM) {
        t.ok(
            "bind_unterminated_path",
            bind(fd, &Addr::raw(long.as_bytes(), 108)),
        );
        t.shows(
            "unterminated_path_len",
            name_of(fd, false).map(|n| n.1),
            111,
        );
        t.is("unterminated_path_inode", mode_of(&long).is_ok());
        close(fd);
    }
    close(a);
    close(b);
    // The inode stays after the close; a new bind there is refused, a connect refused.
    if let Ok(fd) = sock(libc::SOCK_STREAM) {
        t.errno(
            "bind_after_close",
            bind(fd, &Addr::path("sock-a")),
            libc::EADDRINUSE,
        );
        t.errno(
            "connect_after_close",
            connect(fd, &Addr::path("sock-a")),
            libc::ECONNREFUSED,
        );
        close(fd);
    }
}

pub fn listen_accept(t: &Transcript) {
    let Ok(l) = sock(libc::SOCK_STREAM) else {
        return;
    };
    t.ok("listener_bind", bind(l, &Addr::path("listener")));
    t.ok("listen", listen(l, 0));
    t.shows("so_acceptconn", int_opt(l, libc::SO_ACCEPTCONN), 1);
    t.ok("listen_again", listen(l, 1));
    set_nonblocking(l, true);
    t.errno("accept_nonblocking_empty", accept(l, 0), libc::EAGAIN);
    set_nonblocking(l, false);
    t.shows(
        "poll_listener_idle",
        Ok::<_, Errno>(poll_now(l, libc::POLLIN | libc::POLLOUT)),
        0,
    );
    let Ok(c1) = sock(libc::SOCK_STREAM) else {
        return;
    };
    t.ok("connect_listener", connect(c1, &Addr::path("listener")));
    t.shows(
        "poll_listener_pending",
        Ok::<_, Errno>(poll_now(l, libc::POLLIN | libc::POLLOUT)),
        libc::POLLIN,
    );
    t.errno(
        "connect_connected",
        connect(c1, &Addr::path("listener")),
        libc::EISCONN,
    );
    let peer = name_of(c1, true);
    t.is(
        "client_peer_is_listener",
        peer.is_ok_and(|p| p.0 == b"listener\0"),
    );
    t.shows("client_name_unbound", name_of(c1, false).map(|n| n.1), 2);
    t.shows("send_before_accept", send(c1, b"early", 0), 5);
    // Backlog 1 (the second listen): two connections wait, a third is refused.
    let c2 = sock(libc::SOCK_STREAM).ok();
    let c3 = sock(libc::SOCK_STREAM | libc::SOCK_NONBLOCK).ok();
    if let (Some(c2), Some(c3)) = (c2, c3) {
        set_nonblocking(c2, true);
        t.ok("connect_second", connect(c2, &Addr::path("listener")));
        t.errno(
            "connect_backlog_full",
            connect(c3, &Addr::path("listener")),
            libc::EAGAIN,
        );
        close(c2);
        close(c3);
    }
    match t.ok("accept", accept(l, 0)) {
        Some((s, len)) => {
            t.eq("accept_peer_len", len, 2);
            t.is(
                "accepted_name_is_listener",
                name_of(s, false).is_ok_and(|n| n.0 == b"listener\0"),
            );
            t.is(
                "accepted_early_data",
                recv(s, 16, 0).is_ok_and(|r| r.1 == b"early"),
            );
            peer_credentials(t, s, c1);
            // A close with unread data resets the peer: ECONNRESET once, then end of file.
            t.shows("send_unread", send(s, b"unread", 0), 6);
            close(c1);
            t.errno("read_after_peer_reset", recv(s, 8, 0), libc::ECONNRESET);
            t.shows("read_after_reset_eof", recv(s, 8, 0).map(|r| r.0), 0);
            t.errno(
                "send_after_peer_close",
                send(s, b"x", libc::MSG_NOSIGNAL),
                libc::EPIPE,
            );
            t.shows(
                "poll_after_peer_close",
                Ok::<_, Errno>(poll_now(s, libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP)),
                libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP | libc::POLLHUP,
            );
            close(s);
        }
        None => close(c1),
    }
    // The second connection is still queued: accept it.
    t.is("accept_second", accept(l, 0).map(|(s, _)| close(s)).is_ok());
    close(l);
    // SAFETY: a valid C string.
    let unlinked = cvt(unsafe { libc::unlink(c("listener").as_ptr()) });
    t.ok("unlink_listener", unlinked);
}

/// `SO_PEERCRED` both ways: this process.
fn peer_credentials(t: &Transcript, server: c_int, client: c_int) {
    for (check, fd) in [
        ("peercred_server_side", server),
        ("peercred_client_side", client),
    ] {
        // SAFETY: ucred is plain data.
        let mut cred: libc::ucred = unsafe { zeroed() };
        let mut len = size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: `cred` and `len` are live and writable.
        let r = cvt(unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_PEERCRED,
                (&raw mut cred).cast(),
                &mut len,
            )
        });
        // SAFETY: no arguments.
        let me = unsafe { (libc::getpid(), libc::geteuid(), libc::getegid()) };
        t.is(
            check,
            r.is_ok() && (cred.pid, cred.uid, cred.gid) == me && len == 12,
        );
    }
}

pub fn abstract_names(t: &Transcript) {
    let name = format!("halyard-abi-{}", pid());
    let (Ok(a), Ok(b)) = (sock(libc::SOCK_STREAM), sock(libc::SOCK_STREAM)) else {
        return;
    };
    t.errno(
        "connect_abstract_unbound",
        connect(b, &Addr::abstract_name(&name)),
        libc::ECONNREFUSED,
    );
    t.ok("bind_abstract", bind(a, &Addr::abstract_name(&name)));
    let got = name_of(a, false);
    t.is(
        "abstract_name_len",
        got.as_ref().is_ok_and(|n| n.1 == 2 + 1 + name.len()),
    );
    let mut want = vec![0u8];
    want.extend_from_slice(name.as_bytes());
    t.is("abstract_name_bytes", got.is_ok_and(|n| n.0 == want));
    t.errno(
        "bind_abstract_taken",
        bind(b, &Addr::abstract_name(&name)),
        libc::EADDRINUSE,
    );
    if let Ok(d) = sock(libc::SOCK_DGRAM) {
        t.ok(
            "bind_abstract_other_type",
            bind(d, &Addr::abstract_name(&name)),
        );
        close(d);
    }
    t.ok("listen_abstract", listen(a, 4));
    t.ok("connect_abstract", connect(b, &Addr::abstract_name(&name)));
    t.is(
        "accept_abstract",
        accept(a, 0).map(|(s, _)| close(s)).is_ok(),
    );
    close(a);
    close(b);
    // The name is free again once its socket is closed.
    if let Ok(fd) = sock(libc::SOCK_STREAM) {
        t.ok(
            "bind_abstract_after_close",
            bind(fd, &Addr::abstract_name(&name)),
        );
        close(fd);
    }
    if let Ok(fd) = sock(libc::SOCK_DGRAM) {
        t.ok("autobind", bind(fd, &Addr::raw(&[], 0)));
        let got = name_of(fd, false);
        t.shows("autobind_len", got.as_ref().map(|n| n.1).map_err(|e| *e), 8);
        t.is(
            "autobind_is_abstract_hex",
            got.is_ok_and(|n| n.0[0] == 0 && n.0[1..6].iter().all(u8::is_ascii_hexdigit)),
        );
        close(fd);
    }
}

pub fn bad_lengths(t: &Transcript) {
    let Ok(fd) = sock(libc::SOCK_STREAM) else {
        return;
    };
    let a = Addr::path("bad");
    let bind_len = |len: libc::socklen_t| {
        // SAFETY: `a.sun` is live; lengths beyond it are refused before any byte past it
        // is read, as each check asserts.
        cvt(unsafe { libc::bind(fd, (&raw const a.sun).cast(), len) })
    };
    t.errno("bind_len_0", bind_len(0), libc::EINVAL);
    t.errno("bind_len_1", bind_len(1), libc::EINVAL);
    t.errno("bind_len_111", bind_len(111), libc::EINVAL);
    t.errno("bind_len_129", bind_len(129), libc::EINVAL);
    t.errno("bind_len_negative", bind_len(u32::MAX), libc::EINVAL);
    let inet = Addr {
        sun: libc::sockaddr_un {
            sun_family: libc::AF_INET as libc::sa_family_t,
            ..a.sun
        },
        len: a.len,
    };
    t.errno("bind_wrong_family", bind(fd, &inet), libc::EINVAL);
    // SAFETY: a null address: the kernel's copy fails.
    let r = cvt(unsafe { libc::bind(fd, core::ptr::null(), 20) });
    t.errno("bind_null_addr", r, libc::EFAULT);
    // SAFETY: as above.
    let r = cvt(unsafe { libc::connect(fd, (&raw const a.sun).cast(), 2) });
    t.errno("connect_len_family_only", r, libc::EINVAL);
    // SAFETY: as above.
    let r = cvt(unsafe { libc::connect(fd, (&raw const a.sun).cast(), 200) });
    t.errno("connect_len_200", r, libc::EINVAL);
    t.errno("bad_len_leaves_no_inode", mode_of("bad"), libc::ENOENT);
    close(fd);
}
