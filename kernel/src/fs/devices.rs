//! Character devices: what opening a device node gives.
//!
//! Device numbers are Linux's (`Documentation/admin-guide/devices.txt`): 1:3 `null`, 1:5
//! `zero`, 1:7 `full`, 1:8 `random`, 1:9 `urandom`, 5:0 `tty` (the caller's controlling
//! terminal), 5:1 `console`. `random` and `urandom` both read the kernel CSPRNG (Linux
//! 5.6+ no longer blocks `random` once seeded, and Halyard is seeded at boot).
use alloc::sync::Arc;

use linux_raw_sys::general::{POLLIN, POLLOUT, S_IFCHR};

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

/// The file a device node `rdev` opens to, with `flags`: `ENXIO` for a device Halyard
/// does not have; `/dev/tty` without a controlling terminal is `ENXIO` too, as on Linux.
pub fn open(rdev: u64, flags: u32) -> Result<Arc<OpenFile>, Errno> {
    let (major, minor) = halyard_vfs::decode_dev(rdev);
    match (major, minor) {
        (1, 3 | 5 | 7 | 8 | 9) => Ok(OpenFile::new(Arc::new(Mem { minor }), flags)),
        (5, 1) => Ok(crate::tty::console::open(flags)),
        (5, 0) => {
            if crate::process::jobctl::has_controlling_tty() {
                Ok(crate::tty::console::open(flags))
            } else {
                Err(Errno::ENXIO)
            }
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
];
