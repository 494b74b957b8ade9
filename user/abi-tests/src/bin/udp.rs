//! `udp`: `AF_INET` `SOCK_DGRAM` sockets of this program over 127.0.0.1 (the loopback
//! interface): the errnos of bad arguments (`EDESTADDRREQ`, `EMSGSIZE`, `EADDRINUSE`,
//! `EAFNOSUPPORT`, `EINVAL`, `EADDRNOTAVAIL`, `EACCES`, `EOPNOTSUPP`), options read back,
//! names after `bind`, autobind and `connect`, round trips unconnected and connected
//! (`read`/`write`, a connected socket ignoring other senders, disconnecting with
//! `AF_UNSPEC`), datagram boundaries, empty and largest datagrams, `MSG_PEEK`,
//! `MSG_TRUNC` (the flag in and in `msg_flags`), `EAGAIN`, a receive timeout, `poll` and
//! epoll readiness, `shutdown`, `ECONNREFUSED` after sending to a closed port, a small
//! receive buffer dropping what does not fit, `SO_REUSEADDR`, broadcast on `lo`, and
//! `sendmmsg`/`recvmmsg` of several datagrams.
//!
//! Every port is chosen by the kernel and only relations between addresses are printed.
//! No value depends on timing: a datagram through `lo` is processed in the order it was
//! sent, so a blocking receive of a later datagram (a marker) shows that every earlier
//! one was delivered or dropped.

use abi_tests::errno::{cvt, Errno};
use abi_tests::fd::{close, read, recv_msg, write};
use abi_tests::inet::*;
use abi_tests::Transcript;
use core::ffi::c_int;
use core::mem::{size_of, zeroed};

fn main() {
    let t = Transcript::new("udp");
    errors(&t);
    options(&t);
    round_trip(&t);
    truncation(&t);
    readiness(&t);
    connected(&t);
    shutdowns(&t);
    refused(&t);
    small_buffer(&t);
    reuse_and_broadcast(&t);
    batches(&t);
}

fn udp(flags: c_int) -> Result<c_int, Errno> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | flags, 0) })
}

/// A socket bound to 127.0.0.1 and a port the kernel chose, and its address.
fn bound() -> Result<(c_int, libc::sockaddr_in), Errno> {
    let fd = udp(0)?;
    bind(fd, &sin(LOOPBACK, 0))?;
    Ok((fd, name(fd, false)?))
}

/// `sendto` with an address of `len` bytes.
fn send_to_len(fd: c_int, data: &[u8], to: &libc::sockaddr_in, len: usize) -> Result<usize, Errno> {
    // SAFETY: `data` and `to` are live; `len` is at most the size of `to`.
    cvt(unsafe {
        libc::sendto(
            fd,
            data.as_ptr().cast(),
            data.len(),
            0,
            (to as *const libc::sockaddr_in).cast(),
            len as libc::socklen_t,
        )
    })
    .map(|n| n as usize)
}

fn send_to(fd: c_int, data: &[u8], to: &libc::sockaddr_in) -> Result<usize, Errno> {
    send_to_len(fd, data, to, size_of::<libc::sockaddr_in>())
}

/// `recvfrom`: the bytes and the source.
fn recv_from(fd: c_int, len: usize, flags: c_int) -> Result<(Vec<u8>, libc::sockaddr_in), Errno> {
    let mut buf = vec![0u8; len];
    // SAFETY: sockaddr_in is plain data.
    let mut from: libc::sockaddr_in = unsafe { zeroed() };
    let mut flen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: `buf`, `from` and `flen` are live and writable.
    let n = cvt(unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr().cast(),
            len,
            flags,
            (&raw mut from).cast(),
            &mut flen,
        )
    })?;
    buf.truncate((n as usize).min(len));
    Ok((buf, from))
}

fn sockaddr_text(a: &libc::sockaddr_in) -> String {
    format!("{}:{}", ip_of(a), port_of(a))
}

/// Waits for `marker` on `fd` (blocking): every datagram sent through `lo` before it was
/// processed.
fn marker(t: &Transcript, check: &str, fd: c_int) {
    t.shows(check, text(recv(fd, 16, 0)), "marker");
}

