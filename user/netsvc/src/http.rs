//! HTTP/1.1 for the benchmark's web service: request-head parsing and the fixed responses.
//!
//! Pure functions over byte slices, so the parser is tested without sockets. The server
//! only has to serve one page quickly and survive anything a client sends: it understands
//! the request line, `Connection` and `Content-Length` (a request body is read and ignored),
//! and answers everything else with a status code rather than guessing. Chunked request
//! bodies are refused (501) because no benchmark client sends them.
//!
//! Keep-alive follows RFC 9112 §9.3: HTTP/1.1 keeps the connection unless the client says
//! `Connection: close`; HTTP/1.0 closes unless it says `Connection: keep-alive`.

/// Largest request head accepted (request line plus headers plus the blank line).
pub const MAX_HEAD: usize = 8 * 1024;

/// The page served at `/` and `/index.html`.
pub const PAGE: &str = "<!DOCTYPE html>\n<html><head><title>netsvc</title></head>\n\
<body><h1>It works</h1><p>Served by netsvc, the benchmark's peer service.</p></body></html>\n";

/// Request methods the server tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    /// Any other syntactically valid method (answered with 405).
    Other,
}

/// A parsed request head; owns no bytes so the buffer can be reused at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// True when the target is the page (`/` or `/index.html`, query ignored).
    pub is_page: bool,
    /// The connection stays open after the response.
    pub keep_alive: bool,
    /// Bytes of the head, including the final blank line.
    pub head_len: usize,
    /// Bytes of body that follow the head (`Content-Length`).
    pub body_len: usize,
}

/// Why a request head was rejected; each maps to a status code sent before closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    /// No blank line within [`MAX_HEAD`] bytes (431).
    HeadTooLarge,
    /// Malformed request line, header line or `Content-Length` (400).
    Malformed,
    /// A version other than HTTP/1.0 or HTTP/1.1 (505).
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
pub fn parse_request(buf: &[u8]) -> Result<Option<Request>, HttpError> {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() >= MAX_HEAD {
            Err(HttpError::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    let head_len = end + 4;
    if head_len > MAX_HEAD {
        return Err(HttpError::HeadTooLarge);
    }
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| HttpError::Malformed)?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().ok_or(HttpError::Malformed)?;
    let (method, target, http11) = parse_request_line(request_line)?;
    let mut keep_alive = http11;
    let mut body_len = None;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(HttpError::Malformed)?;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(HttpError::Malformed);
        }
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("connection") {
            for option in value.split(',').map(str::trim) {
                if option.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if option.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            let n = parse_length(value)?;
            // Differing repeated lengths are a smuggling vector (RFC 9112 §6.3): reject.
            if body_len.is_some_and(|old| old != n) {
                return Err(HttpError::Malformed);
            }
            body_len = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(HttpError::TransferEncoding);
        }
    }
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    Ok(Some(Request {
        method,
        is_page: path == "/" || path == "/index.html",
        keep_alive,
        head_len,
        body_len: body_len.unwrap_or(0),
    }))
}

/// `METHOD SP target SP HTTP/1.x`: the method, the target and whether it is HTTP/1.1.
fn parse_request_line(line: &str) -> Result<(Method, &str, bool), HttpError> {
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::Malformed);
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(HttpError::Malformed);
    }
    if !target.starts_with('/') && target != "*" {
        return Err(HttpError::Malformed);
    }
    if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(HttpError::Malformed);
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        v if v.starts_with("HTTP/") => return Err(HttpError::Version),
        _ => return Err(HttpError::Malformed),
    };
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => Method::Other,
    };
    Ok((method, target, http11))
}

/// A `Content-Length` value: decimal digits only, bounded.
fn parse_length(value: &str) -> Result<usize, HttpError> {
    if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HttpError::Malformed);
    }
    value.parse().map_err(|_| HttpError::Malformed)
}

/// `tchar` of RFC 9110 §5.6.2.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The complete response to `req`.
pub fn respond(req: &Request) -> Vec<u8> {
    let connection = if req.keep_alive {
        "keep-alive"
    } else {
        "close"
    };
    match (req.method, req.is_page) {
        (Method::Get | Method::Head, true) => {
            let body = if req.method == Method::Get { PAGE } else { "" };
            build(
                200,
                "OK",
                "text/html; charset=utf-8",
                PAGE.len(),
                body,
                connection,
                "",
            )
        }
        (Method::Get | Method::Head, false) => {
            let body = if req.method == Method::Get {
                "not found\n"
            } else {
                ""
            };
            build(404, "Not Found", "text/plain", 10, body, connection, "")
        }
        (Method::Other, _) => build(
            405,
            "Method Not Allowed",
            "text/plain",
            0,
            "",
            connection,
            "Allow: GET, HEAD\r\n",
        ),
    }
}

/// The response to a rejected request; the connection is closed after it.
pub fn respond_error(err: HttpError) -> Vec<u8> {
    let (code, reason) = err.status();
    build(code, reason, "text/plain", 0, "", "close", "")
}

