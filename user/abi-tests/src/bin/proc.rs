//! `proc`: processes. fork, vfork, clone, execve, exit and exit_group, the statuses of
//! wait4 and waitid (exits, signal deaths and the core bit, stops and continues), ids,
//! process groups and sessions, and resource limits.
//!
//! Run with `--exec-child PID KEPT_FD CLOEXEC_FD` it is the program `execve` starts: it
//! checks what must survive an exec and exits with a bit per broken rule.

use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::process::{no_core_dumps, run, spawn, wait, WaitStatus};
use abi_tests::report::scratch_dir;
use abi_tests::signal::{code_name, set_action, Action, Signal};
use abi_tests::Transcript;
use core::ffi::c_int;
use std::ffi::CString;
use std::sync::atomic::{AtomicU64, Ordering};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--exec-child") {
        std::process::exit(exec_child(&args[2..]));
    }
    let t = Transcript::new("proc");
    ids(&t);
    exits(&t);
    signal_deaths(&t);
    stops(&t);
    waitid(&t);
    wait_errors(&t);
    vfork(&t);
    clone(&t);
    execve_checks(&t, &args[0]);
    exe_maps(&t);
    groups(&t);
    limits(&t);
}

fn pid() -> libc::pid_t {
    // SAFETY: getpid has no arguments and cannot fail.
    unsafe { libc::getpid() }
}

fn ids(t: &Transcript) {
    // SAFETY: getppid has no arguments and cannot fail.
    let ppid = unsafe { libc::getppid() };
    t.is("pid_is_positive", pid() > 0);
    t.is("ppid_is_positive", ppid > 0);
    t.is("ppid_is_not_pid", ppid != pid());
    let parent = pid();
    let status = run(|| {
        // SAFETY: as above.
        let (me, my_parent) = unsafe { (libc::getpid(), libc::getppid()) };
        c_int::from(my_parent != parent) | c_int::from(me == parent) << 1
    });
    t.shows("fork_child_sees_parent_as_ppid", status, "exited(0)");
}

fn exits(t: &Transcript) {
    t.shows("exit_42", run(|| 42), "exited(42)");
    let truncated = run(|| 256 + 7);
    t.shows("exit_status_is_low_byte", truncated, "exited(7)");
    let group = run(|| {
        // SAFETY: exit_group takes no pointer; it ends this child.
        let _ = unsafe { raw(libc::SYS_exit_group, [3, 0, 0, 0, 0, 0]) };
        99
    });
    t.shows("exit_group_3", group, "exited(3)");
    let thread_exit = run(|| {
        // SAFETY: exit ends the only thread, and with it this child.
        let _ = unsafe { raw(libc::SYS_exit, [5, 0, 0, 0, 0, 0]) };
        99
    });
    t.shows("exit_of_only_thread_5", thread_exit, "exited(5)");
}

/// The child dies of `sig` sent to itself.
fn die_of(sig: c_int) -> Result<WaitStatus, Errno> {
    run(|| {
        no_core_dumps();
        // Rust's runtime handles SIGSEGV (stack overflow reports): back to the default.
        let _ = set_action(sig, Action::Default, 0);
        // SAFETY: raise only sends a signal to this child.
        unsafe { libc::raise(sig) };
        99
    })
}

fn signal_deaths(t: &Transcript) {
    for (name, sig) in [
        ("killed_by_sigterm", libc::SIGTERM),
        ("killed_by_sigkill", libc::SIGKILL),
        ("killed_by_sigsegv_without_core", libc::SIGSEGV),
        ("killed_by_sigabrt_without_core", libc::SIGABRT),
    ] {
        t.shows(name, die_of(sig), format!("killed({})", Signal(sig)));
    }
    let null_read = run(|| {
        no_core_dumps();
        // SAFETY: not safe by design: the volatile null read must fault and kill the child.
        unsafe { core::ptr::read_volatile(core::ptr::null::<u8>()) }.into()
    });
    t.shows("null_read_kills_with_sigsegv", null_read, "killed(SIGSEGV)");
    let status = run(|| {
        no_core_dumps();
        // SAFETY: raise only signals this child.
        unsafe { libc::raise(libc::SIGQUIT) };
        99
    });
    t.is(
        "core_bit_clear_when_dumps_off",
        status.is_ok_and(|s| libc::WIFSIGNALED(s.0) && !libc::WCOREDUMP(s.0)),
    );
}

