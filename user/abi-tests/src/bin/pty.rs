//! `pty`: pseudo-terminals. `/dev/ptmx` and `/dev/pts/N` (grantpt, unlockpt, ptsname,
//! the locked slave, TIOCGPTN/TIOCSPTLCK/TIOCGPTLCK/TIOCGPTPEER), the device numbers,
//! the pair's shared termios and window size, canonical and raw reads through the pair
//! with echo and output processing, poll on both ends, a child that makes the slave its
//! controlling terminal (setsid + TIOCSCTTY): ^C kills it with SIGINT, TIOCSWINSZ sends it
//! SIGWINCH, `/dev/tty` and `/proc/self/stat`'s tty fields name the pty; then hang-up:
//! the last master close sends SIGHUP to the session leader, and the slave reads end of
//! file and writes `EIO`; the master reads `EIO` once every slave descriptor is closed.
//!
//! Linux moves bytes between the two ends asynchronously (a work queue pushes them into
//! the other end's line discipline), so a check that looks at the other end right after
//! a write first waits for it with `poll` (bounded), and reads gather until the expected
//! length or a pause.

use abi_tests::errno::{cvt, Errno};
use abi_tests::fd::{close, open, pipe, read, write};
use abi_tests::process::{spawn, wait};
use abi_tests::signal::{mask, set_of};
use abi_tests::Transcript;
use core::ffi::c_int;

fn main() {
    let t = Transcript::new("pty");
    allocation(&t);
    terminal_settings(&t);
    data(&t);
    readiness(&t);
    controlling(&t);
    hangup(&t);
    slave_closed(&t);
}

const RW: c_int = libc::O_RDWR | libc::O_NOCTTY;

/// `ioctl(fd, req, &int)`: the int after the call.
fn ioctl_int(fd: c_int, req: libc::c_ulong, value: c_int) -> Result<c_int, Errno> {
    let mut v = value;
    // SAFETY: every request used with it reads or writes one int.
    cvt(unsafe { libc::ioctl(fd, req, &mut v) })?;
    Ok(v)
}

/// `ioctl(fd, req, arg)` with an integer argument.
fn ioctl_arg(fd: c_int, req: libc::c_ulong, arg: libc::c_ulong) -> Result<c_int, Errno> {
    // SAFETY: the requests used with it take an integer, not a pointer.
    cvt(unsafe { libc::ioctl(fd, req, arg) })
}

fn get_termios(fd: c_int) -> Result<libc::termios, Errno> {
    // SAFETY: termios is plain data.
    let mut tio: libc::termios = unsafe { core::mem::zeroed() };
    // SAFETY: TCGETS writes one termios.
    cvt(unsafe { libc::ioctl(fd, libc::TCGETS, &mut tio) })?;
    Ok(tio)
}

fn set_termios(fd: c_int, tio: &libc::termios) -> Result<c_int, Errno> {
    // SAFETY: TCSETS reads one termios.
    cvt(unsafe { libc::ioctl(fd, libc::TCSETS, tio) })
}

fn get_winsize(fd: c_int) -> Result<libc::winsize, Errno> {
    // SAFETY: winsize is plain data.
    let mut ws: libc::winsize = unsafe { core::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes one winsize.
    cvt(unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) })?;
    Ok(ws)
}

fn set_winsize(fd: c_int, rows: u16, cols: u16) -> Result<c_int, Errno> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize.
    cvt(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) })
}

/// A new master, its pty number and the unlocked slave's path.
fn new_pair() -> Result<(c_int, u32, String), Errno> {
    let m = open("/dev/ptmx", RW, 0)?;
    let n = ioctl_int(m, libc::TIOCGPTN, -1)?;
    ioctl_int(m, libc::TIOCSPTLCK, 0)?;
    Ok((m, n as u32, format!("/dev/pts/{n}")))
}

/// A master and its open slave.
fn open_pair() -> Option<(c_int, c_int, u32)> {
    let (m, n, path) = new_pair().ok()?;
    let s = open(&path, RW, 0).ok()?;
    Some((m, s, n))
}

