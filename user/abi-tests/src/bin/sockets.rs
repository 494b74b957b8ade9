//! `sockets`: `AF_INET` TCP between two sockets of this program over 127.0.0.1 (the
//! loopback interface): blocking and non-blocking connect, accept, read and write,
//! `EINPROGRESS` then `SO_ERROR`, refused connections, half-close, a reset by a close
//! with unread data (`ECONNRESET`, then `EPIPE` and `SIGPIPE`), `EADDRINUSE` and
//! `SO_REUSEADDR`, names, options read back after setting them, `MSG_PEEK`,
//! `MSG_DONTWAIT`, `MSG_WAITALL`, poll readiness, receive timeouts and a 4 MiB transfer
//! to a forked child; before those, the errnos of bad arguments and of calls on an
//! unconnected socket, and a blocking `accept` ended by a signal or a timeout; last,
//! reads and writes with buffers that reach an inaccessible page (`EFAULT` when the copy
//! reaches it, nothing consumed or queued) and a `MSG_PEEK` scattered over two buffers.
//!
//! Every port is chosen by the kernel (bind to port 0) and only relations between
//! addresses are printed; no value depends on timing: every wait is for an event that
//! must come (a blocking call, or `poll` without a timeout).

use abi_tests::errno::{cvt, Errno};
use abi_tests::fd::close;
use abi_tests::inet::*;
use abi_tests::process::run;
use abi_tests::signal::{set_action, Action};
use abi_tests::Transcript;
use core::ffi::c_int;
use core::mem::{size_of, zeroed};
use linux_raw_sys::net::{TCPI_OPT_SACK, TCPI_OPT_TIMESTAMPS};
use std::sync::atomic::{AtomicU32, Ordering};

fn main() {
    let t = Transcript::new("sockets");
    errors(&t);
    interrupted_accept(&t);
    names_and_transfer(&t);
    nonblocking(&t);
    refused(&t);
    half_close(&t);
    reset(&t);
    addresses_in_use(&t);
    options(&t);
    tcp_info(&t);
    interface_ioctls(&t);
    receive_timeout(&t);
    large_transfer(&t);
    messages(&t);
    bad_buffers(&t);
}

fn tcp(flags: c_int) -> Result<c_int, Errno> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | flags, 0) })
}

fn listen(fd: c_int) -> Result<c_int, Errno> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::listen(fd, 16) })
}

fn accept4(fd: c_int, flags: c_int) -> Result<c_int, Errno> {
    // SAFETY: null address pointers are allowed.
    cvt(unsafe { libc::accept4(fd, core::ptr::null_mut(), core::ptr::null_mut(), flags) })
}

/// A listener on 127.0.0.1 and a port the kernel chose, and its address.
fn listener(flags: c_int) -> Result<(c_int, libc::sockaddr_in), Errno> {
    let fd = tcp(flags)?;
    bind(fd, &sin(LOOPBACK, 0))?;
    listen(fd)?;
    Ok((fd, name(fd, false)?))
}

/// A connected pair over 127.0.0.1: (client, accepted), the listener closed.
fn pair() -> Result<(c_int, c_int), Errno> {
    let (l, addr) = listener(0)?;
    let c = tcp(0)?;
    connect(c, &addr)?;
    let s = accept4(l, 0)?;
    close(l);
    Ok((c, s))
}

fn names_and_transfer(t: &Transcript) {
    let Some((l, addr)) = t.ok("listen_on_loopback_port_0", listener(0)) else {
        return;
    };
    t.eq("listener_name_is_127_0_0_1", ip_of(&addr), LOOPBACK.into());
    t.is("listener_port_chosen", port_of(&addr) != 0);
    t.shows(
        "so_acceptconn_listener",
        get_int(l, libc::SOL_SOCKET, libc::SO_ACCEPTCONN),
        1,
    );
    let Some(c) = t.ok("socket", tcp(0)) else {
        return;
    };
    t.errno("getpeername_unconnected", name(c, true), libc::ENOTCONN);
    t.ok("connect_blocking", connect(c, &addr));
    t.errno("connect_again_eisconn", connect(c, &addr), libc::EISCONN);
    let Some(s) = t.ok("accept", accept4(l, 0)) else {
        return;
    };
    let (cl, cp, sl, sp) = (name(c, false), name(c, true), name(s, false), name(s, true));
    if let (Ok(cl), Ok(cp), Ok(sl), Ok(sp)) = (cl, cp, sl, sp) {
        t.is("client_peer_is_listener", same(&cp, &addr));
        t.eq("client_local_is_127_0_0_1", ip_of(&cl), LOOPBACK.into());
        t.is(
            "client_port_differs_from_listener",
            port_of(&cl) != port_of(&addr),
        );
        t.is("accepted_local_is_listener", same(&sl, &addr));
        t.is("accepted_peer_is_client", same(&sp, &cl));
    } else {
        t.fail("names", "ok", "a name call failed");
    }
    t.shows(
        "so_acceptconn_stream",
        get_int(s, libc::SOL_SOCKET, libc::SO_ACCEPTCONN),
        0,
    );
    t.shows("send", send(c, b"hello", 0), 5);
    t.shows("recv_peek", text(recv(s, 100, libc::MSG_PEEK)), "hello");
    t.shows(
        "poll_pollin_on_data",
        poll1(s, libc::POLLIN | libc::POLLOUT, None).map(events),
        "IN|OUT",
    );
    t.shows("recv_after_peek", text(recv(s, 100, 0)), "hello");
    t.errno(
        "recv_dontwait_empty",
        recv(s, 100, libc::MSG_DONTWAIT),
        libc::EAGAIN,
    );
    t.shows(
        "poll_idle_stream",
        poll1(s, libc::POLLIN | libc::POLLOUT, Some(0)).map(events),
        "OUT",
    );
    t.shows("send_part_one", send(c, b"abcde", 0), 5);
    t.shows("send_part_two", send(c, b"fghij", 0), 5);
    t.shows(
        "recv_waitall",
        text(recv(s, 10, libc::MSG_WAITALL)),
        "abcdefghij",
    );
    t.shows("write_back", send(s, b"reply", 0), 5);
    t.shows("read_back", text(recv(c, 100, 0)), "reply");
    // A pending connection makes the listener readable.
    let c2 = tcp(0);
    if let Ok(c2) = c2 {
        t.ok("connect_second", connect(c2, &addr));
        t.shows(
            "poll_listener_pending",
            poll1(l, libc::POLLIN, None).map(events),
            "IN",
        );
        close(c2);
    }
    for fd in [c, s, l] {
        close(fd);
    }
}

