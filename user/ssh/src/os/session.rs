//! One server session, run in its own process: the SSH connection on a socket and the
//! processes its channels asked for, multiplexed with `poll`. Commands run through
//! `/bin/sh -c`, a `shell` request runs `/bin/sh` reading the channel (no PTY).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::os::outbox::Outbox;
use crate::os::poll::{poll, Watch};
use crate::server::{ExitReport, ServerConfig, ServerConn, ServerEvent};

/// Largest read from the socket or a pipe at once.
const CHUNK: usize = 32 * 1024;
/// POSIX guarantees a write of up to PIPE_BUF bytes to a pipe that polled writable does not
/// block, so input goes to a process in pieces of at most this size.
const PIPE_BUF: usize = 4096;

/// How often a process whose output has ended is checked for its exit (std offers no
/// descriptor that becomes readable on child exit; output usually ends right at exit).
const EXIT_POLL_MS: i32 = 5;

/// A process started for a channel.
struct Proc {
    channel: u32,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
    /// Channel input not yet written to the process.
    input: Vec<u8>,
    /// The client sent EOF: close stdin once `input` is written.
    input_eof: bool,
}

impl Proc {
    fn spawn(channel: u32, command: Option<&str>) -> io::Result<Self> {
        let mut cmd = Command::new("/bin/sh");
        if let Some(c) = command {
            cmd.arg("-c").arg(c);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        Ok(Proc {
            channel,
            stdin: child.stdin.take(),
            stdout: child.stdout.take(),
            stderr: child.stderr.take(),
            child,
            input: Vec::new(),
            input_eof: false,
        })
    }

    /// Stops the process (client went away) and reaps it.
    fn kill(mut self) {
        // Killing an already exited child fails harmlessly; wait() then reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What to report about a session in its log line.
#[derive(Default)]
pub struct Summary {
    /// The authenticated user and method.
    pub user: Option<String>,
    /// Commands/shells run and how they ended.
    pub runs: Vec<String>,
}

fn report(status: ExitStatus) -> ExitReport {
    match (status.code(), status.signal()) {
        (Some(c), _) => ExitReport::Code(c as u32),
        (None, Some(s)) => ExitReport::Signal(s),
        (None, None) => ExitReport::Code(255),
    }
}

/// Runs the session until the client disconnects; a client that has not authenticated within
/// `login_grace` is dropped. `Ok` for a clean end, `Err` with the reason otherwise. Every
/// started process is reaped before this returns.
pub fn run(
    sock: TcpStream,
    cfg: ServerConfig,
    login_grace: Duration,
    summary: &mut Summary,
) -> Result<(), String> {
    // Many small packets in a row (data, then exit-status, EOF, CLOSE): without NODELAY,
    // Nagle's algorithm holds the last ones back until the client's delayed ACK.
    sock.set_nodelay(true)
        .map_err(|e| format!("setsockopt: {e}"))?;
    let mut conn = ServerConn::new(cfg).map_err(|e| e.to_string())?;
    let mut procs: Vec<Proc> = Vec::new();
    let deadline = Instant::now() + login_grace;
    let mut out = Outbox::default();
    let result = serve(&sock, &mut conn, &mut out, &mut procs, summary, deadline);
    if let Err(e) = &result {
        conn.disconnect(e);
        out.push(&conn.take_output());
        // Best effort: the peer may already be gone.
        let _ = out.flush_all(&sock);
    }
    for p in procs {
        p.kill();
    }
    match (result, &summary.user) {
        (Ok(()) | Err(crate::Error::PeerDisconnected { .. }), Some(_)) => Ok(()),
        (Ok(()) | Err(crate::Error::PeerDisconnected { .. }), None) => Err(format!(
            "client left without authenticating ({} key(s) or password(s) rejected)",
            conn.auth_failures()
        )),
        (Err(e), _) => Err(e.to_string()),
    }
}

/// An I/O failure as the session's error (the log line names the operation).
fn io_err(what: &'static str) -> impl Fn(io::Error) -> crate::Error {
    move |_| crate::Error::Io(what)
}

fn serve(
    mut sock: &TcpStream,
    conn: &mut ServerConn,
    out: &mut Outbox,
    procs: &mut Vec<Proc>,
    summary: &mut Summary,
    login_deadline: Instant,
) -> Result<(), crate::Error> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        out.push(&conn.take_output());
        // Wait on the socket and, per process, on whatever can make progress.
        let capacity: Vec<usize> = procs
            .iter()
            .map(|p| conn.send_capacity(p.channel))
            .collect();
        let mut watches = vec![Watch::read(sock.as_fd()), Watch::write(sock.as_fd())];
        if out.is_empty() {
            watches.pop();
        }
        let base = watches.len();
        let mut index = Vec::new();
        for (i, p) in procs.iter().enumerate() {
            if capacity[i] > 0 {
                for (k, out) in [
                    p.stdout.as_ref().map(|o| o.as_fd()),
                    p.stderr.as_ref().map(|e| e.as_fd()),
                ]
                .into_iter()
                .enumerate()
                {
                    if let Some(fd) = out {
                        watches.push(Watch::read(fd));
                        index.push((i, k));
                    }
                }
            }
            if let (Some(stdin), false) = (&p.stdin, p.input.is_empty()) {
                watches.push(Watch::write(stdin.as_fd()));
                index.push((i, 2));
            }
        }
        let waiting_exit = procs
            .iter()
            .any(|p| p.stdout.is_none() && p.stderr.is_none());
        let mut timeout = if waiting_exit { EXIT_POLL_MS } else { -1 };
        if summary.user.is_none() {
            let left = login_deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(crate::Error::Refused(
                    "no authentication within the login grace time",
                ));
            }
            timeout = i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(1);
        }
        poll(&mut watches, timeout).map_err(io_err("poll"))?;
        let (sock_ready, sock_writable) = (watches[0].ready(), base == 2 && watches[1].ready());
        let ready: Vec<(usize, usize)> = index
            .iter()
            .zip(&watches[base..])
            .filter(|(_, w)| w.ready())
            .map(|(ik, _)| *ik)
            .collect();
        drop(watches);
        if sock_writable {
            out.write_some(sock)
                .map_err(io_err("writing to the client"))?;
        }

        for (i, k) in ready {
            let p = &mut procs[i];
            if k == 2 {
                let n = p.input.len().min(PIPE_BUF);
                let written = match p.stdin.as_mut().map(|s| s.write(&p.input[..n])) {
                    Some(Ok(w)) => w,
                    // The process stopped reading: drop what it will never read.
                    _ => {
                        p.stdin = None;
                        p.input.len()
                    }
                };
                p.input.drain(..written);
                conn.consumed(p.channel, written)?;
                if p.input.is_empty() && p.input_eof {
                    p.stdin = None;
                }
                continue;
            }
            let want = capacity[i].min(CHUNK);
            let n = match k {
                0 => p.stdout.as_mut().map(|o| o.read(&mut buf[..want])),
                _ => p.stderr.as_mut().map(|e| e.read(&mut buf[..want])),
            };
            match n {
                Some(Ok(n)) if n > 0 => {
                    conn.send_data(p.channel, k == 1, &buf[..n])?;
                }
                _ if k == 0 => p.stdout = None,
                _ => p.stderr = None,
            }
        }

        // Processes whose output is finished: report their exit once they are gone.
        let mut i = 0;
        while i < procs.len() {
            let p = &mut procs[i];
            if p.stdout.is_none() && p.stderr.is_none() {
                if let Some(status) = p
                    .child
                    .try_wait()
                    .map_err(io_err("waiting for a command"))?
                {
                    let how = report(status);
                    summary.runs.push(how.to_string());
                    conn.exit(p.channel, how)?;
                    procs.swap_remove(i);
                    continue;
                }
            }
            i += 1;
        }

        if sock_ready {
            let n = sock
                .read(&mut buf)
                .map_err(io_err("reading from the client"))?;
            if n == 0 {
                return if procs.is_empty() {
                    Ok(())
                } else {
                    Err(crate::Error::Truncated(
                        "session: the client went away while a command ran",
                    ))
                };
            }
            conn.feed(&buf[..n])?;
            while let Some(ev) = conn.poll()? {
                on_event(conn, procs, summary, ev)?;
            }
        }
    }
}