/// `poll` on one descriptor: the returned events as names (`IN|OUT`), `none` on timeout.
fn poll1(fd: c_int, events: i16, timeout_ms: c_int) -> Result<String, Errno> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    cvt(unsafe { libc::poll(&mut p, 1, timeout_ms) })?;
    const BITS: [(i16, &str); 5] = [
        (libc::POLLIN, "IN"),
        (libc::POLLOUT, "OUT"),
        (libc::POLLERR, "ERR"),
        (libc::POLLHUP, "HUP"),
        (libc::POLLNVAL, "NVAL"),
    ];
    let v: Vec<&str> = BITS
        .iter()
        .filter(|(b, _)| p.revents & b != 0)
        .map(|(_, n)| *n)
        .collect();
    Ok(if v.is_empty() {
        "none".into()
    } else {
        v.join("|")
    })
}

const IN_OUT: i16 = libc::POLLIN | libc::POLLOUT;

/// Reads from `fd` until `want` bytes came or nothing more arrives within 2 s (each
/// read waits with `poll` first, so the pair's asynchronous transfer cannot race it).
fn gather(fd: c_int, want: usize) -> String {
    let mut got = Vec::new();
    while got.len() < want {
        if poll1(fd, libc::POLLIN, 2000).map_or(true, |e| !e.contains("IN")) {
            break;
        }
        match read(fd, want - got.len()) {
            Ok(b) if !b.is_empty() => got.extend_from_slice(&b),
            _ => break,
        }
    }
    format!("{:?}", String::from_utf8_lossy(&got))
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

fn allocation(t: &Transcript) {
    let Ok(m) = open("/dev/ptmx", RW, 0) else {
        return t.fail("open_ptmx", "ok", Errno::last());
    };
    t.value("open_ptmx", "ok");
    // SAFETY: isatty takes a descriptor.
    t.eq("master_isatty", unsafe { libc::isatty(m) }, 1);
    // SAFETY: grantpt takes a descriptor.
    t.shows("grantpt", cvt(unsafe { libc::grantpt(m) }), 0);
    let n = ioctl_int(m, libc::TIOCGPTN, -1).unwrap_or(-1);
    t.is("tiocgptn_nonnegative", n >= 0);
    let path = format!("/dev/pts/{n}");
    // SAFETY: ptsname returns null or a pointer to a static NUL-terminated buffer.
    let name = unsafe { libc::ptsname(m) };
    let name = if name.is_null() {
        String::new()
    } else {
        // SAFETY: non-null: glibc's static buffer, valid until the next call.
        unsafe { core::ffi::CStr::from_ptr(name) }
            .to_string_lossy()
            .into_owned()
    };
    t.eq("ptsname_is_dev_pts_n", name == path, true);
    t.shows("locked_at_first", ioctl_int(m, libc::TIOCGPTLCK, -1), 1);
    t.errno("open_locked_slave", open(&path, RW, 0), libc::EIO);
    t.errno(
        "peer_of_locked_slave",
        ioctl_arg(m, libc::TIOCGPTPEER, RW as libc::c_ulong),
        libc::EIO,
    );
    // SAFETY: unlockpt takes a descriptor.
    t.shows("unlockpt", cvt(unsafe { libc::unlockpt(m) }), 0);
    t.shows("unlocked_after", ioctl_int(m, libc::TIOCGPTLCK, -1), 0);
    t.shows("lock_again", ioctl_int(m, libc::TIOCSPTLCK, 1), 1);
    t.errno("open_relocked_slave", open(&path, RW, 0), libc::EIO);
    let _ = ioctl_int(m, libc::TIOCSPTLCK, 0);
    let Ok(s) = open(&path, RW, 0) else {
        return t.fail("open_slave", "ok", Errno::last());
    };
    t.value("open_slave", "ok");
    // SAFETY: as above.
    t.eq("slave_isatty", unsafe { libc::isatty(s) }, 1);
    t.errno(
        "tiocgptn_on_slave",
        ioctl_int(s, libc::TIOCGPTN, -1),
        libc::ENOTTY,
    );
    t.errno(
        "tiocsptlck_on_slave",
        ioctl_int(s, libc::TIOCSPTLCK, 0),
        libc::ENOTTY,
    );
    let null = open("/dev/null", libc::O_RDWR, 0).unwrap_or(-1);
    t.errno(
        "tiocgptn_on_null",
        ioctl_int(null, libc::TIOCGPTN, -1),
        libc::ENOTTY,
    );
    close(null);
    t.errno(
        "tiocsptlck_bad_pointer",
        // SAFETY: the kernel must refuse the address; nothing is written here.
        cvt(unsafe { libc::ioctl(m, libc::TIOCSPTLCK, 8usize as *mut c_int) }),
        libc::EFAULT,
    );
    match ioctl_arg(m, libc::TIOCGPTPEER, RW as libc::c_ulong) {
        Ok(peer) => {
            t.value("tiocgptpeer", "ok");
            let _ = write(peer, b"via peer\n");
            t.eq("peer_is_the_slave", gather(m, 10), quoted("via peer\r\n"));
            close(peer);
        }
        Err(e) => t.fail("tiocgptpeer", "ok", e),
    }
    device_numbers(t, m, s, n as u32, &path);
    let other = new_pair();
    t.is(
        "second_pair_other_number",
        other.as_ref().is_ok_and(|(_, n2, _)| *n2 != n as u32),
    );
    if let Ok((m2, _, _)) = other {
        close(m2);
    }
    close(s);
    close(m);
    t.errno("slave_gone_with_master", stat_of(&path), libc::ENOENT);
    t.errno("no_such_slave", open("/dev/pts/9999", RW, 0), libc::ENOENT);
}

fn stat_of(path: &str) -> Result<libc::stat, Errno> {
    // SAFETY: stat is plain data.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: a valid C path and a live stat buffer.
    cvt(unsafe { libc::stat(abi_tests::fd::c(path).as_ptr(), &mut st) })?;
    Ok(st)
}

fn fstat_of(fd: c_int) -> Result<libc::stat, Errno> {
    // SAFETY: stat is plain data.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: a live stat buffer.
    cvt(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st)
}

fn device_numbers(t: &Transcript, m: c_int, s: c_int, n: u32, path: &str) {
    let dev = |st: &libc::stat| (libc::major(st.st_rdev), libc::minor(st.st_rdev));
    match stat_of("/dev/ptmx") {
        Ok(st) => {
            t.is("ptmx_is_char", st.st_mode & libc::S_IFMT == libc::S_IFCHR);
            t.eq("ptmx_rdev", format!("{:?}", dev(&st)), "(5, 2)".into());
        }
        Err(e) => t.fail("ptmx_is_char", "ok", e),
    }
    match stat_of(path) {
        Ok(st) => {
            t.is("pts_is_char", st.st_mode & libc::S_IFMT == libc::S_IFCHR);
            t.is("pts_rdev_136_n", dev(&st) == (136, n));
            let same = fstat_of(s).is_ok_and(|f| f.st_ino == st.st_ino && f.st_dev == st.st_dev);
            t.is("fstat_slave_same_as_stat", same);
        }
        Err(e) => t.fail("pts_is_char", "ok", e),
    }
    t.shows(
        "fstat_master_rdev",
        fstat_of(m).map(|st| format!("{:?}", dev(&st))),
        "(5, 2)",
    );
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: `buf` is a live buffer of its length.
    let r = unsafe { libc::ttyname_r(s, buf.as_mut_ptr(), buf.len()) };
    // SAFETY: on success ttyname_r wrote a NUL-terminated string into `buf`.
    let name = unsafe { core::ffi::CStr::from_ptr(buf.as_ptr()) };
    t.is("ttyname_of_slave", r == 0 && name.to_string_lossy() == path);
    let listed = std::fs::read_dir("/dev/pts").is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy() == n.to_string())
    });
    t.is("listed_in_dev_pts", listed);
}

