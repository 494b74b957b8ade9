//! `sockcheck local`: socket calls that need no peer (errnos, addresses, options,
//! signals). `sockcheck peer ADDR PORT`: a connection to the test's host peer, which
//! reads a line (and our half-close), waits, and answers `reply-from-host`. The peer's
//! own close is not checked here: QEMU's guest forward does not pass it on (busybox
//! `nc` in the test sees a peer's end of stream through a host forward instead).
//!
//! One line per check, `ok NAME` or `FAIL NAME: why`, then `sockcheck: N passed, M
//! failed`; the exit status is 1 if any failed. Guest-only: Halyard has no loopback
//! interface yet, so the checks cannot pair with themselves on the host.
use std::mem::{size_of, zeroed};
use std::sync::atomic::{AtomicU32, Ordering};

static ALARMS: AtomicU32 = AtomicU32::new(0);
static SIGPIPES: AtomicU32 = AtomicU32::new(0);

struct Report {
    passed: u32,
    failed: u32,
}

impl Report {
    fn check(&mut self, name: &str, ok: bool, why: impl FnOnce() -> String) {
        if ok {
            self.passed += 1;
            println!("ok {name}");
        } else {
            self.failed += 1;
            println!("FAIL {name}: {}", why());
        }
    }

    /// A call that must fail with `want`.
    fn errno(&mut self, name: &str, r: isize, want: i32) {
        let got = if r < 0 { errno() } else { 0 };
        self.check(name, r < 0 && got == want, || {
            format!(
                "returned {r}, errno {got} ({}), want errno {want}",
                strerror(got)
            )
        });
    }

    /// A call that must succeed.
    fn ok(&mut self, name: &str, r: isize) {
        let e = errno();
        self.check(name, r >= 0, || {
            format!("failed: errno {e} ({})", strerror(e))
        });
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn strerror(e: i32) -> String {
    std::io::Error::from_raw_os_error(e).to_string()
}

fn sin(ip: [u8; 4], port: u16) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain integers; all-zero is valid.
    let mut a: libc::sockaddr_in = unsafe { zeroed() };
    a.sin_family = libc::AF_INET as u16;
    a.sin_port = port.to_be();
    a.sin_addr.s_addr = u32::from_ne_bytes(ip);
    a
}

fn tcp(flags: i32) -> i32 {
    // SAFETY: plain system call.
    unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | flags, 0) }
}

fn bind(fd: i32, a: &libc::sockaddr_in, len: usize) -> isize {
    // SAFETY: `a` is a valid sockaddr_in of at least `len` bytes (or len is too short).
    unsafe { libc::bind(fd, (a as *const libc::sockaddr_in).cast(), len as u32) as isize }
}

fn sockname(fd: i32, peer: bool) -> (isize, libc::sockaddr_in) {
    // SAFETY: the buffer and its length are valid.
    unsafe {
        let mut a: libc::sockaddr_in = zeroed();
        let mut len = size_of::<libc::sockaddr_in>() as u32;
        let p = (&mut a as *mut libc::sockaddr_in).cast();
        let r = if peer {
            libc::getpeername(fd, p, &mut len)
        } else {
            libc::getsockname(fd, p, &mut len)
        };
        (r as isize, a)
    }
}

fn setint(fd: i32, level: i32, name: i32, v: i32) -> isize {
    // SAFETY: `v` is an int of the given size.
    unsafe { libc::setsockopt(fd, level, name, (&v as *const i32).cast(), 4) as isize }
}

fn getint(fd: i32, level: i32, name: i32) -> i32 {
    let mut v = -1i32;
    let mut len = 4u32;
    // SAFETY: `v` and `len` are valid.
    unsafe { libc::getsockopt(fd, level, name, (&mut v as *mut i32).cast(), &mut len) };
    v
}

fn timeval_opt(fd: i32, name: i32, ms: i64) -> isize {
    let tv = libc::timeval {
        tv_sec: ms / 1000,
        tv_usec: (ms % 1000) * 1000,
    };
    // SAFETY: `tv` is a valid timeval.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            (&tv as *const libc::timeval).cast(),
            size_of::<libc::timeval>() as u32,
        ) as isize
    }
}

