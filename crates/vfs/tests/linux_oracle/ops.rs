//! The operations both sides run, their comparable outcomes, and how random ones are made.

use proptest::prelude::*;

/// Who runs an operation: (real uid, real gid, fsuid, fsgid, supplementary groups).
pub const CREDS: [(u32, u32, u32, u32, &[u32]); 4] = [
    (0, 0, 0, 0, &[]),
    (1000, 1000, 1000, 1000, &[1000, 2000]),
    (1001, 1001, 1001, 1001, &[1001]),
    // Real ids differ from the fs ids: faccessat2 with and without AT_EACCESS.
    (1001, 1001, 1000, 1000, &[1000]),
];

/// A time for utimensat: (seconds, nanoseconds) with UTIME_NOW/UTIME_OMIT as nanoseconds.
pub type Time = (i64, i64);

#[derive(Clone, Debug)]
pub enum Op {
    Open {
        path: Vec<u8>,
        flags: u32,
        mode: u32,
    },
    Mkdir {
        path: Vec<u8>,
        mode: u32,
    },
    /// Random steps use device 0:0 only, which has no driver: opening it is `ENXIO`
    /// and touches no real device.
    Mknod {
        path: Vec<u8>,
        mode: u32,
        dev: u32,
    },
    Symlink {
        target: Vec<u8>,
        path: Vec<u8>,
    },
    Link {
        old: Vec<u8>,
        new: Vec<u8>,
        flags: u32,
    },
    Unlink {
        path: Vec<u8>,
        flags: u32,
    },
    Rename {
        old: Vec<u8>,
        new: Vec<u8>,
        flags: u32,
    },
    Readlink {
        path: Vec<u8>,
        len: usize,
    },
    Chmod {
        path: Vec<u8>,
        mode: u32,
        flags: u32,
    },
    Chown {
        path: Vec<u8>,
        uid: u32,
        gid: u32,
        flags: u32,
    },
    Utimens {
        path: Vec<u8>,
        times: Option<[Time; 2]>,
        flags: u32,
    },
    Truncate {
        path: Vec<u8>,
        len: i64,
    },
    Write {
        path: Vec<u8>,
        off: u64,
        len: usize,
    },
    Read {
        path: Vec<u8>,
        off: u64,
    },
    Stat {
        path: Vec<u8>,
        flags: u32,
    },
    Statx {
        path: Vec<u8>,
        flags: u32,
        mask: u32,
    },
    Access {
        path: Vec<u8>,
        mode: u32,
        flags: u32,
    },
    Getdents {
        path: Vec<u8>,
        buf: usize,
    },
    Chdir {
        path: Vec<u8>,
    },
    Getcwd,
    Statfs {
        path: Vec<u8>,
    },
    Mount {
        path: Vec<u8>,
    },
    Umount {
        path: Vec<u8>,
        flags: u32,
    },
}

/// One operation with the credentials it runs under (an index into [`CREDS`]).
#[derive(Clone, Debug)]
pub struct Step {
    pub cred: usize,
    pub op: Op,
}

/// What both sides report for an operation: an errno, or values both can see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    Unit,
    /// After open: the file's type and size.
    Opened {
        mode: u32,
        size: i64,
    },
    Count(u64),
    Bytes(Vec<u8>),
    Stat(Meta),
    /// Sorted (name, d_type) pairs, without `.` and `..`.
    Entries(Vec<(Vec<u8>, u8)>),
    Statfs {
        magic: i64,
        bsize: i64,
        namelen: i64,
    },
}

/// The comparable part of `stat`. Times set explicitly (below 10^9 seconds) are
/// compared; "now" differs between the two sides and shows as `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub size: i64,
    pub blocks: i64,
    pub rdev: u64,
    pub atime: Option<(i64, u64)>,
    pub mtime: Option<(i64, u64)>,
}

/// Seconds below which a time was set explicitly by a test.
pub const EXPLICIT_TIME: i64 = 1_000_000_000;

pub fn time_class(sec: i64, nsec: u64) -> Option<(i64, u64)> {
    (sec < EXPLICIT_TIME).then_some((sec, nsec))
}

pub type Outcome = Result<Val, i32>;

fn path() -> impl Strategy<Value = Vec<u8>> {
    let component = prop::sample::select(vec!["a", "b", "c", "d", "a", "b", ".", ".."]);
    (any::<u8>(), prop::collection::vec(component, 1..4)).prop_map(|(shape, parts)| {
        let mut p = Vec::new();
        if shape % 5 == 0 {
            p.push(b'/');
        }
        p.extend_from_slice(parts.join("/").as_bytes());
        if shape % 7 == 0 {
            p.push(b'/');
        }
        if shape == 255 {
            p.clear();
        }
        p
    })
}

fn perm() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![
        0o755, 0o777, 0o1777, 0o700, 0o644, 0o4755, 0o2755, 0o2775, 0o000, 0o111, 0o6777, 0o2745,
    ])
}

