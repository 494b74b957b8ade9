//! HTTP/1.1 request framing for Halyard's two web servers: the kernel's service on port
//! 80 and `netsvc`, the Linux peer's (docs/bench.md). One parser, tested here, so both
//! answer a client byte for byte the same way.
//!
//! - Request heads are parsed by `httparse` (request line, header names and values,
//!   line endings); this crate adds what a server must decide on top of it (RFC 9112):
//!   the body's length, keep-alive, and limits.
//! - A body is delimited by `Content-Length` and skipped ([`Framer`]), so its bytes are
//!   never parsed as the next request. Repeated `Content-Length` headers must agree
//!   (differing ones are a request-smuggling vector, RFC 9112 §6.3) and are bounded.
//! - `Transfer-Encoding` in a request (chunked bodies) is refused with 501: neither server
//!   accepts request bodies it would use, and a server that cannot frame a body must not
//!   guess (RFC 9112 §6.3 item 4 wants 400 or 501 for one it does not understand).
//! - A head may be at most [`MAX_HEAD`] bytes with at most [`MAX_HEADERS`] header lines
//!   (431 beyond), so a peer cannot make a server buffer without bound.
//! - Keep-alive (RFC 9112 §9.3): HTTP/1.1 keeps the connection unless the client says
//!   `Connection: close`; HTTP/1.0 closes unless it says `Connection: keep-alive`.
//! - Errors map to a status code ([`HttpError::status`]); the connection is closed after
//!   the error response.
//!
//! `no_std` and allocation-free: the kernel links it as it is.
#![no_std]

#[cfg(test)]
extern crate std;

use core::fmt;

/// Largest request head accepted (request line, headers and the blank line).
pub const MAX_HEAD: usize = 8 * 1024;
/// Most header lines in one request.
pub const MAX_HEADERS: usize = 32;
/// Largest `Content-Length` accepted (a body is skipped, not stored, but a length beyond
/// this is surely not a request for these servers).
pub const MAX_BODY: u64 = 1 << 40;

/// Request methods the servers tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    /// Any other syntactically valid method (answered with 405).
    Other,
}

/// A parsed request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub method: Method,
    /// The target's path (`/` or `*` first), query removed.
    pub path: &'a str,
    /// The connection stays open after the response.
    pub keep_alive: bool,
    /// Bytes of the head, including the final blank line.
    pub head_len: usize,
    /// Bytes of body that follow the head (`Content-Length`, else 0).
    pub body_len: u64,
}

/// Why a request was rejected; each maps to a status code sent before closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    /// No complete head within [`MAX_HEAD`] bytes, or more than [`MAX_HEADERS`] (431).
    HeadTooLarge,
    /// Malformed request line, header line or `Content-Length` (400).
    Malformed,
    /// An HTTP version other than 1.0 or 1.1 (505).
    Version,
    /// `Transfer-Encoding` in a request (501).
    TransferEncoding,
}

impl HttpError {
    /// The status line's code and reason.
    pub const fn status(self) -> (u16, &'static str) {
        match self {
            HttpError::HeadTooLarge => (431, "Request Header Fields Too Large"),
            HttpError::Malformed => (400, "Bad Request"),
            HttpError::Version => (505, "HTTP Version Not Supported"),
            HttpError::TransferEncoding => (501, "Not Implemented"),
        }
    }
}

/// Parses the request head at the start of `buf`: `Ok(None)` when more bytes are needed.
pub fn parse_request(buf: &[u8]) -> Result<Option<Request<'_>>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => {
            return Err(HttpError::HeadTooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::HeadTooLarge),
        Err(httparse::Error::Version) => return Err(version_error(buf)),
        Err(_) => return Err(HttpError::Malformed),
    };
    if head_len > MAX_HEAD {
        return Err(HttpError::HeadTooLarge);
    }
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(HttpError::Malformed);
    };
    if !target.starts_with('/') && target != "*" {
        return Err(HttpError::Malformed);
    }
    let mut keep_alive = version == 1;
    let mut body_len = None;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("connection") {
            let value = core::str::from_utf8(h.value).map_err(|_| HttpError::Malformed)?;
            for option in value.split(',').map(str::trim) {
                if option.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if option.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        } else if h.name.eq_ignore_ascii_case("content-length") {
            let n = parse_length(h.value)?;
            if body_len.is_some_and(|old| old != n) {
                return Err(HttpError::Malformed);
            }
            body_len = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(HttpError::TransferEncoding);
        }
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => Method::Other,
    };
    Ok(Some(Request {
        method,
        path: target.split_once('?').map_or(target, |(p, _)| p),
        keep_alive,
        head_len,
        body_len: body_len.unwrap_or(0),
    }))
}