fn errors(t: &Transcript) {
    let Some(fd) = t.ok("socket", udp(0)) else {
        return;
    };
    t.shows(
        "fresh_name",
        name(fd, false).map(|a| sockaddr_text(&a)),
        "0.0.0.0:0",
    );
    t.errno("fresh_getpeername_enotconn", name(fd, true), libc::ENOTCONN);
    t.errno(
        "send_unconnected_edestaddrreq",
        send(fd, b"x", 0),
        libc::EDESTADDRREQ,
    );
    t.errno(
        "write_unconnected_edestaddrreq",
        write(fd, b"x"),
        libc::EDESTADDRREQ,
    );
    t.is(
        "failed_send_autobound",
        name(fd, false).is_ok_and(|a| port_of(&a) != 0 && ip_of(&a).is_unspecified()),
    );
    t.errno(
        "bind_after_autobind_einval",
        bind(fd, &sin(LOOPBACK, 0)),
        libc::EINVAL,
    );
    let to = sin(LOOPBACK, 9);
    t.errno(
        "sendto_short_address_einval",
        send_to_len(fd, b"x", &to, 8),
        libc::EINVAL,
    );
    let mut six = to;
    six.sin_family = libc::AF_INET6 as libc::sa_family_t;
    t.errno(
        "sendto_inet6_family_eafnosupport",
        send_to(fd, b"x", &six),
        libc::EAFNOSUPPORT,
    );
    t.errno(
        "sendto_port_0_einval",
        send_to(fd, b"x", &sin(LOOPBACK, 0)),
        libc::EINVAL,
    );
    t.errno(
        "sendto_65536_emsgsize",
        send_to(fd, &vec![0; 65536], &to),
        libc::EMSGSIZE,
    );
    t.errno(
        "sendto_65508_emsgsize",
        send_to(fd, &vec![0; 65508], &to),
        libc::EMSGSIZE,
    );
    t.errno(
        "connect_inet6_eafnosupport",
        connect(fd, &six),
        libc::EAFNOSUPPORT,
    );
    // SAFETY: a one-byte address is read only as far as its length says.
    let short = cvt(unsafe { libc::connect(fd, (&raw const to).cast(), 1) });
    t.errno("connect_short_einval", short, libc::EINVAL);
    // SAFETY: plain system calls.
    t.errno(
        "listen_eopnotsupp",
        cvt(unsafe { libc::listen(fd, 1) }),
        libc::EOPNOTSUPP,
    );
    t.errno(
        "accept_eopnotsupp",
        // SAFETY: null address pointers are allowed.
        cvt(unsafe { libc::accept(fd, core::ptr::null_mut(), core::ptr::null_mut()) }),
        libc::EOPNOTSUPP,
    );
    close(fd);
    let Ok(fd) = udp(0) else { return };
    t.errno(
        "bind_short_einval",
        // SAFETY: the address is read only as far as its length says.
        cvt(unsafe { libc::bind(fd, (&raw const to).cast(), 8) }),
        libc::EINVAL,
    );
    t.errno(
        "bind_inet6_eafnosupport",
        bind(fd, &six),
        libc::EAFNOSUPPORT,
    );
    t.errno(
        "bind_foreign_eaddrnotavail",
        bind(fd, &sin([10, 9, 8, 7], 0)),
        libc::EADDRNOTAVAIL,
    );
    t.ok("bind_loopback_port_0", bind(fd, &sin(LOOPBACK, 0)));
    t.errno(
        "bind_twice_einval",
        bind(fd, &sin(LOOPBACK, 0)),
        libc::EINVAL,
    );
    if let Ok(a) = name(fd, false) {
        let Ok(other) = udp(0) else { return };
        t.errno("bind_same_eaddrinuse", bind(other, &a), libc::EADDRINUSE);
        t.errno(
            "bind_wildcard_same_port_eaddrinuse",
            bind(other, &sin([0, 0, 0, 0], port_of(&a))),
            libc::EADDRINUSE,
        );
        t.ok(
            "bind_other_loopback_address_same_port",
            bind(other, &sin([127, 0, 0, 2], port_of(&a))),
        );
        close(other);
    }
    t.errno(
        "sendto_lo_broadcast_eacces",
        send_to(fd, b"x", &sin([127, 255, 255, 255], 9)),
        libc::EACCES,
    );
    close(fd);
}