fn at_flags() -> impl Strategy<Value = u32> {
    use linux_raw_sys::general::*;
    prop::sample::select(vec![0, 0, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, 0x8000_0000])
}

fn time() -> impl Strategy<Value = Time> {
    use linux_raw_sys::general::{UTIME_NOW, UTIME_OMIT};
    prop_oneof![
        (1i64..1000, 0i64..1_000_000_000).prop_map(|(s, n)| (s, n)),
        Just((0, i64::from(UTIME_NOW))),
        Just((0, i64::from(UTIME_OMIT))),
        Just((5, 1_000_000_000)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    use linux_raw_sys::general::*;
    let open_flags = (
        prop::sample::select(vec![O_RDONLY, O_WRONLY, O_RDWR]),
        prop::sample::subsequence(
            vec![
                O_CREAT,
                O_EXCL,
                O_DIRECTORY,
                O_NOFOLLOW,
                O_TRUNC,
                O_PATH,
                O_CREAT,
            ],
            0..3,
        ),
    )
        .prop_map(|(acc, extra)| extra.into_iter().fold(acc, |f, x| f | x));
    let node_mode = prop::sample::select(vec![
        S_IFREG | 0o644,
        S_IFIFO | 0o666,
        S_IFCHR | 0o600,
        S_IFSOCK | 0o755,
        0o640,
        S_IFDIR | 0o755,
        0o170644,
    ]);
    let id = prop::sample::select(vec![0u32, 1000, 1001, 2000, u32::MAX]);
    prop_oneof![
        4 => (path(), open_flags, perm()).prop_map(|(path, flags, mode)| Op::Open { path, flags, mode }),
        4 => (path(), perm()).prop_map(|(path, mode)| Op::Mkdir { path, mode }),
        1 => (path(), node_mode, Just(0u32)).prop_map(|(path, mode, dev)| Op::Mknod { path, mode, dev }),
        2 => (path(), path()).prop_map(|(target, path)| Op::Symlink { target, path }),
        2 => (path(), path(), prop::sample::select(vec![0, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH, 1])).prop_map(|(old, new, flags)| Op::Link { old, new, flags }),
        3 => (path(), prop::sample::select(vec![0, AT_REMOVEDIR, 0, AT_REMOVEDIR, 1])).prop_map(|(path, flags)| Op::Unlink { path, flags }),
        3 => (path(), path(), prop::sample::select(vec![0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_EXCHANGE | RENAME_NOREPLACE, 8])).prop_map(|(old, new, flags)| Op::Rename { old, new, flags }),
        1 => (path(), 0usize..8).prop_map(|(path, len)| Op::Readlink { path, len }),
        2 => (path(), perm(), prop::sample::select(vec![0, 0, AT_SYMLINK_NOFOLLOW, 4])).prop_map(|(path, mode, flags)| Op::Chmod { path, mode, flags }),
        2 => (path(), id.clone(), id, at_flags()).prop_map(|(path, uid, gid, flags)| Op::Chown { path, uid, gid, flags }),
        1 => (path(), prop::option::of([time(), time()]), at_flags()).prop_map(|(path, times, flags)| Op::Utimens { path, times, flags }),
        1 => (path(), prop::sample::select(vec![0i64, 5, 5000, -1])).prop_map(|(path, len)| Op::Truncate { path, len }),
        2 => (path(), prop::sample::select(vec![0u64, 3, 4095, 10_000]), prop::sample::select(vec![0usize, 1, 100, 5000])).prop_map(|(path, off, len)| Op::Write { path, off, len }),
        1 => (path(), prop::sample::select(vec![0u64, 2, 5000])).prop_map(|(path, off)| Op::Read { path, off }),
        3 => (path(), at_flags()).prop_map(|(path, flags)| Op::Stat { path, flags }),
        1 => (path(), prop::sample::select(vec![0, AT_SYMLINK_NOFOLLOW, AT_STATX_SYNC_TYPE, 0x4000_0000])).prop_map(|(path, flags)| Op::Statx { path, flags, mask: STATX_BASIC_STATS }),
        2 => (path(), prop::sample::select(vec![F_OK, R_OK, W_OK, X_OK, R_OK | W_OK | X_OK, 8]), prop::sample::select(vec![0, AT_EACCESS, AT_SYMLINK_NOFOLLOW, 0x40])).prop_map(|(path, mode, flags)| Op::Access { path, mode, flags }),
        2 => (path(), prop::sample::select(vec![4096usize, 30, 10])).prop_map(|(path, buf)| Op::Getdents { path, buf }),
        1 => path().prop_map(|path| Op::Chdir { path }),
        1 => Just(Op::Getcwd),
        1 => path().prop_map(|path| Op::Statfs { path }),
    ]
}

pub fn steps(max: usize) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (prop::sample::select(vec![0usize, 0, 0, 1, 2, 3]), op())
            .prop_map(|(cred, op)| Step { cred, op }),
        1..max,
    )
}
