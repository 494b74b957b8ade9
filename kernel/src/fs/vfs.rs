//! The kernel's one VFS: `halyard-vfs` behind one lock, and the per-call context.
//!
//! Every path operation takes the lock for its whole decision (walk, checks, change), as
//! the crate expects; file contents move under it too. One lock for all file systems is
//! simple and enough for a console system; reads and writes of different files serialise,
//! which the bench's pipe and file numbers will show if it ever matters.
use alloc::boxed::Box;

use halyard_vfs::{Cred, Ctx, NodeRef, Timespec, Tmpfs, Vfs};

use crate::sync::Mutex;
use crate::syscall::Errno;

/// The VFS and what it holds.
pub struct KernelVfs(pub Vfs);

// SAFETY: every file system in the VFS is kernel-owned plain data (tmpfs, procfs) with no
// thread affinity, reached only under the `VFS` mutex.
unsafe impl Send for KernelVfs {}

static VFS: Mutex<Option<KernelVfs>> = Mutex::new(None);

/// The time for timestamps.
pub fn now() -> Timespec {
    let ns = crate::time::realtime_ns();
    Timespec {
        sec: (ns / 1_000_000_000) as i64,
        nsec: (ns % 1_000_000_000) as u32,
    }
}

/// Creates the root file system (a tmpfs) and unpacks the initramfs into it. Boot, once.
pub fn init(initramfs: Option<&[u8]>) {
    let mut v = Vfs::new(Box::new(Tmpfs::new(0o755, 0, 0, 0, now())));
    if let Some(image) = initramfs {
        let root = Cred::root();
        let cx = Ctx {
            cred: &root,
            root: v.root(),
            umask: 0,
            now: now(),
        };
        match halyard_vfs::initramfs::unpack(&mut v, &cx, image) {
            Ok(u) => crate::info!(
                "initramfs: {} entries unpacked into the root tmpfs, {} refused",
                u.created,
                u.failed
            ),
            Err(e) => crate::error!(
                "initramfs: malformed archive ({e:?}); what came before it is unpacked"
            ),
        }
    }
    *VFS.lock() = Some(KernelVfs(v));
}

/// Runs `f` on the VFS.
pub fn with<R>(f: impl FnOnce(&mut Vfs) -> R) -> R {
    let mut guard = VFS.lock();
    let v = guard.as_mut().expect("VFS used before fs::vfs::init");
    f(&mut v.0)
}

/// The root directory.
pub fn root() -> NodeRef {
    with(|v| v.root())
}

/// The calling process's credentials, as the VFS checks them.
pub fn cred() -> Cred {
    let task = crate::process::current();
    let c = crate::process::table::with(|p| p.table.creds(task.tid()).cloned());
    match c {
        Some(c) => Cred {
            uid: c.ruid,
            gid: c.rgid,
            fsuid: c.fsuid,
            fsgid: c.fsgid,
            groups: c.groups().to_vec(),
        },
        None => Cred::root(),
    }
}

/// Runs `f` with the VFS and the calling process's context (credentials, root, umask,
/// time) and its working directory.
pub fn with_ctx<R>(
    f: impl FnOnce(&mut Vfs, &Ctx<'_>, NodeRef) -> Result<R, halyard_vfs::Errno>,
) -> Result<R, Errno> {
    let task = crate::process::current();
    let cred = cred();
    let (root, cwd) = {
        let fs = task.process.fs.lock();
        (fs.root, fs.cwd)
    };
    let cx = Ctx {
        cred: &cred,
        root,
        umask: task
            .process
            .umask
            .load(core::sync::atomic::Ordering::Relaxed),
        now: now(),
    };
    with(|v| f(v, &cx, cwd)).map_err(Errno::from)
}
