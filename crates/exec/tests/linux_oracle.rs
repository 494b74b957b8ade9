//! Linux as the oracle: the host kernel runs the same files with the same arguments, and
//! Halyard's answers must be Linux's.
//!
//! Each program is started under `ptrace` (`PTRACE_TRACEME`) with address randomisation off
//! (`personality(ADDR_NO_RANDOMIZE)`), so it stops before its first instruction. At that
//! point everything `execve` built is visible and nothing of the program has run: the
//! registers, `/proc/PID/maps`, `/proc/PID/stat` and the whole initial stack, read through
//! `/proc/PID/mem`. The tests compare:
//! - the load plan of real static Rust programs (static-pie and `ET_EXEC`, compiled here
//!   with `rustc`) with the mappings Linux made and with the headers as `object` reads them;
//! - the initial stack, byte for byte, from `RSP` to the stack top;
//! - `#!` handling (argument splitting, nesting, the depth limit) and the `E2BIG` limits;
//! - every malformed ELF case: Linux either refuses it too, kills the process inside
//!   `execve`, or runs it, and which one is asserted, so the cases where Halyard is
//!   deliberately stricter are known and stay known.
//!
//! The harness `Halyard::exec` below is the sequence the kernel's `execve` runs (the crate
//! documentation's), with files read from the host.

mod common;

use common::{parse_stack, Mem, ParsedStack};
use halyard_exec::fixtures::{ElfImage, Phdr};
use halyard_exec::{
    check_interpreter_depth, ArgCopy, AuxValues, ExecArgs, ExecError, ImageKind, LoadPlan,
    NoExecReason, RseqAux, Shebang, StackImage, MAX_ARG_STRLEN, PAGE_SIZE, STACK_TOP,
};
use libc::{ENOENT, ENOEXEC};
use linux_raw_sys::auxvec::{
    AT_EGID, AT_ENTRY, AT_EUID, AT_GID, AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ, AT_RANDOM,
    AT_RSEQ_ALIGN, AT_RSEQ_FEATURE_SIZE, AT_SECURE, AT_SYSINFO_EHDR, AT_UID,
};
use linux_raw_sys::elf_uapi::{PT_INTERP, PT_NOTE};
use object::read::elf::{ElfFile64, ProgramHeader as _};
use object::{LittleEndian as LE, Object};
use std::ffi::{CString, OsStr};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// Files

/// Scratch directory of this test binary.
fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("exec-oracle");
    fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Writes an executable file (atomically, so a concurrent `execve` never sees half of it).
fn write_program(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    let tmp = scratch().join(format!("{name}.{}.tmp", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o755)
        .open(&tmp)
        .expect("create program");
    io::Write::write_all(&mut file, bytes).expect("write program");
    drop(file);
    fs::rename(&tmp, &path).expect("rename program");
    path
}

/// Static Rust programs built for this run: (static-pie, `ET_EXEC`).
fn rust_programs() -> &'static (PathBuf, PathBuf) {
    static PROGRAMS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    PROGRAMS.get_or_init(|| {
        let source = scratch().join("main.rs");
        fs::write(&source, "fn main() {}\n").expect("write main.rs");
        let build = |name: &str, extra: &[&str]| {
            let out = scratch().join(name);
            let tmp = scratch().join(format!("{name}.{}.tmp", std::process::id()));
            let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
            let status = Command::new(rustc)
                .args([
                    "--edition",
                    "2021",
                    "-C",
                    "opt-level=0",
                    "-C",
                    "debuginfo=0",
                ])
                .args(["-C", "target-feature=+crt-static"])
                .args(extra)
                .arg("-o")
                .arg(&tmp)
                .arg(&source)
                .status()
                .expect("run rustc");
            assert!(status.success(), "rustc failed for {name}");
            fs::rename(&tmp, &out).expect("rename program");
            out
        };
        (
            build("static-pie", &[]),
            build("static-exec", &["-C", "relocation-model=static"]),
        )
    })
}

// ---------------------------------------------------------------------------------------
// Linux

/// What Linux did with an `execve`.
#[derive(Debug)]
enum Linux {
    /// `execve` failed with this errno.
    Refused(i32),
    /// The process died inside `execve` (after the point of no return) with this signal.
    Killed(i32),
    /// The program is stopped at its first instruction.
    Started(Started),
}

impl Linux {
    fn started(self) -> Started {
        match self {
            Self::Started(started) => started,
            other => panic!("Linux did not start the program: {other:?}"),
        }
    }
}

