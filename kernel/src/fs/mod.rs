//! Files: open file descriptions, descriptor tables, pipes, the VFS and its kernel file
//! systems, and the waits they share.
//!
//! - `halyard-vfs` behind one lock is [`vfs`]; open VFS nodes are [`node_file`].
//! - Character devices are [`devices`]; [`devtmpfs`] populates a `/dev`; [`devpts`]
//!   lists the PTY slaves.
//! - `/proc` is [`procfs`]. Sockets are [`socket`]s: `AF_UNIX` ones [`unix`],
//!   `AF_INET` ones [`inet`] (streams) and [`inet_dgram`] (datagrams).
//! - Readiness: per-file wait queues [`poll`], [`epoll`], [`eventfd`], [`timerfd`].
//! - Also [`pipe`], [`file`], [`fdtable`], [`wait`] and [`context`].
pub mod context;
pub mod devices;
pub mod devpts;
pub mod epoll;
pub mod eventfd;
pub mod fdtable;
pub mod file;
pub mod inet;
pub mod inet_dgram;
pub mod node_file;
pub mod pipe;
pub mod poll;
pub mod procfs;
pub mod socket;
pub mod timerfd;
pub mod unix;
pub mod vfs;
pub mod wait;

use alloc::string::String;
use alloc::vec::Vec;

use halyard_vfs::{FileType, FsId, NewNode, Timespec, Vfs};

use crate::sync::{IrqLock, LockClass};

/// A new devtmpfs: a tmpfs holding the device nodes of [`devices::NODES`] and the
/// `pts` and `shm` directories.
pub fn devtmpfs(v: &mut Vfs, now: Timespec) -> FsId {
    let id = v.add(alloc::boxed::Box::new(halyard_vfs::Tmpfs::new(
        0o755, 0, 0, 0, now,
    )));
    let root = v.fs_root(id);
    if let Ok(fs) = v.fs_mut(id) {
        for &(name, major, minor, perm) in devices::NODES {
            let node = NewNode {
                kind: FileType::CharDevice,
                perm,
                uid: 0,
                gid: 0,
                rdev: halyard_vfs::encode_dev(major, minor),
                target: &[],
            };
            let _ = fs.create(root.ino, name.as_bytes(), node, now);
        }
        for dir in ["pts", "shm"] {
            let node = NewNode {
                kind: FileType::Directory,
                perm: if dir == "shm" { 0o1777 } else { 0o755 },
                uid: 0,
                gid: 0,
                rdev: 0,
                target: &[],
            };
            let _ = fs.create(root.ino, dir.as_bytes(), node, now);
        }
    }
    id
}

static MOUNTS_CLASS: LockClass = LockClass::new("fs.mounts");
/// What is mounted where, for `/proc/mounts` (the VFS keeps the real table).
static MOUNTS: IrqLock<Vec<(Vec<u8>, Vec<u8>)>> = IrqLock::new(Vec::new(), &MOUNTS_CLASS);

/// Notes a mount of type `kind` on `target`.
pub fn record_mount(target: &[u8], kind: &[u8]) {
    MOUNTS.lock().push((target.to_vec(), kind.to_vec()));
}

/// Forgets the last mount on `target`.
pub fn forget_mount(target: &[u8]) {
    let mut m = MOUNTS.lock();
    if let Some(i) = m.iter().rposition(|(t, _)| t == target) {
        m.remove(i);
    }
}

/// `/proc/mounts`: the root tmpfs, then every mount in order.
pub fn mounts_text() -> String {
    let mut s = String::from("rootfs / tmpfs rw 0 0");
    for (target, kind) in MOUNTS.lock().iter() {
        let (t, k) = (
            String::from_utf8_lossy(target),
            String::from_utf8_lossy(kind),
        );
        s.push_str(&alloc::format!("\n{k} {t} {k} rw 0 0"));
    }
    s
}

/// What `/proc/PID/fd/N` links to: the path of a file opened by path (a regular file's
/// as it was opened, with Linux's ` (deleted)` once unlinked), a terminal's device path,
/// else Linux's `pipe:[ino]` / `anon_inode:` forms, or the device's name.
pub fn describe(f: &file::OpenFile) -> Vec<u8> {
    if let Some(path) = f.ops.device_path() {
        return path;
    }
    if let (Some(mut path), Some(node)) = (f.ops.path(), f.ops.node()) {
        if vfs::with(|v| v.getattr(node)).is_ok_and(|a| a.nlink == 0) {
            path.extend_from_slice(b" (deleted)");
        }
        return path;
    }
    if let Some(node) = f.ops.node() {
        let root = halyard_vfs::Cred::root();
        let path = vfs::with(|v| {
            let cx = halyard_vfs::Ctx {
                cred: &root,
                root: v.root(),
                umask: 0,
                now: vfs::now(),
            };
            v.path_of(&cx, node)
        });
        if let Ok(p) = path {
            return p;
        }
    }
    let st = f.ops.stat();
    match st.mode & linux_raw_sys::general::S_IFMT {
        linux_raw_sys::general::S_IFIFO => alloc::format!("pipe:[{}]", st.ino).into_bytes(),
        linux_raw_sys::general::S_IFCHR => b"/dev/console".to_vec(),
        _ => b"anon_inode:[unknown]".to_vec(),
    }
}