fn terminal_settings(t: &Transcript) {
    let Some((m, s, _)) = open_pair() else {
        return t.fail("settings_pair", "ok", Errno::last());
    };
    match get_termios(s) {
        Ok(tio) => {
            t.value(
                "slave_default_termios",
                format!(
                    "i={:#x} o={:#x} c={:#x} l={:#x} vmin={} vintr={}",
                    tio.c_iflag,
                    tio.c_oflag,
                    tio.c_cflag,
                    tio.c_lflag,
                    tio.c_cc[libc::VMIN],
                    tio.c_cc[libc::VINTR]
                ),
            );
            let from_master = get_termios(m).map(|mt| mt.c_lflag == tio.c_lflag);
            t.shows("master_tcgets_is_slaves", from_master, true);
            let mut raw = tio;
            raw.c_lflag &= !(libc::ICANON | libc::ECHO);
            t.shows("tcsets_on_master", set_termios(m, &raw), 0);
            t.shows(
                "slave_sees_master_change",
                get_termios(s).map(|x| x.c_lflag & (libc::ICANON | libc::ECHO)),
                0,
            );
            let mut cs7 = tio;
            cs7.c_cflag = (cs7.c_cflag & !libc::CSIZE) | libc::CS7;
            let _ = set_termios(s, &cs7);
            t.shows(
                "pty_keeps_cs8",
                get_termios(s).map(|x| x.c_cflag & libc::CSIZE == libc::CS8),
                true,
            );
            let _ = set_termios(s, &tio);
        }
        Err(e) => t.fail("slave_default_termios", "ok", e),
    }
    t.shows(
        "default_winsize",
        get_winsize(s).map(|w| format!("{}x{}", w.ws_row, w.ws_col)),
        "0x0",
    );
    t.shows("tiocswinsz_on_master", set_winsize(m, 24, 80), 0);
    t.shows(
        "slave_sees_winsize",
        get_winsize(s).map(|w| format!("{}x{}", w.ws_row, w.ws_col)),
        "24x80",
    );
    t.shows("tiocswinsz_on_slave", set_winsize(s, 50, 132), 0);
    t.shows(
        "master_sees_winsize",
        get_winsize(m).map(|w| format!("{}x{}", w.ws_row, w.ws_col)),
        "50x132",
    );
    t.errno(
        "tiocgpgrp_not_controlling",
        ioctl_int(s, libc::TIOCGPGRP, 0),
        libc::ENOTTY,
    );
    t.errno(
        "tiocgsid_no_session",
        ioctl_int(m, libc::TIOCGSID, 0),
        libc::ENOTTY,
    );
    t.errno(
        "tiocspgrp_not_controlling",
        ioctl_int(s, libc::TIOCSPGRP, 1),
        libc::ENOTTY,
    );
    t.errno(
        "tiocnotty_not_controlling",
        ioctl_arg(s, libc::TIOCNOTTY, 0),
        libc::ENOTTY,
    );
    t.errno(
        "tiocsctty_not_session_leader",
        ioctl_arg(s, libc::TIOCSCTTY, 0),
        libc::EPERM,
    );
    t.errno(
        "unknown_ioctl_master",
        ioctl_arg(m, 0x0054_01ff, 0),
        libc::ENOTTY,
    );
    close(s);
    close(m);
}

