//! One server session, run in its own process: the SSH connection on a socket and the
//! processes its channels asked for, multiplexed with `poll`. Commands run through the
//! user's shell (`SHELL -c COMMAND`), a `shell` request runs it as a login shell (`-sh`),
//! either on pipes or, after `pty-req`, on a pseudo-terminal ([`pty`]) that the process
//! takes as its controlling terminal in a session of its own.
//!
//! With a terminal, output ends when the master reads `EIO` (every slave descriptor closed);
//! a process that exits while something it started still holds the terminal is reported
//! [`PTY_LINGER`] after its exit, as OpenSSH closes such a session when the shell exits.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::os::login::Login;
use crate::os::outbox::Outbox;
use crate::os::poll::{poll, Watch};
use crate::os::pty::{self, Pty};
use crate::server::{ExitReport, ServerConfig, ServerConn, ServerEvent, Setup};

/// Largest read from the socket or a pipe at once.
const CHUNK: usize = 32 * 1024;
/// POSIX guarantees a write of up to PIPE_BUF bytes to a pipe that polled writable does not
/// block, so input goes to a process in pieces of at most this size.
const PIPE_BUF: usize = 4096;

/// How often a process whose output has ended is checked for its exit (std offers no
/// descriptor that becomes readable on child exit; output usually ends right at exit).
const EXIT_POLL_MS: i32 = 5;
/// How often a process on a terminal is checked for its exit while its output goes on.
const PTY_EXIT_POLL_MS: i32 = 100;
/// How long after a terminal process's exit its output may still end by itself (the
/// kernel passes the last bytes to the master asynchronously, before `EIO`).
const PTY_LINGER: Duration = Duration::from_millis(200);

/// A process started for a channel. With a terminal, `stdin`, `stdout` and `pty` are
/// descriptors of the same master and `stderr` is `None`.
struct Proc {
    channel: u32,
    child: Child,
    stdin: Option<File>,
    stdout: Option<File>,
    stderr: Option<File>,
    /// The terminal's master, for window changes.
    pty: Option<File>,
    /// Channel input not yet written to the process.
    input: Vec<u8>,
    /// The client sent EOF: close stdin once `input` is written.
    input_eof: bool,
    /// A terminal process that exited while its output was still open, and when.
    exited: Option<(ExitStatus, Instant)>,
}

impl Proc {
    fn spawn(
        channel: u32,
        command: Option<&str>,
        setup: &Setup,
        login: &Login,
    ) -> Result<Self, String> {
        let run_err = |e: io::Error| format!("cannot run {}: {e}", login.shell);
        let mut cmd = Command::new(&login.shell);
        match command {
            Some(c) => cmd.arg("-c").arg(c),
            None => cmd.arg0(login.login_argv0()),
        };
        cmd.env_clear()
            .envs(login.env())
            .current_dir(login.workdir());
        let Some(req) = &setup.pty else {
            cmd.envs(setup.env.iter().map(|(k, v)| (k, v)));
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(run_err)?;
            let file = |fd: Option<OwnedFd>| fd.map(File::from);
            return Ok(Proc {
                channel,
                stdin: file(child.stdin.take().map(OwnedFd::from)),
                stdout: file(child.stdout.take().map(OwnedFd::from)),
                stderr: file(child.stderr.take().map(OwnedFd::from)),
                pty: None,
                child,
                input: Vec::new(),
                input_eof: false,
                exited: None,
            });
        };
        let Pty {
            master,
            slave,
            name,
        } = Pty::open(&req.modes, req.size)
            .map_err(|e| format!("cannot allocate a pseudo-terminal: {e}"))?;
        cmd.env("TERM", &req.term)
            .env("SSH_TTY", &name)
            .envs(setup.env.iter().map(|(k, v)| (k, v)))
            .stdin(slave.try_clone().map_err(run_err)?)
            .stdout(slave.try_clone().map_err(run_err)?)
            .stderr(slave);
        // SAFETY: the closure runs in the child between fork and exec, after fds 0-2 are the
        // slave; it calls only setsid and ioctl, which are async-signal-safe.
        unsafe { cmd.pre_exec(pty::take_as_controlling_terminal) };
        let (input, tty) = (master.try_clone(), master.try_clone());
        let (input, tty) = (input.map_err(run_err)?, tty.map_err(run_err)?);
        let child = cmd.spawn().map_err(run_err)?;
        // The command holds our copies of the slave: without them the master reads EIO
        // once the process and its children have closed theirs.
        drop(cmd);
        Ok(Proc {
            channel,
            stdin: Some(input),
            pty: Some(tty),
            stdout: Some(master),
            stderr: None,
            child,
            input: Vec::new(),
            input_eof: false,
            exited: None,
        })
    }