fn nonblocking(t: &Transcript) {
    let Some((l, addr)) = t.ok("nonblocking_listener", listener(libc::SOCK_NONBLOCK)) else {
        return;
    };
    t.errno("accept_nonblocking_eagain", accept4(l, 0), libc::EAGAIN);
    t.shows(
        "poll_listener_idle",
        poll1(l, libc::POLLIN, Some(0)).map(events),
        "none",
    );
    let Ok(c) = tcp(libc::SOCK_NONBLOCK) else {
        return;
    };
    t.errno(
        "connect_nonblocking_einprogress",
        connect(c, &addr),
        libc::EINPROGRESS,
    );
    t.shows(
        "poll_connecting_pollout",
        poll1(c, libc::POLLOUT, None).map(events),
        "OUT",
    );
    t.shows(
        "so_error_connected",
        get_int(c, libc::SOL_SOCKET, libc::SO_ERROR),
        0,
    );
    // Linux reports the completed handshake to the first connect after EINPROGRESS.
    t.ok("connect_after_einprogress", connect(c, &addr));
    t.errno(
        "connect_connected_eisconn",
        connect(c, &addr),
        libc::EISCONN,
    );
    t.shows(
        "poll_listener_ready",
        poll1(l, libc::POLLIN, None).map(events),
        "IN",
    );
    let Some(s) = t.ok(
        "accept4_nonblock",
        accept4(l, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC),
    ) else {
        return;
    };
    // SAFETY: F_GETFL/F_GETFD take no argument.
    let (fl, fd_flags) = unsafe { (libc::fcntl(s, libc::F_GETFL), libc::fcntl(s, libc::F_GETFD)) };
    t.is("accept4_o_nonblock", fl & libc::O_NONBLOCK != 0);
    t.is("accept4_fd_cloexec", fd_flags & libc::FD_CLOEXEC != 0);
    t.errno("read_nonblocking_eagain", recv(s, 10, 0), libc::EAGAIN);
    t.shows("write_nonblocking", send(c, b"x", 0), 1);
    t.shows(
        "poll_then_read",
        poll1(s, libc::POLLIN, None).map(events),
        "IN",
    );
    t.shows("read_nonblocking", text(recv(s, 10, 0)), "x");
    // Fill the connection without reading: a non-blocking write ends with EAGAIN and
    // the writer stops polling writable. Full means full for good: segments still in
    // flight when the first EAGAIN comes may be acknowledged later and free room (a kernel
    // that runs its loopback asynchronously shows it), so fill again after a pause until
    // a pause frees nothing: then the receiver's window is closed.
    let chunk = vec![7u8; 65536];
    let mut total = 0usize;
    let mut fill = || loop {
        match send(c, &chunk, 0) {
            Ok(n) => total += n,
            Err(e) => break Err::<(), _>(e),
        }
        if total > 64 << 20 {
            break Ok(());
        }
    };
    let mut full = fill();
    for _ in 0..50 {
        if full.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        match send(c, &chunk[..1], 0) {
            Err(_) => break,
            Ok(_) => full = fill(),
        }
    }
    t.errno("write_until_full_eagain", full, libc::EAGAIN);
    t.shows(
        "poll_full_not_writable",
        poll1(c, libc::POLLOUT, Some(0)).map(events),
        "none",
    );
    for fd in [c, s, l] {
        close(fd);
    }
}

fn refused(t: &Transcript) {
    // A port bound but not listening: connections are reset.
    let Ok(b) = tcp(0) else { return };
    let _ = bind(b, &sin(LOOPBACK, 0));
    let Ok(addr) = name(b, false) else { return };
    let Ok(c) = tcp(0) else { return };
    t.errno("connect_refused", connect(c, &addr), libc::ECONNREFUSED);
    close(c);
    let Ok(c) = tcp(libc::SOCK_NONBLOCK) else {
        return;
    };
    t.errno(
        "connect_nonblocking_refused_einprogress",
        connect(c, &addr),
        libc::EINPROGRESS,
    );
    let ev = poll1(c, libc::POLLOUT, None);
    t.is(
        "poll_refused_err_hup",
        ev.is_ok_and(|e| e & libc::POLLERR != 0 && e & libc::POLLHUP != 0),
    );
    t.shows(
        "so_error_refused",
        get_int(c, libc::SOL_SOCKET, libc::SO_ERROR).map(Errno),
        Errno(libc::ECONNREFUSED),
    );
    t.shows(
        "so_error_reported_once",
        get_int(c, libc::SOL_SOCKET, libc::SO_ERROR),
        0,
    );
    close(c);
    close(b);
}

fn half_close(t: &Transcript) {
    let Some((c, s)) = t.ok("half_close_pair", pair()) else {
        return;
    };
    t.shows("send_before_shutdown", send(c, b"last", 0), 4);
    t.ok("shutdown_wr", cvt(unsafe_shutdown(c, libc::SHUT_WR)));
    t.shows("peer_reads_data", text(recv(s, 100, 0)), "last");
    t.shows("peer_reads_eof", text(recv(s, 100, 0)), "");
    t.shows(
        "peer_polls_eof",
        poll1(s, libc::POLLIN, None).map(events),
        "IN",
    );
    t.errno(
        "send_after_shutdown_epipe",
        send(c, b"x", libc::MSG_NOSIGNAL),
        libc::EPIPE,
    );
    t.shows("peer_writes_back", send(s, b"answer", 0), 6);
    t.shows("half_closed_reads", text(recv(c, 100, 0)), "answer");
    close(s);
    t.shows("eof_after_peer_close", text(recv(c, 100, 0)), "");
    t.errno("shutdown_bad_how", cvt(unsafe_shutdown(c, 7)), libc::EINVAL);
    close(c);
}

fn unsafe_shutdown(fd: c_int, how: c_int) -> c_int {
    // SAFETY: plain system call.
    unsafe { libc::shutdown(fd, how) }
}

