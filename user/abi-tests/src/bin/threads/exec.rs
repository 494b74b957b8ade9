//! `execve` from a thread other than the leader while the other threads are busy: the
//! leader waits in a futex (a `join`), one thread in `read` on an empty pipe, one in
//! `nanosleep`, one spins in user mode. Linux's `de_thread` ends them all before the new
//! program starts, and the calling thread takes over the process id. The new program
//! (this binary again, with [`PROBE`]) reports through its exit status what it saw: its
//! thread id, its process id and `Threads:` in `/proc/self/status`.
use abi_tests::process::{spawn, wait};
use abi_tests::Transcript;
use core::ffi::c_int;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// The argument that makes the program the probe exec'd by [`from_thread`].
pub const PROBE: &str = "--after-exec";

/// Exit-status bits of the probe.
const TID_IS_PID: c_int = 1;
const ONE_THREAD: c_int = 2;
const SAME_PID: c_int = 4;
/// What the child exits with if `execve` returned.
const EXEC_FAILED: c_int = 100;

/// The exec'd program: `args[2]` is the pid its parent saw.
pub fn probe(args: &[String]) -> ! {
    // SAFETY: getpid and gettid take no argument and cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::syscall(libc::SYS_gettid)) };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let threads = status.lines().find_map(|l| l.strip_prefix("Threads:"));
    let mut code = 0;
    if libc::c_long::from(pid) == tid {
        code |= TID_IS_PID;
    }
    if threads.map(str::trim) == Some("1") {
        code |= ONE_THREAD;
    }
    if args.get(2).and_then(|p| p.parse().ok()) == Some(pid) {
        code |= SAME_PID;
    }
    std::process::exit(code)
}

/// The child: starts the busy threads, then execs from a fourth one.
fn child(me: &CString) -> c_int {
    // SAFETY: getpid takes no argument and cannot fail.
    let pid = CString::new(unsafe { libc::getpid() }.to_string()).unwrap_or_default();
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return EXEC_FAILED + 1;
    }
    let reader = fds[0];
    thread::spawn(move || {
        let mut byte = 0u8;
        // SAFETY: reads at most one byte into `byte`; nobody writes to the pipe.
        unsafe { libc::read(reader, (&raw mut byte).cast(), 1) };
    });
    thread::spawn(|| thread::sleep(Duration::from_secs(60)));
    static SPIN: AtomicBool = AtomicBool::new(true);
    thread::spawn(|| {
        while SPIN.load(Ordering::Relaxed) {
            core::hint::spin_loop();
        }
    });
    let me = me.clone();
    let execer = thread::spawn(move || {
        // Let the others reach their waits.
        thread::sleep(Duration::from_millis(100));
        let flag = CString::new(PROBE).unwrap_or_default();
        let argv = [me.as_ptr(), flag.as_ptr(), pid.as_ptr(), core::ptr::null()];
        let envp = [core::ptr::null()];
        // SAFETY: NULL-terminated arrays of live C strings.
        unsafe { libc::execve(me.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    });
    let _ = execer.join();
    EXEC_FAILED
}

/// `execve` from a thread of a process with four other threads.
pub fn from_thread(t: &Transcript, me: &str) {
    let Ok(me) = CString::new(me) else {
        return t.fail("exec_from_thread", "a program path", me);
    };
    let status = spawn(|| child(&me)).and_then(|pid| wait(pid, 0));
    let code = match status {
        Ok((_, s)) if libc::WIFEXITED(s.0) => libc::WEXITSTATUS(s.0),
        other => return t.fail("exec_from_thread", "an exit", format_args!("{other:?}")),
    };
    t.is("exec_from_thread_runs", code < EXEC_FAILED);
    t.is("exec_from_thread_tid_is_pid", code & TID_IS_PID != 0);
    t.is("exec_from_thread_alone", code & ONE_THREAD != 0);
    t.is("exec_from_thread_keeps_pid", code & SAME_PID != 0);
}
