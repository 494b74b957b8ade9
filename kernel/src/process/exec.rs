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
use vm::{AddressSpace, Errno as VmErrno, FileRef, Layout, MmapArgs, Perms, SharedId};

use super::mm::{pte_flags, Mm};
use crate::mm::{page_refs, phys_to_virt, PAGE_SIZE};
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

/// `mmap` without files: exec maps only anonymous memory.
struct AnonOnly;

impl vm::Backing for AnonOnly {
    fn file(&mut self) -> Result<FileRef, VmErrno> {
        Err(VmErrno::EBADF)
    }
    fn new_shared(&mut self, _len: u64) -> Result<SharedId, VmErrno> {
        Err(VmErrno::EINVAL)
    }
}

fn map_fixed(space: &mut AddressSpace, addr: u64, len: u64, perms: Perms, extra: u32) -> Result<(), Errno> {
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
        .mmap(args, &mut AnonOnly, &mut changes)
        .map_err(|e| Errno(e.code()))?;
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
    let err = |e: halyard_exec::ExecError| Errno(e.errno());
    let mut copy = halyard_exec::ArgCopy::new(path, argv.len(), envp.len(), STACK_LIMIT).map_err(err)?;
    for e in envp {
        copy.push_env(e).map_err(err)?;
    }
    for a in argv {
        copy.push_arg(a).map_err(err)?;
    }
    copy.finish().map_err(err)
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
    let stack = StackImage::build(args, &plan, &aux_values(random), STACK_TOP)
        .map_err(|e| Errno(e.errno()))?;
    let mut space = AddressSpace::new(Layout::linux(STACK_LIMIT, None));
    for seg in plan.segments() {
        let pages = seg.pages();
        map_fixed(&mut space, pages.start, pages.end - pages.start, seg.perms().into_vm(), 0)?;
    }
    let stack_base = (stack.rsp() & !(PAGE_SIZE - 1)).min(STACK_TOP - INITIAL_STACK);
    map_fixed(&mut space, stack_base, STACK_TOP - stack_base, Perms::RW, MAP_GROWSDOWN)?;
    let brk = plan.brk();
    space.init_brk(brk, 0);
    let mm = Mm::new(space).map_err(|_| Errno::ENOMEM)?;
    mm.with_state(|state| -> Result<(), Errno> {
        for seg in plan.segments() {
            let flags = pte_flags(seg.perms().into_vm());
            let file_range = seg.file();
            let start = seg.pages().start;
            for page in seg.file_pages().step_by(PAGE_SIZE as usize) {
                let frame = page_refs::alloc_zeroed().ok_or(Errno::ENOMEM)?;
                let from = file_range.start + (page - start);
                let to = (from + PAGE_SIZE).min(file_range.end);
                if from < to {
                    let bytes = &file[from as usize..to as usize];
                    // SAFETY: the frame is new and ours; the copy stays inside it.
                    unsafe {
                        core::ptr::copy_nonoverlapping(
                            bytes.as_ptr(),
                            phys_to_virt(frame) as *mut u8,
                            bytes.len(),
                        )
                    };
                }
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
