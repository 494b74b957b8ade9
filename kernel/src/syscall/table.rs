//! Which handler serves which system call.
use syscalls::Sysno;

use super::{info, io, mem, proc, time, Args, SysResult};
use crate::arch::entry::InterruptFrame;

/// Runs the handler for `nr`; `None` when Halyard does not implement it.
pub fn dispatch(nr: Sysno, a: Args, frame: &mut InterruptFrame) -> Option<SysResult> {
    let [a0, a1, a2, a3, a4, a5] = a.0;
    let _ = frame;
    Some(match nr {
        Sysno::read => io::read(a0, a1, a2),
        Sysno::write => io::write(a0, a1, a2),
        Sysno::writev => io::writev(a0, a1, a2),
        Sysno::poll => io::poll(a0, a1, a2),
        Sysno::brk => mem::brk(a0),
        Sysno::mmap => mem::mmap(a0, a1, a2, a3, a4, a5),
        Sysno::munmap => mem::munmap(a0, a1),
        Sysno::mprotect => mem::mprotect(a0, a1, a2),
        Sysno::madvise => mem::madvise(a0, a1, a2),
        Sysno::mremap => mem::mremap(a0, a1, a2, a3, a4),
        Sysno::exit => proc::exit(a0),
        Sysno::exit_group => proc::exit_group(a0),
        Sysno::getpid => proc::getpid(),
        Sysno::gettid => proc::gettid(),
        Sysno::getppid => proc::getppid(),
        Sysno::getuid | Sysno::geteuid | Sysno::getgid | Sysno::getegid => Ok(0),
        Sysno::set_tid_address => proc::set_tid_address(a0),
        Sysno::arch_prctl => proc::arch_prctl(a0, a1),
        Sysno::sched_yield => proc::sched_yield(),
        Sysno::uname => info::uname(a0),
        Sysno::getrandom => info::getrandom(a0, a1, a2),
        Sysno::clock_gettime => time::clock_gettime(a0, a1),
        Sysno::clock_getres => time::clock_getres(a0, a1),
        Sysno::nanosleep => time::nanosleep(a0, a1),
        Sysno::clock_nanosleep => time::clock_nanosleep(a0, a1, a2, a3),
        _ => return None,
    })
}
