//! Building a new program image: `halyard-exec` decides, this file does the memory work.
//!
//! Everything that can fail is done on a new, separate address space: the arguments are
//! copied, the ELF plan (from the file's headers alone) and the initial stack are built,
//! the segments are mapped from the file (demand-paged through the page cache, as Linux
//! maps them). Only a complete image replaces the caller's (the point of no return is the
//! caller's swap of [`Image::mm`]), so a refused `execve` leaves the caller as it was.
use alloc::sync::Arc;
use alloc::vec::Vec;

use halyard_exec::{AuxValues, ExecArgs, LoadPlan, StackImage, DEFAULT_DYN_BASE, STACK_TOP};
use linux_raw_sys::general::{MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE};
use vm::{AddressSpace, Layout, MmapArgs, Perms};

use super::file_map::MappedFile;
use super::mm::{pte_flags, Backing, Mm, PageError};
use crate::mm::{page_refs, PAGE_SIZE};
use crate::syscall::fs::Executable;
use crate::syscall::Errno;

/// Size of the stack region mapped at exec (it grows down on demand from there).
const INITIAL_STACK: u64 = 128 * 1024;
/// The default `RLIMIT_STACK` (8 MiB, as Linux's).
pub const STACK_LIMIT: u64 = 8 << 20;

/// A new program, ready to run.
pub struct Image {
    pub mm: Arc<Mm>,
    pub entry: u64,
    pub rsp: u64,
}

/// Maps `[addr, addr + len)` with `perms` at a fixed address: anonymous memory, or the file
/// of `backing` from byte `offset` (a private mapping, demand-paged from the page cache).
fn map_fixed(
    mm: &Mm,
    addr: u64,
    len: u64,
    perms: Perms,
    extra: u32,
    backing: (Backing, u64),
) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    let prot = u64::from(perms.read) | u64::from(perms.write) << 1 | u64::from(perms.exec) << 2;
    let (backing, offset) = backing;
    let anonymous = if backing.maps_file() {
        0
    } else {
        MAP_ANONYMOUS
    };
    let args = MmapArgs {
        addr,
        len,
        prot,
        flags: u64::from(MAP_FIXED | MAP_PRIVATE | anonymous | extra),
        offset,
    };
    mm.mmap(args, backing).map_err(Errno::from)?;
    Ok(())
}

/// The values of the auxiliary vector that come from the kernel.
fn aux_values(random: [u8; 16]) -> AuxValues {
    let hwcap = u64::from(core::arch::x86_64::__cpuid(1).edx);
    AuxValues {
        hwcap,
        random,
        ..AuxValues::default()
    }
}

/// Copies kernel-supplied arguments (init's) under Linux's limits.
pub fn copy_kernel_args(path: &[u8], argv: &[&[u8]], envp: &[&[u8]]) -> Result<ExecArgs, Errno> {
    let mut copy = halyard_exec::ArgCopy::new(path, argv.len(), envp.len(), STACK_LIMIT)
        .map_err(Errno::from)?;
    for e in envp {
        copy.push_env(e).map_err(Errno::from)?;
    }
    for a in argv {
        copy.push_arg(a).map_err(Errno::from)?;
    }
    copy.finish().map_err(Errno::from)
}

/// `comm` of a program: the last component of its path, at most 15 bytes (Linux's
/// `TASK_COMM_LEN` - 1).
pub fn comm(path: &[u8]) -> alloc::string::String {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    alloc::string::String::from_utf8_lossy(&name[..name.len().min(15)]).into_owned()
}

/// `/proc/PID/cmdline`: the argument strings, each NUL-terminated.
pub fn cmdline(args: &ExecArgs) -> Vec<u8> {
    let mut out = Vec::new();
    for a in args.argv() {
        out.extend_from_slice(a);
        out.push(0);
    }
    out
}

/// The load plan of program `exe`, from its headers alone.
fn plan(exe: &Executable) -> Result<LoadPlan, Errno> {
    let refused = |e: halyard_exec::ExecError| {
        crate::info!("execve: {}", e);
        Errno(e.errno())
    };
    let range = LoadPlan::program_header_range(&exe.head).map_err(refused)?;
    let (start, len) = (range.start, (range.end - range.start) as usize);
    let read;
    let table = match exe.head.get(start as usize..range.end as usize) {
        Some(table) => table,
        None => {
            read = exe.read(start, len);
            &read
        }
    };
    LoadPlan::from_headers(&exe.head, table, exe.size, DEFAULT_DYN_BASE).map_err(refused)
}