extern "C" fn on_alarm(_: i32) {
    ALARMS.fetch_add(1, Ordering::Relaxed);
}

extern "C" fn on_sigpipe(_: i32) {
    SIGPIPES.fetch_add(1, Ordering::Relaxed);
}

fn handle(sig: i32, f: extern "C" fn(i32), restart: bool) {
    // SAFETY: installs a handler that only touches an atomic.
    unsafe {
        let mut sa: libc::sigaction = zeroed();
        sa.sa_sigaction = f as usize;
        sa.sa_flags = if restart { libc::SA_RESTART } else { 0 };
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

/// SIGALRM once after `ms`.
fn alarm_ms(ms: i64) {
    let t = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: ms / 1000,
            tv_usec: (ms % 1000) * 1000,
        },
    };
    // SAFETY: valid itimerval.
    unsafe { libc::setitimer(libc::ITIMER_REAL, &t, std::ptr::null_mut()) };
}

fn accept(fd: i32) -> isize {
    // SAFETY: null address is allowed.
    unsafe { libc::accept(fd, std::ptr::null_mut(), std::ptr::null_mut()) as isize }
}

fn poll1(fd: i32, events: i16, ms: i32) -> (isize, i16) {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, ms) } as isize;
    (r, p.revents)
}

fn local(r: &mut Report) {
    let sz = size_of::<libc::sockaddr_in>();
    // SAFETY: plain system calls on descriptors this program owns.
    unsafe {
        r.errno(
            "socket-inet6",
            libc::socket(libc::AF_INET6, libc::SOCK_STREAM, 0) as isize,
            libc::EAFNOSUPPORT,
        );
        r.errno(
            "socket-bad-flag",
            libc::socket(libc::AF_INET, libc::SOCK_STREAM | 0x100, 0) as isize,
            libc::EINVAL,
        );
        r.errno(
            "socket-udp-proto",
            libc::socket(libc::AF_INET, libc::SOCK_STREAM, libc::IPPROTO_UDP) as isize,
            libc::EPROTONOSUPPORT,
        );
        r.errno(
            "socket-seqpacket",
            libc::socket(libc::AF_INET, libc::SOCK_SEQPACKET, 0) as isize,
            libc::ESOCKTNOSUPPORT,
        );
        r.ok(
            "socket-ipproto-tcp",
            libc::socket(libc::AF_INET, libc::SOCK_STREAM, libc::IPPROTO_TCP) as isize,
        );
        let nb = tcp(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
        r.check(
            "socket-nonblock-cloexec",
            libc::fcntl(nb, libc::F_GETFL) & libc::O_NONBLOCK != 0
                && libc::fcntl(nb, libc::F_GETFD) == libc::FD_CLOEXEC,
            || "flags not set".into(),
        );
        let mut p = [0i32; 2];
        libc::pipe(p.as_mut_ptr());
        let any = sin([0; 4], 0);
        r.errno("bind-pipe-enotsock", bind(p[0], &any, sz), libc::ENOTSOCK);
        r.errno("bind-ebadf", bind(999, &any, sz), libc::EBADF);
        let s = tcp(0);
        r.errno("bind-short-einval", bind(s, &any, 4), libc::EINVAL);
        r.errno(
            "bind-efault",
            libc::bind(s, 16 as *const libc::sockaddr, sz as u32) as isize,
            libc::EFAULT,
        );
        let mut six = any;
        six.sin_family = libc::AF_INET6 as u16;
        r.errno("bind-family", bind(s, &six, sz), libc::EAFNOSUPPORT);
        let mut buf = [0u8; 8];
        r.errno(
            "read-unconnected",
            libc::read(s, buf.as_mut_ptr().cast(), 8),
            libc::ENOTCONN,
        );
        r.errno(
            "send-unconnected-epipe",
            libc::send(s, buf.as_ptr().cast(), 8, libc::MSG_NOSIGNAL),
            libc::EPIPE,
        );
        r.errno(
            "getpeername-unconnected",
            sockname(s, true).0,
            libc::ENOTCONN,
        );
        r.errno(
            "shutdown-unconnected",
            libc::shutdown(s, libc::SHUT_WR) as isize,
            libc::ENOTCONN,
        );
        r.errno(
            "shutdown-bad-how",
            libc::shutdown(s, 7) as isize,
            libc::EINVAL,
        );
        let mut v = 0i32;
        let mut vlen = 4u32;
        let g = libc::getsockopt(
            p[0],
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut v as *mut i32).cast(),
            &mut vlen,
        );
        r.errno("getsockopt-pipe", g as isize, libc::ENOTSOCK);
        // Options.
        r.check(
            "so-type",
            getint(s, libc::SOL_SOCKET, libc::SO_TYPE) == libc::SOCK_STREAM,
            || "not SOCK_STREAM".into(),
        );
        r.check(
            "so-error-zero",
            getint(s, libc::SOL_SOCKET, libc::SO_ERROR) == 0,
            || "not 0".into(),
        );
        for (name, level, opt) in [
            ("so-reuseaddr", libc::SOL_SOCKET, libc::SO_REUSEADDR),
            ("so-keepalive", libc::SOL_SOCKET, libc::SO_KEEPALIVE),
            ("tcp-nodelay", libc::IPPROTO_TCP, libc::TCP_NODELAY),
        ] {
            let before = getint(s, level, opt);
            setint(s, level, opt, 1);
            let after = getint(s, level, opt);
            r.check(name, before == 0 && after == 1, || {
                format!("{before} then {after}")
            });
        }
        setint(s, libc::SOL_SOCKET, libc::SO_RCVBUF, 65536);
        let rcv = getint(s, libc::SOL_SOCKET, libc::SO_RCVBUF);
        r.check("so-rcvbuf-doubled", rcv == 131072, || format!("{rcv}"));
        setint(s, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 30);
        r.check(
            "tcp-keepidle",
            getint(s, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE) == 30,
            || "not 30".into(),
        );
        r.errno(
            "tcp-keepcnt-zero",
            setint(s, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 0),
            libc::EINVAL,
        );
        r.errno(
            "sockopt-unknown",
            setint(s, libc::SOL_SOCKET, 9999, 1),
            libc::ENOPROTOOPT,
        );
        r.errno(
            "sockopt-short",
            libc::setsockopt(
                s,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                buf.as_ptr().cast(),
                2,
            ) as isize,
            libc::EINVAL,
        );
        let lg = libc::linger {
            l_onoff: 1,
            l_linger: 5,
        };
        libc::setsockopt(
            s,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&lg as *const libc::linger).cast(),
            8,
        );
        let mut back: libc::linger = zeroed();
        let mut len = 8u32;
        libc::getsockopt(
            s,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&mut back as *mut libc::linger).cast(),
            &mut len,
        );
        r.check("so-linger", back.l_onoff == 1 && back.l_linger == 5, || {
            format!("{} {}", back.l_onoff, back.l_linger)
        });
        timeval_opt(s, libc::SO_RCVTIMEO, 1500);
        let mut tv: libc::timeval = zeroed();
        let mut len = size_of::<libc::timeval>() as u32;
        libc::getsockopt(
            s,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&mut tv as *mut libc::timeval).cast(),
            &mut len,
        );
        r.check(
            "so-rcvtimeo",
            tv.tv_sec == 1 && tv.tv_usec == 500_000,
            || format!("{}.{:06}", tv.tv_sec, tv.tv_usec),
        );
        r.errno(
            "so-rcvtimeo-edom",
            {
                let bad = libc::timeval {
                    tv_sec: 0,
                    tv_usec: 2_000_000,
                };
                libc::setsockopt(
                    s,
                    libc::SOL_SOCKET,
                    libc::SO_SNDTIMEO,
                    (&bad as *const libc::timeval).cast(),
                    16,
                ) as isize
            },
            libc::EDOM,
        );
        // Bind, listen, names.
        let l = tcp(0);
        r.ok("bind-port-0", bind(l, &any, sz));
        let (_, name) = sockname(l, false);
        let port = u16::from_be(name.sin_port);
        r.check(
            "getsockname-bound",
            port >= 32768 && name.sin_family == libc::AF_INET as u16,
            || format!("port {port}"),
        );
        r.ok("listen", libc::listen(l, 8) as isize);
        r.check(
            "so-acceptconn",
            getint(l, libc::SOL_SOCKET, libc::SO_ACCEPTCONN) == 1,
            || "not 1".into(),
        );
        let l2 = tcp(0);
        r.errno(
            "bind-eaddrinuse",
            bind(l2, &sin([0; 4], port), sz),
            libc::EADDRINUSE,
        );
        r.errno("bind-twice", bind(l, &any, sz), libc::EINVAL);
        r.errno(
            "connect-listener",
            libc::connect(l, (&any as *const libc::sockaddr_in).cast(), sz as u32) as isize,
            libc::EINVAL,
        );
        let (n, _) = poll1(l, libc::POLLIN, 0);
        r.check("poll-listener-idle", n == 0, || {
            format!("poll returned {n}")
        });
        libc::fcntl(l, libc::F_SETFL, libc::O_NONBLOCK);
        r.errno("accept-nonblocking-eagain", accept(l), libc::EAGAIN);
        r.errno(
            "accept4-bad-flags",
            libc::accept4(l, std::ptr::null_mut(), std::ptr::null_mut(), 0x4) as isize,
            libc::EINVAL,
        );
        libc::fcntl(l, libc::F_SETFL, 0);
        // Signals: a blocking accept ends with EINTR (no SA_RESTART) ...
        handle(libc::SIGALRM, on_alarm, false);
        alarm_ms(300);
        r.errno("accept-eintr", accept(l), libc::EINTR);
        // ... times out with EAGAIN under SO_RCVTIMEO ...
        timeval_opt(l, libc::SO_RCVTIMEO, 300);
        let t0 = std::time::Instant::now();
        r.errno("accept-rcvtimeo-eagain", accept(l), libc::EAGAIN);
        let ms = t0.elapsed().as_millis();
        r.check("accept-rcvtimeo-waited", (250..3000).contains(&ms), || {
            format!("{ms} ms")
        });
        // ... and is not restarted under SA_RESTART while a timeout is set (Linux).
        handle(libc::SIGALRM, on_alarm, true);
        timeval_opt(l, libc::SO_RCVTIMEO, 5000);
        alarm_ms(300);
        let t0 = std::time::Instant::now();
        r.errno("accept-timeout-sa-restart-eintr", accept(l), libc::EINTR);
        let ms = t0.elapsed().as_millis();
        r.check("accept-interrupted-early", ms < 4000, || format!("{ms} ms"));
        r.check(
            "alarms-delivered",
            ALARMS.load(Ordering::Relaxed) == 2,
            || format!("{}", ALARMS.load(Ordering::Relaxed)),
        );
    }
}