fn reset(t: &Transcript) {
    let Some((c, s)) = t.ok("reset_pair", pair()) else {
        return;
    };
    t.shows("send_unread", send(c, b"never read", 0), 10);
    // The data reached the peer before it closes.
    t.shows(
        "peer_has_data",
        poll1(s, libc::POLLIN, None).map(events),
        "IN",
    );
    close(s);
    let ev = poll1(c, libc::POLLIN, None);
    t.is(
        "poll_reset_err_hup",
        ev.is_ok_and(|e| e & libc::POLLERR != 0 && e & libc::POLLHUP != 0),
    );
    t.errno("recv_econnreset", recv(c, 10, 0), libc::ECONNRESET);
    t.shows("recv_after_reset_eof", text(recv(c, 10, 0)), "");
    t.errno(
        "send_after_reset_epipe",
        send(c, b"x", libc::MSG_NOSIGNAL),
        libc::EPIPE,
    );
    // Without MSG_NOSIGNAL the writer gets SIGPIPE (a child with the default action,
    // which it kills; Rust programs start with SIGPIPE ignored).
    t.shows(
        "send_after_reset_sigpipe",
        run(|| {
            let _ = set_action(libc::SIGPIPE, Action::Default, 0);
            c_int::from(send(c, b"x", 0).is_ok())
        }),
        "killed(SIGPIPE)",
    );
    close(c);
}

fn addresses_in_use(t: &Transcript) {
    let Ok((l, addr)) = listener(0) else { return };
    let Ok(second) = tcp(0) else { return };
    t.errno(
        "bind_listening_port_eaddrinuse",
        bind(second, &addr),
        libc::EADDRINUSE,
    );
    t.errno(
        "bind_any_listening_port_eaddrinuse",
        bind(second, &sin([0; 4], port_of(&addr))),
        libc::EADDRINUSE,
    );
    t.errno(
        "bind_non_local_eaddrnotavail",
        bind(second, &sin([192, 0, 2, 1], 0)),
        libc::EADDRNOTAVAIL,
    );
    t.ok(
        "bind_other_loopback_address",
        bind(second, &sin([127, 0, 0, 2], 0)),
    );
    t.errno(
        "bind_twice_einval",
        bind(second, &sin(LOOPBACK, 0)),
        libc::EINVAL,
    );
    close(second);
    close(l);
    // The server closes first: its end of the connection keeps the port (FIN-WAIT or
    // TIME-WAIT); only SO_REUSEADDR lets a new listener have it.
    let Ok(l) = tcp(0) else { return };
    t.ok(
        "so_reuseaddr_set",
        set_int(l, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1),
    );
    let _ = bind(l, &sin(LOOPBACK, 0));
    let _ = listen(l);
    let Ok(addr) = name(l, false) else { return };
    let Ok(c) = tcp(0) else { return };
    let _ = connect(c, &addr);
    let Ok(s) = accept4(l, 0) else { return };
    close(s);
    t.shows("client_sees_server_close", text(recv(c, 10, 0)), "");
    close(c);
    close(l);
    let Ok(plain) = tcp(0) else { return };
    t.errno(
        "bind_closing_port_without_reuseaddr",
        bind(plain, &addr),
        libc::EADDRINUSE,
    );
    close(plain);
    let Ok(reuse) = tcp(0) else { return };
    let _ = set_int(reuse, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
    t.ok("bind_closing_port_with_reuseaddr", bind(reuse, &addr));
    t.ok("listen_on_reused_port", listen(reuse));
    close(reuse);
}

fn options(t: &Transcript) {
    let Ok(fd) = tcp(0) else { return };
    let sol = libc::SOL_SOCKET;
    t.shows(
        "so_type",
        get_int(fd, sol, libc::SO_TYPE),
        libc::SOCK_STREAM,
    );
    t.shows(
        "so_domain",
        get_int(fd, sol, libc::SO_DOMAIN),
        libc::AF_INET,
    );
    t.shows(
        "so_protocol",
        get_int(fd, sol, libc::SO_PROTOCOL),
        libc::IPPROTO_TCP,
    );
    t.shows("so_error_fresh", get_int(fd, sol, libc::SO_ERROR), 0);
    t.shows(
        "so_reuseaddr_default",
        get_int(fd, sol, libc::SO_REUSEADDR),
        0,
    );
    t.shows(
        "so_reuseport_default",
        get_int(fd, sol, libc::SO_REUSEPORT),
        0,
    );
    let flags = [
        ("so_reuseaddr", sol, libc::SO_REUSEADDR),
        ("so_reuseport", sol, libc::SO_REUSEPORT),
        ("so_keepalive", sol, libc::SO_KEEPALIVE),
        ("tcp_nodelay", libc::IPPROTO_TCP, libc::TCP_NODELAY),
    ];
    for (label, level, opt) in flags {
        let back = set_int(fd, level, opt, 1).and_then(|_| get_int(fd, level, opt));
        t.shows(&format!("{label}_on"), back, 1);
        let back = set_int(fd, level, opt, 0).and_then(|_| get_int(fd, level, opt));
        t.shows(&format!("{label}_off"), back, 0);
    }
    for (label, level, opt, v) in [
        ("so_rcvbuf_doubled", sol, libc::SO_RCVBUF, 65536),
        ("so_sndbuf_doubled", sol, libc::SO_SNDBUF, 65536),
        ("tcp_keepidle", libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 30),
        ("tcp_keepintvl", libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, 5),
        ("tcp_keepcnt", libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3),
    ] {
        let back = set_int(fd, level, opt, v).and_then(|_| get_int(fd, level, opt));
        t.shows(
            label,
            back,
            if opt == libc::SO_RCVBUF || opt == libc::SO_SNDBUF {
                2 * v
            } else {
                v
            },
        );
    }
    t.errno(
        "tcp_keepcnt_zero_einval",
        set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 0),
        libc::EINVAL,
    );
    t.errno(
        "sockopt_unknown_enoprotoopt",
        get_int(fd, sol, 9999),
        libc::ENOPROTOOPT,
    );
    // SAFETY: a one-byte option value, shorter than an int.
    let short =
        cvt(unsafe { libc::setsockopt(fd, sol, libc::SO_KEEPALIVE, (&raw const sol).cast(), 1) });
    t.errno("sockopt_short_einval", short, libc::EINVAL);
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 5,
    };
    // SAFETY: a live linger of the size given.
    let set = cvt(unsafe {
        libc::setsockopt(
            fd,
            sol,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            size_of::<libc::linger>() as _,
        )
    });
    // SAFETY: linger is plain data.
    let mut back: libc::linger = unsafe { zeroed() };
    let mut len = size_of::<libc::linger>() as libc::socklen_t;
    // SAFETY: `back` and `len` are live and writable.
    let get = cvt(unsafe {
        libc::getsockopt(fd, sol, libc::SO_LINGER, (&raw mut back).cast(), &mut len)
    });
    t.is(
        "so_linger",
        set.is_ok() && get.is_ok() && back.l_onoff == 1 && back.l_linger == 5,
    );
    for (label, opt) in [
        ("so_rcvtimeo", libc::SO_RCVTIMEO),
        ("so_sndtimeo", libc::SO_SNDTIMEO),
    ] {
        let back = set_timeout(fd, opt, 200).and_then(|_| get_timeout_ms(fd, opt));
        t.shows(label, back, 200);
    }
    close(fd);
}

