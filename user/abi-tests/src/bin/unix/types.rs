//! The three socket types: stream (peek across writes, `MSG_WAITALL`, half-close,
//! flow control), datagram (boundaries, truncation, source addresses, a full queue,
//! `EPERM`, a closed peer), seqpacket; and readiness (poll, epoll, blocking waits woken
//! by another process).

use crate::{
    accept, bind, close, connect, listen, name_of, pair, poll_now, recv, recv_from, send, send_to,
    set_nonblocking, sock, write, Addr,
};
use abi_tests::errno::{cvt, Errno};
use abi_tests::fd::recv_msg;
use abi_tests::process::{spawn, wait};
use abi_tests::Transcript;
use core::ffi::c_int;
use core::mem::zeroed;
use std::time::Duration;

const IO: i16 = libc::POLLIN | libc::POLLOUT;

pub fn stream(t: &Transcript) {
    let Ok([a, b]) = pair(libc::SOCK_STREAM) else {
        return;
    };
    t.errno(
        "stream_sendto_with_addr",
        send_to(a, b"x", &Addr::path("sock-a")),
        libc::EISCONN,
    );
    let _ = send(a, b"ab", 0);
    let _ = send(a, b"cd", 0);
    t.is(
        "stream_peek_across_writes",
        recv(b, 10, libc::MSG_PEEK).is_ok_and(|r| r.1 == b"abcd"),
    );
    t.is(
        "stream_read_across_writes",
        recv(b, 10, 0).is_ok_and(|r| r.1 == b"abcd"),
    );
    t.errno(
        "stream_dontwait_empty",
        recv(b, 10, libc::MSG_DONTWAIT),
        libc::EAGAIN,
    );
    let child = spawn(|| {
        let _ = write(a, b"1234");
        std::thread::sleep(Duration::from_millis(30));
        let _ = write(a, b"5678");
        0
    });
    t.is(
        "stream_waitall",
        recv(b, 8, libc::MSG_WAITALL).is_ok_and(|r| r.1 == b"12345678"),
    );
    if let Ok(pid) = child {
        let _ = wait(pid, 0);
    }
    // SAFETY: no pointers.
    t.ok(
        "shutdown_wr",
        cvt(unsafe { libc::shutdown(a, libc::SHUT_WR) }),
    );
    t.shows("read_after_peer_shut_wr", recv(b, 4, 0).map(|r| r.0), 0);
    t.shows(
        "poll_after_peer_shut_wr",
        Ok::<_, Errno>(poll_now(b, IO | libc::POLLRDHUP)),
        IO | libc::POLLRDHUP,
    );
    t.errno(
        "send_after_shut_wr",
        send(a, b"x", libc::MSG_NOSIGNAL),
        libc::EPIPE,
    );
    t.shows("send_other_way_after_shut_wr", send(b, b"back", 0), 4);
    t.is(
        "read_other_way",
        recv(a, 8, 0).is_ok_and(|r| r.1 == b"back"),
    );
    // SAFETY: no pointers.
    let bad_how = cvt(unsafe { libc::shutdown(a, 7) });
    t.errno("shutdown_bad_how", bad_how, libc::EINVAL);
    close(a);
    close(b);
    // Flow control: a full peer makes a non-blocking writer wait, then room comes back.
    let Ok([a, b]) = pair(libc::SOCK_STREAM | libc::SOCK_NONBLOCK) else {
        return;
    };
    let chunk = [7u8; 4096];
    let mut total = 0usize;
    let stop = loop {
        match send(a, &chunk, 0) {
            Ok(n) => total += n,
            Err(e) => break e,
        }
        if total > 64 << 20 {
            break Errno(0);
        }
    };
    t.eq("fill_stops_with_eagain", stop, Errno(libc::EAGAIN));
    t.is("fill_took_bytes", total > 0);
    t.is(
        "full_not_writable",
        poll_now(a, libc::POLLOUT) & libc::POLLOUT == 0,
    );
    let mut drained = 0usize;
    while let Ok((n, _)) = recv(b, 65536, 0) {
        drained += n;
    }
    t.is("drained_everything", drained == total);
    t.is(
        "drained_writable",
        poll_now(a, libc::POLLOUT) & libc::POLLOUT != 0,
    );
    close(a);
    close(b);
}

