use super::*;
use std::string::String;

fn parse(text: &str) -> Result<Option<Request<'_>>, HttpError> {
    parse_request(text.as_bytes())
}

#[test]
fn a_simple_get_keeps_the_connection() {
    let text = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n";
    let req = parse(text).unwrap().unwrap();
    assert_eq!((req.method, req.path), (Method::Get, "/"));
    assert!(req.keep_alive);
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
    let close = parse("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n");
    assert!(!close.unwrap().unwrap().keep_alive);
    let old = parse("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
    assert!(!old.keep_alive);
    let old_ka = parse("GET / HTTP/1.0\r\nconnection: foo, keep-alive\r\n\r\n");
    assert!(old_ka.unwrap().unwrap().keep_alive);
}

#[test]
fn body_length_query_and_targets() {
    let req = parse("POST /index.html?x=1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
        .unwrap()
        .unwrap();
    assert_eq!(
        (req.method, req.path, req.body_len),
        (Method::Other, "/index.html", 5)
    );
    let other = parse("HEAD /missing HTTP/1.1\r\n\r\n").unwrap().unwrap();
    assert_eq!((other.method, other.path), (Method::Head, "/missing"));
    let same = parse("GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n");
    assert_eq!(same.unwrap().unwrap().body_len, 3);
    let star = parse("OPTIONS * HTTP/1.1\r\n\r\n").unwrap().unwrap();
    assert_eq!(star.path, "*");
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
        ("BREW /pot HTCPCP/1.0\r\n\r\n", HttpError::Malformed),
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
            "GET / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n",
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
        (
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
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
    let mut many = String::from("GET / HTTP/1.1\r\n");
    for i in 0..=MAX_HEADERS {
        many.push_str(&std::format!("H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    assert_eq!(parse(&many), Err(HttpError::HeadTooLarge));
}

#[test]
fn a_body_is_skipped_not_parsed_as_the_next_request() {
    // The body looks like a request: it must not be answered.
    let stream = b"POST / HTTP/1.1\r\nContent-Length: 18\r\n\r\nGET /evil HTTP/1.1GET /next HTTP/1.1\r\n\r\n";
    let mut f = Framer::new();
    let mut rest: &[u8] = stream;
    let mut paths = std::vec::Vec::new();
    loop {
        match f.next(rest) {
            Framed::Request { req, consumed } => {
                paths.push(req.path);
                rest = &rest[consumed..];
            }
            Framed::More { consumed } => {
                assert_eq!(consumed, 0);
                break;
            }
            Framed::Error(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(paths, ["/", "/next"]);
    assert!(rest.is_empty() && !f.in_body());
}

#[test]
fn a_body_split_across_reads_is_skipped_across_calls() {
    let mut f = Framer::new();
    let head = b"POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc";
    let Framed::Request { req, consumed } = f.next(head) else {
        panic!("no request");
    };
    assert_eq!((req.path, consumed), ("/a", head.len()));
    assert!(f.in_body());
    assert_eq!(f.next(b"defg"), Framed::More { consumed: 4 });
    let Framed::Request { req, consumed } = f.next(b"hijGET /b HTTP/1.1\r\n\r\n") else {
        panic!("no second request");
    };
    assert_eq!((req.path, consumed), ("/b", 3 + 19));
}

#[test]
fn response_heads_carry_length_and_connection() {
    let mut s = String::new();
    write_response_head(
        &mut s,
        "t",
        (404, "Not Found"),
        "text/plain",
        10,
        false,
        "X: y\r\n",
    )
    .unwrap();
    assert_eq!(
        s,
        "HTTP/1.1 404 Not Found\r\nServer: t\r\nContent-Type: text/plain\r\n\
         Content-Length: 10\r\nConnection: close\r\nX: y\r\n\r\n"
    );
}
