//! Garbage collection of sockets in flight (Linux's `net/unix/garbage.c`): a socket whose
//! only references are messages queued on sockets that are themselves unreachable (a
//! socket sent over itself, two sockets each queued on the other) is freed once the last
//! descriptor goes, and a socket still reachable through a live socket's queue is not.
//! Each socket is bound to an abstract name, which is released only when the socket is
//! freed: binding the name again tells whether it was.

use crate::rights::{recv_ctl, send_fds};
use crate::{bind, close, pair, pid, sock, Addr};
use abi_tests::Transcript;
use core::ffi::c_int;
use std::time::{Duration, Instant};

/// How long the collector may take (Linux runs it from a work queue).
const PATIENCE: Duration = Duration::from_secs(3);

/// Can a fresh socket of type `ty` bind `name` within [`PATIENCE`]? (Abstract names are
/// per type, as in Linux.)
fn name_freed(ty: c_int, name: &str) -> bool {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if name_freed_now(ty, name) || Instant::now() >= deadline {
            return name_freed_now(ty, name);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Can a fresh socket of type `ty` bind `name` now? (It is closed again.)
fn name_freed_now(ty: c_int, name: &str) -> bool {
    let Ok(s) = sock(ty) else {
        return false;
    };
    let bound = bind(s, &Addr::abstract_name(name)).is_ok();
    close(s);
    bound
}

fn name(what: &str) -> String {
    format!("halyard-gc-{what}-{}", pid())
}

pub fn collector(t: &Transcript) {
    // A datagram socket that holds itself in its own queue.
    let own = name("self");
    if let Ok(d) = sock(libc::SOCK_DGRAM) {
        t.ok("gc_self_bind", bind(d, &Addr::abstract_name(&own)));
        t.ok(
            "gc_self_send",
            send_fds(d, b"x", &[d], Some(&Addr::abstract_name(&own))),
        );
        close(d);
        t.is("gc_self_cycle_freed", name_freed(libc::SOCK_DGRAM, &own));
    }

    // A stream pair, each end queued on the other.
    let both = name("pair");
    if let Ok([a, b]) = pair(libc::SOCK_STREAM) {
        t.ok("gc_pair_bind", bind(a, &Addr::abstract_name(&both)));
        t.ok("gc_pair_send_a", send_fds(a, b"a", &[a], None));
        t.ok("gc_pair_send_b", send_fds(b, b"b", &[b], None));
        close(a);
        close(b);
        t.is("gc_pair_cycle_freed", name_freed(libc::SOCK_STREAM, &both));
    }

    // Reachable: `a` lives only in the queue of `b`, whose descriptor is kept.
    let kept = name("kept");
    if let Ok([a, b]) = pair(libc::SOCK_STREAM) {
        t.ok("gc_kept_bind", bind(a, &Addr::abstract_name(&kept)));
        t.ok("gc_kept_send", send_fds(a, b"k", &[a], None));
        close(a);
        // Another socket's close runs the collector, which must leave `a` alone.
        if let Ok(x) = sock(libc::SOCK_DGRAM) {
            close(x);
        }
        t.is(
            "gc_kept_not_freed",
            !name_freed_now(libc::SOCK_STREAM, &kept),
        );
        let got = recv_ctl(b, 8, 64, 0);
        let fds: Vec<c_int> = got.map(|g| g.fds).unwrap_or_default();
        t.is("gc_kept_received", fds.len() == 1);
        for fd in fds {
            close(fd);
        }
        close(b);
        t.is(
            "gc_kept_freed_after_close",
            name_freed(libc::SOCK_STREAM, &kept),
        );
    }
}