pub fn datagram(t: &Transcript) {
    let (Ok(r), Ok(s), Ok(s2)) = (
        sock(libc::SOCK_DGRAM),
        sock(libc::SOCK_DGRAM),
        sock(libc::SOCK_DGRAM),
    ) else {
        return;
    };
    let to_r = Addr::path("dg-r");
    t.ok("dgram_bind", bind(r, &to_r));
    t.shows("dgram_sendto_1", send_to(s, b"one", &to_r), 3);
    t.shows("dgram_sendto_2", send_to(s, b"two22", &to_r), 5);
    let first = recv_from(r, 100);
    t.is(
        "dgram_boundary_1",
        first.as_ref().is_ok_and(|f| f.0 == b"one"),
    );
    t.shows("dgram_unnamed_sender_len", first.map(|f| f.2), 0);
    t.is(
        "dgram_boundary_2",
        recv(r, 100, 0).is_ok_and(|f| f.1 == b"two22"),
    );
    t.ok("dgram_bind_sender", bind(s2, &Addr::path("dg-s")));
    let _ = send_to(s2, b"named", &to_r);
    let from = recv_from(r, 100);
    t.shows(
        "dgram_named_sender_len",
        from.as_ref().map(|f| f.2).map_err(|e| *e),
        7,
    );
    t.is(
        "dgram_named_sender_path",
        from.is_ok_and(|f| f.1 == b"dg-s\0"),
    );
    let _ = send_to(s, b"0123456789", &to_r);
    let cut = recv_msg(r, 4, 0);
    t.is(
        "dgram_truncated_data",
        cut.as_ref().is_ok_and(|c| c.0 == 4 && c.1 == b"0123"),
    );
    t.is(
        "dgram_truncated_flag",
        cut.is_ok_and(|c| c.2 & libc::MSG_TRUNC != 0),
    );
    t.errno(
        "dgram_rest_dropped",
        recv(r, 10, libc::MSG_DONTWAIT),
        libc::EAGAIN,
    );
    let _ = send_to(s, b"0123456789", &to_r);
    t.shows(
        "dgram_msg_trunc_full_length",
        recv(r, 4, libc::MSG_TRUNC).map(|c| c.0),
        10,
    );
    let _ = send_to(s, b"pk", &to_r);
    t.is(
        "dgram_peek",
        recv(r, 10, libc::MSG_PEEK).is_ok_and(|c| c.1 == b"pk"),
    );
    t.is(
        "dgram_after_peek",
        recv(r, 10, 0).is_ok_and(|c| c.1 == b"pk"),
    );
    t.shows("dgram_empty_message", send_to(s, b"", &to_r), 0);
    t.shows(
        "dgram_empty_received",
        recv(r, 10, libc::MSG_DONTWAIT).map(|c| c.0),
        0,
    );
    t.errno(
        "dgram_sendto_missing",
        send_to(s, b"x", &Addr::path("dg-none")),
        libc::ENOENT,
    );
    if let Ok(st) = sock(libc::SOCK_STREAM) {
        let _ = bind(st, &Addr::path("dg-stream"));
        t.errno(
            "dgram_sendto_stream",
            send_to(s, b"x", &Addr::path("dg-stream")),
            libc::EPROTOTYPE,
        );
        close(st);
    }
    t.errno("dgram_send_unconnected", send(s, b"x", 0), libc::ENOTCONN);
    t.errno(
        "dgram_too_big",
        send_to(s, &vec![0u8; 300_000], &to_r),
        libc::EMSGSIZE,
    );
    t.ok("dgram_connect", connect(s, &to_r));
    t.is(
        "dgram_peer_name",
        name_of(s, true).is_ok_and(|p| p.0 == b"dg-r\0"),
    );
    t.shows("dgram_send_connected", send(s, b"c", 0), 1);
    t.is(
        "dgram_recv_connected",
        recv(r, 4, 0).is_ok_and(|c| c.1 == b"c"),
    );
    // r connected to s2: only s2 may send to it.
    t.ok("dgram_connect_back", connect(r, &Addr::path("dg-s")));
    t.errno("dgram_eperm", send(s, b"x", 0), libc::EPERM);
    let unspec = Addr {
        // SAFETY: sockaddr_un is plain data.
        sun: unsafe { zeroed() },
        len: 2,
    };
    t.ok("dgram_disconnect", connect(r, &unspec));
    t.errno("dgram_disconnected_peer", name_of(r, true), libc::ENOTCONN);
    t.shows("dgram_send_after_disconnect", send(s, b"y", 0), 1);
    let _ = recv(r, 4, 0);
    close(r);
    t.errno("dgram_peer_closed", send(s, b"x", 0), libc::ECONNREFUSED);
    t.errno("dgram_peer_closed_again", send(s, b"x", 0), libc::ENOTCONN);
    close(s);
    close(s2);
    queue_limit(t);
    if let Ok([a, b]) = pair(libc::SOCK_DGRAM) {
        let _ = send(a, b"p1", 0);
        let _ = send(a, b"p2", 0);
        t.is(
            "dgram_pair_boundaries",
            recv(b, 10, 0).is_ok_and(|c| c.1 == b"p1"),
        );
        t.shows("dgram_pair_peer_name_len", name_of(b, true).map(|n| n.1), 2);
        close(a);
        t.is(
            "dgram_pair_queued_after_close",
            recv(b, 10, 0).is_ok_and(|c| c.1 == b"p2"),
        );
        t.errno(
            "dgram_pair_send_after_close",
            send(b, b"x", 0),
            libc::ECONNREFUSED,
        );
        close(b);
    }
}