    /// Stops the process (client went away) and reaps it; closing a terminal's master hangs
    /// it up, which sends SIGHUP to what else runs on it.
    fn kill(mut self) {
        // Killing an already exited child fails harmlessly; wait() then reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn output_done(&self) -> bool {
        self.stdout.is_none() && self.stderr.is_none()
    }

    /// The exit status once the process is gone and its output has ended (or, on a
    /// terminal, [`PTY_LINGER`] after its exit).
    fn finished(&mut self, now: Instant) -> io::Result<Option<ExitStatus>> {
        if let Some((status, at)) = self.exited {
            if self.output_done() || now.duration_since(at) >= PTY_LINGER {
                return Ok(Some(status));
            }
            return Ok(None);
        }
        if !self.output_done() && self.pty.is_none() {
            return Ok(None);
        }
        let status = self.child.try_wait()?;
        match status {
            Some(s) if !self.output_done() => {
                self.exited = Some((s, now));
                Ok(None)
            }
            other => Ok(other),
        }
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
    let login = Login::current();
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
        let mut timeout = if procs.iter().any(|p| p.output_done() || p.exited.is_some()) {
            EXIT_POLL_MS
        } else if procs.iter().any(|p| p.pty.is_some()) {
            PTY_EXIT_POLL_MS
        } else {
            -1
        };
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
                    // A terminal's input queue is full (its master is non-blocking).
                    Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => 0,
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
                Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                // End of file, or EIO from a terminal whose slave side is all closed.
                _ if k == 0 => p.stdout = None,
                _ => p.stderr = None,
            }
        }

        // Processes that are finished: report their exit.
        let now = Instant::now();
        let mut i = 0;
        while i < procs.len() {
            let p = &mut procs[i];
            if let Some(status) = p.finished(now).map_err(io_err("waiting for a command"))? {
                let how = report(status);
                summary.runs.push(how.to_string());
                conn.exit(p.channel, how)?;
                procs.swap_remove(i);
                continue;
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
                on_event(conn, procs, summary, &login, ev)?;
            }
        }
    }
}

fn on_event(
    conn: &mut ServerConn,
    procs: &mut Vec<Proc>,
    summary: &mut Summary,
    login: &Login,
    ev: ServerEvent,
) -> Result<(), crate::Error> {
    let find = |procs: &mut Vec<Proc>, ch| procs.iter().position(|p| p.channel == ch);
    match ev {
        ServerEvent::Authenticated { user, method } => {
            summary.user = Some(format!("{user} ({method})"));
        }
        ServerEvent::Run {
            channel,
            command,
            setup,
        } => {
            let what = match &command {
                Some(c) => format!("exec {c:?}"),
                None => String::from("shell"),
            };
            let pty = if setup.pty.is_some() { " pty" } else { "" };
            summary.runs.push(format!("{what}{pty}"));
            start(
                conn,
                procs,
                summary,
                channel,
                command.as_deref(),
                &setup,
                login,
            )?;
        }
        ServerEvent::WindowChange { channel, size } => {
            if let Some(tty) = find(procs, channel).and_then(|i| procs[i].pty.as_ref()) {
                // A failure leaves the old size; the session goes on.
                let _ = pty::set_window_size(tty, size);
            }
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

/// Starts the process of `channel`; if it cannot start, tells the client why (as stderr),
/// exits the channel with 127 as a shell would, and logs the reason.
fn start(
    conn: &mut ServerConn,
    procs: &mut Vec<Proc>,
    summary: &mut Summary,
    channel: u32,
    command: Option<&str>,
    setup: &Setup,
    login: &Login,
) -> Result<(), crate::Error> {
    match Proc::spawn(channel, command, setup, login) {
        Ok(p) => procs.push(p),
        Err(e) => {
            conn.send_data(channel, true, format!("hsshd: {e}\n").as_bytes())?;
            conn.exit(channel, ExitReport::Code(127))?;
            summary.runs.push(format!("failed ({e})"));
        }
    }
    Ok(())
}
