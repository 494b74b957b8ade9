//! The socket side: one listener thread per service, one thread per connection.
//!
//! Every connection ends when the peer closes or an I/O error occurs; an error on one
//! connection never affects another. System calls used (what a kernel must provide to run
//! this binary, beyond the Rust runtime's start-up): `socket`, `setsockopt(SO_REUSEADDR)`,
//! `bind`, `listen`, `accept4`, `read`/`recvfrom`, `write`/`sendto`, `shutdown`, `close`,
//! and for threads `clone`, `mmap`/`munmap`/`mprotect`, `futex`, `exit`. Rust programs
//! ignore `SIGPIPE`, so writing to a closed peer is an `EPIPE` error, not a signal.

use crate::config::{Config, Service};
use crate::http;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;

/// Read and write buffer size: large enough that bulk transfers are not syscall-bound.
const CHUNK: usize = 64 * 1024;

/// Binds every service; nothing is served until [`serve`] starts the threads.
pub fn bind_all(cfg: &Config) -> io::Result<Vec<(Service, TcpListener)>> {
    Service::ALL
        .iter()
        .map(|&service| {
            let addr = SocketAddr::new(cfg.bind, cfg.port(service));
            let listener = TcpListener::bind(addr)
                .map_err(|e| io::Error::new(e.kind(), format!("bind {addr}: {e}")))?;
            Ok((service, listener))
        })
        .collect()
}

/// Serves the bound listeners forever (each on its own thread).
pub fn serve(listeners: Vec<(Service, TcpListener)>) -> ! {
    for (service, listener) in listeners {
        thread::spawn(move || accept_loop(service, listener));
    }
    loop {
        thread::park();
    }
}

fn accept_loop(service: Service, listener: TcpListener) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                thread::spawn(move || {
                    let _ = stream.set_nodelay(true);
                    // The connection's end (EOF, reset, broken pipe) is its normal way out.
                    let _ = handle(service, stream);
                });
            }
            // Out of descriptors or memory: back off briefly instead of spinning.
            Err(_) => thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
}

fn handle(service: Service, stream: TcpStream) -> io::Result<()> {
    match service {
        Service::Echo => echo(stream),
        Service::Discard => discard(stream),
        Service::Source => source(stream),
        Service::Http => http_conn(stream),
    }
}

/// Sends back everything received; closes after the peer's EOF.
fn echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return stream.shutdown(Shutdown::Write);
        }
        stream.write_all(&buf[..n])?;
    }
}

/// Reads and drops everything; closes after the peer's EOF.
fn discard(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    while stream.read(&mut buf)? > 0 {}
    stream.shutdown(Shutdown::Write)
}

/// Bytes in one full cycle of the chargen pattern: 95 lines of 72 characters plus CRLF.
pub const CHARGEN_PERIOD: usize = 95 * 74;

/// Sends the character-generator pattern until the peer goes away.
fn source(mut stream: TcpStream) -> io::Result<()> {
    // Whole cycles only, so back-to-back writes continue the pattern seamlessly.
    let pattern = chargen_pattern(CHUNK / CHARGEN_PERIOD * CHARGEN_PERIOD);
    loop {
        stream.write_all(&pattern)?;
    }
}

/// The RFC 864 pattern: 72 printable characters per line, each line starting one further
/// along the 95 printable ASCII characters, repeated to fill `len` bytes.
pub fn chargen_pattern(len: usize) -> Vec<u8> {
    const PRINTABLE: u8 = 95;
    let mut out = Vec::with_capacity(len);
    let mut line = 0u8;
    while out.len() < len {
        for i in 0..72u8 {
            out.push(b' ' + (line + i) % PRINTABLE);
        }
        out.extend_from_slice(b"\r\n");
        line = (line + 1) % PRINTABLE;
    }
    out.truncate(len);
    out
}

/// Answers HTTP requests on one connection until it is closed by either side.
fn http_conn(mut stream: TcpStream) -> io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(http::MAX_HEAD);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut framer = http::Framer::new();
    loop {
        match framer.next(&buf) {
            http::Framed::Request { req, consumed } => {
                stream.write_all(&http::respond(&req))?;
                if !req.keep_alive {
                    return stream.shutdown(Shutdown::Write);
                }
                buf.drain(..consumed);
                continue;
            }
            http::Framed::More { consumed } => {
                buf.drain(..consumed);
            }
            http::Framed::Error(e) => {
                stream.write_all(&http::respond_error(e))?;
                return stream.shutdown(Shutdown::Write);
            }
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chargen_lines_rotate_through_printable_ascii() {
        let p = chargen_pattern(CHARGEN_PERIOD + 74);
        assert_eq!(&p[..4], b" !\"#");
        assert_eq!(&p[72..74], b"\r\n");
        assert_eq!(&p[74..77], b"!\"#");
        // Line 95 starts again at the space.
        assert_eq!(p[CHARGEN_PERIOD..], p[..74]);
        assert!(p
            .iter()
            .all(|&b| (b' '..=b'~').contains(&b) || b == b'\r' || b == b'\n'));
        assert_eq!(chargen_pattern(10).len(), 10);
    }
}
