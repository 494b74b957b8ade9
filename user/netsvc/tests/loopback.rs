//! The real binary on loopback, on high ports (`--port-offset`): every service answers as
//! the benchmark's clients expect.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The server process, killed when the test ends however it ends.
struct Server {
    child: Child,
    offset: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts netsvc on an offset derived from the process id and `slot` (0 to 4): each
    /// test of this binary gets its own 100 ports and each test process its own 500, so
    /// tests running in parallel do not collide; every port stays below Linux's ephemeral
    /// range (32768 and up), where client sockets could already hold it.
    fn start(slot: u16) -> Server {
        let offset = 20_000 + (std::process::id() % 25) as u16 * 500 + slot * 100;
        let mut child = Command::new(env!("CARGO_BIN_EXE_netsvc"))
            .args(["--bind", "127.0.0.1", "--port-offset", &offset.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start netsvc");
        let stdout = child.stdout.take().unwrap();
        let server = Server { child, offset };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(TIMEOUT).expect("netsvc did not say ready");
        assert_eq!(
            line.trim(),
            format!(
                "netsvc: ready echo={} discard={} source={} http={}",
                offset + 7,
                offset + 9,
                offset + 19,
                offset + 80
            )
        );
        server
    }

    fn connect(&self, port: u16) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.offset + port)).unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        s.set_write_timeout(Some(TIMEOUT)).unwrap();
        s
    }
}

fn read_to_end(mut s: TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn echo_returns_every_byte_and_closes_after_eof() {
    let server = Server::start(1);
    let mut s = server.connect(7);
    // Deterministic, not-all-equal payload larger than one socket buffer round.
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let writer = {
        let mut w = s.try_clone().unwrap();
        let data = data.clone();
        std::thread::spawn(move || {
            w.write_all(&data).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        })
    };
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    writer.join().unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "echoed bytes differ");
}

#[test]
fn discard_swallows_data_and_closes_after_eof() {
    let server = Server::start(2);
    let mut s = server.connect(9);
    s.write_all(&vec![0x55; 1 << 20]).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert!(read_to_end(s).is_empty(), "discard sent something");
}

#[test]
fn source_sends_the_chargen_pattern_until_we_close() {
    let server = Server::start(3);
    let mut s = server.connect(19);
    let mut got = vec![0u8; 500_000];
    s.read_exact(&mut got).unwrap();
    assert!(
        got == netsvc::services::chargen_pattern(got.len()),
        "not the continuous chargen pattern"
    );
    drop(s);
    // The server keeps serving new connections after the old one went away.
    let mut again = server.connect(19);
    let mut head = [0u8; 2];
    again.read_exact(&mut head).unwrap();
    assert_eq!(&head, b" !");
}

#[test]
fn http_keeps_alive_pipelines_and_rejects_garbage() {
    let server = Server::start(0);
    let mut s = server.connect(80);
    let page = netsvc::http::PAGE;
    let one = format!(
        "HTTP/1.1 200 OK\r\nServer: netsvc\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: keep-alive\r\n\r\n{page}",
        page.len()
    );
    // Two requests on one connection, the second pipelined with a body to skip.
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    let mut buf = vec![0u8; one.len()];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(String::from_utf8_lossy(&buf), one);
    s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nbodyGET /index.html HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let text = String::from_utf8(read_to_end(s)).unwrap();
    let (first, second) = text.split_at(text.find("HTTP/1.1 200").expect("no 200"));
    assert!(first.starts_with("HTTP/1.1 405 "), "{first}");
    assert!(second.contains("Connection: close\r\n") && second.ends_with(page));

    let mut bad = server.connect(80);
    bad.write_all(b"BREW /pot HTCPCP/1.0\r\n\r\n").unwrap();
    let text = String::from_utf8(read_to_end(bad)).unwrap();
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
}