fn data(t: &Transcript) {
    let Some((m, s, _)) = open_pair() else {
        return t.fail("data_pair", "ok", Errno::last());
    };
    // Canonical mode: an edited line, echoed to the master with ECHOE's erase.
    let _ = write(m, b"ab\x7fc\n");
    t.eq("canonical_read", gather(s, 100), quoted("ac\n"));
    t.eq(
        "echo_to_master",
        gather(m, 100),
        quoted("ab\u{8} \u{8}c\r\n"),
    );
    let _ = write(m, b"par");
    t.shows(
        "partial_line_not_readable",
        poll1(s, libc::POLLIN, 100),
        "none",
    );
    t.shows("fionread_partial_line", ioctl_int(s, libc::FIONREAD, -1), 0);
    let _ = write(m, b"tial\r");
    let _ = poll1(s, libc::POLLIN, 2000);
    t.shows("fionread_line", ioctl_int(s, libc::FIONREAD, -1), 8);
    t.eq("icrnl_line", gather(s, 8), quoted("partial\n"));
    let _ = gather(m, 9);
    // Output processing: ONLCR on what the slave writes.
    t.shows("slave_write_count", write(s, b"one\ntwo"), 7);
    let _ = poll1(m, libc::POLLIN, 2000);
    t.shows("master_fionread", ioctl_int(m, libc::FIONREAD, -1), 8);
    t.eq("onlcr_to_master", gather(m, 8), quoted("one\r\ntwo"));
    // ^D at the start of a line reads as end of file.
    let _ = write(m, b"\x04");
    t.shows(
        "veof_reads_zero",
        {
            let _ = poll1(s, libc::POLLIN, 2000);
            read(s, 10).map(|b| b.len())
        },
        0,
    );
    // Raw mode: bytes as they come, no echo, no output processing.
    if let Ok(tio) = get_termios(s) {
        let mut raw = tio;
        // SAFETY: cfmakeraw edits the termios in place.
        unsafe { libc::cfmakeraw(&mut raw) };
        let _ = set_termios(s, &raw);
        let _ = write(m, b"x\x03y\n");
        t.eq("raw_read", gather(s, 4), quoted("x\u{3}y\n"));
        t.shows("raw_no_echo", poll1(m, libc::POLLIN, 100), "none");
        let _ = write(s, b"a\nb");
        t.eq("raw_output", gather(m, 3), quoted("a\nb"));
        let _ = set_termios(s, &tio);
    }
    // Non-blocking reads on both ends.
    let nb = |fd: c_int| {
        // SAFETY: F_SETFL takes an int.
        unsafe { libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) }
    };
    nb(m);
    nb(s);
    t.errno("master_read_empty_eagain", read(m, 10), libc::EAGAIN);
    t.errno("slave_read_empty_eagain", read(s, 10), libc::EAGAIN);
    close(s);
    close(m);
}

