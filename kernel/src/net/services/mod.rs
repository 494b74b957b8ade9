//! Kernel TCP services on the standard ports, there to be measured and tested from the
//! host: echo (7, RFC 862), discard (9, RFC 863: read until the peer's EOF, then close),
//! source (19: send until the peer closes, like chargen, RFC 864, without the line
//! pattern) and a small HTTP/1.1 server (80: keep-alive, `/` a fixed page, `/status` the
//! counters).
//!
//! Each is one thread running an [`event_loop`] over non-blocking sockets and a ready
//! list, with a [`Protocol`](event_loop::Protocol) saying what a connection does. So a
//! connection costs its socket and a few bytes of protocol state, and the number of
//! connections a peer can make the kernel hold is bounded by the limits in
//! docs/network.md ("Limits"), not by how many threads and stacks fit in memory.
mod discard;
mod echo;
mod event_loop;
mod http;
mod output;
mod source;

use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use core::sync::atomic::Ordering;

use event_loop::{Protocol, ServiceStats};

use super::socket::{SocketOptions, TcpListener};
use crate::sched;

/// The services' counters, in port order.
static STATS: [ServiceStats; 4] = [
    ServiceStats::new("ECHO"),
    ServiceStats::new("DISCARD"),
    ServiceStats::new("SOURCE"),
    ServiceStats::new("HTTP"),
];

/// Socket buffer limits (send, receive) of each service's connections: what one
/// connection can make the kernel hold at most, whatever its peer does (a buffer only
/// grows as far as data needs). Each is large enough for the service's own direction to
/// run at full speed over the tap; the direction a service does not use gets a page.
/// Source's 1 MiB keeps a window of 64 KB TSO frames in flight (128 KiB held two, which
/// capped a bulk transfer at that window per round trip).
const ECHO_BUFFERS: (usize, usize) = (64 * 1024, 64 * 1024);
const DISCARD_BUFFERS: (usize, usize) = (4096, 256 * 1024);
const SOURCE_BUFFERS: (usize, usize) = (1024 * 1024, 4096);
const HTTP_BUFFERS: (usize, usize) = (64 * 1024, 16 * 1024);

/// Starts every service. Boot, after the network is up.
pub fn start() {
    serve("echo", 7, ECHO_BUFFERS, &STATS[0], echo::Echo::new());
    serve(
        "discard",
        9,
        DISCARD_BUFFERS,
        &STATS[1],
        discard::Discard::new(),
    );
    serve(
        "source",
        19,
        SOURCE_BUFFERS,
        &STATS[2],
        source::Source::new(),
    );
    serve("http", 80, HTTP_BUFFERS, &STATS[3], http::Http::new());
}

fn serve<P: Protocol + Send + 'static>(
    name: &'static str,
    port: u16,
    (send, recv): (usize, usize),
    stats: &'static ServiceStats,
    proto: P,
) {
    let options = SocketOptions {
        send_buffer: Some(send),
        recv_buffer: Some(recv),
        ..SocketOptions::default()
    };
    match TcpListener::bind_with(port, &options) {
        Ok(listener) => {
            sched::spawn(name, move || event_loop::serve(listener, proto, stats));
        }
        Err(e) => crate::warn!("{name}: cannot listen on port {port}: {e}"),
    }
}

/// `SVC_<NAME>_{ACCEPTED,OPEN,REFUSED_FULL,REFUSED_MEMORY}` lines for `counters`.
pub fn write_counters(out: &mut dyn Write) {
    for s in &STATS {
        for (what, value) in [
            ("ACCEPTED", &s.accepted),
            ("OPEN", &s.open),
            ("REFUSED_FULL", &s.refused_full),
            ("REFUSED_MEMORY", &s.refused_memory),
        ] {
            let _ = writeln!(
                out,
                "SVC_{}_{what}={}",
                s.name,
                value.load(Ordering::Relaxed)
            );
        }
    }
}

fn status_page() -> String {
    let served = |i: usize| STATS[i].accepted.load(Ordering::Relaxed);
    let mut page = format!(
        "echo={} discard={} source={} http={}\n",
        served(0),
        served(1),
        served(2),
        served(3)
    );
    super::write_counters(&mut page);
    page
}