fn options(t: &Transcript) {
    let Ok(fd) = udp(0) else { return };
    t.shows(
        "so_type",
        get_int(fd, libc::SOL_SOCKET, libc::SO_TYPE),
        libc::SOCK_DGRAM,
    );
    t.shows(
        "so_domain",
        get_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN),
        libc::AF_INET,
    );
    t.shows(
        "so_protocol",
        get_int(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL),
        libc::IPPROTO_UDP,
    );
    t.shows("so_error", get_int(fd, libc::SOL_SOCKET, libc::SO_ERROR), 0);
    t.shows(
        "so_acceptconn",
        get_int(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN),
        0,
    );
    for (label, opt) in [
        ("so_broadcast", libc::SO_BROADCAST),
        ("so_reuseaddr", libc::SO_REUSEADDR),
        ("so_reuseport", libc::SO_REUSEPORT),
    ] {
        let before = get_int(fd, libc::SOL_SOCKET, opt);
        let after =
            set_int(fd, libc::SOL_SOCKET, opt, 1).and_then(|_| get_int(fd, libc::SOL_SOCKET, opt));
        t.shows(
            label,
            before.and_then(|b| after.map(|a| format!("{b} then {a}"))),
            "0 then 1",
        );
    }
    for (label, opt) in [
        ("so_rcvbuf", libc::SO_RCVBUF),
        ("so_sndbuf", libc::SO_SNDBUF),
    ] {
        let got = set_int(fd, libc::SOL_SOCKET, opt, 8192)
            .and_then(|_| get_int(fd, libc::SOL_SOCKET, opt));
        t.shows(label, got, 16384);
    }
    for (label, opt) in [
        ("so_rcvtimeo", libc::SO_RCVTIMEO),
        ("so_sndtimeo", libc::SO_SNDTIMEO),
    ] {
        let got = set_timeout(fd, opt, 1500).and_then(|_| get_timeout_ms(fd, opt));
        t.shows(label, got, 1500);
    }
    t.errno(
        "unknown_option_enoprotoopt",
        get_int(fd, libc::SOL_SOCKET, 9999),
        libc::ENOPROTOOPT,
    );
    close(fd);
}

fn round_trip(t: &Transcript) {
    let Some((a, a_addr)) = t.ok("bound_receiver", bound()) else {
        return;
    };
    t.is(
        "receiver_name_is_127_0_0_1",
        ip_of(&a_addr) == std::net::Ipv4Addr::LOCALHOST,
    );
    let Ok(b) = udp(0) else { return };
    t.shows("sendto_unbound_sender", send_to(b, b"hello", &a_addr), 5);
    let b_addr = name(b, false);
    t.is(
        "sender_autobound_on_wildcard",
        b_addr.is_ok_and(|n| ip_of(&n).is_unspecified() && port_of(&n) != 0),
    );
    let got = recv_from(a, 100, 0);
    t.shows(
        "recvfrom",
        got.as_ref()
            .map(|(d, _)| String::from_utf8_lossy(d).into_owned())
            .map_err(|e| *e),
        "hello",
    );
    t.is(
        "source_is_127_0_0_1_and_senders_port",
        matches!((&got, &b_addr), (Ok((_, from)), Ok(n)) if ip_of(from) == std::net::Ipv4Addr::LOCALHOST && port_of(from) == port_of(n)),
    );
    for part in ["one", "two", "three"] {
        let _ = send_to(b, part.as_bytes(), &a_addr);
    }
    t.shows("peek", text(recv(a, 100, libc::MSG_PEEK)), "one");
    for (label, want) in [
        ("boundary_one", "one"),
        ("boundary_two", "two"),
        ("boundary_three", "three"),
    ] {
        t.shows(label, text(recv(a, 100, 0)), want);
    }
    t.errno(
        "recv_dontwait_empty_eagain",
        recv(a, 100, libc::MSG_DONTWAIT),
        libc::EAGAIN,
    );
    t.shows("send_empty_datagram", send_to(b, b"", &a_addr), 0);
    let empty = recv_from(a, 100, 0);
    t.is(
        "empty_datagram_with_source",
        matches!((&empty, &b_addr), (Ok((d, from)), Ok(n)) if d.is_empty() && port_of(from) == port_of(n)),
    );
    let big: Vec<u8> = (0..65507).map(|i| (i % 251) as u8).collect();
    t.shows("sendto_65507", send_to(b, &big, &a_addr), 65507);
    t.is(
        "largest_datagram_whole",
        recv(a, 70000, 0).is_ok_and(|d| d == big),
    );
    close(b);
    close(a);
    let Ok(n) = udp(libc::SOCK_NONBLOCK) else {
        return;
    };
    t.errno("read_nonblocking_empty_eagain", read(n, 10), libc::EAGAIN);
    let Ok(w) = udp(0) else { return };
    let _ = bind(w, &sin(LOOPBACK, 0));
    let _ = set_timeout(w, libc::SO_RCVTIMEO, 100);
    t.errno("recv_timeout_eagain", recv(w, 10, 0), libc::EAGAIN);
    close(w);
    close(n);
}

