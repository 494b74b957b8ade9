//! `getdents64(2)`: a directory's entries encoded as `struct linux_dirent64` records.
//!
//! Positions: 0 is `.`, 1 is `..`, then whatever the file system hands out (tmpfs: a
//! stable position per entry). Each record's `d_off` is the position after it, which the
//! kernel stores as the file offset, so `lseek` to a `d_off` resumes there. A buffer
//! that cannot hold the next record ends the call; if it held none, that is `EINVAL`.
//! `..` is the parent inside the directory's own file system (a mounted root lists
//! itself), as Linux's `dir_emit_dots` reports it. Listing a removed directory is
//! `ENOENT`.

use core::mem::offset_of;

use linux_raw_sys::general::linux_dirent64;

use crate::node::{DirEntry, FileType, NodeRef, Timespec};
use crate::vfs::Vfs;
use crate::Errno;

/// Where the name starts in a record (19).
const NAME_OFFSET: usize = offset_of!(linux_dirent64, d_name);

/// The length of the record for a name of `len` bytes: header, name, NUL, padded to 8.
fn record_len(len: usize) -> usize {
    (NAME_OFFSET + len + 1).next_multiple_of(8)
}

/// Writes one record at the start of `out`, which holds at least `record_len` bytes.
fn encode(out: &mut [u8], entry: &DirEntry<'_>, reclen: usize) {
    let put =
        |out: &mut [u8], at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
    out[..reclen].fill(0);
    put(
        out,
        offset_of!(linux_dirent64, d_ino),
        &entry.ino.to_ne_bytes(),
    );
    put(
        out,
        offset_of!(linux_dirent64, d_off),
        &entry.next.to_ne_bytes(),
    );
    put(
        out,
        offset_of!(linux_dirent64, d_reclen),
        &(reclen as u16).to_ne_bytes(),
    );
    out[offset_of!(linux_dirent64, d_type)] = entry.kind.dirent_type();
    put(out, NAME_OFFSET, entry.name);
}

impl Vfs {
    /// Fills `buf` with the entries of directory `dir` from position `pos`; returns the
    /// bytes written (0 at the end) and the position to continue from.
    pub fn getdents(
        &mut self,
        dir: NodeRef,
        pos: u64,
        buf: &mut [u8],
        now: Timespec,
    ) -> Result<(usize, u64), Errno> {
        let attr = self.getattr(dir)?;
        if attr.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if attr.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        let fs = self.fs(dir.fs)?;
        let (mut used, mut next, mut full) = (0, pos, false);
        let mut emit = |entry: DirEntry<'_>| {
            let reclen = record_len(entry.name.len());
            if buf.len() - used < reclen {
                full = true;
                return false;
            }
            encode(&mut buf[used..], &entry, reclen);
            used += reclen;
            next = entry.next;
            true
        };
        let dots = [
            (0, b".".as_slice(), dir.ino),
            (1, b"..".as_slice(), fs.parent(dir.ino)?),
        ];
        let mut more = true;
        for (position, name, ino) in dots {
            if more && pos <= position {
                more = emit(DirEntry {
                    ino,
                    kind: FileType::Directory,
                    name,
                    next: position + 1,
                });
            }
        }
        if more {
            fs.readdir(dir.ino, pos.max(2), &mut emit)?;
        }
        let too_small = full && used == 0;
        // Linux marks the directory accessed whatever the listing gave.
        self.fs_mut(dir.fs)?.accessed(dir.ino, now);
        if too_small {
            return Err(Errno::EINVAL);
        }
        Ok((used, next))
    }
}
