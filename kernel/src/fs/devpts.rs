//! `devpts`: the directory of PTY slaves, mounted at `/dev/pts` (Linux `fs/devpts`).
//!
//! Stateless, like procfs: every lookup asks [`crate::tty::pty`] which pairs are live.
//! The root holds `ptmx` (5:2, mode 0000 as Linux's default `ptmxmode`; opening it makes
//! a pair like `/dev/ptmx`) and one character device `N` (136:N) per pair whose master is
//! open, owned by the fsuid/fsgid that opened the master, mode 0600 (Linux's default
//! `mode`), inode `N + 3` as on Linux. Mount options are ignored, and every mount shows
//! the same pairs (Linux gives each mount its own instance).
use alloc::borrow::Cow;
use alloc::format;

use halyard_vfs::{Attr, DirEntry, FileSystem, FileType, FsStat, Timespec};

use crate::tty::pty;

type R<T> = Result<T, halyard_vfs::Errno>;

const ROOT: u64 = 1;
const PTMX: u64 = 2;
/// A slave's inode is its index plus this.
const FIRST_SLAVE: u64 = 3;

/// The devpts file system.
pub struct DevPts;

fn attr(ino: u64, kind: FileType, perm: u32, rdev: u64, owner: (u32, u32), t: Timespec) -> Attr {
    Attr {
        ino,
        kind,
        perm,
        nlink: if kind == FileType::Directory { 2 } else { 1 },
        uid: owner.0,
        gid: owner.1,
        rdev,
        size: 0,
        blocks: 0,
        atime: t,
        mtime: t,
        ctime: t,
        btime: t,
        data_version: 0,
    }
}

/// The live pair behind slave inode `ino`.
fn slave(ino: u64) -> R<pty::Pair> {
    ino.checked_sub(FIRST_SLAVE)
        .and_then(|i| u32::try_from(i).ok())
        .and_then(pty::get)
        .ok_or(halyard_vfs::Errno::ENOENT)
}

impl FileSystem for DevPts {
    fn root(&self) -> u64 {
        ROOT
    }

    fn getattr(&self, ino: u64) -> R<Attr> {
        let boot = Timespec { sec: 0, nsec: 0 };
        Ok(match ino {
            ROOT => attr(ROOT, FileType::Directory, 0o755, 0, (0, 0), boot),
            PTMX => attr(
                PTMX,
                FileType::CharDevice,
                0,
                halyard_vfs::encode_dev(5, 2),
                (0, 0),
                boot,
            ),
            _ => {
                let p = slave(ino)?;
                let l = &p.link;
                attr(
                    ino,
                    FileType::CharDevice,
                    0o600,
                    halyard_vfs::encode_dev(pty::SLAVE_MAJOR, l.index),
                    (l.uid, l.gid),
                    l.created,
                )
            }
        })
    }

    fn lookup(&self, dir: u64, name: &[u8]) -> R<u64> {
        if dir != ROOT {
            return Err(halyard_vfs::Errno::ENOTDIR);
        }
        if name == b"ptmx" {
            return Ok(PTMX);
        }
        // Linux's names are plain decimal numbers: no sign, no leading zero.
        let index = core::str::from_utf8(name)
            .ok()
            .filter(|s| !s.starts_with('0') || *s == "0")
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or(halyard_vfs::Errno::ENOENT)?;
        let ino = u64::from(index) + FIRST_SLAVE;
        slave(ino)?;
        Ok(ino)
    }

    fn parent(&self, _dir: u64) -> R<u64> {
        Ok(ROOT)
    }

    fn readlink(&self, _ino: u64) -> R<Cow<'_, [u8]>> {
        Err(halyard_vfs::Errno::EINVAL)
    }

    /// `ptmx`, then the slaves by index; an entry's position is its inode number, so a
    /// listing resumes after the last entry it returned.
    fn readdir(&self, dir: u64, pos: u64, emit: &mut dyn FnMut(DirEntry<'_>) -> bool) -> R<()> {
        if dir != ROOT {
            return Err(halyard_vfs::Errno::ENOTDIR);
        }
        if pos <= PTMX
            && !emit(DirEntry {
                ino: PTMX,
                kind: FileType::CharDevice,
                name: b"ptmx",
                next: PTMX + 1,
            })
        {
            return Ok(());
        }
        for p in pty::all() {
            let ino = u64::from(p.link.index) + FIRST_SLAVE;
            if ino < pos {
                continue;
            }
            let name = format!("{}", p.link.index);
            if !emit(DirEntry {
                ino,
                kind: FileType::CharDevice,
                name: name.as_bytes(),
                next: ino + 1,
            }) {
                break;
            }
        }
        Ok(())
    }

    fn statfs(&self) -> FsStat {
        FsStat {
            magic: u64::from(linux_raw_sys::general::DEVPTS_SUPER_MAGIC),
            block_size: 4096,
            ..FsStat::default()
        }
    }
}
