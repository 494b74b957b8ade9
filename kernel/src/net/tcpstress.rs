//! `tcpstress HOST PORT SECONDS`: connect/echo/close loops on every CPU at once, so the
//! stack's locks, the socket wake path and the connection table are taken from all CPUs
//! while NET_RX runs; the `net-tap-tcp-stress` test drives it. A test command: only in
//! kernels built with the `test-commands` feature.
use core::net::SocketAddrV4;

use super::socket::TcpStream;
use crate::{println, time};

/// Longest `tcpstress` run accepted.
const MAX_STRESS_SECONDS: u64 = 120;

/// `tcpstress HOST PORT SECONDS`: one thread per CPU loops connect / send 64 bytes /
/// read them back / close against an echo server at HOST:PORT for SECONDS, taking the
/// stack's locks all the while; prints connections and failures per thread, then
/// `tcpstress: N connections, M failures, W of T workers failed`. A worker failed when it
/// completed no echo at all: the totals alone would hide one CPU's loop that never got
/// anywhere behind the thousands of connections of the others.
pub fn monitor_tcpstress(args: &str) {
    let mut w = args.split_whitespace();
    let addr = w.next().and_then(|a| a.parse().ok());
    let port = w.next().and_then(|p| p.parse().ok());
    let secs = w
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| (1..=MAX_STRESS_SECONDS).contains(s));
    let (Some(addr), Some(port), Some(secs)) = (addr, port, secs) else {
        println!("usage: tcpstress HOST PORT SECONDS   (SECONDS 1..={MAX_STRESS_SECONDS})");
        return;
    };
    let remote = SocketAddrV4::new(addr, port);
    let deadline = time::now_ns() + secs * 1_000_000_000;
    let workers: alloc::vec::Vec<_> = crate::arch::percpu::all()
        .map(|c| {
            let done = alloc::sync::Arc::new(core::sync::atomic::AtomicU64::new(0));
            let failed = alloc::sync::Arc::new(core::sync::atomic::AtomicU64::new(0));
            let (d, f) = (done.clone(), failed.clone());
            let t = crate::sched::spawn_pinned(
                alloc::format!("tcpstress{}", c.index),
                c.index,
                move || {
                    let payload = [0xa5u8; 64];
                    while time::now_ns() < deadline {
                        let ok = TcpStream::connect(remote, 5_000_000_000).and_then(|s| {
                            s.write_all(&payload)?;
                            let mut got = 0;
                            let mut buf = [0u8; 64];
                            while got < payload.len() {
                                match s.read_until(
                                    &mut buf[got..],
                                    Some(time::now_ns() + 5_000_000_000),
                                )? {
                                    0 => break,
                                    n => got += n,
                                }
                            }
                            Ok(got == payload.len() && buf == payload)
                        });
                        let counter = if ok == Ok(true) { &d } else { &f };
                        counter.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
                    }
                },
            );
            (c.index, t, done, failed)
        })
        .collect();
    let (mut total, mut failures, mut failed_workers) = (0, 0, 0);
    let count = workers.len();
    for (cpu, t, done, failed) in workers {
        crate::sched::join(&t);
        let (d, f) = (
            done.load(core::sync::atomic::Ordering::Relaxed),
            failed.load(core::sync::atomic::Ordering::Relaxed),
        );
        println!("cpu{cpu}: {d} connections, {f} failures");
        total += d;
        failures += f;
        failed_workers += usize::from(d == 0);
    }
    println!(
        "tcpstress: {total} connections, {failures} failures, {failed_workers} of {count} \
         workers failed"
    );
}