fn readiness(t: &Transcript) {
    let Some((m, s, _)) = open_pair() else {
        return t.fail("poll_pair", "ok", Errno::last());
    };
    t.shows("poll_master_idle", poll1(m, IN_OUT, 0), "OUT");
    t.shows("poll_slave_idle", poll1(s, IN_OUT, 0), "OUT");
    let _ = write(s, b"z");
    t.shows(
        "poll_master_after_slave_write",
        poll1(m, IN_OUT, 2000),
        "IN|OUT",
    );
    let _ = read(m, 10);
    let _ = write(m, b"line\n");
    let _ = poll1(s, libc::POLLIN, 2000);
    t.shows("poll_slave_after_line", poll1(s, IN_OUT, 0), "IN|OUT");
    // A reader blocked in poll on the slave is woken by a master write from a child.
    let _ = read(s, 10);
    let _ = gather(m, 6);
    let writer = spawn(|| {
        // SAFETY: usleep takes no pointer.
        unsafe { libc::usleep(50_000) };
        c_int::from(write(m, b"late\n").is_err())
    });
    t.shows("poll_slave_woken", poll1(s, libc::POLLIN, 5000), "IN");
    if let Ok(pid) = writer {
        let _ = wait(pid, 0);
    }
    // The same through epoll, on the master.
    // SAFETY: epoll_create1 takes flags.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: 7,
    };
    // SAFETY: a live epoll_event.
    let added = cvt(unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, m, &mut ev) });
    t.shows("epoll_add_master", added, 0);
    let _ = gather(m, 6);
    let _ = write(s, b"e");
    let mut out = [libc::epoll_event { events: 0, u64: 0 }; 2];
    // SAFETY: `out` has room for two events.
    let n = cvt(unsafe { libc::epoll_wait(ep, out.as_mut_ptr(), 2, 2000) });
    t.shows(
        "epoll_master_readable",
        n.map(|n| format!("{n} {}", { out[0].u64 })),
        "1 7",
    );
    close(ep);
    close(s);
    close(m);
}