fn truncation(t: &Transcript) {
    let (Ok((a, a_addr)), Ok(b)) = (bound(), udp(0)) else {
        return;
    };
    for d in ["truncate-me", "second", "third!", "fourth"] {
        let _ = send_to(b, d.as_bytes(), &a_addr);
    }
    let got = recv_msg(a, 4, 0);
    t.shows(
        "short_buffer_returns_what_fits",
        got.as_ref().map(|g| g.0).map_err(|e| *e),
        4,
    );
    t.is(
        "short_buffer_data_and_msg_trunc",
        got.is_ok_and(|(_, d, f)| d == b"trun" && f & libc::MSG_TRUNC != 0),
    );
    t.shows(
        "rest_of_truncated_datagram_dropped",
        text(recv(a, 100, 0)),
        "second",
    );
    let full = recv_msg(a, 3, libc::MSG_TRUNC);
    t.shows(
        "msg_trunc_returns_full_length",
        full.as_ref().map(|g| g.0).map_err(|e| *e),
        6,
    );
    t.is(
        "msg_trunc_flag_out",
        full.is_ok_and(|(_, d, f)| d == b"thi" && f & libc::MSG_TRUNC != 0),
    );
    t.shows(
        "peek_trunc_empty_buffer_gives_size",
        recv_msg(a, 0, libc::MSG_TRUNC | libc::MSG_PEEK).map(|g| g.0),
        6,
    );
    let whole = recv_msg(a, 100, 0);
    t.is(
        "whole_datagram_no_msg_trunc",
        whole.is_ok_and(|(n, d, f)| n == 6 && d == b"fourth" && f & libc::MSG_TRUNC == 0),
    );
    close(a);
    close(b);
}

fn epoll_wait(ep: c_int, timeout: c_int) -> Result<Vec<u32>, Errno> {
    // SAFETY: epoll_event is plain data.
    let mut evs: [libc::epoll_event; 4] = unsafe { zeroed() };
    // SAFETY: `evs` has room for four events.
    let n = cvt(unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), 4, timeout) })?;
    Ok(evs[..n as usize].iter().map(|e| e.events).collect())
}

fn readiness(t: &Transcript) {
    let (Ok((a, a_addr)), Ok((m, m_addr)), Ok(b)) = (bound(), bound(), udp(0)) else {
        return;
    };
    t.shows(
        "poll_empty_writable",
        poll1(a, libc::POLLIN | libc::POLLOUT, Some(0)).map(events),
        "OUT",
    );
    let _ = send_to(b, b"ping", &a_addr);
    t.shows(
        "poll_waits_for_datagram",
        poll1(a, libc::POLLIN, None).map(events),
        "IN",
    );
    let _ = recv(a, 10, 0);
    // SAFETY: plain system call.
    let Ok(ep) = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }) else {
        return;
    };
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLET) as u32,
        u64: 7,
    };
    // SAFETY: `ev` is a live epoll_event.
    let added = cvt(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, a, &mut ev) });
    t.ok("epoll_add_edge_triggered", added);
    t.shows("epoll_empty", epoll_wait(ep, 0).map(|v| v.len()), 0);
    let _ = send_to(b, b"one", &a_addr);
    let _ = send_to(b, b"two", &a_addr);
    let _ = send_to(b, b"marker", &m_addr);
    marker(t, "marker_after_two", m);
    t.shows(
        "epoll_edge_reports_once",
        epoll_wait(ep, -1).map(|v| v == [libc::EPOLLIN as u32]),
        true,
    );
    let _ = recv(a, 10, 0);
    t.shows(
        "epoll_edge_not_again",
        epoll_wait(ep, 0).map(|v| v.len()),
        0,
    );
    let _ = recv(a, 10, 0);
    let _ = send_to(b, b"three", &a_addr);
    t.shows(
        "epoll_edge_on_new_datagram",
        epoll_wait(ep, -1).map(|v| v.len()),
        1,
    );
    ev.events = libc::EPOLLIN as u32;
    // SAFETY: `ev` is a live epoll_event.
    let _ = cvt(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_MOD, a, &mut ev) });
    t.shows(
        "epoll_level_while_queued",
        epoll_wait(ep, 0).map(|v| v.len()),
        1,
    );
    let _ = recv(a, 10, 0);
    t.shows("epoll_level_drained", epoll_wait(ep, 0).map(|v| v.len()), 0);
    for fd in [ep, a, m, b] {
        close(fd);
    }
}