/// Builds the image of ELF program `exe` for `args`. The segments are private mappings
/// of the file, paged in from the page cache when first touched (Linux's `elf_map`);
/// only the page where a segment's file bytes end is made here, as a private copy
/// whose rest is zero (Linux's `padzero`), and the `.bss` beyond it is anonymous.
pub fn build(exe: &Executable, args: &ExecArgs) -> Result<Image, Errno> {
    let random = crate::random::array::<16>();
    let plan = plan(exe)?;
    let stack =
        StackImage::build(args, &plan, &aux_values(random), STACK_TOP).map_err(Errno::from)?;
    let mm =
        Mm::new(AddressSpace::new(Layout::linux(STACK_LIMIT, None))).map_err(|_| Errno::ENOMEM)?;
    let (file, mapped) = super::file_map::describe(exe.file.clone());
    let mapped = mapped.ok_or(Errno::EACCES)?;
    let anonymous = || (Backing::anonymous(), 0);
    for seg in plan.segments() {
        let perms = seg.perms().into_vm();
        let pages = seg.file_pages();
        let from_file = (
            Backing::file((file, Some(mapped.clone()))),
            seg.file().start,
        );
        map_fixed(
            &mm,
            pages.start,
            pages.end - pages.start,
            perms,
            0,
            from_file,
        )?;
        let anon = seg.anon_pages();
        map_fixed(
            &mm,
            anon.start,
            anon.end - anon.start,
            perms,
            0,
            anonymous(),
        )?;
    }
    let stack_base = (stack.rsp() & !(PAGE_SIZE - 1)).min(STACK_TOP - INITIAL_STACK);
    let stack_len = STACK_TOP - stack_base;
    map_fixed(
        &mm,
        stack_base,
        stack_len,
        Perms::RW,
        MAP_GROWSDOWN,
        anonymous(),
    )?;
    mm.with(|space, _| space.init_brk(plan.brk(), 0));
    for seg in plan.segments() {
        pad_zero(&mm, &mapped, seg)?;
    }
    super::usercopy::write_bytes(&mm, super::usercopy::UserAddr(stack.rsp()), stack.bytes())?;
    Ok(Image {
        mm: Arc::new(mm),
        entry: plan.entry(),
        rsp: stack.rsp(),
    })
}

/// Maps the page where `seg`'s file bytes end mid-page as a private copy of the file page
/// with zeros from [`halyard_exec::Segment::zero_from`] on (a mapping of the file would
/// show the bytes that follow the segment in the file there).
fn pad_zero(mm: &Mm, file: &MappedFile, seg: &halyard_exec::Segment) -> Result<(), Errno> {
    let keep = (seg.zero_from() % PAGE_SIZE) as usize;
    if keep == 0 {
        return Ok(());
    }
    let page = seg.zero_from() - keep as u64;
    let offset = seg.file().start + (page - seg.pages().start);
    let cached = super::file_map::read_page(file, offset).map_err(|e| match e {
        PageError::OutOfMemory => Errno::ENOMEM,
        _ => Errno::EIO, // the file shrank since its headers were read
    })?;
    // SAFETY: the cached frame is RAM in the direct map, never written once filled.
    let bytes =
        unsafe { core::slice::from_raw_parts(crate::mm::phys_to_virt(cached) as *const u8, keep) };
    let frame = page_refs::alloc_filled(|p| p[..keep].copy_from_slice(bytes));
    page_refs::release(cached);
    let frame = frame.ok_or(Errno::ENOMEM)?;
    let flags = pte_flags(seg.perms().into_vm());
    mm.with_state(|state| state.tables.map(page, frame, flags))
        .map_err(|_| {
            page_refs::release(frame);
            Errno::ENOMEM
        })
}

/// Conversion of the ELF crate's rights into the region map's.
trait IntoVm {
    fn into_vm(self) -> Perms;
}

impl IntoVm for halyard_exec::Perms {
    fn into_vm(self) -> Perms {
        Perms {
            read: self.read,
            write: self.write,
            exec: self.exec,
        }
    }
}