fn on_event(
    conn: &mut ServerConn,
    procs: &mut Vec<Proc>,
    summary: &mut Summary,
    ev: ServerEvent,
) -> Result<(), crate::Error> {
    let find = |procs: &mut Vec<Proc>, ch| procs.iter().position(|p| p.channel == ch);
    match ev {
        ServerEvent::Authenticated { user, method } => {
            summary.user = Some(format!("{user} ({method})"));
        }
        ServerEvent::Exec { channel, command } => {
            summary.runs.push(format!("exec {command:?}"));
            start(conn, procs, channel, Some(&command))?;
        }
        ServerEvent::Shell { channel } => {
            summary.runs.push(String::from("shell"));
            start(conn, procs, channel, None)?;
        }
        ServerEvent::Data { channel, data } => match find(procs, channel) {
            Some(i) if procs[i].stdin.is_some() => procs[i].input.extend_from_slice(&data),
            _ => conn.consumed(channel, data.len())?,
        },
        ServerEvent::Eof { channel } => {
            if let Some(i) = find(procs, channel) {
                let p = &mut procs[i];
                p.input_eof = true;
                if p.input.is_empty() {
                    p.stdin = None;
                }
            }
        }
        ServerEvent::Closed { channel } => {
            if let Some(i) = find(procs, channel) {
                procs.swap_remove(i).kill();
            }
        }
    }
    Ok(())
}

fn start(
    conn: &mut ServerConn,
    procs: &mut Vec<Proc>,
    channel: u32,
    command: Option<&str>,
) -> Result<(), crate::Error> {
    match Proc::spawn(channel, command) {
        Ok(p) => procs.push(p),
        Err(e) => {
            let msg = format!("hsshd: cannot run /bin/sh: {e}\n");
            conn.send_data(channel, true, msg.as_bytes())?;
            conn.exit(channel, ExitReport::Code(127))?;
        }
    }
    Ok(())
}