fn connected(t: &Transcript) {
    let (Ok((a, a_addr)), Ok((stray, _)), Ok(c)) = (bound(), bound(), udp(0)) else {
        return;
    };
    t.ok("connect", connect(c, &a_addr));
    let c_addr = name(c, false);
    t.is(
        "connected_name_is_route_source",
        c_addr.is_ok_and(|n| ip_of(&n) == std::net::Ipv4Addr::LOCALHOST && port_of(&n) != 0),
    );
    t.is(
        "getpeername_is_peer",
        name(c, true).is_ok_and(|p| same(&p, &a_addr)),
    );
    t.shows("write_connected", write(c, b"w1"), 2);
    let got = recv_from(a, 10, 0);
    t.is(
        "peer_gets_it_from_connected_name",
        matches!((&got, &c_addr), (Ok((d, from)), Ok(n)) if d == b"w1" && same(from, n)),
    );
    let Ok(c_addr) = c_addr else { return };
    let _ = send_to(stray, b"stray", &c_addr);
    let _ = send_to(a, b"from-peer", &c_addr);
    t.shows(
        "read_connected",
        read(c, 20).map(|d| String::from_utf8_lossy(&d).into_owned()),
        "from-peer",
    );
    t.errno(
        "other_senders_filtered",
        recv(c, 20, libc::MSG_DONTWAIT),
        libc::EAGAIN,
    );
    t.shows(
        "sendto_other_while_connected",
        send_to(c, b"x", &name(stray, false).unwrap_or(a_addr)),
        1,
    );
    let _ = send_to(c, b"marker", &a_addr);
    marker(t, "marker_after_sendto_other", a);
    t.shows(
        "stray_socket_got_sendto",
        text(recv(stray, 20, libc::MSG_DONTWAIT)),
        "x",
    );
    let mut unspec = sin([0, 0, 0, 0], 0);
    unspec.sin_family = libc::AF_UNSPEC as libc::sa_family_t;
    t.ok("disconnect_af_unspec", connect(c, &unspec));
    t.errno(
        "disconnected_getpeername_enotconn",
        name(c, true),
        libc::ENOTCONN,
    );
    t.shows(
        "disconnect_gives_back_autobound_name",
        name(c, false).map(|n| sockaddr_text(&n)),
        "0.0.0.0:0",
    );
    t.errno(
        "disconnected_send_edestaddrreq",
        send(c, b"x", 0),
        libc::EDESTADDRREQ,
    );
    let Ok((k, _)) = bound() else { return };
    let _ = connect(k, &a_addr);
    let _ = connect(k, &unspec);
    t.shows(
        "disconnect_keeps_bound_address_not_chosen_port",
        name(k, false).map(|n| sockaddr_text(&n)),
        "127.0.0.1:0",
    );
    close(k);
    let (Ok(k), Ok(port)) = (udp(0), closed_port()) else {
        return;
    };
    let _ = bind(k, &port);
    let _ = connect(k, &a_addr);
    let _ = connect(k, &unspec);
    t.is(
        "disconnect_keeps_bound_port",
        name(k, false).is_ok_and(|n| same(&n, &port)),
    );
    let mut any = a_addr;
    any.sin_addr.s_addr = 0;
    t.ok("connect_to_any_address", connect(k, &any));
    t.is(
        "any_address_peer_is_127_0_0_1",
        name(k, true).is_ok_and(|p| same(&p, &a_addr)),
    );
    for fd in [a, stray, c, k] {
        close(fd);
    }
}