/// A program stopped at its first instruction, and what Linux built for it.
#[derive(Debug)]
struct Started {
    child: Option<Child>,
    pid: i32,
    rip: u64,
    rsp: u64,
    /// End of the `[stack]` mapping.
    stack_top: u64,
    /// Memory from `rsp` to `stack_top`.
    stack: Vec<u8>,
    maps: Vec<Map>,
    /// `/proc/PID/stat` fields 47..=51: start_brk, arg_start, arg_end, env_start, env_end.
    stat: [u64; 5],
}

/// One line of `/proc/PID/maps`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Map {
    range: std::ops::Range<u64>,
    perms: String,
    offset: u64,
    path: String,
}

/// How a started program ended after it was let go.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    Exited(i32),
    Signaled(i32),
}

impl Started {
    fn parsed(&self) -> ParsedStack {
        parse_stack(&Mem {
            base: self.rsp,
            bytes: &self.stack,
        })
    }

    /// Lets the program run to its end.
    fn finish(mut self) -> Ended {
        // SAFETY: plain system call on our stopped tracee; no memory is passed.
        let rc = unsafe { libc::ptrace(libc::PTRACE_DETACH, self.pid, 0usize, 0usize) };
        assert_eq!(rc, 0, "PTRACE_DETACH: {}", io::Error::last_os_error());
        let status = wait(self.pid);
        self.child = None;
        if libc::WIFEXITED(status) {
            Ended::Exited(libc::WEXITSTATUS(status))
        } else {
            assert!(libc::WIFSIGNALED(status), "status {status:#x}");
            Ended::Signaled(libc::WTERMSIG(status))
        }
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if self.child.take().is_some() {
            // SAFETY: plain system call on our own child.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            wait(self.pid);
        }
    }
}

/// `waitpid` for one child, returning the raw status.
fn wait(pid: i32) -> i32 {
    let mut status = 0;
    // SAFETY: `status` is a valid `int` for the kernel to write.
    let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(rc, pid, "waitpid: {}", io::Error::last_os_error());
    status
}

/// The stack limit both kernels run with unless a test says otherwise: Linux's default.
const RLIMIT_STACK: u64 = 8 << 20;

/// Runs `path` with `argv` and `envp` under Linux, with the soft `RLIMIT_STACK` set to
/// `rlimit_stack`, and stops it at its first instruction.
///
/// The child calls `execve` itself: `std`'s `Command` uses `execvp`, which runs a file
/// that fails with `ENOEXEC` as a shell script instead of reporting the error.
fn linux(path: &Path, argv: &[&[u8]], envp: &[&[u8]], rlimit_stack: u64) -> Linux {
    let c_string = |s: &[u8]| CString::new(s).expect("no zero byte");
    let c_path = c_string(path.as_os_str().as_bytes());
    let c_argv: Vec<CString> = argv.iter().map(|s| c_string(s)).collect();
    let c_envp: Vec<CString> = envp.iter().map(|s| c_string(s)).collect();
    // Pointer arrays built before `fork` (the child must not allocate), as addresses so
    // the closure is `Send`; the strings they point to move into the closure unchanged.
    let pointers = |strings: &[CString]| -> Vec<usize> {
        strings
            .iter()
            .map(|s| s.as_ptr() as usize)
            .chain([0])
            .collect()
    };
    let (argv_ptrs, envp_ptrs) = (pointers(&c_argv), pointers(&c_envp));
    let child_setup = move || {
        let _keep = (&c_argv, &c_envp);
        // SAFETY: async-signal-safe system calls in the forked child; every pointer is to
        // memory owned by this closure (zero-terminated strings, null-terminated arrays).
        unsafe {
            let persona = libc::personality(0xffff_ffff);
            if persona == -1
                || libc::personality((persona | libc::ADDR_NO_RANDOMIZE) as libc::c_ulong) == -1
            {
                return Err(io::Error::last_os_error());
            }
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::getrlimit(libc::RLIMIT_STACK, &mut limit);
            limit.rlim_cur = rlimit_stack;
            if libc::setrlimit(libc::RLIMIT_STACK, &limit) == -1 {
                return Err(io::Error::last_os_error());
            }
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0usize, 0usize) == -1 {
                return Err(io::Error::last_os_error());
            }
            libc::execve(
                c_path.as_ptr(),
                argv_ptrs.as_ptr().cast(),
                envp_ptrs.as_ptr().cast(),
            );
        }
        Err(io::Error::last_os_error())
    };
    let mut cmd = Command::new(path);
    // SAFETY: the closure only makes async-signal-safe system calls (no allocation, no
    // locks), as `pre_exec` requires.
    unsafe { cmd.pre_exec(child_setup) };
    // A file written by another test can be open for writing in a child forked meanwhile
    // (until that child's exec closes it): ETXTBSY then, so retry for up to 2 s.
    let mut tries = 0;
    let child = loop {
        match cmd.spawn() {
            Ok(child) => break child,
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 400 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Linux::Refused(e.raw_os_error().expect("errno from execve")),
        }
    };
    let pid = i32::try_from(child.id()).unwrap();
    let mut status = wait(pid);
    if libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) != libc::SIGTRAP {
        // A signal before the first instruction: `execve` failed after the point of no
        // return. Deliver it (it is fatal) and report the death.
        // SAFETY: plain system call on our stopped tracee; no memory is passed.
        unsafe {
            libc::ptrace(
                libc::PTRACE_CONT,
                pid,
                0usize,
                libc::WSTOPSIG(status) as usize,
            )
        };
        status = wait(pid);
    }
    if libc::WIFSIGNALED(status) {
        return Linux::Killed(libc::WTERMSIG(status));
    }
    assert!(
        libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP,
        "unexpected status {status:#x}"
    );
    let mut started = Started {
        child: Some(child),
        pid,
        rip: 0,
        rsp: 0,
        stack_top: 0,
        stack: Vec::new(),
        maps: Vec::new(),
        stat: [0; 5],
    };
    // SAFETY: `user_regs_struct` is plain data; the kernel fills it for our stopped tracee.
    let regs = unsafe {
        let mut regs: libc::user_regs_struct = std::mem::zeroed();
        let rc = libc::ptrace(libc::PTRACE_GETREGS, pid, 0usize, &mut regs);
        assert_eq!(rc, 0, "PTRACE_GETREGS: {}", io::Error::last_os_error());
        regs
    };
    (started.rip, started.rsp) = (regs.rip, regs.rsp);
    started.maps = read_maps(pid);
    started.stack_top = started
        .maps
        .iter()
        .find(|m| m.path == "[stack]")
        .expect("a [stack] mapping")
        .range
        .end;
    started.stack = vec![0; (started.stack_top - started.rsp) as usize];
    fs::File::open(format!("/proc/{pid}/mem"))
        .and_then(|mem| mem.read_exact_at(&mut started.stack, started.rsp))
        .expect("read the stack through /proc/PID/mem");
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let fields: Vec<u64> = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .skip(44) // field 3 (state) is index 0: field 47 is index 44
        .take(5)
        .map(|f| f.trim().parse().unwrap())
        .collect();
    started.stat.copy_from_slice(&fields);
    Linux::Started(started)
}