/// `TCP_INFO` of `fd`, asking for `len` bytes: the struct and the length given back.
fn get_tcp_info(fd: c_int, len: usize) -> Result<(libc::tcp_info, usize), Errno> {
    // SAFETY: tcp_info is plain integers; all-zero is valid.
    let mut info: libc::tcp_info = unsafe { zeroed() };
    let mut got = len.min(size_of::<libc::tcp_info>()) as libc::socklen_t;
    // SAFETY: `info` has room for `got` bytes; `got` is live and writable.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut got,
        )
    })?;
    Ok((info, got as usize))
}

/// `TCP_INFO` where every system agrees: the state of a fresh socket (`CLOSE`, 7), a
/// listener (`LISTEN`, 10) and both ends of an idle loopback connection
/// (`ESTABLISHED`, 1) with a positive MSS each way, a congestion window, an RTO of at
/// least Linux's 200 ms minimum, nothing unacknowledged or retransmitted, and the
/// timestamp and SACK options; a short buffer gets exactly the bytes asked for.
fn tcp_info(t: &Transcript) {
    let state = |fd| get_tcp_info(fd, size_of::<libc::tcp_info>()).map(|(i, _)| i.tcpi_state);
    if let Ok(fd) = tcp(0) {
        t.shows("tcp_info_fresh_close", state(fd), 7);
        close(fd);
    }
    if let Ok((l, _)) = listener(0) {
        t.shows("tcp_info_listener_listen", state(l), 10);
        close(l);
    }
    let Ok((c, s)) = pair() else { return };
    for (end, fd) in [("client", c), ("server", s)] {
        let Some((i, _)) = t.ok(
            &format!("tcp_info_{end}"),
            get_tcp_info(fd, size_of::<libc::tcp_info>()),
        ) else {
            continue;
        };
        t.eq(&format!("tcp_info_{end}_established"), i.tcpi_state, 1);
        t.is(
            &format!("tcp_info_{end}_mss"),
            i.tcpi_snd_mss > 0 && i.tcpi_rcv_mss > 0 && i.tcpi_advmss > 0,
        );
        t.is(&format!("tcp_info_{end}_cwnd"), i.tcpi_snd_cwnd > 0);
        t.is(&format!("tcp_info_{end}_rto"), i.tcpi_rto >= 200_000);
        let idle = (i.tcpi_unacked, i.tcpi_retransmits, i.tcpi_total_retrans);
        t.eq(
            &format!("tcp_info_{end}_idle"),
            format!("{idle:?}"),
            "(0, 0, 0)".to_string(),
        );
        let ts_sack = u32::from(i.tcpi_options) & (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK);
        t.eq(
            &format!("tcp_info_{end}_options"),
            ts_sack,
            TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK,
        );
    }
    let short = get_tcp_info(c, 8).map(|(i, len)| (len, i.tcpi_state));
    t.shows(
        "tcp_info_short_buffer",
        short.map(|(len, st)| format!("{len} bytes, state {st}")),
        "8 bytes, state 1",
    );
    close(c);
    close(s);
}

/// A `struct ifreq` naming `name`, with `value` at the start of its union.
fn ifreq(name: &str, value: c_int) -> libc::ifreq {
    // SAFETY: ifreq is plain data; all-zero is valid.
    let mut r: libc::ifreq = unsafe { zeroed() };
    for (d, s) in r.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    r.ifr_ifru.ifru_ifindex = value;
    r
}

/// `ioctl(fd, cmd, &req)`.
fn if_ioctl(fd: c_int, cmd: libc::Ioctl, req: &mut libc::ifreq) -> Result<c_int, Errno> {
    // SAFETY: `req` is a live, writable ifreq.
    cvt(unsafe { libc::ioctl(fd, cmd, req as *mut libc::ifreq) })
}

/// The IPv4 address in a request's `sockaddr`.
fn if_addr(req: &libc::ifreq) -> String {
    // SAFETY: the kernel wrote a sockaddr_in there (the union's first member).
    let a: libc::sockaddr_in =
        unsafe { core::ptr::read_unaligned((&raw const req.ifr_ifru).cast()) };
    format!(
        "{} {}",
        if a.sin_family == libc::AF_INET as libc::sa_family_t {
            "AF_INET"
        } else {
            "?"
        },
        ip_of(&a)
    )
}

