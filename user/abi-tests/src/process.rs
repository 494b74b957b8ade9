//! Child processes: fork one to run a closure, wait for it, and print how it ended.
//!
//! A child never prints (the transcript is the parent's); it says what it saw through its
//! exit status, and it leaves with `_exit`, so nothing the parent buffered or registered
//! runs twice.

use crate::errno::{cvt, Errno};
use crate::signal::Signal;
use core::ffi::c_int;
use core::fmt;

/// A `wait4` status, displayed as `exited(N)`, `killed(SIGX)`, `killed(SIGX)+core`,
/// `stopped(SIGX)` or `continued`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WaitStatus(pub c_int);

impl fmt::Display for WaitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if libc::WIFEXITED(s) {
            write!(f, "exited({})", libc::WEXITSTATUS(s))
        } else if libc::WIFSIGNALED(s) {
            let core = if libc::WCOREDUMP(s) { "+core" } else { "" };
            write!(f, "killed({}){core}", Signal(libc::WTERMSIG(s)))
        } else if libc::WIFSTOPPED(s) {
            write!(f, "stopped({})", Signal(libc::WSTOPSIG(s)))
        } else if libc::WIFCONTINUED(s) {
            write!(f, "continued")
        } else {
            write!(f, "status {s:#x}")
        }
    }
}

/// Forks a child that runs `child` and exits with what it returns; returns its pid.
pub fn spawn(child: impl FnOnce() -> c_int) -> Result<libc::pid_t, Errno> {
    // SAFETY: the programs fork only while single-threaded (the `threads` program forks
    // before starting any thread), so the child may run arbitrary code.
    let pid = cvt(unsafe { libc::fork() })?;
    if pid == 0 {
        let code = child();
        // SAFETY: ends the child at once, without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    Ok(pid)
}

/// `wait4(pid, options)`: the pid reported and the status.
pub fn wait(pid: libc::pid_t, options: c_int) -> Result<(libc::pid_t, WaitStatus), Errno> {
    let mut status = 0;
    // SAFETY: `status` is a valid int to write; no rusage is asked for.
    let got = cvt(unsafe { libc::wait4(pid, &mut status, options, core::ptr::null_mut()) })?;
    Ok((got, WaitStatus(status)))
}

/// Forks a child running `child` and waits for it to end.
pub fn run(child: impl FnOnce() -> c_int) -> Result<WaitStatus, Errno> {
    let pid = spawn(child)?;
    wait(pid, 0).map(|(_, status)| status)
}

/// Turns off core dumps in this process (`RLIMIT_CORE` 0 and not dumpable), so a signal
/// death never depends on the host's `core_pattern`.
pub fn no_core_dumps() {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads a valid rlimit; prctl(PR_SET_DUMPABLE, 0) takes no pointer.
    // A failure only means the death may dump core, which the transcript would show.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &zero);
        libc::prctl(libc::PR_SET_DUMPABLE, 0);
    }
}

/// Forks a child that runs `child` and sends back the text it returns through a pipe
/// (a child never prints: the parent does); returns that text once the child exited 0.
/// A child that ended otherwise gives its wait status in place of the text.
pub fn report(child: impl FnOnce() -> String) -> Result<String, Errno> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    let [r, w] = fds;
    let pid = spawn(|| {
        // SAFETY: the read end is this child's copy, unused here.
        unsafe { libc::close(r) };
        let text = child();
        // SAFETY: `text` is a live buffer of its length; a short write shows as a
        // different text in the parent.
        let n = unsafe { libc::write(w, text.as_ptr().cast(), text.len()) };
        c_int::from(n != text.len() as isize)
    });
    // SAFETY: the parent's copy of the write end is not used: closing it lets the read
    // below see end of file when the child ends.
    unsafe { libc::close(w) };
    let pid = pid.inspect_err(|_| {
        // SAFETY: no child: the read end is not used either.
        unsafe { libc::close(r) };
    })?;
    let mut text = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        // SAFETY: `buf` is a live, writable buffer of its length.
        let n = unsafe { libc::read(r, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        text.extend_from_slice(&buf[..n as usize]);
    }
    // SAFETY: the read end is no longer used.
    unsafe { libc::close(r) };
    let (_, status) = wait(pid, 0)?;
    if status.0 != 0 {
        return Ok(status.to_string());
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Drops every user and group id of the calling process to `id` (supplementary groups
/// cleared first, while still privileged); `false` if a call failed.
pub fn drop_to(id: libc::uid_t) -> bool {
    // SAFETY: setgroups reads no memory for an empty list; the id calls take integers.
    unsafe {
        libc::setgroups(0, core::ptr::null()) == 0 && libc::setgid(id) == 0 && libc::setuid(id) == 0
    }
}
