//! `hostile`: bad input to the system calls the other programs use, each answered by an
//! errno: null, kernel-half and unmapped pointers, huge lengths, negative descriptors and
//! unknown flag bits. Every call goes through `syscall(SYS_…)`, so the kernel, not glibc,
//! sees the bad argument.
//!
//! One table, one line per row: `hostile.<call>_<what>: ERRNO`.

use abi_tests::errno::{raw, Errno};
use abi_tests::report::scratch_dir;
use abi_tests::Transcript;
use libc::{EBADF, EFAULT, EINVAL, ENOENT, ENOMEM};

/// The first address of the kernel half of the x86-64 address space.
const KERNEL: usize = 0xffff_8000_0000_0000;
/// A length no buffer has.
const HUGE: usize = 1 << 62;

/// One hostile call: its check name, system call, arguments and Linux's answer.
struct Case {
    name: String,
    nr: libc::c_long,
    args: [usize; 6],
    want: libc::c_int,
}

fn main() {
    let t = Transcript::new("hostile");
    let Some(dir) = scratch_dir() else {
        return t.fail("scratch_dir", "a directory argument", "none");
    };
    let _ = std::env::set_current_dir(&dir);
    let _ = std::fs::write("file", b"0123456789");
    let file = std::fs::File::open("file");
    let Ok(file) = file else {
        return t.fail("scratch_file", "ok", Errno::last());
    };
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file) as usize;
    // A page mapped and unmapped again: nothing else maps while the table runs (the
    // program does not allocate between here and the calls).
    let unmapped = unmapped_page();
    let path = c"file".as_ptr() as usize;
    let mut buf = [0u8; 64];
    let buf_ptr = buf.as_mut_ptr() as usize;
    let mut cases = Vec::new();
    for (what, ptr) in [("null", 0), ("kernel", KERNEL), ("unmapped", unmapped)] {
        let row = |call: &str| format!("{call}_{what}");
        cases.extend([
            Case {
                name: row("read_buf"),
                nr: libc::SYS_read,
                args: [fd, ptr, 10, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("pread_buf"),
                nr: libc::SYS_pread64,
                args: [fd, ptr, 10, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("readv_iov"),
                nr: libc::SYS_readv,
                args: [fd, ptr, 1, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("openat_path"),
                nr: libc::SYS_openat,
                args: [libc::AT_FDCWD as usize, ptr, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("newfstatat_path"),
                nr: libc::SYS_newfstatat,
                args: [libc::AT_FDCWD as usize, ptr, buf_ptr, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("fstat_buf"),
                nr: libc::SYS_fstat,
                args: [fd, ptr, 0, 0, 0, 0],
                want: EFAULT,
            },
            // `file` is no directory: Linux checks the descriptor before the buffer.
            Case {
                name: row("getdents64_buf"),
                nr: libc::SYS_getdents64,
                args: [fd, ptr, 4096, 0, 0, 0],
                want: libc::ENOTDIR,
            },
            Case {
                name: row("mkdirat_path"),
                nr: libc::SYS_mkdirat,
                args: [libc::AT_FDCWD as usize, ptr, 0o755, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("unlinkat_path"),
                nr: libc::SYS_unlinkat,
                args: [libc::AT_FDCWD as usize, ptr, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("readlinkat_buf"),
                nr: libc::SYS_readlinkat,
                args: [libc::AT_FDCWD as usize, path, ptr, 64, 0, 0],
                want: EINVAL,
            },
            Case {
                name: row("getcwd_buf"),
                nr: libc::SYS_getcwd,
                args: [ptr, 4096, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("chdir_path"),
                nr: libc::SYS_chdir,
                args: [ptr, 0, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("pipe2_fds"),
                nr: libc::SYS_pipe2,
                args: [ptr, 0, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("clock_gettime_ts"),
                nr: libc::SYS_clock_gettime,
                args: [libc::CLOCK_MONOTONIC as usize, ptr, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("nanosleep_req"),
                nr: libc::SYS_nanosleep,
                args: [ptr, 0, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("rt_sigaction_act"),
                nr: libc::SYS_rt_sigaction,
                args: [libc::SIGUSR1 as usize, ptr, 0, 8, 0, 0],
                want: if ptr == 0 { 0 } else { EFAULT },
            },
            Case {
                name: row("rt_sigprocmask_set"),
                nr: libc::SYS_rt_sigprocmask,
                args: [libc::SIG_BLOCK as usize, ptr, 0, 8, 0, 0],
                want: if ptr == 0 { 0 } else { EFAULT },
            },
            Case {
                name: row("sigaltstack_ss"),
                nr: libc::SYS_sigaltstack,
                args: [ptr, 0, 0, 0, 0, 0],
                want: if ptr == 0 { 0 } else { EFAULT },
            },
            Case {
                name: row("futex_wait_uaddr"),
                nr: libc::SYS_futex,
                args: [ptr, libc::FUTEX_WAIT as usize, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("prlimit64_new"),
                nr: libc::SYS_prlimit64,
                args: [0, libc::RLIMIT_NOFILE as usize, ptr, 0, 0, 0],
                want: if ptr == 0 { 0 } else { EFAULT },
            },
            Case {
                name: row("getrusage_buf"),
                nr: libc::SYS_getrusage,
                args: [0, ptr, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("execve_path"),
                nr: libc::SYS_execve,
                args: [ptr, 0, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("wait4_status"),
                nr: libc::SYS_wait4,
                args: [usize::MAX, ptr, 0, 0, 0, 0],
                want: libc::ECHILD,
            },
            Case {
                name: row("poll_fds"),
                nr: libc::SYS_poll,
                args: [ptr, 1, 0, 0, 0, 0],
                want: EFAULT,
            },
            Case {
                name: row("uname_buf"),
                nr: libc::SYS_uname,
                args: [ptr, 0, 0, 0, 0, 0],
                want: EFAULT,
            },
        ]);
    }
    let neg = usize::MAX; // -1 as a descriptor
    cases.extend([
        Case {
            name: "read_negative_fd".into(),
            nr: libc::SYS_read,
            args: [neg, buf_ptr, 1, 0, 0, 0],
            want: EBADF,
        },
        Case {
            name: "write_negative_fd".into(),
            nr: libc::SYS_write,
            args: [neg, buf_ptr, 1, 0, 0, 0],
            want: EBADF,
        },
        Case {
            name: "close_negative_fd".into(),
            nr: libc::SYS_close,
            args: [neg, 0, 0, 0, 0, 0],
            want: EBADF,
        },
        Case {
            name: "fstat_negative_fd".into(),
            nr: libc::SYS_fstat,
            args: [neg, buf_ptr, 0, 0, 0, 0],
            want: EBADF,
        },
        Case {
            name: "lseek_negative_fd".into(),
            nr: libc::SYS_lseek,
            args: [neg, 0, 0, 0, 0, 0],
            want: EBADF,
        },
        Case {
            name: "dup_negative_fd".into(),
            nr: libc::SYS_dup,
            args: [neg, 0, 0, 0, 0, 0],
            want: EBADF,
        },
        Case {
            name: "fcntl_negative_fd".into(),
            nr: libc::SYS_fcntl,
            args: [neg, libc::F_GETFD as usize, 0, 0, 0, 0],
            want: EBADF,
        },
        Case {
            name: "read_huge_len_into_small_buf".into(),
            nr: libc::SYS_read,
            args: [fd, buf_ptr, HUGE, 0, 0, 0],
            want: EFAULT,
        },
        Case {
            name: "mmap_huge_len".into(),
            nr: libc::SYS_mmap,
            args: [
                0,
                HUGE,
                3,
                (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as usize,
                neg,
                0,
            ],
            want: ENOMEM,
        },
        Case {
            name: "mmap_len_0".into(),
            nr: libc::SYS_mmap,
            args: [
                0,
                0,
                3,
                (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as usize,
                neg,
                0,
            ],
            want: EINVAL,
        },
        Case {
            name: "mmap_no_type_flag".into(),
            nr: libc::SYS_mmap,
            args: [0, 4096, 3, libc::MAP_ANONYMOUS as usize, neg, 0],
            want: EINVAL,
        },
        Case {
            name: "mmap_file_negative_fd".into(),
            nr: libc::SYS_mmap,
            args: [0, 4096, 1, libc::MAP_PRIVATE as usize, neg, 0],
            want: EBADF,
        },
        Case {
            name: "munmap_kernel_half".into(),
            nr: libc::SYS_munmap,
            args: [KERNEL, 4096, 0, 0, 0, 0],
            want: EINVAL,
        },
        Case {
            name: "mprotect_kernel_half".into(),
            nr: libc::SYS_mprotect,
            args: [KERNEL, 4096, 1, 0, 0, 0],
            want: ENOMEM,
        },
        // MADV_NORMAL: a huge range over unmapped gaps is ENOMEM. (With MADV_DONTNEED
        // Linux would zap every mapping in the range up to the first one it refuses,
        // which is the vDSO's VM_PFNMAP `[vvar]` on Linux: an answer that depends on the
        // layout above the page, not on the length.)
        Case {
            name: "madvise_huge_len".into(),
            nr: libc::SYS_madvise,
            args: [unmapped, HUGE, libc::MADV_NORMAL as usize, 0, 0, 0],
            want: ENOMEM,
        },
        Case {
            name: "mremap_huge_len".into(),
            nr: libc::SYS_mremap,
            args: [unmapped, 4096, HUGE, libc::MREMAP_MAYMOVE as usize, 0, 0],
            want: EINVAL,
        },
        Case {
            name: "openat_unknown_flags_ignored".into(),
            nr: libc::SYS_openat,
            args: [
                libc::AT_FDCWD as usize,
                c"missing".as_ptr() as usize,
                1 << 30,
                0,
                0,
                0,
            ],
            want: ENOENT,
        },
        Case {
            name: "pipe2_unknown_flag".into(),
            nr: libc::SYS_pipe2,
            args: [buf_ptr, 1 << 30, 0, 0, 0, 0],
            want: EINVAL,
        },
        Case {
            name: "dup3_unknown_flag".into(),
            nr: libc::SYS_dup3,
            args: [fd, 50, 1 << 30, 0, 0, 0],
            want: EINVAL,
        },
        Case {
            name: "wait4_unknown_option".into(),
            nr: libc::SYS_wait4,
            args: [neg, 0, 1 << 26, 0, 0, 0],
            want: EINVAL,
        },
        Case {
            name: "rt_sigaction_bad_sigsetsize".into(),
            nr: libc::SYS_rt_sigaction,
            args: [libc::SIGUSR1 as usize, 0, 0, 4, 0, 0],
            want: EINVAL,
        },
        Case {
            name: "clock_gettime_bad_clock".into(),
            nr: libc::SYS_clock_gettime,
            args: [1000, buf_ptr, 0, 0, 0, 0],
            want: EINVAL,
        },
        Case {
            name: "kill_signal_65".into(),
            nr: libc::SYS_kill,
            args: [0, 65, 0, 0, 0, 0],
            want: EINVAL,
        },
        Case {
            name: "unknown_syscall_nr".into(),
            nr: 100_000,
            args: [0; 6],
            want: libc::ENOSYS,
        },
    ]);
    for c in &cases {
        // SAFETY: every pointer argument is null, in the kernel half, in a page this
        // program unmapped, or a live buffer of ours (`buf`, `path`, with lengths the
        // kernel cannot write past: `buf` takes no more than its 64 bytes because `file`
        // holds 10); descriptors are `file`'s or invalid. The calls that could change the
        // process (execve, mmap) are refused by the kernel before acting.
        let got = unsafe { raw(c.nr, c.args) };
        if c.want == 0 {
            t.ok(&c.name, got);
        } else {
            t.errno(&c.name, got, c.want);
        }
    }
    drop(file);
}

fn unmapped_page() -> usize {
    // SAFETY: maps one anonymous page, then unmaps it; nothing refers to it.
    unsafe {
        let p = libc::mmap(
            core::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        libc::munmap(p, 4096);
        p as usize
    }
}
