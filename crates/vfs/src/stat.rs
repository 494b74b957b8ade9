//! `newfstatat`, `statx` and `statfs`: a file's [`Attr`] in the layouts the syscalls copy
//! out (`linux_raw_sys::general::{stat, statx, statfs}`).
//!
//! Each file system is one device: `st_dev` is `0:N` with `N` its [`FsId`] plus one, as
//! Linux numbers anonymous devices (`get_anon_bdev`). `st_blksize` is the file system's
//! block size. `statx` reports the basic fields, the birth time and the mount id (the
//! [`FsId`] plus one), and marks mount roots with `STATX_ATTR_MOUNT_ROOT`. `statfs`
//! leaves `f_flags` 0: the `ST_*` mount flags are not in `linux-raw-sys`, and Halyard
//! has no mount options yet.

use linux_raw_sys::general::{
    __kernel_fsid_t, statfs, statx, statx_timestamp, AT_EMPTY_PATH, AT_NO_AUTOMOUNT,
    AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW, NAME_MAX, STATX_ATTR_MOUNT_ROOT, STATX_BASIC_STATS,
    STATX_BTIME, STATX_MNT_ID, STATX__RESERVED,
};

use crate::attr::follow_flag;
use crate::node::{decode_dev, encode_dev, Attr, FsId, NodeRef, Timespec};
use crate::vfs::{Ctx, Vfs};
use crate::walk::Follow;
use crate::Errno;

/// `newfstatat`'s `struct stat`.
pub type Stat = linux_raw_sys::general::stat;
/// `statx`'s `struct statx`.
pub type Statx = statx;
/// `statfs`'s `struct statfs`.
pub type StatFs = statfs;

/// The device number of file system `fs`.
pub fn fs_dev(fs: FsId) -> u64 {
    encode_dev(0, fs.0 + 1)
}

fn stx_time(t: Timespec) -> statx_timestamp {
    statx_timestamp {
        tv_sec: t.sec,
        tv_nsec: t.nsec,
        __reserved: 0,
    }
}

impl Vfs {
    /// `newfstatat(2)`.
    pub fn fstatat(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        flags: u32,
    ) -> Result<Stat, Errno> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let node = self.resolve_at(
            cx,
            dir,
            path,
            follow_flag(flags),
            flags & AT_EMPTY_PATH != 0,
        )?;
        self.stat_node(node)
    }

    /// `fstat(2)` on `node`.
    pub fn stat_node(&self, node: NodeRef) -> Result<Stat, Errno> {
        let a: Attr = self.getattr(node)?;
        let fs = self.fs(node.fs)?;
        Ok(Stat {
            st_dev: fs_dev(node.fs),
            st_ino: a.ino,
            st_nlink: u64::from(a.nlink),
            st_mode: a.mode(),
            st_uid: a.uid,
            st_gid: a.gid,
            __pad0: 0,
            st_rdev: a.rdev,
            st_size: a.size as i64,
            st_blksize: fs.statfs().block_size as i64,
            st_blocks: a.blocks as i64,
            st_atime: a.atime.sec as u64,
            st_atime_nsec: u64::from(a.atime.nsec),
            st_mtime: a.mtime.sec as u64,
            st_mtime_nsec: u64::from(a.mtime.nsec),
            st_ctime: a.ctime.sec as u64,
            st_ctime_nsec: u64::from(a.ctime.nsec),
            __unused: [0; 3],
        })
    }

    /// `statx(2)`; `mask` is the caller's request mask.
    pub fn statx(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        flags: u32,
        mask: u32,
    ) -> Result<Statx, Errno> {
        if mask & STATX__RESERVED != 0 || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE {
            return Err(Errno::EINVAL);
        }
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)
            != 0
        {
            return Err(Errno::EINVAL);
        }
        let node = self.resolve_at(
            cx,
            dir,
            path,
            follow_flag(flags),
            flags & AT_EMPTY_PATH != 0,
        )?;
        self.statx_node(node)
    }

    /// `statx(2)` on `node` (`AT_EMPTY_PATH` on a descriptor).
    pub fn statx_node(&self, node: NodeRef) -> Result<Statx, Errno> {
        let st = self.stat_node(node)?;
        let a = self.getattr(node)?;
        let (rdev_major, rdev_minor) = decode_dev(a.rdev);
        let (dev_major, dev_minor) = decode_dev(st.st_dev);
        let root = node == self.fs_root(node.fs);
        Ok(Statx {
            stx_mask: STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID,
            stx_blksize: st.st_blksize as u32,
            stx_attributes: if root {
                u64::from(STATX_ATTR_MOUNT_ROOT)
            } else {
                0
            },
            stx_nlink: a.nlink,
            stx_uid: a.uid,
            stx_gid: a.gid,
            stx_mode: a.mode() as u16,
            stx_ino: a.ino,
            stx_size: a.size,
            stx_blocks: a.blocks,
            stx_attributes_mask: u64::from(STATX_ATTR_MOUNT_ROOT),
            stx_atime: stx_time(a.atime),
            stx_btime: stx_time(a.btime),
            stx_ctime: stx_time(a.ctime),
            stx_mtime: stx_time(a.mtime),
            stx_rdev_major: rdev_major,
            stx_rdev_minor: rdev_minor,
            stx_dev_major: dev_major,
            stx_dev_minor: dev_minor,
            stx_mnt_id: u64::from(node.fs.0) + 1,
            __spare0: [0],
            stx_dio_mem_align: 0,
            stx_dio_offset_align: 0,
            stx_subvol: 0,
            stx_atomic_write_unit_min: 0,
            stx_atomic_write_unit_max: 0,
            stx_atomic_write_segments_max: 0,
            stx_dio_read_offset_align: 0,
            stx_atomic_write_unit_max_opt: 0,
            __spare2: [0],
            __spare3: [0; 8],
        })
    }

    /// `statfs(2)` of the file system `path` is on.
    pub fn statfs(&mut self, cx: &Ctx<'_>, dir: NodeRef, path: &[u8]) -> Result<StatFs, Errno> {
        let node = self.resolve(cx, dir, path, Follow::Yes)?;
        self.statfs_node(node)
    }

    /// `fstatfs(2)` for `node`.
    pub fn statfs_node(&self, node: NodeRef) -> Result<StatFs, Errno> {
        let s = self.fs(node.fs)?.statfs();
        let dev = fs_dev(node.fs);
        Ok(StatFs {
            f_type: s.magic as i64,
            f_bsize: s.block_size as i64,
            f_blocks: s.blocks as i64,
            f_bfree: s.blocks_free as i64,
            f_bavail: s.blocks_free as i64,
            f_files: s.files as i64,
            f_ffree: s.files_free as i64,
            f_namelen: i64::from(NAME_MAX),
            f_frsize: s.block_size as i64,
            f_fsid: __kernel_fsid_t {
                val: [dev as i32, 0],
            },
            f_flags: 0,
            f_spare: [0; 4],
        })
    }
}
