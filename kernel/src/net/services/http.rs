//! A small HTTP/1.1 server (port 80): keep-alive, `/` a fixed page, `/status` the
//! counters. Requests are framed by the `halyard-http` crate, which `netsvc` shares:
//! `Content-Length` bodies are skipped (never parsed as the next request), chunked
//! request bodies are refused (501), a head may be at most 8 KiB (431), and a bad
//! request gets its status code and the connection is closed after it.
//!
//! A connection keeps the bytes of a request not yet complete and a response the peer
//! has not taken yet; an idle connection keeps neither. It reads only once its last
//! response is written, so a client that sends requests but never reads the answers
//! holds one response, not an unbounded queue of them.
use alloc::string::String;
use alloc::vec::Vec;

use halyard_http::{Framed, Framer, HttpError, Method, Request};

use super::event_loop::Protocol;
use super::output::Output;
use crate::net::socket::{SocketError, TcpStream};

const PAGE: &str =
    "<!doctype html><title>Halyard</title><h1>Halyard</h1><p>Served by the kernel's own TCP.</p>\n";

/// Bytes read from a connection at a time.
const CHUNK: usize = 4096;

pub struct Http {
    /// Shared read buffer: only the unparsed rest of a request is kept per connection.
    buf: Vec<u8>,
    /// Where a response is built before it is written.
    response: String,
}

impl Http {
    pub fn new() -> Http {
        Http {
            buf: alloc::vec![0u8; CHUNK],
            response: String::new(),
        }
    }
}

/// One connection.
#[derive(Default)]
pub struct Conn {
    framer: Framer,
    /// Received bytes not yet consumed (an incomplete request head).
    input: Vec<u8>,
    output: Output,
    /// Close once the output is written (the request said so, or it was bad).
    closing: bool,
}

/// Builds the response to `req` into `out`.
fn respond(req: &Request, out: &mut String) {
    out.clear();
    let status;
    let (code, body): ((u16, &str), &str) = match (req.method, req.path) {
        (Method::Get | Method::Head, "/") => ((200, "OK"), PAGE),
        (Method::Get | Method::Head, "/status") => {
            status = super::status_page();
            ((200, "OK"), status.as_str())
        }
        (Method::Get | Method::Head, _) => ((404, "Not Found"), "not found\n"),
        (Method::Other, _) => ((405, "Method Not Allowed"), ""),
    };
    let content_type = if req.path == "/" {
        "text/html"
    } else {
        "text/plain"
    };
    let extra = if req.method == Method::Other {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let _ = halyard_http::write_response_head(
        out,
        "halyard",
        code,
        content_type,
        body.len(),
        req.keep_alive,
        extra,
    );
    if req.method == Method::Get {
        out.push_str(body);
    }
}

/// Builds the response to a bad request into `out` (the connection closes after it).
fn respond_error(err: HttpError, out: &mut String) {
    out.clear();
    let _ =
        halyard_http::write_response_head(out, "halyard", err.status(), "text/plain", 0, false, "");
}

impl Http {
    /// Answers every complete request in `conn.input`; false if the connection failed.
    fn answer(&mut self, conn: &mut Conn, stream: &TcpStream) -> bool {
        while !conn.closing && conn.output.is_empty() {
            let consumed = match conn.framer.next(&conn.input) {
                Framed::More { consumed } => {
                    conn.input.drain(..consumed);
                    return true;
                }
                Framed::Request { req, consumed } => {
                    respond(&req, &mut self.response);
                    conn.closing = !req.keep_alive;
                    consumed
                }
                Framed::Error(e) => {
                    respond_error(e, &mut self.response);
                    conn.closing = true;
                    0
                }
            };
            conn.input.drain(..consumed);
            if conn.output.send(stream, self.response.as_bytes()).is_err() {
                return false;
            }
        }
        true
    }
}

impl Protocol for Http {
    const NODELAY: bool = true;
    type Conn = Conn;

    fn progress(&mut self, conn: &mut Conn, stream: &TcpStream) -> bool {
        loop {
            if let Some(keep) = conn.output.drain(stream) {
                return keep;
            }
            if conn.closing {
                let _ = stream.shutdown();
                return false;
            }
            if !self.answer(conn, stream) {
                return false;
            }
            if !conn.output.is_empty() || conn.closing {
                continue;
            }
            if conn.input.is_empty() {
                // Idle: keep no buffer.
                conn.input = Vec::new();
            }
            match stream.read(&mut self.buf) {
                Ok(0) => {
                    let _ = stream.shutdown();
                    return false;
                }
                Ok(n) => {
                    // Bytes beyond an oversized head are refused by the framer (431)
                    // before this grows past `MAX_HEAD` plus one read; a body being
                    // skipped is dropped by the framer as it comes.
                    if conn.input.try_reserve(n).is_err() {
                        return false;
                    }
                    conn.input.extend_from_slice(&self.buf[..n]);
                }
                Err(SocketError::WouldBlock) => return true,
                Err(_) => return false,
            }
        }
    }
}