/// A child that blocks reading `fd` until it closes, then exits 0.
fn blocked_child(read_fd: c_int, write_fd: c_int) -> Result<libc::pid_t, Errno> {
    spawn(|| {
        let mut b = 0u8;
        // SAFETY: closing our copy of the write end; reading one byte into `b`.
        unsafe {
            libc::close(write_fd);
            libc::read(read_fd, (&mut b as *mut u8).cast(), 1);
        }
        0
    })
}

fn pipe() -> [c_int; 2] {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors.
    unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    fds
}

fn close(fd: c_int) {
    // SAFETY: closing a descriptor this program opened and no longer uses.
    unsafe { libc::close(fd) };
}

fn kill(pid: libc::pid_t, sig: c_int) -> Result<c_int, Errno> {
    // SAFETY: kill takes no pointer.
    cvt(unsafe { libc::kill(pid, sig) })
}

fn stops(t: &Transcript) {
    let [r, w] = pipe();
    let Ok(child) = blocked_child(r, w) else {
        return t.fail("wnohang_running_child", "a child", Errno::last());
    };
    t.shows(
        "wnohang_running_child",
        wait(child, libc::WNOHANG).map(|(p, _)| p),
        0,
    );
    let _ = kill(child, libc::SIGSTOP);
    let stopped =
        wait(child, libc::WUNTRACED).map(|(p, s)| format!("{s} pid_matches={}", p == child));
    t.shows(
        "wuntraced_sees_stop",
        stopped,
        "stopped(SIGSTOP) pid_matches=true",
    );
    let _ = kill(child, libc::SIGCONT);
    let cont = wait(child, libc::WCONTINUED).map(|(_, s)| s);
    t.shows("wcontinued_sees_continue", cont, "continued");
    close(w);
    close(r);
    let end = wait(child, 0).map(|(_, s)| s);
    t.shows("exits_after_pipe_closes", end, "exited(0)");
}

/// waitid(P_PID, pid, options): the si_code and si_status it reports, and whether si_pid
/// is the child.
fn waitid_of(pid: libc::pid_t, options: c_int) -> Result<(c_int, c_int, bool), Errno> {
    // SAFETY: siginfo_t is plain data; zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
    // SAFETY: `info` is a valid siginfo_t to write.
    cvt(unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, options) })?;
    // SAFETY: waitid filled in a SIGCHLD-shaped siginfo.
    let (status, from) = unsafe { (info.si_status(), info.si_pid()) };
    Ok((info.si_code, status, from == pid))
}

/// `code/status/pid_matches` as one value.
fn waitid_line(r: Result<(c_int, c_int, bool), Errno>, status_is_signal: bool) -> String {
    match r {
        Ok((code, status, pid_ok)) if status_is_signal => {
            format!(
                "{} {} pid_matches={pid_ok}",
                code_name(libc::SIGCHLD, code),
                Signal(status)
            )
        }
        Ok((code, status, pid_ok)) => format!(
            "{} {status} pid_matches={pid_ok}",
            code_name(libc::SIGCHLD, code)
        ),
        Err(e) => e.to_string(),
    }
}

