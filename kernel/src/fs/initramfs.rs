//! Unpacking the initramfs (cpio `newc`, as Linux's `init/initramfs.c` reads it) into
//! the root tmpfs.
//!
//! Entries are created in archive order through the VFS's own calls, as root with a zero
//! umask, so every check (paths, types, names) is the one a program would meet; modes,
//! owners and modification times are those of the archive. A name that repeats an
//! earlier inode number with `nlink > 1` becomes a hard link (Linux's `maybe_link`). An
//! entry that cannot be created is reported and skipped; a corrupt header ends the walk
//! (the parser stops there), and what was unpacked so far stays.
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use halyard_vfs::{Ctx, Vfs};
use linux_raw_sys::general::{
    O_CREAT, O_EXCL, O_WRONLY, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG,
    S_IFSOCK,
};

/// Unpacks `image` into `v`; returns how many entries were created.
pub fn unpack(v: &mut Vfs, cx: &Ctx<'_>, image: &[u8]) -> usize {
    let root = v.root();
    let mut created = 0;
    let mut by_ino: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    for e in cpio_reader::iter_files(image) {
        let name = e.name().trim_start_matches("./").trim_start_matches('/');
        if name.is_empty() || name == "." {
            continue;
        }
        let mut path = Vec::with_capacity(name.len() + 1);
        path.push(b'/');
        path.extend_from_slice(name.as_bytes());
        let mode = e.mode().bits();
        let perm = mode & 0o7777;
        let result = match mode & S_IFMT {
            S_IFDIR => v.mkdirat(cx, root, &path, perm).map(drop).or_else(|err| {
                // An archive may name a directory that an earlier entry implied.
                if err == halyard_vfs::Errno::EEXIST {
                    Ok(())
                } else {
                    Err(err)
                }
            }),
            S_IFREG => {
                let first = e.nlink() > 1 && !by_ino.contains_key(&e.ino());
                match by_ino.get(&e.ino()).filter(|_| e.nlink() > 1) {
                    Some(target) => v.linkat(cx, root, target, root, &path, 0),
                    None => {
                        if first {
                            by_ino.insert(e.ino(), path.clone());
                        }
                        v.open(cx, root, &path, O_CREAT | O_EXCL | O_WRONLY, perm)
                            .and_then(|opened| {
                                v.hold(opened.node);
                                let written = v.write_at(cx.cred, opened.node, 0, e.file(), cx.now);
                                v.release(opened.node);
                                written.map(drop)
                            })
                    }
                }
            }
            S_IFLNK => v.symlinkat(cx, e.file(), root, &path).map(drop),
            S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK => {
                let dev =
                    halyard_vfs::encode_dev(e.rdevmajor().unwrap_or(0), e.rdevminor().unwrap_or(0));
                v.mknodat(cx, root, &path, mode, dev as u32).map(drop)
            }
            _ => Err(halyard_vfs::Errno::EINVAL),
        };
        let result = result.and_then(|()| {
            if mode & S_IFMT != S_IFLNK {
                v.fchmodat(cx, root, &path, perm, 0)?;
            }
            v.fchownat(
                cx,
                root,
                &path,
                e.uid(),
                e.gid(),
                linux_raw_sys::general::AT_SYMLINK_NOFOLLOW,
            )
        });
        match result {
            Ok(()) => created += 1,
            Err(err) => crate::warn!("initramfs: {name}: not created ({err:?})"),
        }
    }
    created
}
