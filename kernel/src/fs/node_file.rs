//! Open files of the VFS: regular files and directories.
//!
//! The open file description holds the node ([`halyard_vfs::Vfs::hold`]), so an unlinked file
//! stays readable until its last descriptor closes ([`halyard_vfs::Vfs::release`]).
use alloc::sync::Arc;
use alloc::vec::Vec;

use halyard_vfs::{FileType, NodeRef};
use linux_raw_sys::general::{O_APPEND, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};

use super::file::{FileOps, FileStat, OpenFile};
use super::vfs::{cred, now, with};
use crate::syscall::Errno;

/// A VFS node opened by a process.
pub struct NodeFile {
    pub node: NodeRef,
    pub kind: FileType,
    /// The canonical path a regular file was opened by (Linux's `f_path`).
    pub path: Option<Vec<u8>>,
}

/// Opens `node` (already held by the caller for this description) as an open file.
pub fn open(node: NodeRef, kind: FileType, path: Option<Vec<u8>>, flags: u32) -> Arc<OpenFile> {
    OpenFile::new(Arc::new(NodeFile { node, kind, path }), flags)
}

impl FileOps for NodeFile {
    fn read(&self, _file: &OpenFile, buf: &mut [u8], pos: &mut u64) -> Result<usize, Errno> {
        if self.kind == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        let n = with(|v| v.read_at(self.node, *pos, buf, now())).map_err(Errno::from)?;
        *pos += n as u64;
        Ok(n)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], pos: &mut u64) -> Result<usize, Errno> {
        if self.kind == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        let cred = cred();
        let append = file.flags() & O_APPEND != 0;
        let n = with(|v| {
            if append {
                *pos = v.getattr(self.node)?.size;
            }
            v.write_at(&cred, self.node, *pos, buf, now())
        })
        .map_err(Errno::from)?;
        *pos += n as u64;
        Ok(n)
    }

    fn poll(&self) -> u16 {
        (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM) as u16
    }

    fn size(&self) -> Result<u64, Errno> {
        with(|v| v.getattr(self.node))
            .map(|a| a.size)
            .map_err(Errno::from)
    }

    fn stat(&self) -> FileStat {
        let a = with(|v| v.getattr(self.node)).ok();
        FileStat {
            mode: a.map_or(0, |a| a.mode()),
            rdev: a.map_or(0, |a| a.rdev),
            size: a.map_or(0, |a| a.size),
            ino: a.map_or(0, |a| a.ino),
        }
    }

    fn node(&self) -> Option<NodeRef> {
        Some(self.node)
    }

    fn path(&self) -> Option<Vec<u8>> {
        self.path.clone()
    }

    fn release(&self, _file: &OpenFile) {
        with(|v| v.release(self.node));
    }
}