fn read_maps(pid: i32) -> Vec<Map> {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    maps.lines()
        .map(|line| {
            let mut f = line.split_whitespace();
            let (start, end) = f.next().unwrap().split_once('-').unwrap();
            let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
            let perms = f.next().unwrap().to_string();
            let offset = hex(f.next().unwrap());
            let path = f.nth(2).unwrap_or("").to_string();
            Map {
                range: hex(start)..hex(end),
                perms,
                offset,
                path,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Halyard

/// Halyard's `execve` up to the point of no return, on host files: the errno, or the
/// arguments and the plan of the program finally loaded.
fn halyard(
    path: &Path,
    argv: &[&[u8]],
    envp: &[&[u8]],
    rlimit_stack: u64,
    dyn_base: u64,
) -> Result<(ExecArgs, LoadPlan), i32> {
    let errno = |e: ExecError| e.errno() as i32;
    let os_errno = |e: io::Error| e.raw_os_error().unwrap();
    let name = path.as_os_str().as_bytes();
    let mut copy = ArgCopy::new(name, argv.len(), envp.len(), rlimit_stack).map_err(errno)?;
    envp.iter()
        .try_for_each(|s| copy.push_env(s))
        .map_err(errno)?;
    argv.iter()
        .try_for_each(|s| copy.push_arg(s))
        .map_err(errno)?;
    let mut args = copy.finish().map_err(errno)?;
    let mut file = fs::File::open(path).map_err(os_errno)?;
    let mut rewrites = 0;
    loop {
        check_interpreter_depth(rewrites).map_err(errno)?;
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut file, &mut bytes).map_err(os_errno)?;
        match Shebang::parse(&bytes).map_err(errno)? {
            Some(script) => {
                args.apply_script(&script).map_err(errno)?;
                let interpreter = Path::new(OsStr::from_bytes(script.interpreter()));
                file = fs::File::open(interpreter).map_err(os_errno)?;
                rewrites += 1;
            }
            None => return Ok((args, LoadPlan::new(&bytes, dyn_base).map_err(errno)?)),
        }
    }
}

/// The auxiliary values Linux chose for `started` (hardware, identity, random bytes), for
/// Halyard to lay out the same stack.
fn linux_aux(started: &Started) -> AuxValues {
    let stack = started.parsed();
    let mem = Mem {
        base: started.rsp,
        bytes: &started.stack,
    };
    let get = |kind| {
        stack
            .aux(kind)
            .unwrap_or_else(|| panic!("Linux gave no aux {kind}"))
    };
    let rseq = stack.aux(AT_RSEQ_FEATURE_SIZE).map(|feature_size| RseqAux {
        feature_size,
        align: get(AT_RSEQ_ALIGN),
    });
    AuxValues {
        hwcap: get(AT_HWCAP),
        hwcap2: stack.aux(AT_HWCAP2),
        uid: get(AT_UID) as u32,
        euid: get(AT_EUID) as u32,
        gid: get(AT_GID) as u32,
        egid: get(AT_EGID) as u32,
        secure: get(AT_SECURE) != 0,
        random: mem.slice(get(AT_RANDOM), 16).try_into().unwrap(),
        sysinfo_ehdr: stack.aux(AT_SYSINFO_EHDR),
        minsigstksz: stack.aux(AT_MINSIGSTKSZ),
        rseq,
    }
}

/// Builds Halyard's stack for what Linux started and asserts it is Linux's, byte for byte,
/// at the same `RSP`, with the same argument and environment ranges.
fn assert_same_stack(args: &ExecArgs, plan: &LoadPlan, started: &Started) {
    assert_eq!(
        started.stack_top, STACK_TOP,
        "Linux's stack top without randomisation"
    );
    let ours = StackImage::build(args, plan, &linux_aux(started), started.stack_top).unwrap();
    let theirs = started.parsed();
    assert_eq!(
        parse_stack(&Mem {
            base: ours.rsp(),
            bytes: ours.bytes()
        }),
        theirs
    );
    assert_eq!(ours.rsp(), started.rsp, "initial RSP");
    if let Some(at) = ours
        .bytes()
        .iter()
        .zip(&started.stack)
        .position(|(a, b)| a != b)
    {
        panic!(
            "stacks differ at {:#x}: Halyard {:02x?}, Linux {:02x?}",
            started.rsp + at as u64,
            &ours.bytes()[at..(at + 16).min(ours.bytes().len())],
            &started.stack[at..(at + 16).min(started.stack.len())]
        );
    }
    assert_eq!(ours.bytes().len(), started.stack.len());
    let [_, arg_start, arg_end, env_start, env_end] = started.stat;
    assert_eq!(ours.args(), arg_start..arg_end, "arg_start..arg_end");
    assert_eq!(ours.env(), env_start..env_end, "env_start..env_end");
}

/// The mappings Linux made for the image: those inside the plan's address range.
fn image_maps(started: &Started, plan: &LoadPlan) -> Vec<Map> {
    let segments = plan.segments();
    let span = segments[0].pages().start..segments.last().unwrap().pages().end;
    let maps = started.maps.iter();
    maps.filter(|m| m.range.start < span.end && span.start < m.range.end)
        .cloned()
        .collect()
}

/// The mappings the plan asks for, as `/proc/PID/maps` would show them.
fn planned_maps(plan: &LoadPlan, path: &Path) -> Vec<Map> {
    let mut maps = Vec::new();
    for s in plan.segments() {
        let p = s.perms();
        let perms: String = [(p.read, 'r'), (p.write, 'w'), (p.exec, 'x')]
            .iter()
            .map(|&(on, c)| if on { c } else { '-' })
            .chain(['p'])
            .collect();
        if !s.file_pages().is_empty() {
            maps.push(Map {
                range: s.file_pages(),
                perms: perms.clone(),
                offset: s.file().start,
                path: path.to_str().unwrap().to_string(),
            });
        }
        if !s.anon_pages().is_empty() {
            maps.push(Map {
                range: s.anon_pages(),
                perms,
                offset: 0,
                path: String::new(),
            });
        }
    }
    maps
}

// ---------------------------------------------------------------------------------------
// Real programs

/// Checks one static Rust program end to end against Linux and against `object`.
fn check_real_program(path: &Path, kind: ImageKind) {
    let bytes = fs::read(path).unwrap();
    let elf = ElfFile64::<LE>::parse(&*bytes).expect("object parses the program");
    let argv: [&[u8]; 3] = [b"prog", b"first arg", b""];
    let envp: [&[u8]; 2] = [b"A=1", b"HOME=/root"];
    let started = linux(path, &argv, &envp, RLIMIT_STACK).started();
    let linux_bias = started.parsed().aux(AT_ENTRY).unwrap() - elf.entry();
    let (args, plan) = halyard(path, &argv, &envp, RLIMIT_STACK, linux_bias).unwrap();

    // The headers as `object` (readelf's view) reads them.
    assert_eq!(plan.kind(), kind);
    assert_eq!(plan.bias(), linux_bias);
    assert_eq!(plan.entry(), elf.entry() + plan.bias());
    let phdrs = elf.elf_program_headers();
    assert_eq!(usize::from(plan.phnum()), phdrs.len());
    let loads: Vec<_> = phdrs
        .iter()
        .filter(|p| p.p_type(LE) == object::elf::PT_LOAD)
        .collect();
    assert_eq!(plan.segments().len(), loads.len());
    for (segment, ph) in plan.segments().iter().zip(&loads) {
        let vaddr = ph.p_vaddr(LE) + plan.bias();
        assert_eq!(segment.pages().start, vaddr / PAGE_SIZE * PAGE_SIZE);
        assert_eq!(
            segment.pages().end,
            (vaddr + ph.p_memsz(LE)).div_ceil(PAGE_SIZE) * PAGE_SIZE
        );
        assert_eq!(segment.zero_from(), vaddr + ph.p_filesz(LE));
        let flags = ph.p_flags(LE).0;
        assert_eq!(segment.perms().exec, flags & object::elf::PF_X.0 != 0);
        assert_eq!(segment.perms().write, flags & object::elf::PF_W.0 != 0);
    }

    // What Linux built: the first RIP, the mappings, the heap start, the stack.
    assert_eq!(started.rip, plan.entry());
    assert_eq!(image_maps(&started, &plan), planned_maps(&plan, path));
    // Linux loads a static-pie in the mmap area and moves its heap to ELF_ET_DYN_BASE;
    // Halyard loads it at DEFAULT_DYN_BASE and starts the heap after it, as for ET_EXEC.
    let linux_brk = match kind {
        ImageKind::Exec => plan.brk(),
        ImageKind::StaticPie => (0x7fff_ffff_f000u64 / 3 * 2).div_ceil(PAGE_SIZE) * PAGE_SIZE,
    };
    assert_eq!(started.stat[0], linux_brk, "start_brk");
    assert_same_stack(&args, &plan, &started);
    assert_eq!(started.finish(), Ended::Exited(0));
}

#[test]
fn static_exec_matches_linux() {
    check_real_program(&rust_programs().1, ImageKind::Exec);
}

#[test]
fn static_pie_matches_linux() {
    check_real_program(&rust_programs().0, ImageKind::StaticPie);
}

// ---------------------------------------------------------------------------------------
// Malformed and unusual ELF files

/// What Linux does with a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// `execve` fails with this errno.
    Refused(i32),
    /// The process dies inside `execve`, after the point of no return.
    KilledInExec,
    /// The program runs and exits with 0.
    Exits0,
    /// The program starts and crashes at once.
    Crashes,
}

fn observe(path: &Path) -> Expect {
    match linux(path, &[b"x"], &[], RLIMIT_STACK) {
        Linux::Refused(errno) => Expect::Refused(errno),
        Linux::Killed(libc::SIGSEGV) => Expect::KilledInExec,
        Linux::Started(started) => match started.finish() {
            Ended::Exited(0) => Expect::Exits0,
            Ended::Signaled(libc::SIGSEGV) => Expect::Crashes,
            other => panic!("{path:?} ended with {other:?}"),
        },
        other => panic!("{path:?}: {other:?}"),
    }
}

fn exec_with(change: impl FnOnce(&mut ElfImage)) -> Vec<u8> {
    let mut image = ElfImage::exec();
    change(&mut image);
    image.bytes()
}

fn byte_at(at: usize, value: u8) -> Vec<u8> {
    let mut bytes = ElfImage::exec().bytes();
    bytes[at] = value;
    bytes
}

/// What Linux does with a segment in page zero: root (CAP_SYS_RAWIO) may map it.
fn page_zero_outcome() -> Expect {
    // SAFETY: plain system call without arguments.
    let root = unsafe { libc::geteuid() } == 0;
    let min = fs::read_to_string("/proc/sys/vm/mmap_min_addr").expect("mmap_min_addr");
    if root || min.trim() == "0" {
        Expect::Exits0
    } else {
        Expect::KilledInExec
    }
}

/// Every rule of the ELF loader, next to what Linux does with the same file. Where Linux
/// does not refuse, Halyard is deliberately stricter (see `load_plan.rs`).
#[test]
fn elf_rules_against_linux() {
    use NoExecReason::*;
    let headers = |n: u16| {
        move |i: &mut ElfImage| {
            i.phnum = n;
            i.phoff = 0x3000;
            i.len = 0x3000 + 56 * usize::from(n);
        }
    };
    let segment = |index: usize, change: fn(&mut Phdr)| exec_with(|i| change(&mut i.phdrs[index]));
    let mut bad_sections = ElfImage::exec().bytes();
    bad_sections[40..48].fill(0xee);
    let mut interp = exec_with(|i| {
        i.phdrs[4].p_type = PT_INTERP;
        (i.phdrs[4].offset, i.phdrs[4].filesz) = (0x180, 15);
    });
    interp[0x180..0x18f].copy_from_slice(b"/nonexistent/x\0");
    let no_load = exec_with(|i| i.phdrs.iter_mut().for_each(|p| p.p_type = PT_NOTE));

    // Both run these.
    let accepted = [
        ("ET_EXEC", ElfImage::exec().bytes()),
        ("static-pie", ElfImage::static_pie().bytes()),
        ("executable stack", segment(4, |p| p.flags = 7)),
        ("bad section headers", bad_sections),
        ("1170 program headers", exec_with(headers(1170))),
    ];
    // Both refuse these before the point of no return (Linux's errno in the last column).
    let refused = [
        (
            "40-byte file",
            ElfImage::exec().bytes()[..40].to_vec(),
            UnknownFormat,
            ENOEXEC,
        ),
        ("not ELF", byte_at(1, b'X'), UnknownFormat, ENOEXEC),
        ("i386", exec_with(|i| i.machine = 3), WrongMachine, ENOEXEC),
        ("ET_REL", exec_with(|i| i.e_type = 1), WrongType, ENOEXEC),
        ("ET_CORE", exec_with(|i| i.e_type = 4), WrongType, ENOEXEC),
        (
            "phentsize 32",
            exec_with(|i| i.phentsize = 32),
            BadProgramHeaders,
            ENOEXEC,
        ),
        (
            "no headers",
            exec_with(|i| i.phnum = 0),
            BadProgramHeaders,
            ENOEXEC,
        ),
        (
            "1171 headers",
            exec_with(headers(1171)),
            BadProgramHeaders,
            ENOEXEC,
        ),
        (
            "headers past the end",
            exec_with(|i| i.phoff = 0x2100),
            BadProgramHeaders,
            ENOEXEC,
        ),
        // Linux's errno depends on the interpreter: ENOENT for a missing one.
        ("PT_INTERP", interp, DynamicallyLinked, ENOENT),
    ];
    // Linux kills the process inside execve, after the point of no return.
    let killed = [
        (
            "filesz > memsz",
            segment(3, |p| p.filesz = 0x3000),
            FileSizeOverMemSize,
        ),
        ("misaligned", segment(3, |p| p.vaddr += 8), Misaligned),
        (
            "above user space",
            segment(3, |p| p.vaddr = 0x7fff_ffff_e000),
            OutsideUserSpace,
        ),
    ];
    // Linux starts these; the last column says whether they survive.
    let started = [
        // Linux looks at neither EI_CLASS, EI_DATA nor EI_VERSION.
        ("ELFCLASS32", byte_at(4, 1), UnsupportedElf, Expect::Exits0),
        ("big-endian", byte_at(5, 2), UnsupportedElf, Expect::Exits0),
        (
            "EI_VERSION 0",
            byte_at(6, 0),
            UnsupportedElf,
            Expect::Exits0,
        ),
        // Linux maps past the end of the file; touching those pages is SIGBUS.
        (
            "past the end",
            segment(3, |p| p.filesz = 0x200),
            SegmentBeyondFile,
            Expect::Exits0,
        ),
        // As root (CAP_SYS_RAWIO) Linux maps page zero; others get SIGSEGV in execve.
        (
            "page zero",
            segment(1, |p| p.vaddr = 0),
            OutsideUserSpace,
            page_zero_outcome(),
        ),
        // The later segment is mapped over the earlier one: the code is gone.
        (
            "overlap",
            segment(3, |p| p.vaddr = 0x40_1000),
            Overlap,
            Expect::Crashes,
        ),
        ("no PT_LOAD", no_load, NoLoadSegments, Expect::Crashes),
        // W^X is Halyard's policy, not Linux's.
        (
            "RWX segment",
            segment(2, |p| p.flags = 7),
            WritableAndExecutable,
            Expect::Exits0,
        ),
    ];
    let accepted = accepted
        .into_iter()
        .map(|(name, file)| (name, file, None, Expect::Exits0));
    let refused = refused
        .into_iter()
        .map(|(name, file, reason, errno)| (name, file, Some(reason), Expect::Refused(errno)));
    let killed = killed
        .into_iter()
        .map(|(name, file, reason)| (name, file, Some(reason), Expect::KilledInExec));
    let started = started
        .into_iter()
        .map(|(name, file, reason, end)| (name, file, Some(reason), end));
    let mut failures = Vec::new();
    for (name, bytes, ours, expected) in accepted.chain(refused).chain(killed).chain(started) {
        let got_ours = match LoadPlan::new(&bytes, halyard_exec::DEFAULT_DYN_BASE) {
            Ok(_) => None,
            Err(ExecError::NoExec(reason)) => Some(reason),
            Err(other) => panic!("{name}: {other:?}"),
        };
        let path = write_program(&format!("elf-{}", name.replace(' ', "-")), &bytes);
        let got_linux = observe(&path);
        if (got_ours, got_linux) != (ours, expected) {
            failures.push(format!(
                "{name}: Halyard {got_ours:?} (expected {ours:?}), Linux {got_linux:?} (expected {expected:?})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Scripts

/// The outcome of one `execve` on both kernels must agree: the same errno, or both started
/// with the same stack (which holds the rewritten argv and AT_EXECFN).
fn same_exec(path: &Path, argv: &[&[u8]], envp: &[&[u8]]) -> Result<(), String> {
    let ours = halyard(path, argv, envp, RLIMIT_STACK, 0);
    match (ours, linux(path, argv, envp, RLIMIT_STACK)) {
        (Err(a), Linux::Refused(b)) if a == b => Ok(()),
        (Ok((args, plan)), Linux::Started(started)) => {
            assert_same_stack(&args, &plan, &started);
            match started.finish() {
                Ended::Exited(0) => Ok(()),
                other => Err(format!("{path:?} ended with {other:?}")),
            }
        }
        (ours, theirs) => Err(format!("{path:?}: Halyard {ours:?}, Linux {theirs:?}")),
    }
}

fn script(name: &str, interpreter: &Path, rest: &[u8]) -> PathBuf {
    let line = [b"#!".as_slice(), interpreter.as_os_str().as_bytes(), rest].concat();
    write_program(name, &line)
}

/// binfmt_script's parsing on both kernels, including its odd corners.
#[test]
fn scripts_match_linux() {
    let interp = &rust_programs().1;
    let mut long = b" ".to_vec();
    long.resize(400, b'x');
    let tails: [&[u8]; 9] = [
        b"\necho\n",
        b" -x\n",
        b"  \t a  b \t\nrest\n",
        b"   ", // no newline, trailing blanks: an empty argument
        b"\0 -x\n",
        b" -e\0junk\n",
        b"\t-a\t\n",
        &long,        // no newline within 256 bytes
        b"-suffix\n", // names a missing interpreter
    ];
    let argv: [&[u8]; 3] = [b"argv0", b"one", b"two"];
    for (i, tail) in tails.iter().enumerate() {
        let path = script(&format!("script-{i}"), interp, tail);
        same_exec(&path, &argv, &[b"X=1"]).unwrap();
    }
    for (i, text) in [&b"#!\n"[..], b"#!/nonexistent\n"].iter().enumerate() {
        let path = write_program(&format!("bad-script-{i}"), text);
        same_exec(&path, &argv, &[]).unwrap();
    }
    // A file that is "#!" and blanks names the empty interpreter path, which Linux looks
    // up as the working directory: EACCES, a directory is not executable.
    for (i, text) in [&b"#!"[..], b"#!  \t"].iter().enumerate() {
        let path = write_program(&format!("empty-interpreter-{i}"), text);
        let script = Shebang::parse(text).unwrap().unwrap();
        assert_eq!((script.interpreter(), script.argument()), (&b""[..], None));
        assert!(matches!(
            linux(&path, &argv, &[], RLIMIT_STACK),
            Linux::Refused(libc::EACCES)
        ));
    }
    let mut cut = b"#!/".to_vec();
    cut.resize(300, b'a');
    same_exec(&write_program("cut-script", &cut), &argv, &[]).unwrap();
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Random `#!` lines (blanks, newlines, zero bytes, words, past 256 bytes or not) after
    /// a real interpreter path: the same errno or the same stack on both kernels.
    #[test]
    fn random_script_lines_match_linux(
        blanks in proptest::collection::vec(proptest::sample::select(b" \t".to_vec()), 0..3),
        tail in proptest::collection::vec(proptest::sample::select(b" \t\n\0a-".to_vec()), 0..300),
    ) {
        static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let case = CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let interp = rust_programs().1.as_os_str().as_bytes();
        let line = [b"#!".as_slice(), &blanks, interp, &tail].concat();
        let path = write_program(&format!("random-script-{case}"), &line);
        same_exec(&path, &[b"s", b"x"], &[]).map_err(proptest::test_runner::TestCaseError::fail)?;
    }
}

/// Five nested scripts run, six are ELOOP (and a missing interpreter at the sixth level is
/// still ENOENT, because the interpreter is opened before the depth is checked).
#[test]
fn script_depth_matches_linux() {
    let mut interpreter = rust_programs().1.clone();
    let argv: [&[u8]; 2] = [b"s", b"arg"];
    for depth in 1..=6 {
        interpreter = script(&format!("nested-{depth}"), &interpreter, b" -v\n");
        let expected_ok = depth <= halyard_exec::MAX_INTERPRETER_DEPTH;
        same_exec(&interpreter, &argv, &[]).unwrap();
        assert_eq!(
            halyard(&interpreter, &argv, &[], RLIMIT_STACK, 0).is_ok(),
            expected_ok
        );
    }
    let mut missing = PathBuf::from("/nonexistent");
    for depth in 1..=6 {
        missing = script(&format!("nested-missing-{depth}"), &missing, b"\n");
    }
    assert_eq!(
        halyard(&missing, &argv, &[], RLIMIT_STACK, 0).unwrap_err(),
        libc::ENOENT
    );
    same_exec(&missing, &argv, &[]).unwrap();
}

// ---------------------------------------------------------------------------------------
// Argument limits

/// Four variables holding `total` bytes with their zero bytes (a string is at most 32
/// pages).
fn variables(total: u64) -> Vec<Vec<u8>> {
    let sizes = [total / 4, total / 4, total / 4, total - 3 * (total / 4)];
    sizes
        .iter()
        .map(|&size| [b"E=".as_slice(), &vec![b'e'; size as usize - 3]].concat())
        .collect()
}

/// The largest `total` in `lo..hi` for which `fits` holds (it holds at `lo`, not at `hi`).
fn largest(mut lo: u64, mut hi: u64, fits: impl Fn(u64) -> bool) -> u64 {
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The limits on the strings, on both kernels, to the byte, under stack limits that make
/// each rule the binding one: 1 MiB (a quarter of it), 200 KiB (the 128 KiB floor), 64 KiB
/// and 80 KiB + 100 bytes (the stack limit itself). One byte past Halyard's largest
/// environment Linux says E2BIG too. Between the strings fitting and the whole stack
/// fitting, Linux kills the process in `execve` where Halyard says E2BIG.
#[test]
fn argument_limits_match_linux() {
    let path = &rust_programs().1;
    // Linux's auxiliary vector has optional entries: lay out the same ones.
    let aux = linux_aux(&linux(path, &[b"p"], &[], RLIMIT_STACK).started());
    for rlimit in [1 << 20, 200 << 10, 64 << 10, (80 << 10) + 100] {
        let run = |total: u64| {
            let envs = variables(total);
            let envp: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
            let ours = halyard(path, &[b"p"], &envp, rlimit, 0);
            let stack = ours
                .as_ref()
                .ok()
                .map(|(args, plan)| StackImage::build(args, plan, &aux, STACK_TOP));
            (ours, stack, linux(path, &[b"p"], &envp, rlimit))
        };
        let copied = |total| {
            let envs = variables(total);
            let envp: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
            halyard(path, &[b"p"], &envp, rlimit, 0).is_ok()
        };
        let most = largest(100, 8 << 20, copied);
        let (ours, _, theirs) = run(most + 1);
        assert_eq!(ours.unwrap_err(), libc::E2BIG);
        assert!(
            matches!(theirs, Linux::Refused(libc::E2BIG)),
            "{rlimit}: {theirs:?}"
        );
        let stacked = |total| matches!(run(total).1, Some(Ok(_)));
        let most_stacked = largest(100, most + 1, stacked);
        let (ours, _, theirs) = run(most_stacked);
        let (args, plan) = ours.unwrap();
        assert_same_stack(&args, &plan, &theirs.started());
        if most_stacked < most {
            let (_, stack, theirs) = run(most_stacked + 1);
            assert_eq!(stack.unwrap().unwrap_err().errno(), libc::E2BIG as u32);
            assert!(
                matches!(theirs, Linux::Killed(libc::SIGSEGV)),
                "{rlimit}: {theirs:?}"
            );
        }
    }
    for (len, fits) in [(MAX_ARG_STRLEN - 1, true), (MAX_ARG_STRLEN, false)] {
        let arg = vec![b'a'; len];
        let ours = halyard(path, &[b"p", &arg], &[], RLIMIT_STACK, 0);
        assert_eq!(ours.is_ok(), fits);
        match linux(path, &[b"p", &arg], &[], RLIMIT_STACK) {
            Linux::Started(_) => assert!(fits, "Linux took a {len}-byte string"),
            Linux::Refused(errno) => assert_eq!((fits, errno), (false, libc::E2BIG)),
            other => panic!("{other:?}"),
        }
    }
    same_exec(path, &[], &[b"A=1"]).unwrap();
}
