//! Unpacking an initramfs (cpio "newc", uncompressed) into the file system, as Linux's
//! `init/initramfs.c` does.
//!
//! Members are created in archive order through the ordinary [`Vfs`] calls with the
//! caller's (root) credentials, relative to the process root: directories, regular files
//! (contents written), symlinks, device nodes, FIFOs and sockets, each with the
//! archive's mode (set-user-ID and friends included), owner and modification time
//! (also as access time; directories get theirs at the end, after their entries are in).
//! Like Linux: a member whose path exists with another type replaces it; an existing
//! file of the same type is overwritten; a non-directory whose (device, inode) pair was
//! seen before with a link count of 2 or more becomes a hard link to the first one (GNU
//! cpio puts the data in the last), and a member that cannot be created is skipped and
//! counted. A malformed archive stops the unpacking with [`Malformed`]; what was
//! unpacked before stays.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use linux_raw_sys::general::{
    __kernel_timespec, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, O_CREAT, O_TRUNC, O_WRONLY, S_IFMT,
};

pub use crate::cpio::{Entry, Malformed, Reader};
use crate::node::{encode_dev, FileType};
use crate::vfs::{Ctx, Vfs};
use crate::Errno;

/// What [`unpack`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unpacked {
    /// Members created (or linked).
    pub created: usize,
    /// Members skipped because the file system refused them.
    pub failed: usize,
}

/// Unpacks `archive` into the file system from `cx.root`.
pub fn unpack(vfs: &mut Vfs, cx: &Ctx<'_>, archive: &[u8]) -> Result<Unpacked, Malformed> {
    let mut done = Unpacked::default();
    let mut links: BTreeMap<(u32, u32, u32), Vec<u8>> = BTreeMap::new();
    let mut dir_times: Vec<(Vec<u8>, u32)> = Vec::new();
    for entry in Reader::new(archive) {
        let entry = entry?;
        match member(vfs, cx, &entry, &mut links, &mut dir_times) {
            Ok(()) => done.created += 1,
            Err(_) => done.failed += 1,
        }
    }
    for (path, mtime) in dir_times.iter().rev() {
        let _ = set_mtime(vfs, cx, path, *mtime);
    }
    Ok(done)
}

fn set_mtime(vfs: &mut Vfs, cx: &Ctx<'_>, path: &[u8], mtime: u32) -> Result<(), Errno> {
    let t = __kernel_timespec {
        tv_sec: i64::from(mtime),
        tv_nsec: 0,
    };
    vfs.utimensat(cx, cx.root, path, Some(&[t, t]), AT_SYMLINK_NOFOLLOW)
}

/// Linux's `clean_path`: removes what is at `path` if it has another type.
fn clean_path(vfs: &mut Vfs, cx: &Ctx<'_>, path: &[u8], mode: u32) {
    if let Ok(st) = vfs.fstatat(cx, cx.root, path, AT_SYMLINK_NOFOLLOW) {
        if (st.st_mode ^ mode) & S_IFMT != 0 {
            let flags = if FileType::from_mode(st.st_mode) == Some(FileType::Directory) {
                AT_REMOVEDIR
            } else {
                0
            };
            let _ = vfs.unlinkat(cx, cx.root, path, flags);
        }
    }
}

fn member(
    vfs: &mut Vfs,
    cx: &Ctx<'_>,
    e: &Entry<'_>,
    links: &mut BTreeMap<(u32, u32, u32), Vec<u8>>,
    dir_times: &mut Vec<(Vec<u8>, u32)>,
) -> Result<(), Errno> {
    let kind = FileType::from_mode(e.mode).ok_or(Errno::EINVAL)?;
    let path = e.name;
    let (root, perm) = (cx.root, e.mode & 0o7777);
    clean_path(vfs, cx, path, e.mode);
    if kind == FileType::Directory {
        let _ = vfs.mkdirat(cx, root, path, perm);
        vfs.fchownat(cx, root, path, e.uid, e.gid, 0)?;
        vfs.fchmodat(cx, root, path, perm, 0)?;
        dir_times.push((path.to_vec(), e.mtime));
        return Ok(());
    }
    if kind == FileType::Symlink {
        vfs.symlinkat(cx, e.data, root, path)?;
        vfs.fchownat(cx, root, path, e.uid, e.gid, AT_SYMLINK_NOFOLLOW)?;
        return set_mtime(vfs, cx, path, e.mtime);
    }
    // Linux's maybe_link: a later member with the same (device, inode) is a hard link.
    let mut linked = false;
    if e.nlink >= 2 {
        match links.get(&(e.dev.0, e.dev.1, e.ino)) {
            Some(first) => {
                let _ = vfs.unlinkat(cx, root, path, 0);
                vfs.linkat(cx, root, first, root, path, 0)?;
                linked = true;
            }
            None => {
                links.insert((e.dev.0, e.dev.1, e.ino), path.to_vec());
            }
        }
    }
    if kind == FileType::Regular {
        let flags = O_WRONLY | O_CREAT | if linked { 0 } else { O_TRUNC };
        let node = vfs.open(cx, root, path, flags, perm)?.node;
        vfs.chown_node(cx, node, e.uid, e.gid)?;
        vfs.chmod_node(cx, node, perm)?;
        let mut written = 0;
        while written < e.data.len() {
            written += vfs.write_at(cx.cred, node, written as u64, &e.data[written..], cx.now)?;
        }
    } else if !linked {
        let dev = encode_dev(e.rdev.0, e.rdev.1) as u32;
        vfs.mknodat(cx, root, path, e.mode, dev)?;
        vfs.fchownat(cx, root, path, e.uid, e.gid, 0)?;
        vfs.fchmodat(cx, root, path, perm, 0)?;
    }
    set_mtime(vfs, cx, path, e.mtime)
}
