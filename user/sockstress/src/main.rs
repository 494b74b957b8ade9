//! `sockstress`: the seed's deadlock class (NET_RX on a CPU spinning on a socket lock
//! that a thread of its own CPU holds, breenix PR 400) hammered from user space. For a
//! bounded time and count, on every CPU at once:
//! - worker processes (one per CPU by default), each with several threads, loop over the
//!   operation kinds in turn ([`tally::Kind`]): blocking and epoll-driven TCP echo
//!   connections to the program's own server over 127.0.0.1 ([`tcp_client`]) and to a
//!   host's echo listener (`--host`), `AF_UNIX` socketpair echoes of each type, eventfd
//!   ping-pongs and timerfds ([`local`]);
//! - racer processes (one per CPU) close or shut down a socket while another of their
//!   threads is blocked in recv on it ([`race`]);
//! - the parent serves `--serve PORT` on every address with an epoll echo server, one
//!   thread per CPU ([`server`]): the loopback clients' server, and the target of the
//!   host's connection flood.
//!
//! Every blocking call has a generous timeout; one that gives up although what it waited
//! for had happened is a lost wakeup ([`tally`]). At the end: one `sockstress: kind ...`
//! line per kind with its counts, then `sockstress: wall W s, ...` with the totals, and
//! the exit status is 0 only if nothing was lost, nothing was wrong, every kind completed
//! operations and every process ended normally.
//!
//! `sockstress [--seconds S] [--count N] [--procs P] [--threads T] [--racers R]
//! [--serve PORT] [--host IP:PORT] [--skip KIND]...`: the defaults are 15 s, 1,000,000
//! operations per thread, one worker and one racer per CPU, 3 threads per worker, port
//! 7100 (0: one the system picks), no host (its kinds are left out). `--skip` leaves a
//! kind out (a known gap).
//!
//! Linux's answers are the oracle: the program runs the same on the host.

mod local;
mod race;
mod rng;
mod server;
mod sys;
mod tally;
mod tcp_client;

use rng::Rng;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};
use tally::{Kind, Outcome, Tally};

/// The timeout of every blocking call over a network (a frame may be dropped and resent).
pub const NET_WAIT: Duration = Duration::from_secs(10);
/// The timeout of every blocking call within the machine (nothing is dropped).
pub const LOCAL_WAIT: Duration = Duration::from_secs(5);

struct Options {
    seconds: u64,
    count: u64,
    procs: usize,
    threads: usize,
    racers: usize,
    serve: u16,
    host: Option<SocketAddrV4>,
    /// Kinds left out (`--skip NAME`, repeatable).
    skip: Vec<Kind>,
}

