//! HTTP/1.1 for the benchmark's web service: the fixed responses. Requests are framed by
//! the `halyard-http` crate, the parser the kernel's own web service uses too, so both
//! answer a client the same way: `Content-Length` bodies are skipped, chunked request
//! bodies refused (501), heads bounded (431), keep-alive as RFC 9112 §9.3 says.

pub use halyard_http::{Framed, Framer, HttpError, Method, Request, MAX_HEAD};

/// The page served at `/` and `/index.html`.
pub const PAGE: &str = "<!DOCTYPE html>\n<html><head><title>netsvc</title></head>\n\
<body><h1>It works</h1><p>Served by netsvc, the benchmark's peer service.</p></body></html>\n";

/// True when the target is the page (`/` or `/index.html`).
fn is_page(req: &Request) -> bool {
    req.path == "/" || req.path == "/index.html"
}

/// The complete response to `req`.
pub fn respond(req: &Request) -> Vec<u8> {
    let get = req.method == Method::Get;
    match (req.method, is_page(req)) {
        (Method::Get | Method::Head, true) => build(
            (200, "OK"),
            "text/html; charset=utf-8",
            PAGE.len(),
            if get { PAGE } else { "" },
            req.keep_alive,
            "",
        ),
        (Method::Get | Method::Head, false) => build(
            (404, "Not Found"),
            "text/plain",
            10,
            if get { "not found\n" } else { "" },
            req.keep_alive,
            "",
        ),
        (Method::Other, _) => build(
            (405, "Method Not Allowed"),
            "text/plain",
            0,
            "",
            req.keep_alive,
            "Allow: GET, HEAD\r\n",
        ),
    }
}

/// The response to a rejected request; the connection is closed after it.
pub fn respond_error(err: HttpError) -> Vec<u8> {
    build(err.status(), "text/plain", 0, "", false, "")
}

fn build(
    status: (u16, &str),
    content_type: &str,
    length: usize,
    body: &str,
    keep_alive: bool,
    extra: &str,
) -> Vec<u8> {
    let mut text = String::new();
    halyard_http::write_response_head(
        &mut text,
        "netsvc",
        status,
        content_type,
        length,
        keep_alive,
        extra,
    )
    .expect("writing to a String cannot fail");
    text.push_str(body);
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> Request<'_> {
        halyard_http::parse_request(text.as_bytes())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn responses_carry_length_connection_and_body() {
        let get = request("GET / HTTP/1.1\r\n\r\n");
        let text = String::from_utf8(respond(&get)).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains(&format!("Content-Length: {}\r\n", PAGE.len())));
        assert!(text.contains("Connection: keep-alive\r\n"));
        assert!(text.ends_with(&format!("\r\n\r\n{PAGE}")));
        let head = request("HEAD /index.html?x HTTP/1.1\r\n\r\n");
        let text = String::from_utf8(respond(&head)).unwrap();
        assert!(
            text.ends_with("\r\n\r\n") && text.contains(&format!("Content-Length: {}", PAGE.len()))
        );
        let missing = request("GET /missing HTTP/1.1\r\nConnection: close\r\n\r\n");
        let text = String::from_utf8(respond(&missing)).unwrap();
        assert!(text.starts_with("HTTP/1.1 404") && text.ends_with("not found\n"));
        assert!(text.contains("Connection: close"));
        let post = request("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
        assert!(String::from_utf8(respond(&post))
            .unwrap()
            .contains("Allow: GET, HEAD\r\n"));
        let err = String::from_utf8(respond_error(HttpError::Version)).unwrap();
        assert!(err.starts_with("HTTP/1.1 505 ") && err.contains("Connection: close"));
    }
}