/// httparse says only "bad version": 505 for an HTTP version we do not speak, 400 for
/// something that is not HTTP at all.
fn version_error(buf: &[u8]) -> HttpError {
    let line_end = buf.iter().position(|&b| b == b'\r' || b == b'\n');
    let line = &buf[..line_end.unwrap_or(buf.len())];
    let version = line.rsplit(|&b| b == b' ').next().unwrap_or(&[]);
    if version.starts_with(b"HTTP/") {
        HttpError::Version
    } else {
        HttpError::Malformed
    }
}

/// A `Content-Length` value: decimal digits only (no sign, no list), at most
/// [`MAX_BODY`].
fn parse_length(value: &[u8]) -> Result<u64, HttpError> {
    let value = value.trim_ascii();
    if value.is_empty() || value.len() > 16 || !value.iter().all(u8::is_ascii_digit) {
        return Err(HttpError::Malformed);
    }
    let n = value
        .iter()
        .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    if n > MAX_BODY {
        return Err(HttpError::Malformed);
    }
    Ok(n)
}

/// What [`Framer::next`] found at the front of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framed<'a> {
    /// No complete request yet: drop `consumed` leading bytes (body of an earlier
    /// request) and call again when more input arrived.
    More { consumed: usize },
    /// A request: answer it, then drop `consumed` leading bytes (whatever body was
    /// skipped before it, its head, and as much of its body as the input holds; the rest
    /// of its body is skipped by the next calls).
    Request { req: Request<'a>, consumed: usize },
    /// A bad request: answer with the error's status and close.
    Error(HttpError),
}

/// Splits one connection's byte stream into requests, skipping their bodies.
#[derive(Debug, Clone, Default)]
pub struct Framer {
    /// Body bytes of the last request not yet seen.
    body_left: u64,
}

impl Framer {
    pub const fn new() -> Framer {
        Framer { body_left: 0 }
    }

    /// Looks at the unconsumed input `buf` (everything received and not yet dropped).
    pub fn next<'a>(&mut self, buf: &'a [u8]) -> Framed<'a> {
        let skipped = usize::try_from(self.body_left).map_or(buf.len(), |b| b.min(buf.len()));
        self.body_left -= skipped as u64;
        if self.body_left > 0 {
            return Framed::More { consumed: skipped };
        }
        match parse_request(&buf[skipped..]) {
            Ok(None) => Framed::More { consumed: skipped },
            Ok(Some(req)) => {
                let after_head = buf.len() - skipped - req.head_len;
                let body_here =
                    usize::try_from(req.body_len).map_or(after_head, |b| b.min(after_head));
                self.body_left = req.body_len - body_here as u64;
                Framed::Request {
                    req,
                    consumed: skipped + req.head_len + body_here,
                }
            }
            Err(e) => Framed::Error(e),
        }
    }

    /// True while the body of the last request is still being skipped.
    pub fn in_body(&self) -> bool {
        self.body_left > 0
    }
}

/// Writes a response's status line and headers (`Content-Length`, `Connection`, then
/// `extra`, each line ending in CRLF) and the blank line; the body follows.
pub fn write_response_head(
    w: &mut impl fmt::Write,
    server: &str,
    (code, reason): (u16, &str),
    content_type: &str,
    content_length: usize,
    keep_alive: bool,
    extra: &str,
) -> fmt::Result {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    write!(
        w,
        "HTTP/1.1 {code} {reason}\r\nServer: {server}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {content_length}\r\nConnection: {connection}\r\n{extra}\r\n"
    )
}

#[cfg(test)]
mod tests;