/// The interface ioctls on `lo`, the one interface every system has alike (index 1,
/// 127.0.0.1/8, up, running, loopback, MTU 65536), asked on a UDP socket as busybox
/// `ifconfig` does; `SIOCGIFCONF` lists `lo` first; an unknown name or index is
/// `ENODEV`, an unmapped request or buffer `EFAULT`; the address requests are the `AF_INET` family's (`ENOTTY` on an `AF_UNIX`
/// socket).
fn interface_ioctls(t: &Transcript) {
    // SAFETY: plain system calls.
    let sock = |ty, proto| cvt(unsafe { libc::socket(libc::AF_INET, ty, proto) });
    t.errno(
        "socket_dgram_tcp_eprotonosupport",
        sock(libc::SOCK_DGRAM, libc::IPPROTO_TCP),
        libc::EPROTONOSUPPORT,
    );
    let Some(fd) = t.ok(
        "socket_dgram",
        sock(libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0),
    ) else {
        return;
    };
    let mut r = ifreq("lo", 0);
    let flags = if_ioctl(fd, libc::SIOCGIFFLAGS, &mut r).map(|_| {
        // SAFETY: SIOCGIFFLAGS wrote ifr_flags.
        let f = c_int::from(unsafe { r.ifr_ifru.ifru_flags });
        let wanted = libc::IFF_UP | libc::IFF_LOOPBACK | libc::IFF_RUNNING | libc::IFF_BROADCAST;
        f & wanted
    });
    t.shows(
        "siocgifflags_lo",
        flags,
        libc::IFF_UP | libc::IFF_LOOPBACK | libc::IFF_RUNNING,
    );
    for (label, cmd, want) in [
        ("siocgifaddr_lo", libc::SIOCGIFADDR, "AF_INET 127.0.0.1"),
        (
            "siocgifnetmask_lo",
            libc::SIOCGIFNETMASK,
            "AF_INET 255.0.0.0",
        ),
        ("siocgifbrdaddr_lo", libc::SIOCGIFBRDADDR, "AF_INET 0.0.0.0"),
    ] {
        let mut r = ifreq("lo", 0);
        t.shows(label, if_ioctl(fd, cmd, &mut r).map(|_| if_addr(&r)), want);
    }
    let mut r = ifreq("lo", 0);
    // SAFETY: SIOCGIFMTU wrote ifr_mtu.
    let mtu = if_ioctl(fd, libc::SIOCGIFMTU, &mut r).map(|_| unsafe { r.ifr_ifru.ifru_mtu });
    t.shows("siocgifmtu_lo", mtu, 65536);
    let mut r = ifreq("lo", 0);
    // SAFETY: SIOCGIFINDEX wrote ifr_ifindex.
    let index =
        if_ioctl(fd, libc::SIOCGIFINDEX, &mut r).map(|_| unsafe { r.ifr_ifru.ifru_ifindex });
    t.shows("siocgifindex_lo", index, 1);
    let mut r = ifreq("", 1);
    let name = if_ioctl(fd, libc::SIOCGIFNAME, &mut r).map(|_| {
        let bytes: Vec<u8> = r
            .ifr_name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    });
    t.shows("siocgifname_1", name, "lo");
    let mut r = ifreq("lo", 0);
    let hw = if_ioctl(fd, libc::SIOCGIFHWADDR, &mut r).map(|_| {
        // SAFETY: SIOCGIFHWADDR wrote ifr_hwaddr.
        let a = unsafe { r.ifr_ifru.ifru_hwaddr };
        (a.sa_family, a.sa_data[..6].iter().all(|&b| b == 0))
    });
    t.shows(
        "siocgifhwaddr_lo",
        hw.map(|(family, zero)| format!("{family} {zero}")),
        format!("{} true", libc::ARPHRD_LOOPBACK),
    );
    let mut r = ifreq("nosuchif0", 0);
    t.errno(
        "siocgifflags_unknown_enodev",
        if_ioctl(fd, libc::SIOCGIFFLAGS, &mut r),
        libc::ENODEV,
    );
    let mut r = ifreq("", 0x7fff_0000);
    t.errno(
        "siocgifname_unknown_enodev",
        if_ioctl(fd, libc::SIOCGIFNAME, &mut r),
        libc::ENODEV,
    );
    interface_list(t, fd);
    // SAFETY: the kernel must refuse the unmapped address, not write there.
    let bad = cvt(unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, 16usize as *mut libc::ifreq) });
    t.errno("siocgifflags_bad_pointer_efault", bad, libc::EFAULT);
    // SAFETY: ifconf is plain data.
    let mut conf: libc::ifconf = unsafe { zeroed() };
    conf.ifc_len = size_of::<libc::ifreq>() as c_int;
    conf.ifc_ifcu.ifcu_buf = 16usize as *mut libc::c_char;
    // SAFETY: `conf` is live; the kernel must refuse its unmapped buffer.
    let bad = cvt(unsafe { libc::ioctl(fd, libc::SIOCGIFCONF, &raw mut conf) });
    t.errno("siocgifconf_bad_buffer_efault", bad, libc::EFAULT);
    close(fd);
    let mut sv = [0; 2];
    // SAFETY: `sv` has room for two descriptors.
    if cvt(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) })
        .is_ok()
    {
        let mut r = ifreq("lo", 0);
        t.errno(
            "siocgifaddr_unix_enotty",
            if_ioctl(sv[0], libc::SIOCGIFADDR, &mut r),
            libc::ENOTTY,
        );
        let mut r = ifreq("lo", 0);
        t.shows(
            "siocgifindex_unix_lo",
            // SAFETY: SIOCGIFINDEX wrote ifr_ifindex.
            if_ioctl(sv[0], libc::SIOCGIFINDEX, &mut r).map(|_| unsafe { r.ifr_ifru.ifru_ifindex }),
            1,
        );
        close(sv[0]);
        close(sv[1]);
    }
}

/// `SIOCGIFCONF`: with a null buffer, the length every interface needs (whole
/// `ifreq`s); with room for one, exactly `lo` and its address.
fn interface_list(t: &Transcript, fd: c_int) {
    let one = size_of::<libc::ifreq>();
    // SAFETY: ifconf is plain data; all-zero (a null buffer) is valid.
    let mut conf: libc::ifconf = unsafe { zeroed() };
    // SAFETY: `conf` is a live, writable ifconf.
    let need = cvt(unsafe { libc::ioctl(fd, libc::SIOCGIFCONF, &raw mut conf) })
        .map(|_| conf.ifc_len as usize);
    t.is(
        "siocgifconf_null_length",
        need.is_ok_and(|n| n >= one && n % one == 0),
    );
    let mut room = [ifreq("", 0)];
    conf.ifc_len = one as c_int;
    conf.ifc_ifcu.ifcu_req = room.as_mut_ptr();
    // SAFETY: the buffer has room for the `ifc_len` bytes it claims.
    let got = cvt(unsafe { libc::ioctl(fd, libc::SIOCGIFCONF, &raw mut conf) }).map(|_| {
        let r = &room[0];
        let bytes: Vec<u8> = r
            .ifr_name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        format!(
            "{} bytes, {} {}",
            conf.ifc_len,
            String::from_utf8_lossy(&bytes),
            if_addr(r)
        )
    });
    t.shows(
        "siocgifconf_first_lo",
        got,
        format!("{one} bytes, lo AF_INET 127.0.0.1"),
    );
}

