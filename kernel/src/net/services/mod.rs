//! Kernel TCP services on the standard ports, there to be measured and tested from the
//! host: echo (7, RFC 862), discard (9, RFC 863: read until the peer's EOF, then close),
//! source (19: send until the peer closes, like chargen, RFC 864, without the line
//! pattern) and a small HTTP/1.1 server (80: keep-alive, `/` a fixed page, `/status` the
//! counters).
//!
//! Two server styles, both on the socket API: echo is one thread serving every
//! connection with non-blocking sockets and [`poll`](super::socket::poll) ([`echo`]);
//! the others are a listener thread that starts a thread per connection, each blocking
//! in its socket calls.
mod echo;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::socket::{TcpListener, TcpStream};
use crate::sched;

/// Connections served per service, for the status page.
static SERVED: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// Starts every service. Boot, after the network is up.
pub fn start() {
    match TcpListener::bind(7) {
        Ok(l) => {
            sched::spawn("echo", move || echo::serve(l, &SERVED[0]));
        }
        Err(e) => crate::warn!("echo: cannot listen on port 7: {e}"),
    }
    serve("discard", 9, 1, discard);
    serve("source", 19, 2, source);
    serve("http", 80, 3, http);
}

fn serve(name: &'static str, port: u16, index: usize, handler: fn(TcpStream)) {
    let listener = match TcpListener::bind(port) {
        Ok(l) => l,
        Err(e) => {
            crate::warn!("{name}: cannot listen on port {port}: {e}");
            return;
        }
    };
    sched::spawn(format!("{name}-listen"), move || loop {
        match listener.accept() {
            Ok(stream) => {
                SERVED[index].fetch_add(1, Ordering::Relaxed);
                sched::spawn(format!("{name}-conn"), move || handler(stream));
            }
            Err(e) => crate::warn!("{name}: accept failed: {e}"),
        }
    });
}

fn discard(stream: TcpStream) {
    let mut buf = alloc::vec![0u8; 64 * 1024];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
    let _ = stream.shutdown();
}

fn source(stream: TcpStream) {
    let chunk: Vec<u8> = (0..64 * 1024).map(|i| b' ' + (i % 95) as u8).collect();
    while stream.write_all(&chunk).is_ok() {}
}

/// Reads one request head (through the blank line); `None` at end of stream or on a
/// head larger than 8 KiB.
fn read_head(stream: &TcpStream, pending: &mut Vec<u8>) -> Option<String> {
    let mut buf = [0u8; 2048];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            pending.drain(..end + 4);
            return Some(head);
        }
        if pending.len() > 8192 {
            return None;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

const PAGE: &str =
    "<!doctype html><title>Halyard</title><h1>Halyard</h1><p>Served by the kernel's own TCP.</p>\n";

fn http(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut pending = Vec::new();
    while let Some(head) = read_head(&stream, &mut pending) {
        let mut lines = head.lines();
        let request = lines.next().unwrap_or("");
        let mut parts = request.split_whitespace();
        let (method, path, version) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let close = version == "HTTP/1.0"
            || lines.any(|l| {
                l.split_once(':').is_some_and(|(k, v)| {
                    k.eq_ignore_ascii_case("connection") && v.trim().eq_ignore_ascii_case("close")
                })
            });
        let (status, body) = match (method, path) {
            ("GET", "/") => ("200 OK", String::from(PAGE)),
            ("GET", "/status") => ("200 OK", status_page()),
            ("GET", _) => ("404 Not Found", String::from("not found\n")),
            _ => ("405 Method Not Allowed", String::from("only GET\n")),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/{}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n{body}",
            if path == "/" { "html" } else { "plain" },
            body.len(),
            if close { "close" } else { "keep-alive" }
        );
        if stream.write_all(response.as_bytes()).is_err() || close {
            break;
        }
    }
    let _ = stream.shutdown();
}

fn status_page() -> String {
    let mut page = format!(
        "echo={} discard={} source={} http={}\n",
        SERVED[0].load(Ordering::Relaxed),
        SERVED[1].load(Ordering::Relaxed),
        SERVED[2].load(Ordering::Relaxed),
        SERVED[3].load(Ordering::Relaxed)
    );
    super::write_counters(&mut page);
    page
}
