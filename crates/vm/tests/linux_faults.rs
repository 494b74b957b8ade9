//! Linux as the oracle for fault classification: each case runs in a forked child of this
//! test process, which touches memory laid out in a reserved window and reports the
//! `SIGSEGV` it got (`si_code`, `si_addr`) or that the access went through; the crate,
//! given the same layout, must classify the fault the same way (a mapping action for an
//! access that went through). This file holds a single test, so no other test thread
//! maps memory while the children are forked.

mod common;

use std::sync::atomic::{AtomicI32, Ordering};

use linux_raw_sys::general::*;
use vm::{
    Access, AddressSpace, Backing, Errno, Fault, FileRef, Layout, Limits, MmapArgs, SegvCode,
    SharedId,
};

const PAGE: u64 = 4096;
const WINDOW: u64 = 4 << 20;
const STACK_AT: u64 = 3 << 20;
const STACK_LEN: u64 = 64 << 10;

/// Where the child's SIGSEGV handler reports.
static REPORT_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_segv(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler; write(2) and
    // _exit(2) are async-signal-safe.
    unsafe {
        let report = [(*info).si_code as u64, (*info).si_addr() as u64];
        libc::write(
            REPORT_FD.load(Ordering::Relaxed),
            report.as_ptr().cast(),
            16,
        );
        libc::_exit(0);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Passed,
    Segv { code: u32, addr: u64 },
}

struct Case {
    what: &'static str,
    addr: u64,
    access: Access,
    /// Read the page first, so the write finds it present.
    touch_first: bool,
    stack_limit: Option<u64>,
}

struct NoFiles;

impl Backing for NoFiles {
    fn file(&mut self) -> Result<FileRef, Errno> {
        Err(Errno::EBADF)
    }
    fn new_shared(&mut self, _len: u64) -> Result<SharedId, Errno> {
        Ok(SharedId(1))
    }
}

/// Runs `case` in a child and reports what happened.
fn on_host(case: &Case) -> Outcome {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    REPORT_FD.store(fds[1], Ordering::Relaxed);
    // SAFETY: the child calls only async-signal-safe functions (sigaltstack, sigaction,
    // setrlimit, the access itself, write, _exit) before it exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        // SAFETY: in the child; see above. The alternate stack keeps the handler off the
        // main stack, whose growth a small RLIMIT_STACK may forbid.
        unsafe { child(case) }
    }
    let mut report = [0u64; 2];
    // SAFETY: reading into a local buffer from our pipe; the parent's copy of the write
    // end is closed first so a child that dies without writing gives end of file.
    let n = unsafe {
        libc::close(fds[1]);
        let n = libc::read(fds[0], report.as_mut_ptr().cast(), 16);
        libc::close(fds[0]);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        n
    };
    match n {
        16 if report[0] == u64::MAX => Outcome::Passed,
        16 => Outcome::Segv {
            code: report[0] as u32,
            addr: report[1],
        },
        _ => panic!("{}: the child died without reporting", case.what),
    }
}

/// The child's side of a case.
///
/// # Safety
/// Only after fork, in the child: it never returns.
unsafe fn child(case: &Case) -> ! {
    static mut ALT_STACK: [u8; 64 << 10] = [0; 64 << 10];
    // SAFETY: the caller is the forked child, which owns its copy of ALT_STACK and runs
    // no other thread; the access is the point of the case.
    unsafe {
        let ss = libc::stack_t {
            ss_sp: (&raw mut ALT_STACK).cast(),
            ss_flags: 0,
            ss_size: 64 << 10,
        };
        libc::sigaltstack(&ss, std::ptr::null_mut());
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_segv as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigaction(libc::SIGSEGV, &sa, std::ptr::null_mut());
        if let Some(limit) = case.stack_limit {
            let rl = libc::rlimit {
                rlim_cur: limit,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_STACK, &rl);
        }
        let p = case.addr as *mut u8;
        if case.touch_first {
            std::ptr::read_volatile(p);
        }
        match case.access {
            Access::Read => {
                std::ptr::read_volatile(p);
            }
            Access::Write => std::ptr::write_volatile(p, 1),
            Access::Execute => {
                let f: extern "C" fn() = std::mem::transmute(p);
                f();
            }
        }
        let passed = [u64::MAX, 0];
        libc::write(
            REPORT_FD.load(Ordering::Relaxed),
            passed.as_ptr().cast(),
            16,
        );
        libc::_exit(0)
    }
}