fn receive_timeout(t: &Transcript) {
    let Some((c, s)) = t.ok("timeout_pair", pair()) else {
        return;
    };
    let _ = set_timeout(s, libc::SO_RCVTIMEO, 100);
    t.errno("recv_timeout_eagain", recv(s, 10, 0), libc::EAGAIN);
    t.shows(
        "recv_after_timeout",
        send(c, b"late", 0).and_then(|_| text(recv(s, 10, 0))),
        "late",
    );
    close(c);
    close(s);
}

/// Bytes the child sends to the parent, and the size of each write.
const LARGE: usize = 4 << 20;
const CHUNK: usize = 60_000;

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 11)) as u8
}

fn large_transfer(t: &Transcript) {
    let Some((c, s)) = t.ok("large_pair", pair()) else {
        return;
    };
    // SAFETY: fork in a single-threaded program; the child only writes and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        close(s);
        let data: Vec<u8> = (0..LARGE).map(pattern).collect();
        let mut sent = 0;
        while sent < LARGE {
            match send(c, &data[sent..(sent + CHUNK).min(LARGE)], 0) {
                Ok(n) => sent += n,
                // SAFETY: leaves the child at once.
                Err(_) => unsafe { libc::_exit(1) },
            }
        }
        // SAFETY: leaves the child at once.
        unsafe { libc::_exit(0) };
    }
    close(c);
    let (mut total, mut mismatches, mut sum) = (0usize, 0usize, 0u64);
    loop {
        match recv(s, 65536, 0) {
            Ok(b) if b.is_empty() => break,
            Ok(b) => {
                for (k, &byte) in b.iter().enumerate() {
                    if byte != pattern(total + k) {
                        mismatches += 1;
                    }
                    sum = sum.wrapping_mul(31).wrapping_add(u64::from(byte));
                }
                total += b.len();
            }
            Err(e) => {
                t.fail("large_recv", "ok", e);
                break;
            }
        }
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    t.eq("large_child_exit", status, 0);
    t.eq("large_bytes", total, LARGE);
    t.eq("large_mismatches", mismatches, 0);
    t.value("large_checksum", format_args!("{sum:016x}"));
    close(s);
}

fn errors(t: &Transcript) {
    // SAFETY: plain system calls.
    let sock = |domain, ty, proto| cvt(unsafe { libc::socket(domain, ty, proto) });
    t.errno(
        "socket_unknown_type_flag_einval",
        sock(libc::AF_INET, libc::SOCK_STREAM | 0x100, 0),
        libc::EINVAL,
    );
    t.errno(
        "socket_stream_udp_eprotonosupport",
        sock(libc::AF_INET, libc::SOCK_STREAM, libc::IPPROTO_UDP),
        libc::EPROTONOSUPPORT,
    );
    t.errno(
        "socket_seqpacket_esocktnosupport",
        sock(libc::AF_INET, libc::SOCK_SEQPACKET, 0),
        libc::ESOCKTNOSUPPORT,
    );
    if let Some(fd) = t.ok(
        "socket_ipproto_tcp",
        sock(libc::AF_INET, libc::SOCK_STREAM, libc::IPPROTO_TCP),
    ) {
        close(fd);
    }
    if let Ok(fd) = tcp(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) {
        // SAFETY: F_GETFL/F_GETFD take no argument.
        let (fl, fdf) = unsafe {
            (
                libc::fcntl(fd, libc::F_GETFL),
                libc::fcntl(fd, libc::F_GETFD),
            )
        };
        t.is(
            "socket_nonblock_cloexec",
            fl & libc::O_NONBLOCK != 0 && fdf == libc::FD_CLOEXEC,
        );
        close(fd);
    }
    let mut p = [-1; 2];
    // SAFETY: `p` has room for two descriptors.
    let _ = unsafe { libc::pipe(p.as_mut_ptr()) };
    let any = sin([0; 4], 0);
    t.errno("bind_pipe_enotsock", bind(p[0], &any), libc::ENOTSOCK);
    t.errno(
        "getsockopt_pipe_enotsock",
        get_int(p[0], libc::SOL_SOCKET, libc::SO_TYPE),
        libc::ENOTSOCK,
    );
    close(p[0]);
    close(p[1]);
    t.errno("bind_closed_fd_ebadf", bind(999, &any), libc::EBADF);
    let Ok(s) = tcp(0) else { return };
    // SAFETY: a live sockaddr_in, with a length shorter than it.
    let short = cvt(unsafe { libc::bind(s, (&raw const any).cast(), 4) });
    t.errno("bind_short_einval", short, libc::EINVAL);
    // SAFETY: an unmapped address: the kernel must fail with EFAULT.
    let fault = cvt(unsafe {
        libc::bind(
            s,
            16 as *const libc::sockaddr,
            size_of::<libc::sockaddr_in>() as _,
        )
    });
    t.errno("bind_bad_pointer_efault", fault, libc::EFAULT);
    let mut six = any;
    six.sin_family = libc::AF_INET6 as libc::sa_family_t;
    t.errno(
        "bind_inet6_family_eafnosupport",
        bind(s, &six),
        libc::EAFNOSUPPORT,
    );
    t.errno("read_unconnected_enotconn", recv(s, 8, 0), libc::ENOTCONN);
    t.errno(
        "send_unconnected_epipe",
        send(s, b"x", libc::MSG_NOSIGNAL),
        libc::EPIPE,
    );
    t.errno(
        "shutdown_unconnected_enotconn",
        cvt(unsafe_shutdown(s, libc::SHUT_WR)),
        libc::ENOTCONN,
    );
    let bad = libc::timeval {
        tv_sec: 0,
        tv_usec: 2_000_000,
    };
    // SAFETY: a live timeval of the size given.
    let edom = cvt(unsafe {
        libc::setsockopt(
            s,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            (&raw const bad).cast(),
            size_of::<libc::timeval>() as _,
        )
    });
    t.errno("so_sndtimeo_bad_usec_edom", edom, libc::EDOM);
    close(s);
    let Ok((l, _)) = listener(0) else { return };
    t.errno("connect_listener_eisconn", connect(l, &any), libc::EISCONN);
    t.errno("accept4_bad_flags_einval", accept4(l, 0x4), libc::EINVAL);
    close(l);
}

