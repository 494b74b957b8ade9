//! Guest-only socket checks, for what the differential `sockets` ABI family
//! (user/abi-tests, over 127.0.0.1 on Linux and Halyard) cannot cover.
//!
//! `sockcheck local`: what differs from Linux on purpose (`AF_INET6` is a known gap) or
//! depends on configuration there (the ephemeral port range). `sockcheck peer ADDR
//! PORT`: a connection over the NIC to the test's host peer, which reads a line (and our
//! half-close), waits, and answers `reply-from-host`; then a connection to the NIC's own
//! address, which goes through the loopback interface. The peer's own close is not
//! checked here: QEMU's guest forward does not pass it on (busybox `nc` in the test sees
//! a peer's end of stream through a host forward instead).
//!
//! `sockcheck udp ADDR PORT`: UDP over the NIC to the test's host echo peer: a
//! connected socket's `write` and the echo (its `/proc/net/udp` row shows the peer), an
//! unconnected `sendto` and the echo's source from `recvfrom`, then `ECONNREFUSED` on a
//! socket connected to the next port, which is closed (the host's ICMP port
//! unreachable); the UDP counters moved.
//!
//! One line per check, `ok NAME` or `FAIL NAME: why`, then `sockcheck: N passed, M
//! failed`; the exit status is 1 if any failed.
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

fn getint(fd: i32, level: i32, name: i32) -> i32 {
    let mut v = -1i32;
    let mut len = 4u32;
    // SAFETY: `v` and `len` are valid.
    unsafe { libc::getsockopt(fd, level, name, (&mut v as *mut i32).cast(), &mut len) };
    v
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
    // SAFETY: plain system calls on descriptors this program owns.
    unsafe {
        r.errno(
            "socket-inet6",
            libc::socket(libc::AF_INET6, libc::SOCK_STREAM, 0) as isize,
            libc::EAFNOSUPPORT,
        );
        let l = tcp(0);
        r.ok(
            "bind-port-0",
            bind(l, &sin([0; 4], 0), size_of::<libc::sockaddr_in>()),
        );
        let (_, name) = sockname(l, false);
        let port = u16::from_be(name.sin_port);
        r.check(
            "bind-port-0-ephemeral-range",
            (32768..=60999).contains(&port),
            || format!("port {port}"),
        );
        libc::close(l);
    }
}

/// A connection from this program to itself at the NIC's own address `ip`, which goes
/// through the loopback interface as on Linux (the test then checks `lo`'s counters).
fn own_address(r: &mut Report, ip: [u8; 4]) {
    let sz = size_of::<libc::sockaddr_in>();
    // SAFETY: plain system calls on descriptors this program owns.
    unsafe {
        let l = tcp(0);
        bind(l, &sin([0; 4], 0), sz);
        libc::listen(l, 1);
        let (_, name) = sockname(l, false);
        let c = tcp(0);
        let to = sin(ip, u16::from_be(name.sin_port));
        r.ok(
            "own-address-connect",
            libc::connect(c, (&to as *const libc::sockaddr_in).cast(), sz as u32) as isize,
        );
        let a = libc::accept(l, std::ptr::null_mut(), std::ptr::null_mut());
        let (_, from) = sockname(a, true);
        r.check(
            "own-address-peer-is-own-address",
            from.sin_addr.s_addr == to.sin_addr.s_addr,
            || "another source address".into(),
        );
        let mut buf = [0u8; 4];
        let sent = libc::send(c, b"self".as_ptr().cast(), 4, 0);
        let got = libc::recv(a, buf.as_mut_ptr().cast(), 4, libc::MSG_WAITALL);
        r.check(
            "own-address-transfer",
            sent == 4 && got == 4 && &buf == b"self",
            || format!("sent {sent}, received {got}"),
        );
        for fd in [c, a, l] {
            libc::close(fd);
        }
    }
}

fn peer(r: &mut Report, ip: [u8; 4], port: u16) {
    let sz = size_of::<libc::sockaddr_in>() as u32;
    let to = sin(ip, port);
    // SAFETY: plain system calls on descriptors this program owns.
    let me = unsafe {
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
        me
    };
    own_address(r, me.sin_addr.s_addr.to_ne_bytes());
}

/// Receives one datagram: its bytes and source.
fn recv_from(fd: i32) -> (isize, Vec<u8>, libc::sockaddr_in) {
    let mut buf = vec![0u8; 2048];
    // SAFETY: sockaddr_in is plain integers; all-zero is valid.
    let mut from: libc::sockaddr_in = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_in>() as u32;
    // SAFETY: `buf`, `from` and `len` are valid and writable.
    let n = unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            0,
            (&mut from as *mut libc::sockaddr_in).cast(),
            &mut len,
        )
    };
    buf.truncate(n.max(0) as usize);
    (n, buf, from)
}