fn waitid(t: &Transcript) {
    if let Ok(child) = spawn(|| 9) {
        let first = waitid_of(child, libc::WEXITED | libc::WNOWAIT);
        t.eq(
            "waitid_wnowait",
            waitid_line(first, false),
            "CLD_EXITED 9 pid_matches=true".to_string(),
        );
        let second = waitid_of(child, libc::WEXITED);
        t.eq(
            "waitid_exited",
            waitid_line(second, false),
            "CLD_EXITED 9 pid_matches=true".to_string(),
        );
        t.errno(
            "waitid_after_reap",
            waitid_of(child, libc::WEXITED),
            libc::ECHILD,
        );
    }
    let [r, w] = pipe();
    if let Ok(child) = blocked_child(r, w) {
        let _ = kill(child, libc::SIGSTOP);
        let stop = waitid_of(child, libc::WSTOPPED);
        t.eq(
            "waitid_stopped",
            waitid_line(stop, true),
            "CLD_STOPPED SIGSTOP pid_matches=true".to_string(),
        );
        let _ = kill(child, libc::SIGCONT);
        let cont = waitid_of(child, libc::WCONTINUED);
        t.eq(
            "waitid_continued",
            waitid_line(cont, true),
            "CLD_CONTINUED SIGCONT pid_matches=true".to_string(),
        );
        let _ = kill(child, libc::SIGKILL);
        let killed = waitid_of(child, libc::WEXITED);
        t.eq(
            "waitid_killed",
            waitid_line(killed, true),
            "CLD_KILLED SIGKILL pid_matches=true".to_string(),
        );
    }
    close(r);
    close(w);
    t.errno("waitid_no_options", waitid_of(pid(), 0), libc::EINVAL);
}

fn wait_errors(t: &Transcript) {
    t.errno("wait4_no_children", wait(-1, 0), libc::ECHILD);
    // Bit 26 is no wait4 option.
    t.errno("wait4_unknown_option", wait(-1, 1 << 26), libc::EINVAL);
    t.errno(
        "wait4_wnohang_no_children",
        wait(-1, libc::WNOHANG),
        libc::ECHILD,
    );
}

fn vfork(t: &Transcript) {
    let shared = AtomicU64::new(0);
    let ret: i64;
    // SAFETY: vfork suspends this thread until the child exits; the child runs only the
    // instructions of this block, without touching the stack: it stores 1 to `shared`
    // (the same memory: CLONE_VM) and calls exit(7). rcx and r11 are clobbered by syscall.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov qword ptr [{cell}], 1",
            "mov eax, {exit}",
            "mov edi, 7",
            "syscall",
            "2:",
            cell = in(reg) shared.as_ptr(),
            exit = const libc::SYS_exit,
            inlateout("rax") libc::SYS_vfork => ret,
            out("rdi") _,
            out("rcx") _,
            out("r11") _,
        );
    }
    t.is("vfork_returns_child_pid", ret > 0);
    t.is(
        "vfork_child_wrote_before_parent_resumed",
        shared.load(Ordering::SeqCst) == 1,
    );
    let status = wait(ret as libc::pid_t, 0).map(|(_, s)| s);
    t.shows("vfork_child_status", status, "exited(7)");
}

/// clone(flags) with fork semantics (no CLONE_VM): the child returns 0 and exits `code`.
fn clone_child(flags: c_int, code: c_int) -> Result<libc::pid_t, Errno> {
    // SAFETY: without CLONE_VM the child has its own copy of memory, as after fork; it
    // leaves with _exit at once.
    let pid = unsafe { raw(libc::SYS_clone, [flags as usize, 0, 0, 0, 0, 0]) }?;
    if pid == 0 {
        // SAFETY: ends the child.
        unsafe { libc::_exit(code) };
    }
    Ok(pid as libc::pid_t)
}