static ALARMS: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_alarm(_: c_int) {
    ALARMS.fetch_add(1, Ordering::Relaxed);
}

/// SIGALRM once after `ms`.
fn alarm_ms(ms: i64) {
    let zero = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let t = libc::itimerval {
        it_interval: zero,
        it_value: libc::timeval {
            tv_sec: ms / 1000,
            tv_usec: (ms % 1000) * 1000,
        },
    };
    // SAFETY: a live itimerval; no old value wanted.
    unsafe { libc::setitimer(libc::ITIMER_REAL, &t, core::ptr::null_mut()) };
}

/// A blocking `accept` with nothing to accept ends only by a signal or a timeout.
fn interrupted_accept(t: &Transcript) {
    let Ok((l, _)) = listener(0) else { return };
    let _ = set_action(libc::SIGALRM, Action::Handler(on_alarm), 0);
    alarm_ms(100);
    t.errno("accept_signal_eintr", accept4(l, 0), libc::EINTR);
    let _ = set_timeout(l, libc::SO_RCVTIMEO, 100);
    let start = std::time::Instant::now();
    t.errno("accept_rcvtimeo_eagain", accept4(l, 0), libc::EAGAIN);
    t.is(
        "accept_waited_for_timeout",
        start.elapsed().as_millis() >= 100,
    );
    // With a timeout set, SA_RESTART does not restart it (Linux's sock_intr_errno).
    let _ = set_action(libc::SIGALRM, Action::Handler(on_alarm), libc::SA_RESTART);
    let _ = set_timeout(l, libc::SO_RCVTIMEO, 60_000);
    alarm_ms(100);
    t.errno(
        "accept_timeout_sa_restart_eintr",
        accept4(l, 0),
        libc::EINTR,
    );
    t.eq("alarms_delivered", ALARMS.load(Ordering::Relaxed), 2);
    let _ = set_action(libc::SIGALRM, Action::Default, 0);
    close(l);
}

/// `sendmsg`/`recvmsg`/`sendmmsg`/`recvmmsg` on a TCP connection: iovecs gathered and
/// scattered, a destination and `SCM_RIGHTS` ignored (TCP leaves both to other families),
/// no source address, batches.
fn messages(t: &Transcript) {
    let Ok((c, s)) = pair() else {
        return t.fail("messages_pair", "ok", "no connection");
    };
    let parts: [&[u8]; 3] = [b"he", b"", b"llo"];
    let mut iovs: Vec<libc::iovec> = parts
        .iter()
        .map(|p| libc::iovec {
            iov_base: p.as_ptr().cast_mut().cast(),
            iov_len: p.len(),
        })
        .collect();
    let to = sin(LOOPBACK, 9);
    let fd_data = s.to_ne_bytes();
    // SAFETY: pure arithmetic.
    let space = unsafe { libc::CMSG_SPACE(4) } as usize;
    let mut ctl = vec![0u64; space / 8];
    // SAFETY: msghdr is plain data.
    let mut m: libc::msghdr = unsafe { zeroed() };
    m.msg_iov = iovs.as_mut_ptr();
    m.msg_iovlen = iovs.len();
    m.msg_name = (&raw const to).cast_mut().cast();
    m.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    m.msg_control = ctl.as_mut_ptr().cast();
    m.msg_controllen = space;
    // SAFETY: `ctl` has room for one header and an int; the header is written first.
    unsafe {
        let h = libc::CMSG_FIRSTHDR(&m);
        (*h).cmsg_len = libc::CMSG_LEN(4) as usize;
        (*h).cmsg_level = libc::SOL_SOCKET;
        (*h).cmsg_type = libc::SCM_RIGHTS;
        libc::CMSG_DATA(h).copy_from_nonoverlapping(fd_data.as_ptr(), 4);
    }
    // SAFETY: every pointer in `m` is to live memory of the length given.
    let sent = cvt(unsafe { libc::sendmsg(c, &m, 0) });
    t.shows("tcp_sendmsg_gathers", sent.map(|n| n as usize), 5);
    let (mut head, mut tail) = ([0u8; 2], [0u8; 8]);
    let mut into = [
        libc::iovec {
            iov_base: head.as_mut_ptr().cast(),
            iov_len: 2,
        },
        libc::iovec {
            iov_base: tail.as_mut_ptr().cast(),
            iov_len: 3,
        },
    ];
    let mut from: libc::sockaddr_in = sin([1, 2, 3, 4], 5);
    // SAFETY: msghdr is plain data.
    let mut r: libc::msghdr = unsafe { zeroed() };
    r.msg_iov = into.as_mut_ptr();
    r.msg_iovlen = 2;
    r.msg_name = (&raw mut from).cast();
    r.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    r.msg_control = ctl.as_mut_ptr().cast();
    r.msg_controllen = space;
    // SAFETY: every pointer in `r` is to live, writable memory of the length given.
    let got = cvt(unsafe { libc::recvmsg(s, &mut r, libc::MSG_WAITALL) });
    t.shows("tcp_recvmsg_scatters", got.map(|n| n as usize), 5);
    t.is("tcp_recvmsg_data", head == *b"he" && tail[..3] == *b"llo");
    t.is(
        "tcp_recvmsg_no_name_no_control",
        r.msg_namelen == 0 && r.msg_controllen == 0 && r.msg_flags == 0,
    );
    let mut batch: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .filter(|v| v.iov_len > 0)
        .map(|v| {
            // SAFETY: msghdr is plain data.
            let mut h: libc::msghdr = unsafe { zeroed() };
            h.msg_iov = v;
            h.msg_iovlen = 1;
            libc::mmsghdr {
                msg_hdr: h,
                msg_len: 0,
            }
        })
        .collect();
    // SAFETY: two headers over live buffers.
    let sent = cvt(unsafe { libc::sendmmsg(c, batch.as_mut_ptr(), 2, 0) });
    t.shows("tcp_sendmmsg", sent, 2);
    t.shows(
        "tcp_sendmmsg_stream",
        text(recv(s, 5, libc::MSG_WAITALL)),
        "hello",
    );
    close(c);
    close(s);
}

