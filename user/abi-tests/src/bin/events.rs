//! `events`: readiness. poll/ppoll/select/pselect6 on pipes and socket pairs (bits,
//! timeouts, EINTR, the signal masks of ppoll/pselect6, select's timeout update), epoll
//! (level, edge, one-shot, EPOLLRDHUP, epoll in epoll, closed descriptors, errnos),
//! eventfd (counter, semaphore, overflow, EAGAIN) and timerfd (one-shot and interval
//! expiration counts, absolute times, gettime, errnos), and an echo through `mio`'s event
//! loop (epoll underneath) over a socket pair. Times appear only as relations.

use abi_tests::errno::{cvt, Errno};
use abi_tests::signal::{mask, set_action, set_of, Action};
use abi_tests::Transcript;
use core::ffi::{c_int, c_long};
use core::ptr::{null, null_mut};
use std::sync::atomic::{AtomicI32, Ordering};

fn main() {
    let t = Transcript::new("events");
    polling(&t);
    interrupts(&t);
    selecting(&t);
    epoll_errors(&t);
    epoll_modes(&t);
    epoll_nesting(&t);
    eventfds(&t);
    timerfds(&t);
    mio_echo(&t);
}

static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: c_int) {
    CAUGHT.store(sig, Ordering::SeqCst);
}

fn pipe(flags: c_int) -> [c_int; 2] {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for two descriptors.
    unsafe { libc::pipe2(fds.as_mut_ptr(), flags) };
    fds
}

fn socketpair() -> [c_int; 2] {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for two descriptors.
    unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) };
    fds
}

fn close(fd: c_int) {
    // SAFETY: closes a descriptor of this program that is no longer used.
    unsafe { libc::close(fd) };
}

fn write(fd: c_int, data: &[u8]) -> Result<isize, Errno> {
    // SAFETY: `data` is a live buffer of its length.
    cvt(unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) })
}

