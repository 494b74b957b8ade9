//! `techo`: an echo server and a checking client on tokio's multi-threaded runtime.
//!
//! The point is the runtime, not the echo: tokio drives its sockets through `epoll` in edge
//! mode, wakes its worker threads with an `eventfd` and parks them on futexes, and moves
//! connections between workers. A program like this, unmodified and linked statically,
//! is what issue 14 asks Halyard to run; `net-user-tokio` (xtask/src/nettest/tokio.rs)
//! runs the server against host clients and the client against the server over `lo`.
//!
//! - `techo server PORT`: listens on `0.0.0.0:PORT`, prints `techo: listening on PORT`
//!   once bound, echoes every connection until its peer's end of stream, and runs until
//!   killed.
//! - `techo client HOST PORT CONNS ROUNDS`: `CONNS` concurrent connections, each sending
//!   `ROUNDS` messages of sizes from 1 to 4096 bytes ([`message`]) and checking each echo
//!   byte for byte, then half-closing and expecting end of stream. Prints
//!   `techo: CONNS connections, BYTES bytes echoed` and exits 0, or names the first
//!   failure and exits 1. The whole run is bounded by [`CLIENT_DEADLINE`].
//!
//! A bad command line gets the usage and status 2.

use std::process::ExitCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const USAGE: &str = "usage: techo server PORT\n       techo client HOST PORT CONNS ROUNDS";
/// The longest a client run may take, connections included.
const CLIENT_DEADLINE: Duration = Duration::from_secs(120);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("techo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["server", port] => match port.parse() {
            Ok(port) => runtime.block_on(server(port)),
            Err(_) => return usage(),
        },
        ["client", host, port, conns, rounds] => {
            match (port.parse(), conns.parse(), rounds.parse()) {
                (Ok(port), Ok(conns), Ok(rounds)) => {
                    runtime.block_on(client(host.to_string(), port, conns, rounds))
                }
                _ => return usage(),
            }
        }
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("techo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}

async fn server(port: u16) -> Result<(), String> {
    let listener = TcpListener::bind(("0.0.0.0", port))
        .await
        .map_err(|e| format!("bind 0.0.0.0:{port}: {e}"))?;
    println!("techo: listening on {port}");
    loop {
        let (stream, _) = listener
            .accept()
            .await
            .map_err(|e| format!("accept: {e}"))?;
        tokio::spawn(echo(stream));
    }
}

/// Echoes one connection until its peer's end of stream, then closes it.
async fn echo(mut stream: TcpStream) {
    let (mut rx, mut tx) = stream.split();
    let _ = tokio::io::copy(&mut rx, &mut tx).await;
    let _ = tx.shutdown().await;
}

/// The `round`-th message of connection `conn`: 1 to 4096 bytes, contents that differ
/// between connections and rounds, so a crossed or shifted echo shows.
fn message(conn: usize, round: usize) -> Vec<u8> {
    let len = 1 + (conn * 7919 + round * 104_729) % 4096;
    (0..len).map(|i| (i + conn * 31 + round) as u8).collect()
}

async fn client(host: String, port: u16, conns: usize, rounds: usize) -> Result<(), String> {
    let run = async {
        let mut tasks = Vec::new();
        for conn in 0..conns {
            let host = host.clone();
            tasks.push(tokio::spawn(async move {
                one_client(&host, port, conn, rounds).await
            }));
        }
        let mut bytes = 0;
        for task in tasks {
            bytes += task
                .await
                .map_err(|e| format!("a client task failed: {e}"))??;
        }
        Ok::<usize, String>(bytes)
    };
    let bytes = tokio::time::timeout(CLIENT_DEADLINE, run)
        .await
        .map_err(|_| format!("not done within {} s", CLIENT_DEADLINE.as_secs()))??;
    println!("techo: {conns} connections, {bytes} bytes echoed");
    Ok(())
}

/// One connection's rounds; returns the bytes echoed.
async fn one_client(host: &str, port: u16, conn: usize, rounds: usize) -> Result<usize, String> {
    let mut stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("connection {conn}: connect {host}:{port}: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("connection {conn}: TCP_NODELAY: {e}"))?;
    let mut bytes = 0;
    let mut back = vec![0; 4096];
    for round in 0..rounds {
        let sent = message(conn, round);
        stream
            .write_all(&sent)
            .await
            .map_err(|e| format!("connection {conn} round {round}: write: {e}"))?;
        let got = &mut back[..sent.len()];
        stream
            .read_exact(got)
            .await
            .map_err(|e| format!("connection {conn} round {round}: read: {e}"))?;
        if got != sent.as_slice() {
            return Err(format!("connection {conn} round {round}: the echo differs"));
        }
        bytes += sent.len();
    }
    stream
        .shutdown()
        .await
        .map_err(|e| format!("connection {conn}: shutdown: {e}"))?;
    let mut rest = Vec::new();
    let n = stream
        .read_to_end(&mut rest)
        .await
        .map_err(|e| format!("connection {conn}: reading to end of stream: {e}"))?;
    if n != 0 {
        return Err(format!("connection {conn}: {n} bytes after the last echo"));
    }
    Ok(bytes)
}