fn build(
    code: u16,
    reason: &str,
    content_type: &str,
    length: usize,
    body: &str,
    connection: &str,
    extra: &str,
) -> Vec<u8> {
    format!(
        "HTTP/1.1 {code} {reason}\r\nServer: netsvc\r\nContent-Type: {content_type}\r\n\
         Content-Length: {length}\r\nConnection: {connection}\r\n{extra}\r\n{body}"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<Request>, HttpError> {
        parse_request(text.as_bytes())
    }

    #[test]
    fn a_simple_get_keeps_the_connection() {
        let text = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n";
        let req = parse(text).unwrap().unwrap();
        assert_eq!(req.method, Method::Get);
        assert!(req.is_page && req.keep_alive);
        assert_eq!(req.head_len, "GET / HTTP/1.1\r\nHost: x\r\n\r\n".len());
        assert_eq!(req.body_len, 0);
    }

    #[test]
    fn incomplete_heads_ask_for_more() {
        for cut in [
            "",
            "GET",
            "GET / HTTP/1.1\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n\r",
        ] {
            assert_eq!(parse(cut), Ok(None), "{cut:?}");
        }
    }

    #[test]
    fn connection_header_and_version_decide_keep_alive() {
        let close = parse("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!close.keep_alive);
        let old = parse("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!old.keep_alive);
        let old_ka = parse("GET / HTTP/1.0\r\nconnection: foo, keep-alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(old_ka.keep_alive);
    }

    #[test]
    fn body_length_query_and_targets() {
        let req = parse("POST /index.html?x=1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
            .unwrap()
            .unwrap();
        assert_eq!(
            (req.method, req.is_page, req.body_len),
            (Method::Other, true, 5)
        );
        let other = parse("HEAD /missing HTTP/1.1\r\n\r\n").unwrap().unwrap();
        assert_eq!((other.method, other.is_page), (Method::Head, false));
        let same = parse("GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(same.unwrap().unwrap().body_len, 3);
    }

    #[test]
    fn malformed_heads_are_rejected_with_a_status() {
        let cases = [
            ("GET /\r\n\r\n", HttpError::Malformed),
            ("GET  / HTTP/1.1\r\n\r\n", HttpError::Malformed),
            ("GET / HTTP/1.1 x\r\n\r\n", HttpError::Malformed),
            ("G(T / HTTP/1.1\r\n\r\n", HttpError::Malformed),
            ("GET x HTTP/1.1\r\n\r\n", HttpError::Malformed),
            ("GET / FTP/1.1\r\n\r\n", HttpError::Malformed),
            ("GET / HTTP/2.0\r\n\r\n", HttpError::Version),
            ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", HttpError::Malformed),
            (
                "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
                HttpError::Malformed,
            ),
            (
                "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                HttpError::Malformed,
            ),
            (
                "GET / HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n",
                HttpError::Malformed,
            ),
            (
                "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                HttpError::Malformed,
            ),
            (
                "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                HttpError::TransferEncoding,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Err(want), "{text:?}");
        }
        assert_eq!(
            parse_request(b"GET /\xff HTTP/1.1\r\n\r\n"),
            Err(HttpError::Malformed)
        );
    }

    #[test]
    fn oversized_heads_are_refused_not_buffered_forever() {
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD, b'a');
        assert_eq!(parse_request(&big), Err(HttpError::HeadTooLarge));
        big.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse_request(&big), Err(HttpError::HeadTooLarge));
    }

    #[test]
    fn responses_carry_length_connection_and_body() {
        let get = parse("GET / HTTP/1.1\r\n\r\n").unwrap().unwrap();
        let text = String::from_utf8(respond(&get)).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains(&format!("Content-Length: {}\r\n", PAGE.len())));
        assert!(text.contains("Connection: keep-alive\r\n"));
        assert!(text.ends_with(&format!("\r\n\r\n{PAGE}")));
        let head = Request {
            method: Method::Head,
            ..get
        };
        let text = String::from_utf8(respond(&head)).unwrap();
        assert!(
            text.ends_with("\r\n\r\n") && text.contains(&format!("Content-Length: {}", PAGE.len()))
        );
        let missing = Request {
            is_page: false,
            keep_alive: false,
            ..get
        };
        let text = String::from_utf8(respond(&missing)).unwrap();
        assert!(text.starts_with("HTTP/1.1 404") && text.ends_with("not found\n"));
        assert!(text.contains("Connection: close"));
        let post = Request {
            method: Method::Other,
            ..get
        };
        assert!(String::from_utf8(respond(&post))
            .unwrap()
            .contains("Allow: GET, HEAD\r\n"));
        let err = String::from_utf8(respond_error(HttpError::Version)).unwrap();
        assert!(err.starts_with("HTTP/1.1 505 ") && err.contains("Connection: close"));
    }
}