fn read(fd: c_int, len: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` is a live, writable buffer of `len` bytes.
    let n = cvt(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), len) })?;
    buf.truncate(n as usize);
    Ok(buf)
}

fn read_u64(fd: c_int) -> Result<u64, Errno> {
    let b = read(fd, 8)?;
    Ok(u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])))
}

fn write_u64(fd: c_int, v: u64) -> Result<isize, Errno> {
    write(fd, &v.to_ne_bytes())
}

fn cloexec(fd: c_int) -> bool {
    // SAFETY: F_GETFD takes no pointer.
    unsafe { libc::fcntl(fd, libc::F_GETFD) & libc::FD_CLOEXEC != 0 }
}

/// The names of the `poll` bits set in `ev`, in bit order.
fn names(ev: u32) -> String {
    const BITS: [(u32, &str); 11] = [
        (libc::POLLIN as u32, "IN"),
        (libc::POLLPRI as u32, "PRI"),
        (libc::POLLOUT as u32, "OUT"),
        (libc::POLLERR as u32, "ERR"),
        (libc::POLLHUP as u32, "HUP"),
        (libc::POLLNVAL as u32, "NVAL"),
        (libc::POLLRDNORM as u32, "RDNORM"),
        (libc::POLLRDBAND as u32, "RDBAND"),
        (libc::POLLWRNORM as u32, "WRNORM"),
        (libc::POLLWRBAND as u32, "WRBAND"),
        (libc::POLLRDHUP as u32, "RDHUP"),
    ];
    let v: Vec<&str> = BITS
        .iter()
        .filter(|(b, _)| ev & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join("|")
    }
}

/// Every event a program can ask `poll` for.
const ALL: i16 = libc::POLLIN
    | libc::POLLPRI
    | libc::POLLOUT
    | libc::POLLRDNORM
    | libc::POLLWRNORM
    | libc::POLLWRBAND
    | libc::POLLRDHUP;

fn poll1(fd: c_int, events: i16, timeout_ms: c_int) -> Result<String, Errno> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    let n = cvt(unsafe { libc::poll(&mut p, 1, timeout_ms) })?;
    Ok(format!("{n} {}", names(p.revents as u16 as u32)))
}

fn polling(t: &Transcript) {
    let [r, w] = pipe(0);
    t.shows("poll_pipe_empty_times_out", poll1(r, ALL, 10), "0 none");
    t.shows("poll_pipe_write_end", poll1(w, ALL, 0), "1 OUT|WRNORM");
    let _ = write(w, b"x");
    t.shows("poll_pipe_readable", poll1(r, ALL, 0), "1 IN|RDNORM");
    close(w);
    t.shows("poll_pipe_writer_gone", poll1(r, ALL, 0), "1 IN|HUP|RDNORM");
    close(r);
    let [a, b] = socketpair();
    t.shows("poll_pair_idle", poll1(a, ALL, 0), "1 OUT|WRNORM|WRBAND");
    let _ = write(b, b"hi");
    t.shows(
        "poll_pair_data",
        poll1(a, ALL, 0),
        "1 IN|OUT|RDNORM|WRNORM|WRBAND",
    );
    let _ = read(a, 10);
    // SAFETY: shutdown takes no pointer.
    let _ = unsafe { libc::shutdown(b, libc::SHUT_WR) };
    t.shows(
        "poll_pair_peer_shut_wr",
        poll1(a, ALL, 0),
        "1 IN|OUT|RDNORM|WRNORM|WRBAND|RDHUP",
    );
    t.shows(
        "poll_pair_read_after_shut_wr",
        read(a, 10).map(|b| b.len()),
        0,
    );
    close(b);
    t.shows(
        "poll_pair_peer_closed",
        poll1(a, ALL, 0),
        "1 IN|OUT|HUP|RDNORM|WRNORM|WRBAND|RDHUP",
    );
    close(a);
    // A child writes later: poll with no timeout sleeps until then.
    let [r, w] = pipe(0);
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(30));
        let _ = write(w, b"late");
    });
    t.shows("poll_wakes_on_write", poll1(r, libc::POLLIN, -1), "1 IN");
    let _ = writer.join();
    close(r);
    close(w);
}

/// Arms a one-shot `ITIMER_REAL` of `ms` milliseconds.
fn alarm_ms(ms: i64) {
    let it = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: 0,
            tv_usec: ms * 1000,
        },
    };
    // SAFETY: `it` is a live itimerval; the old value is not asked for.
    unsafe { libc::setitimer(libc::ITIMER_REAL, &it, null_mut()) };
}

fn ts(ms: i64) -> libc::timespec {
    libc::timespec {
        tv_sec: ms / 1000,
        tv_nsec: (ms % 1000) * 1_000_000,
    }
}

fn interrupts(t: &Transcript) {
    let _ = set_action(libc::SIGALRM, Action::Handler(on_signal), 0);
    let _ = set_action(libc::SIGUSR1, Action::Handler(on_signal), 0);
    let [r, w] = pipe(0);
    CAUGHT.store(0, Ordering::SeqCst);
    alarm_ms(20);
    t.errno("poll_eintr", poll1(r, libc::POLLIN, 5000), libc::EINTR);
    t.is(
        "poll_eintr_handler_ran",
        CAUGHT.load(Ordering::SeqCst) == libc::SIGALRM,
    );

    // SIGUSR1 blocked and pending: ppoll with a mask that unblocks it is interrupted at
    // once, and the old mask is back afterwards.
    let usr1 = set_of(&[libc::SIGUSR1]);
    let _ = mask(libc::SIG_BLOCK, &usr1);
    CAUGHT.store(0, Ordering::SeqCst);
    // SAFETY: raise takes no pointer.
    unsafe { libc::raise(libc::SIGUSR1) };
    let mut p = libc::pollfd {
        fd: r,
        events: libc::POLLIN,
        revents: 0,
    };
    let empty = set_of(&[]);
    let timeout = ts(5000);
    // SAFETY: live pollfd, timespec and sigset.
    let got = cvt(unsafe { libc::ppoll(&mut p, 1, &timeout, &empty) });
    t.errno("ppoll_mask_unblocks_pending", got, libc::EINTR);
    t.is(
        "ppoll_handler_ran",
        CAUGHT.load(Ordering::SeqCst) == libc::SIGUSR1,
    );
    let now = mask(libc::SIG_BLOCK, &empty).ok();
    t.is(
        "ppoll_mask_restored",
        now.is_some_and(|m| abi_tests::signal::is_member(&m, libc::SIGUSR1)),
    );
    // A mask that keeps it blocked: the timeout passes.
    // SAFETY: raise takes no pointer.
    unsafe { libc::raise(libc::SIGUSR1) };
    CAUGHT.store(0, Ordering::SeqCst);
    let timeout = ts(10);
    // SAFETY: live pollfd, timespec and sigset.
    let got = cvt(unsafe { libc::ppoll(&mut p, 1, &timeout, &usr1) });
    t.shows("ppoll_mask_keeps_blocked", got, 0);
    // pselect with the empty mask delivers the pending SIGUSR1.
    // SAFETY: an fd_set is plain data.
    let mut set: libc::fd_set = unsafe { core::mem::zeroed() };
    // SAFETY: `r` is below FD_SETSIZE; `set` is live.
    unsafe { libc::FD_SET(r, &mut set) };
    let timeout = ts(5000);
    // SAFETY: live fd_set, timespec and sigset.
    let got =
        cvt(unsafe { libc::pselect(r + 1, &mut set, null_mut(), null_mut(), &timeout, &empty) });
    t.errno("pselect_mask_unblocks_pending", got, libc::EINTR);
    t.is(
        "pselect_handler_ran",
        CAUGHT.load(Ordering::SeqCst) == libc::SIGUSR1,
    );
    let _ = mask(libc::SIG_UNBLOCK, &usr1);
    // Unknown sigset size.
    // SAFETY: raw ppoll with live pointers and a wrong size.
    let got = cvt(unsafe {
        libc::syscall(
            libc::SYS_ppoll,
            &mut p as *mut libc::pollfd,
            1,
            &timeout,
            &empty,
            4,
        )
    });
    t.errno("ppoll_bad_sigsetsize", got, libc::EINVAL);
    let bad = libc::timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000_000,
    };
    // SAFETY: raw ppoll with a live pollfd and an invalid timespec.
    let got = cvt(unsafe {
        libc::syscall(
            libc::SYS_ppoll,
            &mut p as *mut libc::pollfd,
            1,
            &bad,
            null::<u8>(),
            8,
        )
    });
    t.errno("ppoll_bad_timespec", got, libc::EINVAL);
    // SAFETY: raw poll with a bad pointer.
    let got = cvt(unsafe { libc::syscall(libc::SYS_poll, 8usize, 1, 0) });
    t.errno("poll_bad_pointer", got, libc::EFAULT);
    close(r);
    close(w);
}

fn raw_select(
    nfds: c_int,
    r: *mut libc::fd_set,
    w: *mut libc::fd_set,
    tv: *mut libc::timeval,
) -> Result<c_long, Errno> {
    // SAFETY: the caller's pointers are live or null.
    cvt(unsafe { libc::syscall(libc::SYS_select, nfds, r, w, null_mut::<libc::fd_set>(), tv) })
}

fn selecting(t: &Transcript) {
    let [r, w] = pipe(0);
    // SAFETY: fd_sets are plain data.
    let (mut rs, mut ws): (libc::fd_set, libc::fd_set) = unsafe { core::mem::zeroed() };
    // SAFETY: the descriptors are below FD_SETSIZE; the sets are live.
    unsafe {
        libc::FD_SET(r, &mut rs);
        libc::FD_SET(w, &mut ws);
    }
    let (r0, w0) = (rs, ws);
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 20_000,
    };
    let got = raw_select(w + 1, &mut rs, &mut ws, &mut tv);
    // SAFETY: the sets are live.
    let (rr, wr) = unsafe { (libc::FD_ISSET(r, &rs), libc::FD_ISSET(w, &ws)) };
    t.shows(
        "select_write_ready_only",
        got.map(|n| (n, rr, wr) == (1, false, true)),
        true,
    );
    rs = r0;
    ws = w0;
    let _ = write(w, b"x");
    tv = libc::timeval {
        tv_sec: 5,
        tv_usec: 0,
    };
    let got = raw_select(w + 1, &mut rs, &mut ws, &mut tv);
    t.shows("select_counts_each_bit", got, 2);
    t.is(
        "select_time_left_updated",
        (tv.tv_sec, tv.tv_usec) > (0, 0) && (tv.tv_sec, tv.tv_usec) <= (5, 0),
    );
    let _ = read(r, 1);
    rs = r0;
    tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 20_000,
    };
    let got = raw_select(r + 1, &mut rs, null_mut(), &mut tv);
    t.shows("select_times_out", got, 0);
    t.is("select_time_left_zero", (tv.tv_sec, tv.tv_usec) == (0, 0));
    // SAFETY: the set is live.
    t.is("select_clears_unready_bits", !unsafe {
        libc::FD_ISSET(r, &rs)
    });
    close(w);
    rs = r0;
    // SAFETY: the set is live; `w` is below FD_SETSIZE and closed now.
    unsafe { libc::FD_SET(w, &mut rs) };
    tv.tv_usec = 0;
    t.errno(
        "select_closed_fd_ebadf",
        raw_select(w + 1, &mut rs, null_mut(), &mut tv),
        libc::EBADF,
    );
    tv.tv_usec = -1;
    rs = r0;
    t.errno(
        "select_negative_usec",
        raw_select(r + 1, &mut rs, null_mut(), &mut tv),
        libc::EINVAL,
    );
    // A microsecond count of a second or more is carried into the seconds.
    tv.tv_usec = 1_000_000;
    rs = r0;
    t.shows(
        "select_usec_carried",
        raw_select(r + 1, &mut rs, null_mut(), &mut tv),
        1,
    );
    t.errno(
        "select_negative_nfds",
        raw_select(-1, null_mut(), null_mut(), null_mut()),
        libc::EINVAL,
    );
    rs = r0;
    tv.tv_usec = 0;
    t.shows(
        "select_hangup_is_readable",
        raw_select(r + 1, &mut rs, null_mut(), &mut tv),
        1,
    );
    close(r);
}

fn epoll_create1(flags: c_int) -> Result<c_int, Errno> {
    // SAFETY: no pointer.
    cvt(unsafe { libc::epoll_create1(flags) })
}

fn ctl(ep: c_int, op: c_int, fd: c_int, events: u32, data: u64) -> Result<c_int, Errno> {
    let mut ev = libc::epoll_event { events, u64: data };
    // SAFETY: `ev` is live.
    cvt(unsafe { libc::epoll_ctl(ep, op, fd, &mut ev) })
}

/// `epoll_wait` with room for 8 events: "count events:data ...".
fn wait(ep: c_int, timeout_ms: c_int) -> Result<String, Errno> {
    let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 8];
    // SAFETY: `evs` has room for 8 events.
    let n = cvt(unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), 8, timeout_ms) })?;
    let mut s = n.to_string();
    for e in &evs[..n as usize] {
        let (events, data) = (e.events, e.u64);
        s += &format!(" {}:{data}", names(events));
    }
    Ok(s)
}

const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;
const ET: u32 = libc::EPOLLET as u32;

fn epoll_errors(t: &Transcript) {
    t.errno("epoll_create1_bad_flags", epoll_create1(1), libc::EINVAL);
    // SAFETY: no pointer.
    t.errno(
        "epoll_create_zero",
        cvt(unsafe { libc::epoll_create(0) }),
        libc::EINVAL,
    );
    let Ok(ep) = epoll_create1(libc::EPOLL_CLOEXEC) else {
        return t.fail("epoll_create1_cloexec", "ok", Errno::last());
    };
    t.is("epoll_create1_cloexec", cloexec(ep));
    let [r, w] = pipe(0);
    t.shows("epoll_add", ctl(ep, libc::EPOLL_CTL_ADD, r, IN, 1), 0);
    t.errno(
        "epoll_add_twice",
        ctl(ep, libc::EPOLL_CTL_ADD, r, IN, 1),
        libc::EEXIST,
    );
    t.errno(
        "epoll_mod_unknown",
        ctl(ep, libc::EPOLL_CTL_MOD, w, OUT, 2),
        libc::ENOENT,
    );
    t.errno(
        "epoll_del_unknown",
        ctl(ep, libc::EPOLL_CTL_DEL, w, 0, 0),
        libc::ENOENT,
    );
    t.errno("epoll_bad_op", ctl(ep, 99, r, IN, 1), libc::EINVAL);
    t.errno(
        "epoll_add_self",
        ctl(ep, libc::EPOLL_CTL_ADD, ep, IN, 1),
        libc::EINVAL,
    );
    t.errno(
        "epoll_bad_fd",
        ctl(ep, libc::EPOLL_CTL_ADD, 999, IN, 1),
        libc::EBADF,
    );
    t.errno(
        "epoll_not_epoll",
        ctl(r, libc::EPOLL_CTL_ADD, w, OUT, 1),
        libc::EINVAL,
    );
    let excl = libc::EPOLLEXCLUSIVE as u32;
    t.shows(
        "epoll_exclusive_add",
        ctl(ep, libc::EPOLL_CTL_ADD, w, OUT | excl, 2),
        0,
    );
    t.errno(
        "epoll_exclusive_mod",
        ctl(ep, libc::EPOLL_CTL_MOD, w, OUT | excl, 2),
        libc::EINVAL,
    );
    t.errno(
        "epoll_exclusive_oneshot",
        ctl(
            ep,
            libc::EPOLL_CTL_ADD,
            r,
            IN | excl | libc::EPOLLONESHOT as u32,
            1,
        ),
        libc::EINVAL,
    );
    if let Some(dir) = abi_tests::report::scratch_dir() {
        let path = dir.join("events-regular");
        if let Ok(f) = std::fs::File::create(&path) {
            use std::os::fd::AsRawFd;
            t.errno(
                "epoll_regular_file",
                ctl(ep, libc::EPOLL_CTL_ADD, f.as_raw_fd(), IN, 3),
                libc::EPERM,
            );
        }
    }
    let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 1];
    // SAFETY: `evs` has room for one event; maxevents is wrong on purpose.
    t.errno(
        "epoll_wait_zero_max",
        cvt(unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), 0, 0) }),
        libc::EINVAL,
    );
    // SAFETY: as above.
    t.errno(
        "epoll_wait_negative_max",
        cvt(unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), -1, 0) }),
        libc::EINVAL,
    );
    // SAFETY: a null buffer: the kernel refuses it.
    t.errno(
        "epoll_wait_null_events",
        cvt(unsafe { libc::epoll_wait(ep, null_mut(), 1, 0) }),
        libc::EFAULT,
    );
    // SAFETY: `evs` is live; `r` is not an epoll.
    t.errno(
        "epoll_wait_not_epoll",
        cvt(unsafe { libc::epoll_wait(r, evs.as_mut_ptr(), 1, 0) }),
        libc::EINVAL,
    );
    // SAFETY: `evs` is live; 999 is not open.
    t.errno(
        "epoll_wait_bad_fd",
        cvt(unsafe { libc::epoll_wait(999, evs.as_mut_ptr(), 1, 0) }),
        libc::EBADF,
    );
    // SAFETY: a null event for EPOLL_CTL_ADD.
    t.errno(
        "epoll_ctl_null_event",
        cvt(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, 0, null_mut()) }),
        libc::EFAULT,
    );
    // EPOLL_CTL_DEL ignores the event pointer.
    // SAFETY: a null event for EPOLL_CTL_DEL, which reads none.
    t.shows(
        "epoll_del",
        cvt(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_DEL, r, null_mut()) }),
        0,
    );
    close(r);
    close(w);
    close(ep);
}

fn epoll_modes(t: &Transcript) {
    let Ok(ep) = epoll_create1(0) else {
        return t.fail("epoll_level", "an epoll", Errno::last());
    };
    let [r, w] = pipe(0);
    let _ = ctl(ep, libc::EPOLL_CTL_ADD, r, IN, 7);
    t.shows("epoll_level_empty", wait(ep, 0), "0");
    let _ = write(w, b"ab");
    t.shows("epoll_level", wait(ep, 0), "1 IN:7");
    t.shows("epoll_level_again", wait(ep, 0), "1 IN:7");
    let _ = read(r, 10);
    t.shows("epoll_level_drained", wait(ep, 0), "0");
    let _ = ctl(ep, libc::EPOLL_CTL_MOD, r, IN | ET, 8);
    let _ = write(w, b"ab");
    t.shows("epoll_edge", wait(ep, 0), "1 IN:8");
    t.shows("epoll_edge_once", wait(ep, 0), "0");
    let _ = write(w, b"c");
    t.shows("epoll_edge_new_data", wait(ep, 0), "1 IN:8");
    let _ = read(r, 10);
    let _ = ctl(
        ep,
        libc::EPOLL_CTL_MOD,
        r,
        IN | libc::EPOLLONESHOT as u32,
        9,
    );
    let _ = write(w, b"d");
    t.shows("epoll_oneshot", wait(ep, 0), "1 IN:9");
    let _ = write(w, b"e");
    t.shows("epoll_oneshot_disabled", wait(ep, 0), "0");
    let _ = ctl(
        ep,
        libc::EPOLL_CTL_MOD,
        r,
        IN | libc::EPOLLONESHOT as u32,
        10,
    );
    t.shows("epoll_oneshot_rearmed", wait(ep, 0), "1 IN:10");
    let _ = read(r, 10);
    // A blocked wait is woken by another thread's write.
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(30));
        let _ = write(w, b"late");
    });
    let _ = ctl(ep, libc::EPOLL_CTL_MOD, r, IN, 11);
    t.shows("epoll_wait_blocks_until_write", wait(ep, 5000), "1 IN:11");
    let _ = writer.join();
    let _ = ctl(ep, libc::EPOLL_CTL_DEL, r, 0, 0);
    t.shows("epoll_deleted", wait(ep, 0), "0");
    // The pipe's writer is gone: EPOLLHUP is reported though not asked for.
    let _ = read(r, 10);
    let _ = ctl(ep, libc::EPOLL_CTL_ADD, r, 0, 12);
    close(w);
    t.shows("epoll_hup_unasked", wait(ep, 0), "1 HUP:12");
    close(r);

    // Socket pairs: EPOLLRDHUP on the peer's half-close.
    let [a, b] = socketpair();
    let _ = ctl(
        ep,
        libc::EPOLL_CTL_ADD,
        a,
        IN | OUT | libc::EPOLLRDHUP as u32 | ET,
        20,
    );
    t.shows("epoll_pair_writable", wait(ep, 0), "1 OUT:20");
    t.shows("epoll_pair_edge_quiet", wait(ep, 0), "0");
    let _ = write(b, b"x");
    t.shows("epoll_pair_data", wait(ep, 0), "1 IN|OUT:20");
    // SAFETY: shutdown takes no pointer.
    let _ = unsafe { libc::shutdown(b, libc::SHUT_WR) };
    t.shows("epoll_pair_rdhup", wait(ep, 0), "1 IN|OUT|RDHUP:20");
    close(b);
    close(a);

    // eventfd, level and edge.
    // SAFETY: no pointer.
    let efd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK) };
    let _ = ctl(ep, libc::EPOLL_CTL_ADD, efd, IN, 30);
    t.shows("epoll_eventfd_zero", wait(ep, 0), "0");
    let _ = write_u64(efd, 2);
    t.shows("epoll_eventfd_level", wait(ep, 0), "1 IN:30");
    let _ = ctl(ep, libc::EPOLL_CTL_MOD, efd, IN | ET, 31);
    t.shows("epoll_eventfd_edge", wait(ep, 0), "1 IN:31");
    t.shows("epoll_eventfd_edge_once", wait(ep, 0), "0");
    let _ = write_u64(efd, 1);
    t.shows("epoll_eventfd_edge_write", wait(ep, 0), "1 IN:31");
    // A watched file stays watched while a duplicate keeps it open; closing the last
    // descriptor removes it.
    // SAFETY: dup takes no pointer.
    let dup = unsafe { libc::dup(efd) };
    close(efd);
    let _ = write_u64(dup, 1);
    t.shows("epoll_survives_closed_duplicate", wait(ep, 0), "1 IN:31");
    t.errno(
        "epoll_del_closed_fd",
        ctl(ep, libc::EPOLL_CTL_DEL, efd, 0, 0),
        libc::EBADF,
    );
    close(dup);
    t.shows("epoll_closed_file_removed", wait(ep, 0), "0");
    close(ep);
}

fn epoll_nesting(t: &Transcript) {
    let (Ok(outer), Ok(inner)) = (epoll_create1(0), epoll_create1(0)) else {
        return t.fail("epoll_in_epoll", "two epolls", Errno::last());
    };
    let [r, w] = pipe(0);
    let _ = ctl(inner, libc::EPOLL_CTL_ADD, r, IN, 1);
    t.shows(
        "epoll_in_epoll_add",
        ctl(outer, libc::EPOLL_CTL_ADD, inner, IN, 2),
        0,
    );
    t.errno(
        "epoll_loop",
        ctl(inner, libc::EPOLL_CTL_ADD, outer, IN, 3),
        libc::ELOOP,
    );
    t.shows("epoll_in_epoll_idle", wait(outer, 0), "0");
    t.shows(
        "poll_on_idle_epoll",
        poll1(inner, libc::POLLIN, 0),
        "0 none",
    );
    let _ = write(w, b"x");
    t.shows("epoll_in_epoll_ready", wait(outer, 0), "1 IN:2");
    t.shows("poll_on_ready_epoll", poll1(inner, libc::POLLIN, 0), "1 IN");
    t.shows("epoll_inner_reports", wait(inner, 0), "1 IN:1");
    let _ = read(r, 10);
    t.shows("epoll_in_epoll_drained", wait(outer, 0), "0");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(30));
        let _ = write(w, b"late");
    });
    t.shows("epoll_in_epoll_wakes", wait(outer, 5000), "1 IN:2");
    let _ = writer.join();
    close(r);
    close(w);
    close(inner);
    close(outer);
}

fn eventfds(t: &Transcript) {
    // SAFETY: no pointer.
    t.errno(
        "eventfd_bad_flags",
        cvt(unsafe { libc::eventfd(0, 0x10) }),
        libc::EINVAL,
    );
    // SAFETY: no pointer.
    let efd = unsafe { libc::eventfd(3, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    t.is("eventfd_cloexec", cloexec(efd));
    t.shows("eventfd_poll_nonzero", poll1(efd, ALL, 0), "1 IN|OUT");
    t.shows("eventfd_read_takes_all", read_u64(efd), 3);
    t.errno("eventfd_empty_eagain", read_u64(efd), libc::EAGAIN);
    t.shows("eventfd_poll_zero", poll1(efd, ALL, 0), "1 OUT");
    t.errno("eventfd_short_read", read(efd, 4), libc::EINVAL);
    t.errno(
        "eventfd_short_write",
        write(efd, &[1, 0, 0, 0]),
        libc::EINVAL,
    );
    t.errno("eventfd_write_max", write_u64(efd, u64::MAX), libc::EINVAL);
    t.shows("eventfd_write_to_limit", write_u64(efd, u64::MAX - 1), 8);
    t.errno("eventfd_overflow_eagain", write_u64(efd, 1), libc::EAGAIN);
    t.shows("eventfd_poll_full", poll1(efd, ALL, 0), "1 IN");
    t.shows("eventfd_write_zero_when_full", write_u64(efd, 0), 8);
    t.shows("eventfd_read_limit", read_u64(efd), u64::MAX - 1);
    close(efd);
    // SAFETY: no pointer.
    let sem = unsafe { libc::eventfd(2, libc::EFD_SEMAPHORE | libc::EFD_NONBLOCK) };
    t.shows("eventfd_semaphore_one", read_u64(sem), 1);
    t.shows("eventfd_semaphore_two", read_u64(sem), 1);
    t.errno("eventfd_semaphore_empty", read_u64(sem), libc::EAGAIN);
    close(sem);
    // A blocking read waits for a write from another thread.
    // SAFETY: no pointer.
    let efd = unsafe { libc::eventfd(0, 0) };
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(30));
        let _ = write_u64(efd, 5);
    });
    t.shows("eventfd_blocking_read", read_u64(efd), 5);
    let _ = writer.join();
    close(efd);
}

fn settime(
    fd: c_int,
    flags: c_int,
    value_ms: i64,
    interval_ms: i64,
) -> Result<libc::itimerspec, Errno> {
    let new = libc::itimerspec {
        it_interval: ts(interval_ms),
        it_value: ts(value_ms),
    };
    // SAFETY: an itimerspec is plain data.
    let mut old: libc::itimerspec = unsafe { core::mem::zeroed() };
    // SAFETY: live itimerspecs.
    cvt(unsafe { libc::timerfd_settime(fd, flags, &new, &mut old) })?;
    Ok(old)
}

fn gettime(fd: c_int) -> Result<libc::itimerspec, Errno> {
    // SAFETY: an itimerspec is plain data.
    let mut cur: libc::itimerspec = unsafe { core::mem::zeroed() };
    // SAFETY: a live itimerspec.
    cvt(unsafe { libc::timerfd_gettime(fd, &mut cur) })?;
    Ok(cur)
}

fn ns(t: &libc::timespec) -> i64 {
    t.tv_sec * 1_000_000_000 + t.tv_nsec
}

fn timerfds(t: &Transcript) {
    // SAFETY: no pointer.
    t.errno(
        "timerfd_bad_clock",
        cvt(unsafe { libc::timerfd_create(99, 0) }),
        libc::EINVAL,
    );
    // SAFETY: no pointer.
    t.errno(
        "timerfd_bad_flags",
        cvt(unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, 1) }),
        libc::EINVAL,
    );
    // SAFETY: no pointer.
    let fd = unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
        )
    };
    t.is("timerfd_cloexec", cloexec(fd));
    t.shows(
        "timerfd_disarmed",
        gettime(fd).map(|c| (ns(&c.it_value), ns(&c.it_interval)) == (0, 0)),
        true,
    );
    t.errno("timerfd_disarmed_eagain", read_u64(fd), libc::EAGAIN);
    t.errno(
        "timerfd_settime_bad_flags",
        settime(fd, 4, 10, 0),
        libc::EINVAL,
    );
    t.errno(
        "timerfd_settime_bad_nsec",
        {
            let new = libc::itimerspec {
                it_interval: ts(0),
                it_value: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 1_000_000_000,
                },
            };
            // SAFETY: a live itimerspec.
            cvt(unsafe { libc::timerfd_settime(fd, 0, &new, null_mut()) })
        },
        libc::EINVAL,
    );
    let [r, w] = pipe(0);
    t.errno(
        "timerfd_settime_not_timer",
        settime(r, 0, 10, 0),
        libc::EINVAL,
    );
    t.errno(
        "timerfd_settime_bad_fd",
        settime(999, 0, 10, 0),
        libc::EBADF,
    );
    close(r);
    close(w);
    // One-shot, 200 ms: not yet, then exactly one expiration.
    let _ = settime(fd, 0, 200, 0);
    t.errno("timerfd_not_yet", read_u64(fd), libc::EAGAIN);
    let left = gettime(fd).map(|c| ns(&c.it_value));
    t.is(
        "timerfd_gettime_counts_down",
        left.is_ok_and(|l| l > 0 && l <= 200_000_000),
    );
    t.shows(
        "timerfd_poll_then_ready",
        poll1(fd, libc::POLLIN, 5000),
        "1 IN",
    );
    t.shows("timerfd_oneshot_one", read_u64(fd), 1);
    t.errno("timerfd_oneshot_then_empty", read_u64(fd), libc::EAGAIN);
    // Interval 10 ms from 10 ms: after 55 ms at least 4 have passed.
    let _ = settime(fd, 0, 10, 10);
    std::thread::sleep(std::time::Duration::from_millis(55));
    t.is(
        "timerfd_interval_counts",
        read_u64(fd).is_ok_and(|n| n >= 4),
    );
    t.shows(
        "timerfd_gettime_interval",
        gettime(fd).map(|c| ns(&c.it_interval)),
        10_000_000,
    );
    let old = settime(fd, 0, 0, 0);
    t.shows(
        "timerfd_settime_old_interval",
        old.map(|o| ns(&o.it_interval)),
        10_000_000,
    );
    t.errno("timerfd_disarm", read_u64(fd), libc::EAGAIN);
    close(fd);
    // Absolute, monotonic: a blocking read waits for it.
    // SAFETY: no pointer.
    let fd = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, 0) };
    // SAFETY: a timespec is plain data.
    let mut now: libc::timespec = unsafe { core::mem::zeroed() };
    // SAFETY: a live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let at = ns(&now) / 1_000_000 + 20;
    let _ = settime(fd, libc::TFD_TIMER_ABSTIME, at, 0);
    t.shows("timerfd_abstime_blocking_read", read_u64(fd), 1);
    close(fd);
    // Absolute realtime in the past: ready at once.
    // SAFETY: no pointer.
    let fd = unsafe { libc::timerfd_create(libc::CLOCK_REALTIME, libc::TFD_NONBLOCK) };
    let _ = settime(fd, libc::TFD_TIMER_ABSTIME, 1000, 0);
    t.shows("timerfd_realtime_past", read_u64(fd), 1);
    // In epoll.
    if let Ok(ep) = epoll_create1(0) {
        let _ = ctl(ep, libc::EPOLL_CTL_ADD, fd, IN, 40);
        let _ = settime(fd, 0, 20, 0);
        t.shows("timerfd_epoll_idle", wait(ep, 0), "0");
        t.shows("timerfd_epoll_wakes", wait(ep, 5000), "1 IN:40");
        close(ep);
    }
    close(fd);
}

/// A `mio` event loop (epoll, edge-triggered, and an eventfd waker) echoing over a
/// socket pair: the client's request reaches the server, whose reply reaches the client,
/// whose waker then ends the loop.
fn mio_echo(t: &Transcript) {
    t.shows("mio_echo_round_trip", mio_round_trip(), "ping>pong woken");
}

fn mio_round_trip() -> Result<String, Errno> {
    use mio::net::UnixStream;
    use mio::{Events, Interest, Poll, Token, Waker};
    use std::io::{ErrorKind, Read, Write};
    use std::time::Duration;

    let os = |e: std::io::Error| Errno(e.raw_os_error().unwrap_or(libc::EIO));
    let (mut server, mut client) = UnixStream::pair().map_err(os)?;
    let mut poll = Poll::new().map_err(os)?;
    let (s, c, w) = (Token(1), Token(2), Token(3));
    poll.registry()
        .register(&mut server, s, Interest::READABLE)
        .map_err(os)?;
    poll.registry()
        .register(&mut client, c, Interest::READABLE | Interest::WRITABLE)
        .map_err(os)?;
    let waker = Waker::new(poll.registry(), w).map_err(os)?;
    let mut events = Events::with_capacity(8);
    let (mut sent, mut request, mut reply) = (false, String::new(), String::new());
    // Bounded: a lost wake-up shows as a wrong answer, not a hang.
    for _ in 0..50 {
        poll.poll(&mut events, Some(Duration::from_secs(5)))
            .map_err(os)?;
        for ev in events.iter() {
            let mut buf = [0u8; 16];
            match ev.token() {
                t if t == c && ev.is_writable() && !sent => {
                    client.write_all(b"ping").map_err(os)?;
                    sent = true;
                }
                t if t == s && ev.is_readable() => loop {
                    match server.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            request += &String::from_utf8_lossy(&buf[..n]);
                            server.write_all(b"pong").map_err(os)?;
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => return Err(os(e)),
                    }
                },
                t if t == c && ev.is_readable() && reply.is_empty() => {
                    let n = client.read(&mut buf).map_err(os)?;
                    reply = String::from_utf8_lossy(&buf[..n]).into_owned();
                    // The loop's own waker (an eventfd under epoll) ends it.
                    waker.wake().map_err(os)?;
                }
                t if t == w => return Ok(format!("{request}>{reply} woken")),
                _ => {}
            }
        }
    }
    Ok(format!("{request}>{reply} (not woken)"))
}