/// Reads a NULL-terminated array of string pointers (`argv`/`envp`); a NULL array is
/// empty. `E2BIG` beyond `MAX_ARG_STRINGS` pointers.
fn pointer_array(mm: &Mm, addr: u64) -> Result<Vec<u64>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    loop {
        let at = addr
            .checked_add(out.len() as u64 * 8)
            .ok_or(Errno::EFAULT)?;
        let p: u64 = super::usercopy::read(mm, super::usercopy::UserRef::new(at))?;
        if p == 0 {
            return Ok(out);
        }
        if out.len() >= halyard_exec::MAX_ARG_STRINGS {
            return Err(Errno::E2BIG);
        }
        out.push(p);
    }
}

/// `execve(path, argv, envp)`: everything that can fail happens before the point of no
/// return; after it the calling thread runs the new program (`frame` is rewritten).
pub fn execve(
    frame: &mut crate::arch::entry::InterruptFrame,
    path: u64,
    argv: u64,
    envp: u64,
) -> Result<u64, Errno> {
    let task = super::current();
    let old_mm = task.process.mm();
    let filename = crate::syscall::fs::path(path)?;
    let argv = pointer_array(&old_mm, argv)?;
    let envp = pointer_array(&old_mm, envp)?;
    let limit = super::table::with(|p| {
        p.table
            .getrlimit(task.tid(), linux_raw_sys::general::RLIMIT_STACK)
    })
    .map(|r| r.cur)
    .unwrap_or(STACK_LIMIT);
    let mut copy = halyard_exec::ArgCopy::new(&filename, argv.len(), envp.len(), limit)
        .map_err(Errno::from)?;
    let string = |p: u64| {
        super::usercopy::read_cstr(
            &old_mm,
            super::usercopy::UserAddr(p),
            halyard_exec::MAX_ARG_STRLEN,
        )
        .map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })
    };
    for &p in &envp {
        copy.push_env(&string(p)?).map_err(Errno::from)?;
    }
    for &p in &argv {
        copy.push_arg(&string(p)?).map_err(Errno::from)?;
    }
    let mut args = copy.finish().map_err(Errno::from)?;
    let mut file = filename.clone();
    let exe;
    let mut rewrites = 0;
    let image = loop {
        halyard_exec::check_interpreter_depth(rewrites).map_err(Errno::from)?;
        let program = Executable::open(&file)?;
        match halyard_exec::Shebang::parse(&program.head).map_err(Errno::from)? {
            Some(script) => {
                args.apply_script(&script).map_err(Errno::from)?;
                file = script.interpreter().to_vec();
                rewrites += 1;
            }
            None => {
                exe = program.path.clone();
                break build(&program, &args)?;
            }
        }
    };
    super::de_thread::end_other_threads(&task)?;
    // Point of no return.
    let thread = crate::sched::current();
    crate::arch::cpu::without_interrupts(|| {
        thread
            .user_cr3
            .store(image.mm.root(), core::sync::atomic::Ordering::Relaxed);
        crate::arch::tlb::load(image.mm.root());
    });
    drop(task.process.replace_mm(image.mm.clone()));
    drop(old_mm);
    let closed = task.process.files.lock().close_on_exec();
    drop(closed);
    let _ = task
        .process
        .signals
        .lock()
        .exec(task.tid(), task.process.pid);
    // Linux's `begin_new_exec`: dumpable again, unless the effective ids differ from the
    // real ones (then `suid_dumpable`, whose default 0 Halyard follows).
    let dumpable = super::table::with(|p| {
        p.table
            .creds(task.tid())
            .is_some_and(|c| c.euid == c.ruid && c.egid == c.rgid)
    });
    task.process
        .dumpable
        .store(dumpable, core::sync::atomic::Ordering::Relaxed);
    let _ = super::table::with(|p| p.table.exec(task.tid()));
    super::de_thread::take_over_leader(&task);
    *task.process.name.lock() = comm(&filename);
    *task.process.exe.lock() = (exe, cmdline(&args));
    task.release_vfork();
    thread.set_user_fs(0);
    thread.set_user_gs(0);
    *frame = super::initial_regs(image.entry, image.rsp);
    frame.vector = crate::arch::entry::SYSCALL_VECTOR;
    frame.error_code = u64::MAX;
    // SAFETY: the entry path saved the user FPU state there; the new program starts clean.
    let fx = unsafe { &mut *crate::arch::entry::user_fx_area(thread.stack_top) };
    *fx = crate::arch::entry::FxArea::initial();
    crate::arch::fpu::load_user_x87(fx);
    Ok(0)
}
