//! The measured operations. Each takes a count and performs that many operations, or
//! returns why it could not.
//!
//! Raw system calls where glibc could answer from user space (`getpid` is a real call in
//! glibc 2.25 and later, but the raw call states the intent) and for the futex, which has no
//! glibc wrapper.

use std::ffi::CString;
use std::io::Error;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

/// One operation: its name in the output, its full-size batch count, and the loop.
pub struct Bench {
    pub name: &'static str,
    pub count: u64,
    pub run: Box<dyn FnMut(u64) -> Result<(), String>>,
}

/// Every operation, in output order. `busybox` is the program whose `true` applet
/// `fork_exec_wait` executes.
pub fn all(busybox: &str) -> Vec<Bench> {
    let busybox = busybox.to_string();
    vec![
        bench("getpid", 100_000, getpid),
        bench("fork_exit_wait", 200, fork_exit_wait),
        bench("fork_exec_wait", 100, move |n| fork_exec_wait(&busybox, n)),
        bench("pipe_pingpong", 5_000, pipe_pingpong),
        bench("futex_pingpong", 5_000, futex_pingpong),
        bench("mmap_touch_1mib", 200, mmap_touch_munmap),
    ]
}

fn bench(
    name: &'static str,
    count: u64,
    run: impl FnMut(u64) -> Result<(), String> + 'static,
) -> Bench {
    Bench {
        name,
        count,
        run: Box::new(run),
    }
}

fn os_error(what: &str) -> String {
    format!("{what}: {}", Error::last_os_error())
}

/// `getpid` round trips: the cost of entering and leaving the kernel.
fn getpid(n: u64) -> Result<(), String> {
    for _ in 0..n {
        // SAFETY: getpid takes no arguments and touches no memory.
        let pid = unsafe { libc::syscall(libc::SYS_getpid) };
        if pid <= 0 {
            return Err(os_error("getpid"));
        }
    }
    Ok(())
}

/// Waits for `pid` and requires it to have exited with status 0.
fn reap(pid: libc::pid_t) -> Result<(), String> {
    let mut status = 0;
    // SAFETY: `status` is a live local the kernel writes one int into.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err(os_error("waitpid"));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("child ended with wait status {status:#x}"));
    }
    Ok(())
}

/// Forks; the child runs `child` and exits with the status it returns; the parent gets
/// the child's pid.
fn spawn(child: impl FnOnce() -> i32) -> Result<libc::pid_t, String> {
    // SAFETY: the program is single-threaded whenever it forks (the futex benchmark's
    // thread has been joined), and the child only makes async-signal-safe calls.
    match unsafe { libc::fork() } {
        -1 => Err(os_error("fork")),
        0 => exit_child(child()),
        pid => Ok(pid),
    }
}

fn exit_child(code: i32) -> ! {
    // SAFETY: _exit ends the process at once without running the parent's atexit handlers.
    unsafe { libc::_exit(code) }
}

/// `fork`, the child's `_exit(0)`, the parent's `waitpid`.
fn fork_exit_wait(n: u64) -> Result<(), String> {
    for _ in 0..n {
        reap(spawn(|| 0)?)?;
    }
    Ok(())
}

/// `fork`, the child's `execve` of busybox `true`, the parent's `waitpid`.
fn fork_exec_wait(busybox: &str, n: u64) -> Result<(), String> {
    let path = CString::new(busybox).map_err(|_| "busybox path has a NUL".to_string())?;
    let arg0 = CString::new("true").map_err(|_| "unreachable NUL".to_string())?;
    let argv = [arg0.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null()];
    for _ in 0..n {
        let pid = spawn(|| {
            // SAFETY: path, argv and envp are NUL-terminated and outlive the call; on
            // success it does not return.
            unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
            127
        })?;
        reap(pid).map_err(|e| format!("{busybox} true: {e}"))?;
    }
    Ok(())
}

/// A pipe's two ends.
struct Pipe {
    read: libc::c_int,
    write: libc::c_int,
}

impl Pipe {
    fn new() -> Result<Pipe, String> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(os_error("pipe2"));
        }
        Ok(Pipe {
            read: fds[0],
            write: fds[1],
        })
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // SAFETY: both descriptors belong to this Pipe; closing -1 is a harmless EBADF.
        unsafe {
            libc::close(self.read);
            libc::close(self.write);
        }
    }
}