fn peer(r: &mut Report, ip: [u8; 4], port: u16) {
    let sz = size_of::<libc::sockaddr_in>() as u32;
    let to = sin(ip, port);
    // SAFETY: plain system calls on descriptors this program owns.
    unsafe {
        let s = tcp(libc::SOCK_NONBLOCK);
        let c = libc::connect(s, (&to as *const libc::sockaddr_in).cast(), sz) as isize;
        r.errno("connect-einprogress", c, libc::EINPROGRESS);
        let (n, ev) = poll1(s, libc::POLLOUT, 10_000);
        r.check(
            "poll-pollout-connected",
            n == 1 && ev & libc::POLLOUT != 0,
            || format!("poll {n}, revents {ev:#x}"),
        );
        r.check(
            "so-error-after-connect",
            getint(s, libc::SOL_SOCKET, libc::SO_ERROR) == 0,
            || "not 0".into(),
        );
        let again = libc::connect(s, (&to as *const libc::sockaddr_in).cast(), sz) as isize;
        r.check(
            "connect-completes",
            again == 0 || errno() == libc::EISCONN,
            || format!("{again} errno {}", errno()),
        );
        r.errno(
            "connect-eisconn",
            libc::connect(s, (&to as *const libc::sockaddr_in).cast(), sz) as isize,
            libc::EISCONN,
        );
        let (_, peer) = sockname(s, true);
        r.check(
            "getpeername",
            peer.sin_addr.s_addr == to.sin_addr.s_addr && peer.sin_port == to.sin_port,
            || "wrong peer".into(),
        );
        let (_, me) = sockname(s, false);
        r.check(
            "getsockname-connected",
            me.sin_port != 0 && me.sin_addr.s_addr != 0,
            || "unset".into(),
        );
        libc::fcntl(s, libc::F_SETFL, 0);
        let msg = b"hello-from-halyard\n";
        let iov = [
            libc::iovec {
                iov_base: msg.as_ptr() as *mut _,
                iov_len: 6,
            },
            libc::iovec {
                iov_base: msg[6..].as_ptr() as *mut _,
                iov_len: msg.len() - 6,
            },
        ];
        r.check(
            "writev",
            libc::writev(s, iov.as_ptr(), 2) == msg.len() as isize,
            || format!("errno {}", errno()),
        );
        r.ok("shutdown-wr", libc::shutdown(s, libc::SHUT_WR) as isize);
        handle(libc::SIGPIPE, on_sigpipe, false);
        r.errno(
            "send-after-shutdown-epipe",
            libc::send(s, msg.as_ptr().cast(), 4, 0),
            libc::EPIPE,
        );
        r.check(
            "sigpipe-raised",
            SIGPIPES.load(Ordering::Relaxed) == 1,
            || "no SIGPIPE".into(),
        );
        r.errno(
            "send-nosignal-epipe",
            libc::send(s, msg.as_ptr().cast(), 4, libc::MSG_NOSIGNAL),
            libc::EPIPE,
        );
        r.check(
            "no-second-sigpipe",
            SIGPIPES.load(Ordering::Relaxed) == 1,
            || "SIGPIPE with MSG_NOSIGNAL".into(),
        );
        let mut buf = [0u8; 64];
        r.errno(
            "recv-dontwait-eagain",
            libc::recv(s, buf.as_mut_ptr().cast(), 64, libc::MSG_DONTWAIT),
            libc::EAGAIN,
        );
        // The peer answers after a pause: a SIGALRM (SA_RESTART) meanwhile restarts recv.
        handle(libc::SIGALRM, on_alarm, true);
        let before = ALARMS.load(Ordering::Relaxed);
        alarm_ms(200);
        let n = libc::recv(s, buf.as_mut_ptr().cast(), 5, libc::MSG_PEEK);
        r.check(
            "recv-restarted-after-signal",
            n == 5 && ALARMS.load(Ordering::Relaxed) == before + 1,
            || format!("{n}, errno {}", errno()),
        );
        r.check("recv-peek", &buf[..5] == b"reply", || {
            format!("{:?}", &buf[..5])
        });
        let want = b"reply-from-host\n";
        let n = libc::recv(s, buf.as_mut_ptr().cast(), want.len(), libc::MSG_WAITALL);
        r.check(
            "recv-waitall",
            n == want.len() as isize && &buf[..want.len()] == want,
            || {
                format!(
                    "{n}: {:?}",
                    String::from_utf8_lossy(&buf[..n.max(0) as usize])
                )
            },
        );
        let (n, ev) = poll1(s, libc::POLLIN | libc::POLLOUT, 0);
        r.check("poll-after-shutdown-no-pollout", n == 0 && ev == 0, || {
            format!("poll {n}, revents {ev:#x}")
        });
        r.ok("close", libc::close(s) as isize);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut r = Report {
        passed: 0,
        failed: 0,
    };
    match args.get(1).map(String::as_str) {
        Some("local") => local(&mut r),
        Some("peer") if args.len() == 4 => {
            let ip: std::net::Ipv4Addr = args[2].parse().expect("an IPv4 address");
            peer(&mut r, ip.octets(), args[3].parse().expect("a port"));
        }
        _ => {
            eprintln!("usage: sockcheck local | sockcheck peer ADDR PORT");
            std::process::exit(2);
        }
    }
    println!("sockcheck: {} passed, {} failed", r.passed, r.failed);
    std::process::exit(i32::from(r.failed > 0));
}
