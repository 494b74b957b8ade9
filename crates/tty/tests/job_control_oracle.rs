//! Linux as the oracle for [`halyard_tty::job_control`]: every access (read, write with
//! and without TOSTOP, `TCSETS`, `TCFLSH`, `TIOCSPGRP`) by a process in the foreground
//! group, in a background group, in an orphaned background group and in another session,
//! with the signal at its default, ignored or blocked, is made on a real Linux
//! pseudo-terminal; what Linux did (the call returned, with which errno, or the process
//! was stopped, by which signal) must be what the crate's verdict says.
//!
//! Each case runs in a forked child (`host`), a child subreaper so that an orphaned
//! worker comes back to it, which opens a pty and forks the session leader (`leader`),
//! whose controlling terminal it becomes; the leader forks the worker, directly or (for
//! the orphaned group) through a process that exits at once. The children call only
//! async-signal-safe functions, never allocate, and report over a pipe; everything has a
//! deadline and is killed by pid at the end.

use halyard_tty::{default_termios, job_control, Access, Caller, Errno, Line, Verdict};
use linux_raw_sys::general::{SIGTTIN, SIGTTOU, TOSTOP};
use std::time::{Duration, Instant};

/// Where the worker stands.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Position {
    Foreground,
    Background,
    /// A background group with no parent in the session outside it (the parent is the
    /// subreaper, in another session).
    Orphaned,
    /// Its own new session: the terminal is not its controlling terminal.
    OtherSession,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Disposition {
    Default,
    Ignored,
    Blocked,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    access: Access,
    /// `Access::Change` through `TCSETS` (false: `TCFLSH`).
    tcsets: bool,
    tostop: bool,
    position: Position,
    disposition: Disposition,
}

/// What Linux did.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    /// The call returned: 0 or its errno.
    Returned(i32),
    /// The worker was stopped by this signal.
    Stopped(i32),
    /// Nothing within the deadline.
    Hung,
}

const REPORT_RETURNED: i32 = 0;
const REPORT_STOPPED: i32 = 1;
const REPORT_PID: i32 = 2;

fn write_report(fd: i32, kind: i32, value: i32) {
    let msg = [kind, value];
    // SAFETY: msg is 8 readable bytes; a failed write only loses the report (the case then
    // times out and fails).
    unsafe { libc::write(fd, msg.as_ptr().cast(), 8) };
}

/// The signal the access is about (SIGTTOU for every access but a read).
fn signal_of(case: &Case) -> i32 {
    if case.access == Access::Read {
        SIGTTIN as i32
    } else {
        SIGTTOU as i32
    }
}