/// Waits until `fd` has something to read (the bytes a send on the peer queued).
fn readable(fd: c_int) {
    let _ = poll1(fd, libc::POLLIN, None);
}

/// Received bytes as `COUNT x BYTE` when they are all one byte (else `COUNT mixed`).
fn runs(r: Result<Vec<u8>, Errno>) -> Result<String, Errno> {
    r.map(|b| match b.first() {
        Some(&x) if b.iter().all(|&y| y == x) => format!("{} x {}", b.len(), x as char),
        _ => format!("{} mixed", b.len()),
    })
}

/// `recv` into `len` bytes at `at` (which may reach an inaccessible page).
fn recv_at(fd: c_int, at: *mut u8, len: usize, flags: c_int) -> Result<usize, Errno> {
    // SAFETY: the kernel checks the buffer; a bad one is `EFAULT`, never a fault here.
    cvt(unsafe { libc::recv(fd, at.cast(), len, flags) }).map(|n| n as usize)
}

/// `send` of `len` bytes at `at` (which may reach an inaccessible page).
fn send_at(fd: c_int, at: *const u8, len: usize) -> Result<usize, Errno> {
    // SAFETY: as `recv_at`.
    cvt(unsafe { libc::send(fd, at.cast(), len, libc::MSG_NOSIGNAL) }).map(|n| n as usize)
}

/// Buffers that reach a page the program may not touch: Linux fails a copy that reaches
/// it with `EFAULT` and leaves the data where it was (queued for a later `recv`, not
/// queued for the peer), unless the call ends before the copy reaches the bad byte (the
/// data fits before it, nothing to read, end of stream, a shut direction).
fn bad_buffers(t: &Transcript) {
    // SAFETY: a fresh anonymous mapping of two pages, the second made inaccessible.
    let base = unsafe {
        let p = libc::mmap(
            core::ptr::null_mut(),
            8192,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED || libc::mprotect(p.cast::<u8>().add(4096).cast(), 4096, 0) != 0 {
            t.fail("bad_buffer_mapping", "ok", "mmap or mprotect failed");
            return;
        }
        p.cast::<u8>()
    };
    // SAFETY: inside the mapping: `bad` is the inaccessible page, `edge` 100 bytes before it.
    let (bad, edge) = unsafe { (base.add(4096), base.add(4096 - 100)) };
    let Some((c, s)) = t.ok("bad_buffer_pair", pair()) else {
        return;
    };
    t.errno(
        "recv_bad_buffer_nothing_queued_eagain",
        recv_at(s, bad, 100, libc::MSG_DONTWAIT),
        libc::EAGAIN,
    );
    let _ = send(c, &[b'a'; 100], 0);
    readable(s);
    t.errno(
        "recv_bad_buffer_efault",
        recv_at(s, bad, 100, 0),
        libc::EFAULT,
    );
    t.shows(
        "recv_after_efault_gets_the_data",
        runs(recv(s, 200, 0)),
        "100 x a",
    );
    let _ = send(c, &[b'b'; 100], 0);
    readable(s);
    t.shows(
        "recv_data_fits_before_bad_page",
        recv_at(s, edge, 200, 0),
        100,
    );
    let _ = send(c, &[b'c'; 200], 0);
    readable(s);
    t.errno(
        "recv_data_reaches_bad_page_efault",
        recv_at(s, edge, 200, 0),
        libc::EFAULT,
    );
    t.shows(
        "recv_after_reaching_efault_gets_the_data",
        runs(recv(s, 400, 0)),
        "200 x c",
    );
    t.errno("send_bad_buffer_efault", send_at(c, bad, 100), libc::EFAULT);
    t.errno(
        "send_reaching_bad_page_efault",
        send_at(c, edge, 200),
        libc::EFAULT,
    );
    let _ = send(c, b"next", 0);
    readable(s);
    t.shows("send_efault_queued_nothing", text(recv(s, 400, 0)), "next");
    peek_scattered(t, c, s);
    // SAFETY: plain system call.
    unsafe { libc::shutdown(c, libc::SHUT_WR) };
    readable(s);
    t.shows("recv_bad_buffer_end_of_stream", recv_at(s, bad, 100, 0), 0);
    t.errno(
        "send_shut_bad_buffer_epipe",
        send_at(c, bad, 100),
        libc::EPIPE,
    );
    close(c);
    close(s);
    // SAFETY: the mapping made above, no longer used.
    unsafe { libc::munmap(base.cast(), 8192) };
}

/// `recvmsg` with `MSG_PEEK` over two buffers: the second goes on where the first
/// stopped, and the bytes stay queued.
fn peek_scattered(t: &Transcript, c: c_int, s: c_int) {
    let _ = send(c, b"hello world", 0);
    readable(s);
    let (mut head, mut tail) = ([0u8; 5], [0u8; 20]);
    let mut iov = [
        libc::iovec {
            iov_base: head.as_mut_ptr().cast(),
            iov_len: head.len(),
        },
        libc::iovec {
            iov_base: tail.as_mut_ptr().cast(),
            iov_len: tail.len(),
        },
    ];
    // SAFETY: an all-zero msghdr is valid (no name, no control).
    let mut m: libc::msghdr = unsafe { zeroed() };
    m.msg_iov = iov.as_mut_ptr();
    m.msg_iovlen = 2;
    // SAFETY: `m` and its buffers are live.
    let got = cvt(unsafe { libc::recvmsg(s, &mut m, libc::MSG_PEEK) });
    t.shows("tcp_peek_scattered", got.map(|n| n as usize), 11);
    t.is(
        "tcp_peek_scattered_data",
        head == *b"hello" && tail[..6] == *b" world",
    );
    t.shows("tcp_peek_left_queued", text(recv(s, 100, 0)), "hello world");
}