/// Waits for a signal with `sigsuspend` and an empty mask (Halyard has no `pause`).
fn wait_for_signal() {
    let none = set_of(&[]);
    // SAFETY: a live, initialised sigset.
    unsafe { libc::sigsuspend(&none) };
}

/// `/proc/self/stat` fields 7 and 8 (tty_nr and tpgid).
fn stat_tty() -> Option<(i64, i64)> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    Some((f.get(4)?.parse().ok()?, f.get(5)?.parse().ok()?))
}

/// Forks a child that closes its copy of `master`, becomes a session leader with the
/// slave `path` as its controlling terminal, writes a byte to `ready` and then runs
/// `then`; returns its pid.
fn controlling_child(
    master: c_int,
    path: &str,
    ready: c_int,
    then: impl FnOnce(c_int) -> c_int,
) -> Result<libc::pid_t, Errno> {
    let path = path.to_string();
    spawn(move || {
        close(master);
        // SAFETY: setsid takes no argument.
        if unsafe { libc::setsid() } < 0 {
            return 90;
        }
        let Ok(s) = open(&path, RW, 0) else {
            return 91;
        };
        if ioctl_arg(s, libc::TIOCSCTTY, 0).is_err() {
            return 92;
        }
        let _ = write(ready, b"r");
        then(s)
    })
}

fn controlling(t: &Transcript) {
    let Ok((m, n, path)) = new_pair() else {
        return t.fail("ctty_pair", "ok", Errno::last());
    };
    let Ok([r, w]) = pipe(libc::O_CLOEXEC) else {
        return t.fail("ctty_pipe", "ok", Errno::last());
    };
    // The child checks what it can see of its terminal, reports through its status,
    // then waits for ^C.
    let expect_nr = i64::from(136 << 8 | n);
    let child = controlling_child(m, &path, w, move |s| {
        // SAFETY: getpgrp and getsid take no pointer.
        let (pgrp, sid) = unsafe { (libc::getpgrp(), libc::getsid(0)) };
        if ioctl_int(s, libc::TIOCGPGRP, 0) != Ok(pgrp) {
            return 93;
        }
        if ioctl_int(s, libc::TIOCGSID, 0) != Ok(sid) {
            return 94;
        }
        if stat_tty() != Some((expect_nr, i64::from(pgrp))) {
            return 95;
        }
        let Ok(tty) = open("/dev/tty", libc::O_RDWR, 0) else {
            return 96;
        };
        let _ = write(tty, b"T");
        let _ = write(w, b"t");
        wait_for_signal();
        97
    });
    let _ = read(r, 1);
    let _ = read(r, 1);
    t.eq("dev_tty_reaches_master", gather(m, 1), quoted("T"));
    let _ = write(m, b"\x03");
    match child {
        Ok(pid) => t.shows(
            "ctrl_c_kills_child",
            wait(pid, 0).map(|(_, st)| st),
            "killed(SIGINT)",
        ),
        Err(e) => t.fail("ctrl_c_kills_child", "ok", e),
    }
    t.eq("ctrl_c_echo", gather(m, 2), quoted("^C"));
    // The child's session ended with it: the terminal can be taken by another.
    // SIGWINCH is blocked before the child starts (it inherits the mask), so the signal
    // waits for its sigtimedwait.
    let blocked = set_of(&[libc::SIGWINCH]);
    let old = mask(libc::SIG_BLOCK, &blocked);
    let child = controlling_child(m, &path, w, |s| {
        let timeout = libc::timespec {
            tv_sec: 5,
            tv_nsec: 0,
        };
        // SAFETY: a live sigset and timespec; no siginfo asked for.
        let sig = unsafe { libc::sigtimedwait(&blocked, core::ptr::null_mut(), &timeout) };
        if sig != libc::SIGWINCH {
            return 93;
        }
        match get_winsize(s) {
            Ok(ws) if (ws.ws_row, ws.ws_col) == (40, 100) => 0,
            _ => 94,
        }
    });
    if let Ok(old) = old {
        let _ = mask(libc::SIG_SETMASK, &old);
    }
    let _ = read(r, 1);
    t.shows("tiocswinsz_for_sigwinch", set_winsize(m, 40, 100), 0);
    match child {
        Ok(pid) => t.shows(
            "sigwinch_to_foreground",
            wait(pid, 0).map(|(_, st)| st),
            "exited(0)",
        ),
        Err(e) => t.fail("sigwinch_to_foreground", "ok", e),
    }
    close(r);
    close(w);
    close(m);
}

