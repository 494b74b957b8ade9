//! Property tests of the request framing: well-formed requests with bodies, pipelined
//! and cut into arbitrary reads, come out as exactly those requests (a body is never
//! taken for a request); arbitrary bytes never panic and never consume more than given.

use halyard_http::{Framed, Framer, Method, MAX_HEAD};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Req {
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    close: bool,
}

impl Req {
    fn bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.path).into_bytes();
        for (k, v) in &self.headers {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        if !self.body.is_empty() {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        if self.close {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

fn request() -> impl Strategy<Value = Req> {
    (
        prop::sample::select(vec!["GET", "HEAD", "POST", "PUT", "DELETE"]),
        "/[a-z0-9/._-]{0,20}",
        prop::collection::vec(("X-[A-Za-z]{1,8}", "[ -~]{0,30}"), 0..6),
        // Bodies often look like requests themselves.
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            Just(b"GET /smuggled HTTP/1.1\r\n\r\n".to_vec()),
        ],
        any::<bool>(),
    )
        .prop_map(|(method, path, headers, body, close)| Req {
            method,
            path,
            headers: headers
                .into_iter()
                .map(|(k, v)| (k, v.trim().to_string()))
                .collect(),
            body,
            close,
        })
}

/// Feeds `stream` to a framer in reads of the given sizes, as a server would: returns
/// (method, path, keep-alive) of every request, the first error, and the bytes left.
fn serve(stream: &[u8], reads: &[usize]) -> (Vec<(Method, String, bool)>, Option<String>, usize) {
    let mut framer = Framer::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut got = Vec::new();
    let mut fed = 0;
    let mut reads = reads.iter().cycle();
    loop {
        match framer.next(&buf) {
            Framed::Request { req, consumed } => {
                assert!(consumed <= buf.len());
                got.push((req.method, req.path.to_string(), req.keep_alive));
                buf.drain(..consumed);
                continue;
            }
            Framed::More { consumed } => {
                assert!(consumed <= buf.len());
                buf.drain(..consumed);
            }
            Framed::Error(e) => return (got, Some(format!("{e:?}")), buf.len()),
        }
        if fed == stream.len() {
            return (got, None, buf.len());
        }
        let n = (*reads.next().unwrap()).clamp(1, stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn pipelined_requests_come_out_whole_in_any_cut(
        reqs in prop::collection::vec(request(), 1..6),
        reads in prop::collection::vec(1usize..200, 1..8),
    ) {
        let stream: Vec<u8> = reqs.iter().flat_map(Req::bytes).collect();
        let (got, error, left) = serve(&stream, &reads);
        prop_assert_eq!(error, None);
        prop_assert_eq!(left, 0);
        let want: Vec<(Method, String, bool)> = reqs
            .iter()
            .map(|r| {
                let m = match r.method {
                    "GET" => Method::Get,
                    "HEAD" => Method::Head,
                    _ => Method::Other,
                };
                (m, r.path.clone(), !r.close)
            })
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_overconsume(
        stream in prop::collection::vec(any::<u8>(), 0..2000),
        reads in prop::collection::vec(1usize..500, 1..4),
    ) {
        let (_, _, left) = serve(&stream, &reads);
        // Nothing is buffered beyond one head's limit without an answer.
        prop_assert!(left <= MAX_HEAD + 500);
    }

    #[test]
    fn garbage_after_a_good_request_is_an_error_not_a_request(
        good in request(),
        junk in "[(),;<>@{}][ -~]{0,40}\r\n\r\n",
    ) {
        let mut stream = good.bytes();
        if good.close {
            return Ok(());
        }
        stream.extend_from_slice(junk.as_bytes());
        let (got, error, _) = serve(&stream, &[7]);
        prop_assert_eq!(got.len(), 1);
        prop_assert!(error.is_some());
    }
}