impl Options {
    fn parse() -> Result<Options, String> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut o = Options {
            seconds: 15,
            count: 1_000_000,
            procs: cpus,
            threads: 3,
            racers: cpus,
            serve: 7100,
            host: None,
            skip: Vec::new(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            let bad = || format!("bad value for {flag}: {value}");
            match flag.as_str() {
                "--seconds" => o.seconds = value.parse().map_err(|_| bad())?,
                "--count" => o.count = value.parse().map_err(|_| bad())?,
                "--procs" => o.procs = value.parse().map_err(|_| bad())?,
                "--threads" => o.threads = value.parse().map_err(|_| bad())?,
                "--racers" => o.racers = value.parse().map_err(|_| bad())?,
                "--serve" => o.serve = value.parse().map_err(|_| bad())?,
                "--host" => o.host = Some(value.parse().map_err(|_| bad())?),
                "--skip" => o.skip.push(Kind::named(&value).ok_or_else(bad)?),
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        if o.procs == 0 || o.threads == 0 || o.racers == 0 {
            return Err("--procs, --threads and --racers must be at least 1".into());
        }
        if o.worker_kinds().is_empty() || o.racer_kinds().is_empty() {
            return Err("--skip left the workers or the racers nothing to do".into());
        }
        Ok(o)
    }

    /// The kinds the worker threads take in turn.
    fn worker_kinds(&self) -> Vec<Kind> {
        let mut kinds = vec![
            Kind::LoTcp,
            Kind::LoEpoll,
            Kind::UnixStream,
            Kind::UnixDgram,
            Kind::UnixSeqpacket,
            Kind::Eventfd,
            Kind::Timerfd,
        ];
        if self.host.is_some() {
            kinds.splice(1..1, [Kind::HostTcp, Kind::HostEpoll]);
        }
        kinds.retain(|k| !self.skip.contains(k));
        kinds
    }

    /// The kinds the racer processes take in turn.
    fn racer_kinds(&self) -> Vec<Kind> {
        let mut kinds = vec![
            Kind::CloseUnix,
            Kind::CloseTcp,
            Kind::ShutdownUnix,
            Kind::ShutdownTcp,
        ];
        kinds.retain(|k| !self.skip.contains(k));
        kinds
    }

    /// Every kind this run counts.
    fn kinds(&self) -> Vec<Kind> {
        let mut kinds = self.worker_kinds();
        kinds.extend(self.racer_kinds());
        kinds.push(Kind::Server);
        kinds
    }
}

/// One worker thread: the kinds in turn (each thread starting at its own), until the
/// deadline or `count` operations.
fn worker_thread(o: &Options, tally: &Tally, deadline: Instant, seed: u64) {
    let kinds = o.worker_kinds();
    let mut rng = Rng::new(seed);
    let ep = match sys::Epoll::new() {
        Ok(ep) => ep,
        Err(e) => return tally.record(Kind::LoEpoll, e.into()),
    };
    let lo = SocketAddrV4::new(Ipv4Addr::LOCALHOST, o.serve);
    let turns = kinds.iter().copied().cycle().skip(seed as usize);
    for kind in turns.take(o.count.try_into().unwrap_or(usize::MAX)) {
        if Instant::now() >= deadline {
            break;
        }
        let outcome = match kind {
            Kind::LoTcp => tcp_client::blocking(lo, &mut rng),
            Kind::LoEpoll => tcp_client::with_epoll(lo, &mut rng, &ep),
            Kind::HostTcp | Kind::HostEpoll => {
                let Some(host) = o.host else { continue };
                if kind == Kind::HostTcp {
                    tcp_client::blocking(host, &mut rng)
                } else {
                    tcp_client::with_epoll(host, &mut rng, &ep)
                }
            }
            Kind::UnixStream => local::unix_pair(libc::SOCK_STREAM, &mut rng),
            Kind::UnixDgram => local::unix_pair(libc::SOCK_DGRAM, &mut rng),
            Kind::UnixSeqpacket => local::unix_pair(libc::SOCK_SEQPACKET, &mut rng),
            Kind::Eventfd => local::eventfd(&mut rng),
            Kind::Timerfd => local::timerfd(&mut rng, &ep),
            _ => Outcome::Wrong(format!("{} is no worker kind", kind.name())),
        };
        tally.record(kind, outcome);
    }
}

/// Forks a process running `body`; it ends with status 0 when `body` returns (a panic
/// in it ends the process with Rust's status 101).
fn spawn_process(body: impl FnOnce()) -> Result<libc::pid_t, String> {
    // SAFETY: fork before the parent starts any thread (the server starts after the
    // last fork); the child runs `body` and leaves with `_exit`, never returning here.
    match unsafe { libc::fork() } {
        -1 => Err(format!("fork: {}", sys::errno_name(sys::errno()))),
        0 => {
            body();
            // SAFETY: ends the child without running the parent's exit handlers twice.
            unsafe { libc::_exit(0) }
        }
        pid => Ok(pid),
    }
}

/// Waits for every child; the abnormal ends, described.
fn reap(children: &[(libc::pid_t, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (pid, what) in children {
        let mut status = 0;
        // SAFETY: `status` is a valid int.
        let r = unsafe { libc::waitpid(*pid, &mut status, 0) };
        if r != *pid {
            bad.push(format!("{what} (pid {pid}): waitpid failed"));
        } else if libc::WIFSIGNALED(status) {
            bad.push(format!(
                "{what} (pid {pid}): killed by signal {}",
                libc::WTERMSIG(status)
            ));
        } else if libc::WEXITSTATUS(status) != 0 {
            bad.push(format!(
                "{what} (pid {pid}): exit status {}",
                libc::WEXITSTATUS(status)
            ));
        }
    }
    bad
}

/// The server's listener on `--serve PORT` of every address (port 0: one the system
/// picks, written back into `o`).
fn listen(o: &mut Options) -> Result<&'static OwnedFd, String> {
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, o.serve);
    let listener = sys::listen(any, libc::SOCK_NONBLOCK)
        .map_err(|e| format!("listen on {any}: {}", sys::errno_name(e)))?;
    o.serve = sys::local_addr(&listener)
        .map_err(|e| format!("getsockname: {}", sys::errno_name(e)))?
        .port();
    Ok(Box::leak(Box::new(listener)))
}

fn run(o: &'static Options, listener: &'static OwnedFd) -> Result<(), String> {
    let tally = Tally::shared();
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, o.serve);
    println!(
        "sockstress: {} worker processes x {} threads, {} racer processes, {} s, serving {any}, \
         host {}",
        o.procs,
        o.threads,
        o.racers,
        o.seconds,
        o.host.map_or("none".to_string(), |h| h.to_string())
    );
    let start = Instant::now();
    let deadline = start + Duration::from_secs(o.seconds);
    let mut children = Vec::new();
    for p in 0..o.procs {
        let body = || {
            std::thread::scope(|s| {
                for t in 0..o.threads {
                    let seed = (p * o.threads + t) as u64;
                    s.spawn(move || worker_thread(o, tally, deadline, seed));
                }
            })
        };
        children.push((spawn_process(body)?, format!("worker process {p}")));
    }
    for r in 0..o.racers {
        let body = || race::run(tally, &o.racer_kinds(), deadline, o.count);
        children.push((spawn_process(body)?, format!("racer process {r}")));
    }
    let servers = o.procs.max(1);
    let server = server::Server::start(listener, servers, tally)
        .map_err(|e| format!("starting the server: {}", sys::errno_name(e)))?;
    let bad = reap(&children);
    server.stop();
    let wall = start.elapsed().as_secs_f64();
    let kinds = o.kinds();
    let t = tally.report(&kinds);
    println!(
        "sockstress: wall {wall:.1} s, {} operations, {} timeouts, {} errors, {} lost, {} wrong",
        t.done, t.timeouts, t.errors, t.lost, t.wrong
    );
    let idle: Vec<&str> = kinds
        .iter()
        .filter(|&&k| tally.done(k) == 0)
        .map(|k| k.name())
        .collect();
    let mut why = bad;
    if t.lost > 0 {
        why.push(format!("{} lost wakeups", t.lost));
    }
    if t.wrong > 0 {
        why.push(format!("{} wrong answers", t.wrong));
    }
    if !idle.is_empty() {
        why.push(format!("no operation completed for {}", idle.join(", ")));
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("; "))
    }
}

fn main() {
    let mut options = match Options::parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sockstress: {e}");
            std::process::exit(2);
        }
    };
    let listener = match listen(&mut options) {
        Ok(l) => l,
        Err(e) => {
            println!("sockstress: FAIL: {e}");
            std::process::exit(1);
        }
    };
    match run(Box::leak(Box::new(options)), listener) {
        Ok(()) => println!("sockstress: PASS"),
        Err(why) => {
            println!("sockstress: FAIL: {why}");
            std::process::exit(1);
        }
    }
}
