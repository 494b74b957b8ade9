//! What names a file and what a file system says about it.
//!
//! A file is a [`NodeRef`]: which mounted file system ([`FsId`], an index into the
//! [`crate::Vfs`]) and its inode number there. Linux names a file by (mount, dentry);
//! Halyard mounts each file system at most once, so the file system stands for the mount
//! and the inode number for the dentry (hard links are one inode, as in Linux's `stat`).

use linux_raw_sys::general::{
    DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO,
    S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};

/// Which file system, as the [`crate::Vfs`] numbered it when it was added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FsId(pub u32);

/// A file: its file system and inode number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeRef {
    /// The file system holding it.
    pub fs: FsId,
    /// Its inode number in that file system.
    pub ino: u64,
}

/// The type of a file (the `S_IFMT` part of its mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// `S_IFREG`.
    Regular,
    /// `S_IFDIR`.
    Directory,
    /// `S_IFLNK`.
    Symlink,
    /// `S_IFCHR`.
    CharDevice,
    /// `S_IFBLK`.
    BlockDevice,
    /// `S_IFIFO`.
    Fifo,
    /// `S_IFSOCK`.
    Socket,
}

impl FileType {
    /// The type named by the `S_IFMT` bits of `mode`, if any.
    pub fn from_mode(mode: u32) -> Option<Self> {
        Some(match mode & S_IFMT {
            S_IFREG => Self::Regular,
            S_IFDIR => Self::Directory,
            S_IFLNK => Self::Symlink,
            S_IFCHR => Self::CharDevice,
            S_IFBLK => Self::BlockDevice,
            S_IFIFO => Self::Fifo,
            S_IFSOCK => Self::Socket,
            _ => return None,
        })
    }

    /// The `S_IFMT` bits.
    pub fn mode_bits(self) -> u32 {
        match self {
            Self::Regular => S_IFREG,
            Self::Directory => S_IFDIR,
            Self::Symlink => S_IFLNK,
            Self::CharDevice => S_IFCHR,
            Self::BlockDevice => S_IFBLK,
            Self::Fifo => S_IFIFO,
            Self::Socket => S_IFSOCK,
        }
    }

    /// The `d_type` of a `linux_dirent64` entry.
    pub fn dirent_type(self) -> u8 {
        (match self {
            Self::Regular => DT_REG,
            Self::Directory => DT_DIR,
            Self::Symlink => DT_LNK,
            Self::CharDevice => DT_CHR,
            Self::BlockDevice => DT_BLK,
            Self::Fifo => DT_FIFO,
            Self::Socket => DT_SOCK,
        }) as u8
    }
}

/// A point in time, as `struct timespec` (the kernel passes the current time in).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timespec {
    /// Seconds since the epoch.
    pub sec: i64,
    /// Nanoseconds, below 1,000,000,000.
    pub nsec: u32,
}

/// A file's metadata, as `stat` reports it (the device number comes from the [`crate::Vfs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr {
    /// Inode number.
    pub ino: u64,
    /// File type.
    pub kind: FileType,
    /// Permission bits with setuid, setgid and sticky (`07777`).
    pub perm: u32,
    /// Number of hard links (directories: 2 plus subdirectories).
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number of a device node (`new_encode_dev` form), else 0.
    pub rdev: u64,
    /// Size in bytes (a symlink: its target's length).
    pub size: u64,
    /// 512-byte blocks allocated.
    pub blocks: u64,
    /// Last access.
    pub atime: Timespec,
    /// Last modification of the contents.
    pub mtime: Timespec,
    /// Last change of the inode.
    pub ctime: Timespec,
    /// Creation.
    pub btime: Timespec,
    /// Changes with every change of the contents (a write of at least one byte, a
    /// truncate to another size) and never goes back: a cached copy of the contents taken
    /// at one version is stale at another (Linux's `i_version`, the change cookie). Starts
    /// at 0; file systems that cache nothing may leave it there.
    pub data_version: u64,
}

impl Attr {
    /// The whole `st_mode`: type and permission bits.
    pub fn mode(&self) -> u32 {
        self.kind.mode_bits() | self.perm
    }
}

/// One directory entry as a file system reports it to [`crate::FileSystem::readdir`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirEntry<'a> {
    /// The entry's inode number.
    pub ino: u64,
    /// Its type.
    pub kind: FileType,
    /// Its name.
    pub name: &'a [u8],
    /// The position that resumes the listing after this entry (`d_off`).
    pub next: u64,
}

/// A new inode for [`crate::FileSystem::create`]: what the caller decided (type,
/// permission bits after umask, owner, device number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewNode<'a> {
    /// Its type.
    pub kind: FileType,
    /// Permission bits (`07777`).
    pub perm: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number for device nodes (`new_encode_dev` form).
    pub rdev: u64,
    /// A symlink's target.
    pub target: &'a [u8],
}

/// Metadata changes for [`crate::FileSystem::setattr`]; `None` leaves a field alone.
/// The caller has checked permissions and sets `ctime` itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetAttr {
    /// New permission bits (`07777`).
    pub perm: Option<u32>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New access time.
    pub atime: Option<Timespec>,
    /// New modification time.
    pub mtime: Option<Timespec>,
    /// New change time.
    pub ctime: Option<Timespec>,
}

/// Linux's `new_encode_dev`: the 32-bit device number in `st_dev`/`st_rdev`.
pub fn encode_dev(major: u32, minor: u32) -> u64 {
    u64::from((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12))
}

/// The inverse of [`encode_dev`]: `(major, minor)`.
pub fn decode_dev(dev: u64) -> (u32, u32) {
    let dev = dev as u32;
    ((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00))
}