fn shutdowns(t: &Transcript) {
    let (Ok((a, a_addr)), Ok(c)) = (bound(), udp(0)) else {
        return;
    };
    t.errno(
        "shutdown_unconnected_enotconn",
        unsafe_shutdown(c, libc::SHUT_RD),
        libc::ENOTCONN,
    );
    t.shows(
        "shutdown_unconnected_still_shuts",
        poll1(c, libc::POLLIN | libc::POLLOUT, Some(0)).map(events),
        "IN|OUT",
    );
    close(c);
    let Ok(c) = udp(0) else { return };
    let _ = connect(c, &a_addr);
    t.ok("shutdown_rd", unsafe_shutdown(c, libc::SHUT_RD));
    t.shows(
        "shut_rd_poll",
        poll1(c, libc::POLLIN | libc::POLLOUT, Some(0)).map(events),
        "IN|OUT",
    );
    t.shows("shut_rd_recv_returns_0", recv(c, 10, 0).map(|d| d.len()), 0);
    t.errno(
        "shut_rd_recv_dontwait_eagain",
        recv(c, 10, libc::MSG_DONTWAIT),
        libc::EAGAIN,
    );
    t.shows("shut_rd_still_sends", send(c, b"x", 0), 1);
    t.ok("shutdown_wr", unsafe_shutdown(c, libc::SHUT_WR));
    t.errno("shut_wr_send_epipe", send(c, b"x", 0), libc::EPIPE);
    t.shows(
        "shut_both_poll",
        poll1(c, libc::POLLIN | libc::POLLOUT, Some(0)).map(events),
        "IN|OUT|HUP",
    );
    close(c);
    close(a);
}

fn unsafe_shutdown(fd: c_int, how: c_int) -> Result<c_int, Errno> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::shutdown(fd, how) })
}

/// A port nobody holds: one the kernel chose, freed again.
fn closed_port() -> Result<libc::sockaddr_in, Errno> {
    let (fd, addr) = bound()?;
    close(fd);
    Ok(addr)
}

fn refused(t: &Transcript) {
    let (Ok(gone), Ok(c), Ok(u)) = (closed_port(), udp(0), udp(0)) else {
        return;
    };
    let _ = set_timeout(c, libc::SO_RCVTIMEO, 10_000);
    let _ = connect(c, &gone);
    t.shows("send_to_closed_port", send(c, b"anyone?", 0), 7);
    t.errno(
        "recv_after_port_unreachable_econnrefused",
        recv(c, 10, 0),
        libc::ECONNREFUSED,
    );
    t.shows("error_reported_once", send(c, b"again", 0), 5);
    t.shows(
        "poll_err_after_port_unreachable",
        poll1(c, libc::POLLIN, None).map(events),
        "ERR",
    );
    t.shows(
        "so_error_econnrefused_once",
        get_int(c, libc::SOL_SOCKET, libc::SO_ERROR).and_then(|e1| {
            get_int(c, libc::SOL_SOCKET, libc::SO_ERROR)
                .map(|e2| format!("{} then {e2}", Errno(e1)))
        }),
        "ECONNREFUSED then 0",
    );
    let _ = send(c, b"third", 0);
    let _ = poll1(c, libc::POLLIN, None);
    t.errno(
        "send_after_port_unreachable_econnrefused",
        send(c, b"x", 0),
        libc::ECONNREFUSED,
    );
    t.shows("unconnected_sendto_closed_port", send_to(u, b"x", &gone), 1);
    let _ = set_timeout(u, libc::SO_RCVTIMEO, 100);
    t.errno("unconnected_hears_nothing", recv(u, 10, 0), libc::EAGAIN);
    close(c);
    close(u);
}

fn small_buffer(t: &Transcript) {
    let (Ok((r, r_addr)), Ok((m, m_addr)), Ok(s)) = (bound(), bound(), udp(0)) else {
        return;
    };
    let _ = set_int(r, libc::SOL_SOCKET, libc::SO_RCVBUF, 4096);
    let block = [0u8; 1000];
    let mut sent = 0;
    for i in 0..40u8 {
        let mut d = block;
        d[0] = i;
        if send_to(s, &d, &r_addr) == Ok(1000) {
            sent += 1;
        }
    }
    t.shows("all_sends_succeed", Ok::<_, Errno>(sent), 40);
    let _ = send_to(s, b"marker", &m_addr);
    marker(t, "marker_after_flood", m);
    let mut firsts = Vec::new();
    while let Ok(d) = recv(r, 2000, libc::MSG_DONTWAIT) {
        firsts.push(d[0]);
    }
    t.is(
        "some_kept_some_dropped",
        !firsts.is_empty() && firsts.len() < 40,
    );
    t.is(
        "kept_the_first_in_order",
        firsts.iter().enumerate().all(|(i, &f)| usize::from(f) == i),
    );
    for fd in [r, m, s] {
        close(fd);
    }
}

