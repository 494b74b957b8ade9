//! `hssh`'s connection loop: the socket and standard input multiplexed with `poll`, the
//! known-hosts check, output to stdout/stderr, and the remote exit status as the result.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use crate::client::{ClientConfig, ClientConn, ClientEvent};
use crate::os::cli::ClientArgs;
use crate::os::files;
use crate::os::outbox::Outbox;
use crate::os::poll::{poll, Watch};

/// Exit status for connection, authentication or protocol failures (as OpenSSH's ssh).
pub const FAILURE_EXIT: i32 = 255;
const CHUNK: usize = 32 * 1024;

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

/// Connects, runs the command or shell, and returns the exit status to exit with.
pub fn run(args: &ClientArgs) -> Result<i32, String> {
    let identity = args
        .identity
        .clone()
        .unwrap_or_else(|| home().join(".ssh/id_ed25519"));
    let known_hosts = args
        .known_hosts
        .clone()
        .unwrap_or_else(|| home().join(".ssh/known_hosts"));
    let user = args
        .user
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| String::from("root"));
    let key = files::read_key(&identity)?;
    let sock = TcpStream::connect((args.host.as_str(), args.port))
        .map_err(|e| format!("connect to {}:{}: {e}", args.host, args.port))?;
    // Small request packets in a row; do not let Nagle's algorithm delay them.
    sock.set_nodelay(true)
        .map_err(|e| format!("setsockopt: {e}"))?;
    let mut conn = ClientConn::new(ClientConfig {
        user,
        key,
        command: args.command.clone(),
    })
    .map_err(|e| e.to_string())?;
    let mut out = Outbox::default();
    let result = drive(&sock, &mut conn, &mut out, args, &known_hosts);
    if result.is_ok() {
        conn.disconnect();
        out.push(&conn.take_output());
        // Best effort: the server may have closed already.
        let _ = out.flush_all(&sock);
    }
    result
}

fn drive(
    mut sock: &TcpStream,
    conn: &mut ClientConn,
    out: &mut Outbox,
    args: &ClientArgs,
    kh: &Path,
) -> Result<i32, String> {
    let (mut stdout, mut stderr) = (io::stdout().lock(), io::stderr().lock());
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let mut pending: Vec<u8> = Vec::new();
    let (mut stdin_open, mut started, mut status) = (true, false, None);
    let mut buf = vec![0u8; CHUNK];
    let werr = |e: io::Error| format!("connection: {e}");
    loop {
        // Forward pending input as the window allows; read more only once it is all sent.
        if started && !pending.is_empty() {
            let n = conn.send_data(&pending).map_err(|e| e.to_string())?;
            pending.drain(..n);
        }
        out.push(&conn.take_output());
        let want_stdin = started && stdin_open && pending.is_empty();
        let in_fd = io::stdin();
        let mut watches = vec![Watch::read(sock.as_fd())];
        let write_at = (!out.is_empty()).then(|| {
            watches.push(Watch::write(sock.as_fd()));
            watches.len() - 1
        });
        let stdin_at = want_stdin.then(|| {
            watches.push(Watch::read(in_fd.as_fd()));
            watches.len() - 1
        });
        poll(&mut watches, -1).map_err(|e| format!("poll: {e}"))?;
        let is = |at: Option<usize>| at.is_some_and(|i| watches[i].ready());
        let (sock_ready, writable, stdin_ready) = (watches[0].ready(), is(write_at), is(stdin_at));
        drop(watches);
        if writable {
            out.write_some(sock).map_err(werr)?;
        }
        if stdin_ready {
            match stdin.read(&mut buf) {
                Ok(n) if n > 0 => pending.extend_from_slice(&buf[..n]),
                _ => {
                    stdin_open = false;
                    conn.send_eof().map_err(|e| e.to_string())?;
                }
            }
        }
        if !sock_ready {
            continue;
        }
        let n = sock.read(&mut buf).map_err(werr)?;
        if n == 0 {
            return Err(String::from("connection closed by the server"));
        }
        conn.feed(&buf[..n]).map_err(|e| e.to_string())?;
        while let Some(ev) = conn.poll().map_err(|e| e.to_string())? {
            match ev {
                ClientEvent::HostKey(k) => {
                    files::check_known_host(kh, &args.host, args.port, &k)?;
                    conn.accept_host_key().map_err(|e| e.to_string())?;
                }
                ClientEvent::Started => started = true,
                ClientEvent::Data {
                    stderr: to_err,
                    data,
                } => {
                    let w: &mut dyn Write = if to_err { &mut stderr } else { &mut stdout };
                    // A closed stdout (e.g. `| head`) must not stop the session.
                    let _ = w.write_all(&data).and_then(|()| w.flush());
                    conn.consumed(data.len()).map_err(|e| e.to_string())?;
                }
                ClientEvent::ExitStatus(s) => status = Some(s as i32),
                ClientEvent::ExitSignal(sig) => {
                    eprintln!("hssh: remote command killed by signal {sig}");
                    status = Some(FAILURE_EXIT);
                }
                ClientEvent::Closed => {
                    out.push(&conn.take_output());
                    out.flush_all(sock).map_err(werr)?;
                    return Ok(status.unwrap_or(FAILURE_EXIT));
                }
            }
        }
    }
}
