//! The host side: forked children, agents that run commands, raw syscalls.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};

/// `-errno` of the last failed call.
pub fn neg_errno() -> i64 {
    -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

/// A syscall's return value, or `-errno` when it failed.
pub fn ret(r: i64) -> i64 {
    if r < 0 {
        neg_errno()
    } else {
        r
    }
}

/// A pipe with both ends close-on-exec.
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2");
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Runs `body` in a forked child (its own process, so its children, waits and id
/// changes touch nothing of the test process) and returns the lines it produced.
pub fn in_child(body: impl FnOnce() -> Vec<String>) -> Vec<String> {
    let (rx, tx) = pipe();
    // SAFETY: the child only runs `body` (which uses fork-safe glibc calls and the
    // fork-safe allocator) and leaves with `_exit`, never returning into the harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        drop(rx);
        let out = body().join("\n");
        let mut tx = std::fs::File::from(tx);
        let ok = tx.write_all(out.as_bytes()).is_ok();
        // SAFETY: ends the forked child without running the harness's exit handlers.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    drop(tx);
    let mut text = String::new();
    std::fs::File::from(rx)
        .read_to_string(&mut text)
        .expect("read");
    let mut status = 0;
    // SAFETY: waits for the child forked above; `status` is a valid int.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed: {status:#x}"
    );
    text.lines().map(String::from).collect()
}

/// A forked child that runs commands sent over a pipe and answers each.
pub struct Agent {
    pub pid: i32,
    cmd: std::fs::File,
    res: std::fs::File,
}

/// What an agent can be told to do.
#[derive(Clone, Copy, Debug)]
pub enum Cmd {
    Setsid,
    Setpgid(i32, i32),
    Exit(i32),
    /// `raise(SIGSTOP)`; answers after it is continued.
    Stop,
    /// `execve("/bin/sleep", ..)`: the answer is end of file, once exec closed the pipe.
    Exec,
}

impl Agent {
    pub fn spawn() -> Agent {
        let (cmd_rx, cmd_tx) = pipe();
        let (res_rx, res_tx) = pipe();
        // SAFETY: the child runs `serve`, which never returns.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            drop((cmd_tx, res_rx));
            serve(std::fs::File::from(cmd_rx), std::fs::File::from(res_tx));
        }
        Agent {
            pid,
            cmd: std::fs::File::from(cmd_tx),
            res: std::fs::File::from(res_rx),
        }
    }

    /// Sends a command; the answer, if one comes (`None` for exit and exec).
    pub fn send(&mut self, cmd: Cmd) -> Option<i64> {
        let (op, a, b) = match cmd {
            Cmd::Setsid => (1, 0, 0),
            Cmd::Setpgid(a, b) => (2, a, b),
            Cmd::Exit(code) => (3, code, 0),
            Cmd::Stop => (4, 0, 0),
            Cmd::Exec => (5, 0, 0),
        };
        let mut buf = [0u8; 12];
        buf[..4].copy_from_slice(&i32::to_ne_bytes(op));
        buf[4..8].copy_from_slice(&i32::to_ne_bytes(a));
        buf[8..].copy_from_slice(&i32::to_ne_bytes(b));
        self.cmd.write_all(&buf).expect("command");
        if matches!(cmd, Cmd::Exit(_) | Cmd::Stop) {
            return None;
        }
        let mut answer = [0u8; 8];
        match self.res.read_exact(&mut answer) {
            Ok(()) => Some(i64::from_ne_bytes(answer)),
            Err(_) => None,
        }
    }
}

fn serve(mut cmd: std::fs::File, mut res: std::fs::File) -> ! {
    let mut buf = [0u8; 12];
    while cmd.read_exact(&mut buf).is_ok() {
        let word = |i: usize| i32::from_ne_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        let answer = match word(0) {
            // SAFETY: setsid has no memory arguments.
            1 => ret(unsafe { libc::setsid() }.into()),
            // SAFETY: setpgid has no memory arguments.
            2 => ret(unsafe { libc::setpgid(word(4), word(8)) }.into()),
            // SAFETY: ends this forked agent.
            3 => unsafe { libc::_exit(word(4)) },
            4 => {
                // SAFETY: stops this process until SIGCONT; no memory arguments.
                unsafe { libc::raise(libc::SIGSTOP) };
                continue;
            }
            _ => {
                let path = c"/bin/sleep".as_ptr();
                let argv = [path, c"1000".as_ptr(), std::ptr::null()];
                // SAFETY: NUL-terminated strings and a NULL-terminated argument array.
                unsafe { libc::execv(path, argv.as_ptr()) };
                neg_errno()
            }
        };
        if res.write_all(&answer.to_ne_bytes()).is_err() {
            break;
        }
    }
    // SAFETY: ends the agent without running the harness's exit handlers.
    unsafe { libc::_exit(0) }
}