/// The value of `NAME=` in `/proc/halyard/counters`.
fn counter(name: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/halyard/counters")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

/// A UDP socket with a receive timeout (so a lost datagram fails a check, not the
/// test's deadline).
fn udp_socket() -> i32 {
    // SAFETY: plain system calls on a descriptor this program owns, with a valid timeval.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        let tv = libc::timeval {
            tv_sec: 10,
            tv_usec: 0,
        };
        let len = size_of::<libc::timeval>() as u32;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            len,
        );
        fd
    }
}

/// `/proc/net/udp`'s `address:port` column for `a`.
fn proc_addr(a: &libc::sockaddr_in) -> String {
    format!(
        "{:08X}:{:04X}",
        u32::from_le_bytes(a.sin_addr.s_addr.to_ne_bytes()),
        u16::from_be(a.sin_port)
    )
}

fn udp(r: &mut Report, ip: [u8; 4], port: u16) {
    let before = (counter("UDP_IN_DATAGRAMS"), counter("UDP_ERRORS_REPORTED"));
    let peer = sin(ip, port);
    let len = size_of::<libc::sockaddr_in>() as u32;
    let peer_p = (&peer as *const libc::sockaddr_in).cast();
    let c = udp_socket();
    // SAFETY: plain system calls on descriptors this program owns, with valid buffers.
    unsafe {
        r.ok("udp-connect", libc::connect(c, peer_p, len) as isize);
        let w = libc::write(c, b"ping-udp".as_ptr().cast(), 8);
        r.check("udp-write-connected", w == 8, || {
            format!("returned {w}, errno {}", errno())
        });
        let (n, data, from) = recv_from(c);
        r.check(
            "udp-echo-from-peer",
            n > 0 && data == b"echo:ping-udp" && proc_addr(&from) == proc_addr(&peer),
            || format!("returned {n}, errno {}, data {data:?}", errno()),
        );
        let (_, name) = sockname(c, false);
        let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
        let row = format!("{} {} 01", proc_addr(&name), proc_addr(&peer));
        r.check("udp-proc-net-udp-row", table.contains(&row), || {
            format!("no `{row}` in {table:?}")
        });
        let u = udp_socket();
        let s = libc::sendto(u, b"unconnected".as_ptr().cast(), 11, 0, peer_p, len);
        r.check("udp-sendto", s == 11, || {
            format!("returned {s}, errno {}", errno())
        });
        let (n, data, from) = recv_from(u);
        r.check(
            "udp-recvfrom-source",
            n > 0 && data == b"echo:unconnected" && proc_addr(&from) == proc_addr(&peer),
            || format!("returned {n}, errno {}, data {data:?}", errno()),
        );
        let closed = sin(ip, port + 1);
        let e = udp_socket();
        libc::connect(e, (&closed as *const libc::sockaddr_in).cast(), len);
        libc::write(e, b"anyone?".as_ptr().cast(), 7);
        let mut buf = [0u8; 16];
        let got = libc::read(e, buf.as_mut_ptr().cast(), buf.len());
        r.errno(
            "udp-icmp-port-unreachable-econnrefused",
            got,
            libc::ECONNREFUSED,
        );
        for fd in [c, u, e] {
            libc::close(fd);
        }
    }
    let after = (counter("UDP_IN_DATAGRAMS"), counter("UDP_ERRORS_REPORTED"));
    r.check(
        "udp-counters",
        matches!((before, after), ((Some(i0), Some(e0)), (Some(i1), Some(e1))) if i1 >= i0 + 2 && e1 > e0),
        || format!("UDP_IN_DATAGRAMS, UDP_ERRORS_REPORTED: {before:?} then {after:?}"),
    );
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
        Some("udp") if args.len() == 4 => {
            let ip: std::net::Ipv4Addr = args[2].parse().expect("an IPv4 address");
            udp(&mut r, ip.octets(), args[3].parse().expect("a port"));
        }
        _ => {
            eprintln!(
                "usage: sockcheck local | sockcheck peer ADDR PORT | sockcheck udp ADDR PORT"
            );
            std::process::exit(2);
        }
    }
    println!("sockcheck: {} passed, {} failed", r.passed, r.failed);
    std::process::exit(i32::from(r.failed > 0));
}