/// A receiver holds 11 datagrams (more than `max_dgram_qlen`, 10) from a sender it is
/// not connected to.
fn queue_limit(t: &Transcript) {
    let (Ok(q), Ok(w)) = (sock(libc::SOCK_DGRAM), sock(libc::SOCK_DGRAM)) else {
        return;
    };
    // SAFETY: no pointers.
    let Ok(ep) = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }) else {
        return;
    };
    // The epoll entry comes before the connect: the peer's room must still reach it.
    let mut ev = libc::epoll_event {
        events: libc::EPOLLOUT as u32,
        u64: 2,
    };
    // SAFETY: `ev` is live.
    let added = cvt(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, w, &mut ev) });
    t.ok("dgram_epoll_before_connect", added);
    let ready = || {
        let mut out = [libc::epoll_event { events: 0, u64: 0 }; 2];
        // SAFETY: `out` has room for 2 events.
        cvt(unsafe { libc::epoll_wait(ep, out.as_mut_ptr(), 2, 0) })
    };
    let to_q = Addr::path("dg-q");
    let _ = bind(q, &to_q);
    let _ = connect(w, &to_q);
    set_nonblocking(w, true);
    let mut sent = 0;
    let stop = loop {
        match send(w, b"m", 0) {
            Ok(_) => sent += 1,
            Err(e) => break e,
        }
        if sent > 100 {
            break Errno(0);
        }
    };
    t.eq("dgram_queue_holds", sent, 11);
    t.eq("dgram_queue_full", stop, Errno(libc::EAGAIN));
    t.is(
        "dgram_full_not_writable",
        poll_now(w, libc::POLLOUT) & libc::POLLOUT == 0,
    );
    t.shows("dgram_epoll_full", ready(), 0);
    let _ = recv(q, 4, 0);
    t.is(
        "dgram_room_writable",
        poll_now(w, libc::POLLOUT) & libc::POLLOUT != 0,
    );
    t.shows("dgram_epoll_room", ready(), 1);
    close(ep);
    close(q);
    close(w);
}