fn on_crate(space: &AddressSpace, case: &Case) -> (Outcome, Fault) {
    let mut space = space.clone();
    if let Some(stack) = case.stack_limit {
        space.set_limits(Limits {
            stack,
            ..Limits::default()
        });
    }
    let fault = space.fault(case.addr, case.access, case.touch_first);
    let outcome = match fault {
        Fault::Segv(code) => Outcome::Segv {
            code: code.si_code(),
            addr: case.addr,
        },
        _ => Outcome::Passed,
    };
    (outcome, fault)
}

#[test]
fn linux_classifies_faults_the_same() {
    let base = common::reserve_window(WINDOW);
    let mut space = AddressSpace::new(Layout::default());
    let mut out = Vec::new();
    let pa = (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) as u64;
    let (r, rw) = (PROT_READ as u64, (PROT_READ | PROT_WRITE) as u64);
    let layout = [
        (0, WINDOW, 0, pa | MAP_NORESERVE as u64),
        (0, PAGE, rw, pa),
        (5 * PAGE, PAGE, r, pa),
        (6 * PAGE, PAGE, rw, pa),
        (STACK_AT, STACK_LEN, rw, pa | MAP_GROWSDOWN as u64),
    ];
    for (offset, len, prot, flags) in layout {
        let args = MmapArgs {
            addr: base + offset,
            len,
            prot,
            flags,
            offset: 0,
        };
        let ours = space.mmap(args, &mut NoFiles, &mut out).map(|m| m.addr);
        // SAFETY: MAP_FIXED inside the reserved window.
        let host = unsafe {
            libc::mmap(
                args.addr as *mut _,
                len as usize,
                prot as i32,
                flags as i32,
                -1,
                0,
            )
        } as u64;
        assert_eq!(ours, Ok(host));
    }
    for (offset, len) in [(4 * PAGE, PAGE), (7 * PAGE, STACK_AT - 7 * PAGE)] {
        space.munmap(base + offset, len, &mut out).unwrap();
        // SAFETY: inside the reserved window.
        let host = unsafe { libc::munmap((base + offset) as *mut _, len as usize) };
        assert_eq!(host, 0);
    }
    let case = |what, offset: u64, access, touch_first, stack_limit| Case {
        what,
        addr: base + offset,
        access,
        touch_first,
        stack_limit,
    };
    let below_stack = STACK_AT - 2 * PAGE + 8;
    let cases = [
        case(
            "read of a hole: SEGV_MAPERR",
            4 * PAGE + 8,
            Access::Read,
            false,
            None,
        ),
        case(
            "read of PROT_NONE: SEGV_ACCERR",
            2 * PAGE,
            Access::Read,
            false,
            None,
        ),
        case(
            "write to PROT_READ: SEGV_ACCERR",
            5 * PAGE + 16,
            Access::Write,
            false,
            None,
        ),
        case(
            "write to a present PROT_READ page",
            5 * PAGE,
            Access::Write,
            true,
            None,
        ),
        case(
            "read of PROT_READ passes",
            5 * PAGE,
            Access::Read,
            false,
            None,
        ),
        case(
            "write to PROT_READ|PROT_WRITE passes",
            8,
            Access::Write,
            false,
            None,
        ),
        case(
            "write to a present writable page passes",
            6 * PAGE,
            Access::Write,
            true,
            None,
        ),
        case(
            "fetch from a non-executable page: SEGV_ACCERR",
            6 * PAGE,
            Access::Execute,
            false,
            None,
        ),
        case(
            "the stack grows below its start",
            below_stack,
            Access::Write,
            false,
            None,
        ),
        case(
            "but not into the guard gap",
            7 * PAGE + (512 << 10),
            Access::Read,
            false,
            None,
        ),
        case(
            "nor past RLIMIT_STACK",
            below_stack,
            Access::Write,
            false,
            Some(STACK_LEN),
        ),
        case(
            "a stack within RLIMIT_STACK grows",
            below_stack,
            Access::Write,
            false,
            Some(STACK_LEN + 2 * PAGE),
        ),
    ];
    for c in &cases {
        let host = on_host(c);
        let (ours, fault) = on_crate(&space, c);
        assert_eq!(ours, host, "{} (crate: {fault:?})", c.what);
        if c.what.contains("grows") {
            assert!(
                matches!(fault, Fault::GrowStack { .. }),
                "{}: {fault:?}",
                c.what
            );
        }
    }
    // Above the user half: no page tables to walk (MAPERR on Linux too).
    assert_eq!(
        space.fault(vm::TASK_SIZE, Access::Read, false),
        Fault::Segv(SegvCode::MapErr)
    );
}
