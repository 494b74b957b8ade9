//! Memory system calls: the region map (`halyard-vm`) decides, [`crate::process::mm`]
//! changes the page tables.
use vm::MmapArgs;

use super::SysResult;

use crate::process::mm::Backing;

fn mm() -> alloc::sync::Arc<crate::process::mm::Mm> {
    crate::process::current().process.mm()
}

/// `brk(addr)`.
pub fn brk(addr: u64) -> SysResult {
    Ok(mm().with(|space, out| space.brk(addr, out)))
}

/// `mmap(addr, len, prot, flags, fd, offset)`.
pub fn mmap(addr: u64, len: u64, prot: u64, flags: u64, fd: u64, offset: u64) -> SysResult {
    let args = MmapArgs {
        addr,
        len,
        prot,
        flags,
        offset,
    };
    let backing = Backing::for_mmap(flags, fd);
    let maps_file = backing.maps_file();
    let mapped = mm().mmap(args, backing);
    if mapped == Err(vm::Errno::ENODEV) && maps_file {
        crate::info!(
            "mmap: MAP_SHARED|PROT_WRITE of a file: Halyard writes no file pages back (ENODEV)"
        );
    }
    Ok(mapped?.addr)
}

/// `munmap(addr, len)`.
pub fn munmap(addr: u64, len: u64) -> SysResult {
    mm().with(|space, out| space.munmap(addr, len, out))?;
    Ok(0)
}

/// `mprotect(addr, len, prot)`.
pub fn mprotect(addr: u64, len: u64, prot: u64) -> SysResult {
    let mm = mm();
    let r = mm.with(|space, out| space.mprotect(addr, len, prot, out));
    let write = prot & u64::from(linux_raw_sys::general::PROT_WRITE) != 0;
    if r == Err(vm::Errno::EACCES) && write && mm.has_shared_writable_file(addr, len) {
        crate::info!("mprotect: PROT_WRITE on a MAP_SHARED file mapping: Halyard writes no file pages back (EACCES)");
    }
    r?;
    Ok(0)
}

/// `madvise(addr, len, advice)`.
pub fn madvise(addr: u64, len: u64, advice: u64) -> SysResult {
    mm().with(|space, out| space.madvise(addr, len, advice, out))?;
    Ok(0)
}

/// `mremap(old, old_len, new_len, flags, new_addr)`.
pub fn mremap(old: u64, old_len: u64, new_len: u64, flags: u64, new_addr: u64) -> SysResult {
    Ok(mm().with(|space, out| space.mremap(old, old_len, new_len, flags, new_addr, out))?)
}
