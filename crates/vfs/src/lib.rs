//! The pure logic of Halyard's file systems, with Linux's semantics and errnos.
//!
//! The kernel keeps one [`Vfs`] behind one lock and calls it from the file-system
//! syscalls: `openat` ([`Vfs::open`]), `newfstatat`/`statx`, `getdents64`, `mkdirat`,
//! `mknodat`, `unlinkat`, `renameat2`, `linkat`, `symlinkat`, `readlinkat`, `fchmodat2`,
//! `fchownat`, `utimensat`, `truncate`, `faccessat2`, `statfs`, `mount`/`umount2`, and
//! `chdir`/`getcwd` ([`Vfs::resolve_dir`], [`Vfs::path_of`]). Every call takes a [`Ctx`]
//! (credentials, process root, umask, the current time) and the directory a relative
//! path starts from (the working directory or the `dirfd`'s node; the kernel turns a bad
//! `dirfd` into `EBADF` itself). File descriptions, offsets and open flags stay in the
//! kernel: an open file is a [`NodeRef`] that the kernel [`Vfs::hold`]s, and reads and
//! writes go through [`Vfs::read_at`]/[`Vfs::write_at`].
//!
//! File systems implement [`FileSystem`]: [`Tmpfs`] fully (the root file system and
//! `/tmp`), the kernel's devfs and procfs for lookups, attributes and listings, with the
//! errnos Linux gives for what they lack. [`initramfs::unpack`] fills the root tmpfs from
//! a cpio "newc" archive.
//!
//! Linux 6.18 is followed check by check (the order of checks decides the errno when
//! several things are wrong); the tests run the same operations on the host kernel and
//! compare. Constants and structure layouts come from `linux-raw-sys`.
//!
//! ```
//! use linux_raw_sys::general::{O_CREAT, O_RDWR};
//! use vfs::{Cred, Ctx, Timespec, Tmpfs, Vfs};
//!
//! let now = Timespec { sec: 1_700_000_000, nsec: 0 };
//! let mut vfs = Vfs::new(Box::new(Tmpfs::new(0o755, 0, 0, 0, now)));
//! let root = Cred::root();
//! let cx = Ctx { cred: &root, root: vfs.root(), umask: 0o022, now };
//! let cwd = vfs.root();
//! vfs.mkdirat(&cx, cwd, b"/etc", 0o777).unwrap();
//! let file = vfs.open(&cx, cwd, b"etc/motd", O_CREAT | O_RDWR, 0o666).unwrap();
//! assert!(file.created);
//! vfs.hold(file.node); // the open file description
//! vfs.write_at(&root, file.node, 0, b"hello\n", now).unwrap();
//! assert_eq!(vfs.fstatat(&cx, cwd, b"/etc/../etc/motd", 0).unwrap().st_size, 6);
//! assert_eq!(vfs.fstatat(&cx, cwd, b"/etc/motd/", 0).err(), Some(vfs::Errno::ENOTDIR));
//! vfs.release(file.node); // close
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod attr;
mod cpio;
mod create;
mod cred;
mod cwd;
mod dirent;
mod errno;
mod fs;
pub mod initramfs;
mod mount;
mod node;
mod open;
mod remove;
mod stat;
mod tmpfs;
mod vfs;
mod walk;

pub use cred::{Cred, MAY_EXEC, MAY_READ, MAY_WRITE};
pub use errno::Errno;
pub use fs::{FileSystem, FsStat};
pub use node::{
    decode_dev, encode_dev, Attr, DirEntry, FileType, FsId, NewNode, NodeRef, SetAttr, Timespec,
};
pub use open::Opened;
pub use stat::{fs_dev, Stat, StatFs, Statx};
pub use tmpfs::Tmpfs;
pub use vfs::{Ctx, Vfs};
pub use walk::MAX_SYMLINKS;