fn reuse_and_broadcast(t: &Transcript) {
    let (Ok(x), Ok(y)) = (udp(0), udp(0)) else {
        return;
    };
    let _ = set_int(x, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
    let _ = set_int(y, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
    let _ = bind(x, &sin([0, 0, 0, 0], 0));
    let Ok(x_addr) = name(x, false) else { return };
    t.ok("so_reuseaddr_both_bind_one_port", bind(y, &x_addr));
    close(y);
    let Ok(s) = udp(0) else { return };
    let to = sin([127, 255, 255, 255], port_of(&x_addr));
    let _ = set_int(s, libc::SOL_SOCKET, libc::SO_BROADCAST, 1);
    t.shows(
        "so_broadcast_sendto_lo_broadcast",
        send_to(s, b"all", &to),
        3,
    );
    t.shows(
        "broadcast_received_on_wildcard",
        text(recv(x, 10, 0)),
        "all",
    );
    close(s);
    close(x);
}

fn batches(t: &Transcript) {
    let (Ok((r, r_addr)), Ok(s)) = (bound(), udp(0)) else {
        return;
    };
    let parts: [&[u8]; 3] = [b"a", b"bb", b"ccc"];
    let mut iovs: Vec<libc::iovec> = parts
        .iter()
        .map(|p| libc::iovec {
            iov_base: p.as_ptr().cast_mut().cast(),
            iov_len: p.len(),
        })
        .collect();
    let mut batch: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|v| {
            // SAFETY: msghdr is plain data.
            let mut h: libc::msghdr = unsafe { zeroed() };
            h.msg_iov = v;
            h.msg_iovlen = 1;
            h.msg_name = (&raw const r_addr).cast_mut().cast();
            h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            libc::mmsghdr {
                msg_hdr: h,
                msg_len: 0,
            }
        })
        .collect();
    // SAFETY: three headers over live buffers and a live address.
    let sent = cvt(unsafe { libc::sendmmsg(s, batch.as_mut_ptr(), 3, 0) });
    t.shows("sendmmsg_three", sent, 3);
    t.is(
        "sendmmsg_lengths",
        batch.iter().map(|m| m.msg_len).eq([1, 2, 3]),
    );
    let mut bufs = [[0u8; 8]; 3];
    let mut from: [libc::sockaddr_in; 3] = [sin([0; 4], 0); 3];
    let mut in_iovs: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect();
    let mut rbatch: Vec<libc::mmsghdr> = in_iovs
        .iter_mut()
        .zip(from.iter_mut())
        .map(|(v, f)| {
            // SAFETY: msghdr is plain data.
            let mut h: libc::msghdr = unsafe { zeroed() };
            h.msg_iov = v;
            h.msg_iovlen = 1;
            h.msg_name = (f as *mut libc::sockaddr_in).cast();
            h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            libc::mmsghdr {
                msg_hdr: h,
                msg_len: 0,
            }
        })
        .collect();
    let none = core::ptr::null_mut();
    // SAFETY: three headers over live, writable buffers and addresses; no timeout.
    let got = cvt(unsafe { libc::recvmmsg(r, rbatch.as_mut_ptr(), 3, 0, none) });
    t.shows("recvmmsg_three", got, 3);
    t.is(
        "recvmmsg_lengths",
        rbatch.iter().map(|m| m.msg_len).eq([1, 2, 3]),
    );
    let s_addr = name(s, false);
    t.is(
        "recvmmsg_data_and_sources",
        bufs[0][..1] == *b"a"
            && bufs[1][..2] == *b"bb"
            && bufs[2][..3] == *b"ccc"
            && s_addr.is_ok_and(|n| from.iter().all(|f| port_of(f) == port_of(&n))),
    );
    // SAFETY: as above.
    let more = cvt(unsafe { libc::recvmmsg(r, rbatch.as_mut_ptr(), 3, libc::MSG_DONTWAIT, none) });
    t.errno("recvmmsg_empty_eagain", more, libc::EAGAIN);
    close(r);
    close(s);
}