/// In the worker: set the disposition, make the access, report the result.
///
/// # Safety
/// Only in a forked child; `slave` is the pty slave and `report` the pipe's write end.
unsafe fn worker(case: &Case, slave: i32, report: i32) -> ! {
    let sig = signal_of(case);
    match case.disposition {
        Disposition::Default => {}
        Disposition::Ignored => {
            libc::signal(sig, libc::SIG_IGN);
        }
        Disposition::Blocked => {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
    }
    write_report(report, REPORT_PID, libc::getpid());
    let ret = match case.access {
        Access::Read => {
            let mut b = 0u8;
            libc::read(slave, (&mut b as *mut u8).cast(), 1) as i32
        }
        Access::Write => libc::write(slave, b"x".as_ptr().cast(), 1) as i32,
        Access::Change if case.tcsets => {
            let mut t: libc::termios = std::mem::zeroed();
            libc::tcgetattr(slave, &mut t);
            libc::tcsetattr(slave, libc::TCSANOW, &t)
        }
        Access::Change => libc::tcflush(slave, libc::TCIFLUSH),
        Access::SetForeground => libc::tcsetpgrp(slave, libc::getpgrp()),
    };
    let errno = if ret < 0 {
        *libc::__errno_location()
    } else {
        0
    };
    write_report(report, REPORT_RETURNED, errno);
    libc::_exit(0)
}

/// In the session leader: fork the worker where the case puts it, and report its stop.
///
/// # Safety
/// Only in a forked child; as [`worker`].
unsafe fn leader(case: &Case, slave: i32, report: i32) -> ! {
    libc::setsid();
    libc::ioctl(slave, libc::TIOCSCTTY, 0);
    let mut t: libc::termios = std::mem::zeroed();
    libc::tcgetattr(slave, &mut t);
    if case.tostop {
        t.c_lflag |= libc::TOSTOP;
    } else {
        t.c_lflag &= !libc::TOSTOP;
    }
    libc::tcsetattr(slave, libc::TCSANOW, &t);
    let child = libc::fork();
    if child == 0 {
        match case.position {
            Position::Foreground => {}
            Position::Background => {
                libc::setpgid(0, 0);
            }
            Position::OtherSession => {
                libc::setsid();
            }
            Position::Orphaned => {
                libc::setpgid(0, 0);
                let middle = libc::getpid();
                if libc::fork() != 0 {
                    libc::_exit(0);
                }
                // Wait until the exit of the middle process made the subreaper the parent.
                while libc::getppid() == middle {
                    libc::usleep(1000);
                }
            }
        }
        worker(case, slave, report);
    }
    let mut status = 0;
    if libc::waitpid(child, &mut status, libc::WUNTRACED) == child && libc::WIFSTOPPED(status) {
        write_report(report, REPORT_STOPPED, libc::WSTOPSIG(status));
        libc::kill(child, libc::SIGKILL);
        libc::waitpid(child, &mut status, 0);
    }
    // The terminal stays the session's until the host kills the leader (a leader's exit
    // would take it from the session and hang up its foreground group).
    loop {
        libc::pause();
    }
}

/// In the subreaper: the pty, the leader, collecting the first report (or a stop of an
/// orphaned worker, which is its child by then); writes the outcome to `out`.
///
/// # Safety
/// Only in a forked child.
unsafe fn host(case: &Case, out: i32) -> ! {
    libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    let (mut master, mut slave) = (-1, -1);
    let ptr = std::ptr::null_mut();
    if libc::openpty(
        &mut master,
        &mut slave,
        ptr,
        std::ptr::null(),
        std::ptr::null(),
    ) != 0
    {
        libc::_exit(3);
    }
    libc::fcntl(slave, libc::F_SETFL, libc::O_NONBLOCK);
    let mut pipe = [0; 2];
    libc::pipe2(pipe.as_mut_ptr(), libc::O_NONBLOCK);
    let leader_pid = libc::fork();
    if leader_pid == 0 {
        libc::close(pipe[0]);
        leader(case, slave, pipe[1]);
    }
    libc::close(pipe[1]);
    let mut outcome = [2, 0]; // hung
    let mut worker_pid = 0;
    for _ in 0..2000 {
        let mut msg = [0i32; 2];
        if libc::read(pipe[0], msg.as_mut_ptr().cast(), 8) == 8 {
            match msg[0] {
                REPORT_PID => worker_pid = msg[1],
                kind => {
                    outcome = [kind, msg[1]];
                    break;
                }
            }
            continue;
        }
        let mut status = 0;
        let pid = libc::waitpid(-1, &mut status, libc::WNOHANG | libc::WUNTRACED);
        if pid > 0 && pid == worker_pid && libc::WIFSTOPPED(status) {
            outcome = [REPORT_STOPPED, libc::WSTOPSIG(status)];
            break;
        }
        libc::usleep(1000);
    }
    for pid in [worker_pid, leader_pid] {
        if pid > 0 {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    libc::write(out, outcome.as_ptr().cast(), 8);
    libc::_exit(0)
}

/// Runs `case` on Linux.
fn linux(case: &Case) -> Outcome {
    let mut pipe = [0; 2];
    // SAFETY: pipe writes two descriptors into the array.
    assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: the child calls only `host`, which is async-signal-safe and never returns.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: in the forked child, as `host` requires.
        unsafe { host(case, pipe[1]) };
    }
    assert!(pid > 0, "fork");
    let mut msg = [0i32; 2];
    // SAFETY: close our write end, read 8 bytes into msg, reap the host.
    let n = unsafe {
        libc::close(pipe[1]);
        let n = libc::read(pipe[0], msg.as_mut_ptr().cast(), 8);
        libc::close(pipe[0]);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the host child failed (status {status:#x}): this test needs openpty"
        );
        n
    };
    assert_eq!(n, 8, "no outcome from the host child");
    match msg {
        [REPORT_RETURNED, errno] => Outcome::Returned(errno),
        [REPORT_STOPPED, sig] => Outcome::Stopped(sig),
        _ => Outcome::Hung,
    }
}

/// The crate's verdict for `case`, as the outcome Linux would show.
fn expected(case: &Case) -> Outcome {
    let mut termios = default_termios(Line::Pty);
    if case.tostop {
        termios.c_lflag |= TOSTOP;
    }
    let caller = Caller {
        controlling: case.position != Position::OtherSession,
        pgrp: 100,
        foreground: if case.position == Position::Foreground {
            100
        } else {
            50
        },
        blocks_or_ignores: case.disposition != Disposition::Default,
        orphaned: matches!(case.position, Position::Orphaned | Position::OtherSession),
    };
    match job_control(case.access, &termios, &caller) {
        // A non-blocking read of an empty terminal that may read: EAGAIN.
        Verdict::Proceed if case.access == Access::Read => Outcome::Returned(libc::EAGAIN),
        // TIOCSPGRP's own check after job control (the kernel's `check_foreground_group`):
        // only for the controlling terminal.
        Verdict::Proceed if case.access == Access::SetForeground && !caller.controlling => {
            Outcome::Returned(libc::ENOTTY)
        }
        Verdict::Proceed => Outcome::Returned(0),
        Verdict::Signal(sig) => Outcome::Stopped(sig as i32),
        Verdict::Fail(Errno(e)) => Outcome::Returned(e as i32),
    }
}

fn cases() -> Vec<Case> {
    let accesses = [
        (Access::Read, false, false),
        (Access::Write, false, false),
        (Access::Write, false, true),
        (Access::Change, true, false),
        (Access::Change, false, false),
        (Access::SetForeground, false, false),
    ];
    let mut all = Vec::new();
    for (access, tcsets, tostop) in accesses {
        for position in [
            Position::Foreground,
            Position::Background,
            Position::Orphaned,
            Position::OtherSession,
        ] {
            for disposition in [
                Disposition::Default,
                Disposition::Ignored,
                Disposition::Blocked,
            ] {
                all.push(Case {
                    access,
                    tcsets,
                    tostop,
                    position,
                    disposition,
                });
            }
        }
    }
    all
}

#[test]
fn job_control_matches_linux() {
    let started = Instant::now();
    let cases = cases();
    let mut outcomes = std::collections::BTreeSet::new();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let (linux, ours) = (linux(case), expected(case));
            outcomes.insert(format!("{linux:?}"));
            (linux != ours).then(|| format!("{case:?}: Linux {linux:?}, crate {ours:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Linux:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // The cases reach every kind of answer: proceed, both stops, EIO, ENOTTY.
    for want in [
        Outcome::Returned(0),
        Outcome::Returned(libc::EAGAIN),
        Outcome::Stopped(SIGTTIN as i32),
        Outcome::Stopped(SIGTTOU as i32),
        Outcome::Returned(libc::EIO),
        Outcome::Returned(libc::ENOTTY),
    ] {
        assert!(
            outcomes.contains(&format!("{want:?}")),
            "no case gave {want:?}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(60));
}