/// Moves one byte: write it to `to`, then read one from `from`. False at EOF or on error.
fn exchange(to: libc::c_int, from: libc::c_int) -> bool {
    let mut byte = [7u8];
    // SAFETY: `byte` is a live one-byte buffer for both calls.
    unsafe {
        libc::write(to, byte.as_ptr().cast(), 1) == 1
            && libc::read(from, byte.as_mut_ptr().cast(), 1) == 1
    }
}

/// One byte to a child process and back through two pipes: a round trip of two
/// wake-ups of a blocked reader.
fn pipe_pingpong(n: u64) -> Result<(), String> {
    let (mut ping, mut pong) = (Pipe::new()?, Pipe::new()?);
    let child = spawn(|| {
        // Without this the child would hold a writer of its own input and never see EOF.
        // SAFETY: the parent's ends, which the child does not use.
        unsafe {
            libc::close(ping.write);
            libc::close(pong.read);
        }
        let mut byte = [0u8];
        loop {
            // SAFETY: `byte` is a live one-byte buffer.
            let got = unsafe { libc::read(ping.read, byte.as_mut_ptr().cast(), 1) };
            // SAFETY: as above.
            if got != 1 || unsafe { libc::write(pong.write, byte.as_ptr().cast(), 1) } != 1 {
                return 0;
            }
        }
    })?;
    // The parent keeps the ends it uses, so EOF reaches the child when it is done.
    // SAFETY: these descriptors are the child's ends, which the parent does not use.
    unsafe {
        libc::close(ping.read);
        libc::close(pong.write);
    }
    (ping.read, pong.write) = (-1, -1);
    let mut moved = 0;
    while moved < n && exchange(ping.write, pong.read) {
        moved += 1;
    }
    drop(ping);
    reap(child)?;
    if moved < n {
        return Err(format!("the pipe round trip failed after {moved} of {n}"));
    }
    Ok(())
}

fn futex(word: &AtomicU32, op: libc::c_int, val: u32) -> libc::c_long {
    // SAFETY: `word` is a live, aligned u32 for the whole call; no timeout is passed.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            op | libc::FUTEX_PRIVATE_FLAG,
            val,
            std::ptr::null::<libc::timespec>(),
        )
    }
}

/// Sleeps until `turn` is no longer `value`.
fn wait_while(turn: &AtomicU32, value: u32) {
    while turn.load(Ordering::Acquire) == value {
        futex(turn, libc::FUTEX_WAIT, value);
    }
}

/// Hands the turn to the other thread and wakes it.
fn pass(turn: &AtomicU32, to: u32) {
    turn.store(to, Ordering::Release);
    futex(turn, libc::FUTEX_WAKE, 1);
}

/// Two threads hand a turn back and forth through one futex word: a round trip of two
/// `FUTEX_WAKE`s, each to a thread sleeping in `FUTEX_WAIT`.
fn futex_pingpong(n: u64) -> Result<(), String> {
    const MAIN: u32 = 0;
    const OTHER: u32 = 1;
    let turn = Arc::new(AtomicU32::new(MAIN));
    let stop = Arc::new(AtomicBool::new(false));
    let other = {
        let (turn, stop) = (turn.clone(), stop.clone());
        std::thread::Builder::new()
            .spawn(move || loop {
                wait_while(&turn, MAIN);
                if stop.load(Ordering::Acquire) {
                    return;
                }
                pass(&turn, MAIN);
            })
            .map_err(|e| format!("thread: {e}"))?
    };
    for _ in 0..n {
        pass(&turn, OTHER);
        wait_while(&turn, OTHER);
    }
    stop.store(true, Ordering::Release);
    pass(&turn, OTHER);
    other
        .join()
        .map_err(|_| "the futex thread panicked".to_string())
}

const MIB: usize = 1 << 20;
const PAGE: usize = 4096;

/// `mmap` of 1 MiB of anonymous memory, a write to each of its pages (256 page faults),
/// `munmap`.
fn mmap_touch_munmap(n: u64) -> Result<(), String> {
    for _ in 0..n {
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                MIB,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(os_error("mmap"));
        }
        let base = p.cast::<u8>();
        for offset in (0..MIB).step_by(PAGE) {
            // SAFETY: `offset` is inside the MIB-byte writable mapping made above.
            unsafe { base.add(offset).write_volatile(1) };
        }
        // SAFETY: unmaps exactly the mapping made above, which nothing refers to any more.
        if unsafe { libc::munmap(p, MIB) } != 0 {
            return Err(os_error("munmap"));
        }
    }
    Ok(())
}
