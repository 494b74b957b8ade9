//! Building a new program image: `halyard-exec` decides, this file does the memory work.
//!
//! Everything that can fail is done on a new, separate address space: the arguments are
//! copied, the ELF plan and the initial stack are built, the segments are filled. Only a
//! complete image replaces the caller's (the point of no return is the caller's swap of
//! [`Image::mm`]), so a refused `execve` leaves the caller as it was.
use alloc::sync::Arc;
use alloc::vec::Vec;

use halyard_exec::{AuxValues, ExecArgs, LoadPlan, StackImage, DEFAULT_DYN_BASE, STACK_TOP};
use linux_raw_sys::general::{MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE};
use vm::{AddressSpace, Layout, MmapArgs, Perms};

use super::mm::{pte_flags, Mm};
use crate::mm::{page_refs, PAGE_SIZE};
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

fn map_fixed(
    space: &mut AddressSpace,
    addr: u64,
    len: u64,
    perms: Perms,
    extra: u32,
) -> Result<(), Errno> {
    let prot = u64::from(perms.read) | u64::from(perms.write) << 1 | u64::from(perms.exec) << 2;
    let args = MmapArgs {
        addr,
        len,
        prot,
        flags: u64::from(MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | extra),
        offset: 0,
    };
    let mut changes = Vec::new();
    space
        .mmap(args, &mut super::mm::Backing::anonymous(), &mut changes)
        .map_err(Errno::from)?;
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

/// Builds the image of ELF file `file` for `args`.
pub fn build(file: &[u8], args: &ExecArgs) -> Result<Image, Errno> {
    let random = crate::random::array::<16>();
    let plan = LoadPlan::new(file, DEFAULT_DYN_BASE).map_err(|e| {
        crate::info!("execve: {}", e);
        Errno(e.errno())
    })?;
    let stack =
        StackImage::build(args, &plan, &aux_values(random), STACK_TOP).map_err(Errno::from)?;
    let mut space = AddressSpace::new(Layout::linux(STACK_LIMIT, None));
    for seg in plan.segments() {
        let pages = seg.pages();
        map_fixed(
            &mut space,
            pages.start,
            pages.end - pages.start,
            seg.perms().into_vm(),
            0,
        )?;
    }
    let stack_base = (stack.rsp() & !(PAGE_SIZE - 1)).min(STACK_TOP - INITIAL_STACK);
    map_fixed(
        &mut space,
        stack_base,
        STACK_TOP - stack_base,
        Perms::RW,
        MAP_GROWSDOWN,
    )?;
    let brk = plan.brk();
    space.init_brk(brk, 0);
    let mm = Mm::new(space).map_err(|_| Errno::ENOMEM)?;
    mm.with_state(|state| -> Result<(), Errno> {
        for seg in plan.segments() {
            let flags = pte_flags(seg.perms().into_vm());
            let file_range = seg.file();
            let start = seg.pages().start;
            for page in seg.file_pages().step_by(PAGE_SIZE as usize) {
                let from = file_range.start + (page - start);
                let to = (from + PAGE_SIZE).min(file_range.end);
                let bytes = file.get(from as usize..to as usize).unwrap_or(&[]);
                let frame = page_refs::alloc_filled(|p| p[..bytes.len()].copy_from_slice(bytes))
                    .ok_or(Errno::ENOMEM)?;
                if state.tables.map(page, frame, flags).is_err() {
                    page_refs::release(frame);
                    return Err(Errno::ENOMEM);
                }
            }
        }
        Ok(())
    })?;
    super::usercopy::write_bytes(&mm, super::usercopy::UserAddr(stack.rsp()), stack.bytes())?;
    Ok(Image {
        mm: Arc::new(mm),
        entry: plan.entry(),
        rsp: stack.rsp(),
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
            .getrlimit(task.tid, linux_raw_sys::general::RLIMIT_STACK)
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
    let mut exe;
    let mut rewrites = 0;
    let image = loop {
        halyard_exec::check_interpreter_depth(rewrites).map_err(Errno::from)?;
        let (bytes, canonical) = crate::syscall::fs::read_executable(&file)?;
        exe = canonical;
        match halyard_exec::Shebang::parse(&bytes).map_err(Errno::from)? {
            Some(script) => {
                args.apply_script(&script).map_err(Errno::from)?;
                file = script.interpreter().to_vec();
                rewrites += 1;
            }
            None => break build(&bytes, &args)?,
        }
    };
    // Point of no return.
    let thread = crate::sched::current();
    crate::arch::cpu::without_interrupts(|| {
        thread
            .user_cr3
            .store(image.mm.root(), core::sync::atomic::Ordering::Relaxed);
        // SAFETY: the new tables map the kernel half like every user address space.
        unsafe { crate::arch::cpu::write_cr3(image.mm.root()) };
    });
    drop(task.process.replace_mm(image.mm.clone()));
    drop(old_mm);
    let closed = task.process.files.lock().close_on_exec();
    drop(closed);
    let _ = task.process.signals.lock().exec(task.tid);
    // Linux's `begin_new_exec`: dumpable again, unless the effective ids differ from the
    // real ones (then `suid_dumpable`, whose default 0 Halyard follows).
    let dumpable = super::table::with(|p| {
        p.table
            .creds(task.tid)
            .is_some_and(|c| c.euid == c.ruid && c.egid == c.rgid)
    });
    task.process
        .dumpable
        .store(dumpable, core::sync::atomic::Ordering::Relaxed);
    let _ = super::table::with(|p| p.table.exec(task.tid));
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