fn clone(t: &Transcript) {
    let with_sigchld = clone_child(libc::SIGCHLD, 11).and_then(|p| wait(p, 0));
    t.shows("clone_sigchld", with_sigchld.map(|(_, s)| s), "exited(11)");
    if let Ok(child) = clone_child(0, 12) {
        t.errno(
            "clone_no_signal_invisible_to_plain_wait",
            wait(child, 0),
            libc::ECHILD,
        );
        let s = wait(child, libc::__WCLONE).map(|(_, s)| s);
        t.shows("clone_no_signal_wclone", s, "exited(12)");
    }
    let bad = clone_child(libc::CLONE_SIGHAND, 0);
    t.errno("clone_sighand_without_vm", bad, libc::EINVAL);
    let bad = clone_child(libc::CLONE_THREAD, 0);
    t.errno("clone_thread_without_sighand", bad, libc::EINVAL);
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// execve(path, argv, envp); returns only on failure.
fn execve(path: &str, argv: &[&str], envp: &[&str]) -> Errno {
    let path = cstr(path);
    let argv: Vec<CString> = argv.iter().map(|a| cstr(a)).collect();
    let envp: Vec<CString> = envp.iter().map(|a| cstr(a)).collect();
    let mut argv_p: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    let mut envp_p: Vec<*const libc::c_char> = envp.iter().map(|a| a.as_ptr()).collect();
    argv_p.push(core::ptr::null());
    envp_p.push(core::ptr::null());
    // SAFETY: every pointer is to a NUL-terminated string that outlives the call, and
    // both arrays end with null.
    unsafe { libc::execve(path.as_ptr(), argv_p.as_ptr(), envp_p.as_ptr()) };
    Errno::last()
}

/// The exec'd program: its pid must be the one before exec, `kept` open, `cloexec` closed,
/// and the environment exactly what was passed.
fn exec_child(args: &[String]) -> c_int {
    let num = |i: usize| {
        args.get(i)
            .and_then(|a| a.parse::<c_int>().ok())
            .unwrap_or(-1)
    };
    let fd_open = |fd| {
        // SAFETY: F_GETFD takes no pointer.
        unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    c_int::from(num(0) != pid())
        | c_int::from(!fd_open(num(1))) << 1
        | c_int::from(fd_open(num(2))) << 2
        | c_int::from(env != [("ABI_EXEC".to_string(), "1".to_string())]) << 3
}

fn execve_checks(t: &Transcript, me: &str) {
    let status = run(|| {
        let [kept, cloexec] = pipe();
        // SAFETY: clears FD_CLOEXEC on our own descriptor.
        unsafe { libc::fcntl(kept, libc::F_SETFD, 0) };
        let (p, k, c) = (pid().to_string(), kept.to_string(), cloexec.to_string());
        let argv = ["proc", "--exec-child", &p, &k, &c];
        execve(me, &argv, &["ABI_EXEC=1"]);
        100
    });
    t.shows("execve_keeps_pid_fds_env", status, "exited(0)");
    t.errno(
        "execve_missing_file",
        Err::<(), _>(execve("/nonexistent/abi", &["x"], &[])),
        libc::ENOENT,
    );
    t.errno(
        "execve_directory",
        Err::<(), _>(execve("/", &["x"], &[])),
        libc::EACCES,
    );
    if let Some(dir) = scratch_dir() {
        let junk = dir.join("junk");
        let written = std::fs::write(&junk, b"\x7fELF not really").is_ok();
        let chmod =
            std::fs::set_permissions(&junk, std::os::unix::fs::PermissionsExt::from_mode(0o755));
        t.is("execve_junk_prepared", written && chmod.is_ok());
        let junk = junk.to_string_lossy().into_owned();
        t.errno(
            "execve_junk_file",
            Err::<(), _>(execve(&junk, &["x"], &[])),
            libc::ENOEXEC,
        );
    }
}

/// Initialised data: in the file part of the writable segment.
static DATA: AtomicU64 = AtomicU64::new(0x5eed_0001);

/// The `/proc/self/maps` line whose range holds `addr`: its permissions, and whether it
/// names the file `/proc/self/exe` names (or what it names instead).
fn mapping_of(maps: &str, exe: &str, addr: usize) -> String {
    let line = maps.lines().find(|l| {
        let range = l.split(' ').next().unwrap_or("");
        let (start, end) = range.split_once('-').unwrap_or(("", ""));
        let parse = |h| usize::from_str_radix(h, 16).unwrap_or(0);
        (parse(start)..parse(end)).contains(&addr)
    });
    match line {
        Some(l) => {
            let perms = l.split(' ').nth(1).unwrap_or("");
            let name = l.split_whitespace().nth(5).unwrap_or("");
            let named = if name == exe { "the executable" } else { name };
            format!("{perms} {named}")
        }
        None => "no line".to_string(),
    }
}

/// The program's segments are mappings of its file (Linux's `elf_map`): `/proc/self/maps`
/// names the executable for its code, read-only data and initialised data.
fn exe_maps(t: &Transcript) {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let exe = std::fs::read_link("/proc/self/exe").unwrap_or_default();
    let exe = exe.to_string_lossy();
    let code = exe_maps as fn(&Transcript) as usize;
    let rodata = "a string in read-only data".as_ptr() as usize;
    let data = DATA.as_ptr() as usize;
    let of = |addr| mapping_of(&maps, &exe, addr);
    t.eq("exe_maps_code", of(code).as_str(), "r-xp the executable");
    t.eq(
        "exe_maps_rodata",
        of(rodata).as_str(),
        "r--p the executable",
    );
    t.eq("exe_maps_data", of(data).as_str(), "rw-p the executable");
    DATA.fetch_add(1, Ordering::Relaxed);
}

fn groups(t: &Transcript) {
    // SAFETY: getpgid, like the id calls below, takes integers only.
    let own = |pid| cvt(unsafe { libc::getpgid(pid) });
    // SAFETY: as above.
    let pgrp = unsafe { libc::getpgrp() };
    t.is("getpgid_0_is_getpgrp", own(0) == Ok(pgrp));
    let leader = run(|| {
        // SAFETY: as above.
        unsafe {
            let ok = libc::setpgid(0, 0) == 0 && libc::getpgrp() == libc::getpid();
            let again = libc::setsid() == -1 && Errno::last() == Errno(libc::EPERM);
            c_int::from(!ok) | c_int::from(!again) << 1
        }
    });
    t.shows("setpgid_then_setsid_eperm", leader, "exited(0)");
    let session = run(|| {
        // SAFETY: as above.
        unsafe {
            let me = libc::getpid();
            let sid = libc::setsid();
            let ok = sid == me && libc::getsid(0) == me && libc::getpgid(0) == me;
            let parent_sid = libc::getsid(libc::getppid()) != me;
            c_int::from(!ok) | c_int::from(!parent_sid) << 1
        }
    });
    t.shows("setsid_makes_new_session_and_group", session, "exited(0)");
    let [r, w] = pipe();
    if let Ok(child) = blocked_child(r, w) {
        // SAFETY: as above.
        let moved = cvt(unsafe { libc::setpgid(child, child) }).map(drop);
        t.ok("parent_setpgid_of_child", moved);
        t.is("getpgid_of_child_is_child", own(child) == Ok(child));
        // SAFETY: as above.
        let (sid, own_sid) = unsafe { (libc::getsid(child), libc::getsid(0)) };
        t.is("child_shares_parent_session", sid == own_sid);
        let _ = kill(child, libc::SIGKILL);
        let _ = wait(child, 0);
    }
    close(r);
    close(w);
    // pid_max is at most 2^22, so this pid never exists.
    let ghost = 1 << 30;
    t.errno("getpgid_no_such_process", own(ghost), libc::ESRCH);
    // SAFETY: as above.
    t.errno(
        "getsid_no_such_process",
        cvt(unsafe { libc::getsid(ghost) }),
        libc::ESRCH,
    );
    // SAFETY: as above.
    t.errno(
        "setpgid_negative_pgid",
        cvt(unsafe { libc::setpgid(0, -1) }),
        libc::EINVAL,
    );
    // SAFETY: as above.
    t.errno(
        "setpgid_not_a_child",
        cvt(unsafe { libc::setpgid(ghost, 0) }),
        libc::ESRCH,
    );
}

fn limit(resource: libc::__rlimit_resource_t) -> Result<libc::rlimit, Errno> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid rlimit to write.
    cvt(unsafe { libc::getrlimit(resource, &mut r) })?;
    Ok(r)
}

fn set_limit(resource: libc::__rlimit_resource_t, cur: u64, max: u64) -> Result<c_int, Errno> {
    let r = libc::rlimit {
        rlim_cur: cur,
        rlim_max: max,
    };
    // SAFETY: `r` is a valid rlimit to read.
    cvt(unsafe { libc::setrlimit(resource, &r) })
}

/// prlimit64 through the raw system call (glibc's wrapper adds nothing, but the raw call
/// keeps the resource number unchecked).
fn prlimit(
    pid: libc::pid_t,
    resource: c_int,
    new: Option<&libc::rlimit>,
) -> Result<libc::rlimit, Errno> {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let new = new.map_or(0, |n| n as *const libc::rlimit as usize);
    // SAFETY: `new` is null or a valid rlimit; `old` is a valid rlimit to write.
    unsafe {
        raw(
            libc::SYS_prlimit64,
            [
                pid as usize,
                resource as usize,
                new,
                &mut old as *mut _ as usize,
                0,
                0,
            ],
        )
    }?;
    Ok(old)
}

fn limits(t: &Transcript) {
    let nofile = limit(libc::RLIMIT_NOFILE);
    t.is(
        "getrlimit_nofile_soft_le_hard",
        nofile.is_ok_and(|r| r.rlim_cur <= r.rlim_max),
    );
    let via_prlimit = prlimit(0, libc::RLIMIT_NOFILE as c_int, None);
    t.is(
        "prlimit_reads_same_as_getrlimit",
        via_prlimit.is_ok_and(|p| {
            nofile.is_ok_and(|g| (g.rlim_cur, g.rlim_max) == (p.rlim_cur, p.rlim_max))
        }),
    );
    t.errno(
        "getrlimit_bad_resource",
        prlimit(0, 4096, None),
        libc::EINVAL,
    );
    t.errno(
        "prlimit_no_such_process",
        prlimit(1 << 30, libc::RLIMIT_NOFILE as c_int, None),
        libc::ESRCH,
    );
    t.errno(
        "setrlimit_soft_above_hard",
        set_limit(libc::RLIMIT_NOFILE, 64, 32),
        libc::EINVAL,
    );
    let emfile = run(|| {
        if set_limit(libc::RLIMIT_NOFILE, 3, 3).is_err() {
            return 1;
        }
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two descriptors.
        let r = cvt(unsafe { libc::pipe(fds.as_mut_ptr()) });
        if r == Err(Errno(libc::EMFILE)) {
            0
        } else {
            2
        }
    });
    t.shows("nofile_limit_gives_emfile", emfile, "exited(0)");
    let raise = run(|| {
        if set_limit(libc::RLIMIT_NOFILE, 16, 16).is_err() {
            return 1;
        }
        // SAFETY: drops this child's privileges; takes no pointer.
        if unsafe { libc::setuid(65534) } != 0 {
            return 2;
        }
        match set_limit(libc::RLIMIT_NOFILE, 16, 32) {
            Err(Errno(libc::EPERM)) => 0,
            _ => 3,
        }
    });
    t.shows("unprivileged_raise_of_hard_limit_eperm", raise, "exited(0)");
    let lowered = run(|| {
        let lower = set_limit(libc::RLIMIT_NOFILE, 8, 8).is_ok();
        let seen = limit(libc::RLIMIT_NOFILE).is_ok_and(|r| (r.rlim_cur, r.rlim_max) == (8, 8));
        c_int::from(!lower) | c_int::from(!seen) << 1
    });
    t.shows("setrlimit_then_getrlimit", lowered, "exited(0)");
}
