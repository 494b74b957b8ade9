//! Character devices: what opening a device node gives.
//!
//! Device numbers are Linux's (`Documentation/admin-guide/devices.txt`): 1:3 `null`, 1:5
//! `zero`, 1:7 `full`, 1:8 `random`, 1:9 `urandom`, 5:0 `tty` (the caller's controlling
//! terminal), 5:1 `console`, 5:2 `ptmx` (a new PTY pair, [`crate::tty::pty`]), 136:N
//! the PTY slaves (in devpts, [`super::devpts`]). `random` and `urandom` both read the kernel CSPRNG (Linux
//! 5.6+ no longer blocks `random` once seeded, and Halyard is seeded at boot).
use alloc::sync::Arc;

use halyard_vfs::NodeRef;
use linux_raw_sys::general::{O_NOCTTY, POLLIN, POLLOUT, S_IFCHR};

use super::file::{FileOps, FileStat, OpenFile};
use crate::syscall::Errno;

/// One of the memory devices (major 1).
struct Mem {
    minor: u32,
}

impl FileOps for Mem {
    fn read(&self, _f: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        match self.minor {
            3 => Ok(0),
            8 | 9 => {
                crate::random::fill(buf);
                Ok(buf.len())
            }
            _ => {
                buf.fill(0);
                Ok(buf.len())
            }
        }
    }

    fn write(&self, _f: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        match self.minor {
            7 => Err(Errno::ENOSPC),
            _ => Ok(buf.len()),
        }
    }

    fn poll(&self) -> u16 {
        (POLLIN | POLLOUT) as u16
    }

    fn size(&self) -> Result<u64, Errno> {
        Ok(0)
    }

    fn stat(&self) -> FileStat {
        FileStat {
            mode: S_IFCHR | 0o666,
            rdev: halyard_vfs::encode_dev(1, self.minor),
            size: 0,
            ino: 0,
        }
    }
}

/// The file device node `node` (number `rdev`) opens to, with `flags`: `ENXIO` for a
/// device Halyard does not have; `/dev/tty` without a controlling terminal is `ENXIO` too,
/// as on Linux.
pub fn open(node: NodeRef, rdev: u64, flags_in: u32) -> Result<Arc<OpenFile>, Errno> {
    let (major, minor) = halyard_vfs::decode_dev(rdev);
    let flags = flags_in & !O_NOCTTY;
    match (major, minor) {
        (1, 3 | 5 | 7 | 8 | 9) => Ok(OpenFile::new(Arc::new(Mem { minor }), flags)),
        (5, 1) => Ok(crate::tty::console::open(Some(node), flags)),
        (5, 0) => match crate::tty::controlling() {
            Some(tty) => Ok(tty.open(Some(node), flags)),
            None => Err(Errno::ENXIO),
        },
        (5, 2) => crate::tty::pty::open_master(Some(node), flags),
        // The slave keeps `O_NOCTTY`: without it, a session leader may take the terminal.
        (crate::tty::pty::SLAVE_MAJOR, index) => {
            crate::tty::pty::open_slave(index, Some(node), flags_in)
        }
        _ => Err(Errno::ENXIO),
    }
}

/// The device nodes of a fresh `/dev` (devtmpfs): name, major, minor, permissions.
pub const NODES: &[(&str, u32, u32, u32)] = &[
    ("null", 1, 3, 0o666),
    ("zero", 1, 5, 0o666),
    ("full", 1, 7, 0o666),
    ("random", 1, 8, 0o666),
    ("urandom", 1, 9, 0o666),
    ("tty", 5, 0, 0o666),
    ("console", 5, 1, 0o600),
    ("ptmx", 5, 2, 0o666),
];
