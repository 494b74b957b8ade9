//! Writing a `newc` cpio archive, the format Linux unpacks as its initramfs.
//!
//! Written here (from the format in the kernel's `early-userspace/buffer-format`
//! documentation) rather than by running `cpio`, so the archive's contents are exactly the
//! list the caller builds, with the owners it chooses and fixed times, whatever is on the
//! host: a `/dev/console` node the kernel needs before devtmpfs is mounted, no host paths.
//! Used for Halyard's initramfs ([`super`]) and the bench's Linux peer.
//!
//! Why not a crate (reviewed when hand-written outputs were moved to maintained crates):
//! the archive must be byte-for-byte reproducible, the same bytes from the same inputs on
//! any machine, so the initramfs (and the bench's Linux peer) of two runs is the same.
//! Every header field that could carry the host's state is fixed here: inode numbers
//! follow the member order, owners are what the caller says (root unless
//! [`Entry::owned_by`]), every mtime is 0, and no member is read from the file system. The
//! writer is one function over the format's thirteen header fields; a general cpio crate
//! would have to be configured, and kept, into exactly this.

/// One archive member: a path relative to the root (no leading `/`), its permission bits
/// (`0o7777` at most), its owner and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub kind: Kind,
}

/// The file types an initramfs holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File(Vec<u8>),
    Symlink(String),
    CharDev { major: u32, minor: u32 },
}

impl Entry {
    fn new(path: impl Into<String>, mode: u32, kind: Kind) -> Entry {
        Entry {
            path: path.into(),
            mode,
            uid: 0,
            gid: 0,
            kind,
        }
    }

    /// A directory, `0755`, owned by root.
    pub fn dir(path: impl Into<String>) -> Entry {
        Entry::new(path, 0o755, Kind::Dir)
    }

    /// A regular file with permission bits `mode`, owned by root.
    pub fn file(path: impl Into<String>, mode: u32, data: Vec<u8>) -> Entry {
        Entry::new(path, mode, Kind::File(data))
    }

    /// A symbolic link (`0777`, as Linux shows every link), owned by root.
    pub fn symlink(path: impl Into<String>, target: impl Into<String>) -> Entry {
        Entry::new(path, 0o777, Kind::Symlink(target.into()))
    }

    /// A character device node, `0600`, owned by root.
    pub fn char_dev(path: impl Into<String>, major: u32, minor: u32) -> Entry {
        Entry::new(path, 0o600, Kind::CharDev { major, minor })
    }

    /// The same entry with permission bits `mode`.
    pub fn with_mode(self, mode: u32) -> Entry {
        Entry { mode, ..self }
    }

    /// The same entry owned by `uid`:`gid`.
    pub fn owned_by(self, uid: u32, gid: u32) -> Entry {
        Entry { uid, gid, ..self }
    }
}

const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// The fields of one header that vary between members.
struct Header<'a> {
    ino: u32,
    mode: u32,
    owner: (u32, u32),
    rdev: (u32, u32),
    name: &'a str,
}

fn member(out: &mut Vec<u8>, h: &Header, data: &[u8]) {
    let Header {
        ino,
        mode,
        owner,
        rdev,
        name,
    } = *h;
    let fields = [
        ino,
        mode,
        owner.0,
        owner.1,
        if mode & S_IFMT == S_IFDIR { 2 } else { 1 },
        0, // mtime: fixed, so the archive is reproducible
        data.len() as u32,
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0, // check
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

/// The archive of `entries`, in order, with its trailer.
pub fn archive(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let (file_type, rdev, data): (u32, (u32, u32), &[u8]) = match &e.kind {
            Kind::Dir => (S_IFDIR, (0, 0), &[]),
            Kind::File(data) => (S_IFREG, (0, 0), data),
            Kind::Symlink(target) => (S_IFLNK, (0, 0), target.as_bytes()),
            Kind::CharDev { major, minor } => (S_IFCHR, (*major, *minor), &[]),
        };
        let header = Header {
            ino: i as u32 + 1,
            mode: file_type | (e.mode & 0o7777),
            owner: (e.uid, e.gid),
            rdev,
            name: &e.path,
        };
        member(&mut out, &header, data);
    }
    let trailer = Header {
        ino: 0,
        mode: 0,
        owner: (0, 0),
        rdev: (0, 0),
        name: "TRAILER!!!",
    };
    member(&mut out, &trailer, &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads back (name, mode, uid, rdev major, data) of every member.
    fn read(mut a: &[u8]) -> Vec<(String, u32, u32, u32, Vec<u8>)> {
        let mut out = Vec::new();
        let total = a.len();
        loop {
            assert_eq!(&a[..6], b"070701");
            let field = |i: usize| {
                u32::from_str_radix(std::str::from_utf8(&a[6 + 8 * i..14 + 8 * i]).unwrap(), 16)
                    .unwrap()
            };
            let (mode, uid, size, major, namesize) =
                (field(1), field(2), field(6), field(9), field(11));
            let name_end = 110 + namesize as usize;
            let name = String::from_utf8(a[110..name_end - 1].to_vec()).unwrap();
            assert_eq!(a[name_end - 1], 0);
            let data_at = name_end.div_ceil(4) * 4;
            let data = a[data_at..data_at + size as usize].to_vec();
            let next = (data_at + size as usize).div_ceil(4) * 4;
            assert_eq!((total - a.len() + next) % 4, 0);
            a = &a[next..];
            if name == "TRAILER!!!" {
                assert!(a.is_empty());
                return out;
            }
            out.push((name, mode, uid, major, data));
        }
    }

    #[test]
    fn members_round_trip_with_modes_and_alignment() {
        let entries = [
            Entry::dir("dev"),
            Entry::char_dev("dev/console", 5, 1),
            Entry::file("init", 0o755, b"#!/bin/sh\n".to_vec()),
            Entry::symlink("bin/sh", "busybox"),
            Entry::file("e", 0o644, vec![]),
            Entry::dir("tmp").with_mode(0o1777),
            Entry::dir("home/user")
                .with_mode(0o700)
                .owned_by(1000, 1000),
        ];
        let got = read(&archive(&entries));
        assert_eq!(
            got,
            [
                ("dev".into(), 0o040_755, 0, 0, vec![]),
                ("dev/console".into(), 0o020_600, 0, 5, vec![]),
                ("init".into(), 0o100_755, 0, 0, b"#!/bin/sh\n".to_vec()),
                ("bin/sh".into(), 0o120_777, 0, 0, b"busybox".to_vec()),
                ("e".into(), 0o100_644, 0, 0, vec![]),
                ("tmp".into(), 0o041_777, 0, 0, vec![]),
                ("home/user".into(), 0o040_700, 1000, 0, vec![]),
            ]
        );
    }
}