pub fn seqpacket(t: &Transcript) {
    if let Ok(fd) = sock(libc::SOCK_SEQPACKET) {
        t.errno(
            "seqpacket_send_unconnected",
            send(fd, b"x", 0),
            libc::ENOTCONN,
        );
        t.errno("seqpacket_recv_unconnected", recv(fd, 4, 0), libc::ENOTCONN);
        close(fd);
    }
    let Ok([a, b]) = pair(libc::SOCK_SEQPACKET) else {
        return;
    };
    let _ = send(a, b"abc", 0);
    let _ = send(a, b"defgh", 0);
    t.is(
        "seqpacket_boundary",
        recv(b, 100, 0).is_ok_and(|c| c.1 == b"abc"),
    );
    let cut = recv_msg(b, 2, 0);
    t.is(
        "seqpacket_truncated",
        cut.is_ok_and(|c| c.1 == b"de" && c.2 & libc::MSG_TRUNC != 0),
    );
    t.errno(
        "seqpacket_rest_dropped",
        recv(b, 10, libc::MSG_DONTWAIT),
        libc::EAGAIN,
    );
    t.shows(
        "seqpacket_sendto_ignores_addr",
        send_to(a, b"z", &Addr::path("nowhere")),
        1,
    );
    t.is(
        "seqpacket_sendto_arrives",
        recv(b, 4, 0).is_ok_and(|c| c.1 == b"z"),
    );
    close(a);
    t.shows("seqpacket_eof_after_close", recv(b, 4, 0).map(|c| c.0), 0);
    t.errno(
        "seqpacket_send_after_close",
        send(b, b"x", libc::MSG_NOSIGNAL),
        libc::EPIPE,
    );
    close(b);
    let (Ok(l), Ok(c)) = (sock(libc::SOCK_SEQPACKET), sock(libc::SOCK_SEQPACKET)) else {
        return;
    };
    t.ok(
        "seqpacket_listen",
        bind(l, &Addr::path("sq-l")).and_then(|_| listen(l, 2)),
    );
    t.ok("seqpacket_connect", connect(c, &Addr::path("sq-l")));
    if let Some((s, _)) = t.ok("seqpacket_accept", accept(l, 0)) {
        let _ = send(c, b"hello", 0);
        let _ = send(c, b"world", 0);
        t.is(
            "seqpacket_named_message",
            recv(s, 100, 0).is_ok_and(|m| m.1 == b"hello"),
        );
        close(s);
    }
    close(c);
    close(l);
}

pub fn readiness(t: &Transcript) {
    let (Ok(l), Ok(c)) = (sock(libc::SOCK_STREAM), sock(libc::SOCK_STREAM)) else {
        return;
    };
    let _ = bind(l, &Addr::path("ready-l"));
    let _ = listen(l, 8);
    // SAFETY: no pointers.
    let Ok(ep) = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }) else {
        return;
    };
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: 1,
    };
    // SAFETY: `ev` is live.
    t.ok(
        "epoll_add_listener",
        cvt(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, l, &mut ev) }),
    );
    let wait_events = |timeout: c_int| {
        let mut out = [libc::epoll_event { events: 0, u64: 0 }; 4];
        // SAFETY: `out` has room for 4 events.
        let n = cvt(unsafe { libc::epoll_wait(ep, out.as_mut_ptr(), 4, timeout) });
        n.map(|n| (n, out[0].events))
    };
    t.shows("epoll_listener_idle", wait_events(0).map(|r| r.0), 0);
    let _ = connect(c, &Addr::path("ready-l"));
    let pending = wait_events(0);
    t.is(
        "epoll_listener_pending",
        pending.is_ok_and(|r| r == (1, libc::EPOLLIN as u32)),
    );
    if let Ok((s, _)) = accept(l, 0) {
        close(s);
    }
    t.shows("epoll_listener_drained", wait_events(0).map(|r| r.0), 0);
    close(c);
    // A blocking accept and a blocking poll, woken by another process.
    let child = spawn(|| {
        std::thread::sleep(Duration::from_millis(30));
        match sock(libc::SOCK_STREAM) {
            Ok(fd) => {
                let r = connect(fd, &Addr::path("ready-l")).and_then(|_| write(fd, b"w").map(drop));
                i32::from(r.is_err())
            }
            Err(_) => 2,
        }
    });
    let woken = accept(l, 0);
    t.is("blocking_accept_woken", woken.is_ok());
    if let Ok((s, _)) = woken {
        let mut p = libc::pollfd {
            fd: s,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        let n = cvt(unsafe { libc::poll(&mut p, 1, 10_000) });
        t.is(
            "blocking_poll_woken",
            n == Ok(1) && p.revents & libc::POLLIN != 0,
        );
        close(s);
    }
    if let Ok(pid) = child {
        t.shows("woken_child_status", wait(pid, 0).map(|w| w.1), "exited(0)");
    }
    close(ep);
    close(l);
    if let Ok(d) = sock(libc::SOCK_DGRAM) {
        let _ = bind(d, &Addr::path("ready-d"));
        t.shows(
            "poll_dgram_idle",
            Ok::<_, Errno>(poll_now(d, IO)),
            libc::POLLOUT,
        );
        if let Ok(s) = sock(libc::SOCK_DGRAM) {
            let _ = send_to(s, b"r", &Addr::path("ready-d"));
            close(s);
        }
        t.shows("poll_dgram_data", Ok::<_, Errno>(poll_now(d, IO)), IO);
        close(d);
    }
}