fn hangup(t: &Transcript) {
    let Ok((m, _, path)) = new_pair() else {
        return t.fail("hangup_pair", "ok", Errno::last());
    };
    let Ok([r, w]) = pipe(libc::O_CLOEXEC) else {
        return t.fail("hangup_pipe", "ok", Errno::last());
    };
    let child = controlling_child(m, &path, w, |_| {
        wait_for_signal();
        97
    });
    let _ = read(r, 1);
    let s = open(&path, RW, 0).unwrap_or(-1);
    close(m);
    match child {
        Ok(pid) => t.shows(
            "master_close_hangs_up_leader",
            wait(pid, 0).map(|(_, st)| st),
            "killed(SIGHUP)",
        ),
        Err(e) => t.fail("master_close_hangs_up_leader", "ok", e),
    }
    t.shows("hung_up_slave_reads_eof", read(s, 10).map(|b| b.len()), 0);
    t.errno("hung_up_slave_write", write(s, b"x"), libc::EIO);
    t.errno("hung_up_slave_tcgets", get_termios(s), libc::EIO);
    t.errno(
        "hung_up_slave_tiocspgrp",
        ioctl_int(s, libc::TIOCSPGRP, 1),
        libc::ENOTTY,
    );
    let rdev = fstat_of(s).map(|st| {
        let kind = st.st_mode & libc::S_IFMT == libc::S_IFCHR;
        format!("{:?}", (kind, libc::major(st.st_rdev)))
    });
    t.shows("hung_up_slave_fstat", rdev, "(true, 136)");
    t.shows("hung_up_slave_poll", poll1(s, IN_OUT, 0), "IN|OUT|ERR|HUP");
    close(s);
    close(r);
    close(w);
}

fn slave_closed(t: &Transcript) {
    let Ok((m, _, path)) = new_pair() else {
        return t.fail("closed_pair", "ok", Errno::last());
    };
    // SAFETY: F_SETFL takes an int.
    unsafe { libc::fcntl(m, libc::F_SETFL, libc::O_NONBLOCK) };
    t.errno("master_read_before_slave_open", read(m, 10), libc::EAGAIN);
    let s = open(&path, RW, 0).unwrap_or(-1);
    let _ = write(s, b"bye");
    let _ = poll1(m, libc::POLLIN, 2000);
    close(s);
    t.eq(
        "master_reads_rest_after_slave_close",
        gather(m, 3),
        quoted("bye"),
    );
    t.errno("master_read_after_slave_close", read(m, 10), libc::EIO);
    t.shows(
        "master_poll_after_slave_close",
        poll1(m, IN_OUT, 0),
        "OUT|HUP",
    );
    let s = open(&path, RW, 0).unwrap_or(-1);
    t.errno("master_read_after_slave_reopen", read(m, 10), libc::EAGAIN);
    close(s);
    t.shows("master_write_after_slave_close", write(m, b"q"), 1);
    close(m);
}
